"""Hugging Face ``transformers`` models from a config (object, ``config.json`` or a folder holding one).

The model is built on meta from its config alone: no weights are read and the hub is never contacted. The
class is the config's first ``architectures`` entry when transformers has it (``GPT2LMHeadModel``,
``BertForMaskedLM``), else the base model (``AutoModel``). It is put in eval mode, as for inference. Its
input is ``input_ids`` of shape (batch, seq_len) for text models, ``pixel_values`` of shape (batch,
channels, image_size, image_size) for vision models.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ....errors import InputError, ModelRefError
from ..build import build_on_meta
from .base import Loaded

if TYPE_CHECKING:
    from ....options import AnalysisOptions

PREFIX = "hf:"

DEFAULT_SEQ_LEN = 128


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise ModelRefError("Hugging Face models need transformers; pip install 'modelmeter[hf]'") from exc
    return transformers


def is_config(obj: Any) -> bool:
    """Whether ``obj`` is a transformers config object (without importing transformers)."""
    return any(c.__name__.lower() == "pretrainedconfig" for c in type(obj).__mro__)  # PreTrainedConfig in v5


def load_config(path_text: str) -> Any:
    """The config in ``path_text``: a config.json, or a folder holding one."""
    transformers = _transformers()
    path = Path(path_text)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        raise ModelRefError(f"hf:{path_text}: no such file; give a config.json or a folder holding one")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelRefError(f"hf:{path_text}: not a readable JSON config: {exc}") from exc
    if not isinstance(data, dict) or "model_type" not in data:
        raise ModelRefError(f"hf:{path_text}: a transformers config.json needs a 'model_type' field")
    model_type = data["model_type"]
    if model_type not in transformers.CONFIG_MAPPING:
        raise ModelRefError(
            f"hf:{path_text}: model_type {model_type!r} is unknown to transformers {transformers.__version__}"
        )
    return transformers.CONFIG_MAPPING[model_type].from_dict(data)


def build_model(config: Any) -> torch.nn.Module:
    """The config's model, on meta, in eval mode.

    Mixture-of-experts layers use transformers' ``batched_mm`` experts (a copy of the config says so): its
    default grouped-matmul kernels take no float32 on meta. Both multiply each routed token by its experts'
    weights, so the MACs are the same.
    """
    transformers = _transformers()
    if getattr(config, "_experts_implementation", "") in (None, "grouped_mm"):
        config = copy.deepcopy(config)
        config._experts_implementation = "batched_mm"
    architectures = getattr(config, "architectures", None) or []
    cls = getattr(transformers, architectures[0], None) if architectures else None
    try:
        if cls is not None:
            model = build_on_meta(lambda: cls._from_config(config))
        else:
            model = build_on_meta(lambda: transformers.AutoModel.from_config(config))
    except Exception as exc:
        what = architectures[0] if cls is not None else f"AutoModel for {type(config).__name__}"
        raise ModelRefError(f"building {what} from its config raised {type(exc).__name__}: {exc}") from exc
    return model.eval()


def model_inputs(model: torch.nn.Module, config: Any, seq_len: int | None, batch: int | None) -> dict[str, Any]:
    """Meta inputs for the model's main input: token ids or images."""
    batch = 1 if batch is None else batch
    name = getattr(model, "main_input_name", "input_ids")
    if name == "input_ids":
        seq_len = DEFAULT_SEQ_LEN if seq_len is None else seq_len
        inputs = {"input_ids": torch.zeros((batch, seq_len), dtype=torch.long, device="meta")}
        if getattr(config, "is_encoder_decoder", False):
            inputs["decoder_input_ids"] = inputs["input_ids"]
        return inputs
    if name == "pixel_values" and isinstance(getattr(config, "image_size", None), int):
        size = config.image_size
        channels = getattr(config, "num_channels", 3)
        return {"pixel_values": torch.zeros((batch, channels, size, size), device="meta")}
    raise InputError(f"{type(model).__name__} takes {name!r}; give input_data (e.g. a dict of tensors)")


def load_hf(ref: str, seq_len: int | None = None, batch: int | None = None) -> Loaded:
    """``hf:PATH``: a transformers model from a local config.json (or a folder holding one)."""
    config = load_config(ref.removeprefix(PREFIX))
    return from_hf_config(config, ref, seq_len, batch)


def from_hf_config(config: Any, name: str, seq_len: int | None = None, batch: int | None = None) -> Loaded:
    model = build_model(config)  # in eval mode, as every model built here
    return Loaded(model, name, input_data=model_inputs(model, config, seq_len, batch))


def load_reference(ref: str, options: AnalysisOptions) -> Loaded:
    return load_hf(ref, options.seq_len, options.batch)
