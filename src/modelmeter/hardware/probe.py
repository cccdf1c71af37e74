"""Measure this CPU on the spot: peak FLOP/s from a short matmul, bandwidth from a large memory copy.

The probe takes about a second: an n x n fp32 (and bf16) matmul (2·n³ FLOPs) and a copy of a buffer far larger
than the caches (each byte read once and written once), each the best of a few runs, on torch's own threads.
Best-of-N is the right statistic for a *peak*: slower runs measured interference, not the hardware.
"""

from __future__ import annotations

import functools
import os
import platform
import time
from collections.abc import Callable

from .profiles import HardwareProfile

MATMUL_N = 1024
COPY_BYTES = 256 * 2**20
REPEATS = 5


def _best(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    fn()  # warm-up: first-touch page faults, thread pool start
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_flops(dtype_name: str = "float32", n: int = MATMUL_N) -> float:
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    out = torch.empty(n, n, dtype=dtype)
    return 2 * n**3 / _best(lambda: torch.mm(a, b, out=out))


def copy_bandwidth(nbytes: int = COPY_BYTES) -> float:
    """Bytes moved per second by ``dst.copy_(src)``: nbytes read + nbytes written."""
    import torch

    src = torch.ones(nbytes // 4, dtype=torch.float32)
    dst = torch.empty_like(src)
    return 2 * nbytes / _best(lambda: dst.copy_(src))


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def probe_cpu() -> HardwareProfile:
    """The ``cpu`` profile: this machine's CPU as measured now (cached for the process)."""
    import torch

    fp32 = matmul_flops("float32")
    bf16 = matmul_flops("bfloat16")
    bandwidth = copy_bandwidth()
    threads = torch.get_num_threads()
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        memory = None
    source = (
        f"measured now: best of {REPEATS} {MATMUL_N}x{MATMUL_N} torch.mm (fp32 {fp32 / 1e9:.1f}, bf16 "
        f"{bf16 / 1e9:.1f} GFLOP/s) and a {COPY_BYTES >> 20} MiB copy ({bandwidth / 1e9:.1f} GB/s read+write) "
        f"on {threads} torch threads"
    )
    return HardwareProfile(
        "cpu", f"this CPU: {_cpu_name()} ({threads} threads)", {"fp32": fp32, "bf16": bf16},
        bandwidth, memory, source=source, origin="measured on this machine",
    )  # fmt: skip
