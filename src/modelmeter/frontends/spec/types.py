"""The layer types a spec may use: their fields (PyTorch's argument names), defaults and PyTorch class.

A field's *kind* says which values it accepts (checked in load.py); a field whose default is
:data:`INFER` is filled in by shape inference (in_channels, in_features, num_features, ...), and may
be given, in which case it must agree with the input. No torch import here: the spec runs without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INFER = object()  # filled in from the input shape
REQUIRED = object()  # must be given

# kinds of field values
POS = "positive int"
NONNEG = "non-negative int"
INT = "int"
BOOL = "bool"
FLOAT = "number"
PROB = "probability"  # a number from 0 to 1
PER_DIM = "int or list of ints, one per spatial dim"  # kernel_size, stride, dilation
PADDING = "int, list of ints, 'same' or 'valid'"
SHAPE = "int or list of ints"
OUTSIZE = "int, or list of ints (null keeps the input size)"
OPT_POS = "positive int or null"
NONLIN = "'tanh' or 'relu'"

# Sizes above this are refused: a spec with them is a typo, and products of them overflow int64.
MAX_SIZE = 2**31 - 1
MAX_REPEAT = 10_000


@dataclass(frozen=True)
class LayerType:
    """One spec layer type: its PyTorch class, fields, and the field a bare value fills (``maxpool2d: 2``)."""

    name: str
    torch_class: str
    fields: dict[str, tuple[str, Any]]  # field -> (kind, default)
    primary: str | None = None
    dims: int = 0  # spatial dims of conv / pool layers
    family: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _conv(name: str, cls: str, dims: int, transposed: bool) -> LayerType:
    fields: dict[str, tuple[str, Any]] = {
        "out_channels": (POS, REQUIRED),
        "kernel_size": (PER_DIM, REQUIRED),
        "in_channels": (POS, INFER),
        "stride": (PER_DIM, 1),
        "padding": (PER_DIM if transposed else PADDING, 0),
        "dilation": (PER_DIM, 1),
        "groups": (POS, 1),
        "bias": (BOOL, True),
    }
    if transposed:
        fields["output_padding"] = (PER_DIM, 0)
    return LayerType(name, cls, fields, "out_channels", dims, "conv", {"transposed": transposed})


def _pool(name: str, cls: str, dims: int, kind: str) -> LayerType:
    fields: dict[str, tuple[str, Any]] = {
        "kernel_size": (PER_DIM, REQUIRED),
        "stride": (PER_DIM, None),  # None: the kernel size (PyTorch's default)
        "padding": (PER_DIM, 0),
        "ceil_mode": (BOOL, False),
    }
    if kind == "max":
        fields["dilation"] = (PER_DIM, 1)
    else:
        fields["count_include_pad"] = (BOOL, True)
    return LayerType(name, cls, fields, "kernel_size", dims, "pool", {"kind": kind})


def _simple(
    name: str,
    cls: str,
    fields: dict[str, tuple[str, Any]] | None = None,
    primary: str | None = None,
    family: str = "activation",
) -> LayerType:
    return LayerType(name, cls, fields or {}, primary, 0, family)


def _rnn(name: str, cls: str) -> LayerType:
    fields: dict[str, tuple[str, Any]] = {
        "hidden_size": (POS, REQUIRED),
        "input_size": (POS, INFER),
        "num_layers": (POS, 1),
        "bias": (BOOL, True),
        "bidirectional": (BOOL, False),
        "batch_first": (BOOL, False),
    }
    if cls == "LSTM":
        fields["proj_size"] = (NONNEG, 0)
    if cls == "RNN":
        fields["nonlinearity"] = (NONLIN, "tanh")
    return LayerType(name, cls, fields, "hidden_size", 0, "rnn")


_TYPES: list[LayerType] = [
    LayerType(
        "linear",
        "Linear",
        {"out_features": (POS, REQUIRED), "in_features": (POS, INFER), "bias": (BOOL, True)},
        "out_features",
        0,
        "linear",
    ),
    *(_conv(f"conv{d}d", f"Conv{d}d", d, False) for d in (1, 2, 3)),
    *(_conv(f"conv_transpose{d}d", f"ConvTranspose{d}d", d, True) for d in (1, 2, 3)),
    *(
        LayerType(
            f"batchnorm{d}d",
            f"BatchNorm{d}d",
            {
                "num_features": (POS, INFER),
                "eps": (FLOAT, 1e-5),
                "momentum": (FLOAT, 0.1),
                "affine": (BOOL, True),
                "track_running_stats": (BOOL, True),
            },
            "num_features",
            d,
            "batchnorm",
        )
        for d in (1, 2, 3)
    ),
    LayerType(
        "layernorm",
        "LayerNorm",
        {
            "normalized_shape": (SHAPE, INFER),
            "eps": (FLOAT, 1e-5),
            "elementwise_affine": (BOOL, True),
            "bias": (BOOL, True),
        },
        "normalized_shape",
        0,
        "layernorm",
    ),
    LayerType(
        "groupnorm",
        "GroupNorm",
        {"num_groups": (POS, REQUIRED), "num_channels": (POS, INFER), "eps": (FLOAT, 1e-5), "affine": (BOOL, True)},
        "num_groups",
        0,
        "groupnorm",
    ),
    LayerType(
        "embedding",
        "Embedding",
        {"num_embeddings": (POS, REQUIRED), "embedding_dim": (POS, REQUIRED)},
        None,
        0,
        "embedding",
    ),
    _rnn("rnn", "RNN"),
    _rnn("lstm", "LSTM"),
    _rnn("gru", "GRU"),
    LayerType(
        "multihead_attention",
        "MultiheadAttention",
        {
            "num_heads": (POS, REQUIRED),
            "embed_dim": (POS, INFER),
            "bias": (BOOL, True),
            "add_bias_kv": (BOOL, False),
            "batch_first": (BOOL, False),
        },
        "num_heads",
        0,
        "mha",
    ),
    *(_pool(f"maxpool{d}d", f"MaxPool{d}d", d, "max") for d in (1, 2, 3)),
    *(_pool(f"avgpool{d}d", f"AvgPool{d}d", d, "avg") for d in (1, 2, 3)),
    *(
        LayerType(
            f"adaptive_{k}pool{d}d",
            f"Adaptive{k.capitalize()}Pool{d}d",
            {"output_size": (OUTSIZE, REQUIRED)},
            "output_size",
            d,
            "adaptive_pool",
            {"kind": k},
        )
        for k in ("avg", "max")
        for d in (1, 2, 3)
    ),
    _simple("relu", "ReLU"),
    _simple("relu6", "ReLU6"),
    _simple("leaky_relu", "LeakyReLU", {"negative_slope": (FLOAT, 0.01)}, "negative_slope"),
    _simple("elu", "ELU", {"alpha": (FLOAT, 1.0)}, "alpha"),
    _simple("gelu", "GELU"),
    _simple("silu", "SiLU"),
    _simple("mish", "Mish"),
    _simple("sigmoid", "Sigmoid"),
    _simple("tanh", "Tanh"),
    _simple("hardswish", "Hardswish"),
    _simple("hardsigmoid", "Hardsigmoid"),
    _simple("softplus", "Softplus"),
    _simple("softmax", "Softmax", {"dim": (INT, -1)}, "dim"),
    _simple("log_softmax", "LogSoftmax", {"dim": (INT, -1)}, "dim"),
    _simple("dropout", "Dropout", {"p": (PROB, 0.5)}, "p", family="free"),
    _simple("dropout2d", "Dropout2d", {"p": (PROB, 0.5)}, "p", family="free"),
    _simple("identity", "Identity", family="free"),
    _simple("flatten", "Flatten", {"start_dim": (INT, 1), "end_dim": (INT, -1)}, "start_dim", family="flatten"),
]

LAYER_TYPES: dict[str, LayerType] = {t.name: t for t in _TYPES}
BLOCKS = ("repeat", "residual")
