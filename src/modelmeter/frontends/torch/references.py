"""Model references: ``torchvision:NAME[:WEIGHTS]``, ``FILE.py[:NAME]`` and ``hf:PATH``, built on meta."""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from ..._files import check_readable_file, shown
from ...errors import InputError, ModelRefError
from .build import build_on_meta


@dataclass
class Loaded:
    model: torch.nn.Module
    name: str
    input_size: list[tuple[int, ...]] | None = None
    published: dict[str, Any] = field(default_factory=dict)
    # default inputs, where sizes alone do not say them (token ids, several named inputs); built only when
    # asked for, so that a model whose defaults cannot be read off its config still runs on the user's inputs
    make_inputs: Callable[[], Any] | None = None

    @cached_property
    def input_data(self) -> Any:
        return self.make_inputs() if self.make_inputs is not None else None


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


# -- torchvision ----------------------------------------------------------------------------------
@contextmanager
def _no_weight_loading() -> Iterator[None]:
    """Let a torchvision builder apply everything its weights entry implies (num_classes, image size,
    aux heads) without downloading or loading the weights."""
    from torchvision.models._api import WeightsEnum

    get_state_dict = WeightsEnum.get_state_dict
    load_state_dict = torch.nn.Module.load_state_dict
    WeightsEnum.get_state_dict = lambda self, *a, **k: {}  # type: ignore[method-assign]
    torch.nn.Module.load_state_dict = lambda self, *a, **k: None  # type: ignore[method-assign,assignment,return-value]
    try:
        yield
    finally:
        WeightsEnum.get_state_dict = get_state_dict  # type: ignore[method-assign]
        torch.nn.Module.load_state_dict = load_state_dict  # type: ignore[method-assign]


def _crop(weights: Any, default: int | tuple[int, int]) -> tuple[int, int]:
    kw = getattr(weights.transforms, "keywords", {}) if weights is not None else {}
    size = kw.get("crop_size", kw.get("resize_size", default))
    if isinstance(size, (list, tuple)):
        return (int(size[0]), int(size[-1]))
    return (int(size), int(size))


def torchvision_input_size(name: str, weights: Any) -> tuple[int, ...]:
    """The published input of a weights entry: the classification crop, 520x520 for segmentation,
    16-frame clips for video (torchvision's ``_ops`` were computed at these sizes)."""
    import torchvision.models as tvm

    if name in tvm.list_models(module=tvm.video):
        h, w = _crop(weights, (112, 112))
        return (1, 3, 16, h, w)
    if name in tvm.list_models(module=tvm.segmentation):
        return (1, 3, 520, 520)
    h, w = _crop(weights, 224)
    return (1, 3, h, w)


def load_torchvision(ref: str) -> Loaded:
    try:
        import torchvision.models as tvm
    except ImportError as exc:
        raise ModelRefError(f"{ref}: torchvision is not installed; pip install torchvision") from exc
    _, _, rest = ref.partition(":")
    name, _, weights_name = rest.partition(":")
    quantized = set(tvm.list_models(module=tvm.quantization))
    supported = sorted(
        set(tvm.list_models(module=tvm))
        | set(tvm.list_models(module=tvm.segmentation))
        | set(tvm.list_models(module=tvm.video))
        | quantized
    )
    if name not in supported:
        raise ModelRefError(
            f"{shown(ref)}: unknown torchvision model {name!r}{_did_you_mean(name, supported)} "
            "(classification, quantized classification, segmentation and video models are supported)"
        )
    entries = list(tvm.get_model_weights(name))
    if weights_name:
        found = [w for w in entries if w.name == weights_name]
        if not found:
            raise ModelRefError(
                f"{shown(ref)}: {name} has no weights {weights_name!r}; it has {', '.join(w.name for w in entries)}"
            )
        weights = found[0]
    else:
        weights = tvm.get_model_weights(name).DEFAULT if entries else None  # type: ignore[attr-defined]
    with _no_weight_loading():
        if name in quantized:
            # Quantizing calibrates on real tensors (and packed int8 weights have no meta form), so these are
            # built on the CPU; they are small (the largest, resnext101_32x8d, holds 89 MB of int8 weights).
            model = tvm.get_model(name, weights=weights, quantize=True).eval()
        else:
            model = build_on_meta(lambda: tvm.get_model(name, weights=weights)).eval()
    published = {}
    if weights is not None:
        meta = weights.meta
        published = {k: meta[k] for k in ("num_params", "_ops") if k in meta}
        published["weights"] = weights.name
        metrics = meta.get("_metrics", {})
        for metrics_of_dataset in metrics.values():
            published.update({k: v for k, v in metrics_of_dataset.items() if isinstance(v, (int, float))})
            break
    label = f"torchvision:{name}" + (f":{weights.name}" if weights_name else "")
    return Loaded(model, label, [torchvision_input_size(name, weights)], published)


# -- python files ---------------------------------------------------------------------------------
def _import_file(path: Path) -> Any:
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


def _module_classes(module: Any) -> list[str]:
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
    module = _import_file(path)
    classes = _module_classes(module)
    if not attr:
        if len(classes) != 1:
            listed = ", ".join(classes) or "none"
            raise ModelRefError(f"{path}: say which model, e.g. {path}:NAME; nn.Module classes in it: {listed}")
        attr = classes[0]
    if not hasattr(module, attr):
        public = [n for n in vars(module) if not n.startswith("_")]
        raise ModelRefError(f"{path}: has no {attr!r}{_did_you_mean(attr, public)}")
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


# -- Hugging Face transformers -----------------------------------------------------------------------
def load_hf(ref: str, seq_len: int | None = None, batch: int | None = None) -> Loaded:
    """``hf:PATH``: a transformers model from a local config.json (or a folder holding one)."""
    from . import hf

    config = hf.load_config(ref.removeprefix("hf:"))
    return from_hf_config(config, ref, seq_len, batch)


def from_hf_config(config: Any, name: str, seq_len: int | None = None, batch: int | None = None) -> Loaded:
    from . import hf

    try:
        model = hf.build_model(config)  # in eval mode, as every model built here
    except ModelRefError as exc:
        raise ModelRefError(f"{name}: {exc}") from exc
    return Loaded(model, name, make_inputs=lambda: hf.model_inputs(model, config, seq_len, batch))


def load(ref: str, seq_len: int | None = None, batch: int | None = None) -> Loaded:
    """Resolve a model reference (see module docstring) to a module built on meta. ``seq_len`` and
    ``batch`` shape the default input of Hugging Face models.

    A model built here is ours, so it is put in eval mode: it is costed for inference, as published figures
    are (train mode would add Inception's auxiliary head and reject BatchNorm on 1x1 maps). A module
    *instance* found in a file is the user's and keeps its mode.
    """
    if ref.startswith("hf:"):
        return load_hf(ref, seq_len, batch)
    if seq_len is not None or batch is not None:
        raise InputError(f"{ref}: seq_len and batch apply to Hugging Face models (hf:PATH); give input sizes")
    if ref.startswith("torchvision:"):
        return load_torchvision(ref)
    if ref.startswith("timm:"):
        from .timm_ref import load_timm

        return Loaded(*load_timm(ref))
    if ref.endswith(".py") or ".py:" in ref:
        return load_file(ref)
    head = ref.rpartition(":")[0]
    if head and _exists(head) and not _exists(ref):  # dir:Name or notes.txt:Name: the file part is what is wrong
        ref = head
    if _looks_like_path(ref):
        path = check_readable_file(ref)  # raises: missing, a directory, empty, unreadable
        raise ModelRefError(
            f"{shown(ref)}: unknown file kind {path.suffix or '(no suffix)'!r}; modelmeter reads Python files "
            f"(net.py:Net), checkpoints ({', '.join(_checkpoint_suffixes())}) and layer specs (.yaml, .json)"
        )
    raise ModelRefError(f"{shown(ref)}: not a model reference; {_KINDS}")


_KINDS = (
    "use torchvision:NAME, timm:NAME, path/to/file.py:ClassOrFactory, hf:path/to/config.json, a checkpoint .pt "
    "or a layer spec .yaml"
)


def _checkpoint_suffixes() -> tuple[str, ...]:
    from .checkpoint import CHECKPOINT_SUFFIXES

    return CHECKPOINT_SUFFIXES


def _exists(ref: str) -> bool:
    try:
        return Path(ref).exists()
    except (OSError, ValueError):  # a NUL byte, a name too long
        return False


def _looks_like_path(ref: str) -> bool:
    """A name with a directory or a suffix, or one that exists: reported as a file, not as a bad reference."""
    return "/" in ref or "\\" in ref or bool(Path(ref).suffix) or _exists(ref)
