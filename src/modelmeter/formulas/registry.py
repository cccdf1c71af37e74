"""The one registry of cost formulas, and the unit convention.

Convention (also in docs/conventions.md):
- a **MAC** is one multiply-accumulate of a multiply-add kernel (conv, linear, matmul, attention scores and
  weighted values). Bias adds are *not* MACs.
- **FLOPs** = 2 x MACs + other arithmetic (bias adds, elementwise ops, ...), each counted per element.

Every formula is a pure function of shapes and attributes (ints, tuples of ints, bools) returning a
:class:`Cost`. Frontends (PyTorch, layer spec, ...) map their ops onto these functions; nothing else in
modelmeter knows a formula.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Cost:
    """The cost of one op call: ``macs`` multiply-accumulates plus ``other_flops`` other arithmetic, and the
    memory traffic ``read_bytes`` (inputs and weights) / ``write_bytes`` (outputs) that the frontend measured
    from the tensors the op ran on (formulas leave traffic at 0; docs/conventions.md, "Memory traffic")."""

    macs: int = 0
    other_flops: int = 0
    read_bytes: int = 0
    write_bytes: int = 0

    @property
    def flops(self) -> int:
        return flops_of(self.macs, self.other_flops)

    @property
    def bytes(self) -> int:
        return self.read_bytes + self.write_bytes

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.macs + other.macs,
            self.other_flops + other.other_flops,
            self.read_bytes + other.read_bytes,
            self.write_bytes + other.write_bytes,
        )

    def __mul__(self, times: int) -> Cost:
        return Cost(self.macs * times, self.other_flops * times, self.read_bytes * times, self.write_bytes * times)


def flops_of(macs: int, other_flops: int) -> int:
    """The single place where MACs become FLOPs: one multiply + one add per MAC, plus the other arithmetic."""
    return 2 * macs + other_flops


def intensity(flops: int, read_bytes: int, write_bytes: int) -> float | None:
    """Arithmetic intensity, FLOPs per byte of memory traffic (Williams et al. 2009, "Roofline");
    None when nothing was moved."""
    moved = read_bytes + write_bytes
    return flops / moved if moved else None


ZERO = Cost()

# Formulas return a Cost (compute) or a ParamCount (parameters of a layer, formulas/layers.py).
F = TypeVar("F", bound=Callable[..., Any])
FORMULAS: dict[str, Callable[..., Any]] = {}


def register(name: str) -> Callable[[F], F]:
    """Register ``fn`` as the formula called ``name``; a second registration of a name is a bug."""

    def decorate(fn: F) -> F:
        if name in FORMULAS:
            raise ValueError(f"formula {name!r} is registered twice")
        FORMULAS[name] = fn
        return fn

    return decorate


def formula(name: str) -> Callable[..., Any]:
    """The formula registered as ``name``."""
    return FORMULAS[name]
