"""``compare`` on several processes gives the sequential run's entries, in the same order."""

from __future__ import annotations

import pytest

pytest.importorskip("torchvision")

import modelmeter  # noqa: E402
from modelmeter import _parallel  # noqa: E402

BAD = """
import torch
from torch import nn


class Bad(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        raise ValueError("this model always fails")


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)  # 8*3 + 3 = 27 params, 8*3 = 24 MACs per row

    def forward(self, x):
        return self.fc(x)
"""


@pytest.mark.parametrize("sort", [None, "macs"])
def test_pool_gives_the_sequential_result(tmp_path, sort):
    path = tmp_path / "nets.py"
    path.write_text(BAD, encoding="utf-8")
    zoo = ["torchvision:squeezenet1_0", "torchvision:mobilenet_v3_small"]
    files = [f"{path}:*"]  # Bad and Small, on a (2, 8) input

    def run(workers):
        return modelmeter.compare(zoo, workers=workers, sort=sort) + modelmeter.compare(
            files, input_size=(2, 8), workers=workers, sort=sort
        )

    one, many = run(1), run(2)
    assert [e.to_dict() for e in many] == [e.to_dict() for e in one]
    assert len(one) == 4 and sum(e.report is None for e in one) == 1
    small = next(e for e in many if e.report is not None and e.report.totals.params == 27)
    assert small.report.totals.macs == 2 * 24
    bad = next(e for e in many if e.report is None)
    assert "this model always fails" in bad.error


def test_workers_follow_the_cores_and_the_models():
    assert _parallel.workers_for(1, None) == 1  # one model: no pool
    assert _parallel.workers_for(5, 1) == 1
    if _parallel._can_pool():
        assert _parallel.workers_for(5, 3) == 3
        assert _parallel.workers_for(2, 8) == 2  # never more workers than models
        assert _parallel.workers_for(100, None) == 1  # opt-in: the server costs seconds to start
