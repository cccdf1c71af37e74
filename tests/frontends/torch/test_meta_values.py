"""Values of small meta tensors kept on the CPU (meta_values.py): control flow on them runs on meta, exactly."""

from __future__ import annotations

import dataclasses

import pytest

torch = pytest.importorskip("torch")
aten = torch.ops.aten

import modelmeter  # noqa: E402
from modelmeter.frontends.torch import meta_cache  # noqa: E402
from modelmeter.frontends.torch.meta_values import MAX_ELEMENTS  # noqa: E402


def _run(func, *args, **kwargs):
    return meta_cache.run(func, args, kwargs)


def test_values_follow_a_chain_of_ops_from_a_factory_to_item():
    with meta_cache.scope() as cache:
        pos = _run(aten.arange.start, 3, 9, dtype=torch.int64, device="meta")  # [3..8]
        assert pos.device.type == "meta"
        assert cache.known.of(pos).tolist() == [3, 4, 5, 6, 7, 8]
        diff = _run(aten.sub.Tensor, pos, 3)
        total = _run(aten.sum.default, diff)
        assert _run(aten._local_scalar_dense.default, total) == 0 + 1 + 2 + 3 + 4 + 5
        # a shape that depends on values: nonzero's output is sized from the CPU result
        picked = _run(aten.nonzero.default, _run(aten.gt.Scalar, pos, 5))
        assert picked.device.type == "meta" and tuple(picked.shape) == (3, 1)  # 6, 7, 8


def test_a_copy_to_the_cpu_of_known_values_is_those_values():
    with meta_cache.scope():
        pos = _run(aten.arange.default, 4, device="meta")
        copied = _run(aten._to_copy.default, pos, device=torch.device("cpu"))
        assert copied.device.type == "cpu" and copied.tolist() == [0, 1, 2, 3]


def test_a_users_small_integer_input_is_known_and_never_modified():
    ids = torch.tensor([[5, 6, 7]])
    with meta_cache.scope() as cache:
        meta = torch.empty_like(ids, device="meta")
        meta_cache.remember(meta, ids)
        _run(aten.add_.Tensor, meta, 1)  # in place on the meta twin: its values change, the user's do not
        assert cache.known.of(meta).tolist() == [[6, 7, 8]]
    assert ids.tolist() == [[5, 6, 7]]


def test_a_write_from_unknown_values_forgets_them():
    with meta_cache.scope() as cache:
        mask = _run(aten.ones.default, [4], dtype=torch.int64, device="meta")
        assert cache.known.of(mask) is not None
        unknown = torch.empty(4, dtype=torch.int64, device="meta")
        _run(aten.mul_.Tensor, mask, unknown)
        assert cache.known.of(mask) is None
        with pytest.raises(RuntimeError, match="meta"):
            _run(aten._local_scalar_dense.default, _run(aten.sum.default, mask))


def test_big_and_random_tensors_get_no_values():
    with meta_cache.scope() as cache:
        big = _run(aten.arange.default, MAX_ELEMENTS + 1, device="meta")
        assert cache.known.of(big) is None
        drawn = _run(aten.randint.low, 0, 10, [4], device="meta")
        assert cache.known.of(drawn) is None


def _gpt2(**kw):
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=256, use_cache=False, **kw)
    torch.manual_seed(0)
    return transformers.AutoModelForCausalLM.from_config(config).eval()


@pytest.mark.parametrize("padded", [False, True])
def test_a_transformer_that_reads_its_masks_runs_on_meta_as_on_the_cpu(padded):
    # GPT-2 without a cache checks its arange'd position ids for packed sequences with .item(): on the old main
    # the meta run failed there and the report came from a real CPU forward
    model = _gpt2()
    ids = torch.randint(0, 256, (2, 16))
    inputs = {"input_ids": ids}
    if padded:
        inputs["attention_mask"] = torch.cat([torch.ones(2, 12), torch.zeros(2, 4)], 1).long()
    on_meta = modelmeter.summary(model, input_data=inputs)
    on_cpu = modelmeter.summary(model, input_data=inputs, device="cpu")
    assert on_meta.device == "meta"
    assert dataclasses.replace(on_meta, device="cpu") == on_cpu
