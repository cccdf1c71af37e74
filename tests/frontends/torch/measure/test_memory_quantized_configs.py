"""Weights priced as a quantized checkpoint stores them (``quantization_config``): MXFP4, FP8 with block
scales, GPTQ / AWQ int4, bitsandbytes; hand counts, and transformers' own FP8 quantizer as a check."""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from test_memory_llm_families import tiny_deepseek_v3, tiny_gpt_oss  # noqa: E402

import modelmeter  # noqa: E402

MXFP4 = {
    "quant_method": "mxfp4",
    "modules_to_not_convert": [
        "model.layers.*.self_attn",
        "model.layers.*.mlp.router",
        "model.embed_tokens",
        "lm_head",
    ],
}  # as in gpt-oss-20b / -120b config.json
FP8 = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [128, 128]}


def with_quantization(config, qc, architecture):
    config.quantization_config = qc
    config.architectures = [architecture]
    config.dtype = "bfloat16"
    return config


def test_mxfp4_experts_at_4_25_bits():
    cfg = with_quantization(tiny_gpt_oss(), MXFP4, "GptOssForCausalLM")
    r = modelmeter.summary(cfg, seq_len=16, memory=True)
    q = r.memory.quantization
    # the experts only: 2 layers * 8 experts * (gate_up 128 x 256 + down 128 x 128) = 786,432 weights
    assert q.method == "mxfp4" and q.quantized_params == 2 * 8 * (128 * 256 + 128 * 128) == 786_432
    assert q.tensors == ("model.layers.*.mlp.experts.gate_up_proj", "model.layers.*.mlp.experts.down_proj")
    # two 4-bit weights per byte and one E8M0 byte per 32: 786,432 / 2 + 786,432 / 32 = 393,216 + 24,576
    by = dict(r.memory.weights_by_dtype)
    assert (by["mxfp4"], by["e8m0 scales"]) == (393_216, 24_576) and q.quantized_bytes == 417_792
    # everything else stays bf16 (attention, router, embeddings, head, expert biases)
    assert by["bfloat16"] == 2 * (r.totals.params - 786_432)
    assert r.memory.weights == by["bfloat16"] + 417_792
    # --weights-dtype stays the what-if for all weights
    what_if = modelmeter.summary(cfg, seq_len=16, memory=True, weights_dtype="bf16")
    assert what_if.memory.weights == 2 * r.totals.params and what_if.memory.quantization is None


def test_fp8_block_scales_equal_transformers_own_quantizer():
    from transformers.quantizers import AutoHfQuantizer

    cfg = with_quantization(tiny_deepseek_v3(), FP8, "DeepseekV3ForCausalLM")
    r = modelmeter.summary(cfg, seq_len=16, memory=True)
    # transformers' FP8 quantizer turns the meta model into the checkpoint's layout: fp8 weights, float32
    # weight_scale_inv per 128 x 128 block; its parameters' bytes are what the checkpoint stores
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(cfg)
    AutoHfQuantizer.from_config(cfg.quantization_config, pre_quantized=True).preprocess_model(model, config=cfg)
    stored = {id(p): p.numel() * p.element_size() for p in model.parameters()}
    assert r.memory.weights == sum(stored.values())
    by = dict(r.memory.weights_by_dtype)
    fp8 = sum(p.numel() for p in model.parameters() if p.dtype == torch.float8_e4m3fn)
    assert by["float8_e4m3fn"] == fp8 == r.memory.quantization.quantized_params
    assert "lm_head.weight" not in r.memory.quantization.tensors  # the head stays bf16, as transformers keeps it


def test_gptq_int4_hand_count():
    from test_memory_llm import llama

    qc = {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False}
    cfg = with_quantization(llama(), qc, "LlamaForCausalLM")
    r = modelmeter.summary(cfg, seq_len=8, memory=True)
    # each of the 4 layers' 7 linears (d 256, 2 KV heads of 32, MLP 512), out x in:
    shapes = [(256, 256), (64, 256), (64, 256), (256, 256), (512, 256), (512, 256), (256, 512)]
    qweight = sum(o * i // 2 for o, i in shapes)  # 4 bits per weight
    zeros = sum(-(-i // 128) * o // 2 for o, i in shapes)  # one 4-bit zero point per group of 128 inputs
    scales = sum(-(-i // 128) * o * 2 for o, i in shapes)  # one fp16 scale per group
    g_idx = sum(i * 4 for o, i in shapes)  # int32 group index per input
    q = r.memory.quantization
    assert q.quantized_bytes == 4 * (qweight + zeros + scales + g_idx) == 4 * (278_528 + 2_176 + 8_704 + 8_192)
    assert q.quantized_params == 4 * sum(o * i for o, i in shapes)
    # embeddings, norms and the head stay in the config's dtype
    assert r.memory.weights == q.quantized_bytes + 2 * (r.totals.params - q.quantized_params)


def test_bitsandbytes_nf4_double_quant_hand_count():
    from test_memory_llm import llama

    qc = {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_use_double_quant": True}
    cfg = with_quantization(llama(), qc, "LlamaForCausalLM")
    q = modelmeter.summary(cfg, seq_len=8, memory=True).memory.quantization
    n = 4 * (2 * 256 * 256 + 2 * 64 * 256 + 3 * 512 * 256)  # 4 layers' linear weights = 2,228,224
    # nf4: n / 2 bytes; absmax per 64 weights as 1 byte, plus a float32 per 256 of them
    assert q.element_format == "nf4" and q.quantized_params == n
    per_layer = [256 * 256] * 2 + [64 * 256] * 2 + [512 * 256] * 3
    expected = sum(m // 2 + m // 64 + -(-(m // 64) // 256) * 4 for m in per_layer) * 4
    assert q.quantized_bytes == expected
