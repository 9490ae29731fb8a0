// RUN: gatec-opt %s -split-input-file -gate-raise-sdpa | FileCheck %s

// gate.sdpa ops that already exist (ONNX Attention imports): a mask that is
// provably causal becomes the flag; K/V repeated over head groups become the
// GQA mapping.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @bool_mask_causal
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal} :
func.func @bool_mask_causal(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %s = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %e = tensor.empty(%s, %s) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %keep = arith.cmpi sle, %j, %i : index
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// A clamp against the extent (min(j, S - 1)) is decided by the bounds.
// CHECK-LABEL: func.func @clamped_index_causal
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal} :
func.func @clamped_index_causal(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %last = arith.subi %s, %c1 : index
  %e = tensor.empty(%s, %s) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %jc = arith.minsi %j, %last : index
    %keep = arith.cmpi sle, %jc, %i : index
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// min(j, S - 2) is not decided (j = S - 1 is clamped): stays a mask.
// CHECK-LABEL: func.func @clamp_near_miss
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(
func.func @clamp_near_miss(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %s = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %last = arith.subi %s, %c2 : index
  %e = tensor.empty(%s, %s) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %jc = arith.minsi %j, %last : index
    %keep = arith.cmpi sle, %jc, %i : index
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// A window (i - j < 4, causal) becomes the op's window: the query and the
// 3 keys before it.
// CHECK-LABEL: func.func @window_raised
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal, window = array<i64: 3, 0>} :
func.func @window_raised(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %s = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %e = tensor.empty(%s, %s) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %past = arith.cmpi sle, %j, %i : index
    %d = arith.subi %i, %j : index
    %near = arith.cmpi slt, %d, %c4 : index
    %keep = arith.andi %past, %near : i1
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#rep = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// repeat_kv's copies: K and V [1,2,S,8] repeated to 4 heads become GQA.
// CHECK-LABEL: func.func @repeated_kv
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {causal} : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
func.func @repeated_kv(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %c2 = arith.constant 2 : index
  %s = tensor.dim %k, %c2 : tensor<1x2x?x8xf32>
  %e = tensor.empty(%s) : tensor<1x2x2x?x8xf32>
  %k5 = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, %s, 8] : tensor<1x2x?x8xf32> into tensor<1x2x1x?x8xf32>
  %kb = linalg.generic {indexing_maps = [#rep, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k5 : tensor<1x2x1x?x8xf32>) outs(%e : tensor<1x2x2x?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x?x8xf32>
  %kr = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x2x?x8xf32> into tensor<1x4x?x8xf32>
  %v5 = tensor.expand_shape %v [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, %s, 8] : tensor<1x2x?x8xf32> into tensor<1x2x1x?x8xf32>
  %vb = linalg.generic {indexing_maps = [#rep, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v5 : tensor<1x2x1x?x8xf32>) outs(%e : tensor<1x2x2x?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x?x8xf32>
  %vr = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x2x?x8xf32> into tensor<1x4x?x8xf32>
  %r = gate.sdpa %q, %kr, %vr {causal} : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x?x8xf32>
  return %r : tensor<1x4x?x8xf32>
}

// -----

#rep = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// Only K repeated (V has 4 heads of its own): unchanged.
// CHECK-LABEL: func.func @repeated_k_only
// CHECK:         gate.sdpa %arg0, %collapsed, %arg2 {causal} : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>
func.func @repeated_k_only(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %c2 = arith.constant 2 : index
  %s = tensor.dim %k, %c2 : tensor<1x2x?x8xf32>
  %e = tensor.empty(%s) : tensor<1x2x2x?x8xf32>
  %k5 = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, %s, 8] : tensor<1x2x?x8xf32> into tensor<1x2x1x?x8xf32>
  %kb = linalg.generic {indexing_maps = [#rep, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k5 : tensor<1x2x1x?x8xf32>) outs(%e : tensor<1x2x2x?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x?x8xf32>
  %kr = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x2x?x8xf32> into tensor<1x4x?x8xf32>
  %r = gate.sdpa %q, %kr, %v {causal} : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x?x8xf32>
  return %r : tensor<1x4x?x8xf32>
}

// -----

#rowb = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, 0)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// transformers' exporter zeroes fully masked rows after the op:
// select(Σ_j M[i,j] < 1, 0, sdpa(mask M)). gate.sdpa gives those rows 0
// already: the select goes. With c = 2 (rows of one key too) it stays.
// CHECK-LABEL: func.func @row_guard
// CHECK:         %[[R:.+]] = gate.sdpa %arg0, %arg1, %arg2 mask(%arg3 : tensor<1x1x?x?xi1>)
// CHECK-NOT:     arith.select
// CHECK:         return %[[R]]
// CHECK-LABEL: func.func @row_guard_two_keys
// CHECK:         arith.select
func.func @row_guard(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>, %m: tensor<1x1x?x?xi1>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %cst0 = arith.constant 0.0 : f32
  %lim = arith.constant 1.0 : f32
  %s = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %y = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  %mf = arith.uitofp %m : tensor<1x1x?x?xi1> to tensor<1x1x?x?xf32>
  %e = tensor.empty(%s) : tensor<1x1x?xf32>
  %z = linalg.fill ins(%cst0 : f32) outs(%e : tensor<1x1x?xf32>) -> tensor<1x1x?xf32>
  %sum = linalg.reduce ins(%mf : tensor<1x1x?x?xf32>) outs(%z : tensor<1x1x?xf32>) dimensions = [3]
    (%in: f32, %acc: f32) {
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    }
  %sum4 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 1, %s, 1] : tensor<1x1x?xf32> into tensor<1x1x?x1xf32>
  %limv = tensor.splat %lim[%s] : tensor<1x1x?x1xf32>
  %few = arith.cmpf olt, %sum4, %limv : tensor<1x1x?x1xf32>
  %eb = tensor.empty(%s) : tensor<1x2x?x8xi1>
  %fewb = linalg.generic {indexing_maps = [#rowb, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%few : tensor<1x1x?x1xi1>) outs(%eb : tensor<1x2x?x8xi1>) {
  ^bb0(%in: i1, %out: i1):
    linalg.yield %in : i1
  } -> tensor<1x2x?x8xi1>
  %zs = tensor.splat %cst0[%s] : tensor<1x2x?x8xf32>
  %r = arith.select %fewb, %zs, %y : tensor<1x2x?x8xi1>, tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}
func.func @row_guard_two_keys(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>, %m: tensor<1x1x?x?xi1>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %cst0 = arith.constant 0.0 : f32
  %lim = arith.constant 2.0 : f32
  %s = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %y = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  %mf = arith.uitofp %m : tensor<1x1x?x?xi1> to tensor<1x1x?x?xf32>
  %e = tensor.empty(%s) : tensor<1x1x?xf32>
  %z = linalg.fill ins(%cst0 : f32) outs(%e : tensor<1x1x?xf32>) -> tensor<1x1x?xf32>
  %sum = linalg.reduce ins(%mf : tensor<1x1x?x?xf32>) outs(%z : tensor<1x1x?xf32>) dimensions = [3]
    (%in: f32, %acc: f32) {
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    }
  %sum4 = tensor.expand_shape %sum [[0], [1], [2, 3]] output_shape [1, 1, %s, 1] : tensor<1x1x?xf32> into tensor<1x1x?x1xf32>
  %limv = tensor.splat %lim[%s] : tensor<1x1x?x1xf32>
  %few = arith.cmpf olt, %sum4, %limv : tensor<1x1x?x1xf32>
  %eb = tensor.empty(%s) : tensor<1x2x?x8xi1>
  %fewb = linalg.generic {indexing_maps = [#rowb, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%few : tensor<1x1x?x1xi1>) outs(%eb : tensor<1x2x?x8xi1>) {
  ^bb0(%in: i1, %out: i1):
    linalg.yield %in : i1
  } -> tensor<1x2x?x8xi1>
  %zs = tensor.splat %cst0[%s] : tensor<1x2x?x8xf32>
  %r = arith.select %fewb, %zs, %y : tensor<1x2x?x8xi1>, tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// The same window over queries and keys of two unrelated dynamic lengths: a
// query past the last key + 3 would keep no key (NaN in the decomposed
// graph, 0 in gate.sdpa): stays a mask.
// CHECK-LABEL: func.func @window_rows_may_be_empty
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(
func.func @window_rows_may_be_empty(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %sq = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %skv = tensor.dim %k, %c2 : tensor<1x2x?x8xf32>
  %e = tensor.empty(%sq, %skv) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %past = arith.cmpi sle, %j, %i : index
    %d = arith.subi %i, %j : index
    %near = arith.cmpi slt, %d, %c4 : index
    %keep = arith.andi %past, %near : i1
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// Two bands (|i - j| < 2 or i - j = 5): stays a mask.
// CHECK-LABEL: func.func @two_bands
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(
func.func @two_bands(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %cm2 = arith.constant -2 : index
  %c5 = arith.constant 5 : index
  %s = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %e = tensor.empty(%s, %s) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %d = arith.subi %i, %j : index
    %lo = arith.cmpi sgt, %d, %cm2 : index
    %hi = arith.cmpi slt, %d, %c2 : index
    %near = arith.andi %lo, %hi : i1
    %far = arith.cmpi eq, %d, %c5 : index
    %keep = arith.ori %near, %far : i1
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// A local window on both sides (|i - j| <= 2), one dynamic length.
// CHECK-LABEL: func.func @local_window
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {window = array<i64: 2, 2>} :
func.func @local_window(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %cm3 = arith.constant -3 : index
  %c3 = arith.constant 3 : index
  %s = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %e = tensor.empty(%s, %s) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %d = arith.subi %i, %j : index
    %lo = arith.cmpi sgt, %d, %cm3 : index
    %hi = arith.cmpi slt, %d, %c3 : index
    %keep = arith.andi %lo, %hi : i1
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// T queries over a cache of P keys followed by their own (Skv = P + T): the
// mask keeps j <= i + P, read in terms of the extents as j - i <= Skv - Sq,
// the bottom-right causal band for every P and T.
// CHECK-LABEL: func.func @cache_mask_bottom_right
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 {bottom_right, causal} :
func.func @cache_mask_bottom_right(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>, %past: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %t = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %p = tensor.dim %past, %c2 : tensor<1x2x?x8xf32>
  %total = arith.addi %p, %t : index
  %e = tensor.empty(%t, %total) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %pos = arith.addi %i, %p : index
    %keep = arith.cmpi sle, %j, %pos : index
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// One key too many (j <= i + P + 1) or the positions of another length
// (j <= i + P' with P' not the cache's size): the mask stays.
// CHECK-LABEL: func.func @cache_mask_near_misses
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(
// CHECK:         gate.sdpa %arg0, %arg1, %arg2 mask(
func.func @cache_mask_near_misses(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>, %past: tensor<1x2x?x8xf32>, %other: tensor<?xf32>) -> (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %t = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %p = tensor.dim %past, %c2 : tensor<1x2x?x8xf32>
  %p2 = tensor.dim %other, %c0 : tensor<?xf32>
  %total = arith.addi %p, %t : index
  %e = tensor.empty(%t, %total) : tensor<1x1x?x?xi1>
  %m = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %pos = arith.addi %i, %p : index
    %pos1 = arith.addi %pos, %c1 : index
    %keep = arith.cmpi sle, %j, %pos1 : index
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %m2 = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<1x1x?x?xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %pos = arith.addi %i, %p2 : index
    %keep = arith.cmpi sle, %j, %pos : index
    linalg.yield %keep : i1
  } -> tensor<1x1x?x?xi1>
  %r = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  %r2 = gate.sdpa %q, %k, %v mask(%m2 : tensor<1x1x?x?xi1>) : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  return %r, %r2 : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
}
