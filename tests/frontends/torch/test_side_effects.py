"""summary() leaves the user's model exactly as it was: device, dtype, mode, requires_grad, values, hooks."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.errors import ForwardError  # noqa: E402


def snapshot(model):
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "params": [(n, p.device, p.dtype, p.requires_grad, id(p)) for n, p in model.named_parameters()],
        "modes": [(n, m.training) for n, m in model.named_modules()],
        "hooks": [
            (n, len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
            for n, m in model.named_modules()
        ],
        "grad_enabled": torch.is_grad_enabled(),
        "default_dtype": torch.get_default_dtype(),
    }


def assert_unchanged(model, before):
    after = snapshot(model)
    assert after["params"] == before["params"]
    assert after["modes"] == before["modes"]
    assert after["hooks"] == before["hooks"]
    assert after["grad_enabled"] == before["grad_enabled"]
    assert after["default_dtype"] == before["default_dtype"]
    assert after["state"].keys() == before["state"].keys()
    for k, v in before["state"].items():
        assert torch.equal(after["state"][k], v), k


def make_model():
    m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 4))
    m = m.double()
    m[0].weight.requires_grad_(False)
    m.train()
    m[4].eval()  # mixed modes must survive too
    return m


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_model_unchanged_after_summary(device):
    m = make_model()
    before = snapshot(m)
    r = modelmeter.summary(m, input_size=(2, 3, 8, 8), dtypes=["float64"], device=device)
    assert r.totals.params == (3 * 9 * 8 + 8) + 16 + (288 * 4 + 4)
    # BatchNorm in train mode would update running stats and num_batches_tracked: it must not, on any device
    assert_unchanged(m, before)


@pytest.mark.parametrize("device, extra", [("meta", {}), ("cpu", {}), ("meta", {"train": True})])
def test_rnn_keeps_its_own_weights(device, extra):
    """An RNN's forward refreshes its list of weights (``_flat_weights``): after the analysis it must hold the
    module's own parameters, not the stand-ins (on the CPU, copies of every weight kept alive)."""
    lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    before = snapshot(lstm)
    r = modelmeter.summary(lstm, input_size=(1, 5, 8), device=device, **extra)
    # per layer: 4 gates x H x (input + H) weights + 2 biases of 4H: 4*16*(8+16) + 128 + 4*16*(16+16) + 128 = 3840
    assert r.totals.params == 4 * 16 * (8 + 16) + 2 * 4 * 16 + 4 * 16 * (16 + 16) + 2 * 4 * 16 == 3840
    assert all(w is p for w, p in zip(lstm._flat_weights, lstm.parameters(), strict=True))
    assert [ref() for ref in lstm._flat_weight_refs] == list(lstm.parameters())
    assert_unchanged(lstm, before)


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_weights_recomputed_by_hooks_are_put_back(device):
    """Old-style weight_norm and pruning set ``module.weight`` in a forward pre-hook, from the parameters: the
    analysis must not leave a weight computed from its stand-ins (a meta tensor) in the user's module."""
    from torch.nn.utils import prune, weight_norm

    model = nn.Sequential(weight_norm(nn.Linear(4, 4)), nn.ReLU(), nn.Linear(4, 3))
    prune.l1_unstructured(model[2], "weight", amount=0.5)
    before = {i: model[i].__dict__["weight"] for i in (0, 2)}
    values = {i: t.clone() for i, t in before.items()}
    r = modelmeter.summary(model, input_size=(2, 4), device=device)
    # weight_norm: g (4x1) + v (4x4) + bias 4 = 24; pruned: weight_orig 12 + bias 3 = 15 (the mask is a buffer)
    assert r.totals.params == 24 + 15
    for i, t in before.items():
        assert model[i].__dict__["weight"] is t and torch.equal(t, values[i]) and t.device.type == "cpu"


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(10, 20), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(30, 5))  # expects 30 features, gets 20

    def forward(self, x):
        return self.head(self.encoder(x))


def test_forward_error_names_module_and_leaves_no_hooks():
    m = Broken()
    before = snapshot(m)
    with pytest.raises(ForwardError) as info:
        modelmeter.summary(m, input_size=(1, 10))
    err = info.value
    assert err.module_path == "head.0"
    assert err.input_shapes == [[1, 20]]
    assert "head.0" in str(err) and "Linear" in str(err) and "[[1, 20]]" in str(err)
    assert_unchanged(m, before)


class UnregisteredTensor(nn.Module):
    """Holds a plain tensor attribute: meta stand-ins cannot replace it, so the forward falls back to CPU."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.bn = nn.BatchNorm1d(6)
        self.offset = torch.ones(6)  # not a parameter or buffer

    def forward(self, x):
        return self.bn(self.fc(x) + self.offset)


def test_cpu_fallback_reports_device_and_leaves_buffers():
    m = UnregisteredTensor().train()
    before = snapshot(m)
    r = modelmeter.summary(m, input_size=(4, 6))
    assert r.device == "cpu"
    assert r.totals.macs == 4 * 6 * 6
    assert_unchanged(m, before)
    assert int(m.bn.num_batches_tracked) == 0


def test_user_input_tensors_not_modified():
    m = nn.Sequential(nn.ReLU(inplace=True))
    x = torch.randn(3, 4)
    kept = x.clone()
    modelmeter.summary(m, input_data=x, device="cpu")
    assert torch.equal(x, kept)
