// RUN: gatec-opt %s --resolve-ranked-shaped-type-result-dims -split-input-file | FileCheck %s

// The dynamic result sizes of every gate op are expressed in terms of its
// operands (ReifyRankedShapedTypeOpInterface; the ABI's output-shape query
// relies on it): tensor.dim of a result becomes tensor.dim of an operand.

// CHECK-LABEL: func.func @sdpa
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x?x8xf32>)
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[B:.+]] = tensor.dim %[[Q]], %[[C0]]
// CHECK-DAG:     %[[SQ:.+]] = tensor.dim %[[Q]], %[[C2]]
// CHECK-NOT:     gate.sdpa
// CHECK:         return %[[B]], %[[SQ]]
func.func @sdpa(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x8xf32>) -> (index, index) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %0 = gate.sdpa %q, %k, %v {causal} : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32> -> tensor<?x4x?x8xf32>
  %d0 = tensor.dim %0, %c0 : tensor<?x4x?x8xf32>
  %d2 = tensor.dim %0, %c2 : tensor<?x4x?x8xf32>
  return %d0, %d2 : index, index
}

// -----

// CHECK-LABEL: func.func @gate
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<?x?x32xf32>, %{{.+}}: tensor<?x?x1xf32>)
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[D0:.+]] = tensor.dim %[[X]], %[[C0]]
// CHECK-DAG:     %[[D1:.+]] = tensor.dim %[[X]], %[[C1]]
// CHECK-NOT:     gate.gate
// CHECK:         return %[[D0]], %[[D1]]
func.func @gate(%x: tensor<?x?x32xf32>, %g: tensor<?x?x1xf32>) -> (index, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %0 = gate.gate %x, %g : tensor<?x?x32xf32>, tensor<?x?x1xf32> -> tensor<?x?x32xf32>
  %d0 = tensor.dim %0, %c0 : tensor<?x?x32xf32>
  %d1 = tensor.dim %0, %c1 : tensor<?x?x32xf32>
  return %d0, %d1 : index, index
}

// -----

// Output [B, Ho, T, V] and state [B, Hv, K, V]: B and T come from the query.
// CHECK-LABEL: func.func @linear_attention
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<?x2x?x16xf32>
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[B:.+]] = tensor.dim %[[Q]], %[[C0]]
// CHECK-DAG:     %[[T:.+]] = tensor.dim %[[Q]], %[[C2]]
// CHECK-NOT:     gate.linear_attention
// CHECK:         return %[[B]], %[[T]], %[[B]]
func.func @linear_attention(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x4x?x8xf32>, %b: tensor<?x4x?xf32>) -> (index, index, index) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%b : tensor<?x4x?xf32>) : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x4x?x8xf32> -> tensor<?x4x?x8xf32>, tensor<?x4x16x8xf32>
  %d0 = tensor.dim %o, %c0 : tensor<?x4x?x8xf32>
  %d2 = tensor.dim %o, %c2 : tensor<?x4x?x8xf32>
  %s0 = tensor.dim %s, %c0 : tensor<?x4x16x8xf32>
  return %d0, %d2, %s0 : index, index, index
}

// -----

// Output [B, C, L] and state [B, C, k-1]; C and k-1 come from the weight
// even when the result types leave them dynamic.
// CHECK-LABEL: func.func @causal_conv
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<?x4x?xf32>
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[B:.+]] = tensor.dim %[[X]], %[[C0]]
// CHECK-DAG:     %[[L:.+]] = tensor.dim %[[X]], %[[C2]]
// CHECK-NOT:     gate.causal_conv
// CHECK:         return %[[B]], %[[L]], %[[C4]], %[[C2]]
func.func @causal_conv(%x: tensor<?x4x?xf32>, %w: tensor<4x3xf32>) -> (index, index, index, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %o, %s = gate.causal_conv %x, %w : tensor<?x4x?xf32>, tensor<4x3xf32> -> tensor<?x?x?xf32>, tensor<?x?x?xf32>
  %d0 = tensor.dim %o, %c0 : tensor<?x?x?xf32>
  %d2 = tensor.dim %o, %c2 : tensor<?x?x?xf32>
  %s1 = tensor.dim %s, %c1 : tensor<?x?x?xf32>
  %s2 = tensor.dim %s, %c2 : tensor<?x?x?xf32>
  return %d0, %d2, %s1, %s2 : index, index, index, index
}
