"""Elementwise arithmetic, activations, softmax and reductions: FLOPs only, counted per element.

The rule: **one FLOP per element for each elementary step**. A step is one arithmetic operation, comparison,
selection or function evaluation (exp, tanh, erf, sigmoid, gelu, ... each count one, as hardware counters and
other tools count them, although their kernels take several instructions). Elementwise ops count per output
element (broadcasting included), reductions per input element. Ops made of several steps state them:

- ``softmax``, ``log_softmax``: 5 per element: row max, subtract, exp, row sum, divide (or subtract the log).
- ``addcmul`` / ``addcdiv`` (x + v · a * b), ``lerp`` (a + w (b - a)): 3; ``glu`` (a · σ(b)): 2 per output.
- ``dropout`` in training: 2 (multiply by the mask, rescale by 1 / (1 - p)); in eval it is the identity, 0.
- ``quantize_per_tensor`` / ``quantize_per_channel``: 4 (divide by the scale, round, add the zero point, clamp
  to the integer range); ``dequantize``: 2 (subtract the zero point, multiply by the scale).
- ``histc``: 4 per input element (subtract the lower edge, scale to a bin, floor, add one to that bin; MoE
  routers use it to count tokens per expert).
- ``var`` / ``std``: 4 per input element (mean, subtract, square, sum); ``linalg_vector_norm``: 2 (|x|^p, sum);
  ``logsumexp``: 4 (max, subtract, exp, sum); ``topk``, ``kthvalue``, ``median``: 1 (one comparison per input
  element, as a selection pass); sorting n elements: n·ceil(log2 n) comparisons.

Integer and boolean elementwise ops (index arithmetic, mask building) follow the same rule: they are few.
"""

from __future__ import annotations

from .registry import Cost, register

# op -> FLOPs per output element. Every op named here is elementwise; anything not here has its own formula.
ELEMENTWISE_FLOPS: dict[str, int] = {
    **dict.fromkeys(
        # arithmetic
        "add sub rsub mul div neg abs sign sgn reciprocal sqrt rsqrt square pow exp exp2 expm1 log log2 log10 log1p "
        "floor ceil round trunc frac remainder fmod floor_divide true_divide copysign hypot xlogy nan_to_num "
        "sin cos tan asin acos atan atan2 sinh cosh asinh acosh atanh erf erfc erfinv logit sinc "
        # comparisons, selection, logic
        "eq ne lt le gt ge maximum minimum fmax fmin clamp clamp_min clamp_max clip where masked_fill isnan isinf "
        "isfinite logical_and logical_or logical_not logical_xor bitwise_and bitwise_or bitwise_not bitwise_xor "
        "bitwise_left_shift bitwise_right_shift "
        # activations
        "relu relu6 leaky_relu rrelu_with_noise prelu _prelu_kernel elu celu selu gelu silu mish sigmoid tanh "
        "hardtanh hardsigmoid hardswish hardshrink softshrink tanhshrink softplus log_sigmoid_forward "
        "threshold".split(),
        1,
    ),
    **dict.fromkeys(["addcmul", "addcdiv", "lerp"], 3),
    "dropout": 2,  # in training: multiply by the mask, rescale by 1 / (1 - p)
    **dict.fromkeys(["quantize_per_tensor", "quantize_per_channel"], 4),  # x / s, round, + zero point, clamp
    "dequantize": 2,  # (q - zero point) * s
    "glu": 2,
}

REDUCTION_FLOPS: dict[str, int] = {
    **dict.fromkeys(
        "sum mean nansum prod amax amin max min aminmax argmax argmin all any cumsum cumprod cummax cummin "
        "count_nonzero topk kthvalue median nanmedian".split(),
        1,
    ),
    "logsumexp": 4,
    **dict.fromkeys(["var", "std", "var_mean", "std_mean"], 4),
    "histc": 4,  # per input element: subtract the lower edge, scale to a bin, floor, add one to that bin
    **dict.fromkeys(["linalg_vector_norm", "norm", "frobenius_norm"], 2),
}


@register("elementwise")
def elementwise_cost(op: str, out_numel: int) -> Cost:
    """``op`` (a name in :data:`ELEMENTWISE_FLOPS`) producing ``out_numel`` elements.

    gelu on (1, 197, 3072): 605,184 FLOPs; lerp on 1,000 elements: 3,000.
    """
    return Cost(other_flops=ELEMENTWISE_FLOPS[op] * out_numel)


@register("reduction")
def reduction_cost(op: str, in_numel: int) -> Cost:
    """``op`` (a name in :data:`REDUCTION_FLOPS`) reading ``in_numel`` elements.

    mean of (1, 768, 7, 7) over H, W: 37,632 FLOPs; var over 1,000 elements: 4,000.
    """
    return Cost(other_flops=REDUCTION_FLOPS[op] * in_numel)


@register("softmax")
def softmax_cost(numel: int) -> Cost:
    """softmax or log_softmax over ``numel`` elements: 5 per element (max, subtract, exp, sum, divide).

    The attention scores of one 197-token head: 197·197·5 = 194,045 FLOPs.
    """
    return Cost(other_flops=5 * numel)
