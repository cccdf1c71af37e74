"""Outputs of the commonest meta ops made directly, where PyTorch's meta kernel is a slow Python decomposition.

On meta an op's only result is its outputs' metadata. For the ops below PyTorch computes that in Python through
its reference decompositions (``hardswish`` about 1.3 ms, ``native_batch_norm`` 0.6 ms, ``relu`` 0.3 ms per call
on this project's machine), although the answer is simple: an elementwise op on one dense tensor returns a
tensor laid out like it (TensorIterator keeps a non-overlapping, dense input's strides), batch norm returns its
input's layout plus two (C,) statistics, and a matrix product returns a contiguous result. meta_cache.py caches
repeats; these rules answer first sightings, which dominate a network whose layers all differ in shape
(MobileNet, EfficientNet).

Each rule returns None where its case is not the simple one (an input that is not dense, a broadcast, a type
promotion), and the op runs its own kernel. tests/frontends/torch/test_meta_rules.py compares every rule with
the kernel over layouts (contiguous, channels-last, transposed, sliced) and dtypes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .tensors import empty_meta, non_overlapping_dense

aten = torch.ops.aten
_LOW = (torch.float16, torch.bfloat16)

Rule = Callable[[tuple[Any, ...], dict[str, Any]], Any]


def _float_meta(t: Any) -> bool:
    """A plain, strided meta floating-point tensor."""
    return (
        type(t) is torch.Tensor and t.device.type == "meta" and t.layout is torch.strided and t.dtype.is_floating_point
    )


def _dense_float(t: Any) -> bool:
    """A plain meta floating-point tensor whose elements fill its storage span without overlap or gaps."""
    return _float_meta(t) and non_overlapping_dense(t)


def _like(t: torch.Tensor) -> torch.Tensor:
    return empty_meta(t.shape, t.stride(), t.dtype)


def _unary(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    x: Any = args[0] if args else None
    return _like(x) if _dense_float(x) and "out" not in kwargs else None


def _unary_(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    x: Any = args[0] if args else None
    return x if _dense_float(x) else None


def _number(v: Any) -> bool:
    return type(v) in (int, float, bool)


def _binary(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``a op b`` where ``b`` is a Python number, or a tensor of ``a``'s exact layout and dtype."""
    if len(args) != 2 or "out" in kwargs or not _dense_float(args[0]):
        return None
    a, b = args
    if _number(b) or (
        type(b) is torch.Tensor and b.device.type == "meta" and b.dtype == a.dtype
        and b.shape == a.shape and b.stride() == a.stride()
    ):  # fmt: skip
        return _like(a)
    return None


def _binary_(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return args[0] if _binary(args, kwargs) is not None else None


def _batch_norm(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """(output like the input, save_mean, save_invstd): the statistics are (C,), in float32 for a half input."""
    x: Any = args[0] if args else None
    if not _dense_float(x) or x.dim() < 2 or kwargs:
        return None
    stats = torch.float32 if x.dtype in _LOW else x.dtype
    return (_like(x), empty_meta((x.shape[1],), dtype=stats), empty_meta((x.shape[1],), dtype=stats))


def _product(args: tuple[Any, ...], kwargs: dict[str, Any], dims: int) -> Any:
    """(..., M, K) @ (..., K, N) of two ``dims``-D operands with equal batch dims: a contiguous (..., M, N),
    whatever the operands' layouts (``mm``: 2-D, ``bmm``: 3-D)."""
    if len(args) != 2 or kwargs:
        return None
    a, b = args
    if not (_float_meta(a) and _float_meta(b)) or a.dim() != dims or b.dim() != dims or a.dtype != b.dtype:
        return None
    if a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
        return None
    return empty_meta((*a.shape[:-1], b.shape[-1]), dtype=a.dtype)


def _mm(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return _product(args, kwargs, 2)


def _bmm(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return _product(args, kwargs, 3)


def _addmm(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """bias + (M, K) @ (K, N) with a bias of (N,), (1, N) or a contiguous (M, N): a contiguous (M, N)."""
    if len(args) < 3 or any(k not in ("beta", "alpha") for k in kwargs) or not all(_number(v) for v in args[3:]):
        return None
    bias, a, b = args[:3]
    out = _mm((a, b), {})
    if out is None or not _float_meta(bias) or bias.dtype != a.dtype:
        return None
    n = out.shape[1]
    if tuple(bias.shape) in ((n,), (1, n)) or (bias.shape == out.shape and bias.is_contiguous()):
        return out
    return None


def _packets(names: tuple[str, ...], rule: Rule) -> dict[Any, Rule]:
    return {getattr(aten, n).default: rule for n in names if hasattr(aten, n)}


RULES: dict[Any, Rule] = {
    **_packets(("relu", "hardswish", "hardsigmoid", "sigmoid", "silu", "gelu", "tanh", "hardtanh", "leaky_relu",
                "elu", "mish", "neg"), _unary),
    **_packets(("relu_", "hardswish_", "hardsigmoid_", "sigmoid_", "silu_", "tanh_", "hardtanh_", "leaky_relu_",
                "elu_", "mish_"), _unary_),
    **{getattr(aten, n).Tensor: _binary for n in ("add", "sub", "mul", "div")},
    **{getattr(aten, n).Scalar: _binary for n in ("add", "sub", "mul", "div")},
    **{getattr(aten, n).Tensor: _binary_ for n in ("add_", "sub_", "mul_", "div_")},
    **_packets(("_native_batch_norm_legit_no_training", "native_batch_norm"), _batch_norm),
    aten.mm.default: _mm,
    aten.bmm.default: _bmm,
    aten.addmm.default: _addmm,
}  # fmt: skip
