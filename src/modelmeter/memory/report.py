"""The ``memory`` part of a report: plain data, byte integers (JSON ``memory``, docs/json-schema.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .quantized import Quantization
from .training import Sharded


@dataclass(frozen=True)
class Training:
    """One training step: the state it keeps, the activations autograd saves, and its FLOPs.

    ``activations`` are the unique storages autograd saved for backward in the measured forward (model inputs
    included when saved; parameters excluded, they are in ``params``). ``flops_per_sample`` divides by the
    batch (the first input's first dimension), ``flops_per_token`` by batch x sequence for token inputs.
    """

    optimizer: str
    precision: str
    params: int
    grads: int
    optimizer_state: int
    activations: int
    forward_flops: int
    backward_flops: int
    forward_macs: int
    backward_macs: int
    samples: int
    tokens: int | None = None
    backward_uncounted_ops: tuple[tuple[str, int], ...] = ()
    sharding: tuple[Sharded, ...] = ()
    checkpointing: bool = False
    recompute_flops: int = 0  # with checkpointing: the blocks' forward, run again in backward
    # scaled-dot-product attention calls per kernel priced ("flash", "efficient", "math"); docs/memory.md
    attention_kernels: tuple[tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        return self.params + self.grads + self.optimizer_state + self.activations

    @property
    def total_flops(self) -> int:
        return self.forward_flops + self.backward_flops + (self.recompute_flops if self.checkpointing else 0)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Training:
        """The inverse of :meth:`to_dict`."""
        flops, macs = d["flops"], d["macs"]
        return cls(
            optimizer=d["optimizer_name"],
            precision=d["precision"],
            params=d["params"],
            grads=d["grads"],
            optimizer_state=d["optimizer"],
            activations=d["activations"],
            forward_flops=flops["forward"],
            backward_flops=flops["backward"],
            forward_macs=macs["forward"],
            backward_macs=macs["backward"],
            samples=d["samples"],
            tokens=d.get("tokens"),
            backward_uncounted_ops=tuple(d.get("backward_uncounted_ops", {}).items()),
            sharding=tuple(
                Sharded(name, s["gpus"], s["params"], s["grads"], s["optimizer"], s["activations"])
                for name, s in d.get("sharding", {}).items()
            ),
            checkpointing=bool(d.get("checkpointing", False)),
            recompute_flops=flops.get("recompute", 0),
            attention_kernels=tuple(d.get("attention_kernels", {}).items()),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "optimizer_name": self.optimizer,
            "precision": self.precision,
            "checkpointing": self.checkpointing,
            "params": self.params,
            "grads": self.grads,
            "optimizer": self.optimizer_state,
            "activations": self.activations,
            "total": self.total,
            "samples": self.samples,
            "tokens": self.tokens,
        }
        out["flops"] = {
            "forward": self.forward_flops,
            "backward": self.backward_flops,
            "recompute": self.recompute_flops if self.checkpointing else 0,
            "total": self.total_flops,
            "per_sample": self.total_flops // self.samples if self.samples else None,
            "per_token": self.total_flops // self.tokens if self.tokens else None,
        }
        out["macs"] = {"forward": self.forward_macs, "backward": self.backward_macs}
        out["backward_uncounted_ops"] = dict(self.backward_uncounted_ops)
        out["attention_kernels"] = dict(self.attention_kernels)
        if self.sharding:
            out["sharding"] = {s.strategy: s.to_dict() for s in self.sharding}
        return out


@dataclass(frozen=True)
class Memory:
    """Inference memory, and training memory when asked for (``train=True``).

    ``weights`` are the unique parameters' bytes, at ``weights_dtype`` when one was asked for ("what if"),
    else at their own dtypes (``weights_by_dtype``). ``activations_peak`` is the peak of live tensor bytes the
    forward allocated (inputs and weights excluded), tensors freed when their last reference dies.
    ``attention_kernels`` counts the inference forward's scaled-dot-product attention calls per kernel priced,
    chosen as ``attention_kernel`` says (``auto``: as PyTorch's ``attention_target`` dispatcher would).
    """

    weights: int
    weights_by_dtype: tuple[tuple[str, int], ...]
    buffers: int
    activations_peak: int
    layer_output_bytes: tuple[tuple[str, int], ...] = ()
    weights_dtype: str | None = None
    training: Training | None = None
    kv_cache: int | None = None
    attention_kernel: str = "auto"
    attention_target: str = "cpu"
    attention_kernels: tuple[tuple[str, int], ...] = ()
    quantization: Quantization | None = None  # weights priced as a quantized checkpoint stores them

    @property
    def inference_total(self) -> int:
        """Weights + buffers + activation peak (the inputs are the caller's)."""
        return self.weights + self.buffers + self.activations_peak

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Memory:
        """The inverse of :meth:`to_dict` (a saved JSON document's ``memory``)."""
        return cls(
            weights=d["weights"],
            weights_by_dtype=tuple(d.get("weights_by_dtype", {}).items()),
            buffers=d.get("buffers", 0),
            activations_peak=d["activations_peak"],
            layer_output_bytes=tuple(d.get("layer_output_bytes", {}).items()),
            weights_dtype=d.get("weights_dtype"),
            training=Training.from_dict(d["training"]) if d.get("training") else None,
            kv_cache=d.get("kv_cache"),
            attention_kernel=d.get("attention_kernel", "auto"),
            attention_target=d.get("attention_target", "cpu"),
            attention_kernels=tuple(d.get("attention_kernels", {}).items()),
            quantization=Quantization.from_dict(d["quantization"]) if d.get("quantization") else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "weights_dtype": self.weights_dtype,
            "weights_by_dtype": dict(self.weights_by_dtype),
            "buffers": self.buffers,
            "activations_peak": self.activations_peak,
            "inference_total": self.inference_total,
            "layer_output_bytes": dict(self.layer_output_bytes),
            "training": self.training.to_dict() if self.training else None,
            "kv_cache": self.kv_cache,
            "attention_kernel": self.attention_kernel,
            "attention_target": self.attention_target,
            "attention_kernels": dict(self.attention_kernels),
            "quantization": self.quantization.to_dict() if self.quantization else None,
        }
