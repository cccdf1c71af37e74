"""PyTorch as a frontend: an ``nn.Module``, a transformers config object, or a reference string (the kinds in
``references/``), counted at the aten level on meta (``analyze.py``), memory measured on request (``measure/``)."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

from ...errors import InputError, ModelMeterError

if TYPE_CHECKING:
    from ...options import AnalysisOptions
    from ...report import Report


def require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise ModelMeterError("PyTorch is not installed; pip install 'modelmeter[torch]'") from exc


class TorchFrontend:
    name = "torch"

    def claims(self, model: object) -> bool:
        """Everything: the torch frontend is the fallback (registered last), and its reference loaders
        name the known kinds when none fits."""
        return True

    def analyze(self, model: Any, options: AnalysisOptions) -> Report:
        require_torch()
        from .guard import preserved_torch_state

        with preserved_torch_state():
            report, module, inputs = _analyze(model, options)
            if options.memory is not None and module is not None and not report.partial:
                # report.memory was measured by analyze_module, in the same forward as the counts
                from .measure.llm import add_llm_sizing, is_meta_causal_lm

                if is_meta_causal_lm(module):
                    report = add_llm_sizing(report, module, inputs, options.memory.kv_dtype, options.memory.tokens)
            return report


def _analyze(model: Any, options: AnalysisOptions) -> tuple[Report, Any, Any]:
    """The report, and the module and inputs it ran (None for a checkpoint's state dict: no forward)."""
    from .analyze import analyze_module
    from .inputs import Inputs
    from .references.hf import from_hf_config, is_config

    input_size, input_data, name = options.input_size, options.input_data, options.name
    loaded, ref = None, None
    published: dict[str, Any] = {}
    if isinstance(model, (str, os.PathLike)):
        from .references import load_reference

        ref = os.fspath(model)
        loaded = load_reference(ref, options)
        if loaded.report is not None:  # a checkpoint's state dict: no forward
            return loaded.report, None, None
    elif is_config(model):
        loaded = from_hf_config(model, type(model).__name__.removesuffix("Config"), options.seq_len, options.batch)
    elif options.seq_len is not None or options.batch is not None:
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
    inputs = Inputs(input_size=input_size, input_data=input_data, dtypes=options.dtypes)
    report = analyze_module(
        model,
        inputs,
        name=name,
        device=options.device,
        strict=options.strict,
        partial=options.partial,
        attention=options.attention,
        memory=options.memory,
    )
    # what the source publishes (torchvision: num_params, _ops, acc@1) travels with the report, for `compare`
    if published:
        report = dataclasses.replace(report, published=tuple(published.items()))
    return report, model, inputs
