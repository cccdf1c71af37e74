"""Cost formulas: pure functions of shapes and attributes, one registry (see registry.py)."""

from . import attention, backward, conv, einsum, elementwise, layers, linear, loss, mla, norm, pooling, rnn  # noqa: F401
from .registry import FORMULAS, ZERO, Cost, Shape, formula, register

__all__ = ["FORMULAS", "ZERO", "Cost", "Shape", "formula", "register"]
