"""Cost adapters for attention entry points and ops that models reach without nn layers, registered into the
same ``ATEN_COSTS`` table as every other adapter (formulas in ``formulas/attention.py``, ``conv.py``,
``loss.py``, ``backward.py``; rules in docs/conventions.md):

- ``aten._flash_attention_forward``: FlashAttention's kernel called directly. Dense layout (B, S, H, D):
  ``B·H · S_q·S_k · (D + D_v)`` MACs, as SDPA; with ``cum_seq_q`` / ``cum_seq_k`` it is the varlen form.
- ``torch.nn.attention.varlen.varlen_attn`` (the ``torch_attn::_varlen_attn`` op), packed sequences
  (T, H, D): each sequence attends its own tokens, ``H · Σ_i T_q,i · T_k,i · (D + D_v)``. The lengths are read
  off the offsets when those are real tensors; offsets on meta carry no values, and the count is then the
  upper bound N sequences of ``max_q x max_k``, with a note saying so.
- ``aten.col2im`` (``F.fold``, VOLO's outlook attention): one add per column element.
- ``aten.native_group_norm_backward`` (training through GroupNorm, MobileViTv2): the norm backward rule.
- ``aten.nll_loss_forward`` / ``nll_loss2d_forward`` (a model called with labels): formulas/loss.py.
"""

from __future__ import annotations

from typing import Any

import torch

from ....formulas import Cost, formula
from ....formulas.attention import visible_pairs
from .forward import LAZY_COSTS, Call, costs, ops_named, shape_of

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}  # torch's Reduction enum in aten loss signatures


def _lengths(offsets: Any) -> list[int] | None:
    """Sequence lengths from cumulative offsets (0, 128, 192) -> [128, 64]; None where values are unknown."""
    if not isinstance(offsets, torch.Tensor) or offsets.device.type == "meta":
        return None
    values = [int(v) for v in offsets.tolist()]
    return [b - a for a, b in zip(values, values[1:], strict=False)]


def _varlen(
    c: Call, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offsets: tuple[Any, Any, Any], limits: tuple[int, int],
    is_causal: bool, window_left: int | None,
) -> Cost:  # fmt: skip
    """Packed sequences: q (T_q, H, D), k (T_k, H_kv, D), v (T_k, H_kv, D_v)."""
    cu_q, cu_k, used_k = offsets
    heads, d, d_v = q.shape[1], q.shape[-1], v.shape[-1]
    seq_q, seq_k = _lengths(cu_q), _lengths(used_k) if used_k is not None else _lengths(cu_k)
    if used_k is not None and seq_k is not None:  # seqused_k holds lengths, not offsets
        seq_k = [int(x) for x in used_k.tolist()]
    count = (cu_q.shape[0] - 1) if isinstance(cu_q, torch.Tensor) else 1
    if seq_q is None or seq_k is None or len(seq_q) != len(seq_k):
        seq_q, seq_k = [limits[0]] * count, [limits[1]] * count
        if c.notes is not None:
            c.notes.add(
                "varlen attention: its sequence offsets are meta tensors, which hold no values, so it is counted "
                f"as {count} sequences of max_q x max_k = {limits[0]} x {limits[1]} (an upper bound); give the "
                "offsets as CPU tensors for the exact count"
            )
    lengths = list(zip(seq_q, seq_k, strict=True))
    pairs = None
    if c.attention == "causal-aware" and is_causal:
        window = window_left + 1 if window_left is not None and window_left >= 0 else None
        pairs = [visible_pairs(tq, tk, window, offset=tk - tq) for tq, tk in lengths]
    return formula("varlen_attention")(lengths, int(heads), int(d), int(d_v), masked=bool(is_causal), pairs=pairs)


# _flash_attention_forward(query, key, value, cum_seq_q, cum_seq_k, max_q, max_k, dropout_p, is_causal,
#                          return_debug_mask, scale=None, window_size_left=None, window_size_right=None,
#                          seqused_k=None, alibi_slopes=None, block_table=None, num_splits=None)
@costs(*ops_named("_flash_attention_forward"))
def _flash_attention_forward(c: Call) -> Cost:
    q, k, v = c.args[0], c.args[1], c.args[2]
    is_causal = bool(c.arg(8, "is_causal", False))
    window_left = c.arg(11, "window_size_left")
    cu_q, cu_k = c.arg(3, "cum_seq_q"), c.arg(4, "cum_seq_k")
    if cu_q is not None or q.dim() == 3:
        limits = (int(c.arg(5, "max_q")), int(c.arg(6, "max_k")))
        return _varlen(c, q, k, v, (cu_q, cu_k, c.arg(13, "seqused_k")), limits, is_causal, window_left)
    # dense (B, S, H, D) -> the SDPA layout (B, H, S, D)
    b, s_q, h, d = shape_of(q)
    s_k, d_v = k.shape[1], v.shape[-1]
    pairs = None
    if c.attention == "causal-aware" and is_causal:
        window = window_left + 1 if isinstance(window_left, int) and window_left >= 0 else None
        pairs = visible_pairs(s_q, int(s_k), window, offset=int(s_k) - s_q)
    return formula("attention")(
        (b, h, s_q, d), (b, h, int(s_k), d), (b, h, int(s_k), int(d_v)), masked=is_causal, pairs=pairs
    )


# _varlen_attn(query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, is_causal=False, scale=None,
#              window_size=None, enable_gqa=False, seqused_k=None, block_table=None, num_splits=None):
# ``torch_attn::_varlen_attn`` exists once torch.nn.attention.varlen is imported (torch >= 2.9), which a model
# calling it has done; registered by name so that modelmeter need not import it (forward.LAZY_COSTS)
def _varlen_attn(c: Call) -> Cost:
    window = c.arg(9, "window_size") or [-1, -1]
    limits = (int(c.arg(5, "max_q")), int(c.arg(6, "max_k")))
    offsets = (c.args[3], c.arg(4, "cu_seq_k"), c.arg(11, "seqused_k"))
    return _varlen(c, c.args[0], c.args[1], c.args[2], offsets, limits, bool(c.arg(7, "is_causal")), window[0])


LAZY_COSTS["torch_attn::_varlen_attn"] = _varlen_attn


# col2im(input, output_size, kernel_size, dilation, padding, stride)
@costs(*ops_named("col2im"))
def _col2im(c: Call) -> Cost:
    return formula("col2im")(shape_of(c.args[0]))


# native_group_norm_backward(grad_out, input, mean, rstd, weight, N, C, HxW, group, output_mask)
@costs(*ops_named("native_group_norm_backward"))
def _group_norm_backward(c: Call) -> Cost:
    x, weight, mask = c.args[1], c.arg(4, "weight"), c.arg(9, "output_mask", (True, True, True))
    return formula("norm_backward")(
        x.numel(), stats=True, weight=weight is not None, input_grad=mask[0], weight_grad=mask[1], bias_grad=mask[2]
    )


# nll_loss_forward(self, target, weight, reduction, ignore_index); nll_loss2d_forward alike
@costs(*ops_named("nll_loss_forward", "nll_loss2d_forward"))
def _nll_loss(c: Call) -> Cost:
    target, weight = c.args[1], c.arg(2, "weight")
    reduction = _REDUCTIONS.get(int(c.arg(3, "reduction", 1)), "mean")
    return formula("nll_loss")(target.numel(), weight=weight is not None, reduction=reduction)
