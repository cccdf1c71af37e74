"""Every torchvision classification, segmentation and video weight entry against its published figures.

``meta["num_params"]`` must match exactly and ``meta["_ops"]`` (GMACs of conv/linear/matmul/attention at the
published input size) within 0.0005 G, and no op may run without a formula (``uncounted_ops`` empty). Runs on
meta: no weights are allocated, so the whole zoo takes ~1 min.
"""

import pytest

pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")

import modelmeter  # noqa: E402
from modelmeter.frontends.torch.references import load_torchvision  # noqa: E402


def _entries():
    names = tvm.list_models(module=tvm) + tvm.list_models(module=tvm.segmentation) + tvm.list_models(module=tvm.video)
    return [(name, w.name) for name in sorted(set(names)) for w in tvm.get_model_weights(name)]


ENTRIES = _entries()


def test_zoo_is_complete():
    # 115 classification + 6 segmentation + 10 video entries in torchvision 0.29 (a drop would hide models)
    assert len(ENTRIES) >= 131


@pytest.mark.zoo
@pytest.mark.parametrize("name,weights", ENTRIES, ids=[f"{n}:{w}" for n, w in ENTRIES])
def test_published_params_and_gmacs(name, weights):
    loaded = load_torchvision(f"torchvision:{name}:{weights}")
    report = modelmeter.summary(loaded.model, input_size=loaded.input_size)
    assert report.device in ("meta", "cpu")  # strategy.py picks per model; the counts do not depend on it
    assert report.totals.params == loaded.published["num_params"]
    assert abs(report.totals.macs / 1e9 - loaded.published["_ops"]) <= 0.0005
    assert report.uncounted == {}
