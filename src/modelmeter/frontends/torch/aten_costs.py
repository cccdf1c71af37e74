"""aten op -> cost: adapters from aten call signatures to the shape formulas in modelmeter.formulas.

Each adapter takes the op's ``(args, kwargs, out)`` and returns a Cost; all arithmetic lives in the
formulas. Ops in :data:`ZERO_COST` are declared free (views, copies, allocation); any other op without an
adapter is reported as uncounted, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ...formulas import Cost, formula

aten = torch.ops.aten
Adapter = Callable[[tuple[Any, ...], dict[str, Any], Any], Cost]
ATEN_COSTS: dict[Any, Adapter] = {}


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def costs(*ops: Any) -> Callable[[Adapter], Adapter]:
    def decorate(fn: Adapter) -> Adapter:
        for op in ops:
            if op in ATEN_COSTS:
                raise ValueError(f"{op} has two cost adapters")
            ATEN_COSTS[op] = fn
        return fn

    return decorate


def _has_op(name: str) -> bool:
    return hasattr(aten, name)


def _ops(*names: str) -> list[Any]:
    """The aten overload packets among ``names`` that this torch build has."""
    return [getattr(aten, n) for n in names if _has_op(n)]


# -- convolution -----------------------------------------------------------------------------------
# convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
@costs(*_ops("convolution", "_convolution", "convolution_overrideable"))
def _convolution(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> Cost:
    x, w, bias = args[0], args[1], args[2]
    transposed = bool(args[6]) if len(args) > 6 else bool(kwargs.get("transposed", False))
    return formula("conv")(_shape(x), _shape(w), _shape(out), transposed=transposed, bias=bias is not None)


# -- matrix products -------------------------------------------------------------------------------
@costs(aten.mm, aten.bmm, *_ops("dot", "vdot", "mv", "matmul"))
def _matmul(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> Cost:
    return formula("matmul")(_shape(args[0]), _shape(args[1]))


@costs(aten.addmm, *_ops("baddbmm", "addmv", "addbmm"))
def _addmm(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> Cost:
    # addmm(self, mat1, mat2): self + mat1 @ mat2; the add of ``self`` is one FLOP per output element.
    mm = formula("matmul")(_shape(args[1]), _shape(args[2]))
    return Cost(macs=mm.macs, other_flops=out.numel())


# -- attention -------------------------------------------------------------------------------------
# The fused SDPA kernels take (B, H, T, d) query/key/value; the math backend decomposes into bmm and is
# counted there. Every backend must give the same MACs for the same shapes.
@costs(
    *_ops(
        "_scaled_dot_product_flash_attention_for_cpu",
        "_scaled_dot_product_flash_attention",
        "_scaled_dot_product_efficient_attention",
        "_scaled_dot_product_cudnn_attention",
        "_scaled_dot_product_fused_attention_overrideable",
    )
)
def _sdpa(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> Cost:
    q, k, v = args[0], args[1], args[2]
    return formula("attention")(_shape(q), _shape(k), _shape(v))


# -- declared free: no arithmetic ------------------------------------------------------------------
ZERO_COST: frozenset[Any] = frozenset(
    _ops(
        # views and reshapes
        "view", "_unsafe_view", "reshape", "_reshape_alias", "as_strided", "as_strided_", "t", "transpose",
        "permute", "expand", "squeeze", "unsqueeze", "flatten", "unflatten", "alias", "detach", "slice",
        "select", "split", "split_with_sizes", "unbind", "chunk", "narrow", "view_as_real", "view_as_complex",
        "unfold", "diagonal", "movedim", "lift_fresh",
        # allocation, copies and layout
        "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "zeros", "zeros_like",
        "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full", "scalar_tensor",
        "zero_", "fill_", "fill", "copy_", "_to_copy", "clone", "contiguous", "arange", "linspace",
        "_local_scalar_dense", "resize_", "set_",
        # moving data without arithmetic
        "cat", "stack", "index", "index_select", "gather", "embedding", "roll", "flip", "constant_pad_nd",
        "repeat", "tile", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "tril", "triu",
        # randomness and dropout masks are not model arithmetic
        "native_dropout", "dropout", "bernoulli_", "uniform_", "normal_", "rand", "randn", "randint",
    )
)
