"""The cache of a transformers decoder: its layout from the config (``memory.kv_cache`` formulas) and its bytes
measured from the cache object the model's own prefill built."""

from __future__ import annotations

from typing import Any

import torch

from ....errors import ModelRefError
from ....formulas import Cost, formula
from ....memory.kv_cache import LayerCache

_ATTENTION = ("full_attention", "sliding_attention", "chunked_attention", "hybrid", "hybrid_sliding")
_STATE = ("linear_attention", "mamba", "conv", "hybrid", "hybrid_sliding")


def _text(config: Any) -> Any:
    get = getattr(config, "get_text_config", None)
    return get() if callable(get) else config


def _layer_types(config: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """transformers' own reading of the layer types (``layer_types``, else sliding / chunked / full from the
    config fields): the one its ``DynamicCache`` builds its layers from."""
    try:
        from transformers.cache_utils import get_layer_types_and_kwargs

        types, kwargs = get_layer_types_and_kwargs(config)
        return list(types), list(kwargs)
    except Exception:  # noqa: BLE001 - an older transformers or a config without per-layer fields
        layers = getattr(config, "num_hidden_layers", 0) or 0
        window = getattr(config, "sliding_window", None)
        kind = "sliding_attention" if window else "full_attention"
        return [kind] * layers, [{"sliding_window": window} if window else {}] * layers


def _attention_per_token(config: Any) -> tuple[str, int]:
    if getattr(config, "kv_lora_rank", None):  # MLA: one latent + one shared rotary key per token
        return "mla", int(config.kv_lora_rank) + int(config.qk_rope_head_dim)
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return "attention", 2 * kv_heads * head_dim


def _ssm_sizes(config: Any) -> tuple[int, int]:
    """(conv elements, SSM state elements) per sequence of one Mamba layer: the conv keeps its last
    ``conv_kernel`` inputs of the inner width (Mamba: in_proj's x half; no separate B/C in Mamba-1), the SSM
    state is inner x d_state."""
    if hasattr(config, "mamba_d_state"):  # Jamba
        inner = config.mamba_expand * config.hidden_size
        return inner * config.mamba_d_conv, inner * config.mamba_d_state
    inner = config.intermediate_size
    return inner * config.conv_kernel, inner * config.state_size


def cache_layers(config: Any) -> list[LayerCache]:
    """One :class:`LayerCache` per decoder layer, from the config."""
    config = _text(config)
    types, kwargs = _layer_types(config)
    out = []
    for kind, kw in zip(types, kwargs, strict=False):
        per_token, conv, state, name = 0, 0, 0, "none"
        if kind in _ATTENTION and getattr(config, "num_attention_heads", None):
            name, per_token = _attention_per_token(config)
        if kind in _STATE:
            conv, state = _ssm_sizes(config)
            name = "ssm" if not per_token else name
        windowed = kind in ("sliding_attention", "chunked_attention", "hybrid_sliding")
        window = kw.get("sliding_window") if windowed else None
        kind_name = "sliding" if window and name == "attention" else name
        out.append(LayerCache(kind=kind_name, per_token=per_token, window=window, conv=conv, state=state))
    return out


def measured_cache(cache: Any, conv_bits: int) -> tuple[int, int]:
    """(attention elements, state bytes) in a transformers cache object: the keys / values of every layer
    (``layers[i].keys / .values``, or the older ``key_cache`` / ``value_cache`` lists), and the conv and
    recurrent states of state-space layers (``conv_states`` / ``recurrent_states``), the conv states priced at
    ``conv_bits`` (the model's dtype), the recurrent states at the dtype the model made them in."""
    if hasattr(cache, "layers"):
        layers = list(cache.layers)
    elif hasattr(cache, "key_cache"):
        pairs = zip(cache.key_cache, cache.value_cache, strict=False)
        layers = [type("Layer", (), {"keys": k, "values": v})() for k, v in pairs]
    else:
        raise ModelRefError(f"cannot read the KV cache of type {type(cache).__name__}")
    kv: dict[int, torch.Tensor] = {}
    conv: dict[int, torch.Tensor] = {}
    recurrent: dict[int, torch.Tensor] = {}
    for layer in layers:
        for name in ("keys", "values"):
            t = getattr(layer, name, None)
            if isinstance(t, torch.Tensor):
                kv.setdefault(id(t), t)
        for name, into in (("conv_states", conv), ("recurrent_states", recurrent)):
            states = getattr(layer, name, None)
            values = states.values() if isinstance(states, dict) else [states]
            for t in values:
                if isinstance(t, torch.Tensor):
                    into.setdefault(id(t), t)
    state = sum(t.numel() for t in conv.values()) * conv_bits // 8
    state += sum(t.numel() * t.element_size() for t in recurrent.values())
    return sum(t.numel() for t in kv.values()), state


def mla_decode_costs(config: Any, context: int) -> tuple[Cost, Cost] | None:
    """(as transformers runs it, with absorbed weights): the attention core of one decode token over
    ``context`` cached tokens, summed over the MLA layers; None for other attention."""
    config = _text(config)
    if not getattr(config, "kv_lora_rank", None):
        return None
    layers = sum(1 for layer in cache_layers(config) if layer.kind == "mla")
    args = (
        config.num_attention_heads, config.kv_lora_rank, config.qk_nope_head_dim, config.qk_rope_head_dim,
        config.v_head_dim, context,
    )  # fmt: skip
    return formula("mla_decode_expanded")(*args) * layers, formula("mla_decode_absorbed")(*args) * layers


def kv_storage_bytes(cache: Any, bits: int) -> dict[int, int]:
    """{id of each key / value storage in ``cache``: its bytes at ``bits`` per element} (for re-pricing the peak)."""
    out: dict[int, int] = {}
    for layer in getattr(cache, "layers", []):
        for name in ("keys", "values"):
            t = getattr(layer, name, None)
            if isinstance(t, torch.Tensor) and t.dim() > 0:
                s = t.untyped_storage()
                out[id(s)] = -(-(s.nbytes() // t.element_size()) * bits // 8)
    return out
