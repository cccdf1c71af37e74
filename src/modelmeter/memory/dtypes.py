"""Bytes per element for the weight formats people ask about, and "what if" re-pricing of weights.

Sizes are in *bits* so that packed formats are exact: int4 stores two weights per byte (GPTQ / AWQ /
bitsandbytes NF4 pack them that way; their per-group scales are not counted here). A tensor of ``n``
elements at ``b`` bits takes ``ceil(n * b / 8)`` bytes.
"""

from __future__ import annotations

from ..errors import UsageError
from ..options import WEIGHT_DTYPES

# canonical name -> bits per element
BITS: dict[str, int] = {
    "float64": 64,
    "float32": 32,
    "float16": 16,
    "bfloat16": 16,
    "float8": 8,
    "int8": 8,
    "int4": 4,
}

ALIASES: dict[str, str] = {
    "fp64": "float64", "double": "float64",
    "fp32": "float32", "float": "float32",
    "fp16": "float16", "half": "float16",
    "bf16": "bfloat16",
    "fp8": "float8", "float8_e4m3fn": "float8", "float8_e5m2": "float8", "e4m3": "float8", "e5m2": "float8",
    "uint8": "int8", "qint8": "int8", "quint8": "int8",
    "uint4": "int4", "nf4": "int4", "fp4": "int4",
}  # fmt: skip

CHOICES = WEIGHT_DTYPES


def canonical(name: str) -> str:
    """'bf16' -> 'bfloat16'; an unknown name is a usage error naming the choices."""
    key = str(name).lower().removeprefix("torch.")
    key = ALIASES.get(key, key)
    if key not in BITS:
        raise UsageError(f"unknown weight dtype {name!r}; use one of {', '.join(CHOICES)}")
    return key


def nbytes(numel: int, dtype: str) -> int:
    """Bytes of ``numel`` elements stored as ``dtype`` (int4 packed two per byte, rounded up)."""
    return -(-numel * BITS[canonical(dtype)] // 8)
