"""The tensors an ONNX file stores, and which of them are parameters.

An initializer (or a Constant node's tensor) is a **parameter** when it is weight data: a floating or small
integer (int8/uint8/int4/..., quantized weights; int32 biases of QLinear ops) tensor of rank >= 1 that some node
reads as data, and not a Constant node holding a number or a fill (every element equal: the zeros an exporter
expands into an LSTM's initial state); weights are initializers, or Constant nodes with varied values.
Initial states of LSTM/GRU/RNN and Attention's past key/value are inputs, not weights. It is a **buffer**
when it only feeds a BatchNormalization's running mean or variance (PyTorch's running statistics).
Everything else is a constant, not counted: shape, axis, index and pad arguments, the scales and zero points of
quantization, and rank-0 scalars (Python numbers a model multiplies by). Each tensor is counted once by name,
however many nodes read it; an ``Identity`` of a stored tensor (exporters use it to share one tensor between
layers) is the same tensor. Bytes are priced by the stored dtype (int4: half a byte).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .read import check_dims, iter_graphs

# onnx.TensorProto.DataType -> (name as modelmeter prints dtypes, bits per element)
DTYPES: dict[int, tuple[str, int]] = {
    1: ("float32", 32), 2: ("uint8", 8), 3: ("int8", 8), 4: ("uint16", 16), 5: ("int16", 16), 6: ("int32", 32),
    7: ("int64", 64), 8: ("string", 0), 9: ("bool", 8), 10: ("float16", 16), 11: ("float64", 64),
    12: ("uint32", 32), 13: ("uint64", 64), 14: ("complex64", 64), 15: ("complex128", 128), 16: ("bfloat16", 16),
    17: ("float8_e4m3fn", 8), 18: ("float8_e4m3fnuz", 8), 19: ("float8_e5m2", 8), 20: ("float8_e5m2fnuz", 8),
    21: ("uint4", 4), 22: ("int4", 4), 23: ("float4_e2m1", 4), 24: ("float8_e8m0", 8), 25: ("uint2", 2),
    26: ("int2", 2),
}  # fmt: skip
WEIGHT_DTYPES = {1, 2, 3, 4, 5, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26}
QUANTIZED_OPS = {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "QGemm", "QAttention", "MatMulNBits"}

# (op, input index) slots that take arguments, not data: shapes, axes, indices, pads, quantization parameters.
_ARG_SLOTS: dict[str, set[int]] = {
    "Reshape": {1}, "Expand": {1}, "Tile": {1}, "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Squeeze": {1},
    "Unsqueeze": {1}, "Split": {1}, "TopK": {1}, "Gather": {1}, "GatherElements": {1}, "GatherND": {1},
    "ScatterND": {1}, "ScatterElements": {1}, "Resize": {1, 2, 3}, "Upsample": {1}, "ConstantOfShape": {0},
    "Range": {0, 1, 2}, "OneHot": {1, 2}, "CumSum": {1}, "Trilu": {1}, "ReduceSum": {1}, "ReduceMean": {1},
    "ReduceMax": {1}, "ReduceMin": {1}, "ReduceProd": {1}, "ReduceL1": {1}, "ReduceL2": {1}, "ReduceLogSum": {1},
    "ReduceLogSumExp": {1}, "ReduceSumSquare": {1}, "Clip": {1, 2}, "Loop": {0, 1}, "If": {0},
    "QuantizeLinear": {1, 2}, "DequantizeLinear": {1, 2}, "DynamicQuantizeLinear": set(),
    "QLinearConv": {1, 2, 4, 5, 6, 7}, "QLinearMatMul": {1, 2, 4, 5, 6, 7}, "ConvInteger": {2, 3},
    "MatMulInteger": {2, 3}, "Shape": {0}, "Size": {0}, "STFT": {1, 3}, "Col2Im": {1, 2}, "GridSample": set(),
    "MatMulNBits": {2, 3, 4}, "Attention": {3, 4, 5}, "LSTM": {4, 5, 6}, "GRU": {4, 5}, "RNN": {4, 5},
}  # fmt: skip
_BUFFER_SLOTS: dict[str, set[int]] = {"BatchNormalization": {3, 4}}
_ALIAS_OPS = {"Identity"}


@dataclass(frozen=True)
class StoredTensor:
    name: str
    dims: tuple[int, ...]
    dtype: int
    # weights packed several to a stored element (MatMulNBits: 4-bit weights in uint8): the logical count
    elements: int | None = None

    @property
    def stored_numel(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def numel(self) -> int:
        return self.stored_numel if self.elements is None else self.elements

    @property
    def dtype_name(self) -> str:
        return DTYPES.get(self.dtype, (f"onnx_dtype_{self.dtype}", 0))[0]

    @property
    def nbytes(self) -> int:
        bits = DTYPES.get(self.dtype, ("", 0))[1]
        return (self.stored_numel * bits + 7) // 8


@dataclass
class Catalogue:
    """Stored tensors by name, the aliases (Identity outputs) pointing at them, and each one's role."""

    tensors: dict[str, StoredTensor]
    alias: dict[str, str]
    params: set[str]
    buffers: set[str]
    unused: set[str]

    def resolve(self, name: str) -> str:
        seen = 0
        while name in self.alias and seen < 64:
            name, seen = self.alias[name], seen + 1
        return name

    def role(self, name: str) -> str | None:
        """``param``, ``buffer`` or None for the tensor (or alias) ``name``."""
        base = self.resolve(name)
        if base in self.params:
            return "param"
        if base in self.buffers:
            return "buffer"
        return None


def _stored(tensor: Any, name: str, where: str) -> StoredTensor:
    dims = tuple(int(d) for d in tensor.dims)
    check_dims(dims, f"{where}: tensor {name!r}")
    return StoredTensor(name, dims, int(tensor.data_type))


def _is_fill(tensor: Any, numel: int) -> bool:
    """One element, or all elements equal (read only for tensors small enough to check; larger ones are weights)."""
    if numel <= 1:
        return True
    if numel > 2**22 or tensor.data_location == 1:
        return False
    from onnx import numpy_helper

    try:
        values = numpy_helper.to_array(tensor).reshape(-1)
    except (ValueError, TypeError, RuntimeError, KeyError):  # an unknown dtype code (corrupt): a weight
        return False
    return bool(values.size) and bool((values == values[0]).all())


def _unpack_nbits(graph: Any, tensors: dict[str, StoredTensor], alias: dict[str, str]) -> None:
    """com.microsoft MatMulNBits stores a K x N weight as uint8 blocks of ``bits``-bit values: count K * N."""
    from dataclasses import replace

    for g in iter_graphs(graph):
        for node in g.node:
            if node.op_type != "MatMulNBits" or len(node.input) < 2:
                continue
            attrs = {a.name: a.i for a in node.attribute if a.name in ("K", "N")}
            name = alias.get(node.input[1], node.input[1])
            if name in tensors and attrs.get("K", 0) > 0 and attrs.get("N", 0) > 0:
                tensors[name] = replace(tensors[name], elements=attrs["K"] * attrs["N"])


def catalogue(graph: Any, where: str) -> Catalogue:
    """Every stored tensor of ``graph`` (subgraphs included) and its role, from how nodes read it."""
    tensors: dict[str, StoredTensor] = {}
    alias: dict[str, str] = {}
    scalars: set[str] = set()  # 1-element Constant nodes: numbers, not weights
    for g in iter_graphs(graph):
        for t in g.initializer:
            tensors[t.name] = _stored(t, t.name, where)
        for node in g.node:
            if node.op_type == "Constant" and node.output:
                for attr in node.attribute:
                    if attr.name in ("value", "sparse_value") and attr.HasField("t"):
                        tensors[node.output[0]] = _stored(attr.t, node.output[0], where)
                        if _is_fill(attr.t, tensors[node.output[0]].numel):
                            scalars.add(node.output[0])
    for g in iter_graphs(graph):
        for node in g.node:
            if node.op_type in _ALIAS_OPS and node.input and node.output and node.input[0] in tensors:
                alias[node.output[0]] = node.input[0]
    _unpack_nbits(graph, tensors, alias)
    cat = Catalogue(tensors, alias, set(), set(), set())
    data_uses: dict[str, set[str]] = {}  # tensor -> op types reading it as data
    buffer_uses: set[str] = set()
    used: set[str] = set()
    for g in iter_graphs(graph):
        for node in g.node:
            if node.op_type in _ALIAS_OPS:
                continue
            args = _ARG_SLOTS.get(node.op_type, set())
            buffers = _BUFFER_SLOTS.get(node.op_type, set())
            for i, name in enumerate(node.input):
                base = cat.resolve(name)
                if not name or base not in tensors:
                    continue
                used.add(base)
                if i in buffers:
                    buffer_uses.add(base)
                elif i not in args:
                    data_uses.setdefault(base, set()).add(node.op_type)
    for name, t in tensors.items():
        weight = t.dtype in WEIGHT_DTYPES or (t.dtype == 6 and data_uses.get(name, set()) & QUANTIZED_OPS)
        if not weight or len(t.dims) == 0 or name in scalars:
            continue
        if name in data_uses:
            cat.params.add(name)
        elif name in buffer_uses:
            cat.buffers.add(name)
        elif name not in used and t.dtype != 6:
            cat.params.add(name)  # stored but read by no node: it still takes space; counted at the root
            cat.unused.add(name)
    return cat
