"""LLM sizing from transformers config objects, on meta, against hand counts."""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import modelmeter  # noqa: E402
from modelmeter import llm_summary  # noqa: E402

# A small Llama with grouped-query attention: d = 256, 8 heads of 32, 2 KV heads, 4 layers, MLP 512, vocab 1000
L, D, HEADS, KV_HEADS, HEAD_DIM, FF, VOCAB = 4, 256, 8, 2, 32, 512, 1000


def llama(**kw):
    return transformers.LlamaConfig(
        vocab_size=VOCAB, hidden_size=D, intermediate_size=FF, num_hidden_layers=L, num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS, tie_word_embeddings=False, **kw,
    )  # fmt: skip


@pytest.fixture(scope="module")
def small():
    return llm_summary(llama(), seq_len=128, batch=2, tokens="1B", train=True, optimizer="adamw", precision="fp32")


def test_params_by_part_hand_count(small):
    parts = dict(small.llm.params_by_part)
    attention = L * (D * D + D * KV_HEADS * HEAD_DIM * 2 + D * D)  # q, k, v (GQA: 2 heads of 32), o = 655,360
    mlp = L * 3 * D * FF  # gate, up, down = 1,572,864
    norm = L * 2 * D + D  # two RMSNorms per layer + the final one = 2,304
    assert parts == {
        "embedding": VOCAB * D, "attention": attention, "mlp": mlp, "norm": norm, "head": D * VOCAB, "other": 0,
    }  # fmt: skip
    assert small.llm.params == small.totals.params == sum(parts.values()) == 2_742_528
    assert small.llm.moe is None


def test_kv_cache_gqa_hand_count(small):
    # 2 (K and V) * layers * kv_heads * head_dim * seq * batch * bytes: fp32, as the config gives no dtype
    expected = 2 * L * KV_HEADS * HEAD_DIM * 128 * 2 * 4
    assert expected == 524_288
    assert small.llm.kv_cache == small.llm.kv_cache_formula == small.memory.kv_cache == expected
    bf16 = llm_summary(llama(dtype="bfloat16"), seq_len=128, batch=2, train=False)
    assert bf16.llm.kv_dtype == "bfloat16" and bf16.llm.kv_cache == expected // 2
    int8 = llm_summary(llama(), seq_len=128, batch=2, kv_dtype="int8", train=False)
    assert int8.llm.kv_cache == expected // 4


def test_prefill_decode_and_training_macs_per_token(small):
    n_matmul = L * (D * D * 2 + D * KV_HEADS * HEAD_DIM * 2) + L * 3 * D * FF + D * VOCAB  # weights in matmuls
    # prefill, per token: every matmul weight once, plus scores and weighted values over T = 128 keys per layer
    assert small.llm.prefill_macs_per_token == n_matmul + 2 * L * 128 * D
    # decode with 128 tokens cached: the new token attends to 129 keys
    assert small.llm.decode_macs_per_token == n_matmul + 2 * L * 129 * D
    # training: backward does twice the forward's MACs (grad of inputs and of weights), so 3x in all;
    # in FLOPs that is PaLM's 6·N + 12·L·T·d per token (appendix B), N counting matmul weights only
    assert small.llm.training_macs_per_token == 3 * (n_matmul + 2 * L * 128 * D)
    assert 2 * small.llm.training_macs_per_token == 6 * n_matmul + 12 * L * 128 * D == 16_478_208
    # FLOPs add the other arithmetic the registry counts (bias adds, norms, activations, softmax)
    assert small.llm.training_flops_per_token >= 2 * small.llm.training_macs_per_token


def test_token_budget_beside_6nd(small):
    budget = small.llm.to_dict()["token_budget"]
    assert budget["tokens"] == 10**9
    assert budget["six_n_d"] == 6 * 2_742_528 * 10**9
    assert budget["training_flops"] == small.llm.training_flops_per_token * 10**9


def test_training_memory_of_a_small_llm(small):
    t = small.memory.training
    n = 2_742_528
    assert (t.params, t.grads, t.optimizer_state) == (4 * n, 4 * n, 8 * n)  # AdamW fp32: 16 bytes per param
    assert t.tokens == 256 and t.activations > 0
    assert t.total == 16 * n + t.activations


def test_tied_head_counted_once():
    r = llm_summary(
        transformers.LlamaConfig(
            vocab_size=VOCAB, hidden_size=D, intermediate_size=FF, num_hidden_layers=1, num_attention_heads=HEADS,
            num_key_value_heads=KV_HEADS, tie_word_embeddings=True,
        ),
        seq_len=8, train=False,
    )  # fmt: skip
    parts = dict(r.llm.params_by_part)
    assert parts["head"] == 0 and parts["embedding"] == VOCAB * D
    assert r.totals.params == sum(parts.values())


def tiny_mixtral():
    """2 layers, d 128, ff 256, 4 heads over 2 KV heads, 8 experts with 2 active per token."""
    return transformers.MixtralConfig(
        vocab_size=VOCAB, hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, num_local_experts=8, num_experts_per_tok=2, dtype="bfloat16",
    )  # fmt: skip


def test_moe_total_and_active_params():
    cfg = tiny_mixtral()
    r = llm_summary(cfg, seq_len=16, train=False)
    experts = 2 * 8 * 3 * 128 * 256  # layers * experts * (gate, up, down) * d * ff = 1,572,864
    moe = r.llm.moe
    assert moe.experts == 8 and moe.experts_per_token == 2 and moe.expert_params == experts
    # a token runs 2 of the 8 experts: 6/8 of the expert weights are idle for it
    assert moe.active_params == r.totals.params - experts + experts * 2 // 8


def test_llama_on_meta_equals_a_real_cpu_run():
    """Saved activations and inference peak of a tiny Llama (GQA, causal mask, SDPA): meta vs a real CPU run.

    On meta, PyTorch would pick SDPA's math backend and save the T x T probabilities; modelmeter runs the fused
    kernel a real device picks (fused_attention.py), so both see the same tensors.
    """
    from test_memory_torch import profiled_peak, real_saved_bytes

    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(
        transformers.LlamaConfig(
            vocab_size=500, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, tie_word_embeddings=False,
        )
    )  # fmt: skip
    ids = torch.randint(0, 500, (2, 16))
    report = modelmeter.summary(model, input_data={"input_ids": ids}, train=True, device="meta")

    class Logits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(input_ids=x).logits

    assert report.device == "meta"
    assert report.memory.training.activations == real_saved_bytes(Logits(model), ids)
    real_peak = profiled_peak(Logits(model), ids)
    assert abs(report.memory.activations_peak - real_peak) <= 0.10 * real_peak


def test_moe_flops_per_token_count_only_the_active_experts():
    cfg = tiny_mixtral()
    r = llm_summary(cfg, seq_len=16, train=False)
    assert r.uncounted == {}  # the experts' matmuls and the router's histc are counted
    attention = 128 * 128 + 128 * 64 + 128 * 64 + 128 * 128  # q, k, v (2 KV heads of 32), o = 49,152
    router = 128 * 8
    experts = 2 * (128 * 2 * 256 + 256 * 128)  # k = 2 experts, each gate+up (128 -> 512) and down (256 -> 128)
    scores = 2 * 16 * 128  # Q·Kᵀ and P·V over 16 keys, per layer
    per_token = 2 * (attention + router + experts + scores) + 128 * VOCAB
    assert r.llm.prefill_macs_per_token == per_token


def test_hf_reference_on_the_command_line(tmp_path, capsys):
    import json

    from modelmeter.cli import main

    llama(architectures=["LlamaForCausalLM"]).save_pretrained(tmp_path)
    code = main([
        "summary", f"hf:{tmp_path}", "--seq-len", "128", "--batch", "2", "--train", "--tokens", "1B",
        "--kv-dtype", "fp8", "--format", "json",
    ])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    # fp8: 1 byte per element: 2 * 4 layers * 2 KV heads * 32 * 128 tokens * batch 2 = 131,072 bytes
    assert doc["memory"]["kv_cache"] == doc["llm"]["kv_cache"] == 131_072
    assert doc["llm"]["params_by_part"]["attention"] == L * (2 * D * D + 2 * D * KV_HEADS * HEAD_DIM)
    assert doc["llm"]["token_budget"]["six_n_d"] == 6 * 2_742_528 * 10**9
    assert doc["memory"]["training"]["tokens"] == 256
