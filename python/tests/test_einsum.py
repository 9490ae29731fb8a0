"""ONNX Einsum: matmul-shaped equations (batch, row, column and contracted
labels) run on the packed matmul kernels, every other equation (transposes,
diagonals, traces, sums, outer and elementwise products, three operands,
broadcast ellipsis dims) as one loop nest. Each is compared with numpy's
einsum in float64 and with ONNX's reference evaluator, at two sizes of the
dynamic dims where it has them."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import gatec
import kernel_util as ku

pytestmark = pytest.mark.skipif(not ku.have_compiler(), reason="gatec is not built")

TYPES = {np.float32: TensorProto.FLOAT, np.float16: TensorProto.FLOAT16,
         np.int64: TensorProto.INT64}

# (id, equation, input shapes with names for dynamic dims, concrete sizes per run)
CASES = [
    ("matmul", "ij,jk->ik", [("m", 65), (65, 7)], [{"m": 7}, {"m": 1}]),
    ("matmul_1000", "ij,jk->ik", [(7, 1000), (1000, 65)], [{}]),
    ("batch", "bij,bjk->bik", [("b", 7, 65), ("b", 65, 33)], [{"b": 2}, {"b": 1}]),
    ("scores", "bhqd,bhkd->bhqk", [(1, 2, "q", 16), (1, 2, 65, 16)], [{"q": 7}, {"q": 1}]),
    ("attn_out", "bhqk,bhkd->bhqd", [(1, 2, 7, 65), (1, 2, 65, 16)], [{}]),
    ("proj", "bld,dn->bln", [("b", "l", 24), (24, 40)], [{"b": 2, "l": 7}, {"b": 1, "l": 65}]),
    ("transposed_b", "ij,kj->ik", [(7, 65), (33, 65)], [{}]),
    ("transposed_a", "ji,jk->ik", [(65, 7), (65, 33)], [{}]),
    ("out_transposed", "ab,bc->ca", [(7, 65), (65, 5)], [{}]),
    ("two_inner", "abc,bcd->ad", [(3, 4, 5), (4, 5, 6)], [{}]),
    ("implicit", "ij,jk", [(4, 5), (5, 6)], [{}]),
    ("inner", "i,i", [(65,), (65,)], [{}]),
    ("outer", "i,j->ij", [(7,), (5,)], [{}]),
    ("hadamard", "ij,ij->ij", [(7, 5), (7, 5)], [{}]),
    ("transpose", "ij->ji", [("i", 5)], [{"i": 7}, {"i": 1}]),
    ("diagonal", "ii->i", [(7, 7)], [{}]),
    ("trace", "ii", [(7, 7)], [{}]),
    ("batch_diagonal", "bii->bi", [(3, 5, 5)], [{}]),
    ("sum", "ij->", [(7, 65)], [{}]),
    ("summed_out_of_a", "ijk,jl->il", [(3, 4, 5), (4, 6)], [{}]),
    ("ellipsis_broadcast", "...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)], [{}]),
    ("ellipsis_implicit", "...ij,...jk", [(2, 3, 4), (2, 4, 5)], [{}]),
    ("three", "ij,jk,kl->il", [(3, 4), (4, 5), (5, 6)], [{}]),
    ("spaces", "b i j , b j k -> b i k", [(2, 3, 4), (2, 4, 5)], [{}]),
]


def _model(eq, shapes, dtype, ranks_only=False):
    ins = [helper.make_tensor_value_info(f"x{k}", TYPES[dtype], list(s))
           for k, s in enumerate(shapes)]
    out = helper.make_tensor_value_info("y", TYPES[dtype], None)
    node = helper.make_node("Einsum", [i.name for i in ins], ["y"], equation=eq)
    g = helper.make_graph([node], "einsum", ins, [out])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)], ir_version=8)


def _compile(tmp_path, model, name):
    p = tmp_path / f"{name}.onnx"
    onnx.save(model, str(p))
    return gatec.load(gatec.compile(str(p), str(tmp_path / f"lib{name}.so")))


def _feeds(rng, shapes, sizes, dtype):
    out = []
    for s in shapes:
        shape = tuple(sizes[d] if isinstance(d, str) else d for d in s)
        if dtype == np.int64:
            out.append(rng.integers(-5, 5, shape).astype(np.int64))
        else:
            out.append(rng.standard_normal(shape).astype(dtype))
    return out


@pytest.mark.parametrize("cid,eq,shapes,runs", CASES, ids=[c[0] for c in CASES])
def test_einsum(tmp_path, cid, eq, shapes, runs):
    from onnx.reference import ReferenceEvaluator

    model = _model(eq, shapes, np.float32)
    lib = _compile(tmp_path, model, cid)
    ref = ReferenceEvaluator(model)
    rng = np.random.default_rng(len(cid))
    for sizes in runs:
        xs = _feeds(rng, shapes, sizes, np.float32)
        (got,) = lib(*xs)
        want = np.einsum(eq.replace(" ", ""), *[x.astype(np.float64) for x in xs])
        ku.assert_close(got, want, 1e-5, f"{cid} {sizes} vs numpy float64")
        (theirs,) = ref.run(None, {f"x{k}": x for k, x in enumerate(xs)})
        ku.assert_close(got, theirs, 1e-5, f"{cid} {sizes} vs onnx.reference")


@pytest.mark.parametrize("dtype", [np.float16, np.int64], ids=["f16", "int64"])
@pytest.mark.parametrize("eq,shapes", [("bij,bjk->bik", [(2, 7, 65), (2, 65, 5)]),
                                       ("ii->i", [(5, 5)]), ("ij,jk,kl->il",
                                                             [(3, 4), (4, 5), (5, 6)])])
def test_einsum_types(tmp_path, dtype, eq, shapes):
    model = _model(eq, shapes, dtype)
    lib = _compile(tmp_path, model, "m")
    xs = _feeds(np.random.default_rng(1), shapes, {}, dtype)
    (got,) = lib(*xs)
    assert got.dtype == dtype
    want = np.einsum(eq, *[x.astype(np.float64) for x in xs])
    if dtype == np.int64:
        np.testing.assert_array_equal(got, want.astype(np.int64))
    else:
        ku.assert_close(got, want, 2e-3, f"{eq} f16")


def test_einsum_matmul_runs_on_the_matmul_kernels(tmp_path):
    model = _model("bld,dn->bln", [("b", "l", 24), (24, 40)], np.float32)
    p = tmp_path / "m.onnx"
    onnx.save(model, str(p))
    proc = ku.run_gatec([str(p), "--compile-to=gate"])
    assert proc.returncode == 0, proc.stderr
    assert "linalg.matmul" in proc.stdout or "linalg.batch_matmul" in proc.stdout
    assert "reduction" not in proc.stdout


@pytest.mark.parametrize("eq,shapes,msg", [
    ("ij,jk->ik", [(3, 4), (5, 6)], "label 'j' has sizes 4 and 5"),
    ("ij,jk", [(3, 4)], "2 input terms for 1 inputs"),
    ("ij->i", [(3, 4, 5)], "2 labels for rank 3"),
    ("i1->i", [(3, 4)], "invalid character '1'"),
    ("ij->k", [(3, 4)], "output label 'k' is not in any input"),
    ("ij->ii", [(3, 4)], "output label 'i' appears twice"),
])
def test_einsum_errors(tmp_path, eq, shapes, msg):
    model = _model(eq, shapes, np.float32)
    p = tmp_path / "m.onnx"
    onnx.save(model, str(p))
    with pytest.raises(gatec.Error, match=msg):
        gatec.compile(str(p), str(tmp_path / "libm.so"))
