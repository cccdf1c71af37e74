"""Parameter counts of classic layers: pure functions of a layer's attributes.

These are the hand counts the seed tutorials teach; the layer spec uses them to count parameters and
``explain`` uses them to show the arithmetic, so both print the one number. Each returns a
:class:`ParamCount`: parameter elements and buffer elements (running statistics are state, not parameters;
docs/conventions.md). Argument names are PyTorch's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

from .registry import register


@dataclass(frozen=True)
class ParamCount:
    """Elements of a layer's parameters and of its buffers."""

    params: int
    buffers: int = 0


@register("conv_params")
def conv_params(
    in_channels: int, out_channels: int, kernel_size: Sequence[int], groups: int = 1, bias: bool = True
) -> ParamCount:
    """(prod(k) * C_in/groups) * C_out weights + C_out biases (nn.Conv{1,2,3}d; seed 000: (3*3*3+1)*16 = 448).

    A transposed convolution holds (C_in, C_out/groups, *k) weights: the same count.
    """
    return ParamCount(prod(kernel_size) * (in_channels // groups) * out_channels + (out_channels if bias else 0))


@register("linear_params")
def linear_params(in_features: int, out_features: int, bias: bool = True) -> ParamCount:
    """in * out weights + out biases (seed 004: 400*120 + 120 = 48,120)."""
    return ParamCount(in_features * out_features + (out_features if bias else 0))


@register("batchnorm_params")
def batchnorm_params(num_features: int, affine: bool = True, track_running_stats: bool = True) -> ParamCount:
    """gamma and beta (2*C params); running mean and var (2*C) plus num_batches_tracked (1) as buffers."""
    return ParamCount(2 * num_features if affine else 0, 2 * num_features + 1 if track_running_stats else 0)


@register("layernorm_params")
def layernorm_params(normalized_shape: Sequence[int], elementwise_affine: bool = True, bias: bool = True) -> ParamCount:
    """gamma (and beta unless bias=False), each of prod(normalized_shape) elements."""
    per = prod(normalized_shape)
    return ParamCount(per * (1 + int(bias)) if elementwise_affine else 0)


@register("groupnorm_params")
def groupnorm_params(num_groups: int, num_channels: int, affine: bool = True) -> ParamCount:
    """gamma and beta per channel (2*C), whatever the number of groups; no running statistics."""
    return ParamCount(2 * num_channels if affine else 0)


@register("embedding_params")
def embedding_params(num_embeddings: int, embedding_dim: int) -> ParamCount:
    """One row of embedding_dim per token: num_embeddings * embedding_dim."""
    return ParamCount(num_embeddings * embedding_dim)


RNN_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def rnn_layer_input(input_size: int, hidden_size: int, layer: int, bidirectional: bool, proj_size: int = 0) -> int:
    """Features entering layer ``layer``: the input for layer 0, the (both-direction) outputs above it."""
    return input_size if layer == 0 else (2 if bidirectional else 1) * (proj_size or hidden_size)


def rnn_weight_shapes(
    mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False, proj_size: int = 0
) -> list[list[tuple[int, ...]]]:
    """Per layer and direction, the shapes of W_ih (G*H, D_in), W_hh (G*H, H_r) and W_hr (P, H) with proj_size:
    what the ``rnn`` cost formula (formulas/rnn.py) takes."""
    gates, recurrent = RNN_GATES[mode], proj_size or hidden_size
    out = []
    for layer in range(num_layers):
        d_in = rnn_layer_input(input_size, hidden_size, layer, bidirectional, proj_size)
        weights: list[tuple[int, ...]] = [(gates * hidden_size, d_in), (gates * hidden_size, recurrent)]
        if proj_size:
            weights.append((proj_size, hidden_size))
        out += [weights] * (2 if bidirectional else 1)
    return out


@register("rnn_params")
def rnn_params(
    mode: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bias: bool = True,
    bidirectional: bool = False,
    proj_size: int = 0,
    biases: int = 2,
) -> ParamCount:
    """G gate blocks of H units per layer and direction (G = 1 RNN, 3 GRU, 4 LSTM):
    W_ih (G*H x D_in) + W_hh (G*H x H_r) + b_ih + b_hh (G*H each) [+ W_hr (P x H) with proj_size P],
    H_r = P or H; e.g. an LSTM layer has 4*H*(D + H) + 8*H (PyTorch nn.LSTM docs, seed 001's LSTM).
    ``biases``: bias vectors per gate block, 2 in PyTorch (b_ih, b_hh); Keras keeps one (LSTM: 4*H*(D + H) + 4*H)
    except GRU with reset_after (the default), which keeps two."""
    gates = RNN_GATES[mode]
    recurrent = proj_size or hidden_size
    total = 0
    for layer in range(num_layers):
        d_in = rnn_layer_input(input_size, hidden_size, layer, bidirectional, proj_size)
        per_direction = gates * hidden_size * (d_in + recurrent) + (biases * gates * hidden_size if bias else 0)
        per_direction += proj_size * hidden_size
        total += per_direction * (2 if bidirectional else 1)
    return ParamCount(total)


@register("mha_params")
def mha_params(
    embed_dim: int,
    num_heads: int,
    bias: bool = True,
    add_bias_kv: bool = False,
    kdim: int | None = None,
    vdim: int | None = None,
) -> ParamCount:
    """nn.MultiheadAttention: Q, K, V projections (E x E, E x kdim, E x vdim) with 3*E biases, the output
    projection E*E + E, and bias_k, bias_v (E each) with add_bias_kv. num_heads splits E, adds nothing."""
    e = embed_dim
    k, v = kdim or e, vdim or e
    return ParamCount(
        e * (e + k + v) + (3 * e if bias else 0) + e * e + (e if bias else 0) + (2 * e if add_bias_kv else 0)
    )
