"""Attention kernels: memory follows the SDPA kernel PyTorch picks, checked against real CPU runs.

On the CPU, PyTorch runs ``_scaled_dot_product_flash_attention_for_cpu`` (saves q, k, v, the output and a
fp32 log-sum-exp per row) unless the call has dropout, a mask that requires grad, a 3-D mask, ... (then the
math kernel, which saves the T_q x T_k probabilities). Real runs: saved-tensor hooks and profiler memory events
(helpers from test_memory_torch).
"""

import json

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from test_memory_torch import profiled_peak, real_saved_bytes  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import modelmeter  # noqa: E402


def encoder(dropout=0.0):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=dropout, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


class PackedAttention(nn.Module):
    """One packed q/k/v projection and SDPA: small enough to count by hand."""

    def __init__(self, d=32, heads=4, dropout=0.0):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.proj = nn.Linear(d, 3 * d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.proj(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)


def saved(model, shape, **kw):
    return modelmeter.summary(model, input_size=shape, train=True, **kw).memory.training


# -- defect 6: nn.TransformerEncoder trains with the CPU flash kernel ---------------------------------
def test_encoder_saved_activations_equal_a_real_cpu_run_and_grow_linearly():
    # issue 11: 921,600 B reported (math kernel, T^2 probabilities), 663,552 B in a real run
    got = {t: saved(encoder(), (4, t, 64)) for t in (32, 64)}
    assert got[32].activations == real_saved_bytes(encoder(), torch.randn(4, 32, 64)) == 663_552
    assert got[64].activations == 2 * got[32].activations  # flash keeps O(T) per head, not O(T^2)
    assert dict(got[32].attention_kernels) == {"flash": 2}


def test_encoder_with_dropout_trains_with_math_as_pytorch_does():
    # the CPU flash kernel takes no dropout: PyTorch falls back to math, and so does the report
    t = saved(encoder(0.1), (4, 32, 64))
    assert dict(t.attention_kernels) == {"math": 2}
    assert t.activations == real_saved_bytes(encoder(0.1), torch.randn(4, 32, 64))


@pytest.mark.parametrize("kernel, backend", [("math", SDPBackend.MATH), ("flash", SDPBackend.FLASH_ATTENTION)])
def test_forced_kernel_equals_a_real_run_under_sdpa_kernel(kernel, backend):
    t = saved(encoder(), (4, 32, 64), attention_kernel=kernel)
    with sdpa_kernel(backend):
        real = real_saved_bytes(encoder(), torch.randn(4, 32, 64))
    assert dict(t.attention_kernels) == {kernel: 2} and t.activations == real


def test_flash_saved_bytes_by_hand():
    t = saved(PackedAttention(), (2, 16, 32))
    b, tt, d, h = 2, 16, 32, 4
    # fp32: the linear's input x (b*t*d) for its weight grad; the projection's output (b*t*3d), whose views
    # are q, k, v; the attention output (b*t*d); the log-sum-exp (b*h*t)
    assert t.activations == 4 * (b * tt * d + b * tt * 3 * d + b * tt * d + b * h * tt) == 20_992
    assert t.activations == real_saved_bytes(PackedAttention(), torch.randn(b, tt, d))
    math = saved(PackedAttention(), (2, 16, 32), attention_kernel="math").activations
    with sdpa_kernel(SDPBackend.MATH):
        assert math == real_saved_bytes(PackedAttention(), torch.randn(b, tt, d))
    assert math > t.activations  # + the (b, h, t, t) probabilities


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "no-fast-path"])
def test_encoder_inference_peak_equals_a_real_run(fast_path):
    # in eval under no_grad, a real CPU run takes nn.MultiheadAttention's fast path (torch._native_multi_head_
    # attention), which materializes the (B, H, T, T) scores; with the fast path off, SDPA runs flash
    x = torch.randn(4, 128, 64)
    torch.backends.mha.set_fastpath_enabled(fast_path)
    try:
        r = modelmeter.summary(encoder().eval(), input_size=(4, 128, 64), memory=True)
        real = profiled_peak(encoder(), x)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    assert r.memory.activations_peak == real
    # fast path, per layer (fp32, B=4, T=128, E=64, H=4): the previous layer's output 4*128*64 elements, q/k/v
    # 3*4*128*64, scores 4*4*128*128: 4 * (32,768 + 98,304 + 262,144) = 1,572,864 B
    assert real == (1_572_864 if fast_path else 917_504)
    assert dict(r.memory.attention_kernels) == ({"native-mha": 2} if fast_path else {"flash": 2})


def test_torchvision_vit_inference_peak_equals_a_real_run():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    vit = torchvision.models.VisionTransformer(
        image_size=64, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128
    ).eval()
    r = modelmeter.summary(vit, input_size=(2, 3, 64, 64), memory=True)
    assert r.memory.activations_peak == profiled_peak(vit, torch.randn(2, 3, 64, 64))
    assert dict(r.memory.attention_kernels) == {"native-mha": 2}


class SelfAttention(nn.Module):
    """nn.MultiheadAttention called directly, with the masks and weights options of its fast path."""

    def __init__(self, e, need_weights, average, masks):
        super().__init__()
        torch.manual_seed(0)
        self.attn = nn.MultiheadAttention(e, 4, batch_first=True)
        self.need_weights, self.average, self.masks = need_weights, average, masks

    def forward(self, x):
        b, t, _ = x.shape
        pad = torch.zeros(b, t, dtype=torch.bool, device=x.device) if "padding" in self.masks else None
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1) if "causal" in self.masks else None
        out = self.attn(
            x, x, x, key_padding_mask=pad, attn_mask=causal, need_weights=self.need_weights,
            average_attn_weights=self.average,
        )  # fmt: skip
        return out[0]


@pytest.mark.parametrize(
    "shape, need_weights, average, masks",
    [
        ((4, 128, 64), False, True, ()),
        ((4, 64, 128), False, True, ()),  # here the packed projection and q/k/v (6·B·T·E) are the peak
        ((4, 128, 64), True, True, ()),
        ((4, 64, 128), True, True, ()),
        ((4, 128, 64), True, False, ()),
        ((4, 128, 64), False, True, ("padding",)),
        ((4, 128, 64), False, True, ("causal",)),
        ((4, 128, 64), True, True, ("padding", "causal")),
        ((4, 64, 128), False, True, ("padding", "causal")),
    ],
)
def test_multihead_attention_fast_path_peak_equals_a_real_run(shape, need_weights, average, masks):
    make = lambda: SelfAttention(shape[-1], need_weights, average, masks).eval()  # noqa: E731
    r = modelmeter.summary(make(), input_size=shape, memory=True)
    real = profiled_peak(make(), torch.randn(*shape))
    assert abs(r.memory.activations_peak - real) <= 512, (r.memory.activations_peak, real)  # a mask's bytes at most
    assert dict(r.memory.attention_kernels) == {"native-mha": 1}


class KeywordCall:
    """``profiled_peak`` calls ``model(x)``: call a model taking keyword inputs with the dict ``x``."""

    def __init__(self, model):
        self.model = model

    def eval(self):
        self.model.eval()
        return self

    def __call__(self, kwargs):
        return self.model(**kwargs)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_encoder_with_a_padding_mask_inference_peak(norm_first):
    # nn.TransformerEncoderLayer converts the mask to float and takes its own fast path, whose attention is the
    # same native kernel with a key padding mask (a second (B, H, T, T) buffer for the masked softmax)
    def make():
        torch.manual_seed(0)
        layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True, norm_first=norm_first)
        return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    x, pad = torch.randn(4, 128, 64), torch.zeros(4, 128, dtype=torch.bool)
    pad[:, 100:] = True
    causal = nn.Transformer.generate_square_subsequent_mask(128)
    # a float causal mask: nn.TransformerEncoder reads its values (causal or not), so the run falls back to real
    # CPU tensors, where the real kernel computes the values and its buffers are priced beside it
    for inputs, device in (({"src_key_padding_mask": pad}, "meta"), ({"mask": causal}, "cpu")):
        r = modelmeter.summary(make().eval(), input_data={"src": x, **inputs}, memory=True)
        real = profiled_peak(KeywordCall(make()), {"src": x, **inputs})
        assert r.device == device
        assert abs(r.memory.activations_peak - real) <= 512, (r.memory.activations_peak, real)
        assert dict(r.memory.attention_kernels) == {"native-mha": 2}


def test_native_kernel_on_real_tensors_gives_the_models_values():
    from modelmeter.frontends.torch.measure.fused_attention import FusedAttentionOnMeta
    from modelmeter.frontends.torch.measure.native_mha import fast_path_flags

    model, x = encoder().eval(), torch.randn(4, 32, 64)
    pad = torch.zeros(4, 32, dtype=torch.bool)
    pad[:, 20:] = True
    causal = nn.Transformer.generate_square_subsequent_mask(32)
    for inputs in ({}, {"src_key_padding_mask": pad}, {"mask": causal, "src_key_padding_mask": pad}):
        with torch.no_grad():
            expected = model(x, **inputs)
            mode = FusedAttentionOnMeta()
            with mode, fast_path_flags(model, mode):
                got = model(x, **inputs)
        assert mode.kernels == {"native-mha": 2}
        assert torch.allclose(got.nan_to_num(), expected.nan_to_num(), atol=1e-5)


# -- defect 5: a learnable mask or bias (relative position bias) trains --------------------------------
def t5():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    cfg = transformers.T5Config(vocab_size=64, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
    return transformers.T5Model(cfg)


def t5_inputs(t=16):
    ids = torch.arange(2 * t).remainder(64).view(2, t)
    return {"input_ids": ids, "decoder_input_ids": ids}


def test_t5_relative_bias_trains_within_10_percent_of_a_real_run():
    r = modelmeter.summary(t5(), input_data=t5_inputs(), train=True)
    t = r.memory.training
    real = real_saved_bytes(t5(), **t5_inputs())
    assert abs(t.activations - real) <= 0.10 * real, (t.activations, real)
    assert dict(t.attention_kernels) == {"math": 6}  # the position bias requires grad: no fused kernel


def test_t5_inference_peak_within_10_percent_of_a_real_run():
    model = t5().eval()
    r = modelmeter.summary(model, input_data=t5_inputs(64), memory=True)
    real = profiled_peak(KeywordCall(model), t5_inputs(64))
    assert abs(r.memory.activations_peak - real) <= 0.10 * real, (r.memory.activations_peak, real)
    assert dict(r.memory.attention_kernels) == {"flash": 6}  # no grad on the bias at inference: flash


def relpos_vit(name):
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    return timm.create_model(
        name, pretrained=False, img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=10
    )


@pytest.mark.parametrize("name", ["beit_base_patch16_224", "vit_relpos_base_patch16_224"])
def test_relative_bias_vit_trains_and_matches_a_real_run(name):
    r = modelmeter.summary(relpos_vit(name), input_size=(2, 3, 32, 32), train=True)
    x = torch.randn(2, 3, 32, 32)
    assert r.memory.training.activations == real_saved_bytes(relpos_vit(name), x)
    assert dict(r.memory.training.attention_kernels) == {"math": 2}
    r = modelmeter.summary(relpos_vit(name).eval(), input_size=(2, 3, 32, 32), memory=True)
    real = profiled_peak(relpos_vit(name), x)
    assert abs(r.memory.activations_peak - real) <= 0.10 * real, (r.memory.activations_peak, real)


# -- the CPU rules against PyTorch's own dispatcher ----------------------------------------------------
def _cases():
    q = torch.randn(2, 4, 8, 16)
    mask4 = torch.randn(1, 4, 8, 8)
    yield "plain", (q, q, q), {}
    yield "bool mask", (q, q, q), {"attn_mask": torch.ones(8, 8, dtype=torch.bool)}
    yield "4-D float mask", (q, q, q), {"attn_mask": mask4}
    yield "mask requires grad", (q, q, q), {"attn_mask": mask4.clone().requires_grad_()}
    yield "3-D mask", (q, q, q), {"attn_mask": torch.randn(4, 8, 8)}
    yield "mask broadcast on keys", (q, q, q), {"attn_mask": torch.randn(8, 1)}
    yield "dropout", (q, q, q), {"dropout_p": 0.1}
    yield "causal", (q, q, q), {"is_causal": True}
    yield "gqa", (q, q[:, :2], q[:, :2]), {"enable_gqa": True}
    yield "mqa", (q, q[:, :1], q[:, :1]), {}
    yield "heads differ", (q, q[:, :2], q[:, :2]), {}
    yield "v head dim differs", (q, q, torch.randn(2, 4, 8, 32)), {}
    yield "half", (q.half(), q.half(), q.half()), {}
    yield "mixed dtypes", (q, q.double(), q), {}
    yield "strided last dim", (q, q, torch.randn(2, 4, 16, 8).transpose(-1, -2)), {}
    yield "3-D inputs", (q[0], q[0], q[0]), {}
    yield "3-D inputs, 3-D mask", (q[0], q[0], q[0]), {"attn_mask": torch.randn(4, 8, 8)}


@pytest.mark.parametrize("case", list(_cases()), ids=[c[0] for c in _cases()])
def test_cpu_rules_pick_what_pytorch_picks(case):
    from modelmeter.frontends.torch.measure.sdpa_choice import SdpaCall, choose

    _, args, kwargs = case
    names = {0: "math", 1: "flash"}
    assert choose(SdpaCall.bind(args, kwargs), "auto", "cpu") == names[torch._fused_sdp_choice(*args, **kwargs)]


def test_cuda_rules():
    from modelmeter.frontends.torch.measure.sdpa_choice import SdpaCall, choose

    q = torch.empty(2, 4, 8, 64, device="meta")
    half = q.to(torch.bfloat16)
    assert choose(SdpaCall(half, half, half), "auto", "cuda") == "flash"
    assert choose(SdpaCall(q, q, q), "auto", "cuda") == "efficient"  # flash is fp16/bf16 only
    masked = SdpaCall(half, half, half, attn_mask=torch.empty(8, 8, device="meta", dtype=torch.bfloat16))
    assert choose(masked, "auto", "cuda") == "efficient"  # flash takes no mask
    odd = torch.empty(2, 4, 8, 6, device="meta")
    assert choose(SdpaCall(odd, odd, odd), "auto", "cuda") == "math"  # 6 % 4 != 0: no efficient alignment
    assert choose(SdpaCall(q, q, q), "flash", "cuda") == "math"  # asked for, cannot run: math


# -- GPU kernels: what their autograd nodes save (derivatives.yaml), run on meta -----------------------
def test_gpu_kernels_saved_bytes_by_hand():
    b, t, d, h = 2, 16, 32, 4
    base = 4 * (b * t * d + b * t * 3 * d)  # x and the packed projection, as in test_flash_saved_bytes_by_hand
    eff = saved(PackedAttention(), (b, t, d), gpus=1)  # fp32 on an sm80+ GPU: memory-efficient attention
    assert dict(eff.attention_kernels) == {"efficient": 1}
    # + output (b*t*d fp32) + log-sum-exp (b, h, t rounded up to 32: kAlignLSE) fp32 + philox seed and offset
    # (two int64 scalars)
    assert eff.activations == base + 4 * b * t * d + 4 * b * h * 32 + 2 * 8 == 21_520
    flash = saved(PackedAttention(), (b, t, d), gpus=1, precision="bf16-mixed")
    assert dict(flash.attention_kernels) == {"flash": 1}
    # bf16: x, projection and output at 2 B; log-sum-exp fp32; rng state: 2 x uint64 seed + 1 uint64 offset
    assert flash.activations == base // 2 + 2 * b * t * d + 4 * b * h * t + 16 + 8


# -- the report says which kernel ran ---------------------------------------------------------------
def test_kernels_in_json_and_table(tmp_path):
    r = modelmeter.summary(encoder(), input_size=(2, 16, 64), train=True)
    doc = json.loads(r.to_json())["memory"]
    assert doc["attention_kernel"] == "auto" and doc["attention_target"] == "cpu"
    assert doc["attention_kernels"] == {"flash": 2} and doc["training"]["attention_kernels"] == {"flash": 2}
    from modelmeter.render.memory import memory_text

    assert "attention kernels (as PyTorch picks on the CPU): inference flash x2; training flash x2" in memory_text(
        r.memory
    )
    back = type(r.memory).from_dict(doc)
    assert back.attention_kernels == (("flash", 2),) and back.training.attention_kernels == (("flash", 2),)


def test_bad_kernel_is_one_clear_error():
    with pytest.raises(modelmeter.errors.UsageError, match="unknown attention_kernel .fast.; use one of auto, math"):
        modelmeter.summary(encoder(), input_size=(2, 16, 64), attention_kernel="fast")


def test_kernel_on_the_command_line(tmp_path, capsys):
    from modelmeter.cli import main

    (tmp_path / "enc.py").write_text(
        "from torch import nn\n"
        "class Enc(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.attn = nn.MultiheadAttention(64, 4, batch_first=True)\n"
        "    def forward(self, x):\n"
        "        return self.attn(x, x, x, need_weights=False)[0]\n"
    )
    ref = f"{tmp_path / 'enc.py'}:Enc"
    assert (
        main(["summary", ref, "--input", "2,16,64", "--train", "--attention-kernel", "math", "--format", "json"]) == 0
    )
    mem = json.loads(capsys.readouterr().out)["memory"]
    assert mem["attention_kernel"] == "math" and mem["training"]["attention_kernels"] == {"math": 1}
    assert main(["summary", ref, "--input", "2,16,64", "--attention-kernel", "flash"]) == 0  # implies --memory
    assert (
        "attention kernels (flash asked for, math where it cannot run): inference flash x1" in capsys.readouterr().out
    )


class RaisesInsideAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(64, 4, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x[:, :, :32], need_weights=False)[0]  # value of the wrong width: MHA raises


def test_the_sdpa_binding_is_restored_when_attention_raises():
    original = F.scaled_dot_product_attention
    with pytest.raises(modelmeter.errors.ForwardError):
        modelmeter.summary(RaisesInsideAttention(), input_size=(2, 16, 64), train=True)
    assert F.scaled_dot_product_attention is original
    assert torch.nn.functional.multi_head_attention_forward.__globals__["scaled_dot_product_attention"] is original


class Unbatched(nn.Module):
    """SDPA on 3-D (heads, T, head dim) tensors: PyTorch gives them a batch of one and runs CPU flash."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 48)

    def forward(self, x):
        q, k, v = self.proj(x).chunk(3, dim=-1)
        return F.scaled_dot_product_attention(q, k, v)


def test_unbatched_attention_equals_a_real_run():
    torch.manual_seed(0)
    t = saved(Unbatched(), (4, 32, 16))
    assert dict(t.attention_kernels) == {"flash": 1}
    torch.manual_seed(0)
    assert t.activations == real_saved_bytes(Unbatched(), torch.randn(4, 32, 16))
