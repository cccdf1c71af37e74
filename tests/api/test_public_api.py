"""The public surface is explicit and stable; the JSON document follows the documented schema."""

import pytest

import modelmeter


def test_all_matches_public_names():
    public = {n for n in dir(modelmeter) if not n.startswith("_")} - {
        # submodules are reachable but not part of __all__
        "errors",
        "formulas",
        "frontends",
        "render",
        "cli",
        "spec",
        "explain",
        "memory",
        "options",
        "report",
        "roofline",
        "hardware",
        "compat",
    }
    assert set(modelmeter.__all__) - {"__version__"} == public


def test_error_tree():
    for cls in (
        modelmeter.UsageError,
        modelmeter.ModelRefError,
        modelmeter.InputError,
        modelmeter.ForwardError,
        modelmeter.SpecError,
        modelmeter.UncountedOpsError,
    ):
        assert issubclass(cls, modelmeter.ModelMeterError)


def test_schema_fields():
    pytest.importorskip("torch")
    from torch import nn

    doc = modelmeter.summary(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), input_size=(2, 3)).to_dict()
    assert set(doc) >= {"schema", "model", "inputs", "totals", "layers", "uncounted_ops", "device", "ops", "attention"}
    assert set(doc["totals"]) >= {
        "params",
        "trainable_params",
        "non_trainable_params",
        "buffers",
        "param_bytes",
        "macs",
        "flops",
    }
    for row in doc["layers"]:
        assert set(row) >= {"name", "type", "depth", "input_shapes", "output_shapes", "params", "macs", "flops"}
        assert all(isinstance(row[k], int) for k in ("params", "macs", "flops", "depth"))
    root = doc["layers"][0]
    assert root["name"] == "" and root["depth"] == 0
    assert root["macs"] == doc["totals"]["macs"] == 2 * 3 * 4
    assert root["flops"] == doc["totals"]["flops"] == 2 * 24 + 2 * 4 + 2 * 4  # 2 x MACs + bias adds + relu
    assert doc["layers"][1]["name"] == "0" and doc["layers"][1]["output_shapes"] == [[2, 4]]


def test_rows_add_up_to_totals():
    pytest.importorskip("torch")
    import seed_models

    r = modelmeter.summary(seed_models.AlexNetNoBias(), input_size=(1, 3, 224, 224))
    for depth in (1, 2):
        rows = [row for row in r.layers if row.depth == depth]
        assert sum(row.macs for row in rows) == r.totals.macs
        assert sum(row.flops for row in rows) == r.totals.flops
    assert sum(row.params for row in r.layers if row.depth == 1) == r.totals.params


def test_strict_raises_on_uncounted():
    pytest.importorskip("torch")
    from torch import nn

    # an op with no formula and not declared free: a matrix inverse
    class Odd(nn.Module):
        def forward(self, x):
            return torch.linalg.inv(x)

    import torch

    with pytest.raises(modelmeter.UncountedOpsError) as info:
        modelmeter.summary(Odd(), input_size=(2, 3, 3), strict=True)
    assert "aten.linalg_inv_ex" in info.value.ops
    assert modelmeter.summary(Odd(), input_size=(2, 3, 3)).uncounted == {"aten.linalg_inv_ex": 1}
