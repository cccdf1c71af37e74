"""Matrix products: linear, mm / addmm, bmm / baddbmm, broadcasting matmul.

A (n x k) @ (k x m) product is n*k*m MACs: each of the n*m outputs accumulates k products.
"""

from __future__ import annotations

from math import prod

from .registry import Cost, Shape, register


def _broadcast(a: Shape, b: Shape) -> Shape:
    """numpy-style broadcast of two batch shapes."""
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    return tuple(max(x, y) for x, y in zip(a, b, strict=True))


@register("matmul")
def matmul_cost(a: Shape, b: Shape) -> Cost:
    """``a @ b`` with torch.matmul's rules: 1-D operands are promoted, batch dims broadcast.

    (B..., n, k) @ (B..., k, m) -> prod(B) * n * k * m MACs.
    """
    if len(a) == 1 and len(b) == 1:  # dot product
        return Cost(macs=a[0])
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    n, k = a2[-2], a2[-1]
    m = b2[-1]
    batch = _broadcast(a2[:-2], b2[:-2])
    return Cost(macs=prod(batch) * n * k * m)


@register("addmm")
def addmm_cost(a: Shape, b: Shape, bias: bool = True) -> Cost:
    """``bias + a @ b`` (nn.Linear on 2-D input): n*k*m MACs, plus n*m bias adds as FLOPs."""
    macs = matmul_cost(a, b).macs
    out_numel = prod(a[:-1]) * b[-1]
    return Cost(macs=macs, other_flops=out_numel if bias else 0)


@register("linear")
def linear_cost(input: Shape, out_features: int, bias: bool = True) -> Cost:
    """nn.Linear on input (..., in_features): prod(...) * in * out MACs, prod(...) * out bias adds."""
    rows = prod(input[:-1])
    return Cost(macs=rows * input[-1] * out_features, other_flops=rows * out_features if bias else 0)
