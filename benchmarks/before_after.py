"""modelmeter's own times, this tree against another checkout (the baseline), on the issue's targets.

    .venv/bin/python benchmarks/before_after.py --baseline /path/to/other/checkout/src [--repeat 3]

Each measurement runs in a fresh child process (``PYTHONPATH`` = one tree's ``src``), so peak RSS is the
process's own; the trees alternate case by case and repetition by repetition (interleaved), and the table shows
medians. Times are of the analysis after imports and a warm-up call (each child times three calls and keeps
the median: a call may pay for a collection of the whole heap that an earlier one's garbage triggered), except
the CLI rows (whole process).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# the child: build the case, warm up, time one call, print {"seconds", "rss"}
CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import torch
torch.set_num_threads(1)
import modelmeter
case = sys.argv[1]

def llama(size):
    import transformers
    dims = {"70b": (8192, 28672, 80, 64), "405b": (16384, 53248, 126, 128)}[size]
    return transformers.LlamaConfig(
        vocab_size=128256, hidden_size=dims[0], intermediate_size=dims[1], num_hidden_layers=dims[2],
        num_attention_heads=dims[3], num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0,
        tie_word_embeddings=False, dtype="bfloat16")

class LSTMTagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(64, 128, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(128, 10)
    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)

name, _, mode = case.partition("+")
kw = {"memory": {"memory": True}, "train": {"train": True, "precision": "bf16-mixed", "gpus": 8}}.get(mode, {})
if name.startswith("llama"):
    config = llama(name.removeprefix("llama"))
    run = lambda: modelmeter.summary(config, seq_len=2048, **kw)
    modelmeter.summary(config, seq_len=8, **kw)  # warm-up: imports and first calls, at a small size
elif name.startswith("lstm"):
    model, steps = LSTMTagger(), int(name.removeprefix("lstm"))
    kw = {"train": True} if mode == "train" else kw
    run = lambda: modelmeter.summary(model, (1, steps, 64), **kw)
    modelmeter.summary(model, (1, 8, 64), **kw)
else:
    import torchvision.models as tvm
    model = tvm.get_model(name).eval()
    run = lambda: modelmeter.summary(model, (1, 3, 224, 224), **kw)
    run()
times = []
for _ in range(3):  # the median of three calls: one may pay a garbage collection of the whole heap (0.15 s)
    start = time.perf_counter()
    run()
    times.append(time.perf_counter() - start)
seconds = sorted(times)[1]
print(json.dumps({"seconds": seconds, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

CASES = [
    "resnet50", "mobilenet_v3_large", "efficientnet_b0", "vit_b_16",
    "lstm50", "lstm4000", "lstm4000+train",
    "llama70b", "llama70b+memory", "llama70b+train", "llama405b+memory", "llama405b+train",
]  # fmt: skip
CLI = {
    "cli --version": ["--version"],
    "cli summary lenet5.yaml": ["summary", str(ROOT / "examples" / "specs" / "lenet5.yaml")],
    # a user's own nn.Module (no torchvision or transformers imported): the first analysis in a fresh process
    "cli summary LeNet5 (.py)": ["summary", f"{ROOT / 'examples' / 'seed_models.py'}:LeNet5", "--input", "1,1,32,32"],
    "cli compare 'torchvision:*'": ["compare", "torchvision:*", "--format", "json"],
}


def _child(src: str, case: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": src}
    proc = subprocess.run([sys.executable, "-c", CHILD, case], capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:120]}  # type: ignore[dict-item]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cli(src: str, args: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": src}
    start = time.perf_counter()
    cmd = [sys.executable, "-c", "import sys; from modelmeter.cli import main; sys.exit(main())", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    seconds = time.perf_counter() - start
    return {"seconds": seconds} if proc.returncode in (0, 1) else {"error": proc.stderr[-120:]}  # type: ignore


def render(found: dict[str, dict[str, list[dict[str, float]]]], names: list[str]) -> str:
    """The table: median milliseconds per tree (a 1 ms case reads as 1.2, not 0.001 s), their ratio, peak RSS."""
    lines = [
        "| case | before ms | after ms | after / before | peak RSS before | peak RSS after |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        cells = []
        for tree in ("before", "after"):
            ok = [r for r in found[name][tree] if "seconds" in r]
            cells.append((statistics.median(r["seconds"] for r in ok) if ok else None,
                          max((r.get("rss", 0) for r in ok), default=0)))  # fmt: skip
        (b, rb), (a, ra) = cells
        ratio = f"{a / b:.2f}" if a and b else ""
        mib = lambda x: f"{x / 2**20:.0f} MiB" if x else ""  # noqa: E731
        ms = lambda x: f"{x * 1e3:,.1f}" if x else "failed"  # noqa: E731
        lines.append(f"| {name} | {ms(b)} | {ms(a)} | {ratio} | {mib(rb)} | {mib(ra)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="the other checkout's src directory (required unless --render)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "before_after.json")
    parser.add_argument("--render", action="store_true", help="only redo the table from the --out JSON")
    args = parser.parse_args()
    if args.render:
        found = json.loads(args.out.read_text(encoding="utf-8"))
        text = render(found, list(found))
        args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
        print(text)
        return 0
    if not args.baseline:
        parser.error("--baseline is required (the other checkout's src directory)")
    trees = {"before": args.baseline, "after": str(ROOT / "src")}
    names = [c for c in [*CASES, *CLI] if args.only is None or args.only in c]
    found: dict[str, dict[str, list[dict[str, float]]]] = {n: {t: [] for t in trees} for n in names}
    for rnd in range(args.repeat):
        for name in names:
            for tree, src in trees.items():
                got = _cli(src, CLI[name]) if name in CLI else _child(src, name)
                found[name][tree].append(got)
                print(f"round {rnd} {name} {tree}: {got}", file=sys.stderr)
    text = render(found, names)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
