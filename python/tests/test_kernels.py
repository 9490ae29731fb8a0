"""Compiled gate kernels against the float64 numpy references.

Each op family is one MLIR module with many public functions (compiling costs
about a second per library), compiled twice -- `--kernels=fast` and
`--kernels=reference` -- and run on random inputs of awkward sizes. Batch and
sequence dims are dynamic in most functions, so one function serves several
lengths. A subset is also compiled for plain x86-64 (SSE) and x86-64-v3
(AVX2).

Error metric: max |got - ref| / max |ref| <= 1e-4 (f32), 2e-2 (f16/bf16);
NaN / Inf never pass.
"""
from __future__ import annotations

import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import pytest

import gatec
import kernel_util as ku
from gatec import reference as R

pytestmark = pytest.mark.skipif(not ku.have_compiler(),
                                reason=f"gatec compiler not found at {ku.gatec_binary()}")

try:
    import ml_dtypes  # noqa: F401
    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    BF16 = None

NP_DTYPES = {"f32": np.float32, "f16": np.float16, "bf16": BF16, "i1": np.bool_}
TOL = {"f32": ku.F32_TOL, "f16": ku.F16_TOL, "bf16": 3e-2}


# --------------------------------------------------------------------------- #
# case registry
# --------------------------------------------------------------------------- #
LIBS: Dict[str, Dict[str, str]] = {"sdpa": {}, "la": {}, "conv": {}, "isa": {}}
FAST_ONLY = set()  # functions left out of --kernels=reference libraries


@dataclass
class Case:
    id: str
    lib: str
    fn: str
    make: Callable[[np.random.Generator], list]  # -> inputs (numpy, kernel dtypes)
    ref: Callable[[list], list]  # inputs -> float64 outputs
    tol: float = ku.F32_TOL
    check: Optional[Callable[[list, list], None]] = None  # extra checks on (outs, inputs)
    marks: list = field(default_factory=list)
    ref_fn: Optional[str] = None  # the function to call in a --kernels=reference library

    def param(self):
        return pytest.param(self, id=self.id, marks=self.marks)


SDPA_CASES: List[Case] = []
LA_CASES: List[Case] = []
CONV_CASES: List[Case] = []
ISA_CASES: List[Case] = []


def define(lib: str, fn: str, text: str) -> str:
    prev = LIBS[lib].get(fn)
    assert prev is None or prev == text, f"two definitions of {lib}/{fn}"
    LIBS[lib][fn] = text
    return fn


def rng_for(case_id: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(case_id.encode()))


def cast(x, dtype: str):
    return np.asarray(x).astype(NP_DTYPES[dtype])


# --------------------------------------------------------------------------- #
# gate.sdpa
# --------------------------------------------------------------------------- #
def sdpa_case(cases, lib, fn, *, B, Hq, Hkv, Sq, Skv, D, Dv=None, dtype="f32",
              mask=None, gate=None, causal=False, scale=None, softcap=None,
              gate_act="sigmoid", masked_rows=False, mask_blocks=False, mask_fill="-inf",
              qmul=1.0, kmul=1.0, static=(), id_extra="", marks=(), window=None,
              bottom_right=False, sink=False):
    """Registers function `fn` and one case calling it with these sizes.
    Dims b, sq, skv are dynamic, except those named in `static`.

    mask: None | (kind, dtype) with kind in {"11qk", "b11k", "b1qk", "full"}.
    gate: None | "elem" | "head".
    """
    Dv = Dv or D
    size = {"b": B, "sq": Sq, "skv": Skv}

    def typed(shape):
        return tuple(size[d] if d in static else d for d in shape)

    qs, ks, vs = typed(("b", Hq, "sq", D)), typed(("b", Hkv, "skv", D)), typed(("b", Hkv, "skv", Dv))
    mshape = None
    if mask is not None:
        kind, mdt = mask
        mshape = {"11qk": (1, 1, "sq", "skv"), "b11k": ("b", 1, 1, "skv"),
                  "b1qk": ("b", 1, "sq", "skv"), "full": ("b", Hq, "sq", "skv")}[kind]
    gshape = None
    if gate is not None:
        gshape = ("b", Hq, "sq", Dv if gate == "elem" else 1)
    define(lib, fn, ku.sdpa_func(fn, qs, ks, vs, dtype,
                                 mask=(typed(mshape), mask[1]) if mask else None,
                                 gate=typed(gshape) if gshape else None, causal=causal,
                                 scale=scale, softcap=softcap, gate_act=gate_act,
                                 window=window, bottom_right=bottom_right, sink=sink))

    def concrete(shape):
        return tuple(size[d] if isinstance(d, str) else d for d in shape)

    cid = ("isa:" if lib == "isa" else "") + f"{fn}-B{B}-Sq{Sq}-Skv{Skv}{id_extra}"

    def make(rng):
        q = rng.standard_normal((B, Hq, Sq, D)) * qmul
        k = rng.standard_normal((B, Hkv, Skv, D)) * kmul
        v = rng.standard_normal((B, Hkv, Skv, Dv))
        ins = [cast(q, dtype), cast(k, dtype), cast(v, dtype)]
        if mask is not None:
            ms = concrete(mshape)
            keep = rng.random(ms) < 0.75
            if masked_rows:
                if ms[2] > 1:
                    keep[..., ::7, :] = False  # every 7th query row sees nothing
                if ms[0] > 1:
                    keep[-1] = False  # and the last batch entry nothing at all
            if mask_blocks and ms[2] > 1:
                # whole leading key tiles masked (the first tile(s) an online
                # softmax sees are all -inf), and rows that see only the last key
                keep[..., 1::3, : min(128, ms[3] - 1)] = False
                keep[..., 2::5, :-1] = False
                keep[..., 2::5, -1] = True
                keep[..., 3::4, 1:] = False  # only key 0: every later tile masked
                keep[..., 3::4, 0] = True
            if mask[1] == "i1":
                m = keep
            else:
                m = rng.standard_normal(ms) * 2.0
                # "finfo": masked as exporters often do, with the lowest finite
                # value: such rows are not "fully masked", softmax is uniform
                m[~keep] = np.finfo(np.float32).min if mask_fill == "finfo" else -np.inf
            ins.append(cast(m, mask[1]))
        if gate is not None:
            ins.append(cast(rng.standard_normal(concrete(gshape)) * 2.0, dtype))
        if sink:  # around the scores' size; one head's sink -inf (no sink)
            s = rng.standard_normal(Hq).astype(np.float32) * 2.0
            s[-1] = -np.inf
            ins.append(s)
        return ins

    def ref(ins):
        q, k, v = ins[:3]
        i = 3
        m = g = None
        if mask is not None:
            m = ins[i] if mask[1] == "i1" else ins[i].astype(np.float64)
            i += 1
        if gate is not None:
            g = ins[i]
            i += 1
        return [R.sdpa(q, k, v, mask=m, gate=g, scale=scale, softcap=softcap or 0.0,
                       causal=causal, gate_act=gate_act, window=window,
                       bottom_right=bottom_right, sink=ins[i] if sink else None)]

    check = None
    if masked_rows and mask_fill == "-inf":
        def check(outs, ins):
            # rows the reference zeroes (every key masked) must be exactly 0
            r = ref(ins)[0]
            zero = np.all(r == 0.0, axis=-1)
            assert zero.any() and not zero.all()
            got = np.asarray(outs[0], dtype=np.float64)
            assert np.all(got[zero] == 0.0), "fully masked rows are not 0"

    cases.append(Case(cid, lib, fn, make, ref, TOL[dtype], check, list(marks)))


def _build_sdpa_cases():
    C = SDPA_CASES
    Ts = (1, 2, 63, 64, 65, 257)
    # head dims, MHA, non-causal, Sq != Skv
    for D in (16, 24, 40, 64, 72, 80, 128, 256):
        sdpa_case(C, "sdpa", f"mha_d{D}", B=2, Hq=2, Hkv=2, Sq=65, Skv=63, D=D)
    for T in Ts:
        sdpa_case(C, "sdpa", "mha_d64", B=1, Hq=2, Hkv=2, Sq=T, Skv=T, D=64)
    for sq, skv in ((1, 257), (257, 1), (63, 65), (64, 2), (2, 64)):
        sdpa_case(C, "sdpa", "mha_d64", B=1, Hq=2, Hkv=2, Sq=sq, Skv=skv, D=64)
    # causal
    for D in (16, 40, 128, 256):
        sdpa_case(C, "sdpa", f"causal_d{D}", B=2, Hq=2, Hkv=2, Sq=65, Skv=65, D=D, causal=True)
    for T in Ts:
        sdpa_case(C, "sdpa", "causal_d40", B=1, Hq=2, Hkv=2, Sq=T, Skv=T, D=40, causal=True)
    for sq, skv in ((63, 65), (65, 63), (1, 257), (257, 1), (2, 130)):  # upper-left alignment
        sdpa_case(C, "sdpa", "causal_d40", B=1, Hq=2, Hkv=2, Sq=sq, Skv=skv, D=40, causal=True)
    # GQA 8:1 (16 query heads over 2 kv heads), causal, D = 80
    for T in Ts:
        sdpa_case(C, "sdpa", "gqa8_causal_d80", B=1, Hq=16, Hkv=2, Sq=T, Skv=T, D=80,
                  causal=True)
    # MQA, non-causal, Sq != Skv
    for sq, skv in ((65, 257), (2, 63), (64, 64)):
        sdpa_case(C, "sdpa", "mqa_d72", B=2, Hq=4, Hkv=1, Sq=sq, Skv=skv, D=72)
    # Dv != D
    for T in (1, 65):
        sdpa_case(C, "sdpa", "gqa_causal_d64_dv40", B=2, Hq=4, Hkv=2, Sq=T, Skv=T, D=64,
                  Dv=40, causal=True)
    sdpa_case(C, "sdpa", "mha_d24_dv128", B=1, Hq=2, Hkv=2, Sq=63, Skv=65, D=24, Dv=128)
    # odd and large head sizes
    for T in (1, 65):
        sdpa_case(C, "sdpa", "gqa_causal_d3_dv5", B=2, Hq=6, Hkv=3, Sq=T, Skv=T, D=3, Dv=5,
                  causal=True)
    sdpa_case(C, "sdpa", "mha_d512", B=1, Hq=2, Hkv=2, Sq=33, Skv=70, D=512)
    # masks: bool and additive, broadcast [1,1,Sq,Skv], [B,1,1,Skv], [B,1,Sq,Skv] and full
    for mdt, tag in (("i1", "bool"), ("f32", "f32")):
        for kind in ("11qk", "b11k", "full"):
            fn = f"mask_{tag}_{kind}"
            for sq, skv in ((65, 63), (1, 257), (64, 64)):
                sdpa_case(C, "sdpa", fn, B=3, Hq=4, Hkv=2, Sq=sq, Skv=skv, D=40,
                          mask=(kind, mdt))
            sdpa_case(C, "sdpa", fn, B=3, Hq=4, Hkv=2, Sq=65, Skv=63, D=40,
                      mask=(kind, mdt), masked_rows=True, id_extra="-masked_rows")
        # mask + causal: rows can be fully masked by the two together
        fn = f"mask_{tag}_b1qk_causal"
        for T in (2, 65):
            sdpa_case(C, "sdpa", fn, B=2, Hq=2, Hkv=2, Sq=T, Skv=T, D=64,
                      mask=("b1qk", mdt), causal=True)
        sdpa_case(C, "sdpa", fn, B=2, Hq=2, Hkv=2, Sq=65, Skv=65, D=64,
                  mask=("b1qk", mdt), causal=True, masked_rows=True, id_extra="-masked_rows")
    # whole key tiles masked; rows that see one key
    for mdt, tag in (("i1", "bool"), ("f32", "f32")):
        for sq, skv in ((65, 257), (64, 64), (65, 65)):
            sdpa_case(C, "sdpa", f"mask_{tag}_full", B=3, Hq=4, Hkv=2, Sq=sq, Skv=skv, D=40,
                      mask=("full", mdt), mask_blocks=True, id_extra="-blocks")
        sdpa_case(C, "sdpa", f"mask_{tag}_b1qk_causal", B=2, Hq=2, Hkv=2, Sq=257, Skv=257,
                  D=64, mask=("b1qk", mdt), causal=True, mask_blocks=True, id_extra="-blocks")
    for sq, skv in ((65, 257), (64, 64)):
        sdpa_case(C, "sdpa", "mask_f32_full", B=3, Hq=4, Hkv=2, Sq=sq, Skv=skv, D=40,
                  mask=("full", "f32"), mask_blocks=True, mask_fill="finfo", masked_rows=True,
                  id_extra="-blocks-finfo")
    # static shapes (kernels specialized to the sizes), and static batch with dynamic lengths
    sdpa_case(C, "sdpa", "static_gqa_causal_d64", B=2, Hq=4, Hkv=2, Sq=65, Skv=65, D=64,
              causal=True, static=("b", "sq", "skv"))
    sdpa_case(C, "sdpa", "static_mha_d80_gate", B=1, Hq=2, Hkv=2, Sq=63, Skv=257, D=80,
              gate="elem", static=("b", "sq", "skv"))
    sdpa_case(C, "sdpa", "static_decode_d128_mask", B=2, Hq=8, Hkv=2, Sq=1, Skv=1000, D=128,
              mask=("b11k", "i1"), masked_rows=True, static=("b", "sq", "skv"))
    sdpa_case(C, "sdpa", "static_mqa_d40_tiny", B=1, Hq=3, Hkv=1, Sq=1, Skv=1, D=40,
              static=("b", "sq", "skv"))
    for T in (1, 65):
        sdpa_case(C, "sdpa", "staticb_causal_d40", B=2, Hq=2, Hkv=2, Sq=T, Skv=T, D=40,
                  causal=True, static=("b",))
    # large scores: the softmax must subtract the running max
    for T in (65, 257):
        sdpa_case(C, "sdpa", "mha_d64", B=1, Hq=2, Hkv=2, Sq=T, Skv=T, D=64, qmul=30.0,
                  id_extra="-big")
        sdpa_case(C, "sdpa", "causal_d40", B=1, Hq=2, Hkv=2, Sq=T, Skv=T, D=40, causal=True,
                  qmul=30.0, id_extra="-big")
    # softcap (scores large enough for tanh to bite), explicit scale
    for T in (1, 65):
        sdpa_case(C, "sdpa", "softcap_causal_d64", B=1, Hq=2, Hkv=2, Sq=T, Skv=T, D=64,
                  causal=True, softcap=5.0, qmul=4.0)
        sdpa_case(C, "sdpa", "softcap_scale_mask_d40", B=2, Hq=2, Hkv=1, Sq=T, Skv=63, D=40,
                  scale=0.5, softcap=3.0, mask=("11qk", "f32"))
        sdpa_case(C, "sdpa", "scale_d128", B=1, Hq=2, Hkv=2, Sq=T, Skv=65, D=128, scale=0.0371)
    # fused output gates: elementwise / headwise, sigmoid / silu
    for gate in ("elem", "head"):
        for act in ("sigmoid", "silu"):
            fn = f"gate_{gate}_{act}_gqa_causal_d40"
            for T in (1, 2, 65):
                sdpa_case(C, "sdpa", fn, B=2, Hq=4, Hkv=2, Sq=T, Skv=T, D=40, causal=True,
                          gate=gate, gate_act=act)
    sdpa_case(C, "sdpa", "gate_elem_silu_mask_d80", B=2, Hq=4, Hkv=4, Sq=65, Skv=257, D=80,
              gate="elem", gate_act="silu", mask=("b11k", "i1"), masked_rows=True)
    # decode: one query against a long cache
    for skv in (1, 1000):
        sdpa_case(C, "sdpa", "decode_gqa_d128_headgate", B=2, Hq=8, Hkv=2, Sq=1, Skv=skv,
                  D=128, gate="head")
        sdpa_case(C, "sdpa", "decode_mqa_d64_padmask", B=2, Hq=8, Hkv=1, Sq=1, Skv=skv,
                  D=64, mask=("b11k", "i1"))
    # split-KV decode (long caches: the keys are split across tasks and merged)
    sdpa_case(C, "sdpa", "decode_gqa_d128_headgate", B=2, Hq=8, Hkv=2, Sq=1, Skv=4100,
              D=128, gate="head")
    sdpa_case(C, "sdpa", "decode_gqa_d128_headgate", B=1, Hq=8, Hkv=2, Sq=2, Skv=1024,
              D=128, gate="head")
    sdpa_case(C, "sdpa", "decode_mqa_d64_padmask", B=3, Hq=8, Hkv=1, Sq=1, Skv=3000, D=64,
              mask=("b11k", "i1"), masked_rows=True, id_extra="-masked_rows")
    sdpa_case(C, "sdpa", "softcap_scale_mask_d40", B=2, Hq=2, Hkv=1, Sq=1, Skv=1500, D=40,
              scale=0.5, softcap=3.0, mask=("11qk", "f32"))
    sdpa_case(C, "sdpa", "causal_d40", B=1, Hq=2, Hkv=2, Sq=1, Skv=2000, D=40, causal=True)
    for mdt, tag in (("i1", "bool"), ("f32", "f32")):
        sdpa_case(C, "sdpa", f"mask_{tag}_full", B=3, Hq=4, Hkv=2, Sq=2, Skv=1100, D=40,
                  mask=("full", mdt), mask_blocks=True, masked_rows=True,
                  id_extra="-blocks-masked_rows")
    sdpa_case(C, "sdpa", "static_decode_d64_split_gate", B=1, Hq=4, Hkv=1, Sq=1, Skv=2048,
              D=64, Dv=40, gate="elem", gate_act="silu", static=("b", "sq", "skv"))
    sdpa_case(C, "sdpa", "mha_d64", B=1, Hq=2, Hkv=2, Sq=1, Skv=1500, D=64, qmul=30.0,
              id_extra="-big")
    # f16 (f32 accumulation)
    for T in (1, 65, 257):
        sdpa_case(C, "sdpa", "f16_gqa_causal_d64_gate", B=1, Hq=4, Hkv=2, Sq=T, Skv=T, D=64,
                  dtype="f16", causal=True, gate="elem")
    sdpa_case(C, "sdpa", "f16_mask_d128", B=2, Hq=2, Hkv=2, Sq=65, Skv=63, D=128,
              dtype="f16", mask=("b11k", "f16"))
    for skv in (1000, 5000):
        sdpa_case(C, "sdpa", "f16_decode_d80", B=1, Hq=8, Hkv=1, Sq=1, Skv=skv, D=80,
                  dtype="f16")
    # f16 inputs whose Q K^T overflows f16 (|s| ~ 1e4..6e4 before scaling): f32 accumulation
    sdpa_case(C, "sdpa", "f16_mask_d128", B=2, Hq=2, Hkv=2, Sq=65, Skv=63, D=128,
              dtype="f16", mask=("b11k", "f16"), qmul=40.0, kmul=40.0, id_extra="-big")
    if BF16 is not None:
        sdpa_case(C, "sdpa", "bf16_gqa_causal_d64", B=1, Hq=4, Hkv=2, Sq=65, Skv=65, D=64,
                  dtype="bf16", causal=True)
    # windows: sliding (causal, left only) and local (both sides), narrower and
    # wider than the key blocks and the sequence, with Sq != Skv
    for w in (0, 1, 7, 64, 300):
        fn = f"swa{w}_gqa_d40"
        for sq, skv in ((1, 1), (65, 65), (257, 257), (65, 63), (2, 130)):
            sdpa_case(C, "sdpa", fn, B=1, Hq=4, Hkv=2, Sq=sq, Skv=skv, D=40, causal=True,
                      window=(w, 0))
    for left, right in ((0, 0), (3, 5), (64, 1), (1, 70)):
        fn = f"local{left}_{right}_d64"
        for sq, skv in ((1, 3), (65, 65), (257, 257), (70, 65)):
            sdpa_case(C, "sdpa", fn, B=2, Hq=2, Hkv=2, Sq=sq, Skv=skv, D=64,
                      window=(left, right))
    sdpa_case(C, "sdpa", "swa16_mask_gate_d64", B=2, Hq=4, Hkv=2, Sq=130, Skv=130, D=64,
              causal=True, window=(16, 0), mask=("b1qk", "i1"), gate="elem",
              masked_rows=True)
    sdpa_case(C, "sdpa", "swa100_decode_d64", B=1, Hq=8, Hkv=1, Sq=1, Skv=3000, D=64,
              causal=True, window=(100, 0))
    sdpa_case(C, "sdpa", "local5_7_decode_d64", B=1, Hq=8, Hkv=1, Sq=2, Skv=3000, D=64,
              window=(5, 7))
    sdpa_case(C, "sdpa", "static_swa9_d40", B=1, Hq=2, Hkv=2, Sq=130, Skv=130, D=40,
              causal=True, window=(9, 0), static=("b", "sq", "skv"))
    # bottom-right bands (query i at key i + Skv - Sq): a chunked prefill or a
    # decode step over a cache, a cache shorter than the queries (the first
    # rows see nothing), windows on both sides, the split-KV decode
    for sq, skv in ((1, 1), (1, 77), (5, 77), (65, 200), (64, 64), (70, 65), (257, 3)):
        sdpa_case(C, "sdpa", "br_causal_gqa_d40", B=2, Hq=4, Hkv=2, Sq=sq, Skv=skv, D=40,
                  causal=True, bottom_right=True)
    for w in (0, 7, 100):
        for sq, skv in ((1, 300), (3, 300), (65, 130), (70, 65)):
            sdpa_case(C, "sdpa", f"br_swa{w}_gqa_d64", B=1, Hq=8, Hkv=2, Sq=sq, Skv=skv, D=64,
                      causal=True, window=(w, 0), bottom_right=True)
    for sq, skv in ((2, 40), (65, 200), (70, 65)):
        sdpa_case(C, "sdpa", "br_local3_5_d64", B=2, Hq=2, Hkv=2, Sq=sq, Skv=skv, D=64,
                  window=(3, 5), bottom_right=True)
    sdpa_case(C, "sdpa", "br_causal_mask_gate_d64", B=2, Hq=4, Hkv=2, Sq=33, Skv=160, D=64,
              causal=True, bottom_right=True, mask=("b1qk", "i1"), gate="elem", masked_rows=True)
    for skv in (1500, 5000):  # split-KV over the band only
        sdpa_case(C, "sdpa", "br_causal_decode_d64", B=1, Hq=8, Hkv=1, Sq=2, Skv=skv, D=64,
                  causal=True, bottom_right=True)
        sdpa_case(C, "sdpa", "br_swa1100_decode_d64", B=1, Hq=8, Hkv=1, Sq=1, Skv=skv, D=64,
                  causal=True, window=(1100, 0), bottom_right=True)
    sdpa_case(C, "sdpa", "f16_br_swa31_d64", B=1, Hq=4, Hkv=2, Sq=9, Skv=300, D=64,
              dtype="f16", causal=True, window=(31, 0), bottom_right=True)
    sdpa_case(C, "sdpa", "static_br_causal_d40", B=1, Hq=2, Hkv=2, Sq=20, Skv=90, D=40,
              causal=True, bottom_right=True, static=("b", "sq", "skv"))
    # attention sinks (one more logit per head, a zero value): prompts, GQA
    # groups over lanes, fully masked rows (output 0), the split-KV decode
    # (the sink counted once, in the merge), a window over a cache, f16
    for sq, skv in ((1, 1), (65, 65), (70, 65)):
        sdpa_case(C, "sdpa", "sink_causal_gqa_d40", B=2, Hq=8, Hkv=2, Sq=sq, Skv=skv, D=40,
                  causal=True, sink=True)
    sdpa_case(C, "sdpa", "sink_mask_gate_d64", B=2, Hq=4, Hkv=2, Sq=33, Skv=70, D=64,
              mask=("b1qk", "i1"), gate="elem", masked_rows=True, sink=True)
    for skv in (300, 3000):
        sdpa_case(C, "sdpa", "sink_decode_d64", B=1, Hq=8, Hkv=1, Sq=1, Skv=skv, D=64,
                  sink=True)
    sdpa_case(C, "sdpa", "sink_br_swa7_d64", B=1, Hq=4, Hkv=2, Sq=5, Skv=90, D=64,
              causal=True, window=(7, 0), bottom_right=True, sink=True)
    sdpa_case(C, "sdpa", "f16_sink_causal_d64", B=1, Hq=4, Hkv=2, Sq=65, Skv=65, D=64,
              dtype="f16", causal=True, sink=True)


# --------------------------------------------------------------------------- #
# gate.linear_attention
# --------------------------------------------------------------------------- #
LA_RULES = ku.LA_VARIANTS


def la_case(cases, lib, variant, *, B, T, Hq, Hk, Hv, K, V, state=False, chunk=None,
            dtype="f32", scale=None, decay_mode="normal", static=False, id_extra="",
            marks=(), reverse=False):
    """Registers a gate.linear_attention function (b and t dynamic, or static
    at these sizes) and one case calling it."""
    rule, dkind, has_beta = LA_RULES[variant]
    fn = (f"la_{variant}_q{Hq}k{Hk}v{Hv}_{K}x{V}" + ("_st" if state else "") +
          (f"_c{chunk}" if chunk else "") + ("" if dtype == "f32" else f"_{dtype}") +
          ("" if scale is None else "_scale") + (f"_static{B}x{T}" if static else "") +
          ("_rev" if reverse else ""))
    b, t = (B, T) if static else ("b", "t")
    q, k, v = (b, Hq, t, K), (b, Hk, t, K), (b, Hv, t, V)
    dshape = None if dkind is None else ((b, Hv, t) if dkind == "scalar" else (b, Hv, t, K))
    def text(name, chunk_size):
        return ku.linear_attention_func(
            name, rule, q, k, v, dtype, decay=dshape, beta=(b, Hv, t) if has_beta else None,
            state=state, scale=scale, chunk_size=chunk_size, reverse=reverse)

    ref_fn = fn
    if chunk is not None:
        # chunk_size only steers the fast kernels: the reference-kernel library
        # runs the same function without it
        ref_fn = fn.replace(f"_c{chunk}", "")
        define(lib, ref_fn, text(ref_fn, None))
        FAST_ONLY.add(fn)
    define(lib, fn, text(fn, chunk))
    cid = ("isa:" if lib == "isa" else "") + f"{fn}-B{B}-T{T}" + ("" if decay_mode == "normal" else f"-{decay_mode}") + id_extra

    def make(rng):
        qa = rng.standard_normal((B, Hq, T, K))
        ka = rng.standard_normal((B, Hk, T, K))
        if has_beta:  # delta rules: L2-normalized keys, as real models use
            ka /= np.linalg.norm(ka, axis=-1, keepdims=True)
        else:
            ka /= np.sqrt(K)
        va = rng.standard_normal((B, Hv, T, V))
        ins = [cast(qa, dtype), cast(ka, dtype), cast(va, dtype)]
        if dkind is not None:
            ds = (B, Hv, T) if dkind == "scalar" else (B, Hv, T, K)
            if dkind == "scalar":
                g = -rng.uniform(0.0, 2.0, ds)
            else:
                g = -rng.uniform(0.0, 1.0, ds)
            if decay_mode == "extreme":
                g = np.full(ds, -1e4)
            elif decay_mode == "mixed":  # some tokens forget everything
                g = np.where(rng.random(ds) < 0.1, -1e4, g)
            elif decay_mode == "strong":  # large per-step decays (exp(-60) ~ 1e-26)
                g = -rng.uniform(0.0, 60.0, ds)
            ins.append(cast(g, dtype))
        if has_beta:
            ins.append(cast(rng.uniform(0.05, 0.95, (B, Hv, T)), dtype))
        if state:
            ins.append((rng.standard_normal((B, Hv, K, V)) * 0.5).astype(np.float32))
        return ins

    def ref(ins):
        q_, k_, v_ = ins[:3]
        i = 3
        dec = bet = st = None
        if dkind is not None:
            dec = ins[i]
            i += 1
        if has_beta:
            bet = ins[i]
            i += 1
        if state:
            st = ins[i]
        o, s = R.linear_attention(q_, k_, v_, rule, decay=dec, beta=bet, initial_state=st,
                                  scale=scale, reverse=reverse)
        return [o, s]

    for c in cases:  # the same function and sizes registered twice: one case
        if c.id == cid:
            return c
    case = Case(cid, lib, fn, make, ref, TOL[dtype], None, list(marks), ref_fn=ref_fn)
    cases.append(case)
    return case


# cases of functions that differ only in chunk_size (16, 64, 100): (id, [case...])
CHUNK_GROUPS: List[tuple] = []


def _build_la_cases():
    C = LA_CASES
    Ts = (1, 2, 63, 64, 65, 257)
    # every rule and decay kind, with and without an initial state, every T
    for variant in LA_RULES:
        for state in (False, True):
            for T in Ts:
                la_case(C, "la", variant, B=1 if T > 65 else 2, T=T, Hq=2, Hk=2, Hv=2,
                        K=24, V=40, state=state)
    # reverse time: every rule and decay kind, chunked (partial last chunk) and
    # recurrent lengths, GQA and GVA, a chunk size that splits unevenly
    for variant in LA_RULES:
        for T in (1, 2, 65, 257):
            la_case(C, "la", variant, B=2 if T < 257 else 1, T=T, Hq=2, Hk=2, Hv=2, K=24, V=40,
                    state=True, reverse=True)
    for T in (2, 130):
        la_case(C, "la", "gdelta_s", B=2, T=T, Hq=4, Hk=2, Hv=2, K=24, V=40, reverse=True)
        la_case(C, "la", "gated_c", B=2, T=T, Hq=1, Hk=1, Hv=2, K=24, V=40, state=True,
                reverse=True)
        la_case(C, "la", "gdelta_c", B=1, T=T, Hq=2, Hk=2, Hv=2, K=24, V=40, state=True,
                chunk=7, reverse=True)
    # GQA: Hq = 2 Hv = 2 Hk ; GVA: Hk = Hq = 1, Hv = 2
    for variant, state in (("gdelta_s", True), ("gated_c", False), ("linear", False),
                           ("delta", True)):
        for T in (1, 65, 257):
            la_case(C, "la", variant, B=2, T=T, Hq=4, Hk=2, Hv=2, K=24, V=40, state=state)
    for variant, state in (("gdelta_s", True), ("delta", False), ("gated_c", True),
                           ("gdelta_c", False)):
        for T in (1, 65, 257):
            la_case(C, "la", variant, B=2, T=T, Hq=1, Hk=1, Hv=2, K=24, V=40, state=state)
    # GVA with several key heads (ratio 3): value head j reads key head j / 3, not j % 2
    for variant, state in (("gdelta_s", True), ("gated_c", False)):
        for T in (2, 65):
            la_case(C, "la", variant, B=2, T=T, Hq=2, Hk=2, Hv=6, K=24, V=40, state=state)
    # head sizes
    for (K, V), variants in (((16, 16), ("gdelta_s", "gated_c")), ((40, 24), ("delta", "gdelta_c")),
                             ((128, 128), ("gdelta_s", "gated_c", "delta")),
                             ((24, 128), ("gdelta_s", "gated_c")), ((128, 16), ("delta", "gated_c")),
                             ((130, 72), ("gdelta_s", "gated_c")), ((256, 256), ("gdelta_s",))):
        for variant in variants:
            for T in (2, 65):
                la_case(C, "la", variant, B=1, T=T, Hq=2, Hk=2, Hv=2, K=K, V=V, state=True)
    # explicit scale, f16
    for T in (1, 65):
        la_case(C, "la", "gdelta_s", B=2, T=T, Hq=2, Hk=2, Hv=2, K=24, V=40, scale=0.3)
        la_case(C, "la", "gdelta_s", B=2, T=T, Hq=2, Hk=2, Hv=2, K=40, V=40, dtype="f16",
                state=True)
        la_case(C, "la", "gated_c", B=2, T=T, Hq=2, Hk=2, Hv=2, K=40, V=24, dtype="f16")
    # chunk sizes 16 / 64 (default) / 100: identical to tolerance
    for variant, state in (("gdelta_s", True), ("gated_c", False), ("gdelta_c", True),
                           ("delta", False), ("linear", True), ("gated_s", True)):
        for T in (63, 65, 257):
            group = [la_case(C, "la", variant, B=1, T=T, Hq=2, Hk=2, Hv=2, K=24, V=40,
                             state=state, chunk=chunk) for chunk in (16, None, 100, 7)]
            CHUNK_GROUPS.append((f"{variant}{'_st' if state else ''}-T{T}", group))
    # extreme decays: g = -1e4 every token / on random tokens / up to -60 per token
    for variant in ("gated_s", "gated_c", "gdelta_s", "gdelta_c"):
        for chunk in (16, None, 100):
            for mode in ("extreme", "mixed", "strong"):
                la_case(C, "la", variant, B=1, T=257, Hq=2, Hk=2, Hv=2, K=24, V=40, state=True,
                        chunk=chunk, decay_mode=mode)
    # static shapes
    for variant, T in (("gdelta_s", 65), ("gated_c", 257), ("delta", 1), ("linear", 64)):
        la_case(C, "la", variant, B=2, T=T, Hq=2, Hk=2, Hv=2, K=24, V=40, state=True, static=True)
    # a long sequence, small heads
    for variant in ("gdelta_s", "gated_c", "delta"):
        la_case(C, "la", variant, B=1, T=20000, Hq=1, Hk=1, Hv=1, K=16, V=16, state=True)


# --------------------------------------------------------------------------- #
# gate.causal_conv and gate.gate
# --------------------------------------------------------------------------- #
def conv_case(cases, ksize, bias, state, act, L, *, B=2, Cc=12, dtype="f32", static=False):
    fn = (f"conv_k{ksize}" + ("" if Cc == 12 else f"_c{Cc}") + ("_bias" if bias else "") +
          ("_st" if state else "") + f"_{act}" + ("" if dtype == "f32" else f"_{dtype}") +
          (f"_static{B}x{L}" if static else ""))
    xshape = (B, Cc, L) if static else ("b", Cc, "l")
    define("conv", fn, ku.causal_conv_func(fn, xshape, ksize, dtype, bias=bias,
                                           state=state, activation=act))

    def make(rng):
        ins = [cast(rng.standard_normal((B, Cc, L)), dtype),
               cast(rng.standard_normal((Cc, ksize)) * 0.5, dtype)]
        if bias:
            ins.append(cast(rng.standard_normal((Cc,)), dtype))
        if state:
            ins.append(cast(rng.standard_normal((B, Cc, ksize - 1)), dtype))
        return ins

    def ref(ins):
        i = 2
        b = s = None
        if bias:
            b = ins[i]
            i += 1
        if state:
            s = ins[i]
        return list(R.causal_conv(ins[0], ins[1], bias=b, initial_state=s, activation=act))

    cases.append(Case(f"{fn}-B{B}-L{L}", "conv", fn, make, ref, TOL[dtype]))


def gate_case(cases, xshape, bcast, act, sizes, dtype="f32"):
    rank = len(xshape)
    fn = (f"gate_r{rank}w{xshape[-1]}_{'row' if bcast else 'elem'}_{act}" +
          ("" if dtype == "f32" else f"_{dtype}"))
    gshape = xshape[:-1] + (1,) if bcast else xshape
    define("conv", fn, ku.gate_func(fn, xshape, gshape, dtype, act))

    def concrete(shape):
        return tuple(sizes[d] if isinstance(d, str) else d for d in shape)

    def make(rng):
        return [cast(rng.standard_normal(concrete(xshape)), dtype),
                cast(rng.standard_normal(concrete(gshape)) * 3.0, dtype)]

    def ref(ins):
        return [R.gate(ins[0], ins[1], act)]

    sid = "-".join(f"{k}{v}" for k, v in sizes.items())
    cases.append(Case(f"{fn}-{sid}", "conv", fn, make, ref, TOL[dtype]))


def _build_conv_cases():
    C = CONV_CASES
    for ksize in (1, 2, 4):
        for bias in (False, True):
            for state in (False, True):
                for act in ("none", "silu"):
                    for L in (1, 3, 65):
                        conv_case(C, ksize, bias, state, act, L)
    for L in (1, 65):
        conv_case(C, 4, True, True, "silu", L, dtype="f16")
        conv_case(C, 4, True, True, "silu", L, Cc=1027, B=1)  # many channels, odd count
        conv_case(C, 4, True, True, "silu", L, static=True)
    shapes = [(("t", 7), {"t": 65}), (("b", "t", 33), {"b": 2, "t": 65}),
              (("b", 3, "t", 40), {"b": 2, "t": 65})]
    for xshape, sizes in shapes:
        for bcast in (False, True):
            for act in ("sigmoid", "silu"):
                gate_case(C, xshape, bcast, act, sizes)
                one = {k: 1 for k in sizes}
                gate_case(C, xshape, bcast, act, one)
    for bcast in (False, True):
        gate_case(C, ("b", 3, "t", 40), bcast, "silu", {"b": 2, "t": 65}, dtype="f16")
        gate_case(C, ("t", 1027), bcast, "sigmoid", {"t": 33})


# --------------------------------------------------------------------------- #
# the ISA subset (fast kernels for x86-64 and x86-64-v3)
# --------------------------------------------------------------------------- #
def _build_isa_cases():
    for T in (1, 65, 257):
        sdpa_case(ISA_CASES, "isa", "gqa8_causal_d80", B=1, Hq=16, Hkv=2, Sq=T, Skv=T, D=80,
                  causal=True)
        la_case(ISA_CASES, "isa", "gdelta_s", B=2, T=T, Hq=2, Hk=2, Hv=2, K=24, V=40, state=True)
        la_case(ISA_CASES, "isa", "gated_c", B=2, T=T, Hq=2, Hk=2, Hv=2, K=40, V=24)
    # 16-bit kernels: every f32 <-> bf16 conversion, load, store and gather
    # expanded in IR (below x86-64-v4 LLVM would call libgcc's __truncsfbf2,
    # which the link cannot resolve)
    dts = ("f16", "bf16") if BF16 is not None else ("f16",)
    for dt in dts:
        for sq, skv in ((1, 1500), (65, 65), (9, 300)):
            sdpa_case(ISA_CASES, "isa", f"{dt}_gqa_causal_d64_gate", B=1, Hq=4, Hkv=2, Sq=sq,
                      Skv=skv, D=64, dtype=dt, causal=True, gate="elem")
        sdpa_case(ISA_CASES, "isa", f"{dt}_br_swa31_d64", B=1, Hq=4, Hkv=2, Sq=9, Skv=300, D=64,
                  dtype=dt, causal=True, window=(31, 0), bottom_right=True)
        la_case(ISA_CASES, "isa", "gdelta_s", B=1, T=65, Hq=2, Hk=2, Hv=2, K=24, V=40,
                state=True, dtype=dt)


_build_sdpa_cases()
_build_la_cases()
_build_conv_cases()
_build_isa_cases()
ALL_CASES = SDPA_CASES + LA_CASES + CONV_CASES
_ids = [c.id for c in ALL_CASES + ISA_CASES]
assert len(_ids) == len(set(_ids)), "duplicate case ids"


# --------------------------------------------------------------------------- #
# fixtures and drivers
# --------------------------------------------------------------------------- #
class Libraries:
    """Compiles each (library, kernels, mcpu) once, on a pool of two
    threads: the `libs` fixture queues every library the selected tests need,
    so later libraries compile while the tests of earlier ones run."""

    def __init__(self, factory):
        self._factory = factory
        self._futures = {}
        self._pool = ThreadPoolExecutor(max_workers=2)

    def _compile(self, lib, kernels, mcpu, d):
        name = os.path.basename(d)
        text = ku.module_text(t for fn, t in LIBS[lib].items()
                              if kernels == "fast" or fn not in FAST_ONLY)
        path = ku.compile_module(text, d, name, kernels=kernels, mcpu=mcpu, load=False)
        return path

    def _submit(self, key):
        if key not in self._futures:
            lib, kernels, mcpu = key
            d = str(self._factory.mktemp(f"{lib}_{kernels}_{mcpu}".replace("-", "_"),
                                         numbered=False))
            self._futures[key] = self._pool.submit(self._compile, lib, kernels, mcpu, d)
        return self._futures[key]

    def prefetch(self, keys):
        for key in keys:
            self._submit(key)

    def get(self, lib: str, kernels: str = "fast", mcpu: str = "native"):
        key = (lib, kernels, mcpu)
        fut = self._submit(key)
        result = fut.result()  # raises the compile error, for every case of the library
        if isinstance(result, str):  # loaded in this (the main) thread
            result = gatec.load(result)
            self._futures[key] = _Done(result)
        return result

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Done:
    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value


def _needed(item):
    """The libraries a collected test of this file uses, in the order it uses them."""
    p = getattr(item, "callspec", None)
    if p is None or item.module.__name__ != __name__:
        return []
    p = p.params
    name = item.originalname
    if name in ("test_sdpa", "test_linear_attention", "test_conv_gate"):
        return [(p["case"].lib, p["kernels"], "native")]
    if name == "test_fast_matches_reference_kernels":
        return [(p["case"].lib, "fast", "native"), (p["case"].lib, "reference", "native")]
    if name == "test_chunk_size_never_changes_results":
        return [("la", "fast", "native")]
    if name == "test_isa":
        return [("isa", "fast", p["mcpu"])]
    if name == "test_thread_count_does_not_change_results":
        case = next(c for c in ALL_CASES if c.id == p["case_id"])
        return [(case.lib, p["kernels"], "native")]
    return []


@pytest.fixture(scope="session")
def libs(tmp_path_factory, request):
    ls = Libraries(tmp_path_factory)
    # start every compile the selected tests need, in the order they need them:
    # two compile in the background while the first libraries' tests run
    keys = []
    for item in request.session.items:
        for key in _needed(item):
            if key not in keys:
                keys.append(key)
    ls.prefetch(keys)
    yield ls
    ls.close()


_DATA: Dict[str, tuple] = {}


def data(case: Case):
    """(inputs, float64 reference outputs), computed once per case."""
    if case.id not in _DATA:
        ins = case.make(rng_for(case.id))
        _DATA[case.id] = (ins, case.ref(ins))
    return _DATA[case.id]


def run(libs, case: Case, kernels="fast", mcpu="native"):
    m = libs.get(case.lib, kernels, mcpu)
    ins, _ = data(case)
    fn = case.fn if kernels == "fast" else (case.ref_fn or case.fn)
    return m.functions[fn](*ins)


def check_against_reference(libs, case: Case, kernels="fast", mcpu="native"):
    ins, refs = data(case)
    outs = run(libs, case, kernels, mcpu)
    assert len(outs) == len(refs)
    for o, (got, want) in enumerate(zip(outs, refs)):
        ku.assert_close(got, want, case.tol, what=f"{case.fn} output {o}")
    if case.check:
        case.check(outs, ins)


KERNELS = ["fast", "reference"]


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("case", [c.param() for c in SDPA_CASES])
def test_sdpa(libs, case, kernels):
    check_against_reference(libs, case, kernels)


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("case", [c.param() for c in LA_CASES])
def test_linear_attention(libs, case, kernels):
    check_against_reference(libs, case, kernels)


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("case", [c.param() for c in CONV_CASES])
def test_conv_gate(libs, case, kernels):
    check_against_reference(libs, case, kernels)


@pytest.mark.parametrize("case", [c.param() for c in ALL_CASES])
def test_fast_matches_reference_kernels(libs, case):
    fast = run(libs, case, "fast")
    slow = run(libs, case, "reference")
    _, refs = data(case)
    for o, (a, b, r) in enumerate(zip(fast, slow, refs)):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert np.all(np.isfinite(a.astype(np.float64))) and np.all(np.isfinite(b.astype(np.float64)))
        # relative to the float64 reference's magnitude, so both are measured alike
        scale = float(np.max(np.abs(r))) if r.size else 0.0
        err = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
        assert err <= case.tol * max(scale, 1e-30) or err == 0.0, \
            f"output {o}: fast and reference kernels differ by {err:.3g} (|ref| max {scale:.3g})"


@pytest.mark.parametrize("group", [pytest.param(g, id=g[0]) for g in CHUNK_GROUPS])
def test_chunk_size_never_changes_results(libs, group):
    _, cases = group
    # the same inputs through each chunk size
    ins, refs = data(cases[1])
    m = libs.get("la", "fast")
    outs = [m.functions[c.fn](*ins) for c in cases]
    for o in range(2):
        scale = float(np.max(np.abs(refs[o])))
        for c, res in zip(cases, outs):
            ku.assert_close(res[o], refs[o], ku.F32_TOL, what=f"{c.fn} output {o}")
        for c, res in zip(cases[1:], outs[1:]):
            err = float(np.max(np.abs(res[o].astype(np.float64) - outs[0][o])))
            assert err <= ku.F32_TOL * scale, \
                f"output {o}: {c.fn} and {cases[0].fn} differ by {err:.3g}"


@pytest.mark.parametrize("mcpu", ["x86-64-v3", "x86-64"])
@pytest.mark.parametrize("case", [c.param() for c in ISA_CASES])
def test_isa(libs, case, mcpu):
    check_against_reference(libs, case, "fast", mcpu)


THREAD_CASES = ["gqa8_causal_d80-B1-Sq257-Skv257", "mask_f32_full-B3-Sq65-Skv63",
                "decode_gqa_d128_headgate-B2-Sq1-Skv1000",
                "decode_gqa_d128_headgate-B2-Sq1-Skv4100",
                "la_gdelta_s_q2k2v2_24x40_st-B1-T257", "la_gated_c_q4k2v2_24x40-B2-T257",
                "la_delta_q1k1v2_24x40-B2-T65", "conv_k4_bias_st_silu-B2-L65",
                "gate_r4w40_row_silu-b2-t65"]


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("case_id", THREAD_CASES)
def test_thread_count_does_not_change_results(libs, case_id, kernels):
    case = next(c for c in ALL_CASES if c.id == case_id)
    m = libs.get(case.lib, kernels)
    ins, refs = data(case)
    try:
        m.set_num_threads(0)
        many = m.functions[case.fn](*ins)
        m.set_num_threads(1)
        one = m.functions[case.fn](*ins)
        m.set_num_threads(3)
        three = m.functions[case.fn](*ins)
        m.set_num_threads(64)
        lots = m.functions[case.fn](*ins)
    finally:
        m.set_num_threads(0)
    for o in range(len(refs)):
        ku.assert_close(one[o], refs[o], case.tol, what=f"output {o} (1 thread)")
        np.testing.assert_array_equal(one[o], many[o], err_msg=f"output {o}: 1 vs default threads")
        np.testing.assert_array_equal(one[o], three[o], err_msg=f"output {o}: 1 vs 3 threads")
        np.testing.assert_array_equal(one[o], lots[o], err_msg=f"output {o}: 1 vs 64 threads")
