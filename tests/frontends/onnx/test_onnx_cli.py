"""`modelmeter summary model.onnx`: the registry picks the ONNX frontend; --input NAME=SHAPE, --dim; one error line
and a non-zero exit for bad files; compare mixes an ONNX file with other references; no torch imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.cli import main, parse_dims, parse_inputs  # noqa: E402
from modelmeter.errors import UsageError  # noqa: E402


@pytest.fixture
def model_path(tmp_path) -> str:
    # x (batch, 8) -> /fc/Gemm to 4 (transB) -> /Relu: batch b: MACs 8*4*b, params 8*4 + 4 = 36
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="/fc/Gemm", transB=1),
        helper.make_node("Relu", ["h"], ["y"], name="/Relu"),
    ]
    inits = [
        numpy_helper.from_array(np.arange(32, dtype=np.float32).reshape(4, 8), "W"),
        numpy_helper.from_array(np.arange(4, dtype=np.float32), "b"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    model = helper.make_model(
        helper.make_graph(nodes, "g", [x], [y], inits), opset_imports=[helper.make_opsetid("", 17)]
    )
    model.ir_version = 10
    path = tmp_path / "net.onnx"
    onnx.save(model, str(path))
    return str(path)


def test_parse_inputs_and_dims():
    assert parse_inputs(()) is None
    assert parse_inputs(("1,3,8,8", "2x4")) == [(1, 3, 8, 8), (2, 4)]
    assert parse_inputs(("x=1,3,8,8", "mask=1,8")) == {"x": (1, 3, 8, 8), "mask": (1, 8)}
    # ONNX input names are not always Python identifiers (old exporters: input.1, onnx::Conv_0)
    assert parse_inputs(("input.1=1,3", "onnx::Conv_0=2:float16")) == {
        "input.1": (1, 3),
        "onnx::Conv_0": ((2,), "float16"),
    }
    assert parse_dims(("batch=2", "seq=128")) == {"batch": 2, "seq": 128}
    for bad in [("x=1,3", "1,3"), ("=1,3",)]:
        with pytest.raises(UsageError):
            parse_inputs(bad)
    for bad in [("batch",), ("batch=-1",), ("batch=two",), ("=3",)]:
        with pytest.raises(UsageError):
            parse_dims(bad)


@pytest.mark.parametrize(
    "args",
    [["--dim", "batch=3"], ["--input", "x=3,8"], ["--input", "x=3,8:float32"], ["--input", "3,8"]],
    ids=["dim", "named", "named-with-dtype", "positional"],
)
def test_summary_json(model_path, capsys, args):
    assert main(["summary", model_path, *args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["inputs"] == [{"shape": [3, 8], "dtype": "float32"}]
    assert doc["totals"]["params"] == 36
    assert doc["totals"]["macs"] == 3 * 8 * 4  # 96
    assert doc["totals"]["flops"] == 2 * 96 + 12 + 12  # bias adds and ReLU on 12 outputs
    assert doc == modelmeter.summary(model_path, dims={"batch": 3}).to_dict()  # the API gives the same document
    assert [row["name"] for row in doc["layers"]] == ["", "fc"]


def test_unbound_dim_is_one_error_line(model_path, capsys):
    assert main(["summary", model_path]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {model_path}: input 'x' dim 0 ('batch') is unknown; give --dim batch=N or --input x=N,8"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"not onnx at all\n", "not a readable ONNX model"), (b"", "the file is empty")],
)
def test_bad_file_is_one_error_line(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    assert main(["summary", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}: ") and expected in err[0]


def test_truncated_file_exits_non_zero(model_path, tmp_path, capsys):
    data = open(model_path, "rb").read()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert main(["summary", str(path), "--dim", "batch=1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "cut.onnx" in err[0]


def test_explain_and_strict(model_path, capsys):
    assert main(["explain", model_path, "--dim", "batch=2"]) == 0
    out = capsys.readouterr().out
    assert "Gemm(8→4)" in out and "in·out + out = 8·4 + 4 = 36" in out and "2·8·4 = 64" in out
    assert main(["summary", model_path, "--dim", "batch=2", "--strict"]) == 0  # every op has a formula


def test_compare_mixes_onnx_with_a_spec(model_path, tmp_path, capsys):
    # the same network as a layer spec: Linear 8 -> 4 on (2, 8): 36 params, 2*8*4 = 64 MACs
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [2, 8]\nlayers:\n  - linear: 4\n")
    assert main(["compare", model_path, str(spec), "--dim", "batch=2", "--no-memory", "--format", "json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [(d["totals"]["params"], d["totals"]["macs"]) for d in docs] == [(36, 64), (36, 64)]
    # without the batch size the ONNX row carries the error and the spec's row is still counted
    entries = modelmeter.compare([model_path, str(spec)], memory=False)
    by_name = {e.ref: e for e in entries}
    assert "dim 0 ('batch') is unknown" in by_name[model_path].error
    assert by_name[str(spec)].report.totals.macs == 64


def test_no_torch_imported(model_path):
    code = (
        "import sys\n"
        "from modelmeter.cli import main\n"
        f"rc = main(['summary', {model_path!r}, '--dim', 'batch=1', '--format', 'json'])\n"
        "assert rc == 0, rc\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
