// RUN: gatec-opt %s | gatec-opt | FileCheck %s
// RUN: gatec-opt %s --mlir-print-op-generic | gatec-opt | FileCheck %s

// Every rule, decay form, optional operand, head mapping and attribute of
// gate.linear_attention survives print -> parse -> print.

// CHECK-LABEL: func.func @la_linear
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<2x4x64x32xf32>, %[[K:[a-z0-9]+]]: tensor<2x4x64x32xf32>, %[[V:[a-z0-9]+]]: tensor<2x4x64x16xf32>)
// CHECK:         %[[O:[a-z0-9_]+]], %[[S:[a-z0-9_]+]] = gate.linear_attention linear %[[Q]], %[[K]], %[[V]] : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x16xf32> -> tensor<2x4x64x16xf32>, tensor<2x4x32x16xf32>
// CHECK-NEXT:    return %[[O]], %[[S]]
func.func @la_linear(%q: tensor<2x4x64x32xf32>, %k: tensor<2x4x64x32xf32>, %v: tensor<2x4x64x16xf32>) -> (tensor<2x4x64x16xf32>, tensor<2x4x32x16xf32>) {
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x16xf32> -> tensor<2x4x64x16xf32>, tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x64x16xf32>, tensor<2x4x32x16xf32>
}

// Scalar (per head) decay: RetNet / Mamba2.
// CHECK-LABEL: func.func @la_gated_scalar
// CHECK-SAME:    %[[D:[a-z0-9]+]]: tensor<2x4x64xf32>
// CHECK:         gate.linear_attention gated %{{.*}}, %{{.*}}, %{{.*}} decay(%[[D]] : tensor<2x4x64xf32>) : tensor<2x4x64x32xf32>
func.func @la_gated_scalar(%q: tensor<2x4x64x32xf32>, %k: tensor<2x4x64x32xf32>, %v: tensor<2x4x64x32xf32>, %d: tensor<2x4x64xf32>) -> (tensor<2x4x64x32xf32>, tensor<2x4x32x32xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x4x64xf32>) : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32> -> tensor<2x4x64x32xf32>, tensor<2x4x32x32xf32>
  return %o, %s : tensor<2x4x64x32xf32>, tensor<2x4x32x32xf32>
}

// Per key channel decay: GLA.
// CHECK-LABEL: func.func @la_gated_channel
// CHECK:         gate.linear_attention gated %{{.*}}, %{{.*}}, %{{.*}} decay(%{{.*}} : tensor<2x4x64x32xf32>) {chunk_size = 16 : i64} :
func.func @la_gated_channel(%q: tensor<2x4x64x32xf32>, %k: tensor<2x4x64x32xf32>, %v: tensor<2x4x64x32xf32>, %d: tensor<2x4x64x32xf32>) -> (tensor<2x4x64x32xf32>, tensor<2x4x32x32xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x4x64x32xf32>) {chunk_size = 16 : i64} : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32> -> tensor<2x4x64x32xf32>, tensor<2x4x32x32xf32>
  return %o, %s : tensor<2x4x64x32xf32>, tensor<2x4x32x32xf32>
}

// CHECK-LABEL: func.func @la_delta
// CHECK-SAME:    %[[B:[a-z0-9]+]]: tensor<1x2x8x16xf32>, %[[BETA:[a-z0-9]+]]: tensor<1x2x8xf32>
// CHECK:         gate.linear_attention delta %{{.*}}, %{{.*}}, %[[B]] beta(%[[BETA]] : tensor<1x2x8xf32>) {scale = 1.000000e+00 : f32} :
func.func @la_delta(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %beta: tensor<1x2x8xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>) {
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%beta : tensor<1x2x8xf32>) {scale = 1.0 : f32} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
  return %o, %s : tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
}

// Gated DeltaNet with an initial state, every operand present.
// CHECK-LABEL: func.func @la_gated_delta_everything
// CHECK:         gate.linear_attention gated_delta %{{.*}}, %{{.*}}, %{{.*}} decay(%{{.*}} : tensor<1x2x8xf32>) beta(%{{.*}} : tensor<1x2x8xf32>) initial_state(%{{.*}} : tensor<1x2x16x8xf32>) {chunk_size = 32 : i64, scale = 2.500000e-01 : f32} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>, tensor<1x2x16x8xf32>
func.func @la_gated_delta_everything(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x8xf32>, %d: tensor<1x2x8xf32>, %beta: tensor<1x2x8xf32>, %s0: tensor<1x2x16x8xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x2x16x8xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<1x2x8xf32>) beta(%beta : tensor<1x2x8xf32>) initial_state(%s0 : tensor<1x2x16x8xf32>) {scale = 0.25 : f32, chunk_size = 32 : i64} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x8xf32>, tensor<1x2x16x8xf32>
  return %o, %s : tensor<1x2x8x8xf32>, tensor<1x2x16x8xf32>
}

// The default chunk_size (64) is not printed.
// CHECK-LABEL: func.func @la_default_chunk
// CHECK:         gate.linear_attention linear %{{.*}}, %{{.*}}, %{{.*}} initial_state(%{{.*}} : tensor<1x2x16x16xf32>) : tensor
func.func @la_default_chunk(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %s0: tensor<1x2x16x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>) {
  %o, %s = gate.linear_attention linear %q, %k, %v initial_state(%s0 : tensor<1x2x16x16xf32>) {chunk_size = 64 : i64} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
  return %o, %s : tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>
}

// GQA: 8 query heads grouped over 2 key/value heads (states); output has the
// query heads, the state the value heads.
// CHECK-LABEL: func.func @la_gqa
// CHECK:         gate.linear_attention gated %{{.*}}, %{{.*}}, %{{.*}} decay(%{{.*}} : tensor<1x2x8xf32>) : tensor<1x8x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x8x8x16xf32>, tensor<1x2x16x16xf32>
func.func @la_gqa(%q: tensor<1x8x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %d: tensor<1x2x8xf32>) -> (tensor<1x8x8x16xf32>, tensor<1x2x16x16xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<1x2x8xf32>) : tensor<1x8x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x8x8x16xf32>, tensor<1x2x16x16xf32>
  return %o, %s : tensor<1x8x8x16xf32>, tensor<1x2x16x16xf32>
}

// GVA (Qwen3-Next): 4 value heads over 2 query/key heads; decay and beta per
// value head.
// CHECK-LABEL: func.func @la_gva
// CHECK:         gate.linear_attention gated_delta %{{.*}}, %{{.*}}, %{{.*}} decay(%{{.*}} : tensor<1x4x8xf32>) beta(%{{.*}} : tensor<1x4x8xf32>) : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x32xf32> -> tensor<1x4x8x32xf32>, tensor<1x4x16x32xf32>
func.func @la_gva(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x4x8x32xf32>, %d: tensor<1x4x8xf32>, %beta: tensor<1x4x8xf32>) -> (tensor<1x4x8x32xf32>, tensor<1x4x16x32xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<1x4x8xf32>) beta(%beta : tensor<1x4x8xf32>) : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x32xf32> -> tensor<1x4x8x32xf32>, tensor<1x4x16x32xf32>
  return %o, %s : tensor<1x4x8x32xf32>, tensor<1x4x16x32xf32>
}

// Dynamic batch and time; bf16 inputs with f16 beta/decay allowed; the
// state stays f32.
// CHECK-LABEL: func.func @la_dynamic_bf16
// CHECK:         gate.linear_attention gated_delta %{{.*}}, %{{.*}}, %{{.*}} decay(%{{.*}} : tensor<?x2x?x16xbf16>) beta(%{{.*}} : tensor<?x2x?xbf16>) : tensor<?x2x?x16xbf16>, tensor<?x2x?x16xbf16>, tensor<?x2x?x16xbf16> -> tensor<?x2x?x16xbf16>, tensor<?x2x16x16xf32>
func.func @la_dynamic_bf16(%q: tensor<?x2x?x16xbf16>, %k: tensor<?x2x?x16xbf16>, %v: tensor<?x2x?x16xbf16>, %d: tensor<?x2x?x16xbf16>, %beta: tensor<?x2x?xbf16>) -> (tensor<?x2x?x16xbf16>, tensor<?x2x16x16xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<?x2x?x16xbf16>) beta(%beta : tensor<?x2x?xbf16>) : tensor<?x2x?x16xbf16>, tensor<?x2x?x16xbf16>, tensor<?x2x?x16xbf16> -> tensor<?x2x?x16xbf16>, tensor<?x2x16x16xf32>
  return %o, %s : tensor<?x2x?x16xbf16>, tensor<?x2x16x16xf32>
}

// -----

// Token-major layout: per-token operands [B,T,H,D], decay/beta [B,T,H].
// CHECK-LABEL: func.func @token_major
// CHECK:         gate.linear_attention gated_delta %{{.+}} {token_major} : tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x32xf32> -> tensor<?x?x4x32xf32>, tensor<?x4x16x32xf32>
func.func @token_major(%q: tensor<?x?x2x16xf32>, %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x4x32xf32>, %g: tensor<?x?x4xf32>, %b: tensor<?x?x4xf32>) -> (tensor<?x?x4x32xf32>, tensor<?x4x16x32xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%g : tensor<?x?x4xf32>) beta(%b : tensor<?x?x4xf32>) {token_major} : tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x32xf32> -> tensor<?x?x4x32xf32>, tensor<?x4x16x32xf32>
  return %o, %s : tensor<?x?x4x32xf32>, tensor<?x4x16x32xf32>
}

// -----

// Reverse time: the recurrence runs from the last token to the first.
// CHECK-LABEL: func.func @reverse
// CHECK:         gate.linear_attention gated %{{.+}} {reverse, token_major} : tensor<?x?x2x16xf32>
func.func @reverse(%q: tensor<?x?x2x16xf32>, %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x2x32xf32>, %g: tensor<?x?x2x16xf32>) -> (tensor<?x?x2x32xf32>, tensor<?x2x16x32xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%g : tensor<?x?x2x16xf32>) {token_major, reverse} : tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x32xf32> -> tensor<?x?x2x32xf32>, tensor<?x2x16x32xf32>
  return %o, %s : tensor<?x?x2x32xf32>, tensor<?x2x16x32xf32>
}
