"""The library entry points; heavy frameworks are imported only when a model needs them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
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
    memory: bool = False,
    weights_dtype: str | None = None,
    train: bool = False,
    optimizer: str = "adamw",
    precision: str = "fp32",
    gpus: int | None = None,
    checkpointing: bool = False,
) -> Report:
    """Count the parameters, shapes, MACs and FLOPs of ``model``.

    ``model`` is an ``nn.Module`` or a reference string (``torchvision:resnet50``, ``net.py:Net``).
    Give the input as ``input_size`` (a shape, or a list of shapes for several inputs, with ``dtypes``)
    or as ``input_data`` (a tensor, a tuple of positional inputs, or a dict of keyword inputs). The model
    runs on meta tensors; ``device="auto"`` falls back to real CPU tensors if an op cannot run on meta.
    ``strict=True`` raises :class:`~modelmeter.errors.UncountedOpsError` if any op lacks a formula.

    Memory (``report.memory``, docs/memory.md) is measured when ``memory=True``, ``weights_dtype`` (re-price
    the weights: ``"bf16"``, ``"int4"``, ...) or ``train=True`` is given. ``train=True`` adds one training
    step: parameters, gradients, ``optimizer`` state (``sgd``, ``sgd-momentum``, ``adam``, ``adamw``) at
    ``precision`` (``fp32``, ``bf16-mixed``, ``fp16-mixed``), the activations autograd saves, forward and
    backward FLOPs, and with ``gpus`` the per-device bytes under DDP, ZeRO-1/2/3 and tensor parallel.
    ``checkpointing=True`` measures the step with activation checkpointing of every repeated block.
    """
    _require_torch()
    from .frontends.torch.analyze import analyze_module
    from .frontends.torch.inputs import Inputs

    if isinstance(model, (str, os.PathLike)):
        from .frontends.torch.references import load

        ref = os.fspath(model)
        loaded = load(ref)
        model, name = loaded.model, name or loaded.name
        if input_size is None and input_data is None:
            if loaded.input_size is None:
                raise InputError(f"{ref}: no default input size; give one, e.g. --input 1,3,224,224")
            input_size = loaded.input_size
    if input_size is None and input_data is None:
        raise InputError("give input_size (e.g. (1, 3, 224, 224)) or input_data (tensors)")
    if train:
        from .memory.training import check

        check(optimizer, precision)
    if weights_dtype is not None:
        from .memory.dtypes import canonical

        canonical(weights_dtype)
    inputs = Inputs(input_size=input_size, input_data=input_data, dtypes=dtypes)
    report = analyze_module(model, inputs, name=name, device=device, strict=strict)
    if memory or train or weights_dtype is not None:
        from .frontends.torch.memory import measure

        mem = measure(
            model,
            inputs,
            report.device,
            weights_dtype=weights_dtype,
            train=train,
            optimizer=optimizer,
            precision=precision,
            gpus=gpus,
            checkpointing=checkpointing,
        )
        report = dataclasses.replace(report, memory=mem)
    return report
