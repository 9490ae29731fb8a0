"""The C ABI of gatec libraries (include/gatec-c/runtime.h), through gatec.load
and through raw ctypes structs written from the header.

Every rejected call must return a non-zero status (Python: raise gatec.Error)
with a message naming the argument, and leave every output untouched.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import gatec
import kernel_util as ku
from gatec import reference as R

pytestmark = pytest.mark.skipif(not ku.have_compiler(),
                                reason=f"gatec compiler not found at {ku.gatec_binary()}")

# --------------------------------------------------------------------------- #
# the header, transcribed independently of python/gatec
# --------------------------------------------------------------------------- #
GATEC_OK, ARGUMENT_COUNT, NULL_POINTER, DTYPE, RANK, SHAPE, OUTPUT = 0, 1, 2, 3, 4, 5, 6
F32, F16, BF16, BOOL = 1, 2, 3, 4


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64))]


class Dim(ctypes.Structure):
    _fields_ = [("size", ctypes.c_int64), ("symbol", ctypes.c_char_p),
                ("constant", ctypes.c_int64), ("input", ctypes.c_int32 * 2),
                ("input_dim", ctypes.c_int32 * 2)]


class ArgInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("dims", ctypes.POINTER(Dim))]


ShapesFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Tensor), ctypes.c_int32,
                            ctypes.POINTER(ctypes.POINTER(ctypes.c_int64)))
RunFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Tensor), ctypes.c_int32,
                         ctypes.POINTER(Tensor), ctypes.c_int32)


class Function(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("symbol", ctypes.c_char_p),
                ("num_inputs", ctypes.c_int32), ("num_outputs", ctypes.c_int32),
                ("inputs", ctypes.POINTER(ArgInfo)), ("outputs", ctypes.POINTER(ArgInfo)),
                ("output_shapes", ShapesFn), ("run", RunFn)]


class Library(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_int32), ("name", ctypes.c_char_p),
                ("target", ctypes.c_char_p), ("num_functions", ctypes.c_int32),
                ("functions", ctypes.POINTER(Function)),
                ("last_error", ctypes.CFUNCTYPE(ctypes.c_char_p)),
                ("set_num_threads", ctypes.CFUNCTYPE(None, ctypes.c_int32))]


class Raw:
    """A library opened with ctypes alone."""

    def __init__(self, path, name):
        self.dll = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
        entry = getattr(self.dll, f"{name}_library")
        entry.restype = ctypes.POINTER(Library)
        self.lib = entry().contents
        self.fns = {self.lib.functions[i].name.decode(): self.lib.functions[i]
                    for i in range(self.lib.num_functions)}

    def error(self) -> str:
        return self.lib.last_error().decode()


_keep = []  # ctypes arrays must outlive the calls that use them


def tensor(a, dtype=None, shape=None, data="array", strides=None):
    a = np.ascontiguousarray(a)
    shp = a.shape if shape is None else shape
    shape_arr = (ctypes.c_int64 * max(1, len(shp)))(*shp)
    st = None
    if strides is not None:
        st = (ctypes.c_int64 * max(1, len(strides)))(*strides)
        _keep.append(st)
    _keep.extend([a, shape_arr])
    ptr = a.ctypes.data if data == "array" else data
    code = dtype if dtype is not None else {np.dtype(np.float32): F32, np.dtype(np.float16): F16,
                                            np.dtype(np.bool_): BOOL}[a.dtype]
    return Tensor(ptr, code, len(shp), ctypes.cast(shape_arr, ctypes.POINTER(ctypes.c_int64)),
                  None if st is None else ctypes.cast(st, ctypes.POINTER(ctypes.c_int64)))


def tensors(items):
    arr = (Tensor * max(1, len(items)))(*items)
    _keep.append(arr)
    return arr


# --------------------------------------------------------------------------- #
# libraries
# --------------------------------------------------------------------------- #
ABI_FUNCS = [
    ku.sdpa_func("attn", ("batch", 4, "seq", 32), ("batch", 2, "seq", 32),
                 ("batch", 2, "seq", 32), gate=("batch", 4, "seq", 1), causal=True),
    ku.linear_attention_func("la", "gated_delta", ("b", 2, "t", 16), ("b", 2, "t", 16),
                             ("b", 2, "t", 24), "f16", decay=("b", 2, "t"), beta=("b", 2, "t"),
                             state=True),
    ku.sdpa_func("masked", ("b", 2, "sq", 16), ("b", 2, "skv", 16), ("b", 2, "skv", 16),
                 mask=(("b", 1, "sq", "skv"), "i1")),
    ku.causal_conv_func("conv", ("b", 6, "l"), 4, bias=True, state=True, activation="silu"),
    """func.func @unnamed(%x: tensor<?x5xf32>, %g: tensor<?x5xf32>) -> tensor<?x5xf32> {
  %0 = gate.gate %x, %g : tensor<?x5xf32>, tensor<?x5xf32> -> tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}
""",
]

KV_FUNC = """func.func @kv(%p: tensor<?x2x?x8xf32> {gatec.name = "past", gatec.dims = ["b", "", "p", ""]},
              %n: tensor<?x2x?x8xf32> {gatec.name = "new", gatec.dims = ["b", "", "t", ""]})
    -> (tensor<?x2x?x8xf32> {gatec.name = "present"}) {
  %0 = tensor.concat dim(2) %p, %n
      : (tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  return %0 : tensor<?x2x?x8xf32>
}
"""


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return tmp_path_factory.mktemp("abi")


@pytest.fixture(scope="module")
def abi(build):
    return ku.compile_module(ku.module_text(ABI_FUNCS), str(build / "abi"), "abi")


@pytest.fixture(scope="module")
def abi_path(abi):
    return abi.path


@pytest.fixture(scope="module")
def raw(abi_path):
    return Raw(abi_path, "abi")


def attn_inputs(B=2, T=5, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((B, 4, T, 32)).astype(np.float32),
            rng.standard_normal((B, 2, T, 32)).astype(np.float32),
            rng.standard_normal((B, 2, T, 32)).astype(np.float32),
            rng.standard_normal((B, 4, T, 1)).astype(np.float32)]


def attn_ref(ins):
    return R.sdpa(*ins[:3], gate=ins[3], causal=True)


def la_inputs(B=2, T=7, seed=1):
    rng = np.random.default_rng(seed)
    k = rng.standard_normal((B, 2, T, 16))
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    return [rng.standard_normal((B, 2, T, 16)).astype(np.float16), k.astype(np.float16),
            rng.standard_normal((B, 2, T, 24)).astype(np.float16),
            (-rng.uniform(0, 1, (B, 2, T))).astype(np.float16),
            rng.uniform(0.1, 0.9, (B, 2, T)).astype(np.float16),
            rng.standard_normal((B, 2, 16, 24)).astype(np.float32)]


# --------------------------------------------------------------------------- #
# the signature
# --------------------------------------------------------------------------- #
def test_library_descriptor(abi, raw):
    assert raw.lib.abi_version == 2 == gatec.ABI_VERSION
    assert raw.lib.name.decode() == "abi" == abi.name
    assert raw.lib.target.decode() == "cpu" == abi.target
    assert set(raw.fns) == {"attn", "la", "masked", "conv", "unnamed"}
    # several functions and no `main`: each has its own prefixed entry points
    for name, fn in raw.fns.items():
        assert fn.symbol.decode() == f"abi_{name}"
        for suffix in ("run", "output_shapes"):
            assert hasattr(raw.dll, f"abi_{name}_{suffix}")
    for sym in ("abi_library", "abi_last_error", "abi_set_num_threads"):
        assert hasattr(raw.dll, sym)


def test_multi_function_library_by_name(abi):
    assert set(abi.functions) == {"attn", "la", "masked", "conv", "unnamed"}
    assert abi.attn is abi.functions["attn"]
    with pytest.raises(gatec.Error, match="several functions"):
        abi(*attn_inputs())
    ins = attn_inputs()
    (out,) = abi.functions["attn"](*ins)
    ku.assert_close(out, attn_ref(ins), 1e-4)
    # two functions of one library called alternately
    lins = la_inputs()
    o, s = abi.functions["la"](*lins)
    ro, rs = R.linear_attention(*lins[:3], "gated_delta", decay=lins[3], beta=lins[4],
                                initial_state=lins[5])
    ku.assert_close(o, ro, 2e-2)
    ku.assert_close(s, rs, 2e-2)
    (out2,) = abi.attn(*ins)
    np.testing.assert_array_equal(out, out2)


def test_inputs_names_dtypes_dims(abi):
    attn = abi.functions["attn"]
    assert [s.name for s in attn.inputs] == ["query", "key", "value", "gate"]
    assert all(s.dtype == np.float32 for s in attn.inputs)
    assert attn.inputs[0].shape == ("batch", 4, "seq", 32)
    assert attn.inputs[1].shape == ("batch", 2, "seq", 32)
    assert attn.inputs[3].shape == ("batch", 4, "seq", 1)
    assert [(s.name, s.dtype, s.shape) for s in attn.outputs] == \
        [("output", np.dtype(np.float32), ("batch", 4, "seq", 32))]

    la = abi.functions["la"]
    assert [s.name for s in la.inputs] == ["query", "key", "value", "decay", "beta",
                                           "initial_state"]
    assert [s.dtype for s in la.inputs] == [np.dtype(np.float16)] * 5 + [np.dtype(np.float32)]
    assert la.inputs[3].shape == ("b", 2, "t")
    assert la.inputs[5].shape == ("b", 2, 16, 24)
    assert [(s.name, s.dtype) for s in la.outputs] == [("output", np.dtype(np.float16)),
                                                       ("final_state", np.dtype(np.float32))]
    assert la.outputs[0].shape == ("b", 2, "t", 24)
    assert la.outputs[1].shape == ("b", 2, 16, 24)

    masked = abi.functions["masked"]
    assert masked.inputs[3].name == "mask" and masked.inputs[3].dtype == np.bool_
    assert masked.inputs[3].shape == ("b", 1, "sq", "skv")
    assert masked.outputs[0].shape == ("b", 2, "sq", 16)

    conv = abi.functions["conv"]
    assert [s.shape for s in conv.inputs] == [("b", 6, "l"), (6, 4), (6,), ("b", 6, 3)]
    assert [s.shape for s in conv.outputs] == [("b", 6, "l"), ("b", 6, 3)]

    # no gatec.name / gatec.dims: positional names, unnamed dynamic dims
    un = abi.functions["unnamed"]
    assert [s.name for s in un.inputs] == ["arg0", "arg1"]
    assert un.inputs[0].shape == (None, 5)
    assert un.outputs[0].name == "output0"


def test_raw_signature_matches(raw):
    fn = raw.fns["attn"]
    assert (fn.num_inputs, fn.num_outputs) == (4, 1)
    q = fn.inputs[0]
    assert (q.name, q.dtype, q.rank) == (b"query", F32, 4)
    assert [q.dims[d].size for d in range(4)] == [-1, 4, -1, 32]
    assert [q.dims[d].symbol for d in range(4)] == [b"batch", b"", b"seq", b""]
    out = fn.outputs[0]
    # output dims that are not static are input dims: batch = query[0], seq = query[2]
    for d, src in ((0, 0), (2, 2)):
        dim = out.dims[d]
        assert dim.size == -1 and dim.constant == 0
        assert dim.input[1] == -1
        assert fn.inputs[dim.input[0]].dims[dim.input_dim[0]].size == -1
        assert dim.input_dim[0] == src
    assert raw.fns["la"].inputs[5].dtype == F32 and raw.fns["la"].inputs[0].dtype == F16
    assert raw.fns["masked"].inputs[3].dtype == BOOL


@pytest.mark.parametrize("T", [1, 300])
def test_output_shape_query(raw, abi, T):
    fn = raw.fns["attn"]
    ins = attn_inputs(B=3, T=T)
    row = (ctypes.c_int64 * 4)(-7, -7, -7, -7)
    rows = (ctypes.POINTER(ctypes.c_int64) * 1)(ctypes.cast(row, ctypes.POINTER(ctypes.c_int64)))
    st = fn.output_shapes(tensors([tensor(a) for a in ins]), 4, rows)
    assert st == GATEC_OK, raw.error()
    assert list(row) == [3, 4, T, 32]
    (out,) = abi.attn(*ins)
    assert out.shape == (3, 4, T, 32)
    if T == 1:
        ku.assert_close(out, attn_ref(ins), 1e-4)

    la = raw.fns["la"]
    lins = la_inputs(B=2, T=T)
    r0 = (ctypes.c_int64 * 4)()
    r1 = (ctypes.c_int64 * 4)()
    rows = (ctypes.POINTER(ctypes.c_int64) * 2)(ctypes.cast(r0, ctypes.POINTER(ctypes.c_int64)),
                                                ctypes.cast(r1, ctypes.POINTER(ctypes.c_int64)))
    assert la.output_shapes(tensors([tensor(a) for a in lins]), 6, rows) == GATEC_OK, raw.error()
    assert list(r0) == [2, 2, T, 24] and list(r1) == [2, 2, 16, 24]

    m = raw.fns["masked"]
    rng = np.random.default_rng(0)
    mins = [rng.standard_normal((1, 2, T, 16)).astype(np.float32),
            rng.standard_normal((1, 2, 9, 16)).astype(np.float32),
            rng.standard_normal((1, 2, 9, 16)).astype(np.float32),
            np.ones((1, 1, T, 9), dtype=np.bool_)]
    row = (ctypes.c_int64 * 4)()
    rows = (ctypes.POINTER(ctypes.c_int64) * 1)(ctypes.cast(row, ctypes.POINTER(ctypes.c_int64)))
    assert m.output_shapes(tensors([tensor(a) for a in mins]), 4, rows) == GATEC_OK, raw.error()
    assert list(row) == [1, 2, T, 16]


def test_output_dim_sum_of_inputs(build):
    """present = concat(past, new): dimension p + t, a two-term output dim."""
    m = ku.compile_module(ku.module_text([KV_FUNC]), str(build / "kv"), "kv")
    assert m.outputs[0].shape[2] is None or isinstance(m.outputs[0].shape[2], str)
    for p, t in ((0, 1), (5, 1), (7, 300)):
        past = np.random.default_rng(p).standard_normal((2, 2, p, 8)).astype(np.float32)
        new = np.random.default_rng(t).standard_normal((2, 2, t, 8)).astype(np.float32)
        (out,) = m(past, new)
        assert out.shape == (2, 2, p + t, 8)
        np.testing.assert_array_equal(out, np.concatenate([past, new], axis=2))


# --------------------------------------------------------------------------- #
# rejected calls through gatec.load
# --------------------------------------------------------------------------- #
def _expect_error(fn, args, *names):
    with pytest.raises(gatec.Error) as e:
        fn(*args)
    msg = str(e.value)
    for n in names:
        assert n in msg, f"message {msg!r} does not name {n!r}"
    return msg


def test_python_wrong_input_count(abi):
    ins = attn_inputs()
    _expect_error(abi.attn, ins[:3], "expected 4 inputs", "gate")
    _expect_error(abi.attn, ins + ins[:1], "expected 4 inputs")
    _expect_error(abi.attn, [], "expected 4 inputs")


def test_python_wrong_dtype(abi):
    ins = attn_inputs()
    ins[1] = ins[1].astype(np.float64)
    _expect_error(abi.attn, ins, "'key'", "float64")
    lins = la_inputs()
    lins[0] = lins[0].astype(np.float32)  # f16 expected
    _expect_error(abi.la, lins, "'query'", "float16")
    lins = la_inputs()
    lins[5] = lins[5].astype(np.float16)  # the state is f32
    _expect_error(abi.la, lins, "'initial_state'")


def test_python_wrong_rank(abi):
    ins = attn_inputs()
    ins[2] = ins[2][0]
    _expect_error(abi.attn, ins, "'value'", "rank")
    ins = attn_inputs()
    ins[3] = ins[3][..., 0]  # headwise gate without its trailing 1
    _expect_error(abi.attn, ins, "'gate'", "rank")


def test_python_wrong_static_dim(abi):
    ins = attn_inputs()
    ins[0] = np.zeros((2, 3, 5, 32), np.float32)  # 3 heads, 4 expected
    _expect_error(abi.attn, ins, "'query'", "dimension 1")
    ins = attn_inputs()
    ins[2] = np.zeros((2, 2, 5, 33), np.float32)
    _expect_error(abi.attn, ins, "'value'", "dimension 3")
    ins = attn_inputs()
    ins[3] = np.zeros((2, 4, 5, 32), np.float32)  # elementwise gate to a headwise function
    _expect_error(abi.attn, ins, "'gate'")
    cins = [np.zeros((1, 6, 4), np.float32), np.zeros((6, 3), np.float32),
            np.zeros((6,), np.float32), np.zeros((1, 6, 3), np.float32)]
    _expect_error(abi.conv, cins, "'weight'")


def test_python_inconsistent_symbolic_dims(abi):
    ins = attn_inputs(T=5)
    ins[1] = attn_inputs(T=6)[1]
    _expect_error(abi.attn, ins, "'key'", "seq")
    ins = attn_inputs(B=2)
    ins[3] = attn_inputs(B=3)[3]
    _expect_error(abi.attn, ins, "'gate'", "batch")
    lins = la_inputs(T=7)
    lins[4] = la_inputs(T=8)[4]  # beta
    _expect_error(abi.la, lins, "'beta'", "'t'")
    lins = la_inputs(B=2)
    lins[5] = la_inputs(B=1)[5]  # initial_state batch
    _expect_error(abi.la, lins, "'initial_state'")
    rng = np.random.default_rng(0)
    mins = [rng.standard_normal((1, 2, 4, 16)).astype(np.float32),
            rng.standard_normal((1, 2, 9, 16)).astype(np.float32),
            rng.standard_normal((1, 2, 9, 16)).astype(np.float32),
            np.ones((1, 1, 4, 8), dtype=np.bool_)]  # skv 8 vs 9
    _expect_error(abi.masked, mins, "'mask'", "skv")


def test_python_accepts_views_and_still_works_after_errors(abi):
    ins = attn_inputs(T=9)
    for bad in ([], ins[:2], [ins[0].astype(np.float16)] + ins[1:]):
        with pytest.raises(gatec.Error):
            abi.attn(*bad)
    # non-contiguous views are copied by the loader
    big = np.random.default_rng(3).standard_normal((2, 4, 9, 64)).astype(np.float32)
    ins[0] = big[..., ::2]
    (out,) = abi.attn(*ins)
    ku.assert_close(out, attn_ref(ins), 1e-4)


# --------------------------------------------------------------------------- #
# rejected calls through the raw C ABI
# --------------------------------------------------------------------------- #
def _outputs(raw, fname, ins, fill=np.nan):
    """Correctly shaped output buffers, filled with a sentinel."""
    fn = raw.fns[fname]
    rows = [(ctypes.c_int64 * 16)() for _ in range(fn.num_outputs)]
    rp = (ctypes.POINTER(ctypes.c_int64) * fn.num_outputs)(
        *[ctypes.cast(r, ctypes.POINTER(ctypes.c_int64)) for r in rows])
    assert fn.output_shapes(tensors([tensor(a) for a in ins]), len(ins), rp) == 0, raw.error()
    outs = []
    for o in range(fn.num_outputs):
        info = fn.outputs[o]
        dt = {F32: np.float32, F16: np.float16}[info.dtype]
        outs.append(np.full(tuple(rows[o][d] for d in range(info.rank)), fill, dtype=dt))
    return outs


def _call(raw, fname, in_tensors, out_tensors, nin=None, nout=None):
    fn = raw.fns[fname]
    ti = tensors(in_tensors) if in_tensors is not None else None
    to = tensors(out_tensors) if out_tensors is not None else None
    return fn.run(ti, len(in_tensors) if nin is None else nin, to,
                  len(out_tensors) if nout is None else nout)


def _untouched(outs, fill=np.nan):
    for o in outs:
        if np.isnan(fill):
            assert np.all(np.isnan(o.astype(np.float32))), "a rejected call wrote an output"
        else:
            assert np.all(o == fill), "a rejected call wrote an output"


def test_raw_success_then_rejections_leave_outputs_untouched(raw):
    ins = attn_inputs(T=33)
    outs = _outputs(raw, "attn", ins)
    st = _call(raw, "attn", [tensor(a) for a in ins], [tensor(o) for o in outs])
    assert st == GATEC_OK, raw.error()
    ku.assert_close(outs[0], attn_ref(ins), 1e-4)

    cases = []
    # wrong input count
    cases.append(("count", [tensor(a) for a in ins[:3]], None, ARGUMENT_COUNT, ["4"]))
    # wrong dtype (claims f16)
    t = [tensor(a) for a in ins]
    t[2] = tensor(ins[2], dtype=F16)
    cases.append(("dtype", t, None, DTYPE, ["'value'"]))
    # wrong rank
    t = [tensor(a) for a in ins]
    t[0] = tensor(ins[0].reshape(2, 4, -1))
    cases.append(("rank", t, None, RANK, ["'query'"]))
    # wrong static dim
    t = [tensor(a) for a in ins]
    t[1] = tensor(np.zeros((2, 3, 33, 32), np.float32))
    cases.append(("static", t, None, SHAPE, ["'key'"]))
    # inconsistent symbolic dims
    t = [tensor(a) for a in ins]
    t[2] = tensor(np.zeros((2, 2, 34, 32), np.float32))
    cases.append(("symbol", t, None, SHAPE, ["'value'", "seq"]))
    # NULL data
    t = [tensor(a) for a in ins]
    t[1] = tensor(ins[1], data=None)
    cases.append(("null", t, None, NULL_POINTER, ["'key'"]))
    # NULL shape
    t = [tensor(a) for a in ins]
    t[3] = Tensor(ins[3].ctypes.data, F32, 4, None, None)
    cases.append(("null shape", t, None, NULL_POINTER, ["'gate'"]))
    # negative dim
    t = [tensor(a) for a in ins]
    t[0] = tensor(ins[0], shape=(2, 4, -33, 32))
    cases.append(("negative", t, None, SHAPE, ["'query'"]))
    # strided (not row-major) input
    t = [tensor(a) for a in ins]
    t[0] = tensor(ins[0], strides=(4 * 33 * 32, 33 * 32, 1, 33))
    cases.append(("strides", t, None, SHAPE, ["'query'"]))

    for what, tin, tout, status, names in cases:
        fresh = [np.full_like(o, np.nan) for o in outs]
        st = _call(raw, "attn", tin, tout if tout is not None else [tensor(o) for o in fresh])
        assert st == status, f"{what}: status {st}, expected {status} ({raw.error()})"
        msg = raw.error()
        for n in names:
            assert n in msg, f"{what}: message {msg!r} does not name {n}"
        _untouched(fresh)

    # explicit row-major strides are accepted
    t = [tensor(a) for a in ins]
    t[0] = tensor(ins[0], strides=(4 * 33 * 32, 33 * 32, 32, 1))
    fresh = [np.full_like(o, np.nan) for o in outs]
    assert _call(raw, "attn", t, [tensor(o) for o in fresh]) == GATEC_OK, raw.error()
    np.testing.assert_array_equal(fresh[0], outs[0])


def test_raw_null_data_pointer_each_input(raw):
    """functions[i].run with data=None, input by input, outputs untouched."""
    lins = la_inputs(T=5)
    names = ["query", "key", "value", "decay", "beta", "initial_state"]
    for i, name in enumerate(names):
        outs = _outputs(raw, "la", lins)
        t = [tensor(a) for a in lins]
        t[i] = tensor(lins[i], data=None)
        st = _call(raw, "la", t, [tensor(o) for o in outs])
        assert st == NULL_POINTER, (name, st, raw.error())
        assert f"'{name}'" in raw.error()
        _untouched(outs)
    # a NULL output pointer too
    outs = _outputs(raw, "la", lins)
    st = _call(raw, "la", [tensor(a) for a in lins], [tensor(outs[0]), tensor(outs[1], data=None)])
    assert st == NULL_POINTER and "'final_state'" in raw.error(), raw.error()
    _untouched(outs[:1])
    # NULL arrays of tensors
    assert raw.fns["la"].run(None, 6, tensors([tensor(o) for o in outs]), 2) == NULL_POINTER
    assert raw.fns["la"].run(tensors([tensor(a) for a in lins]), 6, None, 2) == NULL_POINTER
    _untouched(outs)


def test_raw_wrong_outputs(raw):
    lins = la_inputs(T=6)
    good = _outputs(raw, "la", lins)
    # wrong shape of the second output: no partial write of the first
    outs = _outputs(raw, "la", lins)
    bad = np.full((2, 2, 16, 23), np.nan, np.float32)
    st = _call(raw, "la", [tensor(a) for a in lins], [tensor(outs[0]), tensor(bad)])
    assert st == OUTPUT, raw.error()
    assert "'final_state'" in raw.error()
    _untouched(outs[:1] + [bad])
    # wrong sequence length of the first output
    bad0 = np.full((2, 2, 7, 24), np.nan, np.float16)
    st = _call(raw, "la", [tensor(a) for a in lins], [tensor(bad0), tensor(outs[1])])
    assert st == OUTPUT and "'output'" in raw.error(), raw.error()
    _untouched([bad0, outs[1]])
    # wrong output dtype
    bad0 = np.full((2, 2, 6, 24), np.nan, np.float32)
    st = _call(raw, "la", [tensor(a) for a in lins], [tensor(bad0, dtype=F32), tensor(outs[1])])
    assert st == DTYPE and "'output'" in raw.error(), raw.error()
    _untouched([bad0, outs[1]])
    # wrong output rank
    st = _call(raw, "la", [tensor(a) for a in lins],
               [tensor(outs[0].reshape(2, 2, -1)), tensor(outs[1])])
    assert st == RANK and "'output'" in raw.error(), raw.error()
    _untouched(outs)
    # wrong number of outputs
    st = _call(raw, "la", [tensor(a) for a in lins], [tensor(outs[0])])
    assert st == ARGUMENT_COUNT, raw.error()
    _untouched(outs)
    # and then a good call works
    st = _call(raw, "la", [tensor(a) for a in lins], [tensor(o) for o in good])
    assert st == GATEC_OK, raw.error()
    assert np.all(np.isfinite(good[0].astype(np.float32))) and np.all(np.isfinite(good[1]))


def test_raw_output_shapes_rejects_bad_inputs(raw):
    fn = raw.fns["attn"]
    ins = attn_inputs(T=4)
    ins[1] = attn_inputs(T=5)[1]
    row = (ctypes.c_int64 * 4)(-7, -7, -7, -7)
    rows = (ctypes.POINTER(ctypes.c_int64) * 1)(ctypes.cast(row, ctypes.POINTER(ctypes.c_int64)))
    st = fn.output_shapes(tensors([tensor(a) for a in ins]), 4, rows)
    assert st == SHAPE and "'key'" in raw.error()
    assert list(row) == [-7] * 4
    assert fn.output_shapes(tensors([tensor(a) for a in ins[:2]]), 2, rows) == ARGUMENT_COUNT


def test_last_error_is_per_thread(raw):
    ins = attn_inputs()
    outs = _outputs(raw, "attn", ins)
    t = [tensor(a) for a in ins]
    t[1] = tensor(ins[1], dtype=F16)
    assert _call(raw, "attn", t, [tensor(o) for o in outs]) == DTYPE
    mine = raw.error()
    assert "'key'" in mine
    seen = {}

    def other():
        t2 = [tensor(a) for a in ins]
        t2[2] = tensor(ins[2], dtype=F16)
        seen["st"] = _call(raw, "attn", t2, [tensor(o) for o in outs])
        seen["msg"] = raw.error()

    th = threading.Thread(target=other)
    th.start()
    th.join()
    assert seen["st"] == DTYPE and "'value'" in seen["msg"]
    assert raw.error() == mine


def test_raw_shapes_beyond_memory_are_rejected(raw):
    """A shape whose element count overflows int64, or whose bytes exceed the
    address space, is a shape error naming the input; nothing is written."""
    ins = attn_inputs(T=5)
    outs = _outputs(raw, "attn", ins)
    for seq in (2**61, 2**44, 2**40):  # the product overflows / 2^54 bytes / 2^49 bytes
        bad = [tensor(a, shape=(2, a.shape[1], seq, a.shape[3])) for a in ins]
        st = _call(raw, "attn", bad, [tensor(o) for o in outs])
        assert st == 5, (seq, st, raw.error())
        assert "input 0 ('query') has more elements than memory can hold" in raw.error()
    _untouched(outs)


def test_set_num_threads_while_other_threads_call(abi):
    """set_num_threads from one thread while others call: every result equals
    the serial one (the thread count is read atomically at each region)."""
    work = [attn_inputs(B=2, T=T, seed=T) for T in (9, 64, 130, 257)]
    expect = [abi.attn(*w)[0] for w in work]
    stop = threading.Event()
    errors = []

    def worker(i):
        try:
            while not stop.is_set():
                np.testing.assert_array_equal(abi.attn(*work[i])[0], expect[i])
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(work))]
    for th in threads:
        th.start()
    try:
        for n in (1, 3, 2, 0, 4, 1, 2) * 20:
            abi.set_num_threads(n)
    finally:
        stop.set()
        for th in threads:
            th.join()
        abi.set_num_threads(0)
    assert not errors, errors[0]


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_ten_thousand_calls_keep_memory_flat(abi):
    """10,000 calls (with intermediates freed or cached) do not grow the
    process: resident memory after the last call is within 8 MB of that after
    the first thousand."""
    ins = attn_inputs(B=1, T=40, seed=3)
    lins = la_inputs(B=1, T=9)
    for _ in range(1000):
        abi.attn(*ins)
        abi.functions["la"](*lins)
    base = _rss_bytes()
    for _ in range(9000):
        abi.attn(*ins)
        abi.functions["la"](*lins)
    grown = _rss_bytes() - base
    assert grown < 8 << 20, f"resident memory grew {grown / 2**20:.1f} MB over 9,000 calls"


def test_concurrent_calls(abi):
    """Calls from 8 threads at once (ctypes drops the GIL), each with its own
    shapes, give the results of sequential calls."""
    work = [attn_inputs(B=b, T=T, seed=T) for b, T in
            ((2, 1), (1, 17), (2, 64), (3, 65), (2, 130), (1, 200), (2, 33), (1, 257))]
    expect = [abi.attn(*w)[0] for w in work]
    got = [None] * len(work)
    errors = []

    def worker(i):
        try:
            for _ in range(3):
                got[i] = abi.attn(*work[i])[0]
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(work))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for e, g in zip(expect, got):
        np.testing.assert_array_equal(e, g)


_WAIT_SCRIPT = """
import ctypes, sys, time
import numpy as np
sys.path[:0] = [{python!r}, {tests!r}]
import gatec
m = gatec.load({path!r}, "abi")
omp = ctypes.CDLL("libomp.so.5")
before = omp.kmp_get_blocktime()
rng = np.random.default_rng(0)
ins = [rng.standard_normal(s).astype(np.float32)
       for s in ((2, 4, 300, 32), (2, 2, 300, 32), (2, 2, 300, 32), (2, 4, 300, 1))]
for _ in range(3):
    m.attn(*ins)
after = omp.kmp_get_blocktime()
c0 = time.process_time(); time.sleep(0.3); idle = time.process_time() - c0
print(before, after, idle)
"""


@pytest.mark.parametrize("env", [{}, {"OMP_WAIT_POLICY": "PASSIVE"},
                                 {"OMP_WAIT_POLICY": "ACTIVE"}, {"KMP_BLOCKTIME": "50"}])
def test_openmp_wait_policy_of_a_call(abi_path, env):
    """During a call the workers spin between parallel regions; after it they
    sleep within milliseconds (not libomp's default 200 ms), and the caller's
    own blocktime is unchanged. The user's KMP_BLOCKTIME or an active wait
    policy is obeyed, with no message from libomp."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = _WAIT_SCRIPT.format(python=os.path.dirname(here), tests=here, path=abi_path)
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "KMP_BLOCKTIME")}
    proc = subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "OMP:" not in proc.stderr, proc.stderr
    before, after, idle = proc.stdout.split()
    assert before == after
    if env.get("OMP_WAIT_POLICY") == "ACTIVE":
        return  # spinning forever is what was asked for
    # Workers spinning for the whole sleep would show about 0.3 s here.
    limit = 0.1 if "KMP_BLOCKTIME" not in env else 0.2
    assert float(idle) < limit, f"idle workers used {idle} s of CPU"


UNNAMED_FUNCS = """func.func @rows(%x: tensor<?x5xf32>, %g: tensor<?x5xf32>) -> tensor<?x5xf32> {
  %0 = gate.gate %x, %g : tensor<?x5xf32>, tensor<?x5xf32> -> tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}
func.func @attn(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>)
    -> tensor<?x2x?x16xf32> {
  %0 = gate.sdpa %q, %k, %v : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
      -> tensor<?x2x?x16xf32>
  return %0 : tensor<?x2x?x16xf32>
}
"""


def test_unnamed_dynamic_dims_are_checked(build):
    """Dims the op ties together must agree even when the function gives them
    no symbol (an embedder's MLIR, or an ONNX input with an anonymous dim)."""
    m = ku.compile_module(ku.module_text([UNNAMED_FUNCS]), str(build / "unnamed"), "unnamed")
    proc = _subprocess(f"""
        import numpy as np, gatec
        m = gatec.load({m.path!r})
        z = lambda *s: np.ones(s, np.float32)
        calls = [("rows", (z(4, 5), z(3, 5))),
                 ("attn", (z(2, 2, 3, 16), z(1, 2, 5, 16), z(1, 2, 5, 16))),
                 ("attn", (z(1, 2, 3, 16), z(1, 2, 5, 16), z(1, 2, 4, 16)))]
        bad = []
        for fn, args in calls:
            try:
                m.functions[fn](*args)
                bad.append((fn, [a.shape for a in args]))
            except gatec.Error:
                pass
        assert not bad, f"accepted: {{bad}}"
        print("ok")
    """)
    assert proc.returncode == 0, f"status {proc.returncode}\n{proc.stdout}{proc.stderr}"


# --------------------------------------------------------------------------- #
# two libraries in one process
# --------------------------------------------------------------------------- #
def _f_module(act: str, width: int) -> str:
    return ku.module_text([ku.gate_func("f", ("n", width), ("n", width), "f32", act)])


@pytest.fixture(scope="module")
def two_libs(build):
    a = ku.compile_module(_f_module("sigmoid", 8), str(build / "one"), "one")
    b = ku.compile_module(_f_module("silu", 8), str(build / "two"), "two")
    return a, b


def test_two_libraries_with_same_function_name(two_libs):
    a, b = two_libs
    assert list(a.functions) == ["f"] == list(b.functions)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 8)).astype(np.float32)
    g = rng.standard_normal((5, 8)).astype(np.float32) * 3
    for _ in range(2):  # alternate
        (ya,) = a(x, g)
        (yb,) = b(x, g)
        ku.assert_close(ya, R.gate(x, g, "sigmoid"), 1e-5)
        ku.assert_close(yb, R.gate(x, g, "silu"), 1e-5)
    # the error state is per library
    with pytest.raises(gatec.Error):
        a(x, g[:, :4])
    assert "'gate'" in a._lib_desc.last_error().decode()
    assert b._lib_desc.last_error().decode() == ""
    # single-function libraries: the entry points carry the library name only
    for lib, name in ((a, "one"), (b, "two")):
        dll = ctypes.CDLL(lib.path, mode=ctypes.RTLD_LOCAL)
        assert hasattr(dll, f"{name}_run") and hasattr(dll, f"{name}_output_shapes")
        assert hasattr(dll, f"{name}_library")


def _subprocess(code: str, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ku.REPO, "python"),
                                         os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_two_libraries_global_symbols_do_not_interpose(two_libs):
    """Even with the first library's symbols made global (RTLD_GLOBAL, as a
    C embedder linking both might), each library runs its own kernels."""
    a, b = two_libs
    proc = _subprocess(f"""
        import ctypes, numpy as np, gatec
        from gatec import reference as R
        ctypes.CDLL({a.path!r}, mode=ctypes.RTLD_GLOBAL)
        b = gatec.load({b.path!r})
        a = gatec.load({a.path!r})
        x = np.linspace(-3, 3, 40, dtype=np.float32).reshape(5, 8)
        g = np.linspace(4, -4, 40, dtype=np.float32).reshape(5, 8)
        for m, act in ((b, "silu"), (a, "sigmoid"), (b, "silu")):
            (y,) = m(x, g)
            err = np.max(np.abs(y - R.gate(x, g, act)))
            assert err < 1e-5, (m.name, act, err)
        print("ok")
    """)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok" in proc.stdout


# --------------------------------------------------------------------------- #
# zero-size dims (in a subprocess: a crash must fail the test, not the run)
# --------------------------------------------------------------------------- #
def test_zero_size_inputs(abi_path):
    proc = _subprocess(f"""
        import numpy as np, gatec
        from gatec import reference as R
        m = gatec.load({abi_path!r})
        z = lambda *s: np.zeros(s, np.float32)
        # B = 0: empty outputs
        (o,) = m.attn(z(0, 4, 5, 32), z(0, 2, 5, 32), z(0, 2, 5, 32), z(0, 4, 5, 1))
        assert o.shape == (0, 4, 5, 32), o.shape
        o, s = m.la(*[np.zeros(sh, np.float16) for sh in
                      ((0, 2, 3, 16), (0, 2, 3, 16), (0, 2, 3, 24), (0, 2, 3), (0, 2, 3))],
                    z(0, 2, 16, 24))
        assert o.shape == (0, 2, 3, 24) and s.shape == (0, 2, 16, 24)
        o, s = m.conv(z(0, 6, 4), z(6, 4), z(6), z(0, 6, 3))
        assert o.shape == (0, 6, 4) and s.shape == (0, 6, 3)
        (o,) = m.unnamed(z(0, 5), z(0, 5))
        assert o.shape == (0, 5)
        # T = 0: empty output; the final state is the initial state
        st = np.random.default_rng(0).standard_normal((2, 2, 16, 24)).astype(np.float32)
        o, s = m.la(*[np.zeros(sh, np.float16) for sh in
                      ((2, 2, 0, 16), (2, 2, 0, 16), (2, 2, 0, 24), (2, 2, 0), (2, 2, 0))], st)
        assert o.shape == (2, 2, 0, 24)
        np.testing.assert_array_equal(s, st)
        (o,) = m.attn(z(2, 4, 0, 32), z(2, 2, 0, 32), z(2, 2, 0, 32), z(2, 4, 0, 1))
        assert o.shape == (2, 4, 0, 32)
        # L = 0: the state passes through
        cs = np.random.default_rng(1).standard_normal((2, 6, 3)).astype(np.float32)
        o, s = m.conv(z(2, 6, 0), z(6, 4), z(6), cs)
        assert o.shape == (2, 6, 0)
        np.testing.assert_array_equal(s, cs)
        print("ok")
    """)
    assert proc.returncode == 0, f"status {proc.returncode}\n{proc.stdout}{proc.stderr}"
    assert "ok" in proc.stdout


def test_no_keys_gives_zero_rows(abi_path):
    """Skv = 0: every query row has every key masked, so the output is 0."""
    proc = _subprocess(f"""
        import numpy as np, gatec
        m = gatec.load({abi_path!r})
        q = np.ones((1, 2, 3, 16), np.float32)
        kv = np.zeros((1, 2, 0, 16), np.float32)
        (o,) = m.masked(q, kv, kv, np.zeros((1, 1, 3, 0), np.bool_))
        assert o.shape == (1, 2, 3, 16)
        assert np.all(o == 0), o
        print("ok")
    """)
    assert proc.returncode == 0, f"status {proc.returncode}\n{proc.stdout}{proc.stderr}"
    assert "ok" in proc.stdout


def test_header_compiles(abi_path, tmp_path):
    """The generated header is valid C against include/gatec-c/runtime.h."""
    header = os.path.join(os.path.dirname(abi_path), "abi.h")
    assert os.path.isfile(header)
    text = open(header).read()
    for sym in ("abi_library", "abi_attn_run", "abi_la_output_shapes", "abi_last_error",
                "abi_set_num_threads"):
        assert sym in text
    cc = next((c for c in ("cc", "clang", "gcc", "clang-22") if
               subprocess.run(["which", c], capture_output=True).returncode == 0), None)
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "use.c"
    src.write_text('#include "abi.h"\nint main(void) { const gatec_library *l = abi_library();\n'
                   '  return l->abi_version == GATEC_ABI_VERSION && l->num_functions == 5 ? 0 : 1; }\n')
    exe = tmp_path / "use"
    proc = subprocess.run([cc, "-std=c99", "-Wall", "-Werror", str(src), "-o", str(exe),
                           "-I", os.path.dirname(abi_path), "-I", os.path.join(ku.REPO, "include"),
                           abi_path, f"-Wl,-rpath,{os.path.dirname(abi_path)}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(exe)]).returncode == 0


ALLOC_TEST = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *ptr);
int main(void) {
  size_t aligns[] = {8, 64, 128, 4096};
  size_t sizes[] = {1, 1000, 1 << 16, 3 << 20};
  for (int r = 0; r < 3; ++r)          /* again: cached blocks are reused */
    for (int a = 0; a < 4; ++a)
      for (int s = 0; s < 4; ++s) {
        char *p = _mlir_memref_to_llvm_aligned_alloc(aligns[a], sizes[s]);
        size_t want = aligns[a] < 64 ? 64 : aligns[a];
        if (!p || (uintptr_t)p % want) { printf("bad %zu %zu\n", aligns[a], sizes[s]); return 1; }
        memset(p, 0x5a, sizes[s]);
        _mlir_memref_to_llvm_free(p);
      }
  if (_mlir_memref_to_llvm_aligned_alloc(96, 8)) { printf("96 accepted\n"); return 1; }
  _mlir_memref_to_llvm_free(NULL);
  return 0;
}
"""


def test_runtime_allocation_honours_alignment(tmp_path):
    """The runtime's allocator returns blocks aligned as asked (beyond the
    64 bytes every block has), writable over their size, freed and reused
    from its cache; a non-power-of-two alignment is refused."""
    lib = os.path.join(ku.BUILD, "lib", "libgatec_runtime.a")
    cc = next((c for c in ("cc", "clang", "gcc", "clang-22") if
               subprocess.run(["which", c], capture_output=True).returncode == 0), None)
    if cc is None or not os.path.exists(lib):
        pytest.skip("no C compiler or runtime library")
    src = tmp_path / "alloc.c"
    src.write_text(ALLOC_TEST)
    exe = tmp_path / "alloc"
    proc = subprocess.run([cc, "-O1", str(src), lib, "-lpthread", "-o", str(exe)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


FUZZ_SCRIPT = r"""
import ctypes, sys
import numpy as np
sys.path[:0] = [{tests!r}, {python!r}]
import test_abi as T

raw = T.Raw({path!r}, "abi")
rng = np.random.default_rng({seed})
codes = [T.F32, T.F16, T.BOOL, 0, 5, 6, 7, 99, -1]
valid = {{"attn": lambda: T.attn_inputs(B=int(rng.integers(1, 3)), T=int(rng.integers(1, 40))),
          "la": lambda: T.la_inputs(B=int(rng.integers(1, 3)), T=int(rng.integers(1, 20)))}}
calls = statuses = 0
for it in range({iters}):
    name = ("attn", "la")[it % 2]
    ins = valid[name]()
    shapes = [list(a.shape) for a in ins]
    dtypes = [None] * len(ins)
    datas = ["array"] * len(ins)
    strides = [None] * len(ins)
    nin = len(ins)
    for _ in range(int(rng.integers(1, 3))):
        i = int(rng.integers(len(ins)))
        kind = int(rng.integers(7))
        if kind == 0 and shapes[i]:      # one dimension: negative, 0, off by one, beyond memory
            d = int(rng.integers(len(shapes[i])))
            shapes[i][d] = int(rng.choice([-1, -7, 0, shapes[i][d] + 1, max(shapes[i][d] - 1, 0),
                                           2**45, 2**62]))
        elif kind == 1:                  # rank
            shapes[i] = shapes[i][:-1] if shapes[i] and rng.integers(2) else shapes[i] + [1]
        elif kind == 2:                  # dtype code
            dtypes[i] = int(rng.choice(codes))
        elif kind == 3:                  # NULL data
            datas[i] = None
        elif kind == 4 and len(shapes[i]) > 1:   # non-contiguous strides
            st = [1] * len(shapes[i])
            for d in range(len(st) - 2, -1, -1):
                st[d] = st[d + 1] * max(shapes[i][d + 1], 1)
            st[-1] = 2
            strides[i] = st
        elif kind == 5:                  # input count
            nin = int(rng.choice([0, len(ins) - 1, len(ins) + 1]))
        else:                            # a shrunk buffer is only ever passed with a bad shape
            pass
    # Data buffers always hold the claimed shape when it is small enough.
    tens = []
    for a, shp, dt, data, st in zip(ins, shapes, dtypes, datas, strides):
        n = int(np.prod([max(x, 0) for x in shp])) if shp else 1
        buf = a if n <= a.size else np.zeros(n if n < 10**7 else 1, a.dtype)
        t = T.tensor(buf.reshape(-1), dtype=dt if dt is not None else None, shape=shp,
                     data=("array" if data == "array" else None), strides=st)
        if dt is None:
            t.dtype = {{np.dtype(np.float32): T.F32, np.dtype(np.float16): T.F16}}[a.dtype]
        tens.append(t)
    ok_shapes = T._outputs(raw, name, ins)
    outs = [T.tensor(o) for o in ok_shapes]
    st = T._call(raw, name, tens, outs, nin=nin)
    calls += 1
    statuses += st != 0
    if st:
        assert raw.error(), "a failed call left no message"
print(calls, statuses)
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_randomized_bad_calls_are_rejected_not_crashed(abi_path, seed):
    """Random corruptions of valid calls (dimensions negative, zero, off by
    one or beyond memory; ranks; dtype codes; NULL data; strides; input
    counts): every call returns (no crash, in a child process), and every
    rejection carries a message."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = FUZZ_SCRIPT.format(tests=here, python=os.path.dirname(here), path=abi_path, seed=seed,
                              iters=1500)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-4000:])
    calls, rejected = map(int, proc.stdout.split())
    assert calls == 1500 and rejected > 500, (calls, rejected)


def test_python_out_arrays(abi):
    """out=: the caller's arrays are written in place (no new output) and
    must match the outputs exactly; overlapping an input is refused."""
    ins = attn_inputs()
    (ref,) = abi.attn(*ins)
    o = np.full_like(ref, np.nan)
    (got,) = abi.attn(*ins, out=[o])
    assert got is o and np.array_equal(o, ref)
    (got,) = abi.attn(*ins, out=(o,))
    assert got is o and np.array_equal(o, ref)
    _expect_error(lambda *a: abi.attn(*a, out=o), ins, "out= must be a list or tuple of 1")
    _expect_error(lambda *a: abi.attn(*a, out=[o, o]), ins, "of 2")
    _expect_error(lambda *a: abi.attn(*a, out=[o.astype(np.float64)]), ins, "'output'", "float64")
    _expect_error(lambda *a: abi.attn(*a, out=[o[:, :, :-1]]), ins, "shape")
    _expect_error(lambda *a: abi.attn(*a, out=[o.tolist()]), ins, "numpy array")
    _expect_error(lambda *a: abi.attn(*a, out=[np.asfortranarray(o)]), ins, "C-contiguous")
    ro = o.copy()
    ro.flags.writeable = False
    _expect_error(lambda *a: abi.attn(*a, out=[ro]), ins, "writeable")
    # the query (same shape and dtype as the output) passed as the output too
    _expect_error(lambda *a: abi.attn(*a, out=[ins[0]]), ins, "overlaps an input")
