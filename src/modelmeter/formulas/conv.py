"""Convolutions, 1-3 D, grouped, dilated, transposed.

Each output element of a convolution accumulates (C_in / groups) * prod(kernel) products
(PyTorch docs of nn.Conv2d; the seeds' MACCs = C_in*K0*K1 * H_out*W_out*C_out / g). Stride, padding and
dilation only change the output size, which the formula takes as given.
"""

from __future__ import annotations

from math import prod

from .registry import Cost, Shape, register


@register("conv")
def conv_cost(input: Shape, weight: Shape, output: Shape, transposed: bool = False, bias: bool = False) -> Cost:
    """MACs of a convolution; ``bias`` adds one FLOP per output element.

    weight is (C_out, C_in/groups, *k) for a convolution and (C_in, C_out/groups, *k) for a transposed one.
    - conv:       N * C_out * prod(out_spatial) * (C_in/groups) * prod(k) = numel(out) * weight[1] * prod(k)
    - transposed: every *input* element is scattered into (C_out/groups) * prod(k) outputs
                  = numel(in) * weight[1] * prod(k)
    """
    per_element = weight[1] * prod(weight[2:])
    macs = prod(input) * per_element if transposed else prod(output) * per_element
    return Cost(macs=macs, other_flops=prod(output) if bias else 0)


@register("col2im")
def col2im_cost(columns: Shape) -> Cost:
    """``fold`` / ``col2im``: every column entry (N, C·prod(k), L) is added into its output pixel, one add each
    (overlapping windows sum; ``im2col``, the copy the other way, is declared zero).

    VOLO's fold of (1, 192·3·3, 28·28) columns: 1,354,752 FLOPs.
    """
    return Cost(other_flops=prod(columns))
