"""Output shapes of the ``com.microsoft`` ops onnx's shape inference does not know (ONNX Runtime's contrib ops),
so inference can carry on past them. Only ops :mod:`.costs` counts; the rules are from ONNX Runtime's
ContribOperators.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .read import iter_graphs

Shape = tuple[int, ...]


def _same(ins: list[Shape | None], attrs: dict[str, Any]) -> Shape | None:
    return ins[0]


def _attention(ins: list[Shape | None], attrs: dict[str, Any]) -> Shape | None:
    # input (B, S, D_in), weights (D_in, D_q + D_k + D_v): output (B, S, D_v)
    x, w = ins[0], ins[1] if len(ins) > 1 else None
    if x is None or w is None:
        return None
    sizes = attrs.get("qkv_hidden_sizes")
    v = int(sizes[2]) if sizes else w[1] // 3
    return (*x[:-1], v)


def _mha(ins: list[Shape | None], attrs: dict[str, Any]) -> Shape | None:
    # query (B, S, D); value (B, L, D_v) or (B, heads, L, head_v): output (B, S, D_v)
    q = ins[0]
    v = ins[2] if len(ins) > 2 else None
    if q is None:
        return None
    if v is not None and len(v) == 3:
        return (*q[:-1], v[-1])
    if v is not None and len(v) == 4:
        return (*q[:-1], v[1] * v[3])
    return q


def _fused_matmul(ins: list[Shape | None], attrs: dict[str, Any]) -> Shape | None:
    a, b = ins[0], ins[1] if len(ins) > 1 else None
    if a is None or b is None or len(a) < 2 or len(b) < 2:
        return None
    if attrs.get("transA"):
        a = (*a[:-2], a[-1], a[-2])
    if attrs.get("transB"):
        b = (*b[:-2], b[-1], b[-2])
    n = max(len(a), len(b)) - 2
    pa, pb = (1,) * (n - len(a) + 2) + a[:-2], (1,) * (n - len(b) + 2) + b[:-2]
    return (*(max(x, y) for x, y in zip(pa, pb, strict=True)), a[-2], b[-1])


def _matmul_nbits(ins: list[Shape | None], attrs: dict[str, Any]) -> Shape | None:
    a = ins[0]
    return (*a[:-1], int(attrs["N"])) if a is not None and "N" in attrs else None


RULES: dict[str, Callable[[list[Shape | None], dict[str, Any]], Shape | None]] = {
    "Attention": _attention,
    "MultiHeadAttention": _mha,
    "SkipLayerNormalization": _same,
    "SkipSimplifiedLayerNormalization": _same,
    "SimplifiedLayerNormalization": _same,
    "FastGelu": _same,
    "Gelu": _same,
    "BiasGelu": _same,
    "QuickGelu": _same,
    "BiasAdd": _same,
    "FusedMatMul": _fused_matmul,
    "MatMulNBits": _matmul_nbits,
}


def node_attrs(node: Any) -> dict[str, Any]:
    """The node's attributes as Python values; a malformed one (a corrupt file) is left out."""
    import onnx

    out: dict[str, Any] = {}
    for a in node.attribute:
        try:
            value = onnx.helper.get_attribute_value(a)
        except (ValueError, TypeError, RuntimeError, KeyError):
            continue
        if value is not None:
            out[a.name] = value
    return out


def add_contrib_shapes(graph: Any, shapes: Any) -> bool:
    """Add a ``value_info`` for each contrib node output inference left unknown; True when one was added."""
    import onnx

    added = False
    for g in iter_graphs(graph):
        for node in g.node:
            rule = RULES.get(node.op_type) if node.domain == "com.microsoft" else None
            if rule is None or not node.output or shapes.shape(node.output[0]) is not None:
                continue
            out = rule([shapes.shape(i) if i else None for i in node.input], node_attrs(node))
            if out is None:
                continue
            elem = shapes.dtypes.get(node.input[0], onnx.TensorProto.FLOAT) or onnx.TensorProto.FLOAT
            g.value_info.append(onnx.helper.make_tensor_value_info(node.output[0], elem, list(out)))
            added = True
    return added
