"""Checkpoints (.pt / .pth / .bin / .ckpt / .safetensors), read without running code from the file.

``torch.load(weights_only=True)`` unpickles only tensors and plain containers; torch's restricted unpickler
refuses everything else, which is how a pickled full model (or any object that could run code) is detected.
``map_location="meta"`` reads the tensors' metadata without their bytes, so a checkpoint larger than memory
costs nothing. A pickled ``nn.Module`` is unpickled only with ``trust_pickle=True``. ``.safetensors`` files
hold no code by design and are read with the ``safetensors`` package (optional extra).

A state dict has no forward, so its report (:func:`checkpoint_report`) counts tensors, elements and bytes per
name prefix (``layer1.0.conv1``), with no MACs, no shapes, and notes saying so.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ...._files import check_readable_file
from ....errors import CheckpointError
from ....report.model import LayerStats, Report, Totals
from .base import Loaded

if TYPE_CHECKING:
    from ....options import AnalysisOptions

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors")
# Buffers registered by torch.nn's own layers (BatchNorm, InstanceNorm). A state dict does not mark which
# tensors are buffers; these names, and non-float dtypes (no gradient possible), are the only tell.
BUFFER_NAMES = frozenset({"running_mean", "running_var", "num_batches_tracked"})
# safetensors dtype codes -> (torch dtype name, bytes per element)
_SAFETENSORS_DTYPES = {
    "BOOL": ("bool", 1), "U8": ("uint8", 1), "I8": ("int8", 1), "F8_E4M3": ("float8_e4m3fn", 1),
    "F8_E5M2": ("float8_e5m2", 1), "I16": ("int16", 2), "U16": ("uint16", 2), "F16": ("float16", 2),
    "BF16": ("bfloat16", 2), "I32": ("int32", 4), "U32": ("uint32", 4), "F32": ("float32", 4),
    "I64": ("int64", 8), "U64": ("uint64", 8), "F64": ("float64", 8), "C64": ("complex64", 8),
}  # fmt: skip
_TRUST_HINT = (
    "unpickling it can run any code the file holds. If you trust where the file came from, rerun with "
    "--trust-pickle (API: trust_pickle=True); better, save a state dict: torch.save(model.state_dict(), PATH)"
)


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of a checkpoint. ``key`` identifies the tensor object: tied entries share it."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    numel: int
    nbytes: int
    key: Any
    is_buffer: bool
    # inside an optimizer's state dict (exp_avg, momentum_buffer): training state, not the model's parameters
    optimizer: bool = False


def is_checkpoint(ref: str) -> bool:
    return ref.lower().endswith(CHECKPOINT_SUFFIXES)


def load_reference(ref: str, options: AnalysisOptions) -> Loaded:
    """A checkpoint: the pickled model it holds (only with ``trust_pickle``), else the report of its state dict
    (no forward: no MACs), the input given noted as unused."""
    got = read_checkpoint(ref, trust_pickle=options.trust_pickle)
    if not isinstance(got, tuple):  # a trusted pickled nn.Module: analyzed like any model
        return Loaded(got, os.path.basename(ref))
    report = checkpoint_report(options.name or os.path.basename(ref), *got)
    if options.has_input:
        note = "a state dict has no forward; the input given was not used"
        report = dataclasses.replace(report, notes=(*report.notes, note))
    return Loaded(None, report.model, report=report)


def _is_buffer(name: str, dtype: str) -> bool:
    floating = dtype.startswith(("float", "bfloat", "complex"))
    return name.rsplit(".", 1)[-1] in BUFFER_NAMES or not floating


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def _check_fits_in_memory(path: Path) -> None:
    from .. import analyze  # its available_bytes, looked up at call time (tests replace it)

    size, free = path.stat().st_size, analyze.available_bytes()
    if size > free // 2:
        raise CheckpointError(
            f"{path}: is in the format of torch before 1.6, which can only be read whole: {size / 2**30:.1f} GiB, "
            f"more than half the available memory ({free / 2**30:.1f} GiB); re-save it with a current torch.save"
        )


def _torch_load(path: Path, trust_pickle: bool) -> Any:
    try:
        # weights_only: torch's restricted unpickler, no code runs. mmap: the tensor bytes stay on disk (nothing
        # reads them), and tensors sharing storage (tied weights) still share it, unlike with map_location="meta".
        # Files of the pre-1.6 format cannot be mapped; they are loaded on meta (tied tensors then look distinct).
        with warnings.catch_warnings():  # torch warns about odd pickle protocols; the errors below say it all
            warnings.simplefilter("ignore")
            try:
                return torch.load(path, map_location="cpu", mmap=True, weights_only=not trust_pickle)
            except RuntimeError as exc:
                if "mmap can only be used" not in str(exc):
                    raise
            _check_fits_in_memory(path)  # the old format is read whole, even on meta
            return torch.load(path, map_location="meta", weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if found and not trust_pickle:
            raise CheckpointError(f"{path}: holds a pickled {found.group(1)}, not only tensors; {_TRUST_HINT}") from exc
        reason = re.search(r"WeightsUnpickler error:\s*(.*?)\s*(Check the documentation|$)", str(exc), re.S)
        detail = " ".join(reason.group(1).split()) if reason else _first_line(exc)
        raise CheckpointError(
            f"{path}: not a readable PyTorch checkpoint (the safe unpickler stopped: {detail[:200]}); "
            "expected a file written by torch.save"
        ) from exc
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file makes torch.load raise many types
        if "TorchScript archive" in str(exc):
            raise CheckpointError(
                f"{path}: is a TorchScript archive (torch.jit.save), which modelmeter does not load; analyze the "
                "model's Python code (net.py:Net) or a state dict saved with torch.save(model.state_dict(), PATH)"
            ) from exc
        first_sentence = _first_line(exc).split(". ")[0]  # torch appends paragraphs of advice about weights_only
        raise CheckpointError(
            f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__}: {first_sentence}); "
            "expected a file written by torch.save"
        ) from exc


def _identity(t: torch.Tensor) -> Any:
    """Entries that are the same tensor (same storage, offset, shape, strides) count once: tied weights."""
    if t.device.type == "meta":
        return id(t)
    return (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.stride(), t.dtype)


def is_optimizer_state(item: Any) -> bool:
    """A ``torch.optim.Optimizer.state_dict()``, recognised by its structure (``state`` and ``param_groups``),
    wherever a training checkpoint keeps it (``optimizer``, ``optimizer_state_dict``, Lightning's
    ``optimizer_states`` list)."""
    return isinstance(item, Mapping) and "state" in item and isinstance(item.get("param_groups"), list)


def _flatten(obj: Any) -> tuple[list[TensorEntry], list[str]]:
    """Tensors anywhere in nested dicts / lists, named by dotted path; also the names of non-tensor leaves.

    Iterative with a visited set: a crafted file may nest deeply or hold a container that contains itself.
    """
    entries: list[TensorEntry] = []
    skipped: list[str] = []
    visited: set[int] = set()
    stack: list[tuple[str, Any, bool]] = [("", obj, False)]
    while stack:
        name, item, in_optimizer = stack.pop()
        if isinstance(item, torch.Tensor):
            dtype = str(item.dtype).removeprefix("torch.")
            entries.append(
                TensorEntry(name, tuple(int(d) for d in item.shape), dtype, item.numel(),
                            item.numel() * item.element_size(), _identity(item), _is_buffer(name, dtype),
                            in_optimizer)
            )  # fmt: skip
        elif isinstance(item, (Mapping, list, tuple)):
            if id(item) in visited:
                continue
            visited.add(id(item))
            in_optimizer = in_optimizer or is_optimizer_state(item)
            pairs = item.items() if isinstance(item, Mapping) else enumerate(item)
            children = [(f"{name}.{k}" if name else str(k), v, in_optimizer) for k, v in pairs]
            stack.extend(reversed(children))  # keep file order
        else:
            skipped.append(name or "<root>")
    return entries, skipped


def _read_safetensors(path: Path) -> list[TensorEntry]:
    try:
        from safetensors import safe_open
    except ImportError as exc:
        raise CheckpointError(
            f"{path}: reading .safetensors needs the safetensors package: pip install 'modelmeter[safetensors]'"
        ) from exc
    entries = []
    try:
        with safe_open(str(path), framework="pt") as f:
            for i, name in enumerate(f.keys()):
                part = f.get_slice(name)
                code, shape = part.get_dtype(), tuple(int(d) for d in part.get_shape())
                if code not in _SAFETENSORS_DTYPES:
                    raise CheckpointError(f"{path}: tensor {name!r} has dtype {code}, which modelmeter does not know")
                dtype, size = _SAFETENSORS_DTYPES[code]
                numel = 1
                for d in shape:
                    numel *= d
                entries.append(TensorEntry(name, shape, dtype, numel, numel * size, i, _is_buffer(name, dtype)))
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types on a corrupt header
        raise CheckpointError(f"{path}: not a readable safetensors file: {_first_line(exc)}") from exc
    return entries


def read_checkpoint(ref: str, trust_pickle: bool = False) -> tuple[list[TensorEntry], list[str]] | torch.nn.Module:
    """The tensors of a checkpoint (and the names of the non-tensor entries it holds), or the pickled
    ``nn.Module`` it holds (only with ``trust_pickle``; its weights on meta)."""
    path = check_readable_file(ref, example="model.pt")
    if path.suffix.lower() == ".safetensors":
        return _read_safetensors(path), []
    obj = _torch_load(path, trust_pickle)
    if isinstance(obj, torch.nn.Module):
        return obj
    entries, skipped = _flatten(obj)
    if not entries:
        raise CheckpointError(f"{path}: holds no tensors (it holds a {type(obj).__name__}); expected a state dict")
    return entries, skipped


def _prefixes(name: str) -> list[str]:
    """'a.b.weight' -> ['', 'a', 'a.b'] (the tensor's own name is not a row)."""
    parts = name.split(".")
    return [""] + [".".join(parts[:i]) for i in range(1, len(parts))]


def checkpoint_report(name: str, entries: list[TensorEntry], skipped: Sequence[str] = ()) -> Report:
    """A report whose layers are the name prefixes of the checkpoint's tensors (tied tensors counted once).

    Optimizer state (Adam's exp_avg and exp_avg_sq: twice the model's size) is not the model: it is left out of
    the params and the rows, and a note gives its elements and bytes."""
    optimizer = [e for e in entries if e.optimizer]
    entries = [e for e in entries if not e.optimizer]
    members: dict[str, dict[Any, TensorEntry]] = {}
    for e in entries:
        for prefix in _prefixes(e.name):
            members.setdefault(prefix, {}).setdefault(e.key, e)
    rows = []
    for prefix, unique in members.items():
        params = sum(e.numel for e in unique.values() if not e.is_buffer)
        rows.append(
            LayerStats(
                name=prefix, type="tensors", depth=0 if prefix == "" else prefix.count(".") + 1,
                input_shapes=(), output_shapes=(), params=params, trainable_params=params,
                buffers=sum(e.numel for e in unique.values() if e.is_buffer), calls=0, macs=0, flops=0,
                tensors=len(unique), bytes=sum(e.nbytes for e in unique.values()),
            )
        )  # fmt: skip
    unique = members.get("", {})
    by_dtype: dict[str, int] = defaultdict(int)
    for e in unique.values():
        if not e.is_buffer:
            by_dtype[e.dtype] += e.nbytes
    params = sum(e.numel for e in unique.values() if not e.is_buffer)
    notes = [
        "checkpoint: no forward ran, so MACs, FLOPs and shapes are not counted (they read 0); "
        "analyze the model's code for those",
        "a checkpoint does not record which tensors are trainable (all params counted as trainable) or which are "
        f"buffers (counted as buffers: non-float tensors and {', '.join(sorted(BUFFER_NAMES))})",
    ]
    if optimizer:
        roots = list(dict.fromkeys(e.name.split(".")[0] for e in optimizer))
        opt_unique = {e.key: e for e in optimizer}.values()
        opt_numel, opt_bytes = sum(e.numel for e in opt_unique), sum(e.nbytes for e in opt_unique)
        notes.append(
            f"optimizer state in {', '.join(roots)}: {len(opt_unique)} tensors, {opt_numel:,} elements, "
            f"{opt_bytes:,} bytes; training state, not counted as params (the totals are the model's alone)"
        )
    tied = len(entries) - len(unique)
    if tied:
        notes.append(f"{tied} tensor entries share a tensor with another entry (tied); counted once in totals")
    if skipped:  # named by their first two name parts: 'optimizer.param_groups', not every learning rate in it
        groups = list(dict.fromkeys(".".join(s.split(".")[:2]) for s in skipped))
        shown = ", ".join(groups[:8]) + (f" and {len(groups) - 8} more" if len(groups) > 8 else "")
        notes.append(f"non-tensor entries ignored ({len(skipped)}): {shown}")
    return Report(
        model=name,
        inputs=(),
        totals=Totals(
            params=params,
            trainable_params=params,
            non_trainable_params=0,
            buffers=sum(e.numel for e in unique.values() if e.is_buffer),
            param_bytes=sum(by_dtype.values()),
            buffer_bytes=sum(e.nbytes for e in unique.values() if e.is_buffer),
            macs=0,
            flops=0,
            param_bytes_by_dtype=tuple(sorted(by_dtype.items())),
        ),
        layers=tuple(rows),
        ops=(),
        uncounted_ops=(),
        device="none",
        notes=tuple(notes),
    )
