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
// trip count x body cost is small: as plain loops, outside OpenMP.
// CHECK-LABEL: func.func @elementwise
// CHECK:         %[[TRIPS:.+]] = arith.ceildivui
// CHECK:         %[[WORK:.+]] = arith.muli %{{.+}}, %[[TRIPS]] : index
// CHECK:         %[[BIG:.+]] = arith.cmpi uge, %[[WORK]], %c32768 : index
// CHECK:         scf.if %[[BIG]] {
// CHECK-NEXT:      omp.parallel {
// CHECK-NEXT:        omp.wsloop {
// CHECK:         } else {
// CHECK-NEXT:      scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK-NOT:       omp.
// CHECK:             memref.store %{{.+}}, %{{.+}}[%[[I]]] : memref<?xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    }
// CHECK-NEXT:    return
func.func @elementwise(%n: index, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %cst, %buf[%i] : memref<?xf32>
  }
  return
}

// A loop with a reduction keeps the region's if clause.
// CHECK-LABEL: func.func @sum
// CHECK:         omp.parallel if(%{{.+}})
// CHECK:         omp.wsloop reduction
func.func @sum(%n: index, %buf: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %s = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %x = memref.load %buf[%i] : memref<?xf32>
    scf.reduce(%x : f32) {
    ^bb0(%a: f32, %b: f32):
      %r = arith.addf %a, %b : f32
      scf.reduce.return %r : f32
    }
  }
  return %s : f32
}
