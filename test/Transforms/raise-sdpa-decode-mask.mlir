// RUN: gatec-opt %s -split-input-file -gate-raise-sdpa -canonicalize | FileCheck %s

// A decode step's attention as exporters write it: the new token's key and
// value appended to a cache of P tokens (extent P + 1), the mask comparing
// key positions arange(P + 1) with the query's position P. The extent is read
// as P + 1 in terms of the cache's size, so `j <= P` is decided for every P:
// the mask keeps every key and goes. `j < P` drops the new token's own key:
// its mask stays.

// CHECK-LABEL: func.func @decode_keeps_every_key
// CHECK:         gate.sdpa %arg0, %concat, %concat_{{[0-9]+}} {scale = {{.+}}} :
// CHECK-NOT:     mask(
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map3 = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
module {
  func.func @decode_keeps_every_key(%arg0: tensor<1x2x1x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "q"}, %arg1: tensor<1x2x1x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "k"}, %arg2: tensor<1x2x1x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "v"}, %arg3: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "P", ""], gatec.name = "past_k"}, %arg4: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "P", ""], gatec.name = "past_v"}) -> (tensor<1x2x1x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "y"}) {
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 2.500000e-01 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg3, %c2 : tensor<1x2x?x8xf32>
    %0 = arith.addi %dim, %c1 : index
    %concat = tensor.concat dim(2) %arg3, %arg1 : (tensor<1x2x?x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x?x8xf32>
    %concat_2 = tensor.concat dim(2) %arg4, %arg2 : (tensor<1x2x?x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x?x8xf32>
    %1 = arith.index_cast %c0 : index to i64
    %2 = arith.index_cast %c1 : index to i64
    %3 = tensor.empty(%0) : tensor<?xi64>
    %4 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%3 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %29 = linalg.index 0 : index
      %30 = arith.index_cast %29 : index to i64
      %31 = arith.muli %30, %2 : i64
      %32 = arith.addi %31, %1 : i64
      linalg.yield %32 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %4 [[0, 1, 2, 3]] output_shape [1, 1, 1, %0] : tensor<?xi64> into tensor<1x1x1x?xi64>
    %5 = arith.index_cast %dim : index to i64
    %from_elements = tensor.from_elements %5 : tensor<1xi64>
    %expanded_3 = tensor.expand_shape %from_elements [[0, 1, 2, 3]] output_shape [1, 1, 1, 1] : tensor<1xi64> into tensor<1x1x1x1xi64>
    %6 = tensor.empty(%0) : tensor<1x1x1x?xi64>
    %7 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded_3 : tensor<1x1x1x1xi64>) outs(%6 : tensor<1x1x1x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<1x1x1x?xi64>
    %8 = arith.cmpi sle, %expanded, %7 : tensor<1x1x1x?xi64>
    %9 = tensor.empty(%0) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%concat : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x1x8xf32> into tensor<2x1x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%0) : tensor<2x1x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x1x?xf32>) -> tensor<2x1x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x1x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x1x?xf32>) -> tensor<2x1x?xf32>
    %expanded_5 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, 1, %0] : tensor<2x1x?xf32> into tensor<1x2x1x?xf32>
    %splat = tensor.splat %cst_0[%0] : tensor<1x2x1x?xf32>
    %13 = arith.mulf %expanded_5, %splat : tensor<1x2x1x?xf32>
    %14 = tensor.empty(%0) : tensor<1x2x1x?xi1>
    %15 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%8 : tensor<1x1x1x?xi1>) outs(%14 : tensor<1x2x1x?xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<1x2x1x?xi1>
    %splat_6 = tensor.splat %cst_1[%0] : tensor<1x2x1x?xf32>
    %16 = arith.select %15, %13, %splat_6 : tensor<1x2x1x?xi1>, tensor<1x2x1x?xf32>
    %17 = tensor.empty() : tensor<1x2x1xf32>
    %18 = linalg.fill ins(%cst_1 : f32) outs(%17 : tensor<1x2x1xf32>) -> tensor<1x2x1xf32>
    %reduced = linalg.reduce ins(%16 : tensor<1x2x1x?xf32>) outs(%18 : tensor<1x2x1xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %29 = arith.maximumf %in, %init : f32
        linalg.yield %29 : f32
      }
    %19 = tensor.empty(%0) : tensor<1x2x1x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x1xf32>) outs(%19 : tensor<1x2x1x?xf32>) dimensions = [3] 
    %20 = arith.subf %16, %broadcasted : tensor<1x2x1x?xf32>
    %21 = math.exp %20 : tensor<1x2x1x?xf32>
    %22 = tensor.empty() : tensor<1x2x1xf32>
    %23 = linalg.fill ins(%cst : f32) outs(%22 : tensor<1x2x1xf32>) -> tensor<1x2x1xf32>
    %reduced_7 = linalg.reduce ins(%21 : tensor<1x2x1x?xf32>) outs(%23 : tensor<1x2x1xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %29 = arith.addf %in, %init : f32
        linalg.yield %29 : f32
      }
    %24 = tensor.empty(%0) : tensor<1x2x1x?xf32>
    %broadcasted_8 = linalg.broadcast ins(%reduced_7 : tensor<1x2x1xf32>) outs(%24 : tensor<1x2x1x?xf32>) dimensions = [3] 
    %25 = arith.divf %21, %broadcasted_8 : tensor<1x2x1x?xf32>
    %collapsed_9 = tensor.collapse_shape %25 [[0, 1], [2], [3]] : tensor<1x2x1x?xf32> into tensor<2x1x?xf32>
    %collapsed_10 = tensor.collapse_shape %concat_2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %26 = tensor.empty() : tensor<2x1x8xf32>
    %27 = linalg.fill ins(%cst : f32) outs(%26 : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
    %28 = linalg.batch_matmul ins(%collapsed_9, %collapsed_10 : tensor<2x1x?xf32>, tensor<2x?x8xf32>) outs(%27 : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
    %expanded_11 = tensor.expand_shape %28 [[0, 1], [2], [3]] output_shape [1, 2, 1, 8] : tensor<2x1x8xf32> into tensor<1x2x1x8xf32>
    return %expanded_11 : tensor<1x2x1x8xf32>
  }
}

// -----

// CHECK-LABEL: func.func @decode_drops_new_key
// CHECK:         gate.sdpa %arg0, %concat, %concat_{{[0-9]+}} mask(
#map = affine_map<(d0) -> (d0)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map3 = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
module {
  func.func @decode_drops_new_key(%arg0: tensor<1x2x1x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "q"}, %arg1: tensor<1x2x1x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "k"}, %arg2: tensor<1x2x1x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "v"}, %arg3: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "P", ""], gatec.name = "past_k"}, %arg4: tensor<1x2x?x8xf32> {gatec.dims = ["", "", "P", ""], gatec.name = "past_v"}) -> (tensor<1x2x1x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "y"}) {
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : index
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 2.500000e-01 : f32
    %cst_1 = arith.constant 0xFF800000 : f32
    %c2 = arith.constant 2 : index
    %dim = tensor.dim %arg3, %c2 : tensor<1x2x?x8xf32>
    %0 = arith.addi %dim, %c1 : index
    %concat = tensor.concat dim(2) %arg3, %arg1 : (tensor<1x2x?x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x?x8xf32>
    %concat_2 = tensor.concat dim(2) %arg4, %arg2 : (tensor<1x2x?x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x?x8xf32>
    %1 = arith.index_cast %c0 : index to i64
    %2 = arith.index_cast %c1 : index to i64
    %3 = tensor.empty(%0) : tensor<?xi64>
    %4 = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel"]} outs(%3 : tensor<?xi64>) {
    ^bb0(%out: i64):
      %29 = linalg.index 0 : index
      %30 = arith.index_cast %29 : index to i64
      %31 = arith.muli %30, %2 : i64
      %32 = arith.addi %31, %1 : i64
      linalg.yield %32 : i64
    } -> tensor<?xi64>
    %expanded = tensor.expand_shape %4 [[0, 1, 2, 3]] output_shape [1, 1, 1, %0] : tensor<?xi64> into tensor<1x1x1x?xi64>
    %5 = arith.index_cast %dim : index to i64
    %from_elements = tensor.from_elements %5 : tensor<1xi64>
    %expanded_3 = tensor.expand_shape %from_elements [[0, 1, 2, 3]] output_shape [1, 1, 1, 1] : tensor<1xi64> into tensor<1x1x1x1xi64>
    %6 = tensor.empty(%0) : tensor<1x1x1x?xi64>
    %7 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded_3 : tensor<1x1x1x1xi64>) outs(%6 : tensor<1x1x1x?xi64>) {
    ^bb0(%in: i64, %out: i64):
      linalg.yield %in : i64
    } -> tensor<1x1x1x?xi64>
    %8 = arith.cmpi slt, %expanded, %7 : tensor<1x1x1x?xi64>
    %9 = tensor.empty(%0) : tensor<1x2x8x?xf32>
    %transposed = linalg.transpose ins(%concat : tensor<1x2x?x8xf32>) outs(%9 : tensor<1x2x8x?xf32>) permutation = [0, 1, 3, 2] 
    %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x1x8xf32> into tensor<2x1x8xf32>
    %collapsed_4 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x?xf32> into tensor<2x8x?xf32>
    %10 = tensor.empty(%0) : tensor<2x1x?xf32>
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<2x1x?xf32>) -> tensor<2x1x?xf32>
    %12 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<2x1x8xf32>, tensor<2x8x?xf32>) outs(%11 : tensor<2x1x?xf32>) -> tensor<2x1x?xf32>
    %expanded_5 = tensor.expand_shape %12 [[0, 1], [2], [3]] output_shape [1, 2, 1, %0] : tensor<2x1x?xf32> into tensor<1x2x1x?xf32>
    %splat = tensor.splat %cst_0[%0] : tensor<1x2x1x?xf32>
    %13 = arith.mulf %expanded_5, %splat : tensor<1x2x1x?xf32>
    %14 = tensor.empty(%0) : tensor<1x2x1x?xi1>
    %15 = linalg.generic {indexing_maps = [#map3, #map2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%8 : tensor<1x1x1x?xi1>) outs(%14 : tensor<1x2x1x?xi1>) {
    ^bb0(%in: i1, %out: i1):
      linalg.yield %in : i1
    } -> tensor<1x2x1x?xi1>
    %splat_6 = tensor.splat %cst_1[%0] : tensor<1x2x1x?xf32>
    %16 = arith.select %15, %13, %splat_6 : tensor<1x2x1x?xi1>, tensor<1x2x1x?xf32>
    %17 = tensor.empty() : tensor<1x2x1xf32>
    %18 = linalg.fill ins(%cst_1 : f32) outs(%17 : tensor<1x2x1xf32>) -> tensor<1x2x1xf32>
    %reduced = linalg.reduce ins(%16 : tensor<1x2x1x?xf32>) outs(%18 : tensor<1x2x1xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %29 = arith.maximumf %in, %init : f32
        linalg.yield %29 : f32
      }
    %19 = tensor.empty(%0) : tensor<1x2x1x?xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<1x2x1xf32>) outs(%19 : tensor<1x2x1x?xf32>) dimensions = [3] 
    %20 = arith.subf %16, %broadcasted : tensor<1x2x1x?xf32>
    %21 = math.exp %20 : tensor<1x2x1x?xf32>
    %22 = tensor.empty() : tensor<1x2x1xf32>
    %23 = linalg.fill ins(%cst : f32) outs(%22 : tensor<1x2x1xf32>) -> tensor<1x2x1xf32>
    %reduced_7 = linalg.reduce ins(%21 : tensor<1x2x1x?xf32>) outs(%23 : tensor<1x2x1xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %29 = arith.addf %in, %init : f32
        linalg.yield %29 : f32
      }
    %24 = tensor.empty(%0) : tensor<1x2x1x?xf32>
    %broadcasted_8 = linalg.broadcast ins(%reduced_7 : tensor<1x2x1xf32>) outs(%24 : tensor<1x2x1x?xf32>) dimensions = [3] 
    %25 = arith.divf %21, %broadcasted_8 : tensor<1x2x1x?xf32>
    %collapsed_9 = tensor.collapse_shape %25 [[0, 1], [2], [3]] : tensor<1x2x1x?xf32> into tensor<2x1x?xf32>
    %collapsed_10 = tensor.collapse_shape %concat_2 [[0, 1], [2], [3]] : tensor<1x2x?x8xf32> into tensor<2x?x8xf32>
    %26 = tensor.empty() : tensor<2x1x8xf32>
    %27 = linalg.fill ins(%cst : f32) outs(%26 : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
    %28 = linalg.batch_matmul ins(%collapsed_9, %collapsed_10 : tensor<2x1x?xf32>, tensor<2x?x8xf32>) outs(%27 : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
    %expanded_11 = tensor.expand_shape %28 [[0, 1], [2], [3]] output_shape [1, 2, 1, 8] : tensor<2x1x8xf32> into tensor<1x2x1x8xf32>
    return %expanded_11 : tensor<1x2x1x8xf32>
  }
}
