"""ONNX as a frontend: a path ending in ``.onnx``, read without PyTorch (``analyze.py``; docs/onnx.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from .read import is_onnx_path

if TYPE_CHECKING:
    from ...options import AnalysisOptions
    from ...report import Report


def _shape_of(value: Any) -> tuple[int, ...]:
    """A named input's value: a shape, or (shape, dtype) as ``--input NAME=SHAPE:DTYPE`` gives it."""
    if len(value) == 2 and not isinstance(value[0], int) and isinstance(value[1], str):
        return tuple(value[0])
    return tuple(value)


def _shapes(input_size: Any) -> Any:
    """``input_size`` as the ONNX analysis takes it: shapes by input name, or a list of shapes in input order."""
    if input_size is None:
        return None
    if isinstance(input_size, Mapping):
        return {name: _shape_of(value) for name, value in input_size.items()}
    items = list(input_size)
    if items and all(isinstance(d, int) for d in items):  # one shape
        return [tuple(items)]
    return [tuple(s) for s in items]


class OnnxFrontend:
    name = "onnx"

    def claims(self, model: object) -> bool:
        return is_onnx_path(model)

    def analyze(self, model: Any, options: AnalysisOptions) -> Report:
        from . import analyze_onnx
        from .analyze import OnnxOptions

        if options.input_data is not None:
            raise InputError(f"{model}: an ONNX file is analyzed from shapes; give input_size / --input, not tensors")
        report = analyze_onnx(
            model,
            OnnxOptions(
                inputs=_shapes(options.input_size),
                dims=dict(options.dims),
                name=options.name,
                strict=options.strict,
                attention=options.attention,
            ),
        )
        notes = []
        if options.dtypes:
            notes.append("an ONNX file declares its input dtypes; the dtypes given were not used")
        if options.memory is not None:
            notes.append("memory is measured for PyTorch models and layer specs, not yet for ONNX files")
        return dataclasses.replace(report, notes=(*report.notes, *notes)) if notes else report
