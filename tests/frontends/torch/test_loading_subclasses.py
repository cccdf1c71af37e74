"""Subclasses of classic layers keep their meaning (issue 12, defect 1): nothing is read from a class name."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import modelmeter  # noqa: E402


class MyPool(nn.MaxPool2d):
    """A user's pooling subclass: its name ends in neither '1d', '2d' nor '3d'."""


class MyAvg(nn.AvgPool3d):
    pass


class MyAdaptive(nn.AdaptiveAvgPool1d):
    pass


class PoolNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = MyPool(2)

    def forward(self, x):
        return self.pool(self.conv(x))


def test_a_pooling_subclass_counts_like_its_base():
    r = modelmeter.summary(PoolNet(), input_size=(1, 3, 16, 16))
    assert r.totals.params == sum(p.numel() for p in PoolNet().parameters()) == (3 * 3 * 3 + 1) * 8  # 224
    assert r.totals.macs == 3 * 3 * 3 * 8 * 16 * 16  # 55,296: the conv; pooling is other FLOPs
    pool = r.layer("pool")
    assert pool.type == "MyPool"
    assert pool.attrs["kernel_size"] == [2, 2] and pool.attrs["stride"] == [2, 2] and pool.attrs["dilation"] == [1, 1]
    assert pool.output_shapes[0] == (1, 8, 8, 8)
    assert "MyPool(k=2x2, s=2x2)" in r.explain()


@pytest.mark.parametrize(
    ("module", "shape", "key", "value"),
    [
        (MyAvg(2), (1, 2, 4, 4, 4), "kernel_size", [2, 2, 2]),
        (MyAdaptive(3), (1, 2, 9), "output_size", [3]),
    ],
)
def test_other_pooling_subclasses_get_their_dims_from_their_base(module, shape, key, value):
    r = modelmeter.summary(module, input_size=shape)
    assert r.layers[0].attrs[key] == value


def test_timm_maxvit_with_avgpool2dsame_counts():
    timm = pytest.importorskip("timm")
    with torch.device("meta"):
        model = timm.create_model("maxvit_tiny_tf_224", pretrained=False)
    same = [m for m in model.modules() if type(m).__name__ == "AvgPool2dSame"]
    assert same and all(isinstance(m, nn.AvgPool2d) for m in same)  # the subclass that crashed
    r = modelmeter.summary(model, input_size=(1, 3, 224, 224))
    assert r.totals.params == sum(p.numel() for p in model.parameters()) == 30_916_528
    assert r.totals.macs > 5_000_000_000  # timm lists 5.6 GMACs; exactness is checked on resnet50 (timm: refs)
    assert r.uncounted == {}


def test_llm_parts_find_norms_by_what_they_are():
    from modelmeter.frontends.torch.measure.llm import params_by_part

    class Scale(nn.Module):  # a norm whose class name does not say so (4 params)
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(4))
            self.variance_epsilon = 1e-6

    class NormalizingLinear(nn.Linear):  # "Norm" in its name, but a linear layer: (4+1)*4 = 20 params
        pass

    model = nn.ModuleDict({"ln": Scale(), "mlp": NormalizingLinear(4, 4)})
    parts, _ = params_by_part(model)
    assert parts["norm"] == 4 and parts["mlp"] == 20
