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
// Three kernels: split-KV decode, its combine step, the regular one.
// PTX:   .shared .align 16 .b8 gate_smem
// PTX:   .entry main_kernel(
// PTX:   .maxntid 128, 1, 1
// PTX:   .minnctapersm 1
// PTX:   bar.sync {{.*}}0;
// PTX:   ld.shared
// PTX:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-NOT: __nv_
// PTX:   shfl.sync.bfly.b32
// PTX:   .entry main_kernel_0(
// PTX:   .entry main_kernel_1(
// PTX:   mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// HEADER: const gatec_library *attn_library(void);
// HEADER: void attn_set_stream(void *stream);
func.func @main(%q: tensor<?x8x?x128xf16>, %k: tensor<?x2x?x128xf16>, %v: tensor<?x2x?x128xf16>, %g: tensor<?x8x?x128xf16>) -> tensor<?x8x?x128xf16> {
  %o = gate.sdpa %q, %k, %v gate(%g : tensor<?x8x?x128xf16>) {causal} : tensor<?x8x?x128xf16>, tensor<?x2x?x128xf16>, tensor<?x2x?x128xf16> -> tensor<?x8x?x128xf16>
  return %o : tensor<?x8x?x128xf16>
}
