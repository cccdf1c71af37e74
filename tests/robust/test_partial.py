"""--partial / partial=True: when the forward fails, the report of what ran, marked partial, plus the error."""

from __future__ import annotations

import json

import robust_models as rm

import modelmeter
from conftest import MODELS


def test_partial_report_of_a_deep_failure() -> None:
    report = modelmeter.summary(rm.ShapeBug(), input_size=(1, 4), partial=True)
    assert report.partial
    assert report.error.startswith(
        "the model's forward failed in module 'b.0' (Linear) called with input shapes [[1, 8]]"
    )
    a, b0 = report.layer("a"), report.layer("b.0")
    assert (a.calls, a.output_shapes, a.macs) == (1, ((1, 8),), 4 * 8)  # ran
    assert (b0.calls, b0.input_shapes, b0.output_shapes, b0.macs) == (1, ((1, 8),), (), 0)  # entered, failed
    assert report.totals.macs == 32 and report.totals.params == 4 * 8 + 8 + 9 * 2 + 2  # params: the whole model
    doc = report.to_dict()
    assert doc["partial"] is True and doc["error"] == report.error and doc["notes"]


def test_partial_on_success_is_a_normal_report() -> None:
    with_flag = modelmeter.summary(rm.Net(), input_size=rm.Net.input_size, partial=True)
    without = modelmeter.summary(rm.Net(), input_size=rm.Net.input_size)
    assert with_flag == without and not with_flag.partial and with_flag.error is None


def test_failure_at_the_root_gives_zero_counts() -> None:
    report = modelmeter.summary(rm.Boom(), input_size=(1, 4), partial=True)
    assert report.partial and report.totals.macs == 0 and "ValueError: boom" in report.error


def test_cli_partial_table(cli) -> None:
    result = cli("summary", f"{MODELS}:ShapeBug", "--input", "1,4", "--partial")
    assert result.code == 1
    assert "a (Linear)" in result.out and "b (Sequential)" in result.out
    assert result.err.splitlines()[-1].startswith("error: the model's forward failed in module 'b.0'")
    assert "note: partial" in result.err


def test_cli_partial_json(cli) -> None:
    result = cli("summary", f"{MODELS}:ShapeBug", "--input", "1,4", "--partial", "--format", "json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["partial"] is True and doc["totals"]["macs"] == 32
    assert result.err == f"error: {doc['error']}\n"


def test_cli_without_partial_prints_no_report(cli) -> None:
    result = cli("summary", f"{MODELS}:ShapeBug", "--input", "1,4")
    assert result.code == 1 and result.out == ""
