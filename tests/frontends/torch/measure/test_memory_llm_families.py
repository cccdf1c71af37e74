"""Memory of every LLM family (MoE, MLA, state-space, hybrid) from tiny transformers configs, against a real
CPU run of the same model: saved activations (saved-tensor hooks), the inference peak (profiler memory
events), and the KV / state cache against the model's own cache object, byte for byte.

Each real run takes well under a second (tiny widths, 64 tokens).
"""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import modelmeter  # noqa: E402
from modelmeter import llm_summary  # noqa: E402

T = 64  # tokens in every run
VOCAB = 1000


class Logits(torch.nn.Module):
    """The causal LM as the real runs call it: token ids in, logits out (the cache built as configured)."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, x):
        return self.m(input_ids=x).logits


def real_model(config):
    torch.manual_seed(0)
    return transformers.AutoModelForCausalLM.from_config(config)


def assert_matches_a_real_cpu_run(config, *, saved_tol=0.10, peak_tol=0.10):
    """modelmeter's saved activations and inference peak (meta) within tolerance of a real CPU run."""
    from test_memory_torch import profiled_peak, real_saved_bytes

    model = real_model(config)
    config.architectures = [type(model).__name__]  # the hf loader builds the causal LM, as the real run
    report = modelmeter.summary(config, seq_len=T, train=True, device="meta")
    ids = torch.randint(0, VOCAB, (1, T))
    real_saved = real_saved_bytes(Logits(model), ids)
    real_peak = profiled_peak(Logits(model), ids)
    saved, peak = report.memory.training.activations, report.memory.activations_peak
    assert abs(saved - real_saved) <= saved_tol * real_saved, (saved, real_saved)
    assert abs(peak - real_peak) <= peak_tol * real_peak, (peak, real_peak)
    return report


# -- 1. mixture of experts ---------------------------------------------------------------------------------
def tiny_mixtral():
    return transformers.MixtralConfig(
        vocab_size=VOCAB, hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, num_local_experts=8, num_experts_per_tok=2,
    )  # fmt: skip


def tiny_qwen3_moe():
    return transformers.Qwen3MoeConfig(
        vocab_size=VOCAB, hidden_size=128, intermediate_size=256, moe_intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=32, num_experts=8, num_experts_per_tok=2,
    )  # fmt: skip


def tiny_gpt_oss():
    return transformers.GptOssConfig(
        vocab_size=VOCAB, hidden_size=128, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, num_local_experts=8, num_experts_per_tok=2, sliding_window=16,
        layer_types=["sliding_attention", "full_attention"],
    )  # fmt: skip


@pytest.mark.parametrize("make", [tiny_mixtral, tiny_qwen3_moe, tiny_gpt_oss], ids=["mixtral", "qwen3moe", "gptoss"])
def test_moe_memory_equals_a_real_cpu_run(make):
    """The experts run as transformers runs them by default (grouped matmuls): no gathered copy of each routed
    token's expert weights counted as activations (the batched_mm path made the tiny Mixtral's saved tensors
    1.6 GB against 16 MB measured)."""
    report = assert_matches_a_real_cpu_run(make())
    assert report.uncounted == {}


def test_moe_prefill_macs_are_the_active_experts():
    r = llm_summary(tiny_mixtral(), seq_len=T, train=False)
    attention = 128 * 128 + 128 * 64 + 128 * 64 + 128 * 128  # q, k, v (2 KV heads of 32), o = 49,152
    router = 128 * 8
    experts = 2 * (128 * 2 * 256 + 256 * 128)  # k = 2 experts, each gate+up (128 -> 512) and down (256 -> 128)
    scores = 2 * T * 128  # Q·Kᵀ and P·V over T keys, per layer
    assert r.llm.prefill_macs_per_token == 2 * (attention + router + experts + scores) + 128 * VOCAB


def test_six_n_d_uses_the_active_parameters():
    r = llm_summary(tiny_mixtral(), seq_len=16, train=False, tokens="1B")
    experts = 2 * 8 * 3 * 128 * 256  # layers * experts * (gate, up, down) * d * ff = 1,572,864
    active = r.totals.params - experts + experts * 2 // 8  # a token runs 2 of the 8 experts
    assert r.llm.moe.active_params == active
    assert r.llm.six_n_d == 6 * active * 10**9 < 6 * r.totals.params * 10**9


def real_cache_bytes(config):
    """Bytes of every tensor in the cache object a real CPU prefill of T tokens returns (keys, values, conv and
    recurrent states), each storage once."""
    model = real_model(config)
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, VOCAB, (1, T)), use_cache=True).past_key_values
    seen = {}
    for layer in cache.layers:
        for value in vars(layer).values():
            for t in value.values() if isinstance(value, dict) else [value]:
                if isinstance(t, torch.Tensor) and t.dim() > 0:
                    seen[id(t)] = t.numel() * t.element_size()
    return sum(seen.values())


# -- 2. multi-head latent attention (DeepSeek-V3) ------------------------------------------------------------
R, ROPE, NOPE, V_DIM, HEADS = 32, 16, 32, 24, 4  # kv_lora_rank, qk_rope, qk_nope, v_head_dim, heads


def tiny_deepseek_v3():
    """2 layers (the first dense, the second 8 routed experts + 1 shared, top-2), MLA with a narrower value head
    (24) than query/key head (32 + 16)."""
    return transformers.DeepseekV3Config(
        vocab_size=VOCAB, hidden_size=128, intermediate_size=256, moe_intermediate_size=64, num_hidden_layers=2,
        first_k_dense_replace=1, num_attention_heads=HEADS, num_key_value_heads=HEADS, n_routed_experts=8,
        num_experts_per_tok=2, n_shared_experts=1, n_group=2, topk_group=1, kv_lora_rank=R, q_lora_rank=48,
        qk_rope_head_dim=ROPE, qk_nope_head_dim=NOPE, v_head_dim=V_DIM,
    )  # fmt: skip


def test_mla_memory_and_training_equal_a_real_cpu_run():
    """--memory / --train used to crash: the fused-attention stand-in returned the query's head dim (48) where
    the values have 24. The CPU runs such attention through the math backend, and so does meta now."""
    report = assert_matches_a_real_cpu_run(tiny_deepseek_v3())
    assert report.uncounted == {}


def test_mla_cache_is_the_latent_per_token():
    r = llm_summary(tiny_deepseek_v3(), seq_len=T, train=False)
    # (kv_lora_rank + qk_rope_head_dim) per layer per token: (32 + 16) * 2 layers * 64 tokens * 4 B = 24,576,
    # not 2 * heads * (48 + 24) per token as full attention would keep
    assert r.llm.kv_cache == r.llm.kv_cache_formula == (R + ROPE) * 2 * T * 4 == 24_576
    assert r.llm.kv_cache == real_cache_bytes(tiny_deepseek_v3())
    # DeepSeek-V3 in bf16: (512 + 64) * 61 layers * 2 B = 70,272 B per token
    from modelmeter.memory.kv_cache import LayerCache, kv_bytes

    assert kv_bytes([LayerCache("mla", per_token=512 + 64)] * 61, seq=1, batch=1, bits=16) == 70_272


def test_mla_decode_counts_the_expansion_and_states_the_absorbed_figure():
    at = {t: llm_summary(tiny_deepseek_v3(), seq_len=t, train=False).llm for t in (T, T + 32)}
    # what transformers runs: each decode step re-expands the whole latent cache through kv_b_proj
    # (context * r * H * (nope + v)) and attends with full heads (H * context * (nope + rope + v)); 32 more
    # cached tokens add, over 2 layers: 2 * (32*32*4*56 + 4*32*72) = 477,184 MACs
    assert at[T + 32].decode_macs_per_token - at[T].decode_macs_per_token == 2 * (32 * R * HEADS * 56 + HEADS * 32 * 72)
    # absorbed weights: scores against the latent and rotary key, sums of latents: 2 * 4 * 32 * (32 + 16 + 32)
    absorbed = at[T + 32].decode_absorbed_macs_per_token - at[T].decode_absorbed_macs_per_token
    assert absorbed == 2 * HEADS * 32 * (R + ROPE + R) == 20_480
    # the two differ by exactly the attention core: context = 65 (the new token and 64 cached), per layer
    # expanded 65*32*4*56 + 4*65*72 = 484,640; absorbed 4*32*32 + 4*65*80 + 4*32*24 = 27,968
    llm = at[T]
    assert llm.decode_macs_per_token - llm.decode_absorbed_macs_per_token == 2 * (484_640 - 27_968)
    assert llm.decode_flops_per_token - llm.decode_absorbed_flops_per_token == 4 * (484_640 - 27_968)


def test_mla_decode_formulas_for_deepseek_v3():
    from modelmeter.formulas import formula

    v3 = (128, 512, 128, 64, 128, 4096)  # heads, kv_lora_rank, qk_nope, qk_rope, v_head_dim, context
    # re-expanding 4,096 latents: 4096*512*128*(128+128); attending with full heads: 128*4096*(128+64+128)
    assert formula("mla_decode_expanded")(*v3).macs == 68_719_476_736 + 167_772_160
    # absorbed: 128*128*512 (query into latent space) + 128*4096*(512+64+512) + 128*512*128 (values out)
    assert formula("mla_decode_absorbed")(*v3).macs == 8_388_608 + 570_425_344 + 8_388_608 == 587_202_560


# -- 3. state-space layers (Mamba) and a hybrid (Jamba) ------------------------------------------------------
INNER, D_STATE, D_CONV = 128, 8, 4  # Mamba: expand 2 x hidden 64, state size 8, conv kernel 4


def tiny_mamba():
    return transformers.MambaConfig(
        vocab_size=VOCAB, hidden_size=64, state_size=D_STATE, num_hidden_layers=2, expand=2, conv_kernel=D_CONV
    )


def tiny_jamba():
    """4 layers: Mamba, Mamba, attention, Mamba (attn_layer_period 4, offset 2); experts on layers 1 and 3."""
    return transformers.JambaConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, num_experts=4, num_experts_per_tok=2, expert_layer_period=2, expert_layer_offset=1,
        attn_layer_period=4, attn_layer_offset=2, mamba_d_state=D_STATE, mamba_d_conv=D_CONV, mamba_expand=2,
        use_mamba_kernels=False,
    )  # fmt: skip


@pytest.mark.parametrize("make", [tiny_mamba, tiny_jamba], ids=["mamba", "jamba"])
def test_state_space_memory_equals_a_real_cpu_run(make):
    report = assert_matches_a_real_cpu_run(make())
    assert report.uncounted == {}
    # the scan's backward is counted (twice the forward's MACs), and softplus' gradient has a formula
    assert report.memory.training.backward_uncounted_ops == ()


def test_mamba_state_cache_is_conv_plus_ssm_state():
    r = llm_summary(tiny_mamba(), seq_len=T, train=False)
    # per layer: conv state inner x d_conv + SSM state inner x d_state, fp32, whatever the length:
    # 2 layers * 128 * (4 + 8) * 4 B = 12,288
    assert r.llm.state_cache == r.llm.state_cache_formula == 2 * INNER * (D_CONV + D_STATE) * 4 == 12_288
    assert r.llm.kv_cache == 0 and r.memory.kv_cache == 12_288
    assert r.llm.state_cache == real_cache_bytes(tiny_mamba())
    # Mamba-2.8B: 64 layers, inner 5120, conv 4, state 16, fp32: 26,214,400 B per sequence
    from modelmeter.memory.kv_cache import LayerCache, state_bytes

    layer = LayerCache("ssm", conv=5120 * 4, state=5120 * 16)
    assert state_bytes([layer] * 64, batch=1, conv_bits=32, state_bits=32) == 26_214_400


def test_jamba_cache_has_attention_and_mamba_layers():
    r = llm_summary(tiny_jamba(), seq_len=T, train=False)
    # the one attention layer: 2 (K, V) * 2 KV heads * 16 (64 / 4 heads) * 64 tokens * 4 B = 16,384
    assert r.llm.kv_cache == r.llm.kv_cache_formula == 2 * 2 * 16 * T * 4 == 16_384
    # the three Mamba layers: 3 * 128 * (4 + 8) * 4 B = 18,432
    assert r.llm.state_cache == r.llm.state_cache_formula == 3 * INNER * (D_CONV + D_STATE) * 4 == 18_432
    assert r.llm.kv_cache + r.llm.state_cache == real_cache_bytes(tiny_jamba())


def test_scan_is_one_op_and_costs_what_the_loop_costs():
    """The selective scan counted as one op: fast at any length, with the reference loop's MACs (one per state
    element per token, y_t = h_t · C_t)."""
    import time

    short = llm_summary(tiny_mamba(), seq_len=16, train=False)  # first use: imports, op registration
    start = time.perf_counter()
    r = llm_summary(tiny_mamba(), seq_len=1024, train=False)
    assert time.perf_counter() - start < 5  # 0.4 s; the step-by-step loop on meta took 16-20 s here
    assert short.llm.state_cache == r.llm.state_cache  # the state does not grow with the sequence
    assert r.uncounted == {}
    # per layer and token: in_proj 64 -> 256 (16,384), depthwise conv 128 * 4 (512), x_proj 128 -> 4 + 8 + 8
    # (2,560), dt_proj 4 -> 128 (512), scan 128 * 8 (1,024), out_proj 128 -> 64 (8,192) = 29,184; two layers and
    # the head 64 -> 1000: 122,368 per token. The causal conv also runs on its 3 padding positions: 2 * 128 * 4 * 3
    per_token = 2 * (16_384 + 512 + 2_560 + 512 + INNER * D_STATE + 8_192) + 64 * VOCAB
    assert per_token == 122_368
    assert r.llm.prefill_macs_per_token == (1024 * per_token + 2 * INNER * D_CONV * 3) // 1024
    scan = next(op for op in r.ops if op.op == "modelmeter.selective_scan")
    assert (scan.calls, scan.macs) == (2, 2 * 1024 * INNER * D_STATE)  # one call per layer


# -- 7. per-token figures, cache formulas per layer type, --kv-dtype in the peak -----------------------------
def test_per_token_figures_follow_causal_aware_totals():
    from test_memory_llm import llama

    cfg = llama(architectures=["LlamaForCausalLM"])
    full = modelmeter.summary(cfg, seq_len=128, batch=2, memory=True)
    causal = modelmeter.summary(cfg, seq_len=128, batch=2, memory=True, attention="causal-aware")
    for r in (full, causal):
        assert r.llm.prefill_macs_per_token == r.totals.macs // (2 * 128)
    # causal-aware keeps 128 * 129 / 2 of the 128 * 128 (query, key) pairs: per token and layer, the scores and
    # weighted values (2 * 256 MACs per pair) over 64.5 keys instead of 128, over 4 layers
    saved = full.llm.prefill_macs_per_token - causal.llm.prefill_macs_per_token
    assert saved == 4 * 2 * 256 * (128 * 128 - 128 * 129 // 2) // 128


def tiny_gemma3():
    """6 layers: five local (sliding window 16) and one global, Gemma-3's 5:1 pattern."""
    return transformers.Gemma3TextConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=6, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, sliding_window=16,
    )  # fmt: skip


def test_kv_cache_formula_per_layer_type():
    # gpt-oss: one sliding layer (window 16: transformers keeps the last 15 tokens) and one full layer, each
    # 2 (K, V) * 2 KV heads * 32 * 4 B per token: (15 + 64) * 512 = 40,448
    gpt = llm_summary(tiny_gpt_oss(), seq_len=T, train=False).llm
    assert gpt.kv_cache == gpt.kv_cache_formula == (15 + T) * 2 * 2 * 32 * 4 == 40_448
    assert gpt.kv_cache == real_cache_bytes(tiny_gpt_oss())
    # Gemma-3: five local layers keep 15 tokens, the global one all 64; 2 * 2 KV heads * 16 * 4 B per token
    gemma = llm_summary(tiny_gemma3(), seq_len=T, train=False).llm
    assert gemma.kv_cache == gemma.kv_cache_formula == (5 * 15 + T) * 2 * 2 * 16 * 4 == 35_584
    assert gemma.kv_cache == real_cache_bytes(tiny_gemma3())


def test_kv_dtype_prices_the_cache_in_the_inference_peak():
    from test_memory_llm import llama

    fp32 = llm_summary(llama(), seq_len=128, batch=2, train=False)
    fp8 = llm_summary(llama(), seq_len=128, batch=2, train=False, kv_dtype="fp8")
    # 2 * 4 layers * 2 KV heads * 32 * 128 tokens * batch 2 = 131,072 cache elements, alive at the peak (the logits)
    assert (fp32.llm.kv_cache, fp8.llm.kv_cache) == (131_072 * 4, 131_072)
    assert fp32.memory.activations_peak - fp8.memory.activations_peak == 131_072 * 3
