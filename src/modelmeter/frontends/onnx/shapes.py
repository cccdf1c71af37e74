"""Every value's shape: the graph inputs bound to concrete sizes, then onnx's shape inference.

Symbolic dims (``batch``, ``sequence``) are bound by the shapes given per input (``--input x=1,3,224,224``, or
positionally) or by name (``--dim batch=1``). An input dim that stays unknown is an error naming the input and
the dim. The graph's own intermediate annotations are dropped before inference (exporters write them with the
symbolic names, e.g. ``2*s0``), so every shape is recomputed from the bound inputs.
Ops onnx cannot infer (``com.microsoft`` contrib ops) get their output shapes from :mod:`.contrib_shapes`, and
inference is rerun from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import InputError, OnnxError
from .read import MAX_DIM, check_dims, iter_graphs

Shape = tuple[int, ...]


@dataclass
class Shapes:
    """Inferred shapes and element types by value name (``None``: unknown), and the constants' values."""

    shapes: dict[str, Shape | None] = field(default_factory=dict)
    dtypes: dict[str, int] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # small constant tensors, as numpy arrays

    def shape(self, name: str) -> Shape | None:
        return self.shapes.get(name)


def real_inputs(graph: Any) -> list[Any]:
    """Graph inputs that are not initializers (old exporters list initializers as inputs too)."""
    stored = {t.name for t in graph.initializer}
    return [i for i in graph.input if i.name not in stored]


def _dims(value_info: Any) -> list[Any] | None:
    t = value_info.type
    if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return None
    return list(t.tensor_type.shape.dim)


def bind_inputs(
    graph: Any,
    where: str,
    given: Sequence[Shape] | Mapping[str, Shape] | None,
    dims: Mapping[str, int],
) -> list[tuple[str, Shape, int]]:
    """Concrete (name, shape, elem_type) per graph input; writes the shapes into ``graph``'s inputs."""
    inputs = real_inputs(graph)
    names = [i.name for i in inputs]
    by_name: dict[str, Shape] = {}
    if isinstance(given, Mapping):
        for key, given_shape in given.items():
            if key not in names:
                raise InputError(f"{where}: no input named {key!r}; the model's inputs are {', '.join(names)}")
            by_name[key] = tuple(given_shape)
    elif given:
        if len(given) > len(names):
            raise InputError(f"{where}: {len(given)} input shapes given, the model has {len(names)} inputs ({names})")
        by_name = {n: tuple(s) for n, s in zip(names, given, strict=False)}
    for key, value in dims.items():
        if not 0 <= value <= MAX_DIM:
            raise InputError(f"--dim {key}={value}: a dim must be between 0 and {MAX_DIM:,}")
    bound = dict(dims)
    for inp in inputs:  # the given shapes name the symbolic dims they fill
        declared, shape = _dims(inp), by_name.get(inp.name)
        if declared is None or shape is None:
            continue
        if len(declared) != len(shape):
            raise InputError(
                f"{where}: input {inp.name!r} has rank {len(declared)} "
                f"({_show(declared)}), the shape given {shape} has rank {len(shape)}"
            )
        for i, (d, size) in enumerate(zip(declared, shape, strict=True)):
            if d.HasField("dim_value") and d.dim_value != size:
                raise InputError(f"{where}: input {inp.name!r} dim {i} is {d.dim_value} in the model, {size} was given")
            if d.HasField("dim_param") and d.dim_param:
                if bound.get(d.dim_param, size) != size:
                    raise InputError(
                        f"{where}: dim {d.dim_param!r} is bound to {bound[d.dim_param]} and to {size}; give one size"
                    )
                bound[d.dim_param] = size
    out = []
    for inp in inputs:
        declared, shape = _dims(inp), by_name.get(inp.name)
        elem = inp.type.tensor_type.elem_type if inp.type.HasField("tensor_type") else 0
        if declared is None:
            if shape is None:
                raise InputError(
                    f"{where}: input {inp.name!r} has no declared shape; give it, e.g. --input {inp.name}=1,3,224,224"
                )
            concrete = shape
        else:
            sizes = []
            for i, d in enumerate(declared):
                if shape is not None:
                    sizes.append(shape[i])
                elif d.HasField("dim_value"):
                    sizes.append(d.dim_value)
                elif d.dim_param and d.dim_param in bound:
                    sizes.append(bound[d.dim_param])
                else:
                    label = f"dim {i} ({d.dim_param!r})" if d.dim_param else f"dim {i} (unnamed)"
                    hint = f"--dim {d.dim_param}=N or " if d.dim_param else ""
                    raise InputError(
                        f"{where}: input {inp.name!r} {label} is unknown; give {hint}--input {inp.name}="
                        + ",".join(str(x.dim_value) if x.HasField("dim_value") else "N" for x in declared)
                    )
            concrete = tuple(sizes)
        if any(not 0 <= d <= MAX_DIM for d in concrete):
            raise InputError(f"{where}: input {inp.name!r} shape {concrete}: a dim must be between 0 and {MAX_DIM:,}")
        try:
            check_dims(concrete, f"{where}: input {inp.name!r}")
        except OnnxError as exc:  # too many elements: the size given is wrong, not the file
            raise InputError(str(exc)) from None
        _write_shape(inp, concrete)
        out.append((inp.name, concrete, elem))
    return out


def _show(declared: list[Any]) -> str:
    sizes = (str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in declared)
    return "(" + ", ".join(sizes) + ")"


def _write_shape(value_info: Any, shape: Shape) -> None:
    tt = value_info.type.tensor_type
    tt.shape.Clear()
    for size in shape:
        tt.shape.dim.add().dim_value = size


def _forget_annotations(graph: Any) -> None:
    """Drop intermediate shape annotations and the outputs' dims (kept: element types) so inference recomputes
    them from the bound inputs."""
    for g in iter_graphs(graph):
        if g is graph:
            del g.value_info[:]
            for out in g.output:
                if out.type.HasField("tensor_type"):
                    out.type.tensor_type.ClearField("shape")


def _constants(graph: Any) -> dict[str, Any]:
    """Values of small stored tensors (<= 64 elements, data in the file), for trip counts, conditions, Resize."""
    from onnx import numpy_helper

    values: dict[str, Any] = {}
    for g in iter_graphs(graph):
        tensors = [(t.name, t) for t in g.initializer]
        for node in g.node:
            if node.op_type == "Constant" and node.output:
                for a in node.attribute:
                    if a.name == "value" and a.HasField("t"):
                        tensors.append((node.output[0], a.t))
                    elif a.name in ("value_int", "value_float"):
                        import numpy as np

                        values[node.output[0]] = np.array(a.i if a.name == "value_int" else a.f)
                    elif a.name in ("value_ints", "value_floats"):
                        import numpy as np

                        values[node.output[0]] = np.array(list(a.ints if a.name == "value_ints" else a.floats))
        for name, t in tensors:
            n = 1
            for d in t.dims:
                n *= d
            if n <= 64 and t.data_location != 1:
                try:
                    values[name] = numpy_helper.to_array(t)
                except (ValueError, TypeError, RuntimeError, KeyError):  # a malformed tensor: treated as unknown
                    continue
    return values


def infer(model: Any, where: str) -> Shapes:
    """Run onnx's shape inference (with data propagation, so Reshape targets computed by Shape ops resolve),
    folding run-time shape arithmetic (:mod:`.fold`) and adding contrib-op shapes between rounds."""
    import onnx
    from onnx import numpy_helper

    from .contrib_shapes import add_contrib_shapes, node_attrs
    from .fold import fold

    model = _light_copy(model)
    _forget_annotations(model.graph)
    for _ in range(MAX_ROUNDS):  # each round unblocks at least one more node; most graphs need one or two
        try:
            model = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
        except (onnx.shape_inference.InferenceError, RuntimeError, ValueError) as exc:
            text = " ".join(str(exc).split())[:300]
            raise OnnxError(f"{where}: onnx shape inference rejects the graph: {text}") from None
        shapes = collect(model.graph)
        if all(s is not None for s in shapes.shapes.values()):
            break
        found = fold(model.graph, shapes, node_attrs)
        for node in model.graph.node:  # in the inference copy only: a folded node becomes a Constant
            if node.op_type != "Constant" and len(node.output) == 1 and node.output[0] in found:
                value = numpy_helper.from_array(found[node.output[0]])
                node.op_type, node.domain = "Constant", ""
                del node.input[:]
                del node.attribute[:]
                node.attribute.append(onnx.helper.make_attribute("value", value))
        added = add_contrib_shapes(model.graph, shapes)
        if not found and not added:
            break
    return shapes


MAX_ROUNDS = 64
SMALL = 64  # initializers up to this many elements keep their values for inference (shape arithmetic)


def _light_copy(model: Any) -> Any:
    """``model`` without the data of its large initializers, each turned into a graph input of the same type and
    shape: inference serializes the model every round, and weights matter to it only by shape. Done in place
    (the model was read for this analysis, and its tensors are already catalogued); the nodes stay the same."""
    import onnx

    graph = model.graph
    small, big = [], []
    for t in graph.initializer:
        n = 1
        for d in t.dims:
            n *= d
        if n <= SMALL and t.data_location != onnx.TensorProto.EXTERNAL:
            small.append(t)
        else:
            big.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    kept = [onnx.TensorProto.FromString(t.SerializeToString()) for t in small]
    graph.ClearField("initializer")
    graph.initializer.extend(kept)
    declared = {i.name for i in graph.input}
    graph.input.extend(v for v in big if v.name not in declared)
    return model


def collect(graph: Any) -> Shapes:
    out = Shapes()
    for g in iter_graphs(graph):
        for vi in [*g.input, *g.value_info, *g.output]:
            if not vi.type.HasField("tensor_type"):
                continue
            tt = vi.type.tensor_type
            out.dtypes.setdefault(vi.name, tt.elem_type)
            dims = _dims(vi)
            shape = (
                None
                if dims is None or not all(d.HasField("dim_value") for d in dims)
                else tuple(d.dim_value for d in dims)
            )
            if shape is not None and (any(d < 0 or d > MAX_DIM for d in shape)):
                shape = None
            if out.shapes.get(vi.name) is None:
                out.shapes[vi.name] = shape
        for t in g.initializer:
            out.shapes[t.name] = tuple(int(d) for d in t.dims)
            out.dtypes[t.name] = t.data_type
        for node in g.node:
            if node.op_type == "Constant" and node.output:
                for a in node.attribute:
                    if a.name == "value" and a.HasField("t"):
                        out.shapes[node.output[0]] = tuple(int(d) for d in a.t.dims)
                        out.dtypes[node.output[0]] = a.t.data_type
    out.values = _constants(graph)
    return out
