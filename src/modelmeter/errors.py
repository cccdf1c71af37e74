"""The exception tree of modelmeter.

Every error the library raises on purpose is a :class:`ModelMeterError`; the CLI turns each into one
line ``error: ...`` and exit code 1 (:class:`UsageError`: exit code 2).

    ModelMeterError
    ├── UsageError          bad arguments (CLI exit code 2)
    ├── ModelRefError       a model reference that cannot be resolved (file, attribute, zoo name)
    │   ├── CheckpointError a checkpoint (.pt/.pth/.bin/.ckpt/.safetensors) that cannot be read safely or at all
    │   └── OnnxError       an ONNX file: not ONNX, corrupt, truncated, or unsafe (external data outside its folder)
    ├── InputError          input sizes or data that do not fit the model
    ├── ForwardError        the model's forward raised; names the module path and its input shapes
    ├── SpecError           a layer spec (YAML/JSON) that is invalid
    └── UncountedOpsError   ``strict=True`` and some op ran without a formula
"""

from __future__ import annotations


class ModelMeterError(Exception):
    """Base class of every error modelmeter raises on purpose."""


class UsageError(ModelMeterError):
    """The arguments are wrong (the CLI exits with code 2)."""


class ModelRefError(ModelMeterError):
    """A model reference (``torchvision:NAME``, ``FILE.py:NAME``) cannot be resolved."""


class CheckpointError(ModelRefError):
    """A checkpoint file cannot be read, or reading it would run code from the file (a pickled object:
    refused unless ``trust_pickle=True`` / ``--trust-pickle``)."""


class OnnxError(ModelRefError):
    """An ONNX file cannot be read: not ONNX, corrupt or truncated, external data whose path leaves the model's
    folder, absurd sizes, or a graph onnx's shape inference rejects. The message names the file (and node)."""


class InputError(ModelMeterError):
    """The input sizes or input data given do not fit the model."""


class ForwardError(ModelMeterError):
    """The model's forward raised.

    ``module_path`` is the dotted name of the innermost module that was running (``""`` for the root)
    and ``input_shapes`` the shapes of the tensors it was called with.
    """

    def __init__(self, message: str, module_path: str = "", input_shapes: list[list[int]] | None = None):
        super().__init__(message)
        self.module_path = module_path
        self.input_shapes = input_shapes or []


class SpecError(ModelMeterError):
    """A layer spec is invalid; the message names the layer index, its name and the fix."""


class UncountedOpsError(ModelMeterError):
    """``strict=True`` was asked for and ops without a formula ran."""

    def __init__(self, message: str, ops: dict[str, int]):
        super().__init__(message)
        self.ops = ops
