// RUN: gatec-opt %s -split-input-file -verify-diagnostics


func.func @chunk_size_negative(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'chunk_size' must be positive, got -16}}
  %o, %s = gate.linear_attention linear %q, %k, %v {chunk_size = -16 : i64} : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}
