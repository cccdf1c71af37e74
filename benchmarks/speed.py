"""modelmeter's speed beside every peer installable here and the bare forward, with each tool's counts.

    .venv/bin/pip install -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/speed.py [--repeat 3] [--out docs/benchmarks-speed.md]

Every tool counts the same model on the same input (batch 1). The runs are *interleaved*: each repetition
times every (model, tool) pair once, after one warm-up round that is not counted; the table shows the median
of the repetitions. Within a round the tools of a model run in a shuffled order (seeded by the round): in a
fixed order the first tool always ran right after the bare meta forward (180 ms of Python on the LSTM, which
leaves every cache cold) and paid for it in every round (modelmeter's LSTM median: 1.8 ms there, 1.6 ms after
thop). On a shared machine the absolute times move with the load, so compare the ratios within one run
(``x floor``: the tool's median over the cheaper of the bare CPU and bare meta forward of the same model).
Peers run a real CPU forward (torchinfo, thop, ptflops, fvcore, calflops, torchprofile,
FlopCounterMode); modelmeter runs where ``device="auto"`` picks. Counts are shown as each tool reports them
(params, and MACs: FLOPs / 2 for the tools that report FLOPs); a tool that fails is reported with its error.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import platform
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import modelmeter  # noqa: E402


class LSTMTagger(nn.Module):
    """2-layer LSTM over 50 steps: 2 layers x 50 steps x 4 gates x (64+128 | 128+128) x 128 MACs + the head."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(64, 128, num_layers=2, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out)


@dataclass
class Case:
    name: str
    model: nn.Module
    inputs: tuple[Any, ...]  # real CPU tensors
    published: str = ""  # params / GMACs as published, for reading the counts


def torchvision_case(name: str) -> Case:
    import torchvision.models as tvm

    weights = tvm.get_model_weights(name).DEFAULT
    meta = weights.meta
    published = f"{meta['num_params'] / 1e6:.2f} M / {meta['_ops']:.3f} G (torchvision)"
    return Case(name, tvm.get_model(name).eval(), (torch.randn(1, 3, 224, 224),), published)


def hf_case(name: str, config: Any, published: str, seq: int = 128) -> Case:
    import transformers

    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config).eval()
    model.config.use_cache = False
    return Case(name, model, (torch.randint(0, config.vocab_size, (1, seq)),), published)


def cases() -> list[Case]:
    import transformers

    gpt2 = transformers.GPT2Config(use_cache=False)
    llama = transformers.LlamaConfig(  # a Llama-style decoder of GPT-2's size (RoPE, RMSNorm, SwiGLU, GQA)
        vocab_size=32000, hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
        num_key_value_heads=4, use_cache=False,
    )  # fmt: skip
    return [
        *(torchvision_case(n) for n in ("resnet50", "mobilenet_v3_large", "efficientnet_b0", "vit_b_16")),
        *(torchvision_case(n) for n in ("swin_t", "convnext_tiny")),
        hf_case("gpt2 (seq 128)", gpt2, "124.44 M (OpenAI GPT-2 small)"),
        hf_case("llama-style 12x768 (seq 128)", llama, ""),
        Case("lstm 2x128, 50 steps", LSTMTagger(), (torch.randn(1, 50, 64),), ""),
    ]


# -- the tools: each returns (params, MACs) ------------------------------------------------------------------
def _modelmeter(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    r = modelmeter.summary(m, input_data=x)
    return r.totals.params, r.totals.macs


def _torchinfo(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    from torchinfo import summary

    s = summary(m, input_data=list(x), verbose=0, device="cpu")
    return int(s.total_params), int(s.total_mult_adds)


def _thop(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    from thop import profile

    macs, params = profile(m, inputs=x, verbose=False)
    return int(params), int(macs)


def _ptflops(backend: str) -> Callable[[nn.Module, tuple[Any, ...]], tuple[int, int]]:
    def run(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
        from ptflops import get_model_complexity_info

        macs, params = get_model_complexity_info(
            m, tuple(x[0].shape[1:]), input_constructor=lambda _: x[0],
            as_strings=False, print_per_layer_stat=False, verbose=False, backend=backend,
        )  # fmt: skip
        return int(params or 0), int(macs or 0)

    return run


def _fvcore(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    from fvcore.nn import FlopCountAnalysis, parameter_count

    analysis = FlopCountAnalysis(m, x)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(parameter_count(m)[""]), int(analysis.total())  # fvcore's "flops" are MACs


def _flop_counter(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        m(*x)
    return sum(p.numel() for p in m.parameters()), counter.get_total_flops() // 2


def _calflops(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    from calflops import calculate_flops

    flops, macs, params = calculate_flops(m, args=list(x), output_as_string=False, print_results=False)
    return int(params), int(macs)


def _torchprofile(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    from torchprofile import profile_macs

    return sum(p.numel() for p in m.parameters()), int(profile_macs(m, x))


def _bare_cpu(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    with torch.no_grad():
        m(*x)
    return 0, 0


def _bare_meta(m: nn.Module, x: tuple[Any, ...]) -> tuple[int, int]:
    with torch.no_grad():
        m(*x)
    return 0, 0


TOOLS: dict[str, Callable[[nn.Module, tuple[Any, ...]], tuple[int, int]]] = {
    "modelmeter": _modelmeter,
    "torchinfo": _torchinfo,
    "thop": _thop,
    "ptflops (pytorch)": _ptflops("pytorch"),
    "ptflops (aten)": _ptflops("aten"),
    "fvcore": _fvcore,
    "FlopCounterMode": _flop_counter,
    "calflops": _calflops,
    "torchprofile": _torchprofile,
    "bare CPU forward": _bare_cpu,
    "bare meta forward": _bare_meta,
}
FLOORS = ("bare CPU forward", "bare meta forward")


def _prepared(case: Case, tool: str) -> tuple[nn.Module, tuple[Any, ...]]:
    """A fresh copy for tools that add hooks or buffers; meta copies for the bare meta forward."""
    if tool == "bare meta forward":
        model = copy.deepcopy(case.model).to("meta")
        return model, tuple(t.to("meta") for t in case.inputs)
    if tool in ("modelmeter", "bare CPU forward", "FlopCounterMode"):
        return case.model, case.inputs  # these leave the model as it was
    return copy.deepcopy(case.model), case.inputs


def measure(all_cases: list[Case], repeat: int) -> dict[tuple[str, str], dict[str, Any]]:
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for rnd in range(repeat + 1):  # round 0 warms up (imports, caches, first-call costs) and is not counted
        for case in all_cases:
            order = list(TOOLS.items())
            random.Random(rnd).shuffle(order)  # no tool always follows the same neighbour (see the docstring)
            for tool, fn in order:
                slot = results.setdefault((case.name, tool), {"times": [], "counts": None, "error": None})
                if slot["error"]:
                    continue
                model, inputs = _prepared(case, tool)
                try:
                    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        start = time.perf_counter()
                        counts = fn(model, inputs)
                        seconds = time.perf_counter() - start
                except Exception as exc:  # noqa: BLE001 - a peer failing is a result
                    slot["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:90] if str(exc) else ''}"
                    continue
                slot["counts"] = counts
                if rnd:
                    slot["times"].append(seconds)
            print(f"round {rnd}: {case.name}", file=sys.stderr)
    return results


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    names = ["torch", "torchvision", "transformers", "torchinfo", "thop", "ptflops", "fvcore", "calflops",
             "torchprofile"]  # fmt: skip
    found = []
    for n in names:
        try:
            found.append(f"{n} {version(n)}")
        except PackageNotFoundError:
            found.append(f"{n} (not installed)")
    return ", ".join(found)


def render(all_cases: list[Case], results: dict[tuple[str, str], dict[str, Any]], repeat: int) -> str:
    import os

    cpu = platform.processor() or platform.machine()
    lines = [
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}; "
        f"median of {repeat} interleaved rounds after a warm-up round; torch threads: {torch.get_num_threads()}.",
        f"Versions: {_versions()}.",
        "",
    ]
    for case in all_cases:
        timed = {t: results[case.name, t]["times"] for t in TOOLS}
        medians = {t: statistics.median(times) for t, times in timed.items() if times}
        floor = min(medians.get(f, float("inf")) for f in FLOORS)
        peers = [medians[t] for t in TOOLS if t not in FLOORS and t != "modelmeter" and t in medians]
        lines += [
            f"### {case.name}" + (f" (published: {case.published})" if case.published else ""),
            "",
            "| tool | median ms | x floor | x modelmeter | params | MACs |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        mm = medians.get("modelmeter")
        for tool in TOOLS:
            slot = results[case.name, tool]
            if slot["error"]:
                lines.append(f"| {tool} | failed: {slot['error']} | | | | |")
                continue
            t = medians[tool]
            params, macs = slot["counts"]
            counts = "| |" if tool in FLOORS else f"| {params:,} | {macs:,} |"
            ratio = f"{t / mm:.2f}" if mm else ""
            lines.append(f"| {tool} | {t * 1e3:.1f} | {t / floor:.2f} | {ratio} {counts}")
        fastest = min(peers) if peers else float("nan")
        lines += ["", f"modelmeter / fastest peer: {mm / fastest:.2f}; modelmeter / floor: {mm / floor:.2f}", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="counted rounds (median); one more warms up")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads for every tool")
    parser.add_argument("--only", default=None, help="run only the models whose name contains this")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed.md")
    args = parser.parse_args()
    torch.manual_seed(0)
    # one intra-op thread for every tool: on a shared machine a thread pool spinning against other processes
    # makes real compute erratic (a 1 ms LSTM forward took seconds); all tools get the same setting
    torch.set_num_threads(args.threads)
    all_cases = [c for c in cases() if args.only is None or args.only in c.name]
    results = measure(all_cases, args.repeat)
    text = render(all_cases, results, args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    raw = {f"{m} | {t}": v for (m, t), v in results.items()}
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
