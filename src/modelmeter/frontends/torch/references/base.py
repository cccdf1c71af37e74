"""What a reference loader returns, and how a kind of reference is registered (``references/__init__.py``)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from ....options import AnalysisOptions
    from ....report import Report


@dataclass
class Loaded:
    """A model built from a reference (on meta, in eval mode), with what its source says about it."""

    model: torch.nn.Module | None
    name: str
    input_size: list[tuple[int, ...]] | None = None
    published: dict[str, Any] = field(default_factory=dict)
    report: Report | None = None  # a report made without a forward (a checkpoint's state dict): no model to run
    # default inputs, where sizes alone do not say them (token ids, several named inputs); built only when
    # asked for, so that a model whose defaults cannot be read off its config still runs on the user's inputs
    make_inputs: Callable[[], Any] | None = None
    # checks the inputs the model will run on (args, kwargs), given or default: hf token ids past a position table
    check_inputs: Callable[[tuple[Any, ...], dict[str, Any]], None] | None = None

    @cached_property
    def input_data(self) -> Any:
        return self.make_inputs() if self.make_inputs is not None else None


@dataclass(frozen=True)
class ReferenceKind:
    """One kind of model reference: ``claims(ref)`` is cheap (a prefix or suffix test); ``load(ref, options)``
    builds the model. ``takes_seq_len``: the kind reads ``options.seq_len`` / ``batch`` (or ignores them
    harmlessly); the others refuse them with one clear line."""

    name: str
    claims: Callable[[str], bool]
    load: Callable[[str, AnalysisOptions], Loaded]
    takes_seq_len: bool = False


def prefixed(prefix: str) -> Callable[[str], bool]:
    """A ``claims`` for references written ``PREFIX:...`` (``torchvision:``, ``hf:``, ``timm:``)."""

    def claims(ref: str) -> bool:
        return ref.startswith(prefix)

    return claims


def did_you_mean(word: str, options: list[str]) -> str:
    """'; did you mean 'resnet18'?' for a near miss among ``options``, else ''."""
    close = difflib.get_close_matches(word, options, n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
