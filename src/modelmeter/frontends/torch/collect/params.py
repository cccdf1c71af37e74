"""Parameter and buffer counts, each tensor counted once however many modules reach it."""

from __future__ import annotations

from collections import defaultdict

import torch

from ....report.model import LayerRecord, Totals
from .attrs import module_attrs


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def packed_weights(module: torch.nn.Module) -> list[torch.Tensor]:
    """Weights and biases of ``torch.ao`` quantized modules in ``module``'s subtree, as stored (qint8 weight,
    fp32 bias): they live in packed params (``LinearPackedParams._weight_bias()``), not in ``parameters()``,
    yet they are the layer's parameters. Read from the module that holds them, not from a quantized Linear
    that delegates ``_weight_bias`` to its child, so nothing counts twice. They are not trainable."""
    out: list[torch.Tensor] = []
    for m in module.modules():
        unpack = getattr(m, "_weight_bias", None)
        holder = not any(callable(getattr(c, "_weight_bias", None)) for c in m.children())
        if callable(unpack) and holder:
            out.extend(t for t in unpack() if isinstance(t, torch.Tensor))
    return out


def layer_records(model: torch.nn.Module) -> dict[str, LayerRecord]:
    """A record per module (dotted path, root ``""``) with its subtree's unique params and buffers.

    ``Module.parameters()`` yields each Parameter object once, so a tied weight reached twice inside
    one subtree is counted once there. Packed quantized weights count as (non-trainable) parameters.
    """
    records = {}
    for name, module in model.named_modules():
        params = list(module.parameters())
        records[name] = LayerRecord(
            name=name,
            type=type(module).__name__,
            params=sum(p.numel() for p in params) + sum(w.numel() for w in packed_weights(module)),
            trainable_params=sum(p.numel() for p in params if p.requires_grad),
            buffers=sum(b.numel() for b in module.buffers()),
            attrs=module_attrs(module),
        )
    return records


def totals(model: torch.nn.Module) -> Totals:
    """Model-wide unique parameter and buffer figures (MACs/FLOPs are filled in by aggregation)."""
    params = list(model.parameters())  # deduplicated by identity: tied weights count once
    buffers = list(model.buffers())
    packed = packed_weights(model)
    by_dtype: dict[str, int] = defaultdict(int)
    for p in [*params, *packed]:
        by_dtype[dtype_name(p.dtype)] += p.numel() * p.element_size()
    total = sum(p.numel() for p in params) + sum(w.numel() for w in packed)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return Totals(
        params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        buffers=sum(b.numel() for b in buffers),
        param_bytes=sum(by_dtype.values()),
        buffer_bytes=sum(b.numel() * b.element_size() for b in buffers),
        macs=0,
        flops=0,
        param_bytes_by_dtype=tuple(sorted(by_dtype.items())),
    )
