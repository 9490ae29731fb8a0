// ptxas accepts the attention kernels for sm_80 and sm_90a, in f16, bf16 and
// f32 with --gpu-precision=bf16, at head dims 64, 128, 256 and an odd one,
// and they keep everything in registers (no local-memory spills).
// REQUIRES: ptxas
// RUN: split-file %s %t
// RUN: for f in f16_d128 bf16_d256 f32_d64 f16_d72; do \
// RUN:   for a in sm_80 sm_90a; do \
// RUN:     gatec %t/$f.mlir --target=cuda --gpu-arch=$a --gpu-precision=bf16 --emit=ptx -o %t/$f.$a.ptx && \
// RUN:     %ptxas -arch=$a -v %t/$f.$a.ptx -o %t/$f.$a.cubin 2>&1 | grep -e "spill" -e "error" ; \
// RUN:   done; done | FileCheck %s
// Three kernels each (split-KV decode, combine, regular), plus the wgmma
// kernel for sm_90a where the tensors are 16-bit; none spills.
// CHECK-COUNT-27: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-NOT: error

//--- f16_d128.mlir
func.func @main(%q: tensor<?x8x?x128xf16>, %k: tensor<?x2x?x128xf16>, %v: tensor<?x2x?x128xf16>, %g: tensor<?x8x?x1xf16>) -> tensor<?x8x?x128xf16> {
  %o = gate.sdpa %q, %k, %v gate(%g : tensor<?x8x?x1xf16>) {causal} : tensor<?x8x?x128xf16>, tensor<?x2x?x128xf16>, tensor<?x2x?x128xf16> -> tensor<?x8x?x128xf16>
  return %o : tensor<?x8x?x128xf16>
}
//--- bf16_d256.mlir
func.func @main(%q: tensor<?x4x?x256xbf16>, %k: tensor<?x4x?x256xbf16>, %v: tensor<?x4x?x256xbf16>, %m: tensor<?x1x?x?xi1>) -> tensor<?x4x?x256xbf16> {
  %o = gate.sdpa %q, %k, %v mask(%m : tensor<?x1x?x?xi1>) : tensor<?x4x?x256xbf16>, tensor<?x4x?x256xbf16>, tensor<?x4x?x256xbf16> -> tensor<?x4x?x256xbf16>
  return %o : tensor<?x4x?x256xbf16>
}
//--- f32_d64.mlir
func.func @main(%q: tensor<?x16x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>) -> tensor<?x16x?x64xf32> {
  %o = gate.sdpa %q, %k, %v {softcap = 30.0 : f32} : tensor<?x16x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x16x?x64xf32>
  return %o : tensor<?x16x?x64xf32>
}
//--- f16_d72.mlir
func.func @main(%q: tensor<?x4x?x72xf16>, %k: tensor<?x4x?x72xf16>, %v: tensor<?x4x?x40xf16>) -> tensor<?x4x?x40xf16> {
  %o = gate.sdpa %q, %k, %v {causal} : tensor<?x4x?x72xf16>, tensor<?x4x?x72xf16>, tensor<?x4x?x40xf16> -> tensor<?x4x?x40xf16>
  return %o : tensor<?x4x?x40xf16>
}
