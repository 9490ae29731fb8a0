// REQUIRES: jit
// RUN: gatec-opt %s --gatec-cpu-pipeline | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=parallel=false vector-width=8' | %gatec-jit | FileCheck %s

// The four update rules on sequences small enough to follow by hand
// (K = V = 1, q = k = 1, v = 1, 2, 3, scale 1):
//   linear       S = 1, 3, 6
//   gated        S = a S + v with a = 1/2: 1, 2.5, 4.25
//   delta        S = S + b (v - S) with b = 1/2: 0.5, 1.25, 2.125
//   gated_delta  S = a S + b (v - a S): 0.5, 1.125, 1.78125
// o_t = S_t; the final state is S_T.

llvm.mlir.global external @gatec_num_threads(2 : i32) {addr_space = 0 : i32} : i32
func.func private @printMemrefF32(memref<*xf32>)

func.func @print1(%t: tensor<?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?xf32> to memref<?xf32>
  %u = memref.cast %m : memref<?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @show(%o: tensor<1x1x3x1xf32>, %s: tensor<1x1x1x1xf32>) {
  %o1 = tensor.collapse_shape %o [[0, 1, 2, 3]] : tensor<1x1x3x1xf32> into tensor<3xf32>
  %s1 = tensor.collapse_shape %s [[0, 1, 2, 3]] : tensor<1x1x1x1xf32> into tensor<1xf32>
  %o2 = tensor.cast %o1 : tensor<3xf32> to tensor<?xf32>
  %s2 = tensor.cast %s1 : tensor<1xf32> to tensor<?xf32>
  call @print1(%o2) : (tensor<?xf32>) -> ()
  call @print1(%s2) : (tensor<?xf32>) -> ()
  return
}

func.func @main() {
  %q = arith.constant dense<1.0> : tensor<1x1x3x1xf32>
  %v = arith.constant dense<[[[[1.0], [2.0], [3.0]]]]> : tensor<1x1x3x1xf32>
  %d = arith.constant dense<-0.693147182> : tensor<1x1x3xf32>
  %b = arith.constant dense<0.5> : tensor<1x1x3xf32>

  %o0, %s0 = gate.linear_attention linear %q, %q, %v {scale = 1.0 : f32} : tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>
  call @show(%o0, %s0) : (tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>) -> ()
  // CHECK:      sizes = [3]
  // CHECK-NEXT: [1, 3, 6]
  // CHECK:      sizes = [1]
  // CHECK-NEXT: [6]

  %o1, %s1 = gate.linear_attention gated %q, %q, %v decay(%d : tensor<1x1x3xf32>) {scale = 1.0 : f32} : tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>
  call @show(%o1, %s1) : (tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>) -> ()
  // CHECK:      sizes = [3]
  // CHECK-NEXT: [1, 2.5, 4.25]
  // CHECK:      sizes = [1]
  // CHECK-NEXT: [4.25]

  %o2, %s2 = gate.linear_attention delta %q, %q, %v beta(%b : tensor<1x1x3xf32>) {scale = 1.0 : f32} : tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>
  call @show(%o2, %s2) : (tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>) -> ()
  // CHECK:      sizes = [3]
  // CHECK-NEXT: [0.5, 1.25, 2.125]
  // CHECK:      sizes = [1]
  // CHECK-NEXT: [2.125]

  %o3, %s3 = gate.linear_attention gated_delta %q, %q, %v decay(%d : tensor<1x1x3xf32>) beta(%b : tensor<1x1x3xf32>) {scale = 1.0 : f32} : tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>
  call @show(%o3, %s3) : (tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>) -> ()
  // CHECK:      sizes = [3]
  // CHECK-NEXT: [0.5, 1.125, 1.78125]
  // CHECK:      sizes = [1]
  // CHECK-NEXT: [1.78125]

  // An initial state of 10 (linear): 11, 13, 16; and the scale applies to
  // the output only: 2 * (11, 13, 16).
  %init = arith.constant dense<10.0> : tensor<1x1x1x1xf32>
  %o4, %s4 = gate.linear_attention linear %q, %q, %v initial_state(%init : tensor<1x1x1x1xf32>) {scale = 2.0 : f32} : tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>
  call @show(%o4, %s4) : (tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>) -> ()
  // CHECK:      sizes = [3]
  // CHECK-NEXT: [22, 26, 32]
  // CHECK:      sizes = [1]
  // CHECK-NEXT: [16]

  // chunk_size is a hint: chunks of 2 give the same result.
  %o5, %s5 = gate.linear_attention gated_delta %q, %q, %v decay(%d : tensor<1x1x3xf32>) beta(%b : tensor<1x1x3xf32>) {scale = 1.0 : f32, chunk_size = 2 : i64} : tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>
  call @show(%o5, %s5) : (tensor<1x1x3x1xf32>, tensor<1x1x1x1xf32>) -> ()
  // CHECK:      sizes = [3]
  // CHECK-NEXT: [0.5, 1.125, 1.78125]
  // CHECK:      sizes = [1]
  // CHECK-NEXT: [1.78125]
  return
}
