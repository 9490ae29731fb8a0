"""Token-major causal convolution: exporters feed [B, T, C] activations to the
channel-major ONNX CausalConvWithState through a Transpose on each side;
gatec folds both into gate.causal_conv {token_major} and runs a kernel
vectorized over the channels. Checked against float64 numpy and against the
reference lowering on awkward sizes (channels not a multiple of the vector
width, kernel sizes 1/3/4, sequences shorter than the state, with and without
bias and past state), plus the IR: no transpose left around the op."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import gatec
from gatec import reference as ref
from kernel_util import F16_TOL, F32_TOL, assert_close, have_compiler, run_gatec

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

CASES = [  # (channels, kernel size, bias, past state, activation, dtype)
    (37, 4, True, True, "silu", "f32"),
    (133, 3, False, False, "none", "f32"),
    (16, 1, True, False, "silu", "f32"),
    (40, 4, True, True, "silu", "f16"),
]


def build(C, k, bias, past, act, dt):
    et = TensorProto.FLOAT if dt == "f32" else TensorProto.FLOAT16
    npdt = np.float32 if dt == "f32" else np.float16
    rng = np.random.default_rng(C * 10 + k)
    w = (0.5 * rng.standard_normal((C, 1, k))).astype(npdt)
    b = rng.standard_normal(C).astype(npdt)
    inits = [numpy_helper.from_array(w, "w")]
    ins = ["xt", "w"]
    if bias:
        inits.append(numpy_helper.from_array(b, "b"))
    ins.append("b" if bias else "")
    ins.append("past" if past else "")
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
             helper.make_node("CausalConvWithState", ins, ["yt", "state"], activation=act),
             helper.make_node("Transpose", ["yt"], ["y"], perm=[0, 2, 1])]
    inputs = [helper.make_tensor_value_info("x", et, ["b", "t", C])]
    if past:
        inputs.append(helper.make_tensor_value_info("past", et, ["b", C, k - 1]))
    outputs = [helper.make_tensor_value_info("y", et, ["b", "t", C]),
               helper.make_tensor_value_info("state", et, ["b", C, k - 1])]
    g = helper.make_graph(nodes, "conv", inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 27)])
    m.ir_version = 10
    return m, w.astype(np.float64), (b.astype(np.float64) if bias else None)


@pytest.mark.parametrize("C,k,bias,past,act,dt", CASES)
def test_token_major_causal_conv(tmp_path, C, k, bias, past, act, dt):
    model, w, b = build(C, k, bias, past, act, dt)
    path = os.path.join(str(tmp_path), "conv.onnx")
    onnx.save(model, path)
    ir = run_gatec([path, "--compile-to=gate"])
    assert ir.returncode == 0, ir.stderr
    assert "token_major" in ir.stdout and "linalg.transpose" not in ir.stdout, ir.stdout
    fast = gatec.load(gatec.compile(path, os.path.join(str(tmp_path), "libconv.so")))
    slow = gatec.load(gatec.compile(path, os.path.join(str(tmp_path), "libconv_ref.so"),
                                    kernels="reference"))
    npdt = np.float32 if dt == "f32" else np.float16
    tol = F32_TOL if dt == "f32" else F16_TOL
    rng = np.random.default_rng(1)
    for B, T in [(1, 1), (2, 2), (1, 3), (2, 65), (1, 200)]:
        x = rng.standard_normal((B, T, C)).astype(npdt)
        feeds = [x]
        st0 = None
        if past:
            st0 = rng.standard_normal((B, C, k - 1)).astype(npdt)
            feeds.append(st0)
        y, st = fast(*feeds)
        ey, est = ref.onnx_causal_conv(x.astype(np.float64).transpose(0, 2, 1), w, b,
                                       None if st0 is None else st0.astype(np.float64),
                                       activation=act)
        assert_close(y.astype(np.float64), ey.transpose(0, 2, 1), tol, f"output B={B} T={T}")
        if k > 1:
            assert_close(st.astype(np.float64), est, tol, f"state B={B} T={T}")
        ry, rst = slow(*feeds)
        assert_close(y.astype(np.float64), ry.astype(np.float64), tol, f"vs reference T={T}")
