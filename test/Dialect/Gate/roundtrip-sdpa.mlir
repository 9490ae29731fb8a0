// RUN: gatec-opt %s | gatec-opt | FileCheck %s
// RUN: gatec-opt %s --mlir-print-op-generic | gatec-opt | FileCheck %s

// Every operand and attribute combination of gate.sdpa survives
// print -> parse -> print, in custom and generic form.

// CHECK-LABEL: func.func @sdpa_plain
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<2x4x16x64xf32>, %[[K:[a-z0-9]+]]: tensor<2x4x32x64xf32>, %[[V:[a-z0-9]+]]: tensor<2x4x32x64xf32>)
// CHECK:         %[[R:[a-z0-9]+]] = gate.sdpa %[[Q]], %[[K]], %[[V]] : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
// CHECK-NEXT:    return %[[R]]
func.func @sdpa_plain(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>) -> tensor<2x4x16x64xf32> {
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// CHECK-LABEL: func.func @sdpa_causal
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {causal} : tensor<1x2x8x32xf32>
func.func @sdpa_causal(%q: tensor<1x2x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x2x8x32xf32> {
  %0 = gate.sdpa %q, %k, %v {causal} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  return %0 : tensor<1x2x8x32xf32>
}

// Sliding window (causal, the query and 511 keys before it) and a local
// window with both sides.
// CHECK-LABEL: func.func @sdpa_window
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {causal, window = array<i64: 511, 0>} :
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {window = array<i64: 3, 5>} :
func.func @sdpa_window(%q: tensor<1x2x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> (tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>) {
  %0 = gate.sdpa %q, %k, %v {causal, window = array<i64: 511, 0>} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  %1 = gate.sdpa %q, %k, %v {window = array<i64: 3, 5>} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  return %0, %1 : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>
}

// Bands aligned to the last key (a decode step or chunked prefill over a
// cache of Skv - Sq tokens), causal and windowed.
// CHECK-LABEL: func.func @sdpa_bottom_right
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {bottom_right, causal} :
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {bottom_right, causal, window = array<i64: 31, 0>} :
func.func @sdpa_bottom_right(%q: tensor<1x2x?x32xf32>, %k: tensor<1x2x?x32xf32>, %v: tensor<1x2x?x32xf32>) -> (tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32>) {
  %0 = gate.sdpa %q, %k, %v {causal, bottom_right} : tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32> -> tensor<1x2x?x32xf32>
  %1 = gate.sdpa %q, %k, %v {causal, bottom_right, window = array<i64: 31, 0>} : tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32> -> tensor<1x2x?x32xf32>
  return %0, %1 : tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32>
}

// Attention sinks: one more logit per query head.
// CHECK-LABEL: func.func @sdpa_sink
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} sink(%{{.*}} : tensor<2xf32>) {causal} :
func.func @sdpa_sink(%q: tensor<1x2x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>, %s: tensor<2xf32>) -> tensor<1x2x8x32xf32> {
  %0 = gate.sdpa %q, %k, %v sink(%s : tensor<2xf32>) {causal} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  return %0 : tensor<1x2x8x32xf32>
}

// CHECK-LABEL: func.func @sdpa_scale_softcap
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} {scale = 1.250000e-01 : f32, softcap = 5.000000e+01 : f32} :
func.func @sdpa_scale_softcap(%q: tensor<1x2x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x2x8x32xf32> {
  %0 = gate.sdpa %q, %k, %v {softcap = 50.0 : f32, scale = 0.125 : f32} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  return %0 : tensor<1x2x8x32xf32>
}

// softcap = 0 means "no capping" and is accepted.
// CHECK-LABEL: func.func @sdpa_softcap_zero
// CHECK:         gate.sdpa {{.*}} {softcap = 0.000000e+00 : f32}
func.func @sdpa_softcap_zero(%q: tensor<1x2x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x2x8x32xf32> {
  %0 = gate.sdpa %q, %k, %v {softcap = 0.0 : f32} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> -> tensor<1x2x8x32xf32>
  return %0 : tensor<1x2x8x32xf32>
}

// CHECK-LABEL: func.func @sdpa_bool_mask
// CHECK-SAME:    %[[M:[a-z0-9]+]]: tensor<2x4x16x32xi1>
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} mask(%[[M]] : tensor<2x4x16x32xi1>) : tensor<2x4x16x64xf32>
func.func @sdpa_bool_mask(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %m: tensor<2x4x16x32xi1>) -> tensor<2x4x16x64xf32> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<2x4x16x32xi1>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// A float mask is additive; broadcast dimensions of size 1.
// CHECK-LABEL: func.func @sdpa_float_mask_broadcast
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x1x16x32xf32>) {causal} : tensor<2x4x16x64xf32>
func.func @sdpa_float_mask_broadcast(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %m: tensor<1x1x16x32xf32>) -> tensor<2x4x16x64xf32> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x16x32xf32>) {causal} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// A default gate_act (sigmoid) is not printed.
// CHECK-LABEL: func.func @sdpa_gate_elementwise
// CHECK-SAME:    %[[G:[a-z0-9]+]]: tensor<2x4x16x48xf32>
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} gate(%[[G]] : tensor<2x4x16x48xf32>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x48xf32> -> tensor<2x4x16x48xf32>
func.func @sdpa_gate_elementwise(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x48xf32>, %g: tensor<2x4x16x48xf32>) -> tensor<2x4x16x48xf32> {
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<2x4x16x48xf32>) {gate_act = #gate<act sigmoid>} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x48xf32> -> tensor<2x4x16x48xf32>
  return %0 : tensor<2x4x16x48xf32>
}

// CHECK-LABEL: func.func @sdpa_gate_headwise_silu
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} gate(%{{.*}} : tensor<2x4x16x1xf32>) {gate_act = #gate<act silu>} :
func.func @sdpa_gate_headwise_silu(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %g: tensor<2x4x16x1xf32>) -> tensor<2x4x16x64xf32> {
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<2x4x16x1xf32>) {gate_act = #gate<act silu>} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// GQA (8 query heads over 2 kv heads), Dv != D, both optional operands and
// every attribute at once.
// CHECK-LABEL: func.func @sdpa_everything
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<2x1x16x32xi1>) gate(%{{.*}} : tensor<2x8x16x48xf32>) {causal, gate_act = #gate<act silu>, scale = 2.500000e-01 : f32, softcap = 3.000000e+01 : f32} : tensor<2x8x16x64xf32>, tensor<2x2x32x64xf32>, tensor<2x2x32x48xf32> -> tensor<2x8x16x48xf32>
func.func @sdpa_everything(%q: tensor<2x8x16x64xf32>, %k: tensor<2x2x32x64xf32>, %v: tensor<2x2x32x48xf32>, %m: tensor<2x1x16x32xi1>, %g: tensor<2x8x16x48xf32>) -> tensor<2x8x16x48xf32> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<2x1x16x32xi1>) gate(%g : tensor<2x8x16x48xf32>) {causal, scale = 0.25 : f32, softcap = 30.0 : f32, gate_act = #gate<act silu>} : tensor<2x8x16x64xf32>, tensor<2x2x32x64xf32>, tensor<2x2x32x48xf32> -> tensor<2x8x16x48xf32>
  return %0 : tensor<2x8x16x48xf32>
}

// MQA (one kv head); dynamic batch and sequence dimensions.
// CHECK-LABEL: func.func @sdpa_mqa_dynamic
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<?x1x?x?xf32>) : tensor<?x8x?x64xf32>, tensor<?x1x?x64xf32>, tensor<?x1x?x64xf32> -> tensor<?x8x?x64xf32>
func.func @sdpa_mqa_dynamic(%q: tensor<?x8x?x64xf32>, %k: tensor<?x1x?x64xf32>, %v: tensor<?x1x?x64xf32>, %m: tensor<?x1x?x?xf32>) -> tensor<?x8x?x64xf32> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<?x1x?x?xf32>) : tensor<?x8x?x64xf32>, tensor<?x1x?x64xf32>, tensor<?x1x?x64xf32> -> tensor<?x8x?x64xf32>
  return %0 : tensor<?x8x?x64xf32>
}

// f16 and bf16 operands; a float mask takes the query element type.
// CHECK-LABEL: func.func @sdpa_f16
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x2x4x4xf16>) gate(%{{.*}} : tensor<1x2x4x1xf16>) : tensor<1x2x4x16xf16>, tensor<1x2x4x16xf16>, tensor<1x2x4x16xf16> -> tensor<1x2x4x16xf16>
func.func @sdpa_f16(%q: tensor<1x2x4x16xf16>, %k: tensor<1x2x4x16xf16>, %v: tensor<1x2x4x16xf16>, %m: tensor<1x2x4x4xf16>, %g: tensor<1x2x4x1xf16>) -> tensor<1x2x4x16xf16> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<1x2x4x4xf16>) gate(%g : tensor<1x2x4x1xf16>) : tensor<1x2x4x16xf16>, tensor<1x2x4x16xf16>, tensor<1x2x4x16xf16> -> tensor<1x2x4x16xf16>
  return %0 : tensor<1x2x4x16xf16>
}

// CHECK-LABEL: func.func @sdpa_bf16
// CHECK:         gate.sdpa %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x1x4x4xi1>) {causal} : tensor<1x2x4x16xbf16>, tensor<1x2x4x16xbf16>, tensor<1x2x4x16xbf16> -> tensor<1x2x4x16xbf16>
func.func @sdpa_bf16(%q: tensor<1x2x4x16xbf16>, %k: tensor<1x2x4x16xbf16>, %v: tensor<1x2x4x16xbf16>, %m: tensor<1x1x4x4xi1>) -> tensor<1x2x4x16xbf16> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x4x4xi1>) {causal} : tensor<1x2x4x16xbf16>, tensor<1x2x4x16xbf16>, tensor<1x2x4x16xbf16> -> tensor<1x2x4x16xbf16>
  return %0 : tensor<1x2x4x16xbf16>
}
