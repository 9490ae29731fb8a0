// RUN: gatec-opt %s -split-input-file -gate-matmul-cpu="vector-width=8" -canonicalize | FileCheck %s

// A constant B is packed at compile time into [N/NR, K, NR] panels (NR = 2·8,
// zero-padded past N = 40); tasks of row tiles run in parallel (4 tiles here:
// a projection this narrow is one column block, so rows are split finer),
// copy their rows of A for a K block into a [24, 256] scratch, and the 6×2
// micro-kernel keeps its accumulators in vector registers.
// CHECK-LABEL: func.func @const_b
// CHECK-DAG:     %[[W:.+]] = arith.constant dense_resource<gatec_packed_weight> : tensor<3x65x16xf32>
// CHECK-DAG:     %[[C:.+]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x40xf32>
// CHECK:         scf.parallel
// CHECK:           %[[AP:.+]] = memref.alloc() {{.*}}gate.tile_task{{.*}} : memref<24x256xf32>
// CHECK:           vector.transfer_read {{.*}} : memref<?x65xf32>, vector<8xf32>
// CHECK:           vector.store {{.*}}, %[[AP]]
// CHECK:           scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:             memref.prefetch %{{.*}}, read, locality<3>, data : memref<3x65x16xf32>
// CHECK-COUNT-2:     vector.load %{{.*}} : memref<3x65x16xf32>, vector<8xf32>
// CHECK-COUNT-12:    math.fma {{.*}} : vector<8xf32>
// CHECK-NOT:     linalg.matmul
func.func @const_b(%a: tensor<?x65xf32>) -> tensor<?x40xf32> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x65xf32>
  %w = arith.constant dense<1.0> : tensor<65x40xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%m) : tensor<?x40xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x40xf32>) -> tensor<?x40xf32>
  %r = linalg.matmul ins(%a, %w : tensor<?x65xf32>, tensor<65x40xf32>) outs(%f : tensor<?x40xf32>) -> tensor<?x40xf32>
  return %r : tensor<?x40xf32>
}

// -----

// Wider than two column blocks: tasks of 8 row tiles ([48, 256] scratch).
// CHECK-LABEL: func.func @wide_b
// CHECK:         memref.alloc() {{.*}}gate.tile_task{{.*}} : memref<48x256xf32>
func.func @wide_b(%a: tensor<?x65xf32>) -> tensor<?x600xf32> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x65xf32>
  %w = arith.constant dense<1.0> : tensor<65x600xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%m) : tensor<?x600xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x600xf32>) -> tensor<?x600xf32>
  %r = linalg.matmul ins(%a, %w : tensor<?x65xf32>, tensor<65x600xf32>) outs(%f : tensor<?x600xf32>) -> tensor<?x600xf32>
  return %r : tensor<?x600xf32>
}

// -----

// Gemm's transB: a transposed constant is packed transposed, no transpose
// at run time.
// CHECK-LABEL: func.func @transposed_const_b
// CHECK:         arith.constant dense_resource<gatec_packed_weight> : tensor<1x7x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     linalg.matmul
func.func @transposed_const_b(%a: tensor<5x7xf32>) -> tensor<5x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<3x7xf32>
  %et = tensor.empty() : tensor<7x3xf32>
  %wt = linalg.transpose ins(%w : tensor<3x7xf32>) outs(%et : tensor<7x3xf32>) permutation = [1, 0]
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %r = linalg.matmul ins(%a, %wt : tensor<5x7xf32>, tensor<7x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %r : tensor<5x3xf32>
}

// -----

// A run-time B (batched, bf16) is packed once per call, in parallel over
// (batch, panel), widened to f32.
// CHECK-LABEL: func.func @runtime_b
// CHECK:         %[[P:.+]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<2x?x9x16xf32>
// CHECK:         scf.parallel
// CHECK:           arith.extf {{.*}} : vector<8xbf16> to vector<8xf32>
// CHECK:           vector.store {{.*}}, %[[P]]
// CHECK:         scf.parallel
// CHECK:           math.fma
// CHECK-NOT:     linalg.batch_matmul
func.func @runtime_b(%a: tensor<2x?x9xbf16>, %b: tensor<2x9x?xbf16>) -> tensor<2x?x?xf32> {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %m = tensor.dim %a, %c1 : tensor<2x?x9xbf16>
  %n = tensor.dim %b, %c2 : tensor<2x9x?xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%m, %n) : tensor<2x?x?xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x?x9xbf16>, tensor<2x9x?xbf16>) outs(%f : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  return %r : tensor<2x?x?xf32>
}

// -----

// Other indexing maps (a transposed matmul written with indexing_maps) and
// non-f32 accumulators are left to the generic lowering.
// CHECK-LABEL: func.func @not_lowered
// CHECK:         linalg.matmul indexing_maps
// CHECK:         linalg.matmul ins({{.*}} : tensor<4x4xf16>, tensor<4x4xf16>) outs({{.*}} : tensor<4x4xf16>)
func.func @not_lowered(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %c: tensor<4x4xf32>,
                       %h: tensor<4x4xf16>) -> (tensor<4x4xf32>, tensor<4x4xf16>) {
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
         ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  %s = linalg.matmul ins(%h, %h : tensor<4x4xf16>, tensor<4x4xf16>) outs(%h : tensor<4x4xf16>) -> tensor<4x4xf16>
  return %r, %s : tensor<4x4xf32>, tensor<4x4xf16>
}

// -----

// One expert of a constant stack [E, K, N], chosen at run time: the whole
// stack is packed at compile time ([E, N/NR, K, NR]) and the micro-kernel
// reads the expert's panels from it (no packing, no copy per call).
// CHECK-LABEL: func.func @expert_of_const_stack(
// CHECK-SAME:      %{{.*}}: tensor<5x7xf32>, %[[E:.+]]: index)
// CHECK:         %[[W:.+]] = arith.constant dense_resource<gatec_packed_weight> : tensor<3x2x7x16xf32>
// CHECK:         %[[P:.+]] = bufferization.to_buffer %[[W]]
// CHECK-NOT:     memref.copy
// CHECK:         vector.load %[[P]][%[[E]], {{.*}}] : memref<3x2x7x16xf32>, vector<8xf32>
// CHECK-NOT:     linalg.matmul
func.func @expert_of_const_stack(%a: tensor<5x7xf32>, %e: index) -> tensor<5x20xf32> {
  %w = arith.constant dense<1.0> : tensor<3x7x20xf32>
  %we = tensor.extract_slice %w[%e, 0, 0] [1, 7, 20] [1, 1, 1] : tensor<3x7x20xf32> to tensor<7x20xf32>
  %zero = arith.constant 0.0 : f32
  %i = tensor.empty() : tensor<5x20xf32>
  %f = linalg.fill ins(%zero : f32) outs(%i : tensor<5x20xf32>) -> tensor<5x20xf32>
  %r = linalg.matmul ins(%a, %we : tensor<5x7xf32>, tensor<7x20xf32>) outs(%f : tensor<5x20xf32>) -> tensor<5x20xf32>
  return %r : tensor<5x20xf32>
}

// -----

// A matmul carrying its weights' 4-bit form (MatMulNBits): nibbles packed
// two columns per byte ([N/NR, K, W] i8), scales and zero point · scale per
// block; up to 4 rows run the kernel that streams the nibbles, more rows the
// f32 panels.
// CHECK-LABEL: func.func @quantized_b
// CHECK-DAG:     arith.constant dense_resource<gatec_packed_nibbles> : tensor<1x4x8xi8>
// CHECK-DAG:     arith.constant dense_resource<gatec_packed_scales> : tensor<1x1x16xf32>
// CHECK-DAG:     arith.constant dense_resource<gatec_packed_zero_points> : tensor<1x1x16xf32>
// CHECK:         %[[FEW:.+]] = arith.cmpi ule, %{{.*}}, %c4
// CHECK:         scf.if %[[FEW]] {
// CHECK:           vector.load {{.*}} : memref<1x4x8xi8>, vector<8xi8>
// CHECK:           arith.extui {{.*}} : vector<8xi8> to vector<8xi32>
// CHECK:           arith.uitofp {{.*}} : vector<8xi32> to vector<8xf32>
// CHECK:         } else {
// CHECK:           vector.load {{.*}} : memref<1x4x16xf32>, vector<8xf32>
// CHECK-NOT:     linalg.matmul
func.func @quantized_b(%a: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x4xf32>
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]> : tensor<4x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%m) : tensor<?x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x3xf32>) -> tensor<?x3xf32>
  %r = linalg.matmul {gate.quantized_weight = {block_size = 16 : i64,
        values = dense<[[9, 9, 9, 9], [10, 10, 10, 10], [11, 11, 11, 11]]> : tensor<3x4xi8>,
        scales = dense<1.0> : tensor<3x1xf32>, zero_points = dense<8.0> : tensor<3x1xf32>}}
      ins(%a, %w : tensor<?x4xf32>, tensor<4x3xf32>) outs(%f : tensor<?x3xf32>) -> tensor<?x3xf32>
  return %r : tensor<?x3xf32>
}

// -----

// 16-bit constant weights keep their width in the packed panels (half the
// bytes to stream) and are widened to f32 as the micro-kernel loads them.
// CHECK-LABEL: func.func @f16_const_b
// CHECK:         arith.constant dense_resource<gatec_packed_weight> : tensor<2x7x16xf16>
// CHECK:         scf.for
// CHECK:           %[[H:.+]] = vector.load {{.*}} : memref<2x7x16xf16>, vector<8xf16>
// CHECK:           arith.extf %[[H]] : vector<8xf16> to vector<8xf32>
func.func @f16_const_b(%a: tensor<5x7xf32>) -> tensor<5x20xf32> {
  %w = arith.constant dense<1.5> : tensor<7x20xf16>
  %zero = arith.constant 0.0 : f32
  %i = tensor.empty() : tensor<5x20xf32>
  %f = linalg.fill ins(%zero : f32) outs(%i : tensor<5x20xf32>) -> tensor<5x20xf32>
  %r = linalg.matmul ins(%a, %w : tensor<5x7xf32>, tensor<7x20xf16>) outs(%f : tensor<5x20xf32>) -> tensor<5x20xf32>
  return %r : tensor<5x20xf32>
}

// -----

// A gate of the result (SwiGLU's SiLU(x·W1) ⊙ (x·W3), here through the
// expand_shape back to [B, T, N]) is the epilogue: after the last of the two
// K blocks (K = 300, blocks of 256) the
// kernel multiplies each stored tile by SiLU of the accumulator; the other
// operand is read through a collapse_shape of it, and no gate.gate is left.
// CHECK-LABEL: func.func @gate_epilogue
// CHECK-SAME:    (%[[A:.+]]: tensor<?x300xf32>, %[[O:.+]]: tensor<2x?x40xf32>)
// CHECK:         %[[OC:.+]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1], [2]]
// CHECK:         scf.parallel
// CHECK:           arith.cmpi eq
// CHECK:           scf.if
// CHECK:             math.exp
// CHECK:             arith.mulf
// CHECK:             vector.store
// CHECK-NOT:     gate.gate
// CHECK:         tensor.expand_shape
// CHECK-NOT:     gate.gate
func.func @gate_epilogue(%a: tensor<?x300xf32>, %o: tensor<2x?x40xf32>) -> tensor<2x?x40xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x300xf32>
  %t = tensor.dim %o, %c1 : tensor<2x?x40xf32>
  %w = arith.constant dense<1.0> : tensor<300x40xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%m) : tensor<?x40xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x40xf32>) -> tensor<?x40xf32>
  %r = linalg.matmul ins(%a, %w : tensor<?x300xf32>, tensor<300x40xf32>) outs(%f : tensor<?x40xf32>) -> tensor<?x40xf32>
  %x = tensor.expand_shape %r [[0, 1], [2]] output_shape [2, %t, 40] : tensor<?x40xf32> into tensor<2x?x40xf32>
  %y = gate.gate %o, %x {act = #gate<act silu>} : tensor<2x?x40xf32>, tensor<2x?x40xf32> -> tensor<2x?x40xf32>
  return %y : tensor<2x?x40xf32>
}

// -----

// The result is also read elsewhere: the gate stays.
// CHECK-LABEL: func.func @gate_result_read_twice
// CHECK:         gate.gate
func.func @gate_result_read_twice(%a: tensor<8x65xf32>, %o: tensor<8x40xf32>) -> (tensor<8x40xf32>, tensor<8x40xf32>) {
  %w = arith.constant dense<1.0> : tensor<65x40xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x40xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x40xf32>) -> tensor<8x40xf32>
  %r = linalg.matmul ins(%a, %w : tensor<8x65xf32>, tensor<65x40xf32>) outs(%f : tensor<8x40xf32>) -> tensor<8x40xf32>
  %y = gate.gate %r, %o : tensor<8x40xf32>, tensor<8x40xf32> -> tensor<8x40xf32>
  return %y, %r : tensor<8x40xf32>, tensor<8x40xf32>
}

// -----

// A Linear layer's bias (broadcast along the last dimension, added to the
// result) before the gate joins the epilogue: the kernel loads it per column.
// CHECK-LABEL: func.func @bias_gate_epilogue
// CHECK-SAME:    (%[[A:.+]]: tensor<8x300xf32>, %[[O:.+]]: tensor<8x40xf32>, %[[B:.+]]: tensor<40xf32>)
// CHECK:         %[[BB:.+]] = bufferization.to_buffer %[[B]]
// CHECK:         scf.parallel
// CHECK:           vector.transfer_read %[[BB]]
// CHECK-NOT:     linalg.generic
// CHECK-NOT:     gate.gate
func.func @bias_gate_epilogue(%a: tensor<8x300xf32>, %o: tensor<8x40xf32>, %bias: tensor<40xf32>) -> tensor<8x40xf32> {
  %w = arith.constant dense<1.0> : tensor<300x40xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x40xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x40xf32>) -> tensor<8x40xf32>
  %r = linalg.matmul ins(%a, %w : tensor<8x300xf32>, tensor<300x40xf32>) outs(%f : tensor<8x40xf32>) -> tensor<8x40xf32>
  %bc = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%bias : tensor<40xf32>) outs(%e : tensor<8x40xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x40xf32>
  %rb = arith.addf %r, %bc : tensor<8x40xf32>
  %y = gate.gate %o, %rb : tensor<8x40xf32>, tensor<8x40xf32> -> tensor<8x40xf32>
  return %y : tensor<8x40xf32>
}
