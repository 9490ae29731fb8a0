// RUN: gatec-opt %s -gate-lower-to-reference --gatec-cpu-buffer-pipeline | FileCheck %s


// CHECK-LABEL: func.func @gate
// CHECK-SAME:    (%{{.+}}: memref<4x8xf32>, %{{.+}}: memref<4x8xf32>, %[[OUT:[a-z0-9]+]]: memref<4x8xf32>) {
// CHECK:         %[[OUT]]
// CHECK:         return{{$}}
func.func @gate(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = gate.gate %x, %g : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @conv
// CHECK-SAME:    (%{{.+}}: memref<?x8x16xf32>, %{{.+}}: memref<8x4xf32>, %[[O:[a-z0-9]+]]: memref<?x8x16xf32>, %[[S:[a-z0-9]+]]: memref<?x8x3xf32>) {
// CHECK-DAG:     %[[O]]
// CHECK-DAG:     %[[S]]
// CHECK:         return{{$}}
func.func @conv(%x: tensor<?x8x16xf32>, %w: tensor<8x4xf32>) -> (tensor<?x8x16xf32>, tensor<?x8x3xf32>) {
  %o, %s = gate.causal_conv %x, %w : tensor<?x8x16xf32>, tensor<8x4xf32> -> tensor<?x8x16xf32>, tensor<?x8x3xf32>
  return %o, %s : tensor<?x8x16xf32>, tensor<?x8x3xf32>
}
