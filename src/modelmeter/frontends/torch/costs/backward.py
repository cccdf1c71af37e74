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

The other gradients (activations, softmax, normalization, pooling, embedding) are FLOPs per element, by the
rules stated in ``formulas/backward.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from ....formulas import Cost, formula
from ....formulas.backward import GRADIENT_FLOPS
from .forward import Call, costs, ops_named, shape_of


@costs(*ops_named("convolution_backward"))
def _convolution_backward(c: Call) -> Cost:
    grad_out, x, w = c.args[0], c.args[1], c.args[2]
    transposed = bool(c.arg(7, "transposed"))
    mask = c.arg(10, "output_mask", (True, True, True))
    forward = formula("conv")(shape_of(x), shape_of(w), shape_of(grad_out), transposed=transposed, bias=False)
    grads = int(bool(mask[0])) + int(bool(mask[1]))
    bias_flops = grad_out.numel() if mask[2] else 0
    return Cost(macs=forward.macs * grads, other_flops=bias_flops)


@costs(
    *ops_named(
        "_scaled_dot_product_flash_attention_for_cpu_backward",
        "_scaled_dot_product_flash_attention_backward",
        "_scaled_dot_product_efficient_attention_backward",
        "_scaled_dot_product_cudnn_attention_backward",
        "_scaled_dot_product_fused_attention_overrideable_backward",
    )
)
def _sdpa_backward(c: Call) -> Cost:
    q, k, v = c.args[1], c.args[2], c.args[3]
    forward = formula("attention")(shape_of(q), shape_of(k), shape_of(v))
    return Cost(macs=2 * forward.macs)


# -- gradients that are not MACs (formulas/backward.py states each rule) -------------------------------
_SCATTER = ("max_pool2d_with_indices_backward", "max_pool3d_with_indices_backward", "embedding_dense_backward")


def _gradient_adapter(name: str) -> Callable[[Call], Cost]:
    def adapter(c: Call) -> Cost:
        # scatter-style gradients add each incoming gradient element (args[0]) once; the others are elementwise
        # over the gradient they produce
        numel = c.args[0].numel() if name in _SCATTER else c.out_numel
        return formula("gradient")(name, numel)

    return adapter


for _name in GRADIENT_FLOPS:
    for _op in ops_named(_name):
        costs(_op)(_gradient_adapter(_name))


@costs(*ops_named("avg_pool2d_backward", "avg_pool3d_backward"))
def _avg_pool_backward(c: Call) -> Cost:
    # each output's gradient is divided by the window and spread over it: the forward's count
    dims = c.args[0].dim() - 2
    kernel = tuple(c.arg(2, "kernel_size"))
    return formula("pool")(c.args[0].numel(), kernel * dims if len(kernel) == 1 else kernel)


@costs(*ops_named("native_layer_norm_backward"))
def _layer_norm_backward(c: Call) -> Cost:
    x, weight, mask = c.args[1], c.arg(5, "weight"), c.arg(7, "output_mask", (True, True, True))
    return formula("norm_backward")(
        x.numel(), stats=True, weight=weight is not None, input_grad=mask[0], weight_grad=mask[1], bias_grad=mask[2]
    )


@costs(*ops_named("native_batch_norm_backward"))
def _batch_norm_backward(c: Call) -> Cost:
    x, weight = c.args[1], c.arg(2, "weight")
    train, mask = bool(c.arg(7, "train")), c.arg(9, "output_mask", (True, True, True))
    return formula("norm_backward")(
        x.numel(), stats=train, weight=weight is not None, input_grad=mask[0], weight_grad=mask[1], bias_grad=mask[2]
    )
