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
