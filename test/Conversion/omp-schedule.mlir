// RUN: gatec-opt %s -convert-scf-to-openmp -gate-omp-schedule | FileCheck %s

// Kernel tiles (bodies marked gate.tile_task by the gate lowerings) are handed
// out dynamically; other parallel loops keep the static schedule. The marker
// is consumed.

// CHECK-LABEL: func.func @tiles
// CHECK:         omp.wsloop schedule(dynamic)
// CHECK-NOT:     gate.tile_task
func.func @tiles(%n: index, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %cst, %buf[%i] {gate.tile_task} : memref<?xf32>
  }
  return
}

// Other loops keep the static schedule, and run on the calling thread when
// trip count x body cost is small (the if clause).
// CHECK-LABEL: func.func @elementwise
// CHECK:         %[[TRIPS:.+]] = arith.ceildivui
// CHECK:         %[[WORK:.+]] = arith.muli %{{.+}}, %[[TRIPS]] : index
// CHECK:         %[[BIG:.+]] = arith.cmpi uge, %[[WORK]], %c32768 : index
// CHECK:         omp.parallel if(%[[BIG]])
// CHECK:         omp.wsloop {
func.func @elementwise(%n: index, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %cst, %buf[%i] : memref<?xf32>
  }
  return
}
