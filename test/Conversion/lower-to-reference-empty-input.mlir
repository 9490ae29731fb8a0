// RUN: gatec-opt %s -gate-lower-to-reference | FileCheck %s

// With an empty input (L = 0) the final state comes from the initial state
// only: every load of the input sits in the else branch of the in-state test,
// so it never runs out of bounds.
// CHECK-LABEL: func.func @conv_empty_input
// CHECK:         scf.if %{{.+}} -> (f32) {
// CHECK-NEXT:      memref.load %{{.*}} : memref<1x8x3xf32>
// CHECK:         } else {
// CHECK:           memref.load %{{.*}} : memref<1x8x0xf32>
// CHECK:         return
func.func @conv_empty_input(%x: tensor<1x8x0xf32>, %w: tensor<8x4xf32>, %s0: tensor<1x8x3xf32>) -> (tensor<1x8x0xf32>, tensor<1x8x3xf32>) {
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<1x8x3xf32>) : tensor<1x8x0xf32>, tensor<8x4xf32> -> tensor<1x8x0xf32>, tensor<1x8x3xf32>
  return %o, %s : tensor<1x8x0xf32>, tensor<1x8x3xf32>
}
