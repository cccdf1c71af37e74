"""Fuzzing the spec reader: whatever the document, analyze() returns a report or raises SpecError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmeter.errors import SpecError
from modelmeter.frontends.spec.types import LAYER_TYPES
from modelmeter.spec import analyze

NAMES = [*LAYER_TYPES, "repeat", "residual", "layers", "shortcut", "name", "kernel_size", "out_channels"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 40),
    st.integers(),
    st.floats(allow_nan=True),
    st.sampled_from(NAMES),
    st.text(max_size=5),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)
fields = st.dictionaries(
    st.sampled_from(
        [
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "groups",
            "bias",
            "out_features",
            "hidden_size",
            "num_heads",
            "p",
            "dim",
            "name",
        ]
    ),
    scalars,
    max_size=4,
)
layers = st.lists(
    st.one_of(st.sampled_from(NAMES), st.builds(lambda t, f: {t: f}, st.sampled_from(NAMES), fields | scalars), values),
    max_size=6,
)
docs = st.one_of(
    values,
    st.fixed_dictionaries({"input": st.lists(st.integers(-1, 40), max_size=5) | values, "layers": layers}),
    st.fixed_dictionaries({"input": st.sampled_from([[1, 3, 16, 16], [2, 10], [4, 3, 8]]), "layers": layers}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs)
def test_documents_give_a_report_or_spec_error(doc: Any) -> None:
    try:
        analyze(doc) if isinstance(doc, dict) else analyze({"input": [1, 4], "layers": doc})
    except SpecError as exc:
        assert str(exc) and "\n" not in str(exc)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_yaml_text_gives_a_report_or_spec_error(tmp_path_factory: Any, text: str) -> None:
    path = Path(tmp_path_factory.mktemp("fuzz")) / "net.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        analyze(path)
    except SpecError as exc:
        assert str(exc) and "\n" not in str(exc)
