// RUN: gatec-opt %s -gate-raise-gating -split-input-file | FileCheck %s

// x * sigmoid(g) and x * silu(g), written with arith/math ops on tensors the
// way importers write them, become gate.gate; a gate.gate on a gate.sdpa
// result then folds into the sdpa's output gate.

// CHECK-LABEL: func.func @sigmoid
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x4x8xf32>, %[[G:[a-z0-9]+]]: tensor<2x4x8xf32>)
// CHECK-NEXT:    %[[R:.+]] = gate.gate %[[X]], %[[G]] : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT:    return %[[R]]
func.func @sigmoid(%x: tensor<2x4x8xf32>, %g: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %one = arith.constant dense<1.0> : tensor<2x4x8xf32>
  %n = arith.negf %g : tensor<2x4x8xf32>
  %e = math.exp %n : tensor<2x4x8xf32>
  %d = arith.addf %one, %e : tensor<2x4x8xf32>
  %s = arith.divf %one, %d : tensor<2x4x8xf32>
  %r = arith.mulf %x, %s : tensor<2x4x8xf32>
  return %r : tensor<2x4x8xf32>
}

// -----

// Operands commuted: sigmoid(g) * x, exp(-g) + 1.
// CHECK-LABEL: func.func @sigmoid_commuted
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<16xf16>, %[[G:[a-z0-9]+]]: tensor<16xf16>)
// CHECK-NEXT:    %[[R:.+]] = gate.gate %[[X]], %[[G]] : tensor<16xf16>, tensor<16xf16> -> tensor<16xf16>
// CHECK-NEXT:    return %[[R]]
func.func @sigmoid_commuted(%x: tensor<16xf16>, %g: tensor<16xf16>) -> tensor<16xf16> {
  %one = arith.constant dense<1.0> : tensor<16xf16>
  %n = arith.negf %g : tensor<16xf16>
  %e = math.exp %n : tensor<16xf16>
  %d = arith.addf %e, %one : tensor<16xf16>
  %s = arith.divf %one, %d : tensor<16xf16>
  %r = arith.mulf %s, %x : tensor<16xf16>
  return %r : tensor<16xf16>
}

// -----

// CHECK-LABEL: func.func @silu
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x4x8xbf16>, %[[G:[a-z0-9]+]]: tensor<2x4x8xbf16>)
// CHECK-NEXT:    %[[R:.+]] = gate.gate %[[X]], %[[G]] {act = #gate<act silu>} : tensor<2x4x8xbf16>, tensor<2x4x8xbf16> -> tensor<2x4x8xbf16>
// CHECK-NEXT:    return %[[R]]
func.func @silu(%x: tensor<2x4x8xbf16>, %g: tensor<2x4x8xbf16>) -> tensor<2x4x8xbf16> {
  %one = arith.constant dense<1.0> : tensor<2x4x8xbf16>
  %n = arith.negf %g : tensor<2x4x8xbf16>
  %e = math.exp %n : tensor<2x4x8xbf16>
  %d = arith.addf %one, %e : tensor<2x4x8xbf16>
  %s = arith.divf %one, %d : tensor<2x4x8xbf16>
  %silu = arith.mulf %g, %s : tensor<2x4x8xbf16>
  %r = arith.mulf %x, %silu : tensor<2x4x8xbf16>
  return %r : tensor<2x4x8xbf16>
}

// -----

// silu(g) written as sigmoid(g) * g, and on the left of the product.
// CHECK-LABEL: func.func @silu_commuted
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<4x8xf32>, %[[G:[a-z0-9]+]]: tensor<4x8xf32>)
// CHECK-NEXT:    %[[R:.+]] = gate.gate %[[X]], %[[G]] {act = #gate<act silu>} :
// CHECK-NEXT:    return %[[R]]
func.func @silu_commuted(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %one = arith.constant dense<1.0> : tensor<4x8xf32>
  %n = arith.negf %g : tensor<4x8xf32>
  %e = math.exp %n : tensor<4x8xf32>
  %d = arith.addf %e, %one : tensor<4x8xf32>
  %s = arith.divf %one, %d : tensor<4x8xf32>
  %silu = arith.mulf %s, %g : tensor<4x8xf32>
  %r = arith.mulf %silu, %x : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// The sigmoid has another user: that user keeps the arith/math chain.
// CHECK-LABEL: func.func @sigmoid_shared
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<8xf32>, %[[G:[a-z0-9]+]]: tensor<8xf32>)
// CHECK-DAG:     %[[R:.+]] = gate.gate %[[X]], %[[G]] : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
// CHECK-DAG:     %[[S:.+]] = arith.divf
// CHECK:         return %[[R]], %[[S]]
func.func @sigmoid_shared(%x: tensor<8xf32>, %g: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %one = arith.constant dense<1.0> : tensor<8xf32>
  %n = arith.negf %g : tensor<8xf32>
  %e = math.exp %n : tensor<8xf32>
  %d = arith.addf %one, %e : tensor<8xf32>
  %s = arith.divf %one, %d : tensor<8xf32>
  %r = arith.mulf %x, %s : tensor<8xf32>
  return %r, %s : tensor<8xf32>, tensor<8xf32>
}

// -----

// Gated attention as exported: sdpa, then out * sigmoid(g). The raised
// gate.gate folds into the sdpa.
// CHECK-LABEL: func.func @sdpa_sigmoid_gate
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<1x4x16x32xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x16x32xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x16x32xf32>, %[[G:[a-z0-9]+]]: tensor<1x4x16x32xf32>)
// CHECK-NEXT:    %[[R:.+]] = gate.sdpa %[[Q]], %[[K]], %[[V]] gate(%[[G]] : tensor<1x4x16x32xf32>) {causal} : tensor<1x4x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x4x16x32xf32>
// CHECK-NEXT:    return %[[R]]
func.func @sdpa_sigmoid_gate(%q: tensor<1x4x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>, %g: tensor<1x4x16x32xf32>) -> tensor<1x4x16x32xf32> {
  %a = gate.sdpa %q, %k, %v {causal} : tensor<1x4x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x4x16x32xf32>
  %one = arith.constant dense<1.0> : tensor<1x4x16x32xf32>
  %n = arith.negf %g : tensor<1x4x16x32xf32>
  %e = math.exp %n : tensor<1x4x16x32xf32>
  %d = arith.addf %one, %e : tensor<1x4x16x32xf32>
  %s = arith.divf %one, %d : tensor<1x4x16x32xf32>
  %r = arith.mulf %a, %s : tensor<1x4x16x32xf32>
  return %r : tensor<1x4x16x32xf32>
}

// -----

// CHECK-LABEL: func.func @sdpa_silu_gate
// CHECK-SAME:    %[[G:[a-z0-9]+]]: tensor<1x2x8x16xf32>)
// CHECK-NEXT:    %[[R:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} gate(%[[G]] : tensor<1x2x8x16xf32>) {gate_act = #gate<act silu>} :
// CHECK-NEXT:    return %[[R]]
func.func @sdpa_silu_gate(%q: tensor<1x2x8x16xf32>, %g: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %a = gate.sdpa %q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  %one = arith.constant dense<1.0> : tensor<1x2x8x16xf32>
  %n = arith.negf %g : tensor<1x2x8x16xf32>
  %e = math.exp %n : tensor<1x2x8x16xf32>
  %d = arith.addf %one, %e : tensor<1x2x8x16xf32>
  %s = arith.divf %one, %d : tensor<1x2x8x16xf32>
  %silu = arith.mulf %g, %s : tensor<1x2x8x16xf32>
  %r = arith.mulf %silu, %a : tensor<1x2x8x16xf32>
  return %r : tensor<1x2x8x16xf32>
}

// -----

// The sdpa result is also returned: the gate is raised but not fused.
// CHECK-LABEL: func.func @sdpa_gate_two_uses
// CHECK-NEXT:    %[[A:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x8x16xf32>
// CHECK-NEXT:    %[[R:.+]] = gate.gate %[[A]], %{{.*}} :
// CHECK-NEXT:    return %[[R]], %[[A]]
func.func @sdpa_gate_two_uses(%q: tensor<1x2x8x16xf32>, %g: tensor<1x2x8x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) {
  %a = gate.sdpa %q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  %one = arith.constant dense<1.0> : tensor<1x2x8x16xf32>
  %n = arith.negf %g : tensor<1x2x8x16xf32>
  %e = math.exp %n : tensor<1x2x8x16xf32>
  %d = arith.addf %one, %e : tensor<1x2x8x16xf32>
  %s = arith.divf %one, %d : tensor<1x2x8x16xf32>
  %r = arith.mulf %a, %s : tensor<1x2x8x16xf32>
  return %r, %a : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
}

// -----

// x * sigmoid(x) is silu(x) itself, not a gate: left alone.
// CHECK-LABEL: func.func @not_self_gate
// CHECK-NOT:     gate.gate
// CHECK:         math.exp
// CHECK:         arith.mulf
// CHECK:         return
func.func @not_self_gate(%x: tensor<8xf32>) -> tensor<8xf32> {
  %one = arith.constant dense<1.0> : tensor<8xf32>
  %n = arith.negf %x : tensor<8xf32>
  %e = math.exp %n : tensor<8xf32>
  %d = arith.addf %one, %e : tensor<8xf32>
  %s = arith.divf %one, %d : tensor<8xf32>
  %r = arith.mulf %x, %s : tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// 2 / (1 + exp(-g)) is not a sigmoid.
// CHECK-LABEL: func.func @not_sigmoid_numerator
// CHECK-NOT:     gate.gate
// CHECK:         arith.divf
// CHECK:         arith.mulf
func.func @not_sigmoid_numerator(%x: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<8xf32> {
  %one = arith.constant dense<1.0> : tensor<8xf32>
  %two = arith.constant dense<2.0> : tensor<8xf32>
  %n = arith.negf %g : tensor<8xf32>
  %e = math.exp %n : tensor<8xf32>
  %d = arith.addf %one, %e : tensor<8xf32>
  %s = arith.divf %two, %d : tensor<8xf32>
  %r = arith.mulf %x, %s : tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// 1 / (1 + exp(g)) is sigmoid(-g); without the negation there is no match.
// CHECK-LABEL: func.func @not_sigmoid_no_neg
// CHECK-NOT:     gate.gate
// CHECK:         math.exp
// CHECK:         arith.mulf
func.func @not_sigmoid_no_neg(%x: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<8xf32> {
  %one = arith.constant dense<1.0> : tensor<8xf32>
  %e = math.exp %g : tensor<8xf32>
  %d = arith.addf %one, %e : tensor<8xf32>
  %s = arith.divf %one, %d : tensor<8xf32>
  %r = arith.mulf %x, %s : tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// 1 / (2 + exp(-g)) is not a sigmoid.
// CHECK-LABEL: func.func @not_sigmoid_offset
// CHECK-NOT:     gate.gate
// CHECK:         arith.mulf
func.func @not_sigmoid_offset(%x: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<8xf32> {
  %one = arith.constant dense<1.0> : tensor<8xf32>
  %two = arith.constant dense<2.0> : tensor<8xf32>
  %n = arith.negf %g : tensor<8xf32>
  %e = math.exp %n : tensor<8xf32>
  %d = arith.addf %two, %e : tensor<8xf32>
  %s = arith.divf %one, %d : tensor<8xf32>
  %r = arith.mulf %x, %s : tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// h * sigmoid(g) with h != g is not a silu; x * (h * sigmoid(g)) is therefore
// raised only as the inner product h * sigmoid(g).
// CHECK-LABEL: func.func @not_silu_other_factor
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<8xf32>, %[[G:[a-z0-9]+]]: tensor<8xf32>, %[[H:[a-z0-9]+]]: tensor<8xf32>)
// CHECK-NEXT:    %[[I:.+]] = gate.gate %[[H]], %[[G]] : tensor<8xf32>
// CHECK-NEXT:    %[[R:.+]] = arith.mulf %[[X]], %[[I]]
// CHECK-NEXT:    return %[[R]]
func.func @not_silu_other_factor(%x: tensor<8xf32>, %g: tensor<8xf32>, %h: tensor<8xf32>) -> tensor<8xf32> {
  %one = arith.constant dense<1.0> : tensor<8xf32>
  %n = arith.negf %g : tensor<8xf32>
  %e = math.exp %n : tensor<8xf32>
  %d = arith.addf %one, %e : tensor<8xf32>
  %s = arith.divf %one, %d : tensor<8xf32>
  %hs = arith.mulf %h, %s : tensor<8xf32>
  %r = arith.mulf %x, %hs : tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// Scalars, vectors and f64 tensors are not gate.gate operands.
// CHECK-LABEL: func.func @not_tensor
// CHECK-NOT:     gate.gate
// CHECK:         return
func.func @not_tensor(%x: f32, %g: f32, %vx: vector<8xf32>, %vg: vector<8xf32>, %tx: tensor<8xf64>, %tg: tensor<8xf64>) -> (f32, vector<8xf32>, tensor<8xf64>) {
  %one = arith.constant 1.0 : f32
  %n = arith.negf %g : f32
  %e = math.exp %n : f32
  %d = arith.addf %one, %e : f32
  %s = arith.divf %one, %d : f32
  %r = arith.mulf %x, %s : f32
  %vone = arith.constant dense<1.0> : vector<8xf32>
  %vn = arith.negf %vg : vector<8xf32>
  %ve = math.exp %vn : vector<8xf32>
  %vd = arith.addf %vone, %ve : vector<8xf32>
  %vs = arith.divf %vone, %vd : vector<8xf32>
  %vr = arith.mulf %vx, %vs : vector<8xf32>
  %tone = arith.constant dense<1.0> : tensor<8xf64>
  %tn = arith.negf %tg : tensor<8xf64>
  %te = math.exp %tn : tensor<8xf64>
  %td = arith.addf %tone, %te : tensor<8xf64>
  %ts = arith.divf %tone, %td : tensor<8xf64>
  %tr = arith.mulf %tx, %ts : tensor<8xf64>
  return %r, %vr, %tr : f32, vector<8xf32>, tensor<8xf64>
}
