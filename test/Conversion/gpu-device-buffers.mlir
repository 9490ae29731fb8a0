// RUN: gatec-opt %s --gate-gpu-device-buffers --split-input-file --verify-diagnostics | FileCheck %s

// Host buffers become device buffers; kernel scratch becomes thread-local;
// the deferred barrier (a marker call) becomes gpu.barrier.
// CHECK-LABEL: func.func @buffers
// CHECK:         %[[T:.+]] = gpu.alloc (%{{.+}}) : memref<?xf32>
// CHECK:         gpu.launch
// CHECK:           memref.alloca() : memref<16xf32>
// CHECK:           gpu.barrier
// CHECK:         gpu.memcpy %{{.+}}, %[[T]]
// CHECK:         gpu.dealloc %[[T]]
// CHECK-NOT:     func.func private @gate_gpu_deferred_
func.func private @gate_gpu_deferred_()
func.func @buffers(%a: memref<?xf32>, %n: index) {
  %c1 = arith.constant 1 : index
  %t = memref.alloc(%n) : memref<?xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %s = memref.alloc() : memref<16xf32>
    func.call @gate_gpu_deferred_() {gate.deferred_op = "gpu.barrier"} : () -> ()
    memref.dealloc %s : memref<16xf32>
    gpu.terminator
  }
  memref.copy %t, %a : memref<?xf32> to memref<?xf32>
  memref.dealloc %t : memref<?xf32>
  return
}

// -----

// Weights (constant globals): the runtime's device copy, made once per CUDA
// context, seen as a memref around the returned pointer.
// CHECK-LABEL: func.func @weights
// CHECK:         %[[H:.+]] = memref.get_global @w
// CHECK:         %[[HP:.+]] = memref.extract_aligned_pointer_as_index %[[H]]
// CHECK:         %[[HI:.+]] = arith.index_cast %[[HP]] : index to i64
// CHECK:         %[[DP:.+]] = call @gatec_rt_cuda_constant(%[[HI]], %{{.+}}) : (i64, i64) -> i64
// CHECK:         llvm.inttoptr %[[DP]]
// CHECK:         %[[D:.+]] = builtin.unrealized_conversion_cast %{{.+}} : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<4xf32>
// CHECK:         gpu.memcpy %{{.+}}, %[[D]]
// CHECK-NOT:     gpu.dealloc
// CHECK:         return
memref.global "private" constant @w : memref<4xf32> = dense<1.0>
func.func @weights(%a: memref<4xf32>) {
  %w = memref.get_global @w : memref<4xf32>
  memref.copy %w, %a : memref<4xf32> to memref<4xf32>
  return
}

// -----

// Mutable globals: a device copy per call, freed on return.
// CHECK-LABEL: func.func @mutable
// CHECK:         %[[H:.+]] = memref.get_global @m
// CHECK:         %[[D:.+]] = gpu.alloc () : memref<4xf32>
// CHECK:         gpu.memcpy %[[D]], %[[H]]
// CHECK:         gpu.dealloc %[[D]]
// CHECK-NEXT:    return
memref.global "private" @m : memref<4xf32> = dense<1.0>
func.func @mutable(%a: memref<4xf32>) {
  %w = memref.get_global @m : memref<4xf32>
  memref.copy %w, %a : memref<4xf32> to memref<4xf32>
  return
}

// -----

func.func @host_read(%a: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.load' would access device memory on the host}}
  %x = memref.load %a[%c0] : memref<4xf32>
  return %x : f32
}
