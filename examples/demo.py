"""make demo: compile a Qwen3-Next Gated DeltaNet layer from ONNX, run it on
random inputs, check it against the float64 reference, and time it; then build
the layer for NVIDIA GPUs and run it there when a GPU is present."""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, os.path.join(ROOT, "python")]

import gatec  # noqa: E402
import make_models  # noqa: E402
from models_reference import reference_outputs  # noqa: E402

MODELS = ["qwen3_next_gated_deltanet", "qwen3_next_attention"]


def main():
    out = os.path.join(ROOT, "build", "examples")
    os.makedirs(out, exist_ok=True)
    make_models.write_models(out, names=MODELS)
    rng = np.random.default_rng(0)
    ok = True
    for name in MODELS:
        model = os.path.join(out, name + ".onnx")
        t0 = time.perf_counter()
        lib = gatec.compile(model, os.path.join(out, f"lib{name}.so"))
        compile_s = time.perf_counter() - t0
        m = gatec.load(lib)
        print(f"{name}: compiled in {compile_s:.1f} s -> {lib}")
        print(f"  inputs:  {', '.join(f'{s.name} {s.dtype} {list(s.shape)}' for s in m.inputs)}")
        print(f"  outputs: {', '.join(f'{s.name} {s.dtype} {list(s.shape)}' for s in m.outputs)}")
        for batch, seq in [(1, 1), (2, 300)]:
            feeds = {}
            for spec in m.inputs:
                shape = [batch if d == "batch" else seq if d == "seq" else d for d in spec.shape]
                if spec.dtype == np.int64:  # position ids
                    feeds[spec.name] = np.broadcast_to(np.arange(seq), shape).astype(np.int64).copy()
                else:
                    feeds[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
            args = [feeds[s.name] for s in m.inputs]
            (y,) = m(*args)
            ref = reference_outputs(name, feeds)["output"]
            err = np.max(np.abs(y - ref)) / max(1e-30, np.max(np.abs(ref)))
            reps = 20
            t0 = time.perf_counter()
            for _ in range(reps):
                m(*args)
            ms = (time.perf_counter() - t0) / reps * 1e3
            good = np.isfinite(y).all() and err < 1e-4
            ok &= bool(good)
            print(f"  batch={batch} seq={seq:4d}: max rel error vs float64 {err:.2e} "
                  f"[{'ok' if good else 'FAIL'}], {ms:.3f} ms per call")
    ok &= cuda_demo(out, rng)
    print("demo:", "all outputs match the float64 reference" if ok else "MISMATCH")
    return 0 if ok else 1


def cuda_demo(out, rng):
    """The same Gated DeltaNet layer for NVIDIA GPUs (bf16 tensor cores). On a
    host without a GPU the library still builds and loads, and a call reports
    the missing driver."""
    import gatec.cuda
    name = "qwen3_next_gated_deltanet"
    lib = os.path.join(out, f"lib{name}_cuda.so")
    t0 = time.perf_counter()
    try:
        gatec.compile(os.path.join(out, name + ".onnx"), lib, target="cuda",
                      extra_args=["--gpu-arch=sm_80,sm_90a", "--gpu-precision=bf16"])
    except gatec.Error as e:
        print(f"{name} (CUDA): cannot compile: {e}")
        return False
    m = gatec.load(lib)
    print(f"{name} (CUDA, sm_80 + sm_90a, bf16 MMAs): compiled in "
          f"{time.perf_counter() - t0:.1f} s -> {lib}")
    batch, seq = 2, 300
    feeds = {s.name: rng.standard_normal([batch if d == "batch" else seq if d == "seq" else d
                                          for d in s.shape]).astype(s.dtype) for s in m.inputs}
    args = [feeds[s.name] for s in m.inputs]
    if gatec.cuda.device_count() == 0:
        try:
            m(*args)
            print("  unexpected: a call succeeded without a GPU")
            return False
        except gatec.Error as e:
            print(f"  no GPU here; a call reports it: {e}")
            return True
    (y,) = m(*args)
    ref = reference_outputs(name, feeds)["output"]
    err = np.max(np.abs(y - ref)) / max(1e-30, np.max(np.abs(ref)))
    good = bool(np.isfinite(y).all() and err < 3e-2)
    print(f"  batch={batch} seq={seq}: max rel error vs float64 {err:.2e} "
          f"[{'ok' if good else 'FAIL'}] (bf16 operands)")
    return good


if __name__ == "__main__":
    sys.exit(main())
