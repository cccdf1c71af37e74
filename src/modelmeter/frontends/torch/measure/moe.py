"""Mixture-of-experts layers of ``transformers`` models on meta, run as a real device runs them.

transformers >= 5 runs experts through ``grouped_mm`` by default: the routed tokens, sorted by expert, go
through one grouped matmul per projection, ``(S, K) x (E, K, N) -> (S, N)`` for S = tokens x top-k, and
autograd saves the ``(S, K)`` input and the weight itself. Its other choice, ``batched_mm``, gathers a copy
of each routed token's expert weights (``gate_up_proj[expert_ids]``, an ``(S, N, K)`` tensor), which is
what it really allocates but not what a default run does: counted as activations, it inflated a tiny
Mixtral's saved tensors 100x (1.6 GB against 16 MB in a real CPU step).

The grouped kernel has no meta implementation for float32 (``Expected mat_a to be BFloat16``) and checks
16-byte strides, so on meta each ``grouped_mm`` call is replaced by ``mm(input, weight[0])``: the same
output shape and dtype, the same multiply-accumulates (S·K·N), the same tensors saved for backward (the input,
and a view of the weight, i.e. the parameter), and a backward of the same cost (input gradient S·K·N, weight
gradient K·S·N into an (E, K, N) gradient). Only shapes exist on meta, so the values do not matter; on real
tensors the model's own kernel runs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode

_GROUPED = tuple(
    f for f in (getattr(torch.nn.functional, "grouped_mm", None), getattr(torch, "_grouped_mm", None)) if f is not None
)


class GroupedMMOnMeta(TorchFunctionMode):
    """``grouped_mm(a (S, K), b (E, K, N), offs)`` on meta as ``mm(a, b[0])``; everything else passes."""

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func in _GROUPED and len(args) >= 2:
            a, b = args[0], args[1]
            if (
                isinstance(a, torch.Tensor)
                and isinstance(b, torch.Tensor)
                and a.is_meta
                and a.dim() == 2
                and b.dim() == 3
                and kwargs.get("bias") is None
            ):
                return torch.mm(a, b[0].to(a.dtype))
        return func(*args, **kwargs)


def grouped_experts_forward(self: Any, hidden_states: Any, top_k_index: Any, top_k_weights: Any) -> Any:
    from transformers.integrations.moe import grouped_mm_experts_forward

    if not hidden_states.is_meta:
        return grouped_mm_experts_forward(self, hidden_states, top_k_index, top_k_weights)
    with GroupedMMOnMeta():
        return grouped_mm_experts_forward(self, hidden_states, top_k_index, top_k_weights)


def is_experts(module: torch.nn.Module) -> bool:
    """An experts module wrapped by transformers' ``use_experts_implementation`` (3-D expert weights)."""
    return all(hasattr(module, a) for a in ("has_gate", "is_transposed", "has_bias", "_is_expert_parallel"))
