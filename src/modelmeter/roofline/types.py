"""The roofline estimate and the measurement as plain data (part of the report; JSON key ``roofline``)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


def _plain(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass(frozen=True)
class LayerTime:
    """One layer's own ops (children excluded) on the roofline: time = max(flops / P, bytes / B)."""

    name: str
    type: str
    flops: int
    bytes: int
    intensity: float | None
    time_s: float
    bound: str  # "compute" | "memory"

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class LLMTime:
    """A causal LM served at batch ``batch``: prefill of ``seq_len`` tokens, then decode with a KV cache of
    ``kv_len`` tokens, each new token reading every weight and the whole cache once."""

    batch: int
    seq_len: int
    kv_len: int
    weight_bytes: int
    kv_cache_bytes: int
    prefill_time_s: float
    decode_time_s: float  # per token (per step of the batch)
    decode_bound: str
    tokens_per_s: float  # batch / decode_time_s

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class TrainingTime:
    """One training step at the stated efficiency: time = step FLOPs / (peak x efficiency);
    MFU = (forward + backward FLOPs, recompute excluded) / (time x peak)."""

    flops: int
    model_flops: int
    step_time_s: float
    mfu: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Measurement:
    """Wall-clock latency of the real forward (``--measure``): medians over ``runs`` after ``warmup`` runs."""

    device: str
    runs: int
    warmup: int
    median_s: float
    min_s: float
    max_s: float
    iqr_s: float
    layers: tuple[tuple[str, float], ...]  # leaf module name -> median seconds (hooked runs)
    layers_sum_s: float  # the leaf medians added up
    hooked_median_s: float  # the whole forward while hooked (what the per-layer times add up towards)
    layers_share: float = 0.0  # median over the hooked runs of (leaf times added up / that run's forward)
    estimate_s: float | None = None  # the roofline estimate at the efficiency used
    ratio: float | None = None  # measured / estimate
    calibrated_efficiency: float | None = None  # estimate at 100% / measured

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["layers"] = dict(self.layers)
        return out


@dataclass(frozen=True)
class Roofline:
    """Time of one forward on ``hardware`` at ``dtype``'s peak, both roofs scaled by ``efficiency``."""

    hardware: str
    title: str
    dtype: str
    peak_flops: float
    bandwidth: float
    efficiency: float
    time_s: float
    compute_time_s: float  # sum of flops / P over the layers
    memory_time_s: float  # sum of bytes / B over the layers
    bound: str  # what the most time is spent bound by
    attainable_flops: float  # the forward's FLOPs / time_s
    layers: tuple[LayerTime, ...]
    llm: LLMTime | None = None
    training: TrainingTime | None = None
    measured: Measurement | None = None

    @property
    def ridge(self) -> float:
        """The intensity (FLOP/B) where the roofs meet: below it a layer is memory-bound."""
        return self.peak_flops / self.bandwidth

    def to_dict(self) -> dict[str, Any]:
        out = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("layers", "llm", "training", "measured")
        }
        out["ridge"] = self.ridge
        out["layers"] = [layer.to_dict() for layer in self.layers]
        out["llm"] = self.llm.to_dict() if self.llm else None
        out["training"] = self.training.to_dict() if self.training else None
        out["measured"] = self.measured.to_dict() if self.measured else None
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Roofline:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["layers"] = tuple(LayerTime(**x) for x in d.get("layers", []))
        kw["llm"] = LLMTime(**d["llm"]) if d.get("llm") else None
        kw["training"] = TrainingTime(**d["training"]) if d.get("training") else None
        m = d.get("measured")
        kw["measured"] = Measurement(**{**m, "layers": tuple(m["layers"].items())}) if m else None
        return cls(**kw)
