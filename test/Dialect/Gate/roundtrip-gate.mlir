// RUN: gatec-opt %s | gatec-opt | FileCheck %s
// RUN: gatec-opt %s --mlir-print-op-generic | gatec-opt | FileCheck %s

// CHECK-LABEL: func.func @gate_sigmoid
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x4x16x64xf32>, %[[G:[a-z0-9]+]]: tensor<2x4x16x64xf32>)
// CHECK:         %[[R:[a-z0-9]+]] = gate.gate %[[X]], %[[G]] : tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32> -> tensor<2x4x16x64xf32>
// CHECK-NEXT:    return %[[R]]
func.func @gate_sigmoid(%x: tensor<2x4x16x64xf32>, %g: tensor<2x4x16x64xf32>) -> tensor<2x4x16x64xf32> {
  %0 = gate.gate %x, %g : tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32> -> tensor<2x4x16x64xf32>
  return %0 : tensor<2x4x16x64xf32>
}

// An explicit default activation is elided when printed.
// CHECK-LABEL: func.func @gate_explicit_sigmoid
// CHECK:         gate.gate %{{.*}}, %{{.*}} : tensor<8x32xf32>, tensor<8x32xf32> -> tensor<8x32xf32>
func.func @gate_explicit_sigmoid(%x: tensor<8x32xf32>, %g: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %0 = gate.gate %x, %g {act = #gate<act sigmoid>} : tensor<8x32xf32>, tensor<8x32xf32> -> tensor<8x32xf32>
  return %0 : tensor<8x32xf32>
}

// CHECK-LABEL: func.func @gate_silu
// CHECK:         gate.gate %{{.*}}, %{{.*}} {act = #gate<act silu>} : tensor<8x32xbf16>, tensor<8x32xbf16> -> tensor<8x32xbf16>
func.func @gate_silu(%x: tensor<8x32xbf16>, %g: tensor<8x32xbf16>) -> tensor<8x32xbf16> {
  %0 = gate.gate %x, %g {act = #gate<act silu>} : tensor<8x32xbf16>, tensor<8x32xbf16> -> tensor<8x32xbf16>
  return %0 : tensor<8x32xbf16>
}

// One gate per row: the last gate dimension is 1.
// CHECK-LABEL: func.func @gate_headwise
// CHECK:         gate.gate %{{.*}}, %{{.*}} {act = #gate<act silu>} : tensor<2x4x16x64xf16>, tensor<2x4x16x1xf16> -> tensor<2x4x16x64xf16>
func.func @gate_headwise(%x: tensor<2x4x16x64xf16>, %g: tensor<2x4x16x1xf16>) -> tensor<2x4x16x64xf16> {
  %0 = gate.gate %x, %g {act = #gate<act silu>} : tensor<2x4x16x64xf16>, tensor<2x4x16x1xf16> -> tensor<2x4x16x64xf16>
  return %0 : tensor<2x4x16x64xf16>
}

// Dynamic dimensions agree with anything; rank 1 and rank 3 are fine.
// CHECK-LABEL: func.func @gate_dynamic
// CHECK:         gate.gate %{{.*}}, %{{.*}} : tensor<?x?x128xf32>, tensor<?x7x?xf32> -> tensor<?x?x128xf32>
// CHECK:         gate.gate %{{.*}}, %{{.*}} : tensor<5xf32>, tensor<1xf32> -> tensor<5xf32>
func.func @gate_dynamic(%x: tensor<?x?x128xf32>, %g: tensor<?x7x?xf32>, %a: tensor<5xf32>, %b: tensor<1xf32>) -> (tensor<?x?x128xf32>, tensor<5xf32>) {
  %0 = gate.gate %x, %g : tensor<?x?x128xf32>, tensor<?x7x?xf32> -> tensor<?x?x128xf32>
  %1 = gate.gate %a, %b : tensor<5xf32>, tensor<1xf32> -> tensor<5xf32>
  return %0, %1 : tensor<?x?x128xf32>, tensor<5xf32>
}
