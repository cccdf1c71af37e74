"""RNNs counted whole (rnn_whole.py): every figure equals the step-by-step run's, and the steps no longer run."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.frontends.torch import rnn_whole  # noqa: E402


class Tagger(nn.Module):
    """Embedding -> RNN -> Linear, so gradients flow through the RNN into a layer before it."""

    def __init__(self, rnn: nn.Module):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.rnn = rnn
        width = (rnn.proj_size or rnn.hidden_size) if isinstance(rnn, nn.LSTM) else rnn.hidden_size
        self.head = nn.Linear(width * (2 if rnn.bidirectional else 1), 5)

    def forward(self, x):
        out, _ = self.rnn(self.emb(x))
        return self.head(out)


RNNS = [
    lambda: nn.LSTM(16, 32, num_layers=2),
    lambda: nn.GRU(16, 32, batch_first=True),
    lambda: nn.RNN(16, 32, nonlinearity="relu"),
    lambda: nn.LSTM(16, 32, num_layers=2, bidirectional=True, batch_first=True),
    lambda: nn.LSTM(16, 32, proj_size=8),
]


def figures(model, data, device):
    r = modelmeter.summary(model, input_data=data, device=device, train=True)
    t = r.memory.training
    shapes = [(layer.name, layer.output_shapes) for layer in r.layers]
    exact = (r.totals.macs, r.totals.flops, t.activations, t.backward_macs, t.backward_flops, t.backward_uncounted_ops)
    return exact, shapes, r.memory.activations_peak


@pytest.mark.parametrize("make", RNNS)
def test_whole_equals_step_by_step(make, monkeypatch):
    model = Tagger(make())
    steps = 9  # more than rnn_whole.PROBE_STEPS: the whole path is taken
    data = (torch.randint(0, 50, (2, steps) if model.rnn.batch_first else (steps, 2)),)
    whole = figures(model, data, "meta")
    monkeypatch.setattr(rnn_whole, "_layout", lambda args, kwargs: None)  # every step runs, as before
    by_steps = figures(model, data, "meta")
    # MACs, FLOPs, saved activations and the backward: exactly the step-by-step run's
    assert whole[0] == by_steps[0]
    assert whole[1] == by_steps[1]
    assert whole[0][4] > 2 * whole[0][0]  # the backward was counted (about twice the forward's MACs)
    # inference peak: the steps' temporaries are reproduced, not which of them the decomposition keeps alive
    # through views after the call (a few hidden states): within 10 %
    assert abs(whole[2] - by_steps[2]) <= 0.1 * by_steps[2]


@pytest.mark.parametrize("make", RNNS[:2])
def test_same_figures_on_cpu_and_meta(make):
    model = Tagger(make())
    data = (torch.randint(0, 50, (2, 9) if model.rnn.batch_first else (9, 2)),)
    assert figures(model, data, "cpu") == figures(model, data, "meta")


class _OpCount(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("train", [False, True])
def test_steps_do_not_run(train):
    """The ops that run do not grow with the sequence length (they did: about 30 per step and layer)."""
    model = Tagger(nn.LSTM(16, 32, num_layers=2))
    seen = []
    for steps in (20, 400):
        with _OpCount() as count:
            r = modelmeter.summary(model, input_data=(torch.randint(0, 50, (steps, 2)),), train=train)
        seen.append(count.ops)
        # 2 layers x steps x 2 rows x 4 gates x 32 x (16 + 32 | 32 + 32) MACs, + the head (64 x 5 per row)
        assert r.totals.macs == steps * 2 * 4 * 32 * (48 + 64) + steps * 2 * 32 * 5
    assert seen[0] == seen[1]
