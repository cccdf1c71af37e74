"""The roofline estimate (and the measurement beside it) as plain text, under the table."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..roofline.types import Roofline


def seconds(s: float) -> str:
    """1.234e-3 -> '1.234 ms' (three significant-ish digits, the unit that keeps the number readable)."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def rate(x: float, unit: str) -> str:
    for scale, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if x >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def roofline_text(r: Roofline, top: int = 5) -> str:
    lines = [
        f"Roofline on {r.hardware} ({r.title}) at {r.dtype}: peak {rate(r.peak_flops, 'FLOP/s')}, "
        f"{rate(r.bandwidth, 'B/s')}, efficiency {r.efficiency:.0%}; ridge {r.ridge:.1f} FLOP/B",
        f"  forward         {seconds(r.time_s)}  (mostly {r.bound}-bound; per layer max(FLOPs/peak, bytes/bandwidth), "
        f"summed), attainable {rate(r.attainable_flops, 'FLOP/s')}",
    ]
    slow = sorted(r.layers, key=lambda x: -x.time_s)[:top]
    if slow:
        lines.append(
            "  slowest layers  " + "; ".join(f"{x.name or '(model)'} {seconds(x.time_s)} {x.bound}" for x in slow)
        )
    if r.llm is not None:
        m = r.llm
        lines.append(
            f"  LLM             prefill {m.batch}x{m.seq_len} tokens {seconds(m.prefill_time_s)}; decode per token "
            f"(KV cache {m.kv_len} tokens) {seconds(m.decode_time_s)}, {m.decode_bound}-bound -> "
            f"{m.tokens_per_s:,.1f} tokens/s"
        )
    if r.training is not None:
        t = r.training
        lines.append(f"  training step   {seconds(t.step_time_s)} at {r.efficiency:.0%} of peak; MFU {t.mfu:.1%}")
    if r.measured is not None:
        meas = r.measured
        lines.append(
            f"  measured        {seconds(meas.median_s)} median on {meas.device} "
            f"({meas.runs} runs after {meas.warmup} warm-up; "
            f"min {seconds(meas.min_s)}, IQR {seconds(meas.iqr_s)})"
        )
        if meas.ratio is not None and meas.estimate_s is not None:
            lines.append(
                f"  measured / estimate  {meas.ratio:.2f} ({seconds(meas.median_s)} vs {seconds(meas.estimate_s)}); "
                f"calibrated efficiency {meas.calibrated_efficiency:.3f}"
            )
        lines.append(
            f"  per-layer sum   {seconds(meas.layers_sum_s)} over {len(meas.layers)} leaf layers "
            f"(per run, the leaves add up to {meas.layers_share:.0%} of the hooked forward, median "
            f"{seconds(meas.hooked_median_s)})"
        )
    return "\n".join(lines) + "\n"
