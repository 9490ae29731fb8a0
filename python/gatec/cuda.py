"""CUDA driver access for gatec's CUDA libraries (``--target=cuda``).

The driver (libcuda.so.1) is loaded lazily with ctypes, the first time
something needs it: importing gatec, loading a CUDA library and inspecting
its signature never do. Without a driver every entry point raises
gatec.Error saying so.

    import gatec, gatec.cuda
    m = gatec.load("libattn.so")           # m.target == "cuda"
    (o,) = m(q, k, v)                      # numpy in/out: copies both ways
    dq = gatec.cuda.to_device(q)           # DeviceArray (__cuda_array_interface__)
    (do,) = m(dq, dk, dv)                  # device in/out, queued on the stream
    o = do.numpy()

Device memory is allocated in the current context of the calling thread, or,
when it has none, in the primary context of device 0 (made current), which is
what the CUDA runtime (PyTorch, CuPy) uses too.
"""
from __future__ import annotations

import ctypes
import threading
from typing import Optional, Sequence, Tuple

import numpy as np

from . import Error

__all__ = ["DeviceArray", "available", "device_count", "to_device", "synchronize",
           "stream_handle"]

_CUresult = ctypes.c_int
_CUdeviceptr = ctypes.c_uint64  # CUdeviceptr is unsigned long long (v2 API)


class _Driver:
    """libcuda.so.1 through ctypes, with its entry points typed."""

    def __init__(self, dll: ctypes.CDLL):
        self.dll = dll
        vp, u64, size_t = ctypes.c_void_p, _CUdeviceptr, ctypes.c_size_t
        P = ctypes.POINTER
        sigs = {
            "cuInit": [ctypes.c_uint],
            "cuDeviceGetCount": [P(ctypes.c_int)],
            "cuDeviceGet": [P(ctypes.c_int), ctypes.c_int],
            "cuDevicePrimaryCtxRetain": [P(vp), ctypes.c_int],
            "cuCtxGetCurrent": [P(vp)],
            "cuCtxSetCurrent": [vp],
            "cuCtxSynchronize": [],
            "cuMemAlloc_v2": [P(u64), size_t],
            "cuMemFree_v2": [u64],
            "cuMemcpyHtoD_v2": [u64, vp, size_t],
            "cuMemcpyHtoDAsync_v2": [u64, vp, size_t, vp],
            "cuMemcpyDtoH_v2": [vp, u64, size_t],
            "cuStreamSynchronize": [vp],
            "cuGetErrorString": [ctypes.c_int, P(ctypes.c_char_p)],
            "cuGetErrorName": [ctypes.c_int, P(ctypes.c_char_p)],
        }
        for name, args in sigs.items():
            try:
                fn = getattr(dll, name)
            except AttributeError:
                raise Error(f"the CUDA driver (libcuda.so.1) lacks {name}: too old?") from None
            fn.argtypes = args
            fn.restype = _CUresult
            setattr(self, name, fn)
        self.primary = {}  # device ordinal -> retained primary context

    def message(self, res: int) -> str:
        name, text = ctypes.c_char_p(), ctypes.c_char_p()
        n = self.cuGetErrorName(res, ctypes.byref(name)) == 0 and name.value
        t = self.cuGetErrorString(res, ctypes.byref(text)) == 0 and text.value
        if n and t:
            return f"{n.decode()} ({t.decode()})"
        return f"CUDA error {res}"

    def check(self, res: int, what: str) -> None:
        if res != 0:
            raise Error(f"{what} failed: {self.message(res)}")


_lock = threading.Lock()
_driver: Optional[_Driver] = None
_load_error: Optional[str] = None


def _load() -> _Driver:
    """The initialized driver (cuInit done), or gatec.Error."""
    global _driver, _load_error
    if _driver is not None:
        return _driver
    with _lock:
        if _driver is not None:
            return _driver
        if _load_error is None:
            try:
                dll = ctypes.CDLL("libcuda.so.1", mode=ctypes.RTLD_LOCAL)
            except OSError as e:
                _load_error = (f"the CUDA driver (libcuda.so.1) is not available on this "
                               f"host ({e}); CUDA libraries need an NVIDIA GPU and driver")
            else:
                try:
                    drv = _Driver(dll)
                    res = drv.cuInit(0)
                    if res != 0:
                        raise Error(f"the CUDA driver (libcuda.so.1) failed to initialize: "
                                    f"cuInit: {drv.message(res)}")
                except Error as e:
                    _load_error = str(e)
                else:
                    _driver = drv
                    return drv
        raise Error(_load_error)


def available() -> bool:
    """Whether libcuda.so.1 loads and initializes (cuInit) on this host."""
    try:
        _load()
        return True
    except Error:
        return False


def device_count() -> int:
    """The number of CUDA devices (0 without a driver)."""
    try:
        drv = _load()
    except Error:
        return 0
    n = ctypes.c_int(0)
    if drv.cuDeviceGetCount(ctypes.byref(n)) != 0:
        return 0
    return int(n.value)


def _context() -> _Driver:
    """The driver, with a context current on this thread (the primary context
    of device 0 unless the caller made one current)."""
    drv = _load()
    ctx = ctypes.c_void_p()
    drv.check(drv.cuCtxGetCurrent(ctypes.byref(ctx)), "cuCtxGetCurrent")
    if not ctx.value:
        with _lock:
            prim = drv.primary.get(0)
            if prim is None:
                dev = ctypes.c_int()
                drv.check(drv.cuDeviceGet(ctypes.byref(dev), 0), "cuDeviceGet(0)")
                p = ctypes.c_void_p()
                drv.check(drv.cuDevicePrimaryCtxRetain(ctypes.byref(p), dev),
                          "cuDevicePrimaryCtxRetain")
                prim = drv.primary[0] = p.value  # kept for the life of the process
        drv.check(drv.cuCtxSetCurrent(prim), "cuCtxSetCurrent")
    return drv


def stream_handle(stream) -> int:
    """A CUstream handle as an int: None (0, the legacy default stream), an
    int, a ctypes.c_void_p, or an object with `.cuda_stream` (torch.cuda.Stream)."""
    if stream is None:
        return 0
    if hasattr(stream, "cuda_stream"):
        stream = stream.cuda_stream
    if isinstance(stream, ctypes.c_void_p):
        return int(stream.value or 0)
    if isinstance(stream, bool):
        raise Error(f"a CUDA stream must be an int handle, None or an object with "
                    f".cuda_stream, got {type(stream).__name__}")
    try:
        import operator
        h = operator.index(stream)
    except TypeError:
        raise Error(f"a CUDA stream must be an int handle, None or an object with "
                    f".cuda_stream, got {type(stream).__name__}") from None
    if h < 0 or h >= 1 << 64:
        raise Error(f"invalid CUDA stream handle {h}")
    return h


def synchronize(stream=None) -> None:
    """Waits for the work queued on `stream` (None: the legacy default stream)."""
    drv = _context()
    drv.check(drv.cuStreamSynchronize(stream_handle(stream) or None), "cuStreamSynchronize")


def _alloc(nbytes: int) -> int:
    if nbytes <= 0:
        return 0
    drv = _context()
    p = _CUdeviceptr()
    drv.check(drv.cuMemAlloc_v2(ctypes.byref(p), nbytes), f"cuMemAlloc({nbytes} bytes)")
    return int(p.value)


def _free(ptr: int) -> None:
    if ptr:
        drv = _context()
        drv.check(drv.cuMemFree_v2(ptr), "cuMemFree")


def _htod(ptr: int, a: np.ndarray, stream: Optional[int] = None) -> None:
    """Copies the contiguous host array `a` to device memory at `ptr`: on
    `stream` (ordered before the work queued after it there) when given."""
    if a.nbytes == 0:
        return
    drv = _context()
    if stream is None:
        drv.check(drv.cuMemcpyHtoD_v2(ptr, a.ctypes.data, a.nbytes), "cuMemcpyHtoD")
    else:
        drv.check(drv.cuMemcpyHtoDAsync_v2(ptr, a.ctypes.data, a.nbytes, stream or None),
                  "cuMemcpyHtoDAsync")


def _dtoh(a: np.ndarray, ptr: int) -> None:
    if a.nbytes == 0:
        return
    drv = _context()
    drv.check(drv.cuMemcpyDtoH_v2(a.ctypes.data, ptr, a.nbytes), "cuMemcpyDtoH")


class DeviceArray:
    """A C-contiguous array in device memory owned by gatec (freed when
    collected, or by `free()`). Exposes `__cuda_array_interface__` (v3), so
    CuPy / PyTorch / Numba can view it (`torch.as_tensor(a, device="cuda")`).

    Arrays that a CUDA library call returned are written asynchronously on
    the stream of that call: synchronize it before reading them from other
    streams; `numpy()` waits for all work of the context."""

    def __init__(self, shape: Sequence[int], dtype, *, _ptr: Optional[int] = None):
        self.shape: Tuple[int, ...] = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.size = int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1
        self.nbytes = self.size * self.dtype.itemsize
        self.ptr = 0
        self.ptr = _alloc(self.nbytes) if _ptr is None else int(_ptr)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def __cuda_array_interface__(self):
        if self.ptr == 0 and self.nbytes:
            raise Error("the DeviceArray has been freed")
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.ptr, False),
                "strides": None, "version": 3}

    def numpy(self) -> np.ndarray:
        """A host copy (waits for the context's queued work first)."""
        out = np.empty(self.shape, dtype=self.dtype)
        if self.nbytes:
            if self.ptr == 0:
                raise Error("the DeviceArray has been freed")
            drv = _context()
            drv.check(drv.cuCtxSynchronize(), "cuCtxSynchronize")
            _dtoh(out, self.ptr)
        return out

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def free(self) -> None:
        p, self.ptr = self.ptr, 0
        _free(p)

    def __del__(self):
        try:
            self.free()
        except Exception:  # interpreter shutdown, driver gone: nothing to do
            pass

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d DeviceArray")
        return self.shape[0]

    def __repr__(self):
        return f"<gatec DeviceArray {self.dtype} {list(self.shape)} at 0x{self.ptr:x}>"


def to_device(a, dtype=None) -> DeviceArray:
    """Copies a host array (anything numpy.asarray takes) to a new DeviceArray."""
    h = np.ascontiguousarray(np.asarray(a, dtype=dtype))
    d = DeviceArray(h.shape, h.dtype)
    if d.nbytes:
        _htod(d.ptr, h)
        # a synchronous copy from pageable memory may still be in flight on the
        # legacy stream, which non-blocking streams do not wait for
        drv = _context()
        drv.check(drv.cuStreamSynchronize(None), "cuStreamSynchronize")
    return d
