"""Hardware profiles, the roofline estimate and measured latency (docs/hardware.md).

Every time below is computed by hand from the layer's FLOPs and bytes (tests/test_traffic.py) and the
profile's datasheet figures; nothing here depends on how fast this machine is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import modelmeter  # noqa: E402
from modelmeter.cli import main  # noqa: E402
from modelmeter.hardware import BUILTIN, find, load_file, save_efficiency  # noqa: E402
from modelmeter.roofline.estimate import estimate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_table_has_every_device_and_a_source_for_each():
    for name in ("h100-sxm", "h200", "a100-40gb", "a100-80gb", "l4", "rtx-4090", "jetson-agx-orin", "apple-m2-max",
                 "raspberry-pi-5"):  # fmt: skip
        p = BUILTIN[name]
        assert p.bandwidth > 0 and p.flops["fp32"] > 0 and len(p.source) > 40, name
    assert BUILTIN["a100-80gb"].bandwidth == 2039e9 and BUILTIN["a100-80gb"].flops["fp16"] == 312e12
    assert "fp8" not in BUILTIN["a100-40gb"].flops  # Ampere has no FP8 tensor cores
    # the Pi's peak is derived, and the derivation is the arithmetic: 4 cores x 2.4 GHz x 16 FLOP/cycle
    assert BUILTIN["raspberry-pi-5"].flops["fp32"] == pytest.approx(4 * 2.4e9 * 16)


def test_per_layer_time_is_the_higher_roof():
    # a100-40gb at fp32: 19.5 TFLOP/s, 1,555 GB/s, ridge 12.5 FLOP/B
    dense = modelmeter.summary(nn.Conv2d(32, 32, 3, padding=1, bias=False), input_size=(1, 32, 56, 56),
                               hardware="a100-40gb")  # fmt: skip
    flops, moved = 2 * 32 * 100_352 * 9, (100_352 + 9_216 + 100_352) * 4  # 57.8 MFLOP, 839,680 B: 68.8 FLOP/B
    (layer,) = dense.roofline.layers
    assert (layer.flops, layer.bytes, layer.bound) == (flops, moved, "compute")
    assert layer.time_s == pytest.approx(flops / 19.5e12)  # 2.96 us > 839,680 / 1.555e12 = 0.54 us
    dw = modelmeter.summary(nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False), input_size=(1, 32, 56, 56),
                            hardware="a100-40gb")  # fmt: skip
    (layer,) = dw.roofline.layers
    assert layer.bound == "memory" and layer.time_s == pytest.approx(803_968 / 1.555e12)  # 2.25 FLOP/B < 12.5
    assert dw.roofline.attainable_flops == pytest.approx(1_806_336 / layer.time_s)
    half = modelmeter.summary(nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False), input_size=(1, 32, 56, 56),
                              hardware="a100-40gb", efficiency=0.5)  # fmt: skip
    assert half.roofline.time_s == pytest.approx(2 * dw.roofline.time_s)


def test_forward_time_sums_every_layers_own_ops():
    r = modelmeter.summary(str(ROOT / "examples/seed_models.py:LeNet5"), hardware="l4")
    assert sum(x.flops for x in r.roofline.layers) == r.totals.flops
    assert sum(x.bytes for x in r.roofline.layers) == r.totals.read_bytes + r.totals.write_bytes
    assert r.roofline.time_s == pytest.approx(sum(max(x.flops / 30.3e12, x.bytes / 300e9) for x in r.roofline.layers))


def test_half_precision_model_uses_the_fp16_peak():
    model = nn.Linear(4096, 4096, bias=False).half()
    r = modelmeter.summary(model, input_size=(4096, 4096), dtypes=[torch.float16], hardware="h100-sxm")
    assert r.roofline.dtype == "fp16" and r.roofline.peak_flops == 989.5e12
    flops = 2 * 4096**3  # 137.4 GFLOP on 3 x 32 MiB: 1,365 FLOP/B, far right of the ridge (295 FLOP/B)
    assert r.roofline.bound == "compute" and r.roofline.time_s == pytest.approx(flops / 989.5e12)


def test_llama2_7b_decode_on_a100_80gb_is_the_weights_over_the_bandwidth():
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=32, dtype="float16", tie_word_embeddings=False, architectures=["LlamaForCausalLM"],
    )  # fmt: skip
    r = modelmeter.summary(config, seq_len=64, batch=1, hardware="a100-80gb")
    assert r.totals.params == 6_738_415_616  # Llama-2-7B
    m = r.roofline.llm
    assert m.weight_bytes == 2 * 6_738_415_616  # fp16: 13.48 GB
    assert m.kv_cache_bytes == 2 * 32 * 4096 * 64 * 2  # K and V x layers x width x 64 tokens x 2 bytes = 33.5 MB
    assert m.decode_bound == "memory"
    assert m.decode_time_s == pytest.approx((13_476_831_232 + 33_554_432) / 2039e9)  # 6.63 ms
    assert 6.5e-3 < m.decode_time_s < 6.7e-3  # the "about 6.6 ms per token"
    assert m.tokens_per_s == pytest.approx(1 / m.decode_time_s)  # 151 tokens/s; gpt-fast measures 104.9 (0.70x)
    assert r.roofline.dtype == "fp16"


def test_training_step_and_mfu_at_a_stated_efficiency():
    r = modelmeter.summary(nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)), input_size=(64, 256),
                           train=True, hardware="a100-40gb", efficiency=0.4)  # fmt: skip
    t, tr = r.roofline.training, r.memory.training
    assert t.flops == tr.total_flops and t.model_flops == tr.forward_flops + tr.backward_flops
    assert t.step_time_s == pytest.approx(tr.total_flops / (19.5e12 * 0.4))
    assert t.mfu == pytest.approx(0.4)  # no recompute: every FLOP of the step is model FLOPs


def test_user_profiles_toml_and_yaml(tmp_path: Path):
    toml = tmp_path / "hw.toml"
    toml.write_text('[hardware.box]\ntitle = "my box"\nbandwidth_gbs = 100\n[hardware.box.peak_tflops]\nfp32 = 2\n\n'
                    '[hardware.slow-a100]\nbase = "a100-80gb"\nefficiency = 0.5\n')  # fmt: skip
    got = load_file(toml)
    assert got["box"].bandwidth == 100e9 and got["box"].flops == {"fp32": 2e12}
    assert got["slow-a100"].flops == BUILTIN["a100-80gb"].flops and got["slow-a100"].efficiency == 0.5
    r = modelmeter.summary(nn.Linear(8, 8), input_size=(1, 8), hardware="slow-a100", hardware_file=toml)
    assert r.roofline.efficiency == 0.5  # the profile's calibrated efficiency is the default
    yaml_file = tmp_path / "hw.yaml"
    yaml_file.write_text("hardware:\n  tiny:\n    bandwidth_gbs: 10\n    peak_tflops: {fp32: 0.1}\n")
    assert find("tiny", yaml_file).flops["fp32"] == 0.1e12


@pytest.mark.parametrize(
    "text, message",
    [
        ("[hardware.x]\nbandwidth_gbs = -1\npeak_tflops = {fp32 = 1}\n", "hardware.x.bandwidth_gbs"),
        ("[hardware.x]\nbandwdith_gbs = 1\n", "unknown field 'bandwdith_gbs'"),
        ('[hardware.x]\nbase = "a1000"\n', "hardware.x.base: no profile 'a1000'"),
        ("[hardware.x]\nbandwidth_gbs = 1\npeak_tflops = {fp4 = 1}\n", "peak_tflops.fp4"),
        ("[hardware.x\n", "not valid TOML"),
    ],
)
def test_bad_user_profile_is_one_clear_error(tmp_path: Path, text: str, message: str):
    path = tmp_path / "hw.toml"
    path.write_text(text)
    with pytest.raises(modelmeter.InputError, match=message.replace("[", r"\[").replace(".", r"\.")) as info:
        load_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unknown_hardware_and_missing_dtype_peak():
    with pytest.raises(modelmeter.InputError, match="no such profile.*a100-80gb"):
        modelmeter.summary(nn.Linear(8, 8), input_size=(1, 8), hardware="a100")
    model = nn.Linear(8, 8).to(torch.float8_e4m3fn) if hasattr(torch, "float8_e4m3fn") else None
    if model is not None:
        report = modelmeter.summary(nn.Linear(8, 8), input_size=(1, 8))
        with pytest.raises(modelmeter.InputError, match="a100-40gb.*no fp8 peak"):
            estimate(report, BUILTIN["a100-40gb"], dtype="fp8")


def test_cli_hardware_lists_profiles_and_summary_shows_the_roofline(capsys):
    assert main(["hardware"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("h100-sxm", "h200", "a100-80gb", "l4", "rtx-4090", "raspberry-pi-5", "cpu"))
    assert main(["hardware", "--format", "json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["h200"]["bandwidth"] == 4.8e12 and "datasheet" in listed["h200"]["source"]
    assert main(["summary", str(ROOT / "examples/seed_models.py:LeNet5"), "--hardware", "rtx-4090"]) == 0
    assert "Roofline on rtx-4090" in capsys.readouterr().out
    assert main(["summary", str(ROOT / "examples/seed_models.py:LeNet5"), "--hardware", "nope"]) == 1
    assert "no such profile" in capsys.readouterr().err


def test_roofline_json_schema_html_and_round_trip():
    jsonschema = pytest.importorskip("jsonschema")
    r = modelmeter.summary(str(ROOT / "examples/seed_models.py:LeNet5"), hardware="jetson-agx-orin")
    doc = json.loads(r.to_json())
    schema = json.loads((ROOT / "docs/modelmeter-1.schema.json").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == []
    assert doc["roofline"]["hardware"] == "jetson-agx-orin" and len(doc["roofline"]["layers"]) >= 5
    assert modelmeter.Report.from_dict(doc) == r
    page = r.to_html()
    assert "<h2>Roofline</h2>" in page and page.count("<circle") == len(r.roofline.layers)


# -- measured latency ----------------------------------------------------------------------------------
class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 16 * 16, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))


def test_measure_a_tiny_model_leaves_it_as_it_was(tmp_path: Path):
    model = Tiny().train()  # train mode: BatchNorm would update its running stats if run on its own buffers
    before = {k: v.clone() for k, v in model.state_dict().items()}
    r = modelmeter.summary(model, input_size=(2, 3, 16, 16), measure=True, runs=3, warmup=1, hardware="a100-40gb")
    m = r.roofline.measured
    assert m.device in ("cpu",) or "NVIDIA" in m.device
    assert m.runs == 3 and 0 < m.min_s <= m.median_s <= m.max_s
    assert {name for name, _ in m.layers} == {"conv", "bn", "fc"}
    assert 0 < m.layers_sum_s and m.hooked_median_s > 0 and 0 < m.layers_share <= 1
    assert m.estimate_s == r.roofline.time_s and m.ratio == pytest.approx(m.median_s / m.estimate_s)
    assert m.calibrated_efficiency == pytest.approx(r.roofline.time_s / m.median_s)
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(mod._forward_hooks or mod._forward_pre_hooks for mod in model.modules())
    # the calibrated efficiency saved into a user profile comes back as that profile's default
    path = save_efficiency(tmp_path / "hw.toml", "my-a100", m.calibrated_efficiency, BUILTIN["a100-40gb"])
    assert find("my-a100", path).efficiency == pytest.approx(m.calibrated_efficiency, rel=1e-3)
    assert find("my-a100", path).flops == BUILTIN["a100-40gb"].flops


def test_measure_a_meta_reference_runs_random_stand_ins():
    r = modelmeter.summary(str(ROOT / "examples/seed_models.py:LeNet5"), measure=True, runs=2, warmup=1,
                           hardware="raspberry-pi-5")  # fmt: skip
    assert r.roofline.measured.median_s > 0 and len(r.roofline.measured.layers) == 5


def test_measure_refuses_a_model_too_big_for_the_device(monkeypatch):
    from modelmeter.frontends.torch.measure import latency as measure

    # LeNet5 is built on meta: its 246,824 weight bytes must be made on the device, more than 0.8 x 100 kB
    monkeypatch.setattr(measure, "free_bytes", lambda device: 100_000)
    with pytest.raises(modelmeter.InputError, match="needs about .*B .* is free; refusing rather than swapping"):
        modelmeter.summary(str(ROOT / "examples/seed_models.py:LeNet5"), measure=True, hardware="l4")


def test_docs_table_matches_the_builtin_profiles():
    """docs/hardware.md's table is the code's table: every profile's name, fp32 peak and bandwidth appear in its row."""
    rows = {line.split("|")[1].strip(" `"): line for line in (ROOT / "docs/hardware.md").read_text().splitlines()
            if line.startswith("| `")}  # fmt: skip
    for name, p in BUILTIN.items():
        row = rows[name]
        fp32 = p.flops["fp32"]
        shown = f"{fp32 / 1e12:g} TF" if fp32 >= 1e12 else f"{fp32 / 1e9:g} GF"
        assert shown in row, (name, shown)
        bw = p.bandwidth
        forms = (f"{bw / 1e12:g} TB/s", f"{bw / 1e9:,.4g} GB/s", f"{bw / 1e9:,.1f} GB/s")
        assert any(form in row for form in forms), name


def test_a_report_without_traffic_is_refused_a_roofline_and_a_spec_cannot_be_measured():
    spec = str(ROOT / "examples/specs/lenet5.yaml")
    with pytest.raises(modelmeter.InputError, match="no memory traffic was recorded .*spec"):
        modelmeter.summary(spec, hardware="l4")
    with pytest.raises(modelmeter.InputError, match="a layer spec has no weights to run"):
        modelmeter.summary(spec, measure=True)
    with pytest.raises(modelmeter.UsageError, match="--efficiency .* add --hardware"):
        modelmeter.summary(nn.Linear(2, 2), input_size=(1, 2), efficiency=0.5)
