"""The memory table of docs/memory.md: every frontier config in examples/hf sized on meta at 4k tokens.

    .venv/bin/python benchmarks/frontier_memory.py [--seq-len 4096] [--only NAME ...] [--out FILE]

For each published config (examples/hf/NAME/config.json, copied from the model's Hugging Face repository):
parameters, MoE active parameters, weights as the checkpoint stores them (``quantization_config``), the KV or
state cache per token at the sequence length, and the inference peak of one prefill of ``seq_len`` tokens
(weights + buffers + activation peak, the cache it builds included), through the library's ``summary``,
exactly as ``modelmeter summary hf:examples/hf/NAME --seq-len 4096 --memory`` does. Everything runs on meta;
the script records each model's wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# published figures, with where they are published (model cards); None where the card gives none
PUBLISHED: dict[str, dict[str, object]] = {
    "deepseek-v3": {"params": "671B (+14B MTP module)", "active": "37B", "source": "DeepSeek-V3 model card"},
    "qwen3-235b-a22b": {"params": "235B", "active": "22B", "source": "Qwen3-235B-A22B model card"},
    "qwen3-30b-a3b": {"params": "30.5B", "active": "3.3B", "source": "Qwen3-30B-A3B model card"},
    "llama-3.1-405b": {"params": "405B", "source": "Llama 3.1 model card"},
    "gemma-2-27b": {"params": "27B", "source": "Gemma 2 model card"},
    "gemma-3-27b": {"params": "27B (with the 0.4B vision encoder)", "source": "Gemma 3 model card"},
    "gpt-oss-120b": {"params": "116.8B", "active": "5.1B", "weights": "60.8 GiB", "source": "gpt-oss model card"},
    "gpt-oss-20b": {"params": "20.9B", "active": "3.6B", "weights": "12.8 GiB", "source": "gpt-oss model card"},
    "mamba-2.8b": {"params": "2.8B", "source": "Mamba paper (Gu & Dao 2023)"},
    "jamba-v0.1": {"params": "52B", "active": "12B", "source": "Jamba-v0.1 model card"},
    "phi-3-mini-4k": {"params": "3.8B", "source": "Phi-3 technical report"},
    "mixtral-8x22b": {"params": "141B", "active": "39B", "source": "Mixtral 8x22B announcement"},
}


def size(name: str, seq_len: int) -> dict[str, object]:
    import modelmeter

    start = time.perf_counter()
    r = modelmeter.summary(f"hf:{ROOT / 'examples' / 'hf' / name}", seq_len=seq_len, memory=True)
    llm, mem = r.llm, r.memory
    cache = llm.kv_cache + llm.state_cache
    return {
        "model": name,
        "params": r.totals.params,
        "active_params": llm.moe.active_params if llm.moe else r.totals.params,
        "weights_stored": mem.weights,
        "weights_by_format": dict(mem.weights_by_dtype),
        "quantized": mem.quantization.to_dict() if mem.quantization else None,
        "kv_cache": llm.kv_cache,
        "kv_cache_formula": llm.kv_cache_formula,
        "state_cache": llm.state_cache,
        "cache_bytes_per_token": cache // seq_len,
        "activations_peak": mem.activations_peak,
        "inference_total": mem.inference_total,
        "prefill_flops_per_token": llm.prefill_flops_per_token,
        "decode_flops_per_token": llm.decode_flops_per_token,
        "decode_absorbed_flops_per_token": llm.decode_absorbed_flops_per_token,
        "seq_len": seq_len,
        "seconds": round(time.perf_counter() - start, 1),
        "published": PUBLISHED.get(name, {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=4096)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "frontier_memory.json")
    args = parser.parse_args()
    names = args.only or sorted(PUBLISHED)
    rows = []
    for name in names:
        row = size(name, args.seq_len)
        gib = 2**30
        print(
            f"{name:16} params {row['params'] / 1e9:8.2f}B active {row['active_params'] / 1e9:7.2f}B "
            f"weights {row['weights_stored'] / gib:8.1f} GiB cache/token {row['cache_bytes_per_token']:>9,} B "
            f"peak {row['inference_total'] / gib:8.1f} GiB ({row['seconds']} s)",
            flush=True,
        )
        rows.append(row)
    if args.out:
        old = json.loads(args.out.read_text()) if args.out.exists() and args.only else {"models": []}
        kept = [m for m in old["models"] if m["model"] not in names]
        args.out.write_text(json.dumps({"models": kept + rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
