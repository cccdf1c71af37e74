"""Device paths for models modelmeter builds itself from a config (never a user's model): each matching
submodule's ``forward`` is re-bound once, at construction, to run as a real device would on meta tensors.

- MoE experts (:mod:`.moe`): transformers' default grouped-matmul path instead of ``batched_mm``, whose gathered
  per-token copies of the expert weights would count as activations;
- Mamba mixers (:mod:`.ssm`): the selective scan as one op instead of the reference loop, step by step.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import torch

from .moe import grouped_experts_forward, is_experts
from .ssm import is_mixer, mixer_forward

# (which submodules, the forward they run)
STAND_INS: tuple[tuple[Callable[[torch.nn.Module], bool], Callable[..., Any]], ...] = (
    (is_experts, grouped_experts_forward),
    (is_mixer, mixer_forward),
)


def use_stand_ins(model: torch.nn.Module) -> int:
    """Re-bind the forward of every submodule of ``model`` that a stand-in matches; returns how many were set."""
    n = 0
    for module in model.modules():
        for matches, forward in STAND_INS:
            if matches(module):
                module.forward = types.MethodType(forward, module)  # type: ignore[method-assign]
                n += 1
                break
    return n
