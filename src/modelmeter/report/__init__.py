"""The report layer: the Report dataclasses (data only, schema modelmeter/1), how records become one, comparisons."""

from .model import (
    SCHEMA,
    InputInfo,
    LayerRecord,
    LayerStats,
    OpStats,
    OwnStats,
    Report,
    Totals,
    TypeStats,
    build_report,
)

__all__ = [
    "SCHEMA",
    "InputInfo",
    "LayerRecord",
    "LayerStats",
    "OpStats",
    "OwnStats",
    "Report",
    "Totals",
    "TypeStats",
    "build_report",
]
