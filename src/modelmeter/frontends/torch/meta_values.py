"""Values for the small tensors of a meta run, kept on the CPU beside them, so that control flow can read them.

A meta tensor has a shape but no values, so a forward that branches on a value fails on meta: transformers
checks whether the position ids it made with ``arange`` hold packed sequences (``find_packed_sequence_indices``:
``(mask[:, -1] == 0).all()`` then ``bool()``), and whether a user's attention mask is all ones, by ``.item()``.
Such a model fell back to a real CPU forward (GPT-2 at 128 tokens: 0.6 s where meta takes a tenth).

:class:`Values` keeps, for a meta tensor whose values are known, a CPU tensor with those values. Values are
known for a small tensor made on meta by a factory op (``arange``, ``full``, ``scalar_tensor``, a copy of a CPU
tensor), for the user's small integer inputs (:func:`remember`), and for the outputs of any op all of whose meta
arguments have known values: the op runs on the CPU values too, which is what a real CPU run computes. The
meta op still runs (its outputs keep the meta kernel's metadata), unless it cannot (``nonzero``: the output's
shape depends on values), when its outputs are made from the CPU result's. A tensor of no elements has all its
values known (there are none), so it is never recorded and never makes a value unknown.

What stays exact: values are only kept for tensors of at most ``MAX_ELEMENTS`` elements (masks and position ids
of a short sequence, not activations), never for random ops, and an op that writes into a tensor with known
values from a tensor without them forgets every value (a stale value would be worse than none: the run then
fails on meta as before and falls back to the CPU).
"""

from __future__ import annotations

import weakref
from typing import Any

import torch

from .tensors import empty_meta, no_function_modes, tensor_leaves

MAX_ELEMENTS = 1 << 16
NOT_HANDLED = object()
_CPU = torch.device("cpu")
_WRITES: dict[Any, tuple[int, ...]] = {}  # OpOverload -> positions of the arguments it writes


def _written(func: Any) -> tuple[int, ...]:
    try:
        return _WRITES[func]
    except KeyError:
        schema = getattr(func, "_schema", None)
        args = schema.arguments if schema is not None else ()
        found = tuple(i for i, a in enumerate(args) if a.alias_info is not None and a.alias_info.is_write)
        _WRITES[func] = found
        return found


class Values:
    """Meta tensor -> a CPU tensor of its values, for the tensors whose values are known."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[weakref.ref[torch.Tensor], torch.Tensor]] = {}
        self._storages: set[int] = set()  # storages of the tensors with values (a write there may stale them)

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def of(self, t: torch.Tensor) -> torch.Tensor | None:
        entry = self._by_id.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else None

    def remember(self, meta: torch.Tensor, value: torch.Tensor) -> None:
        if meta.device.type != "meta" or value.device.type != "cpu" or value.numel() > MAX_ELEMENTS:
            return
        if value.shape != meta.shape or value.dtype != meta.dtype:
            return
        key = id(meta)
        by_id = self._by_id
        by_id[key] = (weakref.ref(meta, lambda _, k=key: by_id.pop(k, None)), value)  # type: ignore[misc]
        self._storages.add(id(meta.untyped_storage()))

    def forget(self) -> None:
        self._by_id.clear()
        self._storages.clear()

    def _unknown(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        """Some meta tensor among the arguments has no known values (checked cheaply first: the common case,
        an activation, comes first among the arguments)."""
        by_id = self._by_id
        for a in args:
            if isinstance(a, torch.Tensor) and a.device.type == "meta" and id(a) not in by_id and a.numel():
                return True
        return any(t.device.type == "meta" and t.numel() and self.of(t) is None for t in tensor_leaves((args, kwargs)))

    def _stales(self, func: Any, args: tuple[Any, ...]) -> bool:
        return any(
            isinstance(w, torch.Tensor) and id(w.untyped_storage()) in self._storages
            for w in (args[i] for i in _written(func) if i < len(args))
        )

    def run(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The op, its meta outputs given values where all its meta arguments have them; else NOT_HANDLED
        (after forgetting every value if the op writes into a tensor that had some)."""
        if self._unknown(args, kwargs):
            if self._storages and self._stales(func, args):
                self.forget()
            return NOT_HANDLED
        if not any(t.device.type == "meta" for t in tensor_leaves((args, kwargs))) and not _is_meta(
            kwargs.get("device")
        ):
            return NOT_HANDLED  # a CPU op, or a factory op for another device
        if torch.Tag.nondeterministic_seeded in getattr(func, "tags", ()):
            return NOT_HANDLED
        failed: Exception | None = None
        try:
            out = func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - e.g. .item(), or a shape that depends on values (nonzero)
            out, failed = None, exc
        if failed is None:
            sizes = [t.numel() for t in tensor_leaves(out)]
            if any(n > MAX_ELEMENTS for n in sizes):
                return out  # not a small tensor: no values kept
            if not any(sizes):
                return out  # no elements, so no values to know (batch norm's empty reserve buffer)
        try:
            with no_function_modes():
                value = func(*(self._on_cpu(a) for a in args), **{k: self._on_cpu(v) for k, v in kwargs.items()})
        except Exception:  # noqa: BLE001 - an op the CPU cannot run either: as meta left it
            if failed is not None:
                raise failed from None
            return out
        values = tensor_leaves(value)
        if failed is not None:
            if not isinstance(value, (torch.Tensor, tuple, list)):
                return value  # a Python number (``.item()``): what the CPU run reads
            if "device" in kwargs and not _is_meta(kwargs["device"]):
                return value  # a copy off meta (``.cpu()``): the values themselves, where they were asked for
            made = [empty_meta(v.shape, v.stride(), v.dtype) for v in values]
            out = made[0] if isinstance(value, torch.Tensor) else type(value)(made)
        for meta, cpu in zip(tensor_leaves(out), values, strict=False):
            if meta.device.type == "meta" and self.of(meta) is None:
                self.remember(meta, cpu)
        return out

    def _on_cpu(self, v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            if v.device.type != "meta":
                return v
            known = self.of(v)  # a tensor of no elements has its values known: none
            return known if known is not None else torch.empty_strided(v.shape, v.stride(), dtype=v.dtype)
        if type(v) in (list, tuple):
            return type(v)(self._on_cpu(x) for x in v)
        return _CPU if _is_meta(v) else v


def _is_meta(v: Any) -> bool:
    return (type(v) is str and v == "meta") or (isinstance(v, torch.device) and v.type == "meta")
