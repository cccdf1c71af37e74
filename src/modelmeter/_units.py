"""Number formatting, in one place: counts in K/M/G/T (powers of 1000), bytes in KiB/MiB/GiB (powers of 1024)."""

from __future__ import annotations


def exact(n: int) -> str:
    """61706 -> '61,706'."""
    return f"{n:,}"


def human_count(n: float, digits: int = 2) -> str:
    """861301280 -> '861.30 M' (``digits=0``: '861 M'); counts use SI prefixes (1 K = 1000)."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.{digits}f} {unit}"
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


_SI = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}


def parse_count(text: str) -> int:
    """'5M' -> 5_000_000, '600M', '1.5G', '61706', '5e6', '2_000': the inverse of :func:`human_count`.

    Raises ValueError (with the accepted forms) on anything else; callers name the option.
    """
    cleaned = text.strip().replace("_", "").replace(",", "").replace(" ", "").upper()
    suffix = cleaned[-1:] if cleaned[-1:] in _SI and cleaned[-1:] else ""
    number = cleaned[: len(cleaned) - len(suffix)]
    try:
        value = float(number) * _SI[suffix]
    except ValueError:
        raise ValueError(f"{text!r} is not a count; use e.g. 5M, 600M, 1.5G or 61706") from None
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(f"{text!r} is not a count; use a non-negative number like 5M")
    return round(value)


def percent(part: int, whole: int) -> str:
    """Share of a total: (117600, 416520) -> '28.23%'; '-' when the total is 0."""
    return f"{100 * part / whole:.2f}%" if whole else "-"
