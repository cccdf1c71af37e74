"""The spec error catalogue: every bad spec gives one line naming the layer and the fix (never a traceback)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from modelmeter.cli import main
from modelmeter.errors import SpecError
from modelmeter.spec import analyze

LENET: dict[str, Any] = {
    "name": "lenet5",
    "input": [1, 1, 32, 32],
    "layers": [
        {"conv2d": {"out_channels": 6, "kernel_size": 5}},
        "relu",
        {"maxpool2d": {"kernel_size": 2}},
        {"conv2d": {"out_channels": 16, "kernel_size": 5, "name": "conv2"}},
        "relu",
        {"maxpool2d": 2},
        "flatten",
        {"linear": {"out_features": 120}},
        "relu",
        {"linear": {"out_features": 84}},
        "relu",
        {"linear": {"out_features": 10}},
    ],
}


def lenet(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(LENET)
    for index, layer in changes.items():
        doc["layers"][int(index.removeprefix("l"))] = layer
    return doc


def without_flatten() -> dict[str, Any]:
    doc = copy.deepcopy(LENET)
    del doc["layers"][6]
    return doc


CASES = [
    # (spec, the message, word for word where it matters)
    (
        lenet(l0={"conv2": {"out_channels": 6, "kernel_size": 5}}),
        "layers[0]: unknown layer type 'conv2'; did you mean 'conv2d'?",
    ),
    (
        lenet(l0={"conv2d": {"out_channels": 6, "kernal_size": 5}}),
        "layers[0] conv2d: unknown field 'kernal_size'; did you mean 'kernel_size'?",
    ),
    (
        without_flatten(),
        "layers[6] linear: expected input (N, features) but got (1, 16, 5, 5); add 'flatten' before it",
    ),
    (
        lenet(l0={"conv2d": {"out_channels": -6, "kernel_size": 5}}),
        "layers[0] conv2d: 'out_channels' must be positive, got -6",
    ),
    (
        lenet(l7={"linear": {"out_features": 10**12}}),
        "layers[7] linear: 'out_features' = 1000000000000 is larger than 2,147,483,647; is it a typo?",
    ),
    (
        {"input": [10**9, 10**9, 10**9], "layers": ["relu"]},
        "input (1000000000, 1000000000, 1000000000) has 1,000,000,000,000,000,000,000,000,000 elements",
    ),
    (
        {"input": [1, 4], "layers": [{"repeat": 10**9, "layers": ["relu"]}]},
        "layers[0] repeat: repeat must be an integer from 1 to 10,000, got 1000000000",
    ),
    (
        {"input": [1, 4], "layers": [{"repeat": 10_000, "layers": [{"repeat": 10_000, "layers": ["relu"]}]}]},
        "the spec unrolls to more than 200,000 layers; check the repeat counts",
    ),
    (lenet(l0={"conv2d": {"out_channels": 6}}), "layers[0] conv2d: missing field 'kernel_size'"),
    (
        lenet(l0={"conv2d": {"out_channels": 6, "kernel_size": 5, "in_channels": 3}}),
        "layers[0] conv2d: in_channels is 3 but the input has 1 channels (shape (1, 1, 32, 32)); drop in_channels",
    ),
    (
        lenet(l0={"conv2d": {"out_channels": 6, "kernel_size": 50}}),
        "layers[0] conv2d: input (1, 1, 32, 32) is smaller than the (dilated) kernel (50, 50)",
    ),
    (
        lenet(l3={"conv2d": {"out_channels": 16, "kernel_size": 5, "groups": 4, "name": "conv2"}}),
        "layers[3] conv2d 'conv2': groups=4 must divide in_channels (6) and out_channels (16)",
    ),
    (
        lenet(l7={"linear": {"out_features": 120, "in_features": 300}}),
        "layers[7] linear: in_features is 300 but the input (1, 400) has 400 features",
    ),
    (lenet(l1="rleu"), "layers[1]: unknown layer type 'rleu'; did you mean 'relu'?"),
    (lenet(l1={"relu": {"inplace": True}}), "layers[1] relu: unknown field 'inplace' (relu takes: no fields)"),
    (
        {"input": [1, 8, 4, 4], "layers": [{"residual": [{"conv2d": {"out_channels": 16, "kernel_size": 1}}]}]},
        "layers[0] residual: the layers output (1, 16, 4, 4) but the shortcut gives (1, 8, 4, 4); write it as "
        "residual: {layers: [...], shortcut: [...]}",
    ),
    (
        {"input": [1, 16], "layers": [{"embedding": {"num_embeddings": 100, "embedding_dim": 8}}]},
        "layers[0] embedding: embedding takes integer token ids but its input is float32; put it first and set "
        "'dtype: int64'",
    ),
    ({"input": [1, 16], "layer": ["relu"]}, "unknown top-level field 'layer'; did you mean 'layers'?"),
    ({"layers": ["relu"]}, "missing 'input' (e.g. input: [1, 3, 224, 224] (batch first))"),
    (
        {"input": [1, 3, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": "full"}}]},
        "layers[0] conv2d: 'padding' must be an int, a list of ints, 'same' or 'valid', got 'full'",
    ),
    (
        {"input": [1, 3, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": [3, 3, 3]}}]},
        "layers[0] conv2d: 'kernel_size' needs one value per spatial dim (2), got [3, 3, 3]",
    ),
    (
        {"input": [1, 3, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3, "bias": "no"}}]},
        "layers[0] conv2d: 'bias' must be true or false, got 'no'",
    ),
    (
        {"input": [1, 3, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3}, "relu": None}]},
        "layers[0]: one layer per list entry, got conv2d, relu",
    ),
    (
        {"input": [2, 5, 16], "layers": [{"multihead_attention": {"num_heads": 3, "batch_first": True}}]},
        "layers[0] multihead_attention: num_heads=3 must divide embed_dim=16",
    ),
    (
        {"input": [1, 4, 1, 1], "layers": [{"batchnorm2d": {"track_running_stats": False}}]},
        "layers[0] batchnorm2d: without running stats it normalises over the batch, and the input (1, 4, 1, 1) has one "
        "value per channel (PyTorch refuses it)",
    ),
    (
        {"input": [1, 4, 1, 1], "layers": [{"groupnorm": 4}]},
        "layers[0] groupnorm: each group of the input (1, 4, 1, 1) holds one value",
    ),
    (
        {"input": [1, 3, 8, 8], "layers": [{"repet": 2, "layers": ["relu"]}]},
        "layers[0]: unknown layer type 'repet'; did you mean 'repeat'?",
    ),
    (
        {"input": [1, 3, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3, "name": "a.b"}}]},
        "layers[0] conv2d: name 'a.b' must be an identifier",
    ),
]


@pytest.mark.parametrize(("doc", "message"), CASES, ids=[m[:40] for _, m in CASES])
def test_spec_error(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as info:
        analyze(doc)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def _cli(tmp_path: Path, name: str, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / name
    path.write_text(text)
    code = main(["summary", str(path)])
    err = capsys.readouterr().err
    return code, err


def test_cli_one_line_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli(
        tmp_path, "net.yaml", "input: [1, 1, 32, 32]\nlayers:\n  - conv2d: {out_channels: 6, kernal_size: 5}\n", capsys
    )
    assert code == 1
    assert (
        err == "error: layers[0] conv2d: unknown field 'kernal_size'; did you mean 'kernel_size'? (conv2d takes: "
        "out_channels, kernel_size, in_channels, stride, padding, dilation, groups, bias)\n"
    )


def test_yaml_python_tag_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    text = f"input: [1, 4]\nlayers: !!python/object/apply:os.system ['touch {marker}']\n"
    code, err = _cli(tmp_path, "evil.yaml", text, capsys)
    assert code == 1
    assert "line 2: the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is refused" in err
    assert not marker.exists()  # nothing ran


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.yaml", "  \n", "the file is empty"),
        ("bad.yaml", "input: [1, 2\nlayers: []\n", "invalid YAML"),
        ("bad.json", '{"input": [1, 2],}', "line 1: invalid JSON"),
        ("list.yaml", "- relu\n", "a spec is a mapping with 'input' and 'layers', got list"),
        ("ctrl.yaml", "\x1b", "invalid YAML: unacceptable character #x001b"),
        ("key.yaml", "? [a, b]\n: 1\n", "line 1: invalid YAML: found unhashable key"),
    ],
)
def test_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, message: str) -> None:
    code, err = _cli(tmp_path, name, text, capsys)
    assert code == 1 and message in err and err.count("\n") == 1


def test_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "no/such/net.yaml"]) == 1
    assert capsys.readouterr().err == "error: no/such/net.yaml: no such file\n"


def test_spec_with_input_option(capsys: pytest.CaptureFixture[str]) -> None:
    spec = Path(__file__).resolve().parents[3] / "examples" / "specs" / "lenet5.yaml"
    assert main(["summary", str(spec), "--input", "1,1,28,28"]) == 1
    assert "a layer spec gives its own input shape" in capsys.readouterr().err


def test_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["summary", str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path}: is not UTF-8 text; a spec is a YAML or JSON text file\n"


def test_dropout_probability() -> None:
    with pytest.raises(SpecError, match=r"layers\[0\] dropout: 'p' must be a probability from 0 to 1, got 1.5"):
        analyze({"input": [1, 4], "layers": [{"dropout": 1.5}]})
