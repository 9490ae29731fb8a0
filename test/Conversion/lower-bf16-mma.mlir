// RUN: gatec-opt %s --gate-lower-bf16-mma | FileCheck %s

// bf16 MMAs get explicit PTX types on packed registers; f16 ones are left
// to convert-nvgpu-to-nvvm.
// CHECK-LABEL: func.func @mma
// CHECK:         llvm.bitcast %{{.+}} : vector<2xbf16> to i32
// CHECK:         nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK:         nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>
func.func @mma(%a: vector<4x2xbf16>, %b: vector<2x2xbf16>, %c: vector<2x2xf32>,
               %ah: vector<4x2xf16>, %bh: vector<2x2xf16>) -> (vector<2x2xf32>, vector<2x2xf32>) {
  %0 = nvgpu.mma.sync(%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
  %1 = nvgpu.mma.sync(%ah, %bh, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
  return %0, %1 : vector<2x2xf32>, vector<2x2xf32>
}
