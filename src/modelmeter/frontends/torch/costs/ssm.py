"""The selective scan of state-space (Mamba) layers as one op, ``modelmeter::selective_scan``, and its cost.

The op stands for transformers' reference scan loop (``measure/ssm.py`` swaps it in on meta, where the loop
would run T x 3 dispatched ops per layer); its forward and backward have the loop's cost:

- forward, per state element (b·d·T·n): one multiply and one add for the recurrence
  h_t = exp(A·dt_t) ⊙ h_{t-1} + (dt_t·B_t) x_t, and one MAC for y_t = h_t · C_t;
- backward, per state element: the gradients through y = h·C into h and into C (2 MACs), and
  dL/dA_t = g_t ⊙ h_{t-1}, g_{t-1} = g_t ⊙ A_t plus the incoming gradient (3 FLOPs).

It saves for backward what the reference's autograd saves: exp(A·dt) and every step's state, (b, d, T, n) each.
"""

from __future__ import annotations

from typing import Any

import torch

from ....formulas import Cost
from .forward import Call, costs


@torch.library.custom_op("modelmeter::selective_scan", mutates_args=())
def selective_scan(
    discrete_a: torch.Tensor, delta_b_u: torch.Tensor, c: torch.Tensor, keep_states: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """y (b, d, T), the last state (b, d, n) and, with ``keep_states``, every state (b, d, T, n):
    the reference recurrence, for real tensors."""
    b, d, t, n = discrete_a.shape
    state = torch.zeros(b, d, n, dtype=discrete_a.dtype, device=discrete_a.device)
    ys, states = [], []
    for i in range(t):
        state = discrete_a[:, :, i] * state + delta_b_u[:, :, i]
        states.append(state)
        ys.append(torch.matmul(state.to(c.dtype), c[:, i, :].unsqueeze(-1))[:, :, 0])
    kept = torch.stack(states, dim=2) if keep_states else discrete_a.new_empty(0)
    return torch.stack(ys, dim=-1), state.clone(), kept


@selective_scan.register_fake
def _selective_scan_fake(
    discrete_a: torch.Tensor, delta_b_u: torch.Tensor, c: torch.Tensor, keep_states: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    b, d, t, n = discrete_a.shape
    states = discrete_a.new_empty(b, d, t, n) if keep_states else discrete_a.new_empty(0)
    return c.new_empty(b, d, t), discrete_a.new_empty(b, d, n), states


@torch.library.custom_op("modelmeter::selective_scan_backward", mutates_args=())
def selective_scan_backward(
    grad_y: torch.Tensor, discrete_a: torch.Tensor, states: torch.Tensor, c: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Only shapes and costs are needed: the op is dispatched for meta tensors alone (``scan_on_meta``)."""
    raise NotImplementedError("modelmeter::selective_scan_backward runs on meta tensors only")


@selective_scan_backward.register_fake
def _selective_scan_backward_fake(
    grad_y: torch.Tensor, discrete_a: torch.Tensor, states: torch.Tensor, c: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.empty_like(discrete_a), torch.empty_like(discrete_a), torch.empty_like(c)


def _setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Any, ...]) -> None:
    discrete_a, _, c, _ = inputs
    ctx.save_for_backward(discrete_a, output[2], c)


def _backward(ctx: Any, grad_y: Any, grad_last: Any, grad_states: Any) -> tuple[Any, ...]:
    discrete_a, states, c = ctx.saved_tensors
    g_a, g_bu, g_c = torch.ops.modelmeter.selective_scan_backward(grad_y, discrete_a, states, c)
    return g_a, g_bu, g_c, None


selective_scan.register_autograd(_backward, setup_context=_setup_context)


@costs(torch.ops.modelmeter.selective_scan)
def _selective_scan_cost(c: Call) -> Cost:
    # b·d·T·n state elements: h = a ⊙ h + bu (2 FLOPs) and y = h · C (1 MAC) each
    elements = c.args[0].numel()
    return Cost(macs=elements, other_flops=2 * elements)


@costs(torch.ops.modelmeter.selective_scan_backward)
def _selective_scan_backward_cost(c: Call) -> Cost:
    # per state element: gradient through y = h·C into h and into C (2 MACs), g ⊙ h_{t-1}, g ⊙ a_t and the
    # accumulation of the incoming gradient (3 FLOPs)
    elements = c.args[1].numel()
    return Cost(macs=2 * elements, other_flops=3 * elements)
