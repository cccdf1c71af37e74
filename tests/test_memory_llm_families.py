"""Memory of every LLM family (MoE, MLA, state-space, hybrid) from tiny transformers configs, against a real
CPU run of the same model: saved activations (saved-tensor hooks), the inference peak (profiler memory
events), and the KV / state cache against the model's own cache object, byte for byte.

Each real run takes well under a second (tiny widths, 64 tokens).
"""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import modelmeter  # noqa: E402
from modelmeter.frontends.torch.llm import llm_summary  # noqa: E402

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

    report = modelmeter.summary(config, seq_len=T, train=True, device="meta")
    ids = torch.randint(0, VOCAB, (1, T))
    model = real_model(config)
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
