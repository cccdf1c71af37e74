"""Cross-frontend equality: a PyTorch network and its ONNX export give the same params and MACs.

Each model is exported with ``torch.onnx.export(dynamo=False, training=PRESERVE)``: the TorchScript exporter,
with BatchNorm kept as BatchNormalization (in EVAL mode it folds BN into the conv, which changes the weights).
Every weight is randomized first: the TorchScript exporter stores tensors with equal contents once (freshly
initialized BatchNorm weights are all ones), which is right for the file but not the module's own count.
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import seed_models  # noqa: E402  (examples/, put on sys.path by conftest)
from torch import nn  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.frontends.onnx import analyze_onnx  # noqa: E402


def _export(model: nn.Module, shape: tuple[int, ...], path) -> None:
    model.eval()
    torch.manual_seed(0)
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            if t.is_floating_point():
                t.uniform_(0.5, 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.randn(*shape),),
            str(path),
            dynamo=False,
            training=torch.onnx.TrainingMode.PRESERVE,
            input_names=["x"],
        )


def _both(model: nn.Module, shape: tuple[int, ...], tmp_path):
    model.eval()  # the export runs in eval mode: count the module in it too (dropout is then the identity)
    ref = modelmeter.summary(model, input_size=shape)
    path = tmp_path / "model.onnx"
    _export(model, shape, path)
    return ref, analyze_onnx(path)


SEEDS = ["LeNet5", "AlexNetNoBias", "BatchNormCNN", "MnistCNN", "Dense215", "Conv3to16"]


@pytest.mark.parametrize("name", SEEDS)
def test_seed_networks_equal(name, tmp_path):
    cls = getattr(seed_models, name)
    ref, got = _both(cls(), cls.input_size, tmp_path)
    assert got.totals.params == ref.totals.params
    assert got.totals.macs == ref.totals.macs  # conv, Gemm: the same formulas, exactly
    assert got.totals.flops == ref.totals.flops  # bias adds, ReLU, pooling, BatchNorm in eval: also exact
    assert got.uncounted == {}


def test_lenet5_layer_rows(tmp_path):
    ref, got = _both(seed_models.LeNet5(), (1, 1, 32, 32), tmp_path)
    for layer in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        a, b = ref.layer(layer), got.layer(layer)
        assert (b.params, b.macs, b.output_shapes) == (a.params, a.macs, a.output_shapes)
    assert got.layer("conv1").params == (5 * 5 * 1 + 1) * 6 == 156
    assert got.layer("conv1").macs == 5 * 5 * 1 * 6 * 28 * 28 == 117_600


def test_resnet18(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    ref, got = _both(torchvision.models.resnet18(), (1, 3, 224, 224), tmp_path)
    assert got.totals.params == ref.totals.params == 11_689_512
    assert got.totals.macs == ref.totals.macs  # 1.814 G: every MAC is a Conv or the fc Gemm
    assert got.totals.flops == ref.totals.flops
    # BN running mean and var are buffers in both; torch also has num_batches_tracked (one per BN, 20 of them)
    assert got.totals.buffers == ref.totals.buffers - 20
    # the hierarchy comes from the node names (/layer1/layer1.0/conv1/Conv)
    assert got.layer("layer1.0.conv1").macs == ref.layer("layer1.0.conv1").macs == 64 * 9 * 64 * 56 * 56
    assert got.layer("layer4").params == ref.layer("layer4").params


def test_mobilenet_v3_small(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    ref, got = _both(torchvision.models.mobilenet_v3_small(), (1, 3, 224, 224), tmp_path)
    assert got.totals.params == ref.totals.params == 2_542_856
    assert got.totals.macs == ref.totals.macs
    assert abs(got.totals.flops - ref.totals.flops) <= ref.totals.flops * 0.001
    assert got.uncounted == {}


class _Encoder(nn.Module):
    input_size = (2, 16, 32)

    def __init__(self) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

    def forward(self, x):
        return self.encoder(x)


def test_transformer_encoder(tmp_path):
    ref, got = _both(_Encoder(), _Encoder.input_size, tmp_path)
    assert got.totals.params == ref.totals.params
    # per layer: in-proj 2·16·32·96 + scores and values 2·4·16·16·(8+8) + out-proj 2·16·32·32
    # + feed-forward 2·16·(32·64 + 64·32) = 98,304 + 32,768 + 32,768 + 131,072 = 294,912; two layers
    assert ref.totals.macs == 2 * (2 * 16 * 32 * 96 + 2 * 4 * 16 * 16 * 16 + 2 * 16 * 32 * 32 + 2 * 16 * 4096)
    assert got.totals.macs == ref.totals.macs
    # FLOPs: 12 more in ONNX, all on 1-element tensors: the exporter computes each layer's attention scale
    # 1/sqrt(head_dim) at run time (Sqrt x3, Div, Mod, Add per layer = 6 FLOPs, two layers)
    assert got.totals.flops - ref.totals.flops == 12
    assert got.uncounted == {}


class _LSTMNet(nn.Module):
    input_size = (12, 3, 10)  # (seq, batch, features)

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
        self.head = nn.Linear(40, 5)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


def test_lstm(tmp_path):
    ref, got = _both(_LSTMNet(), _LSTMNet.input_size, tmp_path)
    assert got.totals.params == ref.totals.params
    # layer 0: 2 directions · 36 rows · 4·20·(10+20); layer 1: 2 · 36 · 4·20·(40+20); head 36·40·5
    assert ref.totals.macs == 2 * 36 * 80 * 30 + 2 * 36 * 80 * 60 + 36 * 40 * 5
    assert got.totals.macs == ref.totals.macs
    assert got.uncounted == {}


def test_dynamo_export_scopes_from_metadata(tmp_path):
    """The dynamo exporter names nodes node_Conv_0 and keeps module paths and classes in metadata_props."""
    model = seed_models.LeNet5().eval()
    ref = modelmeter.summary(model, input_size=(1, 1, 32, 32))
    path = tmp_path / "lenet_dynamo.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(1, 1, 32, 32),), str(path), dynamo=True, verbose=False)
    got = analyze_onnx(path)
    assert (got.totals.params, got.totals.macs) == (ref.totals.params, ref.totals.macs) == (61_706, 416_520)
    for layer in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        assert got.layer(layer).type == ref.layer(layer).type  # Conv2d, Linear: from pkg.torch.onnx.class_hierarchy
        assert got.layer(layer).macs == ref.layer(layer).macs


def test_shufflenet_runtime_shape_arithmetic(tmp_path):
    """channel_shuffle and chunk are traced as Shape -> Gather -> Div -> Concat -> Reshape / Slice; onnx's data
    propagation stops at Div, so without folding that arithmetic half the convs had no shapes (49% of MACs)."""
    torchvision = pytest.importorskip("torchvision")
    ref, got = _both(torchvision.models.shufflenet_v2_x1_0(), (1, 3, 224, 224), tmp_path)
    assert got.totals.params == ref.totals.params == 2_278_604
    assert got.totals.macs == ref.totals.macs
    # FLOPs: 52 more, the traced chunk arithmetic on 1-element shape tensors: 13 x (Div + 2 Mul + Add) = 52
    ops = {o.op: o for o in got.by_op()}
    assert [(ops[k].calls, ops[k].flops) for k in ("Div", "Mul", "Add")] == [(13, 13), (26, 26), (13, 13)]
    assert got.totals.flops - ref.totals.flops == 52
    assert got.uncounted == {}


def test_efficientnet_b0_silu(tmp_path):
    """SiLU is exported as Sigmoid then Mul; counted as one activation (1 FLOP per element, as torch's silu)."""
    torchvision = pytest.importorskip("torchvision")
    ref, got = _both(torchvision.models.efficientnet_b0(), (1, 3, 224, 224), tmp_path)
    assert got.totals.params == ref.totals.params == 5_288_548
    assert got.totals.macs == ref.totals.macs
    assert got.totals.flops == ref.totals.flops
    assert any("49 Mul node(s) complete a SiLU" in n for n in got.notes)
