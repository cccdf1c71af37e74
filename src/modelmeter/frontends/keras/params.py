"""Parameter counts of a Keras model, each variable counted once, in two views side by side.

Keras counts every weight: its *non-trainable* weights include the state a layer keeps but never trains,
which Keras creates with ``trainable=False`` (BatchNormalization's moving mean and variance, Normalization's
mean, variance and count). PyTorch keeps that state as *buffers*, and so does modelmeter's report
(docs/conventions.md), so that the same network gives the same parameter count from every frontend:

- ``params``: weights created trainable (trainable now, or frozen with ``layer.trainable = False``);
- ``buffers``: weights created non-trainable (state);
- Keras' ``count_params()`` = params + buffers; its non-trainable count = frozen params + buffers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from math import prod
from typing import Any

from ...report import Totals
from .tree import sublayers

# bytes per element of Keras dtype names
DTYPE_BYTES = {
    "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2,
    "int32": 4, "uint32": 4, "int64": 8, "uint64": 8, "bool": 1, "float8_e4m3fn": 1, "float8_e5m2": 1,
}  # fmt: skip


@dataclass(frozen=True)
class Weight:
    variable: Any
    numel: int
    trainable: bool  # what Keras counts as trainable now
    state: bool  # created non-trainable: a buffer in modelmeter's view
    dtype: str

    @property
    def bytes(self) -> int:
        return self.numel * DTYPE_BYTES.get(self.dtype, 4)


def _own(layer: Any, trainable_layer: bool) -> list[Weight]:
    out = []
    for created_trainable, variables in (
        (True, getattr(layer, "_trainable_variables", [])),
        (False, getattr(layer, "_non_trainable_variables", [])),
    ):
        for v in variables:
            out.append(
                Weight(
                    v,
                    int(prod(v.shape)),
                    trainable=created_trainable and trainable_layer and bool(v.trainable),
                    state=not created_trainable,
                    dtype=str(v.dtype),
                )
            )
    return out


def subtree_weights(layer: Any, trainable: bool = True) -> list[Weight]:
    """The unique weights of ``layer`` and every layer below it (by variable identity)."""
    seen: set[int] = set()
    out: list[Weight] = []

    def visit(node: Any, trainable_path: bool) -> None:
        ok = trainable_path and bool(getattr(node, "trainable", True))
        for w in _own(node, ok):
            if id(w.variable) not in seen:
                seen.add(id(w.variable))
                out.append(w)
        for child in sublayers(node):
            visit(child, ok)

    visit(layer, trainable)
    return out


@dataclass(frozen=True)
class Counts:
    params: int
    trainable: int
    buffers: int


def counts(weights: Iterable[Weight]) -> Counts:
    ws = list(weights)
    return Counts(
        params=sum(w.numel for w in ws if not w.state),
        trainable=sum(w.numel for w in ws if w.trainable),
        buffers=sum(w.numel for w in ws if w.state),
    )


def totals(weights: list[Weight]) -> Totals:
    c = counts(weights)
    by_dtype: dict[str, int] = defaultdict(int)
    for w in weights:
        if not w.state:
            by_dtype[w.dtype] += w.bytes
    return Totals(
        params=c.params,
        trainable_params=c.trainable,
        non_trainable_params=c.params - c.trainable,
        buffers=c.buffers,
        param_bytes=sum(w.bytes for w in weights if not w.state),
        buffer_bytes=sum(w.bytes for w in weights if w.state),
        macs=0,
        flops=0,
        param_bytes_by_dtype=tuple(sorted(by_dtype.items())),
    )


def keras_view(weights: list[Weight]) -> dict[str, int]:
    """The figures ``model.summary()`` prints: every weight, trainable or not."""
    total = sum(w.numel for w in weights)
    trainable = sum(w.numel for w in weights if w.trainable)
    return {
        "keras_total_params": total,
        "keras_trainable_params": trainable,
        "keras_non_trainable_params": total - trainable,
    }
