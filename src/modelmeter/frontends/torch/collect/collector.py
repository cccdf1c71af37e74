"""Collection: run a module's forward once, recording every aten op against the module that ran it.

Counting happens at the aten level (a TorchDispatchMode), so ``@``, ``torch.matmul``, ``einsum`` and
``F.*`` inside any forward are seen. A TorchFunctionMode above it counts the compound functions whose aten
decomposition depends on the device or backend (attention, RNNs: ``aten_costs.FUNCTION_COSTS``) from their
arguments, and the aten ops they run are then not counted again. (While a TorchFunctionMode is active, PyTorch
also skips the ``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer`` inference fast paths; the slow paths
do the same arithmetic and are counted through the same formulas.) Module attribution uses forward pre/post
hooks on each submodule, all removed before returning, error or not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from ....formulas import Cost
from ....report.model import LayerRecord
from ..costs.forward import FAST_PATH_CHECKS, FUNCTION_COSTS, ZERO_COST, Call, adapter_for
from ..rnn_whole import run_whole


def tensor_shapes(obj: Any) -> list[tuple[int, ...]]:
    """Shapes of the tensors anywhere inside ``obj`` (tuples, lists, dicts, pytree nodes), in order."""
    return [tuple(int(d) for d in t.shape) for t in tree_leaves(obj) if isinstance(t, torch.Tensor)]


def _tensors_bytes(obj: Any) -> int:
    """Bytes of the distinct tensors inside ``obj`` (as memory.py's per-layer output bytes count them)."""
    seen = {id(t): t for t in tree_leaves(obj) if isinstance(t, torch.Tensor)}
    return sum(t.numel() * t.element_size() for t in seen.values())


class Collector:
    """Receives module enter/exit and op events; keeps records per module name."""

    def __init__(self, records: dict[str, LayerRecord], attention: str = "full"):
        self.records = records
        self.attention = attention
        self.modules: dict[str, Any] = {}  # name -> module, filled by ``hooked``
        self.stack: list[tuple[str, list[tuple[int, ...]]]] = []
        self.op_costs: dict[str, tuple[int, Cost]] = {}
        self.uncounted: Counter[str] = Counter()
        self.inside_function = 0  # > 0 while a function counted by FUNCTION_COSTS runs
        self._ops: dict[Any, tuple[Any, str, str, bool]] = {}  # op overload -> (adapter, name, overload, free)
        self.output_bytes: dict[str, int] | None = None  # set to {} to record each module's output bytes

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
            if self.output_bytes is not None:
                self.output_bytes[name] = _tensors_bytes(output)
        if self.stack and self.stack[-1][0] == name:
            self.stack.pop()

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any, overload: str = "default") -> Call:
        module = self.modules.get(self.stack[-1][0]) if self.stack else None
        return Call(args, kwargs, out, attention=self.attention, module=module, overload=overload)

    def _add(self, name: str, cost: Cost) -> None:
        rec = self.records[self.stack[-1][0]]
        rec.own = rec.own + cost
        calls, total = self.op_costs.get(name, (0, Cost()))
        self.op_costs[name] = (calls + 1, total + cost)

    def op(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """An aten op ran (seen by the dispatch mode)."""
        if not self.stack or self.inside_function:  # outside the forward, or inside a function counted whole
            return
        info = self._ops.get(func)
        if info is None:  # resolved once per op overload per analysis (a model runs the same few dozen)
            packet = func.overloadpacket
            info = self._ops[func] = (adapter_for(packet), str(packet), func._overloadname, packet in ZERO_COST)
        adapter, name, overload, free = info
        if adapter is None:
            if not free:
                self.uncounted[name] += 1
            return
        self._add(name, adapter(self._call(args, kwargs, out, overload)))

    def function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A torch function is called (seen by the function mode): count it whole if it has a formula."""
        if func in FAST_PATH_CHECKS and self.stack:
            return FAST_PATH_CHECKS[func]
        entry = FUNCTION_COSTS.get(func) if self.stack and not self.inside_function else None
        if entry is None:
            return func(*args, **kwargs)
        self.inside_function += 1
        try:
            out = run_whole(func, args, kwargs)  # an RNN's outputs without running its steps
        finally:
            self.inside_function -= 1
        name, adapter = entry
        self._add(name, adapter(self._call(args, kwargs, out)))
        return out


class _CostMode(TorchDispatchMode):
    def __init__(self, collector: Collector):
        super().__init__()
        self.collector = collector

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.collector.op(func, args, kwargs, out)
        return out


class _FunctionMode(TorchFunctionMode):
    def __init__(self, collector: Collector):
        super().__init__()
        self.collector = collector

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        return self.collector.function(func, args, kwargs or {})


@contextmanager
def _counting(collector: Collector) -> Iterator[None]:
    """Both modes: functions (outer) and aten ops (inner)."""
    with _FunctionMode(collector), _CostMode(collector):
        yield


class hooked:
    """Context manager: hooks on every submodule of ``model`` feeding ``collector``; removed on exit."""

    def __init__(self, model: torch.nn.Module, collector: Collector):
        self.model = model
        self.collector = collector
        self.handles: list[Any] = []

    def __enter__(self) -> AbstractContextManager[None]:
        c = self.collector
        try:
            for name, module in self.model.named_modules():
                c.modules[name] = module

                def pre(mod: Any, args: Any, kwargs: Any, _n: str = name) -> None:
                    c.enter(_n, args, kwargs)

                def post(mod: Any, args: Any, kwargs: Any, output: Any, _n: str = name) -> None:
                    c.exit(_n, output)

                self.handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
                self.handles.append(module.register_forward_hook(post, with_kwargs=True))
        except BaseException:
            self.remove()
            raise
        return _counting(c)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def __exit__(self, *exc: Any) -> None:
        self.remove()
