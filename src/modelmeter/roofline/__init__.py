"""From counts to time: roofline estimates on a hardware profile, and measured latency beside them."""

from .types import LayerTime, LLMTime, Measurement, Roofline, TrainingTime

__all__ = ["LLMTime", "LayerTime", "Measurement", "Roofline", "TrainingTime"]
