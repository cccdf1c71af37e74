"""Analyze an nn.Module: parameters from the module, compute and shapes from one forward on meta.

The user's module is never moved or mutated: its forward runs through ``torch.func.functional_call``
with stand-in tensors (empty meta tensors; on the CPU fallback, clones of its buffers), under no_grad,
with hooks that are removed before returning.
"""

from __future__ import annotations

import copy
import os
from itertools import chain

import torch

from ..._report import LayerRecord, Report, build_report
from ...errors import ForwardError, InputError, UncountedOpsError
from .collect import Collector, hooked
from .inputs import Inputs
from .params import layer_records, totals

DEVICES = ("auto", "meta", "cpu")


def _stand_ins(model: torch.nn.Module, device: str) -> dict[str, torch.Tensor]:
    """Tensors to run the forward with, by name; tied tensors keep one shared stand-in."""
    made: dict[int, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    named = chain(
        ((n, t, True) for n, t in model.named_parameters(remove_duplicate=False)),
        ((n, t, False) for n, t in model.named_buffers(remove_duplicate=False)),
    )
    for name, t, is_param in named:
        if id(t) not in made:
            if device == "meta":
                made[id(t)] = torch.empty_like(t, device="meta")
            elif t.device.type == "meta":
                made[id(t)] = torch.zeros(t.shape, dtype=t.dtype)
            elif is_param and t.device.type == "cpu":
                made[id(t)] = t  # read-only under no_grad
            else:
                made[id(t)] = t.detach().to("cpu", copy=True)  # buffers may be updated in place (BatchNorm)
        out[name] = made[id(t)]
    return out


def _materialized_bytes(model: torch.nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in chain(model.parameters(), model.buffers()) if t.is_meta)


def _available_bytes() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on every platform
        return 1 << 62


def _forward(model: torch.nn.Module, inputs: Inputs, device: str, template: dict[str, LayerRecord]) -> Collector:
    collector = Collector(copy.deepcopy(template))
    stand_ins = _stand_ins(model, device)
    args, kwargs = inputs.on(device)
    with hooked(model, collector) as mode, torch.no_grad():
        try:
            with mode:
                torch.func.functional_call(model, stand_ins, args, kwargs, tie_weights=True, strict=False)
        except Exception as exc:
            path, shapes = collector.stack[-1] if collector.stack else ("", [])
            kind = template[path].type if path in template else type(model).__name__
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ForwardError(
                f"the model's forward failed in module '{path or '<root>'}' ({kind}) called with input shapes "
                f"{[list(s) for s in shapes]}: {type(exc).__name__}: {first}",
                module_path=path,
                input_shapes=[list(s) for s in shapes],
            ) from exc
    return collector


def analyze_module(
    model: torch.nn.Module,
    inputs: Inputs,
    *,
    name: str | None = None,
    device: str = "auto",
    strict: bool = False,
) -> Report:
    """Count ``model``'s parameters and the compute of one forward on ``inputs``.

    ``device="auto"`` runs on meta and falls back to real tensors on the CPU only if an op cannot run on
    meta; the report's ``device`` says which was used. Counts do not depend on the device.
    """
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    template = layer_records(model)
    tried = ["meta", "cpu"] if device == "auto" else [device]
    collector: Collector | None = None
    used = tried[0]
    for i, used in enumerate(tried):
        if used == "cpu":
            need = _materialized_bytes(model)
            if need and need > _available_bytes() // 2:
                raise ForwardError(
                    f"the forward cannot run on meta and materializing the weights on the CPU needs "
                    f"{need / 2**30:.1f} GiB, more than half the available memory; nothing was counted"
                )
        try:
            collector = _forward(model, inputs, used, template)
            break
        except ForwardError:
            if i == len(tried) - 1:
                raise
    assert collector is not None
    uncounted = dict(collector.uncounted)
    if strict and uncounted:
        listed = ", ".join(f"{op} x{n}" for op, n in sorted(uncounted.items()))
        raise UncountedOpsError(f"strict: ops ran without a formula: {listed}", uncounted)
    return build_report(
        model=name or type(model).__name__,
        inputs=inputs.info(),
        records=list(collector.records.values()),
        op_costs=collector.op_costs,
        uncounted_ops=uncounted,
        totals=totals(model),
        device=used,
    )
