"""``modelmeter summary / explain / compare`` on saved ``.keras`` files; bad files give one error line, exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import keras_nets  # noqa: E402

from modelmeter.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("keras") / "net.keras"
    keras_nets.batchnorm_cnn().save(path)
    return str(path)


def test_summary_of_a_keras_file(net_file, capsys):
    assert main(["summary", net_file, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "net.keras"
    assert doc["totals"]["params"] == 136_970  # as the PyTorch seed model (tests/test_keras_vs_torch.py)
    assert doc["published"]["keras_total_params"] == 136_970 + 96  # Keras' count, moving statistics included
    assert main(["summary", net_file, "--batch", "2"]) == 0
    out = capsys.readouterr()
    assert "Keras count_params()" in out.out and "137,066" in out.out
    assert "(2, 32, 32, 16)" in out.out


def test_explain_of_a_keras_file(net_file, capsys):
    assert main(["explain", net_file]) == 0
    assert "(3·3·3 + 1)·16 = 448" in capsys.readouterr().out


def test_compare_mixes_keras_spec_and_torch(net_file, capsys):
    pytest.importorskip("torch")
    refs = [net_file, "examples/seed_models.py:BatchNormCNN", "examples/specs/lenet5.yaml"]
    assert main(["compare", *refs, "--format", "json", "--no-memory"]) == 0
    docs = json.loads(capsys.readouterr().out)
    by_model = {d["model"]: d for d in docs}
    assert by_model["net.keras"]["totals"]["params"] == by_model["seed_models.py:BatchNormCNN"]["totals"]["params"]
    assert [d.get("error") for d in docs] == [None, None, None]


@pytest.mark.parametrize("kind", ["garbage", "truncated", "text", "no_config"])
def test_bad_keras_files_exit_1_with_one_line(tmp_path, kind):
    path = tmp_path / "bad.keras"
    if kind == "garbage":
        path.write_bytes(os.urandom(4096))
    elif kind == "truncated":
        keras_nets.dense_2_5_1().save(path)
        path.write_bytes(path.read_bytes()[:300])
    elif kind == "text":
        path.write_text("not a model\n")
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("model.weights.h5", b"")
    out = subprocess.run(
        [sys.executable, "-m", "modelmeter", "summary", str(path)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.keras" in lines[0], out.stderr


def test_help_imports_no_keras():
    code = "import sys; from modelmeter.cli import main; main(['--help']); assert 'keras' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_backend_is_chosen_when_keras_json_names_a_missing_one(net_file, tmp_path):
    """Keras writes ~/.keras/keras.json naming tensorflow on first import; without tensorflow installed and no
    KERAS_BACKEND, modelmeter picks an installed backend instead of failing."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("tensorflow is installed: Keras' default works")
    (tmp_path / "keras.json").write_text('{"backend": "tensorflow"}')
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "modelmeter", "summary", net_file, "--format", "json"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["totals"]["params"] == 136_970


@pytest.mark.parametrize(
    ("name", "params", "shape"),
    [("dense_2_5_1", 21, [1, 1]), ("conv_3_to_16", 448, [1, 222, 222, 16])],  # seed 000: 2*5+5 + 5+1; (27+1)*16
)
def test_bundled_seed_keras_files(capsys, name, params, shape):
    assert main(["summary", f"examples/keras/{name}.keras", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["params"] == params
    assert doc["layers"][-1]["output_shapes"] == [shape]
