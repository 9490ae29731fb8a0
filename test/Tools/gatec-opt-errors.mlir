// RUN: not gatec-opt %s 2>&1 | FileCheck %s
// RUN: not gatec-opt %s --gatec-cpu-pipeline 2>&1 | FileCheck %s

// An invalid op is reported with its location, the tool fails, and no
// pipeline runs on it.
// CHECK: gatec-opt-errors.mlir:[[@LINE+3]]:8: error: 'gate.sdpa' op query heads (3) must be a positive multiple of key/value heads (2)
// CHECK-NOT: llvm.func
func.func @bad(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>) -> tensor<1x3x4x8xf32> {
  %0 = gate.sdpa %q, %k, %k : tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x3x4x8xf32>
  return %0 : tensor<1x3x4x8xf32>
}
