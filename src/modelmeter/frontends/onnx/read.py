"""Reading an ONNX file safely: protobuf only, no code, no data from outside the model's folder.

``onnx.load(load_external_data=False)`` parses the protobuf and nothing else (ONNX holds no code; custom
ops would only run in a runtime, and no runtime session is created here). Tensors stored as external data
are never read: their shapes and dtypes, all a count needs, are in the file; their ``location`` must still
name a file inside the model's folder (an absolute path, ``..`` or a symlink leading out is refused), so a
crafted model cannot make a later tool read ``/etc/passwd`` on our say-so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...errors import OnnxError

# A dim above this is not a real tensor (2^40 elements along one axis is 4 TiB of int32); refusing it keeps a
# crafted file from turning counts into nonsense.
MAX_DIM = 2**40
MAX_NUMEL = 2**50


def is_onnx_path(model: object) -> bool:
    """True for a path ending in ``.onnx`` (cheap; imports nothing)."""
    return isinstance(model, (str, os.PathLike)) and os.fspath(model).lower().endswith(".onnx")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_model(path: str | os.PathLike[str]) -> Any:
    """The parsed ``onnx.ModelProto`` of ``path``, checked to be a model; :class:`OnnxError` otherwise."""
    import onnx
    from google.protobuf.message import DecodeError

    where = os.fspath(path)
    p = Path(where)
    if not p.exists():
        raise OnnxError(f"{where}: no such file")
    if p.is_dir():
        raise OnnxError(f"{where}: is a directory; name the .onnx file in it")
    if p.stat().st_size == 0:
        raise OnnxError(f"{where}: the file is empty")
    try:
        model = onnx.load(where, load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, TypeError, OSError, UnicodeDecodeError) as exc:
        raise OnnxError(
            f"{where}: not a readable ONNX model ({_short(exc)}); expected a file written by onnx.save or an exporter"
        ) from None
    _check_model(model, where)
    check_external_data(model, p.parent, where)
    return model


def _check_model(model: Any, where: str) -> None:
    """Random or truncated bytes often parse as a protobuf message; a model has an IR version, an opset and a graph
    whose nodes name their op."""
    if model.ir_version <= 0 or not model.HasField("graph"):
        raise OnnxError(f"{where}: not an ONNX model (no IR version or no graph); the file may be truncated")
    if not model.opset_import:
        raise OnnxError(f"{where}: not an ONNX model (no opset_import); the file may be truncated or not ONNX")
    if not model.graph.node:
        raise OnnxError(f"{where}: the ONNX graph has no nodes; the file may be truncated")
    for graph in iter_graphs(model.graph):
        texts = [v.name for v in (*graph.input, *graph.output, *graph.value_info, *graph.initializer)]
        for node in graph.node:
            texts += [node.name, node.op_type, node.domain, *node.input, *node.output]
            texts += [a.name for a in node.attribute] + [t for p in node.metadata_props for t in (p.key, p.value)]
            if not node.op_type:
                raise OnnxError(f"{where}: node {node.name!r} has no op type; the file is corrupt")
        # protobuf hands back bytes for a string field that is not valid UTF-8: only a corrupt file has one
        if any(not isinstance(t, str) for t in texts):
            raise OnnxError(f"{where}: names in the graph are not valid UTF-8 text; the file is corrupt")
        for tensor in graph.initializer:
            check_dims(tuple(tensor.dims), f"{where}: initializer {tensor.name!r}")


def check_dims(dims: tuple[int, ...], what: str) -> None:
    """Refuse negative and absurd dims (a crafted or corrupt file)."""
    numel = 1
    for d in dims:
        if d < 0 or d > MAX_DIM:
            raise OnnxError(f"{what}: dim {d} is absurd (allowed 0 .. {MAX_DIM:,}); the file is corrupt or crafted")
        numel *= d
    if numel > MAX_NUMEL:
        raise OnnxError(f"{what}: shape {list(dims)} has {numel:,} elements, more than any real tensor; refused")


def iter_graphs(graph: Any) -> Iterator[Any]:
    """``graph`` and every subgraph in it (If branches, Loop and Scan bodies), depth first."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("g"):
                yield from iter_graphs(attr.g)
            for sub in attr.graphs:
                yield from iter_graphs(sub)


def iter_tensors(graph: Any) -> Iterator[Any]:
    """Every TensorProto the graph stores: initializers and Constant values, subgraphs included."""
    for g in iter_graphs(graph):
        yield from g.initializer
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors


def check_external_data(model: Any, folder: Path, where: str) -> None:
    """Every external-data location must resolve to a path inside ``folder``; nothing is read."""
    import onnx

    root = folder.resolve()
    for tensor in iter_tensors(model.graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        if not location or os.path.isabs(location) or location.startswith(("/", "\\")) or ":" in location:
            raise OnnxError(
                f"{where}: tensor {tensor.name!r} stores its data at {location!r}; only relative paths inside the "
                "model's folder are allowed, refused"
            )
        target = (folder / location).resolve()
        if target != root and root not in target.parents:
            raise OnnxError(
                f"{where}: tensor {tensor.name!r} stores its data at {location!r}, outside the model's folder "
                f"{str(root)!r}; refused"
            )
