"""Recurrent layers: RNN (tanh / relu), LSTM (with projections), GRU; per time step x sequence.

For each layer and direction, every row (one time step of one sequence) does

    RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)
    LSTM: i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh)   (4 gates)
          c' = f * c + i * g;   h' = o * tanh(c');   h' = W_hr h' with proj_size
    GRU:  r, z = σ(W_ir x + b_ir + W_hr h + b_hr), σ(W_iz x + ... )          (3 gates)
          n = tanh(W_in x + b_in + r * (W_hn h + b_hn));   h' = n + z * (h - n)

- MACs per row: numel(W_ih) + numel(W_hh) (+ numel(W_hr)) = G·H·(I + H_r) (+ P·H), with G gates, hidden size H,
  layer input I (the input size, then H_r x directions), H_r = proj_size or H.
- FLOPs per row besides 2·MACs: the bias adds, 2·G·H with two bias vectors (G·H with Keras' one), and the
  elementwise steps per hidden unit (one FLOP per step, ``elementwise.py``): RNN 2 (sum, activation);
  LSTM 13 (4 gate sums, 3 σ + 2 tanh, 3 for c', 1 for h'); GRU 10 (2 sums + σ for r and z, then add,
  multiply, tanh for n, and 3 for h').
Rows per layer and direction = sequence length x batch (for a PackedSequence: its real time steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from .registry import Cost, Shape, register

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
STEP_FLOPS = {"rnn": 2, "lstm": 13, "gru": 10}


@register("rnn")
def rnn_cost(mode: str, rows: int, layers: Sequence[Sequence[Shape]], bias: bool = True, biases: int = 2) -> Cost:
    """``mode`` in rnn / lstm / gru; ``layers`` holds, per layer and direction, the weight shapes
    (W_ih, W_hh[, W_hr]); ``rows`` = time steps x batch each of them runs. ``biases``: bias vectors per gate
    block, each one add per gate unit and row (PyTorch, ONNX, Keras' GRU with reset_after: 2, b_ih and b_hh;
    Keras' SimpleRNN, LSTM and GRU without reset_after: 1).

    nn.LSTM(10, 20) on 5 steps of batch 3: 15 · 4·20·(10 + 20) = 36,000 MACs;
    FLOPs 2·36,000 + 15 · (2·80 + 13·20) = 78,300.
    """
    cost = Cost()
    for weights in layers:
        hidden = weights[1][0] // GATES[mode]
        macs = rows * sum(prod(w) for w in weights)
        other = rows * (STEP_FLOPS[mode] * hidden + (biases * GATES[mode] * hidden if bias else 0))
        cost = cost + Cost(macs=macs, other_flops=other)
    return cost
