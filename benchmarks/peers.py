"""modelmeter against the peer tools, in one run: the figures each reports and the time each takes.

    .venv/bin/pip install -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/peers.py [--repeat 3] [--out benchmarks/results/peers.md]

Ratios are to modelmeter: a count ratio of 1.00 agrees with modelmeter (which matches torchvision's published
`_ops` where one exists, shown in the `published` column); a time ratio of 3.0 means three times slower.
Peers run real CPU forwards (they do not support meta); modelmeter runs on meta. A peer that is not
installed or that fails is reported as such, never skipped silently.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import seed_models  # noqa: E402

import modelmeter  # noqa: E402


class LSTMTagger(nn.Module):
    """2-layer LSTM over 50 steps: 2 layers x 50 steps x 4 gates x (64+128 | 128+128) x 128 MACs."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(64, 128, num_layers=2, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


def torchvision(name: str) -> Callable[[], nn.Module]:
    import torchvision.models as tvm

    return lambda: tvm.get_model(name).eval()


MODELS: list[tuple[str, Callable[[], nn.Module], tuple[int, ...], float | None]] = [
    ("lenet5", seed_models.LeNet5, (1, 1, 32, 32), None),
    ("alexnet-seed001", seed_models.AlexNetNoBias, (1, 3, 224, 224), None),
    ("resnet50", torchvision("resnet50"), (1, 3, 224, 224), 4.089),
    ("mobilenet_v3_large", torchvision("mobilenet_v3_large"), (1, 3, 224, 224), 0.217),
    ("vit_b_16", torchvision("vit_b_16"), (1, 3, 224, 224), 17.564),
    ("lstm-2x128", LSTMTagger, (1, 50, 64), None),
]


def run_modelmeter(model: nn.Module, size: tuple[int, ...]) -> tuple[int, int]:
    r = modelmeter.summary(model, input_size=size)
    return r.totals.params, r.totals.macs


def run_thop(model: nn.Module, size: tuple[int, ...]) -> tuple[int, int]:
    from thop import profile

    macs, params = profile(copy.deepcopy(model), inputs=(torch.randn(size),), verbose=False)
    return int(params), int(macs)


def run_torchinfo(model: nn.Module, size: tuple[int, ...]) -> tuple[int, int]:
    from torchinfo import summary

    s = summary(copy.deepcopy(model), input_size=size, verbose=0, device="cpu")
    return int(s.total_params), int(s.total_mult_adds)


def run_ptflops(model: nn.Module, size: tuple[int, ...]) -> tuple[int, int]:
    from ptflops import get_model_complexity_info

    macs, params = get_model_complexity_info(
        copy.deepcopy(model), tuple(size[1:]), as_strings=False, print_per_layer_stat=False, verbose=False
    )
    return int(params), int(macs)


def run_fvcore(model: nn.Module, size: tuple[int, ...]) -> tuple[int, int]:
    from fvcore.nn import FlopCountAnalysis, parameter_count

    m = copy.deepcopy(model)
    analysis = FlopCountAnalysis(m, (torch.randn(size),))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(parameter_count(m)[""]), int(analysis.total())


def run_flop_counter(model: nn.Module, size: tuple[int, ...]) -> tuple[int, int]:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.randn(size))
    # FlopCounterMode reports FLOPs (2 per MAC) and no params
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


TOOLS: dict[str, Callable[[nn.Module, tuple[int, ...]], tuple[int, int]]] = {
    "modelmeter": run_modelmeter,
    "thop": run_thop,
    "torchinfo": run_torchinfo,
    "ptflops": run_ptflops,
    "fvcore": run_fvcore,
    "torch FlopCounterMode": run_flop_counter,
}


def timed(fn: Callable[[], tuple[int, int]], repeat: int) -> tuple[tuple[int, int], float]:
    best = float("inf")
    result = (0, 0)
    for _ in range(repeat):
        start = time.perf_counter()
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):  # peers print a lot
            result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "peers.md")
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for name, build, size, published in MODELS:
        model = build()
        mm_macs, mm_time = 0, 0.0
        for tool, fn in TOOLS.items():  # modelmeter first: its row is the baseline of the ratios
            try:
                (params, macs), seconds = timed(lambda m=model, s=size, f=fn: f(m, s), args.repeat)
                if tool == "modelmeter":
                    mm_macs, mm_time = macs, seconds
                rows.append(
                    {
                        "model": name,
                        "tool": tool,
                        "params": params,
                        "macs": macs,
                        "published_gmacs": published,
                        "macs_ratio": macs / mm_macs if mm_macs else None,
                        "seconds": seconds,
                        "time_ratio": seconds / mm_time,
                        "error": None,
                    }
                )
            except Exception as exc:  # noqa: BLE001 - a peer failing is a result, not a crash
                rows.append({"model": name, "tool": tool, "error": f"{type(exc).__name__}: {str(exc)[:80]}"})
        print(f"{name}: done", file=sys.stderr)
    lines = [
        f"# modelmeter vs peers (torch {torch.__version__}, best of {args.repeat}, CPU; modelmeter on meta)",
        "",
        "| model | tool | params | MACs | MACs / modelmeter | published GMACs | seconds | time / modelmeter |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["error"]:
            lines.append(f"| {r['model']} | {r['tool']} | failed: {r['error']} | | | | | |")
            continue
        pub = f"{r['published_gmacs']:.3f}" if r["published_gmacs"] else ""
        lines.append(
            f"| {r['model']} | {r['tool']} | {r['params']:,} | {r['macs']:,} | {r['macs_ratio']:.3f} | {pub} "
            f"| {r['seconds']:.3f} | {r['time_ratio']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(text)


if __name__ == "__main__":
    main()
