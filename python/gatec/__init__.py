"""gatec: load and call libraries compiled by the gatec compiler.

    import gatec
    gatec.compile("model.onnx", "libmodel.so")
    m = gatec.load("libmodel.so")
    (y,) = m(x)            # numpy in, tuple of numpy out, graph order

Libraries built with `--target=cuda` take device arrays (anything with
`__cuda_array_interface__`, e.g. torch/CuPy tensors or gatec.cuda.DeviceArray)
and run asynchronously on the stream set by `module.set_stream`; numpy inputs
are copied to the device and the outputs back (see gatec.cuda).

`gatec.reference` holds float64 numpy references of every gate op.
"""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from . import reference  # noqa: F401  (public submodule)

__all__ = ["Error", "load", "compile", "Module", "Function", "ArgSpec", "DeviceArray",
           "reference", "cuda"]

ABI_VERSION = 2  # include/gatec-c/runtime.h


class Error(Exception):
    """A gatec failure: bad arguments to a compiled function, a failed
    compilation, or a library that cannot be loaded. `status` is the
    library's gatec_status when a compiled function failed (None otherwise)."""

    status: Optional[int] = None


from . import cuda  # noqa: E402  (public submodule; needs Error)
from .cuda import DeviceArray  # noqa: E402


# --- the C ABI (include/gatec-c/runtime.h) ---------------------------------

class _Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64))]


class _Dim(ctypes.Structure):
    _fields_ = [("size", ctypes.c_int64), ("symbol", ctypes.c_char_p),
                ("constant", ctypes.c_int64), ("input", ctypes.c_int32 * 2),
                ("input_dim", ctypes.c_int32 * 2)]


class _ArgInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("dims", ctypes.POINTER(_Dim))]


_ShapesFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_Tensor), ctypes.c_int32,
                             ctypes.POINTER(ctypes.POINTER(ctypes.c_int64)))
_RunFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_Tensor), ctypes.c_int32,
                          ctypes.POINTER(_Tensor), ctypes.c_int32)


class _Function(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("symbol", ctypes.c_char_p),
                ("num_inputs", ctypes.c_int32), ("num_outputs", ctypes.c_int32),
                ("inputs", ctypes.POINTER(_ArgInfo)), ("outputs", ctypes.POINTER(_ArgInfo)),
                ("output_shapes", _ShapesFn), ("run", _RunFn)]


class _Library(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_int32), ("name", ctypes.c_char_p),
                ("target", ctypes.c_char_p), ("num_functions", ctypes.c_int32),
                ("functions", ctypes.POINTER(_Function)),
                ("last_error", ctypes.CFUNCTYPE(ctypes.c_char_p)),
                ("set_num_threads", ctypes.CFUNCTYPE(None, ctypes.c_int32)),
                # CUDA libraries only (NULL for "cpu"; absent from older CPU
                # libraries: read it only when target == "cuda")
                ("set_stream", ctypes.CFUNCTYPE(None, ctypes.c_void_p))]


def _bf16_dtype():
    try:
        import ml_dtypes  # optional
        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:
        return None


_DTYPES = {1: np.dtype(np.float32), 2: np.dtype(np.float16), 4: np.dtype(np.bool_),
           5: np.dtype(np.int64), 6: np.dtype(np.int32), 7: np.dtype(np.float64)}
_DTYPE_NAMES = {1: "float32", 2: "float16", 3: "bfloat16", 4: "bool", 5: "int64",
                6: "int32", 7: "float64"}


def _numpy_dtype(code: int) -> np.dtype:
    if code == 3:
        # bfloat16: ml_dtypes.bfloat16 when installed, else raw uint16 bits.
        return _bf16_dtype() or np.dtype(np.uint16)
    return _DTYPES[code]


@dataclass(frozen=True)
class ArgSpec:
    """One input or output: name, numpy dtype, and shape (ints for static
    dims, the symbol name or None for dynamic ones)."""
    name: str
    dtype: np.dtype
    shape: Tuple[Union[int, str, None], ...]


def _spec(info: _ArgInfo) -> ArgSpec:
    shape = []
    for d in range(info.rank):
        dim = info.dims[d]
        if dim.size >= 0:
            shape.append(int(dim.size))
        else:
            sym = dim.symbol.decode() if dim.symbol else ""
            # "_d<n>": a symbol gatec made up for dims the model left unnamed.
            shape.append(None if not sym or re.fullmatch(r"_d\d+", sym) else sym)
    return ArgSpec(info.name.decode(), _numpy_dtype(info.dtype), tuple(shape))


class Function:
    """One compiled function: call it with numpy arrays in input order."""

    def __init__(self, module: "Module", fn: _Function):
        self._module = module
        self._fn = fn
        self.name = fn.name.decode()
        self.inputs = tuple(_spec(fn.inputs[i]) for i in range(fn.num_inputs))
        self.outputs = tuple(_spec(fn.outputs[i]) for i in range(fn.num_outputs))
        self._in_codes = [fn.inputs[i].dtype for i in range(fn.num_inputs)]
        self._out_codes = [fn.outputs[i].dtype for i in range(fn.num_outputs)]

    def _error(self, status: int) -> Error:
        msg = self._module._lib_desc.last_error()
        e = Error(msg.decode() if msg else f"{self.name}: failed with status {status}")
        e.status = int(status)
        return e

    def _host_arg(self, i: int, a, spec: ArgSpec, code: int, cuda_ok: bool = False):
        """Input i as a C-contiguous numpy array of its signature's dtype and rank."""
        if not isinstance(a, np.ndarray):
            if np.isscalar(a) or isinstance(a, (list, tuple)):
                a = np.asarray(a, dtype=spec.dtype)
            else:
                kinds = ("a numpy array or an object with __cuda_array_interface__"
                         if cuda_ok else "a numpy array")
                raise Error(f"{self.name}: input {i} ('{spec.name}') must be {kinds}, "
                            f"got {type(a).__name__}")
        if a.dtype != spec.dtype:
            raise Error(f"{self.name}: input {i} ('{spec.name}') has dtype {a.dtype}, "
                        f"expected {_DTYPE_NAMES[code]}")
        if a.ndim != len(spec.shape):
            raise Error(f"{self.name}: input {i} ('{spec.name}') has rank {a.ndim} "
                        f"(shape {a.shape}), expected rank {len(spec.shape)} "
                        f"{_fmt_shape(spec.shape)}")
        # (np.ascontiguousarray would turn a rank-0 array into rank 1)
        return a if a.flags["C_CONTIGUOUS"] else np.ascontiguousarray(a)

    def __call__(self, *arrays, out=None):
        """Runs the function. CPU libraries: numpy arrays in, a tuple of numpy
        arrays out (new arrays, or the caller's `out=` arrays written in
        place: the same dtypes and exactly the output shapes for these
        inputs). CUDA libraries: see `_call_cuda`."""
        if self._module.target == "cuda":
            return self._call_cuda(arrays, out)
        if len(arrays) != len(self.inputs):
            raise Error(f"{self.name}: expected {len(self.inputs)} inputs "
                        f"({', '.join(s.name for s in self.inputs)}), got {len(arrays)}")
        keep, host_in = [], []
        tensors = (_Tensor * max(1, len(arrays)))()
        for i, (a, spec, code) in enumerate(zip(arrays, self.inputs, self._in_codes)):
            a = self._host_arg(i, a, spec, code)
            keep.append(a)
            host_in.append(a)
            shape = (ctypes.c_int64 * max(1, a.ndim))(*a.shape)
            keep.append(shape)
            tensors[i] = _Tensor(a.ctypes.data if a.size else None, code, a.ndim, shape, None)
        nout = len(self.outputs)
        rows = [(ctypes.c_int64 * max(1, len(s.shape)))() for s in self.outputs]
        row_ptrs = (ctypes.POINTER(ctypes.c_int64) * max(1, nout))(
            *[ctypes.cast(r, ctypes.POINTER(ctypes.c_int64)) for r in rows])
        st = self._fn.output_shapes(tensors, len(arrays), row_ptrs)
        if st:
            raise self._error(st)
        if out is not None and (not isinstance(out, (list, tuple)) or len(out) != nout):
            raise Error(f"{self.name}: out= must be a list or tuple of {nout} numpy "
                        f"array(s), got {type(out).__name__}"
                        + (f" of {len(out)}" if isinstance(out, (list, tuple)) else ""))
        outs = []
        out_tensors = (_Tensor * max(1, nout))()
        for o, spec in enumerate(self.outputs):
            shape = tuple(int(rows[o][d]) for d in range(len(spec.shape)))
            arr = (np.empty(shape, dtype=spec.dtype) if out is None
                   else self._host_out(o, out[o], spec, shape, host_in + outs))
            outs.append(arr)
            out_tensors[o] = _Tensor(arr.ctypes.data if arr.size else None,
                                     self._out_codes[o], arr.ndim, rows[o], None)
        st = self._fn.run(tensors, len(arrays), out_tensors, nout)
        if st:
            raise self._error(st)
        return tuple(outs)

    def _host_out(self, o: int, a, spec: ArgSpec, shape, others) -> np.ndarray:
        """Checks a caller's output array (out=) of a CPU library: it is
        written in place, so it must match exactly; nothing is copied."""
        label = f"{self.name}: output {o} ('{spec.name}') in out="
        if not isinstance(a, np.ndarray):
            raise Error(f"{label} must be a numpy array, got {type(a).__name__}")
        if a.dtype != spec.dtype:
            raise Error(f"{label} has dtype {a.dtype}, expected {np.dtype(spec.dtype).name}")
        if a.shape != shape:
            raise Error(f"{label} has shape {a.shape}, expected {shape} for these inputs")
        if not a.flags["C_CONTIGUOUS"] or not a.flags["WRITEABLE"]:
            raise Error(f"{label} must be a writeable C-contiguous array")
        if a.size and any(b.size and np.may_share_memory(a, b) for b in others):
            raise Error(f"{label} overlaps an input or another output")
        return a

    # --- CUDA libraries ------------------------------------------------------

    def _device_arg(self, what: str, i: int, a, spec: ArgSpec, code: int) -> "_DeviceArg":
        """Checks an object's __cuda_array_interface__ against argument i's
        signature (dtype, rank, C-contiguity); no driver access."""
        label = f"{self.name}: {what} {i} ('{spec.name}')"
        cai = _cuda_interface(a, label)
        try:
            shape = tuple(int(d) for d in cai["shape"])
            typestr = cai["typestr"]
            ptr, readonly = cai["data"]
            ptr = int(ptr or 0)
            strides = cai.get("strides")
            mask = cai.get("mask")
        except (KeyError, TypeError, ValueError, AttributeError):
            raise Error(f"{label}: malformed __cuda_array_interface__ "
                        f"({type(a).__name__})") from None
        if mask is not None:
            raise Error(f"{label}: masked device arrays are not supported")
        try:
            dt = np.dtype(typestr)
        except TypeError:
            dt = None
        if code == 3:  # bfloat16 has no standard typestr: any 2-byte raw/uint16 one
            ok = dt is not None and dt.itemsize == 2 and (dt == spec.dtype or dt.kind in "Vu")
        else:
            ok = dt is not None and dt == spec.dtype
        if not ok:
            got = dt.name if dt is not None and dt.kind not in "V" else "?"
            raise Error(f"{label} has dtype {got} (typestr {typestr!r}), "
                        f"expected {_DTYPE_NAMES[code]}")
        if len(shape) != len(spec.shape):
            raise Error(f"{label} has rank {len(shape)} (shape {shape}), expected rank "
                        f"{len(spec.shape)} {_fmt_shape(spec.shape)}")
        if strides is not None:
            try:
                strides = tuple(int(s) for s in strides)
            except (TypeError, ValueError):
                raise Error(f"{label}: malformed __cuda_array_interface__ strides") from None
            expect, acc = [], dt.itemsize
            for d in reversed(shape):
                expect.append(acc)
                acc *= d
            expect.reverse()
            size = 1
            for d in shape:
                size *= d
            if len(strides) != len(shape) or (size > 0 and any(
                    s != e for s, e, d in zip(strides, expect, shape) if d != 1)):
                raise Error(f"{label} is not C-contiguous (strides {strides} bytes for "
                            f"shape {shape}); pass a contiguous copy")
        if what == "output" and readonly:
            raise Error(f"{label} is read-only")
        return _DeviceArg(a, ptr, shape)

    def _call_cuda(self, arrays, out):
        """CUDA library call. Each input is a device object (anything with
        `__cuda_array_interface__`: a torch/CuPy tensor, gatec.DeviceArray)
        or a numpy array.

        * Every input on the device: the work is queued on this thread's
          stream (module.set_stream) and the call returns; the outputs are
          written into `out` (a sequence of device objects, one per output)
          when given, and returned as it was; else into new DeviceArrays,
          returned as a tuple.
        * Some numpy input: the numpy inputs are copied to the device, the
          function runs, the stream is synchronized and the outputs come back
          as a tuple of numpy arrays (`out` is then not allowed).
        """
        n = len(arrays)
        if n != len(self.inputs):
            raise Error(f"{self.name}: expected {len(self.inputs)} inputs "
                        f"({', '.join(s.name for s in self.inputs)}), got {n}")
        nout = len(self.outputs)
        args = []  # _DeviceArg or contiguous np.ndarray, per input
        for i, (a, spec, code) in enumerate(zip(arrays, self.inputs, self._in_codes)):
            if _is_device(a):
                args.append(self._device_arg("input", i, a, spec, code))
            else:
                args.append(self._host_arg(i, a, spec, code, cuda_ok=True))
        host = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
        outs_dev = None
        if out is not None:
            if host:
                i = host[0]
                raise Error(f"{self.name}: out= needs every input on the device; input {i} "
                            f"('{self.inputs[i].name}') is a numpy array")
            if _is_device(out) or not isinstance(out, (list, tuple)):
                raise Error(f"{self.name}: out= must be a list or tuple of {nout} device "
                            f"arrays, got {type(out).__name__}")
            if len(out) != nout:
                raise Error(f"{self.name}: expected {nout} outputs in out= "
                            f"({', '.join(s.name for s in self.outputs)}), got {len(out)}")
            outs_dev = []
            for o, (a, spec, code) in enumerate(zip(out, self.outputs, self._out_codes)):
                if not _is_device(a):
                    raise Error(f"{self.name}: output {o} ('{spec.name}') in out= must be "
                                f"an object with __cuda_array_interface__, got "
                                f"{type(a).__name__}")
                outs_dev.append(self._device_arg("output", o, a, spec, code))

        keep = []
        tensors = (_Tensor * max(1, n))()
        for i, (a, code) in enumerate(zip(args, self._in_codes)):
            shape = (ctypes.c_int64 * max(1, len(a.shape)))(*a.shape)
            keep.append(shape)
            # numpy inputs: host pointers for output_shapes (which reads no
            # data), replaced by their device copies before run
            ptr = a.ctypes.data if isinstance(a, np.ndarray) else a.ptr
            tensors[i] = _Tensor(ptr if a.size else None, code, len(a.shape), shape, None)
        rows = [(ctypes.c_int64 * max(1, len(s.shape)))() for s in self.outputs]
        row_ptrs = (ctypes.POINTER(ctypes.c_int64) * max(1, nout))(
            *[ctypes.cast(r, ctypes.POINTER(ctypes.c_int64)) for r in rows])
        st = self._fn.output_shapes(tensors, n, row_ptrs)
        if st:
            raise self._error(st)
        shapes = [tuple(int(rows[o][d]) for d in range(len(spec.shape)))
                  for o, spec in enumerate(self.outputs)]
        if outs_dev is not None:
            for o, (d, shape) in enumerate(zip(outs_dev, shapes)):
                if d.shape != shape:
                    raise Error(f"{self.name}: output {o} ('{self.outputs[o].name}') in out= "
                                f"has shape {d.shape}, expected {shape}")
        stream = self._module._stream()
        out_tensors = (_Tensor * max(1, nout))()

        def set_outputs(ptrs):
            for o, (p, shape) in enumerate(zip(ptrs, shapes)):
                size = 1
                for d in shape:
                    size *= d
                out_tensors[o] = _Tensor(p if size else None, self._out_codes[o], len(shape),
                                         rows[o], None)

        if not host:
            if outs_dev is not None:
                set_outputs([d.ptr for d in outs_dev])
            else:
                try:
                    result = tuple(cuda.DeviceArray(shape, spec.dtype)
                                   for shape, spec in zip(shapes, self.outputs))
                except Error as e:
                    raise Error(f"{self.name}: {e}") from None
                set_outputs([d.ptr for d in result])
            st = self._fn.run(tensors, n, out_tensors, nout)
            if st:
                raise self._error(st)
            return tuple(out) if outs_dev is not None else result

        # some numpy input: copy in, run, wait, copy out
        bufs = []
        try:
            try:
                for i in host:
                    a = args[i]
                    d = cuda.DeviceArray(a.shape, a.dtype)
                    bufs.append(d)
                    cuda._htod(d.ptr, a, stream)
                    tensors[i].data = d.ptr or None
                dev_outs = [cuda.DeviceArray(shape, spec.dtype)
                            for shape, spec in zip(shapes, self.outputs)]
                bufs.extend(dev_outs)
                set_outputs([d.ptr for d in dev_outs])
            except Error as e:
                raise Error(f"{self.name}: {e}") from None
            st = self._fn.run(tensors, n, out_tensors, nout)
            if st:
                raise self._error(st)
            try:
                cuda.synchronize(stream)
                result = []
                for d, spec in zip(dev_outs, self.outputs):
                    h = np.empty(d.shape, dtype=spec.dtype)
                    cuda._dtoh(h, d.ptr)
                    result.append(h)
            except Error as e:
                raise Error(f"{self.name}: {e}") from None
            return tuple(result)
        finally:
            for d in bufs:
                try:
                    d.free()
                except Error:
                    pass

    def __repr__(self):
        ins = ", ".join(f"{s.name}: {s.dtype} {_fmt_shape(s.shape)}" for s in self.inputs)
        outs = ", ".join(f"{s.name}: {s.dtype} {_fmt_shape(s.shape)}" for s in self.outputs)
        return f"<gatec function {self.name}({ins}) -> ({outs})>"


_TORCH_TYPESTR = {"torch.float32": "<f4", "torch.float16": "<f2", "torch.bfloat16": "<V2",
                  "torch.bool": "|b1", "torch.int64": "<i8", "torch.int32": "<i4",
                  "torch.float64": "<f8"}


def _is_torch_cuda(a) -> bool:
    try:
        return (type(a).__module__.split(".")[0] == "torch" and hasattr(a, "data_ptr")
                and bool(getattr(a, "is_cuda", False)))
    except Exception:
        return False


def _is_device(a) -> bool:
    """Whether `a` is a device array: it has __cuda_array_interface__ (a
    getter raising AttributeError means no, as torch does for CPU tensors),
    or it is a CUDA torch tensor."""
    try:
        return hasattr(a, "__cuda_array_interface__")
    except Exception:  # a getter that fails otherwise: still a device object
        return True


def _cuda_interface(a, label: str) -> dict:
    """a.__cuda_array_interface__; for torch CUDA tensors whose interface
    fails (older torch has no typestr for bfloat16; requires_grad) the same
    dict from the tensor's attributes."""
    try:
        return a.__cuda_array_interface__
    except Exception as e:
        if not _is_torch_cuda(a):
            raise Error(f"{label}: __cuda_array_interface__ failed: "
                        f"{type(e).__name__}: {e}") from None
    try:
        typestr = _TORCH_TYPESTR.get(str(a.dtype), str(a.dtype))
        shape = tuple(int(d) for d in a.shape)
        itemsize = int(a.element_size())
        strides = None if a.is_contiguous() else tuple(int(s) * itemsize for s in a.stride())
        return dict(shape=shape, typestr=typestr, strides=strides,
                    data=(int(a.data_ptr()) if a.numel() else 0, False), version=2)
    except Exception as e:
        raise Error(f"{label}: cannot read the torch tensor: {type(e).__name__}: {e}") from None


class _DeviceArg:
    """A checked device argument: the object (kept alive), pointer and shape."""
    __slots__ = ("obj", "ptr", "shape", "size")

    def __init__(self, obj, ptr: int, shape: Tuple[int, ...]):
        self.obj, self.ptr, self.shape = obj, ptr, shape
        size = 1
        for d in shape:
            size *= d
        self.size = size


def _fmt_shape(shape) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


class Module:
    """A loaded library. Calling it calls its only (or `main`) function;
    `module.functions[name]` reaches the others."""

    def __init__(self, path: str, name: Optional[str] = None):
        self.path = os.path.abspath(path)
        if not os.path.exists(self.path):
            raise Error(f"{path}: no such file")
        try:
            self._dll = ctypes.CDLL(self.path, mode=ctypes.RTLD_LOCAL)
        except OSError as e:
            raise Error(f"{path}: cannot load library: {e}") from None
        if name is None:
            name = default_library_name(self.path)
        try:
            entry = getattr(self._dll, f"{name}_library")
        except AttributeError:
            raise Error(f"{path}: not a gatec library (no symbol '{name}_library')") from None
        entry.restype = ctypes.POINTER(_Library)
        desc = entry()
        if not desc or desc.contents.abi_version != ABI_VERSION:
            got = desc.contents.abi_version if desc else "none"
            raise Error(f"{path}: ABI version {got}, this gatec module reads {ABI_VERSION} "
                        f"(recompile the library with this gatec)")
        self._lib_desc = desc.contents
        self.name = self._lib_desc.name.decode()
        self.target = self._lib_desc.target.decode()
        self._tls = threading.local()  # this thread's CUDA stream (set_stream)
        self.functions = {}
        for i in range(self._lib_desc.num_functions):
            f = Function(self, self._lib_desc.functions[i])
            self.functions[f.name] = f
        if len(self.functions) == 1:
            self._default = next(iter(self.functions.values()))
        else:
            self._default = self.functions.get("main")

    def _main(self) -> Function:
        if self._default is None:
            raise Error(f"{self.path}: the library has several functions "
                        f"({', '.join(self.functions)}); call module.functions[name]")
        return self._default

    @property
    def inputs(self):
        return self._main().inputs

    @property
    def outputs(self):
        return self._main().outputs

    def set_num_threads(self, n: int) -> None:
        """Threads used by this library's kernels (<= 0: all hardware threads)."""
        self._lib_desc.set_num_threads(int(n))

    def set_stream(self, stream) -> None:
        """CUDA libraries: the CUstream this thread's calls run on: an int
        handle, None (the legacy default stream) or an object with
        `.cuda_stream` (torch.cuda.Stream). Raises gatec.Error for CPU ones."""
        if self.target != "cuda" or not self._lib_desc.set_stream:
            raise Error(f"{self.path}: set_stream needs a CUDA library (this one targets "
                        f"{self.target})")
        h = cuda.stream_handle(stream)
        self._lib_desc.set_stream(h or None)
        self._tls.stream = h

    def _stream(self) -> int:
        return getattr(self._tls, "stream", 0)

    def __call__(self, *arrays, **kw):
        return self._main()(*arrays, **kw)

    def __getattr__(self, name):
        funcs = self.__dict__.get("functions", {})
        if name in funcs:
            return funcs[name]
        raise AttributeError(name)

    def __repr__(self):
        return f"<gatec module {self.name} ({self.target}): {', '.join(self.functions)}>"


def default_library_name(path: str) -> str:
    """The library name gatec derives from an output path, as `gatec -o`
    does: the file stem without `lib`, made a C identifier
    (`libmy-attn.so` -> `my_attn`, `libx.v2.so` -> `x_v2`)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem.startswith("lib") and len(stem) > 3:
        stem = stem[3:]
    name = re.sub(r"[^0-9A-Za-z_]", "_", stem)
    if not name or name[0].isdigit():
        name = "m" + name
    return name


def load(path: str, name: Optional[str] = None) -> Module:
    """Loads lib<name>.so compiled by gatec."""
    return Module(path, name)


def _gatec_binary() -> str:
    env = os.environ.get("GATEC")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.path.join(here, "..", "..", "build", "bin", "gatec")
    if os.path.exists(build):
        return os.path.abspath(build)
    found = shutil.which("gatec")
    if found:
        return found
    raise Error("cannot find the gatec compiler (set GATEC=/path/to/gatec)")


def compile(model: str, output: Optional[str] = None, *, kernels: str = "fast",
            mcpu: str = "native", name: Optional[str] = None, target: str = "cpu",
            extra_args: Sequence[str] = ()) -> str:
    """Compiles an .onnx or .mlir file into a shared library; returns its path.
    Raises gatec.Error with the compiler's message on failure."""
    if output is None:
        stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(model))[0])
        output = os.path.join(os.path.dirname(os.path.abspath(model)), f"lib{stem}.so")
    cmd = [_gatec_binary(), model, "-o", output, f"--kernels={kernels}", f"--mcpu={mcpu}",
           f"--target={target}"]
    if name:
        cmd.append(f"--name={name}")
    cmd.extend(extra_args)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Error(proc.stderr.strip() or f"gatec failed with status {proc.returncode}")
    return output
