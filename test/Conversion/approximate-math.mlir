// RUN: gatec-opt %s -gate-approximate-math -split-input-file | FileCheck %s
// RUN: gatec-opt %s -split-input-file -gate-approximate-math="pow-only" -canonicalize | FileCheck %s --check-prefix=POW


// exp becomes the polynomial form: range reduction with floor, a polynomial
// in fma, and 2^n built in the exponent bits.
// CHECK-LABEL: func.func @exp_f32
// CHECK-NOT:     math.exp
// CHECK:         math.floor
// CHECK:         math.fma
// CHECK:         arith.shli
// CHECK:         arith.bitcast %{{.+}} : i32 to f32
// CHECK-NOT:     math.exp
// CHECK:         return
func.func @exp_f32(%x: f32) -> f32 {
  %0 = math.exp %x : f32
  return %0 : f32
}

// -----

// CHECK-LABEL: func.func @exp_vector
// CHECK-NOT:     math.exp
// CHECK:         math.fma %{{.+}} : vector<16xf32>
// CHECK:         arith.bitcast %{{.+}} : vector<16xi32> to vector<16xf32>
// CHECK-NOT:     math.exp
// CHECK:         return
func.func @exp_vector(%x: vector<16xf32>) -> vector<16xf32> {
  %0 = math.exp %x : vector<16xf32>
  return %0 : vector<16xf32>
}

// -----

// f16 goes through f32.
// CHECK-LABEL: func.func @exp_f16
// CHECK:         arith.extf %{{.+}} : vector<8xf16> to vector<8xf32>
// CHECK-NOT:     math.exp
// CHECK:         arith.truncf %{{.+}} : vector<8xf32> to vector<8xf16>
// CHECK:         return
func.func @exp_f16(%x: vector<8xf16>) -> vector<8xf16> {
  %0 = math.exp %x : vector<8xf16>
  return %0 : vector<8xf16>
}

// -----

// CHECK-LABEL: func.func @tanh_erf_log
// CHECK-NOT:     math.tanh
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.log
// CHECK-NOT:     math.expm1
// CHECK:         return
func.func @tanh_erf_log(%x: vector<8xf32>) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
  %0 = math.tanh %x : vector<8xf32>
  %1 = math.erf %x : vector<8xf32>
  %2 = math.log %x : vector<8xf32>
  %3 = math.log1p %x : vector<8xf32>
  %4 = math.expm1 %x : vector<8xf32>
  return %0, %1, %2, %3, %4 : vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>
}

// -----

// Ops outside the list and f64 (no f32 approximation) are left alone.
// CHECK-LABEL: func.func @untouched
// CHECK:         math.sin %{{.+}} : f32
// CHECK:         math.exp %{{.+}} : f64
// CHECK:         return
func.func @untouched(%x: f32, %d: f64) -> (f32, f64) {
  %0 = math.sin %x : f32
  %1 = math.exp %d : f64
  return %0, %1 : f32, f64
}

// -----

// Pow by a small constant: multiplies / sqrt, no libm call.
// CHECK-LABEL: func.func @pow_small
// CHECK-NOT:     math.powf
// CHECK:         arith.mulf
// CHECK:         math.sqrt
func.func @pow_small(%x: f32) -> (f32, f32) {
  %c2 = arith.constant 2.0 : f32
  %h = arith.constant 0.5 : f32
  %a = math.powf %x, %c2 : f32
  %b = math.powf %x, %h : f32
  return %a, %b : f32, f32
}

// -----

// Pow(x, 2) of a dynamic shape: the importer broadcasts the exponent with
// tensor.splat; with pow-only (early in the CPU pipeline, on tensors) it is
// still x·x, not a libm powf per element.
// POW-LABEL: func.func @pow_splat
// POW:         %[[R:.+]] = arith.mulf %arg0, %arg0 : tensor<?x16xf32>
// POW-NOT:     math.powf
// POW:         return %[[R]]
func.func @pow_splat(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x16xf32>
  %two = arith.constant 2.0 : f32
  %e = tensor.splat %two[%n] : tensor<?x16xf32>
  %r = math.powf %x, %e : tensor<?x16xf32>
  return %r : tensor<?x16xf32>
}
