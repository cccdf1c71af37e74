"""Weights of a transformers model priced as its quantized checkpoint stores them (``config.quantization_config``).

A model built from a config holds ordinary (bf16) parameters: the quantizer only runs when weights are
loaded. Which of them a checkpoint stores quantized follows transformers' quantizers: every ``nn.Linear``
(``fp8``: exactly ``nn.Linear``; GPTQ, AWQ, bitsandbytes: any subclass) and, for ``fp8`` and ``mxfp4``, the 3-D
weights of expert modules (``mxfp4`` quantizes only those), except the modules the config lists
(``modules_to_not_convert``, ``llm_int8_skip_modules``) and those transformers keeps by default (the output
head, tied weights). The formats' bytes are in ``memory/quantized.py``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import torch

from ....memory.quantized import Quantization, Scheme, scheme_of, stored_bytes

_EXPERT_WEIGHTS = ("gate_up_proj", "up_proj", "down_proj", "gate_proj")


def _config_dict(model: torch.nn.Module) -> dict[str, Any] | None:
    config = getattr(model, "config", None)
    qc = getattr(config, "quantization_config", None)
    if qc is None:
        return None
    return dict(qc) if isinstance(qc, dict) else dict(qc.to_dict())


def _skipped(model: torch.nn.Module, qc: dict[str, Any]) -> list[str]:
    listed = list(qc.get("modules_to_not_convert") or []) + list(qc.get("llm_int8_skip_modules") or [])
    try:
        from transformers.quantizers.base import get_keys_to_not_convert

        return listed + list(get_keys_to_not_convert(model))
    except Exception:  # noqa: BLE001 - not a PreTrainedModel, or an older transformers
        return listed + ["lm_head"]


def _converted(name: str, patterns: list[str]) -> bool:
    # transformers' rule (quantizers_utils.should_convert_module): a pattern matches from the start up to a module
    # boundary, as a regex with that boundary, or as a suffix
    boundary = r"(?:(?<=\.)|(?=\.|$))"
    return not any(re.match(rf"(?:{key}){boundary}", name) or name.endswith(key) for key in patterns)


def _is_experts(module: torch.nn.Module, name: str) -> bool:
    return name.endswith(".experts") or hasattr(module, "has_gate")


def _matrices(scheme: Scheme, module: torch.nn.Module, name: str) -> list[tuple[str, torch.Tensor, int, int, int]]:
    """(parameter name, tensor, rows, cols, count) of the weights ``scheme`` quantizes in ``module`` itself."""
    out: list[tuple[str, torch.Tensor, int, int, int]] = []
    if _is_experts(module, name) and scheme.method in ("mxfp4", "fp8"):
        transposed = bool(getattr(module, "is_transposed", False))  # (E, in, out) instead of (E, out, in)
        for pname, p in module.named_parameters(recurse=False):
            if pname in _EXPERT_WEIGHTS and p.dim() == 3:
                rows, cols = (p.shape[2], p.shape[1]) if transposed else (p.shape[1], p.shape[2])
                count = int(p.shape[0])
                if pname == "gate_up_proj":  # checkpoints store gate and up as two matrices, each with its scales
                    rows, count = rows // 2, count * 2
                out.append((pname, p, int(rows), int(cols), count))
    elif isinstance(module, torch.nn.Linear) and scheme.method != "mxfp4":
        if scheme.method == "fp8" and type(module) is not torch.nn.Linear:
            return []
        w = module.weight
        out.append(("weight", w, int(w.shape[0]), int(w.shape[1]), 1))
    return out


def _pattern(name: str) -> str:
    return re.sub(r"\.\d+\.", ".*.", name)


def stored_weights(model: torch.nn.Module) -> tuple[int, dict[str, int], Quantization] | None:
    """(weight bytes, bytes by stored format, what is quantized) for a model whose config has a
    ``quantization_config`` priced here; None otherwise."""
    qc = _config_dict(model)
    scheme = scheme_of(qc) if qc is not None else None
    if qc is None or scheme is None:
        return None
    skipped = _skipped(model, qc)
    quantized: dict[int, dict[str, int]] = {}
    names: list[str] = []
    elements = 0
    for mname, module in model.named_modules():
        if mname and not _converted(mname, skipped):
            continue
        for pname, p, rows, cols, count in _matrices(scheme, module, mname):
            if id(p) in quantized:
                continue
            quantized[id(p)] = stored_bytes(scheme, rows, cols, count)
            names.append(_pattern(f"{mname}.{pname}" if mname else pname))
            elements += p.numel()
    by_format: dict[str, int] = defaultdict(int)
    seen: set[int] = set()
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        for fmt, n in quantized.get(id(p), {str(p.dtype).removeprefix("torch."): p.numel() * p.element_size()}).items():
            by_format[fmt] += n
    details: dict[str, Any] = {"bits": scheme.bits}
    if scheme.method in ("gptq", "awq"):
        details["group_size"] = scheme.group_size
    if scheme.block:
        details["weight_block_size"] = list(scheme.block)
    if scheme.double_quant:
        details["double_quant"] = True
    info = Quantization(
        method=scheme.method,
        element_format=scheme.element_format,
        quantized_params=elements,
        quantized_bytes=sum(sum(b.values()) for b in quantized.values()),
        tensors=tuple(dict.fromkeys(names)),
        details=tuple(details.items()),
    )
    return sum(by_format.values()), dict(sorted(by_format.items())), info
