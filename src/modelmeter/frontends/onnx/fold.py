"""Folding the small integer arithmetic exporters write to compute shapes at run time.

A traced ``x.view(b, g, c // g, h, w)`` or ``x.chunk(2, dim=1)`` becomes Shape -> Gather -> Div -> Concat ->
Reshape (or Slice). onnx's data propagation stops at some of these ops (Div, for one), leaving every shape after
them unknown. Once the inputs are bound all of these values are known: this module computes them with numpy
(only ops on small tensors, at most :data:`MAX_ELEMENTS` elements, so nothing large is ever built) and the
caller turns each folded node into a Constant of the same output for the next round of shape inference.
The graph that is costed is not changed: the folded nodes are still counted, as the tiny ops they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

MAX_ELEMENTS = 64

Shape = tuple[int, ...]


def _ints(v: Any) -> list[int]:
    return [int(x) for x in np.asarray(v).reshape(-1)]


def _slice(args: list[Any], attrs: dict[str, Any]) -> Any:
    data, starts, ends = args[0], _ints(args[1]), _ints(args[2])
    axes = _ints(args[3]) if len(args) > 3 and args[3] is not None else list(range(len(starts)))
    steps = _ints(args[4]) if len(args) > 4 and args[4] is not None else [1] * len(starts)
    index = [slice(None)] * data.ndim
    for s, e, a, st in zip(starts, ends, axes, steps, strict=False):
        index[a] = slice(s, e, st)
    return data[tuple(index)]


def _gather(args: list[Any], attrs: dict[str, Any]) -> Any:
    return np.take(args[0], args[1].astype(np.int64), axis=int(attrs.get("axis", 0)))


def _unsqueeze(args: list[Any], attrs: dict[str, Any]) -> Any:
    axes = _ints(args[1]) if len(args) > 1 else list(attrs.get("axes", []))
    out = args[0]
    rank = out.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        out = np.expand_dims(out, a)
    return out


def _squeeze(args: list[Any], attrs: dict[str, Any]) -> Any:
    axes = _ints(args[1]) if len(args) > 1 else list(attrs.get("axes", []))
    return np.squeeze(args[0], axis=tuple(axes)) if axes else np.squeeze(args[0])


def _div(args: list[Any], attrs: dict[str, Any]) -> Any:
    a, b = args
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        return np.trunc(a / b).astype(a.dtype)  # ONNX integer Div truncates toward zero
    return a / b


def _reshape(args: list[Any], attrs: dict[str, Any]) -> Any:
    data, shape = args[0], _ints(args[1])
    if not attrs.get("allowzero", 0):  # 0 copies the input's dim
        shape = [data.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return data.reshape(shape)


def _expand(args: list[Any], attrs: dict[str, Any]) -> Any:
    target = _ints(args[1])
    if int(np.prod([max(d, 1) for d in target])) > MAX_ELEMENTS:
        raise ValueError("too large to fold")
    return args[0] * np.ones(target, dtype=args[0].dtype)


def _range(args: list[Any], attrs: dict[str, Any]) -> Any:
    start, limit, delta = (np.asarray(a).reshape(-1)[0] for a in args)
    if delta == 0 or max(int(np.ceil((limit - start) / delta)), 0) > MAX_ELEMENTS:
        raise ValueError("too large to fold")
    return np.arange(start, limit, delta, dtype=np.asarray(args[0]).dtype)


def _constant_of_shape(args: list[Any], attrs: dict[str, Any]) -> Any:
    shape = _ints(args[0])
    if int(np.prod(shape)) > MAX_ELEMENTS:
        raise ValueError("too large to fold")
    value = attrs.get("value")
    from onnx import numpy_helper

    fill = numpy_helper.to_array(value).reshape(-1) if value is not None else np.zeros(1, np.float32)
    return np.full(shape, fill[0], dtype=fill.dtype)


FOLD: dict[str, Callable[[list[Any], dict[str, Any]], Any]] = {
    "Reshape": _reshape,
    "Expand": _expand,
    "Range": _range,
    "ConstantOfShape": _constant_of_shape,
    "Transpose": lambda a, at: np.transpose(a[0], at.get("perm")),
    "Tile": lambda a, at: np.tile(a[0], _ints(a[1])),
    "Less": lambda a, at: a[0] < a[1],
    "Greater": lambda a, at: a[0] > a[1],
    "LessOrEqual": lambda a, at: a[0] <= a[1],
    "GreaterOrEqual": lambda a, at: a[0] >= a[1],
    "Not": lambda a, at: np.logical_not(a[0]),
    "And": lambda a, at: np.logical_and(a[0], a[1]),
    "Or": lambda a, at: np.logical_or(a[0], a[1]),
    "Abs": lambda a, at: np.abs(a[0]),
    "Gather": _gather,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": lambda a, at: np.concatenate([np.atleast_1d(x) for x in a], axis=int(at.get("axis", 0))),
    "Slice": _slice,
    "Add": lambda a, at: a[0] + a[1],
    "Sub": lambda a, at: a[0] - a[1],
    "Mul": lambda a, at: a[0] * a[1],
    "Div": _div,
    "Mod": lambda a, at: np.fmod(a[0], a[1]) if at.get("fmod") else np.mod(a[0], a[1]),
    "Neg": lambda a, at: -a[0],
    "Identity": lambda a, at: a[0],
    "Max": lambda a, at: np.maximum.reduce(a),
    "Min": lambda a, at: np.minimum.reduce(a),
    "Equal": lambda a, at: a[0] == a[1],
    "Where": lambda a, at: np.where(a[0], a[1], a[2]),
    "Floor": lambda a, at: np.floor(a[0]),
    "Ceil": lambda a, at: np.ceil(a[0]),
    "Sqrt": lambda a, at: np.sqrt(a[0]),
    "ReduceProd": lambda a, at: np.prod(a[0], keepdims=bool(at.get("keepdims", 1))),
}


def _shape_value(shape: Shape, attrs: dict[str, Any]) -> Any:
    start, end = int(attrs.get("start", 0)), attrs.get("end")
    return np.array(shape[start : None if end is None else int(end)], dtype=np.int64)


def fold(graph: Any, shapes: Any, node_attrs: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Values of the outputs of ``graph``'s nodes that are now computable and were not known: name -> array.
    ``shapes.values`` is updated in place as values are found (nodes are in topological order)."""
    import onnx

    found: dict[str, Any] = {}
    values = shapes.values
    for node in graph.node:
        if len(node.output) != 1 or not node.output[0] or node.output[0] in values:
            continue
        if node.domain not in ("", "ai.onnx"):
            continue
        op, attrs = node.op_type, None
        try:
            if op in ("Shape", "Size"):
                shape = shapes.shape(node.input[0]) if node.input else None
                if shape is None:
                    continue
                attrs = node_attrs(node)
                value = _shape_value(shape, attrs) if op == "Shape" else np.array(int(np.prod(shape)), np.int64)
            elif op == "Cast":
                if not node.input or node.input[0] not in values:
                    continue
                to = int(node_attrs(node).get("to", 7))
                value = values[node.input[0]].astype(onnx.helper.tensor_dtype_to_np_dtype(to))
            elif op in FOLD:
                args = [values.get(i) if i else None for i in node.input]
                if not args or any(a is None for a in args[:1]) or any(i and i not in values for i in node.input):
                    continue
                value = FOLD[op](args, node_attrs(node))
            else:
                continue
        except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError, FloatingPointError):
            continue  # an inconsistent file: leave the value unknown
        value = np.asarray(value)
        if value.size > MAX_ELEMENTS or value.dtype == object:
            continue
        values[node.output[0]] = value
        found[node.output[0]] = value
    return found
