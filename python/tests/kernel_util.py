"""Helpers for the tests that compile and run gatec libraries.

* where the compiler is (``$GATEC``, else ``build/bin/gatec``);
* MLIR text for one public function around one ``gate`` op, with every
  argument named (``gatec.name``) and its dynamic dims given symbols
  (``gatec.dims``), so one library serves many sequence lengths;
* a compile-and-load helper, and the error metric the tests use.

Shapes are tuples whose entries are ints (static dims) or strings (a dynamic
dim and its symbol, e.g. ``"b"`` or ``"t"``).
"""
from __future__ import annotations

import os
import subprocess
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

import gatec

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))

Dim = Union[int, str]
Shape = Tuple[Dim, ...]


def gatec_binary() -> str:
    """The compiler under test: $GATEC (`make test BUILD=dir` sets it), else
    build/bin/gatec of this checkout."""
    env = os.environ.get("GATEC")
    if env:
        return env
    return os.path.join(REPO, "build", "bin", "gatec")


# The build directory of that compiler (its lib/ holds the runtime archive).
BUILD = os.path.dirname(os.path.dirname(os.path.abspath(gatec_binary())))


def have_compiler() -> bool:
    path = gatec_binary()
    return os.path.isfile(path) and os.access(path, os.X_OK)


def run_gatec(args: Sequence[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([gatec_binary(), *args], capture_output=True, text=True,
                          timeout=kw.pop("timeout", 120), **kw)


# --------------------------------------------------------------------------- #
# MLIR text
# --------------------------------------------------------------------------- #
def ttype(shape: Shape, dtype: str) -> str:
    dims = "".join(("?" if isinstance(d, str) else str(d)) + "x" for d in shape)
    return f"tensor<{dims}{dtype}>"


def _dims_attr(shape: Shape) -> str:
    return "[" + ", ".join(f'"{d}"' if isinstance(d, str) else '""' for d in shape) + "]"


def _f32(x: float) -> str:
    return f"{float(x)!r} : f32"


class Arg:
    def __init__(self, name: str, shape: Shape, dtype: str):
        self.name, self.shape, self.dtype = name, tuple(shape), dtype

    @property
    def type(self) -> str:
        return ttype(self.shape, self.dtype)


def func_text(fname: str, args: List[Arg], results: List[Arg], body: str,
              ret: List[str]) -> str:
    """A public func.func; `body` refers to the arguments as %a0, %a1, ..."""
    decls = ",\n    ".join(
        f'%a{i}: {a.type} {{gatec.name = "{a.name}", gatec.dims = {_dims_attr(a.shape)}}}'
        for i, a in enumerate(args))
    res = ", ".join(f'{r.type} {{gatec.name = "{r.name}"}}' for r in results)
    rtypes = ", ".join(r.type for r in results)
    return (f"func.func @{fname}(\n    {decls})\n    -> ({res}) {{\n{body}\n"
            f"  return {', '.join(ret)} : {rtypes}\n}}\n")


def sdpa_func(fname: str, q: Shape, k: Shape, v: Shape, dtype: str = "f32", *,
              mask: Optional[Tuple[Shape, str]] = None, gate: Optional[Shape] = None,
              causal: bool = False, scale: Optional[float] = None,
              softcap: Optional[float] = None, gate_act: str = "sigmoid",
              window: Optional[Tuple[int, int]] = None, bottom_right: bool = False,
              sink: bool = False) -> str:
    out = (q[0], q[1], q[2], v[3])
    args = [Arg("query", q, dtype), Arg("key", k, dtype), Arg("value", v, dtype)]
    opt = ""
    if mask is not None:
        args.append(Arg("mask", mask[0], mask[1]))
        opt += f" mask(%a{len(args) - 1} : {args[-1].type})"
    if gate is not None:
        args.append(Arg("gate", gate, dtype))
        opt += f" gate(%a{len(args) - 1} : {args[-1].type})"
    if sink:
        args.append(Arg("sink", (q[1],), "f32"))
        opt += f" sink(%a{len(args) - 1} : {args[-1].type})"
    attrs = []
    if causal:
        attrs.append("causal")
    if scale is not None:
        attrs.append(f"scale = {_f32(scale)}")
    if softcap is not None:
        attrs.append(f"softcap = {_f32(softcap)}")
    if gate_act != "sigmoid":
        attrs.append(f"gate_act = #gate<act {gate_act}>")
    if window is not None:
        attrs.append(f"window = array<i64: {window[0]}, {window[1]}>")
    if bottom_right:
        attrs.append("bottom_right")
    attr = (" {" + ", ".join(attrs) + "}") if attrs else ""
    res = Arg("output", out, dtype)
    body = (f"  %r = gate.sdpa %a0, %a1, %a2{opt}{attr}\n"
            f"      : {args[0].type}, {args[1].type}, {args[2].type} -> {res.type}")
    return func_text(fname, args, [res], body, ["%r"])


def linear_attention_func(fname: str, rule: str, q: Shape, k: Shape, v: Shape,
                          dtype: str = "f32", *, decay: Optional[Shape] = None,
                          beta: Optional[Shape] = None, state: bool = False,
                          scale: Optional[float] = None,
                          chunk_size: Optional[int] = None, reverse: bool = False,
                          gate: Optional[str] = None) -> str:
    """gate: "sigmoid" or "silu" adds an output gate operand (output's shape)."""
    B, Hq, T, K = q
    Hk, Hv, V = k[1], v[1], v[3]
    Ho = Hv if Hq == Hk else Hq
    args = [Arg("query", q, dtype), Arg("key", k, dtype), Arg("value", v, dtype)]
    opt = ""
    if decay is not None:
        args.append(Arg("decay", decay, dtype))
        opt += f" decay(%a{len(args) - 1} : {args[-1].type})"
    if beta is not None:
        args.append(Arg("beta", beta, dtype))
        opt += f" beta(%a{len(args) - 1} : {args[-1].type})"
    if state:
        args.append(Arg("initial_state", (B, Hv, K, V), "f32"))
        opt += f" initial_state(%a{len(args) - 1} : {args[-1].type})"
    if gate:
        args.append(Arg("gate", (B, Ho, T, V), dtype))
        opt += f" gate(%a{len(args) - 1} : {args[-1].type})"
    attrs = []
    if gate == "silu":
        attrs.append("gate_act = #gate<act silu>")
    if scale is not None:
        attrs.append(f"scale = {_f32(scale)}")
    if chunk_size is not None:
        attrs.append(f"chunk_size = {int(chunk_size)} : i64")
    if reverse:
        attrs.append("reverse")
    attr = (" {" + ", ".join(attrs) + "}") if attrs else ""
    out = Arg("output", (B, Ho, T, V), dtype)
    fs = Arg("final_state", (B, Hv, K, V), "f32")
    body = (f"  %o, %s = gate.linear_attention {rule} %a0, %a1, %a2{opt}{attr}\n"
            f"      : {args[0].type}, {args[1].type}, {args[2].type} -> {out.type}, {fs.type}")
    return func_text(fname, args, [out, fs], body, ["%o", "%s"])


# Linear-attention test variants: name -> (rule, decay kind, has beta).
LA_VARIANTS = {
    "linear": ("linear", None, False),
    "gated_s": ("gated", "scalar", False),
    "gated_c": ("gated", "channel", False),
    "delta": ("delta", None, True),
    "gdelta_s": ("gated_delta", "scalar", True),
    "gdelta_c": ("gated_delta", "channel", True),
}


def token_major_linear_attention_func(fname: str, rule: str, dkind: Optional[str],
                                      beta: bool, hq: int, hk: int, hv: int, K: int, V: int,
                                      chunk_size: Optional[int] = None,
                                      reverse: bool = False) -> str:
    """A token-major ([B, T, H, D]) f32 gate.linear_attention function with
    dynamic B and T; dkind None | "scalar" | "channel"."""
    ho = hv if hq == hk else hq
    t = lambda h, d: f"tensor<?x?x{h}x{d}xf32>"
    args = [f"%q: {t(hq, K)}", f"%k: {t(hk, K)}", f"%v: {t(hv, V)}"]
    extra = ""
    if dkind:
        dty = f"tensor<?x?x{hv}x{K}xf32>" if dkind == "channel" else f"tensor<?x?x{hv}xf32>"
        args.append(f"%g: {dty}")
        extra += f" decay(%g : {dty})"
    if beta:
        args.append(f"%b: tensor<?x?x{hv}xf32>")
        extra += f" beta(%b : tensor<?x?x{hv}xf32>)"
    st = f"tensor<?x{hv}x{K}x{V}xf32>"
    attrs = ("token_major" + (f", chunk_size = {chunk_size} : i64" if chunk_size else "") +
             (", reverse" if reverse else ""))
    return (f"func.func @{fname}({', '.join(args)}) -> ({t(ho, V)}, {st}) {{\n"
            f"  %o, %s = gate.linear_attention {rule} %q, %k, %v{extra} {{{attrs}}} : "
            f"{t(hq, K)}, {t(hk, K)}, {t(hv, V)} -> {t(ho, V)}, {st}\n"
            f"  return %o, %s : {t(ho, V)}, {st}\n}}\n")


def causal_conv_func(fname: str, x: Shape, ksize: int, dtype: str = "f32", *,
                     bias: bool = False, state: bool = False,
                     activation: str = "none") -> str:
    B, C, L = x
    args = [Arg("input", x, dtype), Arg("weight", (C, ksize), dtype)]
    opt = ""
    if bias:
        args.append(Arg("bias", (C,), dtype))
        opt += f" bias(%a{len(args) - 1} : {args[-1].type})"
    if state:
        args.append(Arg("initial_state", (B, C, ksize - 1), dtype))
        opt += f" initial_state(%a{len(args) - 1} : {args[-1].type})"
    attr = f" {{activation = #gate<conv_act {activation}>}}" if activation != "none" else ""
    out = Arg("output", x, dtype)
    fs = Arg("final_state", (B, C, ksize - 1), dtype)
    body = (f"  %o, %s = gate.causal_conv %a0, %a1{opt}{attr}\n"
            f"      : {args[0].type}, {args[1].type} -> {out.type}, {fs.type}")
    return func_text(fname, args, [out, fs], body, ["%o", "%s"])


def gate_func(fname: str, x: Shape, g: Shape, dtype: str = "f32", act: str = "sigmoid") -> str:
    args = [Arg("input", x, dtype), Arg("gate", g, dtype)]
    attr = f" {{act = #gate<act {act}>}}" if act != "sigmoid" else ""
    out = Arg("output", x, dtype)
    body = (f"  %r = gate.gate %a0, %a1{attr} : {args[0].type}, {args[1].type} -> {out.type}")
    return func_text(fname, args, [out], body, ["%r"])


def module_text(funcs: Iterable[str]) -> str:
    return "module {\n" + "\n".join(funcs) + "}\n"


# --------------------------------------------------------------------------- #
# compiling and loading
# --------------------------------------------------------------------------- #
def compile_module(text: str, directory: str, name: str, *, kernels: str = "fast",
                   mcpu: str = "native", extra_args: Sequence[str] = (), load: bool = True):
    """Writes `text` to <directory>/<name>.mlir, compiles lib<name>.so and
    returns it loaded (gatec.Module), or its path when load=False."""
    os.makedirs(directory, exist_ok=True)
    src = os.path.join(str(directory), f"{name}.mlir")
    with open(src, "w") as f:
        f.write(text)
    lib = os.path.join(str(directory), f"lib{name}.so")
    cmd = [src, "-o", lib, f"--kernels={kernels}", f"--mcpu={mcpu}", *extra_args]
    proc = run_gatec(cmd, timeout=600)
    if proc.returncode != 0:
        raise gatec.Error(f"gatec {' '.join(cmd)} failed with status {proc.returncode}:\n"
                          f"{proc.stderr.strip()}")
    return gatec.load(lib) if load else lib


# --------------------------------------------------------------------------- #
# numbers
# --------------------------------------------------------------------------- #
F32_TOL = 1e-4
F16_TOL = 2e-2
# f32 attention on tf32 tensor cores (10 mantissa bits, rounded to nearest):
# a few units of 2^-11 after the dot products' sums (see test_mma_fragments).
TF32_TOL = 5e-3


def rel_err(got: np.ndarray, ref: np.ndarray) -> float:
    """max |got - ref| / max |ref| (absolute error when ref is all zeros)."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, f"shape {got.shape} != reference {ref.shape}"
    if got.size == 0:
        return 0.0
    err = float(np.max(np.abs(got - ref)))
    scale = float(np.max(np.abs(ref)))
    return err / scale if scale > 0 else err


def assert_close(got, ref, tol: float, what: str = "output") -> None:
    got64 = np.asarray(got, dtype=np.float64)
    assert np.all(np.isfinite(got64)), f"{what}: non-finite values in the result"
    assert np.all(np.isfinite(np.asarray(ref, dtype=np.float64))), f"{what}: non-finite reference"
    e = rel_err(got64, ref)
    assert e <= tol, f"{what}: relative error {e:.3g} > {tol:g}"


# ONNX Runtime's words for "this op, opset, type or mode is not implemented here"
# (an older wheel, a CPU kernel that lacks a mode). Anything else it raises is
# a failure of the test, not a reason to skip it.
_ORT_UNSUPPORTED = ("not_implemented", "notimplemented", "not implemented",
                    "could not find an implementation", "is not a registered function/op",
                    "not supported", "unsupported", "no opset import for domain")


def ort_unsupported(exc: BaseException) -> bool:
    """Whether an onnxruntime exception says it lacks support (skip) rather
    than reporting an error (fail)."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(w in text for w in _ORT_UNSUPPORTED)


def ort_first_position_row(model) -> bool:
    """Gives the RotaryEmbedding nodes of an onnxruntime-genai Qwen3.5 file the
    first row of its [3, batch, sequence] position ids, which ONNX Runtime 1.32
    rejects (gatec reads that row itself; the rows are equal for text). Edits
    `model` (a ModelProto) in place; False when it has no such input."""
    from onnx import helper, numpy_helper

    pos = [i for i in model.graph.input if i.name == "position_ids"]
    if not pos or len(pos[0].type.tensor_type.shape.dim) != 3:
        return False
    model.graph.initializer.append(numpy_helper.from_array(np.array(0, np.int64),
                                                           "pos_row0_index"))
    model.graph.node.insert(0, helper.make_node("Gather", ["position_ids", "pos_row0_index"],
                                                ["pos_row0"], axis=0))
    for node in model.graph.node:
        if node.op_type == "RotaryEmbedding":
            node.input[1] = "pos_row0"
    return True


def save_ms_model(path: str, nodes, inputs, outputs, initializers=()) -> str:
    """A graph of default-domain and com.microsoft nodes (ONNX Runtime's
    contrib ops), saved at `path`; returns the path."""
    import onnx
    from onnx import helper

    g = helper.make_graph(list(nodes), "ms", list(inputs), list(outputs),
                          initializer=list(initializers))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21),
                                            helper.make_opsetid("com.microsoft", 1)],
                          ir_version=10)
    onnx.save(m, str(path))
    return str(path)


def ort_session_or_none(path: str, limits=()):
    """An ONNX Runtime CPU session, or None when onnxruntime is missing, lacks
    the op, or its message holds one of `limits` (documented ORT limits)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    try:
        return ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - only "not supported" is tolerated
        if ort_unsupported(e) or any(m in str(e) for m in limits):
            return None
        raise


class OnnxGraphBuilder:
    """Nodes and initializers of a test graph: `const` adds an initializer,
    `op` a single-output node named after its output; both return the name."""

    def __init__(self):
        self.nodes, self.inits = [], []

    def const(self, name, value):
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind, inputs, name, **attrs):
        from onnx import helper

        self.nodes.append(helper.make_node(kind, inputs, [name], name=name, **attrs))
        return name
