"""LLMs from a ``transformers`` config object, on meta: parameters by part, KV cache, prefill vs decode,
training memory and FLOPs, all from the model's own forward and backward (no weights, no hub).

This holds the smallest builder the memory work needs (``AutoModelForCausalLM.from_config`` on meta); the
``hf:`` reference loader resolves configs from files.
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any

import torch

from ....errors import ModelRefError
from ....formulas import Cost
from ....memory import dtypes
from ....memory.kv_cache import kv_bytes, state_bytes
from ....memory.llm import PARTS, LLMSizing, MoE, parse_tokens
from ....report.model import Report
from .fused_attention import FusedAttentionOnMeta
from .live import LiveBytes
from .llm_cache import cache_layers, kv_storage_bytes, measured_cache, mla_decode_costs
from .memory import counted, total_cost
from .stand_ins import use_stand_ins


def build_causal_lm(config: Any) -> torch.nn.Module:
    """The config's causal LM on meta, in eval mode."""
    try:
        import transformers
    except ImportError as exc:
        raise ModelRefError("LLM configs need transformers; pip install 'modelmeter[hf]'") from exc
    try:
        with torch.device("meta"):
            model = transformers.AutoModelForCausalLM.from_config(config)
    except Exception as exc:  # noqa: BLE001 - any constructor failure becomes one clear error
        what = type(config).__name__
        raise ModelRefError(f"building a causal LM from {what} raised {type(exc).__name__}: {exc}") from exc
    use_stand_ins(model)
    return model.eval()


_NORMS = (
    torch.nn.LayerNorm,
    torch.nn.GroupNorm,
    torch.nn.RMSNorm,
    torch.nn.LocalResponseNorm,
    torch.nn.modules.batchnorm._BatchNorm,
    torch.nn.modules.instancenorm._InstanceNorm,
)


def _is_norm(module: torch.nn.Module) -> bool:
    """A norm by what it is, not by its class name: a torch norm, or (Llama's RMSNorm, T5's LayerNorm) a module
    with a float epsilon whose own parameters are all 1-D scales/shifts."""
    if isinstance(module, _NORMS):
        return True
    eps = getattr(module, "eps", getattr(module, "variance_epsilon", None))
    own = list(module.parameters(recurse=False))
    return isinstance(eps, float) and bool(own) and all(p.dim() == 1 for p in own)


def _part(path: str, module: torch.nn.Module) -> str:
    segments = path.lower().split(".")
    if isinstance(module, torch.nn.Embedding):
        return "embedding"
    if _is_norm(module):
        return "norm"
    if segments[-1] in ("lm_head", "head", "output"):
        return "head"
    if any("attn" in s or "attention" in s for s in segments):
        return "attention"
    if any(k in s for s in segments for k in ("mlp", "feed_forward", "ffn", "expert", "moe")):
        return "mlp"
    return "other"


def params_by_part(model: torch.nn.Module) -> tuple[dict[str, int], int]:
    """Unique parameter elements by part (a tied head is counted once, with the embedding), and experts'."""
    parts = dict.fromkeys(PARTS, 0)
    seen: set[int] = set()
    expert = 0
    for path, module in model.named_modules():
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            parts[_part(path, module)] += p.numel()
            if "experts" in f"{path}.{name}".split("."):
                expert += p.numel()
    return parts, expert


def _moe(config: Any, total: int, expert_params: int) -> MoE | None:
    experts = next(
        (getattr(config, a) for a in ("num_local_experts", "num_experts", "n_routed_experts") if getattr(config, a, 0)),
        0,
    )
    k = getattr(config, "num_experts_per_tok", 0) or 0
    if not experts or not k or not expert_params:
        return None
    # each token runs k of the E experts: the other (E - k) / E of the expert weights are idle for it
    active = total - expert_params + expert_params * k // experts
    return MoE(experts=experts, experts_per_token=k, expert_params=expert_params, active_params=active)


def _output_cache(out: Any) -> Any:
    """The KV cache a forward returned: ``cache`` since transformers 5.x, ``past_key_values`` before (reading
    the old name on a new output logs a deprecation warning)."""
    fields = getattr(type(out), "__dataclass_fields__", {})
    return out.cache if "cache" in fields else out.past_key_values


def _cache_argument(model: torch.nn.Module) -> str:
    """The forward's name for the cache argument: ``cache`` (new) or ``past_key_values`` (deprecated there)."""
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return "past_key_values"
    return "cache" if "cache" in params else "past_key_values"


def _config_dtype(config: Any, model: torch.nn.Module) -> str:
    # transformers 5 calls it ``dtype``; reading ``torch_dtype`` there logs a deprecation warning, so an older
    # config's ``torch_dtype`` is read from its __dict__
    dt = getattr(config, "dtype", None) or vars(config).get("torch_dtype")
    if dt is None:
        dt = next(model.parameters()).dtype
    return dtypes.canonical(str(dt))


def token_ids(batch: int, seq_len: int) -> torch.Tensor:
    """Meta token ids of shape (batch, seq_len): the input of a causal LM sized by ``llm_summary``."""
    return torch.zeros(batch, seq_len, dtype=torch.long, device="meta")


def with_llm_sizing(
    report: Report,
    model: torch.nn.Module,
    *,
    seq_len: int,
    batch: int = 1,
    kv_dtype: str | None = None,
    tokens: str | int | None = None,
) -> Report:
    """``report`` (of ``model`` on ``batch`` x ``seq_len`` token ids) with ``llm`` and ``memory.kv_cache`` added.

    ``model`` is a transformers causal LM built on meta (``build_causal_lm``, or the ``hf:`` loader); its
    ``config`` gives the cache layout and MoE routing. Runs a prefill and one decode step on meta.
    """
    config = model.config
    ids = torch.zeros(batch, seq_len, dtype=torch.long, device="meta")
    kv_name = dtypes.canonical(kv_dtype) if kv_dtype else _config_dtype(config, model)
    kv_bits = dtypes.BITS[kv_name]
    attention = report.attention  # the per-token figures count attention as the totals do
    with torch.no_grad():
        with FusedAttentionOnMeta(), LiveBytes() as live, counted(model, attention) as prefill:
            out = model(input_ids=ids, use_cache=True)
        cache = _output_cache(out)
        conv_bits = dtypes.BITS[_config_dtype(config, model)]
        kv_elements, state = measured_cache(cache, conv_bits)
        kv = -(-kv_elements * kv_bits // 8)
        # the inference peak holds the cache as built (the model's dtype); at kv_dtype it holds that instead
        peak_delta = live.peak_with(kv_storage_bytes(cache, kv_bits)) - live.peak if kv_dtype else 0
        next_token = torch.zeros(batch, 1, dtype=torch.long, device="meta")
        with counted(model, attention) as decode:  # one token attending to the seq_len tokens in the cache
            model(input_ids=next_token, use_cache=True, **{_cache_argument(model): cache})
    parts, expert = params_by_part(model)
    total = report.totals.params
    training = report.memory.training if report.memory else None
    per_token = training.total_flops // training.tokens if training and training.tokens else None
    macs_per_token = (
        (training.forward_macs + training.backward_macs) // training.tokens if training and training.tokens else None
    )
    prefill_cost, decode_cost = total_cost(prefill), total_cost(decode)
    layers = cache_layers(config)
    mla = mla_decode_costs(config, seq_len + 1)  # the new token attends to the seq_len cached ones and itself
    absorbed = decode_cost + mla[1] + Cost(-mla[0].macs, -mla[0].other_flops) if mla else None
    sizing = LLMSizing(
        params=total,
        params_by_part=tuple(parts.items()),
        moe=_moe(config, total, expert),
        seq_len=seq_len,
        batch=batch,
        kv_dtype=kv_name,
        kv_cache=kv,
        kv_cache_formula=kv_bytes(layers, seq_len, batch, kv_bits) if layers else None,
        prefill_flops_per_token=prefill_cost.flops // (batch * seq_len),
        decode_flops_per_token=decode_cost.flops // batch,
        prefill_macs_per_token=prefill_cost.macs // (batch * seq_len),
        decode_macs_per_token=decode_cost.macs // batch,
        training_flops_per_token=per_token,
        training_macs_per_token=macs_per_token,
        tokens=parse_tokens(tokens) if tokens is not None else None,
        state_cache=state,
        state_cache_formula=state_bytes(layers, batch, conv_bits, 32) if any(x.kind == "ssm" for x in layers) else None,
        decode_absorbed_macs_per_token=absorbed.macs // batch if absorbed else None,
        decode_absorbed_flops_per_token=absorbed.flops // batch if absorbed else None,
    )
    memory = None
    if report.memory is not None:
        peak = report.memory.activations_peak + peak_delta
        memory = replace(report.memory, kv_cache=kv + state, activations_peak=peak)
    return replace(report, memory=memory, llm=sizing)


def is_meta_causal_lm(model: Any) -> bool:
    """A transformers causal LM whose weights are all on meta (built from a config here or by ``hf:``)."""
    head = getattr(model, "get_output_embeddings", None)
    generates = getattr(model, "can_generate", None)
    return (
        isinstance(model, torch.nn.Module)
        and hasattr(model, "config")
        and callable(head)
        and head() is not None
        # a decoder that generates: not BertForMaskedLM (a head, no generation) nor T5 / Whisper (encoder-decoder)
        and callable(generates)
        and bool(generates())
        and not getattr(model.config, "is_encoder_decoder", False)
        and all(p.is_meta for p in model.parameters())
    )


def add_llm_sizing(
    report: Report, model: torch.nn.Module, inputs: Any, kv_dtype: str | None, tokens: str | int | None
) -> Report:
    """:func:`with_llm_sizing` for a report whose input was token ids (B, T) (``input_ids``, or the first
    positional input); the report unchanged for any other input."""
    ids = inputs.kwargs.get("input_ids", inputs.args[0] if inputs.args else None)
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.dtype.is_floating_point:
        return report
    batch, seq_len = int(ids.shape[0]), int(ids.shape[1])
    return with_llm_sizing(report, model, seq_len=seq_len, batch=batch, kv_dtype=kv_dtype, tokens=tokens)
