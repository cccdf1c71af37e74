"""Recurrent layers counted whole: their outputs come from the call's shapes, not from running every step.

On meta, PyTorch runs ``torch.lstm`` / ``gru`` / ``rnn_tanh`` / ``rnn_relu`` as a Python loop of matmuls and
elementwise ops per time step (on the CPU, a C++ loop whose ops all pass through a Python dispatch mode): a
2-layer LSTM over 4,000 steps took 15 s. The forward's MACs come from the RNN formula
(``aten_costs._rnn``), so the steps need not run: the outputs are empty tensors of the shapes the function
returns (on the CPU, the real values, computed by PyTorch's own kernel with no Python mode in the way).

What a memory measurement or a training step reads from the steps is *affine in the number of steps* (each
step runs the same ops on the same shapes): the bytes the steps allocate at peak, the bytes autograd saves for
backward and the cost of the backward. Those figures come from running the step-by-step decomposition at two
short lengths (``PROBE_STEPS``) and extending the line: ``f(T) = f(2) + (T - 2) · (f(3) - f(2))``, exactly what
running all T steps gives (``tests/test_rnn_whole.py`` compares every figure with the step-by-step run on meta).
The inference peak reproduces the steps' temporaries while the outputs are alive, not which of them the
meta decomposition keeps alive through views after the call (a few hidden states); that part differs between
devices anyway. Probes are cached per call signature, so a model runs them once per distinct layer, and only
when a memory figure asks for them: counting MACs runs none.

Only padded sequences of more than ``PROBE_STEPS[-1]`` steps take this path; packed sequences (a batch size
per step) and short sequences run as before.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import _disable_current_modes, _get_current_dispatch_mode_stack
from torch.utils._pytree import tree_leaves

from ...formulas import Cost
from .dispatch_mode import DispatchMode
from .measure.live import LiveBytes
from .meta_cache import run as run_op
from .tensors import meta_like

RNN_FUNCTIONS = frozenset((torch.lstm, torch.gru, torch.rnn_tanh, torch.rnn_relu))
PROBE_STEPS = (2, 3)

# Where a backward counted whole reports its cost: the innermost open sink (memory.CountCost opens one
# while the real backward runs). Each sink takes (cost, uncounted op names).
CostSink = Callable[[Cost, Counter[str]], None]
_SINKS: list[CostSink] = []


@contextmanager
def backward_sink(sink: CostSink) -> Iterator[None]:
    _SINKS.append(sink)
    try:
        yield
    finally:
        _SINKS.remove(sink)


@dataclass(frozen=True)
class _Layout:
    """Where the tensors of a padded RNN call sit: args = (input, hx, params, has_biases, num_layers,
    dropout, train, bidirectional, batch_first); hx a tensor (GRU, RNN) or (h0, c0) (LSTM)."""

    n_hx: int
    n_params: int
    time_dim: int
    directions: int

    def split(self, tensors: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        return tensors[0], list(tensors[1 : 1 + self.n_hx]), list(tensors[1 + self.n_hx :])


def _layout(args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Layout | None:
    if kwargs or len(args) != 9 or not isinstance(args[3], bool):  # packed: (data, batch_sizes, hx, params, ...)
        return None
    x, hx, params = args[0], args[1], args[2]
    hx_list = list(hx) if isinstance(hx, (tuple, list)) else [hx]
    tensors = [x, *hx_list, *params]
    if not all(isinstance(t, torch.Tensor) for t in tensors) or x.dim() != 3:
        return None
    time_dim = 1 if args[8] else 0
    if int(x.shape[time_dim]) <= PROBE_STEPS[-1]:
        return None
    return _Layout(len(hx_list), len(params), time_dim, 2 if args[7] else 1)


def _rebuild(func: Any, args: tuple[Any, ...], layout: _Layout, tensors: tuple[torch.Tensor, ...]) -> tuple[Any, ...]:
    x, hx, params = layout.split(tensors)
    hx_arg: Any = tuple(hx) if func is torch.lstm else hx[0]
    return (x, hx_arg, params, *args[3:])


def _empty_outputs(x: torch.Tensor, hx: list[torch.Tensor], layout: _Layout) -> tuple[torch.Tensor, ...]:
    """(output, h_n[, c_n]) as PyTorch lays them out: output (T, B, D·H_out), transposed for batch_first."""
    steps, batch = int(x.shape[layout.time_dim]), int(x.shape[1 - layout.time_dim])
    out = torch.empty((steps, batch, layout.directions * int(hx[0].shape[-1])), dtype=x.dtype, device=x.device)
    if layout.time_dim == 1:
        out = out.transpose(0, 1)
    # meta_like: PyTorch's empty_like of a meta tensor is a Python reference (170 us)
    return (out, *(meta_like(h) if h.is_meta else torch.empty_like(h) for h in hx))


def _bytes(tensors: Any) -> int:
    seen = {id(t.untyped_storage()): t.untyped_storage() for t in tree_leaves(tensors) if isinstance(t, torch.Tensor)}
    return sum(s.nbytes() for s in seen.values())


# -- probes: the step-by-step decomposition at two short lengths, on meta ------------------------------------
def _probe_inputs(tensors: tuple[torch.Tensor, ...], layout: _Layout, steps: int) -> list[torch.Tensor]:
    out = []
    for i, t in enumerate(tensors):
        shape = list(t.shape)
        if i == 0:
            shape[layout.time_dim] = steps
        p = torch.empty(shape, dtype=t.dtype, device="meta")
        out.append(p.requires_grad_(t.requires_grad and t.dtype.is_floating_point))
    return out


def _signature(func: Any, args: tuple[Any, ...], tensors: tuple[torch.Tensor, ...], layout: _Layout) -> tuple:
    shapes = tuple(
        (tuple(t.shape) if i else tuple(s for d, s in enumerate(t.shape) if d != layout.time_dim), t.dtype,
         t.requires_grad)
        for i, t in enumerate(tensors)
    )  # fmt: skip
    return (func, shapes, args[3:])


_PEAKS: dict[tuple, tuple[int, int]] = {}  # signature -> transient bytes at the probe lengths
_SAVED: dict[tuple, tuple[tuple[int, ...], tuple[int, int]]] = {}
_BACKWARD: dict[tuple, tuple[tuple[Cost, Cost], tuple[Counter[str], Counter[str]]]] = {}


def _extend(values: tuple[Any, Any], steps: int) -> Any:
    """The affine extension through (PROBE_STEPS[0], a) and (PROBE_STEPS[1], b) at ``steps``."""
    a, b = values
    return a + (b - a) * (steps - PROBE_STEPS[0])


def _probe_peaks(func: Any, args: tuple[Any, ...], tensors: tuple[torch.Tensor, ...], layout: _Layout) -> tuple:
    """Bytes alive at the peak inside the call beyond its outputs, at each probe length (inference, no grad)."""
    found = []
    for steps in PROBE_STEPS:
        probe = _probe_inputs(tensors, layout, steps)
        live = LiveBytes()
        with torch.no_grad(), live:
            out = func(*_rebuild(func, args, layout, tuple(probe)))
        found.append(live.peak - _bytes(out))
    return tuple(found)


def _probe_saved(func: Any, args: tuple[Any, ...], tensors: tuple[torch.Tensor, ...], layout: _Layout) -> tuple:
    """Which inputs autograd saves (by index) and the bytes of the other saved storages, at each probe length."""
    saved_inputs: set[int] = set()
    found = []
    for steps in PROBE_STEPS:
        probe = _probe_inputs(tensors, layout, steps)
        index = {id(t.untyped_storage()): i for i, t in enumerate(probe)}
        others: dict[int, torch.UntypedStorage] = {}

        def pack(t: torch.Tensor, index: dict[int, int] = index, others: dict = others) -> torch.Tensor:
            s = t.untyped_storage()
            if id(s) in index:
                saved_inputs.add(index[id(s)])
            else:
                others.setdefault(id(s), s)
            return t

        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = func(*_rebuild(func, args, layout, tuple(probe)))
        found.append(sum(s.nbytes() for s in others.values()))
        del out, others
    return tuple(sorted(saved_inputs)), tuple(found)


def _probe_backward(
    func: Any, args: tuple[Any, ...], tensors: tuple[torch.Tensor, ...], layout: _Layout, grads: tuple[bool, ...]
) -> tuple[tuple[Cost, Cost], tuple[Counter[str], Counter[str]]]:
    """The cost of the backward at each probe length (and the ops without a formula it ran), with gradients
    arriving at the outputs in ``grads``."""
    from .costs.forward import ZERO_COST, Call, adapter_for

    costs, missing = [], []
    for steps in PROBE_STEPS:
        probe = _probe_inputs(tensors, layout, steps)
        with torch.enable_grad():
            out = func(*_rebuild(func, args, layout, tuple(probe)))
        outs = [o for o, g in zip(out, grads, strict=True) if g and o.requires_grad]
        wanted = [p for p in probe if p.requires_grad]
        total = [Cost()]
        uncounted: Counter[str] = Counter()

        def count(func: Any, args: tuple, kwargs: dict, out: Any, total: list = total, uncounted: Counter = uncounted):
            adapter = adapter_for(func.overloadpacket)
            if adapter is not None:
                total[0] = total[0] + adapter(Call(args, kwargs, out, overload=func._overloadname))
            elif func.overloadpacket not in ZERO_COST:
                uncounted[str(func.overloadpacket)] += 1

        if outs and wanted:
            with _Counting(count):
                torch.autograd.grad(outs, wanted, [torch.ones_like(o) for o in outs], allow_unused=True)
        costs.append(total[0])
        missing.append(uncounted)
    return (costs[0], costs[1]), (missing[0], missing[1])


class _Counting(DispatchMode):
    def __init__(self, on_op: Callable[[Any, tuple, dict, Any], None]):
        super().__init__()
        self.on_op = on_op

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = run_op(func, args, kwargs)
        self.on_op(func, args, kwargs, out)
        return out


def _live_tracked() -> bool:
    return any(isinstance(m, LiveBytes) for m in _get_current_dispatch_mode_stack())


class _Whole(torch.autograd.Function):
    """The RNN as one autograd node: forward makes the outputs, backward hands back gradients of the right
    shapes and reports the (probed) backward cost to the open sink."""

    @staticmethod
    def forward(ctx: Any, call: _Call, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        ctx.call = call
        ctx.set_materialize_grads(False)
        outs = call.outputs(tensors)
        ctx.save_for_backward(*call.saved(tensors))
        return outs

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor | None) -> tuple[Any, ...]:
        call: _Call = ctx.call
        ctx.saved_tensors  # noqa: B018 - unpacked as autograd would
        call.report_backward(tuple(g is not None for g in grads))
        needs = ctx.needs_input_grad[1:]
        return (None, *(torch.zeros_like(t) if n else None for t, n in zip(call.tensors, needs, strict=True)))


@dataclass
class _Call:
    func: Any
    args: tuple[Any, ...]
    layout: _Layout
    tensors: tuple[torch.Tensor, ...]

    @property
    def steps(self) -> int:
        return int(self.tensors[0].shape[self.layout.time_dim])

    @property
    def key(self) -> tuple:
        return _signature(self.func, self.args, self.tensors, self.layout)

    def outputs(self, tensors: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        x, hx, _ = self.layout.split(tensors)
        outs = _empty_outputs(x, hx, self.layout)  # allocated under the open modes, so memory trackers see them
        if x.device.type != "meta":
            with _disable_current_modes(), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # oneDNN's "LSTM with projections is not supported" notice
                real = self.func(*_rebuild(self.func, self.args, self.layout, tensors))
                for o, r in zip(outs, real, strict=True):
                    o.copy_(r)
        if _live_tracked():
            if self.key not in _PEAKS:
                with _disable_current_modes():
                    _PEAKS[self.key] = _probe_peaks(self.func, self.args, self.tensors, self.layout)
            # the steps' temporaries: alive together with the outputs at the peak, freed on return
            transient = torch.empty(
                max(int(_extend(_PEAKS[self.key], self.steps)), 0), dtype=torch.uint8, device="meta"
            )
            del transient
        return outs

    def saved(self, tensors: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        if not any(t.requires_grad for t in self.tensors):
            return []
        if self.key not in _SAVED:
            with _disable_current_modes():
                _SAVED[self.key] = _probe_saved(self.func, self.args, self.tensors, self.layout)
        inputs, others = _SAVED[self.key]
        block = torch.empty(max(int(_extend(others, self.steps)), 0), dtype=torch.uint8, device=tensors[0].device)
        return [tensors[i] for i in inputs] + [block]

    def report_backward(self, grads: tuple[bool, ...]) -> None:
        if not _SINKS:
            return
        key = (*self.key, grads)
        if key not in _BACKWARD:
            with _disable_current_modes():
                _BACKWARD[key] = _probe_backward(self.func, self.args, self.tensors, self.layout, grads)
        (a, b), (u, v) = _BACKWARD[key]
        cost = Cost(_extend((a.macs, b.macs), self.steps), _extend((a.other_flops, b.other_flops), self.steps))
        uncounted = Counter({op: _extend((u[op], v[op]), self.steps) for op in u | v})
        _SINKS[-1](cost, uncounted)


def run_whole(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``func`` (an RNN function) without its steps where the call allows; else run it as it is."""
    layout = _layout(args, kwargs) if func in RNN_FUNCTIONS else None
    if layout is None:
        return func(*args, **kwargs)
    hx = args[1] if isinstance(args[1], (tuple, list)) else [args[1]]
    tensors = (args[0], *hx, *args[2])
    call = _Call(func, args, layout, tuple(tensors))
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return _Whole.apply(call, *tensors)
    return call.outputs(tensors)


class RNNsWhole(TorchFunctionMode):
    """Runs every RNN function through :func:`run_whole` (for the memory runs, which count no forward ops)."""

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func in RNN_FUNCTIONS:
            return run_whole(func, args, kwargs)
        return func(*args, **kwargs)
