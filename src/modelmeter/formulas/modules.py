"""Costs of whole classic modules, composed from the kernel formulas (linear, attention).

Used by the layer spec and by ``explain``; the PyTorch frontend counts the same modules op by op, and the
tests check that both give the same MACs. Only the multiply-accumulates are composed here: gate
nonlinearities, softmax and elementwise products are other arithmetic, counted by their own formulas.
"""

from __future__ import annotations

from .attention import attention_cost
from .layers import RNN_GATES, rnn_layer_input
from .linear import linear_cost
from .registry import Cost, Shape, register


@register("rnn_module")
def rnn_module_cost(
    mode: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bias: bool = True,
    bidirectional: bool = False,
    proj_size: int = 0,
    *,
    seq_len: int,
    batch: int,
) -> Cost:
    """nn.RNN / GRU / LSTM over T steps of N sequences: per layer and direction, each step multiplies the
    input (D_in) and the recurrent state (H_r = proj_size or H) into G*H gate units, and a projection
    H -> P if proj_size: N*T*(G*H*(D_in + H_r) + P*H) MACs (seed 001: MACCs = 4*H*(C_in + H) per step)."""
    gates = RNN_GATES[mode]
    recurrent = proj_size or hidden_size
    macs = 0
    for layer in range(num_layers):
        d_in = rnn_layer_input(input_size, hidden_size, layer, bidirectional, proj_size)
        per_step = gates * hidden_size * (d_in + recurrent) + proj_size * hidden_size
        macs += batch * seq_len * per_step * (2 if bidirectional else 1)
    return Cost(macs=macs)


@register("mha_module")
def mha_module_cost(
    x: Shape,
    num_heads: int,
    bias: bool = True,
    add_bias_kv: bool = False,
    batch_first: bool = False,
    kv_len: int | None = None,
    kdim: int | None = None,
    vdim: int | None = None,
) -> Cost:
    """nn.MultiheadAttention with query x = (T, N, E) (or (N, T, E) batch_first, or unbatched (T, E)) and
    keys / values of S = kv_len (default T) positions and kdim / vdim features (default E):
    Q, K, V projections N*T*E*E + N*S*kdim*E + N*S*vdim*E; scores and weighted values over h heads of
    d = E/h (attention on (N, h, T, d) and (N, h, S_k, d); add_bias_kv appends a key and a value,
    S_k = S + 1); output projection N*T*E*E."""
    if len(x) == 2:  # unbatched
        x, batch_first = (1, *x), True
    t, n, e = (x[1], x[0], x[2]) if batch_first else x
    s = t if kv_len is None else kv_len
    head = e // num_heads
    s_k = s + (1 if add_bias_kv else 0)
    q = (n, num_heads, t, head)
    kv = (n, num_heads, s_k, head)
    projections = (
        linear_cost((n, t, e), e, bias)
        + linear_cost((n, s, kdim or e), e, bias)
        + linear_cost((n, s, vdim or e), e, bias)
    )
    return projections + attention_cost(q, kv, kv) + linear_cost((n, t, e), e, bias)
