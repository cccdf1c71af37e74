"""`modelmeter compare` on a pattern naming many models uses every core, its worker server started early; the
console script's fast exit keeps the output and the exit code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")

from modelmeter import _api, _parallel  # noqa: E402
from modelmeter.cli import POOL_MIN_MODELS, main  # noqa: E402


@pytest.fixture
def recorded(monkeypatch):
    seen: dict[str, object] = {"prestart": []}
    monkeypatch.setattr(_parallel, "usable_cores", lambda: 2)
    monkeypatch.setattr(_parallel, "prestart", lambda preload: seen["prestart"].append(sorted(preload)))

    def fake_compare(refs, **kwargs):
        seen["workers"], seen["refs"] = kwargs["workers"], list(refs)
        return []

    monkeypatch.setattr(_api, "compare", fake_compare)
    return seen


def test_the_zoo_runs_on_every_core_with_the_server_started_before_expanding(recorded):
    assert main(["compare", "torchvision:*", "--format", "json"]) == 0
    assert len(recorded["refs"]) >= POOL_MIN_MODELS
    assert recorded["workers"] == 2
    assert recorded["prestart"] == [["torch", "torchvision"]]


@pytest.mark.parametrize(
    ("args", "workers", "started"),
    [
        (["torchvision:resnet*"], 1, True),  # a pattern of 5 models: not worth a pool (the server idles)
        (["torchvision:resnet18", "torchvision:resnet34"], 1, False),  # no pattern
        (["torchvision:*", "--jobs", "1"], 1, False),  # asked for one process
        (["torchvision:*", "--jobs", "3"], 3, False),
    ],
)
def test_small_or_plain_comparisons_and_explicit_jobs(recorded, args, workers, started):
    assert main(["compare", *args, "--format", "json"]) == 0
    assert recorded["workers"] == workers
    assert bool(recorded["prestart"]) == started


def test_the_console_script_exits_fast_with_its_output_and_exit_code():
    ok = subprocess.run(
        [sys.executable, "-m", "modelmeter", "summary", "torchvision:resnet18", "--format", "json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["totals"]["params"] == 11_689_512  # flushed whole before the fast exit
    bad = subprocess.run(
        [sys.executable, "-m", "modelmeter", "summary", "torchvision:resnet19"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode != 0 and bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1
