"""CUDA libraries on a GPU: correctness against float64 and timings against
PyTorch, in one run.

Two steps, because the GPU machine has no LLVM/MLIR to build gatec:

  here (gatec built):  .venv/bin/python bench/cuda_device.py prepare .cudacheck
  on the GPU machine:  python3 bench/cuda_device.py run .cudacheck

`prepare` compiles every case into .cudacheck/ (libraries for sm_90a and
sm_80, fatbins when ptxas is present; the 16-bit attention cases also for
sm_80 alone, so that on an H100/H200 both the wgmma kernel (sm_90a) and the
portable mma.sync kernel are checked and timed). `run` needs numpy and torch (CUDA);
it checks each library against gatec.reference (float64, CPU) on awkward
shapes, times the large cases with CUDA events (median of repeated runs after
warm-up) next to torch.nn.functional.scaled_dot_product_attention, prints a
table and writes results.json into $OUT (or the current directory).

With the device tool, one call:
  run(command="PYTHONUNBUFFERED=1 python3 bench/cuda_device.py run .cudacheck",
      carry=[".cudacheck"], timeout_s=480)
"""
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "python", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))

import gatec  # noqa: E402
from gatec import reference  # noqa: E402

ARCHS = "sm_90a,sm_80"

# name -> (kind, mlir args, compile extras)
# kind "sdpa": (Hq, Hkv, D, Dv, dtype, causal, gate, mask)
# kind "la":   (rule, Hq, Hk, Hv, K, V, dtype, decay, state)
SDPA = {
    "sdpa_f16_d128_gqa": (8, 2, 128, 128, "f16", True, "elementwise", None, "f32"),
    "sdpa_f16_d64": (4, 4, 64, 64, "f16", False, None, None, "f32"),
    "sdpa_bf16_d256_mask": (4, 4, 256, 256, "bf16", False, None, "bool", "f32"),
    "sdpa_f16_d72_v40": (4, 2, 72, 40, "f16", True, "headwise", None, "f32"),
    "sdpa_f32_as_bf16": (8, 2, 128, 128, "f32", True, "elementwise", None, "bf16"),
    "sdpa_f32_as_tf32": (8, 2, 128, 128, "f32", True, "elementwise", None, "tf32"),
    "sdpa_f32_as_tf32_d72_v40": (4, 2, 72, 40, "f32", False, "headwise", None, "tf32"),
    "sdpa_f32_simt": (4, 2, 64, 64, "f32", True, None, None, "f32"),
}
LA = {
    "la_gated_delta_bf16": ("gated_delta", 4, 4, 8, 128, 128, "bf16", "scalar", True, "f32"),
    "la_gla_f16": ("gated", 4, 4, 4, 128, 128, "f16", "channel", False, "f32"),
    "la_delta_f32_as_bf16": ("delta", 4, 4, 4, 72, 40, "f32", None, True, "bf16"),
    "la_gated_delta_f32_as_tf32": ("gated_delta", 4, 4, 8, 128, 128, "f32", "scalar", True, "tf32"),
    "la_gla_f32_as_tf32": ("gated", 4, 4, 4, 128, 128, "f32", "channel", False, "tf32"),
    "la_linear_f16_gqa": ("linear", 8, 4, 4, 64, 64, "f16", None, False, "f32"),
    "la_gated_delta_f32_simt": ("gated_delta", 2, 2, 4, 64, 64, "f32", "scalar", True, "f32"),
}


# The Qwen3-Next example layers (ONNX, f32): SIMT f32, bf16 and tf32 tensor cores.
MODELS = ["qwen3_next_attention", "qwen3_next_gated_deltanet",
          "qwen3_next_attention_decomposed", "qwen3_next_gated_deltanet_decomposed"]


MODEL_PRECISIONS = ("f32", "bf16", "tf32")
MODEL_TOL = {"f32": 1e-4, "bf16": 3e-2, "tf32": 1e-2}

CONFORMANCE_SKIP = {"test_linear_attention_fp16_expanded"}  # does not lower for CUDA yet


def prepare(outdir):
    import glob
    import shutil
    import kernel_util as ku
    import make_models
    from test_conformance import CONFORMANCE
    os.makedirs(outdir, exist_ok=True)
    # ONNX's conformance models with their data (../shared does not travel).
    for folder in sorted(glob.glob(os.path.join(CONFORMANCE, "test_*"))):
        name = os.path.basename(folder)
        if name in CONFORMANCE_SKIP:
            continue
        dst = os.path.join(outdir, "conformance", name)
        shutil.copytree(folder, dst, dirs_exist_ok=True)
        gatec.compile(os.path.join(dst, "model.onnx"), os.path.join(dst, "libconf.so"),
                      target="cuda", extra_args=[f"--gpu-arch={ARCHS}"])
    print("compiled the conformance models")
    make_models.write_models(outdir, names=MODELS)
    for name in MODELS:
        for prec in MODEL_PRECISIONS:
            gatec.compile(os.path.join(outdir, name + ".onnx"),
                          os.path.join(outdir, f"lib{name}_{prec}.so"), target="cuda",
                          extra_args=[f"--gpu-arch={ARCHS}", f"--gpu-precision={prec}"])
            print("compiled", name, prec)
    for name, (hq, hkv, d, dv, dt, causal, gate, mask, prec) in SDPA.items():
        gshape = None if gate is None else ("B", hq, "S", dv if gate == "elementwise" else 1)
        m = None if mask is None else (("B", 1, "S", "L"), "i1")
        text = ku.module_text([ku.sdpa_func("main", ("B", hq, "S", d), ("B", hkv, "L", d),
                                            ("B", hkv, "L", dv), dt, causal=causal,
                                            gate=gshape, mask=m)])
        for suffix, archs in _sdpa_variants(dt):
            ku.compile_module(text, outdir, name + suffix, load=False,
                              extra_args=["--target=cuda", f"--gpu-arch={archs}",
                                          f"--gpu-precision={prec}"])
        print("compiled", name)
    for name, (rule, hq, hk, hv, K, V, dt, decay, state, prec) in LA.items():
        dshape = None
        if decay == "scalar":
            dshape = ("B", hv, "T")
        elif decay == "channel":
            dshape = ("B", hv, "T", K)
        beta = ("B", hv, "T") if rule in ("delta", "gated_delta") else None
        text = ku.module_text([ku.linear_attention_func(
            "main", rule, ("B", hq, "T", K), ("B", hk, "T", K), ("B", hv, "T", V), dt,
            decay=dshape, beta=beta, state=state)])
        ku.compile_module(text, outdir, name, load=False,
                          extra_args=["--target=cuda", f"--gpu-arch={ARCHS}",
                                      f"--gpu-precision={prec}"])
        print("compiled", name)


def _sdpa_variants(dt):
    """(library suffix, --gpu-arch): 16-bit attention also without sm_90a."""
    if dt in ("f16", "bf16"):
        return [("", ARCHS), ("_sm80", "sm_80")]
    return [("", ARCHS)]


# ------------------------------------------------------------------ run --
def _np_dtype(dt):
    return {"f32": np.float32, "f16": np.float16}.get(dt)


def _torch_dtype(torch, dt):
    return {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dt]


def _rel(got, ref):
    got = np.asarray(got, np.float64)
    if not np.all(np.isfinite(got)):
        return float("inf")
    return float(np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-30))


def _tol(dt, prec):
    if dt == "f32" and prec == "f32":
        return 1e-4
    if prec == "tf32":
        return 5e-3  # python/tests/kernel_util.py TF32_TOL
    return 2e-2


def run(libdir):
    # Report any fallback from the sm_90a kernel to the portable one.
    os.environ.setdefault("GATEC_CUDA_VERBOSE", "1")
    import torch
    assert torch.cuda.is_available(), "no CUDA device"
    dev = torch.device("cuda")
    rng = np.random.default_rng(0)
    results = {"device": torch.cuda.get_device_name(0), "checks": [], "timings": []}
    stream = torch.cuda.current_stream()

    def to_dev(a, dt):
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dev)
        return t.to(_torch_dtype(torch, dt))

    def host(t):
        return t.float().cpu().numpy().astype(np.float64)

    def call(mod, args, outs):
        mod.set_stream(stream.cuda_stream)
        mod(*args, out=outs)
        torch.cuda.synchronize()

    # Correctness, fresh random inputs per shape, outputs poisoned with NaN.
    sdpa_cases = [(name + suffix, spec) for name, spec in SDPA.items()
                  for suffix, _ in _sdpa_variants(spec[4])]
    for name, (hq, hkv, d, dv, dt, causal, gate, mask, prec) in sdpa_cases:
        mod = gatec.load(os.path.join(libdir, f"lib{name}.so"))
        # (Sq ≤ 64 with > 512 keys: split-KV decode, the portable kernel.)
        for (b, sq, skv) in [(1, 1, 1), (2, 63, 63), (1, 65, 65), (1, 257, 257), (1, 1, 300),
                             (2, 100, 37), (3, 130, 130), (1, 1, 1500), (2, 40, 1100)]:
            if causal and sq != skv:
                continue
            q = rng.standard_normal((b, hq, sq, d))
            k = rng.standard_normal((b, hkv, skv, d))
            v = rng.standard_normal((b, hkv, skv, dv))
            args_np = [q, k, v]
            g = None
            if mask:
                mk = rng.random((b, 1, sq, skv)) > 0.3
                args_np.append(mk)
            if gate:
                g = rng.standard_normal((b, hq, sq, dv if gate == "elementwise" else 1))
                args_np.append(g)
            dev_args = []
            for a in args_np:
                if a.dtype == bool:
                    dev_args.append(torch.from_numpy(a).to(dev))
                else:
                    dev_args.append(to_dev(a, dt))
            # The reference sees the operands as rounded to the input dtype.
            rq, rk, rv = (host(x) for x in dev_args[:3])
            rg = host(dev_args[-1]) if gate else None
            ref = reference.sdpa(rq, rk, rv, mask=args_np[3] if mask else None, gate=rg,
                                 causal=causal)
            out = torch.full((b, hq, sq, dv), float("nan"), device=dev,
                             dtype=_torch_dtype(torch, dt))
            call(mod, dev_args, [out])
            err = _rel(host(out), ref)
            ok = err <= _tol(dt, prec)
            results["checks"].append({"case": name, "shape": [b, sq, skv], "rel_err": err, "ok": ok})
            print(f"{'ok  ' if ok else 'FAIL'} {name:24s} B={b} Sq={sq} Skv={skv}  rel err {err:.2e}")
    for name, (rule, hq, hk, hv, K, V, dt, decay, state, prec) in LA.items():
        mod = gatec.load(os.path.join(libdir, f"lib{name}.so"))
        for (b, t) in [(1, 1), (2, 17), (1, 100), (1, 300)]:
            q = rng.standard_normal((b, hq, t, K)) / np.sqrt(K)
            k = rng.standard_normal((b, hk, t, K))
            k /= np.linalg.norm(k, axis=-1, keepdims=True)
            v = rng.standard_normal((b, hv, t, V))
            args = [q, k, v]
            dcy = None
            if decay == "scalar":
                dcy = -rng.random((b, hv, t)) * 0.5
                args.append(dcy)
            elif decay == "channel":
                dcy = -rng.random((b, hv, t, K)) * 0.5
                args.append(dcy)
            bt = None
            if rule in ("delta", "gated_delta"):
                bt = rng.random((b, hv, t))
                args.append(bt)
            s0 = rng.standard_normal((b, hv, K, V)) * 0.1 if state else None
            dev_args = [to_dev(a, dt) for a in args]
            if state:
                dev_args.append(torch.from_numpy(s0.astype(np.float32)).to(dev))
            rounded = [host(x) for x in dev_args[:len(args)]]
            rq, rk, rv = rounded[:3]
            i = 3
            rd = rb = None
            if decay:
                rd = rounded[i]
                i += 1
            if bt is not None:
                rb = rounded[i]
            ref_o, ref_s = reference.linear_attention(rq, rk, rv, rule, decay=rd, beta=rb,
                                                      initial_state=s0)
            ho = hq if hq != hk else hv
            out = torch.full((b, ho, t, V), float("nan"), device=dev, dtype=_torch_dtype(torch, dt))
            fs = torch.full((b, hv, K, V), float("nan"), device=dev, dtype=torch.float32)
            call(mod, dev_args, [out, fs])
            err = max(_rel(host(out), ref_o), _rel(host(fs), ref_s))
            ok = err <= _tol(dt, prec)
            results["checks"].append({"case": name, "shape": [b, t], "rel_err": err, "ok": ok})
            print(f"{'ok  ' if ok else 'FAIL'} {name:24s} B={b} T={t}  rel err {err:.2e}")

    # ONNX conformance models (numpy in and out), against their expected outputs.
    import glob
    from test_conformance import _load_pbs
    for folder in sorted(glob.glob(os.path.join(libdir, "conformance", "test_*"))):
        name = os.path.basename(folder)
        m = gatec.load(os.path.join(folder, "libconf.so"))
        inputs = _load_pbs(folder, "input")
        by_name = dict(inputs)
        args = [np.ascontiguousarray(by_name.get(s.name, inputs[i][1]))
                for i, s in enumerate(m.inputs)]
        ok, err = True, 0.0
        try:
            outs = m(*args)
            for i, (oname, want) in enumerate(_load_pbs(folder, "output")):
                have = np.asarray(outs[i], np.float64)
                want = np.asarray(want, np.float64)
                fin = np.isfinite(want)
                if have.shape != want.shape or not np.array_equal(np.isfinite(have), fin):
                    err = float("inf")
                elif want.size:
                    scale = max(float(np.max(np.abs(want[fin]), initial=0.0)), 1e-6)
                    err = max(err, float(np.max(np.abs(have[fin] - want[fin]), initial=0.0)) / scale)
            ok = err <= 1e-2
        except gatec.Error as e:
            ok, err = False, float("inf")
            print("   ", e)
        results["checks"].append({"case": name, "shape": [], "rel_err": err, "ok": ok})
        print(f"{'ok  ' if ok else 'FAIL'} {name:48s} rel err {err:.2e}")

    # The example layers end to end (numpy in and out: copied to the device).
    from models_reference import reference_outputs
    for name in MODELS:
        for prec in MODEL_PRECISIONS:
            m = gatec.load(os.path.join(libdir, f"lib{name}_{prec}.so"))
            for batch, seq in [(1, 1), (2, 300)]:
                feeds = {}
                for spec in m.inputs:
                    shape = [batch if d == "batch" else seq if d == "seq" else d for d in spec.shape]
                    if spec.dtype == np.int64:
                        feeds[spec.name] = np.broadcast_to(np.arange(seq), shape).astype(np.int64).copy()
                    else:
                        feeds[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
                (y,) = m(*[feeds[s.name] for s in m.inputs])
                err = _rel(y, reference_outputs(name, feeds)["output"])
                ok = err <= MODEL_TOL[prec]
                results["checks"].append({"case": f"{name}_{prec}", "shape": [batch, seq],
                                          "rel_err": err, "ok": ok})
                print(f"{'ok  ' if ok else 'FAIL'} {name}_{prec:5s} B={batch} T={seq}  rel err {err:.2e}")

    # Timings: CUDA events, median of 20 after 5 warm-ups.
    def bench(fn, n=20):
        for _ in range(5):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(n):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            fn()
            e.record()
            torch.cuda.synchronize()
            times.append(s.elapsed_time(e))
        return float(np.median(times))

    import torch.nn.functional as F
    # f16 (both kernels), and f32 on tf32 MMAs (torch: f32 SDPA, its default precision).
    for (lib, label, kernel, tdt), (b, s) in [
            (l, bs) for l in [("libsdpa_f16_d128_gqa.so", "f16", "wgmma", torch.float16),
                              ("libsdpa_f16_d128_gqa_sm80.so", "f16", "mma.sync", torch.float16),
                              ("libsdpa_f32_as_tf32.so", "f32", "tf32 mma.sync", torch.float32)]
            for bs in [(1, 2048), (4, 4096)]]:
        mod = gatec.load(os.path.join(libdir, lib))
        hq, hkv, d = 8, 2, 128
        q = torch.randn(b, hq, s, d, device=dev, dtype=tdt)
        k = torch.randn(b, hkv, s, d, device=dev, dtype=tdt)
        v = torch.randn(b, hkv, s, d, device=dev, dtype=tdt)
        g = torch.randn(b, hq, s, d, device=dev, dtype=tdt)
        out = torch.empty(b, hq, s, d, device=dev, dtype=tdt)
        mod.set_stream(stream.cuda_stream)
        t_g = bench(lambda: mod(q, k, v, g, out=[out]))
        kk, vv = k.repeat_interleave(hq // hkv, 1), v.repeat_interleave(hq // hkv, 1)
        t_t = bench(lambda: F.scaled_dot_product_attention(q, kk, vv, is_causal=True) * torch.sigmoid(g))
        flops = 4 * b * hq * s * s * d / 2
        row = {"case": f"causal gated SDPA {label} B={b} H={hq}/{hkv} S={s} D={d} ({kernel})",
               "gatec_ms": t_g, "torch_ms": t_t, "gatec_tflops": flops / t_g / 1e9,
               "torch_tflops": flops / t_t / 1e9}
        results["timings"].append(row)
    mod = gatec.load(os.path.join(libdir, "libla_gated_delta_bf16.so"))
    for (b, t) in [(1, 4096), (8, 4096)]:
        hq, hk, hv, K, V = 4, 4, 8, 128, 128
        q = torch.randn(b, hq, t, K, device=dev, dtype=torch.bfloat16) / K ** 0.5
        k = torch.nn.functional.normalize(torch.randn(b, hk, t, K, device=dev), dim=-1).bfloat16()
        v = torch.randn(b, hv, t, V, device=dev, dtype=torch.bfloat16)
        dcy = -torch.rand(b, hv, t, device=dev).bfloat16() * 0.5
        bt = torch.rand(b, hv, t, device=dev).bfloat16()
        s0 = torch.zeros(b, hv, K, V, device=dev)
        out = torch.empty(b, hv, t, V, device=dev, dtype=torch.bfloat16)
        fs = torch.empty(b, hv, K, V, device=dev)
        mod.set_stream(stream.cuda_stream)
        t_g = bench(lambda: mod(q, k, v, dcy, bt, s0, out=[out, fs]), n=5)
        # chunked delta rule: ~ T·(6·K·V + 2·C·(K+V)) per head, C = 16
        flops = b * hv * t * (6 * K * V + 2 * 16 * (K + V)) * 2
        results["timings"].append({"case": f"gated delta bf16 B={b} T={t} Hv={hv} K=V={K}",
                                   "gatec_ms": t_g, "gatec_tflops": flops / t_g / 1e9})

    print()
    print(f"device: {results['device']}")
    print(f"checks: {sum(c['ok'] for c in results['checks'])}/{len(results['checks'])} passed")
    print(f"{'workload':48s} {'gatec ms':>9s} {'TFLOP/s':>8s} {'torch ms':>9s} {'TFLOP/s':>8s}")
    for r in results["timings"]:
        tt = f"{r['torch_ms']:9.3f} {r['torch_tflops']:8.1f}" if "torch_ms" in r else ""
        print(f"{r['case']:48s} {r['gatec_ms']:9.3f} {r['gatec_tflops']:8.1f} {tt}")
    out = os.environ.get("OUT", ".")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    return 0 if all(c["ok"] for c in results["checks"]) else 1


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("prepare", "run"):
        print(__doc__)
        sys.exit(2)
    t0 = time.time()
    rc = prepare(sys.argv[2]) if sys.argv[1] == "prepare" else run(sys.argv[2])
    print(f"({time.time() - t0:.0f} s)")
    sys.exit(rc or 0)
