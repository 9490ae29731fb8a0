// RUN: gatec-opt %s -split-input-file -gate-raise-sdpa -canonicalize | FileCheck %s

// Decomposed attention as the ONNX importer writes it (from ONNX conformance
// *_expanded models), raised to one gate.sdpa reading the un-repeated K/V.

// GQA 9:3 through expand_shape + broadcast + collapse_shape.
// CHECK-LABEL: func.func @main
// CHECK:         %[[O:.+]] = gate.sdpa %arg0, %arg1, %arg2 {scale = 0.353553355 : f32} : tensor<2x9x4x8xf32>, tensor<2x3x6x8xf32>, tensor<2x3x6x8xf32> -> tensor<2x9x4x8xf32>
// CHECK-NOT:     linalg.batch_matmul
// CHECK:         return %[[O]]
#map = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#map1 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>

  func.func @main(%arg0: tensor<2x9x4x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<2x3x6x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<2x3x6x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<2x9x4x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense<0.594603539> : tensor<2x9x4x8xf32>
    %cst_0 = arith.constant dense<0.594603539> : tensor<2x9x8x6xf32>
    %cst_1 = arith.constant 0.000000e+00 : f32
    %cst_2 = arith.constant dense<0.000000e+00> : tensor<2x9x4x6xf32>
    %cst_3 = arith.constant 0xFF800000 : f32
    %expanded = tensor.expand_shape %arg1 [[0], [1], [2, 3], [4]] output_shape [2, 3, 1, 6, 8] : tensor<2x3x6x8xf32> into tensor<2x3x1x6x8xf32>
    %expanded_4 = tensor.expand_shape %arg2 [[0], [1], [2, 3], [4]] output_shape [2, 3, 1, 6, 8] : tensor<2x3x6x8xf32> into tensor<2x3x1x6x8xf32>
    %0 = tensor.empty() : tensor<2x3x3x6x8xf32>
    %1 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%expanded : tensor<2x3x1x6x8xf32>) outs(%0 : tensor<2x3x3x6x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<2x3x3x6x8xf32>
    %2 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%expanded_4 : tensor<2x3x1x6x8xf32>) outs(%0 : tensor<2x3x3x6x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<2x3x3x6x8xf32>
    %collapsed = tensor.collapse_shape %1 [[0], [1, 2], [3], [4]] : tensor<2x3x3x6x8xf32> into tensor<2x9x6x8xf32>
    %3 = tensor.empty() : tensor<2x9x8x6xf32>
    %transposed = linalg.transpose ins(%collapsed : tensor<2x9x6x8xf32>) outs(%3 : tensor<2x9x8x6xf32>) permutation = [0, 1, 3, 2] 
    %4 = arith.mulf %arg0, %cst : tensor<2x9x4x8xf32>
    %5 = arith.mulf %transposed, %cst_0 : tensor<2x9x8x6xf32>
    %collapsed_5 = tensor.collapse_shape %4 [[0, 1], [2], [3]] : tensor<2x9x4x8xf32> into tensor<18x4x8xf32>
    %collapsed_6 = tensor.collapse_shape %5 [[0, 1], [2], [3]] : tensor<2x9x8x6xf32> into tensor<18x8x6xf32>
    %6 = tensor.empty() : tensor<18x4x6xf32>
    %7 = linalg.fill ins(%cst_1 : f32) outs(%6 : tensor<18x4x6xf32>) -> tensor<18x4x6xf32>
    %8 = linalg.batch_matmul ins(%collapsed_5, %collapsed_6 : tensor<18x4x8xf32>, tensor<18x8x6xf32>) outs(%7 : tensor<18x4x6xf32>) -> tensor<18x4x6xf32>
    %expanded_7 = tensor.expand_shape %8 [[0, 1], [2], [3]] output_shape [2, 9, 4, 6] : tensor<18x4x6xf32> into tensor<2x9x4x6xf32>
    %9 = arith.addf %expanded_7, %cst_2 : tensor<2x9x4x6xf32>
    %10 = tensor.empty() : tensor<2x9x4xf32>
    %11 = linalg.fill ins(%cst_3 : f32) outs(%10 : tensor<2x9x4xf32>) -> tensor<2x9x4xf32>
    %reduced = linalg.reduce ins(%9 : tensor<2x9x4x6xf32>) outs(%11 : tensor<2x9x4xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.maximumf %in, %init : f32
        linalg.yield %20 : f32
      }
    %12 = tensor.empty() : tensor<2x9x4x6xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<2x9x4xf32>) outs(%12 : tensor<2x9x4x6xf32>) dimensions = [3] 
    %13 = arith.subf %9, %broadcasted : tensor<2x9x4x6xf32>
    %14 = math.exp %13 : tensor<2x9x4x6xf32>
    %15 = linalg.fill ins(%cst_1 : f32) outs(%10 : tensor<2x9x4xf32>) -> tensor<2x9x4xf32>
    %reduced_8 = linalg.reduce ins(%14 : tensor<2x9x4x6xf32>) outs(%15 : tensor<2x9x4xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %20 = arith.addf %in, %init : f32
        linalg.yield %20 : f32
      }
    %broadcasted_9 = linalg.broadcast ins(%reduced_8 : tensor<2x9x4xf32>) outs(%12 : tensor<2x9x4x6xf32>) dimensions = [3] 
    %16 = arith.divf %14, %broadcasted_9 : tensor<2x9x4x6xf32>
    %collapsed_10 = tensor.collapse_shape %16 [[0, 1], [2], [3]] : tensor<2x9x4x6xf32> into tensor<18x4x6xf32>
    %collapsed_11 = tensor.collapse_shape %2 [[0, 1, 2], [3], [4]] : tensor<2x3x3x6x8xf32> into tensor<18x6x8xf32>
    %17 = tensor.empty() : tensor<18x4x8xf32>
    %18 = linalg.fill ins(%cst_1 : f32) outs(%17 : tensor<18x4x8xf32>) -> tensor<18x4x8xf32>
    %19 = linalg.batch_matmul ins(%collapsed_10, %collapsed_11 : tensor<18x4x6xf32>, tensor<18x6x8xf32>) outs(%18 : tensor<18x4x8xf32>) -> tensor<18x4x8xf32>
    %expanded_12 = tensor.expand_shape %19 [[0, 1], [2], [3]] output_shape [2, 9, 4, 8] : tensor<18x4x8xf32> into tensor<2x9x4x8xf32>
    return %expanded_12 : tensor<2x9x4x8xf32>
  }

// -----

// A constant upper-left causal mask becomes the causal flag.
// CHECK-LABEL: func.func @main
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, scale = 0.353553355 : f32}
// CHECK-NOT:     linalg.reduce
#map = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

  func.func @main(%arg0: tensor<2x3x4x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<2x3x6x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<2x3x6x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}) -> (tensor<2x3x4x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense<0.594603539> : tensor<2x3x4x8xf32>
    %cst_0 = arith.constant dense<0.594603539> : tensor<2x3x8x6xf32>
    %cst_1 = arith.constant 0.000000e+00 : f32
    %cst_2 = arith.constant dense<[[0.000000e+00, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.000000e+00, 0.000000e+00, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0xFF800000, 0xFF800000, 0xFF800000], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0xFF800000, 0xFF800000]]> : tensor<4x6xf32>
    %cst_3 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<2x3x8x6xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<2x3x6x8xf32>) outs(%0 : tensor<2x3x8x6xf32>) permutation = [0, 1, 3, 2] 
    %1 = arith.mulf %arg0, %cst : tensor<2x3x4x8xf32>
    %2 = arith.mulf %transposed, %cst_0 : tensor<2x3x8x6xf32>
    %collapsed = tensor.collapse_shape %1 [[0, 1], [2], [3]] : tensor<2x3x4x8xf32> into tensor<6x4x8xf32>
    %collapsed_4 = tensor.collapse_shape %2 [[0, 1], [2], [3]] : tensor<2x3x8x6xf32> into tensor<6x8x6xf32>
    %3 = tensor.empty() : tensor<6x4x6xf32>
    %4 = linalg.fill ins(%cst_1 : f32) outs(%3 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
    %5 = linalg.batch_matmul ins(%collapsed, %collapsed_4 : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%4 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
    %expanded = tensor.expand_shape %5 [[0, 1], [2], [3]] output_shape [2, 3, 4, 6] : tensor<6x4x6xf32> into tensor<2x3x4x6xf32>
    %6 = tensor.empty() : tensor<2x3x4x6xf32>
    %7 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst_2 : tensor<4x6xf32>) outs(%6 : tensor<2x3x4x6xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<2x3x4x6xf32>
    %8 = arith.addf %expanded, %7 : tensor<2x3x4x6xf32>
    %9 = tensor.empty() : tensor<2x3x4xf32>
    %10 = linalg.fill ins(%cst_3 : f32) outs(%9 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    %reduced = linalg.reduce ins(%8 : tensor<2x3x4x6xf32>) outs(%10 : tensor<2x3x4xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %18 = arith.maximumf %in, %init : f32
        linalg.yield %18 : f32
      }
    %broadcasted = linalg.broadcast ins(%reduced : tensor<2x3x4xf32>) outs(%6 : tensor<2x3x4x6xf32>) dimensions = [3] 
    %11 = arith.subf %8, %broadcasted : tensor<2x3x4x6xf32>
    %12 = math.exp %11 : tensor<2x3x4x6xf32>
    %13 = linalg.fill ins(%cst_1 : f32) outs(%9 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    %reduced_5 = linalg.reduce ins(%12 : tensor<2x3x4x6xf32>) outs(%13 : tensor<2x3x4xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %18 = arith.addf %in, %init : f32
        linalg.yield %18 : f32
      }
    %broadcasted_6 = linalg.broadcast ins(%reduced_5 : tensor<2x3x4xf32>) outs(%6 : tensor<2x3x4x6xf32>) dimensions = [3] 
    %14 = arith.divf %12, %broadcasted_6 : tensor<2x3x4x6xf32>
    %collapsed_7 = tensor.collapse_shape %14 [[0, 1], [2], [3]] : tensor<2x3x4x6xf32> into tensor<6x4x6xf32>
    %collapsed_8 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<2x3x6x8xf32> into tensor<6x6x8xf32>
    %15 = tensor.empty() : tensor<6x4x8xf32>
    %16 = linalg.fill ins(%cst_1 : f32) outs(%15 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
    %17 = linalg.batch_matmul ins(%collapsed_7, %collapsed_8 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%16 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
    %expanded_9 = tensor.expand_shape %17 [[0, 1], [2], [3]] output_shape [2, 3, 4, 8] : tensor<6x4x8xf32> into tensor<2x3x4x8xf32>
    return %expanded_9 : tensor<2x3x4x8xf32>
  }

// -----

// 3-D [B,S,H*D] export with softcap: the merged K transpose is rebuilt.
// CHECK-LABEL: func.func @main
// CHECK:         %[[K:.+]] = linalg.transpose
// CHECK:         gate.sdpa %{{.+}}, %{{.+}}, %{{.+}} {scale = {{.+}} : f32, softcap = {{.+}} : f32}
// CHECK-NOT:     math.tanh
#map = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#map1 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>

  func.func @main(%arg0: tensor<2x4x72xf32> {gatec.dims = ["", "", ""], gatec.name = "Q"}, %arg1: tensor<2x6x24xf32> {gatec.dims = ["", "", ""], gatec.name = "K"}, %arg2: tensor<2x6x24xf32> {gatec.dims = ["", "", ""], gatec.name = "V"}) -> (tensor<2x4x72xf32> {gatec.dims = ["", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense<0.594603539> : tensor<2x9x4x8xf32>
    %cst_0 = arith.constant dense<0.594603539> : tensor<2x9x8x6xf32>
    %cst_1 = arith.constant 0.000000e+00 : f32
    %cst_2 = arith.constant dense<3.000000e+00> : tensor<2x9x4x6xf32>
    %cst_3 = arith.constant dense<0.000000e+00> : tensor<2x9x4x6xf32>
    %cst_4 = arith.constant 0xFF800000 : f32
    %expanded = tensor.expand_shape %arg0 [[0], [1], [2, 3]] output_shape [2, 4, 9, 8] : tensor<2x4x72xf32> into tensor<2x4x9x8xf32>
    %expanded_5 = tensor.expand_shape %arg1 [[0], [1], [2, 3]] output_shape [2, 6, 3, 8] : tensor<2x6x24xf32> into tensor<2x6x3x8xf32>
    %expanded_6 = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [2, 6, 3, 8] : tensor<2x6x24xf32> into tensor<2x6x3x8xf32>
    %0 = tensor.empty() : tensor<2x9x4x8xf32>
    %transposed = linalg.transpose ins(%expanded : tensor<2x4x9x8xf32>) outs(%0 : tensor<2x9x4x8xf32>) permutation = [0, 2, 1, 3] 
    %1 = tensor.empty() : tensor<2x3x6x8xf32>
    %transposed_7 = linalg.transpose ins(%expanded_5 : tensor<2x6x3x8xf32>) outs(%1 : tensor<2x3x6x8xf32>) permutation = [0, 2, 1, 3] 
    %transposed_8 = linalg.transpose ins(%expanded_6 : tensor<2x6x3x8xf32>) outs(%1 : tensor<2x3x6x8xf32>) permutation = [0, 2, 1, 3] 
    %expanded_9 = tensor.expand_shape %transposed_7 [[0], [1], [2, 3], [4]] output_shape [2, 3, 1, 6, 8] : tensor<2x3x6x8xf32> into tensor<2x3x1x6x8xf32>
    %expanded_10 = tensor.expand_shape %transposed_8 [[0], [1], [2, 3], [4]] output_shape [2, 3, 1, 6, 8] : tensor<2x3x6x8xf32> into tensor<2x3x1x6x8xf32>
    %2 = tensor.empty() : tensor<2x3x3x6x8xf32>
    %3 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%expanded_9 : tensor<2x3x1x6x8xf32>) outs(%2 : tensor<2x3x3x6x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<2x3x3x6x8xf32>
    %4 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%expanded_10 : tensor<2x3x1x6x8xf32>) outs(%2 : tensor<2x3x3x6x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<2x3x3x6x8xf32>
    %collapsed = tensor.collapse_shape %3 [[0], [1, 2], [3], [4]] : tensor<2x3x3x6x8xf32> into tensor<2x9x6x8xf32>
    %5 = tensor.empty() : tensor<2x9x8x6xf32>
    %transposed_11 = linalg.transpose ins(%collapsed : tensor<2x9x6x8xf32>) outs(%5 : tensor<2x9x8x6xf32>) permutation = [0, 1, 3, 2] 
    %6 = arith.mulf %transposed, %cst : tensor<2x9x4x8xf32>
    %7 = arith.mulf %transposed_11, %cst_0 : tensor<2x9x8x6xf32>
    %collapsed_12 = tensor.collapse_shape %6 [[0, 1], [2], [3]] : tensor<2x9x4x8xf32> into tensor<18x4x8xf32>
    %collapsed_13 = tensor.collapse_shape %7 [[0, 1], [2], [3]] : tensor<2x9x8x6xf32> into tensor<18x8x6xf32>
    %8 = tensor.empty() : tensor<18x4x6xf32>
    %9 = linalg.fill ins(%cst_1 : f32) outs(%8 : tensor<18x4x6xf32>) -> tensor<18x4x6xf32>
    %10 = linalg.batch_matmul ins(%collapsed_12, %collapsed_13 : tensor<18x4x8xf32>, tensor<18x8x6xf32>) outs(%9 : tensor<18x4x6xf32>) -> tensor<18x4x6xf32>
    %expanded_14 = tensor.expand_shape %10 [[0, 1], [2], [3]] output_shape [2, 9, 4, 6] : tensor<18x4x6xf32> into tensor<2x9x4x6xf32>
    %11 = arith.divf %expanded_14, %cst_2 : tensor<2x9x4x6xf32>
    %12 = math.tanh %11 : tensor<2x9x4x6xf32>
    %13 = arith.mulf %12, %cst_2 : tensor<2x9x4x6xf32>
    %14 = arith.addf %13, %cst_3 : tensor<2x9x4x6xf32>
    %15 = tensor.empty() : tensor<2x9x4xf32>
    %16 = linalg.fill ins(%cst_4 : f32) outs(%15 : tensor<2x9x4xf32>) -> tensor<2x9x4xf32>
    %reduced = linalg.reduce ins(%14 : tensor<2x9x4x6xf32>) outs(%16 : tensor<2x9x4xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %26 = arith.maximumf %in, %init : f32
        linalg.yield %26 : f32
      }
    %17 = tensor.empty() : tensor<2x9x4x6xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<2x9x4xf32>) outs(%17 : tensor<2x9x4x6xf32>) dimensions = [3] 
    %18 = arith.subf %14, %broadcasted : tensor<2x9x4x6xf32>
    %19 = math.exp %18 : tensor<2x9x4x6xf32>
    %20 = linalg.fill ins(%cst_1 : f32) outs(%15 : tensor<2x9x4xf32>) -> tensor<2x9x4xf32>
    %reduced_15 = linalg.reduce ins(%19 : tensor<2x9x4x6xf32>) outs(%20 : tensor<2x9x4xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %26 = arith.addf %in, %init : f32
        linalg.yield %26 : f32
      }
    %broadcasted_16 = linalg.broadcast ins(%reduced_15 : tensor<2x9x4xf32>) outs(%17 : tensor<2x9x4x6xf32>) dimensions = [3] 
    %21 = arith.divf %19, %broadcasted_16 : tensor<2x9x4x6xf32>
    %collapsed_17 = tensor.collapse_shape %21 [[0, 1], [2], [3]] : tensor<2x9x4x6xf32> into tensor<18x4x6xf32>
    %collapsed_18 = tensor.collapse_shape %4 [[0, 1, 2], [3], [4]] : tensor<2x3x3x6x8xf32> into tensor<18x6x8xf32>
    %22 = tensor.empty() : tensor<18x4x8xf32>
    %23 = linalg.fill ins(%cst_1 : f32) outs(%22 : tensor<18x4x8xf32>) -> tensor<18x4x8xf32>
    %24 = linalg.batch_matmul ins(%collapsed_17, %collapsed_18 : tensor<18x4x6xf32>, tensor<18x6x8xf32>) outs(%23 : tensor<18x4x8xf32>) -> tensor<18x4x8xf32>
    %expanded_19 = tensor.expand_shape %24 [[0, 1], [2], [3]] output_shape [2, 9, 4, 8] : tensor<18x4x8xf32> into tensor<2x9x4x8xf32>
    %25 = tensor.empty() : tensor<2x4x9x8xf32>
    %transposed_20 = linalg.transpose ins(%expanded_19 : tensor<2x9x4x8xf32>) outs(%25 : tensor<2x4x9x8xf32>) permutation = [0, 2, 1, 3] 
    %collapsed_21 = tensor.collapse_shape %transposed_20 [[0], [1], [2, 3]] : tensor<2x4x9x8xf32> into tensor<2x4x72xf32>
    return %collapsed_21 : tensor<2x4x72xf32>
  }

// -----

// An additive float mask stays an operand.
// CHECK-LABEL: func.func @main
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(%arg3 : tensor<2x3x4x6xf32>) {scale = 0.353553355 : f32}

  func.func @main(%arg0: tensor<2x3x4x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Q"}, %arg1: tensor<2x3x6x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "K"}, %arg2: tensor<2x3x6x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "V"}, %arg3: tensor<2x3x4x6xf32> {gatec.dims = ["", "", "", ""], gatec.name = "attn_mask"}) -> (tensor<2x3x4x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "Y"}) {
    %cst = arith.constant dense<0.594603539> : tensor<2x3x4x8xf32>
    %cst_0 = arith.constant dense<0.594603539> : tensor<2x3x8x6xf32>
    %cst_1 = arith.constant 0.000000e+00 : f32
    %cst_2 = arith.constant 0xFF800000 : f32
    %0 = tensor.empty() : tensor<2x3x8x6xf32>
    %transposed = linalg.transpose ins(%arg1 : tensor<2x3x6x8xf32>) outs(%0 : tensor<2x3x8x6xf32>) permutation = [0, 1, 3, 2] 
    %1 = arith.mulf %arg0, %cst : tensor<2x3x4x8xf32>
    %2 = arith.mulf %transposed, %cst_0 : tensor<2x3x8x6xf32>
    %collapsed = tensor.collapse_shape %1 [[0, 1], [2], [3]] : tensor<2x3x4x8xf32> into tensor<6x4x8xf32>
    %collapsed_3 = tensor.collapse_shape %2 [[0, 1], [2], [3]] : tensor<2x3x8x6xf32> into tensor<6x8x6xf32>
    %3 = tensor.empty() : tensor<6x4x6xf32>
    %4 = linalg.fill ins(%cst_1 : f32) outs(%3 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
    %5 = linalg.batch_matmul ins(%collapsed, %collapsed_3 : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%4 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
    %expanded = tensor.expand_shape %5 [[0, 1], [2], [3]] output_shape [2, 3, 4, 6] : tensor<6x4x6xf32> into tensor<2x3x4x6xf32>
    %6 = arith.addf %expanded, %arg3 : tensor<2x3x4x6xf32>
    %7 = tensor.empty() : tensor<2x3x4xf32>
    %8 = linalg.fill ins(%cst_2 : f32) outs(%7 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    %reduced = linalg.reduce ins(%6 : tensor<2x3x4x6xf32>) outs(%8 : tensor<2x3x4xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %17 = arith.maximumf %in, %init : f32
        linalg.yield %17 : f32
      }
    %9 = tensor.empty() : tensor<2x3x4x6xf32>
    %broadcasted = linalg.broadcast ins(%reduced : tensor<2x3x4xf32>) outs(%9 : tensor<2x3x4x6xf32>) dimensions = [3] 
    %10 = arith.subf %6, %broadcasted : tensor<2x3x4x6xf32>
    %11 = math.exp %10 : tensor<2x3x4x6xf32>
    %12 = linalg.fill ins(%cst_1 : f32) outs(%7 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    %reduced_4 = linalg.reduce ins(%11 : tensor<2x3x4x6xf32>) outs(%12 : tensor<2x3x4xf32>) dimensions = [3] 
      (%in: f32, %init: f32) {
        %17 = arith.addf %in, %init : f32
        linalg.yield %17 : f32
      }
    %broadcasted_5 = linalg.broadcast ins(%reduced_4 : tensor<2x3x4xf32>) outs(%9 : tensor<2x3x4x6xf32>) dimensions = [3] 
    %13 = arith.divf %11, %broadcasted_5 : tensor<2x3x4x6xf32>
    %collapsed_6 = tensor.collapse_shape %13 [[0, 1], [2], [3]] : tensor<2x3x4x6xf32> into tensor<6x4x6xf32>
    %collapsed_7 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<2x3x6x8xf32> into tensor<6x6x8xf32>
    %14 = tensor.empty() : tensor<6x4x8xf32>
    %15 = linalg.fill ins(%cst_1 : f32) outs(%14 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
    %16 = linalg.batch_matmul ins(%collapsed_6, %collapsed_7 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%15 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
    %expanded_8 = tensor.expand_shape %16 [[0, 1], [2], [3]] output_shape [2, 3, 4, 8] : tensor<6x4x8xf32> into tensor<2x3x4x8xf32>
    return %expanded_8 : tensor<2x3x4x8xf32>
  }

