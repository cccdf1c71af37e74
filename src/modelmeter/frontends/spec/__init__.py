"""The layer spec frontend: a network written as YAML or JSON, costed without any framework.

    >>> report = modelmeter.summary("examples/lenet5.yaml")     # no torch needed
    >>> model = modelmeter.spec.to_torch("examples/lenet5.yaml")  # the same network as an nn.Module

The format is documented in docs/spec.md. Nothing here imports torch except :func:`to_torch`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ...report.model import InputInfo, Report, Totals, build_report
from .load import Spec, is_spec_path, load
from .shapes import walk

__all__ = ["Spec", "analyze", "is_spec_path", "load", "to_torch"]

PARAM_DTYPE, PARAM_BYTES = "float32", 4  # what to_torch builds, and PyTorch's default


def analyze(source: str | os.PathLike[str] | Mapping[str, Any] | Spec, name: str | None = None) -> Report:
    """The report of a spec (a path, a loaded mapping or a :class:`Spec`): shapes, params and MACs per layer."""
    spec = source if isinstance(source, Spec) else load(source)
    w = walk(spec)
    leaves = [r for r in w.records if not any(o.name.startswith(r.name + ".") for o in w.records if r.name)]
    params = w.records[0].params
    buffers = w.records[0].buffers
    # BatchNorm's num_batches_tracked is an int64 (8 bytes); its running mean and var are float32.
    counters = sum(1 for r in leaves if r.type.startswith("BatchNorm") and r.buffers)
    totals = Totals(
        params=params,
        trainable_params=params,
        non_trainable_params=0,
        buffers=buffers,
        param_bytes=params * PARAM_BYTES,
        buffer_bytes=(buffers - counters) * PARAM_BYTES + counters * 8,
        macs=0,
        flops=0,
        param_bytes_by_dtype=((PARAM_DTYPE, params * PARAM_BYTES),) if params else (),
    )
    return build_report(
        model=name or spec.name,
        inputs=[InputInfo(spec.input, spec.dtype)],
        records=w.records,
        op_costs=w.op_costs,
        uncounted_ops=dict(w.uncounted),
        totals=totals,
        device="spec",  # no forward ran: shapes were inferred from the spec
    )


def to_torch(source: str | os.PathLike[str] | Mapping[str, Any] | Spec) -> Any:
    """The spec's network as a ``torch.nn.Module`` (needs PyTorch), module names as in the report."""
    from .torch_module import build

    return build(source if isinstance(source, Spec) else load(source))
