// RUN: not gatec-opt %s -gate-matmul-cpu=vector-width=3 2>&1 | FileCheck %s --check-prefix=MATMUL
// RUN: not gatec-opt %s -gate-tile-cpu=vector-width=0 2>&1 | FileCheck %s --check-prefix=TILE

// A vector width that is not a power of two is an error naming the pass.
// MATMUL: error: gate-matmul-cpu: vector-width must be a power of two, got 3
// TILE: error: gate-tile-cpu: vector-width must be a power of two, got 0
func.func @f(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  return %a : tensor<4x4xf32>
}
