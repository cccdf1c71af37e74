"""The roofline plot for the HTML report: arithmetic intensity (FLOP/B) against attainable FLOP/s, log-log,
the two roofs (bandwidth x intensity, then the peak) and one point per layer at its own ops' FLOPs / time."""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

from .roofline import rate, seconds

if TYPE_CHECKING:
    from ..roofline.types import Roofline

W, H, LEFT, RIGHT, TOP, BOTTOM = 620, 400, 70, 16, 14, 44


def _decades(lo: float, hi: float) -> tuple[int, int]:
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return a, b if b > a else a + 1


def roofline_svg(r: Roofline) -> str:
    pts = [(x.name or "(model)", x.type, x.intensity, x.flops / x.time_s, x) for x in r.layers
           if x.intensity and x.flops > 0 and x.time_s > 0]  # fmt: skip
    peak, bw = r.peak_flops * r.efficiency, r.bandwidth * r.efficiency
    xs = [p[2] for p in pts] + [r.ridge]
    x0, x1 = _decades(min(xs) / 2, max(xs) * 2)
    y0, y1 = _decades(min([p[3] for p in pts] + [peak]) / 2, peak * 2)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def sx(v: float) -> float:
        return LEFT + (math.log10(v) - x0) / (x1 - x0) * pw

    def sy(v: float) -> float:
        return TOP + (1 - (math.log10(v) - y0) / (y1 - y0)) * ph

    label = f"roofline: attainable FLOP/s against arithmetic intensity on {escape(r.hardware)}"
    out = [f'<svg class="chart roofline" viewBox="0 0 {W} {H}" role="img" aria-label="{label}">']
    for d in range(x0, x1 + 1):
        x = sx(10.0**d)
        out.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + ph}"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{TOP + ph + 14}" text-anchor="middle">{10.0**d:g}</text>')
    for d in range(y0, y1 + 1):
        y = sy(10.0**d)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + pw}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 4}" y="{y + 3.5:.1f}" text-anchor="end">{rate(10.0**d, "")}</text>')
    # the roofs: bandwidth x intensity up to the ridge, then flat at the peak
    lo = 10.0**x0
    start = max(lo, 10.0**y0 / bw)
    roof = f"M{sx(start):.1f},{sy(start * bw):.1f} L{sx(r.ridge):.1f},{sy(peak):.1f} L{sx(10.0**x1):.1f},{sy(peak):.1f}"
    out.append(f'<path class="roof" d="{roof}" fill="none" stroke="#444" stroke-width="2">'
               f"<title>roofs at {r.efficiency:.0%}: {rate(bw, 'B/s')} x intensity, then {rate(peak, 'FLOP/s')} "
               f"({r.dtype}); ridge {r.ridge:.1f} FLOP/B</title></path>")  # fmt: skip
    for name, kind, x, y, layer in sorted(pts, key=lambda p: -p[4].time_s):
        colour = "#e15759" if layer.bound == "memory" else "#4e79a7"
        radius = 3 + 5 * math.sqrt(layer.time_s / max(p[4].time_s for p in pts))
        out.append(
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{radius:.1f}" fill="{colour}" fill-opacity="0.6">'
            f"<title>{escape(name)} ({escape(kind)}): {x:.2f} FLOP/B, {rate(y, 'FLOP/s')}, "
            f"{seconds(layer.time_s)}, {layer.bound}-bound</title></circle>"
        )
    out.append(f'<text class="axis-label" x="{LEFT + pw / 2}" y="{H - 6}" text-anchor="middle">'
               "arithmetic intensity (FLOP per byte)</text>")  # fmt: skip
    out.append(f'<text class="axis-label" transform="translate(12 {TOP + ph / 2:.1f}) rotate(-90)" '
               'text-anchor="middle">attainable FLOP/s</text>')  # fmt: skip
    return "".join(out) + "</svg>"


def roofline_section(r: Roofline) -> str:
    """The HTML section: a sentence of totals and the plot (red: memory-bound layers, blue: compute-bound)."""
    lines = [
        f"<p>On <b>{escape(r.hardware)}</b> ({escape(r.title)}) at {escape(r.dtype)}, efficiency {r.efficiency:.0%}: "
        f"forward {seconds(r.time_s)}, mostly {r.bound}-bound, attainable {rate(r.attainable_flops, 'FLOP/s')}. "
        "One point per layer (its own ops), sized by time; red memory-bound, blue compute-bound.</p>"
    ]
    if r.llm is not None:
        m = r.llm
        lines.append(f"<p>Decode per token (KV cache {m.kv_len} tokens): {seconds(m.decode_time_s)}, "
                     f"{m.tokens_per_s:,.1f} tokens/s; prefill {seconds(m.prefill_time_s)}.</p>")  # fmt: skip
    if r.measured is not None and r.measured.ratio is not None:
        meas = r.measured
        lines.append(f"<p>Measured on {escape(meas.device)}: {seconds(meas.median_s)} median of {meas.runs}; "
                     f"measured / estimate {meas.ratio:.2f}.</p>")  # fmt: skip
    return "".join(lines) + roofline_svg(r)
