"""One explainer per family of classic layers: the formula in symbols, then with the layer's numbers.

An explainer reads a report row (its ``attrs`` and shapes) and gets every *value* from the formula
registry (``formula("conv_params")``, ``formula("conv")``, ...), the same functions the engines count
with; the strings only show the substitution. tests/render/test_explain.py checks that each numeric expression
evaluates to its value and that the values equal the row's params and MACs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...formulas import formula
from ...report.model import LayerStats

Shape = tuple[int, ...]
DOT = "·"
MINUS = "−"
ARROW = "→"


@dataclass(frozen=True)
class Line:
    """``label = symbols = numbers = value``; ``numbers`` is arithmetic that evaluates to ``value``."""

    label: str
    symbols: str
    numbers: str
    value: int
    note: str = ""


@dataclass(frozen=True)
class Explanation:
    name: str
    type: str
    header: str  # "Conv2d(1→6, k=5x5)"
    shape_rules: list[Line] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    params: int | None = None  # the explained numbers, to compare with the row's
    buffers: int | None = None
    macs: int | None = None
    note: str = ""


def _j(*parts: object) -> str:
    return DOT.join(str(p) for p in parts)


def _calls(row: LayerStats, per_call: Line) -> list[Line]:
    """The MACs line, times the number of calls when the layer ran more than once."""
    if row.calls <= 1:
        return [per_call]
    total = Line(
        f"MACs x{row.calls}",
        f"MACs{DOT}calls",
        f"{per_call.value}{DOT}{row.calls}",
        per_call.value * row.calls,
        "each call assumed to have the first call's shapes",
    )
    return [per_call, total]


def _not_called() -> Line:
    return Line("MACs", "0", "0", 0, "not called directly (a parent module uses its weights)")


# -- convolution ----------------------------------------------------------------------------------------
_K = {1: ["k"], 2: ["k_h", "k_w"], 3: ["k_d", "k_h", "k_w"]}
_OUT = {1: ["L_out"], 2: ["H_out", "W_out"], 3: ["D_out", "H_out", "W_out"]}
_IN = {1: ["L_in"], 2: ["H_in", "W_in"], 3: ["D_in", "H_in", "W_in"]}


def _conv(row: LayerStats) -> Explanation:
    a = row.attrs
    k, c_in, c_out, g = a["kernel_size"], a["in_channels"], a["out_channels"], a["groups"]
    d, t, bias = len(k), a["transposed"], a["bias"]
    parts = [f"{c_in}{ARROW}{c_out}", "k=" + "x".join(map(str, k))]
    for key, short, default in (("stride", "s", 1), ("padding", "p", 0), ("dilation", "d", 1)):
        v = a[key]
        if isinstance(v, str) or any(x != default for x in v):
            parts.append(f"{short}={v}" if isinstance(v, str) else f"{short}=" + "x".join(map(str, v)))
    if g > 1:
        parts.append("depthwise" if g == c_in else f"groups={g}")
    if not bias:
        parts.append("no bias")
    header = f"{row.type}({', '.join(parts)})"

    ks, kn = DOT.join(_K[d]), _j(*k)
    per_group = "C_out/g" if t else "C_in/g"
    if g > 1:
        fan_s, fan_n = f"{ks}{DOT}{per_group}", f"{kn}{DOT}{c_out if t else c_in}/{g}"
    else:
        fan_s, fan_n = f"{ks}{DOT}{'C_out' if t else 'C_in'}", f"{kn}{DOT}{c_out if t else c_in}"
    count = formula("conv_params")(c_in, c_out, k, g, bias).params
    if t:  # weight (C_in, C_out/g, *k)
        p_line = Line(
            "params",
            f"{fan_s}{DOT}C_in" + (" + C_out" if bias else ""),
            f"{fan_n}{DOT}{c_in}" + (f" + {c_out}" if bias else ""),
            count,
        )
    elif bias:
        p_line = Line("params", f"({fan_s} + 1){DOT}C_out", f"({fan_n} + 1){DOT}{c_out}", count)
    else:
        p_line = Line("params", f"{fan_s}{DOT}C_out", f"{fan_n}{DOT}{c_out}", count)

    rules: list[Line] = []
    lines = [p_line]
    macs = None
    if row.calls and row.input_shapes and row.output_shapes:
        x, out = row.input_shapes[0], row.output_shapes[0]
        s, pad, dil = a["stride"], a["padding"], a["dilation"]
        last = a.get("data_format") == "channels_last"  # Keras: (N, *spatial, C)
        sp = 1 if last else 2  # index of the first spatial dim
        seen: set[tuple[int, ...]] = set()
        for i in range(d):
            if isinstance(pad, str):
                break
            rule = (x[sp + i], k[i], s[i], pad[i], dil[i])
            if rule in seen:
                continue
            seen.add(rule)
            n = x[sp + i]
            if t:
                op = a["output_padding"][i]
                expr = f"({n} {MINUS} 1){DOT}{s[i]} {MINUS} 2{DOT}{pad[i]} + {dil[i]}{DOT}({k[i]}{MINUS}1) + {op} + 1"
                rules.append(
                    Line(
                        _OUT[d][i],
                        f"(H_in {MINUS} 1){DOT}s {MINUS} 2p + d(k{MINUS}1) + output_padding + 1",
                        expr,
                        out[sp + i],
                    )
                )
            else:
                expr = f"floor(({n} + 2{DOT}{pad[i]} {MINUS} {dil[i]}{DOT}({k[i]}{MINUS}1) {MINUS} 1)/{s[i]} + 1)"
                rules.append(
                    Line(_OUT[d][i], f"floor((H_in + 2p {MINUS} d(k{MINUS}1) {MINUS} 1)/s + 1)", expr, out[sp + i])
                )
        cost = formula("conv")(x, _weight(a), out, transposed=t, bias=bias)
        if t:  # every input element is scattered into C_out/g * prod(k) outputs
            where_s, where_n = (["N", *_IN[d], "C_in"] if last else ["N", "C_in", *_IN[d]]), list(x)
        else:
            where_s, where_n = (["N", *_OUT[d], "C_out"] if last else ["N", "C_out", *_OUT[d]]), list(out)
        if where_n[0] == 1:
            where_s, where_n = where_s[1:], where_n[1:]
        m_line = Line("MACs", f"{fan_s} {DOT} {DOT.join(where_s)}", f"{fan_n} {DOT} {_j(*where_n)}", cost.macs)
        lines += _calls(row, m_line)
        macs = lines[-1].value
    elif not row.calls:
        lines.append(_not_called())
        macs = 0
    return Explanation(row.name, row.type, header, rules, lines, count, 0, macs)


def _weight(a: dict[str, Any]) -> Shape:
    c_in, c_out, g, k = a["in_channels"], a["out_channels"], a["groups"], a["kernel_size"]
    return (c_in, c_out // g, *k) if a["transposed"] else (c_out, c_in // g, *k)


# -- linear ---------------------------------------------------------------------------------------------
def _linear(row: LayerStats) -> Explanation:
    a = row.attrs
    i, o, bias = a["in_features"], a["out_features"], a["bias"]
    header = f"{row.type}({i}{ARROW}{o}" + (", no bias)" if not bias else ")")
    count = formula("linear_params")(i, o, bias).params
    lines = [
        Line("params", "in·out + out" if bias else "in·out", f"{i}{DOT}{o} + {o}" if bias else f"{i}{DOT}{o}", count)
    ]
    macs = None
    if row.calls and row.input_shapes:
        x = row.input_shapes[0]
        rows = x[:-1]
        cost = formula("linear")(x, o, bias=bias)
        lead = "N" if len(rows) == 1 else DOT.join(["N", *(f"d{j}" for j in range(1, len(rows)))])
        m_line = Line(
            "MACs", f"{lead}{DOT}in{DOT}out", f"{_j(*rows)}{DOT}{i}{DOT}{o}" if rows else f"{i}{DOT}{o}", cost.macs
        )
        lines += _calls(row, m_line)
        macs = lines[-1].value
    elif not row.calls:
        lines.append(_not_called())
        macs = 0
    return Explanation(row.name, row.type, header, [], lines, count, 0, macs)


# -- normalisation, embedding ---------------------------------------------------------------------------
_NO_MACS = "no multiply-accumulate kernel; its arithmetic is other FLOPs"


def _zero_macs(row: LayerStats, note: str = _NO_MACS) -> Line:
    return Line("MACs", "0", "0", 0, note)


def _batchnorm(row: LayerStats) -> Explanation:
    a = row.attrs
    c, affine, track = a["num_features"], a["affine"], a["track_running_stats"]
    counts = formula("batchnorm_params")(c, affine, track)
    counter = a.get("counter", True)  # Keras keeps no num_batches_tracked
    buffers = counts.buffers - (0 if counter or not track else 1)
    lines = [
        Line(
            "params",
            f"2{DOT}C" if affine else "0",
            f"2{DOT}{c}" if affine else "0",
            counts.params,
            "γ and β per channel" if affine else "affine=False",
        ),
        Line(
            "buffers",
            (f"2{DOT}C + 1" if counter else f"2{DOT}C") if track else "0",
            (f"2{DOT}{c} + 1" if counter else f"2{DOT}{c}") if track else "0",
            buffers,
            (
                "running mean and var per channel"
                + (", num_batches_tracked" if counter else "")
                + "; state, not parameters"
            )
            if track
            else "",
        ),
        _zero_macs(row),
    ]
    return Explanation(row.name, row.type, f"{row.type}({c})", [], lines, counts.params, buffers, 0)


def _layernorm(row: LayerStats) -> Explanation:
    a = row.attrs
    shape, affine, bias = a["normalized_shape"], a["elementwise_affine"], a["bias"]
    count = formula("layernorm_params")(shape, affine, bias).params
    factor = (2 if bias else 1) if affine else 0
    sym = "0" if not factor else ("2" + DOT if factor == 2 else "") + "D"
    num = "0" if not factor else ("2" + DOT if factor == 2 else "") + _j(*shape)
    note = "γ and β per normalised element" if factor == 2 else "γ only" if factor else "elementwise_affine=False"
    lines = [Line("params", sym, num, count, note), _zero_macs(row)]
    return Explanation(row.name, row.type, f"{row.type}({shape})", [], lines, count, 0, 0)


def _groupnorm(row: LayerStats) -> Explanation:
    a = row.attrs
    g, c, affine = a["num_groups"], a["num_channels"], a["affine"]
    count = formula("groupnorm_params")(g, c, affine).params
    lines = [
        Line(
            "params",
            f"2{DOT}C" if affine else "0",
            f"2{DOT}{c}" if affine else "0",
            count,
            "γ and β per channel, whatever the groups",
        ),
        _zero_macs(row),
    ]
    return Explanation(row.name, row.type, f"{row.type}({g} groups, {c})", [], lines, count, 0, 0)


def _embedding(row: LayerStats) -> Explanation:
    a = row.attrs
    v, d = a["num_embeddings"], a["embedding_dim"]
    count = formula("embedding_params")(v, d).params
    lines = [Line("params", f"V{DOT}D", f"{v}{DOT}{d}", count), _zero_macs(row, "a table lookup")]
    return Explanation(row.name, row.type, f"{row.type}({v}, {d})", [], lines, count, 0, 0)


# -- recurrent ------------------------------------------------------------------------------------------
def _rnn(row: LayerStats) -> Explanation:
    from ...formulas.layers import RNN_GATES, rnn_layer_input, rnn_weight_shapes

    a = row.attrs
    mode, d_in0, h, layers = a["mode"], a["input_size"], a["hidden_size"], a["num_layers"]
    bias, bi, proj = a["bias"], a["bidirectional"], a.get("proj_size", 0)
    gates, dirs = RNN_GATES[mode], 2 if bi else 1
    r = proj or h
    nb = a.get("biases", 2)  # bias vectors per gate block: PyTorch 2, Keras 1 (GRU with reset_after: 2)
    sizes = (mode, d_in0, h, layers, bias, bi, proj)
    count = formula("rnn_params")(*sizes, biases=nb).params
    r_sym = "P" if proj else "H"
    b_sym = f"2{DOT}G{DOT}H" if nb == 2 else f"G{DOT}H"
    p_sym = f"G{DOT}H{DOT}(D_in + {r_sym})" + (f" + {b_sym}" if bias else "") + (f" + P{DOT}H" if proj else "")
    p_terms, m_terms = [], []
    for layer in range(layers):
        d_in = rnn_layer_input(d_in0, h, layer, bi, proj)
        term = (
            f"{gates}{DOT}{h}{DOT}({d_in} + {r})"
            + ((f" + 2{DOT}{gates}{DOT}{h}" if nb == 2 else f" + {gates}{DOT}{h}") if bias else "")
            + (f" + {proj}{DOT}{h}" if proj else "")
        )
        p_terms.append(f"{dirs}{DOT}({term})" if dirs > 1 else f"({term})")
        m_terms.append(f"{gates}{DOT}{h}{DOT}({d_in} + {r})" + (f" + {proj}{DOT}{h}" if proj else ""))
    extra = [f"{layers} layers"] if layers > 1 else []
    extra += ["bidirectional"] if bi else []
    extra += [f"proj={proj}"] if proj else []
    header = f"{row.type}({d_in0}{ARROW}{h}" + "".join(", " + e for e in extra) + ")"
    per = "per layer" + (" and direction" if bi else "")
    lines = [Line("params", f"Σ {per} " + p_sym, " + ".join(p_terms), count, f"G = {gates} gate blocks for {mode}")]
    macs = None
    if row.calls and row.input_shapes:
        x = row.input_shapes[0]
        if len(x) == 2:  # unbatched (T, D)
            n, t = 1, x[0]
        else:
            n, t = (x[0], x[1]) if a["batch_first"] else (x[1], x[0])
        weights = rnn_weight_shapes(mode, d_in0, h, layers, bi, proj)
        cost = formula("rnn")(mode.lower(), n * t, weights, bias, biases=nb)
        m_sym = (
            f"N{DOT}T{DOT}"
            + (f"dirs{DOT}" if bi else "")
            + f"Σ_layers (G{DOT}H{DOT}(D_in + {r_sym})"
            + (f" + P{DOT}H)" if proj else ")")
        )
        m_num = f"{n}{DOT}{t}{DOT}" + (f"{dirs}{DOT}" if bi else "") + "(" + " + ".join(m_terms) + ")"
        lines += _calls(row, Line("MACs", m_sym, m_num, cost.macs, "per time step, gates of input and state"))
        macs = lines[-1].value
    return Explanation(row.name, row.type, header, [], lines, count, 0, macs)


def _mha(row: LayerStats) -> Explanation:
    a = row.attrs
    e, heads, bias, kv = a["embed_dim"], a["num_heads"], a["bias"], a["add_bias_kv"]
    kdim, vdim = a.get("kdim", e), a.get("vdim", e)
    count = formula("mha_params")(e, heads, bias, kv, kdim, vdim).params
    same = kdim == e and vdim == e
    sym = (
        (f"3{DOT}E{DOT}E" if same else f"E{DOT}(E + k_dim + v_dim)")
        + (f" + 3{DOT}E" if bias else "")
        + f" + E{DOT}E"
        + (" + E" if bias else "")
        + (f" + 2{DOT}E" if kv else "")
    )
    num = (
        (f"3{DOT}{e}{DOT}{e}" if same else f"{e}{DOT}({e} + {kdim} + {vdim})")
        + (f" + 3{DOT}{e}" if bias else "")
        + f" + {e}{DOT}{e}"
        + (f" + {e}" if bias else "")
        + (f" + 2{DOT}{e}" if kv else "")
    )
    lines = [Line("params", sym, num, count, "Q, K, V projections, output projection")]
    macs = None
    if row.calls and row.input_shapes:
        bf = a["batch_first"]
        x = row.input_shapes[0]
        unbatched = len(x) == 2
        seq = 0 if unbatched or not bf else 1
        t, n = x[seq], 1 if unbatched else x[1 - seq]
        s = row.input_shapes[1][seq] if len(row.input_shapes) > 1 else t
        cost = formula("multi_head_attention")(n, t, s, (e, kdim, vdim), e, heads, bias, extra_keys=1 if kv else 0)
        sk = s + 1 if kv else s
        d = e // heads
        if same and s == t:  # self-attention
            m_sym = f"N{DOT}T{DOT}E{DOT}3E + N{DOT}h{DOT}T{DOT}T_k{DOT}2{DOT}(E/h) + N{DOT}T{DOT}E{DOT}E"
            m_num = f"{_j(n, t, e, 3 * e)} + {_j(n, heads, t, sk, 2, d)} + {_j(n, t, e, e)}"
        else:  # keys and values of S positions and k_dim / v_dim features
            m_sym = (
                f"N{DOT}T{DOT}E{DOT}E + N{DOT}S{DOT}k_dim{DOT}E + N{DOT}S{DOT}v_dim{DOT}E"
                f" + N{DOT}h{DOT}T{DOT}S_k{DOT}2{DOT}(E/h) + N{DOT}T{DOT}E{DOT}E"
            )
            m_num = (
                f"{_j(n, t, e, e)} + {_j(n, s, kdim, e)} + {_j(n, s, vdim, e)} + {_j(n, heads, t, sk, 2, d)}"
                f" + {_j(n, t, e, e)}"
            )
        note = "projections; scores Q·Kᵀ and weighted values P·V; output projection"
        lines += _calls(row, Line("MACs", m_sym, m_num, cost.macs, note))
        macs = lines[-1].value
    return Explanation(row.name, row.type, f"{row.type}(E={e}, heads={heads})", [], lines, count, 0, macs)


# -- no weights -----------------------------------------------------------------------------------------
def _pool(row: LayerStats) -> Explanation:
    a = row.attrs
    k, s, p = a["kernel_size"], a["stride"], a["padding"]
    is_max = "dilation" in a
    dil = a.get("dilation", [1] * len(k))
    header = (
        f"{row.type}(k={'x'.join(map(str, k))}, s={'x'.join(map(str, s))}"
        + (f", p={p}" if isinstance(p, str) else f", p={'x'.join(map(str, p))}" if any(p) else "")
        + (", ceil_mode" if a["ceil_mode"] else "")
        + ")"
    )
    rules = []
    if row.input_shapes and row.output_shapes and not a["ceil_mode"] and not isinstance(p, str):
        x, out = row.input_shapes[0], row.output_shapes[0]
        sp = 1 if a.get("data_format") == "channels_last" else 2  # Keras: (N, *spatial, C)
        names = _OUT.get(len(k), [f"n{i}" for i in range(len(k))])
        seen = set()
        for i in range(len(k)):
            key = (x[sp + i], k[i], s[i], p[i], dil[i])
            if key in seen:
                continue
            seen.add(key)
            if is_max:
                expr = f"floor(({x[sp + i]} + 2{DOT}{p[i]} {MINUS} {dil[i]}{DOT}({k[i]}{MINUS}1) {MINUS} 1)/{s[i]} + 1)"
                sym = f"floor((H_in + 2p {MINUS} d(k{MINUS}1) {MINUS} 1)/s + 1)"
            else:
                expr = f"floor(({x[sp + i]} + 2{DOT}{p[i]} {MINUS} {k[i]})/{s[i]} + 1)"
                sym = f"floor((H_in + 2p {MINUS} k)/s + 1)"
            rules.append(Line(names[i], sym, expr, out[sp + i]))
    lines = [Line("params", "0", "0", 0, "no weights"), _zero_macs(row, "a max or mean per window: other FLOPs")]
    return Explanation(row.name, row.type, header, rules, lines, 0, 0, 0)


def _weightless(row: LayerStats) -> Explanation:
    shown = ", ".join(f"{k}={v}" for k, v in row.attrs.items())
    note = (
        "reshaping: no arithmetic"
        if row.type in ("Flatten", "Unflatten", "Identity") or "Dropout" in row.type
        else "elementwise: other FLOPs"
    )
    lines = [Line("params", "0", "0", 0, "no weights"), _zero_macs(row, note)]
    return Explanation(row.name, row.type, f"{row.type}({shown})", [], lines, 0, 0, 0)


WEIGHTLESS = frozenset(
    {
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "SELU",
        "CELU",
        "GELU",
        "SiLU",
        "Mish",
        "Sigmoid",
        "Tanh",
        "Hardswish",
        "Hardsigmoid",
        "Hardtanh",
        "Softplus",
        "Softsign",
        "Softmax",
        "LogSoftmax",
        "Dropout",
        "Dropout1d",
        "Dropout2d",
        "Dropout3d",
        "AlphaDropout",
        "Identity",
        "Flatten",
        "Unflatten",
        "AdaptiveAvgPool1d",
        "AdaptiveAvgPool2d",
        "AdaptiveAvgPool3d",
        "AdaptiveMaxPool1d",
        "AdaptiveMaxPool2d",
        "AdaptiveMaxPool3d",
    }
)


def family(row: LayerStats) -> Callable[[LayerStats], Explanation] | None:
    """The explainer for a row, chosen by its attrs (so subclasses of classic layers are explained too)."""
    a = row.attrs
    for keys, fn in (
        (("transposed", "kernel_size", "in_channels"), _conv),
        (("in_features", "out_features"), _linear),
        (("track_running_stats",), _batchnorm),
        (("normalized_shape",), _layernorm),
        (("num_groups", "num_channels"), _groupnorm),
        (("num_embeddings",), _embedding),
        (("mode", "hidden_size"), _rnn),
        (("embed_dim", "num_heads"), _mha),
        (("kernel_size", "ceil_mode"), _pool),
    ):
        if all(k in a for k in keys):
            return fn
    if row.type in WEIGHTLESS and row.params == 0:
        return _weightless
    return None


def explain_row(row: LayerStats) -> Explanation | None:
    fn = family(row)
    return fn(row) if fn else None


def symbols(text: str, table: Sequence[tuple[str, str]]) -> str:
    for a, b in table:
        text = text.replace(a, b)
    return text
