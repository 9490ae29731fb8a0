// RUN: gatec-opt %s -split-input-file -gate-raise-recurrence -canonicalize | FileCheck %s

// Token loops as ONNX's LinearAttention function body (a Scan) imports,
// taken from the ONNX conformance *_expanded models.

// Per-channel decay, delta update, Sᵀk as transpose(S)·k, explicit output scale.
// CHECK-LABEL: func.func @main
// CHECK-NOT:     scf.for
// The time-major transposes the Scan needed are looked through: the op reads
// the [B,T,H,D] tensors (token_major) and no transpose is left on its inputs.
// CHECK:         gate.linear_attention gated_delta %{{.+}}, %{{.+}}, %{{.+}} decay(%{{.+}} : tensor<2x4x4x8xf32>) beta(%{{.+}} : tensor<2x4x4xf32>) initial_state(%{{.+}} : tensor<2x4x8x8xf32>) {scale = 0.353553385 : f32, token_major}
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map2 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#map3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

  func.func @main(%arg0: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "query"}, %arg1: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "key"}, %arg2: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "value"}, %arg3: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "decay"}, %arg4: tensor<2x4x4xf32> {gatec.dims = ["", "", ""], gatec.name = "beta"}) -> (tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "output"}, tensor<2x4x8x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "present_state"}) {
    %cst = arith.constant dense<0.000000e+00> : tensor<2x4x8x8xf32>
    %c4 = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst_0 = arith.constant 0.000000e+00 : f32
    %cst_1 = arith.constant dense<0.353553385> : tensor<2x4x8xf32>
    %expanded = tensor.expand_shape %arg0 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %0 = tensor.empty() : tensor<4x2x4x8xf32>
    %transposed = linalg.transpose ins(%expanded : tensor<2x4x4x8xf32>) outs(%0 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_2 = tensor.expand_shape %arg1 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %transposed_3 = linalg.transpose ins(%expanded_2 : tensor<2x4x4x8xf32>) outs(%0 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_4 = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %transposed_5 = linalg.transpose ins(%expanded_4 : tensor<2x4x4x8xf32>) outs(%0 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_6 = tensor.expand_shape %arg3 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %transposed_7 = linalg.transpose ins(%expanded_6 : tensor<2x4x4x8xf32>) outs(%0 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_8 = tensor.expand_shape %arg4 [[0], [1], [2, 3]] output_shape [2, 4, 4, 1] : tensor<2x4x4xf32> into tensor<2x4x4x1xf32>
    %1 = tensor.empty() : tensor<4x2x4x1xf32>
    %transposed_9 = linalg.transpose ins(%expanded_8 : tensor<2x4x4x1xf32>) outs(%1 : tensor<4x2x4x1xf32>) permutation = [1, 0, 2, 3] 
    %2:2 = scf.for %arg5 = %c0 to %c4 step %c1 iter_args(%arg6 = %cst, %arg7 = %0) -> (tensor<2x4x8x8xf32>, tensor<4x2x4x8xf32>) {
      %extracted_slice = tensor.extract_slice %transposed[%arg5, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_11 = tensor.collapse_shape %extracted_slice [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_12 = tensor.extract_slice %transposed_3[%arg5, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_13 = tensor.collapse_shape %extracted_slice_12 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_14 = tensor.extract_slice %transposed_5[%arg5, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_15 = tensor.collapse_shape %extracted_slice_14 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_16 = tensor.extract_slice %transposed_7[%arg5, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_17 = tensor.collapse_shape %extracted_slice_16 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_18 = tensor.extract_slice %transposed_9[%arg5, 0, 0, 0] [1, 2, 4, 1] [1, 1, 1, 1] : tensor<4x2x4x1xf32> to tensor<1x2x4x1xf32>
      %collapsed_19 = tensor.collapse_shape %extracted_slice_18 [[0, 1], [2], [3]] : tensor<1x2x4x1xf32> into tensor<2x4x1xf32>
      %4 = math.exp %collapsed_17 : tensor<2x4x8xf32>
      %expanded_20 = tensor.expand_shape %4 [[0], [1], [2, 3]] output_shape [2, 4, 8, 1] : tensor<2x4x8xf32> into tensor<2x4x8x1xf32>
      %5 = tensor.empty() : tensor<2x4x8x8xf32>
      %6 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded_20 : tensor<2x4x8x1xf32>) outs(%5 : tensor<2x4x8x8xf32>) {
      ^bb0(%in: f32, %out: f32):
        linalg.yield %in : f32
      } -> tensor<2x4x8x8xf32>
      %7 = arith.mulf %arg6, %6 : tensor<2x4x8x8xf32>
      %expanded_21 = tensor.expand_shape %collapsed_13 [[0], [1], [2, 3]] output_shape [2, 4, 8, 1] : tensor<2x4x8xf32> into tensor<2x4x8x1xf32>
      %transposed_22 = linalg.transpose ins(%7 : tensor<2x4x8x8xf32>) outs(%5 : tensor<2x4x8x8xf32>) permutation = [0, 1, 3, 2] 
      %collapsed_23 = tensor.collapse_shape %transposed_22 [[0, 1], [2], [3]] : tensor<2x4x8x8xf32> into tensor<8x8x8xf32>
      %collapsed_24 = tensor.collapse_shape %expanded_21 [[0, 1], [2], [3]] : tensor<2x4x8x1xf32> into tensor<8x8x1xf32>
      %8 = tensor.empty() : tensor<8x8x1xf32>
      %9 = linalg.fill ins(%cst_0 : f32) outs(%8 : tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
      %10 = linalg.batch_matmul ins(%collapsed_23, %collapsed_24 : tensor<8x8x8xf32>, tensor<8x8x1xf32>) outs(%9 : tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
      %expanded_25 = tensor.expand_shape %10 [[0, 1], [2], [3]] output_shape [2, 4, 8, 1] : tensor<8x8x1xf32> into tensor<2x4x8x1xf32>
      %collapsed_26 = tensor.collapse_shape %expanded_25 [[0], [1], [2, 3]] : tensor<2x4x8x1xf32> into tensor<2x4x8xf32>
      %11 = arith.subf %collapsed_15, %collapsed_26 : tensor<2x4x8xf32>
      %12 = tensor.empty() : tensor<2x4x8xf32>
      %13 = linalg.generic {indexing_maps = [#map2, #map3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%collapsed_19 : tensor<2x4x1xf32>) outs(%12 : tensor<2x4x8xf32>) {
      ^bb0(%in: f32, %out: f32):
        linalg.yield %in : f32
      } -> tensor<2x4x8xf32>
      %14 = arith.mulf %13, %11 : tensor<2x4x8xf32>
      %expanded_27 = tensor.expand_shape %14 [[0], [1], [2, 3]] output_shape [2, 4, 1, 8] : tensor<2x4x8xf32> into tensor<2x4x1x8xf32>
      %collapsed_28 = tensor.collapse_shape %expanded_27 [[0, 1], [2], [3]] : tensor<2x4x1x8xf32> into tensor<8x1x8xf32>
      %15 = tensor.empty() : tensor<8x8x8xf32>
      %16 = linalg.fill ins(%cst_0 : f32) outs(%15 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
      %17 = linalg.batch_matmul ins(%collapsed_24, %collapsed_28 : tensor<8x8x1xf32>, tensor<8x1x8xf32>) outs(%16 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
      %expanded_29 = tensor.expand_shape %17 [[0, 1], [2], [3]] output_shape [2, 4, 8, 8] : tensor<8x8x8xf32> into tensor<2x4x8x8xf32>
      %18 = arith.addf %7, %expanded_29 : tensor<2x4x8x8xf32>
      %expanded_30 = tensor.expand_shape %collapsed_11 [[0], [1], [2, 3]] output_shape [2, 4, 1, 8] : tensor<2x4x8xf32> into tensor<2x4x1x8xf32>
      %collapsed_31 = tensor.collapse_shape %expanded_30 [[0, 1], [2], [3]] : tensor<2x4x1x8xf32> into tensor<8x1x8xf32>
      %collapsed_32 = tensor.collapse_shape %18 [[0, 1], [2], [3]] : tensor<2x4x8x8xf32> into tensor<8x8x8xf32>
      %19 = tensor.empty() : tensor<8x1x8xf32>
      %20 = linalg.fill ins(%cst_0 : f32) outs(%19 : tensor<8x1x8xf32>) -> tensor<8x1x8xf32>
      %21 = linalg.batch_matmul ins(%collapsed_31, %collapsed_32 : tensor<8x1x8xf32>, tensor<8x8x8xf32>) outs(%20 : tensor<8x1x8xf32>) -> tensor<8x1x8xf32>
      %expanded_33 = tensor.expand_shape %21 [[0, 1], [2], [3]] output_shape [2, 4, 1, 8] : tensor<8x1x8xf32> into tensor<2x4x1x8xf32>
      %collapsed_34 = tensor.collapse_shape %expanded_33 [[0], [1], [2, 3]] : tensor<2x4x1x8xf32> into tensor<2x4x8xf32>
      %22 = arith.mulf %collapsed_34, %cst_1 : tensor<2x4x8xf32>
      %expanded_35 = tensor.expand_shape %22 [[0, 1], [2], [3]] output_shape [1, 2, 4, 8] : tensor<2x4x8xf32> into tensor<1x2x4x8xf32>
      %inserted_slice = tensor.insert_slice %expanded_35 into %arg7[%arg5, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<1x2x4x8xf32> into tensor<4x2x4x8xf32>
      scf.yield %18, %inserted_slice : tensor<2x4x8x8xf32>, tensor<4x2x4x8xf32>
    }
    %3 = tensor.empty() : tensor<2x4x4x8xf32>
    %transposed_10 = linalg.transpose ins(%2#1 : tensor<4x2x4x8xf32>) outs(%3 : tensor<2x4x4x8xf32>) permutation = [1, 0, 2, 3] 
    %collapsed = tensor.collapse_shape %transposed_10 [[0], [1], [2, 3]] : tensor<2x4x4x8xf32> into tensor<2x4x32xf32>
    return %collapsed, %2#0 : tensor<2x4x32xf32>, tensor<2x4x8x8xf32>
  }

// -----

// GQA: the state is repeated over 2 query heads per kv head.
// CHECK-LABEL: func.func @main
// CHECK-NOT:     scf.for
// CHECK:         gate.linear_attention gated_delta %{{.+}}, %{{.+}}, %{{.+}} {{.*}}token_major} : tensor<2x4x8x8xf32>, tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32> -> tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map2 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#map3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#map4 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#map5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>

  func.func @main(%arg0: tensor<2x4x64xf32> {gatec.dims = ["", "", ""], gatec.name = "query"}, %arg1: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "key"}, %arg2: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "value"}, %arg3: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "decay"}, %arg4: tensor<2x4x4xf32> {gatec.dims = ["", "", ""], gatec.name = "beta"}) -> (tensor<2x4x64xf32> {gatec.dims = ["", "", ""], gatec.name = "output"}, tensor<2x4x8x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "present_state"}) {
    %cst = arith.constant dense<0.000000e+00> : tensor<2x4x8x8xf32>
    %c4 = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst_0 = arith.constant 0.000000e+00 : f32
    %cst_1 = arith.constant dense<0.353553385> : tensor<2x8x8xf32>
    %expanded = tensor.expand_shape %arg0 [[0], [1], [2, 3]] output_shape [2, 4, 8, 8] : tensor<2x4x64xf32> into tensor<2x4x8x8xf32>
    %0 = tensor.empty() : tensor<4x2x8x8xf32>
    %transposed = linalg.transpose ins(%expanded : tensor<2x4x8x8xf32>) outs(%0 : tensor<4x2x8x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_2 = tensor.expand_shape %arg1 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %1 = tensor.empty() : tensor<4x2x4x8xf32>
    %transposed_3 = linalg.transpose ins(%expanded_2 : tensor<2x4x4x8xf32>) outs(%1 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_4 = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %transposed_5 = linalg.transpose ins(%expanded_4 : tensor<2x4x4x8xf32>) outs(%1 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_6 = tensor.expand_shape %arg3 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %transposed_7 = linalg.transpose ins(%expanded_6 : tensor<2x4x4x8xf32>) outs(%1 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_8 = tensor.expand_shape %arg4 [[0], [1], [2, 3]] output_shape [2, 4, 4, 1] : tensor<2x4x4xf32> into tensor<2x4x4x1xf32>
    %2 = tensor.empty() : tensor<4x2x4x1xf32>
    %transposed_9 = linalg.transpose ins(%expanded_8 : tensor<2x4x4x1xf32>) outs(%2 : tensor<4x2x4x1xf32>) permutation = [1, 0, 2, 3] 
    %3:2 = scf.for %arg5 = %c0 to %c4 step %c1 iter_args(%arg6 = %cst, %arg7 = %0) -> (tensor<2x4x8x8xf32>, tensor<4x2x8x8xf32>) {
      %extracted_slice = tensor.extract_slice %transposed[%arg5, 0, 0, 0] [1, 2, 8, 8] [1, 1, 1, 1] : tensor<4x2x8x8xf32> to tensor<1x2x8x8xf32>
      %collapsed_11 = tensor.collapse_shape %extracted_slice [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
      %extracted_slice_12 = tensor.extract_slice %transposed_3[%arg5, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_13 = tensor.collapse_shape %extracted_slice_12 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_14 = tensor.extract_slice %transposed_5[%arg5, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_15 = tensor.collapse_shape %extracted_slice_14 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_16 = tensor.extract_slice %transposed_7[%arg5, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_17 = tensor.collapse_shape %extracted_slice_16 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_18 = tensor.extract_slice %transposed_9[%arg5, 0, 0, 0] [1, 2, 4, 1] [1, 1, 1, 1] : tensor<4x2x4x1xf32> to tensor<1x2x4x1xf32>
      %collapsed_19 = tensor.collapse_shape %extracted_slice_18 [[0, 1], [2], [3]] : tensor<1x2x4x1xf32> into tensor<2x4x1xf32>
      %5 = math.exp %collapsed_17 : tensor<2x4x8xf32>
      %expanded_20 = tensor.expand_shape %5 [[0], [1], [2, 3]] output_shape [2, 4, 8, 1] : tensor<2x4x8xf32> into tensor<2x4x8x1xf32>
      %6 = tensor.empty() : tensor<2x4x8x8xf32>
      %7 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded_20 : tensor<2x4x8x1xf32>) outs(%6 : tensor<2x4x8x8xf32>) {
      ^bb0(%in: f32, %out: f32):
        linalg.yield %in : f32
      } -> tensor<2x4x8x8xf32>
      %8 = arith.mulf %arg6, %7 : tensor<2x4x8x8xf32>
      %expanded_21 = tensor.expand_shape %collapsed_13 [[0], [1], [2, 3]] output_shape [2, 4, 8, 1] : tensor<2x4x8xf32> into tensor<2x4x8x1xf32>
      %transposed_22 = linalg.transpose ins(%8 : tensor<2x4x8x8xf32>) outs(%6 : tensor<2x4x8x8xf32>) permutation = [0, 1, 3, 2] 
      %collapsed_23 = tensor.collapse_shape %transposed_22 [[0, 1], [2], [3]] : tensor<2x4x8x8xf32> into tensor<8x8x8xf32>
      %collapsed_24 = tensor.collapse_shape %expanded_21 [[0, 1], [2], [3]] : tensor<2x4x8x1xf32> into tensor<8x8x1xf32>
      %9 = tensor.empty() : tensor<8x8x1xf32>
      %10 = linalg.fill ins(%cst_0 : f32) outs(%9 : tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
      %11 = linalg.batch_matmul ins(%collapsed_23, %collapsed_24 : tensor<8x8x8xf32>, tensor<8x8x1xf32>) outs(%10 : tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
      %expanded_25 = tensor.expand_shape %11 [[0, 1], [2], [3]] output_shape [2, 4, 8, 1] : tensor<8x8x1xf32> into tensor<2x4x8x1xf32>
      %collapsed_26 = tensor.collapse_shape %expanded_25 [[0], [1], [2, 3]] : tensor<2x4x8x1xf32> into tensor<2x4x8xf32>
      %12 = arith.subf %collapsed_15, %collapsed_26 : tensor<2x4x8xf32>
      %13 = tensor.empty() : tensor<2x4x8xf32>
      %14 = linalg.generic {indexing_maps = [#map2, #map3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%collapsed_19 : tensor<2x4x1xf32>) outs(%13 : tensor<2x4x8xf32>) {
      ^bb0(%in: f32, %out: f32):
        linalg.yield %in : f32
      } -> tensor<2x4x8xf32>
      %15 = arith.mulf %14, %12 : tensor<2x4x8xf32>
      %expanded_27 = tensor.expand_shape %15 [[0], [1], [2, 3]] output_shape [2, 4, 1, 8] : tensor<2x4x8xf32> into tensor<2x4x1x8xf32>
      %collapsed_28 = tensor.collapse_shape %expanded_27 [[0, 1], [2], [3]] : tensor<2x4x1x8xf32> into tensor<8x1x8xf32>
      %16 = tensor.empty() : tensor<8x8x8xf32>
      %17 = linalg.fill ins(%cst_0 : f32) outs(%16 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
      %18 = linalg.batch_matmul ins(%collapsed_24, %collapsed_28 : tensor<8x8x1xf32>, tensor<8x1x8xf32>) outs(%17 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
      %expanded_29 = tensor.expand_shape %18 [[0, 1], [2], [3]] output_shape [2, 4, 8, 8] : tensor<8x8x8xf32> into tensor<2x4x8x8xf32>
      %19 = arith.addf %8, %expanded_29 : tensor<2x4x8x8xf32>
      %expanded_30 = tensor.expand_shape %19 [[0], [1], [2, 3], [4]] output_shape [2, 4, 1, 8, 8] : tensor<2x4x8x8xf32> into tensor<2x4x1x8x8xf32>
      %20 = tensor.empty() : tensor<2x4x2x8x8xf32>
      %21 = linalg.generic {indexing_maps = [#map4, #map5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%expanded_30 : tensor<2x4x1x8x8xf32>) outs(%20 : tensor<2x4x2x8x8xf32>) {
      ^bb0(%in: f32, %out: f32):
        linalg.yield %in : f32
      } -> tensor<2x4x2x8x8xf32>
      %expanded_31 = tensor.expand_shape %collapsed_11 [[0], [1], [2, 3]] output_shape [2, 8, 1, 8] : tensor<2x8x8xf32> into tensor<2x8x1x8xf32>
      %collapsed_32 = tensor.collapse_shape %expanded_31 [[0, 1], [2], [3]] : tensor<2x8x1x8xf32> into tensor<16x1x8xf32>
      %collapsed_33 = tensor.collapse_shape %21 [[0, 1, 2], [3], [4]] : tensor<2x4x2x8x8xf32> into tensor<16x8x8xf32>
      %22 = tensor.empty() : tensor<16x1x8xf32>
      %23 = linalg.fill ins(%cst_0 : f32) outs(%22 : tensor<16x1x8xf32>) -> tensor<16x1x8xf32>
      %24 = linalg.batch_matmul ins(%collapsed_32, %collapsed_33 : tensor<16x1x8xf32>, tensor<16x8x8xf32>) outs(%23 : tensor<16x1x8xf32>) -> tensor<16x1x8xf32>
      %expanded_34 = tensor.expand_shape %24 [[0, 1], [2], [3]] output_shape [2, 8, 1, 8] : tensor<16x1x8xf32> into tensor<2x8x1x8xf32>
      %collapsed_35 = tensor.collapse_shape %expanded_34 [[0], [1], [2, 3]] : tensor<2x8x1x8xf32> into tensor<2x8x8xf32>
      %25 = arith.mulf %collapsed_35, %cst_1 : tensor<2x8x8xf32>
      %expanded_36 = tensor.expand_shape %25 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
      %inserted_slice = tensor.insert_slice %expanded_36 into %arg7[%arg5, 0, 0, 0] [1, 2, 8, 8] [1, 1, 1, 1] : tensor<1x2x8x8xf32> into tensor<4x2x8x8xf32>
      scf.yield %19, %inserted_slice : tensor<2x4x8x8xf32>, tensor<4x2x8x8xf32>
    }
    %4 = tensor.empty() : tensor<2x4x8x8xf32>
    %transposed_10 = linalg.transpose ins(%3#1 : tensor<4x2x8x8xf32>) outs(%4 : tensor<2x4x8x8xf32>) permutation = [1, 0, 2, 3] 
    %collapsed = tensor.collapse_shape %transposed_10 [[0], [1], [2, 3]] : tensor<2x4x8x8xf32> into tensor<2x4x64xf32>
    return %collapsed, %3#0 : tensor<2x4x64xf32>, tensor<2x4x8x8xf32>
  }

// -----

// Gated rule: u = v.
// CHECK-LABEL: func.func @main
// CHECK-NOT:     scf.for
// CHECK:         gate.linear_attention gated
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

  func.func @main(%arg0: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "query"}, %arg1: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "key"}, %arg2: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "value"}, %arg3: tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "decay"}) -> (tensor<2x4x32xf32> {gatec.dims = ["", "", ""], gatec.name = "output"}, tensor<2x4x8x8xf32> {gatec.dims = ["", "", "", ""], gatec.name = "present_state"}) {
    %cst = arith.constant dense<0.000000e+00> : tensor<2x4x8x8xf32>
    %c4 = arith.constant 4 : index
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cst_0 = arith.constant 0.000000e+00 : f32
    %cst_1 = arith.constant dense<0.353553385> : tensor<2x4x8xf32>
    %expanded = tensor.expand_shape %arg0 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %0 = tensor.empty() : tensor<4x2x4x8xf32>
    %transposed = linalg.transpose ins(%expanded : tensor<2x4x4x8xf32>) outs(%0 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_2 = tensor.expand_shape %arg1 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %transposed_3 = linalg.transpose ins(%expanded_2 : tensor<2x4x4x8xf32>) outs(%0 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_4 = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %transposed_5 = linalg.transpose ins(%expanded_4 : tensor<2x4x4x8xf32>) outs(%0 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %expanded_6 = tensor.expand_shape %arg3 [[0], [1], [2, 3]] output_shape [2, 4, 4, 8] : tensor<2x4x32xf32> into tensor<2x4x4x8xf32>
    %transposed_7 = linalg.transpose ins(%expanded_6 : tensor<2x4x4x8xf32>) outs(%0 : tensor<4x2x4x8xf32>) permutation = [1, 0, 2, 3] 
    %1:2 = scf.for %arg4 = %c0 to %c4 step %c1 iter_args(%arg5 = %cst, %arg6 = %0) -> (tensor<2x4x8x8xf32>, tensor<4x2x4x8xf32>) {
      %extracted_slice = tensor.extract_slice %transposed[%arg4, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_9 = tensor.collapse_shape %extracted_slice [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_10 = tensor.extract_slice %transposed_3[%arg4, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_11 = tensor.collapse_shape %extracted_slice_10 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_12 = tensor.extract_slice %transposed_5[%arg4, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_13 = tensor.collapse_shape %extracted_slice_12 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %extracted_slice_14 = tensor.extract_slice %transposed_7[%arg4, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<4x2x4x8xf32> to tensor<1x2x4x8xf32>
      %collapsed_15 = tensor.collapse_shape %extracted_slice_14 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
      %3 = math.exp %collapsed_15 : tensor<2x4x8xf32>
      %expanded_16 = tensor.expand_shape %3 [[0], [1], [2, 3]] output_shape [2, 4, 8, 1] : tensor<2x4x8xf32> into tensor<2x4x8x1xf32>
      %4 = tensor.empty() : tensor<2x4x8x8xf32>
      %5 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded_16 : tensor<2x4x8x1xf32>) outs(%4 : tensor<2x4x8x8xf32>) {
      ^bb0(%in: f32, %out: f32):
        linalg.yield %in : f32
      } -> tensor<2x4x8x8xf32>
      %6 = arith.mulf %arg5, %5 : tensor<2x4x8x8xf32>
      %expanded_17 = tensor.expand_shape %collapsed_11 [[0], [1], [2, 3]] output_shape [2, 4, 8, 1] : tensor<2x4x8xf32> into tensor<2x4x8x1xf32>
      %expanded_18 = tensor.expand_shape %collapsed_13 [[0], [1], [2, 3]] output_shape [2, 4, 1, 8] : tensor<2x4x8xf32> into tensor<2x4x1x8xf32>
      %collapsed_19 = tensor.collapse_shape %expanded_17 [[0, 1], [2], [3]] : tensor<2x4x8x1xf32> into tensor<8x8x1xf32>
      %collapsed_20 = tensor.collapse_shape %expanded_18 [[0, 1], [2], [3]] : tensor<2x4x1x8xf32> into tensor<8x1x8xf32>
      %7 = tensor.empty() : tensor<8x8x8xf32>
      %8 = linalg.fill ins(%cst_0 : f32) outs(%7 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
      %9 = linalg.batch_matmul ins(%collapsed_19, %collapsed_20 : tensor<8x8x1xf32>, tensor<8x1x8xf32>) outs(%8 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
      %expanded_21 = tensor.expand_shape %9 [[0, 1], [2], [3]] output_shape [2, 4, 8, 8] : tensor<8x8x8xf32> into tensor<2x4x8x8xf32>
      %10 = arith.addf %6, %expanded_21 : tensor<2x4x8x8xf32>
      %expanded_22 = tensor.expand_shape %collapsed_9 [[0], [1], [2, 3]] output_shape [2, 4, 1, 8] : tensor<2x4x8xf32> into tensor<2x4x1x8xf32>
      %collapsed_23 = tensor.collapse_shape %expanded_22 [[0, 1], [2], [3]] : tensor<2x4x1x8xf32> into tensor<8x1x8xf32>
      %collapsed_24 = tensor.collapse_shape %10 [[0, 1], [2], [3]] : tensor<2x4x8x8xf32> into tensor<8x8x8xf32>
      %11 = tensor.empty() : tensor<8x1x8xf32>
      %12 = linalg.fill ins(%cst_0 : f32) outs(%11 : tensor<8x1x8xf32>) -> tensor<8x1x8xf32>
      %13 = linalg.batch_matmul ins(%collapsed_23, %collapsed_24 : tensor<8x1x8xf32>, tensor<8x8x8xf32>) outs(%12 : tensor<8x1x8xf32>) -> tensor<8x1x8xf32>
      %expanded_25 = tensor.expand_shape %13 [[0, 1], [2], [3]] output_shape [2, 4, 1, 8] : tensor<8x1x8xf32> into tensor<2x4x1x8xf32>
      %collapsed_26 = tensor.collapse_shape %expanded_25 [[0], [1], [2, 3]] : tensor<2x4x1x8xf32> into tensor<2x4x8xf32>
      %14 = arith.mulf %collapsed_26, %cst_1 : tensor<2x4x8xf32>
      %expanded_27 = tensor.expand_shape %14 [[0, 1], [2], [3]] output_shape [1, 2, 4, 8] : tensor<2x4x8xf32> into tensor<1x2x4x8xf32>
      %inserted_slice = tensor.insert_slice %expanded_27 into %arg6[%arg4, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<1x2x4x8xf32> into tensor<4x2x4x8xf32>
      scf.yield %10, %inserted_slice : tensor<2x4x8x8xf32>, tensor<4x2x4x8xf32>
    }
    %2 = tensor.empty() : tensor<2x4x4x8xf32>
    %transposed_8 = linalg.transpose ins(%1#1 : tensor<4x2x4x8xf32>) outs(%2 : tensor<2x4x4x8xf32>) permutation = [1, 0, 2, 3] 
    %collapsed = tensor.collapse_shape %transposed_8 [[0], [1], [2, 3]] : tensor<2x4x4x8xf32> into tensor<2x4x32xf32>
    return %collapsed, %1#0 : tensor<2x4x32xf32>, tensor<2x4x8x8xf32>
  }
