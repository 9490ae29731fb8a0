"""The gatec driver: every failure exits with status 1 (never a signal) and an
stderr that starts with "gatec: error:"; every --emit and --compile-to stage
writes what it names."""
from __future__ import annotations

import os

import numpy as np
import pytest

import gatec
import kernel_util as ku
from gatec import reference as R

pytestmark = pytest.mark.skipif(not ku.have_compiler(),
                                reason=f"gatec compiler not found at {ku.gatec_binary()}")

GOOD = ku.module_text([
    ku.sdpa_func("attention", ("batch", 4, "seq", 32), ("batch", 2, "seq", 32),
                 ("batch", 2, "seq", 32), gate=("batch", 4, "seq", 1), causal=True),
    ku.linear_attention_func("recurrence", "gated_delta", ("b", 2, "t", 16), ("b", 2, "t", 16),
                             ("b", 2, "t", 16), decay=("b", 2, "t"), beta=("b", 2, "t")),
])

# heads 3 over 2 kv heads: rejected by the gate.sdpa verifier
UNVERIFIED = """func.func @f(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>)
    -> tensor<1x3x4x8xf32> {
  %0 = gate.sdpa %q, %k, %v : tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
      -> tensor<1x3x4x8xf32>
  return %0 : tensor<1x3x4x8xf32>
}
"""

MALFORMED = "func.func @f(%x: tensor<4xf32> -> {\n"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "good.mlir").write_text(GOOD)
    (d / "empty.mlir").write_text("")
    (d / "malformed.mlir").write_text(MALFORMED)
    (d / "unverified.mlir").write_text(UNVERIFIED)
    (d / "model.txt").write_text(GOOD)
    (d / "garbage.onnx").write_bytes(b"\x08\x07this is not a protobuf\xff\xff\xff")
    return d


def gatec_run(d, *args):
    return ku.run_gatec([str(a) for a in args], cwd=str(d))


def assert_fails(proc, *words):
    assert proc.returncode > 0, f"killed by signal {-proc.returncode}: {proc.stderr}"
    assert proc.returncode == 1, f"status {proc.returncode}: {proc.stderr}"
    assert proc.stderr.startswith("gatec: error:"), f"stderr: {proc.stderr!r}"
    for w in words:
        assert w in proc.stderr, f"{w!r} not in {proc.stderr!r}"


def assert_ok(proc):
    assert proc.returncode == 0, f"status {proc.returncode}: {proc.stderr}"


# --------------------------------------------------------------------------- #
# failures
# --------------------------------------------------------------------------- #
def test_missing_file(d):
    assert_fails(gatec_run(d, "nonexistent.mlir", "-o", "libx.so"), "nonexistent.mlir")
    assert not (d / "libx.so").exists()


def test_no_input(d):
    assert_fails(gatec_run(d))


def test_unknown_extension(d):
    assert_fails(gatec_run(d, "model.txt", "-o", "libx.so"), "model.txt")


def test_empty_mlir(d):
    assert_fails(gatec_run(d, "empty.mlir", "-o", "libempty.so"), "empty.mlir")
    assert not (d / "libempty.so").exists()


def test_malformed_mlir(d):
    proc = gatec_run(d, "malformed.mlir", "-o", "libbad.so")
    assert_fails(proc, "malformed.mlir")
    assert not (d / "libbad.so").exists()


def test_malformed_mlir_status(d):
    """What holds today for malformed input: status 1, a gatec error line, no output."""
    proc = gatec_run(d, "malformed.mlir", "-o", "libbad.so")
    assert proc.returncode == 1
    assert "gatec: error: malformed.mlir:" in proc.stderr
    assert not (d / "libbad.so").exists()


def test_verifier_failure(d):
    proc = gatec_run(d, "unverified.mlir", "-o", "libunv.so")
    assert_fails(proc, "unverified.mlir", "heads")


def test_verifier_failure_status(d):
    proc = gatec_run(d, "unverified.mlir", "-o", "libunv.so")
    assert proc.returncode == 1
    assert "gate.sdpa" in proc.stderr and "heads" in proc.stderr
    assert "gatec: error: unverified.mlir" in proc.stderr
    assert not (d / "libunv.so").exists()


@pytest.mark.parametrize("flag,word", [
    ("--emit=exe", "--emit"), ("--target=tpu", "--target"), ("--kernels=slow", "--kernels"),
    ("--compile-to=asm", "--compile-to"), ("-O9", "-O9"), ("--name=1lib", "--name"),
    ("--name=my-lib", "--name"), ("--name=", None),
])
def test_bad_option_values(d, flag, word):
    proc = gatec_run(d, "good.mlir", flag, "-o", "libopt.so")
    if flag == "--name=":  # empty: falls back to the default name
        assert_ok(proc)
        return
    assert_fails(proc, *([word] if word else []))
    assert not (d / "libopt.so").exists()


def test_unknown_mcpu(d):
    assert_fails(gatec_run(d, "good.mlir", "--mcpu=nonsense", "-o", "libcpu.so"), "nonsense")


def test_unknown_option(d):
    assert_fails(gatec_run(d, "good.mlir", "--bogus", "-o", "libbogus.so"), "--bogus")


def test_cuda_target_not_available_is_an_error(d):
    proc = gatec_run(d, "good.mlir", "--target=cuda", "-o", "libcuda.so")
    if proc.returncode == 0:  # a build with CUDA support
        assert (d / "libcuda.so").exists()
    else:
        assert_fails(proc)


def test_lib_needs_output(d):
    assert_fails(gatec_run(d, "good.mlir"), "-o")


def test_unwritable_output(d):
    assert_fails(gatec_run(d, "good.mlir", "-o", d / "no" / "such" / "dir" / "liba.so"))


def test_garbage_onnx(d):
    assert_fails(gatec_run(d, "garbage.onnx", "-o", "libg.so"))
    assert not (d / "libg.so").exists()


def test_onnx_op_stats_needs_onnx(d):
    assert_fails(gatec_run(d, "good.mlir", "--onnx-op-stats"), "good.mlir")


# --------------------------------------------------------------------------- #
# successful runs
# --------------------------------------------------------------------------- #
def test_version(d):
    proc = gatec_run(d, "--version")
    assert_ok(proc)
    out = proc.stdout + proc.stderr
    assert "gatec" in out and "LLVM" in out


def test_emit_lib_and_header(d):
    proc = gatec_run(d, "good.mlir", "-o", "libgood.so")
    assert_ok(proc)
    assert (d / "libgood.so").exists() and (d / "good.h").exists()
    header = (d / "good.h").read_text()
    for sym in ("good_library", "good_attention_run", "good_recurrence_output_shapes",
                '#include "gatec-c/runtime.h"'):
        assert sym in header
    m = gatec.load(str(d / "libgood.so"))
    assert set(m.functions) == {"attention", "recurrence"}
    rng = np.random.default_rng(0)
    ins = [rng.standard_normal(s).astype(np.float32)
           for s in ((1, 4, 9, 32), (1, 2, 9, 32), (1, 2, 9, 32), (1, 4, 9, 1))]
    (out,) = m.attention(*ins)
    ku.assert_close(out, R.sdpa(*ins[:3], gate=ins[3], causal=True), 1e-4)


@pytest.mark.parametrize("out,name", [("libplain.so", "plain"), ("libmy-attn.so", "my_attn"),
                                      ("libx.v2.so", "x_v2")])
def test_default_name_from_output(d, out, name):
    """The library name is the -o stem without `lib`, made a C identifier."""
    assert_ok(gatec_run(d, "good.mlir", "-o", out))
    assert (d / f"{name}.h").exists()
    m = gatec.load(str(d / out), name=name)
    assert m.name == name


@pytest.mark.parametrize("out", ["libmy-attn.so", "libx.v2.so"])
def test_load_finds_default_name(d, out):
    (d / "load").mkdir(exist_ok=True)  # not over a library this process has loaded
    assert_ok(gatec_run(d, "good.mlir", "-o", os.path.join("load", out)))
    gatec.load(str(d / "load" / out))


def test_explicit_name(d):
    assert_ok(gatec_run(d, "good.mlir", "--name=custom", "-o", "libwhatever.so"))
    assert (d / "custom.h").exists()
    m = gatec.load(str(d / "libwhatever.so"), name="custom")
    assert m.name == "custom"


def test_emit_llvm(d):
    proc = gatec_run(d, "good.mlir", "--emit=llvm")
    assert_ok(proc)
    assert "define" in proc.stdout and "attention" in proc.stdout
    assert_ok(gatec_run(d, "good.mlir", "--emit=llvm", "-o", "good.ll"))
    text = (d / "good.ll").read_text()
    assert "define" in text and "recurrence" in text


def test_emit_obj(d):
    assert_ok(gatec_run(d, "good.mlir", "--emit=obj", "-o", "good.o"))
    data = (d / "good.o").read_bytes()
    assert data[:4] == b"\x7fELF" and len(data) > 1000


def test_emit_header(d):
    assert_ok(gatec_run(d, "good.mlir", "--emit=header", "--name=hdr", "-o", "hdr_only.h"))
    text = (d / "hdr_only.h").read_text()
    assert "hdr_library" in text and "hdr_attention_run" in text
    assert "query" in text and "batch" in text
    proc = gatec_run(d, "good.mlir", "--emit=header", "--name=hdr")
    assert_ok(proc)
    assert "hdr_library" in proc.stdout


def test_emit_mlir(d):
    proc = gatec_run(d, "good.mlir", "--emit=mlir")
    assert_ok(proc)
    assert "module" in proc.stdout and "llvm.func" in proc.stdout


@pytest.mark.parametrize("stage", ["input", "gate", "kernels", "buffers", "llvm"])
def test_compile_to(d, stage):
    proc = gatec_run(d, "good.mlir", f"--compile-to={stage}")
    assert_ok(proc)
    out = proc.stdout
    assert out.lstrip().startswith("module")
    has_gate_ops = "gate.sdpa" in out or "gate.linear_attention" in out
    if stage in ("input", "gate"):
        assert has_gate_ops and "tensor<" in out
    else:
        assert not has_gate_ops, f"gate ops left at stage {stage}"
    if stage == "kernels":
        assert "tensor<" in out
    if stage == "buffers":
        assert "memref<" in out and "llvm.func" not in out
    if stage == "llvm":
        assert "llvm.func" in out and "func.func" not in out
    # to a file as well
    assert_ok(gatec_run(d, "good.mlir", f"--compile-to={stage}", "-o", f"stage_{stage}.mlir"))
    assert (d / f"stage_{stage}.mlir").read_text() == out


def test_compile_to_kernels_reference_differs(d):
    fast = gatec_run(d, "good.mlir", "--compile-to=kernels", "--kernels=fast")
    slow = gatec_run(d, "good.mlir", "--compile-to=kernels", "--kernels=reference")
    assert_ok(fast)
    assert_ok(slow)
    assert fast.stdout != slow.stdout


def test_opt_levels_and_no_parallel(d):
    rng = np.random.default_rng(1)
    ins = [rng.standard_normal(s).astype(np.float32)
           for s in ((2, 4, 70, 32), (2, 2, 70, 32), (2, 2, 70, 32), (2, 4, 70, 1))]
    ref = R.sdpa(*ins[:3], gate=ins[3], causal=True)
    for flags, name in ((["-O0"], "o0"), (["-O1"], "o1"), (["--no-parallel"], "serial")):
        assert_ok(gatec_run(d, "good.mlir", *flags, "-o", f"lib{name}.so"))
        m = gatec.load(str(d / f"lib{name}.so"))
        (out,) = m.attention(*ins)
        ku.assert_close(out, ref, 1e-4, what=name)
