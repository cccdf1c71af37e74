"""Activation checkpointing, measured: what autograd keeps when each block is recomputed in backward.

With checkpointing (Chen et al. 2016, "Training deep nets with sublinear memory cost";
``torch.utils.checkpoint``) a block keeps only its inputs through the forward and recomputes its internals
during the backward, one block at a time. So the saved activations at the backward's peak are

    saved outside every block  +  every block's inputs  +  the largest one block saves inside

each term measured from the same saved-tensor hooks as without checkpointing, by noting which block was
running when each tensor was saved. The recomputation costs one more forward of the blocks.

The blocks are what Hugging Face's ``gradient_checkpointing_enable`` and torchvision users wrap: the entries
of every ``nn.ModuleList`` / ``nn.Sequential`` whose two or more children all have the same type (transformer
layers, ResNet stages' blocks), outermost first; a model without one has its root's children as blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.utils._pytree import tree_leaves

from .live import SavedBytes


def blocks(model: torch.nn.Module) -> list[str]:
    """Names of the modules that checkpointing wraps, disjoint, in module order."""
    chosen: list[str] = []
    for name, module in model.named_modules():
        if any(name.startswith(f"{c}.") for c in chosen):
            continue
        children = list(module.named_children())
        repeated = len(children) >= 2 and len({type(c) for _, c in children}) == 1
        if isinstance(module, (torch.nn.ModuleList, torch.nn.Sequential)) and repeated:
            chosen.extend(f"{name}.{child}" if name else child for child, _ in children)
    if not chosen:
        chosen = [child for child, _ in model.named_children()]
    return chosen


@contextmanager
def tracking(model: torch.nn.Module, saved: SavedBytes, names: list[str]) -> Iterator[dict[int, int]]:
    """While the forward runs, tell ``saved`` which block is running, and collect the blocks' input
    storages (id -> bytes; weights excluded). Hooks removed on exit."""
    inputs: dict[int, int] = {}
    kept: list[torch.UntypedStorage] = []  # hold the input storages so that their ids stay unique
    modules = dict(model.named_modules())
    handles = []

    def pre(name: str) -> Any:
        def hook(mod: Any, args: Any, kwargs: Any) -> None:
            saved.block = name
            for t in tree_leaves((args, kwargs)):
                if isinstance(t, torch.Tensor) and not saved.excluded(t.untyped_storage()):
                    s = t.untyped_storage()
                    kept.append(s)
                    inputs.setdefault(id(s), s.nbytes())

        return hook

    def post(mod: Any, args: Any, output: Any) -> None:
        saved.block = None

    try:
        for name in names:
            handles.append(modules[name].register_forward_pre_hook(pre(name), with_kwargs=True))
            handles.append(modules[name].register_forward_hook(post))
        yield inputs
    finally:
        for h in handles:
            h.remove()
        saved.block = None


def checkpointed_bytes(saved: SavedBytes, block_inputs: dict[int, int]) -> int:
    """Saved bytes at the backward's peak with every block checkpointed (see the module docstring)."""
    outside = 0
    inside: dict[str, int] = {}
    for sid, s in saved.kept().items():
        if sid in block_inputs:
            continue  # kept anyway, as a block's input
        block = saved.block_of.get(sid)
        if block is None:
            outside += s.nbytes()
        else:
            inside[block] = inside.get(block, 0) + s.nbytes()
    return outside + sum(block_inputs.values()) + max(inside.values(), default=0)
