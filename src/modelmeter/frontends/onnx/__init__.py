"""The ONNX frontend: an ``.onnx`` file -> a Report, through the shared formula registry; no PyTorch.

``onnx`` is imported only when a file is analyzed (``pip install 'modelmeter[onnx]'``).
"""

from __future__ import annotations

import os
from typing import Any

from .read import is_onnx_path

__all__ = ["analyze_onnx", "is_onnx_path"]


def analyze_onnx(path: str | os.PathLike[str], options: Any = None, **kwargs: Any) -> Any:
    """The :class:`~modelmeter.report.Report` of the ONNX file at ``path`` (see :mod:`.analyze`)."""
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        from ...errors import ModelMeterError

        raise ModelMeterError("the onnx package is not installed; pip install 'modelmeter[onnx]'") from exc
    from .analyze import analyze_onnx as run

    return run(path, options, **kwargs)
