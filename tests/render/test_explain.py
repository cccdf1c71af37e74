"""``explain``: the seeds' own arithmetic, printed; every explained number is the engine's number and every
printed expression evaluates to it."""

from __future__ import annotations

import ast
import io
import math
import operator
from pathlib import Path

import pytest

import modelmeter
from modelmeter.cli import _utf8, main
from modelmeter.render.explain import explain_layers
from modelmeter.spec import analyze

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "examples" / "specs"
SEEDS = ROOT / "examples" / "seed_models.py"

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def evaluate(expr: str) -> float:
    """The value of a printed numeric expression (·, −, floor(...)), with no eval()."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "floor":
            return math.floor(ev(node.args[0]))
        raise ValueError(f"unexpected {ast.dump(node)} in {expr!r}")

    return ev(ast.parse(expr.replace("·", "*").replace("−", "-"), mode="eval"))


def check_report(report: modelmeter.Report) -> int:
    """Every explanation agrees with its row and its arithmetic is right; returns how many were explained."""
    explained = 0
    for row, e in explain_layers(report):
        if e is None:
            continue
        explained += 1
        assert e.params == row.params, (row.name, e)
        if e.macs is not None:
            assert e.macs == row.macs, (row.name, e)
        if e.buffers:
            assert e.buffers == row.buffers, (row.name, e)
        for line in [*e.lines, *e.shape_rules]:
            assert evaluate(line.numbers) == line.value, (row.name, line)
        for rule in e.shape_rules:  # the shape rules end at the engine's output size
            assert rule.value in row.output_shapes[0][2:], (row.name, rule)
    return explained


# -- the seeds' own arithmetic ------------------------------------------------------------------------------
LENET_LINES = [
    "conv1        Conv2d(1→6, k=5x5)   out (1, 6, 28, 28)   H_out = floor((32 + 2·0 − 1·(5−1) − 1)/1 + 1) = 28",
    "             params  = (k_h·k_w·C_in + 1)·C_out = (5·5·1 + 1)·6 = 156",
    "             MACs    = k_h·k_w·C_in · C_out·H_out·W_out = 5·5·1 · 6·28·28 = 117,600",
    "             params  = (k_h·k_w·C_in + 1)·C_out = (5·5·6 + 1)·16 = 2,416",
    "             params  = in·out + out = 400·120 + 120 = 48,120",
    "             params  = in·out + out = 120·84 + 84 = 10,164",
    "             params  = in·out + out = 84·10 + 10 = 850",
    "total        params  = 156 + 2416 + 48120 + 10164 + 850 = 61,706",
]


def test_lenet5_spec_explains_the_seed() -> None:
    text = analyze(SPECS / "lenet5.yaml").explain()
    lines = text.splitlines()
    for expected in LENET_LINES:
        assert expected in lines


def test_lenet5_torch_explains_the_seed() -> None:
    pytest.importorskip("torch")
    report = modelmeter.summary(f"{SEEDS}:LeNet5")
    text = report.explain()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for expected in LENET_LINES:  # the same arithmetic (names are padded to another width)
        assert " ".join(expected.split()) in lines
    assert check_report(report) == 5


def test_conv_448_seed000() -> None:
    text = analyze(SPECS / "conv_3_16.yaml").explain()
    assert "params  = (k_h·k_w·C_in + 1)·C_out = (3·3·3 + 1)·16 = 448" in text
    assert "H_out = floor((224 + 2·0 − 1·(3−1) − 1)/1 + 1) = 222" in text


def test_batchnorm_buffers_and_depthwise() -> None:
    text = analyze(SPECS / "mobilenet_v1.yaml").explain()
    assert "Conv2d(32→32, k=3x3, p=1x1, depthwise, no bias)" in text
    assert "params  = k_h·k_w·C_in/g·C_out = 3·3·32/32·32 = 288" in text
    assert "buffers = 2·C + 1 = 2·32 + 1 = 65" in text


def test_ascii_output() -> None:
    text = analyze(SPECS / "lenet5.yaml").explain(ascii=True)
    text.encode("ascii")  # raises if any symbol is left
    assert "params  = (k_h*k_w*C_in + 1)*C_out = (5*5*1 + 1)*6 = 156" in text
    assert "Conv2d(1->6, k=5x5)" in text


def test_cli_chooses_ascii_when_not_utf8() -> None:
    assert not _utf8(io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert not _utf8(io.TextIOWrapper(io.BytesIO(), encoding="cp1252"))
    assert _utf8(io.TextIOWrapper(io.BytesIO(), encoding="UTF8"))


def test_cli_explain_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(SPECS / "lenet5.yaml"), "--ascii"]) == 0
    out = capsys.readouterr().out
    assert "(5*5*6 + 1)*16 = 2,416" in out


# -- every explained number is the engine's ---------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(SPECS.iterdir()), ids=lambda p: p.name)
def test_specs_explained_equal_rows(path: Path) -> None:
    report = analyze(path)
    assert check_report(report) > 0
    assert all(e is not None for _, e in explain_layers(report))  # every spec layer type has an explainer


@pytest.mark.parametrize("name", ["LeNet5", "AlexNetNoBias", "BatchNormCNN", "MnistCNN", "Dense215", "Conv3to16"])
def test_seed_models_explained_equal_rows(name: str) -> None:
    pytest.importorskip("torch")
    assert check_report(modelmeter.summary(f"{SEEDS}:{name}")) > 0


@pytest.mark.parametrize(
    "ref", ["torchvision:resnet18", "torchvision:mobilenet_v2", "torchvision:vit_b_16", "torchvision:convnext_tiny"]
)
def test_torchvision_explained_equal_rows(ref: str) -> None:
    pytest.importorskip("torchvision")
    report = modelmeter.summary(ref)
    n = check_report(report)
    convs = sum(1 for r in report.layers if r.type == "Conv2d")
    assert n >= convs > 0


def test_torch_classic_layers_explained_equal_rows() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(50, 16)
            self.ln = nn.LayerNorm(16)
            self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
            self.lstm = nn.LSTM(16, 8, num_layers=2, bidirectional=True, batch_first=True)
            self.gru = nn.GRU(16, 8)
            self.up = nn.ConvTranspose1d(8, 4, 3, stride=2)
            self.gn = nn.GroupNorm(2, 4)
            self.pool = nn.AvgPool1d(2)
            self.shared = nn.Linear(7, 7)  # called twice: its MACs twice

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            x = self.ln(self.emb(tokens))  # (N, T, 16)
            x = self.attn(x, x, x, need_weights=False)[0]
            x = self.lstm(x)[0]  # (N, T, 16)
            x = self.gru(x)[0]
            x = self.pool(self.gn(self.up(x.transpose(1, 2))))  # (N, 4, L)
            return self.shared(self.shared(x))

    report = modelmeter.summary(Mixed(), input_data=torch.zeros(2, 7, dtype=torch.long))
    check_report(report)
    types = {row.type for row, e in explain_layers(report) if e is not None}
    assert {
        "Embedding",
        "LayerNorm",
        "MultiheadAttention",
        "LSTM",
        "GRU",
        "ConvTranspose1d",
        "GroupNorm",
        "AvgPool1d",
        "Linear",
    } <= types
    assert "MACs x2" in report.explain()


def test_cross_attention_and_unbatched_explained_equal_rows() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    class Cross(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cross = nn.MultiheadAttention(16, 4, kdim=6, vdim=10, batch_first=True)
            self.self_attn = nn.MultiheadAttention(16, 2, add_bias_kv=True)
            self.rnn = nn.GRU(16, 8)

        def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            x = self.cross(q, k, v, need_weights=False)[0]  # (N=2, T=5, 16) attending to S=9 positions
            x = x[0]  # unbatched (5, 16)
            x = self.self_attn(x, x, x, need_weights=False)[0]
            return self.rnn(x)[0]  # unbatched GRU

    report = modelmeter.summary(Cross(), input_size=[(2, 5, 16), (2, 9, 6), (2, 9, 10)])
    assert check_report(report) == 3
    # Q 2*5*16*16, K 2*9*6*16, V 2*9*10*16, scores + values 2*4*5*9*2*4, out 2*5*16*16
    assert report.layer("cross").macs == 2_560 + 1_728 + 2_880 + 2_880 + 2_560
    text = report.explain()
    assert "2·5·16·16 + 2·9·6·16 + 2·9·10·16 + 2·4·5·9·2·4 + 2·5·16·16 = 12,608" in text


def test_unknown_layer_type_says_so() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    class Scale(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gain = nn.Parameter(torch.ones(3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.gain

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.scale = Scale()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.scale(self.fc(x))

    text = modelmeter.summary(Net(), input_size=(1, 3)).explain()
    assert "scale   Scale   no explanation for this layer type; the engine counted params 3, MACs 0" in text
    assert "(the report's total is 15: the rest is in layers without an explanation)" in text
