"""Model references, one loader module per kind, registered below: ``torchvision:NAME[:WEIGHTS]``
(torchvision.py), ``timm:NAME[.TAG]`` (timm.py), ``FILE.py[:NAME]`` (pyfile.py), ``hf:PATH`` / ``hf:ORG/NAME``
(hf.py) and checkpoints (checkpoint.py).

A new kind (``timm:NAME``) is one file defining ``load_reference(ref, options) -> Loaded`` plus one line in
``KINDS``. A model built here is ours, so it is put in eval mode: it is costed for inference, as published
figures are (train mode would add Inception's auxiliary head and reject BatchNorm on 1x1 maps). A module
*instance* found in a file is the user's and keeps its mode.
"""

from __future__ import annotations

from pathlib import Path

from ...._files import check_readable_file, shown
from ....errors import InputError, ModelRefError
from ....options import AnalysisOptions
from . import checkpoint, hf, pyfile, timm, torchvision
from .base import Loaded, ReferenceKind, prefixed
from .hf import from_hf_config, load_hf
from .pyfile import load_file
from .torchvision import load_torchvision, torchvision_input_size

__all__ = [
    "KINDS",
    "Loaded",
    "ReferenceKind",
    "from_hf_config",
    "kind_of",
    "load",
    "load_file",
    "load_hf",
    "load_reference",
    "load_torchvision",
    "torchvision_input_size",
]

# The first kind that claims a reference loads it. Checkpoints come first: their suffix decides, whatever
# the rest of the reference looks like.
KINDS: tuple[ReferenceKind, ...] = (
    ReferenceKind("checkpoint", checkpoint.is_checkpoint, checkpoint.load_reference, takes_seq_len=True),
    ReferenceKind("hf", prefixed(hf.PREFIX), hf.load_reference, takes_seq_len=True),
    ReferenceKind("torchvision", prefixed(torchvision.PREFIX), torchvision.load_reference),
    ReferenceKind("timm", prefixed(timm.PREFIX), timm.load_reference),
    ReferenceKind("python file", pyfile.claims, pyfile.load_reference),
)


def kind_of(ref: str) -> ReferenceKind | None:
    """The registered kind that claims ``ref``, or None."""
    return next((kind for kind in KINDS if kind.claims(ref)), None)


def load_reference(ref: str, options: AnalysisOptions) -> Loaded:
    """Resolve a model reference to a module built on meta (or, for a state dict, a report without one).
    ``options.seq_len`` and ``batch`` shape the default input of Hugging Face models."""
    kind = kind_of(ref)
    if kind is None:
        _unknown(ref)
    assert kind is not None  # _unknown raised
    if not kind.takes_seq_len and (options.seq_len is not None or options.batch is not None):
        raise InputError(f"{ref}: seq_len and batch apply to Hugging Face models (hf:PATH); give input sizes")
    return kind.load(ref, options)


def load(ref: str, seq_len: int | None = None, batch: int | None = None) -> Loaded:
    """:func:`load_reference` with only the Hugging Face input shape given."""
    return load_reference(ref, AnalysisOptions(seq_len=seq_len, batch=batch))


def _unknown(ref: str) -> None:
    """Raise the one line that says what is wrong with a reference no kind claims."""
    head = ref.rpartition(":")[0]
    if head and _exists(head) and not _exists(ref):  # dir:Name or notes.txt:Name: the file part is what is wrong
        ref = head
    if _looks_like_path(ref):
        path = check_readable_file(ref)  # raises: missing, a directory, empty, unreadable
        raise ModelRefError(
            f"{shown(ref)}: unknown file kind {path.suffix or '(no suffix)'!r}; modelmeter reads Python files "
            f"(net.py:Net), checkpoints ({', '.join(checkpoint.CHECKPOINT_SUFFIXES)}) and layer specs (.yaml, .json)"
        )
    raise ModelRefError(f"{shown(ref)}: not a model reference; {_KINDS}")


_KINDS = (
    "use torchvision:NAME, timm:NAME, path/to/file.py:ClassOrFactory, hf:path/to/config.json, a checkpoint .pt "
    "or a layer spec .yaml"
)


def _exists(ref: str) -> bool:
    try:
        return Path(ref).exists()
    except (OSError, ValueError):  # a NUL byte, a name too long
        return False


def _looks_like_path(ref: str) -> bool:
    """A name with a directory or a suffix, or one that exists: reported as a file, not as a bad reference."""
    return "/" in ref or "\\" in ref or bool(Path(ref).suffix) or _exists(ref)
