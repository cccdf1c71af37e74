"""Renderers of a comparison (a list of compare Entries): table, Markdown, CSV, JSON. Formatting only."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _units as u

if TYPE_CHECKING:
    from rich.console import Console

    from ..report.compare import CompareEntry


@dataclass(frozen=True)
class Column:
    key: str  # an CompareEntry.figure key
    header: str
    human: Callable[[Any], str]


def _acc(v: float) -> str:
    return f"{v:.2f}"


BASE = (
    Column("params", "Params", u.human_count),
    Column("macs", "MACs", u.human_count),
    Column("flops", "FLOPs", u.human_count),
    Column("param_bytes", "Param bytes", u.human_bytes),
)
OPTIONAL = (  # shown only when some model has the figure
    Column("activations_peak", "Activations peak", u.human_bytes),
    Column("acc@1", "acc@1 (%)", _acc),
)


def columns(entries: Sequence[CompareEntry]) -> list[Column]:
    return list(BASE) + [c for c in OPTIONAL if any(e.figure(c.key) is not None for e in entries)]


def _input(e: CompareEntry) -> str:
    if e.report is None:
        return ""
    return ", ".join("x".join(str(d) for d in i.shape) for i in e.report.inputs)


def _human_cells(e: CompareEntry, cols: list[Column]) -> list[str]:
    if e.report is None:
        return ["-"] * len(cols)
    cells = []
    for c in cols:
        v = e.figure(c.key)
        cells.append("-" if v is None else c.human(v))
    return cells


def print_table(entries: Sequence[CompareEntry], console: Console) -> None:
    from rich.table import Table
    from rich.text import Text  # plain Text cells: a name like "net.py:x" is not markup or an emoji code

    cols = columns(entries)
    table = Table()
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Model", no_wrap=True)
    for c in cols:
        table.add_column(c.header, justify="right", no_wrap=True)
    table.add_column("Input", no_wrap=True)
    failed = False
    for i, e in enumerate(entries, 1):
        if e.report is None:
            failed = True
            table.add_row(str(i), Text(e.ref), *(["-"] * len(cols)), Text("error (below)", style="red"))
        else:
            table.add_row(str(i), Text(e.name), *_human_cells(e, cols), _input(e))
    # measure so that numbers are never cut (as the summary table)
    from rich.measure import Measurement

    need = Measurement.get(console, console.options.update_width(10_000), table).maximum
    width = console.width
    console.width = max(width, need)
    try:
        console.print(table, crop=False)
    finally:
        console.width = width
    if failed:
        for e in entries:
            if e.report is None:
                console.print(f"{e.ref}: {e.error}", markup=False, emoji=False, highlight=False, soft_wrap=True)


def render_text(entries: Sequence[CompareEntry], width: int = 120) -> str:
    from rich.console import Console

    buf = io.StringIO()
    print_table(entries, Console(file=buf, width=width, color_system=None, force_terminal=False))
    return buf.getvalue()


def render_markdown(entries: Sequence[CompareEntry]) -> str:
    cols = columns(entries)
    head = ["#", "Model", *(c.header for c in cols), "Input"]
    lines = ["| " + " | ".join(head) + " |", "|---:|---|" + "---:|" * len(cols) + "---|"]
    for i, e in enumerate(entries, 1):
        name = e.name.replace("|", "\\|")
        if e.report is None:
            err = (e.error or "").replace("|", "\\|")
            lines.append(f"| {i} | {name} | " + " | ".join(["-"] * len(cols)) + f" | error: {err} |")
        else:
            lines.append(f"| {i} | {name} | " + " | ".join(_human_cells(e, cols)) + f" | {_input(e)} |")
    return "\n".join(lines) + "\n"


def render_csv(entries: Sequence[CompareEntry]) -> str:
    """Exact integers; one row per model in the shown order; ``error`` filled for models that failed."""
    cols = columns(entries)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["model", *(c.key for c in cols), "input", "device", "error"])
    for e in entries:
        values = ["" if e.figure(c.key) is None else e.figure(c.key) for c in cols]
        device = e.report.device if e.report is not None else ""
        w.writerow([e.name, *values, _input(e), device, e.error or ""])
    return buf.getvalue()


def render_json(entries: Sequence[CompareEntry]) -> str:
    """A list of the models' report documents (schema modelmeter/1) in the shown order."""
    return json.dumps([e.to_dict() for e in entries], indent=2) + "\n"
