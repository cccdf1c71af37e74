"""Shared helpers for the robustness tests: the CLI run in-process, and bad files made on demand."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
MODELS = HERE / "robust_models.py"
SRC = HERE.parent.parent / "src"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``modelmeter ARGS`` through ``cli.main`` (the real error boundary) and capture what it printed."""
    from modelmeter.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    """A folder of the files users point modelmeter at by mistake."""
    import torch
    from torch import nn

    (tmp_path / "empty.py").write_text("")
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a model\n")
    (tmp_path / "garbage.pt").write_bytes(b"\x80\x04garbage that is not a checkpoint" * 3)
    (tmp_path / "adir").mkdir()
    (tmp_path / "raises_on_import.py").write_text("raise ImportError('no module named missing_dep')\n")
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(3)\n")
    torch.save(nn.Linear(3, 4), tmp_path / "full_model.pt")
    torch.save(nn.Linear(3, 4).state_dict(), tmp_path / "state_dict.pt")
    return tmp_path


def pythonpath_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


def python() -> str:
    return sys.executable
