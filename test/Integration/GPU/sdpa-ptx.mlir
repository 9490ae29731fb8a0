// PTX for the tensor-core attention kernel, for sm_80 (mma.sync) and sm_90a.
// RUN: gatec %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.sm80.ptx
// RUN: FileCheck %s --check-prefixes=PTX,SM80 < %t.sm80.ptx
// RUN: gatec %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t.sm90a.ptx
// RUN: FileCheck %s --check-prefixes=PTX,SM90A < %t.sm90a.ptx
// A library for both (fatbin when ptxas is there, else PTX) and its header.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: gatec %s --target=cuda --gpu-arch=sm_80,sm_90a -o %t.d/libattn.so
// RUN: FileCheck %s --check-prefix=HEADER < %t.d/attn.h

// SM80:  .target sm_80
// SM90A: .target sm_90a
// PTX:   .shared .align 16 .b8 gate_smem
// SM80-NOT: wgmma
// On sm_90a, first the Hopper kernel: TMA into (dynamic) shared memory,
// mbarriers, QKᵀ and P·V (V N-major: imm-trans-b 1) as wgmma.
// SM90A: .entry main_kernel(
// SM90A: .maxntid 128, 1, 1
// SM90A: mbarrier.init.shared.b64
// SM90A: fence.mbarrier_init.release.cluster
// SM90A: fence.proxy.tensormap::generic.acquire.sys
// SM90A: mbarrier.arrive.expect_tx.shared.b64
// SM90A: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// SM90A: mbarrier.try_wait.parity.shared.b64
// SM90A: wgmma.fence.sync.aligned
// SM90A: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.*}}, 1, 1, 0, 0;
// SM90A: wgmma.commit_group.sync.aligned
// SM90A: wgmma.wait_group.sync.aligned 0
// SM90A: shfl.sync.bfly.b32
// SM90A: fence.proxy.async.shared::cta
// SM90A: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {{.*}}, 1, 1, 0, 1;
// Then the portable kernels: split-KV decode, its combine step, the
// regular one.
// SM80:  .entry main_kernel(
// SM90A: .entry main_kernel_0(
// PTX:   .maxntid 128, 1, 1
// PTX:   .minnctapersm 1
// PTX:   bar.sync {{.*}}0;
// PTX:   ld.shared
// PTX:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-NOT: __nv_
// PTX:   shfl.sync.bfly.b32
// SM80:  .entry main_kernel_0(
// SM80:  .entry main_kernel_1(
// SM90A: .entry main_kernel_1(
// SM90A: .entry main_kernel_2(
// PTX:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// With sm_80 and sm_90a, the sm_90a kernel has a module of its own, compiled
// for sm_90a only; the other kernels are compiled for both.
// RUN: gatec %s --target=cuda --gpu-arch=sm_80,sm_90a --emit=mlir -o %t.both.mlir
// RUN: grep -o 'gpu.binary @[a-z_0-9]*\|chip = "sm_[0-9a]*"' %t.both.mlir | FileCheck %s --check-prefix=SPLIT
// SPLIT:      gpu.binary @gatec_kernels_sm90a
// SPLIT-NEXT: chip = "sm_90a"
// SPLIT-NEXT: gpu.binary @gatec_kernels
// SPLIT-NEXT: chip = "sm_80"
// SPLIT-NEXT: chip = "sm_90a"
// SPLIT-NOT:  chip
// HEADER: const gatec_library *attn_library(void);
// HEADER: void attn_set_stream(void *stream);
func.func @main(%q: tensor<?x8x?x128xf16>, %k: tensor<?x2x?x128xf16>, %v: tensor<?x2x?x128xf16>, %g: tensor<?x8x?x128xf16>) -> tensor<?x8x?x128xf16> {
  %o = gate.sdpa %q, %k, %v gate(%g : tensor<?x8x?x128xf16>) {causal} : tensor<?x8x?x128xf16>, tensor<?x2x?x128xf16>, tensor<?x2x?x128xf16> -> tensor<?x8x?x128xf16>
  return %o : tensor<?x8x?x128xf16>
}
