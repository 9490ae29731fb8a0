"""Writes the one-node ONNX models that index-ops.test imports: make_index_ops.py OUT_DIR."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

vi = helper.make_tensor_value_info


def save(name, nodes, inputs, outputs, inits=(), opset=18):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, ir_version=10, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, os.path.join(sys.argv[1], name + ".onnx"))


def const(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


os.makedirs(sys.argv[1], exist_ok=True)
save("cumsum", [helper.make_node("CumSum", ["x", "ax"], ["y"], name="cs", exclusive=1, reverse=1)],
     [vi("x", TP.FLOAT16, ["b", 7])], [vi("y", TP.FLOAT16, None)], [const("ax", np.array(1, np.int64))])
save("gather_elements", [helper.make_node("GatherElements", ["d", "i"], ["y"], name="ge", axis=1)],
     [vi("d", TP.FLOAT, ["b", 65]), vi("i", TP.INT32, ["b", 3])], [vi("y", TP.FLOAT, None)])
save("gather_nd", [helper.make_node("GatherND", ["d", "i"], ["y"], name="gnd", batch_dims=1)],
     [vi("d", TP.FLOAT, [2, 7, 5]), vi("i", TP.INT64, [2, 3, 1])], [vi("y", TP.FLOAT, None)])
save("scatter_elements",
     [helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], name="se", reduction="add")],
     [vi("d", TP.FLOAT, ["n", 4]), vi("i", TP.INT64, [3, 4]), vi("u", TP.FLOAT, [3, 4])],
     [vi("y", TP.FLOAT, None)])
save("scatter_nd", [helper.make_node("ScatterND", ["d", "i", "u"], ["y"], name="snd")],
     [vi("d", TP.FLOAT, [4, "t", 8]), vi("i", TP.INT64, [2, 2]), vi("u", TP.FLOAT, [2, 8])],
     [vi("y", TP.FLOAT, None)])
save("topk", [helper.make_node("TopK", ["x", "k"], ["v", "i"], name="tk", largest=0)],
     [vi("x", TP.FLOAT, ["b", 65])], [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)],
     [const("k", np.array([3], np.int64))])
save("topk_runtime_k", [helper.make_node("TopK", ["x", "k"], ["v", "i"], name="tk_rt")],
     [vi("x", TP.FLOAT, ["b", 65]), vi("k", TP.INT64, [1])],
     [vi("v", TP.FLOAT, None), vi("i", TP.INT64, None)])
save("cumsum_runtime_axis", [helper.make_node("CumSum", ["x", "ax"], ["y"], name="cs_rt")],
     [vi("x", TP.FLOAT, [3, 4]), vi("ax", TP.INT32, [])], [vi("y", TP.FLOAT, None)])
save("scatter_bad_reduction",
     [helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], name="se_bad", reduction="sum")],
     [vi("d", TP.FLOAT, [3, 4]), vi("i", TP.INT64, [3, 4]), vi("u", TP.FLOAT, [3, 4])],
     [vi("y", TP.FLOAT, None)])
