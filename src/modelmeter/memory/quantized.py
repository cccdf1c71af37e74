"""Weights as a quantized checkpoint stores them (a ``quantization_config`` in a transformers config.json).

Bytes of one weight matrix of ``rows`` x ``cols`` (``cols`` the reduction / input dimension), ``count`` of them
(the experts of a 3-D expert tensor), per method, data + scales, as each format lays them out:

- ``mxfp4`` (OCP Microscaling, gpt-oss): 4-bit E2M1 elements, two per byte, and one 8-bit E8M0 scale per 32
  elements along the input: rows · ceil(cols / 32) · (16 + 1) bytes (4.25 bits per weight).
- ``fp8`` (DeepSeek-V3 "fine-grained"): one byte per weight (E4M3) and one float32 scale per
  ``weight_block_size`` block (128 x 128: ceil(rows / 128) · ceil(cols / 128) · 4), or one per tensor.
- ``gptq`` / ``awq`` (``bits``, ``group_size``): packed weights rows · cols · bits / 8, packed zero points
  ceil(cols / group) · rows · bits / 8, float16 scales ceil(cols / group) · rows · 2; GPTQ adds its int32
  ``g_idx`` (cols · 4).
- ``bitsandbytes`` 4-bit (NF4 / FP4): two weights per byte and one absmax per 64 weights, float32, or with
  double quantization one byte plus a float32 per 256 absmax; 8-bit (LLM.int8): one byte per weight and a
  float32 scale per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Scheme:
    """A quantization method and its parameters, read from ``quantization_config``."""

    method: str  # "mxfp4", "fp8", "gptq", "awq", "bnb-4bit", "bnb-8bit"
    bits: int = 4
    group_size: int = 128
    block: tuple[int, int] | None = None  # fp8 weight_block_size
    double_quant: bool = False

    @property
    def element_format(self) -> str:
        return {"mxfp4": "mxfp4", "fp8": "float8_e4m3fn", "bnb-4bit": "nf4", "bnb-8bit": "int8"}.get(
            self.method, f"int{self.bits}"
        )


def scheme_of(config: dict[str, Any]) -> Scheme | None:
    """The scheme of a ``quantization_config`` mapping; None for a method not priced here."""
    method = str(config.get("quant_method", "")).lower()
    if method == "mxfp4":
        return Scheme("mxfp4", bits=4)
    if method in ("fp8", "fbgemm_fp8", "finegrained_fp8"):
        block = config.get("weight_block_size")
        return Scheme("fp8", bits=8, block=(int(block[0]), int(block[1])) if block else None)
    if method in ("gptq", "awq"):
        group = int(config.get("group_size", 128) or 128)
        return Scheme(method, bits=int(config.get("bits", 4)), group_size=group)
    if method == "bitsandbytes":
        if config.get("load_in_4bit") or config.get("_load_in_4bit"):
            return Scheme("bnb-4bit", bits=4, double_quant=bool(config.get("bnb_4bit_use_double_quant", False)))
        if config.get("load_in_8bit") or config.get("_load_in_8bit"):
            return Scheme("bnb-8bit", bits=8)
    return None


def stored_bytes(scheme: Scheme, rows: int, cols: int, count: int = 1) -> dict[str, int]:
    """Bytes by stored format (data, scales, zero points) of ``count`` matrices of rows x cols."""
    n = rows * cols
    m = scheme.method
    if m == "mxfp4":
        blocks = rows * _ceil(cols, 32)
        out = {"mxfp4": blocks * 16, "e8m0 scales": blocks}
    elif m == "fp8":
        scales = _ceil(rows, scheme.block[0]) * _ceil(cols, scheme.block[1]) if scheme.block else 1
        out = {"float8_e4m3fn": n, "float32 scales": scales * 4}
    elif m in ("gptq", "awq"):
        groups = _ceil(cols, scheme.group_size)
        out = {
            f"int{scheme.bits}": _ceil(n * scheme.bits, 8),
            f"int{scheme.bits} zero points": _ceil(groups * rows * scheme.bits, 8),
            "float16 scales": groups * rows * 2,
        }
        if m == "gptq":
            out["int32 g_idx"] = cols * 4
    elif m == "bnb-4bit":
        absmax = _ceil(n, 64)
        scales = absmax + _ceil(absmax, 256) * 4 if scheme.double_quant else absmax * 4
        out = {"nf4": _ceil(n, 2), "absmax scales": scales}
    elif m == "bnb-8bit":
        out = {"int8": n, "float32 scales": rows * 4}
    else:
        raise ValueError(f"unknown quantization method {m!r}")
    return {k: v * count for k, v in out.items()}


@dataclass(frozen=True)
class Quantization:
    """Which weights a checkpoint stores quantized, and their bytes (data and scales), beside the rest."""

    method: str
    element_format: str
    quantized_params: int  # elements of the quantized weights
    quantized_bytes: int  # their data, scales and zero points
    tensors: tuple[str, ...]  # parameter names, layer indices as '*'
    details: tuple[tuple[str, Any], ...] = ()  # bits, group_size, block, ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "element_format": self.element_format,
            "quantized_params": self.quantized_params,
            "quantized_bytes": self.quantized_bytes,
            "tensors": list(self.tensors),
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Quantization:
        return cls(
            method=d["method"],
            element_format=d["element_format"],
            quantized_params=d["quantized_params"],
            quantized_bytes=d["quantized_bytes"],
            tensors=tuple(d.get("tensors", [])),
            details=tuple(d.get("details", {}).items()),
        )
