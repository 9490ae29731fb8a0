// RUN: gatec-opt %s -split-input-file -gate-vectorizable-loops="reassociate=true" | FileCheck %s
// RUN: gatec-opt %s -split-input-file -gate-vectorizable-loops | FileCheck %s --check-prefix=EXACT

// An elementwise loop over [T, 1024]: the rows stay parallel, each row is a
// unit-stride scf.for (what LLVM vectorizes) with the same body.
// CHECK-LABEL: func.func @rows
// CHECK:         scf.parallel (%[[I:.+]]) = (%c0) to (%[[T:.+]]) step (%c1) {
// CHECK-NEXT:      scf.for %[[J:.+]] = %c0 to %c1024 step %c1 {
// CHECK-NEXT:        %[[X:.+]] = memref.load %arg0[%[[I]], %[[J]]]
// CHECK-NEXT:        %[[Y:.+]] = arith.mulf %[[X]], %[[X]]
// CHECK-NEXT:        memref.store %[[Y]], %arg1[%[[I]], %[[J]]]
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.reduce
func.func @rows(%in: memref<?x1024xf32>, %out: memref<?x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1024 = arith.constant 1024 : index
  %t = memref.dim %in, %c0 : memref<?x1024xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%t, %c1024) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<?x1024xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %out[%i, %j] : memref<?x1024xf32>
    scf.reduce
  }
  return
}

// -----

// Three dims: the first two stay parallel.
// CHECK-LABEL: func.func @transpose
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%c8, %{{.+}}) step (%c1, %c1) {
// CHECK-NEXT:      scf.for %{{.+}} = %c0 to %c128 step %c1 {
func.func @transpose(%in: memref<?x8x128xf32>, %out: memref<8x?x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c128 = arith.constant 128 : index
  %t = memref.dim %in, %c0 : memref<?x8x128xf32>
  scf.parallel (%h, %i, %d) = (%c0, %c0, %c0) to (%c8, %t, %c128) step (%c1, %c1, %c1) {
    %x = memref.load %in[%i, %h, %d] : memref<?x8x128xf32>
    memref.store %x, %out[%h, %i, %d] : memref<8x?x128xf32>
    scf.reduce
  }
  return
}

// -----

// Left alone: too few static outer iterations to share among threads, an
// inner dim of one, a one-dim loop, and a loop with a reduction.
// CHECK-LABEL: func.func @unchanged
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%c4, %c4096)
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c1)
// CHECK:         scf.parallel (%{{.+}}) = (%c0) to (%c4096)
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c4096) {{.*}} init
// CHECK-NOT:     scf.for
func.func @unchanged(%in: memref<?x4096xf32>, %small: memref<4x4096xf32>, %col: memref<?x1xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c4096 = arith.constant 4096 : index
  %zero = arith.constant 0.0 : f32
  %t = memref.dim %in, %c0 : memref<?x4096xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4096) step (%c1, %c1) {
    %x = memref.load %small[%i, %j] : memref<4x4096xf32>
    %y = arith.addf %x, %x : f32
    memref.store %y, %small[%i, %j] : memref<4x4096xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%t, %c1) step (%c1, %c1) {
    %x = memref.load %col[%i, %j] : memref<?x1xf32>
    %y = arith.addf %x, %x : f32
    memref.store %y, %col[%i, %j] : memref<?x1xf32>
    scf.reduce
  }
  scf.parallel (%j) = (%c0) to (%c4096) step (%c1) {
    %x = memref.load %small[%c0, %j] : memref<4x4096xf32>
    memref.store %x, %small[%c1, %j] : memref<4x4096xf32>
    scf.reduce
  }
  %s = scf.parallel (%i, %j) = (%c0, %c0) to (%t, %c4096) step (%c1, %c1) init (%zero) -> f32 {
    %x = memref.load %in[%i, %j] : memref<?x4096xf32>
    scf.reduce(%x : f32) {
    ^bb0(%a: f32, %b: f32):
      %r = arith.addf %a, %b : f32
      scf.reduce.return %r : f32
    }
  }
  return %s : f32
}

// -----

// A kernel's task loop (marked gate.tile_task) keeps its own structure.
// CHECK-LABEL: func.func @tile_task
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c64)
// CHECK-NOT:     scf.for
func.func @tile_task(%in: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %t = memref.dim %in, %c0 : memref<?x64xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%t, %c64) step (%c1, %c1) {
    %s = memref.alloc() {gate.tile_task} : memref<16xf32>
    %x = memref.load %in[%i, %j] : memref<?x64xf32>
    memref.store %x, %s[%c0] : memref<16xf32>
    memref.dealloc %s : memref<16xf32>
    scf.reduce
  }
  return
}

// -----

// A reduction's loop (linalg's `acc[i] += x[i, k]²`) carries the accumulator
// in a register: loaded before the loop, stored after it, both only when the
// loop runs; with reassociate, the accumulating add may be reordered.
// CHECK-LABEL: func.func @sum_of_squares
// CHECK:         scf.parallel (%[[I:.+]]) =
// CHECK-NEXT:      %[[RUNS:.+]] = arith.cmpi slt, %c0, %[[K:.+]] : index
// CHECK-NEXT:      scf.if %[[RUNS]] {
// CHECK-NEXT:        %[[INIT:.+]] = memref.load %arg1[%[[I]]]
// CHECK-NEXT:        %[[SUM:.+]] = scf.for %[[J:.+]] = %c0 to %[[K]] step %c1 iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32) {
// CHECK-NEXT:          %[[X:.+]] = memref.load %arg0[%[[I]], %[[J]]]
// CHECK-NEXT:          %[[SQ:.+]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK-NEXT:          %[[NEW:.+]] = arith.addf %[[ACC]], %[[SQ]] fastmath<reassoc> : f32
// CHECK-NEXT:          scf.yield %[[NEW]] : f32
// CHECK-NEXT:        }
// CHECK-NEXT:        memref.store %[[SUM]], %arg1[%[[I]]]
// EXACT-LABEL: func.func @sum_of_squares
// EXACT:         arith.addf %{{.+}}, %{{.+}} : f32
func.func @sum_of_squares(%in: memref<?x?xf32>, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %t = memref.dim %in, %c0 : memref<?x?xf32>
  %k = memref.dim %in, %c1 : memref<?x?xf32>
  scf.parallel (%i) = (%c0) to (%t) step (%c1) {
    scf.for %j = %c0 to %k step %c1 {
      %x = memref.load %in[%i, %j] : memref<?x?xf32>
      %a = memref.load %out[%i] : memref<?xf32>
      %sq = arith.mulf %x, %x : f32
      %s = arith.addf %a, %sq : f32
      memref.store %s, %out[%i] : memref<?xf32>
    }
    scf.reduce
  }
  return
}

// -----

// Not an accumulator: the element moves with the loop, a second store, a
// second read of the buffer at another element, the read after the store.
// CHECK-LABEL: func.func @not_accumulators
// CHECK-NOT:     iter_args
func.func @not_accumulators(%in: memref<?xf32>, %out: memref<?xf32>, %other: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = memref.dim %in, %c0 : memref<?xf32>
  scf.for %j = %c0 to %n step %c1 {
    %a = memref.load %out[%j] : memref<?xf32>
    %s = arith.addf %a, %a : f32
    memref.store %s, %out[%j] : memref<?xf32>
  }
  scf.for %j = %c0 to %n step %c1 {
    %x = memref.load %in[%j] : memref<?xf32>
    %a = memref.load %out[%c0] : memref<?xf32>
    %s = arith.addf %a, %x : f32
    memref.store %s, %out[%c0] : memref<?xf32>
    memref.store %x, %other[%c0] : memref<4xf32>
  }
  scf.for %j = %c0 to %n step %c1 {
    %x = memref.load %out[%c1] : memref<?xf32>
    %a = memref.load %out[%c0] : memref<?xf32>
    %s = arith.addf %a, %x : f32
    memref.store %s, %out[%c0] : memref<?xf32>
  }
  scf.for %j = %c0 to %n step %c1 {
    %x = memref.load %in[%j] : memref<?xf32>
    memref.store %x, %out[%c2] : memref<?xf32>
    %a = memref.load %out[%c2] : memref<?xf32>
    %s = arith.addf %a, %x : f32
    memref.store %s, %other[%c0] : memref<4xf32>
  }
  return
}
