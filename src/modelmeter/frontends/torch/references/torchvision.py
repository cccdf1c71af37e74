"""``torchvision:NAME[:WEIGHTS]``: a torchvision model built on meta, its weights entry applied but not loaded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch

from ...._files import shown
from ....errors import ModelRefError
from ..build import build_on_meta
from .base import Loaded, did_you_mean

if TYPE_CHECKING:
    from ....options import AnalysisOptions

PREFIX = "torchvision:"


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
            f"{shown(ref)}: unknown torchvision model {name!r}{did_you_mean(name, supported)} "
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


def load_reference(ref: str, options: AnalysisOptions) -> Loaded:
    return load_torchvision(ref)


def classification_models() -> list[str]:
    """The names of torchvision's classification models (what ``torchvision:*`` expands over)."""
    import torchvision.models as tvm

    return sorted(tvm.list_models(module=tvm))
