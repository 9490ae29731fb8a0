// RUN: gatec-opt %s -canonicalize | FileCheck %s


// CHECK-LABEL: func.func @no_sink_into_loop
// CHECK:         %[[S:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x4x8xf32>
// CHECK:         scf.for
// CHECK-NOT:       gate.sdpa
// CHECK:           gate.gate %[[S]], %{{.*}} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
// CHECK:           scf.yield
func.func @no_sink_into_loop(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x8xf32>, %n: index) -> tensor<1x2x4x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %0 = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %g) -> tensor<1x2x4x8xf32> {
    %1 = gate.gate %0, %acc : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
    scf.yield %1 : tensor<1x2x4x8xf32>
  }
  return %r : tensor<1x2x4x8xf32>
}


// An attention chosen at run time between forms (scf.if over gate.sdpa ops):
// the gate moves into every form's epilogue, through the layout ops after it.
// CHECK-LABEL: func.func @gate_into_if_of_sdpas
// CHECK-NOT:     gate.gate
// CHECK:         scf.if
// CHECK:           gate.sdpa {{.*}} gate(%{{.*}} : tensor<1x2x4x8xf32>) {causal}
// CHECK:           scf.if
// CHECK:             gate.sdpa {{.*}} gate(
// CHECK:             gate.sdpa {{.*}} mask({{.*}}) gate(
// CHECK-NOT:     gate.gate
func.func @gate_into_if_of_sdpas(%q: tensor<1x2x4x8xf32>, %m: tensor<1x1x4x4xi1>, %g: tensor<1x4x16xf32>, %c1: i1, %c2: i1) -> tensor<1x4x16xf32> {
  %0 = scf.if %c1 -> tensor<1x2x4x8xf32> {
    %a = gate.sdpa %q, %q, %q {causal} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
    scf.yield %a : tensor<1x2x4x8xf32>
  } else {
    %b = scf.if %c2 -> tensor<1x2x4x8xf32> {
      %c = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
      scf.yield %c : tensor<1x2x4x8xf32>
    } else {
      %d = gate.sdpa %q, %q, %q mask(%m : tensor<1x1x4x4xi1>) : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
      scf.yield %d : tensor<1x2x4x8xf32>
    }
    scf.yield %b : tensor<1x2x4x8xf32>
  }
  %e = tensor.empty() : tensor<1x4x2x8xf32>
  %t = linalg.transpose ins(%0 : tensor<1x2x4x8xf32>) outs(%e : tensor<1x4x2x8xf32>) permutation = [0, 2, 1, 3]
  %f = tensor.collapse_shape %t [[0], [1], [2, 3]] : tensor<1x4x2x8xf32> into tensor<1x4x16xf32>
  %r = gate.gate %f, %g : tensor<1x4x16xf32>, tensor<1x4x16xf32> -> tensor<1x4x16xf32>
  return %r : tensor<1x4x16xf32>
}


// Not when a form is used elsewhere too.
// CHECK-LABEL: func.func @no_gate_into_if_with_other_use
// CHECK:         gate.gate
func.func @no_gate_into_if_with_other_use(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x8xf32>, %c1: i1) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {
  %a = gate.sdpa %q, %q, %q {causal} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %0 = scf.if %c1 -> tensor<1x2x4x8xf32> {
    scf.yield %a : tensor<1x2x4x8xf32>
  } else {
    %c = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
    scf.yield %c : tensor<1x2x4x8xf32>
  }
  %r = gate.gate %0, %g : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %r, %a : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}


// The forms chosen together with the KV cache they read (one scf.if with
// more results): the gate moves in when the other results are used only
// after the gate; not when one is used before it (moving the scf.if down
// would leave that use undominated).
// CHECK-LABEL: func.func @gate_into_if_with_cache_results
// CHECK-NOT:     gate.gate
// CHECK:         %{{.+}}:2 = scf.if
// CHECK:           gate.sdpa {{.*}} gate(%{{.*}} : tensor<1x2x4x8xf32>) {bottom_right, causal}
// CHECK:           gate.sdpa {{.*}} mask({{.*}}) gate(
// CHECK-LABEL: func.func @no_gate_into_if_with_cache_used_before
// CHECK:         gate.gate
func.func @gate_into_if_with_cache_results(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %m: tensor<1x1x4x6xi1>, %g: tensor<1x2x4x8xf32>, %c1: i1) -> (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>) {
  %0:2 = scf.if %c1 -> (tensor<1x2x6x8xf32>, tensor<1x2x4x8xf32>) {
    %k2 = arith.addf %k, %k : tensor<1x2x6x8xf32>
    %a = gate.sdpa %q, %k, %k {causal, bottom_right} : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x2x4x8xf32>
    scf.yield %k2, %a : tensor<1x2x6x8xf32>, tensor<1x2x4x8xf32>
  } else {
    %b = gate.sdpa %q, %k, %k mask(%m : tensor<1x1x4x6xi1>) : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x2x4x8xf32>
    scf.yield %k, %b : tensor<1x2x6x8xf32>, tensor<1x2x4x8xf32>
  }
  %r = gate.gate %0#1, %g : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %r, %0#0 : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>
}

func.func @no_gate_into_if_with_cache_used_before(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %m: tensor<1x1x4x6xi1>, %c1: i1) -> (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>) {
  %0:2 = scf.if %c1 -> (tensor<1x2x6x8xf32>, tensor<1x2x4x8xf32>) {
    %k2 = arith.addf %k, %k : tensor<1x2x6x8xf32>
    %a = gate.sdpa %q, %k, %k {causal, bottom_right} : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x2x4x8xf32>
    scf.yield %k2, %a : tensor<1x2x6x8xf32>, tensor<1x2x4x8xf32>
  } else {
    %b = gate.sdpa %q, %k, %k mask(%m : tensor<1x1x4x6xi1>) : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x2x4x8xf32>
    scf.yield %k, %b : tensor<1x2x6x8xf32>, tensor<1x2x4x8xf32>
  }
  %e = tensor.extract_slice %0#0[0, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<1x2x6x8xf32> to tensor<1x2x4x8xf32>
  %r = gate.gate %0#1, %e : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %r, %0#0 : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>
}
