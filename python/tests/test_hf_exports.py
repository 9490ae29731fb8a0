"""Hugging Face transformers models as torch 2's dynamo exporter writes them
(scripts/export_hf_models.py: tiny random configs, committed under
test/models/hf/ with PyTorch's logits at several lengths): each compiles and
matches PyTorch, at every length the file accepts (dynamic T where the export
kept it), and every attention layer is raised to one causal gate.sdpa (GQA as a
head mapping, Qwen3-Next's output gate fused). The MoE model comes from
transformers' own exporter (torch's cannot translate its experts); that file is
valid up to 64 tokens (the chunk loop was traced once). Mistral with a
sliding window of 8 tokens (shorter than the tested lengths) raises to
`causal` with `window = [7, 0]`. A decode step of Qwen3-Next with its cache,
as transformers' own exporter writes it (torch_recurrent_gated_delta_rule
unrolled over the one new token), raises every Gated DeltaNet layer to one
gate.linear_attention reading the cached state and matches PyTorch's logits
and updated cache."""
import os

import numpy as np
import pytest

import gatec
from kernel_util import REPO, assert_close, have_compiler, run_gatec

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

MODELS = os.path.join(REPO, "test", "models", "hf")
NAMES = ["qwen3_opset18", "mistral_opset18", "qwen3_next_opset18", "qwen3_opset24",
         "qwen3_next_opset24", "qwen3_next_gatec", "qwen3_next_moe_transformers",
         "mistral_swa_opset18"]
TOL = 1e-4


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = tmp_path_factory.mktemp("hf")
    libs = {}

    def get(name):
        if name not in libs:
            path = os.path.join(MODELS, name + ".onnx")
            libs[name] = gatec.load(gatec.compile(path, str(out / f"lib{name}.so")))
        return libs[name]

    return get


@pytest.mark.parametrize("name", NAMES)
def test_matches_pytorch(compiled, name):
    m = compiled(name)
    data = np.load(os.path.join(MODELS, name + ".npz"))
    lengths = sorted(int(k.split("_")[1]) for k in data.files if k.startswith("ids_"))
    assert lengths, "no reference data"
    for t in lengths:
        logits = m(data[f"ids_{t}"])[0]  # transformers' exporter adds the cache
        assert_close(logits, data[f"logits_{t}"], TOL, f"{name} T={t}")


# name: (attention layers, their output gate fused)
ATTENTION = {"qwen3_opset18": (2, False), "mistral_opset18": (2, False),
             "qwen3_next_opset18": (1, True), "qwen3_opset24": (2, False),
             "qwen3_next_opset24": (1, True), "mistral_swa_opset18": (2, False),
             "qwen3_next_gatec": (1, True), "qwen3_next_moe_transformers": (1, True)}
WINDOW = {"mistral_swa_opset18": (7, 0)}
# Gated DeltaNet layers that are one gate.linear_attention each (gatec.torch.export
# writes them as ONNX LinearAttention; torch's own export unrolls the chunked
# rule, which the importer recognises).
DELTANET = {"qwen3_next_gatec": 3, "qwen3_next_opset18": 3, "qwen3_next_opset24": 3}


@pytest.mark.parametrize("name", NAMES)
def test_attention_raised(name):
    proc = run_gatec([os.path.join(MODELS, name + ".onnx"), "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    sdpa = [ln for ln in proc.stdout.splitlines() if "= gate.sdpa" in ln]
    layers, gated = ATTENTION[name]
    assert len(sdpa) == layers, sdpa
    for ln in sdpa:
        # transformers' mask (positions, packed-sequence test, GatherND) is
        # causal, whether it reaches decomposed attention or ONNX Attention.
        assert "causal" in ln and "mask(" not in ln, ln
        assert ("gate(" in ln) == gated, ln
        # K/V keep their 2 heads for the 4 query heads (repeat_kv's copies
        # become the GQA mapping).
        assert "tensor<1x4x" in ln and "tensor<1x2x" in ln, ln
        # A sliding window (Mistral's window of 8: the query and 7 keys
        # before it) becomes the op's window, exactly; no window elsewhere.
        want = WINDOW.get(name)
        assert ("window" in ln) == (want is not None), ln
        if want:
            assert f"window = array<i64: {want[0]}, {want[1]}>" in ln, ln
    if name in DELTANET:
        la = [ln for ln in proc.stdout.splitlines() if "= gate.linear_attention" in ln]
        assert len(la) == DELTANET[name] and all("gated_delta" in ln for ln in la), la
        # No token or chunk loop left around them.
        assert "scf.for" not in proc.stdout


@pytest.mark.parametrize("name", NAMES)
def test_op_stats_all_supported(name):
    proc = run_gatec([os.path.join(MODELS, name + ".onnx"), "--onnx-op-stats"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "UNSUPPORTED" not in proc.stdout


DECODE = "qwen3_next_decode_transformers"


@pytest.mark.parametrize("name", [DECODE, "qwen3_next_moe_decode_transformers"])
def test_decode_step_raised(name):
    proc = run_gatec([os.path.join(MODELS, name + ".onnx"), "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    la = [ln for ln in proc.stdout.splitlines() if "= gate.linear_attention" in ln]
    assert len(la) == 3 and all("gated_delta" in ln and "initial_state(" in ln for ln in la), la
    sdpa = [ln for ln in proc.stdout.splitlines() if "= gate.sdpa" in ln]
    # The mask keeps every cached key and the new one (j <= P, with P + 1
    # keys: proven for every cache length), so it goes, with transformers'
    # zeroing of fully masked rows, and the output gate is fused.
    assert len(sdpa) == 1 and "mask(" not in sdpa[0] and "causal" not in sdpa[0], sdpa
    assert "gate(" in sdpa[0], sdpa
    if "moe" not in name:  # (the MoE routing's top-k and expert gathers are loops)
        assert "scf.for" not in proc.stdout and "tensor.insert " not in proc.stdout


def test_decode_mask_near_miss(tmp_path):
    """The same file with the new token's own key masked out (j < P instead
    of j <= P): the mask stays, and gatec matches ONNX Runtime."""
    ort = pytest.importorskip("onnxruntime")
    import onnx

    m = onnx.load(os.path.join(MODELS, DECODE + ".onnx"))
    le = [n for n in m.graph.node if n.op_type == "LessOrEqual"]
    assert len(le) == 1
    le[0].op_type = "Less"
    path = str(tmp_path / "decode_less.onnx")
    onnx.save(m, path)
    proc = run_gatec([path, "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    sdpa = [ln for ln in proc.stdout.splitlines() if "= gate.sdpa" in ln]
    assert len(sdpa) == 1 and "mask(" in sdpa[0], sdpa
    lib = gatec.load(gatec.compile(path, str(tmp_path / "libless.so")))
    data = np.load(os.path.join(MODELS, DECODE + ".npz"))
    feeds = {spec.name: data["in:" + spec.name] for spec in lib.inputs}
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    want = sess.run(["logits"], feeds)[0]
    got = lib(*[feeds[spec.name] for spec in lib.inputs])[0]
    assert_close(got, want, TOL, "logits")
    assert np.max(np.abs(want - data["logits"])) > 1e-4, "the change did not change the result"


def test_qwen3_decode_step_raised():
    """Qwen3's decode step from the same exporter: both attention layers one
    gate.sdpa over the cache's 2 K/V heads, the mask (every key) gone."""
    proc = run_gatec([os.path.join(MODELS, "qwen3_decode_transformers.onnx"), "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    sdpa = [ln for ln in proc.stdout.splitlines() if "= gate.sdpa" in ln]
    assert len(sdpa) == 2, sdpa
    for ln in sdpa:
        assert "mask(" not in ln and "tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>" in ln, ln


@pytest.mark.parametrize("name", [DECODE, "qwen3_next_moe_decode_transformers",
                                  "qwen3_decode_transformers"])
def test_decode_step_matches_pytorch(compiled, name):
    """Logits and every cache output of one decode step (the cache holds the
    state after a 9-token prompt) against PyTorch."""
    lib = compiled(name)
    data = np.load(os.path.join(MODELS, name + ".npz"))
    got = lib(*[data["in:" + spec.name] for spec in lib.inputs])
    outs = dict(zip((spec.name for spec in lib.outputs), got))
    assert_close(outs["logits"], data["logits"], TOL, "decode logits")
    checked = 0
    for key in data.files:
        if key.startswith("out:") and outs[key[4:]].dtype.kind == "f":
            assert_close(outs[key[4:]], data[key], TOL, key[4:])
            checked += 1
    assert checked >= 4  # keys and values (and Qwen3-Next's conv and recurrent states)


CHUNKS = ["qwen3_chunk5_transformers", "mistral_swa_chunk5_transformers"]


@pytest.mark.parametrize("name", CHUNKS)
def test_chunked_prefill_raised(name):
    """5 new tokens over a cache (transformers' exporter, the new-token count
    dynamic): transformers' mask keeps key j for query i iff j <= i + P (and,
    Mistral's sliding window of 8, j > i + P - 8), P the cache's length: the
    bottom-right causal band (+ window [7, 0]) for every P and T, no mask."""
    proc = run_gatec([os.path.join(MODELS, name + ".onnx"), "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    sdpa = [ln for ln in proc.stdout.splitlines() if "= gate.sdpa" in ln]
    assert len(sdpa) == 2, sdpa
    for ln in sdpa:
        assert "mask(" not in ln and "bottom_right" in ln and "causal" in ln, ln
        assert ("window = array<i64: 7, 0>" in ln) == ("swa" in name), ln


@pytest.mark.parametrize("name", CHUNKS)
def test_chunked_prefill_matches_pytorch(compiled, name):
    lib = compiled(name)
    data = np.load(os.path.join(MODELS, name + ".npz"))
    outs = dict(zip((spec.name for spec in lib.outputs),
                    lib(*[data["in:" + spec.name] for spec in lib.inputs])))
    assert_close(outs["logits"], data["logits"], TOL, "chunk logits")
    for key in data.files:
        if key.startswith("out:") and outs[key[4:]].dtype.kind == "f" and data[key].ndim:
            got = outs[key[4:]]
            # The graph returns the whole concatenated cache; PyTorch's
            # sliding-window cache then keeps its last window - 1 entries.
            got = got[:, :, got.shape[2] - data[key].shape[2]:]
            assert_close(got, data[key], TOL, key[4:])


@pytest.mark.parametrize("tokens", [1, 3, 12])
@pytest.mark.parametrize("name", CHUNKS)
def test_chunk_file_other_lengths_match_onnxruntime(compiled, name, tokens):
    """The same files at other new-token counts (1: a decode step; 12: more
    than the window), against ONNX Runtime on the same graph."""
    ort = pytest.importorskip("onnxruntime")
    lib = compiled(name)
    data = np.load(os.path.join(MODELS, name + ".npz"))
    feeds = {spec.name: data["in:" + spec.name] for spec in lib.inputs}
    past = feeds["input.cache.layers.0.keys"].shape[2]
    start = int(feeds["position_ids"][0, 0])
    feeds["input_ids"] = np.random.default_rng(tokens).integers(0, 128, (1, tokens))
    feeds["position_ids"] = np.arange(start, start + tokens)[None]
    for k in feeds:
        if k in ("input_ids", "position_ids"):
            feeds[k] = feeds[k].astype(data["in:" + k].dtype)
    sess = ort.InferenceSession(os.path.join(MODELS, name + ".onnx"),
                                providers=["CPUExecutionProvider"])
    want = dict(zip((o.name for o in sess.get_outputs()), sess.run(None, feeds)))
    got = dict(zip((spec.name for spec in lib.outputs),
                   lib(*[feeds[spec.name] for spec in lib.inputs])))
    assert past > 0 and want["logits"].shape == (1, tokens, 128)
    assert_close(got["logits"], want["logits"], TOL, f"logits, {tokens} new tokens")


def test_decode_step_state_broadcast(compiled):
    """The file names the recurrent states' sizes symbolically ('4', '16'),
    so states of one head are valid ONNX: the step's products broadcast it
    over the heads. The raised op broadcasts it the same way (against ONNX
    Runtime)."""
    ort = pytest.importorskip("onnxruntime")
    lib = compiled(DECODE)
    data = np.load(os.path.join(MODELS, DECODE + ".npz"))
    feeds = {spec.name: data["in:" + spec.name] for spec in lib.inputs}
    for layer in range(3):  # the three states share the name of that size
        key = f"input.cache.layers.{layer}.recurrent_states.0"
        feeds[key] = np.ascontiguousarray(feeds[key][:, :1])
    sess = ort.InferenceSession(os.path.join(MODELS, DECODE + ".onnx"),
                                providers=["CPUExecutionProvider"])
    want = dict(zip((o.name for o in sess.get_outputs()), sess.run(None, feeds)))
    got = dict(zip((spec.name for spec in lib.outputs),
                   lib(*[feeds[spec.name] for spec in lib.inputs])))
    assert_close(got["logits"], want["logits"], TOL, "logits")
    out = "output.cache.layers.0.recurrent_states.0"
    assert got[out].shape == want[out].shape == (1, 4, 16, 16)
    assert_close(got[out], want[out], TOL, out)
