"""Memory traffic (bytes read and written) and arithmetic intensity, against hand counts and torchstat's figures.

Convention: docs/conventions.md, "Memory traffic". Every figure below is written out from the layer's shapes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import modelmeter  # noqa: E402
from modelmeter.compat.torchstat import torchstat_view  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


def test_conv_reads_input_weight_bias_and_writes_output():
    r = modelmeter.summary(nn.Conv2d(3, 16, 3, padding=1), input_size=(1, 3, 32, 32))
    row = r.layer("")
    assert row.read_bytes == (3 * 32 * 32 + 16 * 3 * 3 * 3 + 16) * 4  # input 3072 + weight 432 + bias 16, fp32
    assert row.write_bytes == 16 * 32 * 32 * 4  # = 65,536
    assert row.flops == 2 * (16 * 32 * 32 * 27) + 16 * 32 * 32  # 2 x 442,368 MACs + one bias add per output
    assert row.intensity == pytest.approx(901_120 / (14_080 + 65_536))  # = 11.32 FLOP/B


def test_linear_reads_the_whole_weight_once():
    r = modelmeter.summary(nn.Linear(256, 128), input_size=(4, 256))
    row = r.layer("")
    assert row.read_bytes == (128 + 4 * 256 + 128 * 256) * 4  # bias + input + weight (t() is a view) = 135,680
    assert row.write_bytes == 4 * 128 * 4  # = 2,048
    assert row.intensity == pytest.approx((2 * 4 * 256 * 128 + 4 * 128) / (135_680 + 2_048))  # = 1.907 FLOP/B


def test_depthwise_conv_has_low_intensity():
    dw = modelmeter.summary(nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False), input_size=(1, 32, 56, 56))
    dense = modelmeter.summary(nn.Conv2d(32, 32, 3, padding=1, bias=False), input_size=(1, 32, 56, 56))
    row = dw.layer("")
    assert row.read_bytes == (32 * 56 * 56 + 32 * 9) * 4  # input 100,352 + weight 288 elements = 402,560
    assert row.write_bytes == 32 * 56 * 56 * 4  # = 401,408
    assert row.flops == 2 * 32 * 56 * 56 * 9  # 9 MACs per output = 1,806,336
    assert row.intensity == pytest.approx(1_806_336 / 803_968)  # = 2.25 FLOP/B: memory-bound on any GPU
    # the dense conv does 32x the arithmetic on nearly the same bytes (weight 9,216 instead of 288 elements)
    assert dense.layer("").intensity == pytest.approx(2 * 32 * 100_352 * 9 / ((100_352 + 9_216 + 100_352) * 4))
    assert dense.layer("").intensity > 25 * row.intensity


def test_in_place_views_broadcast_and_half_precision():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(8, 1, 1))

        def forward(self, x):
            y = torch.relu_(x.view(1, 8, 4, 4))  # the view moves nothing; relu_ reads and writes 128 elements
            return y + self.bias  # bias broadcast over 4x4: read as 8 elements, not 128

    r = modelmeter.summary(Net(), input_size=(1, 128))
    assert r.totals.read_bytes == (128 + 128 + 8) * 4  # relu_ in, add's two operands
    assert r.totals.write_bytes == (128 + 128) * 4  # relu_ out, add out
    half = modelmeter.summary(nn.Linear(64, 32, bias=False).half(), input_size=(2, 64), dtypes=[torch.float16])
    assert half.totals.read_bytes == (2 * 64 + 64 * 32) * 2  # fp16: two bytes per element
    assert half.totals.write_bytes == 2 * 32 * 2


def test_embedding_reads_the_rows_it_fetches():
    r = modelmeter.summary(nn.Embedding(50_000, 64), input_data=torch.tensor([[1, 2, 3]]))
    assert r.totals.read_bytes == 3 * 8 + 3 * 64 * 4  # three int64 ids + three fp32 rows of 64, not the table
    assert r.totals.write_bytes == 3 * 64 * 4


def test_rows_ops_and_totals_agree_and_json_carries_them():
    r = modelmeter.summary(str(ROOT / "examples/seed_models.py:LeNet5"))
    leaves = [row for row in r.layers if row.name and "." not in row.name]
    own = r.layer("").read_bytes - sum(row.read_bytes for row in leaves)  # F.relu / view in LeNet's forward
    assert r.totals.read_bytes == sum(op.read_bytes for op in r.ops) == r.layer("").read_bytes
    assert r.totals.write_bytes == sum(op.write_bytes for op in r.ops)
    assert own >= 0
    doc = json.loads(r.to_json())
    assert doc["totals"]["read_bytes"] == r.totals.read_bytes and doc["layers"][1]["write_bytes"] > 0
    assert doc["totals"]["intensity"] == pytest.approx(r.totals.flops / (r.totals.read_bytes + r.totals.write_bytes))


def test_seed_001_alexnet_torchstat_memory_figures():
    """Seed 001 prints torchstat's `Total memory: 4.98MB` and `Total MemR+W: 244.14MB` for its AlexNet variant."""
    r = modelmeter.summary(str(ROOT / "examples/seed_models.py:AlexNetNoBias"))
    view = torchstat_view(r)
    # torchstat: per leaf module, (input + params) read and output written (ReLU: input read and written),
    # fp32. Reads: conv1 150,528+34,848; relu1 290,400; pool1 290,400; conv2 69,984+460,800; relu2 139,968;
    # pool2 139,968; conv3 32,448+663,552; relu3 64,896; conv4 64,896+884,736; relu4 43,264;
    # conv5 43,264+589,824; relu5 43,264; pool3 43,264; fc1 9,216+37,752,832; relu 4,096; fc2 4,096+16,781,312;
    # relu 4,096; fc3 4,096+4,097,000 (dropouts: nothing) = 62,707,048 elements.
    # Writes: 290,400 x2 + 69,984 + 139,968 x2 + 32,448 + 64,896 x2 + 43,264 x4 + 9,216 + 4,096 x4 + 1,000
    # = 1,292,616 elements. (62,707,048 + 1,292,616) x 4 B = 255,998,656 B = 244.139 MiB.
    assert view.mem_rw_bytes == (62_707_048 + 1_292_616) * 4
    # Total memory: every leaf's output, dropouts and in-place ReLUs included: 1,305,928 x 4 B = 4.98 MiB
    # (290,400 x2 + 69,984 + 139,968 x2 + 32,448 + 64,896 x2 + 43,264 x4 + 9,216 x2 + 4,096 x5 + 1,000)
    assert view.memory_bytes == 1_305_928 * 4
    assert view.lines() == "Total memory: 4.98MB\nTotal MemR+W: 244.14MB"
    # modelmeter's own count is the same bytes plus the int64 indices max_pool2d_with_indices writes:
    # (69,984 + 32,448 + 9,216) x 8 B = 893,184 B
    assert r.totals.read_bytes + r.totals.write_bytes == view.mem_rw_bytes + 893_184
    # layer by layer the conv, linear and ReLU rows agree exactly
    rows = {t.name: t for t in view.rows}
    for name in ("feature_extraction.0", "feature_extraction.1", "classifier.1", "classifier.6"):
        assert (r.layer(name).read_bytes, r.layer(name).write_bytes) == (rows[name].read_bytes, rows[name].write_bytes)
    assert r.layer("classifier.0").read_bytes == 0  # dropout in eval returns its input: no traffic
