"""The catalogue of bad inputs: each gives one line ``error: ...`` naming what is wrong, the right exit code,
and no traceback. (The layer-spec entries of the catalogue live with the spec tests.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import MODELS, python, pythonpath_env

LENET = str(Path(__file__).parents[2] / "examples" / "seed_models.py") + ":LeNet5"

# (name, arguments with {d} = the bad-files folder, exit code, text the one error line must contain)
CATALOGUE = [
    ("missing file", ["{d}/missing.py:Net"], 1, "missing.py: no such file"),
    ("missing checkpoint", ["{d}/missing.pt"], 1, "missing.pt: no such file"),
    ("directory", ["{d}/adir"], 1, "adir: is a directory; name a file in it"),
    ("directory with a name", ["{d}/adir:Net"], 1, "adir: is a directory"),
    ("empty python file", ["{d}/empty.py"], 1, "empty.py: the file is empty"),
    ("empty checkpoint", ["{d}/empty.pt"], 1, "empty.pt: the file is empty"),
    ("unknown file kind", ["{d}/notes.txt"], 1, "notes.txt: unknown file kind '.txt'; modelmeter reads Python files"),
    ("unknown torchvision model", ["torchvision:resnet5"], 1,
     "unknown torchvision model 'resnet5'; did you mean 'resnet50'"),
    ("not a reference", ["resnet50"], 1, "resnet50: not a model reference; use torchvision:NAME"),
    ("unknown class in file", [f"{MODELS}:Nett", "--input", "1,4"], 1, "has no 'Nett'; did you mean 'Net'"),
    ("file raising on import", ["{d}/raises_on_import.py:Net"], 1,
     "raises_on_import.py: importing it raised ImportError: no module named missing_dep"),
    ("file calling sys.exit", ["{d}/exits_on_import.py:Net"], 1,
     "exits_on_import.py: importing it raised SystemExit: 3"),
    ("pickled model without --trust-pickle", ["{d}/full_model.pt"], 1,
     "full_model.pt: holds a pickled torch.nn.modules.linear.Linear, not only tensors; unpickling it can run any "
     "code the file holds. If you trust where the file came from, rerun with --trust-pickle"),
    ("corrupt checkpoint", ["{d}/garbage.pt"], 1, "garbage.pt: not a readable PyTorch checkpoint"),
    ("forward raises deep inside", [f"{MODELS}:ShapeBug", "--input", "1,4"], 1,
     "the model's forward failed in module 'b.0' (Linear) called with input shapes [[1, 8]]: RuntimeError: "
     "mat1 and mat2 shapes cannot be multiplied (1x8 and 9x2)"),
    ("forward raises at the root", [f"{MODELS}:Boom", "--input", "1,4"], 1,
     "failed in module '<root>' (Boom) called with input shapes [[1, 4]]: ValueError: boom"),
    ("input of the wrong rank", [LENET, "--input", "32,32"], 1,
     "failed in module 'conv1' (Conv2d) called with input shapes [[32, 32]]: RuntimeError: Expected 3D (unbatched) "
     "or 4D (batched) input to conv2d"),
    ("input shape overflowing", [LENET, "--input", "99999999999,99999999999,9999999999"], 1,
     "input shape (99999999999, 99999999999, 9999999999): too large for a tensor"),
    ("input not numbers", [LENET, "--input", "1,3,two"], 2, "--input '1,3,two': expected non-negative integers"),
    ("negative input size", [LENET, "--input", "1,-3"], 2, "--input '1,-3': expected non-negative integers"),
    ("unknown dtype", [LENET, "--dtype", "float33"], 1, "unknown dtype 'float33'"),
    ("output over the model file", [LENET.replace(":LeNet5", ""), "-o", LENET.replace(":LeNet5", "")], 2,
     "is the model file itself; choose another file"),
    ("output into a missing folder", [LENET, "--format", "json", "-o", "{d}/no/such/dir/out.json"], 1,
     "out.json: No such file or directory"),
    ("unknown option", [LENET, "--frobnicate"], 2, "No such option '--frobnicate'"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "expected"), [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE])
def test_bad_input_gives_one_clear_line(cli, bad_files: Path, args: list[str], code: int, expected: str) -> None:
    result = cli("summary", *(a.format(d=bad_files) for a in args))
    assert result.code == code
    assert result.out == ""  # nothing half-printed on stdout
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "internal error" not in lines[0]


def test_debug_shows_the_traceback(cli) -> None:
    result = cli("summary", f"{MODELS}:ShapeBug", "--input", "1,4", "--debug")
    assert result.code == 1
    assert "Traceback" in result.err
    assert result.err.splitlines()[-1].startswith("error: the model's forward failed in module 'b.0'")


def test_nothing_the_user_gave_is_modified(cli, bad_files: Path) -> None:
    before = {p.name: p.read_bytes() for p in bad_files.iterdir() if p.is_file()}
    for args in (["full_model.pt"], ["state_dict.pt"], ["garbage.pt"], ["notes.txt"]):
        cli("summary", str(bad_files / args[0]))
    assert {p.name: p.read_bytes() for p in bad_files.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "code"),
    [(["summary", "{d}/notes.txt"], 1), (["summary", LENET, "--input", "x"], 2), (["summary", LENET], 0)],
)
def test_exit_codes_and_stderr_of_the_real_process(bad_files: Path, args: list[str], code: int) -> None:
    """The console entry point as a process: the exit code reaches the shell, errors go to stderr only."""
    argv = [python(), "-m", "modelmeter", *(a.format(d=bad_files) for a in args)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=pythonpath_env(), timeout=120)
    assert proc.returncode == code, proc.stderr
    if code:
        assert proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
        assert "Traceback" not in proc.stderr
    else:
        assert "LeNet5" in proc.stdout and proc.stderr == ""
