"""A comparison as data: one :class:`CompareEntry` per model (its report, or the error that stopped it), how
entries are filtered and sorted. ``modelmeter.compare`` (``_api.py``) runs the models; a model that fails is
kept as a row carrying its error, so one bad model never stops the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ModelMeterError, UsageError
from ..options import SORT_KEYS
from .model import Report


def memory_figure(report: Report, key: str) -> int | None:
    """A figure of the report's ``memory`` part, or None for a report made without memory."""
    return None if report.memory is None else int(getattr(report.memory, key))


@dataclass(frozen=True)
class CompareEntry:
    """One model of a comparison: its report, or the one-line error that stopped it."""

    ref: str
    report: Report | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.report.model if self.report is not None else self.ref

    def figure(self, key: str) -> float | int | str | None:
        """The value compared under ``key`` (one of :data:`SORT_KEYS`), or None when unknown."""
        if key == "name":
            return self.name
        if self.report is None:
            return None
        if key in ("params", "macs", "flops", "param_bytes"):
            return int(getattr(self.report.totals, key))
        if key == "activations_peak":
            return memory_figure(self.report, key)
        value = dict(self.report.published).get(key)
        return value if isinstance(value, (int, float)) else None

    def to_dict(self) -> dict[str, Any]:
        """The report document (schema modelmeter/1); a failed model: ``{"model", "error"}``."""
        if self.report is not None:
            return self.report.to_dict()
        return {"model": self.ref, "error": self.error}


def analyze(
    refs: Sequence[str],
    summarize: Callable[[str], Report],
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[CompareEntry], None] | None = None,
) -> list[CompareEntry]:
    """Run ``summarize`` on each reference; an error becomes the entry's ``error`` (one line), not a stop."""
    entries = []
    for ref in refs:
        if on_start is not None:
            on_start(ref)
        try:
            entry = CompareEntry(ref, report=summarize(ref))
        except ModelMeterError as exc:
            entry = CompareEntry(ref, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a model's own bug must not stop the other models
            entry = CompareEntry(ref, error=f"internal error: {type(exc).__name__}: {exc}")
        entries.append(entry)
        if on_done is not None:
            on_done(entry)
    return entries


def select(
    entries: Sequence[CompareEntry],
    sort: str | None = "macs",
    reverse: bool = False,
    max_params: int | None = None,
    max_macs: int | None = None,
) -> list[CompareEntry]:
    """Filter by ``max_params`` / ``max_macs`` and sort by ``sort``; models lacking the figure (or failed) last.

    Failed models are kept (at the end) so the reader sees what could not be judged.
    """
    if sort is not None and sort not in SORT_KEYS:
        raise UsageError(f"--sort {sort!r}: choose one of {', '.join(SORT_KEYS)}")
    kept = [
        e
        for e in entries
        if e.report is None
        or (
            (max_params is None or e.report.totals.params <= max_params)
            and (max_macs is None or e.report.totals.macs <= max_macs)
        )
    ]
    if sort is None:
        return kept
    known = [e for e in kept if e.figure(sort) is not None]
    unknown = [e for e in kept if e.figure(sort) is None]
    known.sort(key=lambda e: e.figure(sort), reverse=reverse)  # type: ignore[arg-type,return-value]
    return known + [e for e in unknown if e.report is not None] + [e for e in unknown if e.report is None]
