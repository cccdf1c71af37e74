"""The cost of one ONNX node, from its input/output shapes and attributes, through the shared formula registry.

Each ONNX op maps onto the formula PyTorch's aten op of the same meaning uses (Conv -> ``conv``, Gemm ->
``addmm``, LSTM -> ``rnn``, ...), so a network and its ONNX export count the same. Ops that only move or
reshape data are declared free (:data:`FREE`); an op in neither table is reported as uncounted. Control flow
(If, Loop, Scan) is walked by :mod:`.analyze`, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

from ...formulas import Cost, formula
from ...formulas.attention import visible_pairs

Shape = tuple[int, ...]


class ShapeUnknown(Exception):
    """A shape the node's formula needs was not inferred (raised to :mod:`.analyze`, never to the user)."""


class Node:
    """What a cost function reads: the node, its attributes, its tensors' shapes and constant values."""

    def __init__(self, node: Any, attrs: dict[str, Any], shapes: Any, attention: str = "full") -> None:
        self.node, self.attrs, self._shapes, self.attention = node, attrs, shapes, attention
        self.op = node.op_type

    def has(self, i: int) -> bool:
        return len(self.node.input) > i and bool(self.node.input[i])

    def inp(self, i: int) -> Shape:
        if not self.has(i):
            raise ShapeUnknown(f"input {i} missing")
        s = self._shapes.shape(self.node.input[i])
        if s is None:
            raise ShapeUnknown(self.node.input[i])
        return s

    def out(self, i: int = 0) -> Shape:
        s = self._shapes.shape(self.node.output[i]) if len(self.node.output) > i else None
        if s is None:
            raise ShapeUnknown(self.node.output[i] if len(self.node.output) > i else f"output {i}")
        return s

    def value(self, i: int) -> Any:
        return self._shapes.values.get(self.node.input[i]) if self.has(i) else None

    def get(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


CostFn = Callable[[Node], Cost]
COSTS: dict[str, CostFn] = {}


def costs(*ops: str) -> Callable[[CostFn], CostFn]:
    def deco(fn: CostFn) -> CostFn:
        for op in ops:
            COSTS[op] = fn
        return fn

    return deco


# Data movement, shapes, casts and constants: no arithmetic (as PyTorch's views and copies).
FREE = frozenset(
    "Identity Reshape Flatten Squeeze Unsqueeze Transpose Concat Split Slice Gather GatherElements GatherND "
    "Shape Size Constant ConstantOfShape Cast CastLike Expand Tile Pad Range NonZero ScatterND ScatterElements "
    "Scatter DepthToSpace SpaceToDepth EyeLike OneHot Trilu Dropout SplitToSequence SequenceAt SequenceConstruct "
    "SequenceEmpty SequenceInsert SequenceLength ConcatFromSequence Optional OptionalGetElement OptionalHasElement "
    "Compress ReverseSequence Unique Col2Im MaxRoiPool RandomNormal RandomUniform RandomNormalLike "
    "RandomUniformLike Multinomial Bernoulli BlackmanWindow HannWindow HammingWindow".split()
)

# ONNX elementwise op -> the formula registry's elementwise name (FLOPs per output element there).
ELEMENTWISE = {
    "Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow", "Mod": "remainder", "Neg": "neg",
    "Abs": "abs", "Sign": "sign", "Reciprocal": "reciprocal", "Sqrt": "sqrt", "Exp": "exp", "Log": "log",
    "Floor": "floor", "Ceil": "ceil", "Round": "round", "Sin": "sin", "Cos": "cos", "Tan": "tan", "Asin": "asin",
    "Acos": "acos", "Atan": "atan", "Sinh": "sinh", "Cosh": "cosh", "Asinh": "asinh", "Acosh": "acosh",
    "Atanh": "atanh", "Erf": "erf", "Equal": "eq", "Less": "lt", "LessOrEqual": "le", "Greater": "gt",
    "GreaterOrEqual": "ge", "Where": "where", "Not": "logical_not", "And": "logical_and", "Or": "logical_or",
    "Xor": "logical_xor", "BitwiseAnd": "bitwise_and", "BitwiseOr": "bitwise_or", "BitwiseXor": "bitwise_xor",
    "BitwiseNot": "bitwise_not", "BitShift": "bitwise_left_shift", "IsNaN": "isnan", "IsInf": "isinf",
    "Clip": "clamp", "Relu": "relu", "LeakyRelu": "leaky_relu", "PRelu": "prelu", "Elu": "elu", "Selu": "selu",
    "Celu": "celu", "Gelu": "gelu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSigmoid": "hardsigmoid",
    "HardSwish": "hardswish", "Softplus": "softplus", "Mish": "mish", "ThresholdedRelu": "threshold",
    "Shrink": "hardshrink", "FastGelu": "gelu", "QuickGelu": "gelu",
}  # fmt: skip

# ONNX reduction -> the registry's reduction name (FLOPs per input element there).
REDUCTIONS = {
    "ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "amax", "ReduceMin": "amin", "ReduceProd": "prod",
    "ReduceL1": "norm", "ReduceL2": "norm", "ReduceSumSquare": "norm", "ReduceLogSum": "norm",
    "ReduceLogSumExp": "logsumexp", "ArgMax": "argmax", "ArgMin": "argmin", "TopK": "topk", "CumSum": "cumsum",
}  # fmt: skip


def _numel(shape: Shape) -> int:
    return prod(shape)


def _ew(op: str, numel: int) -> Cost:
    return formula("elementwise")(op, numel)


# -- matrix products ------------------------------------------------------------------------------------
@costs("Conv", "ConvInteger", "FusedConv")
def _conv(n: Node) -> Cost:
    bias = n.op != "ConvInteger" and n.has(2)
    cost = formula("conv")(n.inp(0), n.inp(1), n.out(), bias=bias)
    if n.op == "FusedConv" and n.get("activation"):  # com.microsoft: conv + bias + activation
        cost = cost + _ew("relu", _numel(n.out()))
    return cost


@costs("ConvTranspose")
def _conv_transpose(n: Node) -> Cost:
    return formula("conv")(n.inp(0), n.inp(1), n.out(), transposed=True, bias=n.has(2))


@costs("QLinearConv")
def _qlinear_conv(n: Node) -> Cost:
    # x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp[, B]: the conv on the integer data, then requantize
    return formula("conv")(n.inp(0), n.inp(3), n.out(), bias=n.has(8)) + _requantize(n.out())


def _requantize(out: Shape) -> Cost:
    """Integer accumulators back to int8: as quantize_per_tensor (4 per element)."""
    return formula("elementwise")("quantize_per_tensor", _numel(out))


@costs("Gemm")
def _gemm(n: Node) -> Cost:
    a, b = n.inp(0), n.inp(1)
    a = (a[1], a[0]) if n.get("transA", 0) else a
    b = (b[1], b[0]) if n.get("transB", 0) else b
    cost = formula("addmm")(a, b, bias=n.has(2))
    if float(n.get("alpha", 1.0)) != 1.0:
        cost = cost + Cost(other_flops=a[0] * b[1])  # alpha * (A @ B): one multiply per output
    if n.has(2) and float(n.get("beta", 1.0)) not in (0.0, 1.0):
        cost = cost + Cost(other_flops=a[0] * b[1])
    return cost


@costs("MatMul", "MatMulInteger")
def _matmul(n: Node) -> Cost:
    return formula("matmul")(n.inp(0), n.inp(1))


@costs("QLinearMatMul")
def _qlinear_matmul(n: Node) -> Cost:
    # a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
    return formula("matmul")(n.inp(0), n.inp(3)) + _requantize(n.out())


@costs("MatMulNBits")
def _matmul_nbits(n: Node) -> Cost:
    """com.microsoft MatMulNBits: A (..., K) @ the K x N weight stored as ``bits``-bit blocks; the kernel
    dequantizes every weight element per call (2 FLOPs each, as ``dequantize``), bias (input 5) added."""
    a, k, cols = n.inp(0), int(n.get("K")), int(n.get("N"))
    rows = prod(a[:-1])
    cost = formula("matmul")((rows, k), (k, cols)) + formula("elementwise")("dequantize", k * cols)
    return cost + (Cost(other_flops=rows * cols) if n.has(5) else Cost())


@costs("FusedMatMul")
def _fused_matmul(n: Node) -> Cost:
    a, b = n.inp(0), n.inp(1)
    if n.get("transA", 0):
        a = (*a[:-2], a[-1], a[-2])
    if n.get("transB", 0):
        b = (*b[:-2], b[-1], b[-2])
    cost = formula("matmul")(a, b)
    return cost + (Cost(other_flops=_numel(n.out())) if float(n.get("alpha", 1.0)) != 1.0 else Cost())


@costs("Einsum")
def _einsum(n: Node) -> Cost:
    eq = n.get("equation")
    eq = eq.decode() if isinstance(eq, bytes) else str(eq)
    return formula("einsum")(eq, [n.inp(i) for i in range(len(n.node.input))])


# -- recurrent layers -----------------------------------------------------------------------------------
@costs("LSTM", "GRU", "RNN")
def _rnn(n: Node) -> Cost:
    # X (seq, batch, input) (layout 1: (batch, seq, input)); W (dirs, G*H, input); R (dirs, G*H, H); B (dirs, 2*G*H)
    x, w, r = n.inp(0), n.inp(1), n.inp(2)
    seq, batch = (x[1], x[0]) if n.get("layout", 0) else (x[0], x[1])
    lens = n.value(4) if n.has(4) else None
    rows = int(lens.sum()) if lens is not None else seq * batch  # given sequence_lens: the real time steps
    layers = [[tuple(w[1:]), tuple(r[1:])]] * w[0]
    cost = formula("rnn")(n.op.lower(), rows, layers, bias=n.has(3))
    if n.op == "LSTM" and n.has(7):  # peepholes P (dirs, 3H): one multiply-add per gate and unit
        cost = cost + Cost(macs=rows * w[0] * r[2] * 3)
    return cost


# -- attention ------------------------------------------------------------------------------------------
def _pairs(n: Node, t_q: int, t_k: int, causal: bool) -> int | None:
    if n.attention == "causal-aware" and causal:
        return visible_pairs(t_q, t_k, offset=t_k - t_q)
    return None


@costs("Attention")
def _attention(n: Node) -> Cost:
    """ai.onnx Attention (opset 23): Q (B, Hq, Tq, d) and K, V (B, Hkv, Tk, d[_v]), or 3-D (B, T, heads * d)
    with q_num_heads / kv_num_heads; past_key / past_value (inputs 4, 5) are prepended to K and V."""
    if n.node.domain == "com.microsoft":
        return _ms_attention(n)
    q, k, v = n.inp(0), n.inp(1), n.inp(2)
    if len(q) == 3:
        hq, hkv = int(n.get("q_num_heads")), int(n.get("kv_num_heads"))
        q = (q[0], hq, q[1], q[2] // hq)
        k = (k[0], hkv, k[1], k[2] // hkv)
        v = (v[0], hkv, v[1], v[2] // hkv)
    past = n.inp(4)[-2] if n.has(4) else 0
    t_q, t_k = q[-2], k[-2] + past
    causal = bool(n.get("is_causal", 0))
    masked = n.has(3) or causal
    heads = q[:-2]  # GQA: each query head attends over its group's keys, T_q x T_k pairs per query head
    pairs = _pairs(n, t_q, t_k, causal)
    cost = formula("attention")(q, (*heads, t_k, k[-1]), (*heads, t_k, v[-1]), masked=masked, pairs=pairs)
    if n.get("softcap", 0.0):  # softcap * tanh(scores / softcap): 3 per score
        cost = cost + Cost(other_flops=3 * prod(heads) * (t_q * t_k if pairs is None else pairs))
    return cost


def _ms_attention(n: Node) -> Cost:
    """com.microsoft Attention: input (B, S, D_in) @ weights (D_in, D_q + D_k + D_v) + bias, then attention over
    num_heads heads (past state, input 4, adds keys)."""
    x, w = n.inp(0), n.inp(1)
    heads = int(n.get("num_heads"))
    sizes = n.get("qkv_hidden_sizes")
    d_q, d_k, d_v = (int(s) for s in sizes) if sizes else (w[1] // 3,) * 3
    b, s = x[0], x[1]
    cost = formula("addmm")((b * s, x[-1]), (x[-1], w[1]), bias=n.has(2))
    past = n.inp(4)[-2] if n.has(4) else 0
    causal = bool(n.get("unidirectional", 0))
    t_k = s + past
    q = (b, heads, s, d_q // heads)
    pairs = _pairs(n, s, t_k, causal)
    masked = n.has(3) or causal
    return cost + formula("attention")(
        q, (b, heads, t_k, d_k // heads), (b, heads, t_k, d_v // heads), masked=masked, pairs=pairs
    )


@costs("MultiHeadAttention")
def _ms_mha(n: Node) -> Cost:
    """com.microsoft MultiHeadAttention: Q (B, S, D), K and V (B, L, D) or (B, heads, L, head), projected already."""
    q, heads = n.inp(0), int(n.get("num_heads"))
    k = n.inp(1) if n.has(1) else q
    v = n.inp(2) if n.has(2) else k
    t_k = k[-2] if len(k) == 4 else k[1]
    d_v = v[-1] if len(v) == 4 else v[-1] // heads
    d = q[-1] // heads
    qh = (q[0], heads, q[1], d)
    cost = formula("attention")(qh, (q[0], heads, t_k, d), (q[0], heads, t_k, d_v), masked=n.has(4) or n.has(5))
    return cost + (Cost(other_flops=_numel(q)) if n.has(3) else Cost())  # bias added to Q (and K, V; O(input))


# -- normalization --------------------------------------------------------------------------------------
@costs("BatchNormalization")
def _batch_norm(n: Node) -> Cost:
    kind = "stats" if n.get("training_mode", 0) else "inference"
    return formula("norm")(_numel(n.inp(0)), kind, weight=True, bias=True)


@costs("LayerNormalization", "InstanceNormalization", "GroupNormalization", "MeanVarianceNormalization")
def _stats_norm(n: Node) -> Cost:
    weight = n.op != "MeanVarianceNormalization" and n.has(1)
    return formula("norm")(_numel(n.inp(0)), "stats", weight=weight, bias=weight and n.has(2))


@costs("RMSNormalization", "SimplifiedLayerNormalization")
def _rms_norm(n: Node) -> Cost:
    return formula("norm")(_numel(n.inp(0)), "rms", weight=n.has(1), bias=False)


@costs("SkipLayerNormalization", "SkipSimplifiedLayerNormalization")
def _skip_norm(n: Node) -> Cost:
    # com.microsoft: input + skip (+ bias), then the norm (gamma input 2, beta input 3 for the layer norm)
    numel = _numel(n.inp(0))
    adds = _ew("add", numel) * (2 if n.has(4 if n.op == "SkipLayerNormalization" else 3) else 1)
    if n.op == "SkipLayerNormalization":
        return adds + formula("norm")(numel, "stats", weight=n.has(2), bias=n.has(3))
    return adds + formula("norm")(numel, "rms", weight=n.has(2), bias=False)


@costs("LpNormalization")
def _lp_norm(n: Node) -> Cost:
    numel = _numel(n.inp(0))
    return formula("reduction")("linalg_vector_norm", numel) + _ew("div", numel)


@costs("LRN")
def _lrn(n: Node) -> Cost:
    # square (1), window sum (size), scale, add bias, pow, divide: size + 5 per element
    return Cost(other_flops=_numel(n.inp(0)) * (int(n.get("size", 1)) + 5))


# -- elementwise, softmax, reductions -------------------------------------------------------------------
@costs(*ELEMENTWISE)
def _elementwise(n: Node) -> Cost:
    return _ew(ELEMENTWISE[n.op], _numel(n.out()))


@costs("Softsign")
def _softsign(n: Node) -> Cost:
    numel = _numel(n.out())  # x / (1 + |x|)
    return _ew("abs", numel) + _ew("add", numel) + _ew("div", numel)


@costs("BiasGelu", "BiasAdd")
def _bias_then(n: Node) -> Cost:
    numel = _numel(n.out())
    return _ew("add", numel) * (2 if n.op == "BiasAdd" else 1) + (_ew("gelu", numel) if n.op == "BiasGelu" else Cost())


@costs("Sum", "Max", "Min", "Mean")
def _variadic(n: Node) -> Cost:
    steps = len([i for i in n.node.input if i]) - 1 + (n.op == "Mean")  # n-1 adds (or comparisons), Mean divides
    return Cost(other_flops=_numel(n.out()) * steps)


@costs("Softmax", "LogSoftmax", "Hardmax")
def _softmax(n: Node) -> Cost:
    return formula("softmax")(_numel(n.inp(0))) if n.op != "Hardmax" else formula("reduction")("amax", _numel(n.inp(0)))


@costs(*REDUCTIONS)
def _reduction(n: Node) -> Cost:
    return formula("reduction")(REDUCTIONS[n.op], _numel(n.inp(0)))


@costs("QuantizeLinear", "DynamicQuantizeLinear")
def _quantize(n: Node) -> Cost:
    numel = _numel(n.inp(0))
    extra = formula("reduction")("amax", numel) * 2 if n.op == "DynamicQuantizeLinear" else Cost()  # min and max
    return _ew("quantize_per_tensor", numel) + extra


@costs("DequantizeLinear")
def _dequantize(n: Node) -> Cost:
    return _ew("dequantize", _numel(n.inp(0)))


# -- pooling and resampling -----------------------------------------------------------------------------
@costs("MaxPool", "AveragePool", "LpPool")
def _pool(n: Node) -> Cost:
    return formula("pool")(_numel(n.out()), tuple(int(k) for k in n.get("kernel_shape")))


@costs("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool")
def _global_pool(n: Node) -> Cost:
    x = n.inp(0)
    return formula("adaptive_pool")(prod(x[:2]), tuple(x[2:]), (1,) * len(x[2:]))


_TAPS = {"linear": 2, "bilinear": 2, "cubic": 4}


@costs("Resize", "Upsample")
def _resize(n: Node) -> Cost:
    mode = n.get("mode", "nearest")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in _TAPS:
        return Cost()  # nearest: a copy
    out = n.out()
    spatial = max(len(out) - 2, 1)  # as PyTorch's upsample_{bi,tri}linear: every spatial dim interpolated
    return formula("interpolate")(_numel(out), _TAPS[mode] ** spatial)


@costs("GridSample")
def _grid_sample(n: Node) -> Cost:
    mode = n.get("mode", "linear")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    taps = {"linear": 2, "bilinear": 2, "cubic": 4, "bicubic": 4}.get(mode)
    out = n.out()
    return formula("interpolate")(_numel(out), taps ** (len(out) - 2)) if taps else Cost()


def node_cost(node: Any, attrs: dict[str, Any], shapes: Any, attention: str = "full") -> Cost | None:
    """The node's cost; ``None`` when its op has no formula. Raises :class:`ShapeUnknown` when a needed shape
    was not inferred."""
    if node.op_type in FREE and node.domain in ("", "ai.onnx"):
        return Cost()
    fn = COSTS.get(node.op_type)
    if fn is None or node.domain not in ("", "ai.onnx", "com.microsoft"):
        return None
    return fn(Node(node, attrs, shapes, attention))
