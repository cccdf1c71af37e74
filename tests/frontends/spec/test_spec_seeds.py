"""Every seed figure, and the published figures of ResNet-18 and MobileNetV1, from layer specs (no torch)."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelmeter
from modelmeter.spec import analyze

SPECS = Path(__file__).resolve().parents[3] / "examples" / "specs"


def test_lenet5_seed004() -> None:
    r = modelmeter.summary(SPECS / "lenet5.yaml")
    # (5*5*1+1)*6 + (5*5*6+1)*16 = 2572; (400*120+120) + (120*84+84) + (84*10+10) = 59134; 2572 + 59134 = 61706
    assert r.totals.params == 61_706
    assert [r.layer(n).params for n in ("conv1", "conv2", "fc1", "fc2", "fc3")] == [156, 2_416, 48_120, 10_164, 850]
    # MACs: 5*5*1*6*28*28 + 5*5*6*16*10*10 + 400*120 + 120*84 + 84*10 = 117600 + 240000 + 48000 + 10080 + 840
    assert r.totals.macs == 416_520
    assert r.layer("fc1").input_shapes == ((1, 400),)
    assert r.layer("maxpool2d_1").output_shapes == ((1, 16, 5, 5),)


def test_alexnet_seed001() -> None:
    r = analyze(SPECS / "alexnet_seed001.yaml")
    # torchsummary in seed 001: 61,264,904 params; thop: 861301280.0 (multiply-accumulates)
    assert r.totals.params == 61_264_904
    assert r.totals.macs == 861_301_280
    assert r.totals.param_bytes == 61_264_904 * 4  # seed 001's "Params size (MB): 233.71" = 245059616 / 2**20
    assert r.layer("maxpool2d_2").output_shapes == ((1, 256, 6, 6),)


def test_batchnorm_cnn_seed002() -> None:
    r = analyze(SPECS / "batchnorm_cnn.yaml")
    # 16*(3*3^2+1) + 16*2 + 32*(16*3^2+1) + 32*2 + (32*8*8+1)*64 + (64+1)*10 = 136,970
    assert r.totals.params == 136_970
    # running mean + var per channel and num_batches_tracked: (2*16+1) + (2*32+1) = 98 buffer elements
    assert r.totals.buffers == 98
    assert r.totals.buffer_bytes == (2 * 16 + 2 * 32) * 4 + 2 * 8  # float32 stats, int64 counters


def test_mnist_cnn_seed003() -> None:
    r = analyze(SPECS / "mnist_cnn.yaml")
    # (3*3*1+1)*32 + (3*3*32+1)*32 + (6272*128+128) + (128*10+10) = 320 + 9248 + 802944 + 1290 = 813,802
    assert r.totals.params == 813_802


def test_conv_448_seed000() -> None:
    r = analyze(SPECS / "conv_3_16.yaml")
    assert r.totals.params == 3 * 3 * 3 * 16 + 16 == 448
    assert r.layer("conv2d").output_shapes == ((1, 16, 222, 222),)  # Keras: (None, 222, 222, 16)
    assert r.totals.macs == 3 * 3 * 3 * 16 * 222 * 222


def test_dense_21_seed000_json() -> None:
    r = analyze(SPECS / "dense_2_5_1.json")
    assert r.totals.params == (5 * 2 + 5) + (1 * 5 + 1) == 21
    assert [row.name for row in r.layers] == ["", "dense", "dense_1"]  # Keras' own layer names


def test_resnet18_matches_torchvision() -> None:
    r = analyze(SPECS / "resnet18.yaml")
    # torchvision ResNet18_Weights.DEFAULT.meta: num_params 11,689,512, _ops 1.814 (GMACs at 224x224)
    assert r.totals.params == 11_689_512
    assert r.totals.macs == 1_814_073_344
    assert round(r.totals.macs / 1e9, 3) == 1.814
    # 20 BatchNorm2d: running mean + var per channel + a counter each
    assert r.totals.buffers == 2 * (64 + 4 * 64 + 4 * 128 + 4 * 256 + 4 * 512 + 128 + 256 + 512) + 20


def test_mobilenet_v1_paper() -> None:
    r = analyze(SPECS / "mobilenet_v1.yaml")
    # Howard et al. 2017, Table 8: 1.0 MobileNet-224 has 4.2 million parameters and 569 million mult-adds.
    # conv weights: 3*3*3*32 + sum over the 13 separable layers of (3*3*C_in + C_in*C_out), FC 1024*1000 + 1000,
    # BatchNorm gamma and beta 2*C after each of the 27 convs:
    convs = 3 * 3 * 3 * 32
    pairs = (
        [(32, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512)]
        + [(512, 512)] * 5
        + [(512, 1024), (1024, 1024)]
    )
    convs += sum(9 * c_in + c_in * c_out for c_in, c_out in pairs)
    bn = 2 * (32 + sum(c_in + c_out for c_in, c_out in pairs))
    assert r.totals.params == convs + bn + 1024 * 1000 + 1000 == 4_231_976
    assert round(r.totals.params / 1e6, 1) == 4.2
    # MACs: first conv 3*3*3*32*112*112; each separable layer 3*3*C_in*H*W (depthwise) + C_in*C_out*H*W
    # (pointwise) at its output size; the FC 1024*1000.
    sizes = [112, 56, 56, 28, 28, 14, 14, 14, 14, 14, 14, 7, 7]
    macs = 3 * 3 * 3 * 32 * 112 * 112 + 1024 * 1000
    macs += sum((9 * c_in + c_in * c_out) * hw * hw for (c_in, c_out), hw in zip(pairs, sizes, strict=False))
    assert r.totals.macs == macs == 568_740_352
    assert round(r.totals.macs / 1e6) == 569


@pytest.mark.parametrize("path", sorted(SPECS.iterdir()), ids=lambda p: p.name)
def test_rows_add_up(path: Path) -> None:
    r = analyze(path)
    root = r.layers[0]
    assert (root.params, root.macs, root.flops) == (r.totals.params, r.totals.macs, r.totals.flops)
    leaves = [row for row in r.layers if not any(o.name.startswith(row.name + ".") for o in r.layers) and row.name]
    assert sum(row.macs for row in leaves) == r.totals.macs
    assert (
        sum(row.params for row in leaves if "." not in row.name or not row.name.endswith("out_proj")) == r.totals.params
    )


def test_spec_path_never_imports_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, modelmeter; r = modelmeter.summary(sys.argv[1]); r.explain(); r.to_json(); str(r); "
        "from modelmeter.cli import main; main(['explain', sys.argv[1]]); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(SPECS / "resnet18.yaml")],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(modelmeter.__file__).parents[1])},
    )
    assert proc.returncode == 0, proc.stderr


def test_docs_list_every_layer_type() -> None:
    from modelmeter.frontends.spec.types import LAYER_TYPES

    text = (SPECS.parents[1] / "docs" / "spec.md").read_text(encoding="utf-8")
    families = {"maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool"}  # written as maxpool1d/`2d`/`3d`
    missing = [t for t in LAYER_TYPES if f"`{t}`" not in text and t.rstrip("123d") not in families]
    assert missing == []


def test_summary_takes_a_mapping() -> None:
    r = modelmeter.summary({"name": "tiny", "input": [1, 2], "layers": [{"linear": 5}, {"linear": 1}]})
    assert (r.model, r.totals.params, r.device) == ("tiny", 21, "spec")
    assert r.to_dict()["layers"][1]["attrs"] == {"in_features": 2, "out_features": 5, "bias": True}


def test_what_is_a_spec_path() -> None:
    from modelmeter.spec import is_spec_path

    assert is_spec_path("net.yaml") and is_spec_path(SPECS / "lenet5.yaml") and is_spec_path("C:\\nets\\net.JSON")
    assert not is_spec_path("hf:path/to/config.json")  # a Hugging Face config reference
    assert not is_spec_path("torchvision:resnet18") and not is_spec_path("net.py:Net") and not is_spec_path(3)


@pytest.mark.parametrize("path", sorted(SPECS.iterdir()), ids=lambda p: p.name)
def test_spec_json_matches_the_schema(path: Path) -> None:
    import json

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SPECS.parents[1] / "docs" / "modelmeter-1.schema.json").read_text(encoding="utf-8"))
    doc = json.loads(analyze(path).to_json())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == []
    assert doc["device"] == "spec" and doc["uncounted_ops"] == {}
    assert modelmeter.Report.from_dict(doc) == analyze(path)  # the JSON document carries the whole report
