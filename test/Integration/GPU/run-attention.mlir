// On a GPU: gated causal f16 attention with awkward head dims, built for
// sm_80 alone (mma.sync kernels) and for sm_80,sm_90a (the TMA + wgmma kernel
// on sm_90 devices), against the float64 reference.
// REQUIRES: cuda-gpu
// RUN: rm -rf %t && mkdir %t
// RUN: gatec %s --target=cuda --gpu-arch=sm_80 -o %t/libsm80.so
// RUN: %python %S/Inputs/run_attention.py %t/libsm80.so 72 40 | FileCheck %s
// RUN: gatec %s --target=cuda --gpu-arch=sm_80,sm_90a -o %t/libsm90a.so
// RUN: %python %S/Inputs/run_attention.py %t/libsm90a.so 72 40 | FileCheck %s
// CHECK: B=1 Sq=1 Skv=1 rel err
// CHECK: B=2 Sq=40 Skv=1100 rel err
// CHECK-NEXT: OK
func.func @main(%q: tensor<?x8x?x72xf16>, %k: tensor<?x2x?x72xf16>, %v: tensor<?x2x?x40xf16>, %g: tensor<?x8x?x40xf16>) -> tensor<?x8x?x40xf16> {
  %o = gate.sdpa %q, %k, %v gate(%g : tensor<?x8x?x40xf16>) {causal} : tensor<?x8x?x72xf16>, tensor<?x2x?x72xf16>, tensor<?x2x?x40xf16> -> tensor<?x8x?x40xf16>
  return %o : tensor<?x8x?x40xf16>
}
