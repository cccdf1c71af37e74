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
from typing import Any

import torch
import torch.nn.functional as F

from .. import costs  # noqa: F401 - registers modelmeter::selective_scan and its cost


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


def is_mixer(module: torch.nn.Module) -> bool:
    code = sys.modules.get(type(module).__module__)
    return hasattr(module, "A_log") and hasattr(module, "ssm_state_size") and hasattr(code, "mamba_selective_scan")


def mixer_forward(self: Any, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
    forward = type(self).forward
    if not hidden_states.is_meta:
        return forward(self, hidden_states, *args, **kwargs)
    code: Any = sys.modules[type(self).__module__]  # the transformers modeling module of this Mamba
    reference = code.mamba_selective_scan
    code.mamba_selective_scan = scan_on_meta  # for this call only; restored below, error or not
    try:
        return forward(self, hidden_states, *args, **kwargs)
    finally:
        code.mamba_selective_scan = reference
