"""The CLI's light paths import no framework, even where PyTorch is installed (this venv has it): ``--help``,
``--version`` and a layer spec start in a fraction of a second instead of the seconds ``import torch`` takes.
(test_no_torch.py checks the same paths in a venv without torch; this one runs everywhere, in a second.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "examples" / "specs" / "lenet5.yaml"

# runs the CLI in-process, then reports which heavy packages got imported
PROBE = """
import sys
from modelmeter.cli import main
sys.argv = ["modelmeter", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
heavy = sorted(m for m in ("torch", "torchvision", "transformers", "numpy") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), "CODE=" + str(code), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["summary", "--help"], ["summary", str(LENET)], ["explain", str(LENET)],
     ["summary", str(LENET), "--format", "json"]],
    ids=["help", "version", "summary-help", "spec-table", "spec-explain", "spec-json"],
)  # fmt: skip
def test_no_framework_imported(args):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    last = proc.stderr.strip().splitlines()[-1]
    assert last == "HEAVY= CODE=0", proc.stderr[-2000:]
