// f32 attention with --gpu-precision=tf32: PTX for sm_80 and sm_90a whose
// QKᵀ and P·V are m16n8k8 tf32 MMAs on operands rounded to nearest
// (cvt.rna), at head dims 64, 128, 256 and odd ones, that ptxas accepts
// with everything in registers (no local-memory spills).
// RUN: split-file %s %t
// RUN: for f in d64 d128 d256 d72; do for a in sm_80 sm_90a; do \
// RUN:   gatec %t/$f.mlir --target=cuda --gpu-arch=$a --gpu-precision=tf32 --emit=ptx -o %t/$f.$a.ptx || exit 1; \
// RUN: done; done
// RUN: cat %t/d64.sm_80.ptx | FileCheck %s
// RUN: cat %t/d128.sm_90a.ptx | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: cat %t/d256.sm_80.ptx %t/d72.sm_90a.ptx | FileCheck %s
// RUN: %if ptxas %{ for f in d64 d128 d256 d72; do for a in sm_80 sm_90a; do \
// RUN:   %ptxas -arch=$a -v %t/$f.$a.ptx -o %t/$f.$a.cubin 2>&1 | grep -e spill -e error; \
// RUN: done; done | FileCheck %s --check-prefix=PTXAS %}

// SM90: .target sm_90a
// CHECK-NOT: mma.sync.aligned.m16n8k16
// CHECK: cvt.rna.tf32.f32
// CHECK: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// CHECK-NOT: mma.sync.aligned.m16n8k16
// Three kernels each (split-KV decode, combine, regular), none spills.
// PTXAS-COUNT-24: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: error

//--- d64.mlir
func.func @main(%q: tensor<?x16x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>) -> tensor<?x16x?x64xf32> {
  %o = gate.sdpa %q, %k, %v {softcap = 30.0 : f32} : tensor<?x16x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x16x?x64xf32>
  return %o : tensor<?x16x?x64xf32>
}
//--- d128.mlir
func.func @main(%q: tensor<?x8x?x128xf32>, %k: tensor<?x2x?x128xf32>, %v: tensor<?x2x?x128xf32>, %g: tensor<?x8x?x128xf32>) -> tensor<?x8x?x128xf32> {
  %o = gate.sdpa %q, %k, %v gate(%g : tensor<?x8x?x128xf32>) {causal} : tensor<?x8x?x128xf32>, tensor<?x2x?x128xf32>, tensor<?x2x?x128xf32> -> tensor<?x8x?x128xf32>
  return %o : tensor<?x8x?x128xf32>
}
//--- d256.mlir
func.func @main(%q: tensor<?x4x?x256xf32>, %k: tensor<?x4x?x256xf32>, %v: tensor<?x4x?x256xf32>, %m: tensor<?x1x?x?xi1>) -> tensor<?x4x?x256xf32> {
  %o = gate.sdpa %q, %k, %v mask(%m : tensor<?x1x?x?xi1>) : tensor<?x4x?x256xf32>, tensor<?x4x?x256xf32>, tensor<?x4x?x256xf32> -> tensor<?x4x?x256xf32>
  return %o : tensor<?x4x?x256xf32>
}
//--- d72.mlir
func.func @main(%q: tensor<?x4x?x72xf32>, %k: tensor<?x4x?x72xf32>, %v: tensor<?x4x?x40xf32>) -> tensor<?x4x?x40xf32> {
  %o = gate.sdpa %q, %k, %v {causal} : tensor<?x4x?x72xf32>, tensor<?x4x?x72xf32>, tensor<?x4x?x40xf32> -> tensor<?x4x?x40xf32>
  return %o : tensor<?x4x?x40xf32>
}
