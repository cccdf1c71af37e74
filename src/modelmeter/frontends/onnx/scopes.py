"""Which layer a node belongs to: its scope, read from the node's name or the exporter's metadata.

PyTorch's exporters name nodes after the module that ran them: the TorchScript exporter writes
``/layer1/layer1.0/conv1/Conv`` (scope ``layer1.0.conv1``), the dynamo exporter keeps the module path in the
``pkg.torch.onnx.name_scopes`` metadata (``['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'convolution']``)
and the classes in ``pkg.torch.onnx.class_hierarchy``. Other exporters (tf2onnx, ...) use ``a/b/c`` names the
same way. A node without a scope belongs to the model's root.
"""

from __future__ import annotations

import ast
from typing import Any

_SCOPES_KEY = "pkg.torch.onnx.name_scopes"
_CLASSES_KEY = "pkg.torch.onnx.class_hierarchy"


def _literal_list(text: str) -> list[str] | None:
    # ast.literal_eval reads literals only (never calls anything): safe on untrusted metadata
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def _clean(segment: str) -> str:
    return segment.strip().replace(" ", "_")


def scope_chain(node: Any) -> list[tuple[str, str | None]]:
    """(dotted name, class name or None) of every scope from the outermost to the node's own, root excluded."""
    meta = {p.key: p.value for p in node.metadata_props}
    if _SCOPES_KEY in meta:
        names = _literal_list(meta[_SCOPES_KEY]) or []
        classes = _literal_list(meta.get(_CLASSES_KEY, "")) or []
        chain: list[tuple[str, str | None]] = []
        for i, name in enumerate(names[1:-1], start=1):  # [0] is the root, [-1] the op itself
            if name:
                cls = classes[i].rsplit(".", 1)[-1] if i < len(classes) else None
                chain.append((_clean(name), cls))
        return chain
    name = node.name or ""
    if "/" not in name:
        return []
    segments = [_clean(s) for s in name.split("/")[:-1] if _clean(s)]
    chain = []
    current = ""
    for seg in segments:
        # TorchScript writes the full path of a container's children ("layer1.0" under "layer1"); elsewhere join
        current = seg if not current or seg.startswith(current + ".") else f"{current}.{seg}"
        chain.append((current, None))
    return chain


def short_name(node: Any, index: int) -> str:
    """A dotted-name-safe label of the node itself (for control-flow rows): its name's last part."""
    base = (node.name or "").rsplit("/", 1)[-1].replace(".", "_") or f"{node.op_type}_{index}"
    return _clean(base)
