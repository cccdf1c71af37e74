"""Estimated vs measured latency on this machine's CPU (docs/hardware.md records the output).

    PYTHONPATH=src python benchmarks/roofline_cpu.py [--runs 30] [--out benchmarks/results/roofline_cpu.json]

Probes the CPU (the ``cpu`` profile), then for each model: the roofline estimate on that profile, the measured
median forward (warm-up, then timed runs), measured / estimate, and how much of the hooked forward the per-layer
times add up to. The machine's load is printed with the results: timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

import modelmeter
from modelmeter.hardware.probe import probe_cpu

MODELS = ("torchvision:resnet18", "torchvision:mobilenet_v3_small")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/results/roofline_cpu.json")
    a = ap.parse_args()
    cpu = probe_cpu()
    results = {
        "torch": torch.__version__, "threads": torch.get_num_threads(), "load_average": os.getloadavg(),
        "cpu": cpu.to_dict(), "models": {},
    }  # fmt: skip
    print(cpu.title, "|", cpu.source)
    for ref in MODELS:
        r = modelmeter.summary(ref, measure=True, hardware="cpu", runs=a.runs, warmup=a.warmup)
        roof, m = r.roofline, r.roofline.measured
        row = {
            "flops": r.totals.flops, "bytes": r.totals.read_bytes + r.totals.write_bytes,
            "estimate_s": roof.time_s, "bound": roof.bound, "compute_time_s": roof.compute_time_s,
            "memory_time_s": roof.memory_time_s, "measured_median_s": m.median_s, "measured_min_s": m.min_s,
            "iqr_s": m.iqr_s, "ratio": m.ratio, "calibrated_efficiency": m.calibrated_efficiency,
            "layers_sum_s": m.layers_sum_s, "hooked_median_s": m.hooked_median_s, "layers_share": m.layers_share,
            "leaf_layers": len(m.layers),
        }  # fmt: skip
        results["models"][ref] = row
        print(f"{ref}: estimate {roof.time_s * 1e3:.2f} ms ({roof.bound}-bound), measured median "
              f"{m.median_s * 1e3:.2f} ms (min {m.min_s * 1e3:.2f}, IQR {m.iqr_s * 1e3:.2f}), ratio {m.ratio:.2f}, "
              f"leaves {m.layers_share:.1%} of the hooked forward")  # fmt: skip
    results["load_average_after"] = os.getloadavg()
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
