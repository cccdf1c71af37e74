"""``modelmeter.spec.to_torch`` and a spec's ``summary(..., memory=True)`` work any number of times in one process.

They used to work once: the first call imported the submodule ``spec/to_torch.py``, which replaced the function
of the same name on the package. A fresh interpreter that never imports the function by name is what a user
runs, so that is what runs here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

import modelmeter  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
LENET = str(ROOT / "examples" / "specs" / "lenet5.yaml")

TWICE = """
import json, sys
import modelmeter
path = sys.argv[1]
first, second = modelmeter.spec.to_torch(path), modelmeter.spec.to_torch(path)
params = [sum(p.numel() for p in m.parameters()) for m in (first, second)]
reports = [modelmeter.summary(path, memory=True) for _ in range(2)]
print(json.dumps({"params": params, "summary": [[r.totals.params, r.memory.weights] for r in reports]}))
"""


def test_to_torch_and_spec_memory_twice_in_one_process():
    env = {**os.environ, "PYTHONPATH": str(Path(modelmeter.__file__).resolve().parents[1])}
    proc = subprocess.run(
        [sys.executable, "-c", TWICE, LENET], capture_output=True, text=True, env=env, timeout=300, cwd=str(ROOT)
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    # LeNet-5: conv 156 + conv 2416 + fc 48120 + fc 10164 + fc 850 = 61706 (docs/spec.md's example)
    assert got["params"] == [61706, 61706]
    # weights: 61706 float32 parameters x 4 bytes = 246824
    assert got["summary"] == [[61706, 246824], [61706, 246824]]
