// RUN: gatec-opt %s --gatec-cpu-pipeline | FileCheck %s --check-prefixes=CHECK,PAR
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | FileCheck %s --check-prefixes=CHECK,SERIAL
// RUN: gatec-opt %s '--gatec-cpu-pipeline=parallel=false' | FileCheck %s --check-prefixes=CHECK,SERIAL
// RUN: gatec-opt %s '--gatec-cpu-pipeline=vector-width=8' | FileCheck %s --check-prefixes=CHECK,PAR
// RUN: gatec-opt %s --gatec-cpu-pipeline | FileCheck %s --check-prefix=NOUP
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | FileCheck %s --check-prefix=NOUP
// RUN: gatec-opt %s --gatec-cpu-pipeline | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefixes=LLVMIR,LLVMIR-PAR
// RUN: gatec-opt %s '--gatec-cpu-pipeline=kernels=reference' | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR
// REQUIRES: mlir-translate

// The whole CPU pipeline takes every gate op, with the ops around it, from
// the gate level to the LLVM dialect (plus omp, which LLVM IR translation
// handles), fast or reference kernels, parallel or serial.

// Nothing but llvm and omp ops is left.
// NOUP-NOT: {{ (gate|func|arith|math|memref|scf|cf|vector|tensor|bufferization|linalg|affine|index|builtin)\.[a-z_]+}}

// PAR:          llvm.mlir.global external @gatec_num_threads()
// SERIAL-NOT:   gatec_num_threads
// CHECK-DAG:    llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG:    llvm.func @free(!llvm.ptr)

// CHECK-LABEL:  llvm.func @sdpa(
// PAR:            omp.parallel {{(if\(.*\) )?}}num_threads(
// SERIAL-NOT:     omp.parallel
// CHECK:          llvm.call @malloc
// CHECK:          llvm.intr.fma
// CHECK:          llvm.return
func.func @sdpa(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %m: tensor<1x1x8x8xi1>, %g: tensor<1x4x8x1xf32>) -> tensor<1x4x8x16xf32> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x8x8xi1>) gate(%g : tensor<1x4x8x1xf32>) {causal, softcap = 30.0 : f32} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// An exported gated-attention block: the sigmoid gate written with arith/math
// is raised and fused on the way.
// CHECK-LABEL:  llvm.func @sdpa_exported_gate(
// PAR:            omp.parallel {{(if\(.*\) )?}}num_threads(
// SERIAL-NOT:     omp.parallel
// CHECK:          llvm.return
func.func @sdpa_exported_gate(%q: tensor<1x2x8x16xf32>, %g: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %a = gate.sdpa %q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  %one = arith.constant dense<1.0> : tensor<1x2x8x16xf32>
  %n = arith.negf %g : tensor<1x2x8x16xf32>
  %e = math.exp %n : tensor<1x2x8x16xf32>
  %d = arith.addf %one, %e : tensor<1x2x8x16xf32>
  %s = arith.divf %one, %d : tensor<1x2x8x16xf32>
  %r = arith.mulf %a, %s : tensor<1x2x8x16xf32>
  return %r : tensor<1x2x8x16xf32>
}

// CHECK-LABEL:  llvm.func @gate(
// PAR:            omp.parallel {{(if\(.*\) )?}}num_threads(
// SERIAL-NOT:     omp.parallel
// CHECK:          llvm.fpext %{{.+}} : f16 to f32
// CHECK:          llvm.fptrunc %{{.+}} : f32 to f16
// CHECK:          llvm.return
func.func @gate(%x: tensor<?x64xf16>, %g: tensor<?x64xf16>) -> tensor<?x64xf16> {
  %0 = gate.gate %x, %g {act = #gate<act silu>} : tensor<?x64xf16>, tensor<?x64xf16> -> tensor<?x64xf16>
  return %0 : tensor<?x64xf16>
}

// CHECK-LABEL:  llvm.func @linear_attention(
// PAR:            omp.parallel {{(if\(.*\) )?}}num_threads(
// SERIAL-NOT:     omp.parallel
// CHECK:          llvm.intr.fma
// CHECK:          llvm.return
func.func @linear_attention(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x4x?x32xf32>, %d: tensor<1x4x?xf32>, %b: tensor<1x4x?xf32>, %s0: tensor<1x4x16x32xf32>) -> (tensor<1x4x?x32xf32>, tensor<1x4x16x32xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<1x4x?xf32>) beta(%b : tensor<1x4x?xf32>) initial_state(%s0 : tensor<1x4x16x32xf32>) : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x4x?x32xf32> -> tensor<1x4x?x32xf32>, tensor<1x4x16x32xf32>
  return %o, %s : tensor<1x4x?x32xf32>, tensor<1x4x16x32xf32>
}

// CHECK-LABEL:  llvm.func @linear_attention_gqa_channel(
// CHECK:          llvm.return
func.func @linear_attention_gqa_channel(%q: tensor<2x8x5x8xf32>, %k: tensor<2x2x5x8xf32>, %v: tensor<2x2x5x8xf32>, %d: tensor<2x2x5x8xf32>) -> (tensor<2x8x5x8xf32>, tensor<2x2x8x8xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<2x2x5x8xf32>) : tensor<2x8x5x8xf32>, tensor<2x2x5x8xf32>, tensor<2x2x5x8xf32> -> tensor<2x8x5x8xf32>, tensor<2x2x8x8xf32>
  return %o, %s : tensor<2x8x5x8xf32>, tensor<2x2x8x8xf32>
}

// CHECK-LABEL:  llvm.func @causal_conv(
// PAR:            omp.parallel {{(if\(.*\) )?}}num_threads(
// SERIAL-NOT:     omp.parallel
// bf16 moves as i16 (no bfloat value that LLVM could legalize through
// __truncsfbf2 below x86-64-v4).
// CHECK:          llvm.load %{{.+}} : !llvm.ptr -> i16
// CHECK:          llvm.return
func.func @causal_conv(%x: tensor<2x64x9xbf16>, %w: tensor<64x4xbf16>, %b: tensor<64xbf16>, %s0: tensor<2x64x3xbf16>) -> (tensor<2x64x9xbf16>, tensor<2x64x3xbf16>) {
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<64xbf16>) initial_state(%s0 : tensor<2x64x3xbf16>) {activation = #gate<conv_act silu>} : tensor<2x64x9xbf16>, tensor<64x4xbf16> -> tensor<2x64x9xbf16>, tensor<2x64x3xbf16>
  return %o, %s : tensor<2x64x9xbf16>, tensor<2x64x3xbf16>
}

// LLVMIR-DAG:     define {{.*}} @sdpa(
// LLVMIR-DAG:     define {{.*}} @sdpa_exported_gate(
// LLVMIR-DAG:     define {{.*}} @gate(
// LLVMIR-DAG:     define {{.*}} @linear_attention(
// LLVMIR-DAG:     define {{.*}} @linear_attention_gqa_channel(
// LLVMIR-DAG:     define {{.*}} @causal_conv(
// LLVMIR-PAR-DAG: load atomic i32, ptr @gatec_num_threads monotonic
// LLVMIR-PAR-DAG: call void @__kmpc_push_num_threads(
// LLVMIR-PAR-DAG: call void {{.*}} @__kmpc_fork_call(
