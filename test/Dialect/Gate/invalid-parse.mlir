// RUN: gatec-opt %s -split-input-file -verify-diagnostics

// Syntax errors and malformed attributes of the gate dialect.

func.func @unknown_rule(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>) {
  // expected-error @+2 {{custom op 'gate.linear_attention' expected ::gatec::gate::UpdateRule to be one of: linear, gated, delta, gated_delta}}
  // expected-error @+1 {{custom op 'gate.linear_attention' failed to parse Gate_UpdateRuleAttr parameter 'value' which is to be a `::gatec::gate::UpdateRule`}}
  %o, %s = gate.linear_attention mamba %q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
  return %o, %s : tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
}

// -----

func.func @rule_case_sensitive(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>) {
  // expected-error @+2 {{expected ::gatec::gate::UpdateRule to be one of: linear, gated, delta, gated_delta}}
  // expected-error @+1 {{failed to parse Gate_UpdateRuleAttr}}
  %o, %s = gate.linear_attention GatedDelta %q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
  return %o, %s : tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
}

// -----

func.func @missing_rule(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>) {
  // expected-error @+2 {{custom op 'gate.linear_attention' expected valid keyword or string}}
  // expected-error @+1 {{failed to parse Gate_UpdateRuleAttr}}
  %o, %s = gate.linear_attention %q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
  return %o, %s : tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
}

// -----

func.func @generic_missing_rule(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op requires attribute 'rule'}}
  %o:2 = "gate.linear_attention"(%q, %k, %v) {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>)
  return %o#0, %o#1 : tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
}

// -----

func.func @generic_rule_string(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>) {
  // expected-error @+1 {{'gate.linear_attention' op attribute 'rule' failed to satisfy constraint: state update rule of a linear recurrence}}
  %o:2 = "gate.linear_attention"(%q, %k, %v) {rule = "linear", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>)
  return %o#0, %o#1 : tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
}

// -----

func.func @unknown_conv_act(%x: tensor<1x8x4xf32>, %w: tensor<8x2xf32>) -> (tensor<1x8x4xf32>, tensor<1x8x1xf32>) {
  // expected-error @+2 {{expected ::gatec::gate::ConvActivation to be one of: none, silu}}
  // expected-error @+1 {{failed to parse Gate_ConvActivationAttr parameter 'value' which is to be a `::gatec::gate::ConvActivation`}}
  %o, %s = gate.causal_conv %x, %w {activation = #gate<conv_act gelu>} : tensor<1x8x4xf32>, tensor<8x2xf32> -> tensor<1x8x4xf32>, tensor<1x8x1xf32>
  return %o, %s : tensor<1x8x4xf32>, tensor<1x8x1xf32>
}

// -----

func.func @unknown_act(%x: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+2 {{expected ::gatec::gate::Activation to be one of: sigmoid, silu}}
  // expected-error @+1 {{failed to parse Gate_ActivationAttr parameter 'value' which is to be a `::gatec::gate::Activation`}}
  %0 = gate.gate %x, %g {act = #gate<act relu>} : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @unknown_attr_mnemonic(%x: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{unknown attribute `activation` in dialect `gate`}}
  %0 = gate.gate %x, %g {act = #gate<activation silu>} : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @mask_without_type(%q: tensor<1x2x4x16xf32>, %m: tensor<1x2x4x4xi1>) -> tensor<1x2x4x16xf32> {
  // expected-error @+1 {{expected ':'}}
  %0 = gate.sdpa %q, %q, %q mask(%m) : tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32> -> tensor<1x2x4x16xf32>
  return %0 : tensor<1x2x4x16xf32>
}

// -----

// The optional groups come in a fixed order: mask before gate.
func.func @gate_before_mask(%q: tensor<1x2x4x16xf32>, %m: tensor<1x2x4x4xi1>, %g: tensor<1x2x4x1xf32>) -> tensor<1x2x4x16xf32> {
  // expected-error @+1 {{expected ':'}}
  %0 = gate.sdpa %q, %q, %q gate(%g : tensor<1x2x4x1xf32>) mask(%m : tensor<1x2x4x4xi1>) : tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32> -> tensor<1x2x4x16xf32>
  return %0 : tensor<1x2x4x16xf32>
}

// -----

func.func @generic_bad_segments(%q: tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32> {
  // expected-error @+1 {{'gate.sdpa' op operand count (3) does not match with the total size (4) specified in attribute 'operandSegmentSizes'}}
  %0 = "gate.sdpa"(%q, %q, %q) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0>} : (tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %0 : tensor<1x2x4x16xf32>
}
