"""The hyper-parameters of classic Keras layers under PyTorch's argument names (``LayerStats.attrs``), so that
``explain`` fills the same formulas for a Keras model as for a PyTorch one.

Keras tensors are channels-last: conv and pooling rows carry ``data_format: "channels_last"`` so the explainer
reads spatial sizes from the right axes. ``padding`` is a list of zeros for Keras' ``"valid"`` and the string
``"same"`` otherwise (asymmetric padding has no single number). BatchNormalization has no
``num_batches_tracked`` counter (``counter: False``); Keras RNNs keep ``biases`` bias vectors per gate block.
"""

from __future__ import annotations

from typing import Any

from .trace import Call


def _padding(value: str, dims: int) -> Any:
    return [0] * dims if value == "valid" else value


def _conv(cfg: dict[str, Any], c: Call, kind: str) -> dict[str, Any]:
    k = list(cfg["kernel_size"])
    x = c.inputs[0]
    c_in = x[1] if cfg.get("data_format") == "channels_first" else x[-1]
    groups = cfg.get("groups", 1)
    out_channels = cfg.get("filters")
    if kind == "depthwise":
        groups, out_channels = c_in, c_in * cfg["depth_multiplier"]
    return {
        "in_channels": c_in,
        "out_channels": out_channels,
        "kernel_size": k,
        "stride": list(cfg["strides"]),
        "padding": _padding(cfg["padding"], len(k)),
        "dilation": list(cfg.get("dilation_rate", (1,) * len(k))),
        "groups": groups,
        "bias": bool(cfg["use_bias"]),
        "transposed": kind == "transposed",
        "output_padding": list(cfg.get("output_padding") or [0] * len(k)),
        "data_format": cfg.get("data_format") or "channels_last",
    }


def layer_attrs(kind: str, cfg: dict[str, Any], c: Call | None) -> dict[str, Any]:
    """Attrs of a classic layer (``kind`` is its Keras class name), ``{}`` for any other."""
    if c is None or not c.inputs:
        return {}
    x = c.inputs[0]
    if kind in ("Conv1D", "Conv2D", "Conv3D"):
        return _conv(cfg, c, "conv")
    if kind in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):
        return _conv(cfg, c, "transposed")
    if kind in ("DepthwiseConv1D", "DepthwiseConv2D"):
        return _conv(cfg, c, "depthwise")
    if kind == "Dense":
        return {"in_features": x[-1], "out_features": cfg["units"], "bias": bool(cfg["use_bias"])}
    if kind == "BatchNormalization":
        axis = cfg["axis"] if isinstance(cfg["axis"], int) else cfg["axis"][0]
        return {
            "num_features": x[axis],
            "eps": cfg["epsilon"],
            "momentum": cfg["momentum"],
            "affine": bool(cfg["center"] and cfg["scale"]),
            "track_running_stats": True,
            "counter": False,  # no num_batches_tracked in Keras
        }
    if kind == "LayerNormalization" and cfg["center"] == cfg["scale"]:
        axes = [cfg["axis"]] if isinstance(cfg["axis"], int) else list(cfg["axis"])
        return {
            "normalized_shape": [x[a] for a in axes],
            "eps": cfg["epsilon"],
            "elementwise_affine": bool(cfg["scale"]),
            "bias": bool(cfg["center"]),
        }
    if kind == "Embedding":
        return {"num_embeddings": cfg["input_dim"], "embedding_dim": cfg["output_dim"]}
    if kind in ("SimpleRNN", "LSTM", "GRU") and len(x) == 3:
        mode = "RNN" if kind == "SimpleRNN" else kind
        return {
            "mode": mode,
            "input_size": x[-1],
            "hidden_size": cfg["units"],
            "num_layers": 1,
            "bias": bool(cfg["use_bias"]),
            "bidirectional": False,
            "batch_first": not cfg.get("time_major", False),
            "proj_size": 0,
            "biases": 2 if kind == "GRU" and cfg.get("reset_after", True) else 1,
        }
    if kind in ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
                "AveragePooling3D"):  # fmt: skip
        k = list(cfg["pool_size"])
        out = {
            "kernel_size": k,
            "stride": list(cfg["strides"] or k),
            "padding": _padding(cfg["padding"], len(k)),
            "ceil_mode": False,
            "data_format": cfg.get("data_format") or "channels_last",
        }
        if kind.startswith("Max"):
            out["dilation"] = [1] * len(k)
        return out
    if kind == "MultiHeadAttention" and len(c.args) >= 2 and c.args[0] and c.args[1] and c.outputs:
        q, v = c.args[0], c.args[1]
        key = c.kwargs.get("key", v)
        e, heads, kd = q[-1], cfg["num_heads"], cfg["key_dim"]
        if heads * kd == e and (cfg.get("value_dim") or kd) == kd and c.outputs[0][-1] == e and len(q) == 3:
            return {  # the PyTorch nn.MultiheadAttention this layer is
                "embed_dim": e,
                "num_heads": heads,
                "kdim": key[-1],
                "vdim": v[-1],
                "bias": bool(cfg["use_bias"]),
                "add_bias_kv": False,
                "batch_first": True,
            }
        return {}
    if kind == "Dropout":
        return {"p": cfg["rate"]}
    return {}
