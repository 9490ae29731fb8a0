"""Gates in the matmul epilogue (gate-matmul-cpu): y = other ⊙ act(A·B) (the
matmul computes the gate: SwiGLU, SambaY's gated memory unit) or
y = (A·B) ⊙ act(other), applied as C is stored after the last K block. Checked
against float64 numpy and the reference lowering on awkward sizes (M, N, K of
1, 7, 65, 700: K blocks of 256 and partial tiles), batched, constant and
run-time B; dynamic rows through ONNX; through ONNX (a SwiGLU MLP, MatMulNBits' 4-bit decode
kernel) against ONNX Runtime; and the SambaY block of examples/sambay_gmu.py
against PyTorch. Must-not-fuse: a matmul result read twice keeps its gate."""
import os
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import gatec
from kernel_util import (F32_TOL, REPO, assert_close, compile_module, have_compiler,
                         module_text, ort_session_or_none, run_gatec, save_ms_model, ttype)
from test_matmul_nbits import quantize

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

# (M, K, N, matmul computes the gate, activation, batched, B constant)
CASES = [(7, 65, 33, True, "silu", False, False), (65, 700, 70, False, "sigmoid", False, True),
         (1, 7, 1, True, "sigmoid", False, False), (130, 64, 96, False, "silu", True, False),
         (33, 300, 17, True, "silu", False, True)]


def func(i, M, K, N, acc_is_gate, act, batched, const_b):
    """y = gate.gate of a (batched) matmul result and another operand %o; the
    2-D matmul reads [2, M, K] collapsed to rows and is expanded back."""
    lead = 3 if batched else 2
    a_t = ttype((lead, M, K), "f32")
    b_shape = (3, K, N) if batched else (K, N)
    b_t = ttype(b_shape, "f32")
    out3 = ttype((lead, M, N), "f32")
    args = [f"%a: {a_t}", f"%o: {out3}"]
    body = []
    if const_b:
        vals = np.random.default_rng(i).standard_normal(int(np.prod(b_shape))) / 8
        text = ", ".join(f"{v:.8e}" for v in vals.astype(np.float32))
        body.append(f"  %b = arith.constant dense<[{text}]> : tensor<{vals.size}xf32>")
        body.append(f"  %bm = tensor.expand_shape %b [[{', '.join(map(str, range(len(b_shape))))}]]"
                    f" output_shape [{', '.join(map(str, b_shape))}] : tensor<{vals.size}xf32>"
                    f" into {b_t}")
    else:
        args.insert(1, f"%bm: {b_t}")
    body.append("  %z = arith.constant 0.0 : f32")
    if batched:
        body += [f"  %e = tensor.empty() : {out3}",
                 f"  %f = linalg.fill ins(%z : f32) outs(%e : {out3}) -> {out3}",
                 f"  %r = linalg.batch_matmul ins(%a, %bm : {a_t}, {b_t}) outs(%f : {out3}) -> {out3}"]
    else:
        flat_a, flat_c = ttype((2 * M, K), "f32"), ttype((2 * M, N), "f32")
        body += [f"  %ac = tensor.collapse_shape %a [[0, 1], [2]] : {a_t} into {flat_a}",
                 f"  %e = tensor.empty() : {flat_c}",
                 f"  %f = linalg.fill ins(%z : f32) outs(%e : {flat_c}) -> {flat_c}",
                 f"  %r0 = linalg.matmul ins(%ac, %bm : {flat_a}, {b_t}) outs(%f : {flat_c}) -> "
                 f"{flat_c}",
                 f"  %r = tensor.expand_shape %r0 [[0, 1], [2]] output_shape [2, {M}, {N}] : "
                 f"{flat_c} into {out3}"]
    x, g = ("%o", "%r") if acc_is_gate else ("%r", "%o")
    attr = " {act = #gate<act silu>}" if act == "silu" else ""
    body.append(f"  %y = gate.gate {x}, {g}{attr} : {out3}, {out3} -> {out3}")
    return (f"func.func @f{i}({', '.join(args)}) -> {out3} {{\n" + "\n".join(body) +
            f"\n  return %y : {out3}\n}}\n")


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("mmepi"))
    text = module_text(func(i, *c) for i, c in enumerate(CASES))
    return (compile_module(text, d, "fast"), compile_module(text, d, "slow", kernels="reference"))


@pytest.mark.parametrize("i", range(len(CASES)))
def test_gated_matmul(libs, i):
    M, K, N, acc_is_gate, act, batched, const_b = CASES[i]
    fast, slow = libs
    rng = np.random.default_rng(i)
    lead = 3 if batched else 2
    a = rng.standard_normal((lead, M, K)).astype(np.float32)
    o = rng.standard_normal((lead, M, N)).astype(np.float32)
    feeds = [a]
    if const_b:
        vals = np.random.default_rng(i).standard_normal(K * N * (3 if batched else 1)) / 8
        bm = vals.astype(np.float32).reshape((3, K, N) if batched else (K, N))
    else:
        bm = rng.standard_normal((3, K, N) if batched else (K, N)).astype(np.float32) / 8
        feeds.append(bm)
    feeds.append(o)
    c = a.astype(np.float64) @ bm.astype(np.float64)
    gate, x = (c, o.astype(np.float64)) if acc_is_gate else (o.astype(np.float64), c)
    s = 1 / (1 + np.exp(-gate))
    want = x * (gate * s if act == "silu" else s)
    got = getattr(fast, f"f{i}")(*feeds)
    got = got[0] if isinstance(got, tuple) else got
    assert_close(got, want, F32_TOL, f"case {i} vs float64")
    ref = getattr(slow, f"f{i}")(*feeds)
    ref = ref[0] if isinstance(ref, tuple) else ref
    assert_close(got, ref, F32_TOL, f"case {i} vs the reference lowering")


def swiglu_model(path, d, inner, read_twice=False, bias=False):
    rng = np.random.default_rng(3)
    w1, w3 = (rng.standard_normal((d, inner)).astype(np.float32) / 8 for _ in range(2))
    w2 = rng.standard_normal((inner, d)).astype(np.float32) / 8
    b1 = rng.standard_normal(inner).astype(np.float32) if bias else np.zeros(inner, np.float32)
    if bias:  # Linear layers: the bias is added before the gate
        nodes = [helper.make_node("MatMul", ["x", "w1"], ["m1"]),
                 helper.make_node("Add", ["m1", "b1"], ["h1"])]
    else:
        nodes = [helper.make_node("MatMul", ["x", "w1"], ["h1"])]
    nodes += [helper.make_node("MatMul", ["x", "w3"], ["h3"]),
             helper.make_node("Sigmoid", ["h1"], ["s1"]),
             helper.make_node("Mul", ["h1", "s1"], ["a1"]),
             helper.make_node("Mul", ["a1", "h3"], ["p"]),
             helper.make_node("MatMul", ["p", "w2"], ["y0"])]
    if read_twice:  # h1 also read by the output: no fusion into its matmul
        nodes += [helper.make_node("ReduceMean", ["h1", "ax"], ["hm"], keepdims=1),
                  helper.make_node("Add", ["y0", "hm"], ["y"])]
    else:
        nodes.append(helper.make_node("Identity", ["y0"], ["y"]))
    inits = [numpy_helper.from_array(w, n) for w, n in ((w1, "w1"), (w3, "w3"), (w2, "w2"))]
    inits.append(numpy_helper.from_array(np.array([-1], np.int64), "ax"))
    inits.append(numpy_helper.from_array(b1, "b1"))
    g = helper.make_graph(nodes, "swiglu",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", d])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    onnx.save(m, path)
    return w1.astype(np.float64), w3.astype(np.float64), w2.astype(np.float64), b1.astype(
        np.float64)


@pytest.mark.parametrize("read_twice,bias", [(False, False), (True, False), (False, True)])
def test_swiglu_mlp(tmp_path, read_twice, bias):
    path = str(tmp_path / "swiglu.onnx")
    w1, w3, w2, b1 = swiglu_model(path, 48, 136, read_twice, bias)
    ir = run_gatec([path, "--compile-to=gate"])
    assert ir.returncode == 0, ir.stderr
    assert ir.stdout.count("= gate.gate") == 1, ir.stdout
    opt = os.path.join(os.path.dirname(gatec._gatec_binary()), "gatec-opt")
    after = subprocess.run([opt, "-gate-matmul-cpu"], input=ir.stdout, capture_output=True,
                           text=True)
    assert after.returncode == 0, after.stderr
    # Read twice, h1 keeps its own matmul; the gate then goes into x·W3's.
    assert "gate.gate" not in after.stdout
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libswiglu.so")))
    sess = ort_session_or_none(path)
    rng = np.random.default_rng(4)
    for B, T in [(1, 1), (2, 77)]:
        x = rng.standard_normal((B, T, 48)).astype(np.float32)
        got = lib(x)
        got = got[0] if isinstance(got, tuple) else got
        h1 = x.astype(np.float64) @ w1 + b1
        want = (h1 / (1 + np.exp(-h1)) * (x.astype(np.float64) @ w3)) @ w2
        if read_twice:
            want = want + h1.mean(-1, keepdims=True)
        assert_close(got, want, F32_TOL, f"T={T} vs float64")
        if sess is not None:
            assert_close(got, sess.run(None, {"x": x})[0], F32_TOL, f"T={T} vs ONNX Runtime")


def test_matmul_nbits_gated_decode(tmp_path):
    """Up to 4 rows MatMulNBits runs its 4-bit streaming kernel: the gate is
    applied at its store too."""
    K, N, block = 64, 40, 32
    rng = np.random.default_rng(9)
    q, w = quantize(rng, N, K, 4, block, "packed")
    inits = [numpy_helper.from_array(q["B"], "B"), numpy_helper.from_array(q["scales"], "scales"),
             numpy_helper.from_array(q["zp"], "zp")]
    nodes = [helper.make_node("MatMulNBits", ["A", "B", "scales", "zp"], ["y0"],
                              domain="com.microsoft", K=K, N=N, bits=4, block_size=block),
             helper.make_node("Sigmoid", ["g"], ["s"]),
             helper.make_node("Mul", ["y0", "s"], ["y"])]
    path = save_ms_model(tmp_path / "nbits_gate.onnx", nodes,
                         [helper.make_tensor_value_info("A", TensorProto.FLOAT, ["m", K]),
                          helper.make_tensor_value_info("g", TensorProto.FLOAT, ["m", N])],
                         [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libnbits_gate.so")))
    sess = ort_session_or_none(path)
    for m in (1, 3, 4, 7, 130):
        a = rng.standard_normal((m, K)).astype(np.float32)
        g = rng.standard_normal((m, N)).astype(np.float32)
        (y,) = lib(a, g)
        want = (a.astype(np.float64) @ w.T) / (1 + np.exp(-g.astype(np.float64)))
        assert_close(y, want, 1e-5, f"M={m} vs float64")
        if sess is not None:
            assert_close(y, sess.run(None, {"A": a, "g": g})[0], 1e-5, f"M={m} vs ORT")


SAMBAY = os.path.join(REPO, "test", "models", "sambay", "gmu")


def test_sambay_gmu_block(tmp_path):
    """SambaY's gated memory unit (examples/sambay_gmu.py): the memory is read
    by its own layer too, so the gate stays a gate.gate at the gate level and
    goes into the epilogue of the matmul computing SiLU(x W1)."""
    ir = run_gatec([SAMBAY + ".onnx", "--compile-to=gate"])
    assert ir.returncode == 0, ir.stderr
    gates = [ln for ln in ir.stdout.splitlines() if "= gate.gate" in ln]
    assert len(gates) == 1 and "silu" in gates[0], gates
    assert ir.stdout.count("= gate.linear_attention") == 1
    lib = gatec.load(gatec.compile(SAMBAY + ".onnx", str(tmp_path / "libgmu.so")))
    data = np.load(SAMBAY + ".npz")
    for t in (1, 37, 77, 130):
        (got,) = lib(data[f"x_{t}"])
        assert_close(got, data[f"y_{t}"], F32_TOL, f"T={t} vs PyTorch")
