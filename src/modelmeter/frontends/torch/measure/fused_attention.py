"""On meta, run scaled-dot-product attention through the kernel a real device would pick.

PyTorch's backend choice for ``F.scaled_dot_product_attention`` returns the *math* backend on meta, which
materializes the (B, H, T_q, T_k) attention probabilities and saves them for backward. Real devices usually run
a fused kernel (CPU: ``_scaled_dot_product_flash_attention_for_cpu``; CUDA: flash / memory-efficient) that keeps
only the output and the log-sum-exp per row, (B, H, T_q); they fall back to math when the call does not fit the
kernel (dropout on the CPU, a mask that requires grad, ...). ``sdpa_choice`` transcribes those rules; this mode
applies them on meta and runs the chosen kernel's own aten op, whose meta implementation and autograd node save
exactly what the real kernel saves. The arithmetic is the same either way: Q·Kᵀ and P·V MACs.

``nn.MultiheadAttention`` (and so ``nn.TransformerEncoderLayer``) calls SDPA from inside
``F.multi_head_attention_forward``, a Python function that dispatches to this mode *before* its body runs, with
the mode switched off for the body; the mode therefore runs that function with ``F.scaled_dot_product_attention``
bound to its own router, and puts the original back when the call returns or raises. At inference on the CPU,
where a real run would take ``nn.MultiheadAttention``'s fast path, that function is priced as the fast path's
kernel instead (native_mha.py), counted as ``native-mha``.
"""

from __future__ import annotations

import inspect
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from .native_mha import native_mha_cpu, native_mha_real
from .sdpa_choice import SdpaCall, choose

_SDPA = F.scaled_dot_product_attention
_MHA = F.multi_head_attention_forward
_MHA_SIGNATURE = inspect.signature(_MHA)
_ATEN = torch.ops.aten
# torch's SDPBackend enum values, as torch._fused_sdp_choice returns them for real tensors
_BACKENDS = {0: "math", 1: "flash", 2: "efficient", 3: "cudnn", 4: "overrideable"}


def _float_mask(mask: Any, dtype: torch.dtype) -> Any:
    """convert_boolean_attn_mask (attention.cpp): True keeps, False becomes -inf, in the query's dtype."""
    if mask is None or mask.dtype != torch.bool:
        return mask
    return torch.zeros_like(mask, dtype=dtype).masked_fill_(mask.logical_not(), float("-inf"))


def _cpu_flash(c: SdpaCall) -> Any:
    mask = _float_mask(c.attn_mask, c.query.dtype)
    out, _ = _ATEN._scaled_dot_product_flash_attention_for_cpu(
        c.query, c.key, c.value, c.dropout_p, c.is_causal, attn_mask=mask, scale=c.scale
    )
    return out


def _cuda_flash(c: SdpaCall) -> Any:
    """attention.cpp's flash case: head dim padded to a multiple of 8 (copies), output sliced back."""
    d = c.query.shape[-1]
    scale = c.scale if c.scale is not None else 1.0 / math.sqrt(d)
    q, k, v = c.query, c.key, c.value
    if d % 8:
        q, k, v = (F.pad(t, (0, 8 - d % 8)) for t in (q, k, v))
    out = _ATEN._scaled_dot_product_flash_attention(q, k, v, c.dropout_p, c.is_causal, False, scale=scale)[0]
    return out[..., :d] if d % 8 else out


def _cuda_efficient(c: SdpaCall) -> Any:
    """attention.cpp's efficient case: the bias padded to an aligned last dim if needed and expanded to
    (B, H, T_q, T_k); log-sum-exp computed when a backward will need it."""
    q, k, v = c.query, c.key, c.value
    if k.shape[1] != q.shape[1]:  # GQA / MQA: the CUTLASS kernel reads one KV head per query head
        k, v = (t.repeat_interleave(q.shape[1] // t.shape[1], dim=1) for t in (k, v))
    mask = _float_mask(c.attn_mask, q.dtype)
    if mask is not None:
        if any(s % 8 for s in mask.stride()[:-1]):
            t_k = mask.shape[-1]
            mask = F.pad(mask, (0, -t_k % 8))[..., :t_k]
        mask = mask.expand(q.shape[0], q.shape[1], q.shape[2], k.shape[2])
    lse = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v))
    return _ATEN._scaled_dot_product_efficient_attention(q, k, v, mask, lse, c.dropout_p, c.is_causal, scale=c.scale)[0]


class FusedAttentionOnMeta(TorchFunctionMode):
    """Routes ``F.scaled_dot_product_attention`` on 4-D meta tensors to the kernel ``kernel`` names (``auto``:
    the one the ``target`` device's dispatcher picks), counting the calls per kernel in ``kernels``; everything
    else passes through."""

    def __init__(self, kernel: str = "auto", target: str = "cpu") -> None:
        super().__init__()
        self.kernel = kernel
        self.target = target
        self.kernels: Counter[str] = Counter()
        self.native_mha = False  # set by native_mha.fast_path_flags while a real run would take MHA's fast path
        self._runners: dict[str, Callable[[SdpaCall], Any]] = {
            "flash": _cpu_flash if target == "cpu" else _cuda_flash,
            "efficient": _cuda_efficient,
        }

    def routes(self) -> dict[Any, Callable[..., Any]]:
        """The functions this mode replaces, and by what: for a function mode that runs them itself (the
        collector counts through one mode, not two; every other function passes through unchanged)."""
        return {_SDPA: self.sdpa, _MHA: self.mha}

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is _SDPA:
            return self.sdpa(*args, **kwargs)
        if func is _MHA:
            return self.mha(*args, **kwargs)
        return func(*args, **kwargs)

    def mha(self, *args: Any, **kwargs: Any) -> Any:
        """``F.multi_head_attention_forward``: priced as the fast path's kernel where a real run would take it,
        else run with its inner SDPA call routed through :meth:`sdpa`."""
        if self.native_mha and self.kernel == "auto" and self.target == "cpu":
            self.kernels["native-mha"] += 1
            a = _MHA_SIGNATURE.bind(*args, **kwargs).arguments
            masks = (a.get("attn_mask") is not None, a.get("key_padding_mask") is not None)
            need, average = a.get("need_weights", True), a.get("average_attn_weights", True)
            priced = native_mha_cpu(args[0], args[4], args[5], *masks, need, average)
            if args[0].is_meta:
                return priced
            del priced  # the CPU fallback: its buffers were allocated (and freed) above; values from the kernel
            return native_mha_real(a)
        F.scaled_dot_product_attention = self.sdpa  # the body looks the name up in F's globals
        try:
            return _MHA(*args, **kwargs)
        finally:
            F.scaled_dot_product_attention = _SDPA

    def sdpa(self, *args: Any, **kwargs: Any) -> Any:
        c = SdpaCall.bind(args, kwargs)
        unbatched = c.unbatched()
        c = c.batched()
        if not c.dense_4d() or not all(t.is_meta for t in (c.query, c.key, c.value)):
            self._count_real(args, kwargs)
            return _SDPA(*args, **kwargs)
        kernel = choose(c, self.kernel, self.target)
        self.kernels[kernel] += 1
        if kernel == "math":
            return _SDPA(*args, **kwargs)  # on meta, PyTorch's own path is the math kernel
        out = self._runners[kernel](c)
        return out.squeeze(0) if unbatched else out

    def _count_real(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Real tensors (the CPU fallback) run PyTorch's own choice: record which."""
        choice = getattr(torch, "_fused_sdp_choice", None)
        try:
            picked = _BACKENDS.get(int(choice(*args, **kwargs)), "math") if choice is not None else "math"
        except (RuntimeError, TypeError):
            picked = "math"
        self.kernels[picked] += 1
