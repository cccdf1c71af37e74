"""The published frontier configs in examples/hf, built on meta (no weights): parameters, MoE active parameters,
weights as the checkpoint stores them and the KV / state cache per token, against the model cards' figures
and hand counts. (The 4k-token inference peaks of docs/memory.md come from benchmarks/frontier_memory.py.)"""

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from modelmeter.frontends.torch.collect.params import totals  # noqa: E402
from modelmeter.frontends.torch.measure.llm import _moe, params_by_part  # noqa: E402
from modelmeter.frontends.torch.measure.llm_cache import cache_layers  # noqa: E402
from modelmeter.frontends.torch.measure.quantized_weights import stored_weights  # noqa: E402
from modelmeter.frontends.torch.references.hf import build_model, load_config  # noqa: E402
from modelmeter.memory.kv_cache import kv_bytes, state_bytes  # noqa: E402

HF = Path(__file__).resolve().parents[4] / "examples" / "hf"
GIB = 2**30


@pytest.fixture(scope="module")
def sized():
    cache = {}

    def get(name):
        if name not in cache:
            config = load_config(str(HF / name))
            model = build_model(config)
            params = totals(model).params
            moe = _moe(config, params, params_by_part(model)[1])
            stored = stored_weights(model)
            cache[name] = {
                "config": config,
                "params": params,
                "active": moe.active_params if moe else params,
                "weights": stored[0] if stored else totals(model).param_bytes,
                "quantization": stored[2] if stored else None,
                "layers": cache_layers(config),
                "embedding": model.get_input_embeddings().weight.numel(),
            }
        return cache[name]

    return get


def test_llama_405b_and_phi3_parameters_by_hand(sized):
    # Llama-3.1-405B: per layer q, o 16384^2, k, v 16384 x 1024 (8 KV heads of 128), MLP 3 x 16384 x 53248, two
    # norms; 126 layers, untied embedding and head 128256 x 16384, final norm
    layer = 2 * 16384 * 16384 + 2 * 16384 * 1024 + 3 * 16384 * 53248 + 2 * 16384
    assert sized("llama-3.1-405b")["params"] == 126 * layer + 2 * 128256 * 16384 + 16384 == 405_853_388_800
    # Phi-3-mini: fused qkv 3072 x 9216, o 3072^2, fused gate_up 3072 x 16384, down 8192 x 3072, two norms
    layer = 3072 * 9216 + 3072 * 3072 + 3072 * 16384 + 8192 * 3072 + 2 * 3072
    assert sized("phi-3-mini-4k")["params"] == 32 * layer + 2 * 32064 * 3072 + 3072 == 3_821_079_552


@pytest.mark.parametrize(
    "name, total, active",
    [
        ("deepseek-v3", 671, 37),  # "671B total parameters with 37B activated" (+14B MTP, not built)
        ("qwen3-235b-a22b", 235, 22),
        ("qwen3-30b-a3b", 30.5, 3.3),
        ("mixtral-8x22b", 141, 39),
        ("jamba-v0.1", 52, 12),
        ("gemma-2-27b", 27, None),
        ("gemma-3-27b", 27, None),  # the text model; the card's 27B includes a 0.4B vision encoder
        ("mamba-2.8b", 2.8, None),
    ],
)
def test_parameters_match_the_model_cards(sized, name, total, active):
    s = sized(name)
    assert abs(s["params"] / 1e9 - total) < 0.6
    if active is not None:
        assert abs(s["active"] / 1e9 - active) < 0.6


@pytest.mark.parametrize(
    "name, total, active, checkpoint_gib", [("gpt-oss-120b", 116.8, 5.1, 60.8), ("gpt-oss-20b", 20.9, 3.6, 12.8)]
)
def test_gpt_oss_mxfp4_checkpoint_size(sized, name, total, active, checkpoint_gib):
    s = sized(name)
    assert abs(s["params"] / 1e9 - total) < 0.05
    # the card counts active parameters without the (untied) embedding, a lookup: 5.71B - 0.58B = 5.13B
    assert abs((s["active"] - s["embedding"]) / 1e9 - active) < 0.05
    # MXFP4 experts (4.25 bits) + bf16 rest: the published checkpoint sizes, 60.8 and 12.8 GiB
    assert abs(s["weights"] / GIB - checkpoint_gib) < 0.05
    assert s["quantization"].tensors == (
        "model.layers.*.mlp.experts.gate_up_proj",
        "model.layers.*.mlp.experts.down_proj",
    )


def test_deepseek_v3_fp8_and_mla_cache(sized):
    s = sized("deepseek-v3")
    # MLA caches (kv_lora_rank 512 + qk_rope_head_dim 64) per layer per token: 576 * 61 * 2 B in bf16
    assert kv_bytes(s["layers"], seq=1, batch=1, bits=16) == 576 * 61 * 2 == 70_272
    # FP8 weights (1 byte) with a float32 scale per 128 x 128 block; embeddings, head, norms, routers in bf16/fp32
    q = s["quantization"]
    assert q.method == "fp8" and "lm_head.weight" not in q.tensors
    scales = q.quantized_bytes - q.quantized_params  # fp8 data is one byte per weight
    assert abs(scales - 4 * q.quantized_params / (128 * 128)) < 0.01 * scales  # a float32 per 128 x 128 block
    assert 0.5 < s["weights"] / (2 * s["params"]) < 0.52  # about half the bf16 size: 627 GiB against 1,250 GiB


def test_state_space_caches(sized):
    # Mamba-2.8B: 64 layers of inner 5120, conv 4, state 16, fp32 (its config's dtype): 26,214,400 B per sequence
    mamba = sized("mamba-2.8b")["layers"]
    assert state_bytes(mamba, batch=1, conv_bits=32, state_bits=32) == 64 * 5120 * (4 + 16) * 4 == 26_214_400
    assert kv_bytes(mamba, seq=4096, batch=1, bits=16) == 0
    # Jamba: 4 attention layers (8 KV heads of 128, bf16), 28 Mamba layers (inner 8192, conv 4 bf16, state 16 fp32)
    jamba = sized("jamba-v0.1")["layers"]
    assert kv_bytes(jamba, seq=1, batch=1, bits=16) == 4 * 2 * 8 * 128 * 2 == 16_384
    assert state_bytes(jamba, batch=1, conv_bits=16, state_bits=32) == 28 * 8192 * (4 * 2 + 16 * 4) == 16_515_072


def test_sliding_window_caches(sized):
    per_layer = 2 * 16 * 128 * 2  # 2 (K, V) x 16 KV heads x 128 x bf16, per token
    # Gemma-2-27B: 23 local layers (window 4096: 4,095 tokens kept) and 23 global, at 4,096 tokens
    assert kv_bytes(sized("gemma-2-27b")["layers"], 4096, 1, 16) == per_layer * (23 * 4095 + 23 * 4096)
    # Gemma-3-27B: 52 local layers (window 1024) and 10 global (every 6th)
    assert kv_bytes(sized("gemma-3-27b")["layers"], 4096, 1, 16) == per_layer * (52 * 1023 + 10 * 4096)
    # gpt-oss-120b: 18 sliding (window 128) and 18 full layers, 8 KV heads of 64
    assert kv_bytes(sized("gpt-oss-120b")["layers"], 4096, 1, 16) == 2 * 8 * 64 * 2 * (18 * 127 + 18 * 4096)
