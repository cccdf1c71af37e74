"""``timm:NAME`` references: built on meta with pretrained=False, input from the model's pretrained_cfg."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

import modelmeter  # noqa: E402
from modelmeter.cli import main  # noqa: E402
from modelmeter.frontends.torch.references.patterns import expand  # noqa: E402


def test_timm_resnet50_matches_timms_published_figures(capsys):
    # timm's model card for resnet50.a1_in1k: Params (M) 25.6, GMACs 4.1 at 224x224
    assert main(["summary", "timm:resnet50", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "timm:resnet50"
    assert doc["totals"]["params"] == 25_557_032
    assert round(doc["totals"]["macs"] / 1e9, 2) == 4.09
    assert doc["inputs"][0]["shape"] == [1, 3, 224, 224]


def test_timm_params_equal_the_models_own_sum():
    r = modelmeter.summary("timm:convnext_atto")
    with torch.device("meta"):
        model = timm.create_model("convnext_atto", pretrained=False)
    assert r.totals.params == sum(p.numel() for p in model.parameters()) == 3_695_520  # timm lists 3.7 M
    assert r.uncounted == {}


def test_timm_default_input_is_the_pretrained_cfg_input_size():
    r = modelmeter.summary("timm:maxvit_pico_rw_256")  # a MaxViT, trained at 256
    assert r.inputs[0].shape == (1, 3, 256, 256)
    r = modelmeter.summary("timm:resnet50.a1_in1k", input_size=(1, 3, 288, 288))  # a tag and --input
    assert r.inputs[0].shape == (1, 3, 288, 288)


def test_timm_pattern_lists_timms_architectures():
    listed = expand(["timm:convnext*"])
    assert listed == [f"timm:{n}" for n in sorted(timm.list_models("convnext*"))]
    assert "timm:convnext_tiny" in listed and len(listed) > 20


def test_compare_timm_pattern(capsys):
    assert main(["compare", "timm:convnext_[af]*", "--no-memory", "--format", "json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert {d["model"] for d in docs} == {f"timm:{n}" for n in timm.list_models("convnext_[af]*")}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("timm:convnxt_tiny", "unknown timm model 'convnxt_tiny'; did you mean 'convnext_tiny'"),
        ("timm:resnet50.bogus", "Invalid pretrained tag"),
    ],
)
def test_timm_bad_names_are_one_clear_line(ref: str, message: str, capsys):
    assert main(["summary", ref]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {ref}: ") and message in err and len(err.strip().splitlines()) == 1
