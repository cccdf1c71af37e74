"""Quietly wrong or silent (issue 12, defect 3): each case now gives the right number or one clear line."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from torch import nn  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.cli import main  # noqa: E402
from modelmeter.errors import InputError, UsageError  # noqa: E402


def tiny_llama(**kw) -> dict:
    return {
        "model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1,
        "intermediate_size": 64, "vocab_size": 100, "architectures": ["LlamaForCausalLM"], **kw,
    }  # fmt: skip


def write(folder: Path, config: dict) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return f"hf:{folder}"


def test_gpt2_past_its_position_table_is_refused(capsys):
    gpt2 = transformers.GPT2Config(architectures=["GPT2LMHeadModel"])
    with pytest.raises(InputError, match=r"sequence length 2048 is longer than the model's position table \(1024"):
        modelmeter.summary(gpt2, seq_len=2048)
    assert main(["summary", "hf:examples/hf/gpt2", "--seq-len", "2048"]) == 1
    err = capsys.readouterr().err
    assert "position table (1024 positions" in err and "--seq-len 1024" in err and len(err.splitlines()) == 1
    # BERT's table is 512; CLIP's text 77 caps the default instead of failing (test_hf_multimodal)
    with pytest.raises(InputError, match=r"\(512 positions"):
        modelmeter.summary(transformers.BertConfig(num_hidden_layers=1), seq_len=513)


def test_token_ids_given_past_the_position_table_are_refused_too(capsys):
    args = ["summary", "hf:examples/hf/gpt2", "--input", "input_ids=1,2048:int64"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "input_ids of length 2048 is longer than the model's position table (1024 positions" in err
    gpt2 = transformers.GPT2Config(n_layer=1, architectures=["GPT2LMHeadModel"])
    with pytest.raises(InputError, match="input_ids of length 1025"):
        modelmeter.summary(gpt2, input_data={"input_ids": torch.zeros(1, 1025, dtype=torch.long)})
    assert modelmeter.summary(gpt2, input_size={"input_ids": (1, 1024)}).inputs[0].shape == (1, 1024)


def test_rotary_positions_have_no_table_and_any_length_runs():
    cfg = transformers.LlamaConfig(**{k: v for k, v in tiny_llama().items() if k != "model_type"})
    cfg.max_position_embeddings = 64
    r = modelmeter.summary(cfg, seq_len=128)  # RoPE: the real model runs past max_position_embeddings
    assert r.inputs[0].shape == (1, 128)


def test_a_training_checkpoint_counts_the_model_not_the_optimizer(tmp_path: Path):
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.resnet18()
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    opt.step()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, tmp_path / "r18.ckpt")
    r = modelmeter.summary(str(tmp_path / "r18.ckpt"))
    own = sum(p.numel() for p in model.parameters())
    assert r.totals.params == own == 11_689_512  # torchvision's resnet18; main reported 35,068,598
    # Adam: exp_avg and exp_avg_sq per parameter, and a one-element step per parameter tensor (62 of them)
    tensors = len(list(model.parameters()))
    assert tensors == 62
    elements = 2 * own + tensors
    assert f"optimizer state in optimizer: {3 * tensors} tensors, {elements:,} elements" in " ".join(r.notes)
    assert not any(row.name.startswith("optimizer") for row in r.layers)


def test_lightning_style_optimizer_states_list(tmp_path: Path):
    model = nn.Linear(4, 3)  # (4 + 1) * 3 = 15 params
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    ckpt = {"state_dict": model.state_dict(), "optimizer_states": [opt.state_dict()], "global_step": 1}
    torch.save(ckpt, tmp_path / "l.ckpt")
    r = modelmeter.summary(str(tmp_path / "l.ckpt"))
    assert r.totals.params == 15
    assert any("optimizer state in optimizer_states: 2 tensors, 15 elements" in n for n in r.notes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["torchvision:resnet18", "--kv-dtype", "fp8"], "--kv-dtype and --tokens apply to causal language models"),
        (["torchvision:resnet18", "--train", "--tokens", "1T"], "--kv-dtype and --tokens apply to causal language"),
        (["hf:examples/hf/gpt2", "--tokens", "1T"], "--tokens (tokens=...) sizes training on a token budget"),
        (["torchvision:resnet18", "--checkpointing"], "--checkpointing (checkpointing=True) applies to a training"),
        (["examples/specs/resnet18.yaml", "--kv-dtype", "fp8"], "--kv-dtype and --tokens apply to causal"),
    ],
)
def test_options_that_do_not_apply_are_refused(args, message, capsys):
    assert main(["summary", *args, "--depth", "0"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_a_masked_lm_with_memory_is_not_sized_as_a_causal_lm(tmp_path: Path):
    bert = {"model_type": "bert", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "architectures": ["BertForMaskedLM"]}  # fmt: skip
    r = modelmeter.summary(write(tmp_path, bert), memory=True)  # main: internal error (no KV cache to read)
    assert r.llm is None and r.memory is not None
    with pytest.raises(UsageError, match="not one"):
        modelmeter.summary(write(tmp_path, bert), kv_dtype="fp8")


def test_heads_that_do_not_divide_the_hidden_size_are_a_clear_error(tmp_path: Path, capsys):
    ref = write(tmp_path, tiny_llama(hidden_size=4096, num_attention_heads=30))
    assert main(["summary", ref]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {ref}: transformers rejects this config")
    assert "hidden size (4096) is not a multiple of the number of attention heads (30)" in err
    assert "internal error" not in err


def test_an_unknown_custom_architecture_is_not_replaced_by_the_base_model(tmp_path: Path, capsys):
    custom = tiny_llama(architectures=["FancyForCausalLM"], auto_map={"AutoModelForCausalLM": "fancy.FancyForCausalLM"})
    ref = write(tmp_path, custom)
    assert main(["summary", ref]) == 1
    err = capsys.readouterr().err
    assert "architecture 'FancyForCausalLM' is custom code" in err and "LlamaModel" not in err


def test_transformers_deprecation_warnings_do_not_leak(tmp_path: Path, capfd):
    ref = write(tmp_path, tiny_llama(torch_dtype="bfloat16"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["summary", ref, "--train", "--tokens", "1M", "--kv-dtype", "fp8", "--depth", "0"]) == 0
    err = capfd.readouterr().err
    assert "deprecated" not in err
    assert not [w for w in caught if "deprecated" in str(w.message)]
