"""The library entry points: build the options once, pick the frontend that claims the model, return its Report.
Heavy frameworks are imported only when a model needs them (by the frontend)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .errors import UsageError
from .frontends.registry import frontend_for, session
from .options import AnalysisOptions, MeasureOptions, MemoryOptions, RooflineOptions
from .report.compare import CompareEntry, analyze, select
from .report.model import Report


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
    hardware: str | None = None,
    efficiency: float | None = None,
    hardware_file: str | os.PathLike[str] | None = None,
    measure: bool = False,
    runs: int = 20,
    warmup: int = 5,
    attention_kernel: str = "auto",
    dims: Mapping[str, int] | None = None,
) -> Report:
    """Count the parameters, shapes, MACs and FLOPs of ``model``.

    ``model`` is an ``nn.Module``, a reference string (``torchvision:resnet50``, ``net.py:Net``,
    ``hf:path/to/config.json``) or a Hugging Face ``transformers`` config object; Hugging Face models take
    token ids of shape (``batch``, ``seq_len``) unless inputs are given.
    Give the input as ``input_size`` (a shape, or a list of shapes for several inputs, with ``dtypes``)
    or as ``input_data`` (a tensor, a tuple of positional inputs, or a dict of keyword inputs). The model
    runs on meta tensors, or where cheaper on real CPU tensors (small image CNNs without memory); ``device="auto"``
    falls back to the other device if an op cannot run on the first.
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

    ``hardware`` (``"a100-80gb"``, ``"cpu"``, a profile in ``hardware_file``; ``modelmeter hardware`` lists
    them) adds ``report.roofline``: per layer max(FLOPs / peak, bytes / bandwidth) at the dtype that runs, both
    roofs scaled by ``efficiency`` (default the profile's calibrated one, else 1.0); for causal LMs prefill and
    decode per token, for ``train=True`` the step time and MFU (docs/hardware.md). ``measure=True`` runs the
    model for real (CUDA when present, else the CPU; ``warmup`` then ``runs`` timed forwards, per-layer times
    from hooks) and puts the measurement beside the estimate (``hardware`` defaults to the device measured).
    ``attention_kernel`` (``"math"``, ``"flash"``, ``"efficient"``; default ``"auto"``: the one PyTorch picks on
    the CPU, or on an sm80+ GPU when ``gpus`` is given) sets the scaled-dot-product attention kernel whose saved
    tensors memory prices (``report.memory.attention_kernels`` counts the calls per kernel); a value other than
    ``"auto"`` implies ``memory=True``.

    An ONNX file (``model.onnx``, docs/onnx.md) is read without PyTorch; its symbolic dims are bound by
    ``dims`` (``{"batch": 1}``) or by ``input_size`` (positionally, or by input name: ``{"x": (1, 3, 224, 224)}``).
    """
    options = analysis_options(
        input_size, input_data, dtypes=dtypes, device=device, strict=strict, name=name, attention=attention,
        seq_len=seq_len, batch=batch, partial=partial, trust_pickle=trust_pickle, memory=memory,
        weights_dtype=weights_dtype, train=train, optimizer=optimizer, precision=precision, gpus=gpus,
        checkpointing=checkpointing, kv_dtype=kv_dtype, tokens=tokens, hardware=hardware, efficiency=efficiency,
        hardware_file=hardware_file, measure=measure, runs=runs, warmup=warmup, attention_kernel=attention_kernel,
        dims=dims,
    )  # fmt: skip
    frontend = frontend_for(model)
    report = frontend.analyze(model, options)
    if options.measure is not None and (report.roofline is None or report.roofline.measured is None):
        raise UsageError(f"measure: the {frontend.name} frontend does not run models for real; PyTorch models only")
    if options.roofline is not None and report.roofline is None:  # a frontend that measured has attached its own
        from .roofline.estimate import with_estimate

        report = with_estimate(report, options.roofline)
    return report


def llm_summary(
    config: Any,
    *,
    seq_len: int = 2048,
    batch: int = 1,
    kv_dtype: str | None = None,
    tokens: str | int | None = None,
    train: bool = True,
    optimizer: str = "adamw",
    precision: str = "bf16-mixed",
    gpus: int | None = None,
    weights_dtype: str | None = None,
) -> Report:
    """A report of the causal LM of ``config`` for ``batch`` x ``seq_len`` tokens, with ``memory`` (KV cache
    included) and ``llm`` (parts, MoE, prefill/decode, token budget) filled in."""
    from .frontends.torch.frontend import require_torch

    require_torch()
    from .frontends.torch.measure.llm import build_causal_lm, token_ids, with_llm_sizing

    model = build_causal_lm(config)
    ids = token_ids(batch, seq_len)
    report = summary(
        model,
        input_data={"input_ids": ids},  # use_cache as configured: prefill builds its KV cache
        name=type(config).__name__.removesuffix("Config") or "llm",
        train=train,
        optimizer=optimizer,
        precision=precision,
        gpus=gpus,
        weights_dtype=weights_dtype,
        memory=True,
        device="meta",
        kv_dtype=kv_dtype,  # the frontend sizes the LLM once (prefill, decode) with these
        tokens=tokens if train else None,
    )
    if tokens is not None and not train:  # summary takes a token budget with training only; the sizing here
        return with_llm_sizing(report, model, seq_len=seq_len, batch=batch, kv_dtype=kv_dtype, tokens=tokens)
    return report


def analysis_options(
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
    hardware: str | None = None,
    efficiency: float | None = None,
    hardware_file: str | os.PathLike[str] | None = None,
    measure: bool = False,
    runs: int = 20,
    warmup: int = 5,
    attention_kernel: str = "auto",
    dims: Mapping[str, int] | None = None,
) -> AnalysisOptions:
    """:func:`summary`'s keyword arguments as :class:`AnalysisOptions`, the memory choices checked (one clear
    :class:`~modelmeter.errors.UsageError` naming the choices) before any model is built."""
    # options that would otherwise be silently ignored are refused, naming what they need
    if checkpointing and not train:
        raise UsageError("--checkpointing (checkpointing=True) applies to a training step; add --train")
    if tokens is not None and not train:
        raise UsageError("--tokens (tokens=...) sizes training on a token budget; add --train")
    memory_options = None
    if attention_kernel != "auto":
        from .memory.attention_kernels import check_kernel

        check_kernel(attention_kernel)
    asked = (weights_dtype, kv_dtype, tokens)
    if memory or train or any(a is not None for a in asked) or attention_kernel != "auto":
        from .memory.dtypes import canonical
        from .memory.llm import parse_tokens
        from .memory.training import check

        check(optimizer, precision)
        if kv_dtype is not None:
            canonical(kv_dtype)
        if tokens is not None:
            parse_tokens(tokens)
        memory_options = MemoryOptions(
            weights_dtype=canonical(weights_dtype) if weights_dtype is not None else None,
            train=train,
            optimizer=optimizer,
            precision=precision,
            gpus=gpus,
            checkpointing=checkpointing,
            kv_dtype=kv_dtype,
            tokens=tokens,
            attention_kernel=attention_kernel,
        )
    if efficiency is not None and hardware is None and not measure:
        raise UsageError("--efficiency (efficiency=...) applies to a roofline estimate; add --hardware NAME")
    if measure and (runs < 1 or warmup < 0):
        raise UsageError(f"measure: runs must be >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    roofline = None
    if hardware is not None or measure:
        file = os.fspath(hardware_file) if hardware_file is not None else None
        roofline = RooflineOptions(hardware=hardware, efficiency=efficiency, hardware_file=file)
    return AnalysisOptions(
        input_size=input_size,
        input_data=input_data,
        dtypes=dtypes,
        device=device,
        strict=strict,
        name=name,
        attention=attention,
        seq_len=seq_len,
        batch=batch,
        partial=partial,
        trust_pickle=trust_pickle,
        memory=memory_options,
        dims=dict(dims or {}),
        roofline=roofline,
        measure=MeasureOptions(runs=runs, warmup=warmup) if measure else None,
    )


def expand(refs: Iterable[str]) -> list[str]:
    """Replace each pattern (``torchvision:resnet*``, ``FILE.py:*``) by the references it matches (sorted),
    keeping plain references as given; a pattern that matches nothing is an error naming it."""
    from .frontends.torch.references.patterns import expand as expand_patterns

    return expand_patterns(refs)


def compare(
    models: Iterable[str],
    *,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    dtypes: Sequence[Any] | None = None,
    device: str = "auto",
    strict: bool = False,
    sort: str | None = "macs",
    reverse: bool = False,
    max_params: int | None = None,
    max_macs: int | None = None,
    memory: bool = True,
    dims: Mapping[str, int] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[CompareEntry], None] | None = None,
    workers: int | None = None,
) -> list[CompareEntry]:
    """Analyse every model (references or patterns: ``torchvision:resnet*`` / ``torchvision:*`` expand over
    torchvision's classification models, ``FILE.py:*`` over the ``nn.Module`` classes defined in the file) and
    return them filtered and sorted:
    ``modelmeter.compare(["torchvision:*"], max_params=5_000_000, sort="acc@1", reverse=True)``.

    A model that fails is a :class:`CompareEntry` with ``error`` set, placed last; the others still run.
    ``on_start`` / ``on_done`` are called around each model (the CLI drives its progress bar with them).
    ``memory=True`` also measures each model's inference activation peak (in the same forward as the counts).
    Several models run in ``workers`` processes (opt-in; default 1: in this process; a script needs an
    ``if __name__ == "__main__"`` guard, as with ``spawn``), with the
    same results in the same order as one process gives.
    """
    from ._parallel import analyze_in_pool, workers_for

    refs = expand(models)
    kwargs: dict[str, Any] = {
        "input_size": input_size, "dtypes": dtypes, "device": device, "strict": strict, "memory": memory, "dims": dims,
    }  # fmt: skip
    processes = workers_for(len(refs), workers)
    if processes > 1:
        entries = analyze_in_pool(refs, summary, kwargs, processes, on_start=on_start, on_done=on_done)
    else:
        with session():  # the models share what they can (the torch frontend: its meta-op cache)
            entries = analyze(refs, lambda ref: summary(ref, **kwargs), on_start=on_start, on_done=on_done)
    return select(entries, sort=sort, reverse=reverse, max_params=max_params, max_macs=max_macs)
