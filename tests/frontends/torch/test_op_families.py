"""Every op family counted through a real forward, on meta and on the CPU, against closed-form arithmetic."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import modelmeter  # noqa: E402


class Fn(nn.Module):
    """Wraps a function of the inputs as a model."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def count(model, *shapes, **kw):
    """(macs, flops, uncounted) on meta, checked identical on the CPU."""
    if not isinstance(model, nn.Module):
        model = Fn(model)
    found = []
    for device in ("meta", "cpu"):
        r = modelmeter.summary(model, input_size=list(shapes), device=device, **kw)
        found.append((r.totals.macs, r.totals.flops, r.uncounted))
    assert found[0] == found[1], f"meta {found[0]} != cpu {found[1]}"
    return found[0]


def test_conv_transpose_grouped_dilated():
    # ConvTranspose2d(4 -> 6, k3, groups 2): every input element scatters into (6/2)·3·3 outputs:
    # 1·4·5·5 · 3·9 = 2,700 MACs; bias adds one per output element: 6·7·7 = 294
    m = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert count(m, (1, 4, 5, 5)) == (2_700, 2 * 2_700 + 294, {})
    # Conv1d(4 -> 8, k3, dilation 2, groups 4, no bias) on length 10 -> 6: 8·6 · (4/4)·3 = 144
    assert count(nn.Conv1d(4, 8, 3, dilation=2, groups=4, bias=False), (1, 4, 10)) == (144, 288, {})
    # Conv3d(2 -> 3, k2) on 4³ -> 3³: 3·27 · 2·8 = 1,296 MACs, 81 bias adds
    assert count(nn.Conv3d(2, 3, 2), (1, 2, 4, 4, 4)) == (1_296, 2_592 + 81, {})


def test_matrix_products():
    # Linear(8 -> 5) on (2, 3, 8): 6 rows · 8·5 = 240 MACs, 6·5 = 30 bias adds
    assert count(nn.Linear(8, 5), (2, 3, 8)) == (240, 510, {})
    # baddbmm: (2, 3, 4) @ (2, 4, 5) = 2·3·4·5 = 120 MACs + 30 adds
    assert count(lambda c, a, b: torch.baddbmm(c, a, b), (2, 3, 5), (2, 3, 4), (2, 4, 5)) == (120, 270, {})
    # broadcasting matmul (4, 1, 5, 6) @ (3, 6, 7): 4·3·5·6·7 = 2,520
    assert count(lambda a, b: a @ b, (4, 1, 5, 6), (3, 6, 7)) == (2_520, 5_040, {})
    # einsum 'bij,bjk->bik' on (2, 3, 4), (2, 4, 5): 120
    assert count(lambda a, b: torch.einsum("bij,bjk->bik", a, b), (2, 3, 4), (2, 4, 5))[0] == 120


@pytest.mark.parametrize(
    "fn, per_element",
    [
        (F.relu, 1), (F.gelu, 1), (F.silu, 1), (torch.sigmoid, 1), (torch.tanh, 1), (F.hardswish, 1),
        (F.hardsigmoid, 1), (F.mish, 1), (F.elu, 1), (F.leaky_relu, 1), (F.softplus, 1), (F.relu6, 1),
        (lambda x: x + x, 1), (lambda x: x * 2, 1), (lambda x: x / 3, 1), (lambda x: x - 1, 1),
        (lambda x: x.exp(), 1), (lambda x: x.rsqrt(), 1), (lambda x: x.pow(2), 1), (lambda x: x.clamp(0, 1), 1),
        (lambda x: torch.where(x > 0, x, 0.0), 2),  # compare + select
        (lambda x: torch.lerp(x, x, 0.5), 3), (lambda x: torch.addcmul(x, x, x), 3),
        (lambda x: F.relu(x, inplace=True), 1), (lambda x: x.add_(1), 1),
    ],
)  # fmt: skip
def test_elementwise_and_activations(fn, per_element):
    # (2, 3, 4, 5): 120 elements, one FLOP per element per step
    assert count(fn, (2, 3, 4, 5)) == (0, 120 * per_element, {})


def test_softmax_and_reductions():
    assert count(lambda x: x.softmax(-1), (2, 3, 4)) == (0, 24 * 5, {})  # max, subtract, exp, sum, divide
    assert count(lambda x: F.log_softmax(x, 1), (2, 3, 4)) == (0, 120, {})
    assert count(lambda x: x.mean((2, 3)), (2, 3, 4, 5)) == (0, 120, {})  # one add per input element
    assert count(lambda x: x.sum(), (2, 3, 4, 5)) == (0, 120, {})
    assert count(lambda x: x.amax(-1), (2, 3)) == (0, 6, {})
    assert count(lambda x: x.var(-1), (2, 3)) == (0, 24, {})  # mean, subtract, square, sum


def test_norms():
    x = (2, 4, 6, 6)  # 288 elements
    bn = nn.BatchNorm2d(4)
    assert count(bn.eval(), x) == (0, 288 * 4, {})  # subtract, scale, weight, bias
    # statistics (5) + weight and bias per element, + 1 for num_batches_tracked += 1
    assert count(bn.train(), x) == (0, 288 * 7 + 1, {})
    assert count(nn.BatchNorm2d(4, affine=False).eval(), x) == (0, 288 * 2, {})
    assert count(nn.GroupNorm(2, 4), x) == (0, 288 * 7, {})
    assert count(nn.InstanceNorm2d(4), x) == (0, 288 * 5, {})
    assert count(nn.LayerNorm(6), x) == (0, 288 * 7, {})
    assert count(nn.LayerNorm(6, bias=False), x) == (0, 288 * 6, {})
    assert count(nn.RMSNorm(6), x) == (0, 288 * 4, {})  # square, sum, scale + weight


def test_pooling_and_resampling():
    x = (1, 2, 8, 8)
    # MaxPool2d(2): 2·4·4 outputs · 4; AvgPool2d(3, stride 1, pad 1): 2·8·8 · 9
    assert count(nn.MaxPool2d(2), x) == (0, 32 * 4, {})
    assert count(nn.AvgPool2d(3, 1, 1), x) == (0, 128 * 9, {})
    # adaptive average 8x8 -> 3x3: windows per dimension [0,3) [2,6) [5,8) = 3 + 4 + 3 = 10; 2 planes · 10·10
    assert count(nn.AdaptiveAvgPool2d(3), x) == (0, 200, {})
    assert count(nn.AdaptiveMaxPool2d(1), x) == (0, 128, {})
    assert count(nn.MaxPool1d(3), (1, 2, 9)) == (0, 2 * 3 * 3, {})
    assert count(nn.AvgPool3d(2), (1, 1, 4, 4, 4)) == (0, 8 * 8, {})
    # bilinear x2: 2·16·16 outputs · 7 (4 multiplies + 3 adds); nearest copies
    assert count(nn.Upsample(scale_factor=2, mode="bilinear"), x) == (0, 512 * 7, {})
    assert count(nn.Upsample(scale_factor=2, mode="nearest"), x) == (0, 0, {})
    assert count(nn.Upsample(scale_factor=2, mode="bicubic"), x) == (0, 512 * 31, {})


def test_zero_cost_ops_are_declared():
    def moves(x, idx):
        y = x.view(2, 12).t().reshape(3, 8).contiguous()
        z = torch.cat([y, y]).flip(0)[1:, :4].permute(1, 0)
        return z.unsqueeze(0).expand(2, 4, 5).clone(), x[:, idx], F.pad(x, (1, 1))

    model = Fn(moves)
    report = modelmeter.summary(
        model, input_data=(torch.randn(2, 3, 4), torch.tensor([0, 2])), device="cpu", strict=True
    )
    assert (report.totals.macs, report.totals.flops, report.uncounted) == (0, 0, {})
    emb = nn.Embedding(10, 4)
    r = modelmeter.summary(emb, input_size=(2, 3), dtypes=["int64"], strict=True)
    assert (r.totals.flops, r.uncounted) == (0, {})


def test_dropout_in_training_multiplies_and_rescales():
    # (4, 5): mask multiply + rescale = 2 per element in training; identity in eval
    assert count(nn.Dropout(0.5).train(), (4, 5)) == (0, 40, {})
    assert count(nn.Dropout(0.5).eval(), (4, 5)) == (0, 0, {})


def test_histc_counts_each_input_element():
    class Hist(torch.nn.Module):
        def forward(self, x):
            return torch.histc(x, bins=8, min=0, max=8)

    r = modelmeter.summary(Hist(), input_size=(3, 10), device="cpu")
    assert r.uncounted == {}
    assert r.totals.flops == 4 * 3 * 10  # subtract, scale, floor, increment per element = 120
