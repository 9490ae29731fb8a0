"""Dense layers: MatMul, Gemm and batched MatMul through gatec's packed,
register-blocked matmul kernels, against float64 numpy and against the plain
reference lowering (--kernels=reference), on awkward sizes (M, N, K of 1, 7,
65, 1000; partial tiles; transposed operands; broadcast batch dims; f16/bf16
weights; run-time and constant B; K beyond one K block).

One ONNX model holds every case (one compile per dtype and kernel choice)."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import gatec
from kernel_util import F16_TOL, F32_TOL, assert_close, have_compiler

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

try:
    import ml_dtypes
    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - onnx depends on ml_dtypes
    BF16 = None

ONNX_TYPES = {"f32": TensorProto.FLOAT, "f16": TensorProto.FLOAT16, "bf16": TensorProto.BFLOAT16}


def np_dtype(dt):
    return {"f32": np.dtype(np.float32), "f16": np.dtype(np.float16), "bf16": BF16}[dt]


def weights(dt, seed=0):
    """The constant weights of the model, float64 values representable in dt."""
    rng = np.random.default_rng(seed)
    shapes = {"W1": (65, 1000), "W2": (7, 1), "W3": (7, 1000), "b3": (7,), "W5": (7, 65),
              "W6": (1, 65), "W7": (1000, 33)}
    return {k: rng.standard_normal(s).astype(np_dtype(dt)).astype(np.float64)
            for k, s in shapes.items()}


def build_model(dt, w):
    et = ONNX_TYPES[dt]
    inits = [numpy_helper.from_array(v.astype(np_dtype(dt)), k) for k, v in w.items()]
    if dt == "bf16":  # numpy_helper writes bfloat16 as raw uint16 words
        inits = []
        for k, v in w.items():
            t = helper.make_tensor(k, et, v.shape,
                                   v.astype(BF16).view(np.uint16).tobytes(), raw=True)
            inits.append(t)
    nodes = [
        helper.make_node("MatMul", ["X1", "W1"], ["Y1"]),            # const B, N=1000
        helper.make_node("MatMul", ["X2", "W2"], ["Y2"]),            # N = 1
        helper.make_node("Gemm", ["X3", "W3", "b3"], ["Y3"], transB=1, alpha=0.5),  # K=1000
        helper.make_node("MatMul", ["A4", "B4"], ["Y4"]),            # run-time batched B
        helper.make_node("MatMul", ["A5", "W5"], ["Y5"]),            # broadcast batch
        helper.make_node("MatMul", ["X6", "W6"], ["Y6"]),            # K = 1
        helper.make_node("MatMul", ["A7", "B7"], ["Y7"]),            # run-time, batch bcast of B
        helper.make_node("Gemm", ["A8", "B8"], ["Y8"], transA=1),    # transposed A, run-time B
        helper.make_node("MatMul", ["X3", "W7"], ["Y9"]),            # K=1000 beyond one K block
    ]
    vi = lambda n, s: helper.make_tensor_value_info(n, et, s)
    inputs = [vi("X1", ["m", 65]), vi("X2", ["m", 7]), vi("X3", ["m", 1000]),
              vi("A4", [2, "m", 65]), vi("B4", [2, 65, 7]), vi("A5", [3, "m", 7]),
              vi("X6", ["m", 1]), vi("A7", [2, "m", 65]), vi("B7", [1, 65, 33]),
              vi("A8", [65, "m"]), vi("B8", [65, 1000])]
    outputs = [vi("Y1", ["m", 1000]), vi("Y2", ["m", 1]), vi("Y3", ["m", 7]),
               vi("Y4", [2, "m", 7]), vi("Y5", [3, "m", 65]), vi("Y6", ["m", 65]),
               vi("Y7", [2, "m", 33]), vi("Y8", ["m", 1000]), vi("Y9", ["m", 33])]
    graph = helper.make_graph(nodes, "dense", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model


def inputs_for(m, dt, seed):
    rng = np.random.default_rng(seed)
    shapes = {"X1": (m, 65), "X2": (m, 7), "X3": (m, 1000), "A4": (2, m, 65), "B4": (2, 65, 7),
              "A5": (3, m, 7), "X6": (m, 1), "A7": (2, m, 65), "B7": (1, 65, 33),
              "A8": (65, m), "B8": (65, 1000)}
    return {k: rng.standard_normal(s).astype(np_dtype(dt)) for k, s in shapes.items()}


def expected(x, w):
    f = {k: v.astype(np.float64) for k, v in x.items()}
    return [f["X1"] @ w["W1"], f["X2"] @ w["W2"], 0.5 * (f["X3"] @ w["W3"].T) + w["b3"],
            f["A4"] @ f["B4"], f["A5"] @ w["W5"], f["X6"] @ w["W6"], f["A7"] @ f["B7"],
            f["A8"].T @ f["B8"], f["X3"] @ w["W7"]]


@pytest.fixture(scope="module", params=["f32", "f16", "bf16"])
def dense(request, tmp_path_factory):
    dt = request.param
    if dt == "bf16" and BF16 is None:
        pytest.skip("ml_dtypes is not installed")
    d = tmp_path_factory.mktemp(f"dense_{dt}")
    w = weights(dt)
    path = os.path.join(str(d), "dense.onnx")
    onnx.save(build_model(dt, w), path)
    fast = gatec.load(gatec.compile(path, os.path.join(str(d), "libdense.so")))
    ref = gatec.load(gatec.compile(path, os.path.join(str(d), "libdense_ref.so"),
                                   kernels="reference"))
    return dt, w, fast, ref


@pytest.mark.parametrize("m", [1, 7, 65, 1000])
def test_dense_against_float64_and_reference(dense, m):
    dt, w, fast, ref = dense
    x = inputs_for(m, dt, seed=m)
    got = fast(*x.values())
    want = expected(x, w)
    tol = F32_TOL if dt == "f32" else F16_TOL
    for i, (g, e) in enumerate(zip(got, want)):
        assert g.shape == e.shape, f"Y{i + 1}: shape {g.shape} != {e.shape}"
        assert_close(g.astype(np.float64), e, tol, f"Y{i + 1} ({dt}, m={m})")
    if m <= 65:  # the reference lowering is scalar loops: keep it small
        for i, (g, r) in enumerate(zip(got, ref(*x.values()))):
            assert_close(g.astype(np.float64), r.astype(np.float64), tol,
                         f"Y{i + 1} vs reference ({dt}, m={m})")


def test_dense_on_every_x86_64_level(tmp_path):
    """The bf16 and f16 dense kernels compile and link for every x86-64 level
    (no libgcc call such as __truncsfbf2 left unresolved), and run where the
    host supports the level."""
    import subprocess
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    have = {"x86-64": True, "x86-64-v2": "sse4_2" in flags,
            "x86-64-v3": "avx2" in flags and "fma" in flags,
            "x86-64-v4": "avx512f" in flags and "avx512bw" in flags}
    for dt in ("bf16", "f16"):
        w = weights(dt)
        path = os.path.join(str(tmp_path), f"dense_{dt}.onnx")
        onnx.save(build_model(dt, w), path)
        x = inputs_for(7, dt, seed=3)
        want = expected(x, w)
        for level, runs in have.items():
            lib = os.path.join(str(tmp_path), f"libdense_{dt}_{level.replace('-', '_')}.so")
            gatec.compile(path, lib, mcpu=level)
            syms = subprocess.run(["nm", "-D", "--undefined-only", lib], capture_output=True,
                                  text=True).stdout
            assert "__truncsfbf2" not in syms, f"{dt} {level}: needs __truncsfbf2"
            if runs:
                got = gatec.load(lib)(*x.values())
                for i, (g, e) in enumerate(zip(got, want)):
                    assert_close(g.astype(np.float64), e, F16_TOL, f"Y{i + 1} ({dt}, {level})")
