"""Cheap checks, no keras import: is this object a Keras model, is this path a saved ``.keras`` file."""

from __future__ import annotations

import os

SUFFIX = ".keras"


def is_keras_path(model: object) -> bool:
    """A path (str or PathLike) ending in ``.keras``."""
    return isinstance(model, (str, os.PathLike)) and os.fspath(model).lower().endswith(SUFFIX)


def is_keras_model(model: object) -> bool:
    """An instance of a Keras layer or model: some class in its MRO lives in the ``keras`` package
    (a subclassed model's own class lives in the user's module)."""
    return any(c.__module__.split(".", 1)[0] == "keras" for c in type(model).__mro__)
