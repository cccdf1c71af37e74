"""Memory traffic of one aten op (or one function counted whole): bytes read and bytes written.

The convention (docs/conventions.md, "Memory traffic"), as an unfused kernel would move data:
- an op reads each distinct tensor among its arguments once (inputs and weights alike, at the dtype it ran
  at) and writes each tensor it returns; an in-place op (``relu_``, ``add_``) reads and writes its operand;
- a broadcast (expanded, stride-0) tensor counts its distinct elements only (a bias added to a feature map is
  read as C elements, not N*C*H*W);
- views (``view``, ``t``, ``transpose``, ``expand``, ``slice``, ...) and bare allocation (``empty``) move
  nothing; fills (``zeros``, ``fill_``, ``arange``) write their output and read nothing;
- lookups (``embedding``, ``index_select``, ``gather``, ``index``) read their indices and the rows they fetch
  (as many elements as they write), not the whole table;
- every output an op returns is written, so ``max_pool2d_with_indices`` writes its int64 indices too; except
  batch norm in eval mode, whose saved mean and inverse std the CPU and CUDA kernels return empty (meta's
  kernel returns them at C elements, which no real run writes), so only its normalized output is written;
- a function counted whole (scaled-dot-product attention, RNNs) reads its arguments and writes its result,
  as a fused kernel does: intermediate score matrices are not traffic; one that returns its argument
  untouched (dropout in eval mode) moves nothing.
"""

from __future__ import annotations

from math import prod
from typing import Any

import torch

from ..tensors import tensor_leaves

aten = torch.ops.aten


def _packets(*names: str) -> frozenset[Any]:
    return frozenset(getattr(aten, n) for n in names if hasattr(aten, n))


# Composite ops that alias their input when they can (the dispatch mode usually sees the view they become).
_NO_TRAFFIC = _packets(
    "empty", "empty_like", "empty_strided", "empty_permuted", "new_empty", "new_empty_strided", "lift_fresh",
    "_local_scalar_dense", "resize_", "set_", "_assert_async", "_assert_tensor_metadata", "_linalg_check_errors",
    "_functional_assert_async", "_assert_scalar", "sym_constrain_range", "sym_constrain_range_for_size",
    "record_stream", "reshape", "flatten", "unflatten", "contiguous", "detach", "detach_", "alias",
)  # fmt: skip
_WRITE_ONLY = _packets(
    "zeros", "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full",
    "scalar_tensor", "zero_", "fill_", "fill", "arange", "linspace", "logspace", "eye", "rand", "rand_like",
    "randn", "randn_like", "randint", "randint_like", "randperm", "uniform_", "normal_", "random_", "exponential_",
)  # fmt: skip
# lookups: (index of the source tensor among the positional arguments)
_LOOKUPS = {
    p: i
    for names, i in ((("embedding",), 0), (("index_select", "gather", "index", "_unsafe_index", "take"), 0))
    for p in _packets(*names)
}


# batch norm: (index of the ``training`` flag among the positional arguments, or None: always eval)
_BATCH_NORMS = {
    p: i
    for names, i in (
        (("native_batch_norm", "_native_batch_norm_legit"), 5),
        (("_native_batch_norm_legit_no_training",), None),
    )
    for p in _packets(*names)
}


_COPY = getattr(aten, "copy_", None)


def tensor_bytes(t: torch.Tensor) -> int:
    """Bytes of the distinct elements ``t`` addresses: dimensions of stride 0 (broadcast) count once."""
    try:
        strides = t.stride()
        if 0 not in strides:  # no broadcast dim: every element is distinct
            elements = t.numel()
        else:
            elements = prod(int(n) for n, s in zip(t.shape, strides, strict=True) if s != 0) if t.numel() else 0
    except (RuntimeError, NotImplementedError, TypeError):  # sparse / nested tensors have no strides
        try:
            elements = t.numel()
        except (RuntimeError, NotImplementedError, TypeError):  # a nested tensor of ragged shape: no number
            return 0
    return int(elements) * t.element_size()


def _distinct(obj: Any, skip: set[int] | None = None) -> list[torch.Tensor]:
    seen: set[int] = set(skip or ())
    out = []
    for t in tensor_leaves(obj):
        if id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def op_traffic(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[int, int]:
    """The bytes ``func`` (an aten OpOverload) read and wrote: (read, written)."""
    packet = getattr(func, "overloadpacket", None)
    if packet in _NO_TRAFFIC or getattr(func, "is_view", False):
        return 0, 0
    if packet in _BATCH_NORMS and isinstance(out, tuple) and out:
        at = _BATCH_NORMS[packet]
        if at is None or not (args[at] if len(args) > at else kwargs.get("training", False)):
            out = out[0]  # eval: (output, save_mean, save_invstd) with the saved statistics empty on a real device
    written = sum(tensor_bytes(t) for t in _distinct(out))
    if packet in _WRITE_ONLY:
        return 0, written
    if packet in _LOOKUPS:
        source = args[_LOOKUPS[packet]] if len(args) > _LOOKUPS[packet] else None
        others = _distinct((args, kwargs), skip={id(source)})
        return sum(tensor_bytes(t) for t in others) + written, written
    if packet is _COPY and args:  # copy_(dst, src): reads src, writes dst
        return sum(tensor_bytes(t) for t in _distinct(args[1:])), written
    reads = _distinct((args, {k: v for k, v in kwargs.items() if k != "out"}) if kwargs else args)
    return sum(tensor_bytes(t) for t in reads), written


def function_traffic(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[int, int]:
    """A function counted whole: its tensor arguments read once, its results written once (a fused kernel):
    (read, written). One that hands back an argument untouched (dropout in eval mode) moves nothing."""
    inputs = _distinct((args, kwargs))
    results = _distinct(out)
    if results and all(any(r is t for t in inputs) for r in results):
        return 0, 0
    return sum(tensor_bytes(t) for t in inputs), sum(tensor_bytes(t) for t in results)
