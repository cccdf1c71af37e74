"""Reading a layer spec (YAML or JSON) into a validated tree; every error names where and how to fix.

YAML is read with ``yaml.safe_load``: tags such as ``!!python/object`` are refused, no code ever runs.
The tree keeps each layer's given fields (defaults filled in); shapes are inferred in shapes.py.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import SpecError
from .types import (
    BLOCKS,
    BOOL,
    FLOAT,
    INT,
    LAYER_TYPES,
    MAX_REPEAT,
    MAX_SIZE,
    NONLIN,
    NONNEG,
    OPT_POS,
    OUTSIZE,
    PADDING,
    PER_DIM,
    POS,
    PROB,
    REQUIRED,
    SHAPE,
    LayerType,
)

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
DTYPES = ("float32", "float16", "bfloat16", "float64", "int64", "int32")
TOP_FIELDS = ("name", "input", "dtype", "layers")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Layer:
    type: LayerType
    where: str  # "layers[3] conv2d" for messages
    args: dict[str, Any]  # every field: given, default, or INFER
    name: str | None = None  # given by the user; default names are assigned later


@dataclass
class Repeat:
    times: int
    body: list[Node]
    where: str
    name: str | None = None


@dataclass
class Residual:
    body: list[Node]
    shortcut: list[Node]
    where: str
    name: str | None = None


Node = Layer | Repeat | Residual


@dataclass
class Spec:
    name: str
    input: tuple[int, ...]
    dtype: str
    layers: list[Node] = field(default_factory=list)


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9_+.-]+:")  # hf:config.json is a model reference, not a spec


def is_spec_path(ref: object) -> bool:
    """A file name ending in .yaml / .yml / .json that is not a ``scheme:`` reference (C:\\ is a path)."""
    if not isinstance(ref, (str, os.PathLike)):
        return False
    text = os.fspath(ref)
    if isinstance(text, bytes):
        return False
    return text.lower().endswith(SPEC_SUFFIXES) and not (isinstance(ref, str) and _SCHEME.match(text))


# -- reading the file ----------------------------------------------------------------------------------
def read(path: str | os.PathLike[str]) -> Any:
    p = Path(path)
    if not p.exists():
        raise SpecError(f"{p}: no such file")
    if p.is_dir():
        raise SpecError(f"{p}: is a directory; give a .yaml, .yml or .json layer spec")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{p}: is not UTF-8 text; a spec is a YAML or JSON text file") from None
    if not text.strip():
        raise SpecError(f"{p}: the file is empty; a spec needs at least 'input' and 'layers'")
    if p.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{p}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        line = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        tag = re.search(r"tag '([^']*)'", str(exc.problem))
        if tag is None:  # e.g. an unhashable key
            raise SpecError(f"{p}: {line}invalid YAML: {str(exc.problem).splitlines()[0]}") from None
        raise SpecError(
            f"{p}: {line}the YAML tag {tag.group(1)!r} is refused: a spec is plain data "
            "(mappings, lists, numbers, strings) and modelmeter never constructs objects from it"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        problem = (str(getattr(exc, "problem", None) or exc).strip().splitlines() or ["?"])[0]
        raise SpecError(f"{p}: {line}invalid YAML: {problem}") from None


# -- values --------------------------------------------------------------------------------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _size(v: Any, where: str, what: str, minimum: int = 1) -> int:
    if not _is_int(v):
        raise SpecError(f"{where}: {what} must be an integer, got {v!r}")
    if v < minimum:
        raise SpecError(f"{where}: {what} must be {'positive' if minimum else 'non-negative'}, got {v}")
    if v > MAX_SIZE:
        raise SpecError(f"{where}: {what} = {v} is larger than {MAX_SIZE:,}; is it a typo?")
    return int(v)


def check_value(kind: str, v: Any, where: str, name: str, dims: int) -> Any:
    """The value of field ``name`` if it is of ``kind``; else a SpecError saying what is expected."""
    what = f"'{name}'"
    if kind == POS:
        return _size(v, where, what)
    if kind == NONNEG:
        return _size(v, where, what, 0)
    if kind == OPT_POS:
        return None if v is None else _size(v, where, what)
    if kind == INT:
        if not _is_int(v) or abs(v) > MAX_SIZE:
            raise SpecError(f"{where}: {what} must be an integer, got {v!r}")
        return int(v)
    if kind == BOOL:
        if not isinstance(v, bool):
            raise SpecError(f"{where}: {what} must be true or false, got {v!r}")
        return v
    if kind == FLOAT:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise SpecError(f"{where}: {what} must be a number, got {v!r}")
        return float(v)
    if kind == PROB:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise SpecError(f"{where}: {what} must be a probability from 0 to 1, got {v!r}")
        return float(v)
    if kind == NONLIN:
        if v not in ("tanh", "relu"):
            raise SpecError(f"{where}: {what} must be 'tanh' or 'relu', got {v!r}")
        return v
    if kind == PADDING and isinstance(v, str):
        if v not in ("same", "valid"):
            raise SpecError(f"{where}: {what} must be an int, a list of ints, 'same' or 'valid', got {v!r}")
        return v
    if kind in (PER_DIM, PADDING, SHAPE, OUTSIZE):
        minimum = 0 if kind == PADDING or name in ("padding", "output_padding") else 1
        items = v if isinstance(v, list) else [v] * (dims or 1) if kind != SHAPE else [v]
        if kind in (PER_DIM, PADDING) and len(items) != dims:
            raise SpecError(f"{where}: {what} needs one value per spatial dim ({dims}), got {v!r}")
        if kind == OUTSIZE and len(items) != dims:
            raise SpecError(f"{where}: {what} needs {dims} values, got {v!r}")
        if not items:
            raise SpecError(f"{where}: {what} must not be empty")
        out: list[int | None] = []
        for item in items:
            if kind == OUTSIZE and item is None:
                out.append(None)
            else:
                out.append(_size(item, where, what, minimum))
        return tuple(out)
    raise AssertionError(kind)  # a kind without a check is a bug in types.py


# -- layers --------------------------------------------------------------------------------------------
def _where(prefix: str, type_name: str, name: str | None) -> str:
    return f"{prefix} {type_name}" + (f" '{name}'" if name else "")


def _name(v: Any, where: str) -> str:
    if not isinstance(v, str) or not _IDENT.match(v):
        raise SpecError(f"{where}: name {v!r} must be an identifier (letters, digits, '_'; no dots or spaces)")
    return v


def _layer(type_name: str, value: Any, prefix: str, outer_name: str | None) -> Layer:
    lt = LAYER_TYPES[type_name]
    given: dict[str, Any]
    if value is None:
        given = {}
    elif isinstance(value, Mapping):
        given = dict(value)
    elif lt.primary is not None:
        given = {lt.primary: value}
    else:
        fields = ", ".join(lt.fields)
        raise SpecError(f"{prefix} {type_name}: give its fields as a mapping ({fields}), got {value!r}")
    name = outer_name
    if "name" in given:
        name = _name(given.pop("name"), f"{prefix} {type_name}")
    where = _where(prefix, type_name, name)
    for key in given:
        if key not in lt.fields:
            raise SpecError(
                f"{where}: unknown field {key!r}{did_you_mean(str(key), list(lt.fields))}"
                f" ({type_name} takes: {', '.join(lt.fields) or 'no fields'})"
            )
    args: dict[str, Any] = {}
    for key, (kind, default) in lt.fields.items():
        if key in given:
            args[key] = check_value(kind, given[key], where, key, lt.dims)
        elif default is REQUIRED:
            raise SpecError(f"{where}: missing field '{key}' (e.g. {type_name}: {{{key}: ...}})")
        elif kind in (PER_DIM, PADDING) and _is_int(default):
            args[key] = check_value(kind, default, where, key, lt.dims)  # 1 -> (1, 1) for a 2-D layer
        else:
            args[key] = default
    return Layer(lt, where, args, name)


def _block_list(v: Any, prefix: str, what: str) -> list[Node]:
    if not isinstance(v, list) or not v:
        raise SpecError(f"{prefix}: '{what}' must be a non-empty list of layers, got {v!r}")
    return [parse_node(item, f"{prefix}.{what}[{i}]") for i, item in enumerate(v)]


def _check_keys(entry: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in entry:
        if key not in allowed:
            raise SpecError(
                f"{where}: unknown key {key!r}{did_you_mean(str(key), allowed)} (allowed: {', '.join(allowed)})"
            )


def parse_node(entry: Any, prefix: str) -> Node:
    """One entry of a ``layers`` list: ``relu``, ``{conv2d: {...}}``, ``{maxpool2d: 2}`` or a block."""
    if isinstance(entry, str):
        entry = {entry: None}
    if not isinstance(entry, Mapping) or not entry:
        raise SpecError(f"{prefix}: expected a layer such as 'relu' or {{linear: {{out_features: 10}}}}, got {entry!r}")
    outer_name = _name(entry["name"], prefix) if "name" in entry else None
    kinds = [k for k in entry if k != "name"]
    for k in kinds:
        if k not in LAYER_TYPES and k not in BLOCKS and not (k == "layers" and "repeat" in kinds):
            options = [*LAYER_TYPES, *BLOCKS]
            raise SpecError(f"{prefix}: unknown layer type {k!r}{did_you_mean(str(k), options)}")
    if "repeat" in kinds:
        where = _where(prefix, "repeat", outer_name)
        _check_keys(entry, ("repeat", "layers", "name"), where)
        times = entry["repeat"]
        if not _is_int(times) or not 1 <= times <= MAX_REPEAT:
            raise SpecError(f"{where}: repeat must be an integer from 1 to {MAX_REPEAT:,}, got {times!r}")
        if "layers" not in entry:
            raise SpecError(f"{where}: missing 'layers' (the list to repeat)")
        return Repeat(times, _block_list(entry["layers"], prefix, "layers"), where, outer_name)
    if "residual" in kinds:
        where = _where(prefix, "residual", outer_name)
        _check_keys(entry, ("residual", "name"), where)
        value = entry["residual"]
        if isinstance(value, Mapping):
            _check_keys(value, ("layers", "shortcut", "name"), where)
            if "name" in value:
                outer_name = _name(value["name"], where)
                where = _where(prefix, "residual", outer_name)
            if "layers" not in value:
                raise SpecError(f"{where}: missing 'layers' (the branch whose output is added to the shortcut)")
            body = _block_list(value["layers"], prefix, "residual.layers")
            shortcut = _block_list(value["shortcut"], prefix, "residual.shortcut") if "shortcut" in value else []
            return Residual(body, shortcut, where, outer_name)
        return Residual(_block_list(value, prefix, "residual"), [], where, outer_name)
    if len(kinds) != 1:
        raise SpecError(
            f"{prefix}: one layer per list entry, got {', '.join(map(str, kinds))}; write each as its own '- ' item"
        )
    type_name = kinds[0]
    return _layer(type_name, entry[type_name], prefix, outer_name)


def parse(doc: Any, source: str = "spec") -> Spec:
    """A validated :class:`Spec` from the loaded document (a dict)."""
    if not isinstance(doc, Mapping):
        raise SpecError(f"{source}: a spec is a mapping with 'input' and 'layers', got {type(doc).__name__}")
    for key in doc:
        if key not in TOP_FIELDS:
            raise SpecError(
                f"{source}: unknown top-level field {key!r}{did_you_mean(str(key), TOP_FIELDS)}"
                f" (fields: {', '.join(TOP_FIELDS)})"
            )
    for key in ("input", "layers"):
        if key not in doc:
            hint = "e.g. input: [1, 3, 224, 224] (batch first)" if key == "input" else "a list of layers"
            raise SpecError(f"{source}: missing '{key}' ({hint})")
    shape = doc["input"]
    if not isinstance(shape, list) or not shape:
        raise SpecError(f"{source}: 'input' must be a list of sizes, batch first, e.g. [1, 3, 224, 224]; got {shape!r}")
    dims = tuple(_size(d, source, "'input' sizes") for d in shape)
    dtype = doc.get("dtype", "float32")
    if dtype not in DTYPES:
        raise SpecError(
            f"{source}: dtype {dtype!r} is not one of {', '.join(DTYPES)}{did_you_mean(str(dtype), DTYPES)}"
        )
    name = doc.get("name", Path(source).stem)
    if not isinstance(name, str):
        raise SpecError(f"{source}: 'name' must be a string, got {name!r}")
    layers = doc["layers"]
    if not isinstance(layers, list) or not layers:
        raise SpecError(f"{source}: 'layers' must be a non-empty list of layers")
    return Spec(name, dims, dtype, [parse_node(e, f"layers[{i}]") for i, e in enumerate(layers)])


def load(source: str | os.PathLike[str] | Mapping[str, Any]) -> Spec:
    """A spec from a file path (.yaml/.yml/.json) or an already-loaded mapping."""
    if isinstance(source, Mapping):
        return parse(source)
    return parse(read(source), os.fspath(source))
