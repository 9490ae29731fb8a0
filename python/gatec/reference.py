"""Float64 numpy reference implementations of the ops gatec compiles.

Everything here is written to be *obviously* correct rather than fast: loops
and literal formulas, computed in float64, with shapes checked up front.  These
functions are the yardstick the compiled kernels (and the ONNX importer) are
tested against.

Head-major functions (canonical ``[B, H, T, D]`` layout of the ``gate`` dialect):

* :func:`sdpa`             -- ``gate.sdpa``  (softmax attention + optional output gate)
* :func:`gate`             -- ``gate.gate``  (``x * act(g)``)
* :func:`linear_attention` -- ``gate.linear_attention`` (linear / gated / delta / gated_delta)
* :func:`causal_conv`      -- ``gate.causal_conv`` (depthwise causal conv1d with state)

ONNX operator semantics, built on the functions above:

* :func:`onnx_attention`          -- ``Attention`` (opset 23/24)
* :func:`onnx_linear_attention`   -- ``LinearAttention`` (opset 27)
* :func:`onnx_causal_conv`        -- ``CausalConvWithState`` (opset 27)

All functions return float64 arrays (the ONNX wrappers too: cast to the model's
dtype yourself if you need to).

Causal alignment.  ``sdpa(causal=True)`` is upper-left: query ``i`` sees keys
``0..i``.  ONNX ``Attention`` with a KV cache aligns the diagonal at the end of
the cache (ONNX's conformance data for ``is_causal`` + ``past_key`` shows it,
and the ONNX errata onnx/onnx#8068 states it): query ``i`` sees keys
``0..i+offset`` with ``offset = past_sequence_length`` when ``past_key`` is
given, and ``offset[b] = nonpad_kv_seqlen[b] - q_sequence_length`` when only
``nonpad_kv_seqlen`` is given.  ``sdpa`` exposes that as ``causal_offset``
(default 0 = upper-left).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "sigmoid",
    "silu",
    "softplus",
    "activation",
    "gate",
    "sdpa",
    "linear_attention",
    "causal_conv",
    "onnx_attention",
    "onnx_linear_attention",
    "onnx_causal_conv",
    "LINEAR_ATTENTION_RULES",
]

LINEAR_ATTENTION_RULES = ("linear", "gated", "delta", "gated_delta")


# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #
def _f64(x):
    return None if x is None else np.asarray(x, dtype=np.float64)


def _str_attr(s):
    """ONNX string attributes arrive as bytes from onnx.helper.get_attribute_value."""
    if isinstance(s, bytes):
        return s.decode("utf-8")
    return s


def sigmoid(x):
    """Numerically stable logistic function (float64)."""
    x = _f64(x)
    # 0.5 * (1 + tanh(x/2)) == 1 / (1 + exp(-x)), without overflow for large |x|.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def silu(x):
    x = _f64(x)
    return x * sigmoid(x)


def softplus(x):
    """log(1 + exp(x)), stable for large |x|."""
    x = _f64(x)
    return np.logaddexp(0.0, x)


def activation(x, act):
    act = _str_attr(act)
    if act in ("none", None, "identity"):
        return _f64(x)
    if act == "sigmoid":
        return sigmoid(x)
    if act in ("silu", "swish"):
        return silu(x)
    raise ValueError(f"unknown activation {act!r}")


def gate(x, g, act="sigmoid"):
    """``x * act(g)`` elementwise (numpy broadcasting), act in {sigmoid, silu}."""
    act = _str_attr(act)
    if act not in ("sigmoid", "silu", "swish"):
        raise ValueError(f"gate activation must be 'sigmoid' or 'silu', got {act!r}")
    x = _f64(x)
    g = _f64(g)
    np.broadcast_shapes(x.shape, g.shape)  # raises on mismatch
    return x * activation(g, act)


_gate = gate  # sdpa's ``gate`` parameter shadows the function


# --------------------------------------------------------------------------- #
# softmax attention
# --------------------------------------------------------------------------- #
def _check_4d(name, a):
    if a.ndim != 4:
        raise ValueError(f"{name} must be rank 4 [B, H, S, D], got shape {a.shape}")


def _sdpa_parts(q, k, v, mask=None, scale=None, softcap=0.0, causal=False, causal_offset=0,
                window=None, bottom_right=False, sink=None):
    """The unfused SDPA, returning every intermediate.

    Returns a dict with
      raw     -- scale * Q K^T                             [B, Hq, Sq, Skv]
      capped  -- after softcap (== raw when softcap == 0)
      bias    -- the additive bias from mask + causal (0 / finite / -inf), broadcast
      biased  -- capped + bias
      probs   -- softmax(biased) with fully masked rows set to 0
      out     -- probs @ V                                  [B, Hq, Sq, Dv]
    """
    q, k, v = _f64(q), _f64(k), _f64(v)
    _check_4d("q", q)
    _check_4d("k", k)
    _check_4d("v", v)
    B, Hq, Sq, D = q.shape
    Bk, Hkv, Skv, Dk = k.shape
    if Bk != B or v.shape[0] != B:
        raise ValueError(f"batch mismatch: q {q.shape}, k {k.shape}, v {v.shape}")
    if Dk != D:
        raise ValueError(f"q head size {D} != k head size {Dk}")
    if v.shape[1] != Hkv or v.shape[2] != Skv:
        raise ValueError(f"v {v.shape} must match k {k.shape} in heads and sequence")
    if Hkv <= 0 or Hq % Hkv != 0:
        raise ValueError(f"query heads {Hq} must be a multiple of kv heads {Hkv}")
    Dv = v.shape[3]
    group = Hq // Hkv
    if scale is None:  # (ONNX Attention: an absent scale means 1/sqrt(D); 0 is a scale of 0)
        scale = 1.0 / math.sqrt(D)
    scale = float(scale)

    # Scores, head by head, with the GQA head map written out.
    raw = np.empty((B, Hq, Sq, Skv), dtype=np.float64)
    for h in range(Hq):
        kh = h // group
        raw[:, h] = scale * np.einsum("bid,bjd->bij", q[:, h], k[:, kh])

    if softcap is not None and softcap > 0.0:
        c = float(softcap)
        capped = c * np.tanh(raw / c)
    else:
        capped = raw.copy()

    # Additive bias: 0 where attending, -inf where masked, mask value for float masks.
    bias = np.zeros((B, Hq, Sq, Skv), dtype=np.float64)
    if mask is not None:
        mask = np.asarray(mask)
        try:
            np.broadcast_shapes(mask.shape, (B, Hq, Sq, Skv))
        except ValueError:
            raise ValueError(
                f"mask {mask.shape} is not broadcastable to {(B, Hq, Sq, Skv)}"
            ) from None
        if mask.dtype == np.bool_:
            bias = np.where(mask, 0.0, -np.inf) + bias
        else:
            bias = bias + mask.astype(np.float64)
    # bottom_right: query i sits at key position i + Skv - Sq for the causal
    # and window bands (gate.sdpa's `bottom_right`).
    shift = Skv - Sq if bottom_right else 0
    if causal:
        off = np.asarray(causal_offset, dtype=np.int64).reshape(-1) + shift
        if off.size == 1:
            off = np.repeat(off, B)
        if off.size != B:
            raise ValueError(f"causal_offset must be a scalar or [B], got {np.shape(causal_offset)}")
        i = np.arange(Sq)[:, None]
        j = np.arange(Skv)[None, :]
        for b in range(B):
            allowed = j <= i + off[b]  # [Sq, Skv]
            bias[b] = np.where(allowed[None], bias[b], -np.inf)
    if window is not None:  # query i sees keys i - left .. i + right
        left, right = window
        d = np.arange(Skv)[None, :] - np.arange(Sq)[:, None] - shift
        bias = np.where(((d >= -left) & (d <= right))[None, None], bias, -np.inf)

    # A masked key takes no part, whatever its score (a NaN or infinite key a
    # query cannot see does not reach that query).
    biased = np.where(bias == -np.inf, -np.inf, capped + bias)

    # Softmax over keys; a row with no attendable key gives probabilities 0.
    # sink [Hq]: one more logit per head (attended with a zero value).
    sinks = None if sink is None else _f64(sink).reshape(-1)
    if sinks is not None and sinks.shape != (Hq,):
        raise ValueError(f"sink must be [Hq]={Hq}, got {np.shape(sink)}")
    probs = np.zeros_like(biased)
    for b in range(B):
        for h in range(Hq):
            for i in range(Sq):
                row = biased[b, h, i]
                if np.all(bias[b, h, i] == -np.inf):
                    continue  # fully masked row -> 0
                m = np.max(row) if sinks is None else max(np.max(row), sinks[h])
                e = np.exp(row - m)
                extra = 0.0 if sinks is None else np.exp(sinks[h] - m)
                probs[b, h, i] = e / (np.sum(e) + extra)

    out = np.empty((B, Hq, Sq, Dv), dtype=np.float64)
    for h in range(Hq):
        out[:, h] = probs[:, h] @ v[:, h // group]

    return dict(raw=raw, capped=capped, bias=bias, biased=biased, probs=probs, out=out)


def sdpa(
    q,
    k,
    v,
    mask=None,
    gate=None,
    scale=None,
    softcap=0.0,
    causal=False,
    gate_act="sigmoid",
    causal_offset=0,
    window=None,
    bottom_right=False,
    sink=None,
):
    """Scaled dot-product attention with an optional output gate (float64).

    q [B,Hq,Sq,D], k [B,Hkv,Skv,D], v [B,Hkv,Skv,Dv]; Hq a multiple of Hkv and query
    head h reads kv head h // (Hq // Hkv).

    mask: bool (True = attend) or additive float, broadcastable to [B,Hq,Sq,Skv].
    scale: default 1/sqrt(D).  softcap: c*tanh(s/c) on the scaled scores, before the
    mask (0 = off).  causal: query i sees keys 0..i+causal_offset (default offset 0:
    upper-left), whatever the mask.  window: (left, right), query i also sees only keys
    i - left .. i + right.  bottom_right: both bands aligned to the last key (query i
    at key position i + Skv - Sq).  sink: [Hq], one more softmax logit per head whose
    value is 0 (attention sinks).  Rows with no attendable key give 0.
    gate: [B,Hq,Sq,Dv] (elementwise) or [B,Hq,Sq,1] (headwise); the result is
    out * act(gate) with act = gate_act in {sigmoid, silu}.

    Returns float64 [B, Hq, Sq, Dv].
    """
    parts = _sdpa_parts(
        q, k, v, mask=mask, scale=scale, softcap=softcap, causal=causal,
        causal_offset=causal_offset, window=window, bottom_right=bottom_right, sink=sink,
    )
    out = parts["out"]
    if gate is not None:
        g = _f64(gate)
        B, Hq, Sq, Dv = out.shape
        if g.shape not in ((B, Hq, Sq, Dv), (B, Hq, Sq, 1)):
            raise ValueError(
                f"gate must be [B,Hq,Sq,Dv]={(B, Hq, Sq, Dv)} or [B,Hq,Sq,1], got {g.shape}"
            )
        out = _gate(out, g, gate_act)
    return out


# --------------------------------------------------------------------------- #
# linear attention (recurrent form)
# --------------------------------------------------------------------------- #
def linear_attention(q, k, v, rule, decay=None, beta=None, initial_state=None, scale=None,
                     reverse=False):
    """Token-by-token linear attention recurrence (float64), head-major.

    q [B,Hq,T,K], k [B,Hk,T,K], v [B,Hv,T,V].  One state S [K,V] per value head.
    Value head j reads key head j // (Hv // Hk).  Queries, either
      * Hq == Hk (GVA, Qwen3-Next): state j is read with query head j // (Hv // Hk);
        output [B,Hv,T,V];
      * Hq a multiple of Hv == Hk (GQA, ONNX): query head h reads state h // (Hq // Hv);
        output [B,Hq,T,V].

    decay: log-space, [B,Hv,T] (scalar per head) or [B,Hv,T,K] (per key channel,
    S <- diag(exp(g)) S).  beta: [B,Hv,T].  initial_state: [B,Hv,K,V] (zeros if None).

    Rules, with e = diag(exp(g_t)) and u_t the written value:
      linear:      S = S + k ⊗ v
      gated:       S = e S + k ⊗ v
      delta:       S = S + beta k ⊗ (v - Sᵀk)
      gated_delta: S = e S;  S = S + beta k ⊗ (v - Sᵀk)
    o_t = scale * S_tᵀ q_t, scale default (None or 0, as in ONNX) 1/sqrt(K).
    With reverse, the recurrence runs from the last token to the first (the
    output keeps the input's token order; the final state is after token 0).

    Returns (output, final_state) as float64.
    """
    if reverse:
        flip = lambda x: None if x is None else np.flip(np.asarray(x), axis=2)
        o, s = linear_attention(flip(q), flip(k), flip(v), rule, decay=flip(decay),
                                beta=flip(beta), initial_state=initial_state, scale=scale)
        return np.ascontiguousarray(np.flip(o, axis=2)), s
    rule = _str_attr(rule)
    if rule not in LINEAR_ATTENTION_RULES:
        raise ValueError(f"rule must be one of {LINEAR_ATTENTION_RULES}, got {rule!r}")
    gated = rule in ("gated", "gated_delta")
    delta = rule in ("delta", "gated_delta")
    q, k, v = _f64(q), _f64(k), _f64(v)
    _check_4d("q", q)
    _check_4d("k", k)
    _check_4d("v", v)
    B, Hq, T, K = q.shape
    _, Hk, Tk, Kk = k.shape
    _, Hv, Tv, V = v.shape
    if k.shape[0] != B or v.shape[0] != B:
        raise ValueError(f"batch mismatch: q {q.shape}, k {k.shape}, v {v.shape}")
    if Tk != T or Tv != T:
        raise ValueError(f"sequence mismatch: q {q.shape}, k {k.shape}, v {v.shape}")
    if Kk != K:
        raise ValueError(f"q key size {K} != k key size {Kk}")
    if Hk <= 0 or Hv % Hk != 0:
        raise ValueError(f"value heads {Hv} must be a multiple of key heads {Hk}")
    v_per_k = Hv // Hk
    if Hq == Hk:
        mode = "gva"
        Ho = Hv
    elif Hk == Hv and Hq % Hv == 0:
        mode = "gqa"
        Ho = Hq
    else:
        raise ValueError(
            f"unsupported head counts Hq={Hq}, Hk={Hk}, Hv={Hv}: need Hq == Hk "
            f"(value heads a multiple of key heads) or Hq a multiple of Hv == Hk"
        )

    if gated and decay is None:
        raise ValueError(f"rule {rule!r} needs decay")
    if not gated and decay is not None:
        raise ValueError(f"rule {rule!r} takes no decay")
    if delta and beta is None:
        raise ValueError(f"rule {rule!r} needs beta")
    if not delta and beta is not None:
        raise ValueError(f"rule {rule!r} takes no beta")

    if decay is not None:
        decay = _f64(decay)
        if decay.shape == (B, Hv, T):
            decay = decay[..., None]  # one scalar per head: broadcast over K
        elif decay.shape != (B, Hv, T, K):
            raise ValueError(f"decay must be [B,Hv,T]={(B, Hv, T)} or [B,Hv,T,K], got {decay.shape}")
    if beta is not None:
        beta = _f64(beta)
        if beta.shape != (B, Hv, T):
            raise ValueError(f"beta must be [B,Hv,T]={(B, Hv, T)}, got {beta.shape}")

    if initial_state is None:
        S = np.zeros((B, Hv, K, V), dtype=np.float64)
    else:
        S = _f64(initial_state).copy()
        if S.shape != (B, Hv, K, V):
            raise ValueError(f"initial_state must be [B,Hv,K,V]={(B, Hv, K, V)}, got {S.shape}")

    if scale is None or scale == 0.0:
        scale = 1.0 / math.sqrt(K)
    scale = float(scale)

    out = np.zeros((B, Ho, T, V), dtype=np.float64)
    for b in range(B):
        for t in range(T):
            # state update, one value head at a time
            for j in range(Hv):
                kt = k[b, j // v_per_k, t]  # [K]
                vt = v[b, j, t]  # [V]
                Sj = S[b, j]
                if gated:
                    e = np.exp(decay[b, j, t])  # [K] (or [1] broadcast)
                    Sj = e[:, None] * Sj  # diag(exp(g)) S
                if delta:
                    u = beta[b, j, t] * (vt - Sj.T @ kt)
                else:
                    u = vt
                S[b, j] = Sj + np.outer(kt, u)
            # read
            if mode == "gva":
                for j in range(Hv):
                    qt = q[b, j // v_per_k, t]
                    out[b, j, t] = scale * (S[b, j].T @ qt)
            else:
                group = Hq // Hv
                for h in range(Hq):
                    qt = q[b, h, t]
                    out[b, h, t] = scale * (S[b, h // group].T @ qt)
    return out, S


# --------------------------------------------------------------------------- #
# causal depthwise conv1d with state
# --------------------------------------------------------------------------- #
def causal_conv(x, weight, bias=None, initial_state=None, activation="none"):
    """Depthwise causal conv1d with a carried state (float64).

    x [B,C,L], weight [C,k], bias [C], initial_state [B,C,k-1] (zeros if None).
    With xt = concat(state, x) along length:
      out[b,c,t] = bias[c] + sum_{i<k} weight[c,i] * xt[b,c,t+i], then the activation
      (none | silu | swish); final_state = the last k-1 positions of xt.
    Returns (out [B,C,L], final_state [B,C,k-1]).
    """
    act = _str_attr(activation) or "none"
    if act not in ("none", "silu", "swish"):
        raise ValueError(f"activation must be none, silu or swish, got {act!r}")
    x = _f64(x)
    w = _f64(weight)
    if x.ndim != 3:
        raise ValueError(f"x must be [B,C,L], got {x.shape}")
    B, C, L = x.shape
    if w.ndim != 2 or w.shape[0] != C:
        raise ValueError(f"weight must be [C,k] with C={C}, got {w.shape}")
    kk = w.shape[1]
    if kk < 1:
        raise ValueError("kernel size must be >= 1")
    if initial_state is None:
        state = np.zeros((B, C, kk - 1), dtype=np.float64)
    else:
        state = _f64(initial_state)
        if state.shape != (B, C, kk - 1):
            raise ValueError(f"initial_state must be {(B, C, kk - 1)}, got {state.shape}")
    if bias is None:
        bvec = np.zeros((C,), dtype=np.float64)
    else:
        bvec = _f64(bias)
        if bvec.shape != (C,):
            raise ValueError(f"bias must be [C]={(C,)}, got {bvec.shape}")

    xt = np.concatenate([state, x], axis=2)  # [B, C, k-1+L]
    out = np.zeros((B, C, L), dtype=np.float64)
    for t in range(L):
        acc = np.broadcast_to(bvec[None, :], (B, C)).copy()
        for i in range(kk):
            acc = acc + w[None, :, i] * xt[:, :, t + i]
        out[:, :, t] = acc
    if act in ("silu", "swish"):
        out = silu(out)
    total = xt.shape[2]
    final_state = xt[:, :, total - (kk - 1):].copy()  # (kk-1 may be 0)
    return out, final_state


# --------------------------------------------------------------------------- #
# ONNX operator wrappers
# --------------------------------------------------------------------------- #
def _unpack(x, heads, name):
    """[B, S, H*D] -> [B, H, S, D]."""
    B, S, HD = x.shape
    if heads is None or heads <= 0 or HD % heads != 0:
        raise ValueError(f"{name}: last dim {HD} is not a multiple of num_heads {heads}")
    return x.reshape(B, S, heads, HD // heads).transpose(0, 2, 1, 3)


def _pack(x):
    """[B, H, S, D] -> [B, S, H*D]."""
    B, H, S, D = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, S, H * D)


def onnx_attention(
    Q,
    K,
    V,
    attn_mask=None,
    past_key=None,
    past_value=None,
    nonpad_kv_seqlen=None,
    *,
    is_causal=0,
    kv_num_heads=None,
    q_num_heads=None,
    qk_matmul_output_mode=0,
    scale=None,
    softcap=0.0,
    softmax_precision=None,
):
    """ONNX ``Attention`` (opset 23/24) in float64.

    Returns ``(Y, present_key, present_value, qk_matmul_output)``; Y has the layout of Q
    (3D [B,Sq,Hq*Dv] or 4D [B,Hq,Sq,Dv]); the presents are 4D [B,Hkv,past+Skv,*];
    qk_matmul_output is [B,Hq,Sq,past+Skv] per qk_matmul_output_mode:
    0 raw Q·Kᵀ·scale, 1 after softcap, 2 after softcap + mask (causal, padding,
    attn_mask), 3 after softmax.  ``softmax_precision`` does not change a float64 result.
    """
    del softmax_precision  # float64 throughout
    Q, K, V = _f64(Q), _f64(K), _f64(V)
    if not (Q.ndim == K.ndim == V.ndim) or Q.ndim not in (3, 4):
        raise ValueError(f"Q, K, V must all be 3D or all 4D: {Q.shape} {K.shape} {V.shape}")
    three_d = Q.ndim == 3
    if three_d:
        if q_num_heads is None or kv_num_heads is None:
            raise ValueError("3D inputs need q_num_heads and kv_num_heads")
        q4 = _unpack(Q, q_num_heads, "Q")
        k4 = _unpack(K, kv_num_heads, "K")
        v4 = _unpack(V, kv_num_heads, "V")
    else:
        q4, k4, v4 = Q, K, V
    if (past_key is None) != (past_value is None):
        raise ValueError("past_key and past_value come together")
    if nonpad_kv_seqlen is not None and past_key is not None:
        raise ValueError("nonpad_kv_seqlen cannot be combined with past_key/past_value")

    if past_key is not None:
        present_key = np.concatenate([_f64(past_key), k4], axis=2)
        present_value = np.concatenate([_f64(past_value), v4], axis=2)
        past_len = past_key.shape[2]
    else:
        present_key, present_value = k4, v4
        past_len = 0

    B, Hq, Sq, _ = q4.shape
    Tk = present_key.shape[2]

    # Combined mask: attn_mask (padded with -inf / False up to T) and padding of
    # nonpad_kv_seqlen, as one additive float mask (bool -> 0 / -inf).
    mask = None
    if attn_mask is not None:
        m = np.asarray(attn_mask)
        if m.dtype == np.bool_:
            m = np.where(m, 0.0, -np.inf)
        else:
            m = m.astype(np.float64)
        pad = Tk - m.shape[-1]
        if pad < 0:
            raise ValueError(f"attn_mask last dim {m.shape[-1]} exceeds total kv length {Tk}")
        if pad > 0:
            m = np.concatenate(
                [m, np.full(m.shape[:-1] + (pad,), -np.inf, dtype=np.float64)], axis=-1
            )
        mask = m
    causal_offset = past_len
    if nonpad_kv_seqlen is not None:
        lens = np.asarray(nonpad_kv_seqlen, dtype=np.int64).reshape(-1)
        if lens.shape != (B,):
            raise ValueError(f"nonpad_kv_seqlen must be [B]={(B,)}, got {lens.shape}")
        pad_mask = np.where(np.arange(Tk)[None, :] < lens[:, None], 0.0, -np.inf)
        pad_mask = pad_mask.reshape(B, 1, 1, Tk)
        mask = pad_mask if mask is None else mask + pad_mask
        causal_offset = lens - Sq

    parts = _sdpa_parts(
        q4, present_key, present_value, mask=mask, scale=scale, softcap=softcap,
        causal=bool(is_causal), causal_offset=causal_offset,
    )
    mode = int(qk_matmul_output_mode or 0)
    qk = {0: parts["raw"], 1: parts["capped"], 2: parts["biased"], 3: parts["probs"]}
    if mode not in qk:
        raise ValueError(f"qk_matmul_output_mode must be 0..3, got {mode}")
    Y = parts["out"]
    if three_d:
        Y = _pack(Y)
    return Y, present_key, present_value, qk[mode]


def onnx_linear_attention(
    query,
    key,
    value,
    past_state=None,
    decay=None,
    beta=None,
    *,
    q_num_heads,
    kv_num_heads,
    update_rule="gated_delta",
    scale=0.0,
    chunk_size=64,
):
    """ONNX ``LinearAttention`` (opset 27) in float64.

    query [B,T,Hq*dk], key [B,T,Hkv*dk], value [B,T,Hkv*dv], past_state [B,Hkv,dk,dv],
    decay [B,T,Hkv] or [B,T,Hkv*dk], beta [B,T,Hkv] or [B,T,1].
    Returns (output [B,T,Hq*dv], present_state [B,Hkv,dk,dv]).
    """
    del chunk_size  # a tuning hint; never changes results
    rule = _str_attr(update_rule) or "gated_delta"
    query, key, value = _f64(query), _f64(key), _f64(value)
    for name, a in (("query", query), ("key", key), ("value", value)):
        if a.ndim != 3:
            raise ValueError(f"{name} must be [B,T,H*d], got {a.shape}")
    if q_num_heads is None or kv_num_heads is None:
        raise ValueError("q_num_heads and kv_num_heads are required")
    if q_num_heads <= 0 or kv_num_heads <= 0 or q_num_heads % kv_num_heads != 0:
        raise ValueError(f"q_num_heads {q_num_heads} must be a multiple of kv_num_heads {kv_num_heads}")
    B, T, _ = query.shape
    q4 = _unpack(query, q_num_heads, "query")
    k4 = _unpack(key, kv_num_heads, "key")
    v4 = _unpack(value, kv_num_heads, "value")
    dk = q4.shape[3]
    if k4.shape[3] != dk:
        raise ValueError(f"key head size {k4.shape[3]} != query head size {dk}")
    H = kv_num_heads

    g4 = None
    if decay is not None:
        decay = _f64(decay)
        if decay.ndim != 3 or decay.shape[:2] != (B, T):
            raise ValueError(f"decay must be [B,T,*], got {decay.shape}")
        if decay.shape[2] == H:
            g4 = decay.transpose(0, 2, 1)  # [B,H,T]
        elif decay.shape[2] == H * dk:
            g4 = _unpack(decay, H, "decay")  # [B,H,T,dk]
        else:
            raise ValueError(f"decay last dim {decay.shape[2]} must be {H} or {H * dk}")
    b4 = None
    if beta is not None:
        beta = _f64(beta)
        if beta.ndim != 3 or beta.shape[:2] != (B, T) or beta.shape[2] not in (H, 1):
            raise ValueError(f"beta must be [B,T,{H}] or [B,T,1], got {beta.shape}")
        b4 = np.broadcast_to(beta, (B, T, H)).transpose(0, 2, 1)  # [B,H,T]

    out, state = linear_attention(
        q4, k4, v4, rule, decay=g4, beta=b4, initial_state=past_state, scale=scale,
    )
    return _pack(out), state


def onnx_causal_conv(input, weight, bias=None, past_state=None, *, activation="none"):
    """ONNX ``CausalConvWithState`` (opset 27) in float64.

    input [B,C,L], weight [C,1,k], bias [C], past_state [B,C,k-1].
    Returns (output [B,C,L], present_state [B,C,k-1]).
    """
    w = _f64(weight)
    if w.ndim != 3 or w.shape[1] != 1:
        raise ValueError(f"weight must be [C,1,k], got {w.shape}")
    return causal_conv(input, w[:, 0, :], bias=bias, initial_state=past_state,
                       activation=_str_attr(activation) or "none")
