"""Bad ONNX files: one clear OnnxError naming the file; nothing outside the model's folder read; no code run."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from modelmeter.errors import InputError, ModelMeterError, OnnxError  # noqa: E402
from modelmeter.frontends.onnx import analyze_onnx  # noqa: E402


def _model(with_weights: bool = True) -> onnx.ModelProto:
    # conv 3 -> 4, k 3, then Gemm: a small real graph with scopes
    nodes = [
        helper.make_node("Conv", ["x", "W", "b"], ["c"], name="/conv/Conv"),
        helper.make_node("Relu", ["c"], ["r"], name="/Relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="/Flatten"),
        helper.make_node("Gemm", ["f", "W2"], ["y"], name="/fc/Gemm", transB=1),
    ]
    inits = [
        numpy_helper.from_array(np.arange(108, dtype=np.float32).reshape(4, 3, 3, 3), "W"),
        numpy_helper.from_array(np.arange(4, dtype=np.float32), "b"),
        numpy_helper.from_array(np.arange(20 * 64, dtype=np.float32).reshape(20, 64), "W2"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 20])
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=inits if with_weights else [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10
    return model


def _good_bytes() -> bytes:
    return _model().SerializeToString()


def test_good_model_counts(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(_good_bytes())
    r = analyze_onnx(path, dims={"batch": 1})
    # conv: 4*3*3*3 + 4 = 112 params, 4*4*4 outputs * 27 = 1,728 MACs; fc: 20*64 = 1,280 params and MACs
    assert (r.totals.params, r.totals.macs) == (112 + 1280, 1728 + 1280)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"hello, this is not onnx\n" * 10, "m.onnx: not"),
        (b"\x08\x07", "not an ONNX model"),  # a valid protobuf (ir_version 7) without a graph
        (b"PK\x03\x04" + bytes(60), "m.onnx: not"),  # a zip (e.g. a .keras or torch.save file) renamed
    ],
)
def test_not_onnx(tmp_path, content, message):
    path = tmp_path / "m.onnx"
    path.write_bytes(content)
    with pytest.raises(OnnxError, match=message):
        analyze_onnx(path, dims={"batch": 1})


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated(tmp_path, fraction):
    data = _good_bytes()
    path = tmp_path / "m.onnx"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(OnnxError, match="m.onnx"):
        analyze_onnx(path, dims={"batch": 1})


def test_missing_and_directory(tmp_path):
    with pytest.raises(OnnxError, match="no such file"):
        analyze_onnx(tmp_path / "nope.onnx")
    (tmp_path / "d.onnx").mkdir()
    with pytest.raises(OnnxError, match="is a directory"):
        analyze_onnx(tmp_path / "d.onnx")


def _external(model: onnx.ModelProto, tensor_name: str, location: str) -> None:
    for t in model.graph.initializer:
        if t.name == tensor_name:
            t.ClearField("raw_data")
            t.ClearField("float_data")
            t.data_location = TensorProto.EXTERNAL
            del t.external_data[:]
            t.external_data.add(key="location", value=location)
            t.external_data.add(key="offset", value="0")
            t.external_data.add(key="length", value=str(20 * 64 * 4))


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../secret.bin"])
def test_external_data_outside_folder_refused(tmp_path, location):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(bytes(20 * 64 * 4))
    model = _model()
    _external(model, "W2", location)
    path = folder / "m.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(OnnxError, match="'W2' stores its data at .*refused"):
        analyze_onnx(path, dims={"batch": 1})


def test_external_data_symlink_out_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(bytes(20 * 64 * 4))
    os.symlink(tmp_path / "secret.bin", folder / "weights.bin")
    model = _model()
    _external(model, "W2", "weights.bin")
    path = folder / "m.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(OnnxError, match="outside the model's folder"):
        analyze_onnx(path, dims={"batch": 1})


def test_external_data_inside_folder_counted_without_reading(tmp_path):
    model = _model()
    _external(model, "W2", "weights.bin")  # the file need not even exist: shapes and dtypes are in the model
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    r = analyze_onnx(path, dims={"batch": 1})
    assert r.totals.params == 112 + 1280
    assert r.totals.param_bytes == (112 + 1280) * 4


def test_absurd_dims_refused(tmp_path):
    model = _model()
    model.graph.initializer[2].dims[0] = 2**45  # a crafted initializer shape (no data needed to claim it)
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(OnnxError, match="absurd"):
        analyze_onnx(path, dims={"batch": 1})
    good = tmp_path / "g.onnx"
    good.write_bytes(_good_bytes())
    with pytest.raises(InputError, match="--dim batch="):
        analyze_onnx(good, dims={"batch": 2**45})
    with pytest.raises(InputError):
        analyze_onnx(good, inputs={"x": (2**45, 3, 6, 6)})


def test_parsing_runs_no_code_and_imports_no_torch(tmp_path):
    # names and metadata holding Python code: read as data only (the scope metadata goes through
    # ast.literal_eval, which evaluates literals only)
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    model = _model()
    model.graph.node[0].name = payload
    model.graph.node[1].metadata_props.add(key="pkg.torch.onnx.name_scopes", value=payload)
    model.graph.node[2].metadata_props.add(key="pkg.torch.onnx.name_scopes", value=f"['', {payload}, 'x']")
    model.metadata_props.add(key="code", value=payload)
    model.doc_string = payload
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    code = (
        "import sys\n"
        "from modelmeter.frontends.onnx import analyze_onnx\n"
        f"r = analyze_onnx({str(path)!r}, dims={{'batch': 1}})\n"
        "assert r.totals.macs == 1728 + 1280, r.totals\n"
        "bad = [m for m in ('torch', 'onnxruntime', 'tensorflow') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    assert not marker.exists()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_reader_raises_only_documented_errors(tmp_path, data):
    """Truncations, byte flips, insertions and random bytes: a Report or a ModelMeterError, nothing else."""
    good = _good_bytes()
    kind = data.draw(st.sampled_from(["truncate", "flip", "insert", "random"]))
    if kind == "truncate":
        blob = good[: data.draw(st.integers(0, len(good) - 1))]
    elif kind == "flip":
        b = bytearray(good)
        for _ in range(data.draw(st.integers(1, 8))):
            b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
        blob = bytes(b)
    elif kind == "insert":
        at = data.draw(st.integers(0, len(good)))
        blob = good[:at] + data.draw(st.binary(min_size=1, max_size=16)) + good[at:]
    else:
        blob = data.draw(st.binary(max_size=400))
    path = tmp_path / "fuzz.onnx"
    path.write_bytes(blob)
    try:
        report = analyze_onnx(path, dims={"batch": 1})
    except ModelMeterError as exc:
        assert str(exc) and "\n" not in str(exc)  # one line
    else:
        assert report.totals.params >= 0 and report.totals.macs >= 0
