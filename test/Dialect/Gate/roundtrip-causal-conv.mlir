// RUN: gatec-opt %s | gatec-opt | FileCheck %s
// RUN: gatec-opt %s --mlir-print-op-generic | gatec-opt | FileCheck %s

// CHECK-LABEL: func.func @conv_plain
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x64x16xf32>, %[[W:[a-z0-9]+]]: tensor<64x4xf32>)
// CHECK:         %[[O:[a-z0-9_]+]], %[[S:[a-z0-9_]+]] = gate.causal_conv %[[X]], %[[W]] : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
// CHECK-NEXT:    return %[[O]], %[[S]]
func.func @conv_plain(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// CHECK-LABEL: func.func @conv_bias
// CHECK-SAME:    %[[B:[a-z0-9]+]]: tensor<64xf32>
// CHECK:         gate.causal_conv %{{.*}}, %{{.*}} bias(%[[B]] : tensor<64xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
func.func @conv_bias(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %b: tensor<64xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<64xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// CHECK-LABEL: func.func @conv_state
// CHECK-SAME:    %[[S0:[a-z0-9]+]]: tensor<2x64x3xf32>
// CHECK:         gate.causal_conv %{{.*}}, %{{.*}} initial_state(%[[S0]] : tensor<2x64x3xf32>) : tensor<2x64x16xf32>
func.func @conv_state(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>, %s0: tensor<2x64x3xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x3xf32>) {
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<2x64x3xf32>) : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x64x16xf32>, tensor<2x64x3xf32>
}

// The default activation (none) is not printed.
// CHECK-LABEL: func.func @conv_none
// CHECK:         gate.causal_conv %{{.*}}, %{{.*}} : tensor<1x8x4xf32>, tensor<8x2xf32> -> tensor<1x8x4xf32>, tensor<1x8x1xf32>
func.func @conv_none(%x: tensor<1x8x4xf32>, %w: tensor<8x2xf32>) -> (tensor<1x8x4xf32>, tensor<1x8x1xf32>) {
  %o, %s = gate.causal_conv %x, %w {activation = #gate<conv_act none>} : tensor<1x8x4xf32>, tensor<8x2xf32> -> tensor<1x8x4xf32>, tensor<1x8x1xf32>
  return %o, %s : tensor<1x8x4xf32>, tensor<1x8x1xf32>
}

// Everything: bias, state, SiLU; f16.
// CHECK-LABEL: func.func @conv_everything
// CHECK:         gate.causal_conv %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<64xf16>) initial_state(%{{.*}} : tensor<2x64x3xf16>) {activation = #gate<conv_act silu>} : tensor<2x64x16xf16>, tensor<64x4xf16> -> tensor<2x64x16xf16>, tensor<2x64x3xf16>
func.func @conv_everything(%x: tensor<2x64x16xf16>, %w: tensor<64x4xf16>, %b: tensor<64xf16>, %s0: tensor<2x64x3xf16>) -> (tensor<2x64x16xf16>, tensor<2x64x3xf16>) {
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<64xf16>) initial_state(%s0 : tensor<2x64x3xf16>) {activation = #gate<conv_act silu>} : tensor<2x64x16xf16>, tensor<64x4xf16> -> tensor<2x64x16xf16>, tensor<2x64x3xf16>
  return %o, %s : tensor<2x64x16xf16>, tensor<2x64x3xf16>
}

// Kernel size 1: the state has length 0.
// CHECK-LABEL: func.func @conv_kernel1
// CHECK:         gate.causal_conv %{{.*}}, %{{.*}} initial_state(%{{.*}} : tensor<2x8x0xbf16>) {activation = #gate<conv_act silu>} : tensor<2x8x5xbf16>, tensor<8x1xbf16> -> tensor<2x8x5xbf16>, tensor<2x8x0xbf16>
func.func @conv_kernel1(%x: tensor<2x8x5xbf16>, %w: tensor<8x1xbf16>, %s0: tensor<2x8x0xbf16>) -> (tensor<2x8x5xbf16>, tensor<2x8x0xbf16>) {
  %o, %s = gate.causal_conv %x, %w initial_state(%s0 : tensor<2x8x0xbf16>) {activation = #gate<conv_act silu>} : tensor<2x8x5xbf16>, tensor<8x1xbf16> -> tensor<2x8x5xbf16>, tensor<2x8x0xbf16>
  return %o, %s : tensor<2x8x5xbf16>, tensor<2x8x0xbf16>
}

// Dynamic batch, channels and length (the weight's dimensions are static).
// CHECK-LABEL: func.func @conv_dynamic
// CHECK:         gate.causal_conv %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<?xf32>) : tensor<?x?x?xf32>, tensor<32x4xf32> -> tensor<?x?x?xf32>, tensor<?x32x3xf32>
func.func @conv_dynamic(%x: tensor<?x?x?xf32>, %w: tensor<32x4xf32>, %b: tensor<?xf32>) -> (tensor<?x?x?xf32>, tensor<?x32x3xf32>) {
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<?xf32>) : tensor<?x?x?xf32>, tensor<32x4xf32> -> tensor<?x?x?xf32>, tensor<?x32x3xf32>
  return %o, %s : tensor<?x?x?xf32>, tensor<?x32x3xf32>
}

// CHECK-LABEL: func.func @conv_token_major
// CHECK:         gate.causal_conv %{{.*}}, %{{.*}} {activation = #gate<conv_act silu>, token_major} : tensor<2x?x64xf32>, tensor<64x4xf32> -> tensor<2x?x64xf32>, tensor<2x64x3xf32>
func.func @conv_token_major(%x: tensor<2x?x64xf32>, %w: tensor<64x4xf32>) -> (tensor<2x?x64xf32>, tensor<2x64x3xf32>) {
  %o, %s = gate.causal_conv %x, %w {activation = #gate<conv_act silu>, token_major} : tensor<2x?x64xf32>, tensor<64x4xf32> -> tensor<2x?x64xf32>, tensor<2x64x3xf32>
  return %o, %s : tensor<2x?x64xf32>, tensor<2x64x3xf32>
}

// CHECK-LABEL: func.func @conv_gated
// CHECK:         gate.causal_conv %{{.+}}, %{{.+}} gate(%{{.+}} : tensor<2x16x64xf32>) {gate_act = #gate<act silu>, token_major}
func.func @conv_gated(%x: tensor<2x16x64xf32>, %w: tensor<64x300xf32>, %g: tensor<2x16x64xf32>) -> tensor<2x16x64xf32> {
  %o, %s = gate.causal_conv %x, %w gate(%g : tensor<2x16x64xf32>) {gate_act = #gate<act silu>, token_major} : tensor<2x16x64xf32>, tensor<64x300xf32> -> tensor<2x16x64xf32>, tensor<2x64x299xf32>
  return %o : tensor<2x16x64xf32>
}
