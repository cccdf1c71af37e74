"""The memory section under the table: formatting only (the numbers are in ``report.memory``)."""

from __future__ import annotations

from .._units import human_bytes, human_count
from ..memory.report import Memory


def memory_text(mem: Memory) -> str:
    what_if = f" (re-priced as {mem.weights_dtype})" if mem.weights_dtype else ""
    by_dtype = ", ".join(f"{d} {human_bytes(b)}" for d, b in mem.weights_by_dtype)
    lines = [
        "Memory",
        f"  weights{what_if}: {human_bytes(mem.weights)}  [{by_dtype}]",
        f"  buffers: {human_bytes(mem.buffers)}",
        f"  inference activations, peak: {human_bytes(mem.activations_peak)}",
        f"  inference total (weights + buffers + peak): {human_bytes(mem.inference_total)}",
    ]
    if mem.kv_cache is not None:
        lines.append(f"  KV cache: {human_bytes(mem.kv_cache)}")
    t = mem.training
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
