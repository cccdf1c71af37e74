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

from collections import Counter, OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils.hooks import RemovableHandle

from ....formulas import Cost
from ....report.model import LayerRecord
from ..costs.forward import FAST_PATH_CHECKS, FUNCTION_COSTS, ZERO_COST, Call, adapter_for
from ..dispatch_mode import DispatchMode
from ..meta_cache import run as run_op
from ..module_tree import ModuleTree
from ..rnn_whole import run_whole
from ..tensors import no_function_modes, output_bytes, tensor_leaves
from .traffic import function_traffic, op_traffic


def tensor_shapes(obj: Any) -> list[tuple[int, ...]]:
    """Shapes of the tensors anywhere inside ``obj`` (tuples, lists, dicts, pytree nodes), in order."""
    return [tuple(t.shape) for t in tensor_leaves(obj)]  # torch.Size holds ints


# OpOverload -> (its packet's name, cost adapter or None, declared free): looked up once per process
_RESOLVED: dict[Any, tuple[str, Any, bool]] = {}


class Collector:
    """Receives module enter/exit and op events; keeps records per module name.

    Costs are summed into plain lists of ints while the forward runs (``_own`` per module, ``_ops`` per op
    name): a ``Cost`` per op and per sum cost MobileNet-v3 about 2 ms. :meth:`finish` writes them out."""

    def __init__(self, records: dict[str, LayerRecord], attention: str = "full"):
        self.records = records
        self.attention = attention
        self.modules: dict[str, Any] = {}  # name -> module, filled by ``hooked``
        self.stack: list[tuple[str, list[tuple[int, ...]]]] = []
        # module name -> [macs, other_flops, read_bytes, write_bytes] of the ops run directly in it
        self._own: dict[str, list[int]] = {}
        # op name -> [calls, macs, other_flops, read_bytes, write_bytes]
        self._ops: dict[str, list[int]] = {}
        self.uncounted: Counter[str] = Counter()
        self.inside_function = 0  # > 0 while a function counted by FUNCTION_COSTS runs
        # parameters read by some op, by name (``watch``: the stand-ins' ids -> their names, set by the caller):
        # a module never called whose weights no op read did not run (see ``not_run``)
        self.watch: dict[int, list[str]] = {}
        self.used: set[str] = set()
        self.notes: set[str] = set()  # what adapters say a reader must know (Call.notes)
        self.output_bytes: dict[str, int] | None = None  # when set: each module's output bytes, first call
        # functions run by something else (FusedAttentionOnMeta.routes: attention on a real device's kernel)
        self.routes: dict[Any, Callable[..., Any]] = {}

    def enter(self, name: str, args: Any, kwargs: Any) -> None:
        # hooks run inside the function mode: reading shapes here must not pass through it as the model's ops
        with no_function_modes():
            shapes = tensor_shapes(args if not kwargs else (args, kwargs))
        rec = self.records[name]
        if rec.calls == 0:
            rec.input_shapes = shapes
        rec.calls += 1
        self.stack.append((name, shapes))

    def exit(self, name: str, output: Any) -> None:
        rec = self.records[name]
        with no_function_modes():
            if rec.calls == 1:
                rec.output_shapes = tensor_shapes(output)
            if self.output_bytes is not None and name not in self.output_bytes:  # as memory._output_bytes_hooks
                self.output_bytes[name] = output_bytes(output)
        if self.stack and self.stack[-1][0] == name:
            self.stack.pop()

    @property
    def op_costs(self) -> dict[str, tuple[int, Cost]]:
        """Calls and summed cost per op name."""
        return {name: (v[0], Cost(v[1], v[2], v[3], v[4])) for name, v in self._ops.items()}

    def finish(self) -> dict[str, LayerRecord]:
        """The records, each module's ``own`` cost written in."""
        for name, v in self._own.items():
            self.records[name].own = Cost(v[0], v[1], v[2], v[3])
        return self.records

    def total(self) -> Cost:
        """The cost of every op counted so far."""
        return Cost(*(sum(v[i] for v in self._own.values()) for i in range(4)))

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any, overload: str = "default") -> Call:
        module = self.modules.get(self.stack[-1][0]) if self.stack else None
        return Call(args, kwargs, out, attention=self.attention, module=module, overload=overload, notes=self.notes)

    def _add(self, name: str, cost: Cost | None, read: int, write: int) -> None:
        """An op's cost (``cost``: its formula's, None for traffic only) and its traffic, into the running
        module's sums and the op's."""
        macs, other = (cost.macs, cost.other_flops) if cost is not None else (0, 0)
        if cost is not None:
            read, write = read + cost.read_bytes, write + cost.write_bytes
        top = self.stack[-1][0]
        own = self._own.get(top)
        if own is None:
            own = self._own[top] = [0, 0, 0, 0]
        own[0] += macs
        own[1] += other
        own[2] += read
        own[3] += write
        op = self._ops.get(name)
        if op is None:
            op = self._ops[name] = [0, 0, 0, 0, 0]
        op[0] += 1
        op[1] += macs
        op[2] += other
        op[3] += read
        op[4] += write

    def op(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """An aten op ran (seen by the dispatch mode)."""
        if self.watch:
            self._note_used(args)
        if not self.stack or self.inside_function:  # outside the forward, or inside a function counted whole
            return
        try:
            name, adapter, free = _RESOLVED[func]
        except KeyError:
            packet = func.overloadpacket
            name, adapter, free = _RESOLVED.setdefault(func, (str(packet), adapter_for(packet), packet in ZERO_COST))
        read, write = op_traffic(func, args, kwargs, out)  # bytes read and written, counted for every op
        if adapter is None:
            if not free:
                self.uncounted[name] += 1
            if read or write:  # data movement without arithmetic (cat, copies, lookups): traffic only
                self._add(name, None, read, write)
            return
        self._add(name, adapter(self._call(args, kwargs, out, func._overloadname)), read, write)

    def _note_used(self, args: tuple[Any, ...]) -> None:
        for a in args:  # weights are direct arguments, or in a list (aten.lstm's params, _foreach ops)
            for t in a if isinstance(a, (list, tuple)) else (a,):
                names = self.watch.get(id(t)) if isinstance(t, torch.Tensor) else None
                if names:
                    self.used.update(names)

    def not_run(self) -> list[str]:
        """The topmost modules holding parameters that never ran: not called, and no op read their weights
        (a module whose weight is read directly, like Whisper's ``embed_positions.weight``, did run)."""
        used_prefixes = {n.rpartition(".")[0] for n in self.used}
        ran = set()
        for prefix in used_prefixes:  # every ancestor of a used weight's owner ran
            while True:
                ran.add(prefix)
                if not prefix:
                    break
                prefix = prefix.rpartition(".")[0]
        out: list[str] = []
        for name, rec in self.records.items():
            if name and rec.calls == 0 and rec.params > 0 and name not in ran:
                if not any(name.startswith(o + ".") for o in out):
                    out.append(name)
        return out

    def function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A torch function is called (seen by the function mode): count it whole if it has a formula."""
        if func in FAST_PATH_CHECKS and self.stack:
            return FAST_PATH_CHECKS[func]
        run = self.routes.get(func, func) if self.routes else func
        entry = FUNCTION_COSTS.get(func) if self.stack and not self.inside_function else None
        if entry is None:
            return run(*args, **kwargs)
        self.inside_function += 1
        try:
            # an RNN's outputs without running its steps; attention through the kernel a real device runs
            out = run_whole(func, args, kwargs) if run is func else run(*args, **kwargs)
        finally:
            self.inside_function -= 1
        name, adapter = entry
        self._add(name, adapter(self._call(args, kwargs, out)), *function_traffic(args, kwargs, out))
        return out


_IS_ALL_TRUE = torch.ops.aten._is_all_true.default


class _CostMode(DispatchMode):
    def __init__(self, collector: Collector):
        super().__init__()
        self.collector = collector

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is _IS_ALL_TRUE and args[0].device.type == "meta":
            # torch._check_tensor_all (transformers' torch_compilable_check: LLaVA's "image tokens match image
            # features") asks for the value of a meta tensor, which has none: a check, answered "passed" on the
            # CPU so that .item() works, as FAST_PATH_CHECKS are. The CPU fallback still evaluates it for real.
            return torch.ones((), dtype=torch.bool)
        out = run_op(func, args, kwargs)
        self.collector.op(func, args, kwargs, out)
        return out


class _FunctionMode(TorchFunctionMode):
    def __init__(self, collector: Collector):
        super().__init__()
        self.collector = collector
        # the functions the collector does anything with; every other one (``dim``, ``size``, ``conv2d``, ...)
        # runs straight on, here, without a call into the collector
        self.special = FAST_PATH_CHECKS.keys() | FUNCTION_COSTS.keys() | collector.routes.keys()

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        if func in self.special:
            return self.collector.function(func, args, kwargs or {})
        return func(*args, **(kwargs or {}))


class _counting:
    """Context manager: both modes, functions (outer) and aten ops (inner)."""

    def __init__(self, collector: Collector):
        self.functions, self.ops = _FunctionMode(collector), _CostMode(collector)

    def __enter__(self) -> None:
        self.functions.__enter__()
        try:
            self.ops.__enter__()
        except BaseException:
            self.functions.__exit__(None, None, None)
            raise

    def __exit__(self, *exc: Any) -> None:
        try:
            self.ops.__exit__(*exc)
        finally:
            self.functions.__exit__(*exc)


class hooked:
    """Context manager: hooks on every submodule of ``model`` (a module, or its walked ``ModuleTree``) feeding
    ``collector``; removed on exit.

    The hooks are written into each module's hook dicts under one id, which is what
    ``register_forward_pre_hook(..., with_kwargs=True)`` and ``register_forward_hook(..., with_kwargs=True)`` do,
    without a ``RemovableHandle`` (two weak references) per module and hook: those cost MobileNet-v3 2 ms."""

    _DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks", "_forward_hooks_with_kwargs")

    def __init__(self, model: torch.nn.Module | ModuleTree, collector: Collector):
        self.tree = model if isinstance(model, ModuleTree) else ModuleTree(model)
        self.collector = collector
        self.hooked: list[torch.nn.Module] = []
        self.id = RemovableHandle(OrderedDict()).id  # unique in the process, as every hook's id

    def __enter__(self) -> AbstractContextManager[None]:
        c = self.collector
        names: dict[int, str] = {}  # one hook function for all modules, which looks up the module's name

        def pre(mod: Any, args: Any, kwargs: Any) -> None:
            c.enter(names[id(mod)], args, kwargs)

        def post(mod: Any, args: Any, kwargs: Any, output: Any) -> None:
            c.exit(names[id(mod)], output)

        hid = self.id
        try:
            for name, module in self.tree.named:
                c.modules[name] = module
                names[id(module)] = name
                self.hooked.append(module)
                module._forward_pre_hooks[hid] = pre
                module._forward_pre_hooks_with_kwargs[hid] = True
                module._forward_hooks[hid] = post
                module._forward_hooks_with_kwargs[hid] = True
        except BaseException:
            self.remove()
            raise
        return _counting(c)

    def remove(self) -> None:
        hid = self.id
        for module in self.hooked:
            for attr in self._DICTS:
                getattr(module, attr).pop(hid, None)
        self.hooked.clear()

    def __exit__(self, *exc: Any) -> None:
        self.remove()
