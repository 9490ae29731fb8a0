// RUN: gatec-opt %s -split-input-file -verify-diagnostics

func.func @query_rank(%q: tensor<2x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op operand #0 must be 4D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x16x64xf32>'}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @query_int(%q: tensor<2x4x16x64xi32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op operand #0 must be 4D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x4x16x64xi32>'}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xi32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @result_rank(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<8x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op result #0 must be 4D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<8x16x64xf32>'}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<8x16x64xf32>
  return %0 : tensor<8x16x64xf32>
}

// -----

func.func @mask_i32(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %m: tensor<2x4x16x32xi32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op operand #3 must be 4D tensor of 1-bit signless integer or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x4x16x32xi32>'}}
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<2x4x16x32xi32>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @dynamic_query_heads(%q: tensor<2x?x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'query' dimension 1 (heads) must be static}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x?x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @dynamic_key_head_size(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x?xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'key' dimension 3 (head size) must be static}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x?xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @dynamic_value_heads(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x?x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'value' dimension 1 (heads) must be static}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x?x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @key_dtype(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf16>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'key' element type 'f16' differs from 'query' element type 'f32'}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf16>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @value_dtype(%q: tensor<2x4x16x64xbf16>, %k: tensor<2x4x32x64xbf16>, %v: tensor<2x4x32x64xf16>) -> tensor<2x4x16x64xbf16> {
  // expected-error @+1 {{'gate.sdpa' op 'value' element type 'f16' differs from 'query' element type 'bf16'}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xbf16>, tensor<2x4x32x64xbf16>, tensor<2x4x32x64xf16> -> tensor<2x4x16x64xbf16>
  return %0 : tensor<2x4x16x64xbf16>
}

// -----

func.func @result_dtype(%q: tensor<2x4x16x64xf16>, %k: tensor<2x4x32x64xf16>, %v: tensor<2x4x32x64xf16>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'result' element type 'f32' differs from 'query' element type 'f16'}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf16>, tensor<2x4x32x64xf16>, tensor<2x4x32x64xf16> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @batch_mismatch(%q: tensor<2x4x16x64xf32>, %k: tensor<3x4x32x64xf32>, %v: tensor<3x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'key' dimension 0 (B) is 3 but query dim 0 is 2}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<3x4x32x64xf32>, tensor<3x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

// A dynamic query batch does not bind B: the key binds it, the value must agree.
func.func @batch_mismatch_dynamic(%q: tensor<?x4x16x64xf32>, %k: tensor<3x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<?x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'value' dimension 0 (B) is 2 but key dim 0 is 3}}
  %0 = gate.sdpa %q, %k, %v : tensor<?x4x16x64xf32>, tensor<3x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<?x4x16x64xf32>
  return %0 : tensor<?x4x16x64xf32>
}

// -----

func.func @head_size_mismatch(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x32xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'key' dimension 3 (D) is 32 but query dim 3 is 64}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x32xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @kv_heads_mismatch(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x2x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'value' dimension 1 (Hkv) is 2 but key dim 1 is 4}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x2x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @kv_length_mismatch(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x31x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'value' dimension 2 (Skv) is 31 but key dim 2 is 32}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x31x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @result_dv_mismatch(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x48xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'result' dimension 3 (Dv) is 64 but value dim 3 is 48}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x48xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @result_heads_mismatch(%q: tensor<2x8x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'result' dimension 1 (Hq) is 4 but query dim 1 is 8}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x8x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @result_length_mismatch(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x32x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'result' dimension 2 (Sq) is 32 but query dim 2 is 16}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x32x64xf32>
  return %0 : tensor<2x4x32x64xf32>
}

// -----

func.func @gqa_not_divisible(%q: tensor<2x6x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x6x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op query heads (6) must be a positive multiple of key/value heads (4)}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x6x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x6x16x64xf32>
  return %0 : tensor<2x6x16x64xf32>
}

// -----

func.func @fewer_query_heads(%q: tensor<2x2x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x2x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op query heads (2) must be a positive multiple of key/value heads (4)}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x2x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x2x16x64xf32>
  return %0 : tensor<2x2x16x64xf32>
}

// -----

func.func @zero_kv_heads(%q: tensor<2x4x16x64xf32>, %k: tensor<2x0x32x64xf32>, %v: tensor<2x0x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op query heads (4) must be a positive multiple of key/value heads (0)}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x0x32x64xf32>, tensor<2x0x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @zero_head_size(%q: tensor<2x4x16x0xf32>, %k: tensor<2x4x32x0xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'query' head size must be positive}}
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x0xf32>, tensor<2x4x32x0xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @mask_float_dtype(%q: tensor<2x4x16x64xf16>, %k: tensor<2x4x32x64xf16>, %v: tensor<2x4x32x64xf16>, %m: tensor<2x4x16x32xf32>) -> tensor<2x4x16x64xf16> {
  // expected-error @+1 {{'gate.sdpa' op float 'mask' element type 'f32' differs from 'query' element type 'f16'}}
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<2x4x16x32xf32>) : tensor<2x4x16x64xf16>, tensor<2x4x32x64xf16>, tensor<2x4x32x64xf16> -> tensor<2x4x16x64xf16>
  return %0 : tensor<2x4x16x64xf16>
}

// -----

func.func @mask_kv_length(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %m: tensor<2x4x16x16xi1>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'mask' dimension 3 (Skv) is 16 but key dim 2 is 32}}
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<2x4x16x16xi1>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @mask_heads(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %m: tensor<1x2x16x32xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'mask' dimension 1 (Hq) is 2 but query dim 1 is 4}}
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<1x2x16x32xf32>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @mask_rank(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %m: tensor<16x32xi1>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op operand #3 must be 4D tensor}}
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<16x32xi1>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @gate_dtype(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %g: tensor<2x4x16x64xbf16>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'gate' element type 'bf16' differs from 'query' element type 'f32'}}
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<2x4x16x64xbf16>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @gate_heads(%q: tensor<2x8x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %g: tensor<2x4x16x64xf32>) -> tensor<2x8x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'gate' dimension 1 (Hq) is 4 but query dim 1 is 8}}
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<2x4x16x64xf32>) : tensor<2x8x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x8x16x64xf32>
  return %0 : tensor<2x8x16x64xf32>
}

// -----

func.func @gate_length(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %g: tensor<2x4x32x1xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'gate' dimension 2 (Sq) is 32 but query dim 2 is 16}}
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<2x4x32x1xf32>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @negative_softcap(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'softcap' must be >= 0, got -1}}
  %0 = gate.sdpa %q, %k, %v {softcap = -1.0 : f32} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @nan_softcap(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'softcap' must be >= 0, got nan}}
  %0 = gate.sdpa %q, %k, %v {softcap = 0x7FC00000 : f32} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @inf_scale(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'scale' must be finite}}
  %0 = gate.sdpa %q, %k, %v {scale = 0x7F800000 : f32} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @nan_scale(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'scale' must be finite}}
  %0 = gate.sdpa %q, %k, %v {scale = 0x7FC00000 : f32} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @scale_f64(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %0 = gate.sdpa %q, %k, %v {scale = 0.5 : f64} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @unknown_gate_act(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %g: tensor<2x4x16x1xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+2 {{expected ::gatec::gate::Activation to be one of: sigmoid, silu}}
  // expected-error @+1 {{failed to parse Gate_ActivationAttr parameter 'value' which is to be a `::gatec::gate::Activation`}}
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<2x4x16x1xf32>) {gate_act = #gate<act tanh>} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

// Without a mask the gate is operand #3.
func.func @gate_rank(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %g: tensor<2x4x16xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op operand #3 must be 4D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x4x16xf32>'}}
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<2x4x16xf32>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @gate_batch(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %g: tensor<1x4x16x1xf32>) -> tensor<2x4x16x64xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'gate' dimension 0 (B) is 1 but query dim 0 is 2}}
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<1x4x16x1xf32>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// -----

func.func @window_negative(%q: tensor<1x2x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x2x8x32xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'window' must hold two non-negative sizes (left, right)}}
  %0 = gate.sdpa %q, %k, %v {window = array<i64: -1, 0>} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  return %0 : tensor<1x2x8x32xf32>
}

// -----

func.func @window_one_side(%q: tensor<1x2x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x2x8x32xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'window' must hold two non-negative sizes (left, right)}}
  %0 = gate.sdpa %q, %k, %v {window = array<i64: 4>} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  return %0 : tensor<1x2x8x32xf32>
}

// -----

func.func @bottom_right_without_band(%q: tensor<1x2x4x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x2x4x32xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'bottom_right' aligns a causal or window band; the op has neither}}
  %0 = gate.sdpa %q, %k, %v {bottom_right} : tensor<1x2x4x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x4x32xf32>
  return %0 : tensor<1x2x4x32xf32>
}

// -----

func.func @sink_per_kv_head(%q: tensor<1x4x4x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>, %s: tensor<2xf32>) -> tensor<1x4x4x32xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'sink' dimension 0 (Hq) is 2}}
  %0 = gate.sdpa %q, %k, %v sink(%s : tensor<2xf32>) : tensor<1x4x4x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x4x4x32xf32>
  return %0 : tensor<1x4x4x32xf32>
}
