"""Pooling and resampling: FLOPs only.

- **max / average pooling** with a K-element window (K = prod(kernel_size)): K FLOPs per output element
  (K - 1 comparisons or adds, plus the divide of the average; max pooling's first element is counted too, so
  both read the same). Padded positions inside a window are counted as part of it.
- **adaptive pooling**: each output element's window is the input range PyTorch gives it,
  [floor(i·In/Out), ceil((i+1)·In/Out)) per dimension, so the FLOPs are the exact window sizes summed.
- **interpolation**: each output element is a weighted sum of ``taps`` input elements: taps multiplies and
  taps - 1 adds; taps = 2^d for (bi/tri)linear in d dimensions, 4^d for bicubic. Nearest-neighbour
  interpolation copies and is declared zero-cost.
"""

from __future__ import annotations

from math import prod

from .registry import Cost, Shape, register


@register("pool")
def pool_cost(out_numel: int, kernel: Shape) -> Cost:
    """Max or average pooling with window ``kernel``: prod(kernel) FLOPs per output element.

    MaxPool2d(3, stride 2) on ResNet's (1, 64, 112, 112) -> (1, 64, 56, 56): 200,704 · 9 = 1,806,336 FLOPs.
    """
    return Cost(other_flops=out_numel * prod(kernel))


def _adaptive_window_total(size_in: int, size_out: int) -> int:
    """Sum of the window lengths PyTorch's adaptive pooling uses along one dimension."""
    return sum(-((-(i + 1) * size_in) // size_out) - (i * size_in) // size_out for i in range(size_out))


@register("adaptive_pool")
def adaptive_pool_cost(planes: int, spatial_in: Shape, spatial_out: Shape) -> Cost:
    """Adaptive max / average pooling of ``planes`` (N · C) planes from ``spatial_in`` to ``spatial_out``.

    Global average pooling of (1, 2048, 7, 7) to 1x1: 2048 · 49 = 100,352 FLOPs; 7 -> 3 along one dimension
    uses windows [0, 3), [2, 5), [4, 7): 9 FLOPs per plane.
    """
    windows = (_adaptive_window_total(i, o) for i, o in zip(spatial_in, spatial_out, strict=True))
    return Cost(other_flops=planes * prod(windows))


@register("interpolate")
def interpolate_cost(out_numel: int, taps: int) -> Cost:
    """An interpolation reading ``taps`` inputs per output element: 2·taps - 1 FLOPs each.

    Bilinear upsampling to (1, 21, 520, 520): 5,678,400 outputs · (2·4 - 1) = 39,748,800 FLOPs.
    """
    return Cost(other_flops=out_numel * (2 * taps - 1))
