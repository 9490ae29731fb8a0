// Option errors of the CUDA target name the option and exit 1.
// RUN: not gatec %s --target=cuda --gpu-arch=sm_70 --emit=ptx 2>&1 | FileCheck %s --check-prefix=ARCH
// RUN: not gatec %s --target=cuda --gpu-arch=sm_80,sm_90a --emit=ptx 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: not gatec %s --target=cuda --gpu-precision=fp8 --emit=ptx 2>&1 | FileCheck %s --check-prefix=PREC
// RUN: not gatec %s --target=cuda --gpu-precision=TF32 --emit=ptx 2>&1 | FileCheck %s --check-prefix=PREC-CASE
// RUN: gatec %s --target=cuda --gpu-precision=tf32 --emit=ptx -o %t.ptx
// RUN: gatec --help | FileCheck %s --check-prefix=HELP
// RUN: not gatec %s --emit=ptx 2>&1 | FileCheck %s --check-prefix=CPU
// RUN: not gatec %s --target=cuda --emit=obj -o %t.o 2>&1 | FileCheck %s --check-prefix=OBJ
// RUN: gatec %s --target=cuda --compile-to=gpu | FileCheck %s --check-prefix=GPU

// ARCH: gatec: error: unknown GPU architecture 'sm_70' (--gpu-arch; sm_80 or newer
// TWO: gatec: error: --emit=ptx writes one architecture; give one --gpu-arch
// PREC: gatec: error: unknown --gpu-precision 'fp8' (expected f32, bf16, f16 or tf32)
// PREC-CASE: gatec: error: unknown --gpu-precision 'TF32' (expected f32, bf16, f16 or tf32)
// HELP: --gpu-precision=<string> {{.*}} f32 (SIMT, default) | bf16 | f16 | tf32 (tensor cores)
// CPU: gatec: error: --emit=ptx needs --target=cuda
// OBJ: gatec: error: --emit=obj is for --target=cpu

// The device stage: kernels outlined into one module, device buffers,
// launches on the call's stream.
// GPU: func.func @main
// GPU: gpu.launch_func async {{.*}} @[[KM:[a-z_]+]]::
// GPU: gpu.module @[[KM]]
// GPU: gpu.func @{{.*}} kernel
func.func @main(%x: tensor<?x8xf16>, %g: tensor<?x8xf16>) -> tensor<?x8xf16> {
  %0 = gate.gate %x, %g : tensor<?x8xf16>, tensor<?x8xf16> -> tensor<?x8xf16>
  return %0 : tensor<?x8xf16>
}
