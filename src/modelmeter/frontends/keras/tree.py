"""The layer tree of a Keras model: a dotted name per layer (root ``""``), each layer object once.

Names are the Keras layer names along the nesting path (``backbone.block_1_expand``); a dot inside a Keras
name (``mobilenetv2_1.00_224``) is written as ``_`` so the report's hierarchy stays right. A layer shared by
two parents keeps the first path. ``InputLayer``s hold nothing and compute nothing, and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Node:
    name: str
    layer: Any
    children: list[Node] = field(default_factory=list)


def sublayers(layer: Any) -> list[Any]:
    """The layers ``layer`` tracks directly (Keras' ``_layers``), InputLayers left out."""
    return [c for c in getattr(layer, "_layers", []) if type(c).__name__ != "InputLayer"]


def layer_tree(model: Any, leaf_types: frozenset[str] = frozenset()) -> tuple[Node, list[Node]]:
    """The root node and every node in pre-order. Layers whose type is in ``leaf_types`` (layers costed
    as a whole, e.g. MultiHeadAttention, LSTM) are not descended into."""
    root = Node("", model)
    order = [root]
    seen = {id(model)}

    def visit(node: Node) -> None:
        if type(node.layer).__name__ in leaf_types:
            return
        for child in sublayers(node.layer):
            if id(child) in seen:
                continue
            seen.add(id(child))
            label = child.name.replace(".", "_")
            kid = Node(f"{node.name}.{label}" if node.name else label, child)
            node.children.append(kid)
            order.append(kid)
            visit(kid)

    visit(root)
    return root, order
