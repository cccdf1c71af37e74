"""``compare``: several models side by side, one :class:`~modelmeter.Report` each.

References may be patterns: ``torchvision:resnet*`` / ``torchvision:*`` expand over torchvision's
classification models, ``timm:convnext*`` over timm's architectures, ``FILE.py:*`` over the ``nn.Module``
classes defined in the file. A model that fails is kept as a row carrying its error, so one bad model never
stops the rest.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ._report import Report
from .errors import ModelMeterError, ModelRefError, UsageError

# sort keys -> how to read them from a report (None: the model does not have the figure)
SORT_KEYS = ("name", "params", "macs", "flops", "param_bytes", "activations_peak", "acc@1")


def _is_pattern(ref: str) -> bool:
    return any(ch in ref for ch in "*?[")


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


def torchvision_classification_models() -> list[str]:
    import torchvision.models as tvm

    return sorted(tvm.list_models(module=tvm))


def _file_classes(path_text: str) -> list[str]:
    from pathlib import Path

    from .frontends.torch.references import _import_file, _module_classes

    path = Path(path_text)
    if not path.is_file():
        raise ModelRefError(f"{path}: no such file")
    return _module_classes(_import_file(path))


def expand(refs: Iterable[str]) -> list[str]:
    """Replace each pattern by the references it matches (sorted), keeping plain references as given.

    A pattern that matches nothing is an error naming it, rather than a silently shorter comparison.
    """
    out: list[str] = []
    for ref in refs:
        if not _is_pattern(ref):
            out.append(ref)
            continue
        if ref.startswith("torchvision:"):
            pattern = ref.partition(":")[2]
            try:
                names = torchvision_classification_models()
            except ImportError as exc:
                raise ModelRefError(f"{ref}: torchvision is not installed; pip install torchvision") from exc
            matched = [f"torchvision:{n}" for n in names if fnmatch.fnmatchcase(n, pattern)]
            where = "torchvision's classification models"
        elif ref.startswith("timm:"):
            from .frontends.torch.timm_ref import timm_models

            matched = [f"timm:{n}" for n in timm_models(ref, ref.partition(":")[2])]
            where = "timm's models"
        elif ".py:" in ref:
            path_text, _, pattern = ref.rpartition(":")
            matched = [f"{path_text}:{n}" for n in _file_classes(path_text) if fnmatch.fnmatchcase(n, pattern)]
            where = f"the nn.Module classes of {path_text}"
        else:
            raise ModelRefError(
                f"{ref!r}: patterns work for torchvision:PATTERN, timm:PATTERN and FILE.py:PATTERN"
            )
        if not matched:
            raise ModelRefError(f"{ref!r} matches none of {where}")
        out.extend(m for m in matched if m not in out)
    return out


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


def compare(
    models: Iterable[str],
    *,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    dtypes: Sequence[Any] | None = None,
    device: str = "auto",
    strict: bool = False,
    sort: str | None = "macs",
    reverse: bool = False,
    max_params: int | None = None,
    max_macs: int | None = None,
    memory: bool = True,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[CompareEntry], None] | None = None,
) -> list[CompareEntry]:
    """Analyse every model (references or patterns, see the module docstring) and return them filtered and
    sorted: ``modelmeter.compare(["torchvision:*"], max_params=5_000_000, sort="acc@1", reverse=True)``.

    A model that fails is a :class:`CompareEntry` with ``error`` set, placed last; the others still run.
    ``on_start`` / ``on_done`` are called around each model (the CLI drives its progress bar with them).
    ``memory=True`` also measures each model's inference activation peak (one more forward on meta).
    """
    from ._api import summary

    def one(ref: str) -> Report:
        return summary(ref, input_size=input_size, dtypes=dtypes, device=device, strict=strict, memory=memory)

    entries = analyze(expand(models), one, on_start=on_start, on_done=on_done)
    return select(entries, sort=sort, reverse=reverse, max_params=max_params, max_macs=max_macs)
