// RUN: gatec-opt %s -split-input-file -gate-raise-sdpa -canonicalize | FileCheck %s

// Masks of decomposed attention as the ONNX importer writes them (built with
// the ONNX ops exporters use). A mask becomes the `causal` flag (or a
// sliding `window`) only when it provably equals that band of keys at every
// position; near misses stay mask operands of gate.sdpa.

// Causal, dynamic length: Range, Unsqueeze, LessOrEqual(k_pos, q_pos), Where(keep, 0, -inf), Add.
// CHECK-LABEL: func.func @causal_range
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_range(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %30 = linalg.index 0 : index
      %31 = arith.index_cast %30 : index to i64
      %32 = arith.muli %31, %1 : i64
      %33 = arith.addi %32, %0 : i64
      linalg.yield %33 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_2 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_2 : tensor<1x?xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.cmpi sle, %5, %7 : tensor<?x?xi64>
    %9 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_3 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_3 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_4 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %13 = arith.mulf %expanded_4, %splat : tensor<1x2x?x?xf32>
    %splat_5 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_6 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %14 = arith.select %8, %splat_5, %splat_6 : tensor<?x?xi1>, tensor<?x?xf32>
    %15 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %16 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%14 : tensor<?x?xf32>) outs(%15 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %17 = arith.addf %13, %16 : tensor<1x2x?x?xf32>
    %18 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %19 = linalg.fill ins(%cst_1 : f32) outs(%18 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%17 : tensor<1x2x?x?xf32>) outs(%19 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.maximumf %in, %init : f32
        linalg.yield %30 : f32
      }
    %20 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%20 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %21 = arith.subf %17, %broadcasted : tensor<1x2x?x?xf32>
    %22 = math.exp %21 : tensor<1x2x?x?xf32>
    %23 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %24 = linalg.fill ins(%cst : f32) outs(%23 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_7 = linalg.reduce ins(%22 : tensor<1x2x?x?xf32>) outs(%24 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.addf %in, %init : f32
        linalg.yield %30 : f32
      }
    %25 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_8 = linalg.broadcast ins(%reduced_7 : tensor<1x2x?xf32>) outs(%25 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %26 = arith.divf %22, %broadcasted_8 : tensor<1x2x?x?xf32>
    %collapsed_9 = tensor.collapse_shape %26 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %27 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %28 = linalg.fill ins(%cst : f32) outs(%27 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %29 = linalg.batch_matmul ins(%collapsed_9, %collapsed_10 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%28 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_11 = tensor.expand_shape %29 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_11 : tensor<1x2x?x8xf32>
  }
}

// -----

// The same as a boolean mask: Where(keep, scores, -inf).
// CHECK-LABEL: func.func @causal_range_bool
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_range_bool(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %29 = linalg.index 0 : index
      %30 = arith.index_cast %29 : index to i64
      %31 = arith.muli %30, %1 : i64
      %32 = arith.addi %31, %0 : i64
      linalg.yield %32 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_2 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_2 : tensor<1x?xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.cmpi sle, %5, %7 : tensor<?x?xi64>
    %9 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_3 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_3 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_4 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %13 = arith.mulf %expanded_4, %splat : tensor<1x2x?x?xf32>
    %14 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xi1>
    %15 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%8 : tensor<?x?xi1>) outs(%14 : tensor<1x2x?x?xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<1x2x?x?xi1>
    %splat_5 = tensor.splat %cst_1[%dim, %dim] : tensor<1x2x?x?xf32>
    %16 = arith.select %15, %13, %splat_5 : tensor<1x2x?x?xi1>, tensor<1x2x?x?xf32>
    %17 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %18 = linalg.fill ins(%cst_1 : f32) outs(%17 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%16 : tensor<1x2x?x?xf32>) outs(%18 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %29 = arith.maximumf %in, %init : f32
        linalg.yield %29 : f32
      }
    %19 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%19 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %20 = arith.subf %16, %broadcasted : tensor<1x2x?x?xf32>
    %21 = math.exp %20 : tensor<1x2x?x?xf32>
    %22 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %23 = linalg.fill ins(%cst : f32) outs(%22 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_6 = linalg.reduce ins(%21 : tensor<1x2x?x?xf32>) outs(%23 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %29 = arith.addf %in, %init : f32
        linalg.yield %29 : f32
      }
    %24 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_7 = linalg.broadcast ins(%reduced_6 : tensor<1x2x?xf32>) outs(%24 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %25 = arith.divf %21, %broadcasted_7 : tensor<1x2x?x?xf32>
    %collapsed_8 = tensor.collapse_shape %25 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_9 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %26 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %27 = linalg.fill ins(%cst : f32) outs(%26 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %28 = linalg.batch_matmul ins(%collapsed_8, %collapsed_9 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%27 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_10 = tensor.expand_shape %28 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_10 : tensor<1x2x?x8xf32>
  }
}

// -----

// Trilu(ConstantOfShape([T, T], 1)) cast to bool (the examples/ exporter).
// CHECK-LABEL: func.func @causal_trilu
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_trilu(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %cst = arith.constant 1.000000e+00 : f32
    %cst_0 = arith.constant 0.000000e+00 : f32
    %cst_1 = arith.constant 0.353553385 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %splat = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %0 = tensor.empty(%dim, %dim) : tensor<?x?xf32>
    %1 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%splat : tensor<?x?xf32>) outs(%0 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      %24 = linalg.index 0 : index
      %25 = linalg.index 1 : index
      %26 = arith.subi %25, %24 : index
      %27 = arith.cmpi sle, %26, %c0 : index
      %28 = arith.select %27, %in, %cst_0 : f32
      linalg.yield %28 : f32
    } -> tensor<?x?xf32>
    %splat_3 = tensor.splat %cst_0[%dim, %dim] : tensor<?x?xf32>
    %2 = arith.cmpf une, %1, %splat_3 : tensor<?x?xf32>
    %3 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%3 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %4 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %5 = linalg.fill ins(%cst_0 : f32) outs(%4 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %6 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%5 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded = tensor.expand_shape %6 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_5 = tensor.splat %cst_1[%dim, %dim] : tensor<1x2x?x?xf32>
    %7 = arith.mulf %expanded, %splat_5 : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_2[%dim, %dim] : tensor<?x?xf32>
    %8 = arith.select %2, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %9 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %10 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%8 : tensor<?x?xf32>) outs(%9 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %11 = arith.addf %7, %10 : tensor<1x2x?x?xf32>
    %12 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %13 = linalg.fill ins(%cst_2 : f32) outs(%12 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%11 : tensor<1x2x?x?xf32>) outs(%13 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %24 = arith.maximumf %in, %init : f32
        linalg.yield %24 : f32
      }
    %14 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%14 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %15 = arith.subf %11, %broadcasted : tensor<1x2x?x?xf32>
    %16 = math.exp %15 : tensor<1x2x?x?xf32>
    %17 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %18 = linalg.fill ins(%cst_0 : f32) outs(%17 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%16 : tensor<1x2x?x?xf32>) outs(%18 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %24 = arith.addf %in, %init : f32
        linalg.yield %24 : f32
      }
    %19 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%19 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %20 = arith.divf %16, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %20 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %21 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %22 = linalg.fill ins(%cst_0 : f32) outs(%21 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %23 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%22 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %23 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}

// -----

// Static length 128: the positions are folded into index constants, checked
// element by element to be affine in their indices.
// CHECK-LABEL: func.func @causal_range_static
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0, d1) -> (0, d1)>
#map1 = affine_map<(d0, d1) -> (d0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, 0)>
#map3 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_range_static(%arg0: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense_resource<onnx_folded> : tensor<1x128xi64>
    %cst_0 = arith.constant dense_resource<onnx_folded_1> : tensor<128x1xi64>
    %cst_1 = arith.constant 0.000000e+00 : f32
    %cst_2 = arith.constant dense<0.353553385> : tensor<1x2x128x128xf32>
    %cst_3 = arith.constant dense<0.000000e+00> : tensor<128x128xf32>
    %cst_4 = arith.constant dense<0xFF800000> : tensor<128x128xf32>
    %cst_5 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<128x128xi64>
    %1 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst : tensor<1x128xi64>) outs(%0 : tensor<128x128xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<128x128xi64>
    %2 = tensor.empty() : tensor<128x128xi64>
    %3 = linalg.generic {indexing_maps = [#map2, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_0 : tensor<128x1xi64>) outs(%2 : tensor<128x128xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<128x128xi64>
    %4 = arith.cmpi sle, %1, %3 : tensor<128x128xi64>
    %5 = tensor.empty() : tensor<1x2x8x128xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x128x8xf32>) outs(%5 : tensor<1x2x8x128xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x128x8xf32> into tensor<2x128x8xf32>
    %collapsed_6 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x128xf32> into tensor<2x8x128xf32>
    %6 = tensor.empty() : tensor<2x128x128xf32>
    %7 = linalg.fill ins(%cst_1 : f32) outs(%6 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
    %8 = linalg.batch_matmul ins(%collapsed, %collapsed_6 : tensor<2x128x8xf32>, tensor<2x8x128xf32>) outs(%7 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
    %expanded = tensor.expand_shape %8 [[0, 1], [2], [3]] output_shape [1, 2, 128, 128] : tensor<2x128x128xf32> into tensor<1x2x128x128xf32>
    %9 = arith.mulf %expanded, %cst_2 : tensor<1x2x128x128xf32>
    %10 = arith.select %4, %cst_3, %cst_4 : tensor<128x128xi1>, tensor<128x128xf32>
    %11 = tensor.empty() : tensor<1x2x128x128xf32>
    %12 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%10 : tensor<128x128xf32>) outs(%11 : tensor<1x2x128x128xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x128x128xf32>
    %13 = arith.addf %9, %12 : tensor<1x2x128x128xf32>
    %14 = tensor.empty() : tensor<1x2x128xf32>
    %15 = linalg.fill ins(%cst_5 : f32) outs(%14 : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
    %reduced = linalg.reduce ins(%13 : tensor<1x2x128x128xf32>) outs(%15 : tensor<1x2x128xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %26 = arith.maximumf %in, %init : f32
        linalg.yield %26 : f32
      }
    %16 = tensor.empty() : tensor<1x2x128x128xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x128xf32>) outs(%16 : tensor<1x2x128x128xf32>) dimensions = [3] 
    %17 = arith.subf %13, %broadcasted : tensor<1x2x128x128xf32>
    %18 = math.exp %17 : tensor<1x2x128x128xf32>
    %19 = tensor.empty() : tensor<1x2x128xf32>
    %20 = linalg.fill ins(%cst_1 : f32) outs(%19 : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
    %reduced_7 = linalg.reduce ins(%18 : tensor<1x2x128x128xf32>) outs(%20 : tensor<1x2x128xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %26 = arith.addf %in, %init : f32
        linalg.yield %26 : f32
      }
    %21 = tensor.empty() : tensor<1x2x128x128xf32>
    %broadcasted_8 = linalg.broadcast ins(%reduced_7 : tensor<1x2x128xf32>) outs(%21 : tensor<1x2x128x128xf32>) dimensions = [3] 
    %22 = arith.divf %18, %broadcasted_8 : tensor<1x2x128x128xf32>
    %collapsed_9 = tensor.collapse_shape %22 [[0, 1], [2], [3]] : tensor<1x2x128x128xf32> into tensor<2x128x128xf32>
    %collapsed_10 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x128x8xf32> into tensor<2x128x8xf32>
    %23 = tensor.empty() : tensor<2x128x8xf32>
    %24 = linalg.fill ins(%cst_1 : f32) outs(%23 : tensor<2x128x8xf32>) -> tensor<2x128x8xf32>
    %25 = linalg.batch_matmul ins(%collapsed_9, %collapsed_10 : tensor<2x128x128xf32>, tensor<2x128x8xf32>) outs(%24 : tensor<2x128x8xf32>) -> tensor<2x128x8xf32>
    %expanded_11 = tensor.expand_shape %25 [[0, 1], [2], [3]] output_shape [1, 2, 128, 8] : tensor<2x128x8xf32> into tensor<1x2x128x8xf32>
    return %expanded_11 : tensor<1x2x128x8xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      onnx_folded: "0x0800000000000000000000000100000000000000020000000000000003000000000000000400000000000000050000000000000006000000000000000700000000000000080000000000000009000000000000000A000000000000000B000000000000000C000000000000000D000000000000000E000000000000000F0000000000000010000000000000001100000000000000120000000000000013000000000000001400000000000000150000000000000016000000000000001700000000000000180000000000000019000000000000001A000000000000001B000000000000001C000000000000001D000000000000001E000000000000001F0000000000000020000000000000002100000000000000220000000000000023000000000000002400000000000000250000000000000026000000000000002700000000000000280000000000000029000000000000002A000000000000002B000000000000002C000000000000002D000000000000002E000000000000002F0000000000000030000000000000003100000000000000320000000000000033000000000000003400000000000000350000000000000036000000000000003700000000000000380000000000000039000000000000003A000000000000003B000000000000003C000000000000003D000000000000003E000000000000003F0000000000000040000000000000004100000000000000420000000000000043000000000000004400000000000000450000000000000046000000000000004700000000000000480000000000000049000000000000004A000000000000004B000000000000004C000000000000004D000000000000004E000000000000004F0000000000000050000000000000005100000000000000520000000000000053000000000000005400000000000000550000000000000056000000000000005700000000000000580000000000000059000000000000005A000000000000005B000000000000005C000000000000005D000000000000005E000000000000005F0000000000000060000000000000006100000000000000620000000000000063000000000000006400000000000000650000000000000066000000000000006700000000000000680000000000000069000000000000006A000000000000006B000000000000006C000000000000006D000000000000006E000000000000006F0000000000000070000000000000007100000000000000720000000000000073000000000000007400000000000000750000000000000076000000000000007700000000000000780000000000000079000000000000007A000000000000007B000000000000007C000000000000007D000000000000007E000000000000007F00000000000000",
      onnx_folded_1: "0x0800000000000000000000000100000000000000020000000000000003000000000000000400000000000000050000000000000006000000000000000700000000000000080000000000000009000000000000000A000000000000000B000000000000000C000000000000000D000000000000000E000000000000000F0000000000000010000000000000001100000000000000120000000000000013000000000000001400000000000000150000000000000016000000000000001700000000000000180000000000000019000000000000001A000000000000001B000000000000001C000000000000001D000000000000001E000000000000001F0000000000000020000000000000002100000000000000220000000000000023000000000000002400000000000000250000000000000026000000000000002700000000000000280000000000000029000000000000002A000000000000002B000000000000002C000000000000002D000000000000002E000000000000002F0000000000000030000000000000003100000000000000320000000000000033000000000000003400000000000000350000000000000036000000000000003700000000000000380000000000000039000000000000003A000000000000003B000000000000003C000000000000003D000000000000003E000000000000003F0000000000000040000000000000004100000000000000420000000000000043000000000000004400000000000000450000000000000046000000000000004700000000000000480000000000000049000000000000004A000000000000004B000000000000004C000000000000004D000000000000004E000000000000004F0000000000000050000000000000005100000000000000520000000000000053000000000000005400000000000000550000000000000056000000000000005700000000000000580000000000000059000000000000005A000000000000005B000000000000005C000000000000005D000000000000005E000000000000005F0000000000000060000000000000006100000000000000620000000000000063000000000000006400000000000000650000000000000066000000000000006700000000000000680000000000000069000000000000006A000000000000006B000000000000006C000000000000006D000000000000006E000000000000006F0000000000000070000000000000007100000000000000720000000000000073000000000000007400000000000000750000000000000076000000000000007700000000000000780000000000000079000000000000007A000000000000007B000000000000007C000000000000007D000000000000007E000000000000007F00000000000000"
    }
  }
#-}

// -----

// Positions computed in f32 (Range over floats), static length 8192: every
// position is an exact f32 integer, so the f32 comparisons are integer ones.
// CHECK-LABEL: func.func @causal_float_positions
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_float_positions(%arg0: tensor<1x2x8192x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x8192x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x8192x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x8192x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 1.000000e+00 : f32
    %cst_1 = arith.constant dense<0.353553385> : tensor<1x2x8192x8192xf32>
    %cst_2 = arith.constant dense<0.000000e+00> : tensor<8192x8192xf32>
    %cst_3 = arith.constant dense<0xFF800000> : tensor<8192x8192xf32>
    %cst_4 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<8192xf32>
    %1 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%0 : tensor<8192xf32>) {
    ^bb0(%out: f32):
      %28 = linalg.index 0 : index
      %29 = arith.index_cast %28 : index to i64
      %30 = arith.sitofp %29 : i64 to f32
      %31 = arith.mulf %30, %cst_0 : f32
      %32 = arith.addf %31, %cst : f32
      linalg.yield %32 : f32
    } -> tensor<8192xf32>
    %expanded = tensor.expand_shape %1 [[0, 1]] output_shape [8192, 1] : tensor<8192xf32> into tensor<8192x1xf32>
    %expanded_5 = tensor.expand_shape %1 [[0, 1]] output_shape [1, 8192] : tensor<8192xf32> into tensor<1x8192xf32>
    %2 = tensor.empty() : tensor<8192x8192xf32>
    %3 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_5 : tensor<1x8192xf32>) outs(%2 : tensor<8192x8192xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<8192x8192xf32>
    %4 = tensor.empty() : tensor<8192x8192xf32>
    %5 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<8192x1xf32>) outs(%4 : tensor<8192x8192xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<8192x8192xf32>
    %6 = arith.cmpf ole, %3, %5 : tensor<8192x8192xf32>
    %7 = tensor.empty() : tensor<1x2x8x8192xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x8192x8xf32>) outs(%7 : tensor<1x2x8x8192xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x8192x8xf32> into tensor<2x8192x8xf32>
    %collapsed_6 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x8192xf32> into tensor<2x8x8192xf32>
    %8 = tensor.empty() : tensor<2x8192x8192xf32>
    %9 = linalg.fill ins(%cst : f32) outs(%8 : tensor<2x8192x8192xf32>) -> tensor<2x8192x8192xf32>
    %10 = linalg.batch_matmul ins(%collapsed, %collapsed_6 : tensor<2x8192x8xf32>, tensor<2x8x8192xf32>) outs(%9 : tensor<2x8192x8192xf32>) -> tensor<2x8192x8192xf32>
    %expanded_7 = tensor.expand_shape %10 [[0, 1], [2], [3]] output_shape [1, 2, 8192, 8192] : tensor<2x8192x8192xf32> into tensor<1x2x8192x8192xf32>
    %11 = arith.mulf %expanded_7, %cst_1 : tensor<1x2x8192x8192xf32>
    %12 = arith.select %6, %cst_2, %cst_3 : tensor<8192x8192xi1>, tensor<8192x8192xf32>
    %13 = tensor.empty() : tensor<1x2x8192x8192xf32>
    %14 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%12 : tensor<8192x8192xf32>) outs(%13 : tensor<1x2x8192x8192xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x8192x8192xf32>
    %15 = arith.addf %11, %14 : tensor<1x2x8192x8192xf32>
    %16 = tensor.empty() : tensor<1x2x8192xf32>
    %17 = linalg.fill ins(%cst_4 : f32) outs(%16 : tensor<1x2x8192xf32>) -> tensor<1x2x8192xf32>
    %reduced = linalg.reduce ins(%15 : tensor<1x2x8192x8192xf32>) outs(%17 : tensor<1x2x8192xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %28 = arith.maximumf %in, %init : f32
        linalg.yield %28 : f32
      }
    %18 = tensor.empty() : tensor<1x2x8192x8192xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x8192xf32>) outs(%18 : tensor<1x2x8192x8192xf32>) dimensions = [3] 
    %19 = arith.subf %15, %broadcasted : tensor<1x2x8192x8192xf32>
    %20 = math.exp %19 : tensor<1x2x8192x8192xf32>
    %21 = tensor.empty() : tensor<1x2x8192xf32>
    %22 = linalg.fill ins(%cst : f32) outs(%21 : tensor<1x2x8192xf32>) -> tensor<1x2x8192xf32>
    %reduced_8 = linalg.reduce ins(%20 : tensor<1x2x8192x8192xf32>) outs(%22 : tensor<1x2x8192xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %28 = arith.addf %in, %init : f32
        linalg.yield %28 : f32
      }
    %23 = tensor.empty() : tensor<1x2x8192x8192xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x8192xf32>) outs(%23 : tensor<1x2x8192x8192xf32>) dimensions = [3] 
    %24 = arith.divf %20, %broadcasted_9 : tensor<1x2x8192x8192xf32>
    %collapsed_10 = tensor.collapse_shape %24 [[0, 1], [2], [3]] : tensor<1x2x8192x8192xf32> into tensor<2x8192x8192xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x8192x8xf32> into tensor<2x8192x8xf32>
    %25 = tensor.empty() : tensor<2x8192x8xf32>
    %26 = linalg.fill ins(%cst : f32) outs(%25 : tensor<2x8192x8xf32>) -> tensor<2x8192x8xf32>
    %27 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x8192x8192xf32>, tensor<2x8192x8xf32>) outs(%26 : tensor<2x8192x8xf32>) -> tensor<2x8192x8xf32>
    %expanded_12 = tensor.expand_shape %27 [[0, 1], [2], [3]] output_shape [1, 2, 8192, 8] : tensor<2x8192x8xf32> into tensor<1x2x8192x8xf32>
    return %expanded_12 : tensor<1x2x8192x8xf32>
  }
}

// -----

// Static length 16: the whole mask is folded into a [16, 16] constant,
// compared with the causal pattern at every position.
// CHECK-LABEL: func.func @causal_folded
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_folded(%arg0: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant dense<0.353553385> : tensor<1x2x16x16xf32>
    %cst_1 = arith.constant dense_resource<onnx_folded> : tensor<16x16xf32>
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<1x2x8x16xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x16x8xf32>) outs(%0 : tensor<1x2x8x16xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x16x8xf32> into tensor<2x16x8xf32>
    %collapsed_3 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x16xf32> into tensor<2x8x16xf32>
    %1 = tensor.empty() : tensor<2x16x16xf32>
    %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
    %3 = linalg.batch_matmul ins(%collapsed, %collapsed_3 : tensor<2x16x8xf32>, tensor<2x8x16xf32>) outs(%2 : tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
    %expanded = tensor.expand_shape %3 [[0, 1], [2], [3]] output_shape [1, 2, 16, 16] : tensor<2x16x16xf32> into tensor<1x2x16x16xf32>
    %4 = arith.mulf %expanded, %cst_0 : tensor<1x2x16x16xf32>
    %5 = tensor.empty() : tensor<1x2x16x16xf32>
    %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst_1 : tensor<16x16xf32>) outs(%5 : tensor<1x2x16x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x16x16xf32>
    %7 = arith.addf %4, %6 : tensor<1x2x16x16xf32>
    %8 = tensor.empty() : tensor<1x2x16xf32>
    %9 = linalg.fill ins(%cst_2 : f32) outs(%8 : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
    %reduced = linalg.reduce ins(%7 : tensor<1x2x16x16xf32>) outs(%9 : tensor<1x2x16xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.maximumf %in, %init : f32
        linalg.yield %20 : f32
      }
    %10 = tensor.empty() : tensor<1x2x16x16xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x16xf32>) outs(%10 : tensor<1x2x16x16xf32>) dimensions = [3] 
    %11 = arith.subf %7, %broadcasted : tensor<1x2x16x16xf32>
    %12 = math.exp %11 : tensor<1x2x16x16xf32>
    %13 = tensor.empty() : tensor<1x2x16xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
    %reduced_4 = linalg.reduce ins(%12 : tensor<1x2x16x16xf32>) outs(%14 : tensor<1x2x16xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.addf %in, %init : f32
        linalg.yield %20 : f32
      }
    %15 = tensor.empty() : tensor<1x2x16x16xf32>
    %broadcasted_5 = linalg.broadcast ins(%reduced_4 : tensor<1x2x16xf32>) outs(%15 : tensor<1x2x16x16xf32>) dimensions = [3] 
    %16 = arith.divf %12, %broadcasted_5 : tensor<1x2x16x16xf32>
    %collapsed_6 = tensor.collapse_shape %16 [[0, 1], [2], [3]] : tensor<1x2x16x16xf32> into tensor<2x16x16xf32>
    %collapsed_7 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x16x8xf32> into tensor<2x16x8xf32>
    %17 = tensor.empty() : tensor<2x16x8xf32>
    %18 = linalg.fill ins(%cst : f32) outs(%17 : tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
    %19 = linalg.batch_matmul ins(%collapsed_6, %collapsed_7 : tensor<2x16x16xf32>, tensor<2x16x8xf32>) outs(%18 : tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
    %expanded_8 = tensor.expand_shape %19 [[0, 1], [2], [3]] output_shape [1, 2, 16, 8] : tensor<2x16x8xf32> into tensor<1x2x16x8xf32>
    return %expanded_8 : tensor<1x2x16x8xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      onnx_folded: "0x0800000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF0000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF00000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF0000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF00000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF0000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF00000000000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080FF00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    }
  }
#-}

// -----

// A static export's baked boolean mask [1, 1, 32, 32].
// CHECK-LABEL: func.func @causal_initializer
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_initializer(%arg0: tensor<1x2x32x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x32x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x32x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x32x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant dense<0.353553385> : tensor<1x2x32x32xf32>
    %cst_1 = arith.constant dense<"0x0100000003000000070000000F0000001F0000003F0000007F000000FF000000FF010000FF030000FF070000FF0F0000FF1F0000FF3F0000FF7F0000FFFF0000FFFF0100FFFF0300FFFF0700FFFF0F00FFFF1F00FFFF3F00FFFF7F00FFFFFF00FFFFFF01FFFFFF03FFFFFF07FFFFFF0FFFFFFF1FFFFFFF3FFFFFFF7FFFFFFFFF"> : tensor<1x1x32x32xi1>
    %cst_2 = arith.constant dense<0xFF800000> : tensor<1x2x32x32xf32>
    %cst_3 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<1x2x8x32xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x32x8xf32>) outs(%0 : tensor<1x2x8x32xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x32x8xf32> into tensor<2x32x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x32xf32> into tensor<2x8x32xf32>
    %1 = tensor.empty() : tensor<2x32x32xf32>
    %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<2x32x32xf32>) -> tensor<2x32x32xf32>
    %3 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x32x8xf32>, tensor<2x8x32xf32>) outs(%2 : tensor<2x32x32xf32>) -> tensor<2x32x32xf32>
    %expanded = tensor.expand_shape %3 [[0, 1], [2], [3]] output_shape [1, 2, 32, 32] : tensor<2x32x32xf32> into tensor<1x2x32x32xf32>
    %4 = arith.mulf %expanded, %cst_0 : tensor<1x2x32x32xf32>
    %5 = tensor.empty() : tensor<1x2x32x32xi1>
    %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst_1 : tensor<1x1x32x32xi1>) outs(%5 : tensor<1x2x32x32xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<1x2x32x32xi1>
    %7 = arith.select %6, %4, %cst_2 : tensor<1x2x32x32xi1>, tensor<1x2x32x32xf32>
    %8 = tensor.empty() : tensor<1x2x32xf32>
    %9 = linalg.fill ins(%cst_3 : f32) outs(%8 : tensor<1x2x32xf32>) -> tensor<1x2x32xf32>
    %reduced = linalg.reduce ins(%7 : tensor<1x2x32x32xf32>) outs(%9 : tensor<1x2x32xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.maximumf %in, %init : f32
        linalg.yield %20 : f32
      }
    %10 = tensor.empty() : tensor<1x2x32x32xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x32xf32>) outs(%10 : tensor<1x2x32x32xf32>) dimensions = [3] 
    %11 = arith.subf %7, %broadcasted : tensor<1x2x32x32xf32>
    %12 = math.exp %11 : tensor<1x2x32x32xf32>
    %13 = tensor.empty() : tensor<1x2x32xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x2x32xf32>) -> tensor<1x2x32xf32>
    %reduced_5 = linalg.reduce ins(%12 : tensor<1x2x32x32xf32>) outs(%14 : tensor<1x2x32xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.addf %in, %init : f32
        linalg.yield %20 : f32
      }
    %15 = tensor.empty() : tensor<1x2x32x32xf32>
    %broadcasted_6 = linalg.broadcast ins(%reduced_5 : tensor<1x2x32xf32>) outs(%15 : tensor<1x2x32x32xf32>) dimensions = [3] 
    %16 = arith.divf %12, %broadcasted_6 : tensor<1x2x32x32xf32>
    %collapsed_7 = tensor.collapse_shape %16 [[0, 1], [2], [3]] : tensor<1x2x32x32xf32> into tensor<2x32x32xf32>
    %collapsed_8 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x32x8xf32> into tensor<2x32x8xf32>
    %17 = tensor.empty() : tensor<2x32x8xf32>
    %18 = linalg.fill ins(%cst : f32) outs(%17 : tensor<2x32x8xf32>) -> tensor<2x32x8xf32>
    %19 = linalg.batch_matmul ins(%collapsed_7, %collapsed_8 : tensor<2x32x32xf32>, tensor<2x32x8xf32>) outs(%18 : tensor<2x32x8xf32>) -> tensor<2x32x8xf32>
    %expanded_9 = tensor.expand_shape %19 [[0, 1], [2], [3]] output_shape [1, 2, 32, 8] : tensor<2x32x8xf32> into tensor<1x2x32x8xf32>
    return %expanded_9 : tensor<1x2x32x8xf32>
  }
}

// -----

// Sliding window 200 over a static length of 128: the window never cuts,
// so the mask is exactly causal.
// CHECK-LABEL: func.func @sliding_window_covers_all
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0, d1) -> (d0, 0)>
#map1 = affine_map<(d0, d1) -> (d0, d1)>
#map2 = affine_map<(d0, d1) -> (0, d1)>
#map3 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @sliding_window_covers_all(%arg0: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense_resource<onnx_folded> : tensor<128x1xi64>
    %cst_0 = arith.constant dense_resource<onnx_folded_1> : tensor<1x128xi64>
    %cst_1 = arith.constant dense<0> : tensor<128x128xi64>
    %cst_2 = arith.constant dense<200> : tensor<128x128xi64>
    %cst_3 = arith.constant 0.000000e+00 : f32
    %cst_4 = arith.constant dense<0.353553385> : tensor<1x2x128x128xf32>
    %cst_5 = arith.constant dense<0.000000e+00> : tensor<128x128xf32>
    %cst_6 = arith.constant dense<0xFF800000> : tensor<128x128xf32>
    %cst_7 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<128x128xi64>
    %1 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst : tensor<128x1xi64>) outs(%0 : tensor<128x128xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<128x128xi64>
    %2 = tensor.empty() : tensor<128x128xi64>
    %3 = linalg.generic {indexing_maps = [#map2, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_0 : tensor<1x128xi64>) outs(%2 : tensor<128x128xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<128x128xi64>
    %4 = arith.subi %1, %3 : tensor<128x128xi64>
    %5 = arith.cmpi sge, %4, %cst_1 : tensor<128x128xi64>
    %6 = arith.cmpi slt, %4, %cst_2 : tensor<128x128xi64>
    %7 = arith.andi %5, %6 : tensor<128x128xi1>
    %8 = tensor.empty() : tensor<1x2x8x128xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x128x8xf32>) outs(%8 : tensor<1x2x8x128xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x128x8xf32> into tensor<2x128x8xf32>
    %collapsed_8 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x128xf32> into tensor<2x8x128xf32>
    %9 = tensor.empty() : tensor<2x128x128xf32>
    %10 = linalg.fill ins(%cst_3 : f32) outs(%9 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
    %11 = linalg.batch_matmul ins(%collapsed, %collapsed_8 : tensor<2x128x8xf32>, tensor<2x8x128xf32>) outs(%10 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
    %expanded = tensor.expand_shape %11 [[0, 1], [2], [3]] output_shape [1, 2, 128, 128] : tensor<2x128x128xf32> into tensor<1x2x128x128xf32>
    %12 = arith.mulf %expanded, %cst_4 : tensor<1x2x128x128xf32>
    %13 = arith.select %7, %cst_5, %cst_6 : tensor<128x128xi1>, tensor<128x128xf32>
    %14 = tensor.empty() : tensor<1x2x128x128xf32>
    %15 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%13 : tensor<128x128xf32>) outs(%14 : tensor<1x2x128x128xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x128x128xf32>
    %16 = arith.addf %12, %15 : tensor<1x2x128x128xf32>
    %17 = tensor.empty() : tensor<1x2x128xf32>
    %18 = linalg.fill ins(%cst_7 : f32) outs(%17 : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
    %reduced = linalg.reduce ins(%16 : tensor<1x2x128x128xf32>) outs(%18 : tensor<1x2x128xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %29 = arith.maximumf %in, %init : f32
        linalg.yield %29 : f32
      }
    %19 = tensor.empty() : tensor<1x2x128x128xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x128xf32>) outs(%19 : tensor<1x2x128x128xf32>) dimensions = [3] 
    %20 = arith.subf %16, %broadcasted : tensor<1x2x128x128xf32>
    %21 = math.exp %20 : tensor<1x2x128x128xf32>
    %22 = tensor.empty() : tensor<1x2x128xf32>
    %23 = linalg.fill ins(%cst_3 : f32) outs(%22 : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
    %reduced_9 = linalg.reduce ins(%21 : tensor<1x2x128x128xf32>) outs(%23 : tensor<1x2x128xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %29 = arith.addf %in, %init : f32
        linalg.yield %29 : f32
      }
    %24 = tensor.empty() : tensor<1x2x128x128xf32>
    %broadcasted_10 = linalg.broadcast ins(%reduced_9 : tensor<1x2x128xf32>) outs(%24 : tensor<1x2x128x128xf32>) dimensions = [3] 
    %25 = arith.divf %21, %broadcasted_10 : tensor<1x2x128x128xf32>
    %collapsed_11 = tensor.collapse_shape %25 [[0, 1], [2], [3]] : tensor<1x2x128x128xf32> into tensor<2x128x128xf32>
    %collapsed_12 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x128x8xf32> into tensor<2x128x8xf32>
    %26 = tensor.empty() : tensor<2x128x8xf32>
    %27 = linalg.fill ins(%cst_3 : f32) outs(%26 : tensor<2x128x8xf32>) -> tensor<2x128x8xf32>
    %28 = linalg.batch_matmul ins(%collapsed_11, %collapsed_12 : tensor<2x128x128xf32>, tensor<2x128x8xf32>) outs(%27 : tensor<2x128x8xf32>) -> tensor<2x128x8xf32>
    %expanded_13 = tensor.expand_shape %28 [[0, 1], [2], [3]] output_shape [1, 2, 128, 8] : tensor<2x128x8xf32> into tensor<1x2x128x8xf32>
    return %expanded_13 : tensor<1x2x128x8xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      onnx_folded: "0x0800000000000000000000000100000000000000020000000000000003000000000000000400000000000000050000000000000006000000000000000700000000000000080000000000000009000000000000000A000000000000000B000000000000000C000000000000000D000000000000000E000000000000000F0000000000000010000000000000001100000000000000120000000000000013000000000000001400000000000000150000000000000016000000000000001700000000000000180000000000000019000000000000001A000000000000001B000000000000001C000000000000001D000000000000001E000000000000001F0000000000000020000000000000002100000000000000220000000000000023000000000000002400000000000000250000000000000026000000000000002700000000000000280000000000000029000000000000002A000000000000002B000000000000002C000000000000002D000000000000002E000000000000002F0000000000000030000000000000003100000000000000320000000000000033000000000000003400000000000000350000000000000036000000000000003700000000000000380000000000000039000000000000003A000000000000003B000000000000003C000000000000003D000000000000003E000000000000003F0000000000000040000000000000004100000000000000420000000000000043000000000000004400000000000000450000000000000046000000000000004700000000000000480000000000000049000000000000004A000000000000004B000000000000004C000000000000004D000000000000004E000000000000004F0000000000000050000000000000005100000000000000520000000000000053000000000000005400000000000000550000000000000056000000000000005700000000000000580000000000000059000000000000005A000000000000005B000000000000005C000000000000005D000000000000005E000000000000005F0000000000000060000000000000006100000000000000620000000000000063000000000000006400000000000000650000000000000066000000000000006700000000000000680000000000000069000000000000006A000000000000006B000000000000006C000000000000006D000000000000006E000000000000006F0000000000000070000000000000007100000000000000720000000000000073000000000000007400000000000000750000000000000076000000000000007700000000000000780000000000000079000000000000007A000000000000007B000000000000007C000000000000007D000000000000007E000000000000007F00000000000000",
      onnx_folded_1: "0x0800000000000000000000000100000000000000020000000000000003000000000000000400000000000000050000000000000006000000000000000700000000000000080000000000000009000000000000000A000000000000000B000000000000000C000000000000000D000000000000000E000000000000000F0000000000000010000000000000001100000000000000120000000000000013000000000000001400000000000000150000000000000016000000000000001700000000000000180000000000000019000000000000001A000000000000001B000000000000001C000000000000001D000000000000001E000000000000001F0000000000000020000000000000002100000000000000220000000000000023000000000000002400000000000000250000000000000026000000000000002700000000000000280000000000000029000000000000002A000000000000002B000000000000002C000000000000002D000000000000002E000000000000002F0000000000000030000000000000003100000000000000320000000000000033000000000000003400000000000000350000000000000036000000000000003700000000000000380000000000000039000000000000003A000000000000003B000000000000003C000000000000003D000000000000003E000000000000003F0000000000000040000000000000004100000000000000420000000000000043000000000000004400000000000000450000000000000046000000000000004700000000000000480000000000000049000000000000004A000000000000004B000000000000004C000000000000004D000000000000004E000000000000004F0000000000000050000000000000005100000000000000520000000000000053000000000000005400000000000000550000000000000056000000000000005700000000000000580000000000000059000000000000005A000000000000005B000000000000005C000000000000005D000000000000005E000000000000005F0000000000000060000000000000006100000000000000620000000000000063000000000000006400000000000000650000000000000066000000000000006700000000000000680000000000000069000000000000006A000000000000006B000000000000006C000000000000006D000000000000006E000000000000006F0000000000000070000000000000007100000000000000720000000000000073000000000000007400000000000000750000000000000076000000000000007700000000000000780000000000000079000000000000007A000000000000007B000000000000007C000000000000007D000000000000007E000000000000007F00000000000000"
    }
  }
#-}

// -----

// (j <= i) && !(i == 30 && j == 100): the removed pair is masked anyway.
// Not a function of j - i; decided at all 2·128·128 positions.
// CHECK-LABEL: func.func @causal_except_above_diagonal
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0, d1) -> (d0, 0)>
#map1 = affine_map<(d0, d1) -> (d0, d1)>
#map2 = affine_map<(d0, d1) -> (0, d1)>
#map3 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_except_above_diagonal(%arg0: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense<"0x00000040000000000000000000000000"> : tensor<128x1xi1>
    %cst_0 = arith.constant dense<"0x00000000000000000000000010000000"> : tensor<1x128xi1>
    %cst_1 = arith.constant dense_resource<onnx_folded> : tensor<1x128xi64>
    %cst_2 = arith.constant dense_resource<onnx_folded_1> : tensor<128x1xi64>
    %cst_3 = arith.constant dense<true> : tensor<128x128xi1>
    %cst_4 = arith.constant 0.000000e+00 : f32
    %cst_5 = arith.constant dense<0.353553385> : tensor<1x2x128x128xf32>
    %cst_6 = arith.constant dense<0.000000e+00> : tensor<128x128xf32>
    %cst_7 = arith.constant dense<0xFF800000> : tensor<128x128xf32>
    %cst_8 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<128x128xi1>
    %1 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst : tensor<128x1xi1>) outs(%0 : tensor<128x128xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<128x128xi1>
    %2 = tensor.empty() : tensor<128x128xi1>
    %3 = linalg.generic {indexing_maps = [#map2, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_0 : tensor<1x128xi1>) outs(%2 : tensor<128x128xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<128x128xi1>
    %4 = arith.andi %1, %3 : tensor<128x128xi1>
    %5 = tensor.empty() : tensor<128x128xi64>
    %6 = linalg.generic {indexing_maps = [#map2, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_1 : tensor<1x128xi64>) outs(%5 : tensor<128x128xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<128x128xi64>
    %7 = tensor.empty() : tensor<128x128xi64>
    %8 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_2 : tensor<128x1xi64>) outs(%7 : tensor<128x128xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<128x128xi64>
    %9 = arith.cmpi sle, %6, %8 : tensor<128x128xi64>
    %10 = arith.xori %4, %cst_3 : tensor<128x128xi1>
    %11 = arith.andi %9, %10 : tensor<128x128xi1>
    %12 = tensor.empty() : tensor<1x2x8x128xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x128x8xf32>) outs(%12 : tensor<1x2x8x128xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x128x8xf32> into tensor<2x128x8xf32>
    %collapsed_9 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x128xf32> into tensor<2x8x128xf32>
    %13 = tensor.empty() : tensor<2x128x128xf32>
    %14 = linalg.fill ins(%cst_4 : f32) outs(%13 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
    %15 = linalg.batch_matmul ins(%collapsed, %collapsed_9 : tensor<2x128x8xf32>, tensor<2x8x128xf32>) outs(%14 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
    %expanded = tensor.expand_shape %15 [[0, 1], [2], [3]] output_shape [1, 2, 128, 128] : tensor<2x128x128xf32> into tensor<1x2x128x128xf32>
    %16 = arith.mulf %expanded, %cst_5 : tensor<1x2x128x128xf32>
    %17 = arith.select %11, %cst_6, %cst_7 : tensor<128x128xi1>, tensor<128x128xf32>
    %18 = tensor.empty() : tensor<1x2x128x128xf32>
    %19 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%17 : tensor<128x128xf32>) outs(%18 : tensor<1x2x128x128xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x128x128xf32>
    %20 = arith.addf %16, %19 : tensor<1x2x128x128xf32>
    %21 = tensor.empty() : tensor<1x2x128xf32>
    %22 = linalg.fill ins(%cst_8 : f32) outs(%21 : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
    %reduced = linalg.reduce ins(%20 : tensor<1x2x128x128xf32>) outs(%22 : tensor<1x2x128xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.maximumf %in, %init : f32
        linalg.yield %33 : f32
      }
    %23 = tensor.empty() : tensor<1x2x128x128xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x128xf32>) outs(%23 : tensor<1x2x128x128xf32>) dimensions = [3] 
    %24 = arith.subf %20, %broadcasted : tensor<1x2x128x128xf32>
    %25 = math.exp %24 : tensor<1x2x128x128xf32>
    %26 = tensor.empty() : tensor<1x2x128xf32>
    %27 = linalg.fill ins(%cst_4 : f32) outs(%26 : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
    %reduced_10 = linalg.reduce ins(%25 : tensor<1x2x128x128xf32>) outs(%27 : tensor<1x2x128xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.addf %in, %init : f32
        linalg.yield %33 : f32
      }
    %28 = tensor.empty() : tensor<1x2x128x128xf32>
    %broadcasted_11 = linalg.broadcast ins(%reduced_10 : tensor<1x2x128xf32>) outs(%28 : tensor<1x2x128x128xf32>) dimensions = [3] 
    %29 = arith.divf %25, %broadcasted_11 : tensor<1x2x128x128xf32>
    %collapsed_12 = tensor.collapse_shape %29 [[0, 1], [2], [3]] : tensor<1x2x128x128xf32> into tensor<2x128x128xf32>
    %collapsed_13 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x128x8xf32> into tensor<2x128x8xf32>
    %30 = tensor.empty() : tensor<2x128x8xf32>
    %31 = linalg.fill ins(%cst_4 : f32) outs(%30 : tensor<2x128x8xf32>) -> tensor<2x128x8xf32>
    %32 = linalg.batch_matmul ins(%collapsed_12, %collapsed_13 : tensor<2x128x128xf32>, tensor<2x128x8xf32>) outs(%31 : tensor<2x128x8xf32>) -> tensor<2x128x8xf32>
    %expanded_14 = tensor.expand_shape %32 [[0, 1], [2], [3]] output_shape [1, 2, 128, 8] : tensor<2x128x8xf32> into tensor<1x2x128x8xf32>
    return %expanded_14 : tensor<1x2x128x8xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      onnx_folded: "0x0800000000000000000000000100000000000000020000000000000003000000000000000400000000000000050000000000000006000000000000000700000000000000080000000000000009000000000000000A000000000000000B000000000000000C000000000000000D000000000000000E000000000000000F0000000000000010000000000000001100000000000000120000000000000013000000000000001400000000000000150000000000000016000000000000001700000000000000180000000000000019000000000000001A000000000000001B000000000000001C000000000000001D000000000000001E000000000000001F0000000000000020000000000000002100000000000000220000000000000023000000000000002400000000000000250000000000000026000000000000002700000000000000280000000000000029000000000000002A000000000000002B000000000000002C000000000000002D000000000000002E000000000000002F0000000000000030000000000000003100000000000000320000000000000033000000000000003400000000000000350000000000000036000000000000003700000000000000380000000000000039000000000000003A000000000000003B000000000000003C000000000000003D000000000000003E000000000000003F0000000000000040000000000000004100000000000000420000000000000043000000000000004400000000000000450000000000000046000000000000004700000000000000480000000000000049000000000000004A000000000000004B000000000000004C000000000000004D000000000000004E000000000000004F0000000000000050000000000000005100000000000000520000000000000053000000000000005400000000000000550000000000000056000000000000005700000000000000580000000000000059000000000000005A000000000000005B000000000000005C000000000000005D000000000000005E000000000000005F0000000000000060000000000000006100000000000000620000000000000063000000000000006400000000000000650000000000000066000000000000006700000000000000680000000000000069000000000000006A000000000000006B000000000000006C000000000000006D000000000000006E000000000000006F0000000000000070000000000000007100000000000000720000000000000073000000000000007400000000000000750000000000000076000000000000007700000000000000780000000000000079000000000000007A000000000000007B000000000000007C000000000000007D000000000000007E000000000000007F00000000000000",
      onnx_folded_1: "0x0800000000000000000000000100000000000000020000000000000003000000000000000400000000000000050000000000000006000000000000000700000000000000080000000000000009000000000000000A000000000000000B000000000000000C000000000000000D000000000000000E000000000000000F0000000000000010000000000000001100000000000000120000000000000013000000000000001400000000000000150000000000000016000000000000001700000000000000180000000000000019000000000000001A000000000000001B000000000000001C000000000000001D000000000000001E000000000000001F0000000000000020000000000000002100000000000000220000000000000023000000000000002400000000000000250000000000000026000000000000002700000000000000280000000000000029000000000000002A000000000000002B000000000000002C000000000000002D000000000000002E000000000000002F0000000000000030000000000000003100000000000000320000000000000033000000000000003400000000000000350000000000000036000000000000003700000000000000380000000000000039000000000000003A000000000000003B000000000000003C000000000000003D000000000000003E000000000000003F0000000000000040000000000000004100000000000000420000000000000043000000000000004400000000000000450000000000000046000000000000004700000000000000480000000000000049000000000000004A000000000000004B000000000000004C000000000000004D000000000000004E000000000000004F0000000000000050000000000000005100000000000000520000000000000053000000000000005400000000000000550000000000000056000000000000005700000000000000580000000000000059000000000000005A000000000000005B000000000000005C000000000000005D000000000000005E000000000000005F0000000000000060000000000000006100000000000000620000000000000063000000000000006400000000000000650000000000000066000000000000006700000000000000680000000000000069000000000000006A000000000000006B000000000000006C000000000000006D000000000000006E000000000000006F0000000000000070000000000000007100000000000000720000000000000073000000000000007400000000000000750000000000000076000000000000007700000000000000780000000000000079000000000000007A000000000000007B000000000000007C000000000000007D000000000000007E000000000000007F00000000000000"
    }
  }
#-}

// -----

// Sliding window i - 9 < j <= i (dynamic length): the window [8, 0].
// CHECK-LABEL: func.func @sliding_window_9
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 8, 0>} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (d0, 0)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (0, d1)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @sliding_window_9(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c0_i64 = arith.constant 0 : i64
    %c9_i64 = arith.constant 9 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %33 = linalg.index 0 : index
      %34 = arith.index_cast %33 : index to i64
      %35 = arith.muli %34, %1 : i64
      %36 = arith.addi %35, %0 : i64
      linalg.yield %36 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_2 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_2 : tensor<1x?xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.subi %5, %7 : tensor<?x?xi64>
    %splat = tensor.splat %c0_i64[%dim, %dim] : tensor<?x?xi64>
    %9 = arith.cmpi sge, %8, %splat : tensor<?x?xi64>
    %splat_3 = tensor.splat %c9_i64[%dim, %dim] : tensor<?x?xi64>
    %10 = arith.cmpi slt, %8, %splat_3 : tensor<?x?xi64>
    %11 = arith.andi %9, %10 : tensor<?x?xi1>
    %12 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%12 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %13 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %15 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%14 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %15 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %16 = arith.mulf %expanded_5, %splat_6 : tensor<1x2x?x?xf32>
    %splat_7 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_8 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %17 = arith.select %11, %splat_7, %splat_8 : tensor<?x?xi1>, tensor<?x?xf32>
    %18 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %19 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%17 : tensor<?x?xf32>) outs(%18 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %20 = arith.addf %16, %19 : tensor<1x2x?x?xf32>
    %21 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %22 = linalg.fill ins(%cst_1 : f32) outs(%21 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%20 : tensor<1x2x?x?xf32>) outs(%22 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.maximumf %in, %init : f32
        linalg.yield %33 : f32
      }
    %23 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%23 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %24 = arith.subf %20, %broadcasted : tensor<1x2x?x?xf32>
    %25 = math.exp %24 : tensor<1x2x?x?xf32>
    %26 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %27 = linalg.fill ins(%cst : f32) outs(%26 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_9 = linalg.reduce ins(%25 : tensor<1x2x?x?xf32>) outs(%27 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.addf %in, %init : f32
        linalg.yield %33 : f32
      }
    %28 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_10 = linalg.broadcast ins(%reduced_9 : tensor<1x2x?xf32>) outs(%28 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %29 = arith.divf %25, %broadcasted_10 : tensor<1x2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %29 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_12 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %30 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %31 = linalg.fill ins(%cst : f32) outs(%30 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %32 = linalg.batch_matmul ins(%collapsed_11, %collapsed_12 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%31 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_13 = tensor.expand_shape %32 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_13 : tensor<1x2x?x8xf32>
  }
}

// -----

// Sliding window of 16.
// CHECK-LABEL: func.func @sliding_window_16
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 15, 0>} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (d0, 0)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (0, d1)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @sliding_window_16(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c0_i64 = arith.constant 0 : i64
    %c16_i64 = arith.constant 16 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %33 = linalg.index 0 : index
      %34 = arith.index_cast %33 : index to i64
      %35 = arith.muli %34, %1 : i64
      %36 = arith.addi %35, %0 : i64
      linalg.yield %36 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_2 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_2 : tensor<1x?xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.subi %5, %7 : tensor<?x?xi64>
    %splat = tensor.splat %c0_i64[%dim, %dim] : tensor<?x?xi64>
    %9 = arith.cmpi sge, %8, %splat : tensor<?x?xi64>
    %splat_3 = tensor.splat %c16_i64[%dim, %dim] : tensor<?x?xi64>
    %10 = arith.cmpi slt, %8, %splat_3 : tensor<?x?xi64>
    %11 = arith.andi %9, %10 : tensor<?x?xi1>
    %12 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%12 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %13 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %15 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%14 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %15 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %16 = arith.mulf %expanded_5, %splat_6 : tensor<1x2x?x?xf32>
    %splat_7 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_8 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %17 = arith.select %11, %splat_7, %splat_8 : tensor<?x?xi1>, tensor<?x?xf32>
    %18 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %19 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%17 : tensor<?x?xf32>) outs(%18 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %20 = arith.addf %16, %19 : tensor<1x2x?x?xf32>
    %21 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %22 = linalg.fill ins(%cst_1 : f32) outs(%21 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%20 : tensor<1x2x?x?xf32>) outs(%22 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.maximumf %in, %init : f32
        linalg.yield %33 : f32
      }
    %23 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%23 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %24 = arith.subf %20, %broadcasted : tensor<1x2x?x?xf32>
    %25 = math.exp %24 : tensor<1x2x?x?xf32>
    %26 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %27 = linalg.fill ins(%cst : f32) outs(%26 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_9 = linalg.reduce ins(%25 : tensor<1x2x?x?xf32>) outs(%27 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.addf %in, %init : f32
        linalg.yield %33 : f32
      }
    %28 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_10 = linalg.broadcast ins(%reduced_9 : tensor<1x2x?xf32>) outs(%28 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %29 = arith.divf %25, %broadcasted_10 : tensor<1x2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %29 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_12 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %30 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %31 = linalg.fill ins(%cst : f32) outs(%30 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %32 = linalg.batch_matmul ins(%collapsed_11, %collapsed_12 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%31 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_13 = tensor.expand_shape %32 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_13 : tensor<1x2x?x8xf32>
  }
}

// -----

// Sliding window of 100.
// CHECK-LABEL: func.func @sliding_window_100
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 99, 0>} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (d0, 0)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (0, d1)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @sliding_window_100(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c0_i64 = arith.constant 0 : i64
    %c100_i64 = arith.constant 100 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %33 = linalg.index 0 : index
      %34 = arith.index_cast %33 : index to i64
      %35 = arith.muli %34, %1 : i64
      %36 = arith.addi %35, %0 : i64
      linalg.yield %36 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_2 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_2 : tensor<1x?xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.subi %5, %7 : tensor<?x?xi64>
    %splat = tensor.splat %c0_i64[%dim, %dim] : tensor<?x?xi64>
    %9 = arith.cmpi sge, %8, %splat : tensor<?x?xi64>
    %splat_3 = tensor.splat %c100_i64[%dim, %dim] : tensor<?x?xi64>
    %10 = arith.cmpi slt, %8, %splat_3 : tensor<?x?xi64>
    %11 = arith.andi %9, %10 : tensor<?x?xi1>
    %12 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%12 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %13 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %15 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%14 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %15 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %16 = arith.mulf %expanded_5, %splat_6 : tensor<1x2x?x?xf32>
    %splat_7 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_8 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %17 = arith.select %11, %splat_7, %splat_8 : tensor<?x?xi1>, tensor<?x?xf32>
    %18 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %19 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%17 : tensor<?x?xf32>) outs(%18 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %20 = arith.addf %16, %19 : tensor<1x2x?x?xf32>
    %21 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %22 = linalg.fill ins(%cst_1 : f32) outs(%21 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%20 : tensor<1x2x?x?xf32>) outs(%22 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.maximumf %in, %init : f32
        linalg.yield %33 : f32
      }
    %23 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%23 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %24 = arith.subf %20, %broadcasted : tensor<1x2x?x?xf32>
    %25 = math.exp %24 : tensor<1x2x?x?xf32>
    %26 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %27 = linalg.fill ins(%cst : f32) outs(%26 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_9 = linalg.reduce ins(%25 : tensor<1x2x?x?xf32>) outs(%27 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.addf %in, %init : f32
        linalg.yield %33 : f32
      }
    %28 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_10 = linalg.broadcast ins(%reduced_9 : tensor<1x2x?xf32>) outs(%28 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %29 = arith.divf %25, %broadcasted_10 : tensor<1x2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %29 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_12 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %30 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %31 = linalg.fill ins(%cst : f32) outs(%30 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %32 = linalg.batch_matmul ins(%collapsed_11, %collapsed_12 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%31 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_13 = tensor.expand_shape %32 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_13 : tensor<1x2x?x8xf32>
  }
}

// -----

// Sliding window of 1000 over a static length of 2048, positions computed
// by a linalg.generic (the importer folds Range only up to 4096 elements;
// this is its T = 8192 output at T = 2048).
// CHECK-LABEL: func.func @sliding_window_1000_static
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 999, 0>} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (d0, 0)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (0, d1)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @sliding_window_1000_static(%arg0: tensor<1x2x2048x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x2048x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x2048x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x2048x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant dense<0> : tensor<2048x2048xi64>
    %cst_0 = arith.constant dense<1000> : tensor<2048x2048xi64>
    %cst_1 = arith.constant 0.000000e+00 : f32
    %cst_2 = arith.constant dense<0.353553385> : tensor<1x2x2048x2048xf32>
    %cst_3 = arith.constant dense<0.000000e+00> : tensor<2048x2048xf32>
    %cst_4 = arith.constant dense<0xFF800000> : tensor<2048x2048xf32>
    %cst_5 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty() : tensor<2048xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<2048xi64>) {
    ^bb0(%out: i64):
      %33 = linalg.index 0 : index
      %34 = arith.index_cast %33 : index to i64
      %35 = arith.muli %34, %1 : i64
      %36 = arith.addi %35, %0 : i64
      linalg.yield %36 : i64
    } -> tensor<2048xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [2048, 1] : tensor<2048xi64> into tensor<2048x1xi64>
    %expanded_6 = tensor.expand_shape %3 [[0, 1]] output_shape [1, 2048] : tensor<2048xi64> into tensor<1x2048xi64>
    %4 = tensor.empty() : tensor<2048x2048xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<2048x1xi64>) outs(%4 : tensor<2048x2048xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<2048x2048xi64>
    %6 = tensor.empty() : tensor<2048x2048xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_6 : tensor<1x2048xi64>) outs(%6 : tensor<2048x2048xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<2048x2048xi64>
    %8 = arith.subi %5, %7 : tensor<2048x2048xi64>
    %9 = arith.cmpi sge, %8, %cst : tensor<2048x2048xi64>
    %10 = arith.cmpi slt, %8, %cst_0 : tensor<2048x2048xi64>
    %11 = arith.andi %9, %10 : tensor<2048x2048xi1>
    %12 = tensor.empty() : tensor<1x2x8x2048xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x2048x8xf32>) outs(%12 : tensor<1x2x8x2048xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x2048x8xf32> into tensor<2x2048x8xf32>
    %collapsed_7 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x2048xf32> into tensor<2x8x2048xf32>
    %13 = tensor.empty() : tensor<2x2048x2048xf32>
    %14 = linalg.fill ins(%cst_1 : f32) outs(%13 : tensor<2x2048x2048xf32>) -> tensor<2x2048x2048xf32>
    %15 = linalg.batch_matmul ins(%collapsed, %collapsed_7 : tensor<2x2048x8xf32>, tensor<2x8x2048xf32>) outs(%14 : tensor<2x2048x2048xf32>) -> tensor<2x2048x2048xf32>
    %expanded_8 = tensor.expand_shape %15 [[0, 1], [2], [3]] output_shape [1, 2, 2048, 2048] : tensor<2x2048x2048xf32> into tensor<1x2x2048x2048xf32>
    %16 = arith.mulf %expanded_8, %cst_2 : tensor<1x2x2048x2048xf32>
    %17 = arith.select %11, %cst_3, %cst_4 : tensor<2048x2048xi1>, tensor<2048x2048xf32>
    %18 = tensor.empty() : tensor<1x2x2048x2048xf32>
    %19 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%17 : tensor<2048x2048xf32>) outs(%18 : tensor<1x2x2048x2048xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x2048x2048xf32>
    %20 = arith.addf %16, %19 : tensor<1x2x2048x2048xf32>
    %21 = tensor.empty() : tensor<1x2x2048xf32>
    %22 = linalg.fill ins(%cst_5 : f32) outs(%21 : tensor<1x2x2048xf32>) -> tensor<1x2x2048xf32>
    %reduced = linalg.reduce ins(%20 : tensor<1x2x2048x2048xf32>) outs(%22 : tensor<1x2x2048xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.maximumf %in, %init : f32
        linalg.yield %33 : f32
      }
    %23 = tensor.empty() : tensor<1x2x2048x2048xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x2048xf32>) outs(%23 : tensor<1x2x2048x2048xf32>) dimensions = [3] 
    %24 = arith.subf %20, %broadcasted : tensor<1x2x2048x2048xf32>
    %25 = math.exp %24 : tensor<1x2x2048x2048xf32>
    %26 = tensor.empty() : tensor<1x2x2048xf32>
    %27 = linalg.fill ins(%cst_1 : f32) outs(%26 : tensor<1x2x2048xf32>) -> tensor<1x2x2048xf32>
    %reduced_9 = linalg.reduce ins(%25 : tensor<1x2x2048x2048xf32>) outs(%27 : tensor<1x2x2048xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.addf %in, %init : f32
        linalg.yield %33 : f32
      }
    %28 = tensor.empty() : tensor<1x2x2048x2048xf32>
    %broadcasted_10 = linalg.broadcast ins(%reduced_9 : tensor<1x2x2048xf32>) outs(%28 : tensor<1x2x2048x2048xf32>) dimensions = [3] 
    %29 = arith.divf %25, %broadcasted_10 : tensor<1x2x2048x2048xf32>
    %collapsed_11 = tensor.collapse_shape %29 [[0, 1], [2], [3]] : tensor<1x2x2048x2048xf32> into tensor<2x2048x2048xf32>
    %collapsed_12 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x2048x8xf32> into tensor<2x2048x8xf32>
    %30 = tensor.empty() : tensor<2x2048x8xf32>
    %31 = linalg.fill ins(%cst_1 : f32) outs(%30 : tensor<2x2048x8xf32>) -> tensor<2x2048x8xf32>
    %32 = linalg.batch_matmul ins(%collapsed_11, %collapsed_12 : tensor<2x2048x2048xf32>, tensor<2x2048x8xf32>) outs(%31 : tensor<2x2048x8xf32>) -> tensor<2x2048x8xf32>
    %expanded_13 = tensor.expand_shape %32 [[0, 1], [2], [3]] output_shape [1, 2, 2048, 8] : tensor<2x2048x8xf32> into tensor<1x2x2048x8xf32>
    return %expanded_13 : tensor<1x2x2048x8xf32>
  }
}

// -----

// Sliding window as tril(ones) - tril(ones, -9), cast to bool (Trilu k = -W).
// CHECK-LABEL: func.func @trilu_window_9
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 8, 0>} :
#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @trilu_window_9(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %cst = arith.constant 1.000000e+00 : f32
    %cst_0 = arith.constant 0.000000e+00 : f32
    %c-9 = arith.constant -9 : index
    %cst_1 = arith.constant 0.353553385 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %splat = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %0 = tensor.empty(%dim, %dim) : tensor<?x?xf32>
    %1 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%splat : tensor<?x?xf32>) outs(%0 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      %27 = linalg.index 0 : index
      %28 = linalg.index 1 : index
      %29 = arith.subi %28, %27 : index
      %30 = arith.cmpi sle, %29, %c0 : index
      %31 = arith.select %30, %in, %cst_0 : f32
      linalg.yield %31 : f32
    } -> tensor<?x?xf32>
    %2 = tensor.empty(%dim, %dim) : tensor<?x?xf32>
    %3 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%splat : tensor<?x?xf32>) outs(%2 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      %27 = linalg.index 0 : index
      %28 = linalg.index 1 : index
      %29 = arith.subi %28, %27 : index
      %30 = arith.cmpi sle, %29, %c-9 : index
      %31 = arith.select %30, %in, %cst_0 : f32
      linalg.yield %31 : f32
    } -> tensor<?x?xf32>
    %4 = arith.subf %1, %3 : tensor<?x?xf32>
    %splat_3 = tensor.splat %cst_0[%dim, %dim] : tensor<?x?xf32>
    %5 = arith.cmpf une, %4, %splat_3 : tensor<?x?xf32>
    %6 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%6 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %7 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %8 = linalg.fill ins(%cst_0 : f32) outs(%7 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %9 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%8 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded = tensor.expand_shape %9 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_5 = tensor.splat %cst_1[%dim, %dim] : tensor<1x2x?x?xf32>
    %10 = arith.mulf %expanded, %splat_5 : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_2[%dim, %dim] : tensor<?x?xf32>
    %11 = arith.select %5, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %12 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %13 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%11 : tensor<?x?xf32>) outs(%12 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %14 = arith.addf %10, %13 : tensor<1x2x?x?xf32>
    %15 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %16 = linalg.fill ins(%cst_2 : f32) outs(%15 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%14 : tensor<1x2x?x?xf32>) outs(%16 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %27 = arith.maximumf %in, %init : f32
        linalg.yield %27 : f32
      }
    %17 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%17 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %18 = arith.subf %14, %broadcasted : tensor<1x2x?x?xf32>
    %19 = math.exp %18 : tensor<1x2x?x?xf32>
    %20 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %21 = linalg.fill ins(%cst_0 : f32) outs(%20 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%19 : tensor<1x2x?x?xf32>) outs(%21 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %27 = arith.addf %in, %init : f32
        linalg.yield %27 : f32
      }
    %22 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%22 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %23 = arith.divf %19, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %23 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %24 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %25 = linalg.fill ins(%cst_0 : f32) outs(%24 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %26 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%25 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %26 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}

// -----

// tril(ones) - tril(ones, -16).
// CHECK-LABEL: func.func @trilu_window_16
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 15, 0>} :
#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @trilu_window_16(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %cst = arith.constant 1.000000e+00 : f32
    %cst_0 = arith.constant 0.000000e+00 : f32
    %c-16 = arith.constant -16 : index
    %cst_1 = arith.constant 0.353553385 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %splat = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %0 = tensor.empty(%dim, %dim) : tensor<?x?xf32>
    %1 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%splat : tensor<?x?xf32>) outs(%0 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      %27 = linalg.index 0 : index
      %28 = linalg.index 1 : index
      %29 = arith.subi %28, %27 : index
      %30 = arith.cmpi sle, %29, %c0 : index
      %31 = arith.select %30, %in, %cst_0 : f32
      linalg.yield %31 : f32
    } -> tensor<?x?xf32>
    %2 = tensor.empty(%dim, %dim) : tensor<?x?xf32>
    %3 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%splat : tensor<?x?xf32>) outs(%2 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      %27 = linalg.index 0 : index
      %28 = linalg.index 1 : index
      %29 = arith.subi %28, %27 : index
      %30 = arith.cmpi sle, %29, %c-16 : index
      %31 = arith.select %30, %in, %cst_0 : f32
      linalg.yield %31 : f32
    } -> tensor<?x?xf32>
    %4 = arith.subf %1, %3 : tensor<?x?xf32>
    %splat_3 = tensor.splat %cst_0[%dim, %dim] : tensor<?x?xf32>
    %5 = arith.cmpf une, %4, %splat_3 : tensor<?x?xf32>
    %6 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%6 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %7 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %8 = linalg.fill ins(%cst_0 : f32) outs(%7 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %9 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%8 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded = tensor.expand_shape %9 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_5 = tensor.splat %cst_1[%dim, %dim] : tensor<1x2x?x?xf32>
    %10 = arith.mulf %expanded, %splat_5 : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_2[%dim, %dim] : tensor<?x?xf32>
    %11 = arith.select %5, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %12 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %13 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%11 : tensor<?x?xf32>) outs(%12 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %14 = arith.addf %10, %13 : tensor<1x2x?x?xf32>
    %15 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %16 = linalg.fill ins(%cst_2 : f32) outs(%15 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%14 : tensor<1x2x?x?xf32>) outs(%16 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %27 = arith.maximumf %in, %init : f32
        linalg.yield %27 : f32
      }
    %17 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%17 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %18 = arith.subf %14, %broadcasted : tensor<1x2x?x?xf32>
    %19 = math.exp %18 : tensor<1x2x?x?xf32>
    %20 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %21 = linalg.fill ins(%cst_0 : f32) outs(%20 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%19 : tensor<1x2x?x?xf32>) outs(%21 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %27 = arith.addf %in, %init : f32
        linalg.yield %27 : f32
      }
    %22 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%22 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %23 = arith.divf %19, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %23 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %24 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %25 = linalg.fill ins(%cst_0 : f32) outs(%24 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %26 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%25 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %26 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}

// -----

// tril(ones) - tril(ones, -100).
// CHECK-LABEL: func.func @trilu_window_100
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 99, 0>} :
#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @trilu_window_100(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %cst = arith.constant 1.000000e+00 : f32
    %cst_0 = arith.constant 0.000000e+00 : f32
    %c-100 = arith.constant -100 : index
    %cst_1 = arith.constant 0.353553385 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %splat = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %0 = tensor.empty(%dim, %dim) : tensor<?x?xf32>
    %1 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%splat : tensor<?x?xf32>) outs(%0 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      %27 = linalg.index 0 : index
      %28 = linalg.index 1 : index
      %29 = arith.subi %28, %27 : index
      %30 = arith.cmpi sle, %29, %c0 : index
      %31 = arith.select %30, %in, %cst_0 : f32
      linalg.yield %31 : f32
    } -> tensor<?x?xf32>
    %2 = tensor.empty(%dim, %dim) : tensor<?x?xf32>
    %3 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%splat : tensor<?x?xf32>) outs(%2 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      %27 = linalg.index 0 : index
      %28 = linalg.index 1 : index
      %29 = arith.subi %28, %27 : index
      %30 = arith.cmpi sle, %29, %c-100 : index
      %31 = arith.select %30, %in, %cst_0 : f32
      linalg.yield %31 : f32
    } -> tensor<?x?xf32>
    %4 = arith.subf %1, %3 : tensor<?x?xf32>
    %splat_3 = tensor.splat %cst_0[%dim, %dim] : tensor<?x?xf32>
    %5 = arith.cmpf une, %4, %splat_3 : tensor<?x?xf32>
    %6 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%6 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %7 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %8 = linalg.fill ins(%cst_0 : f32) outs(%7 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %9 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%8 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded = tensor.expand_shape %9 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_5 = tensor.splat %cst_1[%dim, %dim] : tensor<1x2x?x?xf32>
    %10 = arith.mulf %expanded, %splat_5 : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_2[%dim, %dim] : tensor<?x?xf32>
    %11 = arith.select %5, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %12 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %13 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%11 : tensor<?x?xf32>) outs(%12 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %14 = arith.addf %10, %13 : tensor<1x2x?x?xf32>
    %15 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %16 = linalg.fill ins(%cst_2 : f32) outs(%15 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%14 : tensor<1x2x?x?xf32>) outs(%16 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %27 = arith.maximumf %in, %init : f32
        linalg.yield %27 : f32
      }
    %17 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%17 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %18 = arith.subf %14, %broadcasted : tensor<1x2x?x?xf32>
    %19 = math.exp %18 : tensor<1x2x?x?xf32>
    %20 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %21 = linalg.fill ins(%cst_0 : f32) outs(%20 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%19 : tensor<1x2x?x?xf32>) outs(%21 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %27 = arith.addf %in, %init : f32
        linalg.yield %27 : f32
      }
    %22 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%22 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %23 = arith.divf %19, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %23 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %24 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %25 = linalg.fill ins(%cst_0 : f32) outs(%24 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %26 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%25 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %26 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}

// -----

// tril(ones) - tril(ones, -1000) over a static length of 2048.
// CHECK-LABEL: func.func @trilu_window_1000_static
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 999, 0>} :
#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @trilu_window_1000_static(%arg0: tensor<1x2x2048x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x2048x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x2048x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x2048x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense<1.000000e+00> : tensor<2048x2048xf32>
    %c0 = arith.constant 0 : index
    %cst_0 = arith.constant 0.000000e+00 : f32
    %c-1000 = arith.constant -1000 : index
    %cst_1 = arith.constant dense<0.000000e+00> : tensor<2048x2048xf32>
    %cst_2 = arith.constant dense<0.353553385> : tensor<1x2x2048x2048xf32>
    %cst_3 = arith.constant dense<0xFF800000> : tensor<2048x2048xf32>
    %cst_4 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<2048x2048xf32>
    %1 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%cst : tensor<2048x2048xf32>) outs(%0 : tensor<2048x2048xf32>) {
    ^bb0(%in: f32, %out: f32):
      %27 = linalg.index 0 : index
      %28 = linalg.index 1 : index
      %29 = arith.subi %28, %27 : index
      %30 = arith.cmpi sle, %29, %c0 : index
      %31 = arith.select %30, %in, %cst_0 : f32
      linalg.yield %31 : f32
    } -> tensor<2048x2048xf32>
    %2 = tensor.empty() : tensor<2048x2048xf32>
    %3 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%cst : tensor<2048x2048xf32>) outs(%2 : tensor<2048x2048xf32>) {
    ^bb0(%in: f32, %out: f32):
      %27 = linalg.index 0 : index
      %28 = linalg.index 1 : index
      %29 = arith.subi %28, %27 : index
      %30 = arith.cmpi sle, %29, %c-1000 : index
      %31 = arith.select %30, %in, %cst_0 : f32
      linalg.yield %31 : f32
    } -> tensor<2048x2048xf32>
    %4 = arith.subf %1, %3 : tensor<2048x2048xf32>
    %5 = arith.cmpf une, %4, %cst_1 : tensor<2048x2048xf32>
    %6 = tensor.empty() : tensor<1x2x8x2048xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x2048x8xf32>) outs(%6 : tensor<1x2x8x2048xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x2048x8xf32> into tensor<2x2048x8xf32>
    %collapsed_5 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x2048xf32> into tensor<2x8x2048xf32>
    %7 = tensor.empty() : tensor<2x2048x2048xf32>
    %8 = linalg.fill ins(%cst_0 : f32) outs(%7 : tensor<2x2048x2048xf32>) -> tensor<2x2048x2048xf32>
    %9 = linalg.batch_matmul ins(%collapsed, %collapsed_5 : tensor<2x2048x8xf32>, tensor<2x8x2048xf32>) outs(%8 : tensor<2x2048x2048xf32>) -> tensor<2x2048x2048xf32>
    %expanded = tensor.expand_shape %9 [[0, 1], [2], [3]] output_shape [1, 2, 2048, 2048] : tensor<2x2048x2048xf32> into tensor<1x2x2048x2048xf32>
    %10 = arith.mulf %expanded, %cst_2 : tensor<1x2x2048x2048xf32>
    %11 = arith.select %5, %cst_1, %cst_3 : tensor<2048x2048xi1>, tensor<2048x2048xf32>
    %12 = tensor.empty() : tensor<1x2x2048x2048xf32>
    %13 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%11 : tensor<2048x2048xf32>) outs(%12 : tensor<1x2x2048x2048xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x2048x2048xf32>
    %14 = arith.addf %10, %13 : tensor<1x2x2048x2048xf32>
    %15 = tensor.empty() : tensor<1x2x2048xf32>
    %16 = linalg.fill ins(%cst_4 : f32) outs(%15 : tensor<1x2x2048xf32>) -> tensor<1x2x2048xf32>
    %reduced = linalg.reduce ins(%14 : tensor<1x2x2048x2048xf32>) outs(%16 : tensor<1x2x2048xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %27 = arith.maximumf %in, %init : f32
        linalg.yield %27 : f32
      }
    %17 = tensor.empty() : tensor<1x2x2048x2048xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x2048xf32>) outs(%17 : tensor<1x2x2048x2048xf32>) dimensions = [3] 
    %18 = arith.subf %14, %broadcasted : tensor<1x2x2048x2048xf32>
    %19 = math.exp %18 : tensor<1x2x2048x2048xf32>
    %20 = tensor.empty() : tensor<1x2x2048xf32>
    %21 = linalg.fill ins(%cst_0 : f32) outs(%20 : tensor<1x2x2048xf32>) -> tensor<1x2x2048xf32>
    %reduced_6 = linalg.reduce ins(%19 : tensor<1x2x2048x2048xf32>) outs(%21 : tensor<1x2x2048xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %27 = arith.addf %in, %init : f32
        linalg.yield %27 : f32
      }
    %22 = tensor.empty() : tensor<1x2x2048x2048xf32>
    %broadcasted_7 = linalg.broadcast ins(%reduced_6 : tensor<1x2x2048xf32>) outs(%22 : tensor<1x2x2048x2048xf32>) dimensions = [3] 
    %23 = arith.divf %19, %broadcasted_7 : tensor<1x2x2048x2048xf32>
    %collapsed_8 = tensor.collapse_shape %23 [[0, 1], [2], [3]] : tensor<1x2x2048x2048xf32> into tensor<2x2048x2048xf32>
    %collapsed_9 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x2048x8xf32> into tensor<2x2048x8xf32>
    %24 = tensor.empty() : tensor<2x2048x8xf32>
    %25 = linalg.fill ins(%cst_0 : f32) outs(%24 : tensor<2x2048x8xf32>) -> tensor<2x2048x8xf32>
    %26 = linalg.batch_matmul ins(%collapsed_8, %collapsed_9 : tensor<2x2048x2048xf32>, tensor<2x2048x8xf32>) outs(%25 : tensor<2x2048x8xf32>) -> tensor<2x2048x8xf32>
    %expanded_10 = tensor.expand_shape %26 [[0, 1], [2], [3]] output_shape [1, 2, 2048, 8] : tensor<2x2048x8xf32> into tensor<1x2x2048x8xf32>
    return %expanded_10 : tensor<1x2x2048x8xf32>
  }
}

// -----

// Sliding window of 9 folded into a [16, 16] constant.
// CHECK-LABEL: func.func @sliding_window_folded
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 8, 0>} :
#map = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @sliding_window_folded(%arg0: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant dense<0.353553385> : tensor<1x2x16x16xf32>
    %cst_1 = arith.constant dense_resource<onnx_folded> : tensor<16x16xf32>
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<1x2x8x16xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x16x8xf32>) outs(%0 : tensor<1x2x8x16xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x16x8xf32> into tensor<2x16x8xf32>
    %collapsed_3 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x16xf32> into tensor<2x8x16xf32>
    %1 = tensor.empty() : tensor<2x16x16xf32>
    %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
    %3 = linalg.batch_matmul ins(%collapsed, %collapsed_3 : tensor<2x16x8xf32>, tensor<2x8x16xf32>) outs(%2 : tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
    %expanded = tensor.expand_shape %3 [[0, 1], [2], [3]] output_shape [1, 2, 16, 16] : tensor<2x16x16xf32> into tensor<1x2x16x16xf32>
    %4 = arith.mulf %expanded, %cst_0 : tensor<1x2x16x16xf32>
    %5 = tensor.empty() : tensor<1x2x16x16xf32>
    %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst_1 : tensor<16x16xf32>) outs(%5 : tensor<1x2x16x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x16x16xf32>
    %7 = arith.addf %4, %6 : tensor<1x2x16x16xf32>
    %8 = tensor.empty() : tensor<1x2x16xf32>
    %9 = linalg.fill ins(%cst_2 : f32) outs(%8 : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
    %reduced = linalg.reduce ins(%7 : tensor<1x2x16x16xf32>) outs(%9 : tensor<1x2x16xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.maximumf %in, %init : f32
        linalg.yield %20 : f32
      }
    %10 = tensor.empty() : tensor<1x2x16x16xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x16xf32>) outs(%10 : tensor<1x2x16x16xf32>) dimensions = [3] 
    %11 = arith.subf %7, %broadcasted : tensor<1x2x16x16xf32>
    %12 = math.exp %11 : tensor<1x2x16x16xf32>
    %13 = tensor.empty() : tensor<1x2x16xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
    %reduced_4 = linalg.reduce ins(%12 : tensor<1x2x16x16xf32>) outs(%14 : tensor<1x2x16xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.addf %in, %init : f32
        linalg.yield %20 : f32
      }
    %15 = tensor.empty() : tensor<1x2x16x16xf32>
    %broadcasted_5 = linalg.broadcast ins(%reduced_4 : tensor<1x2x16xf32>) outs(%15 : tensor<1x2x16x16xf32>) dimensions = [3] 
    %16 = arith.divf %12, %broadcasted_5 : tensor<1x2x16x16xf32>
    %collapsed_6 = tensor.collapse_shape %16 [[0, 1], [2], [3]] : tensor<1x2x16x16xf32> into tensor<2x16x16xf32>
    %collapsed_7 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x16x8xf32> into tensor<2x16x8xf32>
    %17 = tensor.empty() : tensor<2x16x8xf32>
    %18 = linalg.fill ins(%cst : f32) outs(%17 : tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
    %19 = linalg.batch_matmul ins(%collapsed_6, %collapsed_7 : tensor<2x16x16xf32>, tensor<2x16x8xf32>) outs(%18 : tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
    %expanded_8 = tensor.expand_shape %19 [[0, 1], [2], [3]] output_shape [1, 2, 16, 8] : tensor<2x16x8xf32> into tensor<1x2x16x8xf32>
    return %expanded_8 : tensor<1x2x16x8xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      onnx_folded: "0x0800000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF0000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF00000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF0000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF00000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF0000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000000080FF000080FF000080FF000080FF000080FF000080FF000080FF000080FF000000000000000000000000000000000000000000000000000000000000000000000000"
    }
  }
#-}

// -----

// A baked causal mask [1, 1, 32, 32] with one entry, (30, 20), flipped to false.
// CHECK-LABEL: func.func @initializer_one_flipped
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @initializer_one_flipped(%arg0: tensor<1x2x32x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x32x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x32x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x32x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant dense<0.353553385> : tensor<1x2x32x32xf32>
    %cst_1 = arith.constant dense<"0x0100000003000000070000000F0000001F0000003F0000007F000000FF000000FF010000FF030000FF070000FF0F0000FF1F0000FF3F0000FF7F0000FFFF0000FFFF0100FFFF0300FFFF0700FFFF0F00FFFF1F00FFFF3F00FFFF7F00FFFFFF00FFFFFF01FFFFFF03FFFFFF07FFFFFF0FFFFFFF1FFFFFFF3FFFFFEF7FFFFFFFFF"> : tensor<1x1x32x32xi1>
    %cst_2 = arith.constant dense<0xFF800000> : tensor<1x2x32x32xf32>
    %cst_3 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<1x2x8x32xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x32x8xf32>) outs(%0 : tensor<1x2x8x32xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x32x8xf32> into tensor<2x32x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x32xf32> into tensor<2x8x32xf32>
    %1 = tensor.empty() : tensor<2x32x32xf32>
    %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<2x32x32xf32>) -> tensor<2x32x32xf32>
    %3 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x32x8xf32>, tensor<2x8x32xf32>) outs(%2 : tensor<2x32x32xf32>) -> tensor<2x32x32xf32>
    %expanded = tensor.expand_shape %3 [[0, 1], [2], [3]] output_shape [1, 2, 32, 32] : tensor<2x32x32xf32> into tensor<1x2x32x32xf32>
    %4 = arith.mulf %expanded, %cst_0 : tensor<1x2x32x32xf32>
    %5 = tensor.empty() : tensor<1x2x32x32xi1>
    %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst_1 : tensor<1x1x32x32xi1>) outs(%5 : tensor<1x2x32x32xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<1x2x32x32xi1>
    %7 = arith.select %6, %4, %cst_2 : tensor<1x2x32x32xi1>, tensor<1x2x32x32xf32>
    %8 = tensor.empty() : tensor<1x2x32xf32>
    %9 = linalg.fill ins(%cst_3 : f32) outs(%8 : tensor<1x2x32xf32>) -> tensor<1x2x32xf32>
    %reduced = linalg.reduce ins(%7 : tensor<1x2x32x32xf32>) outs(%9 : tensor<1x2x32xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.maximumf %in, %init : f32
        linalg.yield %20 : f32
      }
    %10 = tensor.empty() : tensor<1x2x32x32xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x32xf32>) outs(%10 : tensor<1x2x32x32xf32>) dimensions = [3] 
    %11 = arith.subf %7, %broadcasted : tensor<1x2x32x32xf32>
    %12 = math.exp %11 : tensor<1x2x32x32xf32>
    %13 = tensor.empty() : tensor<1x2x32xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x2x32xf32>) -> tensor<1x2x32xf32>
    %reduced_5 = linalg.reduce ins(%12 : tensor<1x2x32x32xf32>) outs(%14 : tensor<1x2x32xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.addf %in, %init : f32
        linalg.yield %20 : f32
      }
    %15 = tensor.empty() : tensor<1x2x32x32xf32>
    %broadcasted_6 = linalg.broadcast ins(%reduced_5 : tensor<1x2x32xf32>) outs(%15 : tensor<1x2x32x32xf32>) dimensions = [3] 
    %16 = arith.divf %12, %broadcasted_6 : tensor<1x2x32x32xf32>
    %collapsed_7 = tensor.collapse_shape %16 [[0, 1], [2], [3]] : tensor<1x2x32x32xf32> into tensor<2x32x32xf32>
    %collapsed_8 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x32x8xf32> into tensor<2x32x8xf32>
    %17 = tensor.empty() : tensor<2x32x8xf32>
    %18 = linalg.fill ins(%cst : f32) outs(%17 : tensor<2x32x8xf32>) -> tensor<2x32x8xf32>
    %19 = linalg.batch_matmul ins(%collapsed_7, %collapsed_8 : tensor<2x32x32xf32>, tensor<2x32x8xf32>) outs(%18 : tensor<2x32x8xf32>) -> tensor<2x32x8xf32>
    %expanded_9 = tensor.expand_shape %19 [[0, 1], [2], [3]] output_shape [1, 2, 32, 8] : tensor<2x32x8xf32> into tensor<1x2x32x8xf32>
    return %expanded_9 : tensor<1x2x32x8xf32>
  }
}

// -----

// A baked causal mask [1, 1, 64, 64] with (50, 60), above the diagonal, set.
// CHECK-LABEL: func.func @initializer_one_flipped_above
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @initializer_one_flipped_above(%arg0: tensor<1x2x64x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x64x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x64x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x64x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant dense<0.353553385> : tensor<1x2x64x64xf32>
    %cst_1 = arith.constant dense<"0x0100000000000000030000000000000007000000000000000F000000000000001F000000000000003F000000000000007F00000000000000FF00000000000000FF01000000000000FF03000000000000FF07000000000000FF0F000000000000FF1F000000000000FF3F000000000000FF7F000000000000FFFF000000000000FFFF010000000000FFFF030000000000FFFF070000000000FFFF0F0000000000FFFF1F0000000000FFFF3F0000000000FFFF7F0000000000FFFFFF0000000000FFFFFF0100000000FFFFFF0300000000FFFFFF0700000000FFFFFF0F00000000FFFFFF1F00000000FFFFFF3F00000000FFFFFF7F00000000FFFFFFFF00000000FFFFFFFF01000000FFFFFFFF03000000FFFFFFFF07000000FFFFFFFF0F000000FFFFFFFF1F000000FFFFFFFF3F000000FFFFFFFF7F000000FFFFFFFFFF000000FFFFFFFFFF010000FFFFFFFFFF030000FFFFFFFFFF070000FFFFFFFFFF0F0000FFFFFFFFFF1F0000FFFFFFFFFF3F0000FFFFFFFFFF7F0000FFFFFFFFFFFF0000FFFFFFFFFFFF0100FFFFFFFFFFFF0300FFFFFFFFFFFF0710FFFFFFFFFFFF0F00FFFFFFFFFFFF1F00FFFFFFFFFFFF3F00FFFFFFFFFFFF7F00FFFFFFFFFFFFFF00FFFFFFFFFFFFFF01FFFFFFFFFFFFFF03FFFFFFFFFFFFFF07FFFFFFFFFFFFFF0FFFFFFFFFFFFFFF1FFFFFFFFFFFFFFF3FFFFFFFFFFFFFFF7FFFFFFFFFFFFFFFFF"> : tensor<1x1x64x64xi1>
    %cst_2 = arith.constant dense<0xFF800000> : tensor<1x2x64x64xf32>
    %cst_3 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<1x2x8x64xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x64x8xf32>) outs(%0 : tensor<1x2x8x64xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x64x8xf32> into tensor<2x64x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x64xf32> into tensor<2x8x64xf32>
    %1 = tensor.empty() : tensor<2x64x64xf32>
    %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<2x64x64xf32>) -> tensor<2x64x64xf32>
    %3 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x64x8xf32>, tensor<2x8x64xf32>) outs(%2 : tensor<2x64x64xf32>) -> tensor<2x64x64xf32>
    %expanded = tensor.expand_shape %3 [[0, 1], [2], [3]] output_shape [1, 2, 64, 64] : tensor<2x64x64xf32> into tensor<1x2x64x64xf32>
    %4 = arith.mulf %expanded, %cst_0 : tensor<1x2x64x64xf32>
    %5 = tensor.empty() : tensor<1x2x64x64xi1>
    %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst_1 : tensor<1x1x64x64xi1>) outs(%5 : tensor<1x2x64x64xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<1x2x64x64xi1>
    %7 = arith.select %6, %4, %cst_2 : tensor<1x2x64x64xi1>, tensor<1x2x64x64xf32>
    %8 = tensor.empty() : tensor<1x2x64xf32>
    %9 = linalg.fill ins(%cst_3 : f32) outs(%8 : tensor<1x2x64xf32>) -> tensor<1x2x64xf32>
    %reduced = linalg.reduce ins(%7 : tensor<1x2x64x64xf32>) outs(%9 : tensor<1x2x64xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.maximumf %in, %init : f32
        linalg.yield %20 : f32
      }
    %10 = tensor.empty() : tensor<1x2x64x64xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x64xf32>) outs(%10 : tensor<1x2x64x64xf32>) dimensions = [3] 
    %11 = arith.subf %7, %broadcasted : tensor<1x2x64x64xf32>
    %12 = math.exp %11 : tensor<1x2x64x64xf32>
    %13 = tensor.empty() : tensor<1x2x64xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x2x64xf32>) -> tensor<1x2x64xf32>
    %reduced_5 = linalg.reduce ins(%12 : tensor<1x2x64x64xf32>) outs(%14 : tensor<1x2x64xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.addf %in, %init : f32
        linalg.yield %20 : f32
      }
    %15 = tensor.empty() : tensor<1x2x64x64xf32>
    %broadcasted_6 = linalg.broadcast ins(%reduced_5 : tensor<1x2x64xf32>) outs(%15 : tensor<1x2x64x64xf32>) dimensions = [3] 
    %16 = arith.divf %12, %broadcasted_6 : tensor<1x2x64x64xf32>
    %collapsed_7 = tensor.collapse_shape %16 [[0, 1], [2], [3]] : tensor<1x2x64x64xf32> into tensor<2x64x64xf32>
    %collapsed_8 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x64x8xf32> into tensor<2x64x8xf32>
    %17 = tensor.empty() : tensor<2x64x8xf32>
    %18 = linalg.fill ins(%cst : f32) outs(%17 : tensor<2x64x8xf32>) -> tensor<2x64x8xf32>
    %19 = linalg.batch_matmul ins(%collapsed_7, %collapsed_8 : tensor<2x64x64xf32>, tensor<2x64x8xf32>) outs(%18 : tensor<2x64x8xf32>) -> tensor<2x64x8xf32>
    %expanded_9 = tensor.expand_shape %19 [[0, 1], [2], [3]] output_shape [1, 2, 64, 8] : tensor<2x64x8xf32> into tensor<1x2x64x8xf32>
    return %expanded_9 : tensor<1x2x64x8xf32>
  }
}

// -----

// (j <= i) && !(i == 12 && j == 3), dynamic length: depends on i and j
// separately, nothing is proven.
// CHECK-LABEL: func.func @causal_except_one
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (d0, 0)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (0, d1)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_except_one(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c12_i64 = arith.constant 12 : i64
    %c3_i64 = arith.constant 3 : i64
    %true = arith.constant true
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %39 = linalg.index 0 : index
      %40 = arith.index_cast %39 : index to i64
      %41 = arith.muli %40, %1 : i64
      %42 = arith.addi %41, %0 : i64
      linalg.yield %42 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_2 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %splat = tensor.splat %c12_i64[%dim] : tensor<?x1xi64>
    %4 = arith.cmpi eq, %expanded, %splat : tensor<?x1xi64>
    %splat_3 = tensor.splat %c3_i64[%dim] : tensor<1x?xi64>
    %5 = arith.cmpi eq, %expanded_2, %splat_3 : tensor<1x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi1>
    %7 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%4 : tensor<?x1xi1>) outs(%6 : tensor<?x?xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<?x?xi1>
    %8 = tensor.empty(%dim, %dim) : tensor<?x?xi1>
    %9 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%5 : tensor<1x?xi1>) outs(%8 : tensor<?x?xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<?x?xi1>
    %10 = arith.andi %7, %9 : tensor<?x?xi1>
    %11 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %12 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_2 : tensor<1x?xi64>) outs(%11 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %13 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %14 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%13 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %15 = arith.cmpi sle, %12, %14 : tensor<?x?xi64>
    %splat_4 = tensor.splat %true[%dim, %dim] : tensor<?x?xi1>
    %16 = arith.xori %10, %splat_4 : tensor<?x?xi1>
    %17 = arith.andi %15, %16 : tensor<?x?xi1>
    %18 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%18 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_5 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %19 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %20 = linalg.fill ins(%cst : f32) outs(%19 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %21 = linalg.batch_matmul ins(%collapsed, %collapsed_5 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%20 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_6 = tensor.expand_shape %21 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_7 = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %22 = arith.mulf %expanded_6, %splat_7 : tensor<1x2x?x?xf32>
    %splat_8 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_9 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %23 = arith.select %17, %splat_8, %splat_9 : tensor<?x?xi1>, tensor<?x?xf32>
    %24 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %25 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%23 : tensor<?x?xf32>) outs(%24 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %26 = arith.addf %22, %25 : tensor<1x2x?x?xf32>
    %27 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %28 = linalg.fill ins(%cst_1 : f32) outs(%27 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%26 : tensor<1x2x?x?xf32>) outs(%28 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %39 = arith.maximumf %in, %init : f32
        linalg.yield %39 : f32
      }
    %29 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%29 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %30 = arith.subf %26, %broadcasted : tensor<1x2x?x?xf32>
    %31 = math.exp %30 : tensor<1x2x?x?xf32>
    %32 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %33 = linalg.fill ins(%cst : f32) outs(%32 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_10 = linalg.reduce ins(%31 : tensor<1x2x?x?xf32>) outs(%33 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %39 = arith.addf %in, %init : f32
        linalg.yield %39 : f32
      }
    %34 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_11 = linalg.broadcast ins(%reduced_10 : tensor<1x2x?xf32>) outs(%34 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %35 = arith.divf %31, %broadcasted_11 : tensor<1x2x?x?xf32>
    %collapsed_12 = tensor.collapse_shape %35 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_13 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %36 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %37 = linalg.fill ins(%cst : f32) outs(%36 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %38 = linalg.batch_matmul ins(%collapsed_12, %collapsed_13 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%37 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_14 = tensor.expand_shape %38 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_14 : tensor<1x2x?x8xf32>
  }
}

// -----

// (j <= i) && !(i == 100 && j == 30), static length 128: found position by position.
// CHECK-LABEL: func.func @causal_except_one_static
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0, d1) -> (d0, 0)>
#map1 = affine_map<(d0, d1) -> (d0, d1)>
#map2 = affine_map<(d0, d1) -> (0, d1)>
#map3 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @causal_except_one_static(%arg0: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x128x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense<"0x00000000000000000000000010000000"> : tensor<128x1xi1>
    %cst_0 = arith.constant dense<"0x00000040000000000000000000000000"> : tensor<1x128xi1>
    %cst_1 = arith.constant dense_resource<onnx_folded> : tensor<1x128xi64>
    %cst_2 = arith.constant dense_resource<onnx_folded_1> : tensor<128x1xi64>
    %cst_3 = arith.constant dense<true> : tensor<128x128xi1>
    %cst_4 = arith.constant 0.000000e+00 : f32
    %cst_5 = arith.constant dense<0.353553385> : tensor<1x2x128x128xf32>
    %cst_6 = arith.constant dense<0.000000e+00> : tensor<128x128xf32>
    %cst_7 = arith.constant dense<0xFF800000> : tensor<128x128xf32>
    %cst_8 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<128x128xi1>
    %1 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst : tensor<128x1xi1>) outs(%0 : tensor<128x128xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<128x128xi1>
    %2 = tensor.empty() : tensor<128x128xi1>
    %3 = linalg.generic {indexing_maps = [#map2, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_0 : tensor<1x128xi1>) outs(%2 : tensor<128x128xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<128x128xi1>
    %4 = arith.andi %1, %3 : tensor<128x128xi1>
    %5 = tensor.empty() : tensor<128x128xi64>
    %6 = linalg.generic {indexing_maps = [#map2, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_1 : tensor<1x128xi64>) outs(%5 : tensor<128x128xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<128x128xi64>
    %7 = tensor.empty() : tensor<128x128xi64>
    %8 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%cst_2 : tensor<128x1xi64>) outs(%7 : tensor<128x128xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<128x128xi64>
    %9 = arith.cmpi sle, %6, %8 : tensor<128x128xi64>
    %10 = arith.xori %4, %cst_3 : tensor<128x128xi1>
    %11 = arith.andi %9, %10 : tensor<128x128xi1>
    %12 = tensor.empty() : tensor<1x2x8x128xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x128x8xf32>) outs(%12 : tensor<1x2x8x128xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x128x8xf32> into tensor<2x128x8xf32>
    %collapsed_9 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x128xf32> into tensor<2x8x128xf32>
    %13 = tensor.empty() : tensor<2x128x128xf32>
    %14 = linalg.fill ins(%cst_4 : f32) outs(%13 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
    %15 = linalg.batch_matmul ins(%collapsed, %collapsed_9 : tensor<2x128x8xf32>, tensor<2x8x128xf32>) outs(%14 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
    %expanded = tensor.expand_shape %15 [[0, 1], [2], [3]] output_shape [1, 2, 128, 128] : tensor<2x128x128xf32> into tensor<1x2x128x128xf32>
    %16 = arith.mulf %expanded, %cst_5 : tensor<1x2x128x128xf32>
    %17 = arith.select %11, %cst_6, %cst_7 : tensor<128x128xi1>, tensor<128x128xf32>
    %18 = tensor.empty() : tensor<1x2x128x128xf32>
    %19 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%17 : tensor<128x128xf32>) outs(%18 : tensor<1x2x128x128xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x128x128xf32>
    %20 = arith.addf %16, %19 : tensor<1x2x128x128xf32>
    %21 = tensor.empty() : tensor<1x2x128xf32>
    %22 = linalg.fill ins(%cst_8 : f32) outs(%21 : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
    %reduced = linalg.reduce ins(%20 : tensor<1x2x128x128xf32>) outs(%22 : tensor<1x2x128xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.maximumf %in, %init : f32
        linalg.yield %33 : f32
      }
    %23 = tensor.empty() : tensor<1x2x128x128xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x128xf32>) outs(%23 : tensor<1x2x128x128xf32>) dimensions = [3] 
    %24 = arith.subf %20, %broadcasted : tensor<1x2x128x128xf32>
    %25 = math.exp %24 : tensor<1x2x128x128xf32>
    %26 = tensor.empty() : tensor<1x2x128xf32>
    %27 = linalg.fill ins(%cst_4 : f32) outs(%26 : tensor<1x2x128xf32>) -> tensor<1x2x128xf32>
    %reduced_10 = linalg.reduce ins(%25 : tensor<1x2x128x128xf32>) outs(%27 : tensor<1x2x128xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.addf %in, %init : f32
        linalg.yield %33 : f32
      }
    %28 = tensor.empty() : tensor<1x2x128x128xf32>
    %broadcasted_11 = linalg.broadcast ins(%reduced_10 : tensor<1x2x128xf32>) outs(%28 : tensor<1x2x128x128xf32>) dimensions = [3] 
    %29 = arith.divf %25, %broadcasted_11 : tensor<1x2x128x128xf32>
    %collapsed_12 = tensor.collapse_shape %29 [[0, 1], [2], [3]] : tensor<1x2x128x128xf32> into tensor<2x128x128xf32>
    %collapsed_13 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x128x8xf32> into tensor<2x128x8xf32>
    %30 = tensor.empty() : tensor<2x128x8xf32>
    %31 = linalg.fill ins(%cst_4 : f32) outs(%30 : tensor<2x128x8xf32>) -> tensor<2x128x8xf32>
    %32 = linalg.batch_matmul ins(%collapsed_12, %collapsed_13 : tensor<2x128x128xf32>, tensor<2x128x8xf32>) outs(%31 : tensor<2x128x8xf32>) -> tensor<2x128x8xf32>
    %expanded_14 = tensor.expand_shape %32 [[0, 1], [2], [3]] output_shape [1, 2, 128, 8] : tensor<2x128x8xf32> into tensor<1x2x128x8xf32>
    return %expanded_14 : tensor<1x2x128x8xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      onnx_folded: "0x0800000000000000000000000100000000000000020000000000000003000000000000000400000000000000050000000000000006000000000000000700000000000000080000000000000009000000000000000A000000000000000B000000000000000C000000000000000D000000000000000E000000000000000F0000000000000010000000000000001100000000000000120000000000000013000000000000001400000000000000150000000000000016000000000000001700000000000000180000000000000019000000000000001A000000000000001B000000000000001C000000000000001D000000000000001E000000000000001F0000000000000020000000000000002100000000000000220000000000000023000000000000002400000000000000250000000000000026000000000000002700000000000000280000000000000029000000000000002A000000000000002B000000000000002C000000000000002D000000000000002E000000000000002F0000000000000030000000000000003100000000000000320000000000000033000000000000003400000000000000350000000000000036000000000000003700000000000000380000000000000039000000000000003A000000000000003B000000000000003C000000000000003D000000000000003E000000000000003F0000000000000040000000000000004100000000000000420000000000000043000000000000004400000000000000450000000000000046000000000000004700000000000000480000000000000049000000000000004A000000000000004B000000000000004C000000000000004D000000000000004E000000000000004F0000000000000050000000000000005100000000000000520000000000000053000000000000005400000000000000550000000000000056000000000000005700000000000000580000000000000059000000000000005A000000000000005B000000000000005C000000000000005D000000000000005E000000000000005F0000000000000060000000000000006100000000000000620000000000000063000000000000006400000000000000650000000000000066000000000000006700000000000000680000000000000069000000000000006A000000000000006B000000000000006C000000000000006D000000000000006E000000000000006F0000000000000070000000000000007100000000000000720000000000000073000000000000007400000000000000750000000000000076000000000000007700000000000000780000000000000079000000000000007A000000000000007B000000000000007C000000000000007D000000000000007E000000000000007F00000000000000",
      onnx_folded_1: "0x0800000000000000000000000100000000000000020000000000000003000000000000000400000000000000050000000000000006000000000000000700000000000000080000000000000009000000000000000A000000000000000B000000000000000C000000000000000D000000000000000E000000000000000F0000000000000010000000000000001100000000000000120000000000000013000000000000001400000000000000150000000000000016000000000000001700000000000000180000000000000019000000000000001A000000000000001B000000000000001C000000000000001D000000000000001E000000000000001F0000000000000020000000000000002100000000000000220000000000000023000000000000002400000000000000250000000000000026000000000000002700000000000000280000000000000029000000000000002A000000000000002B000000000000002C000000000000002D000000000000002E000000000000002F0000000000000030000000000000003100000000000000320000000000000033000000000000003400000000000000350000000000000036000000000000003700000000000000380000000000000039000000000000003A000000000000003B000000000000003C000000000000003D000000000000003E000000000000003F0000000000000040000000000000004100000000000000420000000000000043000000000000004400000000000000450000000000000046000000000000004700000000000000480000000000000049000000000000004A000000000000004B000000000000004C000000000000004D000000000000004E000000000000004F0000000000000050000000000000005100000000000000520000000000000053000000000000005400000000000000550000000000000056000000000000005700000000000000580000000000000059000000000000005A000000000000005B000000000000005C000000000000005D000000000000005E000000000000005F0000000000000060000000000000006100000000000000620000000000000063000000000000006400000000000000650000000000000066000000000000006700000000000000680000000000000069000000000000006A000000000000006B000000000000006C000000000000006D000000000000006E000000000000006F0000000000000070000000000000007100000000000000720000000000000073000000000000007400000000000000750000000000000076000000000000007700000000000000780000000000000079000000000000007A000000000000007B000000000000007C000000000000007D000000000000007E000000000000007F00000000000000"
    }
  }
#-}

// -----

// Prefix-LM: (j <= i) || j < 4.
// CHECK-LABEL: func.func @prefix_lm
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @prefix_lm(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4_i64 = arith.constant 4 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %34 = linalg.index 0 : index
      %35 = arith.index_cast %34 : index to i64
      %36 = arith.muli %35, %1 : i64
      %37 = arith.addi %36, %0 : i64
      linalg.yield %37 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_2 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_2 : tensor<1x?xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.cmpi sle, %5, %7 : tensor<?x?xi64>
    %splat = tensor.splat %c4_i64[%dim] : tensor<1x?xi64>
    %9 = arith.cmpi slt, %expanded_2, %splat : tensor<1x?xi64>
    %10 = tensor.empty(%dim, %dim) : tensor<?x?xi1>
    %11 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%9 : tensor<1x?xi1>) outs(%10 : tensor<?x?xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<?x?xi1>
    %12 = arith.ori %8, %11 : tensor<?x?xi1>
    %13 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%13 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_3 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %14 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %15 = linalg.fill ins(%cst : f32) outs(%14 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %16 = linalg.batch_matmul ins(%collapsed, %collapsed_3 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%15 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_4 = tensor.expand_shape %16 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_5 = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %17 = arith.mulf %expanded_4, %splat_5 : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %18 = arith.select %12, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %19 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %20 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%18 : tensor<?x?xf32>) outs(%19 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %21 = arith.addf %17, %20 : tensor<1x2x?x?xf32>
    %22 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %23 = linalg.fill ins(%cst_1 : f32) outs(%22 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%21 : tensor<1x2x?x?xf32>) outs(%23 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %34 = arith.maximumf %in, %init : f32
        linalg.yield %34 : f32
      }
    %24 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%24 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %25 = arith.subf %21, %broadcasted : tensor<1x2x?x?xf32>
    %26 = math.exp %25 : tensor<1x2x?x?xf32>
    %27 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %28 = linalg.fill ins(%cst : f32) outs(%27 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%26 : tensor<1x2x?x?xf32>) outs(%28 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %34 = arith.addf %in, %init : f32
        linalg.yield %34 : f32
      }
    %29 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%29 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %30 = arith.divf %26, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %30 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %31 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %32 = linalg.fill ins(%cst : f32) outs(%31 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %33 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%32 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %33 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}

// -----

// Head h sees keys j <= i + h: depends on the head.
// CHECK-LABEL: func.func @per_head
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
#map4 = affine_map<(d0, d1, d2, d3) -> (0, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
module {
  func.func @per_head(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant dense<[[[[0]], [[1]]]]> : tensor<1x2x1x1xi64>
    %cst_0 = arith.constant 0.000000e+00 : f32
    %cst_1 = arith.constant 0.353553385 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %33 = linalg.index 0 : index
      %34 = arith.index_cast %33 : index to i64
      %35 = arith.muli %34, %1 : i64
      %36 = arith.addi %35, %0 : i64
      linalg.yield %36 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_3 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim) : tensor<1x2x?x1xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%4 : tensor<1x2x?x1xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<1x2x?x1xi64>
    %6 = tensor.empty(%dim) : tensor<1x2x?x1xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst : tensor<1x2x1x1xi64>) outs(%6 : tensor<1x2x?x1xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<1x2x?x1xi64>
    %8 = arith.addi %5, %7 : tensor<1x2x?x1xi64>
    %9 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xi64>
    %10 = linalg.generic {indexing_maps = [#map4, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded_3 : tensor<1x?xi64>) outs(%9 : tensor<1x2x?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<1x2x?x?xi64>
    %11 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xi64>
    %12 = linalg.generic {indexing_maps = [#map5, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%8 : tensor<1x2x?x1xi64>) outs(%11 : tensor<1x2x?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<1x2x?x?xi64>
    %13 = arith.cmpi sle, %10, %12 : tensor<1x2x?x?xi64>
    %14 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%14 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %15 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %16 = linalg.fill ins(%cst_0 : f32) outs(%15 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %17 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%16 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %17 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_1[%dim, %dim] : tensor<1x2x?x?xf32>
    %18 = arith.mulf %expanded_5, %splat : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %splat_7 = tensor.splat %cst_2[%dim, %dim] : tensor<1x2x?x?xf32>
    %19 = arith.select %13, %splat_6, %splat_7 : tensor<1x2x?x?xi1>, tensor<1x2x?x?xf32>
    %20 = arith.addf %18, %19 : tensor<1x2x?x?xf32>
    %21 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %22 = linalg.fill ins(%cst_2 : f32) outs(%21 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%20 : tensor<1x2x?x?xf32>) outs(%22 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.maximumf %in, %init : f32
        linalg.yield %33 : f32
      }
    %23 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%23 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %24 = arith.subf %20, %broadcasted : tensor<1x2x?x?xf32>
    %25 = math.exp %24 : tensor<1x2x?x?xf32>
    %26 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %27 = linalg.fill ins(%cst_0 : f32) outs(%26 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%25 : tensor<1x2x?x?xf32>) outs(%27 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.addf %in, %init : f32
        linalg.yield %33 : f32
      }
    %28 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%28 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %29 = arith.divf %25, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %29 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %30 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %31 = linalg.fill ins(%cst_0 : f32) outs(%30 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %32 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%31 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %32 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}

// -----

// Positions in f32 with a dynamic length: past 2^24 they round, so the
// comparisons are not provably the integer ones.
// CHECK-LABEL: func.func @float_positions_dynamic
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @float_positions_dynamic(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 1.000000e+00 : f32
    %c0_i64 = arith.constant 0 : i64
    %cst_1 = arith.constant 0.353553385 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %0 = arith.index_cast %dim : index to i64
    %from_elements = tensor.from_elements %0 : tensor<i64>
    %1 = arith.sitofp %from_elements : tensor<i64> to tensor<f32>
    %extracted = tensor.extract %1[] : tensor<f32>
    %2 = arith.subf %extracted, %cst : f32
    %3 = arith.divf %2, %cst_0 : f32
    %4 = math.ceil %3 : f32
    %5 = arith.fptosi %4 : f32 to i64
    %6 = arith.maxsi %5, %c0_i64 : i64
    %7 = arith.index_cast %6 : i64 to index
    %8 = tensor.empty(%7) : tensor<?xf32>
    %c0 = arith.constant 0 : index
    %dim_3 = tensor.dim %8, %c0 : tensor<?xf32>
    %9 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%8 : tensor<?xf32>) {
    ^bb0(%out: f32):
      %36 = linalg.index 0 : index
      %37 = arith.index_cast %36 : index to i64
      %38 = arith.sitofp %37 : i64 to f32
      %39 = arith.mulf %38, %cst_0 : f32
      %40 = arith.addf %39, %cst : f32
      linalg.yield %40 : f32
    } -> tensor<?xf32>
    %expanded = tensor.expand_shape %9 [[0, 1]] output_shape [%dim_3, 1] : tensor<?xf32> into tensor<?x1xf32>
    %expanded_4 = tensor.expand_shape %9 [[0, 1]] output_shape [1, %dim_3] : tensor<?xf32> into tensor<1x?xf32>
    %10 = tensor.empty(%dim_3, %dim_3) : tensor<?x?xf32>
    %11 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_4 : tensor<1x?xf32>) outs(%10 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<?x?xf32>
    %12 = tensor.empty(%dim_3, %dim_3) : tensor<?x?xf32>
    %13 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xf32>) outs(%12 : tensor<?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<?x?xf32>
    %14 = arith.cmpf ole, %11, %13 : tensor<?x?xf32>
    %15 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%15 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_5 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %16 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %17 = linalg.fill ins(%cst : f32) outs(%16 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %18 = linalg.batch_matmul ins(%collapsed, %collapsed_5 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%17 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_6 = tensor.expand_shape %18 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_1[%dim, %dim] : tensor<1x2x?x?xf32>
    %19 = arith.mulf %expanded_6, %splat : tensor<1x2x?x?xf32>
    %splat_7 = tensor.splat %cst[%dim_3, %dim_3] : tensor<?x?xf32>
    %splat_8 = tensor.splat %cst_2[%dim_3, %dim_3] : tensor<?x?xf32>
    %20 = arith.select %14, %splat_7, %splat_8 : tensor<?x?xi1>, tensor<?x?xf32>
    %21 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %22 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%20 : tensor<?x?xf32>) outs(%21 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %23 = arith.addf %19, %22 : tensor<1x2x?x?xf32>
    %24 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %25 = linalg.fill ins(%cst_2 : f32) outs(%24 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%23 : tensor<1x2x?x?xf32>) outs(%25 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %36 = arith.maximumf %in, %init : f32
        linalg.yield %36 : f32
      }
    %26 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%26 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %27 = arith.subf %23, %broadcasted : tensor<1x2x?x?xf32>
    %28 = math.exp %27 : tensor<1x2x?x?xf32>
    %29 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %30 = linalg.fill ins(%cst : f32) outs(%29 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_9 = linalg.reduce ins(%28 : tensor<1x2x?x?xf32>) outs(%30 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %36 = arith.addf %in, %init : f32
        linalg.yield %36 : f32
      }
    %31 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_10 = linalg.broadcast ins(%reduced_9 : tensor<1x2x?xf32>) outs(%31 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %32 = arith.divf %28, %broadcasted_10 : tensor<1x2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %32 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_12 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %33 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %34 = linalg.fill ins(%cst : f32) outs(%33 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %35 = linalg.batch_matmul ins(%collapsed_11, %collapsed_12 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%34 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_13 = tensor.expand_shape %35 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_13 : tensor<1x2x?x8xf32>
  }
}

// -----

// Causal with -10000 instead of -inf: not the same softmax.
// CHECK-LABEL: func.func @fill_minus_1e4
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @fill_minus_1e4(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant -1.000000e+04 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %30 = linalg.index 0 : index
      %31 = arith.index_cast %30 : index to i64
      %32 = arith.muli %31, %1 : i64
      %33 = arith.addi %32, %0 : i64
      linalg.yield %33 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_3 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_3 : tensor<1x?xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.cmpi sle, %5, %7 : tensor<?x?xi64>
    %9 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %13 = arith.mulf %expanded_5, %splat : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %14 = arith.select %8, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %15 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %16 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%14 : tensor<?x?xf32>) outs(%15 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %17 = arith.addf %13, %16 : tensor<1x2x?x?xf32>
    %18 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %19 = linalg.fill ins(%cst_2 : f32) outs(%18 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%17 : tensor<1x2x?x?xf32>) outs(%19 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.maximumf %in, %init : f32
        linalg.yield %30 : f32
      }
    %20 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%20 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %21 = arith.subf %17, %broadcasted : tensor<1x2x?x?xf32>
    %22 = math.exp %21 : tensor<1x2x?x?xf32>
    %23 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %24 = linalg.fill ins(%cst : f32) outs(%23 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%22 : tensor<1x2x?x?xf32>) outs(%24 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.addf %in, %init : f32
        linalg.yield %30 : f32
      }
    %25 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%25 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %26 = arith.divf %22, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %26 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %27 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %28 = linalg.fill ins(%cst : f32) outs(%27 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %29 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%28 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %29 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}

// -----

// Causal with the lowest f32 instead of -inf (torch's fill): causal for the
// finite scores raising assumes (|s| < 2^100; see the pass description).
// CHECK-LABEL: func.func @fill_lowest
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @fill_lowest(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant -3.40282347E+38 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %30 = linalg.index 0 : index
      %31 = arith.index_cast %30 : index to i64
      %32 = arith.muli %31, %1 : i64
      %33 = arith.addi %32, %0 : i64
      linalg.yield %33 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_3 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_3 : tensor<1x?xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.cmpi sle, %5, %7 : tensor<?x?xi64>
    %9 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %13 = arith.mulf %expanded_5, %splat : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %14 = arith.select %8, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %15 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %16 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%14 : tensor<?x?xf32>) outs(%15 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %17 = arith.addf %13, %16 : tensor<1x2x?x?xf32>
    %18 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %19 = linalg.fill ins(%cst_2 : f32) outs(%18 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%17 : tensor<1x2x?x?xf32>) outs(%19 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.maximumf %in, %init : f32
        linalg.yield %30 : f32
      }
    %20 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%20 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %21 = arith.subf %17, %broadcasted : tensor<1x2x?x?xf32>
    %22 = math.exp %21 : tensor<1x2x?x?xf32>
    %23 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %24 = linalg.fill ins(%cst : f32) outs(%23 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%22 : tensor<1x2x?x?xf32>) outs(%24 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.addf %in, %init : f32
        linalg.yield %30 : f32
      }
    %25 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%25 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %26 = arith.divf %22, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %26 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %27 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %28 = linalg.fill ins(%cst : f32) outs(%27 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %29 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%28 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %29 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}
// -----

// The largest fill that still drops (-2^126).
// CHECK-LABEL: func.func @fill_minus_2p126
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @fill_minus_2p126(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant -8.50705917E+37 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %30 = linalg.index 0 : index
      %31 = arith.index_cast %30 : index to i64
      %32 = arith.muli %31, %1 : i64
      %33 = arith.addi %32, %0 : i64
      linalg.yield %33 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_3 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_3 : tensor<1x?xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.cmpi sle, %5, %7 : tensor<?x?xi64>
    %9 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %13 = arith.mulf %expanded_5, %splat : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %14 = arith.select %8, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %15 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %16 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%14 : tensor<?x?xf32>) outs(%15 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %17 = arith.addf %13, %16 : tensor<1x2x?x?xf32>
    %18 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %19 = linalg.fill ins(%cst_2 : f32) outs(%18 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%17 : tensor<1x2x?x?xf32>) outs(%19 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.maximumf %in, %init : f32
        linalg.yield %30 : f32
      }
    %20 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%20 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %21 = arith.subf %17, %broadcasted : tensor<1x2x?x?xf32>
    %22 = math.exp %21 : tensor<1x2x?x?xf32>
    %23 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %24 = linalg.fill ins(%cst : f32) outs(%23 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%22 : tensor<1x2x?x?xf32>) outs(%24 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.addf %in, %init : f32
        linalg.yield %30 : f32
      }
    %25 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%25 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %26 = arith.divf %22, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %26 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %27 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %28 = linalg.fill ins(%cst : f32) outs(%27 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %29 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%28 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %29 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}
// -----

// Above -2^126 a fill is a bias that scores near 2^100 could overcome: a mask.
// CHECK-LABEL: func.func @fill_minus_1e37
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @fill_minus_1e37(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant -1.000000e+37 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %30 = linalg.index 0 : index
      %31 = arith.index_cast %30 : index to i64
      %32 = arith.muli %31, %1 : i64
      %33 = arith.addi %32, %0 : i64
      linalg.yield %33 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_3 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_3 : tensor<1x?xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.cmpi sle, %5, %7 : tensor<?x?xi64>
    %9 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %13 = arith.mulf %expanded_5, %splat : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %14 = arith.select %8, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %15 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %16 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%14 : tensor<?x?xf32>) outs(%15 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %17 = arith.addf %13, %16 : tensor<1x2x?x?xf32>
    %18 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %19 = linalg.fill ins(%cst_2 : f32) outs(%18 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%17 : tensor<1x2x?x?xf32>) outs(%19 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.maximumf %in, %init : f32
        linalg.yield %30 : f32
      }
    %20 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%20 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %21 = arith.subf %17, %broadcasted : tensor<1x2x?x?xf32>
    %22 = math.exp %21 : tensor<1x2x?x?xf32>
    %23 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %24 = linalg.fill ins(%cst : f32) outs(%23 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%22 : tensor<1x2x?x?xf32>) outs(%24 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.addf %in, %init : f32
        linalg.yield %30 : f32
      }
    %25 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%25 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %26 = arith.divf %22, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %26 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %27 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %28 = linalg.fill ins(%cst : f32) outs(%27 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %29 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%28 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %29 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}
// -----

// -1e9 (a common hand-written fill): a bias, stays a mask.
// CHECK-LABEL: func.func @fill_minus_1e9
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%{{.+}}) {scale = {{.+}}} :
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (0, d1)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @fill_minus_1e9(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %cst_1 = arith.constant -1.000000e+09 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %30 = linalg.index 0 : index
      %31 = arith.index_cast %30 : index to i64
      %32 = arith.muli %31, %1 : i64
      %33 = arith.addi %32, %0 : i64
      linalg.yield %33 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_3 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_3 : tensor<1x?xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.cmpi sle, %5, %7 : tensor<?x?xi64>
    %9 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %13 = arith.mulf %expanded_5, %splat : tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst[%dim, %dim] : tensor<?x?xf32>
    %splat_7 = tensor.splat %cst_1[%dim, %dim] : tensor<?x?xf32>
    %14 = arith.select %8, %splat_6, %splat_7 : tensor<?x?xi1>, tensor<?x?xf32>
    %15 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %16 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%14 : tensor<?x?xf32>) outs(%15 : tensor<1x2x?x?xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x2x?x?xf32>
    %17 = arith.addf %13, %16 : tensor<1x2x?x?xf32>
    %18 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %19 = linalg.fill ins(%cst_2 : f32) outs(%18 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%17 : tensor<1x2x?x?xf32>) outs(%19 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.maximumf %in, %init : f32
        linalg.yield %30 : f32
      }
    %20 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%20 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %21 = arith.subf %17, %broadcasted : tensor<1x2x?x?xf32>
    %22 = math.exp %21 : tensor<1x2x?x?xf32>
    %23 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %24 = linalg.fill ins(%cst : f32) outs(%23 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_8 = linalg.reduce ins(%22 : tensor<1x2x?x?xf32>) outs(%24 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %30 = arith.addf %in, %init : f32
        linalg.yield %30 : f32
      }
    %25 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<1x2x?xf32>) outs(%25 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %26 = arith.divf %22, %broadcasted_9 : tensor<1x2x?x?xf32>
    %collapsed_10 = tensor.collapse_shape %26 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %27 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %28 = linalg.fill ins(%cst : f32) outs(%27 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %29 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%28 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_12 = tensor.expand_shape %29 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_12 : tensor<1x2x?x8xf32>
  }
}

// -----

// masked_fill(~keep, -inf) with keep the sliding window of 16 from Range
// positions (Where(Not(keep), -inf, scores)): the drop mask is the
// complement of the band, so the window.
// CHECK-LABEL: func.func @masked_fill_window_range
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = {{.+}}, window = array<i64: 15, 0>} :
// CHECK-NOT:     arith.select
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1) -> (d0, 0)>
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#map3 = affine_map<(d0, d1) -> (0, d1)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map5 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @masked_fill_window_range(%arg0: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Q"}, %arg1: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "K"}, %arg2: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "V"}) -> (tensor<1x2x?x8xf32> {gatec.dims = ["", "", "seq", ""], gatec.name = "Y"}) {
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg0, %c2 : tensor<1x2x?x8xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c0_i64 = arith.constant 0 : i64
    %c16_i64 = arith.constant 16 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0.353553385 : f32
    %true = arith.constant true
    %cst_1 = arith.constant 0xFF800000 : f32
    %0 = arith.index_cast %c0 : index to i64
    %1 = arith.index_cast %c1 : index to i64
    %2 = tensor.empty(%dim) : tensor<?xi64>
    %3 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%2 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %33 = linalg.index 0 : index
      %34 = arith.index_cast %33 : index to i64
      %35 = arith.muli %34, %1 : i64
      %36 = arith.addi %35, %0 : i64
      linalg.yield %36 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %3 [[0, 1]] output_shape [%dim, 1] : tensor<?xi64> into tensor<?x1xi64>
    %expanded_2 = tensor.expand_shape %3 [[0, 1]] output_shape [1, %dim] : tensor<?xi64> into tensor<1x?xi64>
    %4 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %5 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded : tensor<?x1xi64>) outs(%4 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %6 = tensor.empty(%dim, %dim) : tensor<?x?xi64>
    %7 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel"]} ins(%expanded_2 : tensor<1x?xi64>) outs(%6 : tensor<?x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<?x?xi64>
    %8 = arith.subi %5, %7 : tensor<?x?xi64>
    %splat = tensor.splat %c0_i64[%dim, %dim] : tensor<?x?xi64>
    %9 = arith.cmpi sge, %8, %splat : tensor<?x?xi64>
    %splat_3 = tensor.splat %c16_i64[%dim, %dim] : tensor<?x?xi64>
    %10 = arith.cmpi slt, %8, %splat_3 : tensor<?x?xi64>
    %11 = arith.andi %9, %10 : tensor<?x?xi1>
    %12 = tensor.empty(%dim) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x?x8xf32>) outs(%12 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %13 = tensor.empty(%dim, %dim) : tensor<2x?x?xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %15 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x?x8xf32>, tensor<2x8x?xf32>) outs(%14 : tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
    %expanded_5 = tensor.expand_shape %15 [[0, 1], [2], [3]] output_shape [1, 2, %dim, %dim] : tensor<2x?x?xf32> into tensor<1x2x?x?xf32>
    %splat_6 = tensor.splat %cst_0[%dim, %dim] : tensor<1x2x?x?xf32>
    %16 = arith.mulf %expanded_5, %splat_6 : tensor<1x2x?x?xf32>
    %splat_7 = tensor.splat %true[%dim, %dim] : tensor<?x?xi1>
    %17 = arith.xori %11, %splat_7 : tensor<?x?xi1>
    %18 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xi1>
    %19 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%17 : tensor<?x?xi1>) outs(%18 : tensor<1x2x?x?xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<1x2x?x?xi1>
    %splat_8 = tensor.splat %cst_1[%dim, %dim] : tensor<1x2x?x?xf32>
    %20 = arith.select %19, %splat_8, %16 : tensor<1x2x?x?xi1>, tensor<1x2x?x?xf32>
    %21 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %22 = linalg.fill ins(%cst_1 : f32) outs(%21 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced = linalg.reduce ins(%20 : tensor<1x2x?x?xf32>) outs(%22 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.maximumf %in, %init : f32
        linalg.yield %33 : f32
      }
    %23 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x?xf32>) outs(%23 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %24 = arith.subf %20, %broadcasted : tensor<1x2x?x?xf32>
    %25 = math.exp %24 : tensor<1x2x?x?xf32>
    %26 = tensor.empty(%dim) : tensor<1x2x?xf32>
    %27 = linalg.fill ins(%cst : f32) outs(%26 : tensor<1x2x?xf32>) -> tensor<1x2x?xf32>
    %reduced_9 = linalg.reduce ins(%25 : tensor<1x2x?x?xf32>) outs(%27 : tensor<1x2x?xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %33 = arith.addf %in, %init : f32
        linalg.yield %33 : f32
      }
    %28 = tensor.empty(%dim, %dim) : tensor<1x2x?x?xf32>
    %broadcasted_10 = linalg.broadcast ins(%reduced_9 : tensor<1x2x?xf32>) outs(%28 : tensor<1x2x?x?xf32>) dimensions = [3] 
    %29 = arith.divf %25, %broadcasted_10 : tensor<1x2x?x?xf32>
    %collapsed_11 = tensor.collapse_shape %29 [[0, 1], [2], [3]] : tensor<1x2x?x?xf32> into tensor<2x?x?xf32>
    %collapsed_12 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %30 = tensor.empty(%dim) : tensor<2x?x8xf32>
    %31 = linalg.fill ins(%cst : f32) outs(%30 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %32 = linalg.batch_matmul ins(%collapsed_11, %collapsed_12 : tensor<2x?x?xf32>, tensor<2x?x8xf32>) outs(%31 : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %expanded_13 = tensor.expand_shape %32 [[0, 1], [2], [3]] output_shape [1, 2, %dim, 8] : tensor<2x?x8xf32> into tensor<1x2x?x8xf32>
    return %expanded_13 : tensor<1x2x?x8xf32>
  }
}


// -----

// masked_fill(keep, -inf) drops the causal band itself: the keys left (j > i)
// are a band whose last row keeps none (NaN rows in the decomposed graph, 0
// in gate.sdpa), and gate.sdpa has no drop-mask operand: not raised.
// CHECK-LABEL: func.func @masked_fill_kept_band
// CHECK-NOT:     gate.sdpa
// CHECK:         arith.select
#map = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {
  func.func @masked_fill_kept_band(%arg0: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<1x2x16x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant dense<0.353553385> : tensor<1x2x16x16xf32>
    %cst_1 = arith.constant dense<"0x0100030007000F001F003F007F00FF00FF01FF03FF07FF0FFF1FFF3FFF7FFFFF"> : tensor<16x16xi1>
    %cst_2 = arith.constant dense<0xFF800000> : tensor<1x2x16x16xf32>
    %cst_3 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<1x2x8x16xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<1x2x16x8xf32>) outs(%0 : tensor<1x2x8x16xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x16x8xf32> into tensor<2x16x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x16xf32> into tensor<2x8x16xf32>
    %1 = tensor.empty() : tensor<2x16x16xf32>
    %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
    %3 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x16x8xf32>, tensor<2x8x16xf32>) outs(%2 : tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
    %expanded = tensor.expand_shape %3 [[0, 1], [2], [3]] output_shape [1, 2, 16, 16] : tensor<2x16x16xf32> into tensor<1x2x16x16xf32>
    %4 = arith.mulf %expanded, %cst_0 : tensor<1x2x16x16xf32>
    %5 = tensor.empty() : tensor<1x2x16x16xi1>
    %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst_1 : tensor<16x16xi1>) outs(%5 : tensor<1x2x16x16xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<1x2x16x16xi1>
    %7 = arith.select %6, %cst_2, %4 : tensor<1x2x16x16xi1>, tensor<1x2x16x16xf32>
    %8 = tensor.empty() : tensor<1x2x16xf32>
    %9 = linalg.fill ins(%cst_3 : f32) outs(%8 : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
    %reduced = linalg.reduce ins(%7 : tensor<1x2x16x16xf32>) outs(%9 : tensor<1x2x16xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.maximumf %in, %init : f32
        linalg.yield %20 : f32
      }
    %10 = tensor.empty() : tensor<1x2x16x16xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x16xf32>) outs(%10 : tensor<1x2x16x16xf32>) dimensions = [3] 
    %11 = arith.subf %7, %broadcasted : tensor<1x2x16x16xf32>
    %12 = math.exp %11 : tensor<1x2x16x16xf32>
    %13 = tensor.empty() : tensor<1x2x16xf32>
    %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
    %reduced_5 = linalg.reduce ins(%12 : tensor<1x2x16x16xf32>) outs(%14 : tensor<1x2x16xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.addf %in, %init : f32
        linalg.yield %20 : f32
      }
    %15 = tensor.empty() : tensor<1x2x16x16xf32>
    %broadcasted_6 = linalg.broadcast ins(%reduced_5 : tensor<1x2x16xf32>) outs(%15 : tensor<1x2x16x16xf32>) dimensions = [3] 
    %16 = arith.divf %12, %broadcasted_6 : tensor<1x2x16x16xf32>
    %collapsed_7 = tensor.collapse_shape %16 [[0, 1], [2], [3]] : tensor<1x2x16x16xf32> into tensor<2x16x16xf32>
    %collapsed_8 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x16x8xf32> into tensor<2x16x8xf32>
    %17 = tensor.empty() : tensor<2x16x8xf32>
    %18 = linalg.fill ins(%cst : f32) outs(%17 : tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
    %19 = linalg.batch_matmul ins(%collapsed_7, %collapsed_8 : tensor<2x16x16xf32>, tensor<2x16x8xf32>) outs(%18 : tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
    %expanded_9 = tensor.expand_shape %19 [[0, 1], [2], [3]] output_shape [1, 2, 16, 8] : tensor<2x16x8xf32> into tensor<1x2x16x8xf32>
    return %expanded_9 : tensor<1x2x16x8xf32>
  }
}

