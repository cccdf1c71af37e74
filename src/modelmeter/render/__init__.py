"""Renderers: each formats a Report and does no arithmetic of its own.

Importing this package registers the formatters behind the Report's conveniences (``report.to_csv()``,
``str(report)``, ``report.explain()``, ...) in ``report.model.FORMATTERS``: the report layer never imports a
renderer. Each formatter imports its module only when called, so ``import modelmeter`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..report.model import FORMATTERS

if TYPE_CHECKING:
    from ..report.model import Report


def _csv(report: Report) -> str:
    from .csv import render_csv

    return render_csv(report)


def _markdown(report: Report, depth: int | None = None) -> str:
    from .markdown import render_markdown

    return render_markdown(report, depth=depth)


def _html(report: Report) -> str:
    from .html import render_html

    return render_html(report)


def _compact_html(report: Report) -> str:
    from .html import render_compact

    return render_compact(report)


def _dataframe(report: Report) -> Any:
    from .csv import to_dataframe

    return to_dataframe(report)


def _text(report: Report, depth: int | None = None, width: int = 120, by: str = "layer") -> str:
    """The table as plain text, then the memory and LLM parts when the report has them."""
    from .memory import llm_text, memory_text
    from .table import render_text

    text = render_text(report, depth=depth, width=width, by=by)
    if report.memory is not None:
        text += "\n" + memory_text(report.memory)
    if report.llm is not None:
        text += llm_text(report.llm)
    if report.roofline is not None:
        from .roofline import roofline_text

        text += "\n" + roofline_text(report.roofline)
    return text


def _explain(report: Report, ascii: bool = False) -> str:
    from .explain import explain_report

    return explain_report(report, ascii=ascii)


FORMATTERS.update(
    csv=_csv,
    markdown=_markdown,
    html=_html,
    compact_html=_compact_html,
    dataframe=_dataframe,
    text=_text,
    explain=_explain,
)
