"""Collection: run a module's forward once, recording every aten op against the module that ran it.

Counting happens at the aten level (a TorchDispatchMode), so ``@``, ``torch.matmul``, ``einsum`` and
``F.*`` inside any forward are seen. Module attribution uses forward pre/post hooks on each submodule,
all removed before returning, error or not.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from ..._report import LayerRecord
from ...formulas import Cost
from .aten_costs import ATEN_COSTS, ZERO_COST


def tensor_shapes(obj: Any) -> list[tuple[int, ...]]:
    """Shapes of the tensors anywhere inside ``obj`` (tuples, lists, dicts, pytree nodes), in order."""
    return [tuple(int(d) for d in t.shape) for t in tree_leaves(obj) if isinstance(t, torch.Tensor)]


class Collector:
    """Receives module enter/exit and op events; keeps records per module name."""

    def __init__(self, records: dict[str, LayerRecord]):
        self.records = records
        self.stack: list[tuple[str, list[tuple[int, ...]]]] = []
        self.op_costs: dict[str, tuple[int, Cost]] = {}
        self.uncounted: Counter[str] = Counter()

    def enter(self, name: str, args: Any, kwargs: Any) -> None:
        shapes = tensor_shapes((args, kwargs))
        rec = self.records[name]
        if rec.calls == 0:
            rec.input_shapes = shapes
        rec.calls += 1
        self.stack.append((name, shapes))

    def exit(self, name: str, output: Any) -> None:
        rec = self.records[name]
        if rec.calls == 1:
            rec.output_shapes = tensor_shapes(output)
        if self.stack and self.stack[-1][0] == name:
            self.stack.pop()

    def op(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        if not self.stack:  # not inside the model's forward (e.g. functional_call swapping tensors)
            return
        packet = func.overloadpacket
        adapter = ATEN_COSTS.get(packet)
        if adapter is None:
            if packet not in ZERO_COST:
                self.uncounted[str(packet)] += 1
            return
        cost = adapter(args, kwargs, out)
        rec = self.records[self.stack[-1][0]]
        rec.own = rec.own + cost
        name = str(packet)
        calls, total = self.op_costs.get(name, (0, Cost()))
        self.op_costs[name] = (calls + 1, total + cost)


class _CostMode(TorchDispatchMode):
    def __init__(self, collector: Collector):
        super().__init__()
        self.collector = collector

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.collector.op(func, args, kwargs, out)
        return out


class hooked:
    """Context manager: hooks on every submodule of ``model`` feeding ``collector``; removed on exit."""

    def __init__(self, model: torch.nn.Module, collector: Collector):
        self.model = model
        self.collector = collector
        self.handles: list[Any] = []

    def __enter__(self) -> _CostMode:
        c = self.collector
        try:
            for name, module in self.model.named_modules():

                def pre(mod: Any, args: Any, kwargs: Any, _n: str = name) -> None:
                    c.enter(_n, args, kwargs)

                def post(mod: Any, args: Any, kwargs: Any, output: Any, _n: str = name) -> None:
                    c.exit(_n, output)

                self.handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
                self.handles.append(module.register_forward_hook(post, with_kwargs=True))
        except BaseException:
            self.remove()
            raise
        return _CostMode(c)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def __exit__(self, *exc: Any) -> None:
        self.remove()
