"""An ONNX file -> a :class:`~modelmeter.report.Report`: read, bind inputs, infer shapes, cost every node,
roll the costs up by scope. No PyTorch anywhere.

Control flow: an ``If`` reports both branches as rows (``<if>.then_branch``, ``<if>.else_branch``); when its
condition is a constant only the taken branch is counted, otherwise the costlier one (by FLOPs), with a note.
A ``Loop`` body counts its trip count times: the constant max trip count, or ``--dim NAME=N`` where NAME is the
trip-count input's name or the Loop node's name. A ``Scan`` body counts once per element of its scan axis.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import InputError, UncountedOpsError
from ...formulas import Cost
from ...report import InputInfo, LayerRecord, Report, Totals, build_report
from .contrib_shapes import node_attrs
from .costs import ShapeUnknown, node_cost
from .layer_attrs import conv_attrs, linear_attrs
from .patterns import silu_muls
from .read import MAX_DIM, iter_graphs, read_model
from .scopes import scope_chain, short_name
from .shapes import Shapes, bind_inputs, infer
from .tensors import DTYPES, Catalogue, catalogue

Shape = tuple[int, ...]


@dataclass(frozen=True)
class OnnxOptions:
    """What an ONNX analysis takes: input shapes (positional, or by input name), symbolic dims by name."""

    inputs: Sequence[Shape] | Mapping[str, Shape] | None = None
    dims: Mapping[str, int] = field(default_factory=dict)
    name: str | None = None
    strict: bool = False
    attention: str = "full"


@dataclass
class _Rec:
    name: str
    cls: str | None = None
    own: Cost = field(default_factory=Cost)
    calls: int = 0
    nodes: list[Any] = field(default_factory=list)  # main-graph nodes directly in this scope
    stored: set[str] = field(default_factory=set)  # stored tensors read by nodes directly in this scope
    ops: list[str] = field(default_factory=list)
    control: bool = False


class _Walker:
    def __init__(self, shapes: Shapes, cat: Catalogue, dims: Mapping[str, int], attention: str, where: str):
        self.shapes, self.cat, self.dims, self.attention, self.where = shapes, cat, dims, attention, where
        self.recs: dict[str, _Rec] = {"": _Rec("", "ONNX")}
        self.order: dict[str, int] = {"": 0}
        self.op_costs: dict[str, tuple[int, Cost]] = {}
        self.uncounted: Counter[str] = Counter()
        self.unknown: list[str] = []
        self.notes: list[str] = []
        self.attached: set[int] = set()
        self.free: set[int] = set()  # nodes counted as part of another (patterns.py)
        self.fused = 0

    def rec(self, name: str, cls: str | None = None) -> _Rec:
        parts = name.split(".") if name else []
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix not in self.recs:
                self.recs[prefix] = _Rec(prefix)
                self.order[prefix] = len(self.order)
        r = self.recs[name]
        if cls and not r.cls:
            r.cls = cls
        return r

    def walk(self, graph: Any, into: str | None, mult: int, count: bool, top: bool) -> Cost:
        """Cost the nodes of ``graph`` ``mult`` times; ``into`` is the row subgraph nodes belong to (None: by
        each node's own scope). With ``count`` False nothing is added to the report: the cost is only returned."""
        total = Cost()
        for index, node in enumerate(graph.node):
            if into is None:
                chain = scope_chain(node)
                for name, cls in chain:
                    self.rec(name, cls)
                where = chain[-1][0] if chain else ""
            else:
                where = into
            rec = self.rec(where)
            if id(node) not in self.attached:
                self.attached.add(id(node))
                if top:
                    rec.nodes.append(node)
                rec.ops.append(node.op_type)
                rec.stored.update(b for b in (self.cat.resolve(i) for i in node.input if i) if self.cat.role(b))
            if count and mult:
                rec.calls = max(rec.calls, mult)
            if node.op_type in ("If", "Loop", "Scan") and node.domain in ("", "ai.onnx"):
                total = total + self.control(node, index, where, mult, count)
                continue
            cost = self.cost(node, count, mult)
            total = total + cost * mult
            if count and mult:
                rec.own = rec.own + cost * mult
        return total

    def cost(self, node: Any, count: bool, mult: int) -> Cost:
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        if id(node) in self.free:
            if count and mult:
                self.fused += mult
            return Cost()
        try:
            cost = node_cost(node, node_attrs(node), self.shapes, self.attention)
        except ShapeUnknown:
            if count:
                self.uncounted[op] += mult
                self.unknown.append(node.name or node.op_type)
            return Cost()
        except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError) as exc:
            # inconsistent attributes or shapes in the file: the node cannot be counted; say which and why
            if count:
                self.uncounted[op] += mult
                self.notes.append(f"node {node.name!r} ({op}) could not be counted: {type(exc).__name__}: {exc}")
            return Cost()
        if cost is None:
            if count:
                self.uncounted[op] += mult
            return Cost()
        if count and mult:
            calls, acc = self.op_costs.get(op, (0, Cost()))
            self.op_costs[op] = (calls + mult, acc + cost * mult)
        return cost

    # -- control flow ------------------------------------------------------------------------------------
    def control(self, node: Any, index: int, where: str, mult: int, count: bool) -> Cost:
        base = f"{where}.{short_name(node, index)}" if where else short_name(node, index)
        rec = self.rec(base, node.op_type)
        rec.control = True
        if count and mult:
            rec.calls = max(rec.calls, mult)
        attrs = {a.name: a for a in node.attribute}
        if node.op_type == "If":
            return self._if(node, base, attrs, mult, count)
        if node.op_type == "Loop":
            trips = self._trip_count(node, base)
            return self.walk(attrs["body"].g, self._sub(base, "body", "Loop body"), mult * trips, count, False)
        return self._scan(node, base, attrs, mult, count)

    def _sub(self, base: str, part: str, cls: str) -> str:
        name = f"{base}.{part}"
        self.rec(name, cls)
        return name

    def _if(self, node: Any, base: str, attrs: dict[str, Any], mult: int, count: bool) -> Cost:
        then_name = self._sub(base, "then_branch", "If branch")
        else_name = self._sub(base, "else_branch", "If branch")
        then_g, else_g = attrs["then_branch"].g, attrs["else_branch"].g
        cond = self.shapes.values.get(node.input[0]) if node.input else None
        costs = {
            "then": self.walk(then_g, then_name, mult, False, False),
            "else": self.walk(else_g, else_name, mult, False, False),
        }
        if cond is not None and cond.size == 1:
            taken = "then" if bool(cond.reshape(-1)[0]) else "else"
            why = "its condition is the constant " + str(bool(cond.reshape(-1)[0]))
        else:
            taken = "then" if costs["then"].flops >= costs["else"].flops else "else"
            why = "its condition is computed at run time, so the costlier branch is counted"
        other = "else" if taken == "then" else "then"
        if count:
            self.notes.append(
                f"If {node.name or base!r}: the {taken} branch is counted ({why}); the {other} branch would add "
                f"{costs[other].macs:,} MACs, {costs[other].flops:,} FLOPs"
            )
        graph = then_g if taken == "then" else else_g
        return self.walk(graph, then_name if taken == "then" else else_name, mult, count, False)

    def _trip_count(self, node: Any, base: str) -> int:
        m = node.input[0] if node.input else ""
        value = self.shapes.values.get(m) if m else None
        keys = [k for k in (m, node.name, base) if k]
        trips = None
        if value is not None and value.size == 1:
            trips = int(value.reshape(-1)[0])
        for key in keys:
            if key in self.dims:
                trips = int(self.dims[key])
                break
        if trips is None:
            key = m or node.name or base
            raise InputError(
                f"{self.where}: Loop {node.name or base!r}: its trip count is not a constant; give --dim {key}=N "
                "(the number of iterations to count)"
            )
        if not 0 <= trips <= MAX_DIM:
            raise InputError(f"{self.where}: Loop {node.name or base!r}: trip count {trips} is absurd; refused")
        cond = self.shapes.values.get(node.input[1]) if len(node.input) > 1 and node.input[1] else None
        if len(node.input) > 1 and node.input[1] and (cond is None or cond.size != 1 or not bool(cond.reshape(-1)[0])):
            self.notes.append(
                f"Loop {node.name or base!r}: counted for {trips} iterations (its condition may stop it earlier)"
            )
        return trips

    def _scan(self, node: Any, base: str, attrs: dict[str, Any], mult: int, count: bool) -> Cost:
        n_scan = attrs["num_scan_inputs"].i
        axes = list(attrs["scan_input_axes"].ints) if "scan_input_axes" in attrs else [0]
        inputs = [i for i in node.input]
        first = inputs[len(inputs) - n_scan] if n_scan and len(inputs) >= n_scan else None
        shape = self.shapes.shape(first) if first else None
        if shape is None:
            raise InputError(
                f"{self.where}: Scan {node.name or base!r}: the length of its scan input {first!r} is unknown"
            )
        steps = shape[axes[0] % len(shape)] if axes and shape else 1
        return self.walk(attrs["body"].g, self._sub(base, "body", "Scan body"), mult * steps, count, False)


def _boundary(nodes: list[Any], graph_outputs: set[str], consumers: dict[str, set[int]], skip: set[str]) -> tuple:
    """Values entering the node set from outside, and values it produces that are used outside it."""
    ids = {id(n) for n in nodes}
    produced: dict[str, None] = {}
    for n in nodes:
        for o in n.output:
            if o:
                produced[o] = None
    ins: dict[str, None] = {}
    for n in nodes:
        for i in n.input:
            if i and i not in produced and i not in skip:
                ins[i] = None
    outs = [o for o in produced if o in graph_outputs or consumers.get(o, set()) - ids]
    return list(ins), outs


def analyze_onnx(path: str | os.PathLike[str], options: OnnxOptions | None = None, **kwargs: Any) -> Report:
    """Count an ONNX file's parameters, shapes, MACs and FLOPs (``kwargs``: the fields of :class:`OnnxOptions`)."""
    opts = options or OnnxOptions(**kwargs)
    where = os.fspath(path)
    model = read_model(where)
    graph = model.graph
    cat = catalogue(graph, where)
    bound = bind_inputs(graph, where, opts.inputs, dict(opts.dims))
    shapes = infer(model, where)
    # protobuf hands out a node's Python wrapper anew unless one is alive: hold them all, so id(node) is the same
    # node for the whole analysis (the walker, the SiLU pattern and the scope boundaries key nodes by id)
    alive = [node for g in iter_graphs(graph) for node in g.node]
    walker = _Walker(shapes, cat, dict(opts.dims), opts.attention, where)
    walker.free = silu_muls(graph)
    walker.walk(graph, None, 1, True, True)
    records = _records(walker, graph, cat, shapes)
    tensors = cat.tensors
    params = [tensors[n] for n in sorted(cat.params)]
    buffers = [tensors[n] for n in sorted(cat.buffers)]
    by_dtype: dict[str, int] = {}
    for t in params:
        by_dtype[t.dtype_name] = by_dtype.get(t.dtype_name, 0) + t.nbytes
    n_params = sum(t.numel for t in params)
    totals = Totals(
        params=n_params,
        trainable_params=n_params,
        non_trainable_params=0,
        buffers=sum(t.numel for t in buffers),
        param_bytes=sum(t.nbytes for t in params),
        buffer_bytes=sum(t.nbytes for t in buffers),
        macs=0,
        flops=0,
        param_bytes_by_dtype=tuple(sorted(by_dtype.items())),
    )
    inputs = [InputInfo(shape, DTYPES.get(elem, (f"onnx_dtype_{elem}", 0))[0]) for _, shape, elem in bound]
    name = opts.name or os.path.basename(where)
    report = build_report(
        name, inputs, records, walker.op_costs, dict(walker.uncounted), totals, device="onnx", attention=opts.attention
    )
    notes = ["ONNX has no trainable flag: every stored weight counts as a trainable parameter"]
    if cat.unused:
        notes.append(f"{len(cat.unused)} stored weight tensor(s) are read by no node; counted at the root")
    if walker.fused:
        notes.append(
            f"{walker.fused} Mul node(s) complete a SiLU x·sigmoid(x) and are counted with their Sigmoid, as one "
            "activation (1 FLOP per element, as PyTorch's silu)"
        )
    if walker.unknown:
        shown = ", ".join(repr(n) for n in walker.unknown[:5])
        notes.append(f"{len(walker.unknown)} node(s) have shapes onnx could not infer and are uncounted: {shown}")
    from dataclasses import replace

    # a Loop inside an If is walked twice (its cost is weighed, then counted): say each thing once
    report = replace(report, notes=tuple(dict.fromkeys((*notes, *walker.notes))))
    del alive
    if opts.strict and report.uncounted:
        listed = ", ".join(f"{op} x{n}" for op, n in sorted(report.uncounted.items()))
        raise UncountedOpsError(f"strict: ops without a formula: {listed}", report.uncounted)
    return report


def _records(walker: _Walker, graph: Any, cat: Catalogue, shapes: Shapes) -> list[LayerRecord]:
    recs = walker.recs
    children: dict[str, list[str]] = {}
    for name in recs:
        if name:
            children.setdefault(name.rpartition(".")[0], []).append(name)

    def ancestors(name: str) -> list[str]:
        parts = name.split(".") if name else []
        return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]

    def subtree(name: str) -> list[str]:
        out, stack = [], [name]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(children.get(n, []))
        return out

    order = sorted(recs, key=lambda n: [walker.order[a] for a in ancestors(n)])
    consumers: dict[str, set[int]] = {}
    for node in graph.node:
        for i in node.input:
            consumers.setdefault(i, set()).add(id(node))
    graph_outputs = {o.name for o in graph.output}
    skip = set(cat.tensors) | set(cat.alias) | set(shapes.values)
    out = []
    for name in order:
        r = recs[name]
        names = subtree(name)
        stored: set[str] = set().union(*(recs[n].stored for n in names))
        if name == "":
            stored |= cat.unused
        params = sum(cat.tensors[s].numel for s in stored if s in cat.params)
        buffers = sum(cat.tensors[s].numel for s in stored if s in cat.buffers)
        nodes = [n for sub in names for n in recs[sub].nodes]
        if name == "":
            ins = [i.name for i in graph.input if i.name not in cat.tensors]
            outs = [o.name for o in graph.output]
        else:
            ins, outs = _boundary(nodes, graph_outputs, consumers, skip)
        rec = LayerRecord(
            name=name,
            type=r.cls or _type(r, bool(children.get(name))),
            params=params,
            trainable_params=params,
            buffers=buffers,
            calls=r.calls if (r.calls or r.control) else int(bool(nodes)),
            input_shapes=[s for s in (shapes.shape(i) for i in ins) if s is not None],
            output_shapes=[s for s in (shapes.shape(o) for o in outs) if s is not None],
            own=r.own,
            attrs=_attrs(r, children.get(name), shapes, cat, params),
        )
        out.append(rec)
    return out


def _type(r: _Rec, has_children: bool) -> str:
    if has_children or not r.ops:
        return "Scope"
    kinds = [op for op in dict.fromkeys(r.ops) if op not in ("Constant", "Identity")] or r.ops[:1]
    return "+".join(kinds[:3]) + ("+..." if len(kinds) > 3 else "")


def _attrs(r: _Rec, kids: list[str] | None, shapes: Shapes, cat: Catalogue, params: int) -> dict[str, Any]:
    """PyTorch-named hyper-parameters of a leaf scope holding one Conv or Gemm and nothing else with weights."""
    if kids or r.calls != 1:
        return {}
    weighted = [n for n in r.nodes if any(cat.role(i) == "param" for i in n.input if i)]
    if len(weighted) != 1 or weighted[0].op_type not in ("Conv", "ConvTranspose", "Gemm"):
        return {}
    node = weighted[0]
    ins = [shapes.shape(i) if i else None for i in node.input]
    if any(s is None for s in ins[:2]):
        return {}
    attrs = node_attrs(node)
    bias = len(node.input) > 2 and bool(node.input[2])
    try:
        if node.op_type == "Gemm":
            got = linear_attrs(attrs, ins[1], bias)  # type: ignore[arg-type]  # not None: checked above
        else:
            got = conv_attrs(attrs, ins[0], ins[1], bias, node.op_type == "ConvTranspose")  # type: ignore[arg-type]
    except (ValueError, TypeError, IndexError):  # malformed attributes: no hand calculation, the counts stand
        return {}
    return got or {}
