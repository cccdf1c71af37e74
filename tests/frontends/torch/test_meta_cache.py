"""Meta ops answered from the cache (meta_cache.py) give what the meta kernels give, and reports do not change."""

from __future__ import annotations

import dataclasses

import pytest

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")
nn = torch.nn
aten = torch.ops.aten

import modelmeter  # noqa: E402
from modelmeter.frontends.torch import meta_cache  # noqa: E402


def _meta(shape, dtype=torch.float32, channels_last=False, transpose=False):
    t = torch.empty(shape, dtype=dtype, device="meta")
    if channels_last:
        t = t.contiguous(memory_format=torch.channels_last)
    if transpose:
        t = t.transpose(-1, -2)
    return t


def _layout(out):
    outs = out if isinstance(out, tuple) else (out,)
    return [(tuple(t.shape), t.stride(), t.dtype, t.storage_offset(), t.untyped_storage().nbytes()) for t in outs]


x4 = _meta((2, 8, 5, 5))
CASES = [
    ("relu", aten.relu.default, lambda: (x4,), {}),
    ("hardswish channels_last", aten.hardswish.default, lambda: (_meta((2, 8, 5, 5), channels_last=True),), {}),
    ("gelu transposed", aten.gelu.default, lambda: (_meta((4, 6), transpose=True),), {"approximate": "tanh"}),
    ("add broadcast", aten.add.Tensor, lambda: (x4, _meta((8, 1, 1))), {}),
    ("add int + float scalar", aten.add.Tensor, lambda: (_meta((3,), torch.int64), 1.5), {}),
    ("add int + int scalar", aten.add.Tensor, lambda: (_meta((3,), torch.int64), 1), {}),
    ("add int + bool scalar", aten.add.Tensor, lambda: (_meta((3,), torch.int64), True), {}),
    ("mul half x float", aten.mul.Tensor, lambda: (_meta((3, 4), torch.float16), _meta((3, 4))), {}),
    (
        "batch norm eval",
        aten._native_batch_norm_legit_no_training.default,
        lambda: (x4, _meta((8,)), _meta((8,)), _meta((8,)), _meta((8,)), 0.1, 1e-5),
        {},
    ),
    (
        "batch norm train",
        aten.native_batch_norm.default,
        lambda: (_meta((2, 8, 5, 5), channels_last=True), _meta((8,)), _meta((8,)), None, None, True, 0.1, 1e-5),
        {},
    ),
    ("layer norm", aten.native_layer_norm.default, lambda: (_meta((2, 7, 16)), [16], _meta((16,)), None, 1e-5), {}),
    ("addmm", aten.addmm.default, lambda: (_meta((16,)), _meta((4, 8)), _meta((16, 8), transpose=True)), {}),
    ("softmax", aten._softmax.default, lambda: (_meta((2, 4, 9, 9)), -1, False), {}),
    ("mean dim", aten.mean.dim, lambda: (x4, [-1, -2], True), {}),
    ("convolution", aten.convolution.default,
     lambda: (x4, _meta((16, 8, 3, 3)), None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1), {}),
]  # fmt: skip


@pytest.fixture
def no_rules(monkeypatch):
    """The cache alone: the ops meta_rules.py makes directly go to the cache too."""
    monkeypatch.setattr(meta_cache, "RULES", {})


@pytest.mark.usefixtures("no_rules")
@pytest.mark.parametrize(("name", "func", "make", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_a_cached_op_gives_the_kernels_outputs(name, func, make, kwargs):
    args = make()
    expected = _layout(func(*args, **kwargs))
    with meta_cache.scope() as cache:
        first = meta_cache.run(func, args, kwargs)
        second = meta_cache.run(func, make(), kwargs)
        assert cache.hits == 1, "the repeat was not answered from the cache"
    assert _layout(first) == expected
    assert _layout(second) == expected
    outs = second if isinstance(second, tuple) else (second,)
    assert all(o is not a for o in outs for a in args), "a functional op's output must be a new tensor"


@pytest.mark.usefixtures("no_rules")
def test_numbers_of_other_types_are_other_keys():
    # 1, 1.0 and True hash alike in Python, but int64 + 1.0 is float32 and int64 + 1 stays int64
    x = _meta((3,), torch.int64)
    with meta_cache.scope() as cache:
        assert meta_cache.run(aten.add.Tensor, (x, 1), {}).dtype == torch.int64
        assert meta_cache.run(aten.add.Tensor, (x, 1.0), {}).dtype == torch.float32
        assert meta_cache.run(aten.add.Tensor, (x, True), {}).dtype == torch.int64
        assert cache.hits == 0


@pytest.mark.usefixtures("no_rules")
def test_inplace_ops_return_self_and_metadata_changing_ones_always_run():
    with meta_cache.scope() as cache:
        for _ in range(2):
            x = _meta((4, 5))
            assert meta_cache.run(aten.relu_.default, (x,), {}) is x
        assert cache.hits == 1
        for _ in range(2):  # transpose_ changes self's strides: never answered from the cache
            y = _meta((4, 5))
            out = meta_cache.run(aten.transpose_.default, (y, 0, 1), {})
            assert out is y and tuple(y.shape) == (5, 4)
        assert cache.hits == 1


def test_views_out_variants_and_real_tensors_are_not_cached():
    x, out = _meta((4, 5)), _meta((4, 5))
    cpu = torch.ones(4, 5)
    with meta_cache.scope() as cache:
        for _ in range(2):
            v = meta_cache.run(aten.view.default, (x, [20]), {})
            assert v.untyped_storage() is x.untyped_storage() or v._base is x
            meta_cache.run(aten.relu.out, (x,), {"out": out})
            assert meta_cache.run(aten.add.Tensor, (cpu, cpu), {}).sum().item() == 40.0  # values: really run
        assert cache.hits == 0
    assert meta_cache.run(aten.relu.default, (x,), {}).shape == (4, 5)  # no scope: runs as it is


def _without_cache(monkeypatch):
    """No scope: every op runs its own meta kernel (no cache, no rules, no known values)."""
    from contextlib import nullcontext

    monkeypatch.setattr(meta_cache, "scope", lambda cache=None: nullcontext(meta_cache.Cache()))


def _tiny_llama():
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128,
    )  # fmt: skip
    return config


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        (lambda: tvm.resnet18(), {"input_size": (1, 3, 64, 64), "device": "meta", "memory": True}),
        (lambda: tvm.mobilenet_v3_small(), {"input_size": (2, 3, 64, 64), "device": "meta", "train": True}),
        (lambda: tvm.vit_b_16(), {"input_size": (1, 3, 224, 224), "device": "meta", "memory": True}),
        (lambda: tvm.swin_t(), {"input_size": (1, 3, 64, 64), "device": "meta", "train": True}),
        (_tiny_llama, {"seq_len": 32, "train": True}),
    ],
    ids=["resnet18-memory", "mobilenet_v3_small-train", "vit_b_16-memory", "swin_t-train", "tiny-llama-train"],
)
def test_reports_are_equal_with_and_without_the_cache(monkeypatch, make, kwargs):
    model = make()
    cached = modelmeter.summary(model, **kwargs)
    with monkeypatch.context() as m:
        _without_cache(m)
        plain = modelmeter.summary(model, **kwargs)
    assert dataclasses.asdict(cached) == dataclasses.asdict(plain)


def test_an_undeclared_view_is_not_cached():
    # _unsafe_view's schema declares no alias, yet its output shares its input's storage (swin_t's inference
    # peak counted it as a new allocation when it was cached)
    x = _meta((4, 6))
    with meta_cache.scope() as cache:
        for _ in range(2):
            v = meta_cache.run(aten._unsafe_view.default, (x, [24]), {})
            assert v.untyped_storage()._cdata == x.untyped_storage()._cdata
        assert cache.hits == 0


def test_a_compare_shares_one_cache_and_gives_what_separate_runs_give():
    together = modelmeter.compare(["torchvision:resnet18", "torchvision:resnet34"], input_size=(1, 3, 64, 64))
    alone = [modelmeter.summary(f"torchvision:resnet{n}", input_size=(1, 3, 64, 64), memory=True) for n in (18, 34)]
    by_ref = {e.ref: e.report for e in together}
    for n, report in zip((18, 34), alone, strict=True):
        assert dataclasses.asdict(by_ref[f"torchvision:resnet{n}"]) == dataclasses.asdict(report)
