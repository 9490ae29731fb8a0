"""CUDA libraries (gatec --target=cuda) from Python.

Most tests need no GPU: they compile CUDA libraries, check their signatures,
the argument checks of device arrays (made before any driver access) and,
on a host without libcuda.so.1, the errors a call gives. `TestGPU` checks
results against the float64 references and runs only where the driver loads
and a device exists.
"""
from __future__ import annotations

import ctypes
import gc

import numpy as np
import pytest

import kernel_util as ku
import gatec
from gatec import cuda
from gatec import reference as R

pytestmark = pytest.mark.skipif(not ku.have_compiler(), reason="gatec compiler not built")


def _libcuda_loadable() -> bool:
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


HAVE_LIBCUDA = _libcuda_loadable()
HAVE_GPU = cuda.available() and cuda.device_count() > 0
no_driver_only = pytest.mark.skipif(HAVE_LIBCUDA, reason="libcuda.so.1 is loadable here")


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
class FakeDevice:
    """An object exposing __cuda_array_interface__ over a dummy pointer that
    must never be dereferenced."""

    def __init__(self, shape, typestr="<f2", ptr=0xDEAD0000, strides=None, readonly=False,
                 version=3, **extra):
        self.__cuda_array_interface__ = dict(shape=tuple(shape), typestr=typestr,
                                             data=(ptr, readonly), strides=strides,
                                             version=version, **extra)


def gated_sdpa_text(fname, Hq, Hkv, D, dtype, causal):
    return ku.sdpa_func(fname, ("b", Hq, "sq", D), ("b", Hkv, "skv", D), ("b", Hkv, "skv", D),
                        dtype, gate=("b", Hq, "sq", D), causal=causal)


def cuda_lib(tmp_path_factory, name, funcs, extra=()):
    d = tmp_path_factory.mktemp(name)
    return ku.compile_module(ku.module_text(funcs), str(d), name,
                             extra_args=["--target=cuda", *extra])


def boom(*a, **k):
    raise AssertionError("the CUDA driver was accessed")


# The raw example of the docs: unnamed arguments, GQA 8:2, causal.
RAW_F16 = """
func.func @main(%q: tensor<?x8x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x8x?x64xf16> {
  %o = gate.sdpa %q, %k, %v {causal} : tensor<?x8x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x8x?x64xf16>
  return %o : tensor<?x8x?x64xf16>
}
"""


@pytest.fixture(scope="module")
def f16_lib(tmp_path_factory):
    """f16 gated sdpa, GQA 8:2, causal, D = 64."""
    return cuda_lib(tmp_path_factory, "cu_f16",
                    [gated_sdpa_text("main", 8, 2, 64, "f16", True)])


@pytest.fixture(scope="module")
def raw_lib(tmp_path_factory):
    d = tmp_path_factory.mktemp("cu_raw")
    return ku.compile_module(RAW_F16, str(d), "cu_raw", extra_args=["--target=cuda"])


@pytest.fixture(scope="module")
def cpu_lib(tmp_path_factory):
    d = tmp_path_factory.mktemp("cpu_sdpa")
    return ku.compile_module(ku.module_text([gated_sdpa_text("main", 2, 1, 16, "f32", True)]),
                             str(d), "cpu_sdpa")


# --------------------------------------------------------------------------- #
# (a) compiling and loading
# --------------------------------------------------------------------------- #
def _check_sdpa_signature(m, dtype, Hq, Hkv, D):
    assert m.target == "cuda"
    f = m.functions["main"]
    assert [s.name for s in f.inputs] == ["query", "key", "value", "gate"]
    assert [s.shape for s in f.inputs] == [("b", Hq, "sq", D), ("b", Hkv, "skv", D),
                                          ("b", Hkv, "skv", D), ("b", Hq, "sq", D)]
    assert all(s.dtype == np.dtype(dtype) for s in f.inputs)
    assert [(s.name, s.dtype, s.shape) for s in f.outputs] == [
        ("output", np.dtype(dtype), ("b", Hq, "sq", D))]
    assert "(cuda)" in repr(m)


def test_f16_gated_sdpa_loads(f16_lib):
    _check_sdpa_signature(f16_lib, np.float16, 8, 2, 64)
    assert f16_lib._lib_desc.set_stream  # non-NULL for CUDA libraries


@pytest.mark.parametrize("precision", [None, "f32", "bf16", "f16", "tf32"])
def test_f32_gated_sdpa_loads(tmp_path_factory, precision):
    extra = [] if precision is None else [f"--gpu-precision={precision}"]
    m = cuda_lib(tmp_path_factory, f"cu_f32_{precision}",
                 [gated_sdpa_text("main", 4, 2, 128, "f32", False)], extra)
    _check_sdpa_signature(m, np.float32, 4, 2, 128)


def test_gpu_arch_list(tmp_path_factory):
    m = cuda_lib(tmp_path_factory, "cu_arch", [gated_sdpa_text("main", 2, 2, 64, "f16", False)],
                 ["--gpu-arch=sm_80,sm_90a"])
    _check_sdpa_signature(m, np.float16, 2, 2, 64)


def test_raw_example_loads(raw_lib):
    assert raw_lib.target == "cuda"
    assert [s.shape for s in raw_lib.inputs] == [(None, 8, None, 64), (None, 2, None, 64),
                                                (None, 2, None, 64)]
    assert all(s.dtype == np.float16 for s in raw_lib.inputs)
    assert [(s.dtype, s.shape) for s in raw_lib.outputs] == [(np.float16, (None, 8, None, 64))]


def test_gatec_compile_target_cuda(tmp_path):
    src = tmp_path / "attn.mlir"
    src.write_text(RAW_F16)
    path = gatec.compile(str(src), str(tmp_path / "libattn.so"), target="cuda",
                         extra_args=["--gpu-precision=f16"])
    assert gatec.load(path).target == "cuda"


def test_cpu_library_unchanged(cpu_lib):
    assert cpu_lib.target == "cpu"
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 2, 5, 16)).astype(np.float32)
    k = rng.standard_normal((1, 1, 5, 16)).astype(np.float32)
    v = rng.standard_normal((1, 1, 5, 16)).astype(np.float32)
    g = rng.standard_normal((1, 2, 5, 16)).astype(np.float32)
    (o,) = cpu_lib(q, k, v, g)
    assert isinstance(o, np.ndarray) and o.dtype == np.float32
    ku.assert_close(o, R.sdpa(q, k, v, gate=g, causal=True), ku.F32_TOL)
    with pytest.raises(gatec.Error, match="set_stream needs a CUDA library"):
        cpu_lib.set_stream(None)
    o2 = np.full_like(o, np.nan)
    (o3,) = cpu_lib(q, k, v, g, out=[o2])
    assert o3 is o2 and np.array_equal(o2, o)
    with pytest.raises(gatec.Error, match=r"input 0 \('query'\) must be a numpy array, got"):
        cpu_lib(FakeDevice((1, 2, 5, 16), "<f4"), k, v, g)


def test_set_stream(f16_lib):
    class TorchLikeStream:
        cuda_stream = 0x1234

    # the library only records the handle: no driver needed
    f16_lib.set_stream(0x5678)
    assert f16_lib._stream() == 0x5678
    f16_lib.set_stream(TorchLikeStream())
    assert f16_lib._stream() == 0x1234
    f16_lib.set_stream(ctypes.c_void_p(0x42))
    assert f16_lib._stream() == 0x42
    f16_lib.set_stream(None)
    assert f16_lib._stream() == 0
    for bad in ("s", 1.5, -1, True):
        with pytest.raises(gatec.Error, match="stream"):
            f16_lib.set_stream(bad)
    assert f16_lib._stream() == 0


# --------------------------------------------------------------------------- #
# (b) no driver on this host
# --------------------------------------------------------------------------- #
def _f16_inputs(B=1, Sq=5, Skv=5):
    rng = np.random.default_rng(1)
    return [rng.standard_normal(s).astype(np.float16)
            for s in ((B, 8, Sq, 64), (B, 2, Skv, 64), (B, 2, Skv, 64), (B, 8, Sq, 64))]


@no_driver_only
def test_no_driver_numpy_inputs(f16_lib):
    with pytest.raises(gatec.Error, match=r"CUDA driver \(libcuda\.so\.1\) is not available"):
        f16_lib(*_f16_inputs())
    assert not cuda.available() and cuda.device_count() == 0
    with pytest.raises(gatec.Error, match="CUDA driver"):
        cuda.to_device(np.zeros(3, np.float32))
    with pytest.raises(gatec.Error, match="CUDA driver"):
        cuda.DeviceArray((2, 2), np.float32)


@no_driver_only
def test_no_driver_device_inputs(f16_lib, raw_lib):
    ins = [FakeDevice(a.shape, "<f2", ptr=0x7F0000000000 + 0x100000 * i)
           for i, a in enumerate(_f16_inputs(B=2, Sq=65, Skv=65))]
    out = [FakeDevice((2, 8, 65, 64), "<f2", ptr=0x7F1000000000)]
    with pytest.raises(gatec.Error, match="CUDA driver") as e:
        f16_lib(*ins, out=out)
    # the library's own message (GATEC_ERROR_DEVICE), made without touching
    # the dummy pointers (a dereference would crash the test run)
    assert e.value.status == 7
    assert str(e.value) == f16_lib._lib_desc.last_error().decode()
    with pytest.raises(gatec.Error) as e:
        raw_lib(*ins[:3], out=out)
    assert e.value.status == 7 and "libcuda.so.1" in str(e.value)
    # without out= the outputs would be allocated with the driver
    with pytest.raises(gatec.Error, match=r"main: .*CUDA driver \(libcuda\.so\.1\)") as e:
        f16_lib(*ins)
    assert e.value.status is None
    # numpy and device inputs mixed: the copies need the driver
    with pytest.raises(gatec.Error, match="CUDA driver"):
        f16_lib(_f16_inputs(B=2, Sq=65, Skv=65)[0], *ins[1:])


# --------------------------------------------------------------------------- #
# (c) argument checks, before any driver access
# --------------------------------------------------------------------------- #
@pytest.fixture
def no_driver(monkeypatch):
    monkeypatch.setattr(cuda, "_load", boom)


def _fakes(B=1, Sq=5, Skv=7):
    return [FakeDevice(s) for s in ((B, 8, Sq, 64), (B, 2, Skv, 64), (B, 2, Skv, 64),
                                    (B, 8, Sq, 64))]


def test_device_arg_count(f16_lib, no_driver):
    with pytest.raises(gatec.Error, match=r"main: expected 4 inputs \(query, key, value, gate\), got 3"):
        f16_lib(*_fakes()[:3])
    with pytest.raises(gatec.Error, match="expected 4 inputs"):
        f16_lib(*_fakes(), _fakes()[0])


@pytest.mark.parametrize("typestr,name", [("<f4", "float32"), ("<f8", "float64"),
                                          ("<i4", "int32"), ("|b1", "bool"), ("<V2", r"\?"),
                                          ("<u2", "uint16")])
def test_device_arg_dtype(f16_lib, no_driver, typestr, name):
    ins = _fakes()
    ins[2] = FakeDevice((1, 2, 7, 64), typestr)
    with pytest.raises(gatec.Error, match=rf"main: input 2 \('value'\) has dtype {name} "
                                          rf"\(typestr '{typestr}'\), expected float16"):
        f16_lib(*ins)


def test_device_arg_rank(f16_lib, no_driver):
    ins = _fakes()
    ins[1] = FakeDevice((2, 7, 64))
    with pytest.raises(gatec.Error, match=r"main: input 1 \('key'\) has rank 3 \(shape \(2, 7, 64\)\), "
                                          r"expected rank 4 \[b, 2, skv, 64\]"):
        f16_lib(*ins)


def test_device_arg_strides(f16_lib, no_driver):
    ins = _fakes()
    # transposed (non-contiguous) gate
    ins[3] = FakeDevice((1, 8, 5, 64), strides=(2 * 8 * 5 * 64, 2 * 64, 2 * 8 * 64, 2))
    with pytest.raises(gatec.Error, match=r"main: input 3 \('gate'\) is not C-contiguous"):
        f16_lib(*ins)
    ins[3] = FakeDevice((1, 8, 5, 64), strides=(2, 2, 2))
    with pytest.raises(gatec.Error, match=r"input 3 \('gate'\) is not C-contiguous"):
        f16_lib(*ins)


def test_device_arg_contiguous_strides_accepted(f16_lib, monkeypatch):
    """Explicit C-contiguous strides (any stride on size-1 dims) pass the
    checks; the call then reaches the output allocation."""
    monkeypatch.setattr(cuda, "_load", boom)
    ins = _fakes()
    ins[0] = FakeDevice((1, 8, 5, 64), strides=(999, 5 * 64 * 2, 64 * 2, 2))
    with pytest.raises(AssertionError, match="driver was accessed"):
        f16_lib(*ins)


def test_device_arg_malformed(f16_lib, no_driver):
    class NoDict:
        __cuda_array_interface__ = 42

    ins = _fakes()
    ins[0] = NoDict()
    with pytest.raises(gatec.Error, match=r"input 0 \('query'\): malformed __cuda_array_interface__"):
        f16_lib(*ins)
    ins[0] = FakeDevice((1, 8, 5, 64), mask=FakeDevice((1, 8, 5, 64), "|b1"))
    with pytest.raises(gatec.Error, match=r"input 0 \('query'\): masked device arrays"):
        f16_lib(*ins)
    ins[0] = object()
    with pytest.raises(gatec.Error, match=r"input 0 \('query'\) must be a numpy array or an "
                                          r"object with __cuda_array_interface__, got object"):
        f16_lib(*ins)


def test_numpy_arg_checks(f16_lib, no_driver):
    """numpy inputs of CUDA libraries: the CPU path's checks and messages."""
    ins = _f16_inputs()
    bad = list(ins)
    bad[0] = ins[0].astype(np.float32)
    with pytest.raises(gatec.Error, match=r"main: input 0 \('query'\) has dtype float32, "
                                          r"expected float16"):
        f16_lib(*bad)
    bad = list(ins)
    bad[2] = ins[2][0]
    with pytest.raises(gatec.Error, match=r"main: input 2 \('value'\) has rank 3"):
        f16_lib(*bad)
    # a mixed call is checked as a whole too
    bad = _fakes()
    bad[1] = ins[1].astype(np.float64)
    with pytest.raises(gatec.Error, match=r"input 1 \('key'\) has dtype float64"):
        f16_lib(*bad)


def test_shape_mismatch_from_library(f16_lib, no_driver):
    """Inconsistent shapes: the library's output_shapes rejects them (it reads
    no data), before any copy or allocation."""
    ins = _fakes()
    ins[1] = FakeDevice((2, 2, 7, 64))  # batch 2 vs 1
    with pytest.raises(gatec.Error) as e:
        f16_lib(*ins)
    assert e.value.status == 5
    host = _f16_inputs()
    host[2] = host[2][:, :, :3]  # value length 3 vs key length 5
    with pytest.raises(gatec.Error) as e:
        f16_lib(*host)
    assert e.value.status == 5


def test_out_checks(f16_lib, no_driver):
    ins = _fakes(B=1, Sq=5)
    with pytest.raises(gatec.Error, match=r"main: expected 1 outputs in out= \(output\), got 2"):
        f16_lib(*ins, out=[FakeDevice((1, 8, 5, 64))] * 2)
    with pytest.raises(gatec.Error, match="out= must be a list or tuple"):
        f16_lib(*ins, out=FakeDevice((1, 8, 5, 64)))
    with pytest.raises(gatec.Error, match=r"output 0 \('output'\) in out= must be an object "
                                          r"with __cuda_array_interface__, got ndarray"):
        f16_lib(*ins, out=[np.empty((1, 8, 5, 64), np.float16)])
    with pytest.raises(gatec.Error, match=r"output 0 \('output'\) has dtype float32"):
        f16_lib(*ins, out=[FakeDevice((1, 8, 5, 64), "<f4")])
    with pytest.raises(gatec.Error, match=r"output 0 \('output'\) has rank 3"):
        f16_lib(*ins, out=[FakeDevice((8, 5, 64))])
    with pytest.raises(gatec.Error, match=r"output 0 \('output'\) in out= has shape "
                                          r"\(1, 8, 6, 64\), expected \(1, 8, 5, 64\)"):
        f16_lib(*ins, out=[FakeDevice((1, 8, 6, 64))])
    with pytest.raises(gatec.Error, match=r"output 0 \('output'\) is read-only"):
        f16_lib(*ins, out=[FakeDevice((1, 8, 5, 64), readonly=True)])
    with pytest.raises(gatec.Error, match=r"out= needs every input on the device; input 2 "
                                          r"\('value'\) is a numpy array"):
        mixed = list(ins)
        mixed[2] = np.zeros((1, 2, 7, 64), np.float16)
        f16_lib(*mixed, out=[FakeDevice((1, 8, 5, 64))])


def test_stream_handle():
    class S:
        cuda_stream = 77

    assert cuda.stream_handle(None) == 0
    assert cuda.stream_handle(5) == 5
    assert cuda.stream_handle(np.uint64(9)) == 9
    assert cuda.stream_handle(S()) == 77
    assert cuda.stream_handle(ctypes.c_void_p(None)) == 0
    with pytest.raises(gatec.Error):
        cuda.stream_handle("default")


# --------------------------------------------------------------------------- #
# (d) results on a GPU
# --------------------------------------------------------------------------- #
F16_SDPA = [(D, Hq, Hkv, causal) for D in (64, 128, 256, 40, 72)
            for (Hq, Hkv) in ((8, 2), (4, 4)) for causal in (True, False)]
F32_SDPA = [(D, Hq, Hkv, causal) for D in (64, 128, 40) for (Hq, Hkv) in ((8, 2),)
            for causal in (True, False)]
SQS = (1, 63, 65, 257)
SKV_NONCAUSAL = {1: 257, 63: 65, 65: 63, 257: 257}

# gate.linear_attention gated_delta: (name, dtype, Hq, Hk, Hv, K, V, decay kind)
LA = [("gd_s_gva", "f32", 2, 2, 4, 128, 128, "scalar"),
      ("gd_c_mha", "f32", 2, 2, 2, 24, 40, "channel"),
      ("gd_s_gqa", "f32", 4, 2, 2, 64, 64, "scalar"),
      ("gd_s_f16", "f16", 2, 2, 2, 128, 128, "scalar"),
      # reverse time (a name ending in _rev)
      ("gd_c_mha_rev", "f32", 2, 2, 2, 24, 40, "channel"),
      ("gd_s_f16_rev", "f16", 2, 2, 2, 128, 128, "scalar")]
# f32 with --gpu-precision=tf32: the f32 cases above and per-channel decay at
# K = 128 (the widest key head whose chunk buffers fit shared memory).
LA_TF32 = [c for c in LA if c[1] == "f32"] + [("gd_c128", "f32", 2, 2, 2, 128, 128, "channel")]


def sdpa_fname(D, Hq, Hkv, causal):
    return f"sdpa_d{D}_h{Hq}x{Hkv}_{'causal' if causal else 'full'}"


def la_text(name, dtype, Hq, Hk, Hv, K, V, dkind):
    d = ("b", Hv, "t") if dkind == "scalar" else ("b", Hv, "t", K)
    return ku.linear_attention_func(name, "gated_delta", ("b", Hq, "t", K), ("b", Hk, "t", K),
                                    ("b", Hv, "t", V), dtype, decay=d, beta=("b", Hv, "t"),
                                    state=True, reverse=name.endswith("_rev"))


def gpu_libraries(tmp_path_factory):
    """The libraries TestGPU runs (compiled by test_gpu_libraries_compile
    here too, so their sources are checked on every host)."""
    return {
        "f16": cuda_lib(tmp_path_factory, "gpu_f16",
                        [gated_sdpa_text(sdpa_fname(*c), *c[1:3], c[0], "f16", c[3])
                         for c in F16_SDPA]),
        # With the sm_90a kernel (TMA + wgmma), launched on sm_90 devices.
        "f16_sm90a": cuda_lib(tmp_path_factory, "gpu_f16_sm90a",
                              [gated_sdpa_text(sdpa_fname(*c), *c[1:3], c[0], "f16", c[3])
                               for c in F16_SDPA], ["--gpu-arch=sm_80,sm_90a"]),
        "bf16": cuda_lib(tmp_path_factory, "gpu_f32_bf16",
                         [gated_sdpa_text(sdpa_fname(*c), *c[1:3], c[0], "f32", c[3])
                          for c in F32_SDPA], ["--gpu-precision=bf16"]),
        "f32": cuda_lib(tmp_path_factory, "gpu_f32",
                        [gated_sdpa_text(sdpa_fname(*c), *c[1:3], c[0], "f32", c[3])
                         for c in F32_SDPA]),
        "tf32": cuda_lib(tmp_path_factory, "gpu_f32_tf32",
                         [gated_sdpa_text(sdpa_fname(*c), *c[1:3], c[0], "f32", c[3])
                          for c in F32_SDPA], ["--gpu-precision=tf32"]),
        "la": cuda_lib(tmp_path_factory, "gpu_la", [la_text(*c) for c in LA]),
        "la_tf32": cuda_lib(tmp_path_factory, "gpu_la_tf32", [la_text(*c) for c in LA_TF32],
                            ["--gpu-precision=tf32"]),
    }


@pytest.fixture(scope="module")
def gpu_libs(tmp_path_factory):
    return gpu_libraries(tmp_path_factory)


def test_gpu_libraries_compile(gpu_libs):
    assert len(gpu_libs["f16"].functions) == len(F16_SDPA)
    assert len(gpu_libs["f16_sm90a"].functions) == len(F16_SDPA)
    assert len(gpu_libs["bf16"].functions) == len(F32_SDPA)
    assert len(gpu_libs["f32"].functions) == len(F32_SDPA)
    assert len(gpu_libs["tf32"].functions) == len(F32_SDPA)
    for lib, name, dtype, Hq, Hk, Hv, K, V, dkind in (
            [("la", *c) for c in LA] + [("la_tf32", *c) for c in LA_TF32]):
        f = gpu_libs[lib].functions[name]
        assert [s.name for s in f.inputs] == ["query", "key", "value", "decay", "beta",
                                              "initial_state"]
        assert [s.name for s in f.outputs] == ["output", "final_state"]
        assert f.outputs[1].dtype == np.float32
        assert f.outputs[1].shape == ("b", Hv, K, V)
    assert all(m.target == "cuda" for m in gpu_libs.values())


def _sdpa_inputs(rng, D, Hq, Hkv, Sq, Skv, dtype, B=1):
    q = rng.standard_normal((B, Hq, Sq, D))
    k = rng.standard_normal((B, Hkv, Skv, D))
    v = rng.standard_normal((B, Hkv, Skv, D))
    g = rng.standard_normal((B, Hq, Sq, D)) * 2.0
    return [a.astype(dtype) for a in (q, k, v, g)]


def _sdpa_ref(ins, causal):
    q, k, v, g = ins
    return R.sdpa(q, k, v, gate=g, causal=causal)


def _sdpa_cases(configs):
    for c in configs:
        for sq in SQS:
            skv = sq if c[3] else SKV_NONCAUSAL[sq]
            yield pytest.param(c, sq, skv, id=f"{sdpa_fname(*c)}-Sq{sq}-Skv{skv}")


@pytest.mark.skipif(not HAVE_GPU, reason="needs the CUDA driver and a GPU")
class TestGPU:
    @pytest.mark.parametrize("lib", ["f16", "f16_sm90a"])
    @pytest.mark.parametrize("cfg,Sq,Skv", list(_sdpa_cases(F16_SDPA)))
    def test_f16_gated_sdpa(self, gpu_libs, lib, cfg, Sq, Skv):
        D, Hq, Hkv, causal = cfg
        rng = np.random.default_rng(Sq * 1000 + D)
        B = 2 if Sq <= 65 else 1
        ins = _sdpa_inputs(rng, D, Hq, Hkv, Sq, Skv, np.float16, B=B)
        (o,) = gpu_libs[lib].functions[sdpa_fname(*cfg)](*ins)
        assert isinstance(o, np.ndarray) and o.dtype == np.float16
        ku.assert_close(o, _sdpa_ref(ins, causal), 1e-2)

    @pytest.mark.parametrize("prec,seed,tol", [("bf16", 1, 2e-2), ("tf32", 3, ku.TF32_TOL)])
    @pytest.mark.parametrize("cfg,Sq,Skv", list(_sdpa_cases(F32_SDPA)))
    def test_f32_gated_sdpa_mma_precision(self, gpu_libs, prec, seed, tol, cfg, Sq, Skv):
        D, Hq, Hkv, causal = cfg
        rng = np.random.default_rng(Sq * 1000 + D + seed)
        ins = _sdpa_inputs(rng, D, Hq, Hkv, Sq, Skv, np.float32)
        (o,) = gpu_libs[prec].functions[sdpa_fname(*cfg)](*ins)
        assert o.dtype == np.float32
        ku.assert_close(o, _sdpa_ref(ins, causal), tol)

    @pytest.mark.parametrize("cfg,Sq,Skv", list(_sdpa_cases(F32_SDPA)))
    def test_f32_gated_sdpa_simt(self, gpu_libs, cfg, Sq, Skv):
        D, Hq, Hkv, causal = cfg
        rng = np.random.default_rng(Sq * 1000 + D + 2)
        ins = _sdpa_inputs(rng, D, Hq, Hkv, Sq, Skv, np.float32)
        (o,) = gpu_libs["f32"].functions[sdpa_fname(*cfg)](*ins)
        ku.assert_close(o, _sdpa_ref(ins, causal), ku.F32_TOL)

    @pytest.mark.parametrize("cfg", LA, ids=[c[0] for c in LA])
    @pytest.mark.parametrize("T", (1, 63, 65, 257))
    def test_linear_attention_gated_delta(self, gpu_libs, cfg, T):
        self._gated_delta(gpu_libs["la"], cfg, T, 2e-2 if cfg[1] == "f16" else 1e-3)

    @pytest.mark.parametrize("cfg", LA_TF32, ids=[c[0] for c in LA_TF32])
    @pytest.mark.parametrize("T", (1, 63, 65, 257))
    def test_linear_attention_gated_delta_tf32(self, gpu_libs, cfg, T):
        self._gated_delta(gpu_libs["la_tf32"], cfg, T, ku.TF32_TOL)

    @staticmethod
    def _gated_delta(lib, cfg, T, tol):
        name, dtype, Hq, Hk, Hv, K, V, dkind = cfg
        npdt = np.float16 if dtype == "f16" else np.float32
        rng = np.random.default_rng(T * 7 + K)
        B = 2
        q = rng.standard_normal((B, Hq, T, K))
        k = rng.standard_normal((B, Hk, T, K))
        k /= np.linalg.norm(k, axis=-1, keepdims=True)
        v = rng.standard_normal((B, Hv, T, V))
        dshape = (B, Hv, T) if dkind == "scalar" else (B, Hv, T, K)
        decay = -rng.uniform(0.0, 2.0 if dkind == "scalar" else 1.0, dshape)
        beta = rng.uniform(0.05, 0.95, (B, Hv, T))
        state = (rng.standard_normal((B, Hv, K, V)) * 0.5).astype(np.float32)
        ins = [a.astype(npdt) for a in (q, k, v, decay, beta)] + [state]
        o, s = lib.functions[name](*ins)
        ro, rs = R.linear_attention(*ins[:3], "gated_delta", decay=ins[3], beta=ins[4],
                                    initial_state=state, reverse=name.endswith("_rev"))
        ku.assert_close(o, ro, tol, what=f"{name} output")
        ku.assert_close(s, rs, tol, what=f"{name} final_state")

    def test_device_arrays_and_out(self, gpu_libs):
        """Device inputs: DeviceArray outputs, out=, set_stream(None)."""
        cfg = (64, 8, 2, True)
        f = gpu_libs["f16"].functions[sdpa_fname(*cfg)]
        gpu_libs["f16"].set_stream(None)
        ins = _sdpa_inputs(np.random.default_rng(3), 64, 8, 2, 65, 65, np.float16, B=2)
        ref = _sdpa_ref(ins, True)
        dev = [cuda.to_device(a) for a in ins]
        (do,) = f(*dev)
        assert isinstance(do, gatec.DeviceArray)
        assert do.shape == (2, 8, 65, 64) and do.dtype == np.float16
        cai = do.__cuda_array_interface__
        assert cai["typestr"] == "<f2" and cai["shape"] == (2, 8, 65, 64) and cai["data"][0]
        ku.assert_close(do.numpy(), ref, 1e-2)
        out = cuda.to_device(np.full((2, 8, 65, 64), np.nan, np.float16))
        res = f(*dev, out=[out])
        assert res == (out,)
        cuda.synchronize(None)
        ku.assert_close(out.numpy(), ref, 1e-2)
        # mixed numpy / device inputs: numpy results
        (o,) = f(ins[0], *dev[1:])
        assert isinstance(o, np.ndarray)
        ku.assert_close(o, ref, 1e-2)
        del do, dev, out
        gc.collect()

    def test_empty_batch(self, gpu_libs):
        f = gpu_libs["f16"].functions[sdpa_fname(64, 8, 2, True)]
        ins = _sdpa_inputs(np.random.default_rng(4), 64, 8, 2, 5, 5, np.float16, B=0)
        (o,) = f(*ins)
        assert o.shape == (0, 8, 5, 64)


# --------------------------------------------------------------------------- #
# bfloat16 device arrays; torch tensors whose interface fails
# --------------------------------------------------------------------------- #
class FakeTorchTensor:
    """Looks like a CUDA torch.Tensor of an older torch, whose
    __cuda_array_interface__ has no typestr for bfloat16 (KeyError)."""
    __module__ = "torch"

    def __init__(self, shape, dtype="torch.bfloat16", contiguous=True):
        self.shape, self.dtype, self.is_cuda, self._contig = tuple(shape), dtype, True, contiguous

    @property
    def __cuda_array_interface__(self):
        raise KeyError(self.dtype)

    def data_ptr(self):
        return 0xBEEF0000

    def element_size(self):
        return 2

    def is_contiguous(self):
        return self._contig

    def stride(self):
        st, acc = [], 1
        for d in reversed(self.shape):
            st.append(acc)
            acc *= d
        c_strides = tuple(reversed(st))
        return c_strides if self._contig else c_strides[::-1]  # a permuted layout

    def numel(self):
        return int(np.prod(self.shape))


@pytest.fixture(scope="module")
def bf16_lib(tmp_path_factory):
    return cuda_lib(tmp_path_factory, "cu_bf16",
                    [ku.sdpa_func("main", ("b", 4, "sq", 64), ("b", 2, "skv", 64),
                                  ("b", 2, "skv", 64), "bf16", causal=True)])


def test_bf16_device_args(bf16_lib, f16_lib, monkeypatch):
    monkeypatch.setattr(cuda, "_load", boom)
    assert bf16_lib.inputs[0].dtype.itemsize == 2
    shapes = ((1, 4, 5, 64), (1, 2, 5, 64), (1, 2, 5, 64))
    # '<V2' (torch >= 2.x, ml_dtypes) and raw '<u2' bits pass the checks: the
    # call then needs the driver for its output
    for ins in ([FakeDevice(s, "<V2") for s in shapes], [FakeDevice(s, "<u2") for s in shapes],
                [FakeTorchTensor(s) for s in shapes]):
        with pytest.raises(AssertionError, match="driver was accessed"):
            bf16_lib(*ins)
    with pytest.raises(gatec.Error, match=r"input 0 \('query'\) has dtype float16 \(typestr "
                                          r"'<f2'\), expected bfloat16"):
        bf16_lib(*[FakeDevice(s, "<f2") for s in shapes])
    with pytest.raises(gatec.Error, match=r"input 1 \('key'\) is not C-contiguous"):
        bf16_lib(FakeTorchTensor(shapes[0]), FakeTorchTensor(shapes[1], contiguous=False),
                 FakeTorchTensor(shapes[2]))
    # a bfloat16 torch tensor is no float16 one
    f16_ins = [FakeTorchTensor(s) for s in ((1, 8, 5, 64), (1, 2, 5, 64), (1, 2, 5, 64),
                                            (1, 8, 5, 64))]
    with pytest.raises(gatec.Error, match=r"input 0 \('query'\) has dtype \? \(typestr '<V2'\), "
                                          r"expected float16"):
        f16_lib(*f16_ins)


def test_failing_interface(f16_lib, no_driver):
    class Broken:
        @property
        def __cuda_array_interface__(self):
            raise RuntimeError("requires grad")

    ins = _fakes()
    ins[3] = Broken()
    with pytest.raises(gatec.Error, match=r"input 3 \('gate'\): __cuda_array_interface__ "
                                          r"failed: RuntimeError: requires grad"):
        f16_lib(*ins)
