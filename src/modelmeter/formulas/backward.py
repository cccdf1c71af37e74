"""Backward (gradient) arithmetic that is not a multiply-accumulate: FLOPs only, counted per element.

Matrix products and convolutions in backward are MAC kernels priced by their forward formulas (see
``frontends/torch/costs/backward.py``). Every other gradient follows the rule of ``elementwise.py``, one FLOP per
elementary step, applied to the derivative as PyTorch computes it (``tools/autograd/derivatives.yaml``), plus
one multiply by the incoming gradient g where there is one:

- relu (``threshold_backward``), hardtanh: g where x is in range: **1** (one selection);
- hardsigmoid: g/6 where −3 < x < 3: **2**; hardswish: g·(x/3 + 1/2) in the middle band, selected: **4**;
- sigmoid: g·y·(1 − y): **3**; tanh: g·(1 − y²): **3**;
- silu: g·σ(x)·(1 + x·(1 − σ(x))): **6**;
- softplus (Mamba's time step): z = e^(βx), g·z/(z + 1) below the threshold, else g: **6** (β·x, exp, + 1, divide,
  · g, the threshold select);
- gelu (exact form): g·(Φ(x) + x·φ(x)), Φ = ½(1 + erf(x/√2)) 4 steps, φ = e^(−x²/2)/√(2π) 4 steps: **11**;
- softmax / log_softmax (``_softmax_backward_data``): y·(g − Σ g·y): **4**;
- scatter-style gradients (max pooling, embedding lookup): one add per incoming gradient element: **1**;
- ``select_backward`` / ``slice_backward``: a zero-filled tensor with g copied in: **0**.

Normalization backward, per element of the input (x̂ = (x − μ)/σ is recomputed from the saved statistics):
input gradient (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w: **9**, +1 with an affine weight; with running
statistics (batch norm in eval) it is g·w/σ: **1**, +1 with a weight. Weight gradient Σ g·x̂: **2** (x̂ given);
bias gradient Σ g: **1**.
"""

from __future__ import annotations

from .registry import Cost, register

GRADIENT_FLOPS: dict[str, int] = {
    "threshold_backward": 1,
    "hardtanh_backward": 1,
    "hardsigmoid_backward": 2,
    "hardswish_backward": 4,
    "sigmoid_backward": 3,
    "tanh_backward": 3,
    "silu_backward": 6,
    "softplus_backward": 6,
    "gelu_backward": 11,
    "_softmax_backward_data": 4,
    "_log_softmax_backward_data": 4,
    "max_pool2d_with_indices_backward": 1,
    "max_pool3d_with_indices_backward": 1,
    "embedding_dense_backward": 1,
    "select_backward": 0,
    "slice_backward": 0,
}


@register("gradient")
def gradient_cost(op: str, numel: int) -> Cost:
    """The gradient op ``op`` (a name in :data:`GRADIENT_FLOPS`) over ``numel`` elements.

    silu_backward on (1, 112, 112, 32): 401,408 · 6 = 2,408,448 FLOPs.
    """
    return Cost(other_flops=GRADIENT_FLOPS[op] * numel)


@register("norm_backward")
def norm_backward_cost(
    numel: int, stats: bool, weight: bool, input_grad: bool = True, weight_grad: bool = False, bias_grad: bool = False
) -> Cost:
    """A normalization's backward over ``numel`` input elements; ``stats``: statistics from the batch (layer norm,
    batch norm in training), else running statistics.

    LayerNorm(768) with weight and bias on (1, 197, 768), all three gradients: 151,296 · (10 + 2 + 1) = 1,966,848.
    """
    per = ((9 if stats else 1) + int(weight)) * int(input_grad) + 2 * int(weight_grad) + int(bias_grad)
    return Cost(other_flops=per * numel)
