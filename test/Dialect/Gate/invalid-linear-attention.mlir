// RUN: gatec-opt %s -split-input-file -verify-diagnostics

// One case per LinearAttentionOp verifier error (and the ODS constraints).

func.func @query_rank(%q: tensor<2x4x16xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op operand #0 must be 4D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x4x16xf32>'}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @dynamic_query_heads(%q: tensor<2x?x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'query' dimension 1 (heads) must be static}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x?x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @dynamic_key_head_size(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x?xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'key' dimension 3 (head size) must be static}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x?xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @dynamic_value_heads(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x?x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'value' dimension 1 (heads) must be static}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x?x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @dynamic_value_head_size(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x?xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'value' dimension 3 (head size) must be static}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x?xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @key_dtype(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xbf16>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'key' element type 'bf16' differs from 'query' element type 'f32'}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xbf16>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @value_dtype(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf16>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'value' element type 'f16' differs from 'query' element type 'f32'}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf16> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @output_dtype(%q: tensor<2x4x16x32xf16>, %k: tensor<2x4x16x32xf16>, %v: tensor<2x4x16x16xf16>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'output' element type 'f32' differs from 'query' element type 'f16'}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf16>, tensor<2x4x16x32xf16>, tensor<2x4x16x16xf16> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @state_dtype(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf16>) {
  // expected-error @+1 {{'gate.linear_attention' op result #1 must be 4D tensor of 32-bit float values, but got 'tensor<2x4x32x16xf16>'}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf16>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf16>
}

// -----

func.func @batch_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<3x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'key' dimension 0 (B) is 3 but query dim 0 is 2}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<3x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @state_batch_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<1x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'final_state' dimension 0 (B) is 1 but query dim 0 is 2}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<1x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<1x4x32x16xf32>
}

// -----

func.func @time_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x8x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'value' dimension 2 (T) is 8 but query dim 2 is 16}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @output_time_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x15x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'output' dimension 2 (T) is 15 but query dim 2 is 16}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x15x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x15x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @key_size_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x16xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'key' dimension 3 (K) is 16 but query dim 3 is 32}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @output_value_size_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x32xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'output' dimension 3 (V) is 32 but value dim 3 is 16}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x32xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x32xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @state_heads_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x2x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'final_state' dimension 1 (Hv) is 2 but value dim 1 is 4}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x2x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x2x32x16xf32>
}

// -----

func.func @state_key_size_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'final_state' dimension 2 (K) is 16 but query dim 3 is 32}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
}

// -----

func.func @state_value_size_mismatch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x32xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'final_state' dimension 3 (V) is 32 but value dim 3 is 16}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x32xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x32xf32>
}

// -----

func.func @zero_heads(%q: tensor<2x0x16x32xf32>, %k: tensor<2x0x16x32xf32>, %v: tensor<2x0x16x16xf32>) -> (tensor<2x0x16x16xf32>, tensor<2x0x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op head counts must be positive}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x0x16x32xf32>, tensor<2x0x16x32xf32>, tensor<2x0x16x16xf32> -> tensor<2x0x16x16xf32>, tensor<2x0x32x16xf32>
  return %o, %s : tensor<2x0x16x16xf32>, tensor<2x0x32x16xf32>
}

// -----

func.func @gva_not_divisible(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x6x16x16xf32>) -> (tensor<2x6x16x16xf32>, tensor<2x6x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'value' heads (6) must be a multiple of 'key' heads (4)}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x6x16x16xf32> -> tensor<2x6x16x16xf32>, tensor<2x6x32x16xf32>
  return %o, %s : tensor<2x6x16x16xf32>, tensor<2x6x32x16xf32>
}

// -----

func.func @gva_fewer_value_heads(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x2x16x16xf32>) -> (tensor<2x2x16x16xf32>, tensor<2x2x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'value' heads (2) must be a multiple of 'key' heads (4)}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x2x16x16xf32> -> tensor<2x2x16x16xf32>, tensor<2x2x32x16xf32>
  return %o, %s : tensor<2x2x16x16xf32>, tensor<2x2x32x16xf32>
}

// -----

func.func @gqa_not_divisible(%q: tensor<2x6x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x6x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'query' heads (6) must equal 'key' heads (4) or be a multiple of them when key and value heads are equal (4)}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x6x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x6x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x6x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

// Query grouping over states needs Hk = Hv; here Hv = 4 Hk.
func.func @gqa_and_gva(%q: tensor<2x4x16x32xf32>, %k: tensor<2x2x16x32xf32>, %v: tensor<2x8x16x16xf32>) -> (tensor<2x8x16x16xf32>, tensor<2x8x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'query' heads (4) must equal 'key' heads (2) or be a multiple of them when key and value heads are equal (8)}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x2x16x32xf32>, tensor<2x8x16x16xf32> -> tensor<2x8x16x16xf32>, tensor<2x8x32x16xf32>
  return %o, %s : tensor<2x8x16x16xf32>, tensor<2x8x32x16xf32>
}

// -----

// GVA: the output has the value heads.
func.func @output_heads_gva(%q: tensor<2x2x16x32xf32>, %k: tensor<2x2x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x2x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'output' dimension 1 (Ho) is 2 but query/value head mapping dim 1 is 4}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x2x16x32xf32>, tensor<2x2x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x2x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x2x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

// GQA: the output has the query heads.
func.func @output_heads_gqa(%q: tensor<2x8x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'output' dimension 1 (Ho) is 4 but query/value head mapping dim 1 is 8}}
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x8x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @gated_without_decay(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op rule 'gated' requires a 'decay' operand}}
  %o, %s = gate.linear_attention gated %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @gated_delta_without_decay(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %b: tensor<2x4x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op rule 'gated_delta' requires a 'decay' operand}}
  %o, %s = gate.linear_attention gated_delta %q, %k, %v beta(%b : tensor<2x4x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @delta_without_beta(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op rule 'delta' requires a 'beta' operand}}
  %o, %s = gate.linear_attention delta %q, %k, %v : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @gated_delta_without_beta(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<2x4x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op rule 'gated_delta' requires a 'beta' operand}}
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<2x4x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @decay_int(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<2x4x16xi32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'decay' element type 'i32' must be f32 or that of 'query' ('f32')}}
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x4x16xi32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @decay_rank2(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<2x4xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'decay' must be [B,Hv,T] (per head) or [B,Hv,T,K] (per key channel), got rank 2}}
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x4xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @decay_rank5(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<2x4x16x32x1xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'decay' must be [B,Hv,T] (per head) or [B,Hv,T,K] (per key channel), got rank 5}}
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x4x16x32x1xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @decay_heads(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<2x2x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'decay' dimension 1 (Hv) is 2 but value dim 1 is 4}}
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x2x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

// GVA: decay is per value head, not per key head.
func.func @decay_heads_gva(%q: tensor<2x2x16x32xf32>, %k: tensor<2x2x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<2x2x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'decay' dimension 1 (Hv) is 2 but value dim 1 is 4}}
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x2x16xf32>) : tensor<2x2x16x32xf32>, tensor<2x2x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @decay_time(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<2x4x17xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'decay' dimension 2 (T) is 17 but query dim 2 is 16}}
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x4x17xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @decay_batch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<1x4x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'decay' dimension 0 (B) is 1 but query dim 0 is 2}}
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<1x4x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @channel_decay_size(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %d: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'decay' dimension 3 (K) is 16 but query dim 3 is 32}}
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x4x16x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @beta_rank(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %b: tensor<2x4x16x1xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op operand #3 must be 3D tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x4x16x1xf32>'}}
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%b : tensor<2x4x16x1xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @beta_heads(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %b: tensor<2x8x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'beta' dimension 1 (Hv) is 8 but value dim 1 is 4}}
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%b : tensor<2x8x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @beta_time(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %b: tensor<2x4x1xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'beta' dimension 2 (T) is 1 but query dim 2 is 16}}
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%b : tensor<2x4x1xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @initial_state_dtype(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %s0: tensor<2x4x32x16xbf16>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op operand #3 must be 4D tensor of 32-bit float values, but got 'tensor<2x4x32x16xbf16>'}}
  %o, %s = gate.linear_attention linear %q, %k, %v initial_state(%s0 : tensor<2x4x32x16xbf16>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @initial_state_batch(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %s0: tensor<3x4x32x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'initial_state' dimension 0 (B) is 3 but query dim 0 is 2}}
  %o, %s = gate.linear_attention linear %q, %k, %v initial_state(%s0 : tensor<3x4x32x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @initial_state_heads(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %s0: tensor<2x1x32x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'initial_state' dimension 1 (Hv) is 1 but value dim 1 is 4}}
  %o, %s = gate.linear_attention linear %q, %k, %v initial_state(%s0 : tensor<2x1x32x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @initial_state_key_size(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %s0: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'initial_state' dimension 2 (K) is 16 but query dim 3 is 32}}
  %o, %s = gate.linear_attention linear %q, %k, %v initial_state(%s0 : tensor<2x4x16x16xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @initial_state_value_size(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>, %s0: tensor<2x4x32x32xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'initial_state' dimension 3 (V) is 32 but value dim 3 is 16}}
  %o, %s = gate.linear_attention linear %q, %k, %v initial_state(%s0 : tensor<2x4x32x32xf32>) : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @chunk_size_zero(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'chunk_size' must be positive, got 0}}
  %o, %s = gate.linear_attention linear %q, %k, %v {chunk_size = 0 : i64} : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @scale_inf(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'scale' must be finite}}
  %o, %s = gate.linear_attention linear %q, %k, %v {scale = 0xFF800000 : f32} : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @scale_nan(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op 'scale' must be finite}}
  %o, %s = gate.linear_attention linear %q, %k, %v {scale = 0x7FC00000 : f32} : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}

// -----

func.func @chunk_size_i32(%q: tensor<2x4x16x32xf32>, %k: tensor<2x4x16x32xf32>, %v: tensor<2x4x16x16xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op attribute 'chunk_size' failed to satisfy constraint: 64-bit signless integer attribute}}
  %o, %s = gate.linear_attention linear %q, %k, %v {chunk_size = 16 : i32} : tensor<2x4x16x32xf32>, tensor<2x4x16x32xf32>, tensor<2x4x16x16xf32> -> tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x16x16xf32>, tensor<2x4x32x16xf32>
}
