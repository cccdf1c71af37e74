"""HTML: one self-contained page per report (or comparison) that works offline, and Jupyter's compact view.

Everything the page needs is inline: CSS and JS from ``assets/`` (read at render time) and SVG charts
drawn by :mod:`.svg`. A Content-Security-Policy forbids every fetch, so even a stray URL cannot load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from importlib.resources import files
from typing import TYPE_CHECKING

from .. import _units as u
from .._version import __version__
from . import svg
from .markdown import totals_rows

if TYPE_CHECKING:
    from ..report.compare import CompareEntry
    from ..report.model import LayerStats, Report

# default-src 'none': no request of any kind (scripts, styles, images, fonts, fetch) leaves the page
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
TOP_N = 15


def _asset(name: str) -> str:
    # one path part per joinpath call: Python 3.10's Traversable takes one
    return files("modelmeter.render").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def _page(title: str, body: str, data: object) -> str:
    # "<" inside the data could end the <script> element early (or open a comment); JSON's \u003c cannot
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{_asset('report.css')}</style>\n</head>\n<body>\n{body}\n"
        f'<script type="application/json" id="modelmeter-data">{payload}</script>\n'
        f"<script>\n{_asset('report.js')}</script>\n</body>\n</html>\n"
    )


def _num(value: int, human: str) -> str:
    """A numeric cell: human-readable text, the exact integer as tooltip and sort key."""
    return f'<td class="num" data-v="{value}" title="{u.exact(value)}">{escape(human)}</td>'


def _shapes(shapes: Sequence[tuple[int, ...]]) -> str:
    return ", ".join(u.shape(s) for s in shapes) or "-"


def _warnings(report: Report) -> str:
    """A partial run and the report's notes come first: they change how every number below reads."""
    items = []
    if report.partial:
        items.append(f"<li><b>Partial</b>: the forward failed; the counts cover what ran before it. "
                     f"{escape(report.error or '')}</li>")  # fmt: skip
    items += [f"<li>{escape(n)}</li>" for n in report.notes]
    return f'<ul class="plain notes" id="notes">{"".join(items)}</ul>' if items else ""


def _cards(report: Report) -> str:
    t = report.totals
    cards = [
        ("Params", u.human_count(t.params), u.exact(t.params)),
        ("Trainable", u.human_count(t.trainable_params), u.exact(t.trainable_params)),
        ("Non-trainable", u.human_count(t.non_trainable_params), u.exact(t.non_trainable_params)),
        ("Buffers", u.human_count(t.buffers), u.human_bytes(t.buffer_bytes)),
        ("Param bytes", u.human_bytes(t.param_bytes), u.exact(t.param_bytes) + " B"),
        ("MACs", u.human_count(t.macs), u.exact(t.macs)),
        ("FLOPs", u.human_count(t.flops), u.exact(t.flops)),
    ]
    items = "".join(
        f'<div class="card" data-total="{escape(k)}"><div class="k">{escape(k)}</div>'
        f'<div class="v">{escape(v)}</div><div class="x">{escape(x)}</div></div>'
        for k, v, x in cards
    )
    return f'<div class="cards" id="totals">{items}</div>'


def _published(report: Report) -> str:
    if not report.published:
        return ""
    pub = dict(report.published)
    parts = []
    for key, value in pub.items():
        if key == "num_params":
            parts.append(f"params {u.exact(int(value))}")
        elif key == "_ops":
            parts.append(f"{value} GMACs (<code>_ops</code>)")
        elif key == "weights":
            continue
        else:
            parts.append(f"{escape(str(key))} {escape(str(value))}")
    weights = f" for weights {escape(str(pub['weights']))}" if "weights" in pub else ""
    return f'<p class="sub" id="published">Published{weights}: {", ".join(parts)}.</p>'


def _charts(report: Report) -> str:
    own = report.own()
    types = report.by_type()

    hc = u.human_count

    def by_type(metric: str) -> str:
        ranked = sorted((t for t in types if getattr(t, metric) > 0), key=lambda t: -getattr(t, metric))
        items = [
            (f"{t.type} ({t.count})", getattr(t, metric), f"{t.type}, {t.count} modules: {hc(getattr(t, metric))}",
             svg.type_color(t.type))
            for t in ranked[:TOP_N]
        ]  # fmt: skip
        return svg.bars(items, hc)

    def by_layer(metric: str) -> str:
        ranked = sorted((o for o in own if getattr(o, metric) > 0), key=lambda o: -getattr(o, metric))
        items = [
            (o.name or "(model)", getattr(o, metric), f"{o.name or '(model)'} ({o.type}): {hc(getattr(o, metric))}",
             svg.type_color(o.type))
            for o in ranked[:TOP_N]
        ]  # fmt: skip
        return svg.bars(items, hc)

    figures = [
        (
            "Parameters by layer (treemap of the hierarchy)",
            svg.treemap(report, "params", hc),
            "Area = parameters; boxes nest as modules do; colour = layer type; grey = held by the parent itself.",
        ),
        (
            "MACs by layer (treemap of the hierarchy)",
            svg.treemap(report, "macs", hc),
            "Area = multiply-accumulates, every call of a module included.",
        ),
        ("Parameters by layer type", by_type("params"), "Summed over modules of each type (own parameters)."),
        ("MACs by layer type", by_type("macs"), "Summed over modules of each type (ops run directly in them)."),
        (f"Top {TOP_N} layers by parameters", by_layer("params"), "Parameters a layer holds outside its children."),
        (f"Top {TOP_N} layers by MACs", by_layer("macs"), "MACs of ops run directly in the layer."),
    ]
    return (
        '<div class="grid2" id="charts">'
        + "".join(
            f"<figure><h3>{escape(t)}</h3>{chart}<figcaption>{escape(c)}</figcaption></figure>"
            for t, chart, c in figures
        )
        + "</div>"
    )


def _layer_row(row: LayerStats, has_children: bool, total_macs: int) -> str:
    attrs = f'class="layer-row" data-name="{escape(row.name)}" data-depth="{row.depth}"'
    if row.name != "":
        attrs += f' data-parent="{escape(row.name.rpartition(".")[0])}"'
    toggle = (
        '<button class="tog" aria-expanded="true" title="collapse / expand"></button>'
        if has_children
        else ('<span style="display:inline-block;width:16px"></span>')
    )
    label = row.name.rpartition(".")[2] or "(model)"
    calls = f" x{row.calls}" if row.calls > 1 else ""
    return (
        f"<tr {attrs}>"
        f'<td class="name" style="padding-left:{6 + 14 * row.depth}px" data-v="{escape(row.name)}" '
        f'title="{escape(row.name or "(model)")}">{toggle}{escape(label)}</td>'
        f'<td data-v="{escape(row.type)}"><span class="swatch" style="background:{svg.type_color(row.type)}"></span>'
        f"{escape(row.type)}{calls}</td>"
        f'<td class="shape">{escape(_shapes(row.input_shapes))}</td>'
        f'<td class="shape">{"did not run" if row.not_run else escape(_shapes(row.output_shapes))}</td>'
        + _num(row.params, u.human_count(row.params))
        + _num(row.trainable_params, u.human_count(row.trainable_params))
        + _num(row.buffers, u.human_count(row.buffers))
        + _num(row.calls, str(row.calls))
        + _num(row.macs, u.human_count(row.macs))
        + f'<td class="num" data-v="{row.macs}">{u.percent(row.macs, total_macs)}</td>'
        + _num(row.flops, u.human_count(row.flops))
        + "</tr>"
    )


def _layers(report: Report) -> str:
    parents = {row.name.rpartition(".")[0] for row in report.layers if row.name != ""}
    heads = [
        ("Layer", ""),
        ("Type", ""),
        ("Input shapes", ""),
        ("Output shapes", ""),
        ("Params", "num"),
        ("Trainable", "num"),
        ("Buffers", "num"),
        ("Calls", "num"),
        ("MACs", "num"),
        ("% MACs", "num"),
        ("FLOPs", "num"),
    ]
    th = "".join(f'<th class="sortable {c}">{escape(h)}</th>' for h, c in heads)
    body = "".join(_layer_row(r, r.name in parents, report.totals.macs) for r in report.layers)
    open_depth = ' data-open-depth="2"' if len(report.layers) > 60 else ""
    controls = (
        '<div class="controls">Open: <button data-open="1">top level</button> '
        '<button data-open="3">3 levels</button> <button data-open="999">all</button> '
        "&nbsp;Click a column to sort (children stay under their parent).</div>"
    )
    return (
        f'<div>{controls}<div class="wrap"><table class="data tree" id="layers"{open_depth}>'
        f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div></div>"
    )


def _ops(report: Report) -> str:
    rows = "".join(
        f'<tr><td class="mono" data-v="{escape(o.op)}">{escape(o.op)}</td>'
        + _num(o.calls, str(o.calls))
        + _num(o.macs, u.human_count(o.macs))
        + _num(o.flops, u.human_count(o.flops))
        + "</tr>"
        for o in report.ops
    )
    ops = (
        '<table class="data" id="ops"><thead><tr><th class="sortable">Op</th><th class="sortable num">Calls</th>'
        '<th class="sortable num">MACs</th><th class="sortable num">FLOPs</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    if report.uncounted_ops:
        items = "".join(f"<li><code>{escape(op)}</code> x{n}</li>" for op, n in report.uncounted_ops)
        unc = (
            f'<ul class="plain" id="uncounted">{items}</ul><p class="sub">These ran without a formula: their '
            "arithmetic is <b>not</b> in the totals.</p>"
        )
    else:
        unc = '<p class="sub" id="uncounted">None: every op that ran has a formula or is declared zero-cost.</p>'
    return f'<div class="grid2"><div><h3>Counted ops</h3>{ops}</div><div><h3>Uncounted ops</h3>{unc}</div></div>'


CONVENTIONS = """<ul class="plain" id="conventions">
<li><b>MAC</b>: one multiply-accumulate of a multiply-add kernel (convolution, linear / matrix product, attention's
Q&middot;K<sup>T</sup> and P&middot;V). Papers and torchvision's <code>_ops</code> call these "FLOPs".</li>
<li><b>FLOPs</b> = 2 &times; MACs + other arithmetic (bias adds, and more ops as coverage grows).
Bias adds are not MACs.</li>
<li>A module called twice does its arithmetic twice; its parameters exist once. Tied and shared tensors are counted
once in the totals; in the treemap and per-type bars a tensor shared by two subtrees shows under both.</li>
<li><b>Params</b> of a layer include its children; buffers (e.g. BatchNorm running statistics) are not parameters.</li>
<li>Counts are per forward pass of the input shown (batch included), the same on every device.</li>
<li>Units: K/M/G/T = 10<sup>3</sup>/10<sup>6</sup>/10<sup>9</sup>/10<sup>12</sup>;
KiB/MiB/GiB = 2<sup>10</sup>/2<sup>20</sup>/2<sup>30</sup> bytes.
Hover a number for its exact value. Details: <code>docs/conventions.md</code> in modelmeter.</li>
</ul>"""


def _header(title: str, sub: str) -> str:
    return f'<header><h1>{escape(title)}</h1><p class="sub">{sub}</p></header>'


def render_html(report: Report) -> str:
    inputs = ", ".join(f"{u.shape(i.shape)} {escape(i.dtype)}" for i in report.inputs)
    sub = f"Input {inputs}; ran on <b>{escape(report.device)}</b>; modelmeter {__version__}, schema modelmeter/1."
    body = (
        _header(report.model, sub)
        + _warnings(report)
        + _published(report)
        + "<h2>Totals</h2>"
        + _cards(report)
        + "<h2>Where the weights and the compute are</h2>"
        + _charts(report)
        + f"<h2>Layers ({len(report.layers)})</h2>"
        + _layers(report)
        + "<h2>Ops</h2>"
        + _ops(report)
        + _roofline(report)
        + "<h2>Conventions</h2>"
        + CONVENTIONS
    )
    return _page(f"modelmeter: {report.model}", body, report.to_dict())


def _roofline(report: Report) -> str:
    if report.roofline is None:
        return ""
    from .roofline_svg import roofline_section

    return "<h2>Roofline</h2>" + roofline_section(report.roofline)


# -- Jupyter ---------------------------------------------------------------------------------------
_COMPACT_CSS = "font-family:system-ui,sans-serif;font-size:13px;border-collapse:collapse;margin:2px 0"


def render_compact(report: Report) -> str:
    """Inline, no scripts: the totals and the top-level layers (Jupyter's ``_repr_html_``)."""
    td = 'style="padding:1px 8px;text-align:{};border-bottom:1px solid #e3e6ec"'
    totals = "".join(
        f"<tr><td {td.format('left')}>{escape(k)}</td><td {td.format('right')}>{escape(v)}</td></tr>"
        for k, v in totals_rows(report)
    )
    top = [r for r in report.layers if r.depth == 1] or list(report.layers)
    rows = "".join(
        f"<tr><td {td.format('left')}>{escape(r.name or '(model)')}</td><td {td.format('left')}>{escape(r.type)}</td>"
        f"<td {td.format('left')}><code>{escape(_shapes(r.output_shapes))}</code></td>"
        f'<td {td.format("right")} title="{u.exact(r.params)}">{u.human_count(r.params)}</td>'
        f'<td {td.format("right")} title="{u.exact(r.macs)}">{u.human_count(r.macs)}</td>'
        f"<td {td.format('right')}>{u.percent(r.macs, report.totals.macs)}</td></tr>"
        for r in top
    )
    head = "".join(
        f"<th {td.format(a)}>{h}</th>"
        for h, a in [
            ("Layer", "left"),
            ("Type", "left"),
            ("Output shape", "left"),
            ("Params", "right"),
            ("MACs", "right"),
            ("% MACs", "right"),
        ]
    )
    unc = ""
    if report.uncounted_ops:
        unc = (
            '<div style="font-size:12px;color:#667085">Uncounted ops (not in the totals): '
            + escape(", ".join(f"{op} x{n}" for op, n in report.uncounted_ops))
            + "</div>"
        )
    return (
        f'<div class="modelmeter-report"><b>{escape(report.model)}</b>'
        f'<table style="{_COMPACT_CSS}">{totals}</table>'
        f'<table style="{_COMPACT_CSS}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{unc}</div>'
    )


# -- comparison ------------------------------------------------------------------------------------
def render_comparison_html(entries: Sequence[CompareEntry]) -> str:
    from .comparison import columns

    cols = columns(entries)
    th = (
        '<th class="sortable num">#</th><th class="sortable">Model</th>'
        + "".join(f'<th class="sortable num">{escape(c.header)}</th>' for c in cols)
        + '<th class="sortable">Input</th>'
    )
    rows = []
    for i, e in enumerate(entries, 1):
        if e.report is None:
            rows.append(
                f'<tr class="error model-row"><td class="num" data-v="{i}">{i}</td>'
                f'<td data-v="{escape(e.ref)}">{escape(e.ref)}</td>'
                f'<td colspan="{len(cols) + 1}">error: {escape(e.error or "")}</td></tr>'
            )
            continue
        cells = []
        for c in cols:
            v = e.figure(c.key)
            if v is None:
                cells.append('<td class="num" data-v="-1">-</td>')
            else:
                cells.append(f'<td class="num" data-v="{v}" title="{escape(str(v))}">{escape(c.human(v))}</td>')
        inputs = ", ".join(u.shape(i.shape) for i in e.report.inputs)
        rows.append(
            f'<tr class="model-row"><td class="num" data-v="{i}">{i}</td><td data-v="{escape(e.name)}">'
            f'{escape(e.name)}</td>{"".join(cells)}<td class="shape">{escape(inputs)}</td></tr>'
        )
    table = (
        f'<div class="wrap"><table class="data" id="models"><thead><tr>{th}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )

    ok = [e for e in entries if e.report is not None]

    def tick(v: float) -> str:
        return u.human_count(v, digits=0)

    def short(e: CompareEntry) -> str:
        return e.name.removeprefix("torchvision:")

    def fig(e: CompareEntry, key: str) -> float:
        return float(e.figure(key) or 0)

    # label priority where points crowd: the most accurate first, else the cheapest
    ranked = sorted(ok, key=lambda e: (-fig(e, "acc@1"), fig(e, "macs")))
    points = [(short(e), fig(e, "params"), fig(e, "macs")) for e in ranked]
    charts = [
        (
            "MACs against parameters",
            svg.scatter(points, "params", "MACs", u.human_count, u.human_count, x_tick=tick, y_tick=tick),
        )
    ]
    with_acc = [e for e in ranked if e.figure("acc@1") is not None]
    if with_acc:
        points = [(short(e), fig(e, "macs"), fig(e, "acc@1")) for e in with_acc]
        acc = svg.scatter(points, "MACs", "acc@1 (%)", u.human_count, lambda v: f"{v:g}", y_log=False, x_tick=tick)
        charts.append(("Accuracy against MACs", acc))
    figs = (
        '<div class="grid2" id="charts">'
        + "".join(f"<figure><h3>{escape(t)}</h3>{c}</figure>" for t, c in charts)
        + "</div>"
    )
    failed = len(entries) - len(ok)
    sub = (
        f"{len(entries)} models"
        + (f", {failed} failed (see their rows)" if failed else "")
        + (f"; modelmeter {__version__}. Log scales; hover a point for its figures.")
    )
    body = (
        _header("modelmeter compare", escape(sub))
        + "<h2>Models</h2>"
        + table
        + "<h2>Charts</h2>"
        + figs
        + ("<h2>Conventions</h2>" + CONVENTIONS)
    )
    return _page("modelmeter compare", body, [e.to_dict() for e in entries])
