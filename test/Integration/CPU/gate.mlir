// REQUIRES: jit
// RUN: gatec-opt %s --gatec-cpu-pipeline | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | %gatec-jit | FileCheck %s

// gate.gate: x * sigmoid(g) and x * silu(g), elementwise and one gate per
// row, f32 and f16, static and dynamic shapes.

llvm.mlir.global external @gatec_num_threads(2 : i32) {addr_space = 0 : i32} : i32
func.func private @printMemrefF32(memref<*xf32>)

func.func @print2(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

// Dynamic rows, so the kernel cannot be specialized to the constants.
func.func @rowwise(%x: tensor<?x3xf32>, %g: tensor<?x1xf32>) -> tensor<?x3xf32> {
  %0 = gate.gate %x, %g : tensor<?x3xf32>, tensor<?x1xf32> -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

func.func @main() {
  // sigmoid(0) = 1/2; sigmoid(100) = 1; sigmoid(-100) = 0.
  %x = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]]> : tensor<2x4xf32>
  %g = arith.constant dense<[[0.0, 0.0, 100.0, -100.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %a = gate.gate %x, %g : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %a1 = tensor.cast %a : tensor<2x4xf32> to tensor<?x?xf32>
  call @print2(%a1) : (tensor<?x?xf32>) -> ()
  // CHECK:      sizes = [2, 4]
  // CHECK-NEXT: {{\[\[}}0.5, 1, 3, 0],
  // CHECK-NEXT: [0.5, 1, 1.5, 2]]

  // silu(0) = 0, silu(1) = 0.7310586, silu(-100) = -100 * 0 = -0.
  %gs = arith.constant dense<[[0.0, 1.0, -100.0, 1.0], [1.0, 0.0, 1.0, 0.0]]> : tensor<2x4xf32>
  %b = gate.gate %x, %gs {act = #gate<act silu>} : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %b1 = tensor.cast %b : tensor<2x4xf32> to tensor<?x?xf32>
  call @print2(%b1) : (tensor<?x?xf32>) -> ()
  // CHECK:      sizes = [2, 4]
  // CHECK-NEXT: {{\[\[}}0, 1.4621{{[0-9]*}}, {{-?}}0, 2.9242{{[0-9]*}}],
  // CHECK-NEXT: [0.73105{{[0-9]*}}, 0, 2.1931{{[0-9]*}}, 0]]

  // One gate per row.
  %xr = arith.constant dense<[[2.0, 4.0, 6.0], [2.0, 4.0, 6.0], [2.0, 4.0, 6.0]]> : tensor<3x3xf32>
  %gr = arith.constant dense<[[0.0], [100.0], [-100.0]]> : tensor<3x1xf32>
  %xd = tensor.cast %xr : tensor<3x3xf32> to tensor<?x3xf32>
  %gd = tensor.cast %gr : tensor<3x1xf32> to tensor<?x1xf32>
  %c = call @rowwise(%xd, %gd) : (tensor<?x3xf32>, tensor<?x1xf32>) -> tensor<?x3xf32>
  %c1 = tensor.cast %c : tensor<?x3xf32> to tensor<?x?xf32>
  call @print2(%c1) : (tensor<?x?xf32>) -> ()
  // CHECK:      sizes = [3, 3]
  // CHECK-NEXT: {{\[\[}}1, 2, 3],
  // CHECK-NEXT: [2, 4, 6],
  // CHECK-NEXT: [0, 0, 0]]

  // f16: loaded and computed in f32, stored as f16.
  %xh = arith.constant dense<[[2.0, 4.0, 8.0, 16.0]]> : tensor<1x4xf16>
  %gh = arith.constant dense<[[0.0, 0.0, 100.0, -100.0]]> : tensor<1x4xf16>
  %h = gate.gate %xh, %gh : tensor<1x4xf16>, tensor<1x4xf16> -> tensor<1x4xf16>
  %hf = arith.extf %h : tensor<1x4xf16> to tensor<1x4xf32>
  %h1 = tensor.cast %hf : tensor<1x4xf32> to tensor<?x?xf32>
  call @print2(%h1) : (tensor<?x?xf32>) -> ()
  // CHECK:      sizes = [1, 4]
  // CHECK-NEXT: {{\[\[}}1, 2, 8, 0]]
  return
}
