"""The inference peak measured in the counting forward (measure/peak.py) equals the peak of a run of its own."""

from __future__ import annotations

import dataclasses

import pytest

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")
nn = torch.nn
F = nn.functional

import modelmeter  # noqa: E402
from modelmeter.frontends.torch.measure import memory, peak  # noqa: E402


class SdpaBlock(nn.Module):
    """Attention through F.scaled_dot_product_attention (routed to the CPU's fused kernel on meta)."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(32, 96)
        self.out = nn.Linear(32, 32)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, 4, 8).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(b, t, 32))


class BiGRUTagger(nn.Module):
    """A bidirectional GRU (counted whole, rnn_whole.py) and a head on its (B, T, 2H) output."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(16, 32, batch_first=True, bidirectional=True)
        self.head = nn.Linear(64, 5)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out)


def _llama():
    transformers = pytest.importorskip("transformers")
    return transformers.LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2,
    )  # fmt: skip


CASES = [
    ("resnet18", lambda: tvm.resnet18(), {"input_size": (2, 3, 64, 64)}),
    ("mobilenet_v3_small", lambda: tvm.mobilenet_v3_small(), {"input_size": (1, 3, 96, 96)}),
    ("efficientnet_b0", lambda: tvm.efficientnet_b0(), {"input_size": (1, 3, 64, 64)}),
    ("swin_t", lambda: tvm.swin_t(), {"input_size": (1, 3, 64, 64)}),
    ("sdpa", SdpaBlock, {"input_size": (2, 16, 32)}),
    ("bigru", BiGRUTagger, {"input_size": (1, 20, 16)}),
    ("tiny-llama", _llama, {"seq_len": 16}),
]


@pytest.mark.parametrize(("name", "make", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_one_forward_gives_the_peak_of_a_run_of_its_own(monkeypatch, name, make, kwargs):
    model = make()
    runs = []
    real = memory.activation_peak
    monkeypatch.setattr(memory, "activation_peak", lambda *a, **k: runs.append(1) or real(*a, **k))
    together = modelmeter.summary(model, memory=True, **kwargs)
    assert runs == [], "the peak was measured in a forward of its own"
    monkeypatch.setattr(peak, "in_count_pass", lambda *a, **k: None)
    apart = modelmeter.summary(model, memory=True, **kwargs)
    assert runs == [1]
    assert dataclasses.asdict(together) == dataclasses.asdict(apart)


def test_other_kernels_and_mha_models_measure_the_peak_in_a_run_of_their_own(monkeypatch):
    runs = []
    real = memory.activation_peak
    monkeypatch.setattr(memory, "activation_peak", lambda *a, **k: runs.append(1) or real(*a, **k))
    modelmeter.summary(SdpaBlock(), input_size=(2, 16, 32), memory=True, attention_kernel="math")
    modelmeter.summary(SdpaBlock(), input_size=(2, 16, 32), memory=True, gpus=2)
    layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True).eval()
    modelmeter.summary(layer, input_size=(2, 16, 32), memory=True)
    assert runs == [1, 1, 1]
