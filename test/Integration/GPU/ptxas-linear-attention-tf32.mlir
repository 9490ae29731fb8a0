// The chunked linear-attention kernel on f32 tensors with
// --gpu-precision=tf32 (gated delta rule with scalar decay, per-channel
// gated decay at K = 128, the delta rule at odd head sizes): PTX for sm_80
// and sm_90a with m16n8k8 tf32 MMAs on operands rounded to nearest
// (cvt.rna), that ptxas accepts without local-memory spills.
// RUN: split-file %s %t
// RUN: for f in gated_delta gla delta; do for a in sm_80 sm_90a; do \
// RUN:   gatec %t/$f.mlir --target=cuda --gpu-arch=$a --gpu-precision=tf32 --emit=ptx -o %t/$f.$a.ptx || exit 1; \
// RUN: done; done
// RUN: cat %t/gated_delta.sm_80.ptx | FileCheck %s
// RUN: cat %t/gla.sm_90a.ptx | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: cat %t/delta.sm_80.ptx | FileCheck %s
// RUN: %if ptxas %{ for f in gated_delta gla delta; do for a in sm_80 sm_90a; do \
// RUN:   %ptxas -arch=$a -v %t/$f.$a.ptx -o %t/$f.$a.cubin 2>&1 | grep -e spill -e error; \
// RUN: done; done | FileCheck %s --check-prefix=PTXAS %}

// SM90: .target sm_90a
// CHECK: .shared .align 16 .b8 gate_smem
// CHECK-NOT: mma.sync.aligned.m16n8k16
// CHECK: cvt.rna.tf32.f32
// CHECK: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// CHECK-NOT: mma.sync.aligned.m16n8k16
// PTXAS-COUNT-6: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: error

//--- gated_delta.mlir
func.func @main(%q: tensor<?x4x?x128xf32>, %k: tensor<?x4x?x128xf32>, %v: tensor<?x8x?x128xf32>, %d: tensor<?x8x?xf32>, %b: tensor<?x8x?xf32>, %s0: tensor<?x8x128x128xf32>) -> (tensor<?x8x?x128xf32>, tensor<?x8x128x128xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<?x8x?xf32>) beta(%b : tensor<?x8x?xf32>) initial_state(%s0 : tensor<?x8x128x128xf32>) : tensor<?x4x?x128xf32>, tensor<?x4x?x128xf32>, tensor<?x8x?x128xf32> -> tensor<?x8x?x128xf32>, tensor<?x8x128x128xf32>
  return %o, %s : tensor<?x8x?x128xf32>, tensor<?x8x128x128xf32>
}
//--- gla.mlir
func.func @main(%q: tensor<?x4x?x128xf32>, %k: tensor<?x4x?x128xf32>, %v: tensor<?x4x?x128xf32>, %d: tensor<?x4x?x128xf32>) -> (tensor<?x4x?x128xf32>, tensor<?x4x128x128xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<?x4x?x128xf32>) : tensor<?x4x?x128xf32>, tensor<?x4x?x128xf32>, tensor<?x4x?x128xf32> -> tensor<?x4x?x128xf32>, tensor<?x4x128x128xf32>
  return %o, %s : tensor<?x4x?x128xf32>, tensor<?x4x128x128xf32>
}
//--- delta.mlir
func.func @main(%q: tensor<?x4x?x72xf32>, %k: tensor<?x4x?x72xf32>, %v: tensor<?x4x?x40xf32>, %b: tensor<?x4x?xf32>) -> (tensor<?x4x?x40xf32>, tensor<?x4x72x40xf32>) {
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%b : tensor<?x4x?xf32>) : tensor<?x4x?x72xf32>, tensor<?x4x?x72xf32>, tensor<?x4x?x40xf32> -> tensor<?x4x?x40xf32>, tensor<?x4x72x40xf32>
  return %o, %s : tensor<?x4x?x40xf32>, tensor<?x4x72x40xf32>
}
