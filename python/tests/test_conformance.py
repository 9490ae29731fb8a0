"""ONNX's own backend node tests (../shared/onnx-conformance): every folder's
model.onnx is compiled by gatec, run on its input_*.pb, and compared with its
output_*.pb (rtol 1e-3, atol 1e-7, as ONNX's backend tests do)."""
import glob
import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import gatec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# $GATEC_CONFORMANCE, else ../shared/onnx-conformance next to the checkout,
# else the workplace's /work/shared (a clone elsewhere still finds it).
_CANDIDATES = [os.environ.get("GATEC_CONFORMANCE", ""),
               os.path.join(os.path.dirname(ROOT), "shared", "onnx-conformance"),
               "/work/shared/onnx-conformance"]
CONFORMANCE = next((c for c in _CANDIDATES if c and os.path.isdir(c)), "")
FOLDERS = sorted(glob.glob(os.path.join(CONFORMANCE, "test_*"))) if CONFORMANCE else []


def _load_pbs(folder, prefix):
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "test_data_set_0", f"{prefix}_*.pb")),
                       key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0])):
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        out.append((t.name, numpy_helper.to_array(t)))
    return out


@pytest.mark.skipif(not FOLDERS, reason="no conformance folders found")
@pytest.mark.parametrize("folder", FOLDERS, ids=[os.path.basename(f) for f in FOLDERS])
def test_conformance(folder, tmp_path):
    name = os.path.basename(folder)
    lib = gatec.compile(os.path.join(folder, "model.onnx"), str(tmp_path / "libconf.so"))
    m = gatec.load(lib)
    inputs = _load_pbs(folder, "input")
    by_name = dict(inputs)
    args = []
    for i, spec in enumerate(m.inputs):
        arr = by_name.get(spec.name, inputs[i][1] if i < len(inputs) else None)
        assert arr is not None, f"{name}: no data for input '{spec.name}'"
        args.append(np.ascontiguousarray(arr))
    results = m(*args)
    expected = _load_pbs(folder, "output")
    got = {spec.name: r for spec, r in zip(m.outputs, results)}
    for i, (oname, want) in enumerate(expected):
        have = got.get(oname, results[i] if i < len(results) else None)
        assert have is not None, f"{name}: missing output '{oname}'"
        assert have.shape == want.shape, f"{name}: output '{oname}' shape {have.shape} != {want.shape}"
        rtol, atol = (1e-3, 1e-7)
        if want.dtype == np.float16:
            rtol, atol = 1e-3, 1e-3  # ONNX's backend tests use looser fp16 bounds too
        np.testing.assert_allclose(have.astype(np.float64), want.astype(np.float64),
                                   rtol=rtol, atol=atol, err_msg=f"{name}: output '{oname}'")


# --------------------------------------------------------------------------- #
# Node tests generated from the onnx package's own case definitions
# (onnx.backend.test.case.node: the models and data ONNX publishes as the
# test_* folders) for ops whose folders the shared suite does not hold.
# --------------------------------------------------------------------------- #
GENERATED_CASE_MODULES = ["cumsum", "gatherelements", "gathernd", "isinf", "isnan", "scatter",
                          "scatterelements", "scatternd", "topk"]
# Inputs that ONNX declares as tensors but gatec needs at import time (they fix
# the loop structure or the result shape): the case's data becomes an initializer.
IMPORT_TIME_INPUTS = {"CumSum": [1], "TopK": [1]}
# Cases gatec rejects on purpose, with the error they must give.
GENERATED_UNSUPPORTED = {"test_top_k_uint64": "unsupported element type UINT64"}


def _generated_cases():
    try:
        import importlib

        from onnx.backend.test.case import node as case_node
    except ImportError:  # pragma: no cover
        return []
    have = {os.path.basename(f) for f in FOLDERS}
    start = len(case_node._NodeTestCases)
    for mod in GENERATED_CASE_MODULES:
        try:
            importlib.import_module(f"onnx.backend.test.case.node.{mod}")
        except ImportError:  # pragma: no cover
            continue
    cases = case_node._NodeTestCases[start:]
    if not cases:  # already imported elsewhere: take every case of these ops
        ops = {"CumSum", "GatherElements", "GatherND", "IsInf", "IsNaN", "Scatter",
               "ScatterElements", "ScatterND", "TopK"}
        cases = [c for c in case_node._NodeTestCases
                 if {n.op_type for n in c.model.graph.node} <= ops]
    return sorted((c for c in cases if c.name not in have), key=lambda c: c.name)


GENERATED = _generated_cases()


def _freeze_import_time_inputs(model, inputs):
    """Turns the inputs in IMPORT_TIME_INPUTS into initializers holding the case's data."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    frozen = set()
    for n in m.graph.node:
        for k in IMPORT_TIME_INPUTS.get(n.op_type, []):
            if k < len(n.input) and n.input[k]:
                frozen.add(n.input[k])
    names = [i.name for i in m.graph.input]
    feeds = []
    for name, arr in zip(names, inputs):
        if name in frozen:
            m.graph.initializer.append(numpy_helper.from_array(np.asarray(arr), name))
        else:
            feeds.append(arr)
    keep = [i for i in m.graph.input if i.name not in frozen]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    return m, feeds


@pytest.mark.parametrize("case", GENERATED, ids=[c.name for c in GENERATED])
def test_conformance_generated(case, tmp_path):
    path = str(tmp_path / "model.onnx")
    for k, (inputs, outputs) in enumerate(case.data_sets):
        model, feeds = _freeze_import_time_inputs(case.model, inputs)
        onnx.save(model, path)
        if case.name in GENERATED_UNSUPPORTED:
            with pytest.raises(gatec.Error, match=GENERATED_UNSUPPORTED[case.name]):
                gatec.compile(path, str(tmp_path / f"libgen{k}.so"))
            return
        m = gatec.load(gatec.compile(path, str(tmp_path / f"libgen{k}.so")))
        results = m(*[np.ascontiguousarray(a) for a in feeds])
        assert len(results) == len(outputs)
        for j, (have, want) in enumerate(zip(results, outputs)):
            assert have.shape == want.shape, \
                f"{case.name}: output {j} shape {have.shape} != {want.shape}"
            if want.dtype.kind in "iub":
                np.testing.assert_array_equal(have, want, err_msg=f"{case.name}: output {j}")
            else:
                np.testing.assert_allclose(have.astype(np.float64), want.astype(np.float64),
                                           rtol=case.rtol, atol=case.atol,
                                           err_msg=f"{case.name}: output {j}")


# Models the CUDA target cannot take yet: the raised-free fp16 Scan keeps a
# boolean tensor on the host (host memory access is rejected with the op named).
CUDA_UNSUPPORTED = {"test_linear_attention_fp16_expanded"}


@pytest.mark.skipif(not FOLDERS, reason="no conformance folders found")
@pytest.mark.parametrize("folder", FOLDERS, ids=[os.path.basename(f) for f in FOLDERS])
def test_conformance_compiles_for_cuda(folder, tmp_path):
    """Every conformance model lowers to CUDA kernels and PTX (run on a GPU by
    bench/cuda_device.py); the unsupported ones fail with a clear error."""
    name = os.path.basename(folder)
    model = os.path.join(folder, "model.onnx")
    out = str(tmp_path / "conf.ptx")
    if name in CUDA_UNSUPPORTED:
        with pytest.raises(gatec.Error, match="would access device memory on the host"):
            gatec.compile(model, out, target="cuda", extra_args=["--emit=ptx"])
        return
    gatec.compile(model, out, target="cuda", extra_args=["--emit=ptx"])
    with open(out) as f:
        assert ".entry" in f.read()
