"""A spec and ``to_torch(spec)`` through the PyTorch engine agree, layer by layer (params, buffers, MACs, shapes,
attrs): on the bundled examples, and on random valid specs (hypothesis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import modelmeter  # noqa: E402
from modelmeter.errors import SpecError  # noqa: E402
from modelmeter.spec import analyze, load, to_torch  # noqa: E402

SPECS = Path(__file__).resolve().parents[3] / "examples" / "specs"


def _rows(report: modelmeter.Report) -> list[tuple[Any, ...]]:
    return [
        (r.name, r.type, r.params, r.buffers, r.macs, r.flops, r.calls, r.attrs, r.input_shapes, r.output_shapes)
        for r in report.layers
    ]


def assert_same_as_torch(doc: Any) -> None:
    spec = load(doc)
    ours = analyze(spec)
    with torch.device("meta"):  # no weights allocated, no init arithmetic
        model = to_torch(spec).eval()  # inference, as the spec counts it (train-mode BatchNorm refuses batch 1x1)
    theirs = modelmeter.summary(model, input_size=spec.input, dtypes=[spec.dtype], name=spec.name, device="meta")
    assert _rows(ours) == _rows(theirs)
    t, u = ours.totals, theirs.totals
    assert (t.params, t.buffers, t.param_bytes, t.buffer_bytes, t.macs, t.flops) == (
        u.params,
        u.buffers,
        u.param_bytes,
        u.buffer_bytes,
        u.macs,
        u.flops,
    )
    assert ours.uncounted == theirs.uncounted == {}


@pytest.mark.parametrize("path", sorted(SPECS.iterdir()), ids=lambda p: p.name)
def test_examples_match_torch(path: Path) -> None:
    assert_same_as_torch(path)


def test_resnet18_spec_equals_torchvision() -> None:
    spec = analyze(SPECS / "resnet18.yaml")
    tv = modelmeter.summary("torchvision:resnet18")
    assert (spec.totals.params, spec.totals.buffers, spec.totals.macs, spec.totals.flops) == (
        tv.totals.params,
        tv.totals.buffers,
        tv.totals.macs,
        tv.totals.flops,  # norms, pooling, activations and residual adds included: 3,642,974,696
    )
    convs = [r for r in spec.layers if r.type == "Conv2d"]
    tv_convs = [r for r in tv.layers if r.type == "Conv2d"]
    assert [(r.params, r.macs, r.output_shapes) for r in convs] == [
        (r.params, r.macs, r.output_shapes) for r in tv_convs
    ]


def test_to_torch_runs_and_is_trainable() -> None:
    model = to_torch(SPECS / "lenet5.yaml")
    out = model(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 10)
    assert all(p.requires_grad for p in model.parameters())
    assert [n for n, _ in model.named_children()][:3] == ["conv1", "relu", "maxpool2d"]


# -- random valid specs ----------------------------------------------------------------------------------
ACTS = [
    "relu",
    "gelu",
    "silu",
    "tanh",
    "sigmoid",
    "hardswish",
    "relu6",
    "identity",
    {"leaky_relu": 0.2},
    {"dropout": 0.1},
]


def _image_layer(draw: Any, c: int) -> Any:
    kind = draw(
        st.sampled_from(
            ["conv", "conv", "convT", "bn", "gn", "maxpool", "avgpool", "adaptive", "act", "residual", "repeat"]
        )
    )
    k = draw(st.integers(1, 4))
    if kind == "conv":
        groups = draw(st.sampled_from([g for g in (1, 2, 3, c) if c % g == 0]))
        out = groups * draw(st.integers(1, 4))
        padding = draw(st.sampled_from([0, 1, 2, "same", "valid", [1, 0]]))
        stride = 1 if padding == "same" else draw(st.sampled_from([1, 2, [2, 1]]))
        return {
            "conv2d": {
                "out_channels": out,
                "kernel_size": draw(st.sampled_from([k, [k, 1]])),
                "stride": stride,
                "padding": padding,
                "dilation": draw(st.sampled_from([1, 2])),
                "groups": groups,
                "bias": draw(st.booleans()),
            }
        }
    if kind == "convT":
        groups = draw(st.sampled_from([g for g in (1, c) if c % g == 0]))
        return {
            "conv_transpose2d": {
                "out_channels": groups * draw(st.integers(1, 3)),
                "kernel_size": k,
                "stride": draw(st.integers(1, 2)),
                "padding": draw(st.integers(0, 1)),
                "groups": groups,
                "bias": draw(st.booleans()),
            }
        }
    if kind == "bn":
        return {"batchnorm2d": {"affine": draw(st.booleans()), "track_running_stats": draw(st.booleans())}}
    if kind == "gn":
        return {
            "groupnorm": {
                "num_groups": draw(st.sampled_from([g for g in (1, 2, c) if c % g == 0])),
                "affine": draw(st.booleans()),
            }
        }
    if kind in ("maxpool", "avgpool"):
        layer = {
            "kernel_size": k,
            "stride": draw(st.sampled_from([None, 1, 2])),
            "padding": draw(st.integers(0, k // 2)),
            "ceil_mode": draw(st.booleans()),
        }
        if kind == "maxpool":
            layer["dilation"] = draw(st.integers(1, 2))
        else:
            layer["count_include_pad"] = draw(st.booleans())
        return {f"{kind}2d": {key: v for key, v in layer.items() if v is not None}}
    if kind == "adaptive":
        return {
            draw(st.sampled_from(["adaptive_avgpool2d", "adaptive_maxpool2d"])): draw(
                st.sampled_from([1, 2, [3, None]])
            )
        }
    if kind == "residual":
        body = [{"conv2d": {"out_channels": c, "kernel_size": 3, "padding": 1}}, draw(st.sampled_from(ACTS))]
        if draw(st.booleans()):
            return {"residual": body}
        out = draw(st.integers(1, 6))
        return {
            "residual": {
                "layers": [{"conv2d": {"out_channels": out, "kernel_size": 3, "stride": 2, "padding": 1}}],
                "shortcut": [{"conv2d": {"out_channels": out, "kernel_size": 1, "stride": 2}}],
            }
        }
    if kind == "repeat":
        return {
            "repeat": draw(st.integers(1, 3)),
            "layers": [{"conv2d": {"out_channels": c, "kernel_size": 1}}, draw(st.sampled_from(ACTS))],
        }
    return draw(st.sampled_from(ACTS))


def _seq_layer(draw: Any, batch_first: bool) -> Any:
    kind = draw(st.sampled_from(["linear", "ln", "rnn", "mha", "act", "residual", "softmax"]))
    if kind == "linear":
        return {"linear": {"out_features": 4 * draw(st.integers(1, 4)), "bias": draw(st.booleans())}}
    if kind == "ln":
        return {"layernorm": {"elementwise_affine": draw(st.booleans()), "bias": draw(st.booleans())}}
    if kind == "rnn":
        mode = draw(st.sampled_from(["rnn", "lstm", "gru"]))
        layer = {
            "hidden_size": 4 * draw(st.integers(1, 3)),
            "num_layers": draw(st.integers(1, 2)),
            "bidirectional": draw(st.booleans()),
            "bias": draw(st.booleans()),
            "batch_first": batch_first,
        }
        if mode == "lstm" and draw(st.booleans()):
            layer["proj_size"] = 2
        return {mode: layer}
    if kind == "mha":
        return {
            "multihead_attention": {
                "num_heads": draw(st.sampled_from([1, 2, 4])),
                "bias": draw(st.booleans()),
                "add_bias_kv": draw(st.booleans()),
                "batch_first": batch_first,
            }
        }
    if kind == "residual":
        return {"residual": [{"layernorm": None}, {"linear": 16}, "gelu", {"linear": {"out_features": 8}}]}
    if kind == "softmax":
        return {"softmax": draw(st.sampled_from([-1, 1]))}
    return draw(st.sampled_from(ACTS))


@st.composite
def specs(draw: Any) -> dict[str, Any]:
    domain = draw(st.sampled_from(["image", "image", "sequence", "tokens"]))
    layers: list[Any] = []
    if domain == "image":
        doc: dict[str, Any] = {
            "input": [
                draw(st.integers(1, 2)),
                draw(st.integers(1, 6)),
                draw(st.integers(6, 16)),
                draw(st.integers(6, 16)),
            ],
            "layers": layers,
        }
        propose = lambda shape: _image_layer(draw, shape[1])  # noqa: E731
    else:
        batch_first = draw(st.booleans())
        n, t = draw(st.integers(1, 2)), draw(st.integers(1, 5))
        if domain == "tokens":
            doc = {"input": [n, t] if batch_first else [t, n], "dtype": "int64", "layers": layers}
            layers.append({"embedding": {"num_embeddings": 50, "embedding_dim": 8}})
        else:
            doc = {"input": [n, t, 8] if batch_first else [t, n, 8], "layers": layers}
        propose = lambda shape: _seq_layer(draw, batch_first)  # noqa: E731
    shape = tuple(analyze(doc).layers[0].output_shapes[0]) if layers else tuple(doc["input"])
    for _ in range(draw(st.integers(1, 6))):
        layer = propose(shape)
        layers.append(layer)
        try:
            shape = tuple(analyze(doc).layers[0].output_shapes[0])
        except SpecError:
            layers.pop()  # not valid on this input (kernel too large, ...): propose another
    if domain == "image" and draw(st.booleans()):
        layers += ["flatten", {"linear": {"out_features": draw(st.integers(1, 10))}}]
    if not layers:
        layers.append("relu")
    return doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_random_specs_match_torch(doc: dict[str, Any]) -> None:
    assert_same_as_torch(doc)


# -- every layer type at least once, in its tricky settings ---------------------------------------------
IMG = [2, 4, 9, 11]
EVERY_TYPE: list[tuple[list[int], Any]] = [
    ([2, 6], {"linear": {"out_features": 3, "bias": False}}),
    ([2, 3, 6], {"linear": 5}),
    ([2, 4, 17], {"conv1d": {"out_channels": 6, "kernel_size": 3, "stride": 2, "dilation": 2, "groups": 2}}),
    (IMG, {"conv2d": {"out_channels": 4, "kernel_size": [3, 1], "padding": "same", "groups": 4, "bias": False}}),
    ([1, 2, 5, 6, 7], {"conv3d": {"out_channels": 3, "kernel_size": 2, "stride": [1, 2, 2], "padding": 1}}),
    ([2, 4, 5], {"conv_transpose1d": {"out_channels": 2, "kernel_size": 3, "stride": 2, "output_padding": 1}}),
    (IMG, {"conv_transpose2d": {"out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 2}}),
    ([1, 2, 3, 4, 5], {"conv_transpose3d": {"out_channels": 2, "kernel_size": 2, "dilation": 2, "bias": False}}),
    ([3, 5], "batchnorm1d"),
    ([3, 5, 7], {"batchnorm1d": {"affine": False}}),
    (IMG, {"batchnorm2d": {"track_running_stats": False}}),
    ([1, 2, 3, 4, 5], "batchnorm3d"),
    ([2, 3, 6], {"layernorm": {"bias": False}}),
    (IMG, {"layernorm": {"normalized_shape": [9, 11]}}),
    (IMG, {"groupnorm": 2}),
    ([5, 2, 8], {"rnn": {"hidden_size": 6, "nonlinearity": "relu", "num_layers": 2}}),
    ([2, 5, 8], {"lstm": {"hidden_size": 6, "num_layers": 2, "bidirectional": True, "batch_first": True}}),
    ([5, 2, 8], {"lstm": {"hidden_size": 6, "proj_size": 3, "num_layers": 3}}),
    ([5, 2, 8], {"gru": {"hidden_size": 6, "bidirectional": True, "bias": False}}),
    ([5, 2, 8], {"multihead_attention": {"num_heads": 2}}),
    ([2, 5, 8], {"multihead_attention": {"num_heads": 4, "batch_first": True, "add_bias_kv": True, "bias": False}}),
    ([2, 4, 17], {"maxpool1d": {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}}),
    (IMG, {"maxpool2d": {"kernel_size": 3, "stride": 2, "ceil_mode": True}}),
    ([1, 2, 5, 6, 7], {"maxpool3d": 2}),
    ([2, 4, 17], {"avgpool1d": {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True}}),
    (IMG, {"avgpool2d": {"kernel_size": [3, 2], "padding": [1, 0], "count_include_pad": False}}),
    ([1, 2, 5, 6, 7], {"avgpool3d": {"kernel_size": 2, "stride": 1}}),
    ([2, 4, 17], {"adaptive_avgpool1d": 5}),
    (IMG, {"adaptive_avgpool2d": [None, 3]}),
    ([1, 2, 5, 6, 7], {"adaptive_maxpool3d": 2}),
    (IMG, {"adaptive_maxpool2d": 1}),
    ([1, 2, 5, 6, 7], {"adaptive_avgpool3d": [1, None, 2]}),
    ([2, 4, 17], {"adaptive_maxpool1d": 3}),
    *(
        ([2, 7], act)
        for act in (
            "relu",
            "relu6",
            {"leaky_relu": 0.1},
            {"elu": 0.5},
            "gelu",
            "silu",
            "mish",
            "sigmoid",
            "tanh",
            "hardswish",
            "hardsigmoid",
            "softplus",
            {"softmax": 0},
            "log_softmax",
            "dropout",
            "identity",
        )
    ),
    (IMG, {"dropout2d": 0.3}),
    (IMG, {"flatten": {"start_dim": 2}}),
    ([2, 3, 4, 5], {"flatten": {"start_dim": 0, "end_dim": -2}}),
]


@pytest.mark.parametrize(("shape", "layer"), EVERY_TYPE, ids=[str(layer)[:50] for _, layer in EVERY_TYPE])
def test_every_layer_type_matches_torch(shape: list[int], layer: Any) -> None:
    assert_same_as_torch({"input": shape, "layers": [layer]})


def test_every_layer_type_is_covered() -> None:
    from modelmeter.frontends.spec.types import LAYER_TYPES

    used = {next(iter(layer)) if isinstance(layer, dict) else layer for _, layer in EVERY_TYPE}
    used.add("embedding")  # test_embedding_tokens_match_torch (needs int64 token ids)
    assert set(LAYER_TYPES) - used == set()


def test_embedding_tokens_match_torch() -> None:
    assert_same_as_torch(
        {
            "input": [2, 7],
            "dtype": "int64",
            "layers": [
                {"embedding": {"num_embeddings": 100, "embedding_dim": 16}},
                {"residual": [{"layernorm": None}, {"multihead_attention": {"num_heads": 4, "batch_first": True}}]},
                {"residual": [{"layernorm": None}, {"linear": 64}, "gelu", {"linear": 16}]},
                {"lstm": {"hidden_size": 8, "batch_first": True}},
                {"linear": 100},
            ],
        }
    )
