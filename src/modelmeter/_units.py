"""Number formatting, in one place: counts in K/M/G/T (powers of 1000), bytes in KiB/MiB/GiB (powers of 1024)."""

from __future__ import annotations


def exact(n: int) -> str:
    """61706 -> '61,706'."""
    return f"{n:,}"


def human_count(n: float) -> str:
    """861301280 -> '861.30 M'; counts use SI prefixes (1 K = 1000)."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:g}"


def human_bytes(n: float) -> str:
    """245059616 -> '233.71 MiB'; bytes use binary prefixes (1 KiB = 1024 B)."""
    for scale, unit in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{int(n)} B"


def shape(s: tuple[int, ...] | list[int]) -> str:
    """(1, 6, 28, 28) -> '(1, 6, 28, 28)'; a 1-D shape keeps its comma: '(10,)'."""
    return str(tuple(s))
