"""``summary`` and ``explain`` of a layer spec in a fresh virtual environment without PyTorch.

Builds a clean venv (no system site-packages, so no torch can leak in), ``pip install``s the project with no
extras from PyPI, and runs the CLI there. Slow (a minute) and needs PyPI: set MODELMETER_SKIP_VENV_TESTS=1 to
skip it locally; CI runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "examples" / "specs" / "lenet5.yaml"

pytestmark = pytest.mark.skipif(
    os.environ.get("MODELMETER_SKIP_VENV_TESTS") == "1", reason="MODELMETER_SKIP_VENV_TESTS=1"
)


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("no-torch") / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(env_dir)
    bindir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    # install from a copy of the project, so the build writes nothing into the checkout
    src = env_dir.parent / "project"
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    subprocess.run(
        [str(bindir / "python"), "-m", "pip", "install", "-q", str(src)], check=True, cwd=str(env_dir), timeout=600
    )
    return bindir


def _run(bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [str(bindir / "modelmeter"), *args], capture_output=True, text=True, env=env, timeout=120, cwd=str(bindir)
    )


def test_torch_is_absent(bare_env: Path) -> None:
    proc = subprocess.run([str(bare_env / "python"), "-c", "import torch"], capture_output=True, text=True)
    assert proc.returncode != 0 and "No module named 'torch'" in proc.stderr


def test_summary_spec_without_torch(bare_env: Path) -> None:
    proc = _run(bare_env, "summary", str(LENET), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert '"params": 61706' in proc.stdout and '"macs": 416520' in proc.stdout
    table = _run(bare_env, "summary", str(LENET))
    assert table.returncode == 0 and "61,706" in table.stdout


def test_explain_spec_without_torch(bare_env: Path) -> None:
    proc = _run(bare_env, "explain", str(LENET))
    assert proc.returncode == 0, proc.stderr
    assert "(5·5·1 + 1)·6 = 156" in proc.stdout and "84·10 + 10 = 850" in proc.stdout


def test_torch_model_without_torch_is_one_line(bare_env: Path) -> None:
    proc = _run(bare_env, "summary", "torchvision:resnet18")
    assert proc.returncode == 1
    assert proc.stderr == "error: PyTorch is not installed; pip install 'modelmeter[torch]'\n"
