"""The hyper-parameters of classic PyTorch modules, as plain data (``LayerStats.attrs``).

Keys are PyTorch's argument names; tuples become lists and every per-dim value has one entry per spatial
dim, so the attrs of a module equal those the layer spec records for the same layer (spec/shapes.py).
``explain`` fills its formulas from them.
"""

from __future__ import annotations

from typing import Any

from torch import nn


def _per_dim(v: Any, dims: int) -> Any:
    if isinstance(v, str):
        return v
    return list(v) if isinstance(v, (tuple, list)) else [v] * dims


def _conv(m: nn.modules.conv._ConvNd) -> dict[str, Any]:
    d = len(m.kernel_size)
    return {
        "in_channels": m.in_channels,
        "out_channels": m.out_channels,
        "kernel_size": list(m.kernel_size),
        "stride": list(m.stride),
        "padding": _per_dim(m.padding, d),
        "dilation": list(m.dilation),
        "groups": m.groups,
        "bias": m.bias is not None,
        "transposed": bool(m.transposed),
        "output_padding": list(m.output_padding),
    }


# The spatial dims of each pooling class, found with isinstance so that subclasses (timm's MaxPool2dSame,
# a user's ``class MyPool(nn.MaxPool2d)``) keep them: never read from the class name.
_POOL_DIMS: tuple[tuple[tuple[type[nn.Module], ...], int], ...] = (
    ((nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d), 1),
    ((nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d), 2),
    ((nn.MaxPool3d, nn.AvgPool3d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool3d), 3),
)


def _pool_dims(m: nn.Module) -> int:
    return next(d for classes, d in _POOL_DIMS if isinstance(m, classes))


def _pool(m: Any) -> dict[str, Any]:
    d = _pool_dims(m)
    out = {
        "kernel_size": _per_dim(m.kernel_size, d),
        "stride": _per_dim(m.stride if m.stride is not None else m.kernel_size, d),
        "padding": _per_dim(m.padding, d),
        "ceil_mode": bool(m.ceil_mode),
    }
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        out["dilation"] = _per_dim(m.dilation, d)
    else:
        out["count_include_pad"] = bool(m.count_include_pad)
    return out


def module_attrs(m: nn.Module) -> dict[str, Any]:
    """Attrs of a classic layer; ``{}`` for any other module."""
    if isinstance(m, nn.modules.conv._ConvNd):
        return _conv(m)
    if isinstance(m, nn.Linear):
        return {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None}
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return {
            "num_features": m.num_features,
            "eps": m.eps,
            "momentum": m.momentum,
            "affine": m.affine,
            "track_running_stats": m.track_running_stats,
        }
    if isinstance(m, nn.LayerNorm):
        return {
            "normalized_shape": list(m.normalized_shape),
            "eps": m.eps,
            "elementwise_affine": m.elementwise_affine,
            "bias": getattr(m, "bias", None) is not None,
        }
    if isinstance(m, nn.GroupNorm):
        return {"num_groups": m.num_groups, "num_channels": m.num_channels, "eps": m.eps, "affine": m.affine}
    if isinstance(m, nn.Embedding):
        return {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim}
    if isinstance(m, nn.RNNBase):
        mode = "RNN" if m.mode.startswith("RNN") else m.mode
        out = {
            "mode": mode,
            "input_size": m.input_size,
            "hidden_size": m.hidden_size,
            "num_layers": m.num_layers,
            "bias": m.bias,
            "bidirectional": m.bidirectional,
            "batch_first": m.batch_first,
            "proj_size": m.proj_size,
        }
        if mode == "RNN":
            out["nonlinearity"] = "relu" if m.mode == "RNN_RELU" else "tanh"
        return out
    if isinstance(m, nn.MultiheadAttention):
        return {
            "embed_dim": m.embed_dim,
            "num_heads": m.num_heads,
            "kdim": m.kdim,
            "vdim": m.vdim,
            "bias": m.in_proj_bias is not None,
            "add_bias_kv": m.bias_k is not None,
            "batch_first": m.batch_first,
        }
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        return _pool(m)
    if isinstance(
        m,
        (
            nn.AdaptiveAvgPool1d,
            nn.AdaptiveAvgPool2d,
            nn.AdaptiveAvgPool3d,
            nn.AdaptiveMaxPool1d,
            nn.AdaptiveMaxPool2d,
            nn.AdaptiveMaxPool3d,
        ),
    ):
        return {"output_size": _per_dim(m.output_size, _pool_dims(m))}
    if isinstance(m, (nn.Softmax, nn.LogSoftmax)):
        return {"dim": m.dim}
    if isinstance(m, nn.LeakyReLU):
        return {"negative_slope": m.negative_slope}
    if isinstance(m, nn.ELU):
        return {"alpha": m.alpha}
    if isinstance(m, (nn.Dropout, nn.Dropout2d)):
        return {"p": m.p}
    if isinstance(m, nn.Flatten):
        return {"start_dim": m.start_dim, "end_dim": m.end_dim}
    return {}
