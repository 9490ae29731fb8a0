// RUN: gatec-opt --help | FileCheck %s

// gatec's passes and pipelines are registered with gatec-opt.
// CHECK-DAG: --gate-approximate-math
// CHECK-DAG: --gate-lower-to-reference
// CHECK-DAG: --gate-omp-num-threads
// CHECK-DAG: --gate-raise-gating
// CHECK-DAG: --gate-tile-cpu
// CHECK-DAG: --vector-width=
// CHECK-DAG: --gatec-cpu-buffer-pipeline
// CHECK-DAG: --gatec-cpu-pipeline
// CHECK-DAG: --gatec-gate-opt-pipeline
// CHECK-DAG: --kernels=
