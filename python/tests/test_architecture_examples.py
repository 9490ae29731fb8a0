"""Blocks of the gated architectures written in PyTorch from their papers
(examples/*.py), exported and committed under test/models/: the raised IR
holds the fused ops each block should become, the CPU library matches
PyTorch, and the CUDA target lowers each to PTX kernels.

- Liger's hybrid layer (examples/liger_hybrid.py): gated linear attention and
  sliding-window attention over the same q/k/v;
- GAM's gated convolution, Zoology's BaseConv and Hyena's FFT convolution
  (examples/gated_long_conv.py);
- ViG's bidirectional GLA (examples/vig_bidirectional_gla.py; more in
  test_reverse_linear_attention.py);
- SambaY's gated memory unit (examples/sambay_gmu.py; more in
  test_matmul_epilogue.py);
- Gateformer's gated combination of temporal and variate-wise attention
  representations (examples/gateformer.py)."""
import os
import subprocess

import numpy as np
import pytest

import gatec
from kernel_util import F32_TOL, assert_close, have_compiler, run_gatec

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))), "test", "models")
BLOCKS = {  # name -> (path without extension, lengths stored in the .npz)
    "liger": (os.path.join(MODELS, "liger", "liger"), (1, 16, 37, 130)),
    "gam": (os.path.join(MODELS, "longconv", "gam"), (1, 37, 77, 130)),
    "baseconv": (os.path.join(MODELS, "longconv", "baseconv"), (1, 37, 77, 130)),
    "hyena_fft": (os.path.join(MODELS, "longconv", "hyena_fft"), (1, 37, 77, 130)),
    "bigla": (os.path.join(MODELS, "vig", "bigla"), (1, 37, 77, 130)),
    "sambay_gmu": (os.path.join(MODELS, "sambay", "gmu"), (1, 37, 77, 130)),
    "gateformer": (os.path.join(MODELS, "gateformer", "gateformer"), (1, 7, 21, 130)),
}


def gate_ops(base):
    proc = run_gatec([base + ".onnx", "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, [ln.split("=", 1)[1].strip() for ln in proc.stdout.splitlines()
                         if "= gate." in ln]


def test_liger_raised():
    ir, ops = gate_ops(BLOCKS["liger"][0])
    assert len(ops) == 2, ops
    la = [op for op in ops if op.startswith("gate.linear_attention")]
    sdpa = [op for op in ops if op.startswith("gate.sdpa")]
    assert len(la) == 1 and la[0].split()[1] == "gated", ops
    # The band mask is the window, not a mask operand; no [T, T] tensor left.
    assert len(sdpa) == 1 and "window = array<i64: 15, 0>" in sdpa[0], sdpa
    assert "mask(" not in sdpa[0] and "causal" in sdpa[0], sdpa
    assert "scf.for" not in ir and "scf.while" not in ir


def test_gateformer_raised():
    """Non-causal attention across variates, and two sigmoid gates that each
    become the epilogue of the Linear (matmul + bias) computing them."""
    ir, ops = gate_ops(BLOCKS["gateformer"][0])
    sdpa = [op for op in ops if op.startswith("gate.sdpa")]
    assert len(sdpa) == 1 and "causal" not in sdpa[0] and "mask(" not in sdpa[0], sdpa
    assert sum(op.startswith("gate.gate") for op in ops) == 2, ops
    opt = os.path.join(os.path.dirname(gatec._gatec_binary()), "gatec-opt")
    after = subprocess.run([opt, "-gate-matmul-cpu"], input=ir, capture_output=True, text=True)
    assert after.returncode == 0, after.stderr
    assert "gate.gate" not in after.stdout


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_block_matches_pytorch(tmp_path, block):
    base, lengths = BLOCKS[block]
    lib = gatec.load(gatec.compile(base + ".onnx", str(tmp_path / f"lib{block}.so")))
    data = np.load(base + ".npz")
    for t in lengths:
        got = lib(data[f"x_{t}"])
        got = got[0] if isinstance(got, tuple) else got
        assert_close(got, data[f"y_{t}"], F32_TOL, f"{block} T={t} vs PyTorch")


# transformers' Mistral with a sliding window (test_hf_exports.py checks its
# raised window and logits), for the CUDA lowering of a windowed gate.sdpa.
CUDA_ALSO = {"mistral_swa": os.path.join(MODELS, "hf", "mistral_swa_opset18")}


@pytest.mark.parametrize("block", sorted(BLOCKS) + sorted(CUDA_ALSO))
def test_block_lowers_to_cuda(tmp_path, block):
    out = str(tmp_path / f"{block}.ptx")
    base = BLOCKS[block][0] if block in BLOCKS else CUDA_ALSO[block]
    gatec.compile(base + ".onnx", out, target="cuda", extra_args=["--emit=ptx"])
    with open(out) as f:
        assert ".entry" in f.read()
