"""Model inputs: from sizes (``input_size``) or from the user's data (``input_data``), on meta or CPU.

The user's tensors are never handed to the model: on meta they are replaced by empty meta tensors of the
same shape and dtype; on CPU by clones, so an in-place op in the model cannot change them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.utils._pytree import tree_map

from ...errors import InputError
from ...report.model import InputInfo
from .meta_cache import remember
from .meta_values import MAX_ELEMENTS
from .tensors import meta_like, tensor_leaves

InputSize = Sequence[int] | Sequence[Sequence[int]] | Mapping[str, Any]


def to_dtype(name: str | torch.dtype) -> torch.dtype:
    if isinstance(name, torch.dtype):
        return name
    dt = getattr(torch, str(name).removeprefix("torch."), None)
    if not isinstance(dt, torch.dtype):
        raise InputError(f"unknown dtype {name!r}; use e.g. float32, float16, bfloat16, int64")
    return dt


def normalize_sizes(input_size: InputSize) -> list[tuple[int, ...]]:
    """(1, 3, 224, 224) -> [(1, 3, 224, 224)]; [(1, 3), (1, 5)] stays a list of shapes."""
    if isinstance(input_size, Sequence) and all(isinstance(d, int) for d in input_size):
        sizes = [tuple(input_size)]
    elif isinstance(input_size, Sequence) and all(isinstance(s, Sequence) for s in input_size):
        sizes = [tuple(s) for s in input_size]  # type: ignore[arg-type]
    else:
        raise InputError(f"input_size must be a shape like (1, 3, 224, 224) or a list of shapes, got {input_size!r}")
    for s in sizes:
        if not s or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in s):
            raise InputError(f"input shape {s!r} must be a non-empty tuple of non-negative ints")
    return sizes  # type: ignore[return-value]


def _meta_tensor(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    try:
        return torch.empty(shape, dtype=dtype, device="meta")
    except (RuntimeError, TypeError) as exc:  # "Storage size calculation overflowed"; a dim past int64: TypeError
        raise InputError(
            f"input shape {shape}: too large for a tensor ({str(exc).splitlines()[0][:120]}); give a smaller shape"
        ) from exc


class Inputs:
    """Positional and keyword inputs, and a way to make them on a device."""

    def __init__(
        self,
        input_size: InputSize | None = None,
        input_data: Any = None,
        dtypes: Sequence[str | torch.dtype] | None = None,
    ):
        if (input_size is None) == (input_data is None):
            raise InputError("give exactly one of input_size (shapes) or input_data (tensors)")
        self.kwargs: dict[str, Any] = {}
        self.args: tuple[Any, ...] = ()
        if isinstance(input_size, Mapping):  # named inputs: {"input_features": (1, 80, 3000), ...}
            self.args, self.kwargs = (), named_meta_inputs(input_size, dtypes)
        elif input_size is not None:
            sizes = normalize_sizes(input_size)
            names = list(dtypes) if dtypes else ["float32"]
            if len(names) == 1:
                names = names * len(sizes)
            if len(names) != len(sizes):
                raise InputError(f"{len(sizes)} input shapes but {len(names)} dtypes; give one dtype or one per input")
            self.args = tuple(_meta_tensor(s, to_dtype(d)) for s, d in zip(sizes, names, strict=True))
        elif isinstance(input_data, torch.Tensor):
            self.args = (input_data,)
        elif isinstance(input_data, dict):
            self.args, self.kwargs = (), dict(input_data)
        elif isinstance(input_data, (tuple, list)):
            self.args = tuple(input_data)
        else:
            raise InputError(
                f"input_data must be a tensor, a tuple/list or a dict of inputs, got {type(input_data).__name__}"
            )

    def info(self) -> list[InputInfo]:
        return [
            InputInfo(tuple(int(d) for d in t.shape), str(t.dtype).removeprefix("torch."))
            for t in tensor_leaves((self.args, self.kwargs))
        ]

    def on(self, device: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The inputs as fresh tensors on ``device``: empty on meta; on CPU random floats / zero ints.

        The random floats come from a generator of our own with a fixed seed: the same run gives the same
        numbers (the report is deterministic) and the user's global random state is not touched.
        """
        gen = torch.Generator().manual_seed(0)

        def make(t: Any) -> Any:
            if not isinstance(t, torch.Tensor):
                return t
            if device == "meta":
                made = meta_like(t)
                if t.device.type == "cpu" and not t.dtype.is_floating_point and t.numel() <= MAX_ELEMENTS:
                    remember(made, t)  # token ids, masks: control flow may read them (meta_values.py)
                return made
            if t.device.type != "meta":
                return t.detach().clone()
            if t.dtype.is_floating_point or t.dtype.is_complex:
                return torch.randn(t.shape, dtype=t.dtype, generator=gen)
            return torch.zeros(t.shape, dtype=t.dtype)

        return _map(make, self.args), _map(make, self.kwargs)


def _map(fn: Any, obj: Any) -> Any:
    """``tree_map(fn, obj)``, walking plain tuples, lists and dicts directly (pytree looks up a node type per
    leaf); anything else (a namedtuple, a ``ModelOutput``, a registered node) goes to pytree."""
    kind = type(obj)
    if kind is tuple or kind is list:
        return kind(_map(fn, v) for v in obj)
    if kind is dict:
        return {k: _map(fn, v) for k, v in obj.items()}
    if isinstance(obj, torch.Tensor) or kind in (int, float, bool, str, type(None)):
        return fn(obj)
    return tree_map(fn, obj)


def _is_dtype(v: Any) -> bool:
    return isinstance(v, (str, torch.dtype))


def named_meta_inputs(
    sizes: Mapping[str, Any], dtypes: Sequence[str | torch.dtype] | None = None
) -> dict[str, torch.Tensor]:
    """Keyword inputs from ``{name: shape}`` or ``{name: (shape, dtype)}``, as meta tensors.

    Without a dtype, a name ending in ``ids`` (token ids: ``input_ids``, ``decoder_input_ids``) is int64,
    any other float32.
    """
    if dtypes:
        raise InputError("with named inputs give each its dtype: {name: (shape, dtype)} or --input NAME=SHAPE:DTYPE")
    out = {}
    for name, spec in sizes.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"input name {name!r} must be a keyword argument name of the model's forward")
        if isinstance(spec, (tuple, list)) and len(spec) == 2 and _is_dtype(spec[1]) and isinstance(spec[0], Sequence):
            shape, dtype = spec
        else:
            shape, dtype = spec, ("int64" if name.endswith("ids") else "float32")
        (checked,) = normalize_sizes(shape) if isinstance(shape, Sequence) and not isinstance(shape, str) else [None]
        if checked is None or not all(isinstance(d, int) for d in checked):
            raise InputError(f"input {name!r}: expected a shape like (1, 80, 3000) or (shape, dtype), got {spec!r}")
        out[name] = _meta_tensor(checked, to_dtype(dtype))
    return out
