"""On meta, run scaled-dot-product attention through the fused kernel a real device would pick.

PyTorch's backend choice for ``F.scaled_dot_product_attention`` returns the *math* backend on meta, which
materializes the (B, H, T_q, T_k) attention probabilities and saves them for backward. Real devices run a
fused kernel (CPU: ``_scaled_dot_product_flash_attention_for_cpu``; CUDA: flash / memory-efficient) that
keeps only the output and the log-sum-exp per row, (B, H, T_q). Memory measured on meta would otherwise
overstate attention's activations by the T_q x T_k matrix per head (for a 70B Llama at 2k tokens, about a
quarter of all saved activations). The arithmetic is the same either way: Q·Kᵀ and P·V MACs.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

_FLASH_CPU = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)


def _fusable(q: Any, k: Any, v: Any) -> bool:
    return (
        _FLASH_CPU is not None
        and all(isinstance(t, torch.Tensor) and t.is_meta and t.dim() == 4 for t in (q, k, v))
        and q.dtype in (torch.float32, torch.float64, torch.bfloat16, torch.float16)
        and k.shape[1] > 0
        and q.shape[1] % k.shape[1] == 0
    )


class FusedAttentionOnMeta(TorchFunctionMode):
    """Routes ``F.scaled_dot_product_attention`` on 4-D meta tensors to the CPU flash kernel's meta
    implementation (same arguments: mask, causal, dropout, scale); everything else passes through."""

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is not F.scaled_dot_product_attention:
            return func(*args, **kwargs)
        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
        bound = dict(zip(names, args, strict=False)) | kwargs
        q, k, v = bound.get("query"), bound.get("key"), bound.get("value")
        if not _fusable(q, k, v):
            return func(*args, **kwargs)
        if k.shape[1] != q.shape[1] and not bound.get("enable_gqa", False):
            return func(*args, **kwargs)  # let PyTorch raise its own error
        # grouped-query attention (enable_gqa): the fused kernel reads each KV head for H_q / H_kv query heads
        out, _ = _FLASH_CPU(
            q,
            k,
            v,
            float(bound.get("dropout_p", 0.0)),
            bool(bound.get("is_causal", False)),
            attn_mask=bound.get("attn_mask"),
            scale=bound.get("scale"),
        )
        return out
