"""What a decoder keeps between tokens, per layer, from its config: the KV cache of attention layers and the
fixed-size state of state-space layers.

    full attention:    2 · kv_heads · head_dim                 elements per token (K and V; grouped-query
                       attention, Ainslie et al. 2023, has kv_heads < attention heads)
    sliding window W:  the same, for the last min(seq, W - 1) tokens only (transformers keeps W - 1: the new
                       token makes W); chunked attention likewise with its chunk
    MLA (DeepSeek-V2): kv_lora_rank + qk_rope_head_dim          elements per token, one latent vector and one
                       shared rotary key, whatever the number of heads (DeepSeek-V3: 512 + 64 = 576)
    state space:       conv_dim · conv_kernel (the causal conv's last inputs) + inner · d_state (the SSM state)
                       elements per sequence, whatever its length (Mamba, Gu & Dao 2023; Jamba's Mamba layers)

    bytes = elements · tokens kept · batch · bytes per element, summed over the layers
"""

from __future__ import annotations

from dataclasses import dataclass


def kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, seq: int, batch: int, bytes_per_element: float) -> int:
    return int(2 * layers * kv_heads * head_dim * seq * batch * bytes_per_element)


@dataclass(frozen=True)
class LayerCache:
    """One layer's cache: ``per_token`` elements for each token it keeps (``window``: the last ``window - 1``
    only), and ``conv`` + ``state`` elements per sequence (state-space layers)."""

    kind: str  # "attention", "sliding", "mla", "ssm", "none"
    per_token: int = 0
    window: int | None = None
    conv: int = 0
    state: int = 0


def kept_tokens(seq: int, window: int | None) -> int:
    return seq if window is None else min(seq, window - 1)


def kv_bytes(layers: list[LayerCache], seq: int, batch: int, bits: int) -> int:
    """Bytes of the attention (and MLA) caches after ``seq`` tokens at ``bits`` per element."""
    elements = sum(layer.per_token * kept_tokens(seq, layer.window) for layer in layers)
    return -(-elements * batch * bits // 8)


def state_bytes(layers: list[LayerCache], batch: int, conv_bits: int, state_bits: int) -> int:
    """Bytes of the state-space layers' conv and SSM states (conv at the model's dtype, the SSM state at the
    dtype its scan accumulates in: float32 in transformers' Mamba and Jamba)."""
    conv = sum(layer.conv for layer in layers) * batch * conv_bits
    state = sum(layer.state for layer in layers) * batch * state_bits
    return -(-(conv + state) // 8)
