"""The seam every frontend implements: one kind of input (a torch model, a layer spec, later ONNX or Keras)
turned into a :class:`~modelmeter.report.Report`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..options import AnalysisOptions
    from ..report import Report


class Frontend(Protocol):
    """``claims`` is cheap and imports no framework (a file suffix, ``type(model).__module__``), so
    ``modelmeter --help`` and spec files stay torch-free; ``analyze`` may import its framework.

    A frontend may also define ``session()``, a context manager inside which the models it analyses may share
    work (``registry.session`` opens every frontend's around a compare); it must not change any result."""

    name: str

    def claims(self, model: object) -> bool: ...

    def analyze(self, model: object, options: AnalysisOptions) -> Report: ...
