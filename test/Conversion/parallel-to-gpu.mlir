// RUN: gatec-opt %s --gate-parallel-to-gpu=block-size=128 | FileCheck %s

// A 2-D parallel loop becomes one launch over its flattened iteration space:
// thread b·128 + t runs iteration (i, j) = divmod(b·128 + t, n), and the
// nested parallel loop runs serially in the thread.
// CHECK-LABEL: func.func @rows
// CHECK:         %[[TOTAL:.+]] = arith.muli
// CHECK:         %[[GRID:.+]] = arith.ceildivui %[[TOTAL]], %c128
// CHECK:         gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[GRID]], {{.*}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c128
// CHECK:           %[[BASE:.+]] = arith.muli %[[BX]], %c128
// CHECK:           %[[FLAT:.+]] = arith.addi %[[BASE]], %[[TX]]
// CHECK:           %[[LIVE:.+]] = arith.cmpi ult, %[[FLAT]], %[[TOTAL]]
// CHECK:           scf.if %[[LIVE]]
// CHECK:             arith.remui %[[FLAT]]
// CHECK:             arith.divui %[[FLAT]]
// CHECK:             scf.for
// CHECK:               memref.store
// CHECK:           gpu.terminator
// CHECK-NOT:     scf.parallel
func.func @rows(%a: memref<?x?xf32>, %n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %m) step (%c1, %c1) {
    scf.parallel (%k) = (%c0) to (%m) step (%c1) {
      memref.store %f, %a[%i, %k] : memref<?x?xf32>
    }
  }
  return
}
