// REQUIRES: jit
// RUN: gatec-opt %s --gatec-cpu-pipeline | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | %gatec-jit | FileCheck %s

// Softmax weights, softcap, bool and additive masks, broadcast masks and
// fully masked rows, on inputs whose results are known exactly.

llvm.mlir.global external @gatec_num_threads(2 : i32) {addr_space = 0 : i32} : i32
func.func private @printMemrefF32(memref<*xf32>)

func.func @print4(%t: tensor<?x?x?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?x?x?xf32> to memref<?x?x?x?xf32>
  %u = memref.cast %m : memref<?x?x?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // Scores 0 and ln 3 give weights 1/4 and 3/4: 0/4 + 4*3/4 = 3.
  %q = arith.constant dense<1.0> : tensor<1x1x1x1xf32>
  %k = arith.constant dense<[[[[0.0], [1.09861229]]]]> : tensor<1x1x2x1xf32>
  %v = arith.constant dense<[[[[0.0], [4.0]]]]> : tensor<1x1x2x1xf32>
  %a = gate.sdpa %q, %k, %v {scale = 1.0 : f32} : tensor<1x1x1x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32> -> tensor<1x1x1x1xf32>
  %a1 = tensor.cast %a : tensor<1x1x1x1xf32> to tensor<?x?x?x?xf32>
  call @print4(%a1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 1, 1]
  // CHECK-NEXT: {{\[\[\[\[}}3]]]]

  // The default scale is 1/sqrt(D): D = 4, q.k = 2 ln 3 -> score ln 3.
  %q4 = arith.constant dense<1.0> : tensor<1x1x1x4xf32>
  %k4 = arith.constant dense<[[[[0.0, 0.0, 0.0, 0.0], [0.549306145, 0.549306145, 0.549306145, 0.549306145]]]]> : tensor<1x1x2x4xf32>
  %v4 = arith.constant dense<[[[[0.0, 8.0, 0.0, 0.0], [4.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x2x4xf32>
  %b = gate.sdpa %q4, %k4, %v4 : tensor<1x1x1x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32> -> tensor<1x1x1x4xf32>
  %b1 = tensor.cast %b : tensor<1x1x1x4xf32> to tensor<?x?x?x?xf32>
  call @print4(%b1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 1, 4]
  // CHECK-NEXT: {{\[\[\[\[}}3, 2, 0, 0]]]]

  // softcap = 1: scores 100 and 0 become tanh(100) = 1 and 0;
  // weight of key 0 = e / (1 + e).
  %kc = arith.constant dense<[[[[100.0], [0.0]]]]> : tensor<1x1x2x1xf32>
  %vc = arith.constant dense<[[[[1.0], [0.0]]]]> : tensor<1x1x2x1xf32>
  %c = gate.sdpa %q, %kc, %vc {scale = 1.0 : f32, softcap = 1.0 : f32} : tensor<1x1x1x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32> -> tensor<1x1x1x1xf32>
  %c1 = tensor.cast %c : tensor<1x1x1x1xf32> to tensor<?x?x?x?xf32>
  call @print4(%c1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 1, 1]
  // CHECK-NEXT: {{\[\[\[\[}}0.73105{{[0-9]*}}]]]]

  // Bool mask: row 0 attends keys 0 and 2; row 1 attends nothing -> 0.
  %q0 = arith.constant dense<0.0> : tensor<1x1x2x1xf32>
  %k0 = arith.constant dense<0.0> : tensor<1x1x3x1xf32>
  %v3 = arith.constant dense<[[[[1.0], [2.0], [3.0]]]]> : tensor<1x1x3x1xf32>
  %mb = arith.constant dense<[[[[true, false, true], [false, false, false]]]]> : tensor<1x1x2x3xi1>
  %d = gate.sdpa %q0, %k0, %v3 mask(%mb : tensor<1x1x2x3xi1>) : tensor<1x1x2x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x2x1xf32>
  %d1 = tensor.cast %d : tensor<1x1x2x1xf32> to tensor<?x?x?x?xf32>
  call @print4(%d1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 2, 1]
  // CHECK-NEXT: {{\[\[\[\[}}2],
  // CHECK-NEXT: [0]]]]

  // Additive mask: 0, ln 3, -inf -> weights 1/4, 3/4, 0. A row with every
  // key at -inf gives 0.
  %vf = arith.constant dense<[[[[0.0], [4.0], [100.0]]]]> : tensor<1x1x3x1xf32>
  %mf = arith.constant dense<[[[[0.0, 1.09861229, 0xFF800000], [0xFF800000, 0xFF800000, 0xFF800000]]]]> : tensor<1x1x2x3xf32>
  %e = gate.sdpa %q0, %k0, %vf mask(%mf : tensor<1x1x2x3xf32>) : tensor<1x1x2x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x2x1xf32>
  %e1 = tensor.cast %e : tensor<1x1x2x1xf32> to tensor<?x?x?x?xf32>
  call @print4(%e1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 2, 1]
  // CHECK-NEXT: {{\[\[\[\[}}3],
  // CHECK-NEXT: [0]]]]

  // A mask [1,1,1,2] broadcast over batch and heads keeps key 0 only.
  %qb = arith.constant dense<0.0> : tensor<2x2x1x1xf32>
  %kb = arith.constant dense<0.0> : tensor<2x2x2x1xf32>
  %vb = arith.constant dense<[[[[0.0], [100.0]], [[1.0], [100.0]]], [[[2.0], [100.0]], [[3.0], [100.0]]]]> : tensor<2x2x2x1xf32>
  %mbb = arith.constant dense<[[[[true, false]]]]> : tensor<1x1x1x2xi1>
  %f = gate.sdpa %qb, %kb, %vb mask(%mbb : tensor<1x1x1x2xi1>) : tensor<2x2x1x1xf32>, tensor<2x2x2x1xf32>, tensor<2x2x2x1xf32> -> tensor<2x2x1x1xf32>
  %f1 = tensor.cast %f : tensor<2x2x1x1xf32> to tensor<?x?x?x?xf32>
  call @print4(%f1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [2, 2, 1, 1]
  // CHECK-NEXT: {{\[\[\[\[}}0]],
  // CHECK-NEXT: {{\[\[}}1]]],
  // CHECK-NEXT: {{\[\[\[}}2]],
  // CHECK-NEXT: {{\[\[}}3]]]]
  return
}
