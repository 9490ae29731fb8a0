"""Models exported by PyTorch's own exporter (scripts/export_torch_models.py,
committed under test/models/torch/ with PyTorch's outputs): they compile, the
attention raises to one gate.sdpa (causal where the mask is the causal
triangle, a mask operand where the mask is a graph input), and the outputs match
PyTorch's. Dynamic length: the causal exports run at other lengths too,
against float64 numpy."""
import os

import numpy as np
import pytest

import gatec
from gatec import reference as ref
from kernel_util import F32_TOL, REPO, assert_close, have_compiler, run_gatec

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

MODELS = os.path.join(REPO, "test", "models", "torch")


def gate_ir(path):
    proc = run_gatec([path, "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    return [ln for ln in proc.stdout.splitlines() if "= gate.sdpa" in ln]


@pytest.mark.parametrize("opset", [17, 18])
def test_causal_sdpa_export(tmp_path, opset):
    path = os.path.join(MODELS, f"sdpa_causal_opset{opset}.onnx")
    sdpa = gate_ir(path)
    assert len(sdpa) == 1 and "causal" in sdpa[0], sdpa
    m = gatec.load(gatec.compile(path, os.path.join(str(tmp_path), "libsdpa.so")))
    data = np.load(path.replace(".onnx", ".npz"))
    (o,) = m(data["q"], data["k"], data["v"])
    assert_close(o, data["o"], F32_TOL, "vs PyTorch")
    rng = np.random.default_rng(opset)
    for s in (1, 77, 130):
        q, k, v = (rng.standard_normal((1, 4, s, 8)).astype(np.float32) for _ in range(3))
        (o,) = m(q, k, v)
        assert_close(o, ref.sdpa(q, k, v, causal=True), F32_TOL, f"S={s}")


def test_window_mask_export_stays_a_mask(tmp_path):
    path = os.path.join(MODELS, "sdpa_window_mask_opset18.onnx")
    sdpa = gate_ir(path)
    assert len(sdpa) == 1 and "causal" not in sdpa[0], sdpa
    m = gatec.load(gatec.compile(path, os.path.join(str(tmp_path), "libwin.so")))
    data = np.load(path.replace(".onnx", ".npz"))
    (o,) = m(data["q"], data["k"], data["v"], data["mask"])
    assert_close(o, data["o"], F32_TOL, "vs PyTorch")
