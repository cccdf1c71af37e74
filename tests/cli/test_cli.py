"""The CLI: output identical to the library, exit codes, one-line errors, lazy imports."""

import json
import subprocess
import sys

import pytest

from modelmeter.cli import main, parse_shape
from modelmeter.errors import UsageError

LENET = "examples/seed_models.py:LeNet5"


def test_parse_shape():
    assert parse_shape("1,3,224,224") == (1, 3, 224, 224)
    assert parse_shape("1x3x32x32") == (1, 3, 32, 32)
    for bad in ["", "a,b", "1,-3", ",,"]:
        with pytest.raises(UsageError):
            parse_shape(bad)


def test_help_does_not_import_torch():
    code = (
        "import sys; from modelmeter.cli import main; rc = main(['--help']); "
        "assert rc == 0, rc; assert 'torch' not in sys.modules, 'torch imported'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "summary" in out.stdout


def test_json_is_report_to_dict(capsys, monkeypatch):
    pytest.importorskip("torch")
    import modelmeter

    assert main(["summary", LENET, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == modelmeter.summary(LENET).to_dict()
    assert doc["schema"] == "modelmeter/1"
    assert doc["totals"]["params"] == 61_706


def test_table_and_output_file(tmp_path, capsys):
    pytest.importorskip("torch")
    assert main(["summary", LENET]) == 0
    out = capsys.readouterr().out
    assert "61,706" in out and "conv1 (Conv2d)" in out and "117,600" in out
    target = tmp_path / "r.txt"
    assert main(["summary", LENET, "--depth", "1", "-o", str(target)]) == 0
    assert "61,706" in target.read_text()


def test_input_option_overrides_default(capsys):
    pytest.importorskip("torch")
    assert main(["summary", "examples/seed_models.py:Conv3to16", "--input", "2,3,10,10", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["inputs"] == [{"shape": [2, 3, 10, 10], "dtype": "float32"}]
    assert doc["totals"]["macs"] == 2 * 16 * 8 * 8 * 27  # out (2, 16, 8, 8), 3*3*3 per output


@pytest.mark.parametrize(
    "argv,code,needle",
    [
        (["summary", "no/such/file.py:Net"], 1, "no such file"),
        (["summary", "examples"], 1, "examples: is a directory"),
        (["summary", "examples/seed_models.py:LeNet"], 1, "did you mean 'LeNet5'"),
        (["summary", "torchvision:resnet5"], 1, "did you mean"),
        (["summary", LENET, "--input", "1,a"], 2, "--input"),
        (["summary", LENET, "--format", "xml"], 2, "xml"),
        (["nonsense"], 2, "No such command"),
        (["summary", LENET, "--input", "1,1,8,8"], 1, "forward failed in module 'conv2'"),
    ],
)
def test_errors_are_one_line(argv, code, needle, capsys):
    pytest.importorskip("torch")
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: "), err
    assert len(err.splitlines()) == 1, err
    assert needle in err


def test_debug_shows_traceback(capsys):
    pytest.importorskip("torch")
    assert main(["summary", "no/such/file.py:Net", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_python_dash_m_and_version():
    out = subprocess.run([sys.executable, "-m", "modelmeter", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "modelmeter" in out.stdout


def test_names_are_not_rich_markup_or_emoji():
    torch = pytest.importorskip("torch")
    import modelmeter

    m = torch.nn.Sequential()
    m.add_module("a:smile:", torch.nn.Linear(2, 2))
    m.add_module("[red]b[/red]", torch.nn.Linear(2, 2))
    text = modelmeter.summary(m, input_size=(1, 2), name="[bold]net:x:").render()
    assert "[bold]net:x:" in text
    assert "a:smile: (Linear)" in text
    assert "[red]b[/red] (Linear)" in text


def test_depth_zero_shows_the_model_row(capsys):
    pytest.importorskip("torch")
    assert main(["summary", LENET, "--depth", "0"]) == 0
    out = capsys.readouterr().out
    assert "(model) (LeNet5)" in out and "conv1" not in out
