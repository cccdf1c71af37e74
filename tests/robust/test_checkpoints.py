"""Checkpoints: state dicts reported per name prefix without running code; pickled objects refused unless trusted."""

from __future__ import annotations

import json
import pathlib
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robust_models import Net
from torch import nn

import modelmeter
from modelmeter.errors import CheckpointError, InputError, ModelMeterError

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.filterwarnings("ignore::FutureWarning")]


class Evil:
    """Unpickling this touches a file: stands for any code a malicious checkpoint could run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_state_dict_matches_the_model_it_came_from(tmp_path: Path) -> None:
    """Params, buffers and bytes of a saved state dict equal those of the live model (BatchNorm buffers too)."""
    model = Net()
    torch.save(model.state_dict(), tmp_path / "net.pt")
    report = modelmeter.summary(tmp_path / "net.pt")
    live = modelmeter.summary(model, input_size=Net.input_size)
    t, lt = report.totals, live.totals
    for field in ("params", "buffers", "param_bytes", "buffer_bytes", "param_bytes_by_dtype"):
        assert getattr(t, field) == getattr(lt, field), field
    assert t.params == 6 * 3 * 3 * 3 + 6 + 6 + 6 + 6 * 8 * 8 * 10 + 10  # conv, bn weight+bias, fc
    assert t.buffers == 6 + 6 + 1  # running_mean, running_var, num_batches_tracked
    assert (t.macs, t.flops, report.device, report.inputs) == (0, 0, "none", ())
    bn = report.layer("bn")
    assert (bn.tensors, bn.params, bn.buffers, bn.bytes) == (5, 12, 13, 12 * 4 + 12 * 4 + 8)
    assert report.layer("conv").params == live.layer("conv").params
    assert [r.name for r in report.layers] == ["", "conv", "bn", "fc"]  # file order, prefixes only
    assert any("no forward ran" in n for n in report.notes)


def test_training_checkpoint_nested_dicts(tmp_path: Path) -> None:
    model = nn.Linear(4, 3)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 7}, tmp_path / "train.ckpt")
    report = modelmeter.summary(str(tmp_path / "train.ckpt"))
    assert report.layer("model").params == 15 and report.layer("model").tensors == 2
    # the optimizer state is training state, not the model's: out of the params and the rows, in a note.
    # Adam keeps exp_avg and exp_avg_sq per parameter (15 elements each) and a float step per parameter
    assert report.totals.params == 15 and not any(r.name.startswith("optimizer") for r in report.layers)
    assert any(n.startswith("optimizer state in optimizer: 6 tensors, 32 elements") for n in report.notes)
    assert any("epoch" in n for n in report.notes)


def test_tied_tensors_count_once(tmp_path: Path) -> None:
    emb = nn.Embedding(10, 4)
    torch.save({"embed.weight": emb.weight.data, "head.weight": emb.weight.data}, tmp_path / "tied.pth")
    report = modelmeter.summary(tmp_path / "tied.pth")
    assert report.totals.params == 40 and report.layer("").tensors == 1
    assert report.layer("embed").params == report.layer("head").params == 40
    assert any("tied" in n for n in report.notes)


def test_safetensors_reads_like_torch_save(tmp_path: Path) -> None:
    safetensors_torch = pytest.importorskip("safetensors.torch")
    sd = Net().state_dict()
    safetensors_torch.save_file(sd, tmp_path / "net.safetensors")
    torch.save(sd, tmp_path / "net.bin")
    a = modelmeter.summary(tmp_path / "net.safetensors").totals
    b = modelmeter.summary(tmp_path / "net.bin").totals
    assert a == b


def test_bfloat16_bytes(tmp_path: Path) -> None:
    torch.save({"w": torch.zeros(3, 5, dtype=torch.bfloat16)}, tmp_path / "half.pt")
    assert modelmeter.summary(tmp_path / "half.pt").totals.param_bytes_by_dtype == (("bfloat16", 30),)


def test_a_pickled_object_never_runs_without_trust(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    torch.save({"weight": torch.zeros(2), "payload": Evil(marker)}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match=r"holds a pickled .*--trust-pickle"):
        modelmeter.summary(tmp_path / "evil.pt")
    assert not marker.exists()
    # the same file with trust: the code runs (which is exactly why it needs the flag)
    modelmeter.summary(tmp_path / "evil.pt", trust_pickle=True)
    assert marker.exists()


def test_full_model_refused_then_analyzed_with_trust(tmp_path: Path) -> None:
    torch.save(nn.Linear(3, 4), tmp_path / "full.pt")
    with pytest.raises(CheckpointError, match="torch.nn.modules.linear.Linear"):
        modelmeter.summary(tmp_path / "full.pt", input_size=(1, 3))
    report = modelmeter.summary(tmp_path / "full.pt", input_size=(1, 3), trust_pickle=True)
    assert (report.totals.params, report.totals.macs, report.device) == (16, 12, "meta")


def test_cli_table_notes_and_json(cli, tmp_path: Path) -> None:
    torch.save(Net().state_dict(), tmp_path / "net.pt")
    table = cli("summary", str(tmp_path / "net.pt"))
    assert table.code == 0 and "4,030" in table.out
    assert "note: checkpoint: no forward ran" in table.err
    doc = json.loads(cli("summary", str(tmp_path / "net.pt"), "--format", "json").out)
    assert doc["device"] == "none" and doc["layers"][2]["name"] == "bn" and doc["layers"][2]["tensors"] == 5
    assert doc["notes"] and doc["partial"] is False


def test_no_tensors(tmp_path: Path) -> None:
    torch.save({"epoch": 3}, tmp_path / "meta.pt")
    with pytest.raises(CheckpointError, match="holds no tensors"):
        modelmeter.summary(tmp_path / "meta.pt")


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("ck") / "net.pt"
    torch.save(Net().state_dict(), path)
    return path.read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_corrupt_checkpoints_give_only_documented_errors(tmp_path: Path, good_bytes: bytes, data) -> None:
    """Random bytes, and real checkpoints with bytes flipped or cut: a report or a ModelMeterError, nothing else."""
    kind = data.draw(st.sampled_from(["random", "flip", "cut"]))
    if kind == "random":
        blob = data.draw(st.binary(min_size=1, max_size=2000))
    elif kind == "cut":
        blob = good_bytes[: data.draw(st.integers(1, len(good_bytes) - 1))]
    else:
        blob = bytearray(good_bytes)
        for _ in range(data.draw(st.integers(1, 8))):
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
        blob = bytes(blob)
    suffix = data.draw(st.sampled_from([".pt", ".bin", ".safetensors"]))
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(blob)
    try:
        modelmeter.summary(path)
    except ModelMeterError:
        pass


def test_legacy_format_is_read_too(tmp_path: Path) -> None:
    """Files from before torch 1.6 cannot be memory-mapped; they are read on meta instead."""
    torch.save(Net().state_dict(), tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    torch.save(Net().state_dict(), tmp_path / "new.pt")
    assert modelmeter.summary(tmp_path / "old.pt").totals == modelmeter.summary(tmp_path / "new.pt").totals


def test_legacy_format_larger_than_memory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modelmeter.frontends.torch import analyze

    torch.save({"w": torch.zeros(1024)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    monkeypatch.setattr(analyze, "available_bytes", lambda: 4096)
    with pytest.raises(CheckpointError, match=r"format of torch before 1\.6, which can only be read whole"):
        modelmeter.summary(tmp_path / "old.pt")
    torch.save({"w": torch.zeros(1024)}, tmp_path / "new.pt")  # the current format is never read whole
    assert modelmeter.summary(tmp_path / "new.pt").totals.param_bytes == 4096


def test_tensor_bytes_are_never_read(tmp_path: Path) -> None:
    """A 256 MiB checkpoint raises the peak memory of a fresh process by far less than its size."""
    import subprocess

    from conftest import python, pythonpath_env

    torch.save({"w": torch.ones(2**26)}, tmp_path / "big.pt")
    script = (
        "import resource, sys, modelmeter\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "report = modelmeter.summary(sys.argv[1])\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(report.totals.param_bytes, (after - before) // 1024)\n"
    )
    out = subprocess.run([python(), "-c", script, str(tmp_path / "big.pt")], capture_output=True, text=True,
                         env=pythonpath_env(), timeout=120, check=True).stdout  # fmt: skip
    nbytes, grew_mib = map(int, out.split())
    assert nbytes == 2**28 and grew_mib < 64


def test_checkpoint_error_is_public_and_a_model_ref_error() -> None:
    assert modelmeter.CheckpointError is CheckpointError
    assert issubclass(CheckpointError, modelmeter.ModelRefError)


def test_torchscript_archives_are_refused_clearly(tmp_path: Path) -> None:
    scripted = torch.jit.script(nn.Linear(3, 4))
    torch.jit.save(scripted, tmp_path / "ts.pt")
    with pytest.raises(CheckpointError, match=r"ts\.pt: is a TorchScript archive \(torch\.jit\.save\)"):
        modelmeter.summary(tmp_path / "ts.pt")
    with pytest.raises(InputError, match="a TorchScript module cannot be analyzed"):
        modelmeter.summary(tmp_path / "ts.pt", input_size=(1, 3), trust_pickle=True)
    with pytest.raises(InputError, match="a TorchScript module cannot be analyzed"):
        modelmeter.summary(scripted, input_size=(1, 3))
