"""The layer spec as a frontend: ``net.yaml`` / ``net.json``, a loaded mapping or a :class:`Spec`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...errors import InputError, UncountedOpsError
from . import analyze, load
from .load import Spec, is_spec_path

if TYPE_CHECKING:
    from ...options import AnalysisOptions, MemoryOptions
    from ...report import Report


class SpecFrontend:
    name = "spec"

    def claims(self, model: object) -> bool:
        return is_spec_path(model) or isinstance(model, (Mapping, Spec))

    def analyze(self, model: Any, options: AnalysisOptions) -> Report:
        if options.has_input:
            where = os.fspath(model) if isinstance(model, (str, os.PathLike)) else "the spec"
            raise InputError(f"{where}: a layer spec gives its own input shape; drop input_size/--input")
        if options.measure is not None:
            raise InputError("measure: a layer spec has no weights to run; measure the nn.Module it builds instead")
        if options.memory is not None:
            options.memory.refuse_llm_sizing(os.fspath(model) if isinstance(model, (str, os.PathLike)) else "the spec")
        report = analyze(model, name=options.name)
        if options.strict and report.uncounted:
            listed = ", ".join(f"{op} x{n}" for op, n in sorted(report.uncounted.items()))
            raise UncountedOpsError(f"strict: layers without a formula: {listed}", report.uncounted)
        if options.memory is not None:  # memory is measured by running the spec's network, built on meta
            report = _with_memory(model, report, options.memory, options.attention)
        return report


def _with_memory(source: Any, report: Report, memory: MemoryOptions, attention: str) -> Report:
    from ..torch.frontend import require_torch

    require_torch()
    from ..torch.build import build_on_meta
    from ..torch.inputs import Inputs
    from ..torch.measure.memory import measure
    from .torch_module import build

    spec = load(source) if not hasattr(source, "input") else source
    module = build_on_meta(lambda: build(spec))
    measured = measure(module, Inputs(input_size=spec.input), "meta", memory, attention=attention)
    return dataclasses.replace(report, memory=measured)
