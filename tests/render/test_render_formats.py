"""Every format renders the same Report: golden files (table, markdown), the JSON schema, CSV read back,
pandas, and rows that add up to the totals in each format.

The golden inputs are frozen report documents (tests/golden/*.json) so that these tests check the
renderers alone; ``MODELMETER_UPDATE_GOLDEN=1`` rewrites them (and the expected outputs) from the engine,
after which the diff must be read before committing.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from modelmeter import _units as u
from modelmeter.render.csv import parse_csv
from modelmeter.report.model import Report

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("MODELMETER_UPDATE_GOLDEN") == "1"
MODELS = {"lenet5": "examples/seed_models.py:LeNet5", "nested": "tests/golden/nested_net.py:NestedNet"}


def golden_report(key: str) -> Report:
    path = GOLDEN / f"{key}.json"
    if UPDATE:
        import modelmeter

        path.write_text(modelmeter.summary(str(ROOT / MODELS[key])).to_json() + "\n")
    return Report.from_dict(json.loads(path.read_text()))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    expected = path.read_text()
    assert text == expected, f"{name} differs; if the change is intended: MODELMETER_UPDATE_GOLDEN=1 pytest {__file__}"


@pytest.fixture(params=sorted(MODELS))
def report(request: pytest.FixtureRequest) -> Report:
    return golden_report(request.param)


# -- the golden inputs are what the engine counts (hand counts in examples/ and tests/golden/nested_net.py) --
def test_golden_inputs_hold_the_hand_counts():
    lenet, nested = golden_report("lenet5"), golden_report("nested")
    assert lenet.totals.params == 61_706  # seed 004, see examples/seed_models.py
    assert lenet.totals.macs == 117_600 + 240_000 + 48_000 + 10_080 + 840  # conv1 + conv2 + fc1 + fc2 + fc3
    assert nested.totals.params == 216 + 16 + 576 + 16 + 90  # = 914
    assert nested.totals.buffers == 17 + 17  # two BatchNorm2d(8): mean 8 + var 8 + num_batches_tracked 1
    assert nested.totals.macs == 55_296 + 2 * 147_456 + 80  # the block runs twice
    assert nested.layer("block").calls == 2 and nested.layer("block.conv").macs == 2 * 147_456


def test_golden_inputs_match_the_engine_now():
    """The frozen documents still equal a fresh run (else regenerate them and review the diff)."""
    pytest.importorskip("torch")
    import modelmeter

    for key, ref in MODELS.items():
        fresh = modelmeter.summary(str(ROOT / ref)).to_dict()
        stored = json.loads((GOLDEN / f"{key}.json").read_text())
        # FLOPs are left out: they grow as more ops get formulas (the renderer goldens need not follow)
        for field in ("params", "trainable_params", "buffers", "param_bytes", "buffer_bytes", "macs"):
            assert fresh["totals"][field] == stored["totals"][field], (key, field)
        assert [(r["name"], r["params"], r["macs"]) for r in fresh["layers"]] == [
            (r["name"], r["params"], r["macs"]) for r in stored["layers"]
        ], key


# -- golden files ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(MODELS))
def test_table_golden(key: str):
    check_golden(f"{key}.table.txt", golden_report(key).render(width=120))


@pytest.mark.parametrize("key", sorted(MODELS))
def test_markdown_golden(key: str):
    check_golden(f"{key}.md", golden_report(key).to_markdown())


def test_markdown_depth_limits_rows():
    md = golden_report("nested").to_markdown(depth=1)
    assert "| block |" in md and "| block.conv |" not in md


# -- JSON --------------------------------------------------------------------------------------------
SCHEMA_FILE = ROOT / "docs" / "modelmeter-1.schema.json"


def _validator():
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def test_json_matches_the_schema(report: Report):
    doc = json.loads(report.to_json())
    errors = sorted(str(e.message) for e in _validator().iter_errors(doc))
    assert errors == []


def test_json_of_a_fresh_torchvision_report_matches_the_schema():
    pytest.importorskip("torchvision")
    import modelmeter

    doc = json.loads(modelmeter.summary("torchvision:resnet18").to_json())
    assert list(_validator().iter_errors(doc)) == []
    assert doc["published"]["num_params"] == doc["totals"]["params"] == 11_689_512  # torchvision's figure


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["totals"].__setitem__("macs", 1.5),  # counts are integers
        lambda d: d["layers"][0].pop("flops"),  # a required field
        lambda d: d.__setitem__("schema", "modelmeter/0"),
        lambda d: d.__setitem__("undocumented", 1),  # a new field must be added to the schema and the docs
        lambda d: d["layers"][0].__setitem__("output_shapes", [[1, -1]]),
    ],
)
def test_schema_rejects_a_damaged_document(damage):
    doc = golden_report("lenet5").to_dict()
    damage(doc)
    assert list(_validator().iter_errors(doc)), "the schema test cannot fail"


def test_every_schema_field_is_documented():
    doc_text = (ROOT / "docs" / "json-schema.md").read_text()
    schema = json.loads(SCHEMA_FILE.read_text())
    props = schema["properties"]
    names = list(props) + [f"totals.{k}" for k in props["totals"]["properties"]]
    names += [f"layers[].{k}" for k in props["layers"]["items"]["properties"]]
    forms = {n: (f"`{n}`", f"`{n}.", f"`{n}[]", f"`.{n.split('.')[-1]}`") for n in names}  # as the table writes them
    missing = [n for n, ways in forms.items() if not any(w in doc_text for w in ways)]
    assert missing == []


def test_from_dict_inverts_to_dict(report: Report):
    assert Report.from_dict(report.to_dict()) == report
    with pytest.raises(ValueError, match="modelmeter/1"):
        Report.from_dict({"schema": "other"})


# -- CSV and pandas ----------------------------------------------------------------------------------
def test_csv_parsed_back_equals_the_report(report: Report):
    rows = parse_csv(report.to_csv())
    assert rows == [row.to_dict() for row in report.layers]
    assert Report.from_dict({**report.to_dict(), "layers": rows}) == report


def test_csv_keeps_numeric_layer_names_as_names():
    pytest.importorskip("torch")
    import torch

    import modelmeter

    r = modelmeter.summary(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)), (2, 4))
    rows = parse_csv(r.to_csv())
    assert [row["name"] for row in rows] == ["", "0", "1", "2"]
    assert rows == [row.to_dict() for row in r.layers]
    assert rows[1]["macs"] == 2 * 4 * 3  # batch 2 x in 4 x out 3


def test_dataframe(report: Report):
    pytest.importorskip("pandas")
    df = report.to_dataframe()
    assert list(df["name"]) == [r.name for r in report.layers]
    assert df.loc[df["depth"] == 1, "macs"].sum() == report.totals.macs


# -- every format's rows add up to the same totals ---------------------------------------------------
def _top_level_sums_are_the_totals(report: Report) -> None:
    root_own = report.own()[0]
    assert root_own.name == "" and root_own.params == 0 and root_own.macs == 0, "pick a model whose root owns nothing"


class _Cells(HTMLParser):
    """Collects the layer rows (data-depth, data-v of each cell) and the totals cards of the HTML report."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, list[str]]] = []
        self.cards: dict[str, str] = {}
        self._card: str | None = None
        self._in_x = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "layer-row":
            self.rows.append((int(a["data-depth"] or 0), []))
        elif tag == "td" and self.rows and "data-v" in a and not self._card:
            self.rows[-1][1].append(a["data-v"] or "")
        elif tag == "div" and "data-total" in a:
            self._card = a["data-total"]
        elif tag == "div" and a.get("class") == "x" and self._card:
            self._in_x = True

    def handle_data(self, data: str) -> None:
        if self._in_x and self._card:
            self.cards[self._card] = data
            self._in_x, self._card = False, None


def test_rows_add_up_to_the_same_totals_in_every_format(report: Report):
    _top_level_sums_are_the_totals(report)
    t = report.totals
    top = [r for r in report.layers if r.depth == 1]

    # JSON
    doc = json.loads(report.to_json())
    assert sum(r["params"] for r in doc["layers"] if r["depth"] == 1) == doc["totals"]["params"] == t.params
    assert sum(r["macs"] for r in doc["layers"] if r["depth"] == 1) == doc["totals"]["macs"] == t.macs

    # CSV
    rows = [r for r in parse_csv(report.to_csv()) if r["depth"] == 1]
    assert (sum(r["params"] for r in rows), sum(r["macs"] for r in rows)) == (t.params, t.macs)

    # table: exact numbers; top-level rows are the unindented ones
    text = report.render(depth=1, width=200)
    found = re.findall(r"^│(\S[^│]*?)\s*│[^│]*│\s*([\d,]+) │\s*([\d,]+) │", text, re.M)
    assert len(found) == len(top)
    assert sum(int(p.replace(",", "")) for _, p, _ in found) == t.params
    assert sum(int(m.replace(",", "")) for _, _, m in found) == t.macs
    assert re.search(rf"Total params\s+{u.exact(t.params)}\b", text)
    assert re.search(rf"^MACs\s+{u.exact(t.macs)}\b", text, re.M)

    # markdown: human-readable cells are the same numbers, and they add up within their rounding
    md = report.to_markdown(depth=1)
    cells = re.findall(r"^\| (\S+) \| [^|]+ \| [^|]+ \| ([^|]+) \| ([^|]+) \| [^|]+ \|$", md, re.M)[1:]  # skip header
    assert [c[0] for c in cells] == [r.name for r in top]
    assert [c[1].strip() for c in cells] == [u.human_count(r.params) for r in top]
    md_macs = sum(u.parse_count(c[2]) for c in cells)
    assert abs(md_macs - t.macs) <= 0.005 * t.macs  # each cell is rounded to 3 significant-ish digits
    assert f"| MACs | {u.human_count(t.macs)} ({u.exact(t.macs)}) |" in md

    # HTML: exact values in data-v; cards show the exact totals
    parser = _Cells()
    parser.feed(report.to_html())
    html_top = [cells for depth, cells in parser.rows if depth == 1]
    # cells with data-v: name, type, params, trainable, buffers, calls, macs, %macs, flops
    assert sum(int(c[2]) for c in html_top) == t.params
    assert sum(int(c[6]) for c in html_top) == t.macs
    assert parser.cards["Params"] == u.exact(t.params) and parser.cards["MACs"] == u.exact(t.macs)


# -- the queries the charts draw ---------------------------------------------------------------------
def test_own_and_by_type_partition_the_totals(report: Report):
    own = report.own()
    assert sum(o.macs for o in own) == report.totals.macs  # exact: ops run directly in each layer
    assert sum(o.flops for o in own) == report.totals.flops
    assert sum(o.params for o in own) == report.totals.params  # no sharing in these models
    types = report.by_type()
    assert sum(t.macs for t in types) == report.totals.macs
    assert sum(t.count for t in types) == len(report.layers)


def test_by_type_of_the_nested_net_by_hand():
    types = {t.type: t for t in golden_report("nested").by_type()}
    assert types["Conv2d"].count == 2 and types["Conv2d"].params == 216 + 576
    assert types["Conv2d"].macs == 55_296 + 2 * 147_456
    assert types["BatchNorm2d"].params == 32 and types["Linear"].macs == 80


def test_own_params_with_a_tied_weight_do_not_go_negative():
    pytest.importorskip("torch")
    import torch

    import modelmeter

    class Tied(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(10, 4)
            self.head = torch.nn.Linear(4, 10, bias=False)
            self.head.weight = self.emb.weight

        def forward(self, x):
            return self.head(self.emb(x))

    r = modelmeter.summary(Tied(), input_data=torch.zeros(1, 3, dtype=torch.long))
    own = {o.name: o for o in r.own()}
    assert r.totals.params == 40  # the tied tensor once
    assert own[""].params == 0 and own["emb"].params == own["head"].params == 40  # shown under both holders


@pytest.mark.parametrize(
    ("text", "value"),
    [("5M", 5_000_000), ("600M", 600_000_000), ("1.5G", 1_500_000_000), ("61706", 61_706), ("2_000", 2_000),
     ("5e6", 5_000_000), ("250k", 250_000), ("1T", 10**12)],
)  # fmt: skip
def test_parse_count(text: str, value: int):
    assert u.parse_count(text) == value


@pytest.mark.parametrize("text", ["", "M", "five", "-3M", "1.2.3", "nan", "inf"])
def test_parse_count_rejects(text: str):
    with pytest.raises(ValueError, match="5M"):
        u.parse_count(text)


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "html"])
def test_cli_formats_equal_the_api(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    pytest.importorskip("torch")
    import modelmeter
    from modelmeter.cli import main

    ref = str(ROOT / MODELS["nested"])
    report = modelmeter.summary(ref)
    api = {"json": report.to_json() + "\n", "csv": report.to_csv(), "markdown": report.to_markdown(),
           "html": report.to_html()}[fmt]  # fmt: skip
    target = tmp_path / f"out.{fmt}"
    assert main(["summary", ref, "--format", fmt, "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == api
    assert main(["summary", ref, "--format", fmt]) == 0
    assert capsys.readouterr().out == api


def _checkpoint_and_partial_reports(tmp_path: Path) -> list[Report]:
    torch = pytest.importorskip("torch")
    from torch import nn

    import modelmeter

    path = tmp_path / "net.pt"
    torch.save(nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.Linear(4, 2))).state_dict(), path)
    checkpoint = modelmeter.summary(str(path))

    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ok = nn.Linear(4, 5)
            self.bad = nn.Linear(6, 2)  # expects 6 features, gets 5

        def forward(self, x):
            return self.bad(self.ok(x))

    partial = modelmeter.summary(Broken(), (1, 4), partial=True)
    return [checkpoint, partial]


def test_checkpoint_and_partial_reports_in_every_format(tmp_path: Path):
    checkpoint, partial = _checkpoint_and_partial_reports(tmp_path)
    assert checkpoint.device == "none" and checkpoint.totals.params == 3 * 4 + 4 + 4 * 2 + 2  # = 26
    assert partial.partial and partial.layer("ok").macs == 4 * 5  # what ran before the failure
    for report in (checkpoint, partial):
        doc = json.loads(report.to_json())
        assert list(_validator().iter_errors(doc)) == []
        assert parse_csv(report.to_csv()) == [row.to_dict() for row in report.layers]  # optional fields too
        assert Report.from_dict(doc) == report
        html, md = report.to_html(), report.to_markdown()
        for note in report.notes:
            assert note.split(";")[0] in md and note.split(";")[0].replace("'", "&#x27;") in html
    assert 'id="notes"' in partial.to_html() and "**Partial**" in partial.to_markdown()
