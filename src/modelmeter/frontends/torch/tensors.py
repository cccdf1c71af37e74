"""The tensors inside an op's or a module's arguments and results, found without pytree where it can.

``torch.utils._pytree.tree_leaves`` costs about 10 us for an op's arguments (it looks up a node type per
leaf); the dispatch mode asks this for every op, several times. Arguments are almost always tensors, numbers
and flat lists or tuples of them, which :func:`tensor_leaves` walks directly, in pytree's order; anything else
(a namedtuple, a ``ModelOutput``, an ``OrderedDict``, a registered node) goes to ``tree_leaves`` as before.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._pytree import tree_leaves

_META = torch.device("meta")
# Tensors modelmeter makes while an op runs are not ops of the model's: no function mode may see them
no_function_modes = torch._C.DisableTorchFunction
_ATOMS = frozenset({int, float, bool, str, type(None), torch.dtype, torch.device, torch.layout, torch.memory_format})


def tensor_leaves(obj: Any) -> list[torch.Tensor]:
    """Every tensor in ``obj`` (tuples, lists, dicts, pytree nodes), in pytree's order, repeats included."""
    kind = type(obj)
    if kind is tuple or kind is list:
        out: list[torch.Tensor] = []
        for v in obj:
            if isinstance(v, torch.Tensor):
                out.append(v)
            elif type(v) not in _ATOMS:
                out.extend(tensor_leaves(v))
        return out
    if kind is dict:
        return tensor_leaves(list(obj.values()))
    if isinstance(obj, torch.Tensor):
        return [obj]
    if kind in _ATOMS:
        return []
    return [t for t in tree_leaves(obj) if isinstance(t, torch.Tensor)]


def non_overlapping_dense(t: torch.Tensor) -> bool:
    """``t``'s elements fill its storage span without overlap or gaps (any dim order): its strides, sorted, are
    those of a contiguous tensor of its sizes taken in that order."""
    expected = 1
    for size, stride in sorted(zip(t.shape, t.stride(), strict=True), key=lambda p: p[1]):
        if size == 1:
            continue
        if stride != expected:
            return False
        expected *= size
    return True


def empty_meta(shape: Any, stride: Any = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """An empty meta tensor of ``shape`` and ``stride`` (contiguous without one): what a meta kernel returns.
    Made in 2 us, outside every function mode."""
    with no_function_modes():
        if stride is None:
            return torch.empty(shape, dtype=dtype, device=_META)
        return torch.empty_strided(shape, stride, dtype=dtype, device=_META)


def meta_like(t: torch.Tensor) -> torch.Tensor:
    """An empty meta tensor laid out as ``empty_like(t, device="meta")`` lays it out, made in 2 us instead of
    the 170 us ``empty_like`` takes on a meta tensor (its meta kernel is a Python reference)."""
    # is_contiguous first: one C call for the common case, before the Python walk over the strides
    if t.layout is torch.strided and not t.is_quantized and (t.is_contiguous() or non_overlapping_dense(t)):
        return empty_meta(t.shape, t.stride(), t.dtype)
    return torch.empty_like(t, device="meta")


def output_bytes(output: Any) -> int:
    """Bytes of the distinct tensors in a module's ``output`` (one returned twice counts once)."""
    seen = {id(t): t for t in tensor_leaves(output)}
    return sum(t.numel() * t.element_size() for t in seen.values())
