"""Meta ops answered from a cache: an op that ran once on meta with the same metadata runs again for free.

On meta an op computes nothing, yet it costs Python: many of PyTorch's meta kernels are Python decompositions
(``native_batch_norm`` about 0.6 ms, ``native_layer_norm`` 0.9 ms, ``hardswish_`` 1.3 ms on this project's
machine, against 5 us for a view). A network repeats its layers (ViT-B/16: 12 identical blocks, Llama-3-70B:
80), so the same op is asked the same question again and again. On meta the answer (each output's shape,
strides and dtype) is a function of the inputs' metadata and the non-tensor arguments alone, since there are no
values; so :func:`run` keeps it, keyed by exactly those, and makes the outputs of a repeat with
``torch.empty_strided``, which is what a meta kernel's output is.

Only ops whose schema makes that safe are cached (:func:`_kind`):

* functional ops (no argument written, no output aliasing an input, every output a plain ``Tensor``): a
  repeat gets fresh outputs with the recorded metadata. A first run whose outputs are not fresh, dense-from-
  offset-0 storages (an input's storage: ``_unsafe_view`` is a view its schema does not declare; an
  over-allocated buffer) marks its key uncacheable, so it always runs for real;
* in-place ops (``self`` written and returned, nothing else written): a repeat returns ``self`` when the
  first run left ``self``'s metadata unchanged (not so for ``transpose_``, ``resize_``: those always run).

Anything else (views, ``out=`` variants, ops with a non-meta tensor, a tensor subclass, a sparse layout, or an
argument the key cannot hold) runs as it is. The cache lives for one analysis (:func:`scope`); outside a scope
:func:`run` just runs the op. tests/frontends/torch/test_meta_cache.py checks the outputs against the kernels'
and whole reports with and without the cache.
"""

from __future__ import annotations

from typing import Any

import torch

from .meta_rules import RULES
from .meta_values import NOT_HANDLED, Values
from .tensors import empty_meta, tensor_leaves

_FUNCTIONAL, _INPLACE = 1, 2
_KINDS: dict[Any, int | None] = {}  # OpOverload -> how it may be cached (None: never); a property of the schema
_UNCACHEABLE = object()
_len_dispatch_stack = torch._C._len_torch_dispatch_stack


class Cache(dict[Any, Any]):
    """Op key -> recorded outputs; ``hits`` counts the ops answered from it; ``known`` holds the values
    known for small meta tensors (meta_values.py), for the same scope."""

    def __init__(self) -> None:
        super().__init__()
        self.hits = 0
        self.known = Values()


_SCOPES: list[Cache] = []  # open caches, innermost last


def remember(meta: torch.Tensor, value: torch.Tensor) -> None:
    """``meta`` holds ``value``'s values (a user's input moved to meta); kept while a scope is open."""
    if _SCOPES:
        _SCOPES[-1].known.remember(meta, value.detach().clone())


class scope:
    """Context manager: cache meta ops for the duration, in ``cache`` if given (a compare shares one across its
    models; every key holds all an op's answer depends on, so sharing changes nothing but the time); nested
    scopes share the outermost cache. ``with scope() as cache`` gives the cache."""

    def __init__(self, cache: Cache | None = None) -> None:
        self.cache = cache

    def __enter__(self) -> Cache:
        _SCOPES.append(_SCOPES[-1] if _SCOPES else self.cache if self.cache is not None else Cache())
        return _SCOPES[-1]

    def __exit__(self, *exc: object) -> None:
        _SCOPES.pop()


def _kind(func: Any) -> int | None:
    try:
        return _KINDS[func]
    except KeyError:
        pass
    kind: int | None = None
    schema = getattr(func, "_schema", None)
    if schema is not None and (not schema.is_mutable or _only_self_written(schema)):
        rets = schema.returns
        plain = bool(rets) and all(str(r.type) == "Tensor" for r in rets)
        aliased = [r.alias_info for r in rets if r.alias_info is not None]
        if plain and not aliased and not any(a.alias_info is not None for a in schema.arguments):
            kind = _FUNCTIONAL
        elif plain and len(rets) == 1 and aliased and aliased[0].is_write and schema.is_mutable:
            kind = _INPLACE
    _KINDS[func] = kind
    return kind


def _only_self_written(schema: Any) -> bool:
    """The first argument is the one written (``Tensor(a!) self``), and no other argument is written or
    aliased (``out=`` variants write another argument: not cached)."""
    if not schema.arguments:
        return False
    first, rest = schema.arguments[0], schema.arguments[1:]
    info = first.alias_info
    return info is not None and info.is_write and all(a.alias_info is None for a in rest)


_SCALARS = (int, str, type(None), torch.dtype, torch.device, torch.layout, torch.memory_format)


def _key_of(value: Any) -> Any:
    """A hashable stand-in for an argument, or raise _NoKey. Tensors by metadata; ``1``, ``1.0`` and ``True``
    kept apart (they hash alike, yet promote differently)."""
    if isinstance(value, torch.Tensor):
        if (
            (type(value) is not torch.Tensor and type(value) is not torch.nn.Parameter)
            or value.device.type != "meta"
            or value.layout is not torch.strided
        ):
            raise _NoKey
        return (value.shape, value.stride(), value.dtype, value.is_conj(), value.is_neg())
    if type(value) in _SCALARS:
        return value
    if type(value) is float or type(value) is bool:
        return (type(value), value)
    if type(value) in (list, tuple):
        return tuple(_key_of(v) for v in value)
    raise _NoKey


class _NoKey(Exception):
    pass


def _makes_values(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """A factory op that may start a chain of known values: one with a device, not of a floating dtype
    (position ids, masks; not the empty float buffers batch norm allocates), of a size with elements (not the
    empty reserve buffer it allocates, ``empty([0], dtype=uint8)``: nothing to know)."""
    if "device" not in kwargs:
        return False
    dtype = kwargs.get("dtype")
    if dtype is not None and dtype.is_floating_point:
        return False
    size = args[0] if args else None
    return not (isinstance(size, (list, tuple)) and 0 in size)


def run(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``func(*args, **kwargs)``, from the open scope's cache where the op and its arguments allow."""
    if not _SCOPES or _len_dispatch_stack():  # a mode below this one must see the op itself
        return func(*args, **kwargs)
    cache = _SCOPES[-1]
    if cache.known or _makes_values(args, kwargs):  # a small tensor with values, or a factory op (meta_values.py)
        done = cache.known.run(func, args, kwargs)
        if done is not NOT_HANDLED:
            return done
    rule = RULES.get(func)
    if rule is not None:  # made directly (meta_rules.py)
        made = rule(args, kwargs)
        if made is not None:
            return made
    kind = _kind(func)
    if kind is None:
        return func(*args, **kwargs)
    try:
        key = (func, _key_of(args), _key_of(tuple(kwargs.items())) if kwargs else None)
    except _NoKey:
        return func(*args, **kwargs)
    hit = cache.get(key)
    if hit is not None:
        if hit is _UNCACHEABLE:
            return func(*args, **kwargs)
        cache.hits += 1
        if kind == _INPLACE:
            return args[0]
        made = [empty_meta(s, st, d) for s, st, d in hit[1]]
        return made[0] if hit[0] else tuple(made)
    if kind == _INPLACE:
        before = _meta(args[0]) if args and isinstance(args[0], torch.Tensor) else None
        out = func(*args, **kwargs)
        cache[key] = True if before is not None and out is args[0] and _meta(out) == before else _UNCACHEABLE
        return out
    out = func(*args, **kwargs)
    cache[key] = _describe(out, args, kwargs)
    return out


def _meta(t: torch.Tensor) -> tuple[Any, ...]:
    return (t.shape, t.stride(), t.dtype, t.storage_offset())


def _describe(out: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """(single output?, [(shape, stride, dtype)]) when every output is a fresh meta tensor that
    ``empty_strided`` would make alike; else _UNCACHEABLE."""
    single = isinstance(out, torch.Tensor)
    outs = (out,) if single else out
    if not isinstance(outs, tuple) or not outs:
        return _UNCACHEABLE
    # an input's storage, reused: ``_unsafe_view`` is a view whose schema does not say so
    storages = {id(t.untyped_storage()) for t in tensor_leaves((args, kwargs))}
    described = []
    for t in outs:
        if type(t) is not torch.Tensor or t.device.type != "meta" or t.layout is not torch.strided:
            return _UNCACHEABLE
        if t.storage_offset() != 0 or t.is_conj() or t.is_neg():
            return _UNCACHEABLE
        storage = t.untyped_storage()
        if id(storage) in storages:  # an input's, or another output's: empty_strided would make a new one
            return _UNCACHEABLE
        storages.add(id(storage))
        made = empty_meta(t.shape, t.stride(), t.dtype)
        if made.untyped_storage().nbytes() != storage.nbytes():  # an over-allocated buffer, or a view of one
            return _UNCACHEABLE
        described.append((tuple(t.shape), t.stride(), t.dtype))
    return (single, described)
