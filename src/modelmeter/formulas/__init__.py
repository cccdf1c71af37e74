"""Cost formulas: pure functions of shapes and attributes, one registry (see registry.py)."""

from . import attention, backward, conv, elementwise, layers, linear, loss, norm, pooling, rnn  # noqa: F401  (registers them)
from .registry import FORMULAS, ZERO, Cost, Shape, formula, register

__all__ = ["FORMULAS", "ZERO", "Cost", "Shape", "formula", "register"]
