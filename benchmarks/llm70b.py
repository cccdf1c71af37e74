"""A 70B-class Llama sized end to end on meta: parameters, FLOPs at seq 2048, KV cache, training memory.

    .venv/bin/python benchmarks/llm70b.py [--seq-len 2048] [--out benchmarks/results/llm70b.json]

The config is Llama-3-70B's architecture (Meta's published config.json: d 8192, 80 layers, 64 heads, 8 KV
heads, MLP 28672, vocab 128256, untied head), built from a config object with ``transformers``: no weights,
no hub. Everything runs on meta, so the process stays small; the script records the wall time of the analysis
(after imports) and the peak resident memory of the whole process (``ru_maxrss``, imports included).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--tokens", default="15T", help="training token budget (Llama 3 used about 15T)")
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()

    t_import = time.perf_counter()
    import torch
    import transformers

    from modelmeter import llm_summary
    from modelmeter._units import human_bytes, human_count

    imported = time.perf_counter() - t_import
    config = transformers.LlamaConfig(
        vocab_size=128256, hidden_size=8192, intermediate_size=28672, num_hidden_layers=80,
        num_attention_heads=64, num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0,
        tie_word_embeddings=False, dtype="bfloat16",
    )  # fmt: skip
    start = time.perf_counter()
    report = llm_summary(
        config, seq_len=args.seq_len, batch=args.batch, tokens=args.tokens, train=True,
        optimizer="adamw", precision="bf16-mixed", gpus=args.gpus,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB

    llm, mem = report.llm, report.memory
    assert llm is not None and mem is not None and mem.training is not None
    t = mem.training
    figures = {
        "config": "Llama-3-70B architecture",
        "seq_len": args.seq_len,
        "batch": args.batch,
        "params": report.totals.params,
        "params_by_part": dict(llm.params_by_part),
        "forward_macs": report.totals.macs,
        "forward_flops": report.totals.flops,
        "kv_cache_bytes": llm.kv_cache,
        "kv_dtype": llm.kv_dtype,
        "prefill_flops_per_token": llm.prefill_flops_per_token,
        "decode_flops_per_token": llm.decode_flops_per_token,
        "training": t.to_dict(),
        "token_budget": llm.to_dict().get("token_budget"),
        "seconds": round(seconds, 2),
        "import_seconds": round(imported, 2),
        "peak_rss_bytes": peak_rss,
        "uncounted_ops": dict(report.uncounted_ops),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"params            {human_count(report.totals.params)} ({report.totals.params:,})")
    print(
        f"forward @ {args.seq_len:<6}  {human_count(report.totals.flops)}FLOPs ({human_count(report.totals.macs)}MACs)"
    )
    print(f"KV cache          {human_bytes(llm.kv_cache)} ({llm.kv_dtype}, batch {args.batch}, seq {args.seq_len})")
    print(
        f"training step     {human_bytes(t.total)} = params {human_bytes(t.params)} + grads {human_bytes(t.grads)}"
        f" + AdamW {human_bytes(t.optimizer_state)} + activations {human_bytes(t.activations)} (bf16-mixed)"
    )
    for s in t.sharding:
        print(f"  {s.strategy:<5} x{s.gpus}: {human_bytes(s.total)} per GPU")
    print(f"time              {seconds:.2f} s (imports {imported:.2f} s)")
    print(f"peak RSS          {human_bytes(peak_rss)}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
