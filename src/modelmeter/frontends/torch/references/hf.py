"""Hugging Face ``transformers`` models from a config (object, ``config.json`` or a folder holding one).

The model is built on meta from its config alone: no weights are read and the hub is never contacted. The
class is the config's first ``architectures`` entry when transformers has it (``GPT2LMHeadModel``,
``BertForMaskedLM``), else the base model (``AutoModel``). It is put in eval mode, as for inference. Its
default inputs are read off the config (hf_inputs.py): token ids, images, audio features, or several.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ....errors import ModelRefError
from ..build import build_on_meta
from ..measure.stand_ins import use_stand_ins
from .base import Loaded
from .hf_cache import cached_config, looks_like_repo_id

if TYPE_CHECKING:
    from ....options import AnalysisOptions

PREFIX = "hf:"


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise ModelRefError("Hugging Face models need transformers; pip install 'modelmeter[hf]'") from exc
    return transformers


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' deprecation notices (``torch_dtype``, renamed arguments) are about its API, not the
    user's model: silenced while modelmeter builds a model, restored afterwards."""
    transformers = _transformers()
    logging = transformers.utils.logging
    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            yield
    finally:
        logging.set_verbosity(level)


def is_config(obj: Any) -> bool:
    """Whether ``obj`` is a transformers config object (without importing transformers)."""
    return any(c.__name__.lower() == "pretrainedconfig" for c in type(obj).__mro__)  # PreTrainedConfig in v5


def load_config(path_text: str) -> Any:
    """The config in ``path_text``: a config.json, a folder holding one, or ``ORG/NAME`` in the local hub cache."""
    transformers = _transformers()
    path = Path(path_text)
    if path.is_dir():
        path = path / "config.json"
    elif not path.exists() and looks_like_repo_id(path_text):
        path = cached_config(path_text)  # hf:ORG/NAME from the local hub cache; raises saying where it looked
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
    try:
        with quiet_transformers():
            return transformers.CONFIG_MAPPING[model_type].from_dict(data)
    except Exception as exc:  # noqa: BLE001 - transformers validates configs with several error types
        # StrictDataclassClassValidationError: "Class validation error for validator '...': | ValueError: The
        # hidden size (4096) is not a multiple of the number of attention heads (30)." -> the last part
        reason = " ".join(str(exc).split("| ")[-1].split())
        raise ModelRefError(f"hf:{path_text}: transformers rejects this config: {reason[:300]}") from exc


def build_model(config: Any) -> torch.nn.Module:
    """The config's model, on meta, in eval mode.

    Mixture-of-experts layers run transformers' default grouped-matmul experts, whose kernel gets a meta
    twin (``moe.py``); ``batched_mm`` would gather a copy of every routed token's expert weights.
    """
    transformers = _transformers()
    architectures = getattr(config, "architectures", None) or []
    cls = getattr(transformers, architectures[0], None) if architectures else None
    if architectures and cls is None:
        # a class transformers does not have is custom code (auto_map) or a newer transformers': building the
        # base model instead would cost a different, headless network
        custom = getattr(config, "auto_map", None)
        where = (
            "custom code the config points at (auto_map); modelmeter runs no code from a hub or a config"
            if custom
            else f"not in transformers {transformers.__version__}"
        )
        raise ModelRefError(
            f"architecture {architectures[0]!r} is {where}. Build the model in Python and pass the nn.Module, "
            "or remove 'architectures' from the config to cost the base model alone"
        )
    try:
        with quiet_transformers():
            if cls is not None:
                model = build_on_meta(lambda: cls._from_config(config))
            else:
                model = build_on_meta(lambda: transformers.AutoModel.from_config(config))
    except Exception as exc:
        what = architectures[0] if cls is not None else f"AutoModel for {type(config).__name__}"
        raise ModelRefError(f"building {what} from its config raised {type(exc).__name__}: {exc}") from exc
    use_stand_ins(model)
    return model.eval()


def model_inputs(model: torch.nn.Module, config: Any, seq_len: int | None, batch: int | None) -> dict[str, Any]:
    """Default inputs read off the config: token ids, images, audio features, or several (hf_inputs.py)."""
    from .hf_inputs import default_inputs

    return default_inputs(model, config, seq_len, batch)


def load_hf(ref: str, seq_len: int | None = None, batch: int | None = None) -> Loaded:
    """``hf:PATH``: a transformers model from a local config.json (or a folder holding one), or ``hf:ORG/NAME``
    from the local hub cache."""
    config = load_config(ref.removeprefix(PREFIX))
    return from_hf_config(config, ref, seq_len, batch)


def from_hf_config(config: Any, name: str, seq_len: int | None = None, batch: int | None = None) -> Loaded:
    try:
        model = build_model(config)  # in eval mode, as every model built here
    except ModelRefError as exc:
        raise ModelRefError(f"{name}: {exc}") from exc
    # the default inputs are built only if none are given (summary(config, input_data={...}) never needs them)
    from .hf_inputs import check_positions

    return Loaded(
        model,
        name,
        make_inputs=lambda: model_inputs(model, config, seq_len, batch),
        check_inputs=lambda args, kwargs: check_positions(model, config, args, kwargs),
    )


def load_reference(ref: str, options: AnalysisOptions) -> Loaded:
    return load_hf(ref, options.seq_len, options.batch)
