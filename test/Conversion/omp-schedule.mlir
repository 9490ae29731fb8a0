// RUN: gatec-opt %s -convert-scf-to-openmp -gate-omp-schedule | FileCheck %s

// Kernel tiles (bodies marked gate.tile_task by the gate lowerings) are handed
// out one at a time from an atomic counter on the caller's stack (a dynamic
// schedule without __kmpc_dispatch_next). The marker is consumed.

// CHECK-LABEL: func.func @tiles
// CHECK:         memref.alloca_scope {
// CHECK:           %[[CTR:.+]] = memref.alloca() : memref<i64>
// CHECK:           memref.store %{{.+}}, %[[CTR]][] : memref<i64>
// CHECK:           omp.parallel {
// CHECK:             scf.while
// CHECK:               %[[T:.+]] = memref.atomic_rmw addi %{{.+}}, %[[CTR]][] : (i64, memref<i64>) -> i64
// CHECK:               scf.condition
// CHECK:             } do {
// CHECK:               memref.store
// CHECK-NOT:     omp.wsloop
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

// Other loops keep the static schedule, run on the calling thread when trip
// count x body cost is small (the if clause), and share their iterations by
// hand: each thread a contiguous range, no __kmpc_for_static_init.
// CHECK-LABEL: func.func @elementwise
// CHECK:         %[[TRIPS:.+]] = arith.ceildivui
// CHECK:         %[[TOTAL:.+]] = arith.muli %{{.+}}, %[[TRIPS]] : index
// CHECK:         %[[WORK:.+]] = arith.muli %c4, %[[TOTAL]] : index
// CHECK:         %[[BIG:.+]] = arith.cmpi uge, %[[WORK]], %c32768 : index
// CHECK:         omp.parallel if(%[[BIG]]) {
// CHECK:           %[[TID:.+]] = func.call @omp_get_thread_num() : () -> i32
// CHECK:           %[[NTH:.+]] = func.call @omp_get_num_threads() : () -> i32
// CHECK:           %[[NTHI:.+]] = arith.index_cast %[[NTH]] : i32 to index
// CHECK:           %[[CHUNK:.+]] = arith.ceildivui %[[TOTAL]], %[[NTHI]] : index
// CHECK:           %[[BEGIN:.+]] = arith.minui %{{.+}}, %[[TOTAL]] : index
// CHECK:           %[[END:.+]] = arith.minui %{{.+}}, %[[TOTAL]] : index
// CHECK:           scf.for %[[L:.+]] = %[[BEGIN]] to %[[END]] step %{{.+}} {
// CHECK:             memref.store %{{.+}}, %{{.+}}[%{{.+}}] : memref<?xf32>
// CHECK:           omp.terminator
// CHECK-NOT:     omp.wsloop
func.func @elementwise(%n: index, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %cst, %buf[%i] : memref<?xf32>
  }
  return
}

// A loop with a reduction keeps its wsloop.
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

// Several dims: the thread's range is over the collapsed iterations, each
// split back into the loop's indices.
// CHECK-LABEL: func.func @two_dims
// CHECK:           scf.for %[[L:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:             %[[J:.+]] = arith.remui %[[L]], %{{.+}} : index
// CHECK:             %[[I:.+]] = arith.divui %[[L]], %{{.+}} : index
// CHECK:             memref.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] : memref<?x?xf32>
func.func @two_dims(%n: index, %m: index, %buf: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c1) to (%n, %m) step (%c1, %c2) {
    memref.store %cst, %buf[%i, %j] : memref<?x?xf32>
  }
  return
}
