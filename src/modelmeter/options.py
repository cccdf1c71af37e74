"""What one analysis was asked for, as data: built once from ``summary()``'s keyword arguments (the CLI's flags
arrive the same way) and handed to a frontend (``frontends.base.Frontend.analyze``).

The choice lists every layer checks against are defined here, once; nothing here imports a framework.
A new option is a new field with a default, so frontends that do not use it need no change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEVICES = ("auto", "meta", "cpu")  # where the torch forward runs; auto = meta, the CPU only if an op needs it
ATTENTION_MODES = ("full", "causal-aware")  # docs/conventions.md: the whole score matrix, or its unmasked part
WEIGHT_DTYPES = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")  # what `--weights-dtype` / `--kv-dtype` offer
OPTIMIZERS = ("sgd", "sgd-momentum", "adam", "adamw")
PRECISIONS = ("fp32", "bf16-mixed", "fp16-mixed")
ATTENTION_KERNELS = ("auto", "math", "flash", "efficient")  # the SDPA kernel memory prices (docs/memory.md)
FORMATS = ("table", "json", "csv", "markdown", "html")
SORT_KEYS = ("name", "params", "macs", "flops", "param_bytes", "activations_peak", "acc@1")  # compare's --sort


@dataclass(frozen=True)
class MemoryOptions:
    """Memory is measured (docs/memory.md): weights re-priced at ``weights_dtype`` (canonical name, e.g.
    ``"bfloat16"``), and with ``train`` one training step (``optimizer`` state at ``precision``, sharded over
    ``gpus``, with activation ``checkpointing``); causal LMs get their KV cache at ``kv_dtype`` and the training
    FLOPs of a ``tokens`` budget. ``attention_kernel`` is the scaled-dot-product attention kernel priced
    (``auto``: the one PyTorch picks on the CPU, or on an sm80+ GPU when ``gpus`` is given)."""

    weights_dtype: str | None = None
    train: bool = False
    optimizer: str = "adamw"
    precision: str = "fp32"
    gpus: int | None = None
    checkpointing: bool = False
    kv_dtype: str | None = None
    tokens: str | int | None = None
    attention_kernel: str = "auto"

    def refuse_llm_sizing(self, model: str) -> None:
        """``kv_dtype`` and ``tokens`` size causal LMs only: refused (not silently ignored) for ``model``."""
        if self.kv_dtype is not None or self.tokens is not None:
            from .errors import UsageError

            raise UsageError(
                f"{model}: --kv-dtype and --tokens apply to causal language models built from a Hugging Face "
                "config (hf:PATH or a transformers config with a generating LM head, e.g. GPT2LMHeadModel); "
                "this is not one"
            )


@dataclass(frozen=True)
class RooflineOptions:
    """A roofline estimate (docs/hardware.md) on the profile ``hardware`` (built-in, from ``hardware_file``, or
    ``"cpu"``; None with ``measure``: the device measured), both roofs scaled by ``efficiency`` (None: the
    profile's calibrated one, else 1)."""

    hardware: str | None = None
    efficiency: float | None = None
    hardware_file: str | None = None


@dataclass(frozen=True)
class MeasureOptions:
    """Run the model for real and time it: ``warmup`` forwards, then ``runs`` timed ones (and as many hooked)."""

    runs: int = 20
    warmup: int = 5


@dataclass(frozen=True)
class AnalysisOptions:
    """How to analyse one model (``summary``'s arguments; see its docstring). ``memory`` is None when no memory
    figure was asked for."""

    # a shape, a list of shapes, or (ONNX) shapes by input name: {"x": (1, 3, 224, 224)}
    input_size: Sequence[int] | Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | None = None
    input_data: Any = None
    dtypes: Sequence[Any] | None = None
    device: str = "auto"
    strict: bool = False
    name: str | None = None
    attention: str = "full"
    seq_len: int | None = None
    batch: int | None = None
    partial: bool = False
    trust_pickle: bool = False
    memory: MemoryOptions | None = None
    dims: Mapping[str, int] = field(default_factory=dict)  # ONNX: symbolic dims (batch, sequence) and loop counts
    roofline: RooflineOptions | None = None  # None: no time estimate asked for
    measure: MeasureOptions | None = None  # None: nothing is run for real

    @property
    def has_input(self) -> bool:
        """Whether the caller gave the input (a shape or tensors)."""
        return self.input_size is not None or self.input_data is not None
