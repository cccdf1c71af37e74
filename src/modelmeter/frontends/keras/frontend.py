"""Keras 3 as a frontend: a ``keras.Model`` / layer object, or a saved ``.keras`` file."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from .claims import is_keras_model, is_keras_path

if TYPE_CHECKING:
    from ...options import AnalysisOptions
    from ...report import Report


class KerasFrontend:
    name = "keras"

    def claims(self, model: object) -> bool:
        return is_keras_path(model) or is_keras_model(model)

    def analyze(self, model: Any, options: AnalysisOptions) -> Report:
        if options.input_data is not None:
            raise InputError("a Keras model is counted from shapes; give input_size (batch first), not input_data")
        if options.seq_len is not None:
            raise InputError("seq_len applies to Hugging Face models; give a Keras model's input_size")
        from .analyze import analyze_keras

        report = analyze_keras(model, options)
        if options.memory is not None:  # compare asks every model for its activation peak: say, don't fail
            note = "memory and training figures are measured on PyTorch models, not yet on Keras ones"
            report = dataclasses.replace(report, notes=(*report.notes, note))
        return report
