"""modelmeter: what a neural network costs: parameters, shapes, MACs and FLOPs, layer by layer.

>>> import modelmeter
>>> report = modelmeter.summary(model, input_size=(1, 3, 224, 224))
>>> print(report)          # the table
>>> report.to_dict()       # the JSON document (schema modelmeter/1)
>>> report.explain()       # the hand calculation, layer by layer
>>> modelmeter.summary("net.yaml")            # a layer spec, no framework needed (docs/spec.md)
>>> modelmeter.spec.to_torch("net.yaml")      # the spec as an nn.Module
>>> modelmeter.llm_summary(config, seq_len=4096)  # a causal LM: KV cache, prefill/decode, training
"""

from . import render as render  # registers the formatters behind Report.to_csv(), str(report), ...
from . import spec as spec  # a public submodule, torch-free: modelmeter.spec.to_torch
from ._api import compare, llm_summary, summary
from ._version import __version__
from .errors import (
    CheckpointError,
    ForwardError,
    InputError,
    ModelMeterError,
    ModelRefError,
    SpecError,
    UncountedOpsError,
    UsageError,
)
from .formulas import Cost
from .memory import Memory, Training
from .report.compare import CompareEntry
from .report.model import InputInfo, LayerStats, OpStats, Report, Totals

__all__ = [
    "CheckpointError",
    "CompareEntry",
    "Cost",
    "ForwardError",
    "InputError",
    "InputInfo",
    "LayerStats",
    "Memory",
    "ModelMeterError",
    "ModelRefError",
    "OpStats",
    "Report",
    "SpecError",
    "Totals",
    "Training",
    "UncountedOpsError",
    "UsageError",
    "__version__",
    "compare",
    "llm_summary",
    "summary",
]
