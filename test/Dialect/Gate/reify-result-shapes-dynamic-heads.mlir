// RUN: gatec-opt %s --resolve-ranked-shaped-type-result-dims -split-input-file | FileCheck %s


// CHECK-LABEL: func.func @sdpa_dynamic_result_heads
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK:         return %[[C4]], %[[C8]]
func.func @sdpa_dynamic_result_heads(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x8xf32>) -> (index, index) {
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x8xf32> -> tensor<?x?x?x?xf32>
  %d1 = tensor.dim %0, %c1 : tensor<?x?x?x?xf32>
  %d3 = tensor.dim %0, %c3 : tensor<?x?x?x?xf32>
  return %d1, %d3 : index, index
}

// -----

// CHECK-LABEL: func.func @linear_attention_dynamic_result_heads
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK:         return %[[C2]], %[[C16]], %[[C4]]
func.func @linear_attention_dynamic_result_heads(%q: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x4xf32>) -> (index, index, index) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %o, %s = gate.linear_attention linear %q, %q, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x4xf32> -> tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>
  %d1 = tensor.dim %o, %c1 : tensor<?x?x?x?xf32>
  %d2 = tensor.dim %s, %c2 : tensor<?x?x?x?xf32>
  %d3 = tensor.dim %s, %c3 : tensor<?x?x?x?xf32>
  return %d1, %d2, %d3 : index, index, index
}
