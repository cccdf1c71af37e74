"""PyTorch's choice of scaled-dot-product attention kernel, as pure checks on tensor metadata.

On meta, PyTorch always runs the math kernel (no device backend to ask), so the memory run asks these rules
instead. They transcribe the dispatcher's filters (torch 2.x):
- CPU: ``use_flash_attention_cpp`` in aten/src/ATen/native/transformers/sdp_utils_cpp.cpp (flash, else math),
  with the checks of sdp_utils_cpp.h: no dropout, 4-D q/k/v, equal batch and heads (GQA with ``enable_gqa``,
  MQA with one KV head), an attention mask that does **not** require grad and broadcasts as 2-D or 4-D,
  equal head dims, non-empty sequences, unit last-dim strides, q/k/v of one of fp32/fp64/bf16/fp16.
- CUDA (sm80+): ``can_use_flash_attention`` and ``can_use_mem_efficient_attention`` in
  aten/src/ATen/native/transformers/cuda/sdp_utils.cpp (flash, else efficient, else math). Flash: no mask,
  head dim <= 256 and equal, fp16/bf16, no causal with T_q != T_k. Efficient: fp32/fp16/bf16, head dims
  aligned (8 elements at half precision, 4 at fp32), aligned storage offsets; masks allowed, trainable or not.
The runtime switches (``torch.backends.cuda.enable_flash_sdp`` ..., ``torch.nn.attention.sdpa_kernel``) are
honored for ``auto``, as PyTorch honors them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

_CPU_FLASH_DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)
_HALF = (torch.float16, torch.bfloat16)
_EFFICIENT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


@dataclass(frozen=True)
class SdpaCall:
    """The arguments of one ``F.scaled_dot_product_attention`` call."""

    query: Any
    key: Any
    value: Any
    attn_mask: Any = None
    dropout_p: float = 0.0
    is_causal: bool = False
    scale: float | None = None
    enable_gqa: bool = False

    @classmethod
    def bind(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> SdpaCall:
        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
        bound = dict(zip(names, args, strict=False)) | kwargs
        return cls(
            bound.get("query"),
            bound.get("key"),
            bound.get("value"),
            bound.get("attn_mask"),
            float(bound.get("dropout_p", 0.0) or 0.0),
            bool(bound.get("is_causal", False)),
            bound.get("scale"),
            bool(bound.get("enable_gqa", False)),
        )

    def unbatched(self) -> bool:
        qkv = (self.query, self.key, self.value)
        return all(isinstance(t, torch.Tensor) and not t.is_nested and t.dim() == 3 for t in qkv)

    def batched(self) -> SdpaCall:
        """normalize_unbatched_input (sdp_utils_cpp.h): 3-D q/k/v get a batch of one, the mask up to 4-D."""
        if not self.unbatched():
            return self
        mask = self.attn_mask
        while mask is not None and mask.dim() < 4:
            mask = mask.unsqueeze(0)
        q, k, v = (t.unsqueeze(0) for t in (self.query, self.key, self.value))
        return replace(self, query=q, key=k, value=v, attn_mask=mask)

    def dense_4d(self) -> bool:
        qkv = (self.query, self.key, self.value)
        return all(isinstance(t, torch.Tensor) and not t.is_nested and t.dim() == 4 for t in qkv)


def _heads_ok(c: SdpaCall) -> bool:
    """check_batch_size_and_num_heads_dense<supports_gqa=true, same KV heads, supports_mqa=true>."""
    q, k, v = c.query, c.key, c.value
    if not (q.shape[0] == k.shape[0] == v.shape[0]):
        return False
    hq, hk, hv = q.shape[1], k.shape[1], v.shape[1]
    if c.enable_gqa:
        return hk == hv and hk > 0 and hq % hk == 0
    return hq == hk == hv or (hq > 0 and hk == 1 and hv == 1)


def _common_ok(c: SdpaCall, ignore_singleton_dim: bool) -> bool:
    """4-D dense inputs, batch/heads, non-empty sequences, unit last-dim stride."""
    if not c.dense_4d() or not _heads_ok(c):
        return False
    if c.query.shape[-2] == 0 or c.key.shape[-2] == 0:
        return False
    unit = all(t.stride(-1) == 1 for t in (c.query, c.key, c.value))
    return unit or (ignore_singleton_dim and c.query.shape[-1] == 1)


def _same_dtype_in(c: SdpaCall, allowed: tuple[torch.dtype, ...]) -> bool:
    return c.query.dtype == c.key.dtype == c.value.dtype and c.query.dtype in allowed


def _mask_shape_ok(c: SdpaCall) -> bool:
    """check_attn_mask_shape: no grad on the mask; 2-D or 4-D, each dim equal to its target or 1."""
    m = c.attn_mask
    if m is None:
        return True
    if m.requires_grad:  # a learned bias (T5, BEiT, relpos): the fused CPU kernel has no grad for it
        return False
    if m.dim() not in (2, 4):
        return False
    q, k = c.query, c.key
    if m.shape[-2] not in (q.shape[2], 1) or m.shape[-1] not in (k.shape[2], 1):
        return False
    return m.dim() == 2 or (m.shape[0] in (q.shape[0], 1) and m.shape[1] in (q.shape[1], 1))


def cpu_flash_ok(c: SdpaCall) -> bool:
    """use_flash_attention_cpp."""
    return (
        c.dropout_p == 0.0
        and _common_ok(c, ignore_singleton_dim=False)
        and _mask_shape_ok(c)
        and c.query.shape[-1] == c.key.shape[-1] == c.value.shape[-1]
        and _same_dtype_in(c, _CPU_FLASH_DTYPES)
    )


def cuda_flash_ok(c: SdpaCall) -> bool:
    """can_use_flash_attention on sm80+ (FlashAttention-2)."""
    if not _common_ok(c, ignore_singleton_dim=True) or c.attn_mask is not None:
        return False
    d = c.query.shape[-1]
    if not (d == c.key.shape[-1] == c.value.shape[-1] and d <= 256):
        return False
    if c.is_causal and c.query.shape[-2] != c.key.shape[-2]:  # check_flash_causal_non_square_seqlens
        return False
    return _same_dtype_in(c, _HALF)


def efficient_ok(c: SdpaCall) -> bool:
    """can_use_mem_efficient_attention on sm80+ (minimum_gemm_alignment: 8 elements at half, 4 at fp32)."""
    if not _common_ok(c, ignore_singleton_dim=False) or not _same_dtype_in(c, _EFFICIENT_DTYPES):
        return False
    align = 8 if c.query.dtype in _HALF else 4
    dq, dv = c.query.shape[-1], c.value.shape[-1]
    if dq != c.key.shape[-1] or dq % align or dv % align or dq == 0 or dv == 0:
        return False
    return all(t.storage_offset() % align == 0 for t in (c.query, c.key, c.value))


def choose(c: SdpaCall, kernel: str, target: str) -> str:
    """``flash``, ``efficient`` or ``math``: the kernel asked for when it can take this call, else math;
    for ``auto``, the first kernel the ``target`` dispatcher would pick."""
    c = c.batched()
    flash_ok = cpu_flash_ok if target == "cpu" else cuda_flash_ok
    if kernel == "flash":
        return "flash" if flash_ok(c) else "math"
    if kernel == "efficient":
        return "efficient" if efficient_ok(c) else "math"
    if kernel == "math":
        return "math"
    backends = torch.backends.cuda  # the switches are global: they govern the CPU dispatcher too
    if backends.flash_sdp_enabled() and flash_ok(c):
        return "flash"
    if target == "cuda" and backends.mem_efficient_sdp_enabled() and efficient_ok(c):
        return "efficient"
    return "math"
