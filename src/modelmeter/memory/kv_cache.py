"""The KV cache of a decoder: each layer keeps a key and a value vector per KV head for every past token.

    KV bytes = 2 · layers · kv_heads · head_dim · seq · batch · bytes_per_element

(2 for K and V; with grouped-query attention, Ainslie et al. 2023, ``kv_heads`` < attention heads.)
"""

from __future__ import annotations


def kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, seq: int, batch: int, bytes_per_element: float) -> int:
    return int(2 * layers * kv_heads * head_dim * seq * batch * bytes_per_element)
