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
    """``a op b`` where ``b`` is a Python number, a tensor of ``a``'s exact layout and dtype, or (either way
    round) two contiguous tensors of one dtype, one broadcast into the other's shape (squeeze-and-excitation's
    ``scale * x``): TensorIterator orders the output's dims by the operand that is not broadcast, so the result
    is contiguous."""
    if len(args) != 2 or "out" in kwargs:
        return None
    a, b = args
    if not _float_meta(a):
        return None
    if _number(b):
        return _like(a) if non_overlapping_dense(a) else None
    if not _float_meta(b) or b.dtype != a.dtype:
        return None
    if b.shape == a.shape and b.stride() == a.stride():
        return _like(a) if non_overlapping_dense(a) else None
    return _broadcast(a, b)


def _broadcast(a: torch.Tensor, b: torch.Tensor) -> Any:
    """The contiguous result of an elementwise op on contiguous ``a`` and ``b`` when one's shape is the
    broadcast of both (no dim grows on both sides), else None."""
    if not (a.is_contiguous() and b.is_contiguous()):
        return None
    for full, small in ((a, b), (b, a)):
        offset = full.dim() - small.dim()
        if offset >= 0 and all(n == 1 or n == full.shape[offset + i] for i, n in enumerate(small.shape)):
            return empty_meta(full.shape, None, full.dtype)
    return None  # both sides grow, or the shapes do not broadcast (the kernel raises)


def _binary_(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``a op= b``: only where ``a`` keeps its shape (an in-place op cannot grow ``a``)."""
    out = _binary(args, kwargs)
    return args[0] if out is not None and out.shape == args[0].shape else None


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


def _int_list(v: Any, n: int, least: int) -> bool:
    return type(v) in (list, tuple) and len(v) == n and all(type(i) is int and i >= least for i in v)


def _convolution(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A (not transposed) convolution: (N, C_out, *spatial) with each spatial size
    ``(in + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1``, contiguous in the input's dtype, as
    ``meta_conv`` makes it (torch/_meta_registrations.py: meta tensors have no backend to pick a memory format
    for). Anything its checks would reject (channels, groups, a bias of another size, an empty output) is left
    to the kernel, which raises its own error."""
    if kwargs or len(args) != 9:
        return None
    x, w, bias, stride, padding, dilation, transposed, _, groups = args
    if transposed is not False or not (_float_meta(x) and _float_meta(w)) or x.dtype != w.dtype:
        return None
    spatial = x.dim() - 2
    if spatial < 1 or w.dim() != x.dim() or type(groups) is not int or groups < 1:
        return None
    if not (_int_list(stride, spatial, 1) and _int_list(padding, spatial, 0) and _int_list(dilation, spatial, 1)):
        return None
    c_out = w.shape[0]
    if x.shape[1] == 0 or x.shape[1] != w.shape[1] * groups or c_out % groups:
        return None
    if bias is not None and not (_float_meta(bias) and tuple(bias.shape) == (c_out,)):
        return None
    shape = [x.shape[0], c_out]
    for i in range(spatial):
        n = (x.shape[2 + i] + 2 * padding[i] - dilation[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1
        if n <= 0:
            return None
        shape.append(n)
    return empty_meta(shape, None, x.dtype)


def _mean_dim(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``x.mean(dims, keepdim)`` of a contiguous floating-point ``x`` over distinct, listed dims, in ``x``'s
    dtype: contiguous, the reduced dims dropped (or kept at 1). Its meta kernel is a Python reference of two
    prims (about 240 us a call); squeeze-and-excitation calls it in every block."""
    if len(args) not in (2, 3) or any(k != "keepdim" for k in kwargs):
        return None
    x, dims = args[0], args[1]
    keepdim = args[2] if len(args) == 3 else kwargs.get("keepdim", False)
    if not (_float_meta(x) and x.is_contiguous()) or type(keepdim) is not bool or type(dims) not in (list, tuple):
        return None
    nd = x.dim()
    if not dims or nd == 0 or not all(type(d) is int and -nd <= d < nd for d in dims):
        return None  # all dims (an empty list) or an invalid dim: the kernel decides
    reduced = {d % nd for d in dims}
    if len(reduced) != len(dims):
        return None  # a dim named twice: the kernel raises
    if keepdim:
        shape = [1 if i in reduced else n for i, n in enumerate(x.shape)]
    else:
        shape = [n for i, n in enumerate(x.shape) if i not in reduced]
    return empty_meta(shape, None, x.dtype)


_FACTORY_KWARGS = frozenset({"dtype", "layout", "device", "pin_memory", "memory_format"})


def _factory(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``zeros`` / ``ones`` / ``empty`` of a size on meta: a contiguous tensor of that size, in ``dtype`` (or the
    default dtype). Their meta kernels are Python references (``zeros``: ``empty`` then ``fill_``, 90 us); an
    RNN's initial states and batch norm's buffers are made this way."""
    if len(args) != 1 or not _int_list(args[0], len(args[0]) if type(args[0]) in (list, tuple) else -1, 0):
        return None
    if any(k not in _FACTORY_KWARGS for k in kwargs) or kwargs.get("pin_memory"):
        return None
    device = kwargs.get("device")
    if device is None or torch.device(device).type != "meta":
        return None
    if kwargs.get("layout", torch.strided) not in (None, torch.strided):
        return None
    if kwargs.get("memory_format", torch.contiguous_format) not in (None, torch.contiguous_format):
        return None
    dtype = kwargs.get("dtype")
    return empty_meta(args[0], None, dtype if dtype is not None else torch.get_default_dtype())


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
    aten.convolution.default: _convolution,
    aten.zeros.default: _factory,
    aten.ones.default: _factory,
    aten.empty.memory_format: _factory,
    aten.mean.dim: _mean_dim,
}  # fmt: skip
