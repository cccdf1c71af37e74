"""Multi-head latent attention (MLA; DeepSeek-V2, arXiv 2405.04434, section 2.1) at decode: one new token
attending to ``context`` cached tokens, per layer. Only the part that differs between the two ways to run it
is here; the query, latent (``kv_a``) and output projections cost the same either way.

The cache holds one latent vector per token, ``kv_lora_rank`` (r) wide, and one shared rotary key
(``qk_rope_head_dim``, d_r): H heads' keys (d_n + d_r wide) and values (d_v) are ``kv_b_proj`` of the latent.

- **expanded** (what ``transformers`` runs): every step re-expands the whole cache, context · r · H·(d_n + d_v)
  MACs, then attends with full heads: H · context · (d_n + d_r) scores and H · context · d_v weighted values.
- **absorbed** (serving engines: the paper's "absorb W^UK into W^UQ, W^UV into W^O"): the query's no-rope
  part is projected into the latent space (H · d_n · r), scores are taken against the latent and the rotary key
  (H · context · (r + d_r)), the weights sum latents (H · context · r), and one up-projection per head gives the
  value (H · r · d_v). Nothing grows with the context but the attention itself.
"""

from __future__ import annotations

from .registry import Cost, register


@register("mla_decode_expanded")
def mla_decode_expanded_cost(
    heads: int, kv_lora_rank: int, qk_nope_head_dim: int, qk_rope_head_dim: int, v_head_dim: int, context: int
) -> Cost:
    """DeepSeek-V3 (H 128, r 512, d_n 128, d_r 64, d_v 128) over 4,096 cached tokens:
    4096·512·128·256 + 128·4096·(192 + 128) = 68,719,476,736 + 167,772,160 MACs per layer."""
    expand = context * kv_lora_rank * heads * (qk_nope_head_dim + v_head_dim)
    attend = heads * context * (qk_nope_head_dim + qk_rope_head_dim + v_head_dim)
    return Cost(macs=expand + attend)


@register("mla_decode_absorbed")
def mla_decode_absorbed_cost(
    heads: int, kv_lora_rank: int, qk_nope_head_dim: int, qk_rope_head_dim: int, v_head_dim: int, context: int
) -> Cost:
    """The same step with absorbed weights: 128·128·512 + 128·4096·(512 + 64 + 512) + 128·512·128
    = 587,202,560 MACs per layer for DeepSeek-V3 at 4,096 cached tokens."""
    r = kv_lora_rank
    q_absorb = heads * qk_nope_head_dim * r
    attend = heads * context * (r + qk_rope_head_dim + r)
    v_up = heads * r * v_head_dim
    return Cost(macs=q_absorb + attend + v_up)
