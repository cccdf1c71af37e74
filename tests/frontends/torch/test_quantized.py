"""Quantized models (torch.ao.nn.quantized): packed int8 weights are parameters, quantized ops have formulas."""

import pytest

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")
from torch import nn  # noqa: E402
from torch.ao.nn.quantized import Conv2d as QConv2d  # noqa: E402
from torch.ao.nn.quantized import DeQuantize, Quantize  # noqa: E402
from torch.ao.nn.quantized import Linear as QLinear  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.frontends.torch.references import load_torchvision  # noqa: E402

# torch.ao's eager quantization warns that it moves to torchao; the models it builds are what we test
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def test_small_quantized_net_by_hand():
    m = nn.Sequential(
        Quantize(0.1, 0, torch.quint8), QConv2d(4, 8, 3, groups=2, padding=1), nn.Flatten(), QLinear(288, 10),
        DeQuantize(),
    )  # fmt: skip
    r = modelmeter.summary(m, input_size=(2, 4, 6, 6))
    assert r.uncounted == {}
    # conv: weight (8, 4/2, 3, 3) = 144 int8 + 8 float bias; linear: 288*10 int8 + 10 float bias
    assert r.layer("1").params == 144 + 8 == 152
    assert r.layer("3").params == 2_880 + 10 == 2_890
    assert r.totals.params == r.totals.non_trainable_params == 152 + 2_890
    assert dict(r.totals.param_bytes_by_dtype) == {"qint8": 144 + 2_880, "float32": (8 + 10) * 4}
    # conv: out (2, 8, 6, 6) = 576 elements x (4/2)*3*3 = 10,368 MACs; linear: 2*288*10 = 5,760
    assert r.layer("1").macs == 10_368 and r.layer("3").macs == 5_760
    # FLOPs: 2 x MACs + bias adds (576 + 20) + quantize 288 inputs x 4 + dequantize 20 outputs x 2
    assert r.totals.flops == 2 * (10_368 + 5_760) + 576 + 20 + 288 * 4 + 20 * 2


QUANTIZED = [(n, w.name) for n in tvm.list_models(module=tvm.quantization) for w in tvm.get_model_weights(n)]


@pytest.mark.parametrize("name,weights", QUANTIZED, ids=[f"{n}:{w}" for n, w in QUANTIZED])
def test_torchvision_quantized_zoo(name, weights):
    loaded = load_torchvision(f"torchvision:{name}:{weights}")
    r = modelmeter.summary(loaded.model, input_size=loaded.input_size)
    assert r.uncounted == {}
    # MACs: torchvision's published `_ops` for the quantized weights, within 0.0005 G
    assert abs(r.totals.macs / 1e9 - loaded.published["_ops"]) <= 0.0005
    # params: the published num_params is the float model's. Quantizing fuses every BatchNorm into the conv
    # before it: BN's 2*C parameters go and the conv gains a C-element bias, so C fewer per BN. The quantized
    # model also drops what it does not keep of the float one (inception_v3's auxiliary head).
    float_model = load_torchvision(f"torchvision:{name.removeprefix('quantized_')}").model
    kept = {n for n, _ in loaded.model.named_children()}
    dropped = sum(p.numel() for n, p in float_model.named_parameters() if n.split(".")[0] not in kept)
    bn = sum(m.num_features for n, m in float_model.named_modules() if isinstance(m, nn.BatchNorm2d)
             and n.split(".")[0] in kept)  # fmt: skip
    float_params = sum(p.numel() for p in float_model.parameters())
    assert float_params == loaded.published["num_params"]  # the published figure is the float model's
    assert r.totals.params == loaded.published["num_params"] - dropped - bn
