// RUN: gatec-opt %s -split-input-file -verify-diagnostics

func.func @int_input(%x: tensor<4x8xi32>, %g: tensor<4x8xi32>) -> tensor<4x8xi32> {
  // expected-error @+1 {{'gate.gate' op 'input' must have f32, f16 or bf16 elements, got 'i32'}}
  %0 = gate.gate %x, %g : tensor<4x8xi32>, tensor<4x8xi32> -> tensor<4x8xi32>
  return %0 : tensor<4x8xi32>
}

// -----

func.func @f64_gate(%x: tensor<4x8xf32>, %g: tensor<4x8xf64>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'gate.gate' op 'gate' must have f32, f16 or bf16 elements, got 'f64'}}
  %0 = gate.gate %x, %g : tensor<4x8xf32>, tensor<4x8xf64> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @int_result(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>) -> tensor<4x8xi8> {
  // expected-error @+1 {{'gate.gate' op 'result' must have f32, f16 or bf16 elements, got 'i8'}}
  %0 = gate.gate %x, %g : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xi8>
  return %0 : tensor<4x8xi8>
}

// -----

func.func @gate_dtype(%x: tensor<4x8xf32>, %g: tensor<4x8xf16>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'gate.gate' op 'gate' and result must have the element type of 'input', and the result its type}}
  %0 = gate.gate %x, %g : tensor<4x8xf32>, tensor<4x8xf16> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @result_dtype(%x: tensor<4x8xbf16>, %g: tensor<4x8xbf16>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'gate.gate' op 'gate' and result must have the element type of 'input', and the result its type}}
  %0 = gate.gate %x, %g : tensor<4x8xbf16>, tensor<4x8xbf16> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @result_shape(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>) -> tensor<4x?xf32> {
  // expected-error @+1 {{'gate.gate' op 'gate' and result must have the element type of 'input', and the result its type}}
  %0 = gate.gate %x, %g : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

func.func @rank_mismatch(%x: tensor<2x4x8xf32>, %g: tensor<4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'gate.gate' op 'gate' rank 2 differs from 'input' rank 3}}
  %0 = gate.gate %x, %g : tensor<2x4x8xf32>, tensor<4x8xf32> -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

func.func @dim_mismatch(%x: tensor<2x4x8xf32>, %g: tensor<2x3x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'gate.gate' op 'gate' dimension 1 is 3 but 'input' dimension 1 is 4}}
  %0 = gate.gate %x, %g : tensor<2x4x8xf32>, tensor<2x3x8xf32> -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Only the last dimension broadcasts.
func.func @broadcast_not_last(%x: tensor<2x4x8xf32>, %g: tensor<2x1x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'gate.gate' op 'gate' dimension 1 is 1 but 'input' dimension 1 is 4}}
  %0 = gate.gate %x, %g : tensor<2x4x8xf32>, tensor<2x1x8xf32> -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

func.func @last_dim(%x: tensor<2x4x8xf32>, %g: tensor<2x4x4xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'gate.gate' op 'gate' dimension 2 is 4 but 'input' dimension 2 is 8}}
  %0 = gate.gate %x, %g {act = #gate<act silu>} : tensor<2x4x8xf32>, tensor<2x4x4xf32> -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

func.func @unranked(%x: tensor<*xf32>, %g: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{custom op 'gate.gate' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'}}
  %0 = gate.gate %x, %g : tensor<*xf32>, tensor<*xf32> -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @bad_act(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'gate.gate' op attribute 'act' failed to satisfy constraint}}
  %0 = gate.gate %x, %g {act = #gate<rule linear>} : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
