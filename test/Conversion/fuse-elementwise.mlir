// RUN: gatec-opt %s -split-input-file -gate-fuse-elementwise | FileCheck %s

// A broadcast ([T, D] table to [H, T, D]) used by two consumers is read
// through its broadcast map by both; nothing [H, T, D]-sized is written for
// it. The two consumers stay separate (the multiply has two users).
// CHECK-DAG:   #[[TABLE:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @shared_broadcast
// CHECK:         %[[A:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[TABLE]], #[[ID]]]
// CHECK-SAME:        ins(%arg0, %arg1 : tensor<8x?x64xf32>, tensor<?x64xf32>)
// CHECK:           arith.mulf
// CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[TABLE]], #[[ID]]]
// CHECK-SAME:        ins(%[[A]], %arg1 : tensor<8x?x64xf32>, tensor<?x64xf32>)
// CHECK:           arith.addf
// CHECK-NOT:     linalg.generic
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#tab = affine_map<(d0, d1, d2) -> (d1, d2)>
func.func @shared_broadcast(%x: tensor<8x?x64xf32>, %cos: tensor<?x64xf32>) -> (tensor<8x?x64xf32>, tensor<8x?x64xf32>) {
  %c1 = arith.constant 1 : index
  %t = tensor.dim %x, %c1 : tensor<8x?x64xf32>
  %e = tensor.empty(%t) : tensor<8x?x64xf32>
  %b = linalg.generic {indexing_maps = [#tab, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%cos : tensor<?x64xf32>) outs(%e : tensor<8x?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x?x64xf32>
  %m = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %b : tensor<8x?x64xf32>, tensor<8x?x64xf32>) outs(%e : tensor<8x?x64xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<8x?x64xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%m, %b : tensor<8x?x64xf32>, tensor<8x?x64xf32>) outs(%e : tensor<8x?x64xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %r = arith.addf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<8x?x64xf32>
  return %m, %s : tensor<8x?x64xf32>, tensor<8x?x64xf32>
}

// -----

// Not recomputed in several consumers: a producer that computes (exp), and a
// transposing copy (its consumers would read with strides).
// CHECK:       #[[TR:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @multi_use_kept
// CHECK:         math.exp
// CHECK:         linalg.generic {indexing_maps = [#[[TR]],
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT:     linalg.generic
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
func.func @multi_use_kept(%x: tensor<64x64xf32>) -> (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) {
  %e = tensor.empty() : tensor<64x64xf32>
  %ex = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.exp %in : f32
    linalg.yield %r : f32
  } -> tensor<64x64xf32>
  %t = linalg.generic {indexing_maps = [#tr, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<64x64xf32>
  %a = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%ex : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<64x64xf32>
  %b = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%ex : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<64x64xf32>
  %c = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%t : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<64x64xf32>
  %d = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%t : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<64x64xf32>
  return %a, %b, %c, %d : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>
}
