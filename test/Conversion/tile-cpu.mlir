// RUN: gatec-opt %s -gate-tile-cpu -split-input-file | FileCheck %s
// RUN: gatec-opt %s -gate-tile-cpu=vector-width=8 -split-input-file | FileCheck %s
// RUN: gatec-opt %s -gate-tile-cpu=vector-width=4 -split-input-file | FileCheck %s

// Every gate op lowers to loops (serial or parallel, possibly vectorized);
// no gate op is left. The checks stay generic on purpose: the kernels behind
// this pass are tuned and rewritten, their numerics are tested by the
// integration tests against the reference lowering.

// CHECK-LABEL: func.func @sdpa_causal_gqa
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}} : tensor<1x4x8x16xf32>
func.func @sdpa_causal_gqa(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %0 = gate.sdpa %q, %k, %v {causal} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

// Odd sizes (not multiples of any vector width), a mask, softcap and a gate.
// CHECK-LABEL: func.func @sdpa_odd_sizes_everything
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}} : tensor<2x4x7x40xf32>
func.func @sdpa_odd_sizes_everything(%q: tensor<2x4x7x40xf32>, %k: tensor<2x1x13x40xf32>, %v: tensor<2x1x13x40xf32>, %m: tensor<2x1x7x13xf32>, %g: tensor<2x4x7x1xf32>) -> tensor<2x4x7x40xf32> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<2x1x7x13xf32>) gate(%g : tensor<2x4x7x1xf32>) {causal, softcap = 20.0 : f32, gate_act = #gate<act silu>} : tensor<2x4x7x40xf32>, tensor<2x1x13x40xf32>, tensor<2x1x13x40xf32> -> tensor<2x4x7x40xf32>
  return %0 : tensor<2x4x7x40xf32>
}

// -----

// CHECK-LABEL: func.func @sdpa_dynamic_bf16
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}} : tensor<?x8x?x64xbf16>
func.func @sdpa_dynamic_bf16(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %m: tensor<?x1x?x?xi1>) -> tensor<?x8x?x64xbf16> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<?x1x?x?xi1>) : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return %0 : tensor<?x8x?x64xbf16>
}

// -----

// Decode against a long cache (>= 1024 keys): partitions of the keys run as
// tasks, a second parallel loop merges their partial results; otherwise one
// task per tile.
// CHECK-LABEL: func.func @sdpa_decode_split_kv
// CHECK:         arith.cmpi uge, %{{.*}}, %c1024
// CHECK:         scf.if
// CHECK:           memref.alloc(%{{.*}}) {{.*}} : memref<?x2x?x{{[0-9]+}}x64xf32>
// CHECK:           scf.parallel
// CHECK:           scf.parallel
// CHECK:             math.exp
// CHECK:         } else {
// CHECK:           scf.parallel
// CHECK:         return %{{.*}} : tensor<?x8x?x64xf32>
func.func @sdpa_decode_split_kv(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>) -> tensor<?x8x?x64xf32> {
  %0 = gate.sdpa %q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  return %0 : tensor<?x8x?x64xf32>
}

// -----

// CHECK-LABEL: func.func @gate_elementwise
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}} : tensor<3x5x33xf16>
func.func @gate_elementwise(%x: tensor<3x5x33xf16>, %g: tensor<3x5x33xf16>) -> tensor<3x5x33xf16> {
  %0 = gate.gate %x, %g {act = #gate<act silu>} : tensor<3x5x33xf16>, tensor<3x5x33xf16> -> tensor<3x5x33xf16>
  return %0 : tensor<3x5x33xf16>
}

// -----

// CHECK-LABEL: func.func @gate_rowwise_dynamic
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}} : tensor<?x128xf32>
func.func @gate_rowwise_dynamic(%x: tensor<?x128xf32>, %g: tensor<?x1xf32>) -> tensor<?x128xf32> {
  %0 = gate.gate %x, %g : tensor<?x128xf32>, tensor<?x1xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

// CHECK-LABEL: func.func @la_linear
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}}, %{{.*}} : tensor<1x2x65x32xf32>, tensor<1x2x32x32xf32>
func.func @la_linear(%q: tensor<1x2x65x32xf32>, %k: tensor<1x2x65x32xf32>, %v: tensor<1x2x65x32xf32>) -> (tensor<1x2x65x32xf32>, tensor<1x2x32x32xf32>) {
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<1x2x65x32xf32>, tensor<1x2x65x32xf32>, tensor<1x2x65x32xf32> -> tensor<1x2x65x32xf32>, tensor<1x2x32x32xf32>
  return %o, %s : tensor<1x2x65x32xf32>, tensor<1x2x32x32xf32>
}

// -----

// CHECK-LABEL: func.func @la_gated_scalar_gqa
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}}, %{{.*}} : tensor<2x8x63x16xf32>, tensor<2x2x16x16xf32>
func.func @la_gated_scalar_gqa(%q: tensor<2x8x63x16xf32>, %k: tensor<2x2x63x16xf32>, %v: tensor<2x2x63x16xf32>, %d: tensor<2x2x63xf32>) -> (tensor<2x8x63x16xf32>, tensor<2x2x16x16xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x2x63xf32>) : tensor<2x8x63x16xf32>, tensor<2x2x63x16xf32>, tensor<2x2x63x16xf32> -> tensor<2x8x63x16xf32>, tensor<2x2x16x16xf32>
  return %o, %s : tensor<2x8x63x16xf32>, tensor<2x2x16x16xf32>
}

// -----

// CHECK-LABEL: func.func @la_gated_channel
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}}, %{{.*}} : tensor<1x2x16x40xf32>, tensor<1x2x40x40xf32>
func.func @la_gated_channel(%q: tensor<1x2x16x40xf32>, %k: tensor<1x2x16x40xf32>, %v: tensor<1x2x16x40xf32>, %d: tensor<1x2x16x40xf32>) -> (tensor<1x2x16x40xf32>, tensor<1x2x40x40xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<1x2x16x40xf32>) {chunk_size = 8 : i64} : tensor<1x2x16x40xf32>, tensor<1x2x16x40xf32>, tensor<1x2x16x40xf32> -> tensor<1x2x16x40xf32>, tensor<1x2x40x40xf32>
  return %o, %s : tensor<1x2x16x40xf32>, tensor<1x2x40x40xf32>
}

// -----

// CHECK-LABEL: func.func @la_delta
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}}, %{{.*}} : tensor<1x2x17x16xf32>, tensor<1x2x16x16xf32>
func.func @la_delta(%q: tensor<1x2x17x16xf32>, %k: tensor<1x2x17x16xf32>, %v: tensor<1x2x17x16xf32>, %b: tensor<1x2x17xf32>) -> (tensor<1x2x17x16xf32>, tensor<1x2x16x16xf32>) {
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%b : tensor<1x2x17xf32>) : tensor<1x2x17x16xf32>, tensor<1x2x17x16xf32>, tensor<1x2x17x16xf32> -> tensor<1x2x17x16xf32>, tensor<1x2x16x16xf32>
  return %o, %s : tensor<1x2x17x16xf32>, tensor<1x2x16x16xf32>
}

// -----

// GVA gated delta (Qwen3-Next shape, small), dynamic T, f16 inputs.
// CHECK-LABEL: func.func @la_gated_delta_gva
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}}, %{{.*}} : tensor<1x4x?x32xf16>, tensor<1x4x16x32xf32>
func.func @la_gated_delta_gva(%q: tensor<1x2x?x16xf16>, %k: tensor<1x2x?x16xf16>, %v: tensor<1x4x?x32xf16>, %d: tensor<1x4x?xf32>, %b: tensor<1x4x?xf16>, %s0: tensor<1x4x16x32xf32>) -> (tensor<1x4x?x32xf16>, tensor<1x4x16x32xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<1x4x?xf32>) beta(%b : tensor<1x4x?xf16>) initial_state(%s0 : tensor<1x4x16x32xf32>) : tensor<1x2x?x16xf16>, tensor<1x2x?x16xf16>, tensor<1x4x?x32xf16> -> tensor<1x4x?x32xf16>, tensor<1x4x16x32xf32>
  return %o, %s : tensor<1x4x?x32xf16>, tensor<1x4x16x32xf32>
}

// -----

// CHECK-LABEL: func.func @conv_everything
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}}, %{{.*}} : tensor<2x96x9xf32>, tensor<2x96x3xf32>
func.func @conv_everything(%x: tensor<2x96x9xf32>, %w: tensor<96x4xf32>, %b: tensor<96xf32>, %s0: tensor<2x96x3xf32>) -> (tensor<2x96x9xf32>, tensor<2x96x3xf32>) {
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<96xf32>) initial_state(%s0 : tensor<2x96x3xf32>) {activation = #gate<conv_act silu>} : tensor<2x96x9xf32>, tensor<96x4xf32> -> tensor<2x96x9xf32>, tensor<2x96x3xf32>
  return %o, %s : tensor<2x96x9xf32>, tensor<2x96x3xf32>
}

// -----

// CHECK-LABEL: func.func @conv_kernel1_dynamic
// CHECK-NOT:     {{= gate\.}}
// CHECK:         {{scf\.for|scf\.parallel}}
// CHECK-NOT:     {{= gate\.}}
// CHECK:         return %{{.*}}, %{{.*}} : tensor<?x8x?xf32>, tensor<?x8x0xf32>
func.func @conv_kernel1_dynamic(%x: tensor<?x8x?xf32>, %w: tensor<8x1xf32>) -> (tensor<?x8x?xf32>, tensor<?x8x0xf32>) {
  %o, %s = gate.causal_conv %x, %w : tensor<?x8x?xf32>, tensor<8x1xf32> -> tensor<?x8x?xf32>, tensor<?x8x0xf32>
  return %o, %s : tensor<?x8x?xf32>, tensor<?x8x0xf32>
}
