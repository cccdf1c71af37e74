"""Importing keras with a usable backend, and reading a saved ``.keras`` file without running its code.

A ``.keras`` file is a zip archive holding ``config.json`` (the architecture) and the weights. It is loaded
with ``keras.saving.load_model(safe_mode=True, compile=False)``: safe mode refuses to deserialize Python code
(``Lambda`` layers, pickled functions), and only classes Keras or the caller already registered can be built.
"""

from __future__ import annotations

import importlib.util
import json
import os
import zipfile
from typing import Any

from ...errors import ModelMeterError, ModelRefError

# Keras' own default backend is TensorFlow; when the user chose none, take one that is installed.
BACKEND_PREFERENCE = ("tensorflow", "jax", "torch")


def _usable(backend: str) -> bool:
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}.get(backend)
    return module is not None and importlib.util.find_spec(module) is not None


def _configured_backend() -> str | None:
    """The backend in ~/.keras/keras.json (Keras writes one naming tensorflow on its first import)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as f:
            backend = json.load(f).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if isinstance(backend, str) else None


def import_keras() -> Any:
    """``keras``. When KERAS_BACKEND is unset and the backend in ~/.keras/keras.json (Keras' default: tensorflow)
    is not installed, an installed one is chosen first (tensorflow, jax, torch), so Keras can load at all."""
    import sys

    if "keras" not in sys.modules and not os.environ.get("KERAS_BACKEND"):
        configured = _configured_backend()
        if not (configured and _usable(configured)):
            for backend in BACKEND_PREFERENCE:
                if _usable(backend):
                    os.environ["KERAS_BACKEND"] = backend
                    break
    try:
        import keras
    except ImportError as exc:
        raise ModelMeterError(
            f"Keras 3 is not installed or its backend cannot load ({exc}); "
            "pip install 'modelmeter[keras]' and set KERAS_BACKEND (torch, jax or tensorflow)"
        ) from exc
    if not hasattr(keras, "saving") or not str(getattr(keras, "__version__", "0")).startswith("3"):
        raise ModelMeterError(f"modelmeter reads Keras 3 models; this is keras {keras.__version__}")
    return keras


def load_keras_file(path: str | os.PathLike[str]) -> Any:
    """The model saved in ``path`` (a ``.keras`` zip), loaded in safe mode; one clear error otherwise."""
    where = os.fspath(path)
    if not os.path.isfile(where):
        raise ModelRefError(f"{where}: no such file")
    if not zipfile.is_zipfile(where):
        with open(where, "rb") as f:
            zip_start = f.read(4) == b"PK\x03\x04"
        if zip_start:  # a zip's first entry, but no central directory at the end: cut short
            raise ModelRefError(f"{where}: truncated or corrupt .keras archive (its zip directory is missing)")
        raise ModelRefError(
            f"{where}: not a .keras file (a .keras file is a zip archive; save one with model.save('model.keras'))"
        )
    try:
        with zipfile.ZipFile(where) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelRefError(f"{where}: corrupt .keras archive ({exc})") from None
    if "config.json" not in names:
        raise ModelRefError(f"{where}: not a .keras file: the archive has no config.json")
    keras = import_keras()
    try:
        return keras.saving.load_model(where, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - anything Keras raises on a bad file becomes one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        hint = ""
        if "Could not locate" in first or "custom" in first.lower():
            hint = "; custom layers must be registered (keras.saving.register_keras_serializable) and imported"
        elif "unsafe" in first.lower() or "lambda" in first.lower():
            hint = "; modelmeter loads in safe mode and never runs code stored in the file"
        reason = f"{type(exc).__name__}: {first[:300]}"
        raise ModelRefError(f"{where}: cannot load the Keras model: {reason}{hint}") from None
