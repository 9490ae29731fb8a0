"""ONNX DFT (opsets 17 and 20: forward, inverse, one-sided, irfft, dft_length
shorter and longer than the signal, any signal axis) against float64 numpy;
FFT convolutions as torch exports them (irfft(rfft(u, n) * K, n)[..., :L],
K a constant spectrum) raised to one gate.causal_conv whose kernel is irfft(K),
against float64 numpy and ONNX Runtime; the forms that must not be raised
(a circular convolution, a spectrum computed at run time) keep their DFTs and
the same numbers."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import gatec
from kernel_util import F32_TOL, assert_close, have_compiler, ort_session_or_none, run_gatec

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

NP = {TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64,
      TensorProto.FLOAT16: np.float16}


def save(path, nodes, inputs, outputs, inits, opset):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 9
    onnx.save(m, path)
    return path


def np_dft(x, n, axis, inverse, onesided):
    """What ONNX's DFT means, in float64 (numpy's FFTs)."""
    x = x.astype(np.float64)
    sig = x[..., 0] if x.shape[-1] == 1 else x[..., 0] + 1j * x[..., 1]
    if inverse and onesided:
        y = np.fft.irfft(sig, n=n, axis=axis)
        return y[..., None]
    y = (np.fft.ifft if inverse else np.fft.fft)(sig, n=n, axis=axis)
    if onesided:
        y = np.take(y, np.arange(n // 2 + 1), axis=axis)
    return np.stack([y.real, y.imag], -1)


# (id, opset, input shape, signal axis, dft_length or None, inverse, onesided, dtype)
DFT_CASES = [
    ("fwd_real", 20, (2, 9, 1), 1, None, 0, 0, TensorProto.FLOAT),
    ("fwd_complex", 20, (3, 16, 2), 1, None, 0, 0, TensorProto.FLOAT),
    ("rfft_pad", 20, (2, 5, 1), 1, 12, 0, 1, TensorProto.FLOAT),
    ("rfft_odd_trunc", 20, (1, 3, 20, 1), 2, 13, 0, 1, TensorProto.FLOAT),
    ("ifft", 20, (2, 7, 2), 1, None, 1, 0, TensorProto.FLOAT),
    ("irfft_even", 20, (2, 9, 2), 1, 16, 1, 1, TensorProto.FLOAT),
    ("irfft_odd", 20, (4, 6, 2), 1, 11, 1, 1, TensorProto.FLOAT),
    ("irfft_default_n", 20, (2, 5, 2), 1, None, 1, 1, TensorProto.FLOAT),
    ("axis0", 20, (10, 3, 1), 0, None, 0, 0, TensorProto.FLOAT),
    ("f64", 20, (2, 33, 1), 1, 64, 0, 1, TensorProto.DOUBLE),
    ("f16", 20, (2, 8, 2), 1, None, 1, 0, TensorProto.FLOAT16),
    ("opset17_axis_attr", 17, (3, 2, 12, 1), 2, None, 0, 0, TensorProto.FLOAT),
    ("opset17_default_axis", 17, (2, 10, 2), 1, 7, 1, 0, TensorProto.FLOAT),
]


@pytest.mark.parametrize("case", DFT_CASES, ids=[c[0] for c in DFT_CASES])
def test_dft(tmp_path, case):
    name, opset, shape, axis, n, inverse, onesided, dt = case
    inits, ins = [], ["x"]
    ins.append("n" if n is not None else "")
    if n is not None:
        inits.append(numpy_helper.from_array(np.array(n, np.int64), "n"))
    attrs = dict(inverse=inverse, onesided=onesided)
    if opset >= 20:
        inits.append(numpy_helper.from_array(np.array(axis, np.int64), "ax"))
        ins.append("ax")
    elif axis != 1:
        attrs["axis"] = axis
    node = helper.make_node("DFT", ins, ["y"], **attrs)
    path = save(str(tmp_path / f"{name}.onnx"), [node],
                [helper.make_tensor_value_info("x", dt, list(shape))],
                [helper.make_tensor_value_info("y", dt, None)], inits, opset)
    lib = gatec.load(gatec.compile(path, str(tmp_path / f"lib{name}.so")))
    x = np.random.default_rng(1).standard_normal(shape).astype(NP[dt])
    (got,) = lib(x)
    sig_len = shape[axis]
    nn = n if n is not None else (2 * (sig_len - 1) if inverse and onesided else sig_len)
    want = np_dft(x, nn, axis, inverse, onesided)
    assert got.shape == want.shape
    tol = {TensorProto.FLOAT: F32_TOL, TensorProto.DOUBLE: 1e-12, TensorProto.FLOAT16: 3e-3}[dt]
    assert_close(got.astype(np.float64), want, tol, name)


def test_dft_errors(tmp_path):
    def model(name, shape, **kw):
        ins = ["x"] + kw.pop("ins", [])
        node = helper.make_node("DFT", ins, ["y"], **kw)
        inits = [numpy_helper.from_array(np.array(-1, np.int64), "ax_last")]
        return save(str(tmp_path / f"{name}.onnx"), [node],
                    [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits, 20)
    for path, msg in [
            (model("three", [2, 5, 3]), "last dimension of the input must be 1 (real) or 2"),
            (model("lastaxis", [2, 5, 1], ins=["", "ax_last"]), "must not be the last dimension"),
            (model("attr", [2, 5, 1], inverse=2), "'inverse' must be 0 or 1")]:
        proc = run_gatec([path, "--compile-to=gate"])
        assert proc.returncode != 0 and msg in proc.stderr, proc.stderr
        assert "DFT" in proc.stderr


def fft_conv_model(path, C, L, n, *, lout=None, kernel=None, gate=True, shared=False,
                   spectrum_input=False, opset=20):
    """torch 2's export of irfft(rfft(u, n) * rfft(k, n), n)[..., :lout] (the
    filter's spectrum constant-folded), times sigmoid(u)."""
    rng = np.random.default_rng(C * 1000 + L)
    if kernel is None:
        kernel = rng.standard_normal((1 if shared else C, L)) / L
    kf = np.fft.rfft(kernel.astype(np.float32), n=n, axis=-1).astype(np.complex64)
    nb = n // 2 + 1
    c = lambda v, name: numpy_helper.from_array(np.array(v, np.int64), name)
    inits = [c(0, "zero1"), c(1, "one1"), c(2, "two1"), c(-1, "m1"), c(n, "n"), c(-2, "ax"),
             c([0, 0, 0, 0, 0, n - L], "pads"), c([lout or n], "lout"),
             c([0], "z"), c([1], "o"), c([2], "t"), c([-1], "neg1"), c([3], "three")]
    if not spectrum_input:
        inits += [numpy_helper.from_array(kf.real.reshape(-1, nb, 1), "kre"),
                  numpy_helper.from_array(kf.imag.reshape(-1, nb, 1), "kim")]
    nodes = [
        helper.make_node("Pad", ["u", "pads"], ["up"], mode="constant"),
        helper.make_node("Unsqueeze", ["up", "neg1"], ["u4"]),
        helper.make_node("DFT", ["u4", "n", "ax"], ["uf"], inverse=0, onesided=1),
        helper.make_node("Slice", ["uf", "z", "o", "neg1"], ["ure"]),
        helper.make_node("Slice", ["uf", "o", "t", "neg1"], ["uim"]),
        helper.make_node("Mul", ["ure", "kre"], ["p1"]),
        helper.make_node("Mul", ["uim", "kim"], ["p2"]),
        helper.make_node("Mul", ["ure", "kim"], ["p3"]),
        helper.make_node("Mul", ["uim", "kre"], ["p4"]),
        helper.make_node("Sub", ["p1", "p2"], ["re"]),
        helper.make_node("Add", ["p3", "p4"], ["im"]),
        helper.make_node("Concat", ["re", "im"], ["prod"], axis=-1),
        helper.make_node("DFT", ["prod", "n", "ax"], ["yc"], inverse=1, onesided=1),
        helper.make_node("Slice", ["yc", "z", "o", "neg1"], ["yr"]),
        helper.make_node("Squeeze", ["yr", "neg1"], ["ys"]),
        helper.make_node("Slice", ["ys", "z", "lout", "neg1", "o"], ["conv"]),
    ]
    if gate:
        nodes += [helper.make_node("Sigmoid", ["u"], ["sg"]),
                  helper.make_node("Mul", ["conv", "sg"], ["y"])]
    else:
        nodes[-1].output[0] = "y"
    ins = [helper.make_tensor_value_info("u", TensorProto.FLOAT, ["b", C, L])]
    if spectrum_input:
        ins += [helper.make_tensor_value_info("kre", TensorProto.FLOAT, [C, nb, 1]),
                helper.make_tensor_value_info("kim", TensorProto.FLOAT, [C, nb, 1])]
    save(path, nodes, ins, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
         inits, opset)
    return kernel, kf


def np_fft_conv(u, kernel, n, lout, gate):
    """The model's function in float64: circular convolution of length n."""
    y = np.fft.irfft(np.fft.rfft(u.astype(np.float64), n=n) *
                     np.fft.rfft(kernel.astype(np.float32).astype(np.float64), n=n), n=n)
    y = y[..., :lout]
    return y / (1 + np.exp(-u[..., :lout].astype(np.float64))) if gate else y


# (id, C, L, n, lout, gate, shared kernel, raised)
FFT_CASES = [
    ("hyena", 8, 64, 128, 64, True, False, True),
    ("odd_n", 5, 37, 75, 37, True, False, True),        # not a power of two
    ("short_kernel_n", 4, 50, 100, 30, False, False, True),
    ("shared_filter", 6, 33, 66, 33, True, True, True),
    ("minimal_n", 3, 16, 31, 16, False, False, True),   # n = 2L - 1: no wrap yet
    ("bluestein", 4, 500, 1000, 500, True, False, True),  # irfft(K) of a length 2^3·5^3
    ("circular", 4, 32, 32, 32, True, False, False),    # the filter wraps around
]


@pytest.mark.parametrize("case", FFT_CASES, ids=[c[0] for c in FFT_CASES])
def test_fft_conv(tmp_path, case):
    name, C, L, n, lout, gate, shared, raised = case
    path = str(tmp_path / f"{name}.onnx")
    kernel, _ = fft_conv_model(path, C, L, n, lout=lout, gate=gate, shared=shared)
    ir = run_gatec([path, "--compile-to=gate"])
    assert ir.returncode == 0, ir.stderr
    assert ("gate.causal_conv" in ir.stdout) == raised, ir.stdout
    if raised:  # no DFT left: only the conv (and the gate's sigmoid, fused or not)
        assert "linalg.generic" not in ir.stdout, ir.stdout
        assert "tensor.extract " not in ir.stdout, ir.stdout
    lib = gatec.load(gatec.compile(path, str(tmp_path / f"lib{name}.so")))
    sess = ort_session_or_none(path)
    rng = np.random.default_rng(7)
    for B in (1, 3):
        u = rng.standard_normal((B, C, L)).astype(np.float32)
        (got,) = lib(u)
        want = np_fft_conv(u, np.broadcast_to(kernel, (C, L)), n, lout, gate)
        assert_close(got, want, F32_TOL, f"{name} B={B} vs float64")
        if sess is not None:
            (o,) = sess.run(None, {"u": u})
            assert_close(got, o, F32_TOL, f"{name} B={B} vs ONNX Runtime")


def test_fft_conv_spectrum_at_run_time(tmp_path):
    """A spectrum that is an input is not a constant filter: the DFTs stay."""
    C, L, n = 3, 12, 24
    path = str(tmp_path / "dyn.onnx")
    kernel, kf = fft_conv_model(path, C, L, n, lout=L, spectrum_input=True)
    ir = run_gatec([path, "--compile-to=gate"])
    assert ir.returncode == 0 and "gate.causal_conv" not in ir.stdout, ir.stdout
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libdyn.so")))
    u = np.random.default_rng(2).standard_normal((2, C, L)).astype(np.float32)
    (got,) = lib(u, np.ascontiguousarray(kf.real[..., None]), np.ascontiguousarray(kf.imag[..., None]))
    assert_close(got, np_fft_conv(u, kernel, n, L, True), F32_TOL, "run-time spectrum")


# (id, signal dims (names are dynamic), signal axis, dft_length: None, an int
#  or "shape" (from the input's shape, as torch writes it), inverse, onesided)
DYN_CASES = [
    ("fwd", ["b", "t", 1], 1, None, 0, 0),
    ("rfft_shape_len", ["b", "t", 1], 1, "shape", 0, 1),
    ("rfft_const_len", ["b", "t", 1], 1, 20, 0, 1),
    ("irfft_const", [2, "t", 2], 1, 9, 1, 1),
    ("ifft", ["t", 3, 2], 0, None, 1, 0),
]


@pytest.mark.parametrize("case", DYN_CASES, ids=[c[0] for c in DYN_CASES])
def test_dft_dynamic_length(tmp_path, case):
    """Signal lengths known only at run time: twiddles computed per term."""
    name, shape, axis, n, inverse, onesided = case
    c = lambda v, nm: numpy_helper.from_array(np.array(v, np.int64), nm)
    inits, nodes, ins = [c(axis, "ax")], [], ["x", "", "ax"]
    if n == "shape":  # n = 2 * len, from Shape / Squeeze / Mul
        inits += [c(2, "two"), c([0], "z")]
        nodes += [helper.make_node("Shape", ["x"], ["s"], start=axis, end=axis + 1),
                  helper.make_node("Squeeze", ["s", "z"], ["len"]),
                  helper.make_node("Mul", ["len", "two"], ["n"])]
        ins[1] = "n"
    elif n is not None:
        inits.append(c(n, "n"))
        ins[1] = "n"
    nodes.append(helper.make_node("DFT", ins, ["y"], inverse=inverse, onesided=onesided))
    path = save(str(tmp_path / f"{name}.onnx"), nodes,
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits, 20)
    lib = gatec.load(gatec.compile(path, str(tmp_path / f"lib{name}.so")))
    rng = np.random.default_rng(4)
    for L in (1, 2, 7, 16):
        if inverse and onesided and n is None and L < 2:
            continue
        x = rng.standard_normal([L if d == "t" else (3 if d == "b" else d)
                                 for d in shape]).astype(np.float32)
        nn = {None: (2 * (L - 1) if inverse and onesided else L), "shape": 2 * L}.get(n, n)
        (got,) = lib(x)
        assert_close(got.astype(np.float64), np_dft(x, nn, axis, inverse, onesided), F32_TOL,
                     f"{name} L={L}")


def test_dft_length_from_values_refused(tmp_path):
    node = helper.make_node("DFT", ["x", "n"], ["y"])
    path = save(str(tmp_path / "nval.onnx"), [node],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5, 1]),
                 helper.make_tensor_value_info("n", TensorProto.INT64, [])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [], 20)
    proc = run_gatec([path, "--compile-to=gate"])
    assert proc.returncode != 0 and "must be a constant or a size derived from shapes" in proc.stderr
