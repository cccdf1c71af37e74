"""The library entry points; heavy frameworks are imported only when a model needs them."""

from __future__ import annotations

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
) -> Report:
    """Count the parameters, shapes, MACs and FLOPs of ``model``.

    ``model`` is an ``nn.Module`` or a reference string (``torchvision:resnet50``, ``net.py:Net``).
    Give the input as ``input_size`` (a shape, or a list of shapes for several inputs, with ``dtypes``)
    or as ``input_data`` (a tensor, a tuple of positional inputs, or a dict of keyword inputs). The model
    runs on meta tensors; ``device="auto"`` falls back to real CPU tensors if an op cannot run on meta.
    ``strict=True`` raises :class:`~modelmeter.errors.UncountedOpsError` if any op lacks a formula.
    A layer spec (``net.yaml``, ``net.json``, or the loaded mapping; docs/spec.md) is costed without PyTorch.
    """
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
        return report
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
    inputs = Inputs(input_size=input_size, input_data=input_data, dtypes=dtypes)
    return analyze_module(model, inputs, name=name, device=device, strict=strict)
