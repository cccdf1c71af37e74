"""An ONNX report is an ordinary Report: the JSON schema, every renderer, explain, Scan, a runtime If, QLinearConv."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from modelmeter import Report  # noqa: E402
from modelmeter.frontends.onnx import analyze_onnx  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
F = TensorProto.FLOAT


def io(name, *shape, elem=F):
    return helper.make_tensor_value_info(name, elem, list(shape))


def save(tmp_path, nodes, inputs, outputs, inits=(), opset=17, name="m.onnx"):
    model = helper.make_model(
        helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits)),
        opset_imports=[helper.make_opsetid("", opset)],
    )
    model.ir_version = 10
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def _cnn(tmp_path):
    # /block/conv/Conv 3 -> 8 (k 3, pad 1) on (1, 3, 8, 8); /block/Relu; /head/Gemm 8*8*8 -> 10
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Conv", ["x", "W", "b"], ["c"], name="/block/conv/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="/block/relu/Relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="/Flatten"),
        helper.make_node("Gemm", ["f", "W2", "b2"], ["y"], name="/head/Gemm", transB=1),
    ]
    inits = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "W"),
        numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b"),
        numpy_helper.from_array(rng.standard_normal((10, 512)).astype(np.float32), "W2"),
        numpy_helper.from_array(rng.standard_normal(10).astype(np.float32), "b2"),
    ]
    return save(tmp_path, nodes, [io("x", 1, 3, 8, 8)], [io("y", 1, 10)], inits)


def test_json_matches_schema_and_round_trips(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    report = analyze_onnx(_cnn(tmp_path))
    doc = report.to_dict()
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "modelmeter-1.schema.json").read_text()))
    assert not list(validator.iter_errors(doc))
    assert Report.from_dict(json.loads(report.to_json())).to_dict() == doc


def test_hierarchy_and_renderers(tmp_path):
    r = analyze_onnx(_cnn(tmp_path))
    # conv: (3*3*3 + 1)*8 = 224 params, 8*8*8 outputs * 27 = 13,824 MACs; head: 512*10 + 10 = 5,130 / 5,120
    assert r.layer("block").params == 224 and r.layer("block").macs == 13_824
    assert r.layer("block.conv").macs == 13_824 and r.layer("block.conv").depth == 2
    assert r.layer("head").params == 5_130 and r.layer("head").macs == 5_120
    assert r.layer("").macs == r.totals.macs == 13_824 + 5_120
    assert [row.name for row in r.layers] == ["", "block", "block.conv", "block.relu", "head"]
    assert r.layer("block").input_shapes == ((1, 3, 8, 8),) and r.layer("block").output_shapes == ((1, 8, 8, 8),)
    for text in (str(r), r.to_markdown(), r.to_csv(), r.to_html(), r.render(by="op")):
        assert "13" in text
    explained = r.explain()
    assert "(3·3·3 + 1)·8" in explained or "(3·3·3 + 1)·8".replace("·", "*") in explained
    assert "13,824" in explained and "5,120" in explained
    assert "note: the engine counted" not in explained  # explain's numbers equal the engine's


def test_scan_counts_every_step(tmp_path):
    # Scan over axis 0 of x (6, 4): the body multiplies one row (4,) by W (4, 4): 16 MACs per step, 6 steps
    body = helper.make_graph(
        [helper.make_node("MatMul", ["row", "W"], ["out"])],
        "body",
        [io("row", 4)],
        [io("out", 4)],
    )
    node = helper.make_node("Scan", ["x"], ["y"], name="/s/Scan", body=body, num_scan_inputs=1)
    w = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4), "W")
    r = analyze_onnx(save(tmp_path, [node], [io("x", 6, 4)], [io("y", 6, 4)], [w]))
    assert r.totals.macs == 6 * 4 * 4 == 96
    assert r.layer("s.Scan.body").calls == 6
    assert r.totals.params == 16


def test_if_runtime_condition_counts_costlier_branch(tmp_path):
    then_g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["t"])], "then", [], [io("t", 1, 8)])
    else_g = helper.make_graph([helper.make_node("Relu", ["x"], ["e"])], "else", [], [io("e", 1, 8)])
    node = helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)
    w = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "W")
    path = save(tmp_path, [node], [io("x", 1, 8), io("c", elem=TensorProto.BOOL)], [io("y", 1, 8)], [w])
    r = analyze_onnx(path)
    assert r.totals.macs == 64  # then: (1, 8) @ (8, 8), costlier than a Relu
    assert any("costlier branch is counted" in n and "8 FLOPs" in n for n in r.notes)  # else's Relu: 8 FLOPs


def test_qlinear_conv_int8(tmp_path):
    # QLinearConv 4 -> 8, k 1, int8 weights (8, 4, 1, 1) and an int32 bias: 32 + 8 = 40 params, 32 + 32 bytes;
    # MACs = 8 * 5*5 outputs * 4 = 800; scales and zero points are not parameters
    scalars = [
        numpy_helper.from_array(np.array(0.1, np.float32), "xs"),
        numpy_helper.from_array(np.array(0, np.int8), "xz"),
        numpy_helper.from_array(np.full(8, 0.05, np.float32), "ws"),
        numpy_helper.from_array(np.zeros(8, np.int8), "wz"),
        numpy_helper.from_array(np.array(0.2, np.float32), "ys"),
        numpy_helper.from_array(np.array(0, np.int8), "yz"),
    ]
    w = numpy_helper.from_array(np.arange(32, dtype=np.int8).reshape(8, 4, 1, 1), "W")
    b = numpy_helper.from_array(np.arange(8, dtype=np.int32), "B")
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "W", "ws", "wz", "ys", "yz", "B"], ["y"])
    path = save(
        tmp_path, [node], [io("x", 1, 4, 5, 5, elem=TensorProto.INT8)], [io("y", 1, 8, 5, 5, elem=TensorProto.INT8)],
        [*scalars, w, b],
    )  # fmt: skip
    r = analyze_onnx(path)
    assert r.totals.params == 32 + 8
    assert dict(r.totals.param_bytes_by_dtype) == {"int8": 32, "int32": 32}
    assert r.totals.macs == 8 * 25 * 4 == 800
