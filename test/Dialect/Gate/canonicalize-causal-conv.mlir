// RUN: gatec-opt %s -canonicalize -split-input-file | FileCheck %s

// transpose -> causal_conv -> transpose (how exporters feed [B, T, C]
// activations to the channel-major ONNX op) is the token-major causal_conv
// on the untransposed values.

// CHECK-LABEL: func.func @fold
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x?x64xf32>, %[[W:[a-z0-9]+]]: tensor<64x4xf32>)
// CHECK-NEXT:    %[[O:.+]], %[[S:.+]] = gate.causal_conv %[[X]], %[[W]] {activation = #gate<conv_act silu>, token_major} : tensor<2x?x64xf32>, tensor<64x4xf32> -> tensor<2x?x64xf32>, tensor<2x64x3xf32>
// CHECK-NEXT:    return %[[O]], %[[S]]
func.func @fold(%x: tensor<2x?x64xf32>, %w: tensor<64x4xf32>) -> (tensor<2x?x64xf32>, tensor<2x64x3xf32>) {
  %c1 = arith.constant 1 : index
  %t = tensor.dim %x, %c1 : tensor<2x?x64xf32>
  %e0 = tensor.empty(%t) : tensor<2x64x?xf32>
  %xt = linalg.transpose ins(%x : tensor<2x?x64xf32>) outs(%e0 : tensor<2x64x?xf32>) permutation = [0, 2, 1]
  %o, %s = gate.causal_conv %xt, %w {activation = #gate<conv_act silu>} : tensor<2x64x?xf32>, tensor<64x4xf32> -> tensor<2x64x?xf32>, tensor<2x64x3xf32>
  %e1 = tensor.empty(%t) : tensor<2x?x64xf32>
  %ot = linalg.transpose ins(%o : tensor<2x64x?xf32>) outs(%e1 : tensor<2x?x64xf32>) permutation = [0, 2, 1]
  return %ot, %s : tensor<2x?x64xf32>, tensor<2x64x3xf32>
}

// -----

// The channel-major output is used as it is too: nothing folds.
// CHECK-LABEL: func.func @output_used_channel_major
// CHECK:         linalg.transpose
// CHECK:         gate.causal_conv
// CHECK-NOT:     token_major
func.func @output_used_channel_major(%x: tensor<2x16x64xf32>, %w: tensor<64x4xf32>) -> (tensor<2x16x64xf32>, tensor<2x64x16xf32>) {
  %e0 = tensor.empty() : tensor<2x64x16xf32>
  %xt = linalg.transpose ins(%x : tensor<2x16x64xf32>) outs(%e0 : tensor<2x64x16xf32>) permutation = [0, 2, 1]
  %o, %s = gate.causal_conv %xt, %w : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  %e1 = tensor.empty() : tensor<2x16x64xf32>
  %ot = linalg.transpose ins(%o : tensor<2x64x16xf32>) outs(%e1 : tensor<2x16x64xf32>) permutation = [0, 2, 1]
  return %ot, %o : tensor<2x16x64xf32>, tensor<2x64x16xf32>
}

// -----

// The input is not a transpose: nothing folds.
// CHECK-LABEL: func.func @input_not_transposed
// CHECK:         gate.causal_conv
// CHECK-NOT:     token_major
// CHECK:         linalg.transpose
func.func @input_not_transposed(%x: tensor<2x64x16xf32>, %w: tensor<64x4xf32>) -> tensor<2x16x64xf32> {
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x4xf32> -> tensor<2x64x16xf32>, tensor<2x64x3xf32>
  %e1 = tensor.empty() : tensor<2x16x64xf32>
  %ot = linalg.transpose ins(%o : tensor<2x64x16xf32>) outs(%e1 : tensor<2x16x64xf32>) permutation = [0, 2, 1]
  return %ot : tensor<2x16x64xf32>
}

// -----

// A gate of the convolution's output (a gated convolution) folds into its
// epilogue; the convolution moves down to the gate, whose operand is
// defined after it.
// CHECK-LABEL: func.func @gate_folds
// CHECK-SAME:    (%[[X:.+]]: tensor<2x64x?xf32>, %[[W:.+]]: tensor<64x100xf32>, %[[G:.+]]: tensor<2x64x?xf32>)
// CHECK:         %[[E:.+]] = math.exp %[[G]]
// CHECK-NEXT:    %[[O:.+]], %{{.+}} = gate.causal_conv %[[X]], %[[W]] gate(%[[E]] : tensor<2x64x?xf32>) {gate_act = #gate<act silu>}
// CHECK-NOT:     gate.gate
// CHECK:         return %[[O]]
func.func @gate_folds(%x: tensor<2x64x?xf32>, %w: tensor<64x100xf32>, %g: tensor<2x64x?xf32>) -> tensor<2x64x?xf32> {
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x?xf32>, tensor<64x100xf32> -> tensor<2x64x?xf32>, tensor<2x64x99xf32>
  %e = math.exp %g : tensor<2x64x?xf32>
  %r = gate.gate %o, %e {act = #gate<act silu>} : tensor<2x64x?xf32>, tensor<2x64x?xf32> -> tensor<2x64x?xf32>
  return %r : tensor<2x64x?xf32>
}

// -----

// The output is read twice, or the final state before the gate: no fold.
// CHECK-LABEL: func.func @gate_stays
// CHECK-COUNT-2: gate.gate
func.func @gate_stays(%x: tensor<2x64x16xf32>, %w: tensor<64x8xf32>, %g: tensor<2x64x16xf32>, %g2: tensor<2x64x7xf32>) -> (tensor<2x64x16xf32>, tensor<2x64x16xf32>, tensor<2x64x7xf32>) {
  %o, %s = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x8xf32> -> tensor<2x64x16xf32>, tensor<2x64x7xf32>
  %r = gate.gate %o, %g : tensor<2x64x16xf32>, tensor<2x64x16xf32> -> tensor<2x64x16xf32>
  %o2, %s2 = gate.causal_conv %x, %w : tensor<2x64x16xf32>, tensor<64x8xf32> -> tensor<2x64x16xf32>, tensor<2x64x7xf32>
  %sg = gate.gate %s2, %g2 : tensor<2x64x7xf32>, tensor<2x64x7xf32> -> tensor<2x64x7xf32>
  %r2 = gate.gate %o2, %g : tensor<2x64x16xf32>, tensor<2x64x16xf32> -> tensor<2x64x16xf32>
  return %r, %o, %sg : tensor<2x64x16xf32>, tensor<2x64x16xf32>, tensor<2x64x7xf32>
}
