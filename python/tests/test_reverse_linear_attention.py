"""Bidirectional linear attention (ViG's BiGLA block): a forward LinearAttention
and a backward one written as sequence reversals (Slice step -1 over the token
axis, as torch.flip exports) around a second LinearAttention. The importer runs
the backward op as `gate.linear_attention {reverse}` on the unreversed inputs and
folds the reversal of its output away. Near misses (one input not reversed, a
reversal that drops a token, a reversal of another axis) stay as written. Every
model is checked against float64 numpy and ONNX Runtime."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import gatec
from gatec import reference as R
from kernel_util import REPO, assert_close, have_compiler, ort_unsupported, run_gatec

try:
    import onnxruntime as ort
except ImportError:  # pragma: no cover
    ort = None

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

C, H, DK, DV = 24, 2, 8, 12
INT64_MIN = -(2 ** 63)


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    w = lambda n: (rng.standard_normal((C, n)) / np.sqrt(C)).astype(np.float32)
    return {"wq": w(H * DK), "wk": w(H * DK), "wv": w(H * DV), "wgf": w(H * DK),
            "wgb": w(H * DK), "wbf": w(H), "wbb": w(H), "wo": w(C)}


class Spec:
    """What the backward branch looks like: which inputs are reversed and how."""

    def __init__(self, rule="gated", rev=("q", "k", "v", "g", "beta"), start=-1, end=INT64_MIN,
                 axis=1, flip_out=True, state=False, static_t=None, forward=True,
                 revseq=False):
        self.rule, self.rev, self.start, self.end, self.axis = rule, rev, start, end, axis
        self.flip_out, self.state, self.static_t = flip_out, state, static_t
        self.forward = forward  # add the forward branch (same length only)
        self.revseq = revseq  # ReverseSequence with constant lengths (static B = 2 and T)

    @property
    def delta(self):
        return "delta" in self.rule


CASES = {
    # raised: the backward op runs in place
    "bigla": (Spec(), True),
    "gated_delta_state": (Spec(rule="gated_delta", state=True), True),
    "static_t": (Spec(start=8, end=-10, static_t=9), True),
    "output_not_flipped_back": (Spec(flip_out=False), True),
    "reverse_sequence": (Spec(revseq=True, static_t=9), True),
    # not raised
    "decay_not_reversed": (Spec(rev=("q", "k", "v")), False),
    "drops_a_token": (Spec(start=7, end=-10, static_t=9, forward=False), False),
    "other_axis": (Spec(axis=2, rev=("q", "k")), False),
}


def build(spec: Spec, w):
    F = TensorProto.FLOAT
    t = spec.static_t if spec.static_t else "t"
    bdim = 2 if spec.revseq else "b"
    nodes, inits = [], [numpy_helper.from_array(a, n) for n, a in w.items()]
    const = lambda name, vals: inits.append(numpy_helper.from_array(np.array(vals, np.int64), name))
    const("rs", [spec.start])
    const("re", [spec.end])
    const("ra", [spec.axis])
    const("rstep", [-1])
    const("fs", [-1])
    const("fe", [INT64_MIN])
    const("fa", [1])
    if spec.revseq:
        const("lens", [spec.static_t] * 2)
    node = lambda op, ins, outs, **kw: nodes.append(helper.make_node(op, ins, outs, **kw))

    def flip(x, y, slice_inputs):
        if spec.revseq:
            node("ReverseSequence", [x, "lens"], [y], batch_axis=0, time_axis=1)
        else:
            node("Slice", [x] + slice_inputs, [y])
    for n in ("q", "k", "v"):
        node("MatMul", ["x", "w" + n], [n])
    for d in ("f", "b"):  # GLA's per-channel log decay: logsigmoid(x W) / 16
        node("MatMul", ["x", "wg" + d], ["zg" + d])
        node("Neg", ["zg" + d], ["nzg" + d])
        node("Softplus", ["nzg" + d], ["sp" + d])
        node("Neg", ["sp" + d], ["ls" + d])
        inits.append(numpy_helper.from_array(np.array(1 / 16, np.float32), "s16" + d))
        node("Mul", ["ls" + d, "s16" + d], ["g" + d])
        if spec.delta:
            node("MatMul", ["x", "wb" + d], ["zb" + d])
            node("Sigmoid", ["zb" + d], ["beta" + d])
    if spec.rule == "gated_delta":  # scalar decay per head for the delta rule
        for d in ("f", "b"):
            nodes[:] = [nd for nd in nodes if nd.output[0] != "g" + d]
            const("gsl" + d, [0])
            const("gse" + d, [H])
            const("gsa" + d, [2])
            node("Slice", ["ls" + d, "gsl" + d, "gse" + d, "gsa" + d], ["g" + d])
    la = dict(q_num_heads=H, kv_num_heads=H, update_rule=spec.rule, domain="")
    fins = ["q", "k", "v", "st_in" if spec.state else "", "gf"] + (["betaf"] if spec.delta else [])
    node("LinearAttention", fins, ["of", "sf"], **la)
    bins = []
    for n, src in (("q", "q"), ("k", "k"), ("v", "v"), ("g", "gb"), ("beta", "betab")):
        if n == "beta" and not spec.delta:
            continue
        if n in spec.rev:
            flip(src, src + "_rev", ["rs", "re", "ra", "rstep"])
            bins.append(src + "_rev")
        else:
            bins.append(src)
    bins = bins[:3] + ["st_in" if spec.state else ""] + bins[3:]
    node("LinearAttention", bins, ["ob_rev", "sb"], **la)
    if spec.flip_out:
        flip("ob_rev", "ob", ["fs", "fe", "fa", "rstep"])
    else:
        node("Identity", ["ob_rev"], ["ob"])
    if spec.forward:
        node("Add", ["of", "ob"], ["o"])
    else:
        node("Identity", ["ob"], ["o"])
    node("MatMul", ["o", "wo"], ["y"])
    ins = [helper.make_tensor_value_info("x", F, [bdim, t, C])]
    outs = [helper.make_tensor_value_info("y", F, [bdim, t if spec.forward else "t_out", C])]
    if spec.state:
        ins.append(helper.make_tensor_value_info("st_in", F, [bdim, H, DK, DV]))
        outs.append(helper.make_tensor_value_info("sb", F, [bdim, H, DK, DV]))
    g = helper.make_graph(nodes, "bidirectional_la", ins, outs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 27)], ir_version=11)


def reference(spec: Spec, w, x, st=None):
    """The model's function in float64, reversals applied as written."""
    x = x.astype(np.float64)
    W = {n: a.astype(np.float64) for n, a in w.items()}
    q, k, v = x @ W["wq"], x @ W["wk"], x @ W["wv"]
    ls = {d: -np.logaddexp(0, -(x @ W["wg" + d])) for d in ("f", "b")}
    if spec.rule == "gated_delta":
        g = {d: ls[d][..., :H] for d in ls}
    else:
        g = {d: ls[d] / 16 for d in ls}
    beta = {d: 1 / (1 + np.exp(-(x @ W["wb" + d]))) for d in ("f", "b")} if spec.delta else None

    def heads(a, d):  # [B,T,H*d] -> [B,H,T,d]
        return a.reshape(a.shape[0], a.shape[1], H, d).transpose(0, 2, 1, 3)

    def la(q, k, v, g, b):
        dec = g.transpose(0, 2, 1) if spec.rule == "gated_delta" else heads(g, DK)
        o, s = R.linear_attention(heads(q, DK), heads(k, DK), heads(v, DV), spec.rule, decay=dec,
                                  beta=None if b is None else b.transpose(0, 2, 1),
                                  initial_state=st)
        return o.transpose(0, 2, 1, 3).reshape(q.shape[0], q.shape[1], H * DV), s

    def rev(a):
        T = a.shape[spec.axis]
        start = spec.start + T if spec.start < 0 else min(spec.start, T - 1)
        idx = np.arange(start, -1, -1)
        return np.take(a, idx, axis=spec.axis)

    of, _ = la(q, k, v, g["f"], beta["f"] if beta else None)
    ops = {"q": q, "k": k, "v": v, "g": g["b"], "beta": beta["b"] if beta else None}
    ops = {n: (rev(a) if n in spec.rev and a is not None else a) for n, a in ops.items()}
    ob, sb = la(ops["q"], ops["k"], ops["v"], ops["g"], ops["beta"])
    if spec.flip_out:
        ob = np.flip(ob, axis=1)
    return ((of + ob) if spec.forward else ob) @ W["wo"], sb


def _model(tmp_path, name):
    spec, _ = CASES[name]
    w = _weights()
    path = str(tmp_path / f"{name}.onnx")
    onnx.save(build(spec, w), path)
    return spec, w, path


@pytest.mark.parametrize("name", sorted(CASES))
def test_raised_only_when_exact(tmp_path, name):
    spec, w, path = _model(tmp_path, name)
    proc = run_gatec([path, "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    la = [ln for ln in proc.stdout.splitlines() if "= gate.linear_attention" in ln]
    assert len(la) == (2 if spec.forward else 1), la
    raised = CASES[name][1]
    assert sum("reverse" in ln for ln in la) == int(raised), la
    if raised and spec.flip_out:
        # no reversal copy is left: every gather of the model was a reversal
        assert "tensor.extract " not in proc.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_float64_and_onnxruntime(tmp_path, name):
    spec, w, path = _model(tmp_path, name)
    lib = gatec.load(gatec.compile(path, str(tmp_path / f"lib{name}.so")))
    sess = None
    if ort is not None:
        try:
            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - only "not supported" is skipped
            if not ort_unsupported(e):
                raise
    rng = np.random.default_rng(7)
    lengths = (spec.static_t,) if spec.static_t else (1, 2, 65, 130)
    for T in lengths:
        if spec.start == -2 and T < 2:
            continue
        x = rng.standard_normal((2, T, C)).astype(np.float32)
        feeds = [x]
        st = None
        if spec.state:
            st = (rng.standard_normal((2, H, DK, DV)) * 0.5).astype(np.float32)
            feeds.append(st)
        got = lib(*feeds)
        got = got if isinstance(got, tuple) else (got,)
        want, want_s = reference(spec, w, x, st)
        assert_close(got[0], want, 1e-4, f"{name} T={T}: output vs float64")
        if spec.state:
            assert_close(got[1], want_s, 1e-4, f"{name} T={T}: final state vs float64")
        if sess is not None:
            names = [i.name for i in sess.get_inputs()]
            theirs = sess.run(None, dict(zip(names, feeds)))
            for o, (a, b) in enumerate(zip(got, theirs)):
                assert_close(a, b, 1e-4, f"{name} T={T}: output {o} vs ONNX Runtime")


# ViG's BiGLA block written in PyTorch (examples/vig_bidirectional_gla.py) and
# exported by gatec.torch.export: torch.flip around the backward scan, reshapes
# between the flips and the LinearAttention nodes.
VIG = os.path.join(REPO, "test", "models", "vig", "bigla")


def test_vig_block_raised():
    proc = run_gatec([VIG + ".onnx", "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    la = [ln for ln in proc.stdout.splitlines() if "= gate.linear_attention" in ln]
    assert len(la) == 2 and sum("reverse" in ln for ln in la) == 1, la
    assert "tensor.extract " not in proc.stdout  # no flipped copies


def test_vig_block_matches_pytorch(tmp_path):
    lib = gatec.load(gatec.compile(VIG + ".onnx", str(tmp_path / "libbigla.so")))
    data = np.load(VIG + ".npz")
    for t in (1, 37, 77, 130):
        got = lib(data[f"x_{t}"])
        got = got[0] if isinstance(got, tuple) else got
        assert_close(got, data[f"y_{t}"], 1e-4, f"BiGLA T={t} vs PyTorch")
