"""Memory of a model, measured on meta: weights by dtype, the activation peak of a forward, and one
training step (state, saved activations, forward and backward FLOPs).

Nothing here is a fixed multiplier: activation figures come from running the model (``live.py``), FLOPs
from the aten ops the forward and the real backward graph run. The user's model is never touched: every
run goes through ``torch.func.functional_call`` with stand-in tensors, hooks are removed and module modes
restored before returning, error or not.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Any

import torch
from torch.utils._pytree import tree_leaves, tree_map

from ....errors import ForwardError, ModelMeterError
from ....formulas import Cost
from ....memory import dtypes
from ....memory.attention_kernels import target_for
from ....memory.report import Memory, Training
from ....memory.training import Sharded, compute_bytes, optimizer_bytes_per_param, shard
from ....options import MemoryOptions
from ..collect.collector import Collector, hooked
from ..collect.params import dtype_name, layer_records, packed_weights
from ..costs import forward as aten_costs
from ..dispatch_mode import DispatchMode
from ..inputs import Inputs
from ..meta_cache import run as run_op
from ..rnn_whole import RNNsWhole, backward_sink
from ..tensors import output_bytes
from .checkpointing import blocks as checkpoint_blocks
from .checkpointing import checkpointed_bytes, tracking
from .fused_attention import FusedAttentionOnMeta
from .live import LiveBytes, SavedBytes
from .native_mha import fast_path_flags
from .peak import InferencePeak
from .quantized_weights import stored_weights


def _cost_of(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> Cost | None:
    """The registry cost of one aten call, or None when the op has no formula."""
    adapter = aten_costs.adapter_for(func.overloadpacket)
    if adapter is None:
        return None
    return adapter(aten_costs.Call(args, kwargs, out, overload=func._overloadname))


class CountCost(DispatchMode):
    """Sums the registry cost of every aten op that runs, whatever runs it: for the backward, whose ops run
    outside any module's forward (forward passes are counted by :func:`counted`, as the report counts them).
    """

    def __init__(self) -> None:
        super().__init__()
        self.cost = Cost()
        self.uncounted: Counter[str] = Counter()
        self._sink = backward_sink(self._add_whole)

    def _add_whole(self, cost: Cost, uncounted: Counter[str]) -> None:
        """The backward of a function counted whole (rnn_whole.py), reported instead of run op by op."""
        self.cost = self.cost + cost
        self.uncounted.update(uncounted)

    def __enter__(self) -> CountCost:
        self._sink.__enter__()
        return super().__enter__()

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        self._sink.__exit__(*exc)

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = run_op(func, args, kwargs)
        cost = _cost_of(func, args, kwargs, out)
        if cost is not None:
            self.cost = self.cost + cost
        elif func.overloadpacket not in aten_costs.ZERO_COST:
            self.uncounted[str(func.overloadpacket)] += 1
        return out


@contextmanager
def counted(model: torch.nn.Module, attention: str = "full") -> Iterator[Collector]:
    """Count a forward of ``model`` exactly as the report does (same Collector, hooks removed on exit)."""
    collector = Collector(layer_records(model), attention=attention)
    with hooked(model, collector) as mode, mode:
        yield collector


def total_cost(collector: Collector) -> Cost:
    return collector.total()


def _unique(tensors: Iterator[tuple[str, torch.Tensor]]) -> list[torch.Tensor]:
    seen: dict[int, torch.Tensor] = {}
    for _, t in tensors:
        seen.setdefault(id(t), t)
    return list(seen.values())


def weights(model: torch.nn.Module, weights_dtype: str | None = None) -> tuple[int, dict[str, int], int]:
    """(weight bytes, weight bytes per dtype, buffer bytes); tied parameters once.

    With ``weights_dtype`` every floating-point parameter is re-priced at that format (int4 packed two per
    byte); integer parameters keep their own size.
    """
    by_dtype: dict[str, int] = defaultdict(int)
    for p in _unique(model.named_parameters(remove_duplicate=False)):
        if weights_dtype is not None and p.dtype.is_floating_point:
            name = dtypes.canonical(weights_dtype)
            by_dtype[name] += dtypes.nbytes(p.numel(), name)
        else:
            by_dtype[dtype_name(p.dtype)] += p.numel() * p.element_size()
    for w in packed_weights(model):  # quantized modules keep their weights outside parameters()
        if weights_dtype is not None and w.dtype.is_floating_point:
            name = dtypes.canonical(weights_dtype)
            by_dtype[name] += dtypes.nbytes(w.numel(), name)
        else:
            by_dtype[dtype_name(w.dtype)] += w.numel() * w.element_size()
    buffers = sum(b.numel() * b.element_size() for b in _unique(model.named_buffers(remove_duplicate=False)))
    return sum(by_dtype.values()), dict(sorted(by_dtype.items())), buffers


def _stand_ins(
    model: torch.nn.Module, device: str, dtype: torch.dtype | None, grad: bool
) -> tuple[dict[str, torch.Tensor], list[torch.Tensor]]:
    """Fresh tensors for every parameter and buffer by name (tied ones shared), and the trainable ones.

    ``dtype`` casts floating-point tensors (mixed precision runs the model in half); ``grad`` makes the
    stand-ins of trainable parameters leaves that require grad, so that autograd builds the real graph.
    """
    made: dict[int, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    trainable: list[torch.Tensor] = []
    named = chain(
        ((n, t, True) for n, t in model.named_parameters(remove_duplicate=False)),
        ((n, t, False) for n, t in model.named_buffers(remove_duplicate=False)),
    )
    for name, t, is_param in named:
        if id(t) not in made:
            to = dtype if (dtype is not None and t.dtype.is_floating_point) else t.dtype
            if device == "meta" or t.device.type == "meta":
                s = torch.empty(t.shape, dtype=to, device=device)
                if device != "meta":
                    s.zero_()
            else:
                s = t.detach().to("cpu", dtype=to, copy=True)
            if grad and is_param and t.requires_grad and s.dtype.is_floating_point:
                s.requires_grad_(True)
                trainable.append(s)
            made[id(t)] = s
        out[name] = made[id(t)]
    return out, trainable


@contextmanager
def _mode(model: torch.nn.Module, training: bool) -> Iterator[None]:
    """Every module in train (or eval) mode for the run; each module's own flag restored after."""
    before = [(m, m.training) for m in model.modules()]
    try:
        model.train(training)
        yield
    finally:
        for m, flag in before:
            m.training = flag


@contextmanager
def _output_bytes_hooks(model: torch.nn.Module, out: dict[str, int]) -> Iterator[None]:
    """Bytes of each module's outputs (first call), by module name; hooks removed on exit."""
    handles = []

    def hook_for(name: str) -> Any:
        def post(mod: Any, args: Any, output: Any) -> None:
            if name not in out:
                out[name] = output_bytes(output)

        return post

    try:
        for name, module in model.named_modules():
            handles.append(module.register_forward_hook(hook_for(name)))
        yield
    finally:
        for h in handles:
            h.remove()


def _cast_inputs(args: Any, kwargs: Any, dtype: torch.dtype | None) -> tuple[Any, Any]:
    if dtype is None:
        return args, kwargs

    def cast(t: Any) -> Any:
        return t.to(dtype) if isinstance(t, torch.Tensor) and t.dtype.is_floating_point else t

    return tree_map(cast, args), tree_map(cast, kwargs)


def activation_peak(
    model: torch.nn.Module, inputs: Inputs, device: str, attention: FusedAttentionOnMeta | None = None
) -> tuple[int, dict[str, int]]:
    """Peak live bytes of one inference forward (eval as the model is, no_grad), and per-layer output bytes.

    ``attention`` routes scaled-dot-product attention to a kernel (default: the CPU dispatcher's choice) and
    counts the calls per kernel."""
    stand_ins, _ = _stand_ins(model, device, None, grad=False)
    args, kwargs = inputs.on(device)
    per_layer: dict[str, int] = {}
    tracker = LiveBytes()
    attention = attention or FusedAttentionOnMeta()
    fast_paths = fast_path_flags(model, attention)
    with _output_bytes_hooks(model, per_layer), torch.no_grad(), attention, fast_paths, RNNsWhole(), tracker:
        out = torch.func.functional_call(model, stand_ins, args, kwargs, tie_weights=True, strict=False)
        del out
    return tracker.peak, per_layer


def _subtrees_cost(collector: Collector, names: list[str]) -> Cost:
    """Forward cost of the modules ``names`` and everything inside them."""
    prefixes = tuple(f"{n}." for n in names)
    inside = (r.own for n, r in collector.finish().items() if n in names or n.startswith(prefixes))
    return sum(inside, Cost())


def _batch_and_tokens(args: Any, kwargs: Any) -> tuple[int, int | None]:
    """Samples = the first input's first dimension; tokens = batch x seq for an integer (B, T) input."""
    first = next((t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)), None)
    if first is None or first.dim() == 0:
        return 1, None
    samples = int(first.shape[0])
    tokens = samples * int(first.shape[1]) if first.dim() == 2 and not first.dtype.is_floating_point else None
    return samples, tokens


def training_step(
    model: torch.nn.Module,
    inputs: Inputs,
    device: str,
    optimizer: str,
    precision: str,
    gpus: int | None = None,
    checkpointing: bool = False,
    attention: str = "full",
    attention_kernel: str = "auto",
) -> Training:
    """One training step measured on ``device``: forward in train mode with grad, then the real backward.

    The backward starts from a gradient of ones on every floating output that requires grad (a loss would
    add a few elementwise ops); only the trainable stand-ins get gradients, and the user's parameters'
    ``.grad`` are never touched (``torch.autograd.grad`` returns them instead of accumulating).
    ``checkpointing``: every block (``checkpointing.blocks``) recomputed in backward; see checkpointing.py.
    ``attention_kernel``: the SDPA kernel priced (``auto``: the one PyTorch picks on the CPU, or on an sm80+
    GPU when ``gpus`` is given; see fused_attention.py).
    """
    half = None if precision == "fp32" else (torch.bfloat16 if precision.startswith("bf16") else torch.float16)
    stand_ins, trainable = _stand_ins(model, device, half, grad=True)
    args, kwargs = _cast_inputs(*inputs.on(device), half)
    samples, tokens = _batch_and_tokens(args, kwargs)
    excluded = list({id(t): t for t in stand_ins.values()}.values())
    backward = CountCost()
    saved = SavedBytes(exclude=excluded)
    block_names = checkpoint_blocks(model) if checkpointing else []
    kernels = FusedAttentionOnMeta(attention_kernel, target_for(gpus))
    with _mode(model, True), torch.enable_grad(), kernels:
        with saved, counted(model, attention) as forward, tracking(model, saved, block_names) as block_inputs:
            out = torch.func.functional_call(model, stand_ins, args, kwargs, tie_weights=True, strict=False)
        outs = [t for t in tree_leaves(out) if isinstance(t, torch.Tensor) and t.requires_grad]
        activations = checkpointed_bytes(saved, block_inputs) if checkpointing else saved.bytes
        if outs and trainable:
            with backward:
                torch.autograd.grad(outs, trainable, grad_outputs=[torch.ones_like(t) for t in outs], allow_unused=True)
        del out, outs
        saved.release()

    bytes_per = compute_bytes(precision)
    unique_params = _unique(model.named_parameters(remove_duplicate=False))
    params = sum(
        p.numel() * bytes_per if p.dtype.is_floating_point else p.numel() * p.element_size() for p in unique_params
    )
    n_trainable = sum(p.numel() for p in unique_params if p.requires_grad and p.dtype.is_floating_point)
    grads = n_trainable * bytes_per
    state = n_trainable * optimizer_bytes_per_param(optimizer, precision)
    sharding: tuple[Sharded, ...] = ()
    if gpus is not None:
        sharding = tuple(
            shard(s, gpus, params, grads, state, activations) for s in ("ddp", "zero1", "zero2", "zero3", "tp")
        )
    return Training(
        optimizer=optimizer,
        precision=precision,
        params=params,
        grads=grads,
        optimizer_state=state,
        activations=activations,
        forward_flops=total_cost(forward).flops,
        forward_macs=total_cost(forward).macs,
        checkpointing=checkpointing,
        recompute_flops=_subtrees_cost(forward, block_names).flops,
        backward_flops=backward.cost.flops,
        backward_macs=backward.cost.macs,
        samples=samples,
        tokens=tokens,
        backward_uncounted_ops=tuple(sorted(backward.uncounted.items())),
        sharding=sharding,
        attention_kernels=tuple(sorted(kernels.kernels.items())),
    )


@contextmanager
def _as_forward_error(what: str) -> Iterator[None]:
    """A failure of the model's own code in a memory run, as one ForwardError naming the run."""
    try:
        yield
    except ModelMeterError:
        raise
    except Exception as exc:  # noqa: BLE001 - the model's forward may raise anything
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ForwardError(f"{what} failed: {type(exc).__name__}: {first}") from exc


def measure(
    model: torch.nn.Module,
    inputs: Inputs,
    device: str,
    options: MemoryOptions,
    *,
    attention: str = "full",
    inference: InferencePeak | None = None,
) -> Memory:
    """The ``memory`` part of a report for ``model`` on ``inputs`` (``device``: where the forward can run).
    ``inference``: the inference peak, already measured in the counting forward (peak.py)."""
    weights_dtype, train, precision = options.weights_dtype, options.train, options.precision
    optimizer, gpus, checkpointing = options.optimizer, options.gpus, options.checkpointing
    total, by_dtype, buffers = weights(model, weights_dtype)
    stored = stored_weights(model) if weights_dtype is None else None  # --weights-dtype stays the what-if
    if stored is not None:
        total, by_dtype = stored[0], stored[1]
    target = target_for(gpus)
    if inference is not None and inference.measured:
        kernels, peak, per_layer = inference.attention, inference.tracker.peak, inference.per_layer
    else:
        kernels = FusedAttentionOnMeta(options.attention_kernel, target)
        with _as_forward_error("the inference forward measuring memory"):
            peak, per_layer = activation_peak(model, inputs, device, kernels)
    training = None
    if train:
        with _as_forward_error(f"the training step (train mode, {precision}, on {device})"):
            training = training_step(
                model, inputs, device, optimizer, precision, gpus, checkpointing, attention, options.attention_kernel
            )
    return Memory(
        weights=total,
        weights_by_dtype=tuple(by_dtype.items()),
        buffers=buffers,
        activations_peak=peak,
        layer_output_bytes=tuple(per_layer.items()),
        weights_dtype=dtypes.canonical(weights_dtype) if weights_dtype else None,
        training=training,
        quantization=stored[2] if stored is not None else None,
        attention_kernel=options.attention_kernel,
        attention_target=target,
        attention_kernels=tuple(sorted(kernels.kernels.items())),
    )
