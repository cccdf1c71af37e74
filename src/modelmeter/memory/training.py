"""Training state per parameter and sharding across devices: documented formulas over measured parts.

Bytes per trainable parameter ``Ψ`` (ZeRO, Rajbhandari et al. 2020, section 3.1: mixed-precision Adam
keeps fp16 parameters and gradients, 2Ψ + 2Ψ, plus K = 12 bytes of fp32 optimizer state: master copy,
momentum and variance, 16Ψ in all):

============  ==========  =========  =============================================
precision     parameters  gradients  optimizer state (per parameter)
============  ==========  =========  =============================================
fp32          4           4          sgd 0, sgd-momentum 4, adam/adamw 8
bf16-mixed    2           2          fp32 master 4 + sgd 0 / sgd-momentum 4 / adam(w) 8
fp16-mixed    2           2          same as bf16-mixed
============  ==========  =========  =============================================

So Adam in fp32 is 4 + 4 + 8 = 16 bytes per parameter, and so is mixed-precision Adam (2 + 2 + 12), as the
ZeRO paper counts it. Frozen parameters (``requires_grad=False``) have no gradient and no optimizer state.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..options import OPTIMIZERS, PRECISIONS

STRATEGIES = ("ddp", "zero1", "zero2", "zero3", "tp")

# fp32 state tensors the optimizer keeps per parameter: SGD none, momentum buffer, Adam exp_avg + exp_avg_sq
_STATE_TENSORS = {"sgd": 0, "sgd-momentum": 1, "adam": 2, "adamw": 2}


def check(optimizer: str, precision: str) -> None:
    if optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {optimizer!r}; use one of {', '.join(OPTIMIZERS)}")
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")


def compute_bytes(precision: str) -> int:
    """Bytes per element of parameters, gradients and activations in the forward/backward."""
    return 4 if precision == "fp32" else 2


def optimizer_bytes_per_param(optimizer: str, precision: str) -> int:
    """fp32 optimizer state per trainable parameter; mixed precision adds the fp32 master weights."""
    check(optimizer, precision)
    master = 0 if precision == "fp32" else 4
    return 4 * _STATE_TENSORS[optimizer] + master


@dataclass(frozen=True)
class Sharded:
    """Bytes one device holds under a strategy (``activations`` for its own micro-batch)."""

    strategy: str
    gpus: int
    params: int
    grads: int
    optimizer: int
    activations: int

    @property
    def total(self) -> int:
        return self.params + self.grads + self.optimizer + self.activations

    def to_dict(self) -> dict[str, int | str]:
        return {
            "gpus": self.gpus,
            "params": self.params,
            "grads": self.grads,
            "optimizer": self.optimizer,
            "activations": self.activations,
            "total": self.total,
        }


def _split(n: int, gpus: int) -> int:
    return -(-n // gpus)  # a shard holds at most ceil(n / gpus)


def shard(strategy: str, gpus: int, params: int, grads: int, optimizer: int, activations: int) -> Sharded:
    """Per-device bytes for ``gpus`` data- or tensor-parallel devices, from the single-device parts.

    - ``ddp``: every device holds a full replica of parameters, gradients and optimizer state.
    - ``zero1`` (ZeRO stage 1, P_os): optimizer state sharded.
    - ``zero2`` (P_os+g, FSDP SHARD_GRAD_OP): optimizer state and gradients sharded.
    - ``zero3`` (P_os+g+p, FSDP FULL_SHARD): parameters too. The transient all-gathered layer is not counted.
    - ``tp`` (Megatron tensor parallel, Shoeybi et al. 2019): weights, their gradients and optimizer state
      split across devices, and activations too, as with sequence parallelism (Korthikanti et al. 2022);
      replicated norms and biases make the real figure slightly higher.
    Data-parallel strategies keep each device's activations: ``activations`` is that of one micro-batch.
    """
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown sharding strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if gpus < 1:
        raise UsageError(f"--gpus must be at least 1, got {gpus}")
    p, g, o, a = params, grads, optimizer, activations
    if strategy == "zero1":
        o = _split(o, gpus)
    elif strategy == "zero2":
        g, o = _split(g, gpus), _split(o, gpus)
    elif strategy == "zero3":
        p, g, o = _split(p, gpus), _split(g, gpus), _split(o, gpus)
    elif strategy == "tp":
        p, g, o, a = _split(p, gpus), _split(g, gpus), _split(o, gpus), _split(a, gpus)
    return Sharded(strategy, gpus, p, g, o, a)
