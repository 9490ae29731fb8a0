// RUN: gatec-opt %s -gate-lower-to-reference --gatec-cpu-buffer-pipeline -split-input-file | FileCheck %s

// Bufferization after the kernels: no tensors and no bufferization casts are
// left, and kernel scratch buffers are freed.

// CHECK-LABEL: func.func @sdpa
// CHECK-SAME:    (%{{.+}}: memref<1x4x8x16xf32>, %{{.+}}: memref<1x2x8x16xf32>, %{{.+}}: memref<1x2x8x16xf32>
// CHECK-NOT:     tensor<
// CHECK-NOT:     bufferization.
// CHECK:         %[[SCORES:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8xf32>
// CHECK:         memref.store %{{.+}}, %[[SCORES]]
// CHECK:         memref.dealloc %[[SCORES]] : memref<8xf32>
// CHECK-NOT:     tensor<
// CHECK-NOT:     bufferization.
// CHECK:         return
func.func @sdpa(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %0 = gate.sdpa %q, %k, %v {causal} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

// CHECK-LABEL: func.func @sdpa_dynamic
// CHECK-SAME:    memref<?x2x?x16xf32>
// CHECK-NOT:     tensor<
// CHECK-NOT:     bufferization.
// CHECK:         %[[SCORES:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK:         memref.dealloc %[[SCORES]] : memref<?xf32>
// CHECK-NOT:     bufferization.
// CHECK:         return
func.func @sdpa_dynamic(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32> {
  %0 = gate.sdpa %q, %k, %k : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32> -> tensor<?x2x?x16xf32>
  return %0 : tensor<?x2x?x16xf32>
}

// -----

// CHECK-LABEL: func.func @linear_attention
// CHECK-SAME:    memref<1x2x8x4xf32>
// CHECK-NOT:     tensor<
// CHECK-NOT:     bufferization.
// CHECK:         return
func.func @linear_attention(%q: tensor<1x2x8x4xf32>, %d: tensor<1x2x8xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = gate.linear_attention gated %q, %q, %q decay(%d : tensor<1x2x8xf32>) : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
}
