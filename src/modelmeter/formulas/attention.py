"""Scaled dot-product attention.

softmax(Q Kᵀ / sqrt(d)) V with Q (B..., T_q, d), K (B..., T_k, d), V (B..., T_k, d_v):
- scores Q Kᵀ:       prod(B) * T_q * T_k * d   MACs
- weighted values PV: prod(B) * T_q * T_k * d_v MACs
The full T_q x T_k score matrix is counted, as published figures do (torchvision's ``_ops``, the
FlashAttention paper's "without causal" numbers).
"""

from __future__ import annotations

from math import prod

from .registry import Cost, Shape, register


@register("attention")
def attention_cost(q: Shape, k: Shape, v: Shape) -> Cost:
    batch = prod(q[:-2])
    t_q, d = q[-2], q[-1]
    t_k, d_v = k[-2], v[-1]
    return Cost(macs=batch * t_q * t_k * (d + d_v))
