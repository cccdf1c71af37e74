"""Quantized ops (``torch.ops.quantized.*``, run by ``torch.ao.nn.quantized`` modules): their float twins' formulas.

A quantized conv or linear takes its weight packed in a ScriptObject; ``unpack()`` gives the (qint8) weight and
the (float) bias, whose shapes feed the same conv / linear formulas as the float ops. A fused ``*_relu`` adds
one FLOP per output element and ``conv2d_add`` one more, as the separate relu / add would
(docs/conventions.md). Quantized activations (``quantized.relu6``, ``hardswish``, ...) and ``quantized.add``
are counted by name with the elementwise rules; ``quantize_per_tensor`` / ``dequantize`` are elementwise too.
"""

from __future__ import annotations

from typing import Any

import torch

from ....formulas import Cost, formula
from .forward import Adapter, Call, costs, shape_of

Q = torch.ops.quantized


def _packets(*names: str) -> list[tuple[str, Any]]:
    return [(n, getattr(Q, n)) for n in names if hasattr(Q, n)]


def _packed(c: Call) -> Any:
    """The packed weight argument (its position differs: ``conv2d_add`` takes the accumulator first)."""
    return next(a for a in c.args if isinstance(a, torch.ScriptObject))


def _fused(name: str, out_numel: int) -> Cost:
    """The elementwise work fused into a quantized conv/linear: relu, and conv2d_add's residual add."""
    cost = Cost()
    if "_add" in name:
        cost = cost + formula("elementwise")("add", out_numel)
    if "relu" in name:
        cost = cost + formula("elementwise")("relu", out_numel)
    return cost


def _conv(name: str) -> Adapter:
    def cost(c: Call) -> Cost:
        packed = _packed(c)
        w, b = packed.unpack()  # w: (C_out, C_in/g, *k), or (C_in, C_out/g, *k) when transposed
        conv = formula("conv")(
            shape_of(c.args[0]), shape_of(w), shape_of(c.out), transposed=bool(packed.transpose()), bias=b is not None
        )
        return conv + _fused(name, c.out_numel)

    return cost


def _linear(name: str) -> Adapter:
    def cost(c: Call) -> Cost:
        w, b = _packed(c).unpack()  # w: (out_features, in_features)
        return formula("linear")(shape_of(c.args[0]), int(w.shape[0]), bias=b is not None) + _fused(name, c.out_numel)

    return cost


def _relu_after(base: str) -> Adapter:
    """``add_relu`` / ``mul_relu`` / ``cat_relu``: the base op, then one relu step per output element."""

    def cost(c: Call) -> Cost:
        first = Cost() if base == "cat" else formula("elementwise")(base, c.out_numel)  # cat moves data only
        return first + formula("elementwise")("relu", c.out_numel)

    return cost


for _name, _packet in _packets(
    "conv1d", "conv2d", "conv3d", "conv1d_relu", "conv2d_relu", "conv3d_relu",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv2d_add", "conv2d_add_relu",
):  # fmt: skip
    costs(_packet)(_conv(_name))
for _name, _packet in _packets(
    "linear", "linear_relu", "linear_dynamic", "linear_relu_dynamic", "linear_dynamic_fp16", "linear_relu_dynamic_fp16"
):
    costs(_packet)(_linear(_name))
for _name, _packet in _packets("add_relu", "mul_relu", "cat_relu"):
    costs(_packet)(_relu_after(_name.removesuffix("_relu")))
for _name, _packet in _packets("cat"):
    costs(_packet)(lambda c: Cost())  # concatenation moves data: declared free, like aten.cat
