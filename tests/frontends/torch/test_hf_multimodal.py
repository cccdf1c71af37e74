"""Hugging Face models that take other inputs than token ids (issue 12, defect 2): Whisper, CLIP, LLaVA, T5,
named inputs from the CLI and the API, and a part of the model that did not run marked in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import modelmeter  # noqa: E402
from modelmeter.cli import main  # noqa: E402
from modelmeter.frontends.torch.references.hf import build_model  # noqa: E402
from modelmeter.render.csv import parse_csv  # noqa: E402


def whisper():  # d=64, 2 heads, ffn 128, 80 mel bins, 1500 encoder positions (3000 frames), vocab 200
    return transformers.WhisperConfig(
        d_model=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=128, decoder_ffn_dim=128, vocab_size=200, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        decoder_start_token_id=1, architectures=["WhisperForConditionalGeneration"],
    )  # fmt: skip


def whisper_macs(t: int) -> int:
    """Whisper by hand: d=64, ffn 128, 3000 mel frames -> 1500 encoder positions, t decoder tokens."""
    d, f, s = 64, 128, 1500
    conv1 = 80 * 3 * d * 3000  # Conv1d(80->64, k=3, pad 1) over 3000 frames = 46,080,000
    conv2 = d * 3 * d * s  # Conv1d(64->64, k=3, stride 2) -> 1500 = 18,432,000
    encoder = conv1 + conv2 + 4 * s * d * d + 2 * s * s * d + 2 * s * d * f  # q,k,v,o; QK^T and PV; FFN
    self_attn = 4 * t * d * d + 2 * t * t * d
    cross = 2 * t * d * d + 2 * s * d * d + 2 * t * s * d  # q,o on t; k,v on the 1500 encoder states; scores
    decoder = self_attn + cross + 2 * t * d * f
    head = t * d * 200  # proj_out, tied to the token embedding
    return encoder + decoder + head


def clip():  # text: 32 wide, 1 layer, 77 positions; vision: 32x32 images, 8x8 patches, 1 layer
    return transformers.CLIPConfig(
        text_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                         vocab_size=100, bos_token_id=0, eos_token_id=1, pad_token_id=1),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=8),
        projection_dim=16,
    )  # fmt: skip


def llava():  # CLIP vision tower (32x32 images, 8x8 patches: 16 features) + a 1-layer Llama, image token 299
    return transformers.LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=32, patch_size=8, projection_dim=16),
        text_config=dict(model_type="llama", hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=4, vocab_size=300),
        image_token_id=299, architectures=["LlavaForConditionalGeneration"],
    )  # fmt: skip


def own_params(config) -> int:
    return sum(p.numel() for p in build_model(config).parameters())


def test_whisper_runs_with_default_inputs_from_its_config():
    r = modelmeter.summary(whisper())
    assert [(i.shape, i.dtype) for i in r.inputs] == [((1, 80, 3000), "float32"), ((1, 128), "int64")]
    assert r.totals.params == own_params(whisper()) == 249_024
    assert r.totals.macs == whisper_macs(128)
    assert r.not_run == () and r.uncounted == {}


def test_whisper_named_inputs_on_the_cli(tmp_path: Path, capsys):
    whisper().save_pretrained(tmp_path)
    args = ["--input", "input_features=1,80,3000", "--input", "decoder_input_ids=1,64:int64", "--format", "json"]
    assert main(["summary", f"hf:{tmp_path}", *args]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["inputs"] == [{"shape": [1, 80, 3000], "dtype": "float32"}, {"shape": [1, 64], "dtype": "int64"}]
    assert doc["totals"]["macs"] == whisper_macs(64) == 430_204_928


def test_named_inputs_in_the_api_and_input_data_before_defaults():
    sizes = {"input_features": (1, 80, 3000), "decoder_input_ids": ((1, 64), "int64")}
    assert modelmeter.summary(whisper(), input_size=sizes).totals.macs == whisper_macs(64)
    data = {"input_features": torch.zeros(1, 80, 3000), "decoder_input_ids": torch.zeros(1, 32, dtype=torch.long)}
    assert modelmeter.summary(whisper(), input_data=data).totals.macs == whisper_macs(32)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "input_features=1,80,3000", "--input", "1,64"], "every input as NAME=SHAPE"),
        (["--input", "input_features=1,80,3000", "--dtype", "float16"], "--dtype does not apply to named"),
        (["--input", "x y=1,2"], "not an argument name"),
    ],
)
def test_bad_named_inputs_are_usage_errors(args, message, capsys):
    assert main(["summary", "torchvision:resnet18", *args]) == 2
    assert message in capsys.readouterr().err


def test_clip_without_input_runs_both_towers():
    r = modelmeter.summary(clip())
    assert [i.shape for i in r.inputs] == [(1, 77), (1, 3, 32, 32)]  # text capped at its 77 positions
    assert r.totals.params == own_params(clip())
    text = 4 * 77 * 32 * 32 + 2 * 77 * 77 * 32 + 2 * 77 * 32 * 64  # 1 layer: projections, QK^T and PV, MLP
    vision = 16 * (3 * 8 * 8) * 32 + 4 * 17 * 32 * 32 + 2 * 17 * 17 * 32 + 2 * 17 * 32 * 64  # patches; 17 tokens
    heads = 32 * 16 + 32 * 16 + 16  # the two projections to 16, then one image x one text logit
    assert r.totals.macs == text + vision + heads == 1_267_344
    assert r.not_run == ()


def test_llava_default_inputs_run_the_vision_tower():
    r = modelmeter.summary(llava(), seq_len=24)
    # 16 image tokens (4x4 patches; the default strategy drops CLS) then 24 text tokens
    assert [i.shape for i in r.inputs] == [(1, 40), (1, 3, 32, 32)]
    assert r.totals.params == own_params(llava()) == 109_760
    vision = 16 * 192 * 32 + 2 * (4 * 17 * 32 * 32 + 2 * 17 * 17 * 32 + 2 * 17 * 32 * 64)  # 2 layers, 17 tokens
    projector = 16 * (32 * 64 + 64 * 64)
    language = 4 * 40 * 64 * 64 + 2 * 40 * 40 * 64 + 3 * 40 * 64 * 128
    head = 40 * 64 * 300
    assert r.layer("model.vision_tower").macs == vision == 413_824
    assert r.totals.macs == vision + projector + language + head == 3_123_328
    assert r.not_run == () and r.uncounted == {}
    assert modelmeter.summary(llava(), seq_len=24, device="cpu").totals.macs == r.totals.macs


def test_a_vision_tower_that_did_not_run_is_marked_in_every_format():
    r = modelmeter.summary(llava(), input_data={"input_ids": torch.zeros(1, 24, dtype=torch.long)})
    assert r.not_run == ("model.vision_tower", "model.multi_modal_projector")
    assert r.totals.params == 109_760  # every param is still counted
    doc = r.to_dict()
    assert doc["not_run"] == ["model.vision_tower", "model.multi_modal_projector"]
    rows = {row["name"]: row for row in doc["layers"]}
    assert rows["model.vision_tower"]["not_run"] is True and rows["model.vision_tower.embeddings"]["not_run"]
    assert "not_run" not in rows["model.language_model"]
    assert any("did not run" in n and "model.vision_tower (23,936 params)" in n for n in r.notes)
    assert "did not run" in str(r) and "Not run: model.vision_tower" in str(r)
    assert "| model.vision_tower | CLIPVisionModel | did not run |" in r.to_markdown()
    assert "did not run" in r.to_html()
    csv_rows = {row["name"]: row for row in parse_csv(r.to_csv())}
    assert csv_rows["model.vision_tower"]["not_run"] is True and "not_run" not in csv_rows["lm_head"]
    assert modelmeter.Report.from_dict(doc).not_run == r.not_run


def test_t5_default_inputs_include_decoder_ids():
    cfg = transformers.T5Config(d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4, vocab_size=100)
    r = modelmeter.summary(cfg, seq_len=16)
    assert [i.shape for i in r.inputs] == [(1, 16), (1, 16)]
    assert r.totals.params == own_params(cfg) and r.not_run == ()
