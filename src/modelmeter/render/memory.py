"""The memory section under the table: formatting only (the numbers are in ``report.memory``)."""

from __future__ import annotations

from .._units import human_bytes, human_count
from ..memory.llm import LLMSizing
from ..memory.report import Memory


def llm_text(llm: LLMSizing) -> str:
    parts = ", ".join(f"{part} {human_count(n)}" for part, n in llm.params_by_part if n)
    lines = [
        f"LLM (batch {llm.batch}, seq {llm.seq_len})",
        f"  params {human_count(llm.params)}: {parts}",
    ]
    if llm.moe is not None:
        m = llm.moe
        lines.append(
            f"  MoE: {m.experts} experts, {m.experts_per_token} per token; active params {human_count(m.active_params)}"
        )
    if llm.state_cache:
        lines.append(f"  state cache (conv + SSM states): {human_bytes(llm.state_cache)}")
    if llm.decode_absorbed_flops_per_token is not None:
        lines.append(
            f"  MLA decode with absorbed weights (serving engines): "
            f"{human_count(llm.decode_absorbed_flops_per_token)} FLOPs per token"
        )
    lines += [
        f"  KV cache ({llm.kv_dtype}): {human_bytes(llm.kv_cache)}",
        f"  FLOPs per token: prefill {human_count(llm.prefill_flops_per_token)}, decode at {llm.seq_len} cached "
        f"{human_count(llm.decode_flops_per_token)}"
        + (f", training {human_count(llm.training_flops_per_token)}" if llm.training_flops_per_token else ""),
    ]
    if llm.tokens is not None and llm.training_flops is not None and llm.six_n_d:
        lines.append(
            f"  {human_count(llm.tokens)} tokens: {human_count(llm.training_flops)}FLOPs measured, 6·N·D "
            f"{human_count(llm.six_n_d)}FLOPs ({llm.training_flops / llm.six_n_d:.2f}x; docs/memory.md says why)"
        )
    return "\n".join(lines) + "\n"


def _kernels(kernels: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{k} x{n}" for k, n in kernels)


def _quantization_lines(mem: Memory) -> list[str]:
    q = mem.quantization
    if q is None:
        return []
    return [
        f"  stored quantized ({q.method}, {q.element_format}): {human_count(q.quantized_params)} weights in "
        f"{human_bytes(q.quantized_bytes)} with scales; tensors: {', '.join(q.tensors)}"
    ]


def memory_text(mem: Memory) -> str:
    what_if = f" (re-priced as {mem.weights_dtype})" if mem.weights_dtype else ""
    by_dtype = ", ".join(f"{d} {human_bytes(b)}" for d, b in mem.weights_by_dtype)
    lines = [
        "Memory",
        f"  weights{what_if}: {human_bytes(mem.weights)}  [{by_dtype}]",
        f"  buffers: {human_bytes(mem.buffers)}",
        *_quantization_lines(mem),
        f"  inference activations, peak: {human_bytes(mem.activations_peak)}",
        f"  inference total (weights + buffers + peak): {human_bytes(mem.inference_total)}",
    ]
    if mem.kv_cache is not None:
        lines.append(f"  KV cache: {human_bytes(mem.kv_cache)}")
    t = mem.training
    if mem.attention_kernels or (t is not None and t.attention_kernels):
        how = "as PyTorch picks on " + ("the CPU" if mem.attention_target == "cpu" else "an sm80+ GPU")
        if mem.attention_kernel != "auto":
            how = f"{mem.attention_kernel} asked for, math where it cannot run"
        lines.append(
            f"  attention kernels ({how}): inference {_kernels(mem.attention_kernels) or 'none'}"
            + (f"; training {_kernels(t.attention_kernels) or 'none'}" if t is not None else "")
        )
    if t is not None:
        lines += [
            f"Training step ({t.optimizer}, {t.precision}{', checkpointing' if t.checkpointing else ''})",
            f"  params {human_bytes(t.params)} + grads {human_bytes(t.grads)} + optimizer "
            f"{human_bytes(t.optimizer_state)} + saved activations {human_bytes(t.activations)} "
            f"= {human_bytes(t.total)}",
            f"  FLOPs: forward {human_count(t.forward_flops)} + backward {human_count(t.backward_flops)}"
            + (f" + recompute {human_count(t.recompute_flops)}" if t.checkpointing else "")
            + f" = {human_count(t.total_flops)} per step"
            + (f", {human_count(t.total_flops / t.samples)} per sample" if t.samples else "")
            + (f", {human_count(t.total_flops / t.tokens)} per token" if t.tokens else ""),
        ]
        if t.backward_uncounted_ops:
            listed = ", ".join(f"{op} x{n}" for op, n in t.backward_uncounted_ops)
            lines.append(f"  backward ops without a formula: {listed}")
        for s in t.sharding:
            lines.append(
                f"  {s.strategy:<5} on {s.gpus} GPUs, per device: {human_bytes(s.total)} "
                f"(params {human_bytes(s.params)}, grads {human_bytes(s.grads)}, optimizer "
                f"{human_bytes(s.optimizer)}, activations {human_bytes(s.activations)})"
            )
    return "\n".join(lines) + "\n"
