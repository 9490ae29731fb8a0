"""com.microsoft MatMulNBits (onnxruntime-genai's int4 models): Y = A·Wᵀ with W
block-quantized along K. gatec dequantizes the weights at compile time and
multiplies in f32; checked against a float64 numpy dequantization and against
ONNX Runtime at accuracy_level 0 (ORT's default for these files, level 4,
rounds A to int8 first: gatec is at least that accurate), on awkward sizes: K
not a multiple of the block, N = 7 and 65, every zero-point form, 2/4/8 bits,
bias, f16, rank-3 A. The builder's int4 Qwen3 runs a prefill and decode steps
like ORT."""
import os

import numpy as np
import pytest

import gatec
from kernel_util import (REPO, assert_close, have_compiler, ort_session_or_none, run_gatec,
                         save_ms_model)

try:
    import onnxruntime as ort
except ImportError:  # pragma: no cover
    ort = None

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")


def quantize(rng, N, K, bits, block, zp_form):
    """Random quantized weights in MatMulNBits' layout and their float64 W."""
    kb = (K + block - 1) // block
    q = rng.integers(0, 2**bits, (N, kb * block))
    scales = rng.uniform(0.01, 0.1, (N, kb)).astype(np.float32)
    if zp_form == "none":
        zp = np.full((N, kb), 2 ** (bits - 1))
    elif zp_form == "float":
        zp = rng.uniform(0, 2**bits - 1, (N, kb)).astype(np.float32)
    else:
        zp = rng.integers(0, 2**bits, (N, kb))
    per = 8 // bits
    packed = np.zeros((N, kb * block // per), np.uint8)
    for j in range(per):
        packed |= (q[:, j::per] << (j * bits)).astype(np.uint8)
    zp_packed = None
    if zp_form == "packed":
        cols = (kb * bits + 7) // 8
        zp_packed = np.zeros((N, cols), np.uint8)
        for b in range(kb):
            zp_packed[:, b * bits // 8] |= (zp[:, b] << (b * bits % 8)).astype(np.uint8)
    w = (q[:, :K] - np.repeat(zp, block, axis=1)[:, :K].astype(np.float64)) * \
        np.repeat(scales.astype(np.float64), block, axis=1)[:, :K]
    return {"B": packed.reshape(N, kb, block * bits // 8), "scales": scales,
            "zp": zp_packed if zp_form == "packed" else
            (zp.astype(np.float32) if zp_form == "float" else None)}, w


def _model(tmp_path, q, K, N, bits, block, a_shape, dtype=np.float32, bias=None,
           accuracy_level=0, b_as_input=False, extra=None):
    import onnx
    from onnx import helper, numpy_helper

    et = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    inits = [numpy_helper.from_array(q["scales"].astype(dtype), "scales")]
    ins = [helper.make_tensor_value_info("A", et, a_shape)]
    if b_as_input:
        ins.append(helper.make_tensor_value_info("B", onnx.TensorProto.UINT8, list(q["B"].shape)))
    else:
        inits.append(numpy_helper.from_array(q["B"], "B"))
    names = ["A", "B", "scales"]
    if q["zp"] is not None:
        zp = q["zp"] if q["zp"].dtype == np.uint8 else q["zp"].astype(dtype)
        inits.append(numpy_helper.from_array(zp, "zp"))
        names.append("zp")
    if bias is not None:
        while len(names) < 5:
            names.append("")
        inits.append(numpy_helper.from_array(bias.astype(dtype), "bias"))
        names.append("bias")
    attrs = {"K": K, "N": N, "bits": bits, "block_size": block,
             "accuracy_level": accuracy_level, **(extra or {})}
    node = helper.make_node("MatMulNBits", names, ["Y"], domain="com.microsoft", **attrs)
    return save_ms_model(tmp_path / "mmnb.onnx", [node], ins,
                         [helper.make_tensor_value_info("Y", et, None)], inits)


@pytest.mark.parametrize("bits,block,K,N,zp_form,with_bias", [
    (4, 32, 64, 7, "none", False),
    (4, 16, 40, 65, "packed", True),
    (4, 128, 200, 33, "float", False),
    (8, 32, 96, 7, "packed", True),
    (2, 16, 48, 9, "packed", False),
])
def test_matmul_nbits_matches_float64_and_onnxruntime(tmp_path, bits, block, K, N, zp_form,
                                                      with_bias):
    rng = np.random.default_rng(bits * 1000 + K)
    q, w = quantize(rng, N, K, bits, block, zp_form)
    bias = rng.standard_normal(N).astype(np.float32) if with_bias else None
    path = _model(tmp_path, q, K, N, bits, block, ["m", K], bias=bias)
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libmmnb.so")))
    sess = ort_session_or_none(path)
    assert lib(np.zeros((0, K), np.float32))[0].shape == (0, N)
    # up to 4 rows: the kernel that streams 4-bit weights (2 and 4 bits)
    for m in (1, 3, 4, 7, 130):
        a = rng.standard_normal((m, K)).astype(np.float32)
        (y,) = lib(a)
        want = a.astype(np.float64) @ w.T + (bias if bias is not None else 0)
        assert_close(y, want, 1e-5, f"bits {bits}, M={m} vs float64")
        if sess is not None:
            assert_close(y, sess.run(None, {"A": a})[0], 1e-5, f"bits {bits}, M={m} vs ORT")


def test_matmul_nbits_rank3_f16(tmp_path):
    rng = np.random.default_rng(3)
    K, N = 64, 24
    q, w = quantize(rng, N, K, 4, 32, "packed")
    path = _model(tmp_path, q, K, N, 4, 32, [2, "t", K], dtype=np.float16)
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libmmnb16.so")))
    a = rng.standard_normal((2, 5, K)).astype(np.float16)
    (y,) = lib(a)
    assert y.dtype == np.float16 and y.shape == (2, 5, N)
    want = a.astype(np.float64) @ w.astype(np.float16).astype(np.float64).T
    np.testing.assert_allclose(y.astype(np.float64), want, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("change,msg", [
    ({"bits": 3}, "bits must be 2, 4 or 8"),
    ({"block_size": 24}, "block_size must be a power of two"),
    ({"weight_prepacked": 1}, "weight_prepacked=1"),
    ({"N": 9}, "B must be uint8 [9, 2, 16]"),
    ("b_as_input", "graph input 'B' has unsupported element type UINT8"),
])
def test_matmul_nbits_errors(tmp_path, change, msg):
    rng = np.random.default_rng(4)
    q, _ = quantize(rng, 8, 64, 4, 32, "none")
    kw = {"b_as_input": True} if change == "b_as_input" else {"extra": change}
    path = _model(tmp_path, q, 64, 8, 4, 32, ["m", 64], **kw)
    proc = run_gatec([path, "--compile-to=gate"])
    assert proc.returncode != 0
    assert msg in proc.stderr, proc.stderr
    assert change == "b_as_input" or "MatMulNBits" in proc.stderr, proc.stderr


def test_uint8_initializer_read_by_another_op_is_rejected(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = helper.make_graph([helper.make_node("Cast", ["w"], ["y"], to=TensorProto.FLOAT)], "c", [],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
                          initializer=[numpy_helper.from_array(np.array([1, 200, 3], np.uint8),
                                                               "w")])
    p = str(tmp_path / "cast_u8.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)], ir_version=10), p)
    proc = run_gatec([p, "--compile-to=gate"])
    assert proc.returncode != 0
    assert "'w' holds 8-bit integers" in proc.stderr, proc.stderr


def test_builder_int4_qwen3_matches_onnxruntime(tmp_path):
    """The builder's int4 Qwen3 (every projection a MatMulNBits): prefill and
    five decode steps through the KV cache, against ORT at accuracy_level 0 on
    the same file, and within int4's error of PyTorch's unquantized logits."""
    import onnx

    path = os.path.join(REPO, "test", "models", "genai", "qwen3_int4.onnx")
    data = np.load(path.replace(".onnx", ".npz"))
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libqwen3_int4.so")))
    fn = lib._main()
    sess = None
    if ort is not None:
        m = onnx.load(path)
        for node in m.graph.node:
            for a in node.attribute:
                if a.name == "accuracy_level":
                    a.i = 0
        sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    sizes = {"batch_size": 1, "past_sequence_length": 0, "kv_cache_dim": 16}
    past = {s.name: np.zeros([sizes[d] if isinstance(d, str) else d for d in s.shape], np.float32)
            for s in fn.inputs if s.name.startswith("past")}
    total = 0
    for step in range(6):
        ids = data[f"ids_{step}"]
        total += ids.shape[1]
        feeds = {"input_ids": ids, "attention_mask": np.ones((1, total), np.int64), **past}
        got = dict(zip([o.name for o in fn.outputs], fn(*[feeds[s.name] for s in fn.inputs])))
        want = data[f"logits_{step}"]
        err = np.abs(got["logits"] - want).max() / np.abs(want).max()
        # 4-bit blocks of a tiny random model: ~0.1-0.2 of the largest logit
        assert err < 0.3, f"step {step}: int4 logits {err:.3g} from PyTorch's f32 model"
        if sess is not None:
            theirs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
            for k, v in theirs.items():
                assert_close(got[k], v, 1e-5, f"step {step} {k} vs ONNX Runtime")
        past = {k: got[k.replace("past_key_values.", "present.")] for k in past}
