"""Side-by-side benchmarks (DESIGN.md §7): gatec vs ONNX Runtime on the same
.onnx file, vs a pure-PyTorch implementation, and the machine's sgemm rate
(OpenBLAS through numpy) as the ceiling. One run, one table.

    make bench            (or: .venv/bin/python bench/run.py [--quick])
"""
import argparse
import os
import subprocess
import sys
import time

# Peers share two cores in one process: threads that spin after their work
# (OpenMP in gatec and PyTorch, OpenBLAS, ONNX Runtime's pool) would steal
# time from whichever peer runs next. Idle threads sleep instead (gatec's
# libraries keep their workers awake during a call and for 1 ms after it,
# lib/Runtime/omp.c); OpenBLAS runs one thread here (the sgemm ceiling is
# measured in a child with its defaults).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
_BLAS_ENV = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS",)}
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import gatec  # noqa: E402

OUT = os.path.join(ROOT, "build", "bench")


def best_time(fn, min_reps=3, min_seconds=1.0):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 50:
            break
    return min(times)


def sgemm_rate():
    # Measured in a child so the OpenBLAS tuning variables are unset for it only.
    code = ("import numpy as np, time\n"
            "n=2048; a=np.random.rand(n,n).astype(np.float32); b=a.copy()\n"
            "a@b; best=1e9\n"
            "for _ in range(5):\n"
            "    t=time.perf_counter(); a@b; best=min(best,time.perf_counter()-t)\n"
            "print(2*n**3/best/1e9)\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")}
    if _BLAS_ENV["OPENBLAS_NUM_THREADS"]:
        env["OPENBLAS_NUM_THREADS"] = _BLAS_ENV["OPENBLAS_NUM_THREADS"]
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip())


def attention_model(path, B, Hq, Hkv, Sq, Skv, D, causal):
    f = TensorProto.FLOAT
    node = helper.make_node("Attention", ["Q", "K", "V"], ["Y"], is_causal=int(causal))
    g = helper.make_graph(
        [node], "attention",
        [helper.make_tensor_value_info("Q", f, [B, Hq, Sq, D]),
         helper.make_tensor_value_info("K", f, [B, Hkv, Skv, D]),
         helper.make_tensor_value_info("V", f, [B, Hkv, Skv, D])],
        [helper.make_tensor_value_info("Y", f, [B, Hq, Sq, D])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 23)])
    m.ir_version = 10
    onnx.save(m, path)


def linear_attention_model(path, B, T, H, K, V, rule, channel_decay, reverse=False):
    """One LinearAttention-27 node; with `reverse`, the backward scan of a
    bidirectional model: every per-token input and the output flipped along
    the tokens (Slice step -1, as torch.flip exports)."""
    f = TensorProto.FLOAT
    inputs = ["query", "key", "value", "", "decay"]
    vi = [helper.make_tensor_value_info("query", f, [B, T, H * K]),
          helper.make_tensor_value_info("key", f, [B, T, H * K]),
          helper.make_tensor_value_info("value", f, [B, T, H * V]),
          helper.make_tensor_value_info("decay", f, [B, T, H * K if channel_decay else H])]
    if "delta" in rule:
        inputs.append("beta")
        vi.append(helper.make_tensor_value_info("beta", f, [B, T, H]))
    nodes, inits = [], []
    if reverse:
        for n, a in (("s", -1), ("e", -(2 ** 63)), ("a", 1), ("st", -1)):
            inits.append(numpy_helper.from_array(np.array([a], np.int64), "flip_" + n))
        flip = lambda x, y: nodes.append(helper.make_node(
            "Slice", [x, "flip_s", "flip_e", "flip_a", "flip_st"], [y]))
        for i, x in enumerate(inputs):
            if x:
                flip(x, x + "_flipped")
                inputs[i] = x + "_flipped"
    nodes.append(helper.make_node("LinearAttention", inputs,
                                  ["output_flipped" if reverse else "output", "present_state"],
                                  q_num_heads=H, kv_num_heads=H, update_rule=rule))
    if reverse:
        flip("output_flipped", "output")
    g = helper.make_graph(
        nodes, "linear_attention", vi,
        [helper.make_tensor_value_info("output", f, [B, T, H * V]),
         helper.make_tensor_value_info("present_state", f, [B, H, K, V])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 27)])
    m.ir_version = 10
    onnx.save(m, path)


def ort_session(path):
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    try:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count()
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    except Exception:  # the op is not supported by this ONNX Runtime
        return None


def torch_module():
    try:
        import torch
        torch.set_num_threads(os.cpu_count())
        return torch
    except Exception:
        return None


def torch_sdpa(torch, q, k, v, causal):
    """PyTorch 2's F.scaled_dot_product_attention (its CPU flash kernel)."""
    with torch.inference_mode():
        return torch.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=causal, enable_gqa=q.shape[1] != k.shape[1])


def matmul_model(path, M, K, N, w):
    f = TensorProto.FLOAT
    g = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])], "matmul",
        [helper.make_tensor_value_info("X", f, [M, K])],
        [helper.make_tensor_value_info("Y", f, [M, N])],
        initializer=[onnx.numpy_helper.from_array(w, "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    onnx.save(m, path)


def torch_chunked_gated_delta(torch, q, k, v, g, beta, C=64):
    """Chunked gated delta rule in plain PyTorch (the WY/UT form of
    flash-linear-attention's naive chunk implementation). [B,H,T,K] inputs."""
    B, H, T, K = q.shape
    V = v.shape[-1]
    scale = K ** -0.5
    S = q.new_zeros(B, H, K, V)
    out = torch.empty(B, H, T, V)
    mask_u = torch.ones(C, C, dtype=torch.bool).triu(0)
    mask_s = torch.ones(C, C, dtype=torch.bool).triu(1)
    for c0 in range(0, T, C):
        qc, kc, vc = q[:, :, c0:c0 + C] * scale, k[:, :, c0:c0 + C], v[:, :, c0:c0 + C]
        gc, bc = g[:, :, c0:c0 + C].cumsum(-1), beta[:, :, c0:c0 + C]
        n = qc.shape[2]
        mu, ms = mask_u[:n, :n], mask_s[:n, :n]
        decay = (gc[..., :, None] - gc[..., None, :]).masked_fill(ms, float("-inf")).exp()
        kb = kc * bc[..., None]
        A = -((kb @ kc.transpose(-1, -2)) * decay).masked_fill(mu, 0)
        for i in range(1, n):
            A[..., i, :i] = A[..., i, :i] + (A[..., i, :, None] * A[..., :, :i]).sum(-2)
        A = A + torch.eye(n)
        w = A @ (kb * gc[..., None].exp())
        u = A @ (vc * bc[..., None])
        u = u - w @ S
        attn = ((qc @ kc.transpose(-1, -2)) * decay).masked_fill(ms, 0)
        out[:, :, c0:c0 + n] = (qc * gc[..., None].exp()) @ S + attn @ u
        last = gc[..., -1]
        S = S * last[..., None, None].exp() + (kc * (last[..., None] - gc).exp()[..., None]).transpose(-1, -2) @ u
    return out, S


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                flags = open("/proc/cpuinfo").read()
                isa = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "SSE"
                return f"{name} ({isa}, {os.cpu_count()} threads)"
    except OSError:
        pass
    return "unknown CPU"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller shapes, no realistic model")
    ap.add_argument("--only", default="", help="comma-separated sections: "
                    "dense,sdpa,linear,conv,layers,model,hf,cache,genai")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    want = lambda sec: not only or sec in only
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(0)
    torch = torch_module()
    peak = sgemm_rate()
    rows = [f"CPU: {cpu_name()}; torch {torch.__version__ if torch else 'n/a'}; "
            f"sgemm (OpenBLAS via numpy, 2048^3): {peak:.1f} GFLOP/s"]
    print(rows[0], flush=True)

    def report(name, flop, t_gatec, peers):
        cells = [f"{name:48s}", f"{t_gatec * 1e3:9.2f} ms"]
        if flop:
            g = flop / t_gatec / 1e9
            cells += [f"{g:7.1f} GFLOP/s", f"{100 * g / peak:5.1f}% sgemm"]
        for pname, t in peers:
            cells.append(f"{pname}: " + ("n/a" if t is None else
                                         f"{t * 1e3:.2f} ms ({t / t_gatec:.2f}x)"))
        line = " | ".join(cells)
        print(line, flush=True)
        rows.append(line)

    # 0. Dense layers: projections with constant weights.
    if want("dense"):
        for (M, K, N) in [(512, 2048, 2048), (2048, 2048, 5632), (1, 2048, 5632)]:
            w = (rng.standard_normal((K, N)) / np.sqrt(K)).astype(np.float32)
            x = rng.standard_normal((M, K)).astype(np.float32)
            path = os.path.join(OUT, f"matmul_{M}_{K}_{N}.onnx")
            matmul_model(path, M, K, N, w)
            m = gatec.load(gatec.compile(path, os.path.join(OUT, f"libmatmul_{M}_{K}_{N}.so")))
            err = np.abs(m(x)[0] - x.astype(np.float64) @ w).max()
            assert err < 1e-3, f"matmul {M}x{K}x{N}: error {err}"
            t_g = best_time(lambda: m(x))
            peers = []
            sess = ort_session(path)
            peers.append(("ORT", best_time(lambda: sess.run(None, {"X": x})) if sess else None))
            if torch:
                tx, tw = torch.from_numpy(x), torch.from_numpy(w)
                peers.append(("PyTorch", best_time(lambda: torch.matmul(tx, tw))))
            report(f"MatMul [{M}x{K}]·[{K}x{N}] const weight", 2 * M * K * N, t_g, peers)

    S = 512 if args.quick else 2048
    # 1. causal SDPA
    for (name, B, Hq, Hkv, Sq, Skv, D, causal) in [
            (f"causal SDPA B=1 H=16 S={S} D=128", 1, 16, 16, S, S, 128, True),
            ("decode SDPA Sq=1 Skv=8192 GQA 16:2 D=256", 1, 16, 2, 1, 8192, 256, False)]:
        if not want("sdpa"):
            break
        path = os.path.join(OUT, f"sdpa_{Sq}_{Skv}_{D}.onnx")
        attention_model(path, B, Hq, Hkv, Sq, Skv, D, causal)
        lib = gatec.compile(path, os.path.join(OUT, f"libsdpa_{Sq}_{Skv}_{D}.so"))
        m = gatec.load(lib)
        q = rng.standard_normal((B, Hq, Sq, D), dtype=np.float32)
        k = rng.standard_normal((B, Hkv, Skv, D), dtype=np.float32)
        v = rng.standard_normal((B, Hkv, Skv, D), dtype=np.float32)
        t_g = best_time(lambda: m(q, k, v))
        peers = []
        sess = ort_session(path)
        peers.append(("ORT", best_time(lambda: sess.run(None, {"Q": q, "K": k, "V": v}))
                      if sess else None))
        if torch:
            tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))
            peers.append(("PyTorch SDPA", best_time(lambda: torch_sdpa(torch, tq, tk, tv, causal))))
        flop = (2 if causal else 4) * B * Hq * Sq * Skv * D
        report(name, flop, t_g, peers)

    # 1b. sliding-window attention (Mistral-style: causal, W = 512) against
    # full causal attention at the same length: gate.sdpa with and without
    # its `window`, the same kernels (no peer has a CPU kernel that skips
    # the blocks outside a window; a [T, T] mask would be 4 GB here).
    if want("sdpa"):
        sys.path.insert(0, os.path.join(ROOT, "python", "tests"))
        import kernel_util as ku
        Tw, W, H, D = (2048 if args.quick else 8192), 512, 16, 128
        shape = (1, H, Tw, D)
        funcs = [ku.sdpa_func("swa", shape, shape, shape, causal=True, window=(W - 1, 0)),
                 ku.sdpa_func("full", shape, shape, shape, causal=True)]
        m = ku.compile_module(ku.module_text(funcs), OUT, "sdpa_window")
        q, k, v = (rng.standard_normal(shape, dtype=np.float32) for _ in range(3))
        # One output array for both (out=): a fresh 64 MB array per call
        # costs its page faults, a fixed time that would blur the ratio.
        o = np.empty_like(q)
        t_full = best_time(lambda: m.full(q, k, v, out=[o]))
        t_swa = best_time(lambda: m.swa(q, k, v, out=[o]))
        flop = 4 * H * D * sum(min(i + 1, W) for i in range(Tw))
        report(f"sliding-window SDPA H={H} S={Tw} W={W} D={D}", flop, t_swa,
               [("gatec full causal", t_full)])

    # 2. linear attention
    T = 1024 if args.quick else 4096
    for (name, T_, rule, channel) in [
            (f"gated delta rule B=1 T={T} H=16 K=V=128", T, "gated_delta", False),
            (f"GLA per-channel decay B=1 T={T} H=16 K=V=128", T, "gated", True),
            ("gated delta rule decode step T=1 H=16 K=V=128", 1, "gated_delta", False)]:
        if not want("linear"):
            break
        B, H, K, V = 1, 16, 128, 128
        path = os.path.join(OUT, f"la_{rule}_{int(channel)}_{T_}.onnx")
        linear_attention_model(path, B, T_, H, K, V, rule, channel)
        lib = gatec.compile(path, os.path.join(OUT, f"libla_{rule}_{int(channel)}_{T_}.so"))
        m = gatec.load(lib)
        q = rng.standard_normal((B, T_, H * K), dtype=np.float32)
        k = rng.standard_normal((B, T_, H, K)).astype(np.float32)
        k /= np.linalg.norm(k, axis=-1, keepdims=True)
        k = k.reshape(B, T_, H * K)
        v = rng.standard_normal((B, T_, H * V), dtype=np.float32)
        g = -rng.uniform(0.01, 0.2, (B, T_, H * K if channel else H)).astype(np.float32)
        feeds = [q, k, v, g]
        if "delta" in rule:
            feeds.append(rng.uniform(0.1, 0.9, (B, T_, H)).astype(np.float32))
        t_g = best_time(lambda: m(*feeds))
        peers = []
        sess = ort_session(path)
        names = [i.name for i in sess.get_inputs()] if sess else []
        peers.append(("ORT", best_time(lambda: sess.run(None, dict(zip(names, feeds))))
                      if sess else None))
        if torch and rule == "gated_delta":
            th = lambda x, d: torch.from_numpy(
                np.ascontiguousarray(x.reshape(B, T_, H, d).transpose(0, 2, 1, 3)))
            tq, tk, tv = th(q, K), th(k, K), th(v, V)
            tg = torch.from_numpy(np.ascontiguousarray(g.transpose(0, 2, 1)))
            tb = torch.from_numpy(np.ascontiguousarray(feeds[4].transpose(0, 2, 1)))
            peers.append(("PyTorch chunked", best_time(
                lambda: torch_chunked_gated_delta(torch, tq, tk, tv, tg, tb), min_reps=1)))
        flop = 6 * B * H * T_ * K * V
        report(name, flop, t_g, peers)
        if T_ > 1:  # the backward scan of a bidirectional model, same inputs
            rpath = path.replace(".onnx", "_reversed.onnx")
            linear_attention_model(rpath, B, T_, H, K, V, rule, channel, reverse=True)
            mr = gatec.load(gatec.compile(rpath, rpath.replace(".onnx", ".so")))
            rsess = ort_session(rpath)
            report(name.split(" B=")[0] + ", reversed (flips around the op)", flop,
                   best_time(lambda: mr(*feeds)),
                   [("gatec forward", t_g),
                    ("ORT", best_time(lambda: rsess.run(None, dict(zip(names, feeds))))
                     if rsess else None)])

    # 2b. A gated long causal convolution (GAM / Hyena-style filter): ONNX
    # Conv (depthwise, left padding k-1) times a sigmoid gate, the same file in
    # gatec and ORT; PyTorch's conv1d on the same weights.
    if want("conv"):
        C, Kc, Tc = 1024, 1024, (2048 if args.quick else 8192)
        path = os.path.join(OUT, f"long_conv_{Tc}.onnx")
        wc = (rng.standard_normal((C, 1, Kc)) / np.sqrt(Kc)).astype(np.float32)
        bc = rng.standard_normal(C).astype(np.float32)
        nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], group=C, pads=[Kc - 1, 0],
                                  kernel_shape=[Kc]),
                 helper.make_node("Sigmoid", ["g"], ["s"]),
                 helper.make_node("Mul", ["c", "s"], ["y"])]
        io = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, C, "t"])
        graph = helper.make_graph(nodes, "long_conv", [io("x"), io("g")], [io("y")],
                                  initializer=[numpy_helper.from_array(wc, "w"),
                                               numpy_helper.from_array(bc, "b")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
        model.ir_version = 9
        onnx.save(model, path)
        m = gatec.load(gatec.compile(path, os.path.join(OUT, f"liblong_conv_{Tc}.so")))
        x = rng.standard_normal((1, C, Tc)).astype(np.float32)
        g = rng.standard_normal((1, C, Tc)).astype(np.float32)
        y = m(x, g)
        y = y[0] if isinstance(y, tuple) else y
        peers = []
        sess = ort_session(path)
        if sess:
            yo = sess.run(None, {"x": x, "g": g})[0]
            err = float(np.abs(y - yo).max() / np.abs(yo).max())
            assert err < 1e-3, f"long conv: gatec vs ORT error {err}"
            peers.append(("ORT Conv", best_time(lambda: sess.run(None, {"x": x, "g": g}),
                                                min_reps=1)))
        if torch:
            tx, tg = torch.from_numpy(x), torch.from_numpy(g)
            tw, tb = torch.from_numpy(wc), torch.from_numpy(bc)
            tconv = lambda: (torch.nn.functional.conv1d(
                torch.nn.functional.pad(tx, (Kc - 1, 0)), tw, tb, groups=C) * torch.sigmoid(tg))
            with torch.no_grad():
                peers.append(("PyTorch conv1d", best_time(tconv, min_reps=1)))
        report(f"gated causal conv C={C} K={Kc} T={Tc}", 2 * C * Kc * Tc,
               best_time(lambda: m(x, g)), peers)

    # 2c. The same kind of filter, as long as the sequence, written with
    # torch.fft (Hyena's FFT convolution: irfft(rfft(u, 2T) * rfft(h, 2T))
    # [..., :T] * sigmoid(u)) and exported by torch at a static length: gatec
    # raises the DFT product to gate.causal_conv; ONNX Runtime runs the DFTs;
    # PyTorch its FFTs. The flops counted are the causal convolution's.
    if want("conv") and torch:
        C, Tf = 1024, (2048 if args.quick else 8192)

        class FFTConv(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.h = torch.nn.Parameter(torch.randn(C, Tf) / Tf)

            def forward(self, u):
                n = 2 * u.shape[-1]
                y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(self.h, n=n), n=n)
                return y[..., :u.shape[-1]] * torch.sigmoid(u)

        torch.manual_seed(0)
        block = FFTConv().eval()
        u = torch.randn(1, C, Tf)
        path = os.path.join(OUT, f"fft_conv_{Tf}.onnx")
        with torch.no_grad():
            torch.onnx.export(block, (u,), path, dynamo=True, input_names=["u"],
                              output_names=["y"])
        m = gatec.load(gatec.compile(path, os.path.join(OUT, f"libfft_conv_{Tf}.so")))
        un = u.numpy()
        y = m(un)
        y = y[0] if isinstance(y, tuple) else y
        with torch.no_grad():
            yt = block(u).numpy()
            err = float(np.abs(y - yt).max() / np.abs(yt).max())
            assert err < 1e-3, f"FFT conv: gatec vs PyTorch error {err}"
            peers = [("PyTorch torch.fft", best_time(lambda: block(u), min_reps=1))]
        sess = ort_session(path)
        if sess:
            peers.append(("ORT DFT", best_time(lambda: sess.run(None, {"u": un}), min_reps=1)))
        report(f"FFT-form causal conv (Hyena) C={C} K=T={Tf}", C * Tf * (Tf + 1),
               best_time(lambda: m(un)), peers)

    # 3. Example layers: fused-op export vs exporter-style decomposed export.
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    if want("layers"):
        import make_models
        S = 256 if args.quick else 1024
        make_models.write_models(OUT)
        for base in ["qwen3_next_attention", "qwen3_next_gated_deltanet"]:
            times = {}
            for variant in [base, base + "_decomposed"]:
                m = gatec.load(gatec.compile(os.path.join(OUT, variant + ".onnx"),
                                             os.path.join(OUT, f"lib{variant}.so")))
                feeds = []
                for spec in m.inputs:
                    shape = [1 if d == "batch" else S if d == "seq" else d for d in spec.shape]
                    if spec.dtype == np.int64:
                        feeds.append(np.broadcast_to(np.arange(S), shape).astype(np.int64).copy())
                    else:
                        feeds.append(rng.standard_normal(shape).astype(np.float32))
                times[variant] = best_time(lambda: m(*feeds))
            t_f, t_d = times[base], times[base + "_decomposed"]
            line = (f"{base} layer B=1 S={S}: fused export {t_f * 1e3:.2f} ms, "
                    f"decomposed export {t_d * 1e3:.2f} ms ({t_d / t_f:.2f}x)")
            print(line, flush=True)
            rows.append(line)

    # 4. Whole Qwen3-Next-style models (3 Gated DeltaNet : 1 gated attention, SwiGLU MLPs).
    if want("model"):
        import qwen3_next_model as qm
        configs = [("tiny (hidden 256)", qm.TINY, [512, 2048])]
        if not args.quick:
            configs.append(("realistic (hidden 2048)", qm.REALISTIC, [1, 512, 2048]))
        for label, cfg, lengths in configs:
            w = qm.make_weights(cfg)
            tag = f"qwen3_next_{cfg.hidden}"
            path = os.path.join(OUT, tag + ".onnx")
            onnx.save(qm.build_onnx(cfg, w), path, save_as_external_data=True,
                      location=tag + ".onnx.data")
            m = gatec.load(gatec.compile(path, os.path.join(OUT, f"lib{tag}.so")))
            sess = ort_session(path)
            tm = qm.TorchModel(torch, cfg, w, torch_chunked_gated_delta) if torch else None
            for T_ in lengths:
                x = rng.standard_normal((1, T_, cfg.hidden)).astype(np.float32)
                pos = np.arange(T_, dtype=np.int64)[None]
                y = m(x, pos)[0]
                peers = []
                if sess:
                    yo = sess.run(None, {"hidden_states": x, "position_ids": pos})[0]
                    err = float(np.abs(y - yo).max() / np.abs(yo).max())
                    assert err < 1e-3, f"{tag} T={T_}: gatec vs ORT error {err}"
                    peers.append(("ORT", best_time(
                        lambda: sess.run(None, {"hidden_states": x, "position_ids": pos}),
                        min_reps=2)))
                else:
                    peers.append(("ORT", None))
                if tm:
                    yt = tm(x, pos)
                    err = float(np.abs(y - yt).max() / np.abs(yt).max())
                    assert err < 1e-3, f"{tag} T={T_}: gatec vs PyTorch error {err}"
                    peers.append(("PyTorch eager", best_time(lambda: tm(x, pos), min_reps=2)))
                report(f"whole model {label} 4 layers T={T_}", 0,
                       best_time(lambda: m(x, pos), min_reps=2), peers)

    # 5. Hugging Face transformers models as exporters write them (hidden 1024):
    # torch's dynamo exporter at opset 18 (attention and the chunked gated delta
    # rule decomposed) and 24 (ONNX Attention), and gatec.torch.export (the rule
    # as ONNX LinearAttention), against ONNX Runtime on the same file and
    # transformers' own PyTorch eager model.
    if want("hf") and torch:
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        sys.path.insert(0, os.path.join(ROOT, "python"))
        import export_hf_models as hf
        T_ = 128 if args.quick else 512
        for name, exports in [("qwen3", [18, 24]), ("qwen3_next", [18, "gatec"])]:
            torch.manual_seed(0)
            model = hf.Logits(hf.MODELS[name]("bench").eval())
            ids = rng.integers(0, model.model.config.vocab_size, (1, T_)).astype(np.int64)
            tids = torch.from_numpy(ids)
            with torch.inference_mode():
                ref = model(tids).numpy()
                t_torch = best_time(lambda: model(tids), min_reps=2)
            for opset in exports:
                tag = f"hf_{name}_{opset}"
                path = os.path.join(OUT, tag + ".onnx")
                hf.export_file(model, path, opset, T_, max_length=4096)
                m = gatec.load(gatec.compile(path, os.path.join(OUT, f"lib{tag}.so")))
                err = float(np.abs(m(ids)[0] - ref).max() / np.abs(ref).max())
                assert err < 1e-3, f"{tag}: gatec vs PyTorch error {err}"
                sess = ort_session(path)
                t_ort = best_time(lambda: sess.run(None, {"ids": ids}), min_reps=2) if sess else None
                label = "gatec.torch.export" if opset == "gatec" else f"torch opset {opset}"
                report(f"HF {name} hidden 1024, {label}, T={T_}", 0,
                       best_time(lambda: m(ids), min_reps=2),
                       [("ORT", t_ort), ("PyTorch eager", t_torch)])

    # 6. Steps over a KV cache, as transformers' own exporter writes them (the
    # cache as graph inputs and outputs): Qwen3-Next's decode step (the Gated
    # DeltaNet layers' token-by-token rule raised) and Qwen3's chunked prefill
    # of 64 tokens (the mask j <= i + P raised to the bottom-right causal
    # band). The same file in gatec and ORT, PyTorch eager on the same step (a
    # fresh copy of the cache per call).
    if want("cache") and torch:
        import copy
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        import export_hf_models as hf
        T_ = 128 if args.quick else 512
        for name, tokens in [("qwen3_next", 1), ("qwen3", 64)]:
            kind = "decode" if tokens == 1 else f"chunk{tokens}"
            tag = f"hf_{name}_{kind}"
            path, step, inputs = hf.export_decode(name, prompt=T_, size="bench", tokens=tokens,
                                                  path=os.path.join(OUT, tag + ".onnx"))
            data = np.load(path.replace(".onnx", ".npz"))
            m = gatec.load(gatec.compile(path, os.path.join(OUT, f"lib{tag}.so")))
            args_ = [data["in:" + s.name] for s in m.inputs]
            err = float(np.abs(m(*args_)[0] - data["logits"]).max() / np.abs(data["logits"]).max())
            assert err < 1e-3, f"{tag}: gatec vs PyTorch error {err}"
            sess = ort_session(path)
            fd = {s.name: a for s, a in zip(m.inputs, args_)}
            t_ort = best_time(lambda: sess.run(None, fd)) if sess else None
            copies = iter([copy.deepcopy(inputs) for _ in range(60)])
            with torch.inference_mode():
                t_torch = best_time(lambda: step(**next(copies)))
            what = "decode" if tokens == 1 else f"{tokens}-token chunked prefill"
            report(f"HF {name} hidden 1024, transformers' exporter, {what} after T={T_}", 0,
                   best_time(lambda: m(*args_)), [("ORT", t_ort), ("PyTorch eager", t_torch)])

    if want("genai"):
        try:
            import onnxruntime_genai  # noqa: F401  (its model builder)
        except ImportError:
            onnxruntime_genai = None
            print("genai: skipped (pip install onnxruntime-genai into .venv-bench)")
        if onnxruntime_genai is not None and torch:
            # onnxruntime-genai's model builder on Qwen3, Qwen3.5 and Qwen3.5-MoE
            # (hidden 1024, 4 layers; Qwen3.5: 3 Gated DeltaNet + 1 gated
            # attention; MoE: 16 experts of 256, top 4, + a shared expert; int4:
            # MatMulNBits, which ORT runs at the file's accuracy_level 4, i.e.
            # with A rounded to int8, gatec in f32): the same
            # file in gatec and ORT (Qwen3.5: ORT's RotaryEmbedding gets the first
            # row of the [3, B, S] position ids, which it rejects otherwise), a
            # prompt through empty caches, then one decode step after it.
            sys.path.insert(0, os.path.join(ROOT, "scripts"))
            sys.path.insert(0, os.path.join(ROOT, "python", "tests"))
            import export_genai_models as ga
            from kernel_util import ort_first_position_row
            T_ = 128 if args.quick else 512
            for name, make, precision in (("Qwen3", ga.qwen3, "fp32"),
                                          ("Qwen3 int4", ga.qwen3, "int4"),
                                          ("Qwen3.5", ga.qwen35, "fp32"),
                                          ("Qwen3.5-MoE", ga.qwen35_moe, "fp32")):
                tag = "genai_" + name.replace(".", "").replace("-", "_").replace(" ", "_")
                path = ga.build(make("bench"), precision, os.path.join(OUT, tag))
                fn = gatec.load(gatec.compile(path, os.path.join(OUT, f"lib{tag}.so")))._main()
                ort_path = path
                mdl = onnx.load(path)
                if ort_first_position_row(mdl):
                    ort_path = os.path.join(OUT, tag, "ort.onnx")
                    onnx.save(mdl, ort_path, save_as_external_data=True, location="ort.onnx.data")
                sess = ort_session(ort_path)

                def feeds(ids, total, past):
                    f = {"input_ids": ids, "attention_mask": np.ones((1, total), np.int64), **past}
                    pos = [s for s in fn.inputs if s.name == "position_ids"]
                    if pos:
                        p = np.arange(total - ids.shape[1], total)[None].astype(np.int64)
                        f["position_ids"] = np.stack([p] * 3) if len(pos[0].shape) == 3 else p
                    return [f[s.name] for s in fn.inputs], f
                sizes = {"batch_size": 1, "past_sequence_length": 0, "kv_cache_dim": 128}
                empty = {s.name: np.zeros([sizes[d] if isinstance(d, str) else d for d in s.shape],
                                          np.float32)
                         for s in fn.inputs if s.name.startswith("past")}
                ids = rng.integers(0, 4096, (1, T_)).astype(np.int64)
                args_p, fd_p = feeds(ids, T_, empty)
                outs = dict(zip([o.name for o in fn.outputs], fn(*args_p)))
                if sess:
                    ref = sess.run(["logits"], fd_p)[0]
                    err = float(np.abs(outs["logits"] - ref).max() / np.abs(ref).max())
                    # int4: ORT's accuracy_level 4 rounds A to int8 (~1e-2)
                    tol = 5e-2 if precision == "int4" else 1e-3
                    assert err < tol, f"genai {name} prefill: gatec vs ORT error {err}"
                report(f"GenAI builder {name} hidden 1024, prefill T={T_}", 0,
                       best_time(lambda: fn(*args_p), min_reps=2),
                       [("ORT", best_time(lambda: sess.run(None, fd_p), min_reps=2) if sess else None)])
                past = {k: outs[k.replace("past_key_values.", "present.").replace("past.", "present.")]
                        for k in empty}
                args_d, fd_d = feeds(ids[:, :1], T_ + 1, past)
                report(f"GenAI builder {name} hidden 1024, decode step after {T_}", 0,
                       best_time(lambda: fn(*args_d)),
                       [("ORT", best_time(lambda: sess.run(None, fd_d)) if sess else None)])

    with open(os.path.join(OUT, "results.txt"), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
