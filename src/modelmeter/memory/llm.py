"""LLM sizing as data: parameters by part, MoE total vs active, KV cache, prefill vs decode, token budgets.

The training-compute rule of thumb C ≈ 6·N·D (Kaplan et al. 2020, section 2.1; Hoffmann et al. 2022,
"Chinchilla") counts 2·N FLOPs per token forward and 4·N backward for the N parameters, and nothing else.
The measured figure differs because it (a) adds attention's score and weighted-value products, 2·L·T·d
MACs per token forward (L layers, context T, width d), 12·L·T·d FLOPs forward + backward (PaLM,
Chowdhery et al. 2022, appendix B: 6·N + 12·L·H·Q·T), which have no parameters, (b) adds the non-matmul arithmetic
the registry counts (bias adds, ...), (c) leaves out the embedding lookup, whose parameters are in N but do
no arithmetic, and (d) leaves out the input gradient of the first layer, which backward never computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PARTS = ("embedding", "attention", "mlp", "norm", "head", "other")


@dataclass(frozen=True)
class MoE:
    experts: int
    experts_per_token: int
    expert_params: int
    active_params: int

    def to_dict(self) -> dict[str, int]:
        return {
            "experts": self.experts,
            "experts_per_token": self.experts_per_token,
            "expert_params": self.expert_params,
            "active_params": self.active_params,
        }


@dataclass(frozen=True)
class LLMSizing:
    """What a decoder costs to serve and to train, at ``batch`` x ``seq_len`` tokens.

    ``kv_cache`` is measured (the attention cache the model's own forward builds, re-priced at ``kv_dtype``);
    ``kv_cache_formula`` is the same from the config, layer by layer (full, sliding window, MLA latent;
    memory/kv_cache.py), for comparison; ``state_cache`` the state-space layers' states.
    ``decode_flops_per_token`` is one new token with ``seq_len`` tokens already in the cache.
    """

    params: int
    params_by_part: tuple[tuple[str, int], ...]
    moe: MoE | None
    seq_len: int
    batch: int
    kv_dtype: str
    kv_cache: int
    kv_cache_formula: int | None
    prefill_flops_per_token: int
    decode_flops_per_token: int
    prefill_macs_per_token: int
    decode_macs_per_token: int
    training_flops_per_token: int | None = None
    training_macs_per_token: int | None = None
    tokens: int | None = None
    # state-space layers (Mamba, Jamba): conv + SSM state per sequence, measured and from the config
    state_cache: int = 0
    state_cache_formula: int | None = None
    # MLA: the decode step as a serving engine runs it with absorbed weights (formulas/mla.py), beside the
    # measured figure, which re-expands the latent cache every step as transformers does
    decode_absorbed_macs_per_token: int | None = None
    decode_absorbed_flops_per_token: int | None = None

    @property
    def training_flops(self) -> int | None:
        if self.tokens is None or self.training_flops_per_token is None:
            return None
        return self.training_flops_per_token * self.tokens

    @property
    def six_n_d(self) -> int | None:
        """6·N·D with N the parameters one token runs through: a mixture of experts' active parameters."""
        n = self.moe.active_params if self.moe else self.params
        return 6 * n * self.tokens if self.tokens is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "params": self.params,
            "params_by_part": dict(self.params_by_part),
            "moe": self.moe.to_dict() if self.moe else None,
            "seq_len": self.seq_len,
            "batch": self.batch,
            "kv_dtype": self.kv_dtype,
            "kv_cache": self.kv_cache,
            "kv_cache_formula": self.kv_cache_formula,
            "prefill_flops_per_token": self.prefill_flops_per_token,
            "decode_flops_per_token": self.decode_flops_per_token,
            "training_flops_per_token": self.training_flops_per_token,
            "prefill_macs_per_token": self.prefill_macs_per_token,
            "decode_macs_per_token": self.decode_macs_per_token,
            "training_macs_per_token": self.training_macs_per_token,
            "state_cache": self.state_cache,
            "state_cache_formula": self.state_cache_formula,
            "decode_absorbed_flops_per_token": self.decode_absorbed_flops_per_token,
            "decode_absorbed_macs_per_token": self.decode_absorbed_macs_per_token,
        }
        if self.tokens is not None:
            out["token_budget"] = {
                "tokens": self.tokens,
                "training_flops": self.training_flops,
                "six_n_d": self.six_n_d,
            }
        return out


def parse_tokens(text: str | int) -> int:
    """'1T' -> 10**12, '300B' -> 3 * 10**11, '2.5M' -> 2_500_000 (SI prefixes, as token budgets are given)."""
    from ..errors import UsageError

    if isinstance(text, int):
        return text
    scale = {"K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
    s = str(text).strip().upper()
    try:
        if s and s[-1] in scale:
            return int(float(s[:-1]) * scale[s[-1]])
        return int(float(s))
    except ValueError:
        raise UsageError(f"--tokens {text!r}: expected a count like 1T, 300B or 2.5M") from None
