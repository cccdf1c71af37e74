"""The HTML report without a browser: self-contained (nothing to fetch), every layer and chart present,
the embedded document equal to the JSON; the treemap geometry; Jupyter's compact view."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modelmeter import _units as u
from modelmeter.render import svg
from modelmeter.report.model import Report

ROOT = Path(__file__).resolve().parents[2]


def _report(key: str = "nested") -> Report:
    return Report.from_dict(json.loads((ROOT / "tests" / "golden" / f"{key}.json").read_text()))


def _fetching_constructs(html: str) -> list[str]:
    """Everything in a page that could make the browser fetch something."""
    patterns = [
        r"\b(?:src|href|srcset|action|poster|data)\s*=\s*[\"'](?!#)",  # attributes that load (in-page anchors aside)
        r"url\(",  # CSS url(...)
        r"@import",
        r"https?:",
        r"//[a-z0-9.-]+\.[a-z]{2,}",  # protocol-relative URLs
        r"\bfetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon|import\(",
    ]
    return [m.group(0) for p in patterns for m in re.finditer(p, html, re.I)]


@pytest.mark.parametrize("key", ["lenet5", "nested"])
def test_html_is_self_contained(key: str):
    html = _report(key).to_html()
    assert _fetching_constructs(html) == []
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert html.count("<style>") == 1 and html.count("<script>") == 1  # inlined CSS and JS


def test_the_offline_check_can_fail():
    assert _fetching_constructs('<img src="x.png">') and _fetching_constructs("a{background:url(x.png)}")
    assert _fetching_constructs("<script>fetch('/a')</script>") and _fetching_constructs("//cdn.example.org/x.js")


def test_html_has_every_layer_every_column_and_the_charts():
    r = _report()
    html = r.to_html()
    rows = re.findall(r'<tr class="layer-row" data-name="([^"]*)"', html)
    assert rows == [row.name for row in r.layers]
    for head in ["Layer", "Type", "Input shapes", "Output shapes", "Params", "Trainable", "Buffers", "Calls",
                 "MACs", "% MACs", "FLOPs"]:  # fmt: skip
        assert f">{head}</th>" in html
    assert html.count('<svg class="chart') == 6
    assert 'class="chart treemap" data-metric="params"' in html and 'data-metric="macs"' in html
    # the treemap draws every layer that holds something; the MACs one, the block (x2) as its biggest box
    drawn = set(re.findall(r'class="tm" data-name="([^"]*)"', html))
    assert {"", "stem", "stem.0", "block", "block.conv", "head", "head.2"} <= drawn
    assert 'id="uncounted"' in html and "aten.relu" in html
    assert 'id="conventions"' in html and "2 &times; MACs" in html
    doc = re.search(r'<script type="application/json" id="modelmeter-data">(.*?)</script>', html, re.S)
    assert doc and json.loads(doc.group(1)) == r.to_dict()


def test_html_numbers_are_human_readable_with_exact_values_on_hover():
    r = _report()
    html = r.to_html()
    conv = r.layer("block.conv")
    assert f'data-v="{conv.macs}" title="{u.exact(conv.macs)}">{u.human_count(conv.macs)}<' in html
    assert u.human_bytes(r.totals.param_bytes) in html


def test_html_escapes_names():
    r = _report()
    evil = Report.from_dict({**r.to_dict(), "model": "<script>alert(1)</script>"})
    html = evil.to_html()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize("values", [[5, 3, 2, 1, 1], [100, 1], [1] * 7, [8, 8, 8]])
def test_squarify_fills_the_box_in_proportion(values: list[int]):
    w, h = 300.0, 200.0
    rects = svg.squarify([float(v) for v in values], 10, 20, w, h)
    assert len(rects) == len(values)
    for (x, y, rw, rh), v in zip(rects, values, strict=True):
        assert rw * rh == pytest.approx(w * h * v / sum(values), rel=1e-9)
        assert 10 - 1e-9 <= x and x + rw <= 10 + w + 1e-6 and 20 - 1e-9 <= y and y + rh <= 20 + h + 1e-6


def test_treemap_of_the_nested_net_by_area():
    """Box areas follow the hand-counted MACs: the block (2 x 147,456) vs the stem (55,296)."""
    html = svg.treemap(_report(), "macs", u.human_count, width=600, height=400)
    area = {}
    for name, w, h in re.findall(r'data-name="([^"]*)" x="[^"]*" y="[^"]*" width="([^"]*)" height="([^"]*)"', html):
        area[name] = float(w) * float(h)
    assert area["block"] / area["stem"] == pytest.approx(294_912 / 55_296, rel=0.1)  # padding shaves a little


def test_repr_html_is_compact():
    r = _report()
    html = r._repr_html_()
    assert "<script" not in html and "modelmeter-report" in html
    assert ">block<" in html and ">block.conv<" not in html  # top level only
    assert u.human_count(r.totals.macs) in html
