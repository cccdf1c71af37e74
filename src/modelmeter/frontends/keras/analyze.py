"""Analyze a Keras 3 model: parameters from its variables, costs per layer call from configs and Keras' shapes.

    >>> analyze_keras(model, input_size=(1, 224, 224, 3))   # or a path to a saved .keras file

The report is the same :class:`~modelmeter.Report` the PyTorch frontend builds: rows per layer (dotted nesting
path), shapes with the batch dimension made concrete (Keras' ``None`` batch is 1 unless an input size is
given), MACs and FLOPs through the shared formula registry, layers without a formula in ``uncounted_ops``.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ...errors import InputError, UncountedOpsError
from ...formulas import Cost
from ...report import InputInfo, LayerRecord, Report, build_report
from .attrs import layer_attrs
from .claims import is_keras_model, is_keras_path
from .costs import UNCOUNTED, WHOLE, layer_cost
from .load import import_keras, load_keras_file
from .params import counts, keras_view, subtree_weights, totals
from .trace import Call, trace
from .tree import layer_tree


def keras_kind(layer: Any) -> str | None:
    """The Keras class a layer behaves as: its own class if Keras defines it, else the Keras base class of a
    user subclass that does not override ``call``; None for a layer with its own ``call`` (custom code)."""
    for cls in type(layer).__mro__:
        if cls.__module__.split(".", 1)[0] == "keras":
            return cls.__name__
        if "call" in vars(cls):
            return None
    return None


def _option(options: Any, kwargs: dict[str, Any], key: str, default: Any = None) -> Any:
    if key in kwargs and kwargs[key] is not None:
        return kwargs[key]
    return getattr(options, key, default) if options is not None else default


def _shapes(input_size: Any) -> list[tuple[int, ...]] | None:
    if input_size is None:
        return None
    sizes = list(input_size)
    if sizes and all(isinstance(d, int) for d in sizes):
        return [tuple(sizes)]
    return [tuple(int(d) for d in s) for s in sizes]


def _model_inputs(model: Any) -> list[tuple[tuple[int | None, ...], str]]:
    """The (shape, dtype) of each declared model input; [] when the model declares none (subclassed)."""
    try:
        declared = list(model.inputs or [])
    except (AttributeError, ValueError):
        declared = []
    if declared:
        return [(tuple(t.shape), str(t.dtype)) for t in declared]
    built = getattr(model, "_build_shapes_dict", None) or {}
    return [(tuple(s), "float32") for s in built.values() if isinstance(s, (tuple, list))]


def input_specs(
    keras: Any, model: Any, input_size: Any, dtypes: Sequence[Any] | None, batch: int | None = None
) -> list[Any]:
    """KerasTensors of concrete shapes to trace with: the given sizes, else the model's declared inputs
    with a batch of ``batch`` (default 1)."""
    declared = _model_inputs(model)
    given = _shapes(input_size)
    if given is None:
        if not declared:
            raise InputError(
                f"{model.name}: the model declares no input shape (a subclassed or Sequential model never built); "
                "give one with the batch first, e.g. input_size=(1, 224, 224, 3) / --input 1,224,224,3"
            )
        given = []
        for i, (shape, _) in enumerate(declared):
            concrete = ((batch or 1) if shape[0] is None else shape[0], *shape[1:]) if shape else ()
            if any(d is None for d in concrete):
                example = ",".join("1" if j == 0 else str(d) if d else "SIZE" for j, d in enumerate(shape))
                raise InputError(
                    f"{model.name}: input {i} has shape {shape} with an unknown dimension besides the batch; "
                    f"give its size with the batch first: --input {example} (input_size=...)"
                )
            given.append(tuple(int(d) for d in concrete))  # type: ignore[arg-type]
    elif batch is not None:
        raise InputError("give the batch either in the input size or as batch, not both")
    elif declared:
        if len(given) != len(declared):
            raise InputError(f"{model.name}: the model takes {len(declared)} input(s), {len(given)} size(s) given")
        for i, (shape, (want, _)) in enumerate(zip(given, declared, strict=True)):
            if len(shape) != len(want):
                raise InputError(
                    f"{model.name}: input {i} is {want} (batch first, rank {len(want)}); the size given, {shape}, "
                    f"has rank {len(shape)}"
                )
    kinds = [str(d) for d in dtypes] if dtypes else [d for _, d in declared] or ["float32"]
    kinds = kinds + [kinds[-1]] * (len(given) - len(kinds))
    return [keras.KerasTensor(shape, dtype=dtype) for shape, dtype in zip(given, kinds, strict=False)]


def analyze_keras(model: Any, options: Any = None, **kwargs: Any) -> Report:
    """The report of ``model`` (a Keras model or layer, or a path to a ``.keras`` file).

    Options (an options object's attributes, or keywords): ``input_size`` (a shape with the batch first, or a
    list of shapes), ``batch`` (the size of Keras' ``None`` batch dimension when no input size is given, default
    1), ``dtypes``, ``name``, ``strict`` (raise :class:`UncountedOpsError` if a layer has no formula).
    """
    name = _option(options, kwargs, "name")
    if is_keras_path(model):
        name = name or os.path.basename(os.fspath(model))
        model = load_keras_file(model)  # checks the file before importing keras
    keras = import_keras()
    if not is_keras_model(model) or not isinstance(model, keras.layers.Layer):
        raise InputError(f"expected a Keras model or layer, got {type(model).__name__}")
    root, nodes = layer_tree(model, WHOLE)
    specs = input_specs(
        keras,
        model,
        _option(options, kwargs, "input_size"),
        _option(options, kwargs, "dtypes"),
        _option(options, kwargs, "batch"),
    )
    calls = trace(keras, nodes, specs)

    by_layer: dict[int, list[Call]] = defaultdict(list)
    for c in calls:
        by_layer[id(c.layer)].append(c)
    op_costs: dict[str, tuple[int, Cost]] = {}
    uncounted: dict[str, int] = defaultdict(int)
    custom: list[str] = []
    records = []
    for node in nodes:
        layer, mine = node.layer, by_layer.get(id(node.layer), [])
        kind = keras_kind(layer)
        own = Cost()
        for c in mine:
            costs = layer_cost(layer, c) if kind is not None else None
            if costs is None:
                if not node.children:  # a leaf without a formula: its arithmetic is not in the totals
                    uncounted[type(layer).__name__] += 1
                continue
            for op, cost in costs:
                if op.startswith(UNCOUNTED):
                    uncounted[op[len(UNCOUNTED) :]] += 1
                    continue
                n, acc = op_costs.get(op, (0, Cost()))
                op_costs[op] = (n + 1, acc + cost)
                own = own + cost
        if node.children and kind is None:
            custom.append(node.name or "(model)")
        weights_count = counts(subtree_weights(layer))
        first = mine[0] if mine else None
        records.append(
            LayerRecord(
                name=node.name,
                type=type(layer).__name__,
                params=weights_count.params,
                trainable_params=weights_count.trainable,
                buffers=weights_count.buffers,
                calls=len(mine),
                input_shapes=list(first.inputs) if first else [],
                output_shapes=list(first.outputs) if first else [],
                own=own,
                attrs=layer_attrs(kind, layer.get_config(), first) if kind and first else {},
            )
        )
    if _option(options, kwargs, "strict", False) and uncounted:
        listed = ", ".join(f"{op} x{n}" for op, n in sorted(uncounted.items()))
        raise UncountedOpsError(f"strict: layers without a formula: {listed}", dict(uncounted))
    weights = subtree_weights(model)
    report = build_report(
        model=name or model.name,
        inputs=[InputInfo(tuple(s.shape), str(s.dtype)) for s in specs],
        records=records,
        op_costs=op_costs,
        uncounted_ops=dict(uncounted),
        totals=totals(weights),
        device=f"keras ({keras.backend.backend()} backend, symbolic)",
    )
    view = keras_view(weights)
    notes = []
    given = _option(options, kwargs, "input_size") is not None or _option(options, kwargs, "batch") is not None
    if not given and any(s and s[0] is None for s, _ in _model_inputs(model)):
        notes.append("Keras' batch dimension is None; counted at batch 1 (give --batch or an input size to change it)")
    if report.totals.buffers:
        notes.append(
            f"Keras counts {view['keras_total_params']:,} params ({view['keras_trainable_params']:,} trainable, "
            f"{view['keras_non_trainable_params']:,} non-trainable): its non-trainable weights include the "
            f"{report.totals.buffers:,} elements of layer state (BatchNormalization moving mean and variance), "
            "shown here as buffers, as PyTorch keeps them"
        )
    if custom:
        shown = ", ".join(custom[:5]) + (" ..." if len(custom) > 5 else "")
        notes.append(
            f"custom layers ({shown}): their sublayers are counted; arithmetic written in their own call() "
            "outside sublayers (keras.ops on tensors) is not seen by the config-based count"
        )
    return dataclasses.replace(report, published=tuple(view.items()), notes=tuple(notes))
