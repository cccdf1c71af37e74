"""Checks on a file the user named, before anything reads it: one clear error for each way it can be wrong."""

from __future__ import annotations

import stat
from pathlib import Path

from .errors import ModelRefError


def shown(text: str, limit: int = 160) -> str:
    """``text`` as it can be printed in a one-line message: escaped if it holds control characters, and
    shortened in the middle if long."""
    out = text if text.isprintable() else repr(text)
    return out if len(out) <= limit else f"{out[: limit - 40]}...{out[-37:]}"


def check_readable_file(ref: str, example: str = "net.py:Net") -> Path:
    """``ref`` as a Path, if it names a non-empty regular file; else a :class:`ModelRefError` saying why."""
    path = Path(ref)
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise ModelRefError(f"{shown(ref)}: no such file") from exc
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a path through a file, no permission
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ModelRefError(f"{shown(ref)}: cannot be read ({reason})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise ModelRefError(f"{shown(ref)}: is a directory; name a file in it, e.g. {path / example}")
    if not stat.S_ISREG(st.st_mode):
        raise ModelRefError(f"{shown(ref)}: is not a regular file")
    if st.st_size == 0:
        raise ModelRefError(f"{shown(ref)}: the file is empty")
    return path
