"""The library entry points; heavy frameworks are imported only when a model needs them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ._report import Report
from .errors import InputError, ModelMeterError


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise ModelMeterError("PyTorch is not installed; pip install 'modelmeter[torch]'") from exc


def summary(
    model: Any,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    input_data: Any = None,
    *,
    dtypes: Sequence[Any] | None = None,
    device: str = "auto",
    strict: bool = False,
    name: str | None = None,
    attention: str = "full",
    seq_len: int | None = None,
    batch: int | None = None,
    partial: bool = False,
    trust_pickle: bool = False,
    memory: bool = False,
    weights_dtype: str | None = None,
    train: bool = False,
    optimizer: str = "adamw",
    precision: str = "fp32",
    gpus: int | None = None,
    checkpointing: bool = False,
    kv_dtype: str | None = None,
    tokens: str | int | None = None,
) -> Report:
    """Count the parameters, shapes, MACs and FLOPs of ``model``.

    ``model`` is an ``nn.Module``, a reference string (``torchvision:resnet50``, ``net.py:Net``,
    ``hf:path/to/config.json``) or a Hugging Face ``transformers`` config object; Hugging Face models take
    token ids of shape (``batch``, ``seq_len``) unless inputs are given.
    Give the input as ``input_size`` (a shape, or a list of shapes for several inputs, with ``dtypes``)
    or as ``input_data`` (a tensor, a tuple of positional inputs, or a dict of keyword inputs). The model
    runs on meta tensors; ``device="auto"`` falls back to real CPU tensors if an op cannot run on meta.
    ``strict=True`` raises :class:`~modelmeter.errors.UncountedOpsError` if any op lacks a formula.
    ``attention="causal-aware"`` counts only the unmasked part of causal and sliding-window attention
    (default ``"full"``: the whole score matrix, as published figures do).
    ``partial=True``: if the forward fails, return the report of what ran (``report.partial`` is True and
    ``report.error`` says what failed) instead of raising :class:`~modelmeter.errors.ForwardError`.

    A checkpoint (``model.pt``, ``.pth``, ``.bin``, ``.ckpt``, ``.safetensors``) holding a state dict gives a
    report of its tensors per name prefix (no forward, so no MACs); a pickled full model in it is refused
    (:class:`~modelmeter.errors.CheckpointError`) unless ``trust_pickle=True``, since unpickling runs code.
    Global torch settings and the random state are restored afterwards, error or not.

    A layer spec (``net.yaml``, ``net.json``, or the loaded mapping; docs/spec.md) is costed without PyTorch.
    Memory (``report.memory``, docs/memory.md) is measured when ``memory=True``, ``weights_dtype`` (re-price
    the weights: ``"bf16"``, ``"int4"``, ...) or ``train=True`` is given. ``train=True`` adds one training
    step: parameters, gradients, ``optimizer`` state (``sgd``, ``sgd-momentum``, ``adam``, ``adamw``) at
    ``precision`` (``fp32``, ``bf16-mixed``, ``fp16-mixed``), the activations autograd saves, forward and
    backward FLOPs, and with ``gpus`` the per-device bytes under DDP, ZeRO-1/2/3 and tensor parallel.
    ``checkpointing=True`` measures the step with activation checkpointing of every repeated block.
    A causal LM from a Hugging Face config also gets ``report.llm``: parameters by part, MoE total vs active,
    the KV cache (at ``kv_dtype``, default the config's dtype), prefill vs decode per token, and with
    ``tokens`` (``"1T"``) the training FLOPs of that token budget beside 6·N·D.
    """
    memory_options = None
    if memory or train or weights_dtype is not None or kv_dtype is not None or tokens is not None:
        from .memory.dtypes import canonical
        from .memory.training import check

        check(optimizer, precision)
        if kv_dtype is not None:
            canonical(kv_dtype)
        if tokens is not None:
            from .memory.llm import parse_tokens

            parse_tokens(tokens)
        memory_options = {
            "weights_dtype": canonical(weights_dtype) if weights_dtype is not None else None,
            "train": train,
            "optimizer": optimizer,
            "precision": precision,
            "gpus": gpus,
            "checkpointing": checkpointing,
            "attention": attention,
        }
    from .spec import Spec, is_spec_path

    if is_spec_path(model) or isinstance(model, (Mapping, Spec)):
        if input_size is not None or input_data is not None:
            where = os.fspath(model) if isinstance(model, (str, os.PathLike)) else "the spec"
            raise InputError(f"{where}: a layer spec gives its own input shape; drop input_size/--input")
        from .spec import analyze

        report = analyze(model, name=name)
        if strict and report.uncounted:
            from .errors import UncountedOpsError

            listed = ", ".join(f"{op} x{n}" for op, n in sorted(report.uncounted.items()))
            raise UncountedOpsError(f"strict: layers without a formula: {listed}", report.uncounted)
        if memory_options is not None:  # memory is measured by running the spec's network, built on meta
            report = _spec_memory(model, report, memory_options)
        return report
    _require_torch()
    from .frontends.torch.guard import preserved_torch_state

    with preserved_torch_state():
        report, module, inputs = _summary(
            model, input_size, input_data, dtypes, device, strict, name, partial, trust_pickle,
            attention=attention, seq_len=seq_len, batch=batch, memory=memory_options,
        )  # fmt: skip
        if memory_options is not None and module is not None and not report.partial:
            # report.memory was measured in the analysis forward (one pass for counts and memory)
            from .frontends.torch.llm import add_llm_sizing, is_meta_causal_lm

            if is_meta_causal_lm(module):
                report = add_llm_sizing(report, module, inputs, kv_dtype, tokens)
        return report


def _spec_memory(source: Any, report: Report, options: dict[str, Any]) -> Report:
    _require_torch()
    from .frontends.torch.build import build_on_meta
    from .frontends.torch.inputs import Inputs
    from .frontends.torch.memory import measure
    from .spec import load, to_torch

    spec = load(source) if not hasattr(source, "input") else source
    module = build_on_meta(lambda: to_torch(spec))
    memory = measure(module, Inputs(input_size=spec.input), "meta", **options)
    return dataclasses.replace(report, memory=memory)


def _summary(
    model: Any,
    input_size: Any,
    input_data: Any,
    dtypes: Sequence[Any] | None,
    device: str,
    strict: bool,
    name: str | None,
    partial: bool,
    trust_pickle: bool,
    *,
    attention: str,
    seq_len: int | None,
    batch: int | None,
    memory: dict[str, Any] | None = None,
) -> tuple[Report, Any, Any]:
    """The report, and the module and inputs it ran (None for a checkpoint's state dict: no forward)."""
    from .frontends.torch.analyze import analyze_module
    from .frontends.torch.inputs import Inputs

    loaded, ref = None, None
    published: dict[str, Any] = {}
    if isinstance(model, (str, os.PathLike)):
        from .frontends.torch.checkpoint import checkpoint_report, is_checkpoint, read_checkpoint
        from .frontends.torch.references import Loaded, load

        ref = os.fspath(model)
        if is_checkpoint(ref):
            got = read_checkpoint(ref, trust_pickle=trust_pickle)
            if not isinstance(got, tuple):  # a trusted pickled nn.Module: analyze it like any model
                loaded = Loaded(got, name or os.path.basename(ref))
            else:
                report = checkpoint_report(name or os.path.basename(ref), *got)
                if input_size is not None or input_data is not None:
                    note = "a state dict has no forward; the input given was not used"
                    report = dataclasses.replace(report, notes=(*report.notes, note))
                return report, None, None
        else:
            loaded = load(ref, seq_len=seq_len, batch=batch)
    elif _is_hf_config(model):
        from .frontends.torch.references import from_hf_config

        loaded = from_hf_config(model, type(model).__name__.removesuffix("Config"), seq_len, batch)
    elif seq_len is not None or batch is not None:
        raise InputError("seq_len and batch apply to Hugging Face models; give input_size or input_data")
    if loaded is not None:
        model, name = loaded.model, name or loaded.name
        published = loaded.published
        if input_size is None and input_data is None:
            if loaded.input_data is not None:
                input_data = loaded.input_data
            elif loaded.input_size is None:
                raise InputError(f"{ref or loaded.name}: no default input size; give one, e.g. --input 1,3,224,224")
            else:
                input_size = loaded.input_size
    if input_size is None and input_data is None:
        raise InputError("give input_size (e.g. (1, 3, 224, 224)) or input_data (tensors)")
    inputs = Inputs(input_size=input_size, input_data=input_data, dtypes=dtypes)
    report = analyze_module(
        model, inputs, name=name, device=device, strict=strict, partial=partial, attention=attention, memory=memory
    )
    # what the source publishes (torchvision: num_params, _ops, acc@1) travels with the report, for `compare`
    if published:
        report = dataclasses.replace(report, published=tuple(published.items()))
    return report, model, inputs


def _is_hf_config(obj: Any) -> bool:
    from .frontends.torch.hf import is_config

    return is_config(obj)
