"""gate.linear_attention with `token_major` ([B,T,H,D] operands, the layout
ONNX packs as [B,T,H*D]): fast and reference kernels against the float64
reference run on head-major transposes."""
import numpy as np
import pytest

import gatec
import kernel_util as ku
from gatec import reference as R

# (rule, decay kind, Hq, Hk, Hv, K, V, reverse)
CASES = [
    ("linear", None, 2, 2, 2, 16, 24, False),
    ("gated", "head", 2, 2, 2, 40, 16, False),
    ("gated", "channel", 2, 2, 2, 24, 40, False),
    ("delta", None, 4, 2, 2, 16, 16, False),          # GQA
    ("gated_delta", "head", 1, 1, 2, 16, 32, False),  # GVA 1:2
    ("gated_delta", "channel", 2, 2, 2, 128, 128, False),
    ("gated", "channel", 2, 2, 2, 24, 40, True),      # reverse time
    ("gated_delta", "head", 1, 1, 2, 16, 32, True),
]


def _func(i, rule, decay, hq, hk, hv, K, V, reverse):
    return ku.token_major_linear_attention_func(f"f{i}", rule, decay, "delta" in rule,
                                                hq, hk, hv, K, V, reverse=reverse)


@pytest.fixture(scope="module", params=["fast", "reference"])
def lib(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(f"tm_{request.param}")
    src = d / "tm.mlir"
    src.write_text("".join(_func(i, *c) for i, c in enumerate(CASES)))
    return gatec.load(gatec.compile(str(src), str(d / "libtm.so"), kernels=request.param))


@pytest.mark.parametrize("T", [1, 63, 130])
@pytest.mark.parametrize("i", range(len(CASES)))
def test_token_major(lib, i, T):
    rule, decay, hq, hk, hv, K, V, reverse = CASES[i]
    rng = np.random.default_rng(i * 100 + T)
    B = 2
    q = rng.standard_normal((B, T, hq, K)).astype(np.float32)
    k = rng.standard_normal((B, T, hk, K)).astype(np.float32)
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    v = rng.standard_normal((B, T, hv, V)).astype(np.float32)
    args, kw = [q, k, v], {}
    hm = lambda x: np.ascontiguousarray(np.swapaxes(x, 1, 2))  # [B,T,H,..] -> [B,H,T,..]
    if decay:
        g = -rng.uniform(0.01, 1.0, (B, T, hv, K) if decay == "channel" else (B, T, hv))
        args.append(g.astype(np.float32))
        kw["decay"] = hm(g)
    if "delta" in rule:
        beta = rng.uniform(0.1, 0.9, (B, T, hv))
        args.append(beta.astype(np.float32))
        kw["beta"] = hm(beta)
    o, s = lib.functions[f"f{i}"](*args)
    ro, rs = R.linear_attention(hm(q), hm(k), hm(v), rule, reverse=reverse, **kw)
    ro = np.swapaxes(ro, 1, 2)
    assert np.isfinite(o).all() and np.isfinite(s).all()
    assert np.abs(o - ro).max() <= 1e-4 * np.abs(ro).max()
    assert np.abs(s - rs).max() <= 1e-4 * max(np.abs(rs).max(), 1e-30)
