"""Exporting PyTorch models for gatec: `gatec.torch.export(module, args, path)`.

Runs torch 2's dynamo exporter (`torch.onnx.export(..., dynamo=True)`) at opset 24,
with transformers' gated delta rule (Qwen3-Next / Qwen3.5 Gated DeltaNet layers:
`torch_chunk_gated_delta_rule`, `torch_recurrent_gated_delta_rule`) exported as
one ONNX LinearAttention-27 node per layer instead of the chunked algorithm
unrolled into hundreds of small ops (and a length fixed at export time).
`F.scaled_dot_product_attention` already becomes ONNX Attention-24 at opset 24;
gatec raises transformers' mask on it to the causal flag. Models written for
gatec call `gatec.torch.linear_attention` (every LinearAttention-27 rule), which
runs eagerly and exports the same way.

Needs torch >= 2.9 with onnxscript (and transformers for its models); gatec
itself does not. The file's default-domain opset is raised to 27 when a
LinearAttention node is written (the ops torch writes are unchanged between
opsets 24 and 27).

    import gatec.torch
    gatec.torch.export(model, (input_ids,), "model.onnx",
                       dynamic_shapes=({1: torch.export.Dim("T")},))
"""
from __future__ import annotations

import contextlib
import sys

import torch

_DOMAIN = "com.gatec.export"  # placeholder domain of the translation, renamed after export


def _reference_rule(q, k, v, g, beta, state):
    """The gated delta rule token by token in float32 (transformers' recurrent
    form): S_t = e^{g_t} S + β_t k_t (v_t - e^{g_t} Sᵀ k_t), o_t = S_tᵀ q_t / √dk.
    q, k [B,T,H,dk], v [B,T,H,dv], g, beta [B,T,H], state [B,H,dk,dv]."""
    dt = v.dtype
    q, k, v, g, beta = (x.float() for x in (q, k, v, g, beta))
    s = state.float().clone()
    scale = q.shape[-1] ** -0.5
    out = torch.empty(v.shape, dtype=torch.float32, device=v.device)
    for t in range(q.shape[1]):
        s = s * g[:, t].exp()[..., None, None]
        kt = k[:, t]
        pred = torch.einsum("bhkv,bhk->bhv", s, kt)
        delta = (v[:, t] - pred) * beta[:, t][..., None]
        s = s + torch.einsum("bhk,bhv->bhkv", kt, delta)
        out[:, t] = torch.einsum("bhkv,bhk->bhv", s, q[:, t] * scale)
    return out.to(dt), s


def _reference_linear_attention(q, k, v, decay, beta, state, rule):
    """ONNX LinearAttention-27's recurrence token by token in float32 (every
    rule): q, k [B,T,H,dk], v [B,T,H,dv], decay [B,T,H] or [B,T,H,dk] (log
    space), beta [B,T,H], state [B,H,dk,dv]."""
    dt = v.dtype
    gated, delta = rule in ("gated", "gated_delta"), rule in ("delta", "gated_delta")
    q, k, v = (x.float() for x in (q, k, v))
    s = state.float().clone()
    scale = q.shape[-1] ** -0.5
    out = torch.empty(v.shape, dtype=torch.float32, device=v.device)
    for t in range(q.shape[1]):
        if gated:
            e = decay[:, t].float().exp()
            s = s * (e[..., None] if e.dim() == 3 else e[..., None, None])
        kt, vt = k[:, t], v[:, t]
        if delta:
            pred = torch.einsum("bhkv,bhk->bhv", s, kt)
            vt = (vt - pred) * beta[:, t].float()[..., None]
        s = s + torch.einsum("bhk,bhv->bhkv", kt, vt)
        out[:, t] = torch.einsum("bhkv,bhk->bhv", s, q[:, t] * scale)
    return out.to(dt), s


@torch.library.custom_op("gatec::linear_attention", mutates_args=())
def _linear_attention_op(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                         decay: torch.Tensor | None, beta: torch.Tensor | None,
                         state: torch.Tensor, rule: str) -> tuple[torch.Tensor, torch.Tensor]:
    return _reference_linear_attention(q, k, v, decay, beta, state, rule)


@_linear_attention_op.register_fake
def _(q, k, v, decay, beta, state, rule):
    return torch.empty_like(v), torch.empty_like(state, dtype=torch.float32)


RULES = ("linear", "gated", "delta", "gated_delta")


def linear_attention(q, k, v, rule, decay=None, beta=None, initial_state=None):
    """A linear-attention recurrence for models written for gatec: runs eagerly
    (token by token, float32), and `export` writes it as one ONNX
    LinearAttention-27 node. q, k [B,T,H,dk], v [B,T,H,dv]; rule linear, gated,
    delta or gated_delta; decay (log space, gated rules) [B,T,H] or [B,T,H,dk]
    (per key channel, GLA); beta [B,T,H] (delta rules); initial_state
    [B,H,dk,dv] (zeros when None). Returns (output [B,T,H,dv], final state).
    A backward scan is the same call on flipped inputs with the output flipped
    back (`x.flip(1)`): gatec runs it in place, without the copies."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if (decay is not None) != (rule in ("gated", "gated_delta")):
        raise ValueError(f"rule {rule!r} {'needs' if decay is None else 'takes no'} decay")
    if (beta is not None) != (rule in ("delta", "gated_delta")):
        raise ValueError(f"rule {rule!r} {'needs' if beta is None else 'takes no'} beta")
    b, _, h, dk = k.shape
    if initial_state is None:
        initial_state = torch.zeros(b, h, dk, v.shape[-1], dtype=torch.float32, device=v.device)
    return _linear_attention_op(q, k, v, decay, beta, initial_state, rule)


@torch.library.custom_op("gatec::gated_delta_rule", mutates_args=())
def gated_delta_rule(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, g: torch.Tensor,
                     beta: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return _reference_rule(q, k, v, g, beta, state)


@gated_delta_rule.register_fake
def _(q, k, v, g, beta, state):
    return torch.empty_like(v), torch.empty_like(state, dtype=torch.float32)


def _l2norm(x, eps=1e-6):
    # transformers' l2norm (FLA's): x / sqrt(sum(x²) + eps)
    return x * torch.rsqrt((x * x).sum(dim=-1, keepdim=True) + eps)


def _gated_delta(query, key, value, g, beta, chunk_size=64, initial_state=None,
                 output_final_state=False, use_qk_l2norm_in_kernel=False, **kwargs):
    """Drop-in for transformers' torch_{chunk,recurrent}_gated_delta_rule."""
    if kwargs.get("cu_seqlens") is not None:
        raise NotImplementedError("gatec.torch.export: packed sequences (cu_seqlens) are not "
                                  "supported yet")
    nk, nv = key.shape[2], value.shape[2]
    if nk != nv:  # grouped value heads: each q/k head serves nv // nk value heads
        query = query.repeat_interleave(nv // nk, dim=2)
        key = key.repeat_interleave(nv // nk, dim=2)
    if use_qk_l2norm_in_kernel:
        query, key = _l2norm(query.float()), _l2norm(key.float())
    b, _, h, dk = key.shape
    if initial_state is None:
        initial_state = torch.zeros(b, h, dk, value.shape[-1], dtype=torch.float32,
                                    device=value.device)
    out, state = gated_delta_rule(query.to(value.dtype), key.to(value.dtype), value, g, beta,
                                  initial_state)
    return out, (state if output_final_state else None)


def _translation():
    from onnxscript import values
    from onnxscript.onnx_opset import opset18 as op

    from onnx.defs import OpSchema

    # LinearAttention-27's signature in a placeholder domain, so that the
    # exporter's opset-24 passes leave the node alone (renamed in _finish).
    opt = OpSchema.FormalParameterOption.Optional
    schema = OpSchema(
        "LinearAttention", _DOMAIN, 1,
        inputs=[OpSchema.FormalParameter("query", "T"), OpSchema.FormalParameter("key", "T"),
                OpSchema.FormalParameter("value", "T"),
                OpSchema.FormalParameter("past_state", "S", param_option=opt),
                OpSchema.FormalParameter("decay", "T", param_option=opt),
                OpSchema.FormalParameter("beta", "T", param_option=opt)],
        outputs=[OpSchema.FormalParameter("output", "T"),
                 OpSchema.FormalParameter("present_state", "S")],
        type_constraints=[("T", ["tensor(float)", "tensor(float16)", "tensor(bfloat16)"], ""),
                          ("S", ["tensor(float)", "tensor(float16)", "tensor(bfloat16)"], "")],
        attributes=[OpSchema.Attribute("q_num_heads", OpSchema.AttrType.INT, ""),
                    OpSchema.Attribute("kv_num_heads", OpSchema.AttrType.INT, ""),
                    OpSchema.Attribute("update_rule", OpSchema.AttrType.STRING, "")])
    linear_attention = values.Op(values.Opset(_DOMAIN, 1), "LinearAttention", schema)

    def translate(q, k, v, g, beta, state):
        h, dk, dv = q.shape[2], q.shape[3], v.shape[3]
        if not all(isinstance(x, int) for x in (h, dk, dv)):
            raise ValueError("gatec.torch.export: heads and head sizes must be static")
        flat = op.Constant(value_ints=[0, 0, -1])
        out, present = linear_attention(
            op.Reshape(q, flat), op.Reshape(k, flat), op.Reshape(v, flat), state, g, beta,
            q_num_heads=h, kv_num_heads=h, update_rule="gated_delta")
        heads = op.Constant(value_ints=[0, 0, h, dv])
        return op.Reshape(out, heads), present

    def translate_any(q, k, v, decay, beta, state, rule):
        h, dk, dv = q.shape[2], q.shape[3], v.shape[3]
        if not all(isinstance(x, int) for x in (h, dk, dv)):
            raise ValueError("gatec.torch.export: heads and head sizes must be static")
        flat = op.Constant(value_ints=[0, 0, -1])
        if decay is not None and len(decay.shape) == 4:  # per key channel: [B,T,H*dk]
            decay = op.Reshape(decay, flat)
        out, present = linear_attention(
            op.Reshape(q, flat), op.Reshape(k, flat), op.Reshape(v, flat), state, decay, beta,
            q_num_heads=h, kv_num_heads=h, update_rule=rule)
        heads = op.Constant(value_ints=[0, 0, h, dv])
        return op.Reshape(out, heads), present

    return {torch.ops.gatec.gated_delta_rule.default: translate,
            torch.ops.gatec.linear_attention.default: translate_any}


@contextlib.contextmanager
def _patched_transformers():
    """Points every loaded transformers model module's gated delta rule at ours."""
    names = ("torch_chunk_gated_delta_rule", "torch_recurrent_gated_delta_rule")
    saved = []
    for mod_name, mod in list(sys.modules.items()):
        if not mod_name.startswith("transformers.models.") or mod is None:
            continue
        for name in names:
            if hasattr(mod, name):
                saved.append((mod, name, getattr(mod, name)))
                setattr(mod, name, _gated_delta)
    try:
        yield
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)


def _finish(path):
    """Moves the translation's nodes to ONNX's own LinearAttention (opset 27)."""
    import onnx

    model = onnx.load(path)
    found = False
    for node in model.graph.node:
        if node.domain == _DOMAIN:
            node.domain = ""
            found = True
    if found:
        keep = [o for o in model.opset_import if o.domain not in ("", "ai.onnx", _DOMAIN)]
        del model.opset_import[:]
        model.opset_import.extend(keep + [onnx.helper.make_opsetid("", 27)])
    onnx.save(model, path)


def export(module, args, path, *, dynamic_shapes=None, input_names=None, output_names=None,
           opset: int = 24, **kwargs):
    """Exports `module(*args)` to the ONNX file `path` for gatec (see the module
    docstring). Keyword arguments are passed to torch.onnx.export."""
    module = module.eval()
    with _patched_transformers(), torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(module, tuple(args), path, dynamo=True, opset_version=opset,
                          dynamic_shapes=dynamic_shapes, input_names=input_names,
                          output_names=output_names, custom_translation_table=_translation(),
                          external_data=False, **kwargs)
    _finish(path)
    return path
