"""``hf:ORG/NAME``: a config.json from the local Hugging Face hub cache; the network is never used.

The cache is where huggingface_hub puts it: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``; a model's files are in
``models--ORG--NAME/snapshots/<revision>/``. The snapshot ``refs/main`` points at is used, else the newest.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ....errors import ModelRefError

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def looks_like_repo_id(text: str) -> bool:
    """``openai/whisper-tiny`` or ``gpt2``: a hub name, not a file name (``config.json``)."""
    return bool(_REPO_ID.match(text)) and not text.endswith(".json")


def hub_cache_dir() -> Path:
    env = os.environ
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "huggingface" / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def cached_config(repo_id: str) -> Path:
    """The cached config.json of ``repo_id``, or a ModelRefError saying where it looked."""
    repo = hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    ref = repo / "refs" / "main"
    if ref.is_file():
        pinned = snapshots / ref.read_text(encoding="utf-8").strip() / "config.json"
        if pinned.is_file():
            return pinned
    found = sorted(snapshots.glob("*/config.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    if found:
        return found[0]
    raise ModelRefError(
        f"hf:{repo_id}: not a local file, and no config.json in the local Hugging Face cache "
        f"(looked in {snapshots}/*/config.json; set HF_HUB_CACHE or HF_HOME to the cache in use). modelmeter "
        "never downloads: fetch it once with huggingface_hub, or give a path to a config.json"
    )
