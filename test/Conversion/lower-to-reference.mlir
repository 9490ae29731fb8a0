// RUN: gatec-opt %s -gate-lower-to-reference -split-input-file | FileCheck %s

// Every gate op becomes a serial scalar loop nest over buffers (the oracle).

// Causal GQA sdpa: scores row, running max, exp-sum, weighted sum.
// CHECK-LABEL: func.func @sdpa_causal_gqa
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<1x4x8x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x8x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x8x16xf32>)
// CHECK-DAG:     %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:     %[[SCALE:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[GROUP:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[QB:.+]] = bufferization.to_buffer %[[Q]] read_only : tensor<1x4x8x16xf32> to memref<1x4x8x16xf32>
// CHECK-DAG:     %[[KB:.+]] = bufferization.to_buffer %[[K]] read_only
// CHECK-DAG:     %[[VB:.+]] = bufferization.to_buffer %[[V]] read_only
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x8x16xf32>
// CHECK:         scf.for %[[B:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT:      scf.for %[[H:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT:        scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT:          %[[HK:.+]] = arith.divui %[[H]], %[[GROUP]] : index
// A scores row per query row (the rows may run in parallel).
// CHECK-NEXT:          %[[SCORES:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK-NEXT:          %[[MAX:.+]] = scf.for %[[J:.+]] = {{.*}} iter_args(%{{.+}} = %[[NEGINF]]) -> (f32)
// CHECK:                 memref.load %[[QB]][%[[B]], %[[H]], %[[I]], %{{.+}}]
// CHECK:                 memref.load %[[KB]][%[[B]], %[[HK]], %[[J]], %{{.+}}]
// CHECK:                 math.fma
// CHECK:               arith.mulf %{{.+}}, %[[SCALE]] : f32
// CHECK:               %[[ABOVE:.+]] = arith.cmpi sgt, %[[J]], %[[I]] : index
// CHECK:               arith.select %[[ABOVE]], %[[NEGINF]], %{{.+}} : f32
// CHECK:               memref.store %{{.+}}, %[[SCORES]][%[[J]]]
// CHECK:               arith.maximumf
// CHECK:             %[[DEAD:.+]] = arith.cmpf oeq, %[[MAX]], %[[NEGINF]] : f32
// CHECK:             scf.for
// CHECK:               arith.subf
// CHECK:               math.exp
// CHECK:               arith.addf
// CHECK:             arith.divf
// CHECK:             arith.select %[[DEAD]]
// CHECK:             scf.for
// CHECK:               scf.for
// CHECK:                 memref.load %[[VB]][%[[B]], %[[HK]], %{{.+}}, %{{.+}}]
// CHECK:               memref.store %{{.+}}, %[[OUT]][%[[B]], %[[H]], %[[I]], %{{.+}}] : memref<1x4x8x16xf32>
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<1x4x8x16xf32> to tensor<1x4x8x16xf32>
// CHECK-NOT:     gate.sdpa
// CHECK:         return %[[R]]
func.func @sdpa_causal_gqa(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %0 = gate.sdpa %q, %k, %v {causal} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

// f16 operands, a broadcast bool mask, softcap and a headwise silu gate:
// loads extend to f32, the store truncates, broadcast dimensions read index 0.
// CHECK-LABEL: func.func @sdpa_mask_softcap_gate
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[CAP:.+]] = arith.constant 3.000000e+01 : f32
// CHECK-DAG:     %[[MB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<1x1x8x8xi1> to memref<1x1x8x8xi1>
// CHECK-DAG:     %[[GB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<2x4x8x1xf16> to memref<2x4x8x1xf16>
// CHECK:         memref.alloc() {alignment = 64 : i64} : memref<2x4x8x16xf16>
// CHECK:         arith.extf %{{.+}} : f16 to f32
// CHECK:         math.fma
// CHECK:         arith.divf %{{.+}}, %[[CAP]] : f32
// CHECK-NEXT:    math.tanh
// CHECK-NEXT:    arith.mulf %{{.+}}, %[[CAP]] : f32
// CHECK-NEXT:    %[[MV:.+]] = memref.load %[[MB]][%[[C0]], %[[C0]], %{{.+}}, %{{.+}}] : memref<1x1x8x8xi1>
// CHECK-NEXT:    arith.select %[[MV]], %{{.+}}, %{{.+}} : f32
// CHECK:         math.exp
// CHECK:         %[[GV:.+]] = memref.load %[[GB]][%{{.+}}, %{{.+}}, %{{.+}}, %[[C0]]] : memref<2x4x8x1xf16>
// CHECK-NEXT:    %[[G:.+]] = arith.extf %[[GV]] : f16 to f32
// CHECK-NEXT:    %[[NEG:.+]] = arith.negf %[[G]] : f32
// CHECK-NEXT:    %[[E:.+]] = math.exp %[[NEG]] : f32
// CHECK-NEXT:    %[[D:.+]] = arith.addf %[[E]], %{{.+}} : f32
// CHECK-NEXT:    %[[SIG:.+]] = arith.divf %{{.+}}, %[[D]] : f32
// CHECK-NEXT:    %[[SILU:.+]] = arith.mulf %[[G]], %[[SIG]] : f32
// CHECK-NEXT:    %[[O:.+]] = arith.mulf %{{.+}}, %[[SILU]] : f32
// CHECK-NEXT:    %[[T:.+]] = arith.truncf %[[O]] : f32 to f16
// CHECK-NEXT:    memref.store %[[T]], %{{.+}} : memref<2x4x8x16xf16>
// CHECK:         bufferization.to_tensor %{{.+}} : memref<2x4x8x16xf16> to tensor<2x4x8x16xf16>
// CHECK-NOT:     gate.sdpa
func.func @sdpa_mask_softcap_gate(%q: tensor<2x4x8x16xf16>, %k: tensor<2x2x8x16xf16>, %v: tensor<2x2x8x16xf16>, %m: tensor<1x1x8x8xi1>, %g: tensor<2x4x8x1xf16>) -> tensor<2x4x8x16xf16> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<1x1x8x8xi1>) gate(%g : tensor<2x4x8x1xf16>) {softcap = 30.0 : f32, gate_act = #gate<act silu>} : tensor<2x4x8x16xf16>, tensor<2x2x8x16xf16>, tensor<2x2x8x16xf16> -> tensor<2x4x8x16xf16>
  return %0 : tensor<2x4x8x16xf16>
}

// -----

// Dynamic batch and sequence lengths: sizes come from memref.dim; a float mask
// is added to the scores.
// CHECK-LABEL: func.func @sdpa_dynamic_float_mask
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK:         %[[QB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<?x2x?x16xf32> to memref<?x2x?x16xf32>
// CHECK:         %[[KB:.+]] = bufferization.to_buffer
// CHECK:         %[[MB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<?x2x?x?xf32> to memref<?x2x?x?xf32>
// CHECK-DAG:     %[[BD:.+]] = memref.dim %[[QB]], %[[C0]] : memref<?x2x?x16xf32>
// CHECK-DAG:     %[[SQ:.+]] = memref.dim %[[QB]], %[[C2]] : memref<?x2x?x16xf32>
// CHECK-DAG:     %[[SKV:.+]] = memref.dim %[[KB]], %[[C2]] : memref<?x2x?x16xf32>
// CHECK:         memref.alloc(%[[BD]], %[[SQ]]) {alignment = 64 : i64} : memref<?x2x?x8xf32>
// CHECK:         scf.for %{{.+}} = %[[C0]] to %[[BD]]
// CHECK:         scf.for %{{.+}} = %[[C0]] to %[[SQ]]
// CHECK:         memref.alloc(%[[SKV]]) {alignment = 64 : i64} : memref<?xf32>
// CHECK:         scf.for %{{.+}} = %[[C0]] to %[[SKV]]
// CHECK:         %[[MV:.+]] = memref.load %[[MB]]
// CHECK-NEXT:    arith.addf %{{.+}}, %[[MV]] : f32
// CHECK-NOT:     gate.sdpa
func.func @sdpa_dynamic_float_mask(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x8xf32>, %m: tensor<?x2x?x?xf32>) -> tensor<?x2x?x8xf32> {
  %0 = gate.sdpa %q, %k, %v mask(%m : tensor<?x2x?x?xf32>) : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32> -> tensor<?x2x?x8xf32>
  return %0 : tensor<?x2x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @gate_sigmoid_headwise
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3x8xf32>, %[[G:[a-z0-9]+]]: tensor<2x3x1xf32>)
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[XB:.+]] = bufferization.to_buffer %[[X]] read_only
// CHECK-DAG:     %[[GB:.+]] = bufferization.to_buffer %[[G]] read_only
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x8xf32>
// CHECK:         scf.for %[[I:.+]] = %{{.+}} to
// CHECK-NEXT:      scf.for %[[J:.+]] = %{{.+}} to
// CHECK-NEXT:        scf.for %[[K:.+]] = %{{.+}} to
// CHECK-NEXT:          %[[XV:.+]] = memref.load %[[XB]][%[[I]], %[[J]], %[[K]]]
// CHECK-NEXT:          %[[GV:.+]] = memref.load %[[GB]][%[[I]], %[[J]], %[[C0]]] : memref<2x3x1xf32>
// CHECK-NEXT:          %[[NEG:.+]] = arith.negf %[[GV]]
// CHECK-NEXT:          %[[E:.+]] = math.exp %[[NEG]]
// CHECK-NEXT:          %[[D:.+]] = arith.addf %[[E]], %{{.+}}
// CHECK-NEXT:          %[[S:.+]] = arith.divf %{{.+}}, %[[D]]
// CHECK-NEXT:          %[[P:.+]] = arith.mulf %[[XV]], %[[S]]
// CHECK-NEXT:          memref.store %[[P]], %[[OUT]][%[[I]], %[[J]], %[[K]]]
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[OUT]]
// CHECK-NEXT:    return %[[R]]
func.func @gate_sigmoid_headwise(%x: tensor<2x3x8xf32>, %g: tensor<2x3x1xf32>) -> tensor<2x3x8xf32> {
  %0 = gate.gate %x, %g : tensor<2x3x8xf32>, tensor<2x3x1xf32> -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

// CHECK-LABEL: func.func @gate_silu_bf16_dynamic
// CHECK:         memref.dim
// CHECK:         memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x8xbf16>
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             arith.extf %{{.+}} : bf16 to f32
// CHECK:             math.exp
// CHECK:             arith.divf
// CHECK:             arith.mulf
// CHECK:             arith.mulf
// CHECK:             arith.truncf %{{.+}} : f32 to bf16
// CHECK:             memref.store
// CHECK-NOT:     gate.gate
func.func @gate_silu_bf16_dynamic(%x: tensor<?x8xbf16>, %g: tensor<?x8xbf16>) -> tensor<?x8xbf16> {
  %0 = gate.gate %x, %g {act = #gate<act silu>} : tensor<?x8xbf16>, tensor<?x8xbf16> -> tensor<?x8xbf16>
  return %0 : tensor<?x8xbf16>
}

// -----

// Plain linear attention: zero state, rank-1 updates, output S^T q * scale.
// CHECK-LABEL: func.func @la_linear
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x8x4xf32>
// CHECK:         %[[ST:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x4x4xf32>
// CHECK:         scf.for %[[B:.+]] = 
// CHECK-NEXT:      scf.for %[[J:.+]] = 
// CHECK:             scf.for
// CHECK-NEXT:          scf.for
// CHECK-NEXT:            memref.store %[[ZERO]], %[[ST]]
// CHECK:             scf.for %[[T:.+]] =
// CHECK-NOT:           math.exp
// CHECK:               math.fma
// CHECK:               memref.store %{{.+}}, %[[ST]]
// CHECK:               arith.mulf %{{.+}}, %[[SCALE]] : f32
// CHECK:               memref.store %{{.+}}, %[[OUT]][%[[B]], %[[J]], %[[T]], %{{.+}}]
// CHECK-DAG:     %[[O:.+]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<1x2x8x4xf32> to tensor<1x2x8x4xf32>
// CHECK-DAG:     %[[S:.+]] = bufferization.to_tensor %[[ST]] restrict writable : memref<1x2x4x4xf32> to tensor<1x2x4x4xf32>
// CHECK:         return %[[O]], %[[S]]
func.func @la_linear(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = gate.linear_attention linear %q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Reverse time: step t of the recurrence reads and writes token T-1-t.
// CHECK-LABEL: func.func @la_linear_reverse
// CHECK-DAG:     %[[LAST:.+]] = arith.constant 7 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x8x4xf32>
// CHECK:             scf.for %[[T:[a-z0-9]+]] = %{{.+}} to %[[C8]]
// CHECK:               %[[TOK:.+]] = arith.subi %[[LAST]], %[[T]] : index
// CHECK:               memref.load %{{.+}}[%{{.+}}, %{{.+}}, %[[TOK]], %{{.+}}]
// CHECK:               arith.mulf
// CHECK-NEXT:          %[[TOK2:.+]] = arith.subi %[[LAST]], %[[T]] : index
// CHECK-NEXT:          memref.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}, %[[TOK2]], %{{.+}}]
func.func @la_linear_reverse(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = gate.linear_attention linear %q, %k, %v {reverse} : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Scalar decay: one exp per (b, head, t), applied to the state column.
// Value columns are independent recurrences: loops over (b, head, column).
// CHECK-LABEL: func.func @la_gated_scalar
// CHECK:         %[[DB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<1x2x8xf32> to memref<1x2x8xf32>
// CHECK:         scf.for %[[B:.+]] =
// CHECK-NEXT:      scf.for %[[J:.+]] =
// CHECK-NEXT:        scf.for %[[C:.+]] =
// CHECK-NEXT:          scf.for
// CHECK-NEXT:            memref.store
// CHECK:             scf.for %[[T:.+]] =
// CHECK-NEXT:          %[[DV:.+]] = memref.load %[[DB]][%[[B]], %[[J]], %[[T]]] : memref<1x2x8xf32>
// CHECK-NEXT:          %[[E:.+]] = math.exp %[[DV]] : f32
// CHECK-NEXT:          scf.for %[[R:.+]] =
// CHECK-NEXT:            memref.load %{{.+}}[%[[B]], %[[J]], %[[R]], %[[C]]]
// CHECK-NEXT:            arith.mulf %[[E]], %{{.+}} : f32
// CHECK-NEXT:            memref.store
// CHECK-NOT:     gate.linear_attention
func.func @la_gated_scalar(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>, %d: tensor<1x2x8xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = gate.linear_attention gated %q, %k, %v decay(%d : tensor<1x2x8xf32>) : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// GVA gated delta rule with per-channel decay, beta and an initial state:
// value head j reads key/query head j / 2; state row r is scaled by
// exp(g[r]); the delta correction uses the decayed state.
// CHECK-LABEL: func.func @la_gated_delta_gva
// CHECK-SAME:    (%[[Q:[a-z0-9]+]]: tensor<1x2x8x4xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x8x4xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x8x2xf32>, %[[D:[a-z0-9]+]]: tensor<1x4x8x4xf32>, %[[BETA:[a-z0-9]+]]: tensor<1x4x8xf32>, %[[S0:[a-z0-9]+]]: tensor<1x4x4x2xf32>)
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[QB:.+]] = bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG:     %[[KB:.+]] = bufferization.to_buffer %[[K]] read_only
// CHECK-DAG:     %[[VB:.+]] = bufferization.to_buffer %[[V]] read_only
// CHECK-DAG:     %[[DB:.+]] = bufferization.to_buffer %[[D]] read_only
// CHECK-DAG:     %[[BB:.+]] = bufferization.to_buffer %[[BETA]] read_only
// CHECK-DAG:     %[[SB:.+]] = bufferization.to_buffer %[[S0]] read_only
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x8x2xf32>
// CHECK:         %[[ST:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x4x2xf32>
// CHECK:         scf.for %[[B:.+]] =
// CHECK-NEXT:      scf.for %[[J:.+]] =
// CHECK-NEXT:        scf.for %[[C:.+]] =
// CHECK-NEXT:          %[[KH:.+]] = arith.divui %[[J]], %[[C2]] : index
// CHECK:               %[[INIT:.+]] = memref.load %[[SB]][%[[B]], %[[J]], %{{.+}}, %[[C]]]
// CHECK-NEXT:          memref.store %[[INIT]], %[[ST]]
// CHECK:               scf.for %[[T:.+]] =
// CHECK-NEXT:            scf.for %[[R:.+]] =
// CHECK-NEXT:              %[[DV:.+]] = memref.load %[[DB]][%[[B]], %[[J]], %[[T]], %[[R]]] : memref<1x4x8x4xf32>
// CHECK-NEXT:              math.exp %[[DV]]
// CHECK:                 memref.load %[[VB]][%[[B]], %[[J]], %[[T]], %[[C]]]
// CHECK:                 memref.load %[[KB]][%[[B]], %[[KH]], %[[T]], %{{.+}}]
// CHECK:                 %[[BV:.+]] = memref.load %[[BB]][%[[B]], %[[J]], %[[T]]] : memref<1x4x8xf32>
// CHECK-NEXT:            %[[DIFF:.+]] = arith.subf
// CHECK-NEXT:            arith.mulf %[[BV]], %[[DIFF]] : f32
// CHECK:                 memref.load %[[QB]][%[[B]], %[[KH]], %[[T]], %{{.+}}]
// CHECK:                 memref.store %{{.+}}, %[[OUT]][%[[B]], %[[J]], %[[T]], %[[C]]]
// CHECK-NOT:     gate.linear_attention
func.func @la_gated_delta_gva(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x4x8x2xf32>, %d: tensor<1x4x8x4xf32>, %beta: tensor<1x4x8xf32>, %s0: tensor<1x4x4x2xf32>) -> (tensor<1x4x8x2xf32>, tensor<1x4x4x2xf32>) {
  %o, %s = gate.linear_attention gated_delta %q, %k, %v decay(%d : tensor<1x4x8x4xf32>) beta(%beta : tensor<1x4x8xf32>) initial_state(%s0 : tensor<1x4x4x2xf32>) {scale = 0.5 : f32} : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x4x8x2xf32> -> tensor<1x4x8x2xf32>, tensor<1x4x4x2xf32>
  return %o, %s : tensor<1x4x8x2xf32>, tensor<1x4x4x2xf32>
}

// -----

// GQA: 4 query heads over 2 states; query/output head 2j+g reads state j.
// CHECK-LABEL: func.func @la_delta_gqa
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK:         %[[QB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<1x4x8x4xf32> to memref<1x4x8x4xf32>
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x8x4xf32>
// CHECK:         memref.alloc() {alignment = 64 : i64} : memref<1x2x4x4xf32>
// CHECK:         scf.for %[[B:.+]] =
// CHECK-NEXT:      scf.for %[[J:.+]] =
// CHECK-NEXT:        scf.for %[[C:.+]] =
// CHECK:               scf.for %[[T:.+]] =
// CHECK:                 arith.subf
// CHECK:               %[[BASE0:.+]] = arith.muli %[[J]], %[[C2]] : index
// CHECK:               memref.load %[[QB]][%[[B]], %[[BASE0]], %[[T]], %{{.+}}]
// CHECK:               memref.store %{{.+}}, %[[OUT]][%[[B]], %[[BASE0]], %[[T]], %{{.+}}]
// CHECK:               %[[BASE1:.+]] = arith.muli %[[J]], %[[C2]] : index
// CHECK-NEXT:          %[[QH1:.+]] = arith.addi %[[BASE1]], %[[C1]] : index
// CHECK:               memref.load %[[QB]][%[[B]], %[[QH1]], %[[T]], %{{.+}}]
// CHECK:               memref.store %{{.+}}, %[[OUT]][%[[B]], %[[QH1]], %[[T]], %{{.+}}]
// CHECK-NOT:     gate.linear_attention
func.func @la_delta_gqa(%q: tensor<1x4x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>, %beta: tensor<1x2x8xf32>) -> (tensor<1x4x8x4xf32>, tensor<1x2x4x4xf32>) {
  %o, %s = gate.linear_attention delta %q, %k, %v beta(%beta : tensor<1x2x8xf32>) : tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x4x8x4xf32>, tensor<1x2x4x4xf32>
  return %o, %s : tensor<1x4x8x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Causal conv with bias, state and SiLU; dynamic batch and length.
// CHECK-LABEL: func.func @conv_bias_state_silu
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C3:.+]] = arith.constant 3 : index
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK:         %[[XB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<?x8x?xf32> to memref<?x8x?xf32>
// CHECK:         %[[WB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<8x4xf32> to memref<8x4xf32>
// CHECK:         %[[BB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<8xf32> to memref<8xf32>
// CHECK:         %[[SB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<?x8x3xf32> to memref<?x8x3xf32>
// CHECK-DAG:     %[[BD:.+]] = memref.dim %[[XB]], %[[C0]]
// CHECK-DAG:     %[[L:.+]] = memref.dim %[[XB]], %[[C2]]
// CHECK:         %[[OUT:.+]] = memref.alloc(%[[BD]], %[[L]]) {alignment = 64 : i64} : memref<?x8x?xf32>
// CHECK:         %[[ST:.+]] = memref.alloc(%[[BD]]) {alignment = 64 : i64} : memref<?x8x3xf32>
// CHECK:         scf.for %[[B:.+]] = %[[C0]] to %[[BD]]
// CHECK-NEXT:      scf.for %[[C:.+]] =
// CHECK-NEXT:        %[[BIAS:.+]] = memref.load %[[BB]][%[[C]]] : memref<8xf32>
// CHECK-NEXT:        scf.for %[[T:.+]] = %[[C0]] to %[[L]]
// CHECK-NEXT:          %[[ACC:.+]] = scf.for %{{.+}} = %[[C0]] to %[[C4]] step %{{.+}} iter_args(%{{.+}} = %[[BIAS]]) -> (f32)
// CHECK:                 memref.load %[[WB]]
// CHECK:                 %[[IN_STATE:.+]] = arith.cmpi ult, %{{.+}}, %[[C3]] : index
// CHECK:                 scf.if %[[IN_STATE]] -> (f32)
// CHECK:                   memref.load %[[SB]]
// CHECK:                 } else {
// CHECK:                   memref.load %[[XB]]
// CHECK:                 math.fma
// CHECK:               arith.negf %[[ACC]]
// CHECK:               math.exp
// CHECK:               memref.store %{{.+}}, %[[OUT]][%[[B]], %[[C]], %[[T]]]
// CHECK:             scf.for %[[P:.+]] = %[[C0]] to %[[C3]]
// CHECK-NEXT:          arith.addi %[[L]], %[[P]] : index
// CHECK:               memref.store %{{.+}}, %[[ST]][%[[B]], %[[C]], %[[P]]]
// CHECK-NOT:     gate.causal_conv
func.func @conv_bias_state_silu(%x: tensor<?x8x?xf32>, %w: tensor<8x4xf32>, %b: tensor<8xf32>, %s0: tensor<?x8x3xf32>) -> (tensor<?x8x?xf32>, tensor<?x8x3xf32>) {
  %o, %s = gate.causal_conv %x, %w bias(%b : tensor<8xf32>) initial_state(%s0 : tensor<?x8x3xf32>) {activation = #gate<conv_act silu>} : tensor<?x8x?xf32>, tensor<8x4xf32> -> tensor<?x8x?xf32>, tensor<?x8x3xf32>
  return %o, %s : tensor<?x8x?xf32>, tensor<?x8x3xf32>
}

// -----

// Kernel size 1: the input is read directly, no activation, the state is
// empty.
// CHECK-LABEL: func.func @conv_kernel1
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x8x5xf16>, %[[W:[a-z0-9]+]]: tensor<8x1xf16>)
// CHECK:         %[[XB:.+]] = bufferization.to_buffer %[[X]] read_only
// CHECK:         memref.alloc() {alignment = 64 : i64} : memref<2x8x5xf16>
// CHECK:         memref.alloc() {alignment = 64 : i64} : memref<2x8x0xf16>
// CHECK-NOT:     arith.cmpi
// CHECK-NOT:     math.exp
// CHECK:         memref.load %[[XB]]
// CHECK-NEXT:    arith.extf
// CHECK-NEXT:    math.fma
// CHECK-NOT:     math.exp
// CHECK:         arith.truncf %{{.+}} : f32 to f16
// CHECK:         bufferization.to_tensor
// CHECK-NOT:     gate.causal_conv
func.func @conv_kernel1(%x: tensor<2x8x5xf16>, %w: tensor<8x1xf16>) -> (tensor<2x8x5xf16>, tensor<2x8x0xf16>) {
  %o, %s = gate.causal_conv %x, %w : tensor<2x8x5xf16>, tensor<8x1xf16> -> tensor<2x8x5xf16>, tensor<2x8x0xf16>
  return %o, %s : tensor<2x8x5xf16>, tensor<2x8x0xf16>
}

// -----

// Surrounding ops are left alone; several gate ops in one function.
// CHECK-LABEL: func.func @mixed
// CHECK:         arith.addf %{{.+}}, %{{.+}} : tensor<1x2x4x8xf32>
// CHECK-NOT:     gate.
// CHECK:         return
func.func @mixed(%q: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %a = arith.addf %q, %q : tensor<1x2x4x8xf32>
  %0 = gate.sdpa %a, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %1 = gate.gate %0, %g : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %1 : tensor<1x2x4x8xf32>
}
