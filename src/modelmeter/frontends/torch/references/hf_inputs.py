"""Default inputs of a Hugging Face model, read off its config (used only when no input is given).

- text (GPT-2, BERT, Llama): ``input_ids`` (batch, seq_len); encoder-decoder text (T5, BART) adds
  ``decoder_input_ids`` of the same shape.
- speech (Whisper, main input ``input_features``): log-mel features (batch, num_mel_bins, frames), frames =
  2 * max_source_positions (3000: 30 s of audio, the only length Whisper's encoder takes), and
  ``decoder_input_ids`` (batch, seq_len).
- vision (ViT, CLIP's vision model): ``pixel_values`` (batch, num_channels, image_size, image_size).
- text and vision (CLIP): ``input_ids`` and ``pixel_values``, so both towers run.
- vision-language (LLaVA, a config with ``image_token_id``): ``pixel_values`` and ``input_ids`` holding one
  image token per vision feature (patches, plus the CLS token under the "full" feature strategy) followed by
  seq_len text tokens, so that the vision tower runs and its features replace those tokens.

seq_len defaults to 128, capped at the model's position table; a seq_len past a learned position table
(GPT-2's 1024, BERT's 512, CLIP's 77) is refused, as the real model would fail on it.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from ....errors import InputError

DEFAULT_SEQ_LEN = 128


def _get(config: Any, *names: str) -> Any:
    for n in names:
        v = getattr(config, n, None)
        if v is not None:
            return v
    return None


def _text_config(config: Any) -> Any:
    getter = getattr(config, "get_text_config", None)
    return getter() if callable(getter) else config


def _takes(model: torch.nn.Module, name: str) -> bool:
    try:
        return name in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def learned_position_limit(model: torch.nn.Module, config: Any, decoder: bool = False) -> int | None:
    """The longest sequence a learned absolute position table takes (GPT-2: 1024), or None when positions are
    rotary/relative (Llama, T5) and any length runs. A table is an nn.Embedding (not the token embedding, which
    has vocab_size rows) with the config's max positions rows (BART and OPT add an offset of 2)."""
    text = _text_config(config)
    limit = _get(text, "max_target_positions") if decoder else None
    limit = limit or _get(text, "n_positions", "max_position_embeddings")
    if not isinstance(limit, int):
        return None
    vocab = _get(text, "vocab_size")
    for m in model.modules():
        if isinstance(m, torch.nn.Embedding) and m.num_embeddings != vocab and limit <= m.num_embeddings <= limit + 2:
            return limit
    return None


def _seq_len(model: torch.nn.Module, config: Any, seq_len: int | None, what: str, decoder: bool = False) -> int:
    limit = learned_position_limit(model, config, decoder)
    if seq_len is None:
        return DEFAULT_SEQ_LEN if limit is None else min(DEFAULT_SEQ_LEN, limit)
    if limit is not None and seq_len > limit:
        raise InputError(
            f"{what}: sequence length {seq_len} is longer than the model's position table ({limit} positions; "
            f"the real model fails past it); give --seq-len {limit} or less"
        )
    return seq_len


def check_positions(model: torch.nn.Module, config: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Token ids the user gave (``--input input_ids=1,2048:int64``) are held to the position table as a
    ``--seq-len`` is: past a learned table the real model fails, and on meta it would quietly count."""
    what = type(model).__name__
    given = {"input_ids": kwargs.get("input_ids", args[0] if args else None)}
    given["decoder_input_ids"] = kwargs.get("decoder_input_ids")
    for name, ids in given.items():
        if isinstance(ids, torch.Tensor) and ids.dim() >= 1 and not ids.dtype.is_floating_point:
            limit = learned_position_limit(model, config, decoder=name.startswith("decoder"))
            if limit is not None and ids.shape[-1] > limit:
                raise InputError(
                    f"{what}: {name} of length {ids.shape[-1]} is longer than the model's position table "
                    f"({limit} positions; the real model fails past it); give {limit} tokens or fewer"
                )


def _ids(batch: int, length: int) -> torch.Tensor:
    return torch.zeros((batch, length), dtype=torch.long, device="meta")


def _image(config: Any, batch: int) -> torch.Tensor | None:
    vision = _get(config, "vision_config") or config
    size = _get(vision, "image_size")
    if isinstance(size, (list, tuple)) and len(size) == 2:
        h, w = int(size[0]), int(size[1])
    elif isinstance(size, int):
        h = w = size
    else:
        return None
    channels = _get(vision, "num_channels") or 3
    return torch.zeros((batch, channels, h, w), device="meta")


def _image_tokens(config: Any) -> int | None:
    """How many features the vision tower hands the language model per image (LLaVA: 576 at 336/14)."""
    vision = _get(config, "vision_config")
    size, patch = _get(vision, "image_size"), _get(vision, "patch_size")
    if not isinstance(size, int) or not isinstance(patch, int):
        return _get(config, "image_seq_length")
    full = _get(config, "vision_feature_select_strategy") == "full"
    return (size // patch) ** 2 + (1 if full else 0)


def default_inputs(model: torch.nn.Module, config: Any, seq_len: int | None, batch: int | None) -> dict[str, Any]:
    """The inputs a model of this config takes (see the module docstring), as tensors."""
    what = type(model).__name__
    batch = 1 if batch is None else batch
    main = getattr(model, "main_input_name", "input_ids")
    image_token = _get(config, "image_token_id", "image_token_index")
    if isinstance(image_token, int) and _takes(model, "pixel_values") and main == "input_ids":
        n = _image_tokens(config)
        pixels = _image(config, batch)
        if n is None or pixels is None:
            raise InputError(f"{what}: cannot tell the image size from its config; give inputs with --input NAME=SHAPE")
        text = DEFAULT_SEQ_LEN if seq_len is None else seq_len
        # real token ids (on the CPU, a few KB): the image tokens must be where the model looks for them
        ids = torch.zeros((batch, n + text), dtype=torch.long)
        ids[:, :n] = image_token
        return {"input_ids": ids, "pixel_values": pixels}
    if main == "input_features":
        mels = _get(config, "num_mel_bins") or 80
        frames = 2 * _get(config, "max_source_positions") if _get(config, "max_source_positions") else 3000
        inputs: dict[str, Any] = {"input_features": torch.zeros((batch, mels, frames), device="meta")}
        if getattr(config, "is_encoder_decoder", False):
            inputs["decoder_input_ids"] = _ids(batch, _seq_len(model, config, seq_len, what, decoder=True))
        return inputs
    if main == "pixel_values":
        pixels = _image(config, batch)
        if pixels is not None:
            return {"pixel_values": pixels}
    if main == "input_ids":
        ids = _ids(batch, _seq_len(model, config, seq_len, what))
        inputs = {"input_ids": ids}
        if getattr(config, "is_encoder_decoder", False):
            inputs["decoder_input_ids"] = ids
        if _get(config, "vision_config") is not None and _takes(model, "pixel_values"):
            pixels = _image(config, batch)
            if pixels is not None:  # CLIP: both towers run
                inputs["pixel_values"] = pixels
        return inputs
    raise InputError(
        f"{what} takes {main!r} and its config does not say its shape; give it, e.g. --input {main}=1,3,224,224 "
        "(API: input_size={name: shape})"
    )
