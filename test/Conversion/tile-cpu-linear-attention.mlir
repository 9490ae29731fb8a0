// RUN: gatec-opt %s -gate-tile-cpu -split-input-file | FileCheck %s --check-prefix=AUTO
// RUN: gatec-opt %s -gate-tile-cpu=linear-attention=chunked -split-input-file | FileCheck %s --check-prefix=CHUNKED
// RUN: gatec-opt %s -gate-tile-cpu="linear-attention=recurrent vector-width=8" -split-input-file | FileCheck %s --check-prefix=RECURRENT
// RUN: not gatec-opt %s -gate-tile-cpu=linear-attention=fast -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// The chunked kernel keeps cumulative log decays in f64 (the recurrent one
// has none): `auto` runs it for sequences longer than 64 tokens where it is
// faster (scalar or no decay, chunks of at most 64), `chunked` / `recurrent`
// at every length.

// BAD: linear-attention must be auto, chunked or recurrent, got 'fast'

// AUTO-LABEL:  func.func @la_scalar_decay
// AUTO:          %[[LONG:.*]] = arith.cmpi ugt, %{{.*}}, %c64 : index
// AUTO-NEXT:     scf.if %[[LONG]] {
// AUTO:            scf.parallel
// AUTO:              memref.alloc() {{.*}} : memref<{{[0-9]+}}xf64>
// AUTO:              arith.extf %{{.*}} : f32 to f64
// AUTO:            scf.parallel
// AUTO-NOT:        f64
// AUTO:          return

// CHUNKED-LABEL: func.func @la_scalar_decay
// CHUNKED-NOT:     scf.if
// CHUNKED:         scf.parallel
// CHUNKED:           memref.alloc() {{.*}} : memref<{{[0-9]+}}xf64>
// CHUNKED:         return

// RECURRENT-LABEL: func.func @la_scalar_decay
// RECURRENT-NOT:     f64
// RECURRENT:         scf.parallel
// RECURRENT-NOT:     f64
// RECURRENT:         return
func.func @la_scalar_decay(%q: tensor<?x2x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>, %g: tensor<?x2x?xf32>, %b: tensor<?x2x?xf32>) -> (tensor<?x2x?x32xf32>, tensor<?x2x32x32xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%g : tensor<?x2x?xf32>) beta(%b : tensor<?x2x?xf32>) {chunk_size = 32 : i64} : tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x2x?x32xf32>, tensor<?x2x32x32xf32>
  return %o, %s : tensor<?x2x?x32xf32>, tensor<?x2x32x32xf32>
}

// -----

// Per-channel decays: recurrent unless asked for; chunked, the decays are
// [chunk, K] per chunk.
// AUTO-LABEL:  func.func @la_channel_decay
// AUTO-NOT:      f64
// AUTO:          return

// CHUNKED-LABEL: func.func @la_channel_decay
// CHUNKED:           memref.alloc() {{.*}} : memref<16x{{[0-9]+}}xf64>
// CHUNKED:         return

// RECURRENT-LABEL: func.func @la_channel_decay
// RECURRENT-NOT:     f64
// RECURRENT:         return
func.func @la_channel_decay(%q: tensor<?x2x?x24xf32>, %k: tensor<?x2x?x24xf32>, %v: tensor<?x2x?x40xf32>, %g: tensor<?x2x?x24xf32>) -> (tensor<?x2x?x40xf32>, tensor<?x2x24x40xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%g : tensor<?x2x?x24xf32>) {chunk_size = 16 : i64} : tensor<?x2x?x24xf32>, tensor<?x2x?x24xf32>, tensor<?x2x?x40xf32> -> tensor<?x2x?x40xf32>, tensor<?x2x24x40xf32>
  return %o, %s : tensor<?x2x?x40xf32>, tensor<?x2x24x40xf32>
}

// -----

// Chunks over 64 tokens: recurrent unless asked for.
// AUTO-LABEL:  func.func @la_long_chunks
// AUTO-NOT:      f64
// AUTO:          return

// CHUNKED-LABEL: func.func @la_long_chunks
// CHUNKED:           memref.alloc() {{.*}} : memref<128xf64>
// CHUNKED:         return

// RECURRENT-LABEL: func.func @la_long_chunks
// RECURRENT-NOT:     f64
// RECURRENT:         return
func.func @la_long_chunks(%q: tensor<?x2x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>, %g: tensor<?x2x?xf32>) -> (tensor<?x2x?x32xf32>, tensor<?x2x32x32xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%g : tensor<?x2x?xf32>) {chunk_size = 128 : i64} : tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x2x?x32xf32>, tensor<?x2x32x32xf32>
  return %o, %s : tensor<?x2x?x32xf32>, tensor<?x2x32x32xf32>
}
