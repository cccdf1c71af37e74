"""Attention: scaled dot-product attention, multi-head attention, and which score entries are computed.

softmax(Q Kᵀ · s + mask) V with Q (B..., T_q, d), K (B..., T_k, d), V (B..., T_k, d_v), for P (query, key)
pairs computed per batch x head (P = T_q · T_k by default):
- scores Q Kᵀ:             prod(B) · P · d   MACs
- weighted values P V:      prod(B) · P · d_v MACs
- scale s:                  prod(B) · P       FLOPs (one multiply per score)
- mask (explicit or causal): prod(B) · P       FLOPs (one add or select per score)
- softmax over each row:    prod(B) · P · 5   FLOPs (see ``softmax_cost``)

The full T_q x T_k score matrix is counted by default, as published figures do (torchvision's ``_ops``, the
FlashAttention paper's "without causal" numbers). ``attention="causal-aware"`` counts only the pairs a causal
or sliding-window mask leaves visible (:func:`visible_pairs`), as the FlashAttention papers do for causal
attention; the masked-out entries are then never computed, so no mask FLOPs are counted either.

Attention written by hand (``(q @ k.transpose(-2, -1)) * s``, ``softmax``, ``@ v``) is counted op by op and
gives exactly the same MACs and FLOPs as :func:`attention_cost` without a mask.
"""

from __future__ import annotations

from math import prod

from ..options import ATTENTION_MODES  # noqa: F401 - re-exported, the modes this module counts
from .elementwise import softmax_cost
from .linear import linear_cost
from .registry import Cost, Shape, register


def visible_pairs(t_q: int, t_k: int, window: int | None = None, offset: int = 0) -> int:
    """(query, key) pairs a causal mask leaves visible, per batch x head.

    Query i (0-based) sees keys j <= i + ``offset``: offset 0 is PyTorch's ``is_causal`` (top-left aligned),
    offset T_k - T_q the bottom-right alignment a KV cache gives. With a sliding ``window`` W it sees only the
    last W of those keys (j > i + offset - W). T_q = T_k = T without a window: T (T + 1) / 2 pairs.
    """
    total = 0
    for i in range(t_q):
        seen = max(min(i + offset + 1, t_k), 0)
        total += seen if window is None else min(seen, window)
    return total


@register("attention")
def attention_cost(q: Shape, k: Shape, v: Shape, masked: bool = False, pairs: int | None = None) -> Cost:
    """One scaled dot-product attention; ``pairs`` = computed (query, key) pairs per batch x head
    (``None``: all T_q · T_k). ``masked``: a mask is applied to the full score matrix.

    Q (2, 12, 1024, 64), K and V alike: 2·12 · 1024·1024 · (64 + 64) MACs = 3,221,225,472.
    """
    batch = prod(q[:-2])
    t_q, d = q[-2], q[-1]
    t_k, d_v = k[-2], v[-1]
    full = pairs is None
    pairs = t_q * t_k if pairs is None else pairs
    scores = batch * pairs
    other = scores + softmax_cost(scores).other_flops + (scores if masked and full else 0)
    return Cost(macs=scores * (d + d_v), other_flops=other)


@register("multi_head_attention")
def multi_head_attention_cost(
    batch: int,
    t_q: int,
    t_k: int,
    dims: tuple[int, int, int],
    embed_dim: int,
    num_heads: int,
    bias: bool = True,
    masked: bool = False,
    pairs: int | None = None,
    average_weights: bool = False,
    extra_keys: int = 0,
) -> Cost:
    """nn.MultiheadAttention: in-projections of query, key and value (feature sizes ``dims``) to
    E = ``embed_dim``, attention over ``num_heads`` heads of E / heads, out-projection E -> E.
    ``average_weights`` (need_weights with average_attn_weights) adds the mean of the attention weights over
    the heads: one FLOP per weight. ``extra_keys`` are keys attended to but not projected (``add_bias_kv``,
    ``add_zero_attn``).

    batch 1, T = 10, E = 16, 4 heads, self-attention with biases:
    in 3·(10·16·16) + attention 4·10·10·(4 + 4) + out 10·16·16 = 7,680 + 3,200 + 2,560 = 13,440 MACs.
    """
    d_q, d_k, d_v = dims
    head_dim = embed_dim // num_heads
    cost = (
        linear_cost((batch * t_q, d_q), embed_dim, bias)
        + linear_cost((batch * t_k, d_k), embed_dim, bias)
        + linear_cost((batch * t_k, d_v), embed_dim, bias)
    )
    q, k = (batch, num_heads, t_q, head_dim), (batch, num_heads, t_k + extra_keys, head_dim)
    cost = cost + attention_cost(q, k, k, masked=masked, pairs=pairs)
    if average_weights:
        cost = cost + Cost(other_flops=batch * num_heads * (t_q * (t_k + extra_keys) if pairs is None else pairs))
    return cost + linear_cost((batch * t_q, embed_dim), embed_dim, bias)


@register("varlen_attention")
def varlen_attention_cost(
    lengths: list[tuple[int, int]], heads: int, d: int, d_v: int, masked: bool = False, pairs: list[int] | None = None
) -> Cost:
    """Attention over packed sequences (FlashAttention's varlen form, ``varlen_attn``): sequence i attends
    its own ``lengths[i]`` = (T_q, T_k) only, so each is :func:`attention_cost` over ``heads``, summed.
    ``pairs``: computed pairs per sequence and head (causal-aware), ``None`` for the full T_q · T_k.

    Sequences of 128 and 64 tokens, 8 heads of 64: 8 · (128² + 64²) · (64 + 64) = 20,971,520 MACs.
    """
    total = Cost()
    for i, (t_q, t_k) in enumerate(lengths):
        q, k, v = (heads, t_q, d), (heads, t_k, d), (heads, t_k, d_v)
        total = total + attention_cost(q, k, v, masked=masked, pairs=None if pairs is None else pairs[i])
    return total
