"""modelmeter's dispatch modes skip PyTorch's Dynamo guard until Dynamo is loaded, and counts do not change."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import modelmeter  # noqa: E402
from modelmeter.frontends.torch.dispatch_mode import DispatchMode  # noqa: E402


class _Probe(DispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def test_a_first_analysis_does_not_import_dynamo():
    """The guard PyTorch puts on every dispatch mode imports torch._dynamo at the first op (about 1 s)."""
    code = (
        "import sys, torch, modelmeter\n"
        "r = modelmeter.summary(torch.nn.Conv2d(3, 8, 3), input_size=(1, 3, 8, 8), device='meta')\n"
        "assert r.totals.macs == 8 * 6 * 6 * 3 * 3 * 3, r.totals.macs\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_guard_comes_back_once_dynamo_is_loaded():
    import torch._dynamo  # noqa: F401 - what a compiled model or transformers does

    mode = _Probe()
    assert type(mode) is not _Probe and isinstance(mode, _Probe)
    assert type(mode).__torch_dispatch__ is not _Probe.__torch_dispatch__  # wrapped by torch._disable_dynamo
    with mode:
        assert torch.ones(2).add(1).sum().item() == 4.0


def test_a_compiled_function_inside_the_forward_counts_the_same_on_meta_and_cpu():
    @torch.compile(backend="eager")
    def act(x):
        return torch.relu(x) * 2

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(8, 8)

        def forward(self, x):
            return act(self.fc(x))

    for device in ("meta", "cpu"):
        r = modelmeter.summary(Net(), input_size=(2, 8), device=device)
        assert r.totals.macs == 2 * 8 * 8  # the Linear
        # FLOPs: 2 * MACs + bias adds (2 * 8) + relu (16) + the multiply (16)
        assert r.totals.flops == 2 * 128 + 16 + 16 + 16
