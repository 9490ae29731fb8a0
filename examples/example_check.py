"""Shared by the PyTorch block examples: compile an exported block with gatec,
print its fused ops and compare the library with PyTorch's stored outputs."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

import gatec  # noqa: E402


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
