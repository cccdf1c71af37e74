"""Analyze an nn.Module: parameters from the module, compute and shapes from one forward on meta.

The user's module is never moved or mutated: its forward runs with stand-in tensors (empty meta tensors; on
the CPU fallback, copies of its weights) in place of its parameters and buffers, as ``torch.func.functional_call``
would run it, under no_grad, with hooks; the originals and the hooks are put back before returning, error or not.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from itertools import chain
from typing import Any

import torch
from torch.utils._pytree import tree_leaves

from ...errors import ForwardError, InputError, UncountedOpsError
from ...options import ATTENTION_MODES, DEVICES
from ...report.model import LayerRecord, Report, build_report
from .collect.collector import Collector, hooked
from .collect.params import layer_records, totals
from .guard import preserved_module
from .inputs import Inputs
from .measure.fused_attention import FusedAttentionOnMeta
from .measure.peak import InferencePeak
from .module_tree import ModuleTree
from .strategy import choose_device
from .tensors import meta_like


def _stand_ins(tree: ModuleTree, device: str) -> dict[int, torch.Tensor]:
    """Tensors to run the forward with, by the id of the tensor each replaces: tied tensors share one."""
    made: dict[int, torch.Tensor] = {}
    for t in chain(tree.parameters, tree.buffers):
        if id(t) not in made:
            if device == "meta":
                made[id(t)] = meta_like(t)
            elif t.device.type == "meta":
                made[id(t)] = torch.zeros(t.shape, dtype=t.dtype)
            else:
                # A copy, parameters too: a forward may update a tensor in place (BatchNorm's running stats,
                # a hand-written weight renormalisation) and the user's state dict must not change.
                made[id(t)] = t.detach().to("cpu", copy=True)
    return made


@contextmanager
def _swapped(tree: ModuleTree, made: dict[int, torch.Tensor]) -> Iterator[None]:
    """Every module's parameters and buffers replaced by their stand-ins, and put back on exit: what
    ``functional_call(model, stand_ins, tie_weights=True)`` does, without resolving a dotted name per tensor
    (that cost MobileNet-v3 2 ms). A forward that reassigns a parameter keeps its assignment until exit, as
    under functional_call; ``preserved_module`` then restores the user's objects."""
    swapped: list[tuple[dict[str, Any], str, Any]] = []
    try:
        for module in tree.modules:
            owns: tuple[dict[str, Any], ...] = (module._parameters, module._buffers)
            for own in owns:
                for key, t in own.items():
                    if t is not None:
                        swapped.append((own, key, t))
                        own[key] = made[id(t)]
        yield
    finally:
        for own, key, t in swapped:
            own[key] = t


def _cpu_bytes(tree: ModuleTree, inputs: Inputs) -> int:
    """Bytes the CPU fallback allocates before the forward starts: a copy of every weight and every input."""
    weights = {id(t): t for t in chain(tree.parameters, tree.buffers)}.values()
    given = tree_leaves((inputs.args, inputs.kwargs))  # sizes only: no copies (a PackedSequence has no meta twin)
    tensors = chain(weights, (t for t in given if isinstance(t, torch.Tensor)))
    return sum(t.numel() * t.element_size() for t in tensors)


def available_bytes() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on every platform
        return 1 << 62


@contextmanager
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _forward(
    tree: ModuleTree, inputs: Inputs, device: str, collector: Collector, peak: InferencePeak | None = None
) -> None:
    """One forward: counts and shapes into ``collector``.

    Attention runs as the fused kernel a real device picks (FusedAttentionOnMeta, under the collector's
    function mode, which counts it whole): one op instead of the math decomposition, and the memory a real
    device would use.
    """
    model = tree.model
    made = _stand_ins(tree, device)
    for pname, t in tree.named_tensors():
        collector.watch.setdefault(id(made[id(t)]), []).append(pname)
    args, kwargs = inputs.on(device)
    attention = peak.attention if peak is not None else FusedAttentionOnMeta()
    if peak is not None:  # the inference peak rides along (measure/peak.py): live bytes, outputs per layer
        collector.output_bytes = peak.per_layer
    collector.routes = attention.routes()  # run by the collector's function mode: one mode per function, not two
    with preserved_module(model, tree), hooked(tree, collector) as mode, torch.no_grad():
        try:
            # the tracker last: it sees every op first, as in a run of its own
            with _swapped(tree, made), mode, peak.tracker if peak is not None else nullcontext():
                model(*args, **kwargs)
        except Exception as exc:
            path, shapes = collector.stack[-1] if collector.stack else ("", [])
            kind = collector.records[path].type if path in collector.records else type(model).__name__
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ForwardError(
                f"the model's forward failed in module '{path or '<root>'}' ({kind}) called with input shapes "
                f"{[list(s) for s in shapes]}: {type(exc).__name__}: {first}",
                module_path=path,
                input_shapes=[list(s) for s in shapes],
            ) from exc


def analyze_module(
    model: torch.nn.Module,
    inputs: Inputs,
    *,
    name: str | None = None,
    device: str = "auto",
    strict: bool = False,
    attention: str = "full",
    partial: bool = False,
    memory: bool = False,
    peak: InferencePeak | None = None,
) -> Report:
    """Count ``model``'s parameters and the compute of one forward on ``inputs``.

    ``device="auto"`` runs where it is estimated cheaper (strategy.py: real compute on the CPU for small
    image CNNs without a memory measurement, meta otherwise) and falls back to the other device if an op
    cannot run there; the report's ``device`` says which was used. Counts do not depend on the device.
    ``attention="causal-aware"`` counts only the unmasked part of causal and sliding-window attention.
    ``partial=True``: if the forward fails, return what ran before it failed (``report.partial``,
    ``report.error``) instead of raising :class:`ForwardError`.
    ``memory``: memory will be measured on the device used (strategy.py then keeps to meta).
    ``peak``: measure the inference activation peak in this forward too, if it runs on meta (``peak.measured``).
    """
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if isinstance(model, torch.jit.ScriptModule):  # compiled: no Python forward to run with stand-in weights
        raise InputError("a TorchScript module cannot be analyzed; pass the Python nn.Module it was scripted from")
    if device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if attention not in ATTENTION_MODES:
        raise InputError(f"attention must be one of {', '.join(ATTENTION_MODES)}, got {attention!r}")
    tree = ModuleTree(model)  # walked once, read by every step below
    made = [layer_records(tree)]  # the first attempt's records; a retry makes its own (an attempt fills them in)

    def fresh() -> dict[str, LayerRecord]:
        return made.pop() if made else layer_records(tree)

    if device == "auto":  # the cheaper device first (strategy.py), the other if an op cannot run there
        first = choose_device(tree, inputs, memory=memory)
        tried = [first, "meta" if first == "cpu" else "cpu"]
    else:
        tried = [device]
    collector: Collector | None = None
    failed: tuple[Collector, str, ForwardError] | None = None  # the last attempt that failed
    used = tried[0]
    for used in tried:
        if used == "cpu":
            need, free = _cpu_bytes(tree, inputs), available_bytes()
            if need > free // 2:
                msg = (
                    f"refusing to run on the CPU: copying the weights and inputs there needs {need / 2**30:.1f} GiB, "
                    f"more than half the available memory ({free / 2**30:.1f} GiB)"
                )
                if failed:  # say why meta was not enough, and keep where it failed
                    prev = failed[2]
                    error = ForwardError(f"{msg}; on meta, {prev}", prev.module_path, prev.input_shapes)
                    failed = (failed[0], failed[1], error)
                else:
                    failed = (Collector(fresh(), attention), used, ForwardError(msg))
                break
        attempt = Collector(fresh(), attention)
        try:
            # the CPU chosen for a small model runs on one thread: no time lost spinning up (or, on a shared
            # machine, contending for) a thread pool for ops of a few microseconds
            with _one_thread() if used == "cpu" and device == "auto" else nullcontext():
                _forward(tree, inputs, used, attempt, peak if used == "meta" else None)
            collector, failed = attempt, None
            if peak is not None and used == "meta":
                peak.measured = True
            break
        except ForwardError as exc:
            failed = (attempt, used, exc)
    if failed is not None:
        attempt, used, error = failed
        if not partial:
            raise error
        return dataclasses.replace(
            _report(tree, name, inputs, attempt, used),
            partial=True,
            error=str(error),
            notes=("partial: the forward failed; the counts cover only what ran before the failure",),
        )
    assert collector is not None
    uncounted = dict(collector.uncounted)
    if strict and uncounted:
        listed = ", ".join(f"{op} x{n}" for op, n in sorted(uncounted.items()))
        raise UncountedOpsError(f"strict: ops ran without a formula: {listed}", uncounted)
    return _report(tree, name, inputs, collector, used)


def _report(tree: ModuleTree, name: str | None, inputs: Inputs, collector: Collector, used: str) -> Report:
    return build_report(
        model=name or type(tree.model).__name__,
        inputs=inputs.info(),
        records=list(collector.finish().values()),
        op_costs=collector.op_costs,
        uncounted_ops=dict(collector.uncounted),
        totals=totals(tree),
        device=used,
        attention=collector.attention,
        not_run=collector.not_run(),
        notes=sorted(collector.notes),
    )
