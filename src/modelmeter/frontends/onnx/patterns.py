"""Activations an exporter writes as two ops, counted as the one function PyTorch counts.

SiLU / Swish ``x * sigmoid(x)`` is exported as Sigmoid then Mul (no ONNX op before opset 24's Swish); the
convention counts a function evaluation as one FLOP per element (formulas/elementwise.py), and PyTorch's
``silu`` is one. So the Sigmoid is counted (1 per element) and the Mul that completes the SiLU is free.
"""

from __future__ import annotations

from typing import Any

from .read import iter_graphs


def silu_muls(graph: Any) -> set[int]:
    """ids of the Mul nodes that multiply x by sigmoid(x)."""
    out: set[int] = set()
    for g in iter_graphs(graph):
        sigmoid_of = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Sigmoid" and n.input and n.output}
        for n in g.node:
            if n.op_type == "Mul" and len(n.input) == 2:
                a, b = n.input
                if sigmoid_of.get(b) == a or sigmoid_of.get(a) == b:
                    out.add(id(n))
    return out
