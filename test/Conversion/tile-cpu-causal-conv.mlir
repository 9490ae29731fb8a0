// RUN: gatec-opt %s -gate-tile-cpu=vector-width=16 -split-input-file | FileCheck %s --check-prefixes=CHECK,V16
// RUN: gatec-opt %s -gate-tile-cpu=vector-width=8 -split-input-file | FileCheck %s --check-prefixes=CHECK,V8

// Long causal convolutions: tasks over (batch, block of positions, vector of
// channels); a constant weight is packed at compile time into one panel of
// taps per channel vector; each task copies its input rows into a strip and
// runs the taps unrolled by R (14 rows in registers with 32 vector registers,
// 6 with 16), after the taps left over run one at a time.

// CHECK-LABEL: func.func @long_token_major
// V16:         arith.constant dense_resource<gatec_conv_weight> : tensor<3x100x16xf32>
// V8:          arith.constant dense_resource<gatec_conv_weight> : tensor<5x100x8xf32>
// CHECK:       scf.parallel
// CHECK:         memref.alloc() {{.*}}gate.tile_task{{.*}} : memref<{{[0-9]+}}x{{16|8}}xf32>
// V16:           %{{.*}}:28 = scf.for {{.*}} step %c1 iter_args({{.*}}) -> (vector<16xf32>,
// V16:           %{{.*}}:28 = scf.for {{.*}} to %c100 step %c14 iter_args
// V16-COUNT-196: math.fma
// V8:            %{{.*}}:12 = scf.for {{.*}} step %c1 iter_args({{.*}}) -> (vector<8xf32>,
// V8:            %{{.*}}:12 = scf.for {{.*}} to %c100 step %c6 iter_args
// V8-COUNT-36:   math.fma
// CHECK-NOT:   gate.causal_conv
func.func @long_token_major(%x: tensor<?x?x40xf32>) -> (tensor<?x?x40xf32>, tensor<?x40x99xf32>) {
  %w = arith.constant dense<0.5> : tensor<40x100xf32>
  %o, %s = gate.causal_conv %x, %w {token_major} : tensor<?x?x40xf32>, tensor<40x100xf32> -> tensor<?x?x40xf32>, tensor<?x40x99xf32>
  return %o, %s : tensor<?x?x40xf32>, tensor<?x40x99xf32>
}

// -----

// Channel-major (ONNX Conv's layout) takes the same kernel at any kernel
// size: the strip copy is the transpose; a weight given at run time is
// packed per call.

// CHECK-LABEL: func.func @short_channel_major
// CHECK-NOT:   dense_resource
// CHECK:       memref.alloc() {{.*}} : memref<{{[0-9]+}}x4x{{16|8}}xf32>
// CHECK:       scf.parallel
// V16:         scf.for {{.*}} to %c4 step %c14 iter_args
// V8:          scf.for {{.*}} to %c4 step %c6 iter_args
// CHECK-NOT:   gate.causal_conv
func.func @short_channel_major(%x: tensor<2x24x?xf32>, %w: tensor<24x4xf32>) -> (tensor<2x24x?xf32>, tensor<2x24x3xf32>) {
  %o, %s = gate.causal_conv %x, %w : tensor<2x24x?xf32>, tensor<24x4xf32> -> tensor<2x24x?xf32>, tensor<2x24x3xf32>
  return %o, %s : tensor<2x24x?xf32>, tensor<2x24x3xf32>
}

// -----

// Short kernels in the token-major layout keep the unrolled-taps kernel.

// CHECK-LABEL: func.func @short_token_major
// CHECK-NOT:   gatec_conv_weight
// CHECK-NOT:   iter_args
// CHECK:       return
func.func @short_token_major(%x: tensor<1x?x40xf32>, %w: tensor<40x16xf32>) -> (tensor<1x?x40xf32>, tensor<1x40x15xf32>) {
  %o, %s = gate.causal_conv %x, %w {token_major} : tensor<1x?x40xf32>, tensor<40x16xf32> -> tensor<1x?x40xf32>, tensor<1x40x15xf32>
  return %o, %s : tensor<1x?x40xf32>, tensor<1x40x15xf32>
}
