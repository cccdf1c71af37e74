"""Which scaled-dot-product attention kernel a memory run prices (no torch here: the CLI reads the choices).

The kernel decides what attention keeps for backward (docs/memory.md, "Attention kernels"):
- ``math``: the composite ``_scaled_dot_product_attention_math``: the (B, H, T_q, T_k) softmax probabilities
  (and the dropout mask and output when dropout is on), so saved bytes grow with T².
- ``flash``: CPU ``_scaled_dot_product_flash_attention_for_cpu`` or CUDA ``_scaled_dot_product_flash_attention``:
  q, k, v, the output and the fp32 log-sum-exp (B, H, T_q) (CUDA adds the philox seed and offset).
- ``efficient``: CUDA ``_scaled_dot_product_efficient_attention``: q, k, v, the attention bias, the output,
  the fp32 log-sum-exp and the philox seed and offset.

``auto`` picks as PyTorch's dispatcher would on the target device: the CPU dispatcher (flash, else math) unless the
report sizes GPUs (``gpus``), then the CUDA one for an sm80+ GPU (flash, else efficient, else math).
"""

from __future__ import annotations

from ..errors import UsageError
from ..options import ATTENTION_KERNELS

ATTENTION_TARGETS = ("cpu", "cuda")


def check_kernel(kernel: str) -> str:
    if kernel not in ATTENTION_KERNELS:
        raise UsageError(f"unknown attention_kernel {kernel!r}; use one of {', '.join(ATTENTION_KERNELS)}")
    return kernel


def target_for(gpus: int | None) -> str:
    """The device whose dispatcher ``auto`` follows: CUDA when the report sizes GPUs, else the CPU."""
    return "cuda" if gpus is not None else "cpu"
