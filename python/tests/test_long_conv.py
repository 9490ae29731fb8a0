"""Long causal convolutions (GAM, Zoology's BaseConv, Hyena-style filters up to
the sequence length): gate.causal_conv's long-filter CPU kernel in both layouts
against float64 numpy and the reference lowering on awkward sizes; ONNX Conv
forms that import as gate.causal_conv (a depthwise 1-D Conv with left padding
k-1, with or without right padding and the Slice of the first T outputs) and
near misses that must stay a generic Conv, against ONNX Runtime; the GAM,
BaseConv and Hyena (torch.fft) blocks of examples/gated_long_conv.py against
PyTorch."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import gatec
from gatec import reference as ref
from kernel_util import (F16_TOL, F32_TOL, assert_close, compile_module, have_compiler,
                         module_text, ort_session_or_none, run_gatec, ttype)

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (channels, kernel size, bias, initial state, activation, dtype, token-major,
#  fused gate activation or None)
CASES = [
    (37, 1000, True, False, "none", "f32", False, None),
    (16, 64, False, True, "silu", "f32", False, "sigmoid"),
    (5, 17, True, True, "none", "f32", True, "silu"),
    (33, 130, True, False, "silu", "f32", True, None),
    (64, 7, False, True, "none", "f32", False, None),
    (1, 1, True, False, "none", "f32", False, "sigmoid"),
    (40, 65, True, True, "silu", "f16", True, "sigmoid"),
    (24, 33, False, False, "none", "bf16", False, "silu"),
    (19, 4, True, True, "silu", "f32", True, "sigmoid"),  # short kernel, token-major
]
# 9001 positions span several blocks of a task (4480 positions with AVX-512, 1920 with AVX2).
LENGTHS = [(1, 1), (2, 65), (1, 1000), (1, 9001)]


def conv_func(name, C, k, bias, state, act, dt, tm, gate):
    x = ("?", "?", C) if tm else ("?", C, "?")
    args = [f"%a0: {ttype(x, dt)}", f"%a1: {ttype((C, k), dt)}"]
    opt = ""
    if bias:
        args.append(f"%a{len(args)}: {ttype((C,), dt)}")
        opt += f" bias(%a{len(args) - 1} : {ttype((C,), dt)})"
    st = ttype(("?", C, k - 1), dt)
    if state:
        args.append(f"%a{len(args)}: {st}")
        opt += f" initial_state(%a{len(args) - 1} : {st})"
    if gate:
        args.append(f"%a{len(args)}: {ttype(x, dt)}")
        opt += f" gate(%a{len(args) - 1} : {ttype(x, dt)})"
    attrs = []
    if gate == "silu":
        attrs.append("gate_act = #gate<act silu>")
    if act != "none":
        attrs.append(f"activation = #gate<conv_act {act}>")
    if tm:
        attrs.append("token_major")
    attr = f" {{{', '.join(attrs)}}}" if attrs else ""
    return (f"func.func @{name}({', '.join(args)}) -> ({ttype(x, dt)}, {st}) {{\n"
            f"  %o, %s = gate.causal_conv %a0, %a1{opt}{attr} : {ttype(x, dt)}, "
            f"{ttype((C, k), dt)} -> {ttype(x, dt)}, {st}\n"
            f"  return %o, %s : {ttype(x, dt)}, {st}\n}}\n")


def host_has(flag):
    try:
        with open("/proc/cpuinfo") as f:
            return any(flag in line.split() for line in f if line.startswith("flags"))
    except OSError:
        return False


@pytest.fixture(scope="module", params=["native", "x86-64-v3"])
def libs(tmp_path_factory, request):
    """The kernels for this host, and for AVX2 (8 lanes, 16 registers: 6
    rows per tap instead of 14), which runs wherever AVX2 does."""
    if request.param != "native" and not host_has("avx2"):
        pytest.skip("this host has no AVX2")
    d = str(tmp_path_factory.mktemp("longconv"))
    text = module_text(conv_func(f"c{i}", *c) for i, c in enumerate(CASES))
    return (compile_module(text, d, "fast", mcpu=request.param),
            compile_module(text, d, "slow", kernels="reference"))


try:
    import ml_dtypes
    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    BF16 = None
NP_DTYPES = {"f32": np.float32, "f16": np.float16, "bf16": BF16}
TOL = {"f32": F32_TOL, "f16": F16_TOL, "bf16": 3e-2}


@pytest.mark.parametrize("i", range(len(CASES)))
def test_long_causal_conv(libs, i):
    C, k, bias, state, act, dt, tm, gate = CASES[i]
    fast, slow = libs
    rng = np.random.default_rng(i)
    tol = TOL[dt]
    if NP_DTYPES[dt] is None:
        pytest.skip("ml_dtypes is not installed")
    for B, T in LENGTHS:
        x = rng.standard_normal((B, C, T))
        w = rng.standard_normal((C, k)) / np.sqrt(k)
        feeds = [x.transpose(0, 2, 1) if tm else x, w]
        b = rng.standard_normal(C) if bias else None
        s0 = rng.standard_normal((B, C, k - 1)) if state else None
        gv = rng.standard_normal(feeds[0].shape) if gate else None
        feeds += [v for v in (b, s0, gv) if v is not None]
        feeds = [np.ascontiguousarray(v, dtype=NP_DTYPES[dt]) for v in feeds]
        wide = [np.asarray(v, dtype=np.float64) for v in feeds]
        ey, est = ref.onnx_causal_conv(wide[0].transpose(0, 2, 1) if tm else wide[0],
                                       wide[1][:, None, :], wide[2] if bias else None,
                                       wide[3 if bias else 2] if state else None,
                                       activation=act)
        if gate:
            g = wide[-1].transpose(0, 2, 1) if tm else wide[-1]
            sg = 1 / (1 + np.exp(-g))
            ey = ey * (g * sg if gate == "silu" else sg)
        y, st = getattr(fast, f"c{i}")(*feeds)
        got = np.asarray(y, dtype=np.float64)
        assert_close(got.transpose(0, 2, 1) if tm else got, ey, tol, f"output B={B} T={T}")
        if k > 1:
            assert_close(np.asarray(st, dtype=np.float64), est, tol, f"state B={B} T={T}")
        ry, _ = getattr(slow, f"c{i}")(*feeds)
        assert_close(got, np.asarray(ry, dtype=np.float64), tol, f"vs reference B={B} T={T}")


# --------------------------------------------------------------------------- #
# ONNX Conv forms
# --------------------------------------------------------------------------- #
def conv_model(path, C, k, pads, *, group=None, strides=None, dilations=None, slice_t=False,
               bias=True, out_c=None, length=None):
    rng = np.random.default_rng(k)
    group = C if group is None else group
    M = C if out_c is None else out_c
    w = (rng.standard_normal((M, C // group, k)) / np.sqrt(k)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w")]
    ins = ["x", "w"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(M).astype(np.float32), "b"))
        ins.append("b")
    attrs = dict(group=group, pads=pads, kernel_shape=[k])
    if strides:
        attrs["strides"] = strides
    if dilations:
        attrs["dilations"] = dilations
    nodes = [helper.make_node("Conv", ins, ["c" if slice_t else "y"], **attrs)]
    if slice_t:  # y = c[..., :T] with T from the input's shape, as torch exports it
        nodes += [helper.make_node("Shape", ["x"], ["shp"]),
                  helper.make_node("Gather", ["shp", "two"], ["t"], axis=0),
                  helper.make_node("Slice", ["c", "zero", "t", "two"], ["y"])]
        for name, v in (("two", [2]), ("zero", [0])):
            inits.append(numpy_helper.from_array(np.array(v, np.int64), name))
    g = helper.make_graph(nodes, "conv",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", C, length or "t"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    onnx.save(m, path)
    return path


CONV_FORMS = [  # (id, kwargs, raised to gate.causal_conv)
    ("causal", dict(C=24, k=100, pads=[99, 0]), True),
    ("right_pad", dict(C=9, k=20, pads=[19, 3]), True),
    ("torch_slice", dict(C=16, k=65, pads=[64, 64], slice_t=True), True),
    ("no_bias", dict(C=3, k=2, pads=[1, 0], bias=False), True),
    # near misses: a generic Conv, same numbers
    ("left_pad_short", dict(C=8, k=9, pads=[7, 1]), False),
    ("stride", dict(C=8, k=9, pads=[8, 0], strides=[2], length=30), False),
    ("dilation", dict(C=8, k=5, pads=[4, 0], dilations=[2]), False),
    ("grouped", dict(C=8, k=5, pads=[4, 0], group=4, out_c=8), False),
    ("multiplier", dict(C=4, k=5, pads=[4, 0], group=4, out_c=8), False),
]


@pytest.mark.parametrize("form", CONV_FORMS, ids=[f[0] for f in CONV_FORMS])
def test_conv_forms(tmp_path, form):
    name, kw, raised = form
    path = conv_model(str(tmp_path / f"{name}.onnx"), **kw)
    ir = run_gatec([path, "--compile-to=gate"])
    assert ir.returncode == 0, ir.stderr
    assert ("gate.causal_conv" in ir.stdout) == raised, ir.stdout
    if raised and (kw["pads"][1] == 0 or kw.get("slice_t")):
        assert "tensor.pad" not in ir.stdout, ir.stdout
    lib = gatec.load(gatec.compile(path, str(tmp_path / f"lib{name}.so")))
    sess = ort_session_or_none(path)
    rng = np.random.default_rng(3)
    for B, T in [(1, 1), (2, 30), (1, 301)]:
        if kw.get("length", T) != T:
            continue
        span = (kw["k"] - 1) * (kw.get("dilations") or [1])[0] + 1
        if T + sum(kw["pads"]) < span:
            continue
        x = rng.standard_normal((B, kw["C"], T)).astype(np.float32)
        got = lib(x)
        got = got[0] if isinstance(got, tuple) else got
        if sess is not None:
            (want,) = sess.run(None, {"x": x})
            assert_close(got, want, F32_TOL, f"{name} B={B} T={T} vs ONNX Runtime")


# --------------------------------------------------------------------------- #
# The GAM and BaseConv blocks written in PyTorch (examples/gated_long_conv.py),
# exported by torch 2's dynamo exporter.
# --------------------------------------------------------------------------- #
BLOCKS = ["gam", "baseconv", "hyena_fft"]


@pytest.mark.parametrize("block", BLOCKS)
def test_block_raised(block):
    proc = run_gatec([os.path.join(REPO, "test", "models", "longconv", f"{block}.onnx"),
                      "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    convs = [ln for ln in proc.stdout.splitlines() if "= gate.causal_conv" in ln]
    if block == "hyena_fft":  # the FFT product, raised: no transform left
        assert len(convs) == 1 and "tensor<48x160xf32>" in convs[0], convs
        assert "math.cos" not in proc.stdout and "tensor.extract " not in proc.stdout
        return
    assert len(convs) == 1 and "token_major" in convs[0], convs
    assert ("gate(" in convs[0]) == (block == "gam"), convs  # GAM's sigmoid gate is fused
    assert "tensor.pad" not in proc.stdout and "linalg.transpose" not in proc.stdout
    assert "= gate.gate" not in proc.stdout


@pytest.mark.parametrize("block", BLOCKS)
def test_block_matches_pytorch(tmp_path, block):
    base = os.path.join(REPO, "test", "models", "longconv", block)
    lib = gatec.load(gatec.compile(base + ".onnx", str(tmp_path / f"lib{block}.so")))
    data = np.load(base + ".npz")
    for t in (1, 37, 77, 130):
        got = lib(data[f"x_{t}"])
        got = got[0] if isinstance(got, tuple) else got
        assert_close(got, data[f"y_{t}"], F32_TOL, f"{block} T={t} vs PyTorch")


@pytest.mark.parametrize("mode,value", [("constant", 0.0), ("constant", 1.0)])
@pytest.mark.parametrize("T", [6, 40])
def test_padded_input_then_slice(tmp_path, mode, value, T):
    """Pad (after the end of the length) -> causal Conv -> first T outputs: the
    slice reads only outputs that never see the padding, so every mode and
    value gives the causal convolution of x, which gatec must compute however
    it imports the three nodes."""
    C, k, P = 6, 9, 5
    rng = np.random.default_rng(7)
    w = (rng.standard_normal((C, 1, k)) / 3).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.array([0, 0, 0, 0, 0, P], np.int64), "pads"),
             numpy_helper.from_array(np.array([2], np.int64), "two"),
             numpy_helper.from_array(np.array([0], np.int64), "zero")]
    pad_in = ["x", "pads"]
    if value is not None:
        inits.append(numpy_helper.from_array(np.array(value, np.float32), "pv"))
        pad_in.append("pv")
    nodes = [helper.make_node("Pad", pad_in, ["xp"], mode=mode),
             helper.make_node("Conv", ["xp", "w"], ["c"], group=C, pads=[k - 1, 3],
                              kernel_shape=[k]),
             helper.make_node("Shape", ["x"], ["shp"]),
             helper.make_node("Gather", ["shp", "two"], ["t"], axis=0),
             helper.make_node("Slice", ["c", "zero", "t", "two"], ["y"])]
    g = helper.make_graph(nodes, "padconv",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, T])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    path = str(tmp_path / "padconv.onnx")
    onnx.save(m, path)
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libpadconv.so")))
    x = rng.standard_normal((1, C, T)).astype(np.float32)
    got = lib(x)
    got = got[0] if isinstance(got, tuple) else got
    want, _ = ref.onnx_causal_conv(x.astype(np.float64), w.astype(np.float64), None, None)
    assert_close(got, want, F32_TOL, f"{mode} {value} T={T} vs float64")
    sess = ort_session_or_none(path)
    if sess is not None:
        assert_close(got, sess.run(None, {"x": x})[0], F32_TOL, f"T={T} vs ONNX Runtime")


@pytest.mark.parametrize("form", ["sigmoid", "silu", "conv_used_twice", "gate_broadcast"])
def test_gated_conv_fusion(tmp_path, form):
    """Conv · Sigmoid(g) and Conv · SiLU(g) fuse the gate into the
    convolution's epilogue; a convolution whose output is also read elsewhere,
    or a gate of another shape, keeps a separate gate. Same numbers as ONNX
    Runtime either way."""
    C, k = 12, 40
    rng = np.random.default_rng(11)
    w = (rng.standard_normal((C, 1, k)) / 6).astype(np.float32)
    gshape = [1, 1, "t"] if form == "gate_broadcast" else [1, C, "t"]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], group=C, pads=[k - 1, 0],
                              kernel_shape=[k]),
             helper.make_node("Sigmoid", ["g"], ["s"])]
    if form == "silu":
        nodes += [helper.make_node("Mul", ["g", "s"], ["a"]),
                  helper.make_node("Mul", ["c", "a"], ["y"])]
    elif form == "conv_used_twice":
        nodes += [helper.make_node("Mul", ["c", "s"], ["m"]),
                  helper.make_node("Add", ["m", "c"], ["y"])]
    else:
        nodes.append(helper.make_node("Mul", ["c", "s"], ["y"]))
    g = helper.make_graph(nodes, "gated",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, "t"]),
                           helper.make_tensor_value_info("g", TensorProto.FLOAT, gshape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, C, "t"])],
                          initializer=[numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    path = str(tmp_path / "gated.onnx")
    onnx.save(m, path)
    ir = run_gatec([path, "--compile-to=gate"])
    assert ir.returncode == 0, ir.stderr
    conv = [ln for ln in ir.stdout.splitlines() if "= gate.causal_conv" in ln]
    fused = form in ("sigmoid", "silu")
    assert len(conv) == 1 and ("gate(" in conv[0]) == fused, ir.stdout
    if form == "silu":
        assert "gate_act = #gate<act silu>" in conv[0], conv
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libgated.so")))
    sess = ort_session_or_none(path)
    for T in (1, 50, 333):
        x = rng.standard_normal((1, C, T)).astype(np.float32)
        gv = rng.standard_normal([1 if d == 1 else C if d == C else T for d in gshape]
                                 ).astype(np.float32)
        got = lib(x, gv)
        got = got[0] if isinstance(got, tuple) else got
        c, _ = ref.onnx_causal_conv(x.astype(np.float64), w.astype(np.float64), None, None)
        s = 1 / (1 + np.exp(-gv.astype(np.float64)))
        want = {"sigmoid": c * s, "silu": c * gv * s, "conv_used_twice": c * s + c,
                "gate_broadcast": c * s}[form]
        assert_close(got, want, F32_TOL, f"{form} T={T} vs float64")
        if sess is not None:
            assert_close(got, sess.run(None, {"x": x, "g": gv})[0], F32_TOL, f"{form} vs ORT")
