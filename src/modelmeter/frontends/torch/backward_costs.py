"""Cost adapters for the backward ops autograd runs, registered into the same ``ATEN_COSTS`` table.

Matrix products in backward are plain ``mm`` / ``bmm`` and already counted; these are the fused
backward kernels, priced with the forward formulas of the registry:

- ``convolution_backward``: grad_input is a transposed convolution of grad_output with the weight, and
  grad_weight a convolution of the input with grad_output: each has the forward's MACs, and each runs only
  when its ``output_mask`` entry is set (no grad_input for the first layer's input). grad_bias sums
  grad_output: one FLOP per grad_output element.
- SDPA backward: dV = Pᵀ·dO, dP = dO·Vᵀ, dQ = dS·K, dK = dSᵀ·Q, twice the forward's Q·Kᵀ and P·V MACs
  (as ``torch.utils.flop_counter`` counts it). The re-computation of P inside flash kernels is an
  implementation choice and not counted.
"""

from __future__ import annotations

from ...formulas import Cost, formula
from .aten_costs import Call, _ops, _shape, costs


@costs(*_ops("convolution_backward"))
def _convolution_backward(c: Call) -> Cost:
    grad_out, x, w = c.args[0], c.args[1], c.args[2]
    transposed = bool(c.arg(7, "transposed"))
    mask = c.arg(10, "output_mask", (True, True, True))
    forward = formula("conv")(_shape(x), _shape(w), _shape(grad_out), transposed=transposed, bias=False)
    grads = int(bool(mask[0])) + int(bool(mask[1]))
    bias_flops = grad_out.numel() if mask[2] else 0
    return Cost(macs=forward.macs * grads, other_flops=bias_flops)


@costs(
    *_ops(
        "_scaled_dot_product_flash_attention_for_cpu_backward",
        "_scaled_dot_product_flash_attention_backward",
        "_scaled_dot_product_efficient_attention_backward",
        "_scaled_dot_product_cudnn_attention_backward",
        "_scaled_dot_product_fused_attention_overrideable_backward",
    )
)
def _sdpa_backward(c: Call) -> Cost:
    q, k, v = c.args[1], c.args[2], c.args[3]
    forward = formula("attention")(_shape(q), _shape(k), _shape(v))
    return Cost(macs=2 * forward.macs)
