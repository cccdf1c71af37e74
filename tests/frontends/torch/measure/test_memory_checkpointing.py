"""Activation checkpointing: measured on meta against a hand count and a real CPU run with torch.utils.checkpoint."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.checkpoint import checkpoint  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.frontends.torch.measure.checkpointing import blocks  # noqa: E402


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.up, self.act, self.down = nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 32)

    def forward(self, x):
        return self.down(self.act(self.up(x)))


def stack():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.Sequential(*[Block() for _ in range(4)]), nn.Linear(32, 10))


def test_blocks_are_the_repeated_entries():
    assert blocks(stack()) == ["1.0", "1.1", "1.2", "1.3"]
    layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
    assert blocks(nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)) == ["layers.0", "layers.1", "layers.2"]
    assert blocks(nn.Sequential(nn.Linear(2, 2), nn.ReLU())) == ["0", "1"]  # nothing repeated: the root's children


def test_checkpointing_hand_count():
    plain = modelmeter.summary(stack(), input_size=(8, 16), train=True).memory.training
    report = modelmeter.summary(stack(), input_size=(8, 16), train=True, checkpointing=True)
    ckpt = report.memory.training
    # without: input x 8*16*4 = 512, each block's input 4 * 8*32*4 = 4096, each block's ReLU output
    # 4 * 8*64*4 = 8192, the last block's output (saved by the head) 1024
    assert plain.activations == 512 + 4096 + 8192 + 1024 == 13_824
    # with: the ReLU outputs are recomputed one block at a time: only the largest block's, 2048, at once
    assert ckpt.activations == 512 + 4096 + 1024 + 2048 == 7_680
    # recomputation runs the blocks' forward once more: 4 * (8*32*64 + 8*64*32) = 131,072 MACs, + other FLOPs
    assert report.layer("1").macs == 4 * 2 * 8 * 32 * 64
    assert ckpt.recompute_flops == report.layer("1").flops
    assert ckpt.total_flops == plain.total_flops + ckpt.recompute_flops


class Checkpointed(nn.Module):
    """The same network, each block run through torch.utils.checkpoint (reentrant: it saves the block's
    inputs with save_for_backward, which an outer saved-tensor hook sees, and recomputes in backward)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        first, body, head = self.model
        x = first(x)
        for block in body:
            x = checkpoint(block, x, use_reentrant=True)
        return head(x)


def real_checkpointed_peak_saved(model, x):
    """Saved bytes at the backward's peak in a real CPU step: all forward-saved storages, plus the largest
    set of new storages one block's recomputation saves."""
    excluded = {p.untyped_storage().data_ptr() for p in model.parameters()}
    forward, recomputed, current = {}, {}, [None]

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in excluded:
            target = forward if current[0] is None else recomputed.setdefault(current[0], {})
            if s.data_ptr() not in forward:
                target[s.data_ptr()] = s.nbytes()
        return t

    wrapped = Checkpointed(model).train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = wrapped(x)
        handles = [b.register_forward_pre_hook(lambda m, a, i=i: current.__setitem__(0, i)) for i, b in
                   enumerate(model[1])]  # fmt: skip
        y.backward(torch.ones_like(y))
        for h in handles:
            h.remove()
    assert len(recomputed) == 4  # every block was recomputed
    return sum(forward.values()) + max(sum(r.values()) for r in recomputed.values())


def test_checkpointing_equals_a_real_cpu_run():
    measured = modelmeter.summary(stack(), input_size=(8, 16), train=True, checkpointing=True).memory.training
    assert measured.activations == real_checkpointed_peak_saved(stack(), torch.randn(8, 16))
