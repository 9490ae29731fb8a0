//===- Passes.td - gate dialect transformations ---------------------------===//
#ifndef GATEC_DIALECT_GATE_TRANSFORMS_PASSES_TD
#define GATEC_DIALECT_GATE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def GateRaiseGating : Pass<"gate-raise-gating", "mlir::func::FuncOp"> {
  let summary = "Raise x * sigmoid(g) and x * silu(g) written elementwise into gate.gate";
  let description = [{
    Recognizes the gating that the ONNX importer writes as elementwise ops on
    same-shaped tensors (`x * (1 / (1 + exp(-g)))` for Sigmoid, and
    `x * (g * sigmoid(g))` for SiLU) and rewrites it into `gate.gate`, which
    canonicalization then fuses into a preceding `gate.sdpa`,
    `gate.causal_conv` (a gated convolution) or `gate.linear_attention` (an
    output gate, SambaY's gated memory unit). It runs before
    the elementwise ops are turned into `linalg.generic`.
  }];
  let dependentDialects = ["::gatec::gate::GateDialect"];
}

def GateRaiseSdpa : Pass<"gate-raise-sdpa", "mlir::func::FuncOp"> {
  let summary = "Raise decomposed softmax attention into gate.sdpa";
  let description = [{
    Recognizes the attention that exporters write without a fused op, as the
    ONNX importer lays it out:
    `MatMul(Q·a, (Kᵀ)·b) · c [+ mask | Where(mask, ·, -inf)] → Softmax(last)
    → MatMul(·, V)`, with the batched matmuls as `linalg.batch_matmul` between
    collapse/expand reshapes, Softmax as max-subtract-exp-sum-divide, scales as
    splat constants on either side, and GQA as K/V repeated through
    expand_shape + broadcast + collapse_shape. The result is one `gate.sdpa`
    reading the un-repeated K and V. A mask that is provably the causal
    pattern at every position and size becomes the `causal` flag, a band of
    keys around the diagonal the `window`. `Where(drop, -inf, ·)`
    (masked_fill) is raised only when `drop` is provably the complement of
    such a band, since the op has no operand for a drop mask. Also
    accepted: Kᵀ built on the collapsed [B·H,S,D] keys (torch's opset-18
    decomposition) and torch's safe-softmax guard `Where(IsNaN(P), 0, P)`.

    Contract: the result equals the decomposed graph's for every input whose
    attention scores are finite (|s| < 2^100). Non-finite scores (NaN or
    infinite Q/K, overflowing products) may give different rows: the fused
    kernel never reads masked keys, so a NaN there does not reach the output,
    and a "lowest float" fill (<= -2^126) is treated as -inf.
  }];
  let dependentDialects = ["::gatec::gate::GateDialect"];
}

def GateRaiseRecurrence : Pass<"gate-raise-recurrence", "mlir::func::FuncOp"> {
  let summary = "Raise a token-by-token linear recurrence loop into gate.linear_attention";
  let description = [{
    Recognizes the `scf.for` that an ONNX Scan (LinearAttention's function
    body, or an exporter's loop) becomes: one iteration per token, a state
    `S [B,H,K,V]` carried through the loop, per-token slices of time-major
    q/k/v/decay/beta tensors, and the step of one of the four update rules

      S' = S ⊙ exp(g)            (gated rules; g per head or per key channel)
      u  = β ⊙ (v − S'ᵀk)        (delta rules; u = v otherwise)
      S  = S' + k ⊗ u,   o = c · Sᵀq

    with the matrix-vector products as batched matmuls in either orientation.
    The loop becomes one `gate.linear_attention` on head-major transposes of
    the sliced tensors; the outputs are transposed back.
  }];
  let dependentDialects = ["::gatec::gate::GateDialect"];
}

#endif
