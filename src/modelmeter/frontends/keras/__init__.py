"""The Keras 3 frontend: a ``keras.Model`` (Functional, Sequential or subclassed) or a saved ``.keras`` file.

Parameters are read from the model's variables (each counted once, as Keras counts them); MACs and FLOPs are
computed per layer call from the layer's config and the shapes Keras itself infers, through the shared formula
registry (``modelmeter.formulas``), on any Keras backend. Nothing here imports keras until a model needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .claims import is_keras_model, is_keras_path

if TYPE_CHECKING:
    from ...report import Report

__all__ = ["analyze_keras", "is_keras_model", "is_keras_path"]


def analyze_keras(model: object, options: object | None = None, **kwargs: object) -> Report:
    """The :class:`~modelmeter.Report` of a Keras model or ``.keras`` file (see :mod:`.analyze`)."""
    from .analyze import analyze_keras as run

    return run(model, options, **kwargs)
