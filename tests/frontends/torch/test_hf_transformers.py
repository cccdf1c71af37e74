"""Hugging Face transformers models built from configs on meta: exact parameter counts and hand-counted MACs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import modelmeter  # noqa: E402
from modelmeter.cli import main  # noqa: E402


def gpt2_lm():
    return transformers.GPT2Config(architectures=["GPT2LMHeadModel"])


def small_llama():
    return transformers.LlamaConfig(
        hidden_size=256, intermediate_size=688, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=4,
        vocab_size=1000, tie_word_embeddings=False, architectures=["LlamaForCausalLM"],
    )  # fmt: skip


def test_gpt2_small_and_bert_base_parameters_exact():
    assert modelmeter.summary(transformers.GPT2Config(), seq_len=8).totals.params == 124_439_808
    r = modelmeter.summary(gpt2_lm(), seq_len=8)  # the LM head is tied to the token embedding: counted once
    assert r.totals.params == 124_439_808
    assert modelmeter.summary(transformers.BertConfig(), seq_len=8).totals.params == 109_482_240  # with pooler


def test_gpt2_macs_at_1024_equal_the_hand_count():
    r = modelmeter.summary(gpt2_lm(), seq_len=1024, device="meta")
    tokens, d, layers, heads, vocab = 1024, 768, 12, 12, 50257
    # per token per layer: c_attn d->3d, attn c_proj d->d, mlp c_fc d->4d, mlp c_proj 4d->d = 12·d² MACs
    linear = layers * tokens * (d * 3 * d + d * d + d * 4 * d + 4 * d * d)
    assert linear == 86_973_087_744
    # scores Q·Kᵀ and weighted values P·V: per layer and head T·T·(64 + 64)
    attention = layers * heads * tokens * tokens * (64 + 64)
    assert attention == 19_327_352_832
    lm_head = tokens * d * vocab
    assert lm_head == 39_523_713_024
    assert r.totals.macs == linear + attention + lm_head == 145_824_153_600
    assert r.uncounted == {}
    ops = {o.op: o.macs for o in r.by_op()}
    assert ops["F.scaled_dot_product_attention"] == attention


def test_gpt2_causal_aware_counts_the_lower_triangle():
    r = modelmeter.summary(gpt2_lm(), seq_len=1024, attention="causal-aware")
    pairs = 1024 * 1025 // 2
    assert r.totals.macs == 86_973_087_744 + 12 * 12 * pairs * 128 + 39_523_713_024
    assert r.attention == "causal-aware"


def test_small_llama_against_its_hand_count():
    d, ffn, layers, heads, kv_heads, vocab, tokens = 256, 688, 2, 8, 4, 1000, 128
    head_dim = d // heads  # 32
    q_o = 2 * d * d  # q_proj and o_proj
    k_v = 2 * d * kv_heads * head_dim  # grouped-query: 4 key/value heads
    mlp = 3 * d * ffn  # gate, up, down
    per_layer = q_o + k_v + mlp + 2 * d  # + two RMSNorm weights
    params = vocab * d + layers * per_layer + d + d * vocab  # embeddings, layers, final norm, untied head
    assert params == 1_963_264
    r = modelmeter.summary(small_llama(), seq_len=tokens)
    assert r.totals.params == params
    attention = layers * heads * tokens * tokens * 2 * head_dim  # every query head, shared key/value heads
    macs = layers * tokens * (q_o + k_v + mlp) + attention + tokens * d * vocab
    assert macs == 235_143_168
    assert r.totals.macs == macs
    assert r.uncounted == {}


@pytest.mark.parametrize(
    "config",
    [
        transformers.BertConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4),
        transformers.T5Config(d_model=64, d_ff=128, num_layers=2, num_heads=4, d_kv=16, vocab_size=500),
        transformers.MistralConfig(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            vocab_size=500, sliding_window=16,
        ),
        transformers.MixtralConfig(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            vocab_size=500, num_local_experts=4,
        ),
        transformers.ViTConfig(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, image_size=32,
            patch_size=8,
        ),
    ],
    ids=lambda c: c.model_type,
)  # fmt: skip
def test_other_architectures_have_no_uncounted_ops_and_agree_on_devices(config):
    meta = modelmeter.summary(config, seq_len=32, device="meta", strict=True)
    cpu = modelmeter.summary(config, seq_len=32, device="cpu", strict=True)
    assert (meta.totals.macs, meta.totals.flops) == (cpu.totals.macs, cpu.totals.flops)
    assert meta.totals.macs > 0


def test_sliding_window_in_causal_aware_mode():
    config = transformers.MistralConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        vocab_size=500, sliding_window=16,
    )  # fmt: skip
    full = modelmeter.summary(config, seq_len=32)
    aware = modelmeter.summary(config, seq_len=32, attention="causal-aware")
    # per head: 32·32 = 1,024 pairs in full; causal with a 16-key window: (1 + ... + 16) + 16·16 = 392
    per_pair = 2 * 4 * (16 + 16)  # layers · heads · (d + d_v)
    assert full.totals.macs - aware.totals.macs == per_pair * (1024 - 392)


def test_hf_reference_from_a_config_file_or_folder(tmp_path, capsys):
    config = transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=500, n_positions=64)
    config.to_json_file(tmp_path / "config.json")
    by_file = modelmeter.summary(f"hf:{tmp_path / 'config.json'}", seq_len=16, batch=2)
    by_folder = modelmeter.summary(f"hf:{tmp_path}", seq_len=16, batch=2)
    assert by_file.totals == by_folder.totals
    assert [i.shape for i in by_file.inputs] == [(2, 16)]
    assert main(["summary", f"hf:{tmp_path}", "--seq-len", "16", "--batch", "2", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["inputs"] == [{"shape": [2, 16], "dtype": "int64"}]
    assert doc["totals"]["macs"] == by_file.totals.macs
    assert doc["uncounted_ops"] == {}


def test_bundled_gpt2_config():
    root = Path(__file__).resolve().parents[3]
    r = modelmeter.summary(f"hf:{root / 'examples' / 'hf' / 'gpt2'}", seq_len=1024)
    assert (r.totals.params, r.totals.macs) == (124_439_808, 145_824_153_600)


def test_hf_reference_errors(tmp_path, capsys):
    assert main(["summary", f"hf:{tmp_path / 'missing'}"]) == 1
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "config.json").write_text('{"hidden_size": 3}')
    assert main(["summary", f"hf:{tmp_path}"]) == 1
    assert "model_type" in capsys.readouterr().err
    with pytest.raises(modelmeter.InputError, match="Hugging Face"):
        modelmeter.summary(torch.nn.Linear(2, 2), input_size=(1, 2), seq_len=4)
