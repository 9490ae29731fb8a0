// RUN: gatec-opt --show-dialects | FileCheck %s

// The gate dialect and the upstream dialects its pipelines use.
// CHECK: Available Dialects:
// CHECK-SAME: arith
// CHECK-SAME: bufferization
// CHECK-SAME: func
// CHECK-SAME: gate
// CHECK-SAME: linalg
// CHECK-SAME: llvm
// CHECK-SAME: math
// CHECK-SAME: memref
// CHECK-SAME: omp
// CHECK-SAME: scf
// CHECK-SAME: tensor
// CHECK-SAME: vector
