"""The chunked linear-attention kernels (gate-tile-cpu, `--linear-attention=chunked`)
against the float64 reference and against the token-recurrent kernels
(`--linear-attention=recurrent`) on the same inputs.

Every rule and decay kind, chunk sizes 7 / 16 / 64 / 100 (chunks that do not
divide T, and one longer than the per-channel sub-blocks), T = 65 / 127 / 257,
awkward head sizes (K = 24, V = 40) and K = V = 128, GVA 1:2 and GQA, with and
without an initial state, head-major and token-major; then stability: decays
of about -1e4 per token and sequences of up to 100k tokens stay
finite and exact; and a few functions for AVX2 and SSE (8 and 4 lanes).
"""
from __future__ import annotations

import os
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gatec
import kernel_util as ku
from gatec import reference as R

pytestmark = pytest.mark.skipif(not ku.have_compiler(),
                                reason=f"gatec compiler not found at {ku.gatec_binary()}")

VARIANTS = ku.LA_VARIANTS
HEADS = {"mha": (2, 2, 2), "gva": (1, 1, 2), "gqa": (4, 2, 2)}  # (Hq, Hk, Hv)
CHUNKS = (7, 16, 64, 100)
TS = (65, 127, 257)


class Fn:
    def __init__(self, variant, heads, K, V, chunk, state, token_major=False, long=False):
        self.variant, self.heads, self.K, self.V = variant, heads, K, V
        self.chunk, self.state, self.token_major = chunk, state, token_major
        self.name = (f"{variant}_{heads}_{K}x{V}_c{chunk}" + ("_st" if state else "") +
                     ("_tm" if token_major else "") + ("_long" if long else ""))

    def text(self):
        rule, dkind, beta = VARIANTS[self.variant]
        hq, hk, hv = HEADS[self.heads]
        if self.token_major:
            return ku.token_major_linear_attention_func(self.name, rule, dkind, beta, hq, hk, hv,
                                                        self.K, self.V, self.chunk)
        q, k, v = ("b", hq, "t", self.K), ("b", hk, "t", self.K), ("b", hv, "t", self.V)
        decay = None if dkind is None else (("b", hv, "t") if dkind == "scalar"
                                            else ("b", hv, "t", self.K))
        return ku.linear_attention_func(self.name, rule, q, k, v, decay=decay,
                                        beta=("b", hv, "t") if beta else None,
                                        state=self.state, chunk_size=self.chunk)


FNS = []
CASES = []  # (id, fn, B, T, decay_mode)
for _i, _variant in enumerate(VARIANTS):
    for _j, _chunk in enumerate(CHUNKS):
        for _h, _heads in enumerate(HEADS):
            _fn = Fn(_variant, _heads, 24, 40, _chunk, state=(_i + _j + _h) % 2 == 0)
            FNS.append(_fn)
            for _T in TS:
                CASES.append((f"{_fn.name}-T{_T}", _fn, 2 if _T < 200 else 1, _T, "normal"))
    _fn = Fn(_variant, "mha", 128, 128, 64, state=True)
    FNS.append(_fn)
    CASES.append((f"{_fn.name}-T127", _fn, 1, 127, "normal"))
    _fn = Fn(_variant, "gqa" if _i % 2 else "gva", 40, 24, 16, state=False, token_major=True)
    FNS.append(_fn)
    CASES.append((f"{_fn.name}-T130", _fn, 2, 130, "normal"))
# stability: decays of about -1e4 per token, long sequences
LONG = []  # (id, fn, T, decay_mode)
for _variant, _T in (("gdelta_s", 100000), ("gated_c", 20000), ("gdelta_c", 20000)):
    _fn = Fn(_variant, "mha", 16, 16, 64, state=True, long=True)
    FNS.append(_fn)
    LONG.append((f"{_fn.name}-T{_T}-mixed", _fn, _T, "mixed"))
for _variant in ("gdelta_s", "gated_c", "gdelta_c", "gated_s"):
    _fn = Fn(_variant, "mha", 16, 16, 100, state=True, long=True)
    FNS.append(_fn)
    LONG.append((f"{_fn.name}-T3000-huge", _fn, 3000, "huge"))


def make_inputs(fn: Fn, B: int, T: int, mode: str, seed: str):
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    rule, dkind, has_beta = VARIANTS[fn.variant]
    hq, hk, hv = HEADS[fn.heads]
    K, V = fn.K, fn.V
    q = rng.standard_normal((B, hq, T, K))
    k = rng.standard_normal((B, hk, T, K))
    k /= np.linalg.norm(k, axis=-1, keepdims=True) if has_beta else np.sqrt(K)
    v = rng.standard_normal((B, hv, T, V))
    kw = {}
    if dkind:
        ds = (B, hv, T) if dkind == "scalar" else (B, hv, T, K)
        g = -rng.uniform(0.0, 2.0 if dkind == "scalar" else 1.0, ds)
        if mode == "mixed":  # long memories, and tokens that forget everything
            g = np.where(rng.random(ds) < 0.02, -1e4 * rng.uniform(0.5, 1.5, ds), g * 0.01)
        elif mode == "huge":  # every token: about -1e4
            g = -1e4 * rng.uniform(0.5, 1.5, ds)
        kw["decay"] = g
    if has_beta:
        kw["beta"] = rng.uniform(0.05, 0.95, (B, hv, T))
    if fn.state:
        kw["initial_state"] = rng.standard_normal((B, hv, K, V)) * 0.5
    ref_o, ref_s = R.linear_attention(q, k, v, rule, **kw)
    hm = lambda x: np.ascontiguousarray(np.swapaxes(x, 1, 2)) if fn.token_major else x
    args = [hm(q), hm(k), hm(v)]
    if dkind:
        args.append(hm(kw["decay"]))
    if has_beta:
        args.append(hm(kw["beta"]))
    args = [a.astype(np.float32) for a in args]
    if fn.state:
        args.append(kw["initial_state"].astype(np.float32))
    return args, [hm(ref_o), ref_s]


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    text = ku.module_text(f.text() for f in FNS)

    def build(mode):
        d = str(tmp_path_factory.mktemp(f"chunked_{mode}"))
        return ku.compile_module(text, d, f"la_{mode}", load=False,
                                 extra_args=[f"--linear-attention={mode}"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = dict(zip(("chunked", "recurrent"), pool.map(build, ("chunked", "recurrent"))))
    return {mode: gatec.load(p) for mode, p in paths.items()}


def _check(libs, fn, args, refs):
    got = libs["chunked"].functions[fn.name](*args)
    rec = libs["recurrent"].functions[fn.name](*args)
    for o, what in enumerate(("output", "final state")):
        ku.assert_close(got[o], refs[o], ku.F32_TOL, what=f"chunked {what}")
        ku.assert_close(rec[o], refs[o], ku.F32_TOL, what=f"recurrent {what}")
        scale = float(np.max(np.abs(refs[o])))
        err = float(np.max(np.abs(got[o].astype(np.float64) - rec[o])))
        assert err <= ku.F32_TOL * scale, f"{what}: chunked and recurrent differ by {err:.3g}"


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in CASES])
def test_chunked_matches_reference_and_recurrent(libs, case):
    cid, fn, B, T, mode = case
    args, refs = make_inputs(fn, B, T, mode, cid)
    _check(libs, fn, args, refs)


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in LONG])
def test_chunked_stability(libs, case):
    cid, fn, T, mode = case
    args, refs = make_inputs(fn, 1, T, mode, cid)
    _check(libs, fn, args, refs)


def test_unknown_linear_attention_kernel(tmp_path):
    src = tmp_path / "la.mlir"
    src.write_text(ku.module_text([FNS[0].text()]))
    proc = ku.run_gatec([str(src), "-o", str(tmp_path / "libla.so"),
                         "--linear-attention=fast"])
    assert proc.returncode != 0
    assert "unknown --linear-attention 'fast'" in proc.stderr


ISA_FNS = [Fn("gated_c", "mha", 24, 40, 16, state=True), Fn("gdelta_c", "gqa", 40, 24, 7, state=False),
           Fn("gdelta_s", "gva", 24, 40, 100, state=True)]


@pytest.fixture(scope="module")
def isa_libs(tmp_path_factory):
    text = ku.module_text(f.text() for f in ISA_FNS)

    def build(mcpu):
        d = str(tmp_path_factory.mktemp(f"chunked_{mcpu}".replace("-", "_")))
        return ku.compile_module(text, d, "la_isa", mcpu=mcpu, load=False,
                                 extra_args=["--linear-attention=chunked"])

    mcpus = ("x86-64-v3", "x86-64")  # 8 and 4 f32 lanes
    with ThreadPoolExecutor(max_workers=2) as pool:
        return {m: gatec.load(p) for m, p in zip(mcpus, pool.map(build, mcpus))}


@pytest.mark.parametrize("mcpu", ["x86-64-v3", "x86-64"])
@pytest.mark.parametrize("fn", ISA_FNS, ids=lambda f: f.name)
def test_chunked_isa(isa_libs, fn, mcpu):
    args, refs = make_inputs(fn, 2, 127, "normal", f"isa-{fn.name}")
    got = isa_libs[mcpu].functions[fn.name](*args)
    for o in range(2):
        ku.assert_close(got[o], refs[o], ku.F32_TOL, what=f"output {o}")


@pytest.mark.parametrize("rule,dkind", [("gated_delta", "scalar"), ("gated", "channel")])
def test_zero_decay_is_finite(tmp_path, rule, dkind):
    """A decay of exactly 0 (log decay -inf) clears the state; differences of
    cumulative log decays must not turn it into NaN."""
    K = V = 16
    T = 200
    dshape = ("B", 2, "T") if dkind == "scalar" else ("B", 2, "T", K)
    beta = ("B", 2, "T") if "delta" in rule else None
    text = ku.module_text([ku.linear_attention_func(
        "main", rule, ("B", 2, "T", K), ("B", 2, "T", K), ("B", 2, "T", V),
        decay=dshape, beta=beta)])
    rng = np.random.default_rng(7)
    q = rng.standard_normal((1, 2, T, K))
    k = rng.standard_normal((1, 2, T, K))
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    v = rng.standard_normal((1, 2, T, V))
    g = -rng.random((1, 2, T) if dkind == "scalar" else (1, 2, T, K))
    g[:, :, 50] = -np.inf
    g[:, :, 131] = -np.inf
    args = [q, k, v, g]
    b = rng.random((1, 2, T)) if beta else None
    if beta:
        args.append(b)
    ref_o, ref_s = R.linear_attention(q, k, v, rule, decay=g, beta=b)
    for mode in ("chunked", "recurrent"):
        m = ku.compile_module(text, str(tmp_path), f"zd_{mode}",
                              extra_args=[f"--linear-attention={mode}"])
        o, s = m(*[a.astype(np.float32) for a in args])
        ku.assert_close(o, ref_o, ku.F32_TOL, what=f"{mode} output")
        ku.assert_close(s, ref_s, ku.F32_TOL, what=f"{mode} final state")
