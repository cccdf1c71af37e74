"""Shape inference through a spec, and each layer's parameters and cost from the one formula registry.

Output-size rules are PyTorch's (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d docs). Each leaf layer gets
the same ``attrs`` the PyTorch frontend records for the module it becomes (frontends/torch/collect/attrs.py), so
``explain`` treats both alike and to_torch.py can build the module from them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from math import prod
from typing import Any

from ...errors import SpecError
from ...formulas import Cost, formula
from ...formulas.layers import rnn_weight_shapes
from ...report.model import LayerRecord
from .load import Layer, Node, Repeat, Residual, Spec
from .types import INFER

Shape = tuple[int, ...]
MAX_NUMEL = 2**63 - 1  # a tensor's element count is an int64
MAX_LAYERS = 200_000  # more is a runaway repeat, not a network
# spec activation -> the aten op PyTorch runs for it (nn.ReLU6 is hardtanh(0, 6)), as formulas/elementwise.py names it
ELEMENTWISE_OP = {
    "relu": "relu", "relu6": "hardtanh", "leaky_relu": "leaky_relu", "elu": "elu", "gelu": "gelu", "silu": "silu",
    "mish": "mish", "sigmoid": "sigmoid", "tanh": "tanh", "hardswish": "hardswish", "hardsigmoid": "hardsigmoid",
    "softplus": "softplus",
}  # fmt: skip
_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_INT_DTYPES = ("int64", "int32")


@dataclass
class Leaf:
    """What a leaf layer does to its input."""

    outputs: list[Shape]
    attrs: dict[str, Any]
    params: int = 0
    buffers: int = 0
    cost: Cost = field(default_factory=Cost)
    uncounted: str | None = None  # arithmetic without a formula yet (listed in uncounted_ops)
    inputs: int = 1  # how many times the input is passed (MultiheadAttention gets query, key, value)
    children: list[LayerRecord] = field(default_factory=list)


def _fmt(s: Shape) -> str:
    return str(tuple(s))


def _need_rank(layer: Layer, x: Shape, ranks: tuple[int, ...], expected: str, hint: str = "") -> None:
    if len(x) not in ranks:
        raise SpecError(f"{layer.where}: expected input {expected} but got {_fmt(x)}{hint}")


def _given_matches(layer: Layer, field_name: str, actual: Any, what: str) -> None:
    given = layer.args.get(field_name, INFER)
    if given is not INFER and given != actual:
        raise SpecError(
            f"{layer.where}: {field_name} is {given} but the input has {what}; drop {field_name} to infer it"
        )


def _out_size(length: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    """floor((L + 2p - d(k-1) - 1)/s + 1) (ceil with ceil_mode; a last window must start inside the input)."""
    span = length + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= length + p:
        out -= 1
    return out


# -- the layer families ---------------------------------------------------------------------------
def _conv(layer: Layer, x: Shape) -> Leaf:
    a, d = layer.args, layer.type.dims
    transposed = layer.type.extra["transposed"]
    _need_rank(
        layer,
        x,
        (d + 2,),
        f"(N, C, {_SPATIAL[d]})",
        "; add 'flatten' before linear layers, not before convolutions" if len(x) < d + 2 else "",
    )
    c_in, c_out, groups = x[1], a["out_channels"], a["groups"]
    _given_matches(layer, "in_channels", c_in, f"{c_in} channels (shape {_fmt(x)})")
    if c_in % groups or c_out % groups:
        raise SpecError(f"{layer.where}: groups={groups} must divide in_channels ({c_in}) and out_channels ({c_out})")
    k, s, dil, pad = a["kernel_size"], a["stride"], a["dilation"], a["padding"]
    spatial = x[2:]
    if pad == "same":
        if any(v != 1 for v in s):
            raise SpecError(f"{layer.where}: padding='same' needs stride 1 (PyTorch refuses strided 'same')")
        out_sp = spatial
    elif transposed:
        op = a["output_padding"]
        for o, st, dl in zip(op, s, dil, strict=False):
            if o >= max(st, dl):
                raise SpecError(f"{layer.where}: output_padding {o} must be smaller than stride or dilation")
        out_sp = tuple(
            (n - 1) * st - 2 * p + dl * (kk - 1) + o + 1
            for n, kk, st, p, dl, o in zip(spatial, k, s, pad, dil, op, strict=False)
        )
    else:
        p_ = (0,) * d if pad == "valid" else pad
        out_sp = tuple(_out_size(n, kk, st, p, dl) for n, kk, st, p, dl in zip(spatial, k, s, p_, dil, strict=False))
    if any(n < 1 for n in out_sp):
        raise SpecError(
            f"{layer.where}: input {_fmt(x)} is smaller than the (dilated) kernel {tuple(k)} "
            f"plus padding: the output would be {_fmt((x[0], c_out, *out_sp))}"
        )
    out = (x[0], c_out, *out_sp)
    weight = (c_in, c_out // groups, *k) if transposed else (c_out, c_in // groups, *k)
    attrs = {
        "in_channels": c_in,
        "out_channels": c_out,
        "kernel_size": list(k),
        "stride": list(s),
        "padding": pad if isinstance(pad, str) else list(pad),
        "dilation": list(dil),
        "groups": groups,
        "bias": a["bias"],
        "transposed": transposed,
        "output_padding": list(a["output_padding"]) if transposed else [0] * d,
    }
    return Leaf(
        [out],
        attrs,
        params=formula("conv_params")(c_in, c_out, k, groups, a["bias"]).params,
        cost=formula("conv")(x, weight, out, transposed=transposed, bias=a["bias"]),
    )


def _linear(layer: Layer, x: Shape) -> Leaf:
    a = layer.args
    given = a["in_features"]
    if len(x) >= 4 and given is INFER:
        raise SpecError(f"{layer.where}: expected input (N, features) but got {_fmt(x)}; add 'flatten' before it")
    if given is not INFER and given != x[-1]:
        hint = "; add 'flatten' before it" if len(x) > 2 and prod(x[1:]) == given else ""
        raise SpecError(f"{layer.where}: in_features is {given} but the input {_fmt(x)} has {x[-1]} features{hint}")
    out = (*x[:-1], a["out_features"])
    attrs = {"in_features": x[-1], "out_features": a["out_features"], "bias": a["bias"]}
    return Leaf(
        [out],
        attrs,
        params=formula("linear_params")(x[-1], a["out_features"], a["bias"]).params,
        cost=formula("linear")(x, a["out_features"], bias=a["bias"]),
    )


def _batchnorm(layer: Layer, x: Shape) -> Leaf:
    a, d = layer.args, layer.type.dims
    ranks = (2, 3) if d == 1 else (d + 2,)
    _need_rank(layer, x, ranks, "(N, C) or (N, C, L)" if d == 1 else f"(N, C, {_SPATIAL[d]})")
    _given_matches(layer, "num_features", x[1], f"{x[1]} channels (shape {_fmt(x)})")
    if not a["track_running_stats"] and x[0] * prod(x[2:]) == 1:
        raise SpecError(
            f"{layer.where}: without running stats it normalises over the batch, and the input {_fmt(x)} has one "
            "value per channel (PyTorch refuses it); keep track_running_stats or give a larger input"
        )
    counts = formula("batchnorm_params")(x[1], a["affine"], a["track_running_stats"])
    attrs = {
        "num_features": x[1],
        "eps": a["eps"],
        "momentum": a["momentum"],
        "affine": a["affine"],
        "track_running_stats": a["track_running_stats"],
    }
    # inference: normalised with the running statistics; without them, with the batch's own
    cost = formula("norm")(prod(x), "inference" if a["track_running_stats"] else "stats", a["affine"], a["affine"])
    return Leaf([x], attrs, counts.params, counts.buffers, cost=cost)


def _layernorm(layer: Layer, x: Shape) -> Leaf:
    a = layer.args
    shape = (x[-1],) if a["normalized_shape"] is INFER else tuple(a["normalized_shape"])
    if tuple(x[len(x) - len(shape) :]) != shape or len(shape) > len(x):
        raise SpecError(f"{layer.where}: normalized_shape {list(shape)} must be the last dims of the input {_fmt(x)}")
    affine = a["elementwise_affine"]
    bias = a["bias"] and affine
    attrs = {"normalized_shape": list(shape), "eps": a["eps"], "elementwise_affine": affine, "bias": bias}
    cost = formula("norm")(prod(x), "stats", affine, bias)
    return Leaf([x], attrs, formula("layernorm_params")(shape, affine, bias).params, cost=cost)


def _groupnorm(layer: Layer, x: Shape) -> Leaf:
    a = layer.args
    _need_rank(layer, x, tuple(range(2, 7)), "(N, C, ...)")
    _given_matches(layer, "num_channels", x[1], f"{x[1]} channels (shape {_fmt(x)})")
    if x[1] % a["num_groups"]:
        raise SpecError(f"{layer.where}: num_groups={a['num_groups']} must divide the {x[1]} channels")
    if x[0] * (x[1] // a["num_groups"]) * prod(x[2:]) == 1:  # F.group_norm's own check
        raise SpecError(
            f"{layer.where}: each group of the input {_fmt(x)} holds one value, which PyTorch refuses to normalise; "
            "use fewer groups or a larger input"
        )
    attrs = {"num_groups": a["num_groups"], "num_channels": x[1], "eps": a["eps"], "affine": a["affine"]}
    return Leaf(
        [x],
        attrs,
        formula("groupnorm_params")(a["num_groups"], x[1], a["affine"]).params,
        cost=formula("norm")(prod(x), "stats", a["affine"], a["affine"]),
    )


def _embedding(layer: Layer, x: Shape) -> Leaf:
    a = layer.args
    attrs = {"num_embeddings": a["num_embeddings"], "embedding_dim": a["embedding_dim"]}
    # a lookup: no arithmetic (docs/conventions.md)
    return Leaf(
        [(*x, a["embedding_dim"])], attrs, formula("embedding_params")(a["num_embeddings"], a["embedding_dim"]).params
    )


def _rnn(layer: Layer, x: Shape) -> Leaf:
    a, mode = layer.args, layer.type.torch_class
    bf = a["batch_first"]
    _need_rank(layer, x, (3,), "(N, T, features)" if bf else "(T, N, features) (or set batch_first: true)")
    n, t = (x[0], x[1]) if bf else (x[1], x[0])
    _given_matches(layer, "input_size", x[2], f"{x[2]} features (shape {_fmt(x)})")
    h, proj = a["hidden_size"], a.get("proj_size", 0)
    if proj >= h:
        raise SpecError(f"{layer.where}: proj_size ({proj}) must be smaller than hidden_size ({h})")
    dirs = 2 if a["bidirectional"] else 1
    h_out = proj or h
    out = (n, t, dirs * h_out) if bf else (t, n, dirs * h_out)
    outputs: list[Shape] = [out, (dirs * a["num_layers"], n, h_out)]
    if mode == "LSTM":
        outputs.append((dirs * a["num_layers"], n, h))
    attrs = {
        "mode": mode,
        "input_size": x[2],
        "hidden_size": h,
        "num_layers": a["num_layers"],
        "bias": a["bias"],
        "bidirectional": a["bidirectional"],
        "batch_first": bf,
        "proj_size": proj,
    }
    if mode == "RNN":
        attrs["nonlinearity"] = a["nonlinearity"]
    sizes = (mode, x[2], h, a["num_layers"], a["bias"], a["bidirectional"], proj)
    return Leaf(
        outputs,
        attrs,
        formula("rnn_params")(*sizes).params,
        cost=formula("rnn")(
            mode.lower(), n * t, rnn_weight_shapes(mode, x[2], h, a["num_layers"], a["bidirectional"], proj), a["bias"]
        ),
    )


def _mha(layer: Layer, x: Shape) -> Leaf:
    a = layer.args
    bf = a["batch_first"]
    _need_rank(layer, x, (3,), "(N, T, E)" if bf else "(T, N, E) (or set batch_first: true)")
    e, heads = x[2], a["num_heads"]
    t, n = (x[1], x[0]) if bf else (x[0], x[1])
    _given_matches(layer, "embed_dim", e, f"{e} features (shape {_fmt(x)})")
    if e % heads:
        raise SpecError(f"{layer.where}: num_heads={heads} must divide embed_dim={e}")
    attrs = {
        "embed_dim": e,
        "num_heads": heads,
        "kdim": e,
        "vdim": e,
        "bias": a["bias"],
        "add_bias_kv": a["add_bias_kv"],
        "batch_first": bf,
    }
    out_proj = LayerRecord(
        name="out_proj",
        type="NonDynamicallyQuantizableLinear",
        params=formula("linear_params")(e, e, a["bias"]).params,
        attrs={"in_features": e, "out_features": e, "bias": a["bias"]},
    )
    out_proj.trainable_params = out_proj.params
    return Leaf(
        [x],
        attrs,
        formula("mha_params")(e, heads, a["bias"], a["add_bias_kv"]).params,
        cost=formula("multi_head_attention")(
            n, t, t, (e, e, e), e, heads, a["bias"], extra_keys=1 if a["add_bias_kv"] else 0
        ),
        inputs=3,
        children=[out_proj],
    )


def _pool(layer: Layer, x: Shape) -> Leaf:
    a, d, kind = layer.args, layer.type.dims, layer.type.extra["kind"]
    _need_rank(layer, x, (d + 2,), f"(N, C, {_SPATIAL[d]})")
    k, p = a["kernel_size"], a["padding"]
    s = a["stride"] or k
    dil = a.get("dilation") or (1,) * d
    for kk, pp, dl in zip(k, p, dil, strict=False):
        if 2 * pp > dl * (kk - 1) + 1:
            raise SpecError(f"{layer.where}: padding {pp} must be at most half the kernel size {kk}")
    out_sp = tuple(
        _out_size(n, kk, st, pp, dl, a["ceil_mode"]) for n, kk, st, pp, dl in zip(x[2:], k, s, p, dil, strict=False)
    )
    if any(n < 1 for n in out_sp):
        raise SpecError(f"{layer.where}: input {_fmt(x)} is smaller than the pooling window {tuple(k)}")
    attrs: dict[str, Any] = {"kernel_size": list(k), "stride": list(s), "padding": list(p), "ceil_mode": a["ceil_mode"]}
    if kind == "max":
        attrs["dilation"] = list(dil)
    else:
        attrs["count_include_pad"] = a["count_include_pad"]
    out = (x[0], x[1], *out_sp)
    return Leaf([out], attrs, cost=formula("pool")(prod(out), tuple(k)))


def _adaptive(layer: Layer, x: Shape) -> Leaf:
    d, size = layer.type.dims, layer.args["output_size"]
    _need_rank(layer, x, (d + 2,), f"(N, C, {_SPATIAL[d]})")
    out = (x[0], x[1], *(n if o is None else o for n, o in zip(x[2:], size, strict=False)))
    return Leaf([out], {"output_size": list(size)}, cost=formula("adaptive_pool")(x[0] * x[1], x[2:], out[2:]))


def _elementwise(layer: Layer, x: Shape) -> Leaf:
    attrs = dict(layer.args)
    if "dim" in attrs and _dim(attrs["dim"], len(x)) is None:
        raise SpecError(f"{layer.where}: dim {attrs['dim']} is out of range for the input {_fmt(x)}")
    if layer.type.family == "free":  # dropout in inference, identity: no arithmetic
        return Leaf([x], attrs)
    if layer.type.name in ("softmax", "log_softmax"):
        return Leaf([x], attrs, cost=formula("softmax")(prod(x)))
    return Leaf([x], attrs, cost=formula("elementwise")(ELEMENTWISE_OP[layer.type.name], prod(x)))


def _dim(d: int, rank: int) -> int | None:
    """A possibly negative dim index as 0..rank-1, or None when out of range."""
    return d % rank if -rank <= d < rank else None


def _flatten(layer: Layer, x: Shape) -> Leaf:
    a = layer.args
    start, end = _dim(a["start_dim"], len(x)), _dim(a["end_dim"], len(x))
    if start is None or end is None or start > end:
        raise SpecError(
            f"{layer.where}: start_dim {a['start_dim']} / end_dim {a['end_dim']} do not fit the input {_fmt(x)}"
        )
    out = (*x[:start], prod(x[start : end + 1]), *x[end + 1 :])
    return Leaf([out], {"start_dim": a["start_dim"], "end_dim": a["end_dim"]})


FAMILIES = {
    "conv": _conv,
    "linear": _linear,
    "batchnorm": _batchnorm,
    "layernorm": _layernorm,
    "groupnorm": _groupnorm,
    "embedding": _embedding,
    "rnn": _rnn,
    "mha": _mha,
    "pool": _pool,
    "adaptive_pool": _adaptive,
    "activation": _elementwise,
    "free": _elementwise,
    "flatten": _flatten,
}


# -- the walk -------------------------------------------------------------------------------------------
def node_names(nodes: list[Node]) -> list[str]:
    """Keras-style default names, unique in their list: conv2d, conv2d_1, ...; given names are kept."""
    taken: set[str] = set()
    for node in nodes:
        if node.name is not None:
            if node.name in taken:
                raise SpecError(f"{node.where}: the name '{node.name}' is used twice in the same list")
            taken.add(node.name)
    names, counts = [], Counter[str]()
    for node in nodes:
        if node.name is not None:
            names.append(node.name)
            continue
        base = node.type.name if isinstance(node, Layer) else "repeat" if isinstance(node, Repeat) else "residual"
        while True:
            n = counts[base]
            counts[base] += 1
            candidate = base if n == 0 else f"{base}_{n}"
            if candidate not in taken:
                break
        taken.add(candidate)
        names.append(candidate)
    return names


class Walk:
    """Runs shapes through a spec and collects one LayerRecord per layer and block, in module order."""

    def __init__(self) -> None:
        self.records: list[LayerRecord] = []
        self.uncounted: Counter[str] = Counter()
        self.op_costs: dict[str, tuple[int, Cost]] = {}
        self._start: dict[int, int] = {}

    def _add(self, rec: LayerRecord) -> None:
        if len(self.records) >= MAX_LAYERS:
            raise SpecError(f"the spec unrolls to more than {MAX_LAYERS:,} layers; check the repeat counts")
        self.records.append(rec)

    def _container(self, name: str, type_: str, x: Shape) -> LayerRecord:
        rec = LayerRecord(name=name, type=type_, calls=1, input_shapes=[x])
        self._start[id(rec)] = len(self.records)
        self._add(rec)
        return rec

    def _close(self, rec: LayerRecord, out: Shape) -> None:
        """Output shape, and params / buffers as the sums over the direct children (records added since)."""
        rec.output_shapes = [out]
        depth = rec.name.count(".") + 1 if rec.name else 0
        children = [r for r in self.records[self._start.pop(id(rec)) + 1 :] if r.name.count(".") == depth]
        rec.params = sum(c.params for c in children)
        rec.trainable_params = rec.params
        rec.buffers = sum(c.buffers for c in children)

    def chain(self, nodes: list[Node], x: Shape, dtype: str, prefix: str) -> tuple[Shape, str]:
        for node, name in zip(nodes, node_names(nodes), strict=False):
            path = f"{prefix}.{name}" if prefix else name
            if isinstance(node, Layer):
                x, dtype = self.leaf(node, path, x, dtype)
            elif isinstance(node, Repeat):
                rec = self._container(path, "Repeat", x)
                for i in range(node.times):
                    inner = self._container(f"{path}.{i}", "Chain", x)
                    x, dtype = self.chain(node.body, x, dtype, f"{path}.{i}")
                    self._close(inner, x)
                self._close(rec, x)
            else:
                x, dtype = self.residual(node, path, x, dtype)
        return x, dtype

    def residual(self, node: Residual, path: str, x: Shape, dtype: str) -> tuple[Shape, str]:
        rec = self._container(path, "Residual", x)
        body = self._container(f"{path}.layers", "Chain", x)
        y, y_dtype = self.chain(node.body, x, dtype, f"{path}.layers")
        self._close(body, y)
        s = x
        if node.shortcut:
            short = self._container(f"{path}.shortcut", "Chain", x)
            s, _ = self.chain(node.shortcut, x, dtype, f"{path}.shortcut")
            self._close(short, s)
        if y != s:
            fix = "write it as residual: {layers: [...], shortcut: [...]} with e.g. a strided 1x1 conv2d"
            if node.shortcut:
                fix = "make the shortcut end in the same shape"
            raise SpecError(f"{node.where}: the layers output {_fmt(y)} but the shortcut gives {_fmt(s)}; {fix}")
        rec.own = formula("elementwise")("add", prod(y))  # the residual add, one FLOP per element
        calls, total = self.op_costs.get("residual add", (0, Cost()))
        self.op_costs["residual add"] = (calls + 1, total + rec.own)
        self._close(rec, y)
        return y, y_dtype

    def leaf(self, layer: Layer, path: str, x: Shape, dtype: str) -> tuple[Shape, str]:
        if layer.type.family == "embedding":
            if dtype not in _INT_DTYPES:
                raise SpecError(
                    f"{layer.where}: embedding takes integer token ids but its input is {dtype}; "
                    "put it first and set 'dtype: int64' at the top of the spec"
                )
        elif dtype in _INT_DTYPES:
            raise SpecError(f"{layer.where}: the input is {dtype} token ids; only an embedding can take them")
        done = FAMILIES[layer.type.family](layer, x)
        for out in done.outputs:
            if prod(out) > MAX_NUMEL:
                raise SpecError(
                    f"{layer.where}: its output {_fmt(out)} would have {prod(out):,} elements, "
                    "more than a tensor can hold; check the sizes"
                )
        self._add(
            LayerRecord(
                name=path,
                type=layer.type.torch_class,
                params=done.params,
                trainable_params=done.params,
                buffers=done.buffers,
                calls=1,
                input_shapes=[x] * done.inputs,
                output_shapes=list(done.outputs),
                own=done.cost,
                attrs=done.attrs,
            )
        )
        for child in done.children:
            child.name = f"{path}.{child.name}"
            self._add(child)
        if done.uncounted:
            self.uncounted[done.uncounted] += 1
        if done.cost.macs or done.cost.other_flops:
            calls, total = self.op_costs.get(layer.type.name, (0, Cost()))
            self.op_costs[layer.type.name] = (calls + 1, total + done.cost)
        return done.outputs[0], "float32" if layer.type.family == "embedding" else dtype


def walk(spec: Spec) -> Walk:
    if prod(spec.input) > MAX_NUMEL:
        raise SpecError(f"input {_fmt(spec.input)} has {prod(spec.input):,} elements, more than a tensor can hold")
    w = Walk()
    root = w._container("", "SpecNet", spec.input)
    x, _ = w.chain(spec.layers, spec.input, spec.dtype, "")
    w._close(root, x)
    return w
