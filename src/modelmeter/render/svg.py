"""Inline SVG charts (treemap, bars, scatter) for the HTML reports: geometry only, no cost arithmetic.

Charts are drawn here in Python rather than in the browser so the page shows them with JavaScript off,
prints as drawn, and can be tested without a browser. Every shape carries a ``<title>`` (native tooltip).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..report.model import Report

# Okabe-Ito-like palette, readable for colour-blind readers and in greyscale print
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#86bc86",
    "#d37295",
    "#a0cbe8",
)


def type_color(layer_type: str) -> str:
    """The same layer type gets the same colour in every chart (a stable hash, not Python's salted one)."""
    return PALETTE[zlib.crc32(layer_type.encode()) % len(PALETTE)]


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "start") -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'


def _fit(text: str, width: float, char_px: float = 6.2) -> str:
    """Cut a label to the characters that fit in ``width`` pixels (approximate glyph width)."""
    room = int(width // char_px)
    if room <= 1:
        return ""
    return text if len(text) <= room else text[: room - 1] + "…"


# -- treemap --------------------------------------------------------------------------------------
def squarify(
    values: Sequence[float], x: float, y: float, w: float, h: float
) -> list[tuple[float, float, float, float]]:
    """Squarified treemap (Bruls, Huizing, van Wijk 2000): rectangles for positive ``values`` (sorted
    largest first), filling (x, y, w, h), each with area proportional to its value."""
    rects: list[tuple[float, float, float, float]] = []
    items = list(values)
    while items:
        total = sum(items)
        if total <= 0 or w <= 0 or h <= 0:
            rects.extend((x, y, 0.0, 0.0) for _ in items)
            break
        scale = w * h / total
        short = min(w, h)

        def worst(row: list[float], short: float = short, scale: float = scale) -> float:
            s = sum(row) * scale
            return max(max(short * short * r * scale / (s * s), s * s / (short * short * r * scale)) for r in row)

        row = [items[0]]
        while len(row) < len(items) and worst(row + [items[len(row)]]) <= worst(row):
            row.append(items[len(row)])
        s = sum(row) * scale
        if w >= h:  # a column along the left edge
            cw, yy = s / h, y
            for r in row:
                rects.append((x, yy, cw, r * scale / cw))
                yy += r * scale / cw
            x, w = x + cw, w - cw
        else:  # a row along the top edge
            rh, xx = s / w, x
            for r in row:
                rects.append((xx, y, r * scale / rh, rh))
                xx += r * scale / rh
            y, h = y + rh, h - rh
        items = items[len(row) :]
    return rects


@dataclass
class _Node:
    name: str
    type: str
    own: int
    children: list[_Node] = field(default_factory=list)
    value: int = 0


def _tree(report: Report, metric: str) -> _Node | None:
    nodes: dict[str, _Node] = {}
    for o in report.own():
        nodes[o.name] = _Node(o.name, o.type, getattr(o, metric))
    for name, node in nodes.items():
        if name != "":
            parent = nodes.get(name.rpartition(".")[0])
            if parent is not None:
                parent.children.append(node)

    def total(n: _Node) -> int:  # a box's area is what it and everything inside it hold
        n.value = n.own + sum(total(c) for c in n.children)
        return n.value

    root = nodes.get("")
    if root is not None:
        total(root)
    return root


def treemap(report: Report, metric: str, fmt: Callable[[float], str], width: int = 560, height: int = 340) -> str:
    """Nested treemap of the module hierarchy, area = ``metric`` ("params" or "macs") of each subtree.
    A layer's own share (ops or weights outside its children) is its hatched remainder."""
    root = _tree(report, metric)
    label = "parameters" if metric == "params" else "MACs"
    parts = [
        f'<svg class="chart treemap" data-metric="{metric}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="treemap of {label} by layer">'
    ]
    if root is None or root.value <= 0:
        parts.append(_text(width / 2, height / 2, f"no {label}", "muted", "middle"))
        return "".join(parts) + "</svg>"
    whole = root.value

    def draw(node: _Node, x: float, y: float, w: float, h: float, depth: int) -> None:
        if w < 1 or h < 1:
            return
        share = f"{100 * node.value / whole:.1f}%"  # display only: the node's share of the picture
        title = f"{node.name or '(model)'} ({node.type}): {fmt(node.value)} {label} ({share})"
        inner = [c for c in node.children if c.value > 0]
        leaf = not inner or w < 30 or h < 30 or depth >= 6
        fill = type_color(node.type) if leaf else "#fff"
        parts.append(
            f'<g><title>{escape(title)}</title><rect class="tm" data-name="{escape(node.name)}" '
            f'x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"/>'
        )
        name = node.name.rpartition(".")[2] or node.type
        head = 13 if (not leaf and h > 44) else 0
        if (leaf and w > 36 and h > 14) or head:
            parts.append(_text(x + 3, y + 10.5, _fit(name, w - 6), "tm-label"))
        parts.append("</g>")
        if leaf:
            return
        pad = 2.0
        boxes = sorted(inner, key=lambda c: -c.value)
        values = [float(c.value) for c in boxes] + ([float(node.own)] if node.own > 0 else [])
        rects = squarify(values, x + pad, y + pad + head, w - 2 * pad, h - 2 * pad - head)
        for child, r in zip(boxes, rects, strict=False):
            draw(child, *r, depth + 1)
        if node.own > 0:
            ox, oy, ow, oh = rects[-1]
            if ow >= 1 and oh >= 1:
                own_title = f"{node.name or '(model)'} itself: {fmt(node.own)} {label}"
                parts.append(
                    f'<g><title>{escape(own_title)}</title><rect class="tm tm-own" x="{_n(ox)}" '
                    f'y="{_n(oy)}" width="{_n(ow)}" height="{_n(oh)}"/></g>'
                )

    draw(root, 0, 0, width, height, 0)
    return "".join(parts) + "</svg>"


# -- bars -----------------------------------------------------------------------------------------
def bars(items: Sequence[tuple[str, float, str, str]], fmt: Callable[[float], str], width: int = 560) -> str:
    """Horizontal bars: (label, value, tooltip, colour) each; longest bar = largest value."""
    row, label_w, value_w = 18, 170, 70
    height = max(row * len(items) + 4, 24)
    top = max((v for _, v, _, _ in items), default=0)
    parts = [f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img">']
    if not items or top <= 0:
        parts.append(_text(width / 2, 16, "nothing to show", "muted", "middle"))
    for i, (label, value, tip, color) in enumerate(items):
        y = 2 + i * row
        bar_w = (width - label_w - value_w) * value / top if top > 0 else 0
        parts.append(f"<g><title>{escape(tip)}</title>")
        parts.append(_text(label_w - 6, y + 12.5, _fit(label, label_w - 8), "bar-label", "end"))
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{_n(y + 2)}" width="{_n(max(bar_w, 0.5))}" '
            f'height="{row - 5}" fill="{color}"/>'
        )
        parts.append(_text(label_w + bar_w + 4, y + 12.5, fmt(value), "bar-value"))
        parts.append("</g>")
    return "".join(parts) + "</svg>"


# -- scatter --------------------------------------------------------------------------------------
def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        return [10.0**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    span = hi - lo or 1.0
    step = 10 ** math.floor(math.log10(span / 2))
    for mult in (1, 2, 5, 10):
        if span / (step * mult) <= 6:
            step *= mult
            break
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 2)]


def scatter(
    points: Sequence[tuple[str, float, float]],
    x_label: str,
    y_label: str,
    x_fmt: Callable[[float], str],
    y_fmt: Callable[[float], str],
    x_log: bool = True,
    y_log: bool = True,
    width: int = 560,
    height: int = 380,
    x_tick: Callable[[float], str] | None = None,
    y_tick: Callable[[float], str] | None = None,
) -> str:
    """Labelled points (name, x, y); log axes by default (model sizes span decades). Points come first to
    last in priority: a label is drawn only where it overlaps none drawn before it."""
    tick_x, tick_y = x_tick or x_fmt, y_tick or y_fmt
    left, right, top, bottom = 62, 16, 12, 40
    pts = [(n, x, y) for n, x, y in points if (x > 0 or not x_log) and (y > 0 or not y_log)]
    parts = [
        f'<svg class="chart scatter" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(y_label)} against {escape(x_label)}">'
    ]
    if not pts:
        parts.append(_text(width / 2, height / 2, "nothing to plot", "muted", "middle"))
        return "".join(parts) + "</svg>"

    def axis(values: list[float], log: bool) -> tuple[list[float], Callable[[float], float]]:
        lo, hi = min(values), max(values)
        ticks = _ticks(lo, hi, log)
        a, b = (math.log10(ticks[0]), math.log10(ticks[-1])) if log else (ticks[0], ticks[-1])
        b = b if b > a else a + 1

        def pos(v: float) -> float:
            return ((math.log10(v) if log else v) - a) / (b - a)

        return ticks, pos

    x_ticks, px = axis([x for _, x, _ in pts], x_log)
    y_ticks, py = axis([y for _, _, y in pts], y_log)
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + px(v) * plot_w

    def sy(v: float) -> float:
        return top + (1 - py(v)) * plot_h

    for t in x_ticks:
        parts.append(f'<line class="grid" x1="{_n(sx(t))}" x2="{_n(sx(t))}" y1="{top}" y2="{top + plot_h}"/>')
        parts.append(_text(sx(t), top + plot_h + 14, tick_x(t), "tick", "middle"))
    for t in y_ticks:
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{_n(sy(t))}" y2="{_n(sy(t))}"/>')
        parts.append(_text(left - 4, sy(t) + 3.5, tick_y(t), "tick", "end"))
    parts.append(_text(left + plot_w / 2, height - 6, x_label, "axis-label", "middle"))
    parts.append(
        f'<text class="axis-label" transform="translate(12 {_n(top + plot_h / 2)}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    placed: list[tuple[float, float, float, float]] = []  # label boxes already drawn

    def free(box: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = box
        return x0 >= left and x1 <= width and all(x1 < a or x0 > c or y1 < b or y0 > d for a, b, c, d in placed)

    for name, x, y in pts:
        cx, cy = sx(x), sy(y)
        tip = f"{name}: {x_label} {x_fmt(x)}, {y_label} {y_fmt(y)}"
        parts.append(f'<g><title>{escape(tip)}</title><circle class="pt" cx="{_n(cx)}" cy="{_n(cy)}" r="4"/>')
        # a label only where it overlaps no other (crowded points keep their tooltip): right, then left
        text_w = 6.4 * len(name)  # ~ glyph width at 10.5 px
        for x0, anchor in ((cx + 6, "start"), (cx - 6 - text_w, "end")):
            box = (x0, cy - 13, x0 + text_w, cy - 2)
            if free(box):
                placed.append(box)
                parts.append(_text(cx + 6 if anchor == "start" else cx - 6, cy - 4, name, "pt-label", anchor))
                break
        parts.append("</g>")
    return "".join(parts) + "</svg>"
