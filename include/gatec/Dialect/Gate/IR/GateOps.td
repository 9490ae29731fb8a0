//===- GateOps.td - the gate dialect: gated attention at tensor level -----===//
#ifndef GATEC_DIALECT_GATE_IR_GATEOPS_TD
#define GATEC_DIALECT_GATE_IR_GATEOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Gate_Dialect : Dialect {
  let name = "gate";
  let cppNamespace = "::gatec::gate";
  let summary = "Gated softmax attention and gated linear recurrences";
  let description = [{
    The `gate` dialect holds the fused operations gatec compiles: softmax
    attention with an optional fused output gate (`gate.sdpa`), a standalone
    gate (`gate.gate`), the family of gated linear recurrences
    (`gate.linear_attention`) and the short causal convolution of Gated DeltaNet
    and Mamba layers (`gate.causal_conv`). Operands are ranked tensors of f32,
    f16 or bf16 in head-major layout `[B, H, T, D]`; batch and sequence
    dimensions may be dynamic, head counts and head sizes are static. All
    accumulation is f32.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class Gate_Op<string mnemonic, list<Trait> traits = []>
    : Op<Gate_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Gate_ActSigmoid : I32EnumAttrCase<"sigmoid", 0>;
def Gate_ActSilu : I32EnumAttrCase<"silu", 1>;
def Gate_Activation : I32EnumAttr<"Activation",
    "gate activation: sigmoid(g) or silu(g) = g * sigmoid(g)",
    [Gate_ActSigmoid, Gate_ActSilu]> {
  let cppNamespace = "::gatec::gate";
  let genSpecializedAttr = 0;
}
def Gate_ActivationAttr : EnumAttr<Gate_Dialect, Gate_Activation, "act">;

def Gate_RuleLinear : I32EnumAttrCase<"linear", 0>;
def Gate_RuleGated : I32EnumAttrCase<"gated", 1>;
def Gate_RuleDelta : I32EnumAttrCase<"delta", 2>;
def Gate_RuleGatedDelta : I32EnumAttrCase<"gated_delta", 3>;
def Gate_UpdateRule : I32EnumAttr<"UpdateRule",
    "state update rule of a linear recurrence",
    [Gate_RuleLinear, Gate_RuleGated, Gate_RuleDelta, Gate_RuleGatedDelta]> {
  let cppNamespace = "::gatec::gate";
  let genSpecializedAttr = 0;
}
def Gate_UpdateRuleAttr : EnumAttr<Gate_Dialect, Gate_UpdateRule, "rule">;

def Gate_ConvActNone : I32EnumAttrCase<"none", 0>;
def Gate_ConvActSilu : I32EnumAttrCase<"silu", 1>;
def Gate_ConvActivation : I32EnumAttr<"ConvActivation",
    "activation after a causal convolution",
    [Gate_ConvActNone, Gate_ConvActSilu]> {
  let cppNamespace = "::gatec::gate";
  let genSpecializedAttr = 0;
}
def Gate_ConvActivationAttr
    : EnumAttr<Gate_Dialect, Gate_ConvActivation, "conv_act">;

def Gate_FloatTensor : TensorRankOf<[F32, F16, BF16], [4]>;
def Gate_Mask : TensorRankOf<[I1, F32, F16, BF16], [4]>;

//===----------------------------------------------------------------------===//
// gate.sdpa
//===----------------------------------------------------------------------===//

def Gate_SdpaOp : Gate_Op<"sdpa", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface, ["reifyResultShapes"]>]> {
  let summary = "scaled dot-product attention with an optional fused output gate";
  let description = [{
    Computes, per batch `b` and query head `h`,

    ```
    s   = scale * Q[b,h] K[b,h/G]^T            (G = Hq / Hkv: GQA/MQA)
    s   = softcap * tanh(s / softcap)          (when softcap > 0)
    s   = s + mask  /  s = mask ? s : -inf     (float / i1 mask)
    s   = -inf above the diagonal              (when `causal`; query i sees keys 0..p)
    s   = -inf outside the window              (when `window` = [l, r]: query i sees
                                                keys p-l..p+r)
                                               (p, query i's key position: i, or
                                                i + Skv - Sq with `bottom_right`)
    out = softmax(s) V[b,h/G]                  (rows with every key masked give 0;
                                                with `sink`, one more logit sink[h]
                                                in the softmax, whose value is 0)
    out = out * act(gate)                      (when a gate operand is present)
    ```

    Shapes: `query [B,Hq,Sq,D]`, `key [B,Hkv,Skv,D]`, `value [B,Hkv,Skv,Dv]`,
    result `[B,Hq,Sq,Dv]`. `mask` is i1 (true = attend) or a float tensor added
    to the scores; each of its four dimensions equals the one of
    `[B,Hq,Sq,Skv]` or is 1 (broadcast). `gate` is elementwise `[B,Hq,Sq,Dv]`
    or headwise `[B,Hq,Sq,1]`; `gate_act` selects sigmoid (default) or silu.
    `scale` defaults to `1/sqrt(D)`. Accumulation and softmax are f32.

    `window` (two non-negative sizes, left then right) limits every query to
    a band of keys around its own position, aligned like `causal` (query i
    at key i): sliding-window attention is `causal` with `window = [W-1, 0]`
    (Mistral's window W: the query and the W-1 keys before it), local
    non-causal attention a window with both sides. Kernels visit only the key
    blocks inside the band.

    `bottom_right` aligns the band to the last key instead of the first: query
    i sits at key position i + Skv - Sq, as when the queries are the last Sq
    tokens of a sequence whose keys are a cache of Skv - Sq earlier tokens
    followed by these (ONNX Attention's causal rule with a past, a decode step
    or a chunked prefill, with or without a sliding window). When Skv < Sq the
    first Sq - Skv rows see no key (their output is 0). It needs `causal` or
    `window`.

    `sink` (f32 `[Hq]`) adds a logit per query head to every softmax, attended
    with a zero value: out = Σ exp(s_j - m) V_j / (exp(sink[h] - m) +
    Σ exp(s_j - m)), m = max(sink[h], max s_j). ONNX Runtime's
    GroupQueryAttention `head_sink` (attention sinks), and `smooth_softmax`
    (a sink of 0).
  }];
  let arguments = (ins Gate_FloatTensor:$query, Gate_FloatTensor:$key,
      Gate_FloatTensor:$value, Optional<Gate_Mask>:$mask,
      Optional<Gate_FloatTensor>:$gate, Optional<TensorRankOf<[F32], [1]>>:$sink,
      OptionalAttr<F32Attr>:$scale, OptionalAttr<F32Attr>:$softcap, UnitAttr:$causal,
      DefaultValuedAttr<Gate_ActivationAttr,
                        "::gatec::gate::Activation::sigmoid">:$gate_act,
      OptionalAttr<DenseI64ArrayAttr>:$window, UnitAttr:$bottom_right);
  let results = (outs Gate_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    (`sink` `(` $sink^ `:` type($sink) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// The softmax scale: the attribute, or 1/sqrt(D).
    float getScaleOrDefault();
    /// The keys query i may see, [p - left, p + right] around its key
    /// position p (i, or i + Skv - Sq with `bottom_right`), from `window` and
    /// `causal` (right is 0 when causal); std::nullopt sides are unbounded.
    std::pair<std::optional<int64_t>, std::optional<int64_t>> getKeyBand();
  }];
}

//===----------------------------------------------------------------------===//
// gate.gate
//===----------------------------------------------------------------------===//

def Gate_GateOp : Gate_Op<"gate", [Pure, DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface, ["reifyResultShapes"]>]> {
  let summary = "x * act(g), elementwise or broadcast along the last dimension";
  let description = [{
    Multiplies `input` by `act(gate)`, act ∈ {sigmoid, silu}. `gate` has the
    shape of `input`, or the same shape with a last dimension of 1 (one gate
    per row, e.g. a headwise gate). Used for gates that are not fused into a
    `gate.sdpa`, such as the `silu(z)` of a gated RMSNorm.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$gate,
      DefaultValuedAttr<Gate_ActivationAttr,
                        "::gatec::gate::Activation::sigmoid">:$act);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $gate attr-dict `:` type($input) `,` type($gate) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// gate.linear_attention
//===----------------------------------------------------------------------===//

def Gate_LinearAttentionOp : Gate_Op<"linear_attention",
    [Pure, AttrSizedOperandSegments, DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface, ["reifyResultShapes"]>]> {
  let summary = "chunked gated linear recurrence (linear, GLA, DeltaNet, Gated DeltaNet)";
  let description = [{
    Runs, for every batch `b` and state head `j`, the recurrence of ONNX
    LinearAttention-27 over a state `S` of shape `[K, V]` (f32):

    ```
    linear:      S_t = S_{t-1} + k_t ⊗ v_t
    gated:       S_t = exp(g_t) S_{t-1} + k_t ⊗ v_t
    delta:       S_t = S_{t-1} + β_t k_t ⊗ (v_t - S_{t-1}^T k_t)
    gated_delta: S_t = exp(g_t) S_{t-1} + β_t k_t ⊗ (v_t - exp(g_t) S_{t-1}^T k_t)
    o_t = scale · S_t^T q_t
    ```

    Shapes: `query [B,Hq,T,K]`, `key [B,Hk,T,K]`, `value [B,Hv,T,V]`. There is
    one state per value head (`Hs = Hv`); `Hk` divides `Hv` (GVA, as in
    Qwen3-Next: value head j reads key head `j / (Hv/Hk)`). Queries either
    follow the keys (`Hq = Hk`, output `[B,Hv,T,V]`) or are grouped over the
    states (GQA: `Hq` a multiple of `Hv = Hk`, query head h reads state
    `h / (Hq/Hv)`, output `[B,Hq,T,V]`).
    `decay` (log space, required by gated rules) is `[B,Hv,T]` (one scalar per
    head, RetNet/Mamba2) or `[B,Hv,T,K]` (per key channel, GLA: row i of S is
    scaled by `exp(g_t[i])`). `beta [B,Hv,T]` is required by delta rules.
    `initial_state [B,Hv,K,V]` (f32, zeros when absent). Results: the output
    and the final state (f32). `scale` defaults to `1/sqrt(K)`. `chunk_size`
    is a tuning hint for the chunked kernels; it never changes results.

    With `token_major`, the per-token operands and the output are laid out
    `[B, T, H, ·]` instead (query/key/value/output `[B,T,H,D]`, decay `[B,T,Hv]`
    or `[B,T,Hv,K]`, beta `[B,T,Hv]`): ONNX's `[B, T, H·D]` packing is then a
    free reshape, with no transpose around the op. The state stays
    `[B,Hv,K,V]`.

    With `reverse`, time runs backwards: the recurrence starts at the last
    token and ends at the first (`S_t` is built from tokens `T-1 .. t`), the
    output stays in the operands' token order, and `final_state` is the state
    after token 0. This is the backward scan of bidirectional models (ViG),
    without copying the sequence into reverse order.

    With a `gate` operand (the shape of the output), the output is gated in
    the epilogue: `out = o * gate_act(gate)` (an output gate, or the memory
    readout of SambaY's gated memory unit; `gate_act` is sigmoid or silu).
  }];
  let arguments = (ins Gate_FloatTensor:$query, Gate_FloatTensor:$key,
      Gate_FloatTensor:$value, Optional<AnyRankedTensor>:$decay,
      Optional<TensorRankOf<[F32, F16, BF16], [3]>>:$beta,
      Optional<TensorRankOf<[F32], [4]>>:$initial_state,
      Optional<Gate_FloatTensor>:$gate,
      Gate_UpdateRuleAttr:$rule, OptionalAttr<F32Attr>:$scale,
      DefaultValuedAttr<I64Attr, "64">:$chunk_size, UnitAttr:$token_major,
      UnitAttr:$reverse,
      DefaultValuedAttr<Gate_ActivationAttr,
                        "::gatec::gate::Activation::sigmoid">:$gate_act);
  let results = (outs Gate_FloatTensor:$output,
      TensorRankOf<[F32], [4]>:$final_state);
  let assemblyFormat = [{
    $rule $query `,` $key `,` $value
    (`decay` `(` $decay^ `:` type($decay) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($output) `,` type($final_state)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    float getScaleOrDefault();
    bool isGated() {
      return getRule() == UpdateRule::gated || getRule() == UpdateRule::gated_delta;
    }
    bool isDelta() {
      return getRule() == UpdateRule::delta || getRule() == UpdateRule::gated_delta;
    }
    /// Dimension of the heads / tokens of the per-token operands.
    unsigned headDim() { return getTokenMajor() ? 2 : 1; }
    unsigned tokenDim() { return getTokenMajor() ? 1 : 2; }
    /// True when decay is per key channel ([B,Hv,T,K]).
    bool hasChannelDecay() {
      return getDecay() &&
             ::llvm::cast<::mlir::RankedTensorType>(getDecay().getType()).getRank() == 4;
    }
  }];
}

//===----------------------------------------------------------------------===//
// gate.causal_conv
//===----------------------------------------------------------------------===//

def Gate_CausalConvOp : Gate_Op<"causal_conv", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface, ["reifyResultShapes"]>]> {
  let summary = "depthwise causal 1-D convolution with carried state";
  let description = [{
    ONNX CausalConvWithState-27. With `x = concat(initial_state, input)` along
    the length axis (zeros when no state is given):
    `out[b,c,t] = act(bias[c] + Σ_{i<k} weight[c,i] · x[b,c,t+i])`, and
    `final_state` holds the last `k-1` positions of `x`.
    Shapes: `input [B,C,L]`, `weight [C,k]`, `bias [C]`, states `[B,C,k-1]`.
    With `token_major`, input and output are `[B,L,C]` (the `[B, T, channels]`
    layout the projections produce, which exporters transpose around the ONNX
    op); the states keep their `[B,C,k-1]` layout. The kernel may be as long
    as the sequence (the long filters of GAM, BaseConv and Hyena).

    With a `gate` operand (the shape of the output), the output is gated in
    the epilogue: `out = act(conv) * gate_act(gate)` (gated convolutions;
    `gate_act` is sigmoid or silu).
  }];
  let arguments = (ins TensorRankOf<[F32, F16, BF16], [3]>:$input,
      TensorRankOf<[F32, F16, BF16], [2]>:$weight,
      Optional<TensorRankOf<[F32, F16, BF16], [1]>>:$bias,
      Optional<TensorRankOf<[F32, F16, BF16], [3]>>:$initial_state,
      Optional<TensorRankOf<[F32, F16, BF16], [3]>>:$gate,
      DefaultValuedAttr<Gate_ConvActivationAttr,
                        "::gatec::gate::ConvActivation::none">:$activation,
      UnitAttr:$token_major,
      DefaultValuedAttr<Gate_ActivationAttr,
                        "::gatec::gate::Activation::sigmoid">:$gate_act);
  let results = (outs TensorRankOf<[F32, F16, BF16], [3]>:$output,
      TensorRankOf<[F32, F16, BF16], [3]>:$final_state);
  let assemblyFormat = [{
    $input `,` $weight
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    attr-dict `:` type($input) `,` type($weight) `->` type($output) `,` type($final_state)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// Dimensions of the channels and of the length in input and output.
    unsigned channelDim() { return getTokenMajor() ? 2 : 1; }
    unsigned lengthDim() { return getTokenMajor() ? 1 : 2; }
  }];
}

#endif // GATEC_DIALECT_GATE_IR_GATEOPS_TD
