"""ONNX's parameterized activations (Gelu exact and tanh, LeakyRelu, PRelu, Elu,
Selu, Celu, HardSigmoid, HardSwish, Softsign, Mish, ThresholdedRelu): against
float64 numpy and ONNX Runtime on awkward shapes with large, tiny, ±Inf and NaN
inputs, default and explicit attributes, f16; bad attributes are errors."""
import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import gatec
from kernel_util import F16_TOL, F32_TOL, assert_close, have_compiler, ort_session_or_none

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")


def erf(x):
    return np.vectorize(math.erf)(x)


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# name -> (op, attributes, float64 reference, opset)
CASES = {
    "gelu": ("Gelu", {}, lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2))), 20),
    "gelu_tanh": ("Gelu", {"approximate": "tanh"},
                  lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
                  20),
    "leaky_relu": ("LeakyRelu", {}, lambda x: np.where(x < 0, 0.01 * x, x), 18),
    "leaky_relu_alpha": ("LeakyRelu", {"alpha": 0.3}, lambda x: np.where(x < 0, 0.3 * x, x), 18),
    "elu": ("Elu", {"alpha": 0.7}, lambda x: np.where(x < 0, 0.7 * np.expm1(x), x), 18),
    "selu": ("Selu", {}, lambda x: 1.0507009873554805 * np.where(
        x <= 0, 1.6732632423543772 * np.expm1(x), x), 18),
    "celu": ("Celu", {"alpha": 2.0}, lambda x: np.maximum(x, 0) + np.minimum(
        0, 2.0 * np.expm1(x / 2.0)), 18),
    "hard_sigmoid": ("HardSigmoid", {"alpha": 0.25, "beta": 0.4},
                     lambda x: np.clip(0.25 * x + 0.4, 0, 1), 18),
    "hard_swish": ("HardSwish", {}, lambda x: x * np.clip(x / 6 + 0.5, 0, 1), 18),
    "softsign": ("Softsign", {}, lambda x: x / (1 + np.abs(x)), 18),
    "mish": ("Mish", {}, lambda x: x * np.tanh(softplus(x)), 18),
    "thresholded_relu": ("ThresholdedRelu", {"alpha": 0.5}, lambda x: np.where(x > 0.5, x, 0), 18),
}


def model(path, op, attrs, opset, dtype=TensorProto.FLOAT, extra_inputs=(), inits=()):
    node = helper.make_node(op, ["x", *extra_inputs], ["y"], **attrs)
    g = helper.make_graph([node], "act",
                          [helper.make_tensor_value_info("x", dtype, ["b", 37])],
                          [helper.make_tensor_value_info("y", dtype, None)],
                          initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    onnx.save(m, path)
    return path


def inputs(rng, rows):
    x = rng.standard_normal((rows, 37)) * 3
    x.flat[:8] = [0.0, -0.0, 1e-30, -1e-30, 80.0, -80.0, np.inf, -np.inf]
    return x


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation(tmp_path, name):
    op, attrs, fn, opset = CASES[name]
    path = model(str(tmp_path / f"{name}.onnx"), op, attrs, opset)
    lib = gatec.load(gatec.compile(path, str(tmp_path / f"lib{name}.so")))
    sess = ort_session_or_none(path)
    rng = np.random.default_rng(len(name))
    for rows in (1, 3, 130):
        x = inputs(rng, rows).astype(np.float32)
        (y,) = lib(x)
        with np.errstate(all="ignore"):
            want = fn(x.astype(np.float64))
        finite, inf = np.isfinite(want), np.isinf(want)
        # where the defining formula gives NaN (e.g. Gelu(-inf) = -inf·0), so does gatec
        assert np.array_equal(np.isnan(y), np.isnan(want)), f"{name}: NaN pattern"
        assert np.array_equal(y[inf], want[inf].astype(np.float32)), f"{name}: ±Inf"
        assert_close(y[finite], want[finite], F32_TOL, f"{name} rows={rows} vs float64")
        if sess is not None:
            (theirs,) = sess.run(None, {"x": x})
            ok = np.isfinite(theirs)
            assert_close(y[ok], theirs[ok], F32_TOL, f"{name} rows={rows} vs ONNX Runtime")
    x = np.full((2, 37), np.nan, np.float32)
    assert np.isnan(lib(x)[0]).all(), f"{name}: NaN must stay NaN"


@pytest.mark.parametrize("name", ["gelu", "hard_swish", "mish"])
def test_activation_f16(tmp_path, name):
    op, attrs, fn, opset = CASES[name]
    path = model(str(tmp_path / f"{name}16.onnx"), op, attrs, opset, TensorProto.FLOAT16)
    lib = gatec.load(gatec.compile(path, str(tmp_path / f"lib{name}16.so")))
    x = (np.random.default_rng(1).standard_normal((65, 37)) * 3).astype(np.float16)
    (y,) = lib(x)
    assert y.dtype == np.float16
    assert_close(y.astype(np.float64), fn(x.astype(np.float64)), F16_TOL, f"{name} f16")


@pytest.mark.parametrize("slope_shape", [(1,), (37,), (1, 37)])
def test_prelu(tmp_path, slope_shape):
    slope = np.random.default_rng(2).uniform(-0.5, 0.5, slope_shape).astype(np.float32)
    path = model(str(tmp_path / "prelu.onnx"), "PRelu", {}, 18, extra_inputs=["s"],
                 inits=[numpy_helper.from_array(slope, "s")])
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libprelu.so")))
    x = inputs(np.random.default_rng(3), 7).astype(np.float32)
    (y,) = lib(x)
    want = np.where(x < 0, slope.astype(np.float64) * x, x)
    assert np.array_equal(np.isnan(y), np.isnan(want))
    ok = np.isfinite(want)
    assert_close(y[ok], want[ok], F32_TOL, "PRelu vs float64")
    sess = ort_session_or_none(path)
    if sess is not None:
        (theirs,) = sess.run(None, {"x": x})
        assert_close(y[ok], theirs[ok], F32_TOL, "PRelu vs ONNX Runtime")


@pytest.mark.parametrize("op,attrs,opset,msg", [
    ("Gelu", {"approximate": "fast"}, 20, "approximate must be 'none' or 'tanh'"),
    ("Gelu", {}, 18, "needs opset 20"),
    ("Celu", {"alpha": 0.0}, 18, "alpha must be nonzero"),
])
def test_activation_errors(tmp_path, op, attrs, opset, msg):
    path = model(str(tmp_path / "bad.onnx"), op, attrs, opset)
    with pytest.raises(gatec.Error, match=msg):
        gatec.compile(path, str(tmp_path / "libbad.so"))
