"""The memory options on the command line and in the JSON document."""

import json

import pytest

pytest.importorskip("torch")

from modelmeter.cli import main  # noqa: E402

LENET = "examples/seed_models.py:LeNet5"


def test_train_json_has_the_memory_object(capsys, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).parents[2])
    code = main(["summary", LENET, "--format", "json", "--train", "--optimizer", "adam", "--gpus", "2"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    mem = doc["memory"]
    assert mem["weights"] == 4 * 61706 and mem["weights_by_dtype"] == {"float32": 4 * 61706}
    t = mem["training"]
    assert (t["params"], t["grads"], t["optimizer"]) == (4 * 61706, 4 * 61706, 8 * 61706)
    assert t["total"] == 16 * 61706 + t["activations"] and t["activations"] > 0
    assert t["flops"]["forward"] == doc["totals"]["flops"]  # LeNet has no dropout/BN: train == eval forward
    assert t["flops"]["total"] == t["flops"]["forward"] + t["flops"]["backward"]
    assert t["sharding"]["zero3"]["params"] == 2 * 61706
    assert all(isinstance(v, int) for v in (mem["activations_peak"], t["activations"], t["total"]))


def test_no_memory_unless_asked(capsys, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).parents[2])
    assert main(["summary", LENET, "--format", "json"]) == 0
    assert "memory" not in json.loads(capsys.readouterr().out)


def test_table_shows_memory_and_bad_choices_are_usage_errors(capsys, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).parents[2])
    assert main(["summary", LENET, "--weights-dtype", "int4"]) == 0
    out = capsys.readouterr().out
    assert "re-priced as int4" in out and "activations, peak" in out
    assert main(["summary", LENET, "--train", "--optimizer", "lion"]) == 2


def test_memory_and_llm_documents_follow_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    import modelmeter

    root = __import__("pathlib").Path(__file__).parents[2]
    schema = json.loads((root / "docs" / "modelmeter-1.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    lenet = str(root / "examples" / "seed_models.py") + ":LeNet5"
    for kw in ({"memory": True}, {"weights_dtype": "int4"}, {"train": True, "gpus": 4, "checkpointing": True}):
        validator.validate(json.loads(modelmeter.summary(lenet, **kw).to_json()))
    transformers = pytest.importorskip("transformers")
    from modelmeter import llm_summary

    cfg = transformers.LlamaConfig(
        vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4
    )
    validator.validate(json.loads(llm_summary(cfg, seq_len=8, tokens="1M", gpus=2).to_json()))


def test_saved_documents_keep_their_memory():
    import modelmeter
    from modelmeter.report.model import Report

    root = __import__("pathlib").Path(__file__).parents[2]
    report = modelmeter.summary(str(root / "examples" / "seed_models.py") + ":LeNet5", train=True, gpus=2)
    again = Report.from_dict(json.loads(report.to_json()))
    assert again.memory == report.memory
    assert again.to_dict() == report.to_dict()


def test_a_training_forward_that_fails_is_one_line(capsys):
    # Inception v3 in train mode at batch 1: BatchNorm on its auxiliary head's 1x1 maps refuses one value
    assert main(["summary", "torchvision:inception_v3", "--train"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the training step") and "Expected more than 1 value per channel" in err
    assert len(err.splitlines()) == 1


def test_a_layer_spec_gets_memory_from_its_network_built_on_meta():
    import modelmeter

    root = __import__("pathlib").Path(__file__).parents[2]
    spec = modelmeter.summary(str(root / "examples" / "specs" / "lenet5.yaml"), train=True, optimizer="adam")
    lenet = str(root / "examples" / "seed_models.py") + ":LeNet5"
    torch_model = modelmeter.summary(lenet, train=True, optimizer="adam")
    assert spec.totals.params == 61_706
    assert spec.memory.training.total == torch_model.memory.training.total  # same network, same measurement
    assert spec.memory.training.params == 4 * 61_706 and spec.memory.activations_peak > 0
