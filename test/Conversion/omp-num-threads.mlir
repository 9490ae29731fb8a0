// RUN: gatec-opt %s -convert-scf-to-openmp -gate-omp-num-threads -split-input-file | FileCheck %s

// Every omp.parallel reads its thread count from the library global
// @gatec_num_threads.

// CHECK:       llvm.mlir.global external @gatec_num_threads() {addr_space = 0 : i32} : i32
// CHECK-LABEL: func.func @one_region
// CHECK:         %[[ADDR:.+]] = llvm.mlir.addressof @gatec_num_threads : !llvm.ptr
// CHECK-NEXT:    %[[N:.+]] = llvm.load %[[ADDR]] atomic monotonic {alignment = 4 : i64} : !llvm.ptr -> i32
// CHECK-NEXT:    omp.parallel num_threads(%[[N]] : i32)
// CHECK-NEXT:      omp.wsloop {
// CHECK-NEXT:        omp.loop_nest
// CHECK:               memref.store
func.func @one_region(%n: index, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %cst, %buf[%i] : memref<?xf32>
  }
  return
}

// -----

// Two regions in two functions share one global declaration.
// CHECK:       llvm.mlir.global external @gatec_num_threads()
// CHECK-NOT:   llvm.mlir.global
// CHECK-LABEL: func.func @first
// CHECK:         %[[A1:.+]] = llvm.mlir.addressof @gatec_num_threads
// CHECK-NEXT:    %[[N1:.+]] = llvm.load %[[A1]] atomic monotonic {alignment = 4 : i64} : !llvm.ptr -> i32
// CHECK-NEXT:    omp.parallel num_threads(%[[N1]] : i32)
// CHECK-LABEL: func.func @second
// CHECK:         %[[A2:.+]] = llvm.mlir.addressof @gatec_num_threads
// CHECK-NEXT:    %[[N2:.+]] = llvm.load %[[A2]] atomic monotonic {alignment = 4 : i64} : !llvm.ptr -> i32
// CHECK-NEXT:    omp.parallel num_threads(%[[N2]] : i32)
// CHECK-NEXT:      omp.wsloop {
func.func @first(%n: index, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %cst, %buf[%i] : memref<?xf32>
  }
  return
}
func.func @second(%n: index, %m: index, %buf: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 2.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %m) step (%c1, %c1) {
    memref.store %cst, %buf[%i, %j] : memref<?x?xf32>
  }
  return
}

// -----

// No parallel region: no global.
// CHECK-NOT:   llvm.mlir.global
// CHECK-LABEL: func.func @serial
// CHECK-NOT:     gatec_num_threads
// CHECK:         scf.for
func.func @serial(%n: index, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    memref.store %cst, %buf[%i] : memref<?xf32>
  }
  return
}

// -----

// An explicit thread count and an explicit schedule are kept; an existing
// declaration of the global is reused.
// CHECK:       llvm.mlir.global external @gatec_num_threads() {addr_space = 0 : i32} : i32
// CHECK-NOT:   llvm.mlir.global
// CHECK-LABEL: func.func @explicit
// CHECK-SAME:    (%{{.+}}: index, %[[T:[a-z0-9]+]]: i32
// CHECK-NOT:     llvm.mlir.addressof
// CHECK:         omp.parallel num_threads(%[[T]] : i32)
// CHECK-NEXT:      omp.wsloop schedule(static)
llvm.mlir.global external @gatec_num_threads() {addr_space = 0 : i32} : i32
func.func @explicit(%n: index, %t: i32, %buf: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  omp.parallel num_threads(%t : i32) {
    omp.wsloop schedule(static) {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        memref.store %cst, %buf[%i] : memref<?xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
