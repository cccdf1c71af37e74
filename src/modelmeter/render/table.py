"""The per-layer table and totals, drawn with rich."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .. import _units as u

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from ..report.model import LayerStats, Report


def _output_shape(row: LayerStats) -> str:
    if row.not_run:
        return "did not run"
    if not row.output_shapes:
        return "-" if row.calls == 0 else ""
    text = ", ".join(u.shape(s) for s in row.output_shapes[:2])
    return text + (f" +{len(row.output_shapes) - 2}" if len(row.output_shapes) > 2 else "")


_ATTENTION_NOTE = {
    "full": "(whole T_q x T_k score matrices, masked or not)",
    "causal-aware": "(only the unmasked part of causal and sliding-window attention)",
}


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


def _op_table(report: Report) -> RenderableType:
    """One row per op type: calls, MACs, FLOPs, share of the FLOPs and the bytes read and written."""
    from rich.table import Table

    ops = Table(title=f"{report.model}: by op", title_justify="left", pad_edge=False, expand=False)
    ops.add_column("Op", no_wrap=True)
    for column in ("Calls", "MACs", "FLOPs", "% FLOPs", "Read+write"):
        ops.add_column(column, justify="right", no_wrap=True)
    for op in report.by_op():
        share = _percent(op.flops, report.totals.flops)
        moved = u.human_bytes(op.read_bytes + op.write_bytes)
        ops.add_row(op.op, u.exact(op.calls), u.exact(op.macs), u.exact(op.flops), share, moved)
    return ops


def tables(report: Report, depth: int | None = None, by: str = "layer") -> list[RenderableType]:
    """The layer (or op) table and the totals table, as rich renderables."""
    from rich.table import Table
    from rich.text import Text

    # Names come from the user (module names, file paths): Text keeps rich from reading "[red]" as markup
    # or ":smile:" as an emoji code.
    layers = Table(title=Text(report.model), title_justify="left", pad_edge=False, expand=False)
    # Numbers are never wrapped or cut: a shortened number is a wrong number. Only the label may shrink.
    layers.add_column("Layer (type)", no_wrap=True)
    layers.add_column("Output shape", no_wrap=True)
    layers.add_column("Params", justify="right", no_wrap=True)
    layers.add_column("MACs", justify="right", no_wrap=True)
    layers.add_column("% MACs", justify="right", no_wrap=True)
    total_macs = report.totals.macs
    # The model's own row is shown only where nothing else would be: a single leaf module, or --depth 0.
    only_root = len(report.layers) == 1 or depth == 0
    for row in report.layers:
        if (row.name == "" and not only_root) or (depth is not None and row.depth > depth):
            continue
        label = "  " * max(row.depth - 1, 0) + f"{row.name.rsplit('.', 1)[-1] or '(model)'} ({row.type})"
        if row.calls > 1:
            label += f" x{row.calls}"
        layers.add_row(
            Text(label), _output_shape(row), u.exact(row.params), u.exact(row.macs), _percent(row.macs, total_macs)
        )

    t = report.totals
    totals = Table(show_header=False, box=None, pad_edge=False)
    totals.add_column(justify="left", no_wrap=True)
    totals.add_column(justify="right", no_wrap=True)
    totals.add_column(justify="left", overflow="fold")
    totals.add_row("Total params", u.exact(t.params), f"({u.human_count(t.params)})")
    totals.add_row("Trainable params", u.exact(t.trainable_params), "")
    totals.add_row("Non-trainable params", u.exact(t.non_trainable_params), "")
    totals.add_row("Buffers", u.exact(t.buffers), f"({u.human_bytes(t.buffer_bytes)})" if t.buffers else "")
    keras = dict(report.published)
    if "keras_total_params" in keras:  # Keras' own view beside the buffer view (frontends/keras/params.py)
        totals.add_row(
            "Keras count_params()",
            u.exact(keras["keras_total_params"]),
            f"(Keras' view: trainable {u.exact(keras['keras_trainable_params'])} + non-trainable "
            f"{u.exact(keras['keras_non_trainable_params'])}; its non-trainable weights include the buffers)",
        )
    dtypes = ", ".join(f"{d}: {u.human_bytes(b)}" for d, b in t.param_bytes_by_dtype)
    by_dtype = f"; {dtypes}" if dtypes else ""
    totals.add_row("Param bytes", u.exact(t.param_bytes), f"({u.human_bytes(t.param_bytes)}{by_dtype})")
    totals.add_row("MACs", u.exact(t.macs), f"({u.human_count(t.macs)})")
    totals.add_row("FLOPs", u.exact(t.flops), f"({u.human_count(t.flops)}; = 2 x MACs + other)")
    if t.read_bytes + t.write_bytes:
        moved = f"(read {u.human_bytes(t.read_bytes)}, write {u.human_bytes(t.write_bytes)}"
        totals.add_row("Memory traffic", u.exact(t.read_bytes + t.write_bytes), f"{moved}; {t.intensity:.2f} FLOP/B)")
    if report.attention != "full" or any("attention" in op.op for op in report.ops):
        totals.add_row("Attention", report.attention, _ATTENTION_NOTE.get(report.attention, ""))
    inputs = ", ".join(f"{u.shape(i.shape)} {i.dtype}" for i in report.inputs)
    totals.add_row("Input", inputs, f"(ran on {report.device})")
    out: list[RenderableType] = [_op_table(report) if by == "op" else layers, totals]
    if report.not_run:
        from rich.text import Text

        from ..report.model import not_run_note

        note = not_run_note(report.layers, report.not_run)
        out.append(Text(note[0].upper() + note[1:]))
    if report.uncounted_ops:
        from rich.text import Text

        listed = ", ".join(f"{op} x{n}" for op, n in report.uncounted_ops)
        out.append(Text(f"Uncounted ops (no formula; their arithmetic is not in the totals): {listed}"))
    return out


def print_report(report: Report, console: Console, depth: int | None = None, by: str = "layer") -> None:
    """Print the tables, each at least as wide as its content: a narrow terminal wraps lines, but a
    number is never cut short."""
    from rich.measure import Measurement

    for part in tables(report, depth, by):
        need = Measurement.get(console, console.options.update_width(10_000), part).maximum
        width = console.width
        console.width = max(width, need)  # print() caps its width at the console's, so widen the console
        try:
            console.print(part, crop=False)
        finally:
            console.width = width


def render_text(report: Report, depth: int | None = None, width: int = 120, by: str = "layer") -> str:
    """The table as plain text (no colours), e.g. for ``print(report)``."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, legacy_windows=False)
    print_report(report, console, depth, by)
    return buf.getvalue()
