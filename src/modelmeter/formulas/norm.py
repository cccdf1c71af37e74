"""Normalization: batch, layer, group, instance and RMS norm, in training and inference forms.

Counted per element with the one-step-one-FLOP rule of ``elementwise.py``:
- statistics computed from the input (layer / group / instance norm, batch norm in training):
  mean (1) + subtract (1) + square (1) + sum (1) + multiply by 1/σ (1) = **5** per element;
- batch norm in inference (running statistics given): subtract the mean, multiply by 1/σ = **2**;
- RMS norm: square (1) + sum (1) + multiply by 1/rms (1) = **3**;
- an affine weight multiplies (+1), an affine bias adds (+1).
Per-channel or per-group scalar work (dividing sums, adding ε, the reciprocal square root, updating running
statistics) is O(channels), not O(elements), and is not counted.
"""

from __future__ import annotations

from .registry import Cost, register

NORM_FLOPS = {"stats": 5, "inference": 2, "rms": 3}


@register("norm")
def norm_cost(numel: int, kind: str, weight: bool = False, bias: bool = False) -> Cost:
    """A normalization over ``numel`` elements; ``kind`` is ``stats``, ``inference`` or ``rms``.

    LayerNorm(768) with weight and bias on (1, 197, 768): 151,296 · (5 + 2) = 1,059,072 FLOPs;
    BatchNorm2d(64) in eval on (1, 64, 112, 112): 802,816 · (2 + 2) = 3,211,264 FLOPs.
    """
    return Cost(other_flops=numel * (NORM_FLOPS[kind] + int(weight) + int(bias)))
