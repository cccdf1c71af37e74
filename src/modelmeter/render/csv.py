"""CSV and pandas: one row per layer, exactly the fields of the JSON layer rows, exact integers."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..report.model import Report


def _cell(value: Any) -> Any:
    # shapes (lists of lists) and any structured field go in as JSON, so the CSV parses back losslessly
    return json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict, tuple)) else value


def layer_dicts(report: Report) -> list[dict[str, Any]]:
    """The JSON layer rows; the CSV's columns are their keys, so a field added to the schema appears here too."""
    return [row.to_dict() for row in report.layers]


def render_csv(report: Report) -> str:
    rows = layer_dicts(report)
    columns: dict[str, None] = {}  # every field any row has, in first-seen order (optional fields too)
    for row in rows:
        columns.update(dict.fromkeys(row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns) or ["name"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buf.getvalue()


_TEXT_COLUMNS = {"name", "type"}
_NULLABLE = {"intensity"}  # written as an empty cell when null


def parse_csv(text: str) -> list[dict[str, Any]]:
    """Read :func:`render_csv`'s output back into the JSON layer rows (integers as int, shapes as lists)."""
    out = []
    for raw in csv.DictReader(io.StringIO(text)):
        row: dict[str, Any] = {}
        for key, cell in raw.items():
            if key in _TEXT_COLUMNS:  # a layer named "0" (nn.Sequential) stays a name
                row[key] = cell
            elif cell == "" and key in _NULLABLE:
                row[key] = None
            elif cell == "":  # an optional field this row does not have
                continue
            elif cell == "True":  # a flag (not_run): csv writes Python's True
                row[key] = True
            elif cell.startswith(("[", "{")):
                row[key] = json.loads(cell)
            else:
                try:
                    row[key] = int(cell)
                except ValueError:
                    try:
                        row[key] = float(cell)  # a ratio (intensity)
                    except ValueError:
                        row[key] = cell
        out.append(row)
    return out


def to_dataframe(report: Report) -> Any:
    """The layer rows as a DataFrame (one row per layer; shapes as lists); pandas is imported only here."""
    try:
        import pandas as pd
    except ImportError as exc:
        from ..errors import ModelMeterError

        raise ModelMeterError("to_dataframe() needs pandas; pip install pandas") from exc
    return pd.DataFrame(layer_dicts(report))
