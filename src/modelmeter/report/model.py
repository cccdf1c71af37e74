"""The report: plain data (frozen dataclasses) and queries over it.

Frontends collect :class:`LayerRecord`s, :func:`build_report` aggregates them, renderers only format.
``Report.to_dict()`` *is* the JSON schema (``modelmeter/1``, documented in docs/json-schema.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..errors import ModelMeterError
from ..formulas import Cost
from ..formulas.registry import flops_of, intensity
from ..memory.llm import LLMSizing
from ..memory.report import Memory
from ..roofline.types import Roofline

SCHEMA = "modelmeter/1"

# Report's rendering conveniences (to_csv, to_markdown, to_html, render, explain, ...) call the formatters the
# render layer registers here when it is imported (``modelmeter/__init__.py`` imports it), so this data layer
# never imports a renderer.
FORMATTERS: dict[str, Callable[..., Any]] = {}


def _formatter(name: str) -> Callable[..., Any]:
    try:
        return FORMATTERS[name]
    except KeyError:
        raise ModelMeterError(f"no {name!r} formatter registered; import modelmeter.render") from None


ShapeT = tuple[int, ...]


@dataclass(frozen=True)
class InputInfo:
    shape: ShapeT
    dtype: str


@dataclass
class LayerRecord:
    """One layer (module) as a frontend collected it.

    ``params`` / ``trainable_params`` / ``buffers`` are element counts of the *unique* tensors in the
    layer's subtree (the frontend knows tensor identity, so it dedups). ``own`` holds the cost of ops run
    directly in this layer, not inside a child; :func:`build_report` sums subtrees.
    """

    name: str
    type: str
    params: int = 0
    trainable_params: int = 0
    buffers: int = 0
    calls: int = 0
    input_shapes: list[ShapeT] = field(default_factory=list)
    output_shapes: list[ShapeT] = field(default_factory=list)
    own: Cost = field(default_factory=Cost)
    attrs: dict[str, Any] = field(default_factory=dict)  # the layer's hyper-parameters (see LayerStats.attrs)


@dataclass(frozen=True)
class LayerStats:
    """One row of the report. ``params``, ``macs`` and ``flops`` include the layer's children."""

    name: str
    type: str
    depth: int
    input_shapes: tuple[ShapeT, ...]
    output_shapes: tuple[ShapeT, ...]
    params: int
    trainable_params: int
    buffers: int
    calls: int
    macs: int
    flops: int
    # Hyper-parameters of a classic layer under PyTorch's argument names (Conv2d: in_channels, kernel_size,
    # stride, ...), empty for other layers; what ``explain`` fills its formulas with.
    attrs: dict[str, Any] = field(default_factory=dict)
    # Checkpoint reports only (rows are name prefixes of a state dict): tensors under the prefix and their bytes.
    tensors: int | None = None
    bytes: int | None = None
    # Memory traffic of the layer's ops, children included (docs/conventions.md, "Memory traffic").
    read_bytes: int = 0
    write_bytes: int = 0

    @property
    def intensity(self) -> float | None:
        """FLOPs per byte read or written; None where the layer moved nothing."""
        return intensity(self.flops, self.read_bytes, self.write_bytes)

    # the module never ran on these inputs (Report.not_run): its params are counted, its MACs are not
    not_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "depth": self.depth,
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shapes": [list(s) for s in self.output_shapes],
            "params": self.params,
            "trainable_params": self.trainable_params,
            "buffers": self.buffers,
            "calls": self.calls,
            "macs": self.macs,
            "flops": self.flops,
            "read_bytes": self.read_bytes,
            "write_bytes": self.write_bytes,
            "intensity": self.intensity,
            "attrs": {k: list(v) if isinstance(v, tuple) else v for k, v in self.attrs.items()},
        }
        if self.tensors is not None:
            out["tensors"] = self.tensors
        if self.bytes is not None:
            out["bytes"] = self.bytes
        if self.not_run:
            out["not_run"] = True
        return out


@dataclass(frozen=True)
class OpStats:
    """Totals of one op type over the whole run (``report.by_op()``)."""

    op: str
    calls: int
    macs: int
    flops: int
    read_bytes: int = 0
    write_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "calls": self.calls,
            "macs": self.macs,
            "flops": self.flops,
            "read_bytes": self.read_bytes,
            "write_bytes": self.write_bytes,
        }


@dataclass(frozen=True)
class OwnStats:
    """What a layer holds and runs *itself*, outside its children (``report.own()``).

    ``macs``/``flops`` are exactly the ops run directly in the layer, so they add up over all layers to
    the totals. ``params`` is the layer's params minus its children's, floored at 0: exact without weight
    sharing; a tensor shared by two subtrees shows under both (treemaps, per-type bars).
    """

    name: str
    type: str
    params: int
    macs: int
    flops: int


@dataclass(frozen=True)
class TypeStats:
    """Totals per layer type (``report.by_type()``), from :class:`OwnStats`; ``count`` is modules of the type."""

    type: str
    count: int
    params: int
    macs: int
    flops: int


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    param_bytes: int
    buffer_bytes: int
    macs: int
    flops: int
    param_bytes_by_dtype: tuple[tuple[str, int], ...] = ()
    read_bytes: int = 0
    write_bytes: int = 0

    @property
    def intensity(self) -> float | None:
        return intensity(self.flops, self.read_bytes, self.write_bytes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "buffers": self.buffers,
            "param_bytes": self.param_bytes,
            "buffer_bytes": self.buffer_bytes,
            "param_bytes_by_dtype": dict(self.param_bytes_by_dtype),
            "macs": self.macs,
            "flops": self.flops,
            "read_bytes": self.read_bytes,
            "write_bytes": self.write_bytes,
            "intensity": self.intensity,
        }


@dataclass(frozen=True)
class Report:
    """What a model costs. Print it for the table; ``to_dict()`` for the JSON document."""

    model: str
    inputs: tuple[InputInfo, ...]
    totals: Totals
    layers: tuple[LayerStats, ...]
    ops: tuple[OpStats, ...]
    uncounted_ops: tuple[tuple[str, int], ...]
    device: str
    attention: str = "full"
    # partial: the forward failed and this is what ran before it did (``summary(..., partial=True)``);
    # error: that failure's message. notes: what the reader must know to read the numbers right.
    partial: bool = False
    error: str | None = None
    notes: tuple[str, ...] = ()
    # figures the model's source publishes (torchvision weights: num_params, _ops in GMACs, acc@1, ...)
    published: tuple[tuple[str, Any], ...] = ()
    memory: Memory | None = None  # filled when memory was asked for (summary(memory=True / train=True))
    llm: LLMSizing | None = None  # filled for language models sized from a config (frontends/torch/measure/llm.py)
    roofline: Roofline | None = None  # filled with --hardware (roofline/estimate.py) and --measure
    # the topmost modules holding parameters that did not run on the inputs given (LLaVA's vision tower fed
    # token ids only): the totals' MACs do not cover them, so the report must not read as whole
    not_run: tuple[str, ...] = ()

    # -- queries -------------------------------------------------------------------------------------
    def layer(self, name: str) -> LayerStats:
        """The row of the layer called ``name`` (dotted module path; ``""`` is the whole model)."""
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r}; layers are: {', '.join(r.name for r in self.layers[:10])} ...")

    def by_op(self) -> tuple[OpStats, ...]:
        """MACs and FLOPs per op type, largest FLOPs first."""
        return self.ops

    def own(self) -> tuple[OwnStats, ...]:
        """Per layer, in row order, what it holds and runs outside its children (see :class:`OwnStats`)."""
        children: dict[str, list[LayerStats]] = {}
        for row in self.layers:
            if row.name != "":
                children.setdefault(row.name.rpartition(".")[0], []).append(row)
        out = []
        for row in self.layers:
            kids = children.get(row.name, [])
            out.append(
                OwnStats(
                    name=row.name,
                    type=row.type,
                    params=max(0, row.params - sum(k.params for k in kids)),
                    macs=row.macs - sum(k.macs for k in kids),
                    flops=row.flops - sum(k.flops for k in kids),
                )
            )
        return tuple(out)

    def by_type(self) -> tuple[TypeStats, ...]:
        """Params, MACs and FLOPs per layer type (summed over :meth:`own`), largest MACs first."""
        acc: dict[str, list[int]] = {}
        for o in self.own():
            a = acc.setdefault(o.type, [0, 0, 0, 0])
            a[0] += 1
            a[1] += o.params
            a[2] += o.macs
            a[3] += o.flops
        stats = [TypeStats(t, c, p, m, f) for t, (c, p, m, f) in acc.items()]
        return tuple(sorted(stats, key=lambda s: (-s.macs, -s.params, s.type)))

    @property
    def uncounted(self) -> dict[str, int]:
        """Ops that ran without a formula and are not declared zero-cost, with their call counts."""
        return dict(self.uncounted_ops)

    # -- serialisation -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``modelmeter/1``): plain types, integers for every count."""
        return {
            "schema": SCHEMA,
            "model": self.model,
            "inputs": [{"shape": list(i.shape), "dtype": i.dtype} for i in self.inputs],
            "device": self.device,
            "attention": self.attention,
            "totals": self.totals.to_dict(),
            "layers": [row.to_dict() for row in self.layers],
            "ops": [op.to_dict() for op in self.ops],
            "uncounted_ops": dict(self.uncounted_ops),
            "partial": self.partial,
            "error": self.error,
            "notes": list(self.notes),
            "published": dict(self.published),
            "not_run": list(self.not_run),
            **({"memory": self.memory.to_dict()} if self.memory is not None else {}),
            **({"llm": self.llm.to_dict()} if self.llm is not None else {}),
            **({"roofline": self.roofline.to_dict()} if self.roofline is not None else {}),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Report:
        """The inverse of :meth:`to_dict` (e.g. a saved ``--format json`` document); unknown keys are ignored."""
        if doc.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document (schema: {doc.get('schema')!r})")
        t = dict(doc["totals"])
        t["param_bytes_by_dtype"] = tuple(t.get("param_bytes_by_dtype", {}).items())
        layer_fields = {f.name for f in fields(LayerStats)}
        op_fields = {f.name for f in fields(OpStats)}
        layers = []
        for row in doc["layers"]:
            kw = {k: v for k, v in row.items() if k in layer_fields}
            kw["input_shapes"] = tuple(tuple(s) for s in row["input_shapes"])
            kw["output_shapes"] = tuple(tuple(s) for s in row["output_shapes"])
            layers.append(LayerStats(**kw))
        return cls(
            model=doc["model"],
            inputs=tuple(InputInfo(tuple(i["shape"]), i["dtype"]) for i in doc["inputs"]),
            totals=Totals(**{k: v for k, v in t.items() if k in {f.name for f in fields(Totals)}}),
            layers=tuple(layers),
            ops=tuple(OpStats(**{k: v for k, v in o.items() if k in op_fields}) for o in doc.get("ops", [])),
            uncounted_ops=tuple(doc.get("uncounted_ops", {}).items()),
            device=doc["device"],
            attention=doc.get("attention", "full"),
            partial=bool(doc.get("partial", False)),
            error=doc.get("error"),
            notes=tuple(doc.get("notes", [])),
            published=tuple(doc.get("published", {}).items()),
            not_run=tuple(doc.get("not_run", [])),
            memory=Memory.from_dict(doc["memory"]) if doc.get("memory") else None,
            roofline=Roofline.from_dict(doc["roofline"]) if doc.get("roofline") else None,
        )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self) -> str:
        """One CSV row per layer, every field of the JSON layer rows, exact integers (shapes as JSON lists)."""
        return str(_formatter("csv")(self))

    def to_markdown(self, depth: int | None = None) -> str:
        """Totals and the layer table as GitHub-flavoured Markdown, numbers in K/M/G and KiB/MiB."""
        return str(_formatter("markdown")(self, depth=depth))

    def to_html(self) -> str:
        """One self-contained HTML page (no network): totals, charts, the sortable layer tree, ops, conventions."""
        return str(_formatter("html")(self))

    def to_dataframe(self) -> Any:
        """The layer rows as a ``pandas.DataFrame`` (pandas is optional: ``pip install pandas``)."""
        return _formatter("dataframe")(self)

    def _repr_html_(self) -> str:
        """Jupyter: a compact inline view (totals and the top-level layers)."""
        return str(_formatter("compact_html")(self))

    def render(self, depth: int | None = None, width: int = 120, by: str = "layer") -> str:
        """The table as plain text: a row per layer (``depth`` limits how deep the tree goes) or, with
        ``by="op"``, a row per op type."""
        return str(_formatter("text")(self, depth=depth, width=width, by=by))

    def explain(self, ascii: bool = False) -> str:
        """The hand calculation of every classic layer: each formula in symbols, then with the numbers
        (``ascii=True`` writes * and -> instead of the Unicode symbols)."""
        return str(_formatter("explain")(self, ascii=ascii))

    def __str__(self) -> str:
        return self.render()


def _under(name: str, prefixes: set[str]) -> bool:
    """``name`` is one of ``prefixes`` or inside one ("a.b.c" is under "a.b"; only the root is under "")."""
    if not name:
        return "" in prefixes
    while name:
        if name in prefixes:
            return True
        name = name.rpartition(".")[0]
    return False


def build_report(
    model: str,
    inputs: Iterable[InputInfo],
    records: list[LayerRecord],
    op_costs: dict[str, tuple[int, Cost]],
    uncounted_ops: dict[str, int],
    totals: Totals,
    device: str,
    attention: str = "full",
    not_run: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> Report:
    """Aggregate collected records into a :class:`Report` (subtree sums; rows in module order).

    ``totals`` carries the parameter figures (deduplicated by the frontend); its ``macs``/``flops`` are
    filled here from the records so that rows and totals come from one sum.
    """
    not_run = tuple(not_run)
    # subtree sums, deepest records first: each passes its subtree on to its nearest recorded ancestor (one
    # addition per record, not one per ancestor)
    sums = {rec.name: [rec.own.macs, rec.own.other_flops, rec.own.read_bytes, rec.own.write_bytes] for rec in records}
    whole = [sum(v[i] for v in sums.values()) for i in range(4)]  # every record's own ops, once
    for name in sorted(sums, key=lambda n: -1 if n == "" else -n.count(".")):
        if name == "":
            continue
        parent = name.rpartition(".")[0]
        while parent not in sums and parent:
            parent = parent.rpartition(".")[0]
        if parent in sums:
            into, add = sums[parent], sums[name]
            into[0] += add[0]
            into[1] += add[1]
            into[2] += add[2]
            into[3] += add[3]
    skipped = set(not_run)
    rows = []
    for rec in records:
        macs, other, read, write = sums[rec.name]
        name = rec.name
        depth = 0 if name == "" else name.count(".") + 1
        rows.append(
            LayerStats(
                name=name,
                type=rec.type,
                depth=depth,
                input_shapes=tuple(rec.input_shapes),
                output_shapes=tuple(rec.output_shapes),
                params=rec.params,
                trainable_params=rec.trainable_params,
                buffers=rec.buffers,
                calls=rec.calls,
                macs=macs,
                flops=flops_of(macs, other),
                attrs=dict(rec.attrs),
                read_bytes=read,
                write_bytes=write,
                not_run=bool(skipped) and _under(name, skipped),
            )
        )
    total = Cost(*whole)
    ops = sorted(
        (
            OpStats(name, calls, cost.macs, cost.flops, cost.read_bytes, cost.write_bytes)
            for name, (calls, cost) in op_costs.items()
        ),
        key=lambda o: (-o.flops, o.op),
    )
    return Report(
        model=model,
        inputs=tuple(inputs),
        totals=replace(
            totals, macs=total.macs, flops=total.flops, read_bytes=total.read_bytes, write_bytes=total.write_bytes
        ),
        layers=tuple(rows),
        ops=tuple(ops),
        uncounted_ops=tuple(sorted(uncounted_ops.items())),
        device=device,
        attention=attention,
        not_run=tuple(not_run),
        notes=tuple(notes) + ((not_run_note(rows, not_run),) if not_run else ()),
    )


def not_run_note(rows: Iterable[LayerStats], not_run: Iterable[str]) -> str:
    """The sentence every format shows when part of the model did not run."""
    params = {r.name: r.params for r in rows}
    listed = ", ".join(f"{n} ({params.get(n, 0):,} params)" for n in not_run)
    return (
        f"not run: {listed} did not run on these inputs; their params are counted, their MACs and FLOPs are "
        "not in the totals (give the inputs that reach them, e.g. --input NAME=SHAPE)"
    )
