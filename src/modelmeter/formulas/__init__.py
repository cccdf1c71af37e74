"""Cost formulas: pure functions of shapes and attributes, one registry (see registry.py)."""

from . import attention, conv, layers, linear, modules  # noqa: F401  (importing registers the formulas)
from .registry import FORMULAS, ZERO, Cost, Shape, formula, register

__all__ = ["FORMULAS", "ZERO", "Cost", "Shape", "formula", "register"]
