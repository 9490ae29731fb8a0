// REQUIRES: jit
// RUN: gatec-opt %s --gatec-cpu-pipeline | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | %gatec-jit | FileCheck %s

// gate.causal_conv: with x~ = concat(state, input),
// out[t] = act(bias + sum_i w[i] x~[t + i]); the final state holds the last
// k-1 positions of x~.

llvm.mlir.global external @gatec_num_threads(2 : i32) {addr_space = 0 : i32} : i32
func.func private @printMemrefF32(memref<*xf32>)

func.func @print3(%t: tensor<?x?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?x?xf32> to memref<?x?x?xf32>
  %u = memref.cast %m : memref<?x?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %x = arith.constant dense<[[[1.0, 2.0, 3.0, 4.0]]]> : tensor<1x1x4xf32>
  %s0 = arith.constant dense<[[[10.0]]]> : tensor<1x1x1xf32>

  // w = (1, 10), state 10: x~ = 10, 1, 2, 3, 4 -> 20, 21, 32, 43; state 4.
  %w = arith.constant dense<[[1.0, 10.0]]> : tensor<1x2xf32>
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<1x1x1xf32>) : tensor<1x1x4xf32>, tensor<1x2xf32> -> tensor<1x1x4xf32>, tensor<1x1x1xf32>
  %o1 = tensor.cast %o : tensor<1x1x4xf32> to tensor<?x?x?xf32>
  %s1 = tensor.cast %s : tensor<1x1x1xf32> to tensor<?x?x?xf32>
  call @print3(%o1) : (tensor<?x?x?xf32>) -> ()
  call @print3(%s1) : (tensor<?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 4]
  // CHECK-NEXT: {{\[\[}}[20, 21, 32, 43]]]
  // CHECK:      sizes = [1, 1, 1]
  // CHECK-NEXT: {{\[\[}}[4]]]

  // No state (zeros) and a bias of 1: x~ = 0, 1, 2, 3, 4.
  %b = arith.constant dense<[1.0]> : tensor<1xf32>
  %ob, %sb = gate.causal_conv %x, %w bias(%b : tensor<1xf32>) : tensor<1x1x4xf32>, tensor<1x2xf32> -> tensor<1x1x4xf32>, tensor<1x1x1xf32>
  %ob1 = tensor.cast %ob : tensor<1x1x4xf32> to tensor<?x?x?xf32>
  call @print3(%ob1) : (tensor<?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 4]
  // CHECK-NEXT: {{\[\[}}[11, 22, 33, 44]]]

  // Input shorter than the state (L = 1 < k-1 = 2): the final state keeps
  // a value of the initial state. x~ = 5, 6, 7 -> out 18, state (6, 7).
  %x1 = arith.constant dense<[[[7.0]]]> : tensor<1x1x1xf32>
  %w3 = arith.constant dense<[[1.0, 1.0, 1.0]]> : tensor<1x3xf32>
  %st2 = arith.constant dense<[[[5.0, 6.0]]]> : tensor<1x1x2xf32>
  %od, %sd = gate.causal_conv %x1, %w3 initial_state(%st2 : tensor<1x1x2xf32>) : tensor<1x1x1xf32>, tensor<1x3xf32> -> tensor<1x1x1xf32>, tensor<1x1x2xf32>
  %od1 = tensor.cast %od : tensor<1x1x1xf32> to tensor<?x?x?xf32>
  %sd1 = tensor.cast %sd : tensor<1x1x2xf32> to tensor<?x?x?xf32>
  call @print3(%od1) : (tensor<?x?x?xf32>) -> ()
  call @print3(%sd1) : (tensor<?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 1]
  // CHECK-NEXT: {{\[\[}}[18]]]
  // CHECK:      sizes = [1, 1, 2]
  // CHECK-NEXT: {{\[\[}}[6, 7]]]

  // Two channels with their own weights, two batches with their own states.
  %xc = arith.constant dense<[[[1.0, 2.0], [1.0, 2.0]], [[3.0, 4.0], [3.0, 4.0]]]> : tensor<2x2x2xf32>
  %wc = arith.constant dense<[[1.0, 1.0], [2.0, 0.0]]> : tensor<2x2xf32>
  %sc0 = arith.constant dense<[[[0.0], [0.0]], [[100.0], [100.0]]]> : tensor<2x2x1xf32>
  %oc, %sc = gate.causal_conv %xc, %wc initial_state(%sc0 : tensor<2x2x1xf32>) : tensor<2x2x2xf32>, tensor<2x2xf32> -> tensor<2x2x2xf32>, tensor<2x2x1xf32>
  %oc1 = tensor.cast %oc : tensor<2x2x2xf32> to tensor<?x?x?xf32>
  call @print3(%oc1) : (tensor<?x?x?xf32>) -> ()
  // CHECK:      sizes = [2, 2, 2]
  // CHECK-NEXT: {{\[\[}}[1, 3],
  // CHECK-NEXT: [0, 2]],
  // CHECK-NEXT: {{\[\[}}103, 7],
  // CHECK-NEXT: [200, 6]]]

  // Kernel size 1 with SiLU: silu(0) = 0, silu(100) = 100, silu(1) = 0.7310586.
  %xs = arith.constant dense<[[[0.0, 100.0, 1.0]]]> : tensor<1x1x3xf32>
  %w1 = arith.constant dense<[[1.0]]> : tensor<1x1xf32>
  %os, %ss = gate.causal_conv %xs, %w1 {activation = #gate<conv_act silu>} : tensor<1x1x3xf32>, tensor<1x1xf32> -> tensor<1x1x3xf32>, tensor<1x1x0xf32>
  %os1 = tensor.cast %os : tensor<1x1x3xf32> to tensor<?x?x?xf32>
  call @print3(%os1) : (tensor<?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 1, 3]
  // CHECK-NEXT: {{\[\[}}[0, 100, 0.73105{{[0-9]*}}]]]
  return
}
