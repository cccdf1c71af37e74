"""``hf:ORG/NAME`` resolves a config from the local Hugging Face cache, never the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import modelmeter  # noqa: E402
from modelmeter.cli import main  # noqa: E402
from modelmeter.errors import ModelRefError  # noqa: E402

TINY_GPT2 = {
    "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": 1, "n_head": 2, "n_embd": 32,
    "n_positions": 64, "vocab_size": 100,
}  # fmt: skip
# wte 100*32 + wpe 64*32 + block (2 LN 4*32, c_attn 32*96+96, c_proj 32*32+32, c_fc 32*128+128, proj 128*32+32)
# + ln_f 2*32; the LM head is tied to wte
TINY_GPT2_PARAMS = 3200 + 2048 + (128 + 3168 + 1056 + 4224 + 4128) + 64


def fake_cache(root: Path, repo: str, config: dict, revision: str = "abc123", main: bool = True) -> Path:
    folder = root / ("models--" + repo.replace("/", "--"))
    snap = folder / "snapshots" / revision
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(config))
    if main:
        (folder / "refs").mkdir()
        (folder / "refs" / "main").write_text(revision)
    return folder


@pytest.mark.parametrize("variable", ["HF_HUB_CACHE", "HF_HOME"])
def test_hf_org_name_reads_the_cached_config(tmp_path: Path, monkeypatch, variable: str):
    cache = tmp_path / "hub" if variable == "HF_HOME" else tmp_path
    fake_cache(cache, "someorg/tiny-gpt2", TINY_GPT2)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv(variable, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    r = modelmeter.summary("hf:someorg/tiny-gpt2", seq_len=8)
    assert r.totals.params == TINY_GPT2_PARAMS == 18_016
    assert r.model == "hf:someorg/tiny-gpt2"


def test_the_snapshot_refs_main_points_at_wins(tmp_path: Path, monkeypatch):
    folder = fake_cache(tmp_path, "org/m", TINY_GPT2, revision="new")
    other = folder / "snapshots" / "old"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({**TINY_GPT2, "n_layer": 2}))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert modelmeter.summary("hf:org/m", seq_len=8).totals.params == TINY_GPT2_PARAMS


def test_a_model_missing_from_the_cache_says_where_it_looked(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelRefError, match="never downloads") as info:
        modelmeter.summary("hf:openai/whisper-tiny")
    assert str(tmp_path / "models--openai--whisper-tiny" / "snapshots") in str(info.value)
    assert main(["summary", "hf:openai/whisper-tiny"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: hf:openai/whisper-tiny: ") and len(err.strip().splitlines()) == 1
