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
  representations (examples/gateformer.py);
- a Mistral-style sliding-window GQA layer with rotary embeddings, its
  attention written out (examples/mistral_swa.py), at windows 1, 7, 64 and
  one longer than every sequence, against a float64 numpy forward of the same
  layer at T = 1, 65 and 1000.

Every block is also checked against PyTorch run in float64 (T = 1, 65, 1000;
the examples store those outputs, computed on a deterministic input)."""
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import gatec
from kernel_util import F32_TOL, assert_close, have_compiler, run_gatec

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples"))
from example_check import F64_LENGTHS, awkward_input, f64_rows  # noqa: E402

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
    "mistral_swa": (os.path.join(MODELS, "mistral", "mistral_swa_w7"), (1, 37, 65, 130)),
}
MISTRAL_WINDOWS = (1, 7, 64, 4096)


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


def mistral_f64(path, x, window, heads=8, kv_heads=2, d=8):
    """examples/mistral_swa.py's layer in float64 numpy, with the weights of
    the exported file (the rotary angles rounded to f32 as the graph computes
    them; everything after in float64)."""
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    mats = [n.input[1] for n in m.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    wq, wk, wv, wo = (inits[w].astype(np.float64) for w in mats)
    b, t, _ = x.shape
    x = x.astype(np.float64)
    heads_of = lambda y, h: y.reshape(b, t, h, d).transpose(0, 2, 1, 3)
    q, k, v = heads_of(x @ wq, heads), heads_of(x @ wk, kv_heads), heads_of(x @ wv, kv_heads)
    ang = (np.arange(t, dtype=np.float32)[:, None] * inits["inv_freq"][None, :]).astype(np.float64)
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
    rot = lambda y: np.concatenate([-y[..., d // 2:], y[..., :d // 2]], -1)
    q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
    k, v = (np.repeat(y, heads // kv_heads, axis=1) for y in (k, v))
    i = np.arange(t)
    allowed = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < window)
    s = np.where(allowed, q @ k.transpose(0, 1, 3, 2) / np.sqrt(d), -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return ((p @ v).transpose(0, 2, 1, 3).reshape(b, t, heads * d)) @ wo


@pytest.mark.parametrize("window", MISTRAL_WINDOWS)
def test_mistral_swa(tmp_path, window):
    """One gate.sdpa with the GQA mapping and the window (no mask tensor, no
    K/V copies), and the float64 layer's numbers at awkward lengths."""
    path = os.path.join(MODELS, "mistral", f"mistral_swa_w{window}.onnx")
    ir, ops = gate_ops(path[:-5])
    assert len(ops) == 1 and ops[0].startswith("gate.sdpa"), ops
    assert f"window = array<i64: {window - 1}, 0>" in ops[0] and "causal" in ops[0], ops
    assert "mask(" not in ops[0] and "tensor<?x2x?x8xf32>" in ops[0], ops  # 2 K/V heads
    lib = gatec.load(gatec.compile(path, str(tmp_path / f"libw{window}.so")))
    rng = np.random.default_rng(window)
    for t in (1, 65, 1000):
        x = rng.standard_normal((1, t, 32)).astype(np.float32)
        (got,) = lib(x)
        assert_close(got, mistral_f64(path, x, window), F32_TOL, f"W={window} T={t} vs float64")


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_block_matches_float64(tmp_path, block):
    """PyTorch's block in double precision (stored rows of the output, the
    example's deterministic input) at T = 1, 65 and 1000."""
    base, lengths = BLOCKS[block]
    lib = gatec.load(gatec.compile(base + ".onnx", str(tmp_path / f"lib{block}.so")))
    data = np.load(base + ".npz")
    feature_dims = data[f"x_{lengths[0]}"].shape[2:]
    for t in F64_LENGTHS:
        got = lib(awkward_input((1, t) + feature_dims))
        got = got[0] if isinstance(got, tuple) else got
        assert_close(got[:, f64_rows(t)], data[f"y64_{t}"], F32_TOL,
                     f"{block} T={t} vs float64")


# transformers' Mistral with a sliding window (test_hf_exports.py checks its
# raised window and logits), for the CUDA lowering of a windowed gate.sdpa.
CUDA_ALSO = {"mistral_hf_swa": os.path.join(MODELS, "hf", "mistral_swa_opset18")}


@pytest.mark.parametrize("block", sorted(BLOCKS) + sorted(CUDA_ALSO))
def test_block_lowers_to_cuda(tmp_path, block):
    out = str(tmp_path / f"{block}.ptx")
    base = BLOCKS[block][0] if block in BLOCKS else CUDA_ALSO[block]
    gatec.compile(base + ".onnx", out, target="cuda", extra_args=["--emit=ptx"])
    with open(out) as f:
        assert ".entry" in f.read()
