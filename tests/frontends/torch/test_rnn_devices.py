"""nn.RNN / LSTM / GRU and their cells: the hand formula, identical on meta and the CPU (where PyTorch runs
one fused kernel that dispatch-level counters see as zero), and equal to the step-by-step decomposition."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import modelmeter  # noqa: E402
from modelmeter.frontends.torch.costs import forward as aten_costs  # noqa: E402

T, B, I, H = 7, 3, 10, 20  # noqa: E741


def counts(model, data, device):
    r = modelmeter.summary(model, input_data=data, device=device)
    assert r.uncounted == {}
    return r.totals.macs, r.totals.flops


def both(model, data):
    meta, cpu = counts(model, data, "meta"), counts(model, data, "cpu")
    assert meta == cpu
    return meta


def hand(gates, step_flops, layers, rows, bias=True):
    """Σ over layers and directions of rows · (G·H·(I_l + H) MACs, bias adds 2·G·H + step_flops·H)."""
    macs = sum(rows * gates * H * (i + H) for i in layers)
    other = len(layers) * rows * ((2 * gates * H if bias else 0) + step_flops * H)
    return macs, 2 * macs + other


@pytest.mark.parametrize(
    "model, expected",
    [
        # 2 layers: the second reads H; rows = T·B each
        (nn.LSTM(I, H, num_layers=2), hand(4, 13, [I, H], T * B)),
        # bidirectional, batch_first: 2 directions per layer, the second layer reads 2H
        (nn.LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True), hand(4, 13, [I, I, 2 * H, 2 * H], T * B)),
        (nn.GRU(I, H, num_layers=2), hand(3, 10, [I, H], T * B)),
        (nn.GRU(I, H, bidirectional=True, bias=False), hand(3, 10, [I, I], T * B, bias=False)),
        (nn.RNN(I, H), hand(1, 2, [I], T * B)),
        (nn.RNN(I, H, nonlinearity="relu", num_layers=3), hand(1, 2, [I, H, H], T * B)),
    ],
)
def test_recurrent_layers_hand_formula_on_every_device(model, expected):
    x = torch.randn(B, T, I) if model.batch_first else torch.randn(T, B, I)
    assert both(model.eval(), (x,)) == expected
    assert both(model.train(), (x,)) == expected  # dropout 0 between layers


def test_lstm_projection():
    # proj_size P = 8: W_hh is (4H, P) and every step adds the projection W_hr (P, H)
    p = 8
    model = nn.LSTM(I, H, proj_size=p)
    macs = T * B * (4 * H * (I + p) + p * H)
    other = T * B * (2 * 4 * H + 13 * H)
    assert both(model, (torch.randn(T, B, I),)) == (macs, 2 * macs + other)


def test_cells_and_unbatched_and_packed_inputs():
    assert both(nn.LSTMCell(I, H), (torch.randn(B, I),)) == hand(4, 13, [I], B)
    assert both(nn.GRUCell(I, H), (torch.randn(B, I),)) == hand(3, 10, [I], B)
    assert both(nn.RNNCell(I, H), (torch.randn(I),)) == hand(1, 2, [I], 1)  # unbatched: one row
    assert both(nn.GRU(I, H), (torch.randn(T, I),)) == hand(3, 10, [I], T)  # unbatched sequence
    # a PackedSequence runs only the real steps: lengths 7, 4, 2 -> 13 rows
    lstm = nn.LSTM(I, H)
    packed = nn.utils.rnn.pack_padded_sequence(torch.randn(T, B, I), [7, 4, 2])
    assert counts(lstm, (packed,), "cpu") == hand(4, 13, [I], 13)


def test_formula_equals_the_step_by_step_decomposition(monkeypatch):
    """On meta, PyTorch runs RNNs as matmuls and elementwise ops step by step; counting those ops one by one
    gives exactly the formula."""
    models = [
        (nn.LSTM(I, H, num_layers=2, bidirectional=True), (torch.randn(T, B, I),)),
        (nn.LSTM(I, H, proj_size=8), (torch.randn(T, B, I),)),
        (nn.GRU(I, H, num_layers=2), (torch.randn(T, B, I),)),
        (nn.RNN(I, H, bias=False), (torch.randn(T, B, I),)),
        (nn.LSTMCell(I, H), (torch.randn(B, I),)),
        (nn.GRUCell(I, H), (torch.randn(B, I),)),
    ]
    by_formula = [counts(m, d, "meta") for m, d in models]
    for fn in list(aten_costs.FUNCTION_COSTS):
        if aten_costs.FUNCTION_COSTS[fn][0].startswith(("torch.lstm", "torch.gru", "torch.rnn")):
            monkeypatch.delitem(aten_costs.FUNCTION_COSTS, fn)
    op_by_op = [counts(m, d, "meta") for m, d in models]
    assert by_formula == op_by_op
