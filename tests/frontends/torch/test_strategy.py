"""device="auto" picks the CPU or meta per model (strategy.py); the report is the same either way."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")
nn = torch.nn

import seed_models  # noqa: E402  (examples/, put on sys.path by conftest)

import modelmeter  # noqa: E402
from modelmeter.frontends.torch.inputs import Inputs  # noqa: E402
from modelmeter.frontends.torch.strategy import choose_device, estimated_macs  # noqa: E402


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 32)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 2)
        self.head = nn.Linear(32, 100)

    def forward(self, x):
        return self.head(self.enc(self.emb(x)))


class LSTMTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True)
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


SEEDS = [seed_models.LeNet5, seed_models.AlexNetNoBias, seed_models.BatchNormCNN, seed_models.MnistCNN]
CASES = [
    *((cls.__name__, cls, {"input_size": cls.input_size}) for cls in SEEDS),
    ("resnet18", lambda: tvm.resnet18().eval(), {"input_size": (1, 3, 224, 224)}),
    ("mobilenet_v3_small", lambda: tvm.mobilenet_v3_small().eval(), {"input_size": (1, 3, 224, 224)}),
    ("lstm", LSTMTagger, {"input_size": (2, 30, 16)}),
    ("transformer", lambda: TinyTransformer().eval(), {"input_data": (torch.randint(0, 100, (2, 16)),)}),
]


def _doc(model, kwargs, device):
    doc = modelmeter.summary(model, device=device, **kwargs).to_dict()
    assert doc.pop("device") == device
    return doc


@pytest.mark.parametrize("name, make, kwargs", CASES, ids=[c[0] for c in CASES])
def test_cpu_and_meta_give_the_same_report(name, make, kwargs):
    torch.manual_seed(0)
    model = make()
    # every count, shape, per-layer and per-op figure, byte traffic included (batch norm in eval writes only its
    # output on both: meta's empty-on-a-real-device saved statistics are not traffic), except the device
    assert _doc(model, kwargs, "cpu") == _doc(model, kwargs, "meta")


def test_auto_picks_the_cpu_for_tiny_networks_and_meta_for_the_rest():
    image = (1, 3, 224, 224)
    assert modelmeter.summary(seed_models.LeNet5(), input_size=(1, 1, 32, 32)).device == "cpu"
    assert modelmeter.summary(seed_models.MnistCNN(), input_size=(1, 1, 28, 28)).device == "cpu"
    # many small layers: meta since its ops are cached or made directly (meta_cache.py, meta_rules.py)
    assert modelmeter.summary(tvm.mobilenet_v3_small(), input_size=image).device == "meta"
    assert modelmeter.summary(tvm.shufflenet_v2_x0_5(), input_size=image).device == "meta"
    assert modelmeter.summary(tvm.resnet18(), input_size=image).device == "meta"
    assert modelmeter.summary(LSTMTagger(), input_size=(1, 4000, 16)).device == "meta"  # counted whole on meta
    assert modelmeter.summary(TinyTransformer(), input_data=(torch.zeros(1, 8, dtype=torch.long),)).device == "meta"
    # a memory measurement is defined by the meta run
    assert modelmeter.summary(tvm.mobilenet_v3_small(), input_size=image, memory=True).device == "meta"


def test_estimate_for_a_plain_cnn():
    # LeNet-5 pools with F.max_pool2d, which the module walk does not see, so both convs are priced at the full
    # 32x32 map: 5*5*1*6 * 1024 + 5*5*6*16 * 1024 = 153,600 + 2,457,600; the flattened linears run once:
    # 400*120 + 120*84 + 84*10 = 58,920. (The real count is 416,520: the estimate only has to tell thousands
    # of MACs per layer from tens of millions.)
    assert estimated_macs(seed_models.LeNet5(), (1, 1, 32, 32)) == 153_600 + 2_457_600 + 58_920
    assert estimated_macs(TinyTransformer(), (1, 3, 8, 8)) is None  # attention: not an image CNN


def test_cpu_choice_keeps_the_thread_setting():
    threads = torch.get_num_threads()
    assert choose_device(seed_models.LeNet5(), Inputs((1, 1, 32, 32)), memory=False) == "cpu"
    modelmeter.summary(seed_models.LeNet5(), input_size=(1, 1, 32, 32))
    assert torch.get_num_threads() == threads
