// RUN: gatec-opt %s -canonicalize | FileCheck %s


// CHECK-LABEL: func.func @no_sink_into_loop
// CHECK:         %[[S:.+]] = gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x4x8xf32>
// CHECK:         scf.for
// CHECK-NOT:       gate.sdpa
// CHECK:           gate.gate %[[S]], %{{.*}} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
// CHECK:           scf.yield
func.func @no_sink_into_loop(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x8xf32>, %n: index) -> tensor<1x2x4x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %0 = gate.sdpa %q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %g) -> tensor<1x2x4x8xf32> {
    %1 = gate.gate %0, %acc : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
    scf.yield %1 : tensor<1x2x4x8xf32>
  }
  return %r : tensor<1x2x4x8xf32>
}
