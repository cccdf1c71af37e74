"""State-space (Mamba) layers on meta: the selective scan counted as one op instead of T Python steps.

transformers' reference ``mamba_selective_scan`` (Mamba, Jamba, FalconMamba, Zamba; used wherever the
``mamba_ssm`` kernel is not installed, e.g. on every CPU) runs the recurrence token by token,

    h_t = exp(A · dt_t) ⊙ h_{t-1} + (dt_t · B_t) x_t        (b, d_inner, d_state) per step
    y_t = h_t · C_t

which on meta is T x 3 dispatched ops per layer (Mamba-2.8B at 2,048 tokens: 136 s). Here the loop is one
custom op, ``modelmeter::selective_scan``, with the reference's cost and memory:

- forward: per state element one multiply and one add (the recurrence) and one MAC (``h_t · C_t``);
- memory: outputs y (b, d, T) and the last state (b, d, n), the cache's recurrent state; for backward it
  keeps what the reference's autograd keeps, ``exp(A·dt)`` and every step's state, (b, d, T, n) each;
- backward: the reverse recurrence, per state element two MACs (the gradients of h through ``y = h·C`` and of
  C) and three FLOPs (``dL/dA_t = g_t ⊙ h_{t-1}``, ``g_{t-1} = g_t ⊙ A_t`` plus the incoming gradient).

Everything around the loop (discretization, D skip, gate) is transformers' own code, run unchanged.
Only the selective scan of meta tensors is swapped, for the duration of one mixer's forward; real tensors
run the model's own code.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import torch
import torch.nn.functional as F

from ...formulas import Cost
from .aten_costs import Call, costs


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


def scan_on_meta(
    hidden_states: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,  # noqa: N803 - the reference's names
    B: torch.Tensor,  # noqa: N803
    C: torch.Tensor,  # noqa: N803
    D: torch.Tensor | None = None,  # noqa: N803
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
    return_last_state: bool = False,
    **_: Any,
) -> Any:
    """transformers' ``mamba_selective_scan`` (the torch path), its loop as one op."""
    input_dtype = hidden_states.dtype
    if delta_bias is not None:
        dt = dt + delta_bias.to(dt.dtype)[..., None]
    if delta_softplus:
        dt = F.softplus(dt)
    B = B.transpose(1, 2)  # noqa: N806
    C = C.transpose(1, 2)  # noqa: N806
    discrete_a = torch.exp(A[None, :, None, :] * dt[:, :, :, None])
    discrete_b = dt[:, :, :, None] * B[:, None, :, :].float()
    delta_b_u = discrete_b * hidden_states[:, :, :, None].float()
    keep = torch.is_grad_enabled() and any(t.requires_grad for t in (discrete_a, delta_b_u, C))
    scan_output, ssm_state, _ = torch.ops.modelmeter.selective_scan(discrete_a, delta_b_u, C, keep)
    scan_output = scan_output.to(input_dtype)
    if D is not None:
        scan_output = scan_output + hidden_states * D[None, :, None]
    if z is not None:
        scan_output = scan_output * F.silu(z)
    if return_last_state:
        return scan_output, ssm_state
    return scan_output


def _is_mixer(module: torch.nn.Module) -> bool:
    code = sys.modules.get(type(module).__module__)
    return hasattr(module, "A_log") and hasattr(module, "ssm_state_size") and hasattr(code, "mamba_selective_scan")


def _mixer_forward(self: Any, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
    forward = type(self).forward
    if not hidden_states.is_meta:
        return forward(self, hidden_states, *args, **kwargs)
    code = sys.modules[type(self).__module__]
    reference = code.mamba_selective_scan
    code.mamba_selective_scan = scan_on_meta  # for this call only; restored below, error or not
    try:
        return forward(self, hidden_states, *args, **kwargs)
    finally:
        code.mamba_selective_scan = reference


def use_scan_op(model: torch.nn.Module) -> int:
    """Run every Mamba mixer of ``model`` (one modelmeter built) with :func:`scan_on_meta` on meta tensors.
    Returns how many were set."""
    n = 0
    for module in model.modules():
        if _is_mixer(module):
            module.forward = types.MethodType(_mixer_forward, module)  # type: ignore[method-assign]
            n += 1
    return n
