"""``FILE.py[:NAME]``: an ``nn.Module`` instance, class or factory from a Python file (built on meta)."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ...._files import check_readable_file
from ....errors import ModelRefError
from ..build import build_on_meta
from .base import Loaded, did_you_mean

if TYPE_CHECKING:
    from ....options import AnalysisOptions


def claims(ref: str) -> bool:
    return ref.endswith(".py") or ".py:" in ref


def import_file(path: Path) -> Any:
    module_name = f"modelmeter_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ModelRefError(f"{path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent.resolve()))  # so the file's own sibling imports work
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # SystemExit: a script's sys.exit() must not end modelmeter silently
        sys.modules.pop(module_name, None)
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ModelRefError(f"{path}: importing it raised {type(exc).__name__}: {first}") from exc
    finally:
        sys.path.remove(str(path.parent.resolve()))
    return module


def module_classes(module: Any) -> list[str]:
    return sorted(
        n
        for n, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, torch.nn.Module) and obj.__module__ == module.__name__
    )


def _declared_input_size(obj: Any) -> list[tuple[int, ...]] | None:
    """A class or factory may declare its example input as ``input_size = (1, 3, 224, 224)`` (or a list of
    shapes). Anything else under that name (``nn.LSTM.input_size`` is a feature count) is not a shape."""
    size = getattr(obj, "input_size", None)
    if isinstance(size, (tuple, list)) and size:
        if all(isinstance(d, int) for d in size):
            return [tuple(size)]
        if all(isinstance(s, (tuple, list)) and all(isinstance(d, int) for d in s) for s in size):
            return [tuple(s) for s in size]
    return None


def load_file(ref: str) -> Loaded:
    path_text, sep, attr = ref.rpartition(":") if not ref.endswith(".py") else (ref, "", "")
    path = check_readable_file(path_text)
    module = import_file(path)
    classes = module_classes(module)
    if not attr:
        if len(classes) != 1:
            listed = ", ".join(classes) or "none"
            raise ModelRefError(f"{path}: say which model, e.g. {path}:NAME; nn.Module classes in it: {listed}")
        attr = classes[0]
    if not hasattr(module, attr):
        public = [n for n in vars(module) if not n.startswith("_")]
        raise ModelRefError(f"{path}: has no {attr!r}{did_you_mean(attr, public)}")
    obj = getattr(module, attr)
    if isinstance(obj, torch.nn.Module):
        model = obj
    elif callable(obj):
        try:
            model = build_on_meta(obj)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ModelRefError(
                f"{path}:{attr}: calling it with no arguments raised {type(exc).__name__}: {first}"
            ) from exc
        if isinstance(model, torch.nn.Module):
            model.eval()
    else:
        raise ModelRefError(f"{path}:{attr} is a {type(obj).__name__}, not an nn.Module, class or factory")
    if not isinstance(model, torch.nn.Module):
        raise ModelRefError(f"{path}:{attr}() returned a {type(model).__name__}, not an nn.Module")
    sizes = _declared_input_size(obj) or _declared_input_size(model)
    return Loaded(model, f"{path.name}:{attr}", sizes)


def load_reference(ref: str, options: AnalysisOptions) -> Loaded:
    return load_file(ref)
