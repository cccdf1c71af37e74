"""Losses that a model called with labels computes inside its forward.

``nll_loss`` (the second half of cross-entropy, after ``log_softmax``): per target element, pick its
log-probability (indexing, 0) and negate it (1), multiply by its class weight (+1 with ``weight``); reducing
adds the N picked values (N, ``sum`` and ``mean``) and ``mean`` divides once (1). Ignored targets are still
visited, so the count does not depend on the labels' values.
"""

from __future__ import annotations

from .registry import Cost, register


@register("nll_loss")
def nll_loss_cost(targets: int, weight: bool = False, reduction: str = "mean") -> Cost:
    """NLL over ``targets`` target elements (N, or N·d1·d2... for nll_loss2d); ``reduction`` none/sum/mean.

    A batch of 8 labels, mean, no weight: 8 negations + 8 adds + 1 divide = 17 FLOPs.
    """
    per = 1 + int(weight)
    reduce = targets if reduction in ("sum", "mean") else 0
    return Cost(other_flops=per * targets + reduce + (1 if reduction == "mean" else 0))
