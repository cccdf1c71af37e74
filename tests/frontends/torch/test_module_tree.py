"""ModuleTree answers what PyTorch's own walks answer, in the same order: shared modules, tied weights, None
entries, buffers included. Every analysis step reads the tree instead of walking the model again."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from modelmeter.frontends.torch.collect.params import layer_records  # noqa: E402
from modelmeter.frontends.torch.module_tree import ModuleTree  # noqa: E402


class Shared(nn.Module):
    """A module reached by two paths, a weight tied across two modules, a None bias, a buffer, a frozen
    parameter: every case where a walk with and without duplicates differ."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.block = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4, bias=False))
        self.again = self.block  # the same module under a second name
        self.head = nn.Linear(4, 10)
        self.head.weight = self.embed.weight  # tied
        self.norm = nn.BatchNorm1d(4)
        self.norm.weight.requires_grad_(False)
        self.register_buffer("scale", torch.ones(4))
        self.register_parameter("unused", None)


MODELS = [Shared, lambda: nn.LSTM(3, 5, num_layers=2), lambda: nn.TransformerEncoderLayer(8, 2, 16)]


@pytest.mark.parametrize("make", MODELS)
def test_walks_match_pytorch(make):
    model = make()
    tree = ModuleTree(model)
    assert [(n, id(m)) for n, m in tree.named] == [(n, id(m)) for n, m in model.named_modules()]
    assert [id(m) for m in tree.modules] == [id(m) for m in model.modules()]
    assert [id(p) for p in tree.parameters] == [id(p) for p in model.parameters()]
    assert [id(b) for b in tree.buffers] == [id(b) for b in model.buffers()]
    every = [
        *model.named_parameters(remove_duplicate=False),
        *model.named_buffers(remove_duplicate=False),
    ]
    assert [(n, id(t)) for n, t in tree.named_tensors()] == [(n, id(t)) for n, t in every]


def test_shared_model_has_duplicates_to_walk():
    """The case the deduplicating sums exist for: the walk without duplicates is shorter."""
    tree = ModuleTree(Shared())
    assert len(tree.paths) > len(tree.named)
    assert len(list(tree.named_tensors())) > len(tree.parameters) + len(tree.buffers)


@pytest.mark.parametrize("make", MODELS)
def test_layer_records_count_each_tensor_once_per_subtree(make):
    """Each record's params, trainable params and buffers against ``module.parameters()`` of its subtree
    (PyTorch deduplicates by identity): the plain and the deduplicated sums both."""
    model = make()
    records = layer_records(model)
    for name, module in model.named_modules():
        rec = records[name]
        assert rec.params == sum(p.numel() for p in module.parameters()), name
        assert rec.trainable_params == sum(p.numel() for p in module.parameters() if p.requires_grad), name
        assert rec.buffers == sum(b.numel() for b in module.buffers()), name


def test_shared_counts_by_hand():
    # embed 10*4 = 40 (the head's weight is the same tensor), block 2 * (4*4) + 4 = 36, head bias 10,
    # norm weight + bias 4 + 4 = 8: 40 + 36 + 10 + 8 = 94; trainable: less the frozen norm weight (4) = 90
    # buffers: norm running mean + var 4 + 4, num_batches_tracked 1, scale 4 = 13
    records = layer_records(Shared())
    assert (records[""].params, records[""].trainable_params, records[""].buffers) == (94, 90, 13)
    assert records["head"].params == 40 + 10
    assert records["block"].params == 36
    assert "again" not in records  # a module reached twice has one record, under its first name
