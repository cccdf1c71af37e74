"""One symbolic forward of a Keras model, recording each layer call's input and output shapes.

The model runs through Keras' own shape inference (``backend.compute_output_spec``: meta tensors on the torch
backend, ``jax.eval_shape`` on JAX, a graph on TensorFlow), so the shapes are Keras' own, on every backend,
and no arithmetic is done. Each layer's ``call`` is wrapped for the run by an attribute on the layer instance
(no class is patched), removed afterwards, error or not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import ForwardError
from .tree import Node

Shape = tuple[int, ...]
# call arguments that are not data the layer computes on
NOT_DATA = frozenset({"mask", "training", "attention_mask", "query_mask", "value_mask", "key_mask"})


@dataclass
class Call:
    layer: Any
    args: list[Shape | None]  # positional arguments (None: not a tensor)
    kwargs: dict[str, Shape]  # keyword tensors (masks left out)
    outputs: list[Shape] = field(default_factory=list)
    kwarg_values: dict[str, Any] = field(default_factory=dict)  # non-tensor keywords (use_causal_mask, ...)

    @property
    def inputs(self) -> list[Shape]:
        return [s for s in self.args if s is not None] + list(self.kwargs.values())


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "assign")  # Variables have assign


def _shape(x: Any) -> Shape:
    return tuple(int(d) for d in x.shape)


def _flat_shapes(keras: Any, value: Any) -> list[Shape]:
    return [_shape(t) for t in keras.tree.flatten(value) if _is_tensor(t)]


def _reason(exc: BaseException) -> str:
    """The first line of an error that says what went wrong; Keras puts "Exception encountered when calling
    X.call()." first and the cause (in ANSI bold) on a later line."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        return lines[1]
    return lines[0] if lines else ""


def trace(keras: Any, nodes: Sequence[Node], inputs: list[Any]) -> list[Call]:
    """Run the root (``nodes[0]``) on ``inputs`` (KerasTensors of concrete shapes) and return every call of a
    layer in ``nodes``, in the order the calls started."""
    from keras.src import backend

    calls: list[Call] = []
    saved: list[tuple[Any, bool, Any]] = []
    root = nodes[0].layer

    def wrap(layer: Any) -> None:
        had = "call" in vars(layer)
        original_attr = vars(layer).get("call")
        original = layer.call

        def call(*args: Any, **kwargs: Any) -> Any:
            if layer is root:  # a retry (Keras falls back from meta to CPU tensors): start over
                calls.clear()
            first = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else None
            if first is not None:  # a list of tensors as one argument (Add, Concatenate, multi-input models)
                arg_shapes: list[Shape | None] = [_shape(t) if _is_tensor(t) else None for t in first]
            else:
                arg_shapes = [_shape(a) if _is_tensor(a) else None for a in args]
            kw = {k: _shape(v) for k, v in kwargs.items() if k not in NOT_DATA and _is_tensor(v)}
            values = {k: v for k, v in kwargs.items() if isinstance(v, (bool, int, float, str))}
            record = Call(layer, arg_shapes, kw, kwarg_values=values)
            calls.append(record)
            out = original(*args, **kwargs)
            record.outputs = _flat_shapes(keras, out)
            return out

        saved.append((layer, had, original_attr))
        object.__setattr__(layer, "call", call)

    try:
        for node in nodes:
            if not any(layer is node.layer for layer, _, _ in saved):
                wrap(node.layer)
        arg = inputs[0] if len(inputs) == 1 else list(inputs)
        try:
            backend.compute_output_spec(root, arg)  # __call__: builds an unbuilt layer, then its call
        except Exception as exc:
            where = calls[-1] if calls else None
            name = where.layer.name if where else root.name
            kind = type(where.layer).__name__ if where else type(root).__name__
            shapes = [list(s) for s in where.inputs] if where else [list(i.shape) for i in inputs]
            first = _reason(exc)
            raise ForwardError(
                f"Keras shape inference failed in layer '{name}' ({kind}) called with input shapes {shapes}: "
                f"{type(exc).__name__}: {first[:300]}",
                module_path=name,
                input_shapes=shapes,
            ) from exc
    finally:
        for layer, had, original_attr in saved:
            if had:
                object.__setattr__(layer, "call", original_attr)
            else:
                object.__delattr__(layer, "call")
    return calls
