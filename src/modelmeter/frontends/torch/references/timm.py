"""``timm:NAME[.TAG]`` references: a timm model built on meta with ``pretrained=False`` (no download).

The default input is the model's own ``pretrained_cfg["input_size"]`` (the resolution its published
figures were measured at: 224 for resnet50, 256 for maxvit_nano_rw_256, 384 for vit_base_patch16_384);
a tag (``resnet50.a1_in1k``) picks that entry's config. ``timm:PATTERN`` expands over timm's architectures
(:func:`timm_models`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ....errors import ModelRefError
from ..build import build_on_meta
from .base import Loaded, did_you_mean

if TYPE_CHECKING:
    from ....options import AnalysisOptions

PREFIX = "timm:"


def _timm(ref: str) -> Any:
    try:
        import timm
    except ImportError as exc:
        raise ModelRefError(f"{ref}: timm is not installed; pip install 'modelmeter[timm]'") from exc
    return timm


def timm_models(ref: str, pattern: str = "*") -> list[str]:
    """timm's architectures matching ``pattern`` (``convnext*``), sorted."""
    return sorted(_timm(ref).list_models(pattern))


def load_reference(ref: str, options: AnalysisOptions) -> Loaded:
    """The model (on meta, eval mode), its label and its default input size."""
    timm = _timm(ref)
    name = ref.removeprefix(PREFIX)
    arch = name.partition(".")[0]
    if not name or not timm.is_model(arch):
        hint = did_you_mean(arch, timm.list_models())
        raise ModelRefError(f"{ref}: unknown timm model {arch!r}{hint} (timm.list_models() lists them)")
    try:
        model = build_on_meta(lambda: timm.create_model(name, pretrained=False))
    except Exception as exc:  # noqa: BLE001 - an unknown tag or a constructor failure is one clear error
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ModelRefError(f"{ref}: timm.create_model raised {type(exc).__name__}: {first}") from exc
    cfg = getattr(model, "pretrained_cfg", None) or {}
    size = cfg.get("input_size") or (3, 224, 224)
    return Loaded(model.eval(), f"{PREFIX}{name}", [(1, *(int(d) for d in size))])
