"""The cost tables are complete as soon as the costs package is imported, whatever was imported first.

Each check runs in a fresh interpreter, since what an earlier test imported would hide the defect this guards
against: the backward and quantized adapters used to be registered as a side effect of importing the memory
module (73 aten entries after importing ``analyze``, 98 after ``measure/memory.py``).
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

SRC = str(Path(modelmeter.__file__).resolve().parents[1])
FIRST_IMPORTS = [
    "modelmeter",
    "modelmeter.frontends.torch.analyze",
    "modelmeter.frontends.torch.measure.memory",
    "modelmeter.frontends.torch.costs.forward",
]


def _run(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


TABLES = """
import importlib, json, sys
importlib.import_module(sys.argv[1] if len(sys.argv) > 1 else {first!r})
from modelmeter.frontends.torch.costs import forward
print(json.dumps({{
    "aten": sorted(str(k) for k in forward.ATEN_COSTS),
    "functions": sorted(name for name, _ in forward.FUNCTION_COSTS.values()),
}}))
"""


def test_tables_are_the_same_whatever_was_imported_first():
    tables = {first: _run(TABLES.format(first=first)) for first in FIRST_IMPORTS}
    reference = tables["modelmeter.frontends.torch.costs.forward"]
    for first, got in tables.items():
        assert got == reference, f"importing {first} first gives other tables"
    aten = reference["aten"]
    # one of each registering module: forward, backward (costs/backward.py), quantized (costs/quantized.py)
    assert "aten.convolution" in aten and "aten.convolution_backward" in aten and "quantized.linear" in aten
    assert reference["functions"]  # the function-level table (SDPA, RNNs, ...) is filled too


GRADIENT_PENALTY = """
import importlib, json, torch
from torch import nn
importlib.import_module({first!r})
import modelmeter

class GradientPenalty(nn.Module):
    # a WGAN-GP style forward: the gradient of the output w.r.t. the input, inside the forward
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, bias=False)

    def forward(self, x):
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            y = self.conv(x)
            (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        return y, g.pow(2).sum()

r = modelmeter.summary(GradientPenalty(), input_size=(1, 1, 5, 5))
ops = {{o.op: o.macs for o in r.ops}}
print(json.dumps({{"macs": r.totals.macs, "flops": r.totals.flops, "uncounted": dict(r.uncounted), "ops": ops}}))
"""


@pytest.mark.parametrize("first", ["modelmeter", "modelmeter.frontends.torch.measure.memory"])
def test_autograd_grad_in_forward_counts_its_backward_ops(first: str):
    got = _run(GRADIENT_PENALTY.format(first=first))
    # forward conv: 2 out channels x 3x3 positions x (1*3*3) MACs = 162
    # its input gradient (convolution_backward, input only): each of the 2*3*3 output grads times 9 weights = 162
    assert got["ops"]["aten.convolution"] == 162
    assert got["ops"]["aten.convolution_backward"] == 162
    assert got["macs"] == 162 + 162
    assert got["uncounted"] == {}
