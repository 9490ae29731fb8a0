// REQUIRES: jit
// RUN: gatec-opt %s --gatec-cpu-pipeline | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=parallel=false' | %gatec-jit | FileCheck %s

// Causal attention with all scores equal: query row i averages value rows
// 0..i (upper-left alignment), for prefill and for a short query block.

llvm.mlir.global external @gatec_num_threads(2 : i32) {addr_space = 0 : i32} : i32
func.func private @printMemrefF32(memref<*xf32>)

func.func @print4(%t: tensor<?x?x?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?x?x?xf32> to memref<?x?x?x?xf32>
  %u = memref.cast %m : memref<?x?x?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // Square: 4 queries, 4 keys; row i is the mean of v_0..v_i.
  %q = arith.constant dense<0.0> : tensor<1x1x4x2xf32>
  %k = arith.constant dense<1.0> : tensor<1x1x4x2xf32>
  %v = arith.constant dense<[[[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]]]> : tensor<1x1x4x2xf32>
  %o = gate.sdpa %q, %k, %v {causal} : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  %o1 = tensor.cast %o : tensor<1x1x4x2xf32> to tensor<?x?x?x?xf32>
  call @print4(%o1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 4, 2]
  // CHECK-NEXT: {{\[\[\[\[}}0, 1],
  // CHECK-NEXT: [1, 2],
  // CHECK-NEXT: [2, 3],
  // CHECK-NEXT: [3, 4]]]]

  // Not causal: every row is the mean of all value rows.
  %n = gate.sdpa %q, %k, %v : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  %n1 = tensor.cast %n : tensor<1x1x4x2xf32> to tensor<?x?x?x?xf32>
  call @print4(%n1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 4, 2]
  // CHECK-NEXT: {{\[\[\[\[}}3, 4],
  // CHECK-NEXT: [3, 4],
  // CHECK-NEXT: [3, 4],
  // CHECK-NEXT: [3, 4]]]]

  // Two queries over five keys (Sq < Skv): query i still sees keys 0..i.
  %q2 = arith.constant dense<0.0> : tensor<1x1x2x2xf32>
  %k2 = arith.constant dense<1.0> : tensor<1x1x5x2xf32>
  %v2 = arith.constant dense<[[[[2.0, 0.0], [4.0, 2.0], [6.0, 4.0], [8.0, 6.0], [10.0, 8.0]]]]> : tensor<1x1x5x2xf32>
  %d = gate.sdpa %q2, %k2, %v2 {causal} : tensor<1x1x2x2xf32>, tensor<1x1x5x2xf32>, tensor<1x1x5x2xf32> -> tensor<1x1x2x2xf32>
  %d1 = tensor.cast %d : tensor<1x1x2x2xf32> to tensor<?x?x?x?xf32>
  call @print4(%d1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 2, 2]
  // CHECK-NEXT: {{\[\[\[\[}}2, 0],
  // CHECK-NEXT: [3, 1]]]]
  return
}
