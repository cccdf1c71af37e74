"""The cost of one call of a Keras layer, from its config and the call's shapes, through the formula registry.

Each function maps a layer type onto the shared formulas (``modelmeter.formulas``), returning the call's costs
as ``[(op, Cost), ...]`` (``op`` names the row in ``report.by_op()``). Keras tensors are channels-last unless a
layer's ``data_format`` says otherwise; the formulas take shapes, so the layout only matters where a channel
count is read. What Keras does at inference is counted (dropout and noise layers are the identity).
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

from ...formulas import Cost, formula
from ...formulas.elementwise import ELEMENTWISE_FLOPS
from ...formulas.layers import RNN_GATES
from .trace import Call, Shape

Costs = list[tuple[str, Cost]]

# Keras activation names -> the elementwise op they run (one FLOP per element each, formulas/elementwise.py)
ACTIVATION_OPS = {
    "relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh", "gelu": "gelu", "silu": "silu",
    "swish": "silu", "elu": "elu", "selu": "selu", "celu": "celu", "softplus": "softplus",
    "hard_sigmoid": "hardsigmoid", "hard_silu": "hardswish", "hard_swish": "hardswish", "leaky_relu": "leaky_relu",
    "exponential": "exp", "hard_tanh": "hardtanh", "mish": "mish",
}  # fmt: skip
# Layers that only move, copy or drop data, or are the identity at inference: zero cost.
ZERO_COST = frozenset(
    """Flatten Reshape Permute RepeatVector Concatenate Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D
    GaussianDropout GaussianNoise AlphaDropout ActivityRegularization ZeroPadding1D ZeroPadding2D ZeroPadding3D
    Cropping1D Cropping2D Cropping3D Identity InputLayer Embedding""".split()
)
# Layers that only hold other layers: their cost is their sublayers' (their own call adds nothing).
CONTAINERS = frozenset({"Functional", "Sequential", "TimeDistributed"})


def _numel(s: Shape) -> int:
    return prod(s)


def activation_name(value: Any) -> str | None:
    """The name of a Keras activation (function, string or serialized config); None when not a built-in."""
    if value is None:
        return "linear"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        cfg = value.get("config")
        return cfg if isinstance(cfg, str) else None
    name = getattr(value, "__name__", None)
    return name if isinstance(name, str) else None


def activation_cost(name: str | None, numel: int) -> tuple[str, Cost] | None:
    """The cost of activation ``name`` over ``numel`` elements; None when it has no formula."""
    if name in (None, ""):
        return None
    if name == "linear":
        return ("linear_activation", Cost())
    if name in ("softmax", "log_softmax"):
        return (name, formula("softmax")(numel))
    if name == "softsign":  # x / (1 + |x|): abs, add, divide
        return (name, formula("elementwise")("abs", numel) * 3)
    op = ACTIVATION_OPS.get(name)
    if op is None or op not in ELEMENTWISE_FLOPS:
        return None
    return (op, formula("elementwise")(op, numel))


UNCOUNTED = "?"  # an op name starting with this is listed in uncounted_ops, not costed


def _with_activation(costs: Costs, cfg: dict[str, Any], out: Shape) -> Costs:
    name = activation_name(cfg.get("activation"))
    act = activation_cost(name, _numel(out))
    if act is None:  # a custom activation: the layer's kernel is counted, the activation listed as uncounted
        return [*costs, (f"{UNCOUNTED}activation {name or 'custom'}", Cost())]
    return costs + ([act] if act[1] != Cost() else [])


def _channels(shape: Shape, cfg: dict[str, Any]) -> int:
    return shape[1] if cfg.get("data_format") == "channels_first" else shape[-1]


def _with_channels(shape: Shape, cfg: dict[str, Any], channels: int) -> Shape:
    if cfg.get("data_format") == "channels_first":
        return (shape[0], channels, *shape[2:])
    return (*shape[:-1], channels)


def _k(cfg: dict[str, Any], key: str = "kernel_size") -> tuple[int, ...]:
    return tuple(cfg[key])


# -- weighted layers ------------------------------------------------------------------------------------
def _dense(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    x, out = c.inputs[0], c.outputs[0]
    return _with_activation([("linear", formula("linear")(x, cfg["units"], cfg["use_bias"]))], cfg, out)


def _conv(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    """Conv1D/2D/3D (grouped too): weight (C_out, C_in/groups, *k) in PyTorch's layout, for the formula."""
    x, out = c.inputs[0], c.outputs[0]
    weight = (cfg["filters"], _channels(x, cfg) // cfg.get("groups", 1), *_k(cfg))
    return _with_activation([("conv", formula("conv")(x, weight, out, bias=cfg["use_bias"]))], cfg, out)


def _conv_transpose(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    x, out = c.inputs[0], c.outputs[0]
    weight = (_channels(x, cfg), cfg["filters"], *_k(cfg))  # (C_in, C_out/groups, *k)
    cost = formula("conv")(x, weight, out, transposed=True, bias=cfg["use_bias"])
    return _with_activation([("conv_transpose", cost)], cfg, out)


def _depthwise(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    """DepthwiseConv: groups = C_in, C_in * depth_multiplier outputs, one input channel each."""
    x, out = c.inputs[0], c.outputs[0]
    weight = (_channels(x, cfg) * cfg["depth_multiplier"], 1, *_k(cfg))
    return _with_activation([("conv", formula("conv")(x, weight, out, bias=cfg["use_bias"]))], cfg, out)


def _separable(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    """SeparableConv: a depthwise conv (no bias) to C_in * depth_multiplier channels, then a 1x1 conv."""
    x, out = c.inputs[0], c.outputs[0]
    mid_c = _channels(x, cfg) * cfg["depth_multiplier"]
    mid = _with_channels(out, cfg, mid_c)
    k = _k(cfg)
    depthwise = formula("conv")(x, (mid_c, 1, *k), mid)
    pointwise = formula("conv")(mid, (cfg["filters"], mid_c, *(1,) * len(k)), out, bias=cfg["use_bias"])
    return _with_activation([("conv", depthwise + pointwise)], cfg, out)


def _norm_axes_numel(c: Call) -> int:
    return _numel(c.inputs[0])


def _batchnorm(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    """Inference form (moving statistics): subtract, scale by 1/σ, then γ and β (formulas/norm.py)."""
    cost = formula("norm")(_norm_axes_numel(c), "inference", weight=cfg["scale"], bias=cfg["center"])
    return [("batch_norm", cost)]


def _layernorm(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    kind = "rms" if cfg.get("rms_scaling") else "stats"
    cost = formula("norm")(_norm_axes_numel(c), kind, weight=cfg["scale"], bias=cfg["center"] and kind != "rms")
    return [("layer_norm", cost)]


def _groupnorm(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    return [("group_norm", formula("norm")(_norm_axes_numel(c), "stats", weight=cfg["scale"], bias=cfg["center"]))]


def _rmsnorm(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    return [("rms_norm", formula("norm")(_norm_axes_numel(c), "rms", weight=True))]


def _rnn(mode: str) -> Callable[[Any, dict[str, Any], Call], Costs | None]:
    """SimpleRNN / LSTM / GRU over (batch, time, features): every step of every sequence (formulas/rnn.py).

    Keras keeps one bias vector per gate block (PyTorch two), except GRU with ``reset_after`` (the default),
    which keeps two like PyTorch: ``biases`` tells the formula how many bias adds each step does."""

    def cost(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
        x = c.inputs[0]
        if len(x) != 3:
            return None
        batch, steps, features = (x[1], x[0], x[2]) if cfg.get("time_major") else x
        hidden = cfg["units"]
        gates = RNN_GATES[mode]
        biases = 2 if mode == "GRU" and cfg.get("reset_after", True) else 1
        weights = [[(gates * hidden, features), (gates * hidden, hidden)]]
        return [(mode.lower(), formula("rnn")(mode.lower(), batch * steps, weights, cfg["use_bias"], biases=biases))]

    return cost


def _mha(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    """MultiHeadAttention: Q, K, V projections to heads x key_dim (value_dim), scaled dot-product attention per
    head, output projection to ``output_shape`` (default: the query's features). Keras runs the attention as
    ``ops.dot_product_attention`` (without dropout), counted like PyTorch's SDPA (formulas/attention.py)."""
    if len(c.args) < 2 or c.args[0] is None or c.args[1] is None:
        return None
    q, v = c.args[0], c.args[1]
    k = c.kwargs.get("key", v)
    if len(q) != 3 or len(v) != 3:
        return None  # attention over several axes: not mapped
    heads, kd = cfg["num_heads"], cfg["key_dim"]
    vd = cfg.get("value_dim") or kd
    bias = cfg["use_bias"]
    out = c.outputs[0]
    b, t, s = q[0], q[1], v[1]
    linear = formula("linear")
    proj = linear(q, heads * kd, bias) + linear(k, heads * kd, bias) + linear(v, heads * vd, bias)
    masked = bool(c.kwarg_values.get("use_causal_mask"))
    attention = formula("attention")((b, heads, t, kd), (b, heads, s, kd), (b, heads, s, vd), masked=masked)
    output = linear((b, t, heads * vd), out[-1], bias)
    return [("linear", proj + output), ("attention", attention)]


# -- no weights ----------------------------------------------------------------------------------------
def _activation_layer(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    act = activation_cost(activation_name(cfg.get("activation")), _numel(c.outputs[0]))
    return [act] if act is not None else None


def _relu(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    """ReLU(max_value, negative_slope, threshold) as Keras computes it (activations.relu's static_call)."""
    n = _numel(c.outputs[0])
    slope, top, threshold = cfg.get("negative_slope", 0.0), cfg.get("max_value"), cfg.get("threshold", 0.0)
    if not slope and not threshold and top in (None, 6, 6.0):
        op = "relu6" if top is not None else "relu"
        return [(op, formula("elementwise")(op, n))]
    if slope and top is None and not threshold:
        return [("leaky_relu", formula("elementwise")("leaky_relu", n))]
    return None


def _simple(op: str) -> Callable[[Any, dict[str, Any], Call], Costs]:
    def cost(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
        return [(op, formula("elementwise")(op, _numel(c.outputs[0])))]

    return cost


def _softmax(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    return [("softmax", formula("softmax")(_numel(c.outputs[0])))]


def _merge(op: str, extra: int = 0) -> Callable[[Any, dict[str, Any], Call], Costs]:
    """Add / Subtract / Multiply / Maximum / Minimum of n inputs: n - 1 ops per output element; Average one
    more (the divide)."""

    def cost(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
        n = len(c.inputs)
        per = formula("elementwise")(op, _numel(c.outputs[0]))
        costs = [(op, per * (n - 1))]
        if extra:
            costs.append(("div", formula("elementwise")("div", _numel(c.outputs[0])) * extra))
        return costs

    return cost


def _pool(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    return [("pool", formula("pool")(_numel(c.outputs[0]), _k(cfg, "pool_size")))]


def _global_pool(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    """Global pooling: one FLOP per input element (the window is the whole feature map)."""
    x = c.inputs[0]
    if cfg.get("data_format") == "channels_first":
        planes, spatial = x[0] * x[1], x[2:]
    else:
        planes, spatial = x[0] * x[-1], x[1:-1]
    return [("adaptive_pool", formula("adaptive_pool")(planes, spatial, (1,) * len(spatial)))]


def _upsampling(layer: Any, cfg: dict[str, Any], c: Call) -> Costs | None:
    mode = cfg.get("interpolation", "nearest")
    if mode == "nearest":
        return [("upsample_nearest", Cost())]
    if mode == "bilinear":
        return [("upsample_bilinear", formula("interpolate")(_numel(c.outputs[0]), 4))]
    return None


def _rescaling(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    """x * scale + offset."""
    n = _numel(c.outputs[0])
    return [("mul", formula("elementwise")("mul", n)), ("add", formula("elementwise")("add", n))]


def _normalization(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    """(x - mean) / sqrt(var): a subtract and a divide per element (invert=False)."""
    n = _numel(c.outputs[0])
    return [("sub", formula("elementwise")("sub", n)), ("div", formula("elementwise")("div", n))]


def _bidirectional(layer: Any, cfg: dict[str, Any], c: Call) -> Costs:
    """The two directions are sublayers (counted there); the merge: concat 0, sum / mul 1, ave 2 per element."""
    mode = cfg.get("merge_mode", "concat")
    n = _numel(c.outputs[0]) if c.outputs else 0
    per = {"sum": ("add", 1), "mul": ("mul", 1), "ave": ("add", 2)}.get(mode)
    return [(per[0], formula("elementwise")(per[0], n) * per[1])] if per else []


LayerCost = Callable[[Any, dict[str, Any], Call], "Costs | None"]
LAYER_COSTS: dict[str, LayerCost] = {
    "Dense": _dense,
    **dict.fromkeys(["Conv1D", "Conv2D", "Conv3D"], _conv),
    **dict.fromkeys(["Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"], _conv_transpose),
    **dict.fromkeys(["DepthwiseConv1D", "DepthwiseConv2D"], _depthwise),
    **dict.fromkeys(["SeparableConv1D", "SeparableConv2D"], _separable),
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
    "GroupNormalization": _groupnorm,
    "RMSNormalization": _rmsnorm,
    "SimpleRNN": _rnn("RNN"),
    "LSTM": _rnn("LSTM"),
    "GRU": _rnn("GRU"),
    "MultiHeadAttention": _mha,
    "Activation": _activation_layer,
    "ReLU": _relu,
    "LeakyReLU": _simple("leaky_relu"),
    "ELU": _simple("elu"),
    "Softmax": _softmax,
    "Add": _merge("add"),
    "Subtract": _merge("sub"),
    "Multiply": _merge("mul"),
    "Maximum": _merge("maximum"),
    "Minimum": _merge("minimum"),
    "Average": _merge("add", extra=1),
    **dict.fromkeys(["MaxPooling1D", "MaxPooling2D", "MaxPooling3D"], _pool),
    **dict.fromkeys(["AveragePooling1D", "AveragePooling2D", "AveragePooling3D"], _pool),
    **dict.fromkeys([f"Global{kind}Pooling{d}D" for kind in ("Average", "Max") for d in (1, 2, 3)], _global_pool),
    **dict.fromkeys(["UpSampling1D", "UpSampling2D", "UpSampling3D"], _upsampling),
    "Rescaling": _rescaling,
    "LayerScale": _simple("mul"),  # keras.applications' ConvNeXt: x * gamma
    "Normalization": _normalization,
    "Bidirectional": _bidirectional,
}
# Layers costed as a whole: their sublayers (MHA's projections, an RNN's cell) are not rows of their own.
WHOLE = frozenset({"MultiHeadAttention", "SimpleRNN", "LSTM", "GRU"})


def layer_cost(layer: Any, call: Call) -> Costs | None:
    """The costs of one call of ``layer``; ``[]`` for zero-cost layers, None when there is no formula."""
    kind = type(layer).__name__
    if kind in ZERO_COST or kind in CONTAINERS:
        return []
    fn = LAYER_COSTS.get(kind)
    if fn is None or not call.outputs or not call.inputs:
        return None
    return fn(layer, layer.get_config(), call)
