"""Numerics at the edges, fast kernels and the reference lowering against the
float64 reference: NaN and ±Inf inputs propagate exactly where the recurrence
or the attended scores carry them (the same non-finite entries, the finite
ones close), decays of -inf, -1e30 and -100 (a state wiped at a chunk
boundary and inside a chunk), fully masked attention rows (zeros).

Known limits of the fast kernels (documented in the README), which only ever
add non-finite entries, never a wrong finite one: a NaN or Inf in a value row
reaches the queries of a 32-query tile that contains one query attending that
key (as in other flash kernels), and a NaN at token t of a chunked linear
attention reaches the outputs of the tokens before t in t's chunk (products
with the causal mask's zeros)."""
import numpy as np
import pytest

import kernel_util as ku
from gatec import reference as R

pytestmark = pytest.mark.skipif(not ku.have_compiler(), reason="gatec is not built")

B, H, T, D = 1, 2, 130, 16
RULES = [("gated_s", "gated", "s"), ("gated_c", "gated", "c"), ("gdelta_s", "gated_delta", "s"),
         ("gdelta_c", "gated_delta", "c"), ("delta", "delta", None), ("linear", "linear", None)]


def _funcs():
    shp = (B, H, T, D)
    fs = [ku.sdpa_func("att_causal", shp, shp, shp, causal=True),
          ku.sdpa_func("att_mask", shp, shp, shp, mask=((B, 1, T, T), "i1")),
          ku.sdpa_func("att_window", shp, shp, shp, causal=True, window=(20, 0))]
    for name, rule, dk in RULES:
        decay = None if dk is None else ((B, H, T) if dk == "s" else shp)
        fs.append(ku.linear_attention_func(f"la_{name}", rule, shp, shp, shp, decay=decay,
                                           beta=(B, H, T) if "delta" in rule else None))
    return fs


@pytest.fixture(scope="module", params=["fast", "reference"])
def lib(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(f"edges_{request.param}")
    return ku.compile_module(ku.module_text(_funcs()), str(d / "edges"), "edges",
                             kernels=request.param)


def _same(got, want, what, extra_ok=None):
    """The same NaN and Inf entries (beyond those, where `extra_ok` allows
    non-finite entries: NaN only), the finite entries close."""
    got = np.asarray(got, np.float64)
    if extra_ok is not None:
        extra = np.isnan(got) & np.isfinite(want)
        assert not np.any(extra & ~extra_ok), f"{what}: NaN outside the bad token's chunk"
        got = np.where(extra, want, got)
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{what}: NaN entries differ"
    assert np.array_equal(np.isposinf(got), np.isposinf(want)) and \
        np.array_equal(np.isneginf(got), np.isneginf(want)), f"{what}: Inf entries differ"
    fin = np.isfinite(want)
    if fin.any():
        err = np.abs(got[fin] - want[fin]).max() / max(np.abs(want[fin]).max(), 1e-30)
        assert err <= 2e-5, f"{what}: relative error {err:.3g}"


def _qkv(seed):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((B, H, T, D)).astype(np.float32) for _ in range(3))
    return rng, q, k, v


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["q", "k"])
def test_sdpa_non_finite_inputs_propagate_like_float64(lib, bad, where):
    rng, q, k, v = _qkv(1)
    x = {"q": q, "k": k}
    x[where][0, 0, 40, 3] = bad
    mask = rng.uniform(0, 1, (B, 1, T, T)) < 0.6
    mask[0, 0, 7] = False  # a row that sees no key: zeros
    cases = [("att_causal", (), dict(causal=True)), ("att_mask", (mask,), dict(mask=mask)),
             ("att_window", (), dict(causal=True, window=(20, 0)))]
    for fn, extra, kw in cases:
        (got,) = getattr(lib, fn)(x["q"], x["k"], v, *extra)
        _same(got, R.sdpa(x["q"], x["k"], v, **kw), f"{fn}, {bad} in {where}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name,rule,dk", RULES, ids=[r[0] for r in RULES])
@pytest.mark.parametrize("where", ["q", "k", "v", "decay", "beta"])
def test_linear_attention_nan_propagates_like_float64(lib, name, rule, dk, where):
    if (where == "decay" and dk is None) or (where == "beta" and "delta" not in rule):
        pytest.skip("the rule has no such input")
    rng, q, k, v = _qkv(2)
    k = (k / np.linalg.norm(k, axis=-1, keepdims=True)).astype(np.float32)
    x = {"q": q, "k": k, "v": v,
         "decay": None if dk is None else
         -rng.uniform(0, 1, (B, H, T) if dk == "s" else (B, H, T, D)).astype(np.float32),
         "beta": rng.uniform(0.1, 0.9, (B, H, T)).astype(np.float32) if "delta" in rule else None}
    x[where][0, 0, 70] = np.nan  # token 70: past the first chunk of 64
    args = [a for a in (x["q"], x["k"], x["v"], x["decay"], x["beta"]) if a is not None]
    o, s = getattr(lib, f"la_{name}")(*args)
    ro, rs = R.linear_attention(x["q"], x["k"], x["v"], rule, decay=x["decay"], beta=x["beta"])
    chunk_before = np.zeros(o.shape, bool)
    chunk_before[:, :, 64:70] = True  # token 70's chunk (64 tokens) before it
    _same(o, ro, f"{name}: output with a NaN in {where}", chunk_before)
    _same(s, rs, f"{name}: final state with a NaN in {where}")


@pytest.mark.parametrize("name,rule,dk", [r for r in RULES if r[2]], ids=[r[0] for r in RULES if r[2]])
@pytest.mark.parametrize("value", [-np.inf, -1e30, -100.0])
def test_linear_attention_extreme_decays(lib, name, rule, dk, value):
    """exp(decay) = 0 at tokens 5 (inside the first chunk), 64 (a chunk's first
    token) and 129 (the last): the state restarts there, with no NaN."""
    rng, q, k, v = _qkv(3)
    k = (k / np.linalg.norm(k, axis=-1, keepdims=True)).astype(np.float32)
    g = -rng.uniform(0, 1, (B, H, T) if dk == "s" else (B, H, T, D)).astype(np.float32)
    g[:, :, [5, 64, 129]] = value
    beta = rng.uniform(0.1, 0.9, (B, H, T)).astype(np.float32) if "delta" in rule else None
    args = [a for a in (q, k, v, g, beta) if a is not None]
    o, s = getattr(lib, f"la_{name}")(*args)
    ro, rs = R.linear_attention(q, k, v, rule, decay=g, beta=beta)
    _same(o, ro, f"{name}: output, decay {value}")
    _same(s, rs, f"{name}: final state, decay {value}")
