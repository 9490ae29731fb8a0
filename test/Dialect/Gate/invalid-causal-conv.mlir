// RUN: gatec-opt %s -split-input-file -verify-diagnostics

// One case per CausalConvOp verifier error (and the ODS constraints).

func.func @input_rank(%x: tensor<64x16xf32>, %w: tensor<64x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op operand #0 must be 3D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<64x16xf32>'}}
  %o, %s = gate.causal_conv %x, %w : tensor<64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @weight_rank(%x: tensor<2x64x16xf32>, %w: tensor<64x1x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op operand #1 must be 2D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<64x1x4xf32>'}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x1x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @input_int(%x: tensor<2x64x16xi8>, %w: tensor<64x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op operand #0 must be 3D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x64x16xi8>'}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xi8>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @weight_dtype(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf16>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'weight' element type 'f16' differs from 'input' element type 'f32'}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x4xf16> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @output_dtype(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>) -> (tensor<2x64x16xbf16>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'output' element type 'bf16' differs from 'input' element type 'f32'}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xbf16>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xbf16>, tensor<2x64x3xf32>
}

// -----

func.func @state_dtype(%x: tensor<2x64x16xf16>, %w: tensor<64x4xf16>) -> (tensor<2x64x16xf16>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'final_state' element type 'f32' differs from 'input' element type 'f16'}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf16>, tensor<64x4xf16> -> tensor<2x64x16xf16>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf16>, tensor<2x64x3xf32>
}

// -----

func.func @bias_dtype(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %b: tensor<64xf16>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'bias' element type 'f16' differs from 'input' element type 'f32'}}
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<64xf16>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @initial_state_dtype(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %s0: tensor<2x64x3xbf16>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'initial_state' element type 'bf16' differs from 'input' element type 'f32'}}
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<2x64x3xbf16>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @dynamic_channels(%x: tensor<2x64x16xf32>, %w: tensor<?x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'weight' dimension 0 (channels) must be static}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<?x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @dynamic_kernel(%x: tensor<2x64x16xf32>, %w: tensor<64x?xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x?xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'weight' dimension 1 (kernel size) must be static}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x?xf32> -> tensor<2x64x16xf32>, tensor<2x64x?xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x?xf32>
}

// -----

func.func @kernel_zero(%x: tensor<2x64x16xf32>, %w: tensor<64x0xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x0xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'weight' kernel size must be at least 1, got 0}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x0xf32> -> tensor<2x64x16xf32>, tensor<2x64x0xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x0xf32>
}

// -----

func.func @channel_mismatch(%x: tensor<2x64x16xf32>, %w: tensor<32x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'weight' dimension 0 (C) is 32 but input dim 1 is 64}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<32x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @output_batch(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>) -> (tensor<1x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'output' dimension 0 (B) is 1 but input dim 0 is 2}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<1x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<1x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @output_length(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>) -> (tensor<2x64x15xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'output' dimension 2 (L) is 15 but input dim 2 is 16}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x15xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x15xf32>, tensor<2x64x3xf32>
}

// -----

func.func @state_channels(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x63x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'final_state' dimension 1 (C) is 63 but input dim 1 is 64}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x63x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x63x3xf32>
}

// -----

// The state holds k-1 positions.
func.func @state_length(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x4xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'final_state' dimension 2 (k-1) is 4 but weight kernel size - 1 dim 1 is 3}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x4xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x4xf32>
}

// -----

// Kernel size 1: the state is empty.
func.func @state_length_kernel1(%x: tensor<2x64x16xf32>, %w: tensor<64x1xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x1xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'final_state' dimension 2 (k-1) is 1 but weight kernel size - 1 dim 1 is 0}}
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x1xf32> -> tensor<2x64x16xf32>, tensor<2x64x1xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x1xf32>
}

// -----

func.func @bias_size(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %b: tensor<32xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'bias' dimension 0 (C) is 32 but input dim 1 is 64}}
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<32xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @bias_rank(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %b: tensor<1x64xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op operand #2 must be 1D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1x64xf32>'}}
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<1x64xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @initial_state_batch(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %s0: tensor<4x64x3xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'initial_state' dimension 0 (B) is 4 but input dim 0 is 2}}
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<4x64x3xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @initial_state_channels(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %s0: tensor<2x8x3xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'initial_state' dimension 1 (C) is 8 but input dim 1 is 64}}
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<2x8x3xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

// The initial state must match the kernel size, too.
func.func @initial_state_length(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %s0: tensor<2x64x2xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'initial_state' dimension 2 (k-1) is 2 but weight kernel size - 1 dim 1 is 3}}
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<2x64x2xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

// A dynamic final-state length does not hide a mismatching initial state.
func.func @initial_state_length_dynamic_final(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %s0: tensor<2x64x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x?xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op 'initial_state' dimension 2 (k-1) is 4 but weight kernel size - 1 dim 1 is 3}}
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<2x64x4xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x?xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x?xf32>
}

// -----

// gate.causal_conv takes #gate<conv_act ...>, not the gate activation.
func.func @bad_activation(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'gate.causal_conv' op attribute 'activation' failed to satisfy constraint}}
  %o, %s = gate.causal_conv %x, %w {activation = #gate<act silu>} : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

// token_major: input and output are [B, L, C].
func.func @token_major_channels(%x: tensor<2x16x64xf32>, %w: tensor<64x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  // expected-error @+1 {{'output'}}
  %o, %s = gate.causal_conv %x, %w {token_major} : tensor<2x16x64xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// -----

func.func @gate_wrong_length(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %g: tensor<2x64x15xf32>) {
  // expected-error @+1 {{'gate' dimension 2}}
  %o, %s = gate.causal_conv %x, %w gate(%g : tensor<2x64x15xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return
}
