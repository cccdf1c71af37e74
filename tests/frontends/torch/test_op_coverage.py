"""Uncounted ops are data: named with their call counts, shown under the table, an error with strict.
Across timm families no op goes uncounted (the torchvision zoo: test_torchvision_zoo.py)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

import modelmeter  # noqa: E402
from modelmeter.cli import main  # noqa: E402

MODEL_FILE = """
import torch


class Inverts(torch.nn.Module):
    def forward(self, x):
        return torch.linalg.inv(x) @ torch.linalg.inv(x)
"""


def test_uncounted_ops_are_named_with_call_counts_and_shown(tmp_path, capsys):
    class Inverts(torch.nn.Module):
        def forward(self, x):
            return torch.linalg.inv(x) @ torch.linalg.inv(x)

    for device in ("meta", "cpu"):
        r = modelmeter.summary(Inverts(), input_size=(2, 4, 4), device=device)
        assert r.uncounted == {"aten.linalg_inv_ex": 2}
        assert r.to_dict()["uncounted_ops"] == {"aten.linalg_inv_ex": 2}
        assert r.totals.macs == 2 * 4 * 4 * 4  # the matmul is still counted
    assert "Uncounted ops" in r.render() and "aten.linalg_inv_ex x2" in r.render()
    with pytest.raises(modelmeter.UncountedOpsError, match="linalg_inv_ex x2") as info:
        modelmeter.summary(Inverts(), input_size=(2, 4, 4), strict=True)
    assert info.value.ops == {"aten.linalg_inv_ex": 2}

    path = tmp_path / "inverts.py"
    path.write_text(MODEL_FILE)
    assert main(["summary", f"{path}:Inverts", "--input", "2,4,4"]) == 0
    assert "aten.linalg_inv_ex x2" in capsys.readouterr().out
    assert main(["summary", f"{path}:Inverts", "--input", "2,4,4", "--strict"]) == 1
    assert "linalg_inv_ex" in capsys.readouterr().err


def test_by_op_view_api_and_cli(capsys):
    r = modelmeter.summary("torchvision:resnet18")
    ops = {o.op: o for o in r.by_op()}
    # rows add up to the totals
    assert sum(o.macs for o in ops.values()) == r.totals.macs
    assert sum(o.flops for o in ops.values()) == r.totals.flops
    assert ops["aten.convolution"].calls == 20 and ops["aten.addmm"].calls == 1
    assert main(["summary", "torchvision:resnet18", "--by", "op"]) == 0
    out = capsys.readouterr().out
    assert "aten.convolution" in out and "% FLOPs" in out
    assert main(["summary", "torchvision:resnet18", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {o["op"] for o in doc["ops"]} == set(ops)


def test_seq_len_applies_to_hf_models_only(capsys):
    assert main(["summary", "torchvision:resnet18", "--seq-len", "8"]) == 1
    assert "Hugging Face" in capsys.readouterr().err


TIMM_FAMILIES = [
    "resnet50", "vit_small_patch16_224", "convnext_nano", "efficientnet_b0", "swin_tiny_patch4_window7_224",
    "mobilevit_s", "levit_128", "coatnet_0_rw_224", "eva02_tiny_patch14_224", "beit_base_patch16_224",
    "poolformer_s12", "mixer_s16_224", "regnetx_002", "mobilenetv3_small_100", "fastvit_t8", "pvt_v2_b0",
]  # fmt: skip


@pytest.mark.parametrize("name", TIMM_FAMILIES)
def test_timm_families_have_no_uncounted_ops(name):
    timm = pytest.importorskip("timm")
    from modelmeter.frontends.torch.build import build_on_meta

    model = build_on_meta(lambda: timm.create_model(name, pretrained=False)).eval()
    size = (1, *model.pretrained_cfg.get("input_size", (3, 224, 224)))
    report = modelmeter.summary(model, input_size=size, device="meta", strict=True)
    assert report.totals.macs > 0 and report.uncounted == {}
