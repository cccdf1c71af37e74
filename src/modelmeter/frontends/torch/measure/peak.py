"""The inference activation peak measured in the counting forward itself, where the two runs would be the same.

``--memory`` needs the peak of live activation bytes over one inference forward (memory.activation_peak). The
counting forward (analyze.py) is that same forward whenever it runs on meta with the attention routing the
peak uses: the default kernel choice for the CPU, and no ``nn.MultiheadAttention`` /
``nn.TransformerEncoderLayer``, whose inference fast path the peak run prices (native_mha.py) and the counting
run, under a function mode, does not take. Then a :class:`LiveBytes` tracker and per-layer output bytes ride
along in the counting forward, and the separate run is skipped: one forward instead of two for a ``compare``
of the torchvision zoo. Otherwise (another kernel or target, an MHA model, a count that fell back to the CPU)
the peak is measured in its own run, as before. tests/frontends/torch/measure/test_peak_in_count_pass.py
compares the two ways on several models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from ....memory.attention_kernels import target_for
from ....options import MemoryOptions
from .fused_attention import FusedAttentionOnMeta
from .live import LiveBytes


@dataclass
class InferencePeak:
    """What the counting forward measures for memory: its attention routing (and the kernels it used), the live
    bytes, each module's output bytes (first call) and whether it finished on meta."""

    attention: FusedAttentionOnMeta = field(default_factory=FusedAttentionOnMeta)
    tracker: LiveBytes = field(default_factory=LiveBytes)
    per_layer: dict[str, int] = field(default_factory=dict)
    measured: bool = False


def in_count_pass(model: nn.Module, options: MemoryOptions) -> InferencePeak | None:
    """An :class:`InferencePeak` for the counting forward of ``model`` if it can measure the peak, else None."""
    if options.attention_kernel != "auto" or target_for(options.gpus) != "cpu":
        return None
    if any(isinstance(m, (nn.MultiheadAttention, nn.TransformerEncoderLayer)) for m in model.modules()):
        return None
    return InferencePeak()
