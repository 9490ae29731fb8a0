"""The example models of examples/make_models.py through gatec: the gate-level IR holds the fused
gate ops (the decomposed twins are raised into them), one library per model (dynamic seq) matches
the float64 references of examples/models_reference.py, and each fused model and its decomposed
twin compute the same outputs."""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest

import gatec
import kernel_util as ku

_EXAMPLES = os.path.join(ku.REPO, "examples")
if _EXAMPLES not in sys.path:
    sys.path.insert(0, _EXAMPLES)

import make_models as mm  # noqa: E402
import models_reference as mref  # noqa: E402

pytestmark = pytest.mark.skipif(not ku.have_compiler(),
                                reason=f"gatec compiler not found at {ku.gatec_binary()}")

MODELS = (
    "qwen3_next_attention",
    "qwen3_next_attention_decomposed",
    "qwen3_next_gated_deltanet",
    "qwen3_next_gated_deltanet_decomposed",
)
ATTENTION = [m for m in MODELS if m.startswith("qwen3_next_attention")]
DELTANET = [m for m in MODELS if m.startswith("qwen3_next_gated_deltanet")]
PAIRS = [("qwen3_next_attention", "qwen3_next_attention_decomposed"),
         ("qwen3_next_gated_deltanet", "qwen3_next_gated_deltanet_decomposed")]
SHAPES = [(1, 1), (2, 300), (1, 65)]  # (batch, seq): decode, long prefill, one past 64
TOL = 1e-4


def test_model_list_is_current():
    assert set(MODELS) == set(mm.MODEL_NAMES)


class _Examples:
    """The example models, written once; their gate IR and libraries, made once each."""

    def __init__(self, directory):
        self.dir = directory
        self.paths = mm.write_models(str(directory), names=MODELS)
        self._ir = {}
        self._lib = {}
        self.compiles = {}

    def gate_ir(self, name):
        if name not in self._ir:
            proc = ku.run_gatec([self.paths[name], "--compile-to=gate"])
            assert proc.returncode == 0, f"{name}: gatec --compile-to=gate failed: {proc.stderr}"
            self._ir[name] = proc.stdout
        return self._ir[name]

    def library(self, name):
        if name not in self._lib:
            out = os.path.join(str(self.dir), f"lib{name}.so")
            gatec.compile(self.paths[name], out)
            self.compiles[name] = self.compiles.get(name, 0) + 1
            self._lib[name] = gatec.load(out)
        return self._lib[name]


@pytest.fixture(scope="session")
def examples(tmp_path_factory):
    return _Examples(tmp_path_factory.mktemp("gatec_examples"))


def _inputs(model_name, batch, seq, seed=0):
    r = np.random.default_rng(seed + 1000 * batch + seq)
    feeds = {"hidden_states": r.standard_normal((batch, seq, mm.HIDDEN)).astype(np.float32)}
    if model_name.startswith("qwen3_next_attention"):
        # batch b continues a sequence that started 3*b tokens earlier
        feeds["position_ids"] = (np.arange(seq)[None, :] + 3 * np.arange(batch)[:, None]).astype(np.int64)
    return feeds


def _run(module, feeds):
    args = [feeds[spec.name] for spec in module.inputs]
    outs = module(*args)
    return dict(zip([s.name for s in module.outputs], outs))


def _ops(ir, op):
    """Lines of `ir` that apply `op` (e.g. gate.sdpa)."""
    return [ln for ln in ir.splitlines() if re.search(rf"=\s*{re.escape(op)}\b", ln)]


# --------------------------------------------------------------------------- #
# (a) gate-level IR
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", ATTENTION)
def test_attention_gate_ir(examples, name):
    ir = examples.gate_ir(name)
    sdpa = _ops(ir, "gate.sdpa")
    assert len(sdpa) == 1, f"{name}: expected exactly one gate.sdpa, got {len(sdpa)}:\n{ir}"
    assert re.search(r"\{[^}]*\bcausal\b[^}]*\}", sdpa[0]), f"gate.sdpa is not causal: {sdpa[0]}"
    # The sigmoid output gate, applied after the output is laid back out as
    # [B, S, H, D], is fused into the op's epilogue.
    assert "gate(" in sdpa[0] and "silu" not in sdpa[0], \
        f"{name}: the output gate is not fused into gate.sdpa: {sdpa[0]}"
    assert not _ops(ir, "gate.gate"), f"{name}: a gate.gate is left outside gate.sdpa"
    # Nothing of a softmax attention is left outside gate.sdpa.
    for leftover in ("linalg.batch_matmul", "linalg.softmax", "math.exp", "scf.for"):
        assert leftover not in ir, f"{name}: {leftover} left in the gate IR"
    # GQA 4:2 stays in the op (no K/V expansion to 4 heads before it).
    assert "tensor<?x2x?x16xf32>" in sdpa[0], sdpa[0]


@pytest.mark.parametrize("name", DELTANET)
def test_deltanet_gate_ir(examples, name):
    ir = examples.gate_ir(name)
    la = [ln for ln in ir.splitlines() if re.search(r"=\s*gate\.linear_attention\s+gated_delta\b", ln)]
    assert len(la) == 1, f"{name}: expected one gate.linear_attention gated_delta:\n{ir}"
    assert len(_ops(ir, "gate.linear_attention")) == 1
    assert len(_ops(ir, "gate.causal_conv")) == 1, f"{name}: no gate.causal_conv"
    gates = _ops(ir, "gate.gate")
    assert gates, f"{name}: no gate.gate"
    assert any("silu" in g for g in gates), f"{name}: the z gate is not a SiLU gate: {gates}"
    if name.endswith("_decomposed"):
        # the Scan over tokens was raised; no token loop is left
        for leftover in ("scf.for", "scf.while"):
            assert leftover not in ir, f"{name}: {leftover} left in the gate IR"


# --------------------------------------------------------------------------- #
# (b) libraries against the float64 references
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", MODELS)
def test_library_has_dynamic_seq(examples, name):
    m = examples.library(name)
    hs = {s.name: s for s in m.inputs}["hidden_states"]
    assert hs.shape == ("batch", "seq", mm.HIDDEN)
    assert [s.name for s in m.outputs] == ["output"]
    assert m.outputs[0].shape == ("batch", "seq", mm.HIDDEN)


@pytest.mark.parametrize("batch,seq", SHAPES, ids=[f"b{b}_s{s}" for b, s in SHAPES])
@pytest.mark.parametrize("name", MODELS)
def test_library_matches_reference(examples, name, batch, seq):
    m = examples.library(name)
    feeds = _inputs(name, batch, seq)
    got = _run(m, feeds)["output"]
    assert got.shape == (batch, seq, mm.HIDDEN) and got.dtype == np.float32
    ref = mref.reference_outputs(name, feeds)["output"]
    ku.assert_close(got, ref, TOL, f"{name} b={batch} s={seq}")


def test_one_library_per_model(examples):
    for name in MODELS:
        examples.library(name)
    assert examples.compiles == {name: 1 for name in MODELS}


# --------------------------------------------------------------------------- #
# (c) fused and decomposed agree
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("batch,seq", SHAPES, ids=[f"b{b}_s{s}" for b, s in SHAPES])
@pytest.mark.parametrize("fused,decomposed", PAIRS, ids=["attention", "gated_deltanet"])
def test_fused_matches_decomposed(examples, fused, decomposed, batch, seq):
    feeds = _inputs(fused, batch, seq, seed=7)
    a = _run(examples.library(fused), feeds)["output"]
    b = _run(examples.library(decomposed), feeds)["output"]
    ku.assert_close(b, a, TOL, f"{decomposed} vs {fused} b={batch} s={seq}")
