"""Attention gives one count whatever runs it: every SDPA backend, the nn.MultiheadAttention and
nn.TransformerEncoderLayer fast paths, attention written by hand, on meta and on the CPU."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.formulas import formula  # noqa: E402
from modelmeter.formulas.attention import visible_pairs  # noqa: E402

B, H, T, D = 2, 4, 16, 8
QKV = [(B, H, T, D)] * 3


class SDPA(nn.Module):
    def __init__(self, is_causal=False, mask=False):
        super().__init__()
        self.is_causal, self.mask = is_causal, mask

    def forward(self, q, k, v):
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril() if self.mask else None
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=self.is_causal)


class HandAttention(nn.Module):
    def forward(self, q, k, v):
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, H, T, T)
        return F.softmax(scores, dim=-1) @ v


def totals(model, shapes=None, data=None, device="meta", **kw):
    r = modelmeter.summary(model, input_size=shapes, input_data=data, device=device, **kw)
    assert r.uncounted == {}
    return r.totals.macs, r.totals.flops


def cpu_backends():
    """The SDPA backends that run on this machine's CPU."""
    q = torch.randn(QKV[0])
    found = []
    for backend in (SDPBackend.MATH, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION):
        try:
            with sdpa_kernel(backend):
                F.scaled_dot_product_attention(q, q, q)
            found.append(backend)
        except RuntimeError:
            pass
    return found


# 2·4 · 16·16 · (8 + 8) MACs; other FLOPs: scale + softmax = 6 per score (+1 with a mask)
SCORES = B * H * T * T
FULL = (SCORES * 2 * D, 2 * SCORES * 2 * D + 6 * SCORES)


def test_sdpa_every_cpu_backend_and_meta_agree():
    backends = cpu_backends()
    assert SDPBackend.MATH in backends and SDPBackend.FLASH_ATTENTION in backends
    assert totals(SDPA(), QKV) == FULL
    for backend in backends:
        with sdpa_kernel(backend):
            assert totals(SDPA(), QKV, device="cpu") == FULL, backend
            assert totals(SDPA(), QKV, device="meta") == FULL, backend


def test_sdpa_is_matched_by_attention_written_by_hand():
    assert totals(HandAttention(), QKV) == FULL
    assert totals(HandAttention(), QKV, device="cpu") == FULL


def test_sdpa_masks_and_causal_aware():
    masked = (FULL[0], FULL[1] + SCORES)  # one mask add / select per score
    for device in ("meta", "cpu"):
        assert totals(SDPA(is_causal=True), QKV, device=device) == masked
        assert totals(SDPA(mask=True), QKV, device=device) == masked
        # causal-aware: T (T + 1) / 2 = 136 pairs per head instead of 256
        pairs = B * H * visible_pairs(T, T)
        assert pairs == B * H * 136
        aware = totals(SDPA(is_causal=True), QKV, device=device, attention="causal-aware")
        assert aware == (pairs * 2 * D, 2 * pairs * 2 * D + 6 * pairs)
        # an explicit mask whose values meta cannot see, with no module hints: counted in full
        assert totals(SDPA(mask=True), QKV, device=device, attention="causal-aware") == masked


def test_report_says_which_attention_count_was_used():
    r = modelmeter.summary(SDPA(is_causal=True), input_size=QKV, attention="causal-aware")
    assert r.attention == "causal-aware" and r.to_dict()["attention"] == "causal-aware"
    assert "causal-aware" in r.render()
    assert modelmeter.summary(SDPA(), input_size=QKV).to_dict()["attention"] == "full"
    with pytest.raises(modelmeter.InputError, match="attention must be one of"):
        modelmeter.summary(SDPA(), input_size=QKV, attention="causal")


def test_gqa_counts_every_query_head():
    # 8 query heads over 2 key/value heads: the scores are still 8 heads' worth
    q, kv = (1, 8, T, D), (1, 2, T, D)
    model = SDPA()
    model.forward = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    assert totals(model, [q, kv, kv])[0] == 8 * T * T * 2 * D


E, HEADS, L = 16, 4, 10


class SelfAttention(nn.Module):
    def __init__(self, need_weights=True, **kw):
        super().__init__()
        self.attn = nn.MultiheadAttention(E, HEADS, batch_first=True, **kw)
        self.need_weights = need_weights

    def forward(self, x):
        return self.attn(x, x, x, need_weights=self.need_weights)[0]


def mha_expected(need_weights):
    # in 3·(B·L·E·E) + attention B·heads·L·L·(2·E/heads) + out B·L·E·E
    macs = 3 * B * L * E * E + B * HEADS * L * L * 2 * (E // HEADS) + B * L * E * E
    scores = B * HEADS * L * L
    other = 4 * B * L * E + 6 * scores + (scores if need_weights else 0)  # bias adds, scale + softmax, mean
    return macs, 2 * macs + other


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_train_eval_no_grad_and_devices_agree(need_weights):
    model = SelfAttention(need_weights)
    x = [(B, L, E)]
    expected = mha_expected(need_weights)
    for mode in (model.train, model.eval):
        mode()
        for device in ("meta", "cpu"):
            assert totals(model, x, device=device) == expected, (mode.__name__, device)
    assert (
        formula("multi_head_attention")(B, L, L, (E, E, E), E, HEADS, average_weights=need_weights).flops
        == (expected[1])
    )


def test_native_fast_path_functions_count_like_the_modules():
    """The eval + no_grad kernels (torch._native_multi_head_attention, torch._transformer_encoder_layer_fwd),
    called directly, give the counts of the module forwards that they replace."""
    attn = SelfAttention(need_weights=False).eval().attn
    layer = nn.TransformerEncoderLayer(E, HEADS, 32, batch_first=True).eval()

    def native_mha(x):
        return torch._native_multi_head_attention(
            x, x, x, E, HEADS, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight, attn.out_proj.bias,
            need_weights=False,
        )[0]  # fmt: skip

    def native_layer(x):
        return torch._transformer_encoder_layer_fwd(
            x, E, HEADS, layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias,
            layer.self_attn.out_proj.weight, layer.self_attn.out_proj.bias, False, False, layer.norm1.eps,
            layer.norm1.weight, layer.norm1.bias, layer.norm2.weight, layer.norm2.bias, layer.linear1.weight,
            layer.linear1.bias, layer.linear2.weight, layer.linear2.bias,
        )  # fmt: skip

    class Call(nn.Module):
        def __init__(self, fn, owner):
            super().__init__()
            self.fn, self.owner = fn, owner

        def forward(self, x):
            return self.fn(x)

    data = (torch.randn(B, L, E),)
    assert totals(Call(native_mha, attn), data=data, device="cpu") == mha_expected(False)
    assert totals(Call(native_layer, layer), data=data, device="cpu") == totals(layer, [(B, L, E)])


def test_transformer_encoder_layer_and_stack_eval_agree_on_devices():
    layer = nn.TransformerEncoderLayer(E, HEADS, 32, batch_first=True).eval()
    stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, HEADS, 32, batch_first=True), 2).eval()
    # attention + 2 residual adds + 2 layer norms (7 per element) + feed-forward 16 -> 32 -> 16 with relu
    rows = B * L
    ffn_macs = rows * E * 32 + rows * 32 * E
    macs = mha_expected(False)[0] + ffn_macs
    other = (mha_expected(False)[1] - 2 * mha_expected(False)[0]) + 2 * rows * E + 2 * 7 * rows * E
    other += rows * 32 + rows * 32 + rows * E  # bias adds 32 and 16, relu 32
    for device in ("meta", "cpu"):
        assert totals(layer, [(B, L, E)], device=device) == (macs, 2 * macs + other)
        assert totals(stack, [(B, L, E)], device=device) == (2 * macs, 2 * (2 * macs + other))
    # with a padding mask the eval stack would take the nested-tensor fast path; counted the same on both
    mask = torch.zeros(B, L, dtype=torch.bool)
    mask[:, -3:] = True
    data = {"src": torch.randn(B, L, E), "src_key_padding_mask": mask}
    assert totals(stack, data=data, device="cpu") == totals(stack, data=data, device="meta")


def test_fast_path_is_real_outside_modelmeter():
    """Outside modelmeter the eval + no_grad forward of nn.MultiheadAttention runs one fused aten kernel
    (what dispatch-level counters see as zero); inside, it is counted as its arithmetic."""
    from torch.utils._python_dispatch import TorchDispatchMode

    seen = []

    class Ops(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(str(func.overloadpacket))
            return func(*args, **(kwargs or {}))

    model = SelfAttention(need_weights=False).eval()
    with torch.no_grad(), Ops():
        model(torch.randn(B, L, E))
    assert "aten._native_multi_head_attention" in seen
    assert totals(model, [(B, L, E)], device="cpu") == mha_expected(False)
