"""PyTorch op -> cost: adapters from call signatures to the shape formulas in modelmeter.formulas.

Two tables, both filled by decorators that refuse duplicates:

- :data:`ATEN_COSTS`, keyed by aten overload packet, for the ops a ``TorchDispatchMode`` sees;
- :data:`FUNCTION_COSTS`, keyed by torch function, for compound functions whose aten decomposition depends on
  the device or backend (scaled-dot-product attention, multi-head attention, the fused transformer layer,
  RNN / LSTM / GRU and their cells). A ``TorchFunctionMode`` counts them once from their arguments and the
  aten ops they run inside are not counted again, so every device and every SDPA backend gives one answer.

Each adapter takes a :class:`Call` and returns a Cost; all arithmetic lives in the formulas. Ops in
:data:`ZERO_COST` are declared free (views, copies, allocation, indexing); any other op without an adapter is
reported as uncounted, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import ceil, prod
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils._pytree import tree_leaves

from ....formulas import Cost, formula
from ....formulas.attention import visible_pairs
from ....formulas.elementwise import ELEMENTWISE_FLOPS, REDUCTION_FLOPS
from ..tensors import tensor_leaves

aten = torch.ops.aten


@dataclass
class Call:
    """One op or function call as the counter saw it."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    out: Any
    attention: str = "full"  # "full" | "causal-aware"
    module: Any = None  # the innermost nn.Module running, for attention hints
    overload: str = field(default="default")
    notes: set[str] | None = None  # where an adapter says what a reader must know (the report's notes)

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        """Argument ``name``, passed at position ``index`` or by keyword."""
        if len(self.args) > index:
            return self.args[index]
        return self.kwargs.get(name, default)

    @property
    def out_numel(self) -> int:
        first = next(iter(tensor_leaves(self.out)), None)
        return 0 if first is None else first.numel()


Adapter = Callable[[Call], Cost]
ATEN_COSTS: dict[Any, Adapter] = {}
# adapters of ops that exist only once an optional module is imported, by qualified name ("ns::op"): importing
# the module to register them would cost every analysis (torch.nn.attention.varlen imports torch._dynamo: 1 s)
LAZY_COSTS: dict[str, Adapter] = {}
FUNCTION_COSTS: dict[Any, tuple[str, Adapter]] = {}


def shape_of(t: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def ops_named(*names: str) -> list[Any]:
    """The aten overload packets among ``names`` that this torch build has."""
    return [getattr(aten, n) for n in names if hasattr(aten, n)]


_shape, _ops = shape_of, ops_named  # the short names the adapters below use


def costs(*ops: Any) -> Callable[[Adapter], Adapter]:
    def decorate(fn: Adapter) -> Adapter:
        for op in ops:
            if op in ATEN_COSTS:
                raise ValueError(f"{op} has two cost adapters")
            ATEN_COSTS[op] = fn
        return fn

    return decorate


def function_costs(*functions: tuple[Any, str]) -> Callable[[Adapter], Adapter]:
    def decorate(fn: Adapter) -> Adapter:
        for function, name in functions:
            if function is None:  # not in this torch build
                continue
            if function in FUNCTION_COSTS:
                raise ValueError(f"{name} has two cost adapters")
            FUNCTION_COSTS[function] = (name, fn)
        return fn

    return decorate


# -- convolution -----------------------------------------------------------------------------------
# convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
@costs(*_ops("convolution", "_convolution", "convolution_overrideable"))
def _convolution(c: Call) -> Cost:
    x, w, bias = c.args[0], c.args[1], c.arg(2, "bias")
    transposed = bool(c.arg(6, "transposed", False))
    return formula("conv")(_shape(x), _shape(w), _shape(c.out), transposed=transposed, bias=bias is not None)


# -- matrix products -------------------------------------------------------------------------------
@costs(aten.mm, aten.bmm, *_ops("dot", "vdot", "mv", "matmul", "_int_mm", "_scaled_mm"))
def _matmul(c: Call) -> Cost:
    return formula("matmul")(_shape(c.args[0]), _shape(c.args[1]))


@costs(*_ops("_grouped_mm", "grouped_mm", "_scaled_grouped_mm"))
def _grouped_mm(c: Call) -> Cost:
    # Mixture-of-experts matmuls: (S, K) rows each multiplied by one group's (K, N) matrix, or a batch of
    # groups (G, M, K) @ (G, K, N): every output element accumulates K products. With both operands 2-D the
    # groups split K instead: (M, K) @ (K, N) -> (G, M, N), M·K·N products in all.
    a, b = _shape(c.args[0]), _shape(c.args[1])
    if len(a) == 2 and len(b) == 2:
        return Cost(macs=a[0] * a[1] * b[1])
    return Cost(macs=c.out_numel * a[-1])


@costs(*_ops("sort", "argsort", "msort"))
def _sort(c: Call) -> Cost:
    # sort(self, dim=-1, ...): n·ceil(log2 n) comparisons per sorted row of n elements
    x = c.args[0]
    dim = c.arg(1, "dim", -1)
    n = int(x.shape[dim]) if x.dim() else 1
    return Cost(other_flops=x.numel() * max(n - 1, 0).bit_length())


@costs(aten.addmm, *_ops("baddbmm", "addmv", "addbmm"))
def _addmm(c: Call) -> Cost:
    # addmm(self, mat1, mat2): self + mat1 @ mat2; the add of ``self`` is one FLOP per output element.
    mm = formula("matmul")(_shape(c.args[1]), _shape(c.args[2]))
    return Cost(macs=mm.macs, other_flops=c.out_numel)


@costs(*_ops("_addmm_activation"))
def _addmm_activation(c: Call) -> Cost:
    # addmm followed by relu or gelu, fused: one more FLOP per output element.
    return _addmm(c) + Cost(other_flops=c.out_numel)


@costs(*_ops("linear"))
def _linear(c: Call) -> Cost:
    w = c.args[1]
    return formula("linear")(_shape(c.args[0]), int(w.shape[0]), bias=c.arg(2, "bias") is not None)


# -- elementwise, softmax, reductions --------------------------------------------------------------
def _elementwise_name(packet_name: str) -> str | None:
    name = packet_name.removesuffix("_")  # in-place variants count alike
    return name if name in ELEMENTWISE_FLOPS else None


def _elementwise(c: Call, name: str) -> Cost:
    return formula("elementwise")(name, c.out_numel)


def _reduction(c: Call, name: str) -> Cost:
    if name in ("max", "min") and c.overload == "other":  # max(a, b): elementwise, not a reduction
        return formula("elementwise")("maximum", c.out_numel)
    return formula("reduction")(name, c.args[0].numel())


@costs(*_ops("_softmax", "_log_softmax", "_safe_softmax", "softmax", "log_softmax"))
def _softmax(c: Call) -> Cost:
    return formula("softmax")(c.out_numel)


@costs(*_ops("scatter_add", "scatter_add_", "index_add", "index_add_", "scatter_reduce", "scatter_reduce_"))
def _scatter_add(c: Call) -> Cost:
    # (self, dim, index, src, ...): one add (or max, ...) per source element
    return Cost(other_flops=c.args[3].numel())


@costs(*_ops("index_put", "index_put_", "_index_put_impl_"))
def _index_put(c: Call) -> Cost:
    # index_put(self, indices, values, accumulate): an add per value only when accumulating
    return Cost(other_flops=c.args[2].numel() if c.arg(3, "accumulate", False) else 0)


# -- normalization ---------------------------------------------------------------------------------
def _norm(numel: int, kind: str, weight: Any, bias: Any) -> Cost:
    return formula("norm")(numel, kind, weight=weight is not None, bias=bias is not None)


# native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps); the
# _legit variants share it (their no_stats overload drops the running statistics: training is arg 3).
@costs(*_ops("native_batch_norm", "_native_batch_norm_legit", "cudnn_batch_norm", "miopen_batch_norm"))
def _batch_norm(c: Call) -> Cost:
    training = c.args[3] if c.overload == "no_stats" else c.arg(5, "training", True)
    kind = "stats" if training else "inference"
    return _norm(c.args[0].numel(), kind, c.arg(1, "weight"), c.arg(2, "bias"))


@costs(*_ops("_native_batch_norm_legit_no_training", "_batch_norm_no_update"))
def _batch_norm_inference(c: Call) -> Cost:
    return _norm(c.args[0].numel(), "inference", c.arg(1, "weight"), c.arg(2, "bias"))


@costs(*_ops("_batch_norm_with_update", "_native_batch_norm_legit_functional"))
def _batch_norm_training(c: Call) -> Cost:
    return _norm(c.args[0].numel(), "stats", c.arg(1, "weight"), c.arg(2, "bias"))


# native_layer_norm(input, normalized_shape, weight, bias, eps); native_group_norm(input, weight, bias, ...)
@costs(*_ops("native_layer_norm"))
def _layer_norm(c: Call) -> Cost:
    return _norm(c.args[0].numel(), "stats", c.arg(2, "weight"), c.arg(3, "bias"))


@costs(*_ops("native_group_norm"))
def _group_norm(c: Call) -> Cost:
    return _norm(c.args[0].numel(), "stats", c.arg(1, "weight"), c.arg(2, "bias"))


# rms_norm(input, normalized_shape, weight, eps); _fused_rms_norm likewise. Counted from the function too: it
# runs as one fused kernel on some devices and as pow, mean, rsqrt and mul on others.
@function_costs((getattr(F, "rms_norm", None), "F.rms_norm"), (getattr(torch, "rms_norm", None), "torch.rms_norm"))
@costs(*_ops("_fused_rms_norm", "rms_norm"))
def _rms_norm(c: Call) -> Cost:
    return _norm(c.args[0].numel(), "rms", c.arg(2, "weight"), None)


# -- pooling and resampling ------------------------------------------------------------------------
def _spatial_dims(packet_name: str) -> int:
    return int(next(ch for ch in packet_name if ch in "123"))


def _kernel(kernel_size: Any, dims: int) -> tuple[int, ...]:
    k = [int(kernel_size)] if isinstance(kernel_size, int) else [int(s) for s in kernel_size]
    return tuple(k * dims if len(k) == 1 else k)


def _pool(c: Call, packet_name: str) -> Cost:
    return formula("pool")(c.out_numel, _kernel(c.arg(1, "kernel_size"), _spatial_dims(packet_name)))


def _adaptive_pool(c: Call, packet_name: str) -> Cost:
    d = _spatial_dims(packet_name)
    x = _shape(c.args[0])
    out = _shape(next(t for t in tree_leaves(c.out) if isinstance(t, torch.Tensor)))
    return formula("adaptive_pool")(prod(x[:-d]), x[-d:], out[-d:])


_TAPS_PER_DIM = {"linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}


def _interpolation_mode(packet_name: str) -> str:
    """upsample_bilinear2d -> bilinear; _upsample_bicubic2d_aa -> bicubic."""
    return packet_name.removeprefix("_").removeprefix("upsample_").removesuffix("_aa")[:-2]


def _interpolate(c: Call, packet_name: str) -> Cost:
    mode = _interpolation_mode(packet_name)
    d = _spatial_dims(packet_name)
    taps_per_dim = [_TAPS_PER_DIM[mode]] * d
    if packet_name.endswith("_aa"):  # antialiased downsampling widens the filter by the scale factor
        x, out = _shape(c.args[0]), _shape(c.out)
        taps_per_dim = [ceil(t * max(i / o, 1)) for t, i, o in zip(taps_per_dim, x[-d:], out[-d:], strict=True)]
    return formula("interpolate")(c.out_numel, prod(taps_per_dim))


@costs(*_ops("grid_sampler_2d", "grid_sampler_3d", "cudnn_grid_sampler"))
def _grid_sample(c: Call) -> Cost:
    # grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners); mode 0 bilinear,
    # 1 nearest (a copy), 2 bicubic
    d = 3 if c.out.dim() == 5 else 2
    mode = int(c.arg(2, "interpolation_mode", 0))
    taps = {0: 2**d, 1: 0, 2: 4**d}[mode]
    return formula("interpolate")(c.out_numel, taps) if taps else Cost()


# -- attention -------------------------------------------------------------------------------------
def _sliding_window(module: Any) -> int | None:
    """The module's ``sliding_window`` attribute, else its config's (when the config does not switch it
    off with ``use_sliding_window=False``); None for no window."""
    if hasattr(module, "sliding_window"):
        window = module.sliding_window
    else:
        config = getattr(module, "config", None)
        use = getattr(config, "use_sliding_window", True)
        window = getattr(config, "sliding_window", None) if use is not False else None
    return window if isinstance(window, int) and not isinstance(window, bool) and window > 0 else None


def _attention_pairs(c: Call, t_q: int, t_k: int, is_causal: bool, masked: bool) -> int | None:
    """Pairs computed per batch x head under ``attention="causal-aware"``; None = the full matrix.

    ``is_causal=True`` is PyTorch's top-left-aligned causal mask. A mask whose values meta tensors do not
    carry is read through the running module's hints, as Hugging Face attention modules declare them:
    ``is_causal`` (decoder attention, bottom-right aligned) and ``sliding_window`` (on the module or its
    ``config``).
    """
    if c.attention != "causal-aware":
        return None
    window = _sliding_window(c.module)
    if is_causal:
        return visible_pairs(t_q, t_k, window)
    if masked and getattr(c.module, "is_causal", False) is True:
        return visible_pairs(t_q, t_k, window, offset=t_k - t_q)
    return None


def _sdpa(c: Call, mask: Any, is_causal: bool) -> Cost:
    q, k, v = (_shape(c.args[i]) for i in range(3))
    pairs = _attention_pairs(c, q[-2], k[-2], bool(is_causal), mask is not None)
    return formula("attention")(q, k, v, masked=mask is not None or bool(is_causal), pairs=pairs)


# F.scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None)
@function_costs((F.scaled_dot_product_attention, "F.scaled_dot_product_attention"))
def _sdpa_function(c: Call) -> Cost:
    return _sdpa(c, c.arg(3, "attn_mask"), c.arg(5, "is_causal", False))


# The fused kernels behind it, counted alike when called directly: (mask argument, is_causal argument).
_SDPA_KERNELS = {
    "_scaled_dot_product_flash_attention_for_cpu": (("attn_mask", None), ("is_causal", 4)),
    "_scaled_dot_product_flash_attention": (("attn_mask", None), ("is_causal", 4)),
    "_scaled_dot_product_efficient_attention": (("attn_bias", 3), ("is_causal", 6)),
    "_scaled_dot_product_cudnn_attention": (("attn_bias", 3), ("is_causal", 6)),
    "_scaled_dot_product_fused_attention_overrideable": (("attn_bias", 3), ("is_causal", 5)),
}


def _sdpa_kernel(c: Call, packet_name: str) -> Cost:
    (mask_name, mask_at), (causal_name, causal_at) = _SDPA_KERNELS[packet_name]
    mask = c.kwargs.get(mask_name) if mask_at is None else c.arg(mask_at, mask_name)
    return _sdpa(c, mask, c.arg(causal_at, causal_name, False))


def _mha(
    c: Call,
    batch: int,
    t_q: int,
    t_k: int,
    dims: tuple[int, int, int],
    embed_dim: int,
    num_heads: int,
    bias: bool,
    masked: bool,
    is_causal: bool,
    average_weights: bool,
    extra_keys: int = 0,
) -> Cost:
    pairs = _attention_pairs(c, t_q, t_k + extra_keys, is_causal, masked)
    return formula("multi_head_attention")(
        batch, t_q, t_k, dims, embed_dim, num_heads, bias=bias, masked=masked or is_causal, pairs=pairs,
        average_weights=average_weights, extra_keys=extra_keys,
    )  # fmt: skip


# F.multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
#   in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
#   key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight,
#   v_proj_weight, static_k, static_v, average_attn_weights, is_causal); query (T, B, E) or (T, E)
@function_costs((F.multi_head_attention_forward, "F.multi_head_attention_forward"))
def _mha_function(c: Call) -> Cost:
    q, k, v = (_shape(c.args[i]) for i in range(3))
    extra_keys = (c.arg(7, "bias_k") is not None) + bool(c.arg(9, "add_zero_attn", False))
    batch = q[1] if len(q) == 3 else 1
    masked = c.arg(14, "key_padding_mask") is not None or c.arg(16, "attn_mask") is not None
    return _mha(
        c, batch, q[0], k[0], (q[-1], k[-1], v[-1]), int(c.arg(3, "embed_dim_to_check")), int(c.arg(4, "num_heads")),
        bias=c.arg(6, "in_proj_bias") is not None, masked=masked, is_causal=bool(c.arg(24, "is_causal", False)),
        average_weights=bool(c.arg(15, "need_weights", True)) and bool(c.arg(23, "average_attn_weights", True)),
        extra_keys=extra_keys,
    )  # fmt: skip


# torch._native_multi_head_attention(query, key, value, embed_dim, num_head, qkv_weight, qkv_bias, proj_weight,
#   proj_bias, mask=None, need_weights=True, average_attn_weights=True, mask_type=None); query (B, T, E)
@function_costs((getattr(torch, "_native_multi_head_attention", None), "torch._native_multi_head_attention"))
def _native_mha(c: Call) -> Cost:
    q, k, v = (_shape(c.args[i]) for i in range(3))
    batch = q[0] if len(q) == 3 else 1
    return _mha(
        c, batch, q[-2], k[-2], (q[-1], k[-1], v[-1]), int(c.args[3]), int(c.args[4]),
        bias=c.arg(6, "qkv_bias") is not None, masked=c.arg(9, "mask") is not None, is_causal=False,
        average_weights=bool(c.arg(10, "need_weights", True)) and bool(c.arg(11, "average_attn_weights", True)),
    )  # fmt: skip


# torch._transformer_encoder_layer_fwd(src, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias,
#   use_gelu, norm_first, eps, norm_weight_1, norm_bias_1, norm_weight_2, norm_bias_2, ffn_weight_1, ffn_bias_1,
#   ffn_weight_2, ffn_bias_2, mask=None, mask_type=None); src (B, T, E). The same arithmetic as
#   nn.TransformerEncoderLayer's own forward: attention, two residual adds, two layer norms, the feed-forward.
@function_costs((getattr(torch, "_transformer_encoder_layer_fwd", None), "torch._transformer_encoder_layer_fwd"))
def _transformer_encoder_layer(c: Call) -> Cost:
    src = _shape(c.args[0])
    batch, t, e = (src[0], src[1], src[2]) if len(src) == 3 else (1, src[0], src[1])
    rows, numel = batch * t, prod(src)
    ffn = int(c.args[14].shape[0])
    mha = _mha(
        c, batch, t, t, (e, e, e), int(c.args[1]), int(c.args[2]), bias=c.args[4] is not None,
        masked=c.arg(18, "mask") is not None, is_causal=False, average_weights=False,
    )  # fmt: skip
    norms = _norm(numel, "stats", c.args[10], c.args[11]) + _norm(numel, "stats", c.args[12], c.args[13])
    residual_adds = formula("elementwise")("add", numel) * 2
    feed_forward = (
        formula("linear")((rows, e), ffn, bias=c.args[15] is not None)
        + formula("elementwise")("gelu" if c.args[7] else "relu", rows * ffn)
        + formula("linear")((rows, ffn), e, bias=c.args[17] is not None)
    )
    return mha + norms + residual_adds + feed_forward


# -- dropout ---------------------------------------------------------------------------------------
# In training, dropout multiplies by the mask and rescales by 1 / (1 - p); in eval it is the identity. Counted
# from the function, because its aten decomposition differs between devices (native_dropout on CPU, bernoulli,
# mul and div on meta). All take (input, p, train / training, ...).
_DROPOUTS = ("dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout")
_F_DROPOUTS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")


@function_costs(
    *((getattr(torch, n, None), f"torch.{n}") for n in _DROPOUTS + tuple(d + "_" for d in _DROPOUTS)),
    *((getattr(F, n, None), f"F.{n}") for n in _F_DROPOUTS),
)
@costs(*_ops("native_dropout"))
def _dropout(c: Call) -> Cost:
    training = c.arg(2, "train", c.kwargs.get("training", True))
    return formula("elementwise")("dropout", c.out_numel) if training else Cost()


# -- recurrent layers ------------------------------------------------------------------------------
def _rnn(c: Call, mode: str) -> Cost:
    # padded:  (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    # packed:  (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)
    packed = not isinstance(c.args[3], bool)
    params, has_biases, num_layers, bidirectional = (
        (c.args[3], c.args[4], c.args[5], c.args[8]) if packed else (c.args[2], c.args[3], c.args[4], c.args[7])
    )
    groups = int(num_layers) * (2 if bidirectional else 1)
    per = len(params) // groups
    layers = []
    for g in range(groups):
        weights = params[g * per : (g + 1) * per]
        w_hr = [weights[-1]] if per in (3, 5) else []  # LSTM projection: (W_ih, W_hh[, b_ih, b_hh], W_hr)
        layers.append([_shape(w) for w in [weights[0], weights[1], *w_hr]])
    rows = prod(_shape(c.args[0])[:-1])
    return formula("rnn")(mode, rows, layers, bias=bool(has_biases))


def _rnn_cell(c: Call, mode: str) -> Cost:
    # lstm_cell / gru_cell / rnn_*_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None)
    x = _shape(c.args[0])
    rows = prod(x[:-1]) if len(x) > 1 else 1
    return formula("rnn")(mode, rows, [[_shape(c.args[2]), _shape(c.args[3])]], bias=c.arg(4, "b_ih") is not None)


@function_costs((torch.lstm, "torch.lstm"))
def _lstm(c: Call) -> Cost:
    return _rnn(c, "lstm")


@function_costs((torch.gru, "torch.gru"))
def _gru(c: Call) -> Cost:
    return _rnn(c, "gru")


@function_costs((torch.rnn_tanh, "torch.rnn_tanh"), (torch.rnn_relu, "torch.rnn_relu"))
def _plain_rnn(c: Call) -> Cost:
    return _rnn(c, "rnn")


@function_costs((torch.lstm_cell, "torch.lstm_cell"))
def _lstm_cell(c: Call) -> Cost:
    return _rnn_cell(c, "lstm")


@function_costs((torch.gru_cell, "torch.gru_cell"))
def _gru_cell(c: Call) -> Cost:
    return _rnn_cell(c, "gru")


@function_costs((torch.rnn_tanh_cell, "torch.rnn_tanh_cell"), (torch.rnn_relu_cell, "torch.rnn_relu_cell"))
def _plain_rnn_cell(c: Call) -> Cost:
    return _rnn_cell(c, "rnn")


# -- op families named by pattern: elementwise, reductions, pooling, interpolation, SDPA kernels ----------
def _family(name: str) -> Callable[[Call, str], Cost] | None:
    if _elementwise_name(name):
        return lambda c, n: _elementwise(c, _elementwise_name(n) or n)
    if name.removesuffix("_") in REDUCTION_FLOPS:
        return lambda c, n: _reduction(c, n.removesuffix("_"))
    if name in _SDPA_KERNELS:
        return _sdpa_kernel
    if "adaptive_" in name and "pool" in name:
        return _adaptive_pool
    if "pool" in name and "unpool" not in name and name.endswith(("pool1d", "pool2d", "pool3d", "with_indices")):
        return _pool
    if name.startswith(("upsample_", "_upsample_")) and _interpolation_mode(name) in _TAPS_PER_DIM:
        return _interpolate
    return None


_RESOLVED: dict[Any, Adapter | None] = {}


def adapter_for(packet: Any) -> Adapter | None:
    """The cost adapter of an aten overload packet, or None if it has no formula (resolved once per packet)."""
    if packet in ATEN_COSTS:
        return ATEN_COSTS[packet]
    lazy = LAZY_COSTS.get(getattr(packet, "_qualified_op_name", ""))
    if lazy is not None:  # an op of an optional module, which the model's code has imported by now
        ATEN_COSTS[packet] = lazy
        return lazy
    if packet not in _RESOLVED:
        name = packet.__name__
        family = _family(name)
        _RESOLVED[packet] = None if family is None else (lambda c: family(c, name))
    return _RESOLVED[packet]


# -- fast-path checks -------------------------------------------------------------------------------
# Functions whose only use is to decide whether to take an inference fast path, which PyTorch never takes while
# modelmeter's function mode is active (it checks ``has_torch_function``). They are answered "no fast path"
# without running, because some have no meta kernel (nn.TransformerEncoder with a padding mask in eval).
FAST_PATH_CHECKS: dict[Any, Any] = {
    f: False for f in (getattr(torch, "_nested_tensor_from_mask_left_aligned", None),) if f is not None
}


# -- declared free: no arithmetic ------------------------------------------------------------------
ZERO_COST: frozenset[Any] = frozenset(
    _ops(
        # views and reshapes
        "view", "_unsafe_view", "reshape", "_reshape_alias", "as_strided", "as_strided_", "t", "transpose",
        "permute", "expand", "squeeze", "unsqueeze", "flatten", "unflatten", "alias", "detach", "detach_", "slice",
        "select", "split", "split_with_sizes", "unsafe_split", "unsafe_split_with_sizes", "unbind", "chunk",
        "unsafe_chunk", "narrow", "view_as_real", "view_as_complex", "real", "imag", "unfold", "diagonal",
        "movedim", "lift_fresh", "lift_fresh_copy", "expand_as", "view_as", "squeeze_", "unsqueeze_", "transpose_",
        "t_", "swapaxes", "swapdims", "_conj", "conj", "resolve_conj", "resolve_neg", "_neg_view",
        # allocation, copies and layout
        "empty", "empty_like", "empty_strided", "empty_permuted", "new_empty", "new_empty_strided", "zeros",
        "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full",
        "scalar_tensor", "zero_", "fill_", "fill", "copy_", "copy", "_to_copy", "clone", "contiguous", "arange",
        "linspace", "logspace", "eye", "_local_scalar_dense", "resize_", "set_", "complex",
        # checks and bookkeeping
        "_assert_async", "_assert_tensor_metadata", "_linalg_check_errors", "_functional_assert_async",
        "_assert_scalar", "sym_constrain_range", "sym_constrain_range_for_size", "record_stream",
        "_has_compatible_shallow_copy_type", "_is_all_true",
        # moving data without arithmetic
        "cat", "stack", "hstack", "vstack", "index", "_unsafe_index", "index_select", "gather", "take", "embedding",
        "roll", "flip", "constant_pad_nd", "reflection_pad1d", "reflection_pad2d", "reflection_pad3d",
        "replication_pad1d", "replication_pad2d", "replication_pad3d", "repeat", "repeat_interleave", "tile",
        "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "tril", "triu", "scatter",
        "scatter_", "masked_scatter", "masked_select", "slice_scatter", "select_scatter", "diagonal_scatter",
        "as_strided_scatter", "im2col", "one_hot", "_nested_tensor_from_mask", "_nested_tensor_from_mask_left_aligned",
        "_nested_tensor_from_tensor_list", "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
        "_upsample_nearest_exact1d", "_upsample_nearest_exact2d", "_upsample_nearest_exact3d",
        # drawing random numbers is not model arithmetic (applying a dropout mask is: see _dropout)
        "bernoulli", "bernoulli_", "uniform_",
        "normal_", "rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "randperm", "exponential_",
        "random_", "multinomial",
    )
)  # fmt: skip
