"""The built-in hardware table: peak *dense* FLOP/s per dtype and memory bandwidth, each with its source.

Figures are the vendor's datasheet numbers for dense math (structured-sparsity figures halved where the
datasheet only gives those); tensor-core rates with FP32 accumulation where the vendor gives both, since that
is what PyTorch runs. A dtype the device has no fast path for is absent (None). Where a figure is derived
(CPU cores x clock x FLOPs per cycle), ``source`` says how. docs/hardware.md is this table for reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

DTYPE_KEYS = ("fp32", "tf32", "fp16", "bf16", "fp8", "int8")
T = 1e12
G = 1e9

# torch dtype names -> the profile key whose peak applies (float32 matmuls run as fp32 unless tf32 is asked for)
_DTYPE_KEY = {
    "float32": "fp32", "float": "fp32", "fp32": "fp32", "tf32": "tf32",
    "float16": "fp16", "half": "fp16", "fp16": "fp16",
    "bfloat16": "bf16", "bf16": "bf16",
    "float8_e4m3fn": "fp8", "float8_e5m2": "fp8", "float8_e4m3fnuz": "fp8", "float8_e5m2fnuz": "fp8", "fp8": "fp8",
    "int8": "int8", "qint8": "int8", "quint8": "int8", "uint8": "int8",
}  # fmt: skip


def dtype_key(dtype: str) -> str:
    """The profile column for a dtype name (``"torch.float16"``, ``"bf16"``, ...); unknown names raise ValueError."""
    name = str(dtype).removeprefix("torch.").lower()
    if name not in _DTYPE_KEY:
        raise ValueError(f"no peak FLOP/s column for dtype {dtype!r}; one of {', '.join(DTYPE_KEYS)}")
    return _DTYPE_KEY[name]


@dataclass(frozen=True)
class HardwareProfile:
    """One device: ``flops`` maps a dtype key (``DTYPE_KEYS``) to peak dense FLOP/s; ``bandwidth`` in B/s."""

    name: str
    title: str
    flops: dict[str, float]
    bandwidth: float
    memory_bytes: int | None = None
    source: str = ""
    efficiency: float | None = None  # a calibrated fraction of the roofs (``--measure --save-efficiency``)
    origin: str = "built-in"  # "built-in", "measured on this machine", or the user file it came from
    notes: tuple[str, ...] = field(default=())

    def peak(self, key: str) -> float:
        """Peak FLOP/s at ``key``; a clear error naming the dtypes the profile has when absent."""
        value = self.flops.get(key)
        if not value:
            have = ", ".join(k for k in DTYPE_KEYS if self.flops.get(k))
            raise ValueError(f"hardware {self.name!r} has no {key} peak (it has: {have})")
        return float(value)

    def with_efficiency(self, efficiency: float) -> HardwareProfile:
        return replace(self, efficiency=efficiency)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "flops": {k: self.flops[k] for k in DTYPE_KEYS if self.flops.get(k)},
            "bandwidth": self.bandwidth,
            "memory_bytes": self.memory_bytes,
            "efficiency": self.efficiency,
            "origin": self.origin,
            "source": self.source,
        }


def _p(
    name: str, title: str, bandwidth: float, memory_gb: float | None, source: str, **flops: float
) -> HardwareProfile:
    return HardwareProfile(
        name, title, dict(flops), bandwidth, int(memory_gb * 1e9) if memory_gb else None, source=source
    )


_H100_SRC = (
    "NVIDIA H100 Tensor Core GPU datasheet (SXM column): FP32 67 TF; TF32 989, BF16/FP16 1,979, FP8 3,958 TF "
    "and INT8 3,958 TOPS with sparsity (halved here); 3.35 TB/s; 80 GB"
)
# one chip's dense peaks, shared by its memory variants (H100 -> H200 is a memory upgrade; A100 40GB -> 80GB too)
_HOPPER = dict(fp32=67 * T, tf32=494.5 * T, fp16=989.5 * T, bf16=989.5 * T, fp8=1979 * T, int8=1979 * T)
_AMPERE_A100 = dict(fp32=19.5 * T, tf32=156 * T, fp16=312 * T, bf16=312 * T, int8=624 * T)
BUILTIN: dict[str, HardwareProfile] = {
    p.name: p
    for p in (
        _p("h100-sxm", "NVIDIA H100 SXM5 80GB", 3.35e12, 80, _H100_SRC, **_HOPPER),
        _p("h200", "NVIDIA H200 SXM 141GB", 4.8e12, 141,
           "NVIDIA H200 Tensor Core GPU datasheet (SXM column): the H100 SXM's compute (FP32 67 TF; TF32 989, "
           "BF16/FP16 1,979, FP8 3,958 TF, INT8 3,958 TOPS with sparsity, halved here); 4.8 TB/s HBM3e; 141 GB",
           **_HOPPER),
        _p("a100-40gb", "NVIDIA A100 SXM4 40GB", 1555e9, 40,
           "NVIDIA A100 Tensor Core GPU datasheet: FP32 19.5 TF; TF32 156, BF16/FP16 312 TF, INT8 624 TOPS "
           "(dense); 40GB HBM2 1,555 GB/s; no FP8",
           **_AMPERE_A100),
        _p("a100-80gb", "NVIDIA A100 SXM4 80GB", 2039e9, 80,
           "NVIDIA A100 Tensor Core GPU datasheet (80GB SXM column): FP32 19.5 TF; TF32 156, BF16/FP16 312 TF, "
           "INT8 624 TOPS (dense); HBM2e 2,039 GB/s; no FP8",
           **_AMPERE_A100),
        _p("l4", "NVIDIA L4 24GB", 300e9, 24,
           "NVIDIA L4 Tensor Core GPU datasheet: FP32 30.3 TF; TF32 120, BF16/FP16 242, FP8 485 TF and INT8 "
           "485 TOPS with sparsity (halved here); 300 GB/s GDDR6; 24 GB",
           fp32=30.3 * T, tf32=60 * T, fp16=121 * T, bf16=121 * T, fp8=242.5 * T, int8=242.5 * T),
        _p("rtx-4090", "NVIDIA GeForce RTX 4090 24GB", 1008e9, 24,
           "NVIDIA Ada Lovelace GPU architecture whitepaper, appendix table for the RTX 4090 (dense, FP32 "
           "accumulate): FP32 82.6 TF, TF32 82.6, FP16/BF16 165.2, FP8 330.3 TF, INT8 660.6 TOPS; 1,008 GB/s GDDR6X",
           fp32=82.6 * T, tf32=82.6 * T, fp16=165.2 * T, bf16=165.2 * T, fp8=330.3 * T, int8=660.6 * T),
        _p("jetson-agx-orin", "NVIDIA Jetson AGX Orin 64GB (GPU)", 204.8e9, 64,
           "NVIDIA Jetson AGX Orin Series technical brief: GPU 5.3 FP32 TFLOPS and 170 sparse INT8 TOPS (85 dense); "
           "FP16/BF16 tensor = half the dense INT8 rate (Ampere), TF32 = half of FP16 (derived); "
           "256-bit LPDDR5 204.8 GB/s. DLAs not included",
           fp32=5.3 * T, tf32=21.25 * T, fp16=42.5 * T, bf16=42.5 * T, int8=85 * T),
        _p("apple-m2-max", "Apple M2 Max (38-core GPU)", 400e9, 96,
           "Apple newsroom, M2 Pro/M2 Max (Jan 2023) and M2 Ultra (Jun 2023; 76-core GPU 27.2 TFLOPS = 2 x M2 Max): "
           "13.6 FP32 TFLOPS, 400 GB/s unified memory; FP16 runs at the FP32 rate on Apple GPUs; "
           "the Neural Engine (15.8 TOPS) is not reachable from PyTorch and is left out",
           fp32=13.6 * T, fp16=13.6 * T, bf16=13.6 * T),
        _p("raspberry-pi-5", "Raspberry Pi 5 class CPU (4x Cortex-A76 @ 2.4 GHz)", 4267e6 * 4, 8,
           "Raspberry Pi 5 product brief: 4x Cortex-A76 at 2.4 GHz, LPDDR4X-4267 on a 32-bit bus (= 17.1 GB/s). "
           "Peaks derived from the Arm Cortex-A76 software optimization guide (two 128-bit ASIMD FMA pipes): "
           "FP32 4 cores x 2.4 GHz x 16 FLOP/cycle = 153.6 GFLOP/s, FP16 x2 = 307.2, INT8 SDOT x4 = 614.4 GOP/s",
           fp32=153.6 * G, fp16=307.2 * G, int8=614.4 * G),
    )
}  # fmt: skip


def profile_for_device(device: str) -> str | None:
    """The built-in profile for a device name as torch reports it (``"cpu"``, ``"NVIDIA H200"``), if any."""
    name = device.lower()
    if name == "cpu":
        return "cpu"
    for needle, profile in (("h200", "h200"), ("h100", "h100-sxm"), ("a100-sxm4-80", "a100-80gb"),
                            ("a100 80", "a100-80gb"), ("a100", "a100-40gb"), ("l4", "l4"), ("4090", "rtx-4090"),
                            ("orin", "jetson-agx-orin")):  # fmt: skip
        if needle in name:
            return profile
    return None
