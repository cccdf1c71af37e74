"""The traps of ../shared/PEERS.md that the foundation covers, each against a hand count."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import modelmeter  # noqa: E402


class TiedLM(nn.Module):
    def __init__(self, vocab=100, dim=16):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.emb.weight  # tied

    def forward(self, ids):
        return self.head(self.emb(ids))


def test_tied_weights_counted_once():
    r = modelmeter.summary(TiedLM(), input_size=(1, 5), dtypes=["int64"])
    assert r.totals.params == 100 * 16  # one 100x16 matrix, not two
    assert r.layer("emb").params == r.layer("head").params == 1_600
    assert r.totals.param_bytes == 1_600 * 4
    assert r.totals.macs == 5 * 16 * 100  # the head's matmul on 5 tokens; the lookup is free


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Linear(8, 8)

    def forward(self, x):
        return self.block(torch.relu(self.block(x)))


def test_shared_module_params_once_macs_twice():
    r = modelmeter.summary(Shared(), input_size=(1, 8))
    assert r.totals.params == 8 * 8 + 8 == 72
    assert r.layer("block").calls == 2
    assert r.totals.macs == 2 * 8 * 8 == 128  # it really runs twice
    assert r.layer("block").macs == 128


def test_module_registered_under_two_names_counted_once():
    class TwoNames(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = self.a

        def forward(self, x):
            return self.b(self.a(x))

    r = modelmeter.summary(TwoNames(), input_size=(1, 4))
    assert r.totals.params == 20  # 4*4 + 4
    assert r.totals.macs == 2 * 16


def test_frozen_parameters_are_parameters():
    m = nn.Sequential(nn.Linear(10, 20), nn.Linear(20, 5))
    for p in m[0].parameters():
        p.requires_grad_(False)
    r = modelmeter.summary(m, input_size=(1, 10))
    assert r.totals.params == (10 * 20 + 20) + (20 * 5 + 5) == 325
    assert r.totals.non_trainable_params == 220
    assert r.totals.trainable_params == 105
    assert r.layer("0").trainable_params == 0


class ScaledBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(10))  # a raw parameter on a non-leaf module
        self.fc = nn.Linear(10, 10)

    def forward(self, x):
        return self.fc(x) * self.scale


def test_raw_parameter_on_non_leaf_module():
    r = modelmeter.summary(nn.Sequential(ScaledBlock()), input_size=(1, 10))
    assert r.totals.params == 10 + 110
    assert r.layer("0").params == 120
    assert r.layer("0.fc").params == 110


class MatmulInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(16, 32))

    def forward(self, x):  # x (2, 10, 16)
        y = x @ self.w  # (2, 10, 32): 2*10*16*32 = 10,240
        z = torch.matmul(y, y.transpose(-1, -2))  # (2, 10, 10): 2*10*32*10 = 6,400
        return torch.einsum("bij,bjk->bik", z, y)  # (2, 10, 32): 2*10*10*32 = 6,400


def test_at_matmul_and_einsum_in_forward():
    r = modelmeter.summary(MatmulInForward(), input_size=(2, 10, 16))
    assert r.totals.macs == 10_240 + 6_400 + 6_400
    assert r.layer("").output_shapes == ((2, 10, 32),)


def test_linear_on_3d_input():
    r = modelmeter.summary(nn.Linear(16, 32), input_size=(2, 10, 16))
    assert r.totals.macs == 2 * 10 * 16 * 32 == 10_240  # every one of the 20 rows, not just one
    assert r.totals.flops == 2 * 10_240 + 2 * 10 * 32  # + one bias add per output element


def test_grouped_and_depthwise_conv():
    grouped = modelmeter.summary(nn.Conv2d(8, 16, 3, padding=1, groups=4), input_size=(2, 8, 14, 14))
    assert grouped.totals.params == 16 * (8 // 4) * 3 * 3 + 16 == 304
    assert grouped.totals.macs == 2 * 16 * 14 * 14 * (8 // 4) * 3 * 3 == 112_896
    depthwise = modelmeter.summary(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), input_size=(1, 8, 14, 14))
    assert depthwise.totals.params == 8 * 1 * 3 * 3 == 72
    assert depthwise.totals.macs == 8 * 14 * 14 * 9 == 14_112


@pytest.mark.parametrize(
    "layer,size,macs",
    [
        (nn.Conv1d(3, 4, 5), (1, 3, 20), 4 * 16 * 3 * 5),  # out (1, 4, 16)
        (nn.Conv3d(2, 4, 3), (1, 2, 6, 6, 6), 4 * 4 * 4 * 4 * 2 * 27),  # out (1, 4, 4, 4, 4)
        (nn.Conv2d(3, 8, 3, dilation=2, stride=2), (1, 3, 15, 15), 8 * 6 * 6 * 3 * 9),  # out (1, 8, 6, 6)
        (nn.ConvTranspose2d(4, 8, 3, stride=2), (1, 4, 5, 5), 4 * 5 * 5 * 8 * 9),  # each input into 8*3*3 outputs
        (nn.ConvTranspose1d(4, 6, 3, groups=2), (1, 4, 7), 4 * 7 * (6 // 2) * 3),
    ],
)
def test_conv_family(layer, size, macs):
    assert modelmeter.summary(layer, input_size=size).totals.macs == macs


def test_bmm_and_broadcast_matmul():
    class M(nn.Module):
        def forward(self, a, b, c):
            return torch.bmm(a, b).sum() + (a.unsqueeze(0) @ c).sum()

    # bmm (3,4,5)@(3,5,6): 3*4*5*6 = 360; (1,3,4,5)@(2,1,5,7) -> batch (2,3): 2*3*4*5*7 = 840
    r = modelmeter.summary(M(), input_size=[(3, 4, 5), (3, 5, 6), (2, 1, 5, 7)])
    assert r.totals.macs == 360 + 840


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_scaled_dot_product_attention(device):
    class Attn(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v)

    # q (1,2,8,16), k (1,2,10,16), v (1,2,10,32): scores 2*8*10*16 + values 2*8*10*32 = 7,680
    r = modelmeter.summary(Attn(), input_size=[(1, 2, 8, 16), (1, 2, 10, 16), (1, 2, 10, 32)], device=device)
    assert r.device == device
    assert r.totals.macs == 2 * 8 * 10 * (16 + 32) == 7_680


def test_shapes_inside_tuples_and_dicts():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x, extra):
            return {"a": self.fc(x), "b": (x, extra["y"])}

    x = torch.randn(2, 4)
    r = modelmeter.summary(Pair(), input_data=(x, {"y": torch.randn(5)}))
    assert r.layer("").input_shapes == ((2, 4), (5,))
    assert r.layer("").output_shapes == ((2, 3), (2, 4), (5,))
    assert [(i.shape, i.dtype) for i in r.inputs] == [((2, 4), "float32"), ((5,), "float32")]


def test_keyword_inputs_and_int_dtypes():
    class Emb(nn.Module):
        def __init__(self):
            super().__init__()
            self.e = nn.Embedding(50, 8)
            self.fc = nn.Linear(8, 2)

        def forward(self, input_ids=None):
            return self.fc(self.e(input_ids))

    r = modelmeter.summary(Emb(), input_data={"input_ids": torch.zeros(3, 7, dtype=torch.long)})
    assert r.totals.params == 50 * 8 + 8 * 2 + 2
    assert r.totals.macs == 3 * 7 * 8 * 2


def test_counts_do_not_depend_on_device():
    import seed_models

    meta = modelmeter.summary(seed_models.BatchNormCNN(), input_size=(2, 3, 32, 32), device="meta")
    cpu = modelmeter.summary(seed_models.BatchNormCNN(), input_size=(2, 3, 32, 32), device="cpu")
    assert (meta.device, cpu.device) == ("meta", "cpu")
    assert meta.to_dict()["layers"] == cpu.to_dict()["layers"]
    assert meta.totals == cpu.totals
