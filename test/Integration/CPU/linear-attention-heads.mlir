// REQUIRES: jit
// RUN: gatec-opt %s --gatec-cpu-pipeline | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | %gatec-jit | FileCheck %s

// Head mappings, per-channel decay and the default scale of
// gate.linear_attention, with values chosen so that a wrong mapping (h % H
// instead of h / G) gives a different answer.

llvm.mlir.global external @gatec_num_threads(2 : i32) {addr_space = 0 : i32} : i32
func.func private @printMemrefF32(memref<*xf32>)

func.func @print1(%t: tensor<?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?xf32> to memref<?xf32>
  %u = memref.cast %m : memref<?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // GVA (Qwen3-Next): 2 query/key heads, 4 value heads; value head j reads
  // key and query head j / 2. One token, K = V = 1:
  // o_j = q_{j/2} * k_{j/2} * v_j.
  %q = arith.constant dense<[[[[1.0]], [[10.0]]]]> : tensor<1x2x1x1xf32>
  %k = arith.constant dense<[[[[1.0]], [[2.0]]]]> : tensor<1x2x1x1xf32>
  %v = arith.constant dense<[[[[1.0]], [[3.0]], [[5.0]], [[7.0]]]]> : tensor<1x4x1x1xf32>
  %o, %s = gate.linear_attention linear %q, %k, %v {scale = 1.0 : f32} : tensor<1x2x1x1xf32>, tensor<1x2x1x1xf32>, tensor<1x4x1x1xf32> -> tensor<1x4x1x1xf32>, tensor<1x4x1x1xf32>
  %o1 = tensor.collapse_shape %o [[0, 1, 2, 3]] : tensor<1x4x1x1xf32> into tensor<4xf32>
  %o2 = tensor.cast %o1 : tensor<4xf32> to tensor<?xf32>
  call @print1(%o2) : (tensor<?xf32>) -> ()
  // CHECK:      sizes = [4]
  // CHECK-NEXT: [1, 3, 100, 140]
  %s1 = tensor.collapse_shape %s [[0, 1, 2, 3]] : tensor<1x4x1x1xf32> into tensor<4xf32>
  %s2 = tensor.cast %s1 : tensor<4xf32> to tensor<?xf32>
  call @print1(%s2) : (tensor<?xf32>) -> ()
  // CHECK:      sizes = [4]
  // CHECK-NEXT: [1, 3, 10, 14]

  // GQA: 4 query heads over 2 key/value heads; query head h reads state h / 2.
  %qg = arith.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]]]> : tensor<1x4x1x1xf32>
  %kg = arith.constant dense<1.0> : tensor<1x2x1x1xf32>
  %vg = arith.constant dense<[[[[1.0]], [[10.0]]]]> : tensor<1x2x1x1xf32>
  %og, %sg = gate.linear_attention linear %qg, %kg, %vg {scale = 1.0 : f32} : tensor<1x4x1x1xf32>, tensor<1x2x1x1xf32>, tensor<1x2x1x1xf32> -> tensor<1x4x1x1xf32>, tensor<1x2x1x1xf32>
  %og1 = tensor.collapse_shape %og [[0, 1, 2, 3]] : tensor<1x4x1x1xf32> into tensor<4xf32>
  %og2 = tensor.cast %og1 : tensor<4xf32> to tensor<?xf32>
  call @print1(%og2) : (tensor<?xf32>) -> ()
  // CHECK:      sizes = [4]
  // CHECK-NEXT: [1, 2, 30, 40]

  // Per key channel decay (GLA): row 0 of S decays by 1/2 per token, row 1
  // not at all. q = k = (1, 1), v = 1, 2, 3:
  // S = (1, 1), (2.5, 3), (4.25, 6); o = row sums 2, 5.5, 10.25.
  %qc = arith.constant dense<1.0> : tensor<1x1x3x2xf32>
  %vc = arith.constant dense<[[[[1.0], [2.0], [3.0]]]]> : tensor<1x1x3x1xf32>
  %dc = arith.constant dense<[[[[-0.693147182, 0.0], [-0.693147182, 0.0], [-0.693147182, 0.0]]]]> : tensor<1x1x3x2xf32>
  %oc, %sc = gate.linear_attention gated %qc, %qc, %vc decay(%dc : tensor<1x1x3x2xf32>) {scale = 1.0 : f32} : tensor<1x1x3x2xf32>, tensor<1x1x3x2xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x3x1xf32>, tensor<1x1x2x1xf32>
  %oc1 = tensor.collapse_shape %oc [[0, 1, 2, 3]] : tensor<1x1x3x1xf32> into tensor<3xf32>
  %oc2 = tensor.cast %oc1 : tensor<3xf32> to tensor<?xf32>
  call @print1(%oc2) : (tensor<?xf32>) -> ()
  // CHECK:      sizes = [3]
  // CHECK-NEXT: [2, 5.5, 10.25]
  %sc1 = tensor.collapse_shape %sc [[0, 1, 2, 3]] : tensor<1x1x2x1xf32> into tensor<2xf32>
  %sc2 = tensor.cast %sc1 : tensor<2xf32> to tensor<?xf32>
  call @print1(%sc2) : (tensor<?xf32>) -> ()
  // CHECK:      sizes = [2]
  // CHECK-NEXT: [4.25, 6]

  // The default scale is 1/sqrt(K) = 1/2 for K = 4.
  %q4 = arith.constant dense<1.0> : tensor<1x1x1x4xf32>
  %k4 = arith.constant dense<[[[[1.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x1x4xf32>
  %v4 = arith.constant dense<[[[[2.0, 6.0]]]]> : tensor<1x1x1x2xf32>
  %o4, %s4 = gate.linear_attention linear %q4, %k4, %v4 : tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>, tensor<1x1x1x2xf32> -> tensor<1x1x1x2xf32>, tensor<1x1x4x2xf32>
  %o41 = tensor.collapse_shape %o4 [[0, 1, 2, 3]] : tensor<1x1x1x2xf32> into tensor<2xf32>
  %o42 = tensor.cast %o41 : tensor<2xf32> to tensor<?xf32>
  call @print1(%o42) : (tensor<?xf32>) -> ()
  // CHECK:      sizes = [2]
  // CHECK-NEXT: [1, 3]
  return
}
