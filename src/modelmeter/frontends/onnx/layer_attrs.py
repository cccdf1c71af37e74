"""A Conv or Gemm node's hyper-parameters under PyTorch's argument names (``in_channels``, ``kernel_size``,
``in_features``, ...), so ``explain`` can show the hand calculation of an ONNX layer as of a PyTorch one."""

from __future__ import annotations

from typing import Any

Shape = tuple[int, ...]


def conv_attrs(attrs: dict[str, Any], x: Shape, w: Shape, bias: bool, transposed: bool) -> dict[str, Any] | None:
    d = len(w) - 2
    if d < 1 or len(x) != d + 2:
        return None
    groups = int(attrs.get("group", 1))
    pads = [int(p) for p in attrs.get("pads", [0] * 2 * d)]
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    symmetric = len(pads) == 2 * d and pads[:d] == pads[d:] and auto_pad in ("NOTSET", "VALID")
    out = {
        "in_channels": x[1],
        "out_channels": w[1] * groups if transposed else w[0],
        "kernel_size": tuple(w[2:]),
        "stride": tuple(int(s) for s in attrs.get("strides", [1] * d)),
        "padding": tuple(pads[:d]) if symmetric else "same",
        "dilation": tuple(int(s) for s in attrs.get("dilations", [1] * d)),
        "groups": groups,
        "bias": bias,
        "transposed": transposed,
    }
    if transposed:
        out["output_padding"] = tuple(int(s) for s in attrs.get("output_padding", [0] * d))
    return out


def linear_attrs(attrs: dict[str, Any], b: Shape, bias: bool) -> dict[str, Any] | None:
    """Gemm with a 2-D weight B and no transA: (in, out) = B's shape, transposed with transB."""
    if len(b) != 2 or attrs.get("transA", 0):
        return None
    in_f, out_f = (b[1], b[0]) if attrs.get("transB", 0) else (b[0], b[1])
    return {"in_features": in_f, "out_features": out_f, "bias": bias}
