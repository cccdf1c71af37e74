"""Fuzzing the model-reference parser and the --input parser: any string gives a result or a documented
ModelMeterError, never another exception (no crash, no traceback at the CLI)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmeter.cli import main, parse_shape
from modelmeter.errors import ModelMeterError, UsageError
from modelmeter.frontends.torch.references import load

NET_PY = "import torch\nclass Net(torch.nn.Module):\n    def forward(self, x):\n        return x\n"


@pytest.fixture(scope="module")
def playground() -> Iterator[Path]:
    """A folder with one of each kind of file the references can name; the fuzzed strings run inside it."""
    root = Path(tempfile.mkdtemp(prefix="mm-fuzz-"))
    (root / "net.py").write_text(NET_PY)
    (root / "two.py").write_text(NET_PY + "class Other(Net):\n    pass\n")
    (root / "empty.py").write_text("")
    (root / "broken.py").write_text("def (:\n")
    (root / "notes.txt").write_text("hello\n")
    (root / "dir.py").mkdir()
    (root / "sub").mkdir()
    torch.save({"w": torch.zeros(2)}, root / "sd.pt")
    torch.save(torch.nn.Linear(2, 2), root / "full.pt")
    yield root
    shutil.rmtree(root)


@contextmanager
def inside(folder: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


NAMES = ["net.py", "two.py", "empty.py", "broken.py", "notes.txt", "dir.py", "sub", "sd.pt", "full.pt", "missing.py"]
# Strings shaped like references (a known prefix or file, a separator, junk) and plain junk, NUL bytes included.
junk = st.text(max_size=30)
references = st.one_of(
    junk,
    st.builds(lambda a, b: f"torchvision:{a}{b}", st.sampled_from(["resnet18", "vit_b_16", "", "resnet18:"]), junk),
    st.builds(lambda n, sep, a: f"{n}{sep}{a}", st.sampled_from(NAMES), st.sampled_from([":", "", "::", "/"]), junk),
    st.builds(lambda a: f"{a}.py", junk),
    st.builds(lambda a, b: f"{a}.py:{b}", junk, junk),
    st.builds(lambda a, b: f"{a}{b}", junk, st.sampled_from([".pt", ".pth", ".bin", ".safetensors", ".yaml", ".txt"])),
)


@settings(max_examples=300, deadline=None)
@given(ref=references)
def test_fuzz_load_gives_only_documented_errors(playground: Path, ref: str) -> None:
    with inside(playground):
        try:
            loaded = load(ref)
        except ModelMeterError as exc:
            assert str(exc) and "\n" not in str(exc)
        else:  # a model to run, or (a checkpoint's state dict) the report made without one
            assert isinstance(loaded.model, torch.nn.Module) or loaded.report is not None


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.from_regex(r"-?[0-9]{1,25}([,x ]-?[0-9]{0,25}){0,6}", fullmatch=True)))
def test_fuzz_parse_shape(text: str) -> None:
    try:
        shape = parse_shape(text)
    except UsageError as exc:
        assert repr(text) in str(exc)
    else:
        assert shape and all(isinstance(d, int) and d >= 0 for d in shape)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ref=references, shape=st.one_of(st.none(), st.text(max_size=12)))
def test_fuzz_cli_one_line_errors(
    playground: Path, capsys: pytest.CaptureFixture[str], ref: str, shape: str | None
) -> None:
    """Through the CLI's error boundary: exit 0, 1 or 2; on failure exactly one 'error:' line, never 'internal'.
    (capsys is emptied before each example, so sharing it between examples is safe.)"""
    args = ["summary", ref] + ([] if shape is None else ["--input", shape])
    with inside(playground):
        capsys.readouterr()
        code = main(args)
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    if code:
        assert err.count("\n") == 1 and err.startswith("error: "), err
        assert "internal error" not in err


shapes = st.recursive(
    st.one_of(st.integers(-3, 2**64), st.booleans(), st.none(), st.text(max_size=3), st.floats(allow_nan=True)),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(size=shapes)
def test_fuzz_input_size_gives_only_documented_errors(size) -> None:
    """Whatever ``input_size`` the API is given: a report, or a ModelMeterError (InputError, ForwardError)."""
    import modelmeter

    try:
        report = modelmeter.summary(torch.nn.Linear(3, 4), input_size=size)
    except ModelMeterError:
        pass
    else:
        assert report.layer("").output_shapes[0][-1] == 4
