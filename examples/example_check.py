"""Shared by the PyTorch block examples: compile an exported block with gatec,
print its fused ops and compare the library with PyTorch's stored outputs."""
from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import gatec  # noqa: E402

# Lengths at which the examples also store float64 references (PyTorch in
# double precision on awkward_input), checked by the tests at rel 1e-4.
F64_LENGTHS = (1, 65, 1000)


def awkward_input(shape):
    """A deterministic input, the same on every machine and numpy version
    (the float64 references store no inputs)."""
    i = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    return (1.5 * np.sin(0.7310585 * i) + 0.5 * np.cos(0.0137 * i)).astype(np.float32)


def f64_rows(t):
    """Positions whose float64 outputs are stored: all of a short input,
    every 37th and the last of a long one (keeps the files small)."""
    return np.arange(t) if t <= 130 else np.unique(np.r_[np.arange(0, t, 37), t - 1])


def compile_and_check(path, op, describe, lengths, label="T"):
    """`path`.onnx next to `path`.npz holding x_T / y_T for every T in
    `lengths`; prints describe(line) for each `= op` line of the gate IR."""
    try:
        lib = gatec.load(gatec.compile(path))
    except (gatec.Error, FileNotFoundError) as e:
        print(f"not compiled: {e}")
        return
    ir = subprocess.run([gatec._gatec_binary(), path, "--compile-to=gate"], capture_output=True,
                        text=True, check=True).stdout
    for line in ir.splitlines():
        if f"= {op}" in line:
            print("fused:", describe(line))
    data = np.load(path.replace(".onnx", ".npz"))
    for t in lengths:
        got = lib(data[f"x_{t}"])
        got = got[0] if isinstance(got, tuple) else got
        err = np.abs(got - data[f"y_{t}"]).max() / np.abs(data[f"y_{t}"]).max()
        print(f"{label}={t}: max relative error vs PyTorch {err:.2e}")


def output_dir(doc, name):
    """The --out directory of an example (default build/examples/<name>), made."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(root, "build", "examples", name))
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    return out


def describe_op(line):
    """`= gate.x ...` line of the gate IR -> the op and its first operands."""
    return line.split("=", 1)[1].split(":")[0].strip()[:90]


def export_block(block, path, make_input, lengths, axes=("B", "T"), gatec_export=True,
                 max_len=None):
    """Exports `block` (eval mode) to `path` with dims 0 and 1 of its input
    dynamic (dim 1 at most `max_len` when given) — through
    gatec.torch.export (gatec's fused-op translations), or torch's dynamo
    exporter itself — and writes path.npz holding x_T = make_input(T) and
    PyTorch's y_T for every T in `lengths`."""
    import torch

    import gatec.torch as gtorch

    block = block.eval()
    dims = ({0: torch.export.Dim(axes[0]), 1: torch.export.Dim(axes[1], max=max_len)},)
    example = (make_input(37),)
    if gatec_export:
        gtorch.export(block, example, path, input_names=["x"], output_names=["y"],
                      dynamic_shapes=dims)
    else:
        torch.onnx.export(block, example, path, dynamo=True, input_names=["x"],
                          output_names=["y"], dynamic_shapes=dims, external_data=False)
    feeds = {}
    with torch.no_grad():
        for t in lengths:
            xt = make_input(t)
            feeds[f"x_{t}"] = xt.numpy()
            feeds[f"y_{t}"] = block(xt).numpy()
        block64 = copy.deepcopy(block).double()
        for t in F64_LENGTHS:
            x = awkward_input((1,) + tuple(make_input(t).shape[1:]))
            feeds[f"y64_{t}"] = block64(torch.from_numpy(x).double()).numpy()[:, f64_rows(t)]
    np.savez(path.replace(".onnx", ".npz"), **feeds)
    return path


def run_block_example(doc, name, make_block, make_input, lengths, label="T", **kw):
    """main() of an example with one block: seeds torch (0), builds the block,
    exports it as `name`.onnx (export_block's keyword arguments in kw), then
    compiles and compares as run_example does."""
    def export(out_dir):
        import torch

        torch.manual_seed(0)
        return [export_block(make_block(), os.path.join(out_dir, f"{name}.onnx"), make_input,
                             lengths, **kw)]

    run_example(doc, name, export, lengths, label)


def run_example(doc, name, export, lengths, label="T"):
    """main() of an example: export into --out, then compile and compare."""
    for path in export(output_dir(doc, name)):
        print(f"wrote {path}")
        compile_and_check(path, "gate.", describe_op, lengths, label)
