"""Reference patterns for ``compare``: ``torchvision:resnet*`` / ``torchvision:*`` expand over torchvision's
classification models, ``timm:convnext*`` over timm's architectures, ``FILE.py:*`` over the ``nn.Module``
classes defined in the file. Plain references pass
through without importing torch."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

from ....errors import ModelRefError


def is_pattern(ref: str) -> bool:
    return any(ch in ref for ch in "*?[")


def torchvision_classification_models() -> list[str]:
    from .torchvision import classification_models

    return classification_models()


def _file_classes(path_text: str) -> list[str]:
    from .pyfile import import_file, module_classes

    path = Path(path_text)
    if not path.is_file():
        raise ModelRefError(f"{path}: no such file")
    return module_classes(import_file(path))


def expand(refs: Iterable[str]) -> list[str]:
    """Replace each pattern by the references it matches (sorted), keeping plain references as given.

    A pattern that matches nothing is an error naming it, rather than a silently shorter comparison.
    """
    out: list[str] = []
    for ref in refs:
        if not is_pattern(ref):
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
            from .timm import timm_models

            matched = [f"timm:{n}" for n in timm_models(ref, ref.partition(":")[2])]
            where = "timm's models"
        elif ".py:" in ref:
            path_text, _, pattern = ref.rpartition(":")
            matched = [f"{path_text}:{n}" for n in _file_classes(path_text) if fnmatch.fnmatchcase(n, pattern)]
            where = f"the nn.Module classes of {path_text}"
        else:
            raise ModelRefError(f"{ref!r}: patterns work for torchvision:PATTERN, timm:PATTERN and FILE.py:PATTERN")
        if not matched:
            raise ModelRefError(f"{ref!r} matches none of {where}")
        out.extend(m for m in matched if m not in out)
    return out
