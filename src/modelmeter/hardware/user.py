"""User hardware profiles from a TOML or YAML file, and the lookup of a profile by name.

The file (``--hardware-file``, else ``$MODELMETER_HARDWARE_FILE``, else ``~/.config/modelmeter/hardware.toml``
when it exists) holds one table per device::

    [hardware.my-box]                # YAML: the same keys, nested
    title = "My workstation"
    base = "rtx-4090"                # optional: start from a built-in (or "cpu") and override
    bandwidth_gbs = 900              # GB/s (10^9 bytes per second)
    memory_gb = 24
    efficiency = 0.55                # optional: the fraction of the roofs reached (calibrated by --measure)
    source = "where the figures come from"
    [hardware.my-box.peak_tflops]    # dense TFLOP/s (TOP/s for int8) per dtype: fp32 tf32 fp16 bf16 fp8 int8
    fp16 = 120
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from .profiles import BUILTIN, DTYPE_KEYS, HardwareProfile

ENV = "MODELMETER_HARDWARE_FILE"
DEFAULT = Path("~/.config/modelmeter/hardware.toml")
_KEYS = {"title", "base", "bandwidth_gbs", "memory_gb", "efficiency", "source", "peak_tflops"}


def user_file(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The user profile file in effect: ``path``, else the environment's, else the default if it exists."""
    if path is not None:
        return Path(path)
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    default = DEFAULT.expanduser()
    return default if default.exists() else None


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the hardware file: {exc.strerror or exc}") from exc
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            doc = yaml.safe_load(text) or {}
        else:
            try:
                import tomllib  # type: ignore[import-not-found, unused-ignore]  # 3.11+
            except ImportError:  # Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            doc = tomllib.loads(text)
    except ImportError:
        raise InputError(f"{path}: reading TOML needs Python 3.11 (or pip install tomli); or use YAML") from None
    except Exception as exc:  # noqa: BLE001 - either parser's error, as one line naming the file
        raise InputError(f"{path}: not valid {'YAML' if path.suffix in ('.yaml', '.yml') else 'TOML'}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("hardware", {}), dict):
        raise InputError(f"{path}: expected a table 'hardware' with one table per device ([hardware.NAME])")
    return doc


def _number(path: Path, name: str, key: str, value: Any, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= low or (high and value > high):
        bound = f" and at most {high}" if high else ""
        raise InputError(f"{path}: hardware.{name}.{key}: expected a number above {low}{bound}, got {value!r}")
    return float(value)


def _profile(path: Path, name: str, entry: Any, known: dict[str, HardwareProfile]) -> HardwareProfile:
    if not isinstance(entry, dict):
        raise InputError(f"{path}: hardware.{name}: expected a table of fields, got {type(entry).__name__}")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise InputError(
            f"{path}: hardware.{name}: unknown field {unknown[0]!r}; fields are {', '.join(sorted(_KEYS))}"
        )
    base_name = entry.get("base")
    if base_name is not None:
        base = known.get(base_name) or (_cpu() if base_name == "cpu" else None)
        if base is None:
            raise InputError(f"{path}: hardware.{name}.base: no profile {base_name!r}; see `modelmeter hardware`")
    else:
        base = HardwareProfile(name, name, {}, 0.0)
    flops = dict(base.flops)
    peaks = entry.get("peak_tflops", {})
    if not isinstance(peaks, dict):
        raise InputError(f"{path}: hardware.{name}.peak_tflops: expected a table of dtype = TFLOP/s")
    for key, value in peaks.items():
        if key not in DTYPE_KEYS:
            raise InputError(f"{path}: hardware.{name}.peak_tflops.{key}: dtype must be one of {', '.join(DTYPE_KEYS)}")
        flops[key] = _number(path, name, f"peak_tflops.{key}", value) * 1e12
    bandwidth = base.bandwidth
    if "bandwidth_gbs" in entry:
        bandwidth = _number(path, name, "bandwidth_gbs", entry["bandwidth_gbs"]) * 1e9
    if not bandwidth or not flops:
        raise InputError(f"{path}: hardware.{name}: give bandwidth_gbs and peak_tflops (or a base profile)")
    memory = base.memory_bytes
    if "memory_gb" in entry:
        memory = int(_number(path, name, "memory_gb", entry["memory_gb"]) * 1e9)
    efficiency = base.efficiency
    if "efficiency" in entry:
        # above 1 when a calibrated run beat the roofs: cache reuse, fusion (the unfused traffic is an upper bound)
        efficiency = _number(path, name, "efficiency", entry["efficiency"])
    return replace(
        base, name=name, title=str(entry.get("title", base.title if base_name else name)), flops=flops,
        bandwidth=bandwidth, memory_bytes=memory, efficiency=efficiency,
        source=str(entry.get("source", base.source)), origin=str(path),
    )  # fmt: skip


def load_file(path: str | os.PathLike[str]) -> dict[str, HardwareProfile]:
    """The profiles a user file defines, by name (bad fields: one clear :class:`InputError` naming them)."""
    p = Path(path)
    doc = _read(p)
    known: dict[str, HardwareProfile] = dict(BUILTIN)
    out: dict[str, HardwareProfile] = {}
    for name, entry in doc.get("hardware", {}).items():
        out[name] = known[name] = _profile(p, str(name), entry, known)
    return out


def _cpu() -> HardwareProfile:
    from .probe import probe_cpu

    return probe_cpu()


def profiles(path: str | os.PathLike[str] | None = None, probe: bool = False) -> dict[str, HardwareProfile]:
    """Built-in profiles, then the user file's (a user profile may replace a built-in), then ``cpu`` if
    ``probe`` (measured now)."""
    out = dict(BUILTIN)
    file = user_file(path)
    if file is not None and file.exists():  # a file that does not exist yet (--save-efficiency makes it) is empty
        out.update(load_file(file))
    if probe and "cpu" not in out:
        out["cpu"] = _cpu()
    return out


def find(name: str, path: str | os.PathLike[str] | None = None) -> HardwareProfile:
    """The profile called ``name``: the user file's, a built-in, or ``cpu`` (this CPU, probed now)."""
    known = profiles(path)
    if name in known:
        return known[name]
    if name == "cpu":
        return _cpu()
    file = user_file(path)
    missing = f"; the hardware file {file} does not exist" if file is not None and not file.exists() else ""
    raise InputError(
        f"--hardware {name!r}: no such profile; known: {', '.join([*known, 'cpu'])}{missing} "
        "(see `modelmeter hardware`)"
    )


def _toml(doc: dict[str, Any]) -> str:
    """The user file as TOML (tables of scalars and one nested table per device: all this format holds)."""
    lines: list[str] = []
    for name, entry in doc.get("hardware", {}).items():
        lines.append(f'[hardware."{name}"]')
        nested = {k: v for k, v in entry.items() if isinstance(v, dict)}
        for key, value in entry.items():
            if key not in nested:
                lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{_esc(value)}"')
        for key, table in nested.items():
            lines.append(f'[hardware."{name}".{key}]')
            lines += [f"{k} = {v!r}" for k, v in table.items()]
        lines.append("")
    return "\n".join(lines)


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def save_efficiency(path: str | os.PathLike[str], name: str, efficiency: float, base: HardwareProfile) -> Path:
    """Write (or update) profile ``name`` in the user file ``path`` with a calibrated ``efficiency``; a new
    entry is based on ``base``'s figures. Returns the file written."""
    p = Path(path).expanduser()
    doc = _read(p) if p.exists() else {"hardware": {}}
    doc.setdefault("hardware", {})
    entry = doc["hardware"].setdefault(name, {})
    if not entry or name == base.name and base.origin != str(p):
        entry.update({
            "title": base.title, "bandwidth_gbs": round(base.bandwidth / 1e9, 3),
            "peak_tflops": {k: round(v / 1e12, 6) for k, v in base.flops.items() if v},
            **({"memory_gb": round(base.memory_bytes / 1e9, 3)} if base.memory_bytes else {}),
            "source": base.source or base.origin,
        })  # fmt: skip
    entry["efficiency"] = float(f"{float(efficiency):.4g}")  # four significant digits, however small
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix in (".yaml", ".yml"):
        import yaml

        p.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    else:
        p.write_text(_toml(doc), encoding="utf-8")
    return p
