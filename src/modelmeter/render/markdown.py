"""GitHub-flavoured Markdown: totals, the layer table and the uncounted ops; numbers in K/M/G and KiB/MiB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _units as u

if TYPE_CHECKING:
    from ..report.model import Report, Totals


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def shown_layers(report: Report, depth: int | None = None) -> list:
    """Rows a layer table shows: the root only when it is the whole model's single row (as the rich table)."""
    only_root = len(report.layers) == 1
    return [row for row in report.layers if (row.name != "" or only_root) and (depth is None or row.depth <= depth)]


def totals_rows(report: Report) -> list[tuple[str, str]]:
    """(label, human-readable value) pairs shared by the Markdown and HTML totals."""
    t = report.totals
    dtypes = ", ".join(f"{d}: {u.human_bytes(b)}" for d, b in t.param_bytes_by_dtype)
    rows = [
        ("Params", f"{u.human_count(t.params)} ({u.exact(t.params)})"),
        ("Trainable params", f"{u.human_count(t.trainable_params)} ({u.exact(t.trainable_params)})"),
        ("Non-trainable params", f"{u.human_count(t.non_trainable_params)} ({u.exact(t.non_trainable_params)})"),
        ("Buffers", f"{u.human_count(t.buffers)} ({u.human_bytes(t.buffer_bytes)})"),
        ("Param bytes", u.human_bytes(t.param_bytes) + (f" ({dtypes})" if dtypes else "")),
        ("MACs", f"{u.human_count(t.macs)} ({u.exact(t.macs)})"),
        ("FLOPs", f"{u.human_count(t.flops)} ({u.exact(t.flops)})"),
        *([("Memory traffic", _traffic(t))] if t.read_bytes + t.write_bytes else []),
        ("Input", ", ".join(f"{u.shape(i.shape)} {i.dtype}" for i in report.inputs) + f" (ran on {report.device})"),
    ]
    return rows


def _traffic(t: Totals) -> str:
    per_byte = f"; {t.intensity:.2f} FLOP/B" if t.intensity is not None else ""
    parts = f"read {u.human_bytes(t.read_bytes)}, write {u.human_bytes(t.write_bytes)}{per_byte}"
    return f"{u.human_bytes(t.read_bytes + t.write_bytes)} ({parts})"


def render_markdown(report: Report, depth: int | None = None) -> str:
    lines = [f"## {_esc(report.model)}", "", "| Total | |", "|---|---:|"]
    lines += [f"| {label} | {_esc(value)} |" for label, value in totals_rows(report)]
    lines += [
        "",
        "| Layer | Type | Output shape | Params | MACs | % MACs |",
        "|---|---|---|---:|---:|---:|",
    ]
    for row in shown_layers(report, depth):
        shape = "did not run" if row.not_run else ", ".join(u.shape(s) for s in row.output_shapes) or "-"
        calls = f" x{row.calls}" if row.calls > 1 else ""
        lines.append(
            f"| {_esc(row.name or '(model)')} | {_esc(row.type)}{calls} | {shape} | {u.human_count(row.params)} "
            f"| {u.human_count(row.macs)} | {u.percent(row.macs, report.totals.macs)} |"
        )
    lines.append("")
    lines.append("FLOPs = 2 x MACs + other arithmetic; counts use K/M/G = 10^3/10^6/10^9, bytes KiB/MiB = 2^10/2^20.")
    if report.uncounted_ops:
        listed = ", ".join(f"`{op}` x{n}" for op, n in report.uncounted_ops)
        lines += ["", f"Uncounted ops (no formula; their arithmetic is not in the totals): {listed}"]
    if report.partial:
        lines += [
            "",
            f"**Partial**: the forward failed; the counts cover what ran before it. {_esc(report.error or '')}",
        ]
    lines += ["", *(f"Note: {_esc(n)}" for n in report.notes)] if report.notes else []
    return "\n".join(lines) + "\n"
