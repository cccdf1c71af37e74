"""``explain``: the hand calculation of every classic layer of a report, formula then numbers.

    conv1   Conv2d(1→6, k=5x5)   out (1, 6, 28, 28)   H_out = floor((32 + 2·0 − 1·(5−1) − 1)/1 + 1) = 28
            params = (k_h·k_w·C_in + 1)·C_out = (5·5·1 + 1)·6 = 156
            MACs   = k_h·k_w·C_in · C_out·H_out·W_out = 5·5·1 · 6·28·28 = 117,600

A function of the report's rows (``attrs`` and shapes) and the formula registry, so it explains a model
from any frontend, and its numbers are the ones the engine counted (tests/render/test_explain.py checks both).
"""

from __future__ import annotations

from ...report.model import LayerStats, Report
from .explainers import Explanation, Line, explain_row, symbols

__all__ = ["Explanation", "Line", "explain_layers", "explain_report"]

ASCII = (("·", "*"), ("→", "->"), ("−", "-"), ("γ", "gamma"), ("β", "beta"), ("Σ", "sum"), ("ᵀ", "^T"), ("×", "x"))


MAX_NAME_WIDTH = 24
MAX_SUM_TERMS = 12  # a longer sum is not worth reading


def _has_children(row: LayerStats, rows: tuple[LayerStats, ...]) -> bool:
    prefix = row.name + "."
    return any(r.name.startswith(prefix) for r in rows) if row.name else len(rows) > 1


def explain_layers(report: Report) -> list[tuple[LayerStats, Explanation | None]]:
    """Every leaf layer (and every classic layer with children, e.g. MultiheadAttention) with its
    explanation, or None when its type has no explainer. Children of an explained layer are left out."""
    out: list[tuple[LayerStats, Explanation | None]] = []
    explained: list[str] = []
    rows = report.layers
    for row in rows:
        if row.name == "" and len(rows) > 1:
            continue
        if any(row.name.startswith(p + ".") for p in explained):
            continue
        e = explain_row(row)
        if e is not None:
            explained.append(row.name)
            out.append((row, e))
        elif not _has_children(row, rows):
            out.append((row, None))
    return out


def _line(line: Line) -> str:
    text = f"{line.label:<7} = {line.symbols}"
    if line.numbers != line.symbols:
        text += f" = {line.numbers}"
    if line.numbers != str(line.value):
        text += f" = {line.value:,}"
    return text + (f"   ({line.note})" if line.note else "")


def explain_report(report: Report, ascii: bool = False) -> str:
    """The explanation as text; ``ascii=True`` for terminals that cannot show ·, →, −, γ, β, Σ."""
    items = explain_layers(report)
    # long dotted names run past the column rather than pushing every formula far right
    width = min(MAX_NAME_WIDTH, max([6, *(len(row.name or "(model)") for row, _ in items)]))
    pad = " " * (width + 2)
    inputs = ", ".join(str(i.shape) for i in report.inputs)
    text = [f"{report.model}: the hand calculation, layer by layer (input {inputs})", ""]
    params_parts, macs_parts, missing = [], [], 0
    for row, e in items:
        label = (row.name or "(model)").ljust(width)
        if e is None:
            missing += 1
            text.append(
                f"{label}  {row.type}   no explanation for this layer type; the engine counted "
                f"params {row.params:,}, MACs {row.macs:,}"
            )
            continue
        head = f"{label}  {e.header}"
        if row.output_shapes:
            head += f"   out {tuple(row.output_shapes[0])}"
        if e.shape_rules:
            head += "   " + "; ".join(f"{r.label} = {r.numbers} = {r.value}" for r in e.shape_rules)
        if e.params == 0 and e.macs == 0 and all(line.symbols == "0" for line in e.lines):
            # a layer without weights or MACs: one line is enough
            zero = f"params = 0, MACs = 0   ({'; '.join(line.note for line in e.lines if line.note)})"
            text.extend([f"{head}   {zero}"] if not e.shape_rules else [head, pad + zero])
            continue
        text.append(head)
        text.extend(pad + _line(line) for line in e.lines)
        if e.note:
            text.append(pad + e.note)
        # The explained numbers come from the same formulas as the engine's; if they differ, say so
        # rather than print two numbers for one layer silently (e.g. ops the engine had no formula for).
        if e.params is not None and e.params != row.params:
            text.append(f"{pad}note: the engine counted {row.params:,} params for this layer")
        if e.macs is not None and e.macs != row.macs:
            text.append(f"{pad}note: the engine counted {row.macs:,} MACs for this layer (see uncounted_ops)")
        if e.params:
            params_parts.append(e.params)
        if e.macs:
            macs_parts.append(e.macs)
    text.append("")
    for label, parts, total in (
        ("params", params_parts, report.totals.params),
        ("MACs", macs_parts, report.totals.macs),
    ):
        if not parts:
            continue
        terms = " + ".join(map(str, parts)) if len(parts) <= MAX_SUM_TERMS else f"Σ of the {len(parts)} layers above"
        line = f"{'total'.ljust(width)}  {label:<7} = {terms} = {sum(parts):,}"
        if sum(parts) != total:
            line += f"   (the report's total is {total:,}: the rest is in layers without an explanation)"
        text.append(line)
    if missing:
        text.append(
            f"{missing} layer(s) have no explanation: their type is not a classic layer modelmeter can explain."
        )
    out = "\n".join(text).rstrip() + "\n"
    return symbols(out, ASCII) if ascii else out
