// REQUIRES: jit
// RUN: gatec-opt %s --gatec-cpu-pipeline | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s '--gatec-cpu-pipeline=vector-width=4' | %gatec-jit | FileCheck %s
// RUN: gatec-opt %s --gatec-gate-opt-pipeline | FileCheck %s --check-prefix=RAISED

// RAISED-LABEL: func.func @exported_gate
// RAISED-NEXT:    %[[R:.+]] = gate.sdpa %{{.+}}, %{{.+}}, %{{.+}} gate(%{{.+}} : tensor<1x4x1x1xf32>) :
// RAISED-NEXT:    return %[[R]]

// GQA head mapping (query head h reads kv head h / G), Dv != D, and the
// fused output gate: headwise sigmoid, elementwise silu, and a gate written
// with arith/math that the pipeline raises and fuses.

llvm.mlir.global external @gatec_num_threads(2 : i32) {addr_space = 0 : i32} : i32
func.func private @printMemrefF32(memref<*xf32>)

func.func @print4(%t: tensor<?x?x?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?x?x?xf32> to memref<?x?x?x?xf32>
  %u = memref.cast %m : memref<?x?x?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @exported_gate(%q: tensor<1x4x1x3xf32>, %k: tensor<1x2x2x3xf32>, %v: tensor<1x2x2x1xf32>, %g: tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32> {
  %a = gate.sdpa %q, %k, %v : tensor<1x4x1x3xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x1xf32> -> tensor<1x4x1x1xf32>
  %one = arith.constant dense<1.0> : tensor<1x4x1x1xf32>
  %neg = arith.negf %g : tensor<1x4x1x1xf32>
  %ex = math.exp %neg : tensor<1x4x1x1xf32>
  %den = arith.addf %one, %ex : tensor<1x4x1x1xf32>
  %sig = arith.divf %one, %den : tensor<1x4x1x1xf32>
  %r = arith.mulf %a, %sig : tensor<1x4x1x1xf32>
  return %r : tensor<1x4x1x1xf32>
}

func.func @main() {
  // 4 query heads over 2 kv heads, uniform weights: head h gets the mean of
  // kv head h/2's values, times sigmoid(0) = 1/2.
  %q = arith.constant dense<0.0> : tensor<1x4x1x3xf32>
  %k = arith.constant dense<0.0> : tensor<1x2x2x3xf32>
  %v = arith.constant dense<[[[[0.0], [2.0]], [[10.0], [12.0]]]]> : tensor<1x2x2x1xf32>
  %a = gate.sdpa %q, %k, %v : tensor<1x4x1x3xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x1xf32> -> tensor<1x4x1x1xf32>
  %a1 = tensor.cast %a : tensor<1x4x1x1xf32> to tensor<?x?x?x?xf32>
  call @print4(%a1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 4, 1, 1]
  // CHECK-NEXT: {{\[\[\[\[}}1]],
  // CHECK-NEXT: {{\[\[}}1]],
  // CHECK-NEXT: {{\[\[}}11]],
  // CHECK-NEXT: {{\[\[}}11]]]]

  %g0 = arith.constant dense<0.0> : tensor<1x4x1x1xf32>
  %b = gate.sdpa %q, %k, %v gate(%g0 : tensor<1x4x1x1xf32>) : tensor<1x4x1x3xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x1xf32> -> tensor<1x4x1x1xf32>
  %b1 = tensor.cast %b : tensor<1x4x1x1xf32> to tensor<?x?x?x?xf32>
  call @print4(%b1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 4, 1, 1]
  // CHECK-NEXT: {{\[\[\[\[}}0.5]],
  // CHECK-NEXT: {{\[\[}}0.5]],
  // CHECK-NEXT: {{\[\[}}5.5]],
  // CHECK-NEXT: {{\[\[}}5.5]]]]

  // Elementwise silu gate, D = 3, Dv = 2, one key: out = v * silu(g);
  // silu(0) = 0, silu(1) = 0.7310586.
  %q2 = arith.constant dense<0.0> : tensor<1x2x1x3xf32>
  %k2 = arith.constant dense<0.0> : tensor<1x1x1x3xf32>
  %v2 = arith.constant dense<[[[[2.0, 4.0]]]]> : tensor<1x1x1x2xf32>
  %g2 = arith.constant dense<[[[[0.0, 1.0]], [[1.0, 0.0]]]]> : tensor<1x2x1x2xf32>
  %c = gate.sdpa %q2, %k2, %v2 gate(%g2 : tensor<1x2x1x2xf32>) {gate_act = #gate<act silu>} : tensor<1x2x1x3xf32>, tensor<1x1x1x3xf32>, tensor<1x1x1x2xf32> -> tensor<1x2x1x2xf32>
  %c1 = tensor.cast %c : tensor<1x2x1x2xf32> to tensor<?x?x?x?xf32>
  call @print4(%c1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 2, 1, 2]
  // CHECK-NEXT: {{\[\[\[\[}}0, 2.9242{{[0-9]*}}]],
  // CHECK-NEXT: {{\[\[}}1.4621{{[0-9]*}}, 0]]]]

  // The same sigmoid gate written as an exporter would: raised and fused
  // (in a function of its own so that constant folding leaves it alone).
  %gx = arith.constant dense<[[[[0.0]], [[0.0]], [[100.0]], [[-100.0]]]]> : tensor<1x4x1x1xf32>
  %r = call @exported_gate(%q, %k, %v, %gx) : (tensor<1x4x1x3xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x1xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %r1 = tensor.cast %r : tensor<1x4x1x1xf32> to tensor<?x?x?x?xf32>
  call @print4(%r1) : (tensor<?x?x?x?xf32>) -> ()
  // CHECK:      sizes = [1, 4, 1, 1]
  // CHECK-NEXT: {{\[\[\[\[}}0.5]],
  // CHECK-NEXT: {{\[\[}}0.5]],
  // CHECK-NEXT: {{\[\[}}11]],
  // CHECK-NEXT: {{\[\[}}0]]]]
  return
}
