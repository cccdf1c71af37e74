"""Leave torch and the user's model exactly as they were, whatever the model's forward does.

A forward may flip global settings (``torch.set_default_dtype``, grad mode, deterministic algorithms), draw
from the global random generator (dropout on the CPU fallback), switch its modules' train/eval mode or
requires_grad flags, or reassign its own parameters. The analysis must not leave any of that behind, also
when the forward raises or the user presses Ctrl-C; these context managers restore it in ``finally``.
Only what changed is written back, so an untouched setting is never re-set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from .module_tree import ModuleTree


def _global_settings() -> dict[str, Any]:
    return {
        "default_dtype": torch.get_default_dtype(),
        "grad_enabled": torch.is_grad_enabled(),
        "deterministic": (torch.are_deterministic_algorithms_enabled(),
                          torch.is_deterministic_algorithms_warn_only_enabled()),
        "anomaly": (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()),
        "matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn": (torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic),
    }  # fmt: skip


def _restore_global(saved: dict[str, Any]) -> None:
    now = _global_settings()
    if now["default_dtype"] != saved["default_dtype"]:
        torch.set_default_dtype(saved["default_dtype"])
    if now["grad_enabled"] != saved["grad_enabled"]:
        torch.set_grad_enabled(saved["grad_enabled"])
    if now["deterministic"] != saved["deterministic"]:
        torch.use_deterministic_algorithms(saved["deterministic"][0], warn_only=saved["deterministic"][1])
    if now["anomaly"] != saved["anomaly"]:
        torch.set_anomaly_enabled(saved["anomaly"][0], saved["anomaly"][1])
    if now["matmul_precision"] != saved["matmul_precision"]:
        torch.set_float32_matmul_precision(saved["matmul_precision"])
    if now["cudnn"] != saved["cudnn"]:
        cudnn = torch.backends.cudnn
        cudnn.enabled, cudnn.benchmark, cudnn.deterministic = saved["cudnn"]


class preserved_torch_state:
    """Context manager: global torch settings and the random generators' states, restored on exit (error and
    Ctrl-C too). A class, not a generator: it runs once per analysis, where every microsecond shows on a small
    model."""

    def __enter__(self) -> None:
        self.saved = _global_settings()
        self.rng = torch.default_generator.get_state()  # what torch.random.get_rng_state() returns
        # Reading CUDA's generators would initialise CUDA; only a process that already did so can have changed them.
        self.cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None

    def __exit__(self, *exc: object) -> None:
        _restore_global(self.saved)
        torch.default_generator.set_state(self.rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)


_RNN_STATE = ("_flat_weights", "_flat_weight_refs")  # nn.RNNBase's view of its weights


def _tensor_attrs(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The tensors a module holds as plain attributes (not parameters or buffers)."""
    return {k: v for k, v in module.__dict__.items() if isinstance(v, torch.Tensor)}


@contextmanager
def preserved_module(model: torch.nn.Module, tree: ModuleTree | None = None) -> Iterator[None]:
    """The module tree's train/eval flags, requires_grad flags and parameter/buffer objects, restored on exit
    (``tree``: the model's, already walked)."""
    tree = tree if tree is not None else ModuleTree(model)
    modules = list(tree.modules)
    training = [m.training for m in modules]
    tensors = [(dict(m._parameters), dict(m._buffers)) for m in modules]
    grads = [(p, p.requires_grad) for p in tree.parameters]
    # an RNN keeps a list of its weights (and weak references to them), refreshed by its forward: it would keep
    # the stand-ins alive (on the CPU path, a copy of every weight) until the user's next forward
    flat = [(m, m.__dict__[a], a) for m in modules for a in _RNN_STATE if a in m.__dict__]
    flat = [(m, list(v) if isinstance(v, list) else v, a) for m, v, a in flat]
    # a module with hooks of its own may set tensor attributes in them: old-style weight_norm / spectral_norm and
    # torch.nn.utils.prune recompute ``module.weight`` from the (stand-in) parameters before each forward
    hooked = [(m, _tensor_attrs(m)) for m in modules if m._forward_pre_hooks or m._forward_hooks]
    try:
        yield
    finally:
        for m, value, attr in flat:
            m.__dict__[attr] = value
        for m, attrs in hooked:
            now = _tensor_attrs(m)
            for key in now.keys() - attrs.keys():  # made by the run
                del m.__dict__[key]
            for key, value in attrs.items():
                if now.get(key) is not value:
                    m.__dict__[key] = value
        for m, was_training, (params, buffers) in zip(modules, training, tensors, strict=True):
            if m.training != was_training:
                m.training = was_training  # not m.train(): that recurses and may be overridden
            for own, saved in ((m._parameters, params), (m._buffers, buffers)):
                if not own and not saved:  # most modules hold no tensors of their own
                    continue
                if own.keys() != saved.keys() or any(own[k] is not v for k, v in saved.items()):
                    own.clear()
                    own.update(saved)  # type: ignore[arg-type]  # params into _parameters, buffers into _buffers
        for p, flag in grads:
            if p.requires_grad != flag:
                p.requires_grad_(flag)
