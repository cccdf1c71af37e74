"""torchstat's memory figures (``Total memory``, ``Total MemR+W``) recomputed from a report's layer rows.

torchstat (github.com/Swall0w/torchstat, v0.0.7: ``model_hook.py``, ``compute_memory.py``, ``reporter.py``)
hooks every *leaf* module and, per module:
- ``memory(MB)``: the output's elements without the batch dimension x 4 bytes / 2**20, for every leaf module
  (ReLU, Dropout, ... included; an in-place ReLU's output counts again);
- ``MemRead(B)`` / ``MemWrite(B)``: only for ReLU/ReLU6/ELU/LeakyReLU (read input, write input), PReLU (read
  input + params, write input), Conv2d and Linear (read input + N x trainable params, write output),
  BatchNorm2d (read input + 2C, write input), MaxPool2d/AvgPool2d (read input, write output), all x the
  input's itemsize; every other module moves nothing;
- ``Total MemR+W`` is printed with binary prefixes (``244.14MB`` = 244.14 x 2**20 bytes), ``Total memory``
  in MiB with two decimals.

modelmeter's own traffic (docs/conventions.md, "Memory traffic") differs from this where a kernel writes more
than torchstat looks at (max-pool's int64 indices) and where torchstat looks at modules only (an op run
outside any leaf module, a view, a residual add: torchstat sees none of them). torchstat runs batch 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..report.model import LayerStats, Report

_ITEMSIZE = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4, "uint8": 1, "int8": 1}
_ACTIVATIONS = ("ReLU", "ReLU6", "ELU", "LeakyReLU")


@dataclass(frozen=True)
class TorchstatRow:
    name: str
    type: str
    memory_bytes: int  # torchstat's memory(MB) column x 2**20: the per-sample output at 4 bytes
    read_bytes: int
    write_bytes: int


@dataclass(frozen=True)
class TorchstatView:
    rows: tuple[TorchstatRow, ...]

    @property
    def memory_bytes(self) -> int:
        return sum(r.memory_bytes for r in self.rows)

    @property
    def mem_rw_bytes(self) -> int:
        return sum(r.read_bytes + r.write_bytes for r in self.rows)

    def lines(self) -> str:
        """The two summary lines as torchstat prints them."""
        return f"Total memory: {self.memory_bytes / 2**20:.2f}MB\nTotal MemR+W: {_binary(self.mem_rw_bytes)}B"


def _binary(value: float) -> str:
    # torchstat's round_value(value, binary=True)
    for power, prefix in ((4, "T"), (3, "G"), (2, "M"), (1, "K")):
        if value // 1024.0**power > 0:
            return f"{round(value / 1024.0**power, 2)}{prefix}"
    return str(value)


def _row(row: LayerStats, itemsize: int) -> TorchstatRow:
    inp = row.input_shapes[0] if row.input_shapes else ()
    out = row.output_shapes[0] if row.output_shapes else ()
    batch = inp[0] if inp else 1
    per_in, per_out = prod(inp[1:]), prod(out[1:])
    read = write = 0
    if row.type in _ACTIVATIONS:
        read, write = batch * per_in, batch * per_in
    elif row.type == "PReLU":
        read, write = batch * (per_in + row.trainable_params), batch * per_in
    elif row.type in ("Conv2d", "Linear"):
        read, write = batch * (per_in + row.trainable_params), batch * per_out
    elif row.type == "BatchNorm2d":
        read, write = batch * (per_in + 2 * inp[1]), prod(inp)
    elif row.type in ("MaxPool2d", "AvgPool2d"):
        read, write = batch * per_in, batch * per_out
    return TorchstatRow(row.name, row.type, per_out * 4 if out else 0, read * itemsize, write * itemsize)


def torchstat_view(report: Report) -> TorchstatView:
    """torchstat's per-leaf-module memory columns for ``report`` (a report of a PyTorch module, batch 1)."""
    parents = {r.name.rpartition(".")[0] for r in report.layers if r.name}
    itemsize = _ITEMSIZE.get(report.inputs[0].dtype.removeprefix("torch."), 4) if report.inputs else 4
    leaves = [r for r in report.layers if r.name not in parents and r.calls > 0]
    return TorchstatView(tuple(_row(r, itemsize) for r in leaves))
