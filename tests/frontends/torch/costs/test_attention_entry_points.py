"""Attention entry points and ops without a formula on main (issue 12, defect 4), each against a hand count
and, where it counts them, torch.utils.flop_counter.FlopCounterMode (which counts 2 FLOPs per MAC only)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import modelmeter  # noqa: E402

varlen = pytest.importorskip("torch.nn.attention.varlen")


def flop_counter_macs(fn, *args) -> int:
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops() // 2


class Flash(nn.Module):
    def __init__(self, is_causal: bool = False) -> None:
        super().__init__()
        self.is_causal = is_causal

    def forward(self, q, k, v):
        s_q, s_k = q.shape[1], k.shape[1]
        return torch.ops.aten._flash_attention_forward(q, k, v, None, None, s_q, s_k, 0.0, self.is_causal, False)[0]


def test_flash_attention_forward_dense():
    b, s, h, d = 2, 128, 8, 64  # FlashAttention's layout (B, S, H, D)
    r = modelmeter.summary(Flash(), input_size=[(b, s, h, d)] * 3, dtypes=["float16"])
    macs = b * h * s * s * (d + d)  # Q·Kᵀ and P·V per batch and head
    assert macs == 33_554_432
    assert r.totals.macs == macs and r.uncounted == {}
    q = torch.empty(b, s, h, d, device="meta", dtype=torch.float16)
    assert flop_counter_macs(Flash(), q, q, q) == macs
    scores = b * h * s * s
    assert r.totals.flops == 2 * macs + scores + 5 * scores  # the scale and the softmax, as SDPA


def test_flash_attention_forward_causal_aware_counts_the_triangle():
    b, s, h, d = 1, 64, 2, 32
    r = modelmeter.summary(Flash(is_causal=True), input_size=[(b, s, h, d)] * 3, attention="causal-aware")
    assert r.totals.macs == b * h * (s * (s + 1) // 2) * (d + d)  # 2 · 2,080 · 64 = 266,240


class Varlen(nn.Module):
    """Sequences of 128 and 64 tokens packed into (192, H, D); the offsets are built in the forward, so they
    are real (CPU) tensors even while the model runs on meta."""

    def forward(self, q, k, v):
        offsets = torch.tensor([0, 128, 192], dtype=torch.int32)
        return varlen.varlen_attn(q, k, v, offsets, offsets, 128, 128)


def test_varlen_attn_reads_concrete_offsets():
    r = modelmeter.summary(Varlen(), input_size=[(192, 8, 64)] * 3, dtypes=["float16"])
    macs = 8 * (128**2 + 64**2) * (64 + 64)
    assert macs == 20_971_520
    assert r.totals.macs == macs and r.uncounted == {} and r.notes == ()
    q = torch.empty(192, 8, 64, device="meta", dtype=torch.float16)
    assert flop_counter_macs(Varlen(), q, q, q) == macs


class VarlenGivenOffsets(nn.Module):
    def forward(self, q, offsets):
        return varlen.varlen_attn(q, q, q, offsets, offsets, 128, 128)


def test_varlen_attn_with_offsets_on_meta_is_an_upper_bound_and_says_so():
    data = (torch.zeros(192, 8, 64, dtype=torch.float16), torch.tensor([0, 128, 192], dtype=torch.int32))
    r = modelmeter.summary(VarlenGivenOffsets(), input_data=data, device="meta")
    assert r.totals.macs == 2 * 8 * 128 * 128 * (64 + 64)  # 2 sequences of max_q x max_k: 33,554,432
    assert any("upper bound" in n and "2 sequences of max_q x max_k = 128 x 128" in n for n in r.notes)


class Fold(nn.Module):
    def forward(self, cols):
        return F.fold(cols, output_size=(8, 8), kernel_size=3, padding=1)


def test_col2im_adds_each_column_entry_once():
    r = modelmeter.summary(Fold(), input_size=(1, 4 * 3 * 3, 64))  # 4 channels, 3x3 windows, 8x8 positions
    assert r.uncounted == {} and r.totals.macs == 0
    assert r.totals.flops == 4 * 9 * 64  # 2,304 adds


def test_group_norm_backward_in_a_training_step():
    n = 2 * 8 * 4 * 4  # 256 elements
    t = modelmeter.summary(nn.GroupNorm(4, 8), input_size=(2, 8, 4, 4), train=True).memory.training
    assert t.backward_uncounted_ops == ()
    assert t.backward_flops == n * (2 + 1) == 768  # the model's input needs no gradient: weight 2 + bias 1
    stem = nn.Sequential(nn.Conv2d(8, 8, 1), nn.GroupNorm(4, 8))  # now the norm's input needs its gradient
    t = modelmeter.summary(stem, input_size=(2, 8, 4, 4), train=True).memory.training
    conv = n * 8  # the 1x1 conv's weight gradient: its forward MACs, 2,048
    assert t.backward_macs == conv
    assert t.backward_flops == n * (9 + 1 + 2 + 1) + 2 * conv + n == 7_680  # norm; conv weight; conv bias


class Classifier(nn.Module):
    """A model called with labels returns its loss (as transformers' *ForSequenceClassification do)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 10)

    def forward(self, x, labels):
        return F.cross_entropy(self.fc(x), labels)


def test_nll_loss_forward_of_a_model_called_with_labels():
    data = {"x": torch.zeros(8, 16), "labels": torch.zeros(8, dtype=torch.long)}
    r = modelmeter.summary(Classifier(), input_data=data)
    assert r.uncounted == {}
    linear = 8 * 16 * 10  # 1,280 MACs
    assert r.totals.macs == linear
    ops = {o.op: o.flops for o in r.by_op()}
    assert ops["aten.nll_loss_forward"] == 8 + 8 + 1  # negate each picked log-probability, sum, divide: 17
    assert ops["aten._log_softmax"] == 5 * 8 * 10
