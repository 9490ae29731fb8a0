// The chunked linear-attention kernels (gated delta rule in bf16, per-channel
// gated decay in f16, the delta rule in f32 with --gpu-precision=bf16) give
// PTX with tensor-core MMAs for sm_80 and sm_90a that ptxas accepts without
// local-memory spills.
// RUN: split-file %s %t
// RUN: for f in gated_delta_bf16 gla_f16 delta_f32; do for a in sm_80 sm_90a; do \
// RUN:   gatec %t/$f.mlir --target=cuda --gpu-arch=$a --gpu-precision=bf16 --emit=ptx -o %t/$f.$a.ptx || exit 1; \
// RUN: done; done
// RUN: cat %t/gated_delta_bf16.sm_80.ptx | FileCheck %s --check-prefix=BF16
// RUN: cat %t/gla_f16.sm_90a.ptx | FileCheck %s --check-prefix=F16
// RUN: cat %t/delta_f32.sm_80.ptx | FileCheck %s --check-prefix=BF16
// RUN: %if ptxas %{ for f in gated_delta_bf16 gla_f16 delta_f32; do for a in sm_80 sm_90a; do \
// RUN:   %ptxas -arch=$a -v %t/$f.$a.ptx -o %t/$f.$a.cubin 2>&1 | grep -e spill -e error; \
// RUN: done; done | FileCheck %s --check-prefix=PTXAS %}

// BF16: .shared .align 16 .b8 gate_smem
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BF16-NOT: __nv_
// F16: .target sm_90a
// F16: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTXAS-COUNT-6: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: error

//--- gated_delta_bf16.mlir
func.func @main(%q: tensor<?x4x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %v: tensor<?x8x?x128xbf16>, %d: tensor<?x8x?xbf16>, %b: tensor<?x8x?xbf16>, %s0: tensor<?x8x128x128xf32>) -> (tensor<?x8x?x128xbf16>, tensor<?x8x128x128xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<?x8x?xbf16>) beta(%b : tensor<?x8x?xbf16>) initial_state(%s0 : tensor<?x8x128x128xf32>) : tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x8x?x128xbf16>, tensor<?x8x128x128xf32>
  return %o, %s : tensor<?x8x?x128xbf16>, tensor<?x8x128x128xf32>
}
//--- gla_f16.mlir
func.func @main(%q: tensor<?x4x?x128xf16>, %k: tensor<?x4x?x128xf16>, %v: tensor<?x4x?x128xf16>, %d: tensor<?x4x?x128xf16>) -> (tensor<?x4x?x128xf16>, tensor<?x4x128x128xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<?x4x?x128xf16>) : tensor<?x4x?x128xf16>, tensor<?x4x?x128xf16>, tensor<?x4x?x128xf16> -> tensor<?x4x?x128xf16>, tensor<?x4x128x128xf32>
  return %o, %s : tensor<?x4x?x128xf16>, tensor<?x4x128x128xf32>
}
//--- delta_f32.mlir
func.func @main(%q: tensor<?x4x?x72xf32>, %k: tensor<?x4x?x72xf32>, %v: tensor<?x4x?x40xf32>, %b: tensor<?x4x?xf32>) -> (tensor<?x4x?x40xf32>, tensor<?x4x72x40xf32>) {
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%b : tensor<?x4x?xf32>) : tensor<?x4x?x72xf32>, tensor<?x4x?x72xf32>, tensor<?x4x?x40xf32> -> tensor<?x4x?x40xf32>, tensor<?x4x72x40xf32>
  return %o, %s : tensor<?x4x?x40xf32>, tensor<?x4x72x40xf32>
}
