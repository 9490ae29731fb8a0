// RUN: gatec-opt %s -split-input-file -gate-expand-bf16 | FileCheck %s

// f32 -> bf16 truncation becomes integer rounding (no __truncsfbf2 call).
// CHECK-LABEL: func.func @trunc
// CHECK-NOT:     arith.truncf
// CHECK:         arith.bitcast {{.*}} : vector<8xf32> to vector<8xi32>
// CHECK:         arith.trunci {{.*}} : vector<8xi32> to vector<8xi16>
// CHECK:         arith.bitcast {{.*}} : vector<8xi16> to vector<8xbf16>
func.func @trunc(%a: vector<8xf32>) -> vector<8xbf16> {
  %0 = arith.truncf %a : vector<8xf32> to vector<8xbf16>
  return %0 : vector<8xbf16>
}

// -----

// Arithmetic on bf16 is computed in f32 between expanded conversions.
// CHECK-LABEL: func.func @mul
// CHECK-NOT:     arith.mulf {{.*}} : bf16
// CHECK:         arith.mulf {{.*}} : f32
// CHECK-NOT:     arith.truncf
// CHECK:         arith.bitcast {{.*}} : i16 to bf16
func.func @mul(%a: bf16, %b: bf16) -> bf16 {
  %0 = arith.mulf %a, %b : bf16
  return %0 : bf16
}

// -----

// Masked bf16 loads and stores move i16 lanes.
// CHECK-LABEL: llvm.func @masked
// CHECK:         %[[L:.+]] = llvm.intr.masked.load %{{.*}}, %{{.*}}, %{{.*}} {alignment = 2 : i32} : (!llvm.ptr, vector<8xi1>, vector<8xi16>) -> vector<8xi16>
// CHECK:         llvm.intr.masked.store %[[L]], %{{.*}}, %{{.*}} {alignment = 2 : i32} : vector<8xi16>, vector<8xi1> into !llvm.ptr
llvm.func @masked(%p: !llvm.ptr, %m: vector<8xi1>, %pass: vector<8xbf16>) {
  %0 = llvm.intr.masked.load %p, %m, %pass {alignment = 2 : i32} : (!llvm.ptr, vector<8xi1>, vector<8xbf16>) -> vector<8xbf16>
  llvm.intr.masked.store %0, %p, %m {alignment = 2 : i32} : vector<8xbf16>, vector<8xi1> into !llvm.ptr
  llvm.return
}
