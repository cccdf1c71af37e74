"""Big models and absurd inputs: analyzed on meta without memory; never materialized beyond what the machine
has; overflowing shapes are an error, not a hang."""

from __future__ import annotations

import time

import pytest
import robust_models as rm
import torch
from torch import nn

import modelmeter
from modelmeter.errors import ForwardError, InputError
from modelmeter.frontends.torch import analyze


class HugeNeedsCpu(nn.Module):
    """4 TiB of weights (on meta) and an op meta cannot run, so the CPU fallback would have to materialize them."""

    def __init__(self) -> None:
        super().__init__()
        with torch.device("meta"):
            self.fc = nn.Linear(2**20, 2**20, bias=False)

    def forward(self, x):
        x.sum().item()
        return self.fc(x)


def test_a_model_larger_than_memory_runs_on_meta() -> None:
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(2**20, 2**20, bias=False), nn.Linear(2**20, 8, bias=False))
    start = time.monotonic()
    report = modelmeter.summary(model, input_size=(3, 2**20))
    assert report.totals.params == 2**40 + 2**23 and report.totals.param_bytes == 4 * (2**40 + 2**23)
    assert report.totals.macs == 3 * (2**40 + 2**23)
    assert report.device == "meta" and time.monotonic() - start < 30


def test_refuses_to_materialize_more_than_memory() -> None:
    """No monkeypatching: 4 TiB of weights exceed any CI machine's memory."""
    with pytest.raises(ForwardError) as info:
        modelmeter.summary(HugeNeedsCpu(), input_size=(1, 2**20))
    msg = str(info.value)
    assert msg.startswith("refusing to run on the CPU: copying the weights and inputs there needs 4096.0 GiB")
    assert "on meta, the model's forward failed in module '<root>' (HugeNeedsCpu)" in msg
    assert "Tensor.item() cannot be called on meta tensors" in msg


def test_refusal_counts_inputs_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small weights but an input of 64 GiB: the CPU fallback must not allocate it."""
    monkeypatch.setattr(analyze, "available_bytes", lambda: 32 * 2**30)
    with pytest.raises(ForwardError, match=r"needs 64\.0 GiB, more than half the available memory \(32\.0 GiB\)"):
        modelmeter.summary(rm.NeedsCpu(), input_size=(2**30, 16))


def test_refusal_threshold_is_half_the_available_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    need = (16 * 16 + 16) * 4 + 4 * 16 * 4  # NeedsCpu's weights and a (4, 16) float32 input
    monkeypatch.setattr(analyze, "available_bytes", lambda: 2 * need)
    assert modelmeter.summary(rm.NeedsCpu(), input_size=(4, 16)).device == "cpu"
    monkeypatch.setattr(analyze, "available_bytes", lambda: 2 * need - 2)
    with pytest.raises(ForwardError, match="refusing to run on the CPU"):
        modelmeter.summary(rm.NeedsCpu(), input_size=(4, 16))


def test_refusal_with_partial_gives_what_ran_on_meta() -> None:
    report = modelmeter.summary(HugeNeedsCpu(), input_size=(1, 2**20), partial=True)
    assert report.partial and report.device == "meta" and report.error.startswith("refusing to run on the CPU")
    assert report.totals.params == 2**40 and report.totals.macs == 0


@pytest.mark.parametrize(
    "shape",
    [(2**40, 2**40), (99999999999, 99999999999, 9999999999), (2**62, 3)],
)
def test_overflowing_input_shape_is_an_input_error(shape: tuple[int, ...]) -> None:
    start = time.monotonic()
    with pytest.raises(InputError, match=r"too large for a tensor.*give a smaller shape"):
        modelmeter.summary(rm.Net(), input_size=shape)
    assert time.monotonic() - start < 10


def test_absurd_but_valid_input_is_fast_on_meta() -> None:
    """A batch of a billion images: counted on meta in moments, MACs exactly linear in the batch."""
    small = modelmeter.summary(rm.Net(), input_size=(2, 3, 8, 8)).totals.macs
    start = time.monotonic()
    big = modelmeter.summary(rm.Net(), input_size=(2 * 10**9, 3, 8, 8))
    assert big.totals.macs == small * 10**9 and time.monotonic() - start < 30


def test_negative_sizes_are_an_input_error() -> None:
    with pytest.raises(InputError, match="non-negative"):
        modelmeter.summary(rm.Net(), input_size=(2, -3, 8, 8))
