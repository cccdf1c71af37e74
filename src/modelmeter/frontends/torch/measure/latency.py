"""Measured latency: run the model for real (CUDA when present, else the CPU) and time it.

The user's module is run through ``torch.func.functional_call`` with stand-in tensors, so it is never moved,
cast or written to: parameters already on the device are used as they are (read-only, under no_grad), others
are copied there; buffers are always copies (a forward in train mode updates BatchNorm's running stats). A
model built on meta (``torchvision:`` references, ``hf:`` configs) gets random stand-ins: N(0, 0.02) weights,
BatchNorm running variances of 1, other buffers 0; timing does not depend on the values. Hooks are removed
and mode flags restored on exit, error or not.

Whole-forward times come from ``warmup`` then ``runs`` forwards without hooks; per-layer times from as many
forwards with a pre/post hook pair on every leaf module (``torch.cuda.synchronize`` in each hook on CUDA), the
sum of a leaf's calls per forward, medians over the runs. A model whose weights, inputs and activations would
not fit in the device's free memory is refused before anything is allocated: nothing is swapped to disk.
"""

from __future__ import annotations

import os
import statistics
import time
from itertools import chain
from typing import Any

import torch

from ...._units import human_bytes
from ....errors import ForwardError, InputError
from ....roofline.types import Measurement
from ..guard import preserved_module
from ..inputs import Inputs


def _device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def free_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def _stand_ins(model: torch.nn.Module, device: torch.device) -> dict[str, torch.Tensor]:
    gen = torch.Generator(device="cpu").manual_seed(0)
    made: dict[int, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    buffers = {id(b) for b in model.buffers()}
    named = chain(model.named_parameters(remove_duplicate=False), model.named_buffers(remove_duplicate=False))
    for name, t in named:
        if id(t) not in made:
            if t.device.type == "meta":
                if t.is_floating_point() and id(t) not in buffers:
                    made[id(t)] = (torch.randn(t.shape, generator=gen) * 0.02).to(device=device, dtype=t.dtype)
                elif name.endswith("running_var"):
                    made[id(t)] = torch.ones(t.shape, dtype=t.dtype, device=device)
                else:
                    made[id(t)] = torch.zeros(t.shape, dtype=t.dtype, device=device)
            elif id(t) in buffers or t.device != device:
                made[id(t)] = t.detach().to(device, copy=True)
            else:
                made[id(t)] = t.detach()  # already there: used as is, never written (no_grad, no in-place op)
        out[name] = made[id(t)]
    return out


def _need_bytes(model: torch.nn.Module, inputs: Inputs, device: torch.device, activations: int) -> int:
    tensors = {id(t): t for t in chain(model.parameters(), model.buffers())}.values()
    copied = sum(t.numel() * t.element_size() for t in tensors if t.device != device or t.device.type == "meta")
    given = [t for t in torch.utils._pytree.tree_leaves((inputs.args, inputs.kwargs)) if isinstance(t, torch.Tensor)]
    return copied + sum(t.numel() * t.element_size() for t in given) + activations


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _leaves(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    return [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]


def measure_latency(
    model: torch.nn.Module, inputs: Inputs, *, runs: int = 20, warmup: int = 5, activation_bytes: int = 0
) -> Measurement:
    """Time ``model``'s forward on ``inputs`` (see the module docstring); ``activation_bytes`` sizes the check."""
    if runs < 1 or warmup < 0:
        raise InputError(f"measure: runs must be >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    device = _device()
    need, free = _need_bytes(model, inputs, device, activation_bytes), free_bytes(device)
    if need > free * 0.8:
        raise InputError(
            f"measure: running {type(model).__name__} on {device.type} needs about {human_bytes(need)} "
            f"(weights, inputs, activations) but {human_bytes(free)} is free; refusing rather than swapping. "
            "Measure a smaller batch or input, or on a larger device"
        )
    stand_ins = _stand_ins(model, device)
    args, kwargs = inputs.on("cpu")
    args, kwargs = torch.utils._pytree.tree_map(
        lambda t: t.to(device) if isinstance(t, torch.Tensor) else t, (args, kwargs)
    )

    def forward() -> None:
        torch.func.functional_call(model, stand_ins, args, kwargs, tie_weights=True, strict=False)

    def timed() -> float:
        _sync(device)
        start = time.perf_counter()
        forward()
        _sync(device)
        return time.perf_counter() - start

    leaves = _leaves(model)
    per_layer: dict[str, list[float]] = {name: [] for name, _ in leaves}
    with preserved_module(model), torch.no_grad():
        try:
            for _ in range(warmup):
                forward()
            whole = [timed() for _ in range(runs)]
            hooked, per_layer, shares = _hooked_runs(model, leaves, device, timed, runs)
        except InputError:
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ForwardError(
                f"measure: the real forward on {device.type} failed: {type(exc).__name__}: {first}"
            ) from exc
    medians = tuple((n, statistics.median(ts)) for n, ts in per_layer.items() if ts and any(ts))
    q = statistics.quantiles(whole, n=4) if len(whole) > 1 else [whole[0]] * 3
    return Measurement(
        device=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        runs=runs,
        warmup=warmup,
        median_s=statistics.median(whole),
        min_s=min(whole),
        max_s=max(whole),
        iqr_s=q[2] - q[0],
        layers=medians,
        layers_sum_s=sum(t for _, t in medians),
        hooked_median_s=statistics.median(hooked),
        layers_share=statistics.median(shares) if shares else 0.0,
    )


def _hooked_runs(
    model: torch.nn.Module, leaves: list[tuple[str, torch.nn.Module]], device: torch.device, timed: Any, runs: int
) -> tuple[list[float], dict[str, list[float]], list[float]]:
    """``runs`` forwards with a timing hook pair on every leaf: per run, the whole time and each leaf's total."""
    current: dict[str, float] = {}
    started: dict[str, list[float]] = {}
    handles = []

    def pre(name: str) -> Any:
        def hook(mod: Any, args: Any) -> None:
            _sync(device)
            started.setdefault(name, []).append(time.perf_counter())

        return hook

    def post(name: str) -> Any:
        def hook(mod: Any, args: Any, out: Any) -> None:
            _sync(device)
            current[name] = current.get(name, 0.0) + time.perf_counter() - started[name].pop()

        return hook

    per_layer: dict[str, list[float]] = {name: [] for name, _ in leaves}
    hooked: list[float] = []
    shares: list[float] = []  # per run: the leaves' time added up / that run's whole forward
    try:
        for name, m in leaves:
            handles.append(m.register_forward_pre_hook(pre(name)))
            handles.append(m.register_forward_hook(post(name)))
        timed()  # one warm-up with the hooks in place
        for _ in range(runs):
            current.clear()
            hooked.append(timed())
            for name in per_layer:
                per_layer[name].append(current.get(name, 0.0))
            shares.append(sum(current.values()) / hooked[-1])
    finally:
        for h in handles:
            h.remove()
    return hooked, per_layer, shares
