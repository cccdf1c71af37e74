"""PyTorch as a frontend: an ``nn.Module``, a transformers config object, or a reference string (the kinds in
``references/``), counted at the aten level on meta (``analyze.py``), memory measured on request (``measure/``)."""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ...errors import InputError, ModelMeterError
from ...options import MemoryOptions

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

    def __init__(self) -> None:
        self._sessions = 0
        self._shared: Any = None  # the meta-op cache (meta_cache.Cache) of the open session, made on first use

    @contextmanager
    def session(self) -> Iterator[None]:
        """The models analysed inside share one meta-op cache (a compare: ResNets and RegNets repeat each other's
        layers). Imports nothing: the cache is made by the first analysis."""
        self._sessions += 1
        try:
            yield
        finally:
            self._sessions -= 1
            if not self._sessions:
                self._shared = None

    def claims(self, model: object) -> bool:
        """Everything: the torch frontend is the fallback (registered last), and its reference loaders
        name the known kinds when none fits."""
        return True

    def analyze(self, model: Any, options: AnalysisOptions) -> Report:
        require_torch()
        from .guard import preserved_torch_state
        from .meta_cache import Cache, scope

        if self._sessions and self._shared is None:
            self._shared = Cache()
        # meta ops answered once per analysis, or per session (meta_cache.py)
        with preserved_torch_state(), scope(self._shared if self._sessions else None), _gc_paused():
            report, module, inputs, peak = _analyze(model, options)
            memory = options.memory
            if memory is None and options.roofline is not None and module is not None and not report.partial:
                from .measure.llm import is_meta_causal_lm

                if is_meta_causal_lm(module):  # the roofline's prefill and decode need the LLM sizing
                    memory = MemoryOptions()
            if memory is not None and module is not None and not report.partial:
                from .guard import preserved_module
                from .measure.llm import add_llm_sizing, is_meta_causal_lm
                from .measure.memory import measure

                with preserved_module(module):  # the memory runs leave the model as the counting run does
                    measured = measure(
                        module, inputs, report.device, memory, attention=options.attention, inference=peak
                    )
                    report = dataclasses.replace(report, memory=measured)
                    if is_meta_causal_lm(module):
                        report = add_llm_sizing(report, module, inputs, memory.kv_dtype, memory.tokens)
                    else:
                        memory.refuse_llm_sizing(report.model)
            elif memory is not None:  # a checkpoint or a partial run: nothing to size
                memory.refuse_llm_sizing(report.model)
            if options.measure is not None:
                report = _with_latency(report, module, inputs, options)
            return report


class _gc_paused:
    """Context manager: no cyclic garbage collection during an analysis, as it was after. The analysis makes
    many short-lived objects, which trigger collections of the whole heap (torch and transformers hold millions
    of objects): a ResNet-50 that counts in 29 ms took 194 ms when one struck. Reference counting still frees
    everything that is not in a cycle; the cycles left wait for the next collection."""

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            gc.enable()


def _with_latency(report: Report, module: Any, inputs: Any, options: AnalysisOptions) -> Report:
    """The real forward timed (``measure/latency.py``), beside the roofline estimate on the device measured."""
    if module is None:
        raise InputError("measure: a checkpoint's state dict has no forward to time")
    if report.partial:
        raise InputError("measure: the forward failed on meta, so there is nothing to time")
    from ...hardware.profiles import profile_for_device
    from ...options import RooflineOptions
    from ...roofline.estimate import with_estimate
    from ...roofline.measure import attach
    from .measure.latency import measure_latency

    assert options.measure is not None
    activations = report.memory.activations_peak if report.memory is not None else report.totals.write_bytes
    measured = measure_latency(
        module, inputs, runs=options.measure.runs, warmup=options.measure.warmup, activation_bytes=activations
    )
    roofline = options.roofline or RooflineOptions()
    hardware = roofline.hardware or profile_for_device(measured.device)
    if hardware is None:
        raise InputError(f"measure: no built-in profile for {measured.device}; give hardware=NAME for the estimate")
    return attach(with_estimate(report, roofline, hardware), measured)


def _analyze(model: Any, options: AnalysisOptions) -> tuple[Report, Any, Any, Any]:
    """The report, the module and inputs it ran (None for a checkpoint's state dict: no forward), and the
    inference peak measured in the same forward where it could be (measure/peak.py; else None)."""
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
            return loaded.report, None, None, None
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
    if loaded is not None and loaded.check_inputs is not None:
        loaded.check_inputs(inputs.args, inputs.kwargs)
    peak = None
    if options.memory is not None and callable(getattr(model, "modules", None)):  # not a module: refused below
        from .measure.peak import in_count_pass

        peak = in_count_pass(model, options.memory)
    report = analyze_module(
        model,
        inputs,
        name=name,
        device=options.device,
        strict=options.strict,
        partial=options.partial,
        attention=options.attention,
        memory=options.memory is not None,  # measured on the device used: the strategy keeps to meta then
        peak=peak,
    )
    # what the source publishes (torchvision: num_params, _ops, acc@1) travels with the report, for `compare`
    if published:
        report = dataclasses.replace(report, published=tuple(published.items()))
    return report, model, inputs, peak
