"""`modelmeter hardware`: the profiles as a plain-text table or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..hardware.profiles import DTYPE_KEYS

if TYPE_CHECKING:
    from ..hardware.profiles import HardwareProfile


def _tflops(x: float | None) -> str:
    if not x:
        return "-"
    return f"{x / 1e12:.4g}" if x >= 1e11 else f"{x / 1e12:.3f}"


def hardware_text(known: dict[str, HardwareProfile], probed: bool = False) -> str:
    head = ["name", *(f"{k} TF/s" for k in DTYPE_KEYS), "GB/s", "memory", "eff.", "title"]
    rows = [head]
    for p in known.values():
        memory = f"{p.memory_bytes / 1e9:.0f} GB" if p.memory_bytes else "-"
        eff = f"{p.efficiency:.2f}" if p.efficiency else "-"
        rows.append([p.name, *(_tflops(p.flops.get(k)) for k in DTYPE_KEYS), f"{p.bandwidth / 1e9:,.1f}", memory, eff,
                     p.title])  # fmt: skip
    if "cpu" not in known:
        rows.append(["cpu", *("?" for _ in DTYPE_KEYS), "?", "-", "-", "this CPU, measured when used (--probe: now)"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i in (0, len(head) - 1) else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths, strict=True))).rstrip() for r in rows]  # fmt: skip
    lines.append("")
    lines.append("Dense peaks (no sparsity); int8 in TOP/s. Sources: `--format json` or docs/hardware.md.")
    if probed and "cpu" in known:
        lines.append(f"cpu: {known['cpu'].source}")
    return "\n".join(lines) + "\n"


def hardware_json(known: dict[str, HardwareProfile]) -> str:
    return json.dumps([p.to_dict() for p in known.values()], indent=2) + "\n"
