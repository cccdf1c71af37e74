"""A spec as a ``torch.nn.Module``: the same layers, names and sizes, ready to check or to train.

Modules are built from the attrs that shape inference recorded (shapes.py), so the module tree mirrors
the report row for row: ``SpecNet`` -> layers by name; ``Repeat`` -> ``0``, ``1``, ... (each a ``Chain``);
``Residual`` -> ``layers`` and ``shortcut``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...errors import SpecError
from ...report.model import LayerRecord
from .load import Layer, Node, Spec
from .load import Repeat as RepeatNode
from .shapes import node_names, walk


class Chain(nn.Sequential):
    """nn.Sequential that passes a tensor on from RNNs (their output sequence) and attention (self-attention)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, ...) -> (N, ...)
        for module in self:
            if isinstance(module, nn.MultiheadAttention):
                x = module(x, x, x, need_weights=False)[0]
            elif isinstance(module, nn.RNNBase):
                x = module(x)[0]  # (output, h_n[, c_n]) -> output
            else:
                x = module(x)
        return x


class Repeat(Chain):
    """A spec ``repeat`` block: its iterations, each a Chain with its own weights."""


class SpecNet(Chain):
    """The root of a network built from a spec."""


class Residual(nn.Module):
    """``layers(x) + shortcut(x)``; the shortcut is the identity when the spec gives none."""

    def __init__(self, layers: Chain, shortcut: Chain | None):
        super().__init__()
        self.layers = layers
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x) + (x if self.shortcut is None else self.shortcut(x))


def _module(type_: str, a: dict[str, Any]) -> nn.Module:
    """The PyTorch module of class ``type_`` with the recorded attrs (PyTorch's own argument names)."""
    a = {k: tuple(v) if isinstance(v, list) else v for k, v in a.items()}
    if type_.startswith("Conv"):
        kw = {k: a[k] for k in ("stride", "padding", "dilation", "groups", "bias")}
        if a["transposed"]:
            kw["output_padding"] = a["output_padding"]
        return getattr(nn, type_)(a["in_channels"], a["out_channels"], a["kernel_size"], **kw)
    if type_ in ("RNN", "LSTM", "GRU"):
        kw = {k: v for k, v in a.items() if k != "mode"}
        if type_ != "LSTM":
            kw.pop("proj_size")
        return getattr(nn, type_)(**kw)
    if type_ == "MultiheadAttention":
        return nn.MultiheadAttention(
            a["embed_dim"], a["num_heads"], bias=a["bias"], add_bias_kv=a["add_bias_kv"], batch_first=a["batch_first"]
        )
    return getattr(nn, type_)(**a)


class _Builder:
    def __init__(self, records: list[LayerRecord]):
        self.by_name = {r.name: r for r in records}

    def chain(self, cls: type[Chain], nodes: list[Node], prefix: str) -> Chain:
        out = cls()
        for node, name in zip(nodes, node_names(nodes), strict=False):
            path = f"{prefix}.{name}" if prefix else name
            if isinstance(node, Layer):
                rec = self.by_name[path]
                module = _module(rec.type, rec.attrs)
            elif isinstance(node, RepeatNode):
                module = Repeat(*(self.chain(Chain, node.body, f"{path}.{i}") for i in range(node.times)))
            else:
                shortcut = self.chain(Chain, node.shortcut, f"{path}.shortcut") if node.shortcut else None
                module = Residual(self.chain(Chain, node.body, f"{path}.layers"), shortcut)
            try:
                out.add_module(name, module)
            except KeyError as exc:
                raise SpecError(
                    f"{node.where}: the name '{name}' is taken by nn.Module itself; rename the layer"
                ) from exc
        return out


def build(spec: Spec) -> nn.Module:
    """The network of ``spec``, with freshly initialised weights on the CPU, in training mode."""
    return _Builder(walk(spec).records).chain(SpecNet, spec.layers, "")
