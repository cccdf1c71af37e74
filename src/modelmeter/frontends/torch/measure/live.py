"""Measuring memory on meta: live activation bytes over a forward, and the tensors autograd saves.

Both work the same on meta and on real tensors, because they look only at storages (a view shares its
base's storage, and the storage's ``nbytes`` is what an allocator would hand out).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

import torch

from ..dispatch_mode import DispatchMode
from ..meta_cache import run as run_op
from ..tensors import tensor_leaves


def _storages(obj: Any) -> list[torch.UntypedStorage]:
    return [t.untyped_storage() for t in tensor_leaves(obj)]


class LiveBytes(DispatchMode):
    """Tracks the bytes of every storage an op *allocates* and frees it when the storage dies.

    An op allocates each output storage that is none of its inputs' storages (views and in-place ops
    allocate nothing). A storage's death is seen through a weakref on its Python object, which PyTorch keeps
    alive exactly as long as the storage itself. Tensors made before the mode (weights, inputs) are never
    counted. ``peak`` is the most bytes alive at once; ``live`` what is still alive.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._alive: dict[int, weakref.ref[torch.UntypedStorage]] = {}
        self.events: list[tuple[int, int]] = []  # (storage id, +bytes allocated / -bytes freed), in order

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = run_op(func, args, kwargs)
        inputs = {id(s) for s in _storages((args, kwargs))}
        for s in _storages(out):
            key = id(s)
            if key in inputs or key in self._alive:
                continue
            n = s.nbytes()
            self.live += n
            self.peak = max(self.peak, self.live)
            self._alive[key] = weakref.ref(s, self._freer(key, n))
            self.events.append((key, n))
        return out

    def _freer(self, key: int, n: int) -> Any:
        def free(_: Any) -> None:
            self.live -= n
            self._alive.pop(key, None)
            self.events.append((key, -n))

        return free

    def peak_with(self, sizes: dict[int, int]) -> int:
        """The peak had the storages ``sizes`` names (by id, alive now) held that many bytes instead: the same
        run with, e.g., the KV cache stored in another dtype."""
        live = peak = 0
        for key, n in self.events:
            if key in sizes and key in self._alive:
                n = sizes[key] if n > 0 else -sizes[key]
            live += n
            peak = max(peak, live)
        return peak


class SavedBytes:
    """Context manager: the unique storages autograd saves for backward, by saved-tensor hooks.

    ``exclude`` are tensors whose storages are not activations (the parameters and buffers: they are
    counted as weights). A storage saved by several ops (a ReLU output saved by the next conv too) is
    counted once; the saved storages are held until the context exits, so their ids stay unique.
    """

    def __init__(self, exclude: Iterable[torch.Tensor] = ()):
        self._excluded = {id(t.untyped_storage()) for t in exclude}
        self._kept: dict[int, torch.UntypedStorage] = {}
        self.block: str | None = None  # set by checkpointing.Blocks while a checkpoint block runs
        self.block_of: dict[int, str | None] = {}  # storage id -> the block that first saved it
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if id(s) not in self._excluded and id(s) not in self._kept:
            self._kept[id(s)] = s
            self.block_of[id(s)] = self.block
        return t

    def excluded(self, s: torch.UntypedStorage) -> bool:
        return id(s) in self._excluded

    def kept(self) -> dict[int, torch.UntypedStorage]:
        return self._kept

    @staticmethod
    def _unpack(t: torch.Tensor) -> torch.Tensor:
        return t

    @property
    def bytes(self) -> int:
        return sum(s.nbytes() for s in self._kept.values())

    def __enter__(self) -> SavedBytes:
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._hooks.__exit__(*exc)

    def release(self) -> None:
        self._kept.clear()
        self.block_of.clear()
