// RUN: gatec-opt %s --gatec-gate-opt-pipeline -split-input-file | FileCheck %s

// gate-level clean-up: canonicalize, raise gating, fuse gates into sdpa, CSE.

// An exported gated-attention block becomes one fused gate.sdpa.
// CHECK-LABEL: func.func @exported_block
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<1x4x8x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x8x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x8x16xf32>, %[[Z:[a-z0-9]+]]: tensor<1x4x8x16xf32>)
// CHECK-NEXT:    %[[R:.+]] = gate.sdpa %[[Q]], %[[K]], %[[V]] gate(%[[Z]] : tensor<1x4x8x16xf32>) {causal, gate_act = #gate<act silu>} :
// CHECK-NEXT:    return %[[R]]
func.func @exported_block(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %z: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %a = gate.sdpa %q, %k, %v {causal} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %one = arith.constant dense<1.0> : tensor<1x4x8x16xf32>
  %n = arith.negf %z : tensor<1x4x8x16xf32>
  %e = math.exp %n : tensor<1x4x8x16xf32>
  %d = arith.addf %one, %e : tensor<1x4x8x16xf32>
  %s = arith.divf %one, %d : tensor<1x4x8x16xf32>
  %silu = arith.mulf %z, %s : tensor<1x4x8x16xf32>
  %g = arith.mulf %a, %silu : tensor<1x4x8x16xf32>
  return %g : tensor<1x4x8x16xf32>
}

// -----

// Identical gate ops are merged (CSE) and unused ones removed.
// CHECK-LABEL: func.func @cse
// CHECK:         %[[A:.+]] = gate.sdpa
// CHECK-NOT:     gate.sdpa
// CHECK:         %[[O:.+]], %{{.+}} = gate.linear_attention
// CHECK-NOT:     gate.
// CHECK:         return %[[A]], %[[A]], %[[O]], %[[O]]
func.func @cse(%q: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {
  %a = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %b = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %unused = gate.sdpa %q, %q, %q {causal} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %o1, %s1 = gate.linear_attention linear %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>, tensor<1x2x8x8xf32>
  %o2, %s2 = gate.linear_attention linear %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>, tensor<1x2x8x8xf32>
  return %a, %b, %o1, %o2 : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}

// -----

// Ops the pipeline does not know stay as they are.
// CHECK-LABEL: func.func @untouched
// CHECK:         linalg.matmul
// CHECK:         gate.linear_attention gated_delta
// CHECK:         gate.causal_conv
func.func @untouched(%a: tensor<8x8xf32>, %q: tensor<1x2x4x8xf32>, %d: tensor<1x2x4xf32>, %x: tensor<1x4x8xf32>, %w: tensor<4x4xf32>) -> (tensor<8x8xf32>, tensor<1x2x4x8xf32>, tensor<1x4x8xf32>) {
  %z = arith.constant dense<0.0> : tensor<8x8xf32>
  %m = linalg.matmul ins(%a, %a : tensor<8x8xf32>, tensor<8x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %o, %s = gate.linear_attention gated_delta %q, %q, %q decay(%d : tensor<1x2x4xf32>) beta(%d : tensor<1x2x4xf32>) : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>, tensor<1x2x8x8xf32>
  %c, %cs = gate.causal_conv %x, %w : tensor<1x4x8xf32>, tensor<4x4xf32> -> tensor<1x4x8xf32>, tensor<1x4x3xf32>
  return %m, %o, %c : tensor<8x8xf32>, tensor<1x2x4x8xf32>, tensor<1x4x8xf32>
}
