"""The ``nn.MultiheadAttention`` inference fast path on the CPU, priced on meta.

In eval under ``no_grad``, ``nn.MultiheadAttention.forward`` (and so ``nn.TransformerEncoderLayer``, whose fused
layer calls the same kernel) runs ``torch._native_multi_head_attention``, unless any condition of its fast path
fails. PyTorch skips that path while a torch-function mode is active, so on meta the slow path would run (SDPA,
flash on the CPU). The CPU kernel (``native_multi_head_attention_cpu``, aten/src/ATen/native/transformers/
attention.cpp) instead materializes the scores: the packed projection ``qkv`` (B, T, 3E), then
``_transform_bias_rescale_qkv`` writes q, k, v as (3, B, H, T, E/H) while ``qkv`` is alive, then ``bmm_nt`` the
(B, H, T, T) scores, softmax in place (``masked_softmax`` into a second (B, H, T, T) buffer when there is a mask),
P·V into q's storage, and the output projection (B, T, E), once the scores are freed unless they are returned
(``need_weights``: averaged over heads into a (B, T, T) buffer by default). It is emulated here with the same
allocations (``native_mha_cpu`` gives the peaks, checked against real runs in tests/test_attention_kernels.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


def layer_takes_fast_path(layer: nn.TransformerEncoderLayer, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """The conditions of ``nn.TransformerEncoderLayer.forward``'s fast path (torch/nn/modules/transformer.py,
    ``torch._transformer_encoder_layer_fwd``, whose attention is the same native kernel), as a real CPU run of the
    model without modelmeter's hooks would see them. It takes the masks after converting them to float, so its
    attention may run natively where ``nn.MultiheadAttention``'s own rule (no float masks) says no."""
    try:
        src = inspect.signature(layer.forward).bind(*args, **kwargs).arguments.get("src")
    except TypeError:
        return False
    attn = layer.self_attn
    params = [p for p in layer.parameters() if p is not None]
    return (
        torch.backends.mha.get_fastpath_enabled()
        and isinstance(src, torch.Tensor)
        and src.dim() == 3
        and not src.is_nested
        and not layer.training
        and attn.batch_first
        and attn.in_proj_bias is not None
        and attn._qkv_same_embed_dim
        and bool(layer.activation_relu_or_gelu)
        and layer.norm1.eps == layer.norm2.eps
        and attn.num_heads % 2 == 0
        and not torch.is_autocast_enabled()
        and not (torch.is_grad_enabled() and any(t.requires_grad for t in (src, *params)))
    )


def takes_fast_path(
    module: nn.MultiheadAttention, args: tuple[Any, ...], kwargs: dict[str, Any], in_fast_layer: bool = False
) -> bool:
    """The conditions of ``nn.MultiheadAttention.forward``'s fast path (torch/nn/modules/activation.py), as a real
    CPU run in the current grad mode would see them (boolean masks only; ``is_causal`` calls are left out), or
    ``in_fast_layer``: called by an ``nn.TransformerEncoderLayer`` that takes its own fast path."""
    if in_fast_layer:
        return True
    try:
        bound = inspect.signature(module.forward).bind(*args, **kwargs)
    except TypeError:
        return False
    a = bound.arguments
    query, key, value = a.get("query"), a.get("key"), a.get("value")
    if a.get("is_causal", False):
        return False
    masks = [m for m in (a.get("attn_mask"), a.get("key_padding_mask")) if m is not None]
    if any(not isinstance(m, torch.Tensor) or torch.is_floating_point(m) for m in masks):
        return False  # "floating-point masks are not supported for fast path"
    w, b = module.in_proj_weight, module.in_proj_bias
    params = [p for p in (w, b, module.out_proj.weight, module.out_proj.bias) if p is not None]
    return (
        torch.backends.mha.get_fastpath_enabled()
        and isinstance(query, torch.Tensor)
        and query.dim() == 3
        and query is key
        and key is value
        and w is not None
        and b is not None
        and query.dtype == w.dtype == b.dtype  # type: ignore[union-attr]
        and not module.training
        and module.num_heads % 2 == 0
        and module.batch_first
        and module.bias_k is None
        and module.bias_v is None
        and not module.add_zero_attn
        and module._qkv_same_embed_dim
        and not torch.is_autocast_enabled()
        and not (torch.is_grad_enabled() and any(t.requires_grad for t in (query, *params)))  # type: ignore[union-attr]
    )


def native_mha_cpu(
    query_tbe: torch.Tensor,
    num_heads: int,
    in_proj_weight: torch.Tensor,
    attn_mask: bool = False,
    key_padding_mask: bool = False,
    need_weights: bool = False,
    average: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The allocations of ``native_multi_head_attention_cpu`` for ``query`` as F.multi_head_attention_forward
    gets it, (T, B, E) (a transposed view of the batch-first input), with or without each mask; returns (output
    in the same layout, the attention weights or None) as that function does.

    Element counts at the peak, checked with torch.profiler at two shapes (S = B·H·T², X = B·T·E): no mask and no
    weights max(6X, S + 3X); weights per head S + 5X; averaged max(S + 5X, S + 4X + B·T²); a key padding mask
    2S + 3X; an attention mask 2S + 3X + S bool; both masks their merged float mask S more."""
    x = query_tbe.transpose(0, 1)  # (B, T, E)
    b, t, e = x.shape
    scores_shape = (b, num_heads, t, t)
    merged = x.new_empty(scores_shape) if attn_mask and key_padding_mask else None  # merge_masks, mask_type 2
    qkv = torch.matmul(x, in_proj_weight.t())  # qkv_projection: (B, T, 3E), the bias is added in the next step
    q_k_v = x.new_empty((3, b, num_heads, t, e // num_heads))  # _transform_bias_rescale_qkv
    del qkv
    scores = x.new_empty(scores_shape)  # bmm_nt
    if attn_mask or key_padding_mask:  # masked_softmax writes a new buffer; unmasked softmax runs in place
        expanded = x.new_empty(scores_shape, dtype=torch.bool) if attn_mask else None  # the mask, per head
        probs = x.new_empty(scores_shape)
        del scores, expanded
        scores = probs
    if not need_weights:
        del scores  # P·V went into q's storage
        scores = None  # type: ignore[assignment]
    ctx = x.new_empty((b, t, e))  # transform0213_gemm_nt_bias: the (B, T, E) context, then the projection
    out = x.new_empty((b, t, e))
    del ctx
    weights = scores
    if need_weights and average:
        weights = x.new_empty((b, t, t))  # qkt.sum(1) / num_heads
    del scores, q_k_v, merged
    return out.transpose(0, 1), weights


def native_mha_real(a: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """On real CPU tensors (the CPU fallback), run ``torch._native_multi_head_attention`` itself, with the masks
    merged as ``nn.MultiheadAttention.merge_masks`` merges them; ``a``: F.multi_head_attention_forward's bound
    arguments (query (T, B, E)). Returns what that function returns. (Its buffers are inside one C++ kernel,
    unseen by a dispatch mode: the caller allocates them first with ``native_mha_cpu``.)"""
    q = a["query"].transpose(0, 1)  # (B, T, E)
    b, t, e = q.shape
    h = a["num_heads"]
    attn_mask, padding = a.get("attn_mask"), a.get("key_padding_mask")
    mask, mask_type = (padding, 1) if padding is not None else (None, None)
    if attn_mask is not None:
        per_head = attn_mask.view(b, -1, t, t) if attn_mask.dim() == 3 else attn_mask.view(1, 1, t, t)
        per_head = per_head.expand(b, h, t, t)
        mask, mask_type = per_head, 2
        if padding is not None:
            mask = per_head + padding.view(b, 1, 1, t).expand(-1, h, -1, -1)
    out, weights = torch._native_multi_head_attention(
        q, q, q, e, h, a["in_proj_weight"], a["in_proj_bias"], a["out_proj_weight"], a["out_proj_bias"], mask,
        a.get("need_weights", True), a.get("average_attn_weights", True), mask_type,
    )  # fmt: skip
    return out.transpose(0, 1), weights


@contextmanager
def fast_path_flags(model: nn.Module, mode: Any) -> Iterator[None]:
    """While each ``nn.MultiheadAttention`` of ``model`` runs, ``mode.native_mha`` says whether a real CPU run
    would take its fast path; hooks removed on exit, error or not."""
    handles = []

    fast_layers: list[bool] = []  # a stack: one entry per nn.TransformerEncoderLayer running

    def pre(module: Any, args: Any, kwargs: Any) -> None:
        mode.native_mha = takes_fast_path(module, args, kwargs, bool(fast_layers) and fast_layers[-1])

    def post(module: Any, args: Any, output: Any) -> None:
        mode.native_mha = False

    def layer_pre(module: Any, args: Any, kwargs: Any) -> None:
        fast_layers.append(layer_takes_fast_path(module, args, kwargs))

    def layer_post(module: Any, args: Any, output: Any) -> None:
        if fast_layers:
            fast_layers.pop()

    try:
        for m in model.modules():
            if isinstance(m, nn.MultiheadAttention):
                handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
                handles.append(m.register_forward_hook(post))
            elif isinstance(m, nn.TransformerEncoderLayer):
                handles.append(m.register_forward_pre_hook(layer_pre, with_kwargs=True))
                handles.append(m.register_forward_hook(layer_post))
        yield
    finally:
        for h in handles:
            h.remove()
