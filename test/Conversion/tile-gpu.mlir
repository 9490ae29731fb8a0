// RUN: gatec-opt %s --gate-tile-gpu --split-input-file | FileCheck %s
// RUN: gatec-opt %s --gate-tile-gpu=precision=bf16 --split-input-file | FileCheck %s --check-prefix=BF16
// RUN: gatec-opt %s --gate-tile-gpu=precision=tf32 --split-input-file | FileCheck %s --check-prefix=TF32
// RUN: not gatec-opt %s --gate-tile-gpu=precision=fp8 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: gate-tile-gpu: unknown precision 'fp8' (expected f32, bf16, f16 or tf32)

// 16-bit attention: one launch, 4 warps per 64 query rows, K/V staged in
// two-stage workgroup buffers, QKᵀ and P·V on tensor cores, quad shuffles
// for the softmax, one barrier per key block.
// CHECK-DAG:   memref.global "private" @[[KS:gate_smem]] : memref<{{[0-9]+}}xf16, #gpu.address_space<workgroup>>
// CHECK-DAG:   memref.global "private" @[[VS:gate_smem_0]] : memref<{{[0-9]+}}xf16, #gpu.address_space<workgroup>>
// CHECK-LABEL: func.func @sdpa_f16
// CHECK:         gpu.launch blocks({{.*}}) threads({{.*}}) in (%{{.*}} = %c128
// CHECK:           memref.get_global @[[KS]]
// CHECK:           scf.for
// CHECK:             func.call @gate_gpu_deferred_{{[0-9_]*}}() {gate.deferred_op = "gpu.barrier"}
// CHECK:             nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:             gpu.shuffle  xor
// CHECK:             math.exp
// CHECK:           gpu.terminator
// CHECK-NOT:     gate.sdpa
func.func @sdpa_f16(%q: tensor<1x4x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x64xf16>, %g: tensor<1x4x?x64xf16>) -> tensor<1x4x?x64xf16> {
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<1x4x?x64xf16>) {causal} : tensor<1x4x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16> -> tensor<1x4x?x64xf16>
  return %0 : tensor<1x4x?x64xf16>
}

// -----

// f32 attention runs on SIMT cores (a parallel loop, one thread per query
// row) unless an MMA precision is asked for: bf16 / f16 convert the operands,
// tf32 stages K and V as f32, rounds the operands to tf32 (a marker call
// until buffers are final) and takes m16n8k8 steps.
// CHECK-LABEL: func.func @sdpa_f32
// CHECK-NOT:     gpu.launch
// CHECK:         scf.parallel
// CHECK:           memref.alloca() : memref<32xf32>
// BF16-LABEL:  func.func @sdpa_f32
// BF16:          gpu.launch
// BF16:            arith.truncf {{.*}} : f32 to bf16
// BF16:            nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// TF32-DAG:    memref.global "private" @[[KS:gate_smem]] : memref<3584xf32, #gpu.address_space<workgroup>>
// TF32-LABEL:  func.func @sdpa_f32
// TF32:          gpu.launch
// TF32:            func.call @gate_gpu_deferred_{{.*}}gate.deferred_op = "nvvm.convert.float.to.tf32"{{.*}}rnd = #nvvm.fp_rnd_mode<rna>{{.*}} : (f32) -> i32
// TF32:            memref.get_global @[[KS]]
// TF32:            nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
// TF32-NOT:        mmaShape = [16, 8, 16]
// TF32:          gpu.terminator
func.func @sdpa_f32(%q: tensor<2x4x5x24xf32>, %k: tensor<2x4x7x24xf32>, %v: tensor<2x4x7x32xf32>) -> tensor<2x4x5x32xf32> {
  %0 = gate.sdpa %q, %k, %v : tensor<2x4x5x24xf32>, tensor<2x4x7x24xf32>, tensor<2x4x7x32xf32> -> tensor<2x4x5x32xf32>
  return %0 : tensor<2x4x5x32xf32>
}

// -----

// Chunked linear attention on tensor cores: the f32 state slab and the
// chunk's operands in workgroup memory, the forward substitution of the
// delta rule in f32.
// CHECK-LABEL: func.func @gated_delta_bf16
// CHECK:         gpu.launch
// CHECK:           scf.for
// CHECK:             nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:           gpu.terminator
// CHECK-NOT:     gate.linear_attention
func.func @gated_delta_bf16(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x4x?x64xbf16>, %d: tensor<1x4x?xbf16>, %b: tensor<1x4x?xbf16>) -> (tensor<1x4x?x64xbf16>, tensor<1x4x64x64xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<1x4x?xbf16>) beta(%b : tensor<1x4x?xbf16>) : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x4x?x64xbf16> -> tensor<1x4x?x64xbf16>, tensor<1x4x64x64xf32>
  return %o, %s : tensor<1x4x?x64xbf16>, tensor<1x4x64x64xf32>
}

// -----

// f32 linear attention: the reference recurrence, parallel over heads; with
// precision=tf32 the chunked kernel on m16n8k8 tf32 MMAs.
// CHECK-LABEL: func.func @gated_f32
// CHECK-NOT:     gpu.launch
// CHECK:         scf.parallel
// TF32-LABEL:  func.func @gated_f32
// TF32:          gpu.launch
// TF32:            nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
// TF32:          gpu.terminator
// TF32-NOT:      gate.linear_attention
func.func @gated_f32(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>, %d: tensor<1x2x8xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<1x2x8xf32>) : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Heads too wide for 48 KiB of static shared memory run on SIMT cores.
// CHECK-LABEL: func.func @sdpa_wide
// CHECK-NOT:     nvgpu.mma.sync
// CHECK:         scf.parallel
func.func @sdpa_wide(%q: tensor<1x2x?x768xf16>, %k: tensor<1x2x?x768xf16>, %v: tensor<1x2x?x64xf16>) -> tensor<1x2x?x64xf16> {
  %0 = gate.sdpa %q, %k, %v : tensor<1x2x?x768xf16>, tensor<1x2x?x768xf16>, tensor<1x2x?x64xf16> -> tensor<1x2x?x64xf16>
  return %0 : tensor<1x2x?x64xf16>
}

// -----

// tf32 heads whose Q fragments (D/2 registers per lane) leave no room for
// the accumulators run on SIMT cores; at D = 384 the output columns are split
// over blocks of 48.
// TF32-LABEL: func.func @sdpa_tf32_wide
// TF32-NOT:     nvgpu.mma.sync
// TF32:         scf.parallel
// TF32-LABEL: func.func @sdpa_tf32_split
// TF32:         gpu.launch blocks({{.*}}) in (%{{.*}} = %{{.*}}, %{{.*}} = %c4
// TF32:           arith.muli %{{.*}}, %c48 : index
// TF32:           nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled}
func.func @sdpa_tf32_wide(%q: tensor<1x2x?x512xf32>, %k: tensor<1x2x?x512xf32>, %v: tensor<1x2x?x64xf32>) -> tensor<1x2x?x64xf32> {
  %0 = gate.sdpa %q, %k, %v : tensor<1x2x?x512xf32>, tensor<1x2x?x512xf32>, tensor<1x2x?x64xf32> -> tensor<1x2x?x64xf32>
  return %0 : tensor<1x2x?x64xf32>
}
func.func @sdpa_tf32_split(%q: tensor<1x4x?x384xf32>, %k: tensor<1x4x?x384xf32>, %v: tensor<1x4x?x384xf32>) -> tensor<1x4x?x384xf32> {
  %0 = gate.sdpa %q, %k, %v : tensor<1x4x?x384xf32>, tensor<1x4x?x384xf32>, tensor<1x4x?x384xf32> -> tensor<1x4x?x384xf32>
  return %0 : tensor<1x4x?x384xf32>
}
