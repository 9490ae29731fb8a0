"""ONNX broadcasting where a size is known only at run time: a symbolic
dimension meeting a static size may be 1 when the library runs, and then
broadcasts (two different symbols are still taken to be equal; see the
README). Each graph is compiled once and run with the
symbolic size equal to the other one and equal to 1, against numpy (whose
broadcasting is ONNX's). Before the fix a [2,3] + ['a',3] Add read the second
row of y past its end when a = 1."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import gatec
from kernel_util import assert_close, have_compiler

pytestmark = pytest.mark.skipif(not have_compiler(), reason="gatec is not built")

F = TensorProto.FLOAT


def _model(nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                          [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
                          list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])


def _i64(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


# name: (model, input shapes of each run, numpy function)
CASES = {
    "add_symbol_vs_static": (
        _model([helper.make_node("Add", ["x", "y"], ["z"])],
               [("x", F, [2, 3]), ("y", F, ["a", 3])], [("z", F, [2, 3])]),
        [[(2, 3), (2, 3)], [(2, 3), (1, 3)]], lambda x, y: x + y),
    "mul_symbol_vs_static_inner": (
        _model([helper.make_node("Mul", ["x", "y"], ["z"])],
               [("x", F, [2, 4, 3]), ("y", F, [2, "h", 3])], [("z", F, [2, 4, 3])]),
        [[(2, 4, 3), (2, 4, 3)], [(2, 4, 3), (2, 1, 3)]], lambda x, y: x * y),
    "where_three_operands": (
        _model([helper.make_node("Greater", ["x", "t"], ["c"]),
                helper.make_node("Where", ["c", "x", "y"], ["z"])],
               [("x", F, [4, "c"]), ("t", F, [1, 6]), ("y", F, ["r", 1])], [("z", F, [4, 6])]),
        [[(4, 6), (1, 6), (4, 1)], [(4, 1), (1, 6), (1, 1)], [(4, 6), (1, 6), (1, 1)]],
        lambda x, t, y: np.where(x > t, x, y)),
    "matmul_batch": (
        _model([helper.make_node("MatMul", ["a", "b"], ["z"])],
               [("a", F, ["b", 2, 3]), ("b", F, [4, 3, 5])], [("z", F, [4, 2, 5])]),
        [[(4, 2, 3), (4, 3, 5)], [(1, 2, 3), (4, 3, 5)]], lambda a, b: a @ b),
    "expand_symbol": (
        _model([helper.make_node("Expand", ["x", "s"], ["z"])],
               [("x", F, ["a", 3])], [("z", F, [2, 3])], [_i64("s", [2, 3])]),
        [[(2, 3)], [(1, 3)]], lambda x: np.broadcast_to(x, (2, 3))),
}


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    out = tmp_path_factory.mktemp("bcast")
    cache = {}

    def get(name):
        if name not in cache:
            path = str(out / f"{name}.onnx")
            onnx.save(CASES[name][0], path)
            cache[name] = gatec.load(gatec.compile(path, str(out / f"lib{name}.so")))
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(CASES))
def test_symbolic_size_of_one_broadcasts(libs, name):
    _, runs, fn = CASES[name]
    lib = libs(name)
    rng = np.random.default_rng(0)
    for shapes in runs:
        args = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        want = fn(*args)
        got = lib(*args)
        got = got[0] if isinstance(got, tuple) else got
        assert got.shape == want.shape, (shapes, got.shape, want.shape)
        assert_close(got, want, 1e-6, f"{name} {shapes}")
