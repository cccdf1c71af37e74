"""The HTML report in a real browser (Debian's chromium, headless): the layer rows, the charts and the
tree's JavaScript are there, and the page attempts no network request.

How "no request" is shown: a probe script, placed first in the page, records every Content-Security-
Policy violation, every failed load and every resource-timing entry, and writes them into the DOM. The
page's own CSP (default-src 'none') turns any fetch into a violation. Two control pages with a remote
image (with and without the CSP) prove that the probe sees a request when there is one. Chromium runs
behind a dead proxy with every host name unresolvable, so even a probe failure cannot reach a network.

CI installs chromium (.ci/run); locally the test skips without it, but never when CI is set.
"""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from modelmeter.report.model import Report

ROOT = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-quic",
    "--proxy-server=127.0.0.1:9",  # nothing listens there: no request could leave this machine
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=5000",  # let load handlers and timers run before the DOM is dumped
]
PROBE = """<script>
window.__net = [];
document.addEventListener("securitypolicyviolation", function (e) { __net.push("csp " + e.blockedURI); });
window.addEventListener("error", function (e) {
  var t = e.target; if (t && (t.src || t.href)) __net.push("failed " + (t.src || t.href));
}, true);
window.addEventListener("load", function () { setTimeout(function () {
  performance.getEntriesByType("resource").forEach(function (r) { __net.push("resource " + r.name); });
  var pre = document.createElement("pre"); pre.id = "netprobe"; pre.textContent = JSON.stringify(__net);
  document.body.appendChild(pre);
}, 300); });
</script>"""
REMOTE = '<img src="http://network-probe.invalid/pixel.png" alt="">'  # .invalid never resolves (RFC 6761)


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs it with apt-get (apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium); CI runs this test")


def _dump_dom(page: Path, tmp_path: Path) -> str:
    profile = tmp_path / f"profile-{page.stem}"  # a fresh profile each time
    cmd = [_browser(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _with_probe(html: str, extra_body: str = "", strip_csp: bool = False) -> str:
    if strip_csp:
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    html = html.replace("</body>", extra_body + "</body>", 1)
    return html.replace("<head>", "<head>\n" + PROBE, 1)


def _network(dom: str) -> list[str]:
    found = re.search(r'<pre id="netprobe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: no verdict on the network"
    return json.loads(htmllib.unescape(found.group(1)))


@pytest.fixture(scope="module")
def resnet() -> Report:
    pytest.importorskip("torchvision")
    import modelmeter

    return modelmeter.summary("torchvision:resnet18")


def test_report_renders_with_rows_and_charts_and_no_request(resnet: Report, tmp_path: Path):
    page = tmp_path / "report.html"
    page.write_text(_with_probe(resnet.to_html()), encoding="utf-8")
    dom = _dump_dom(page, tmp_path)

    assert _network(dom) == []
    assert 'data-ready="1"' in dom  # the page's script ran to its end
    names = re.findall(r'<tr class="layer-row[^"]*" data-name="([^"]*)"', dom)
    assert names == [row.name for row in resnet.layers]
    # the tree opens two levels deep: deeper rows are hidden by the script, shallower ones shown
    hidden = set(re.findall(r'<tr class="layer-row[^"]*" data-name="([^"]*)"[^>]*hidden', dom))
    deep = {row.name for row in resnet.layers if row.depth >= 3}
    assert deep and hidden == deep
    assert dom.count('<svg class="chart') == 6
    assert len(re.findall(r'<rect class="tm"', dom)) > 20 and len(re.findall(r'<rect class="bar"', dom)) > 10
    assert "aten.convolution" in dom and 'id="conventions"' in dom


@pytest.mark.parametrize("strip_csp", [False, True], ids=["with-csp", "without-csp"])
def test_the_probe_sees_a_request_when_there_is_one(resnet: Report, tmp_path: Path, strip_csp: bool):
    page = tmp_path / "control.html"
    page.write_text(_with_probe(resnet.to_html(), REMOTE, strip_csp), encoding="utf-8")
    seen = _network(_dump_dom(page, tmp_path))
    assert any("network-probe.invalid" in s for s in seen), seen
    # with the page's CSP the browser refuses the load before any connection; without it the load fails
    kind = "failed" if strip_csp else "csp"
    assert any(s.startswith(kind) for s in seen), seen


def test_comparison_page_renders(tmp_path: Path):
    pytest.importorskip("torch")
    import modelmeter
    from modelmeter.render.html import render_comparison_html
    from modelmeter.report import compare as cmp

    refs = ["examples/seed_models.py:LeNet5", "examples/seed_models.py:Dense215", "missing.py:X"]
    entries = cmp.select(cmp.analyze([str(ROOT / r) if r.startswith("ex") else r for r in refs], modelmeter.summary))
    page = tmp_path / "compare.html"
    page.write_text(_with_probe(render_comparison_html(entries)), encoding="utf-8")
    dom = _dump_dom(page, tmp_path)
    assert _network(dom) == []
    assert dom.count('class="model-row"') == 2 and dom.count('class="error model-row"') == 1
    assert dom.count('<circle class="pt"') == 2 and 'data-ready="1"' in dom


CLICKS = """<script>
window.addEventListener("load", function () {
  var heads = document.querySelectorAll("#layers thead th");
  var macs = Array.prototype.filter.call(heads, function (th) { return th.textContent === "MACs"; })[0];
  macs.click();  // first click: largest first
  document.querySelector('tr[data-name="block"] button.tog').click();  // collapse the block
  var rows = document.querySelectorAll("#layers tbody tr.layer-row");
  var seen = Array.prototype.map.call(rows, function (r) {
    return r.getAttribute("data-name") + (r.hidden ? ":hidden" : "");
  });
  var pre = document.createElement("pre"); pre.id = "clicked"; pre.textContent = JSON.stringify(seen);
  document.body.appendChild(pre);
});
</script>"""


def test_sorting_and_collapsing_in_the_browser(tmp_path: Path):
    """Click "MACs" and the block's toggle: siblings reorder under their parent, the block's children hide."""
    golden = json.loads((ROOT / "tests" / "golden" / "nested.json").read_text())
    page = tmp_path / "nested.html"
    page.write_text(_with_probe(Report.from_dict(golden).to_html(), CLICKS), encoding="utf-8")
    dom = _dump_dom(page, tmp_path)
    found = re.search(r'<pre id="clicked">(.*?)</pre>', dom, re.S)
    assert found, "the click script did not run"
    order = json.loads(htmllib.unescape(found.group(1)))
    # MACs by hand (tests/golden/nested_net.py): block 294,912 > stem 55,296 > head 80; inside stem: conv first
    assert order == [
        "",
        "block", "block.conv:hidden", "block.bn:hidden", "block.act:hidden",
        "stem", "stem.0", "stem.1", "stem.2",
        "head", "head.2", "head.0", "head.1",
    ]  # fmt: skip
    assert _network(dom) == []
