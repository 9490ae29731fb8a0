// RUN: gatec-opt %s -canonicalize -split-input-file | FileCheck %s

// gate.gate(sdpa(...), g) folds into the sdpa's output gate when the sdpa
// result has no other use, the sdpa has no gate yet, and g fits
// [B,Hq,Sq,Dv] or [B,Hq,Sq,1].

// CHECK-LABEL: func.func @fold_elementwise_sigmoid
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<2x4x16x64xf32>, %[[K:[a-z0-9]+]]: tensor<2x4x32x64xf32>, %[[V:[a-z0-9]+]]: tensor<2x4x32x64xf32>, %[[G:[a-z0-9]+]]: tensor<2x4x16x64xf32>)
// CHECK-NEXT:    %[[R:.+]] = gate.sdpa %[[Q]], %[[K]], %[[V]] gate(%[[G]] : tensor<2x4x16x64xf32>) {causal} :
// CHECK-NOT:     gate.gate
// CHECK-NEXT:    return %[[R]]
func.func @fold_elementwise_sigmoid(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %g: tensor<2x4x16x64xf32>) -> tensor<2x4x16x64xf32> {
  %0 = gate.sdpa %q, %k, %v {causal} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  %1 = gate.gate %0, %g : tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32> -> tensor<2x4x16x64xf32>
  return %1 : tensor<2x4x16x64xf32>
}

// -----

// CHECK-LABEL: func.func @fold_headwise_silu
// CHECK-SAME:    %[[G:[a-z0-9]+]]: tensor<2x8x16x1xf16>
// CHECK-NEXT:    %[[R:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x1x16x32xi1>) gate(%[[G]] : tensor<2x8x16x1xf16>) {gate_act = #gate<act silu>, scale = 1.250000e-01 : f32} : tensor<2x8x16x64xf16>, tensor<2x2x32x64xf16>, tensor<2x2x32x48xf16> -> tensor<2x8x16x48xf16>
// CHECK-NEXT:    return %[[R]]
func.func @fold_headwise_silu(%q: tensor<2x8x16x64xf16>, %k: tensor<2x2x32x64xf16>, %v: tensor<2x2x32x48xf16>, %m: tensor<1x1x16x32xi1>, %g: tensor<2x8x16x1xf16>) -> tensor<2x8x16x48xf16> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x16x32xi1>) {scale = 0.125 : f32} : tensor<2x8x16x64xf16>, tensor<2x2x32x64xf16>, tensor<2x2x32x48xf16> -> tensor<2x8x16x48xf16>
  %1 = gate.gate %0, %g {act = #gate<act silu>} : tensor<2x8x16x48xf16>, tensor<2x8x16x1xf16> -> tensor<2x8x16x48xf16>
  return %1 : tensor<2x8x16x48xf16>
}

// -----

// The gate is computed after the sdpa: the sdpa moves down to it.
// CHECK-LABEL: func.func @fold_gate_defined_later
// CHECK-SAME:    %{{[a-z0-9]+}}: tensor<1x2x4x8xf32>, %[[X:[a-z0-9]+]]: tensor<1x2x4x8xf32>, %[[Y:[a-z0-9]+]]: tensor<1x2x4x8xf32>
// CHECK-NEXT:    %[[G:.+]] = arith.addf %[[X]], %[[Y]]
// CHECK-NEXT:    %[[R:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} gate(%[[G]] : tensor<1x2x4x8xf32>) :
// CHECK-NEXT:    return %[[R]]
func.func @fold_gate_defined_later(%q: tensor<1x2x4x8xf32>, %x: tensor<1x2x4x8xf32>, %y: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %0 = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %g = arith.addf %x, %y : tensor<1x2x4x8xf32>
  %1 = gate.gate %0, %g : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %1 : tensor<1x2x4x8xf32>
}

// -----

// Dynamic batch and length dimensions that agree.
// CHECK-LABEL: func.func @fold_dynamic
// CHECK-NEXT:    %[[R:.+]] = gate.sdpa {{.*}} gate(%{{.*}} : tensor<?x2x?x1xf32>)
// CHECK-NEXT:    return %[[R]]
func.func @fold_dynamic(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %g: tensor<?x2x?x1xf32>) -> tensor<?x2x?x8xf32> {
  %0 = gate.sdpa %q, %k, %k : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  %1 = gate.gate %0, %g : tensor<?x2x?x8xf32>, tensor<?x2x?x1xf32> -> tensor<?x2x?x8xf32>
  return %1 : tensor<?x2x?x8xf32>
}

// -----

// The sdpa result has a second use: no fold.
// CHECK-LABEL: func.func @no_fold_two_uses
// CHECK:         %[[S:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x4x8xf32>
// CHECK-NEXT:    %[[R:.+]] = gate.gate %[[S]], %{{.*}} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
// CHECK-NEXT:    return %[[R]], %[[S]]
func.func @no_fold_two_uses(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {
  %0 = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %1 = gate.gate %0, %g : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %1, %0 : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}

// -----

// Gating twice with the same sdpa result (two gate.gate users): no fold.
// CHECK-LABEL: func.func @no_fold_two_gates
// CHECK:         %[[S:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK-NEXT:    gate.gate %[[S]], %{{.*}} :
// CHECK-NEXT:    gate.gate %[[S]], %{{.*}} {act = #gate<act silu>} :
func.func @no_fold_two_gates(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {
  %0 = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %1 = gate.gate %0, %g : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %2 = gate.gate %0, %g {act = #gate<act silu>} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %1, %2 : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}

// -----

// The sdpa is already gated: the second gate stays.
// CHECK-LABEL: func.func @no_fold_already_gated
// CHECK-SAME:    %[[G1:[a-z0-9]+]]: tensor<1x2x4x1xf32>, %[[G2:[a-z0-9]+]]: tensor<1x2x4x8xf32>
// CHECK:         %[[S:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} gate(%[[G1]] : tensor<1x2x4x1xf32>) :
// CHECK-NEXT:    %[[R:.+]] = gate.gate %[[S]], %[[G2]] {act = #gate<act silu>} :
// CHECK-NEXT:    return %[[R]]
func.func @no_fold_already_gated(%q: tensor<1x2x4x8xf32>, %g1: tensor<1x2x4x1xf32>, %g2: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %0 = gate.sdpa %q, %q, %q gate(%g1 : tensor<1x2x4x1xf32>) : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %1 = gate.gate %0, %g2 {act = #gate<act silu>} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %1 : tensor<1x2x4x8xf32>
}

// -----

// A dynamic gate dimension where the sdpa result is static does not fit the
// sdpa's gate operand statically: no fold.
// CHECK-LABEL: func.func @no_fold_gate_shape_dynamic
// CHECK:         %[[S:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
// CHECK-NEXT:    gate.gate %[[S]], %{{.*}} : tensor<1x2x4x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x4x8xf32>
func.func @no_fold_gate_shape_dynamic(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x?x8xf32>) -> tensor<1x2x4x8xf32> {
  %0 = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %1 = gate.gate %0, %g : tensor<1x2x4x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x4x8xf32>
  return %1 : tensor<1x2x4x8xf32>
}

// -----

// A dynamic last gate dimension might be neither 1 nor Dv: no fold.
// CHECK-LABEL: func.func @no_fold_gate_last_dim_dynamic
// CHECK:         %[[S:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK-NEXT:    gate.gate %[[S]], %{{.*}} : tensor<1x2x4x8xf32>, tensor<1x2x4x?xf32> -> tensor<1x2x4x8xf32>
func.func @no_fold_gate_last_dim_dynamic(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x?xf32>) -> tensor<1x2x4x8xf32> {
  %0 = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %1 = gate.gate %0, %g : tensor<1x2x4x8xf32>, tensor<1x2x4x?xf32> -> tensor<1x2x4x8xf32>
  return %1 : tensor<1x2x4x8xf32>
}

// -----

// A gate.gate whose input is not an sdpa stays as it is.
// CHECK-LABEL: func.func @no_fold_not_sdpa
// CHECK-NEXT:    %[[R:.+]] = gate.gate %{{.*}}, %{{.*}} {act = #gate<act silu>} : tensor<1x2x4x8xf32>, tensor<1x2x4x1xf32> -> tensor<1x2x4x8xf32>
// CHECK-NEXT:    return %[[R]]
func.func @no_fold_not_sdpa(%x: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x1xf32>) -> tensor<1x2x4x8xf32> {
  %1 = gate.gate %x, %g {act = #gate<act silu>} : tensor<1x2x4x8xf32>, tensor<1x2x4x1xf32> -> tensor<1x2x4x8xf32>
  return %1 : tensor<1x2x4x8xf32>
}

// -----

// Dead, pure gate ops are erased.
// CHECK-LABEL: func.func @dead_ops
// CHECK-NOT:     gate.
// CHECK:         return %arg0
func.func @dead_ops(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %0 = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %1 = gate.gate %0, %g : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %o, %s = gate.linear_attention linear %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>, tensor<1x2x8x8xf32>
  return %q : tensor<1x2x4x8xf32>
}

// -----

// The exporters' layout: the attention output transposed back to [B,S,H,D]
// and collapsed to [B,S,H·D] before the gate. The gate moves through both
// (its operand laid out the other way) into the sdpa's epilogue.
// CHECK-LABEL: func.func @sink_gate_through_layout
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<1x4x?x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x?x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x?x8xf32>, %[[G:[a-z0-9]+]]: tensor<1x?x32xf32>)
// CHECK:         %[[GE:.+]] = tensor.expand_shape %[[G]] {{\[}}[0], [1], [2, 3]]
// CHECK:         %[[GT:.+]] = linalg.transpose ins(%[[GE]] : tensor<1x?x4x8xf32>) {{.*}} permutation = [0, 2, 1, 3]
// CHECK:         %[[O:.+]] = gate.sdpa %[[Q]], %[[K]], %[[V]] gate(%[[GT]] : tensor<1x4x?x8xf32>) {causal}
// CHECK:         %[[OT:.+]] = linalg.transpose ins(%[[O]] : tensor<1x4x?x8xf32>)
// CHECK:         %[[R:.+]] = tensor.collapse_shape %[[OT]] {{\[}}[0], [1], [2, 3]]
// CHECK-NOT:     gate.gate
// CHECK:         return %[[R]]
func.func @sink_gate_through_layout(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>, %g: tensor<1x?x32xf32>) -> tensor<1x?x32xf32> {
  %c2 = arith.constant 2 : index
  %s = tensor.dim %q, %c2 : tensor<1x4x?x8xf32>
  %o = gate.sdpa %q, %k, %v {causal} : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x4x?x8xf32>
  %e = tensor.empty(%s) : tensor<1x?x4x8xf32>
  %t = linalg.transpose ins(%o : tensor<1x4x?x8xf32>) outs(%e : tensor<1x?x4x8xf32>) permutation = [0, 2, 1, 3]
  %c = tensor.collapse_shape %t [[0], [1], [2, 3]] : tensor<1x?x4x8xf32> into tensor<1x?x32xf32>
  %r = gate.gate %c, %g : tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x32xf32>
  return %r : tensor<1x?x32xf32>
}

// -----

// The transposed attention output is used elsewhere too: the gate stays.
// CHECK-LABEL: func.func @no_sink_other_use
// CHECK:         gate.sdpa %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {causal}
// CHECK:         gate.gate
func.func @no_sink_other_use(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %g: tensor<1x6x4x8xf32>) -> (tensor<1x6x4x8xf32>, tensor<1x6x4x8xf32>) {
  %o = gate.sdpa %q, %k, %v {causal} : tensor<1x4x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x4x6x8xf32>
  %e = tensor.empty() : tensor<1x6x4x8xf32>
  %t = linalg.transpose ins(%o : tensor<1x4x6x8xf32>) outs(%e : tensor<1x6x4x8xf32>) permutation = [0, 2, 1, 3]
  %r = gate.gate %t, %g : tensor<1x6x4x8xf32>, tensor<1x6x4x8xf32> -> tensor<1x6x4x8xf32>
  return %r, %t : tensor<1x6x4x8xf32>, tensor<1x6x4x8xf32>
}

// -----

// Bottom-right bands that need no alignment: as many queries as keys (the
// upper-left band), or one causal query row (it sees every key). A window
// over a decode row, or an offset that is not known to be 0, stays.
// CHECK-LABEL: func.func @bottom_right_simplified
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {causal} : tensor<1x2x8x8xf32>
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x1x8xf32>
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {bottom_right, causal, window = array<i64: 3, 0>} : tensor<1x2x1x8xf32>
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {bottom_right, causal} : tensor<1x2x?x8xf32>
func.func @bottom_right_simplified(%q: tensor<1x2x8x8xf32>, %q1: tensor<1x2x1x8xf32>, %qd: tensor<1x2x?x8xf32>, %k: tensor<1x2x8x8xf32>, %kd: tensor<1x2x?x8xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x?x8xf32>) {
  %0 = gate.sdpa %q, %k, %k {causal, bottom_right} : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>
  %1 = gate.sdpa %q1, %kd, %kd {causal, bottom_right} : tensor<1x2x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x1x8xf32>
  %2 = gate.sdpa %q1, %kd, %kd {causal, bottom_right, window = array<i64: 3, 0>} : tensor<1x2x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x1x8xf32>
  %3 = gate.sdpa %qd, %kd, %kd {causal, bottom_right} : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %0, %1, %2, %3 : tensor<1x2x8x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x?x8xf32>
}
