"""`modelmeter compare`: pattern expansion, failing models in their rows, filters, sorting, every format."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelmeter.cli import main
from modelmeter.errors import ModelRefError
from modelmeter.frontends.torch.references import patterns
from modelmeter.memory import Memory
from modelmeter.render import comparison
from modelmeter.report import compare as cmp
from modelmeter.report.model import Report

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
SEEDS = "examples/seed_models.py"
# params of the seed models, hand counts in examples/seed_models.py
SEED_PARAMS = {"Dense215": 21, "Conv3to16": 448, "LeNet5": 61_706, "BatchNormCNN": 136_970,
               "MnistCNN": None, "AlexNetNoBias": 61_264_904}  # fmt: skip


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["compare", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_expand_patterns():
    assert patterns.expand(["torchvision:resnet*"]) == [f"torchvision:resnet{n}" for n in (101, 152, 18, 34, 50)]
    seeds = patterns.expand([f"{SEEDS}:*"])
    assert sorted(s.rpartition(":")[2] for s in seeds) == sorted(SEED_PARAMS)
    # plain references stay as given, in order; a model named twice is analysed once
    assert patterns.expand([f"{SEEDS}:LeNet5", "torchvision:resnet18", f"{SEEDS}:Le*"]) == [
        f"{SEEDS}:LeNet5",
        "torchvision:resnet18",
    ]
    assert len(patterns.expand(["torchvision:*"])) == len(patterns.torchvision_classification_models()) >= 80


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("torchvision:resnt*", "matches none of torchvision's classification models"),
        (f"{SEEDS}:Nothing*", "matches none of the nn.Module classes"),
        ("missing.py:*", "no such file"),
        ("hub:*", "patterns work for torchvision:PATTERN, timm:PATTERN and FILE.py:PATTERN"),
    ],
)
def test_a_pattern_that_matches_nothing_is_an_error(pattern: str, message: str):
    with pytest.raises(ModelRefError, match=message):
        patterns.expand([pattern])


def test_seed_zoo_json_is_the_sorted_list_of_report_documents(capsys):
    rc, out, _ = _run(capsys, f"{SEEDS}:*", "--format", "json")
    assert rc == 0
    docs = json.loads(out)
    assert [d["schema"] for d in docs] == ["modelmeter/1"] * len(SEED_PARAMS)
    macs = [d["totals"]["macs"] for d in docs]
    assert macs == sorted(macs)  # --sort macs is the default
    by_name = {d["model"].rpartition(":")[2]: d for d in docs}
    for name, params in SEED_PARAMS.items():
        if params is not None:
            assert by_name[name]["totals"]["params"] == params, name
    assert by_name["AlexNetNoBias"]["totals"]["macs"] == 861_301_280  # seed 001's figure (thop's MACs)
    import modelmeter

    first = f"{SEEDS}:{docs[0]['model'].rpartition(':')[2]}"
    assert docs[0] == modelmeter.summary(first, memory=True).to_dict()  # compare measures memory by default


def test_activation_peak_column_by_default_and_not_with_no_memory(capsys):
    rc, out, _ = _run(capsys, f"{SEEDS}:LeNet5", "--format", "csv")
    assert rc == 0 and "activations_peak" in out.splitlines()[0]
    rc, out, _ = _run(capsys, f"{SEEDS}:LeNet5", "--format", "csv", "--no-memory")
    assert rc == 0 and "activations_peak" not in out.splitlines()[0]


def test_max_params_answers_the_phone_question(capsys):
    rc, out, _ = _run(capsys, f"{SEEDS}:*", "--max-params", "100K", "--sort", "params", "--format", "csv")
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    kept = [(r["model"].rpartition(":")[2], int(r["params"])) for r in rows]
    assert kept == [("Dense215", 21), ("Conv3to16", 448), ("LeNet5", 61_706)]  # 136,970 > 100K is out


def test_max_macs_and_reverse(capsys):
    # seed MACs: Dense215 2*5 + 5*1 = 15, LeNet5 416,520, BatchNormCNN 1.75 M, Conv3to16 21.3 M, ...
    rc, out, _ = _run(capsys, f"{SEEDS}:*", "--max-macs", "500K", "--sort", "macs", "--reverse", "--format", "csv")
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["model"].rpartition(":")[2], int(r["macs"])) for r in rows] == [("LeNet5", 416_520), ("Dense215", 15)]


def test_bad_count_is_a_usage_error(capsys):
    rc, _, err = _run(capsys, f"{SEEDS}:LeNet5", "--max-params", "lots")
    assert rc == 2 and err.startswith("error: --max-params 'lots' is not a count")


BROKEN = """
import torch
from torch import nn

class Good(nn.Module):
    input_size = (1, 4)
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
    def forward(self, x):
        return self.fc(x)

class Broken(nn.Module):
    input_size = (1, 4)
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 2)
    def forward(self, x):
        return self.fc(x)   # (1, 4) @ (5, 2): a shape mismatch
"""


def test_a_failing_model_is_reported_in_its_row(tmp_path: Path, capsys):
    net = tmp_path / "nets.py"
    net.write_text(BROKEN)
    rc, out, err = _run(capsys, f"{net}:*", str(tmp_path / "absent.py:X"), "--format", "json")
    docs = json.loads(out)
    assert rc == 1 and err.strip() == "error: 2 of 3 models failed; their rows say why"
    assert docs[0]["model"] == "nets.py:Good" and docs[0]["totals"]["macs"] == 4 * 2  # 1 x 4 x 2
    failed = {d["model"]: d["error"] for d in docs[1:]}
    assert "forward failed in module 'fc'" in failed[f"{net}:Broken"]
    assert "no such file" in failed[str(tmp_path / "absent.py:X")]
    # the table names each failure under it, one line each
    rc, out, _ = _run(capsys, f"{net}:*")
    assert rc == 1 and "nets.py:Good" in out and "error (below)" in out
    assert f"{net}:Broken: the model's forward failed" in out


def _entry(name: str, macs: int, peak: int | None) -> cmp.CompareEntry:
    doc = json.loads((ROOT / "tests" / "golden" / "lenet5.json").read_text())
    base = Report.from_dict({**doc, "model": name, "totals": {**doc["totals"], "macs": macs}})
    memory = None if peak is None else Memory(weights=0, weights_by_dtype=(), buffers=0, activations_peak=peak)
    return cmp.CompareEntry(name, report=dataclasses.replace(base, memory=memory))


def test_activation_peak_column_appears_when_reports_have_it():
    plain = [_entry("a", 10, None), _entry("b", 5, None)]
    assert "activations_peak" not in [c.key for c in comparison.columns(plain)]
    entries = [_entry("a", 10, 3000), _entry("b", 5, 1 << 20), _entry("c", 7, None)]
    assert "activations_peak" in [c.key for c in comparison.columns(entries)]
    ordered = cmp.select(entries, sort="activations_peak")
    assert [e.name for e in ordered] == ["a", "b", "c"]  # c has no figure: last
    assert "1.00 MiB" in comparison.render_markdown(ordered)


def test_torchvision_resnets_with_published_accuracy(capsys):
    import torchvision.models as tvm

    rc, out, _ = _run(capsys, "torchvision:resnet*", "--sort", "acc@1", "--reverse", "--format", "csv")
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    acc = [float(r["acc@1"]) for r in rows]
    assert acc == sorted(acc, reverse=True)
    for r in rows:
        meta = tvm.get_model_weights(r["model"].partition(":")[2]).DEFAULT.meta
        assert int(r["params"]) == meta["num_params"]  # torchvision's published parameter count
        assert round(int(r["macs"]) / 1e9, 3) == pytest.approx(meta["_ops"], abs=0.0011)  # _ops is GMACs, 3 decimals
        assert float(r["acc@1"]) == meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert rows[0]["model"] == "torchvision:resnet152" and rows[-1]["model"] == "torchvision:resnet18"


def test_every_format_shows_the_same_models(capsys, tmp_path: Path):
    refs = [f"{SEEDS}:LeNet5", f"{SEEDS}:Dense215", f"{SEEDS}:Conv3to16"]
    expected = ["Dense215", "LeNet5", "Conv3to16"]  # by MACs: 15 < 416,520 < 21,288,448
    outputs = {}
    for fmt in ("table", "markdown", "csv", "json", "html"):
        target = tmp_path / f"out.{fmt}"
        assert main(["compare", *refs, "--format", fmt, "-o", str(target)]) == 0
        outputs[fmt] = target.read_text()
    for fmt, text in outputs.items():
        positions = [text.find(f"seed_models.py:{n}") for n in expected]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), fmt
    assert "416.52 K" in outputs["markdown"] and "416.52 K" in outputs["table"] and "416520" in outputs["csv"]
    html = outputs["html"]
    assert html.count('<circle class="pt"') == 3 and "Accuracy against MACs" not in html  # no accuracy published
    assert html.count('class="model-row"') == 3 and "https:" not in html


def test_html_plots_accuracy_when_published(capsys, tmp_path: Path):
    target = tmp_path / "c.html"
    assert main(["compare", "torchvision:resnet18", "torchvision:resnet34", "--format", "html", "-o", str(target)]) == 0
    html = target.read_text()
    assert "Accuracy against MACs" in html and html.count('<circle class="pt"') == 4  # 2 models x 2 charts


def test_progress_bar_on_a_terminal():
    # rich draws its live bar only on a terminal: make stderr count as one (TTY_COMPATIBLE: rich>=14;
    # FORCE_COLOR: older rich), and not a dumb one (CI may set TERM=dumb)
    terminal = {"TTY_COMPATIBLE": "1", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    env = {**os.environ, **terminal, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "modelmeter", "compare", f"{SEEDS}:Dense215", f"{SEEDS}:LeNet5", "--format", "csv"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "2/2" in out.stderr and "seed_models.py:LeNet5" in out.stderr  # rich's bar: count and current model
    assert out.stdout.startswith("model,params,macs")  # the bar goes to stderr, the result to stdout


def test_api_compare_filters_sorts_and_keeps_failures():
    import modelmeter

    done: list[str] = []
    entries = modelmeter.compare(
        [f"{SEEDS}:*", "missing.py:X"], max_params=100_000, sort="params", on_done=lambda e: done.append(e.ref)
    )
    assert [(e.name.rpartition(":")[2], e.figure("params")) for e in entries[:-1]] == [
        ("Dense215", 21),
        ("Conv3to16", 448),
        ("LeNet5", 61_706),
    ]
    assert entries[-1].report is None and "no such file" in (entries[-1].error or "")
    assert len(done) == len(SEED_PARAMS) + 1  # every model analysed, before the filter
