"""The roofline estimate of a report on a hardware profile (Williams, Waterman, Patterson, CACM 2009).

Per layer (its own ops, children excluded, so every op is in exactly one layer):
``time = max(flops / (P x e), bytes / (B x e))`` where P is the profile's peak dense FLOP/s at the dtype that
runs, B its memory bandwidth and e the efficiency (default: the profile's calibrated one, else 1.0, i.e. the
roofs themselves). ``bytes`` is the traffic of docs/conventions.md (unfused: an upper bound on bytes, so a
lower bound on neither). The forward's time is the sum over layers: layers run one after another.

Causal LMs (``report.llm``): prefill = the forward that ran (batch x seq_len tokens); decode per token =
max(decode FLOPs / (P e), (weights + KV cache at seq_len) / (B e)), the decode step reading every weight and
the whole cache once; tokens/s = batch / decode time. Training (``report.memory.training``): step time =
the step's FLOPs / (P e); MFU = (forward + backward FLOPs) / (step time x P), i.e. e less any recompute.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..errors import InputError
from ..hardware.profiles import HardwareProfile, dtype_key
from .types import LayerTime, LLMTime, Roofline, TrainingTime

if TYPE_CHECKING:
    from ..options import RooflineOptions
    from ..report.model import Report


def running_dtype(report: Report) -> str:
    """The dtype whose peak applies: the one most parameter bytes are in, else the first input's."""
    by_dtype = sorted(report.totals.param_bytes_by_dtype, key=lambda kv: -kv[1])
    if by_dtype:
        return dtype_key(by_dtype[0][0])
    if report.inputs and report.inputs[0].dtype.removeprefix("torch.") in ("float16", "bfloat16", "float32"):
        return dtype_key(report.inputs[0].dtype)
    return "fp32"


def _own(report: Report) -> list[tuple[str, str, int, int]]:
    """(name, type, own flops, own bytes) per layer: the row minus its direct children's rows."""
    kids: dict[str, list[int]] = {}
    for i, row in enumerate(report.layers):
        if row.name != "":
            kids.setdefault(row.name.rpartition(".")[0], []).append(i)
    out = []
    for row in report.layers:
        children = [report.layers[i] for i in kids.get(row.name, [])]
        flops = row.flops - sum(c.flops for c in children)
        moved = row.read_bytes + row.write_bytes - sum(c.read_bytes + c.write_bytes for c in children)
        if flops > 0 or moved > 0:
            out.append((row.name, row.type, flops, moved))
    return out


def _layer_time(name: str, kind: str, flops: int, moved: int, peak: float, bandwidth: float) -> LayerTime:
    compute, memory = flops / peak, moved / bandwidth
    bound = "compute" if compute >= memory else "memory"
    return LayerTime(name, kind, flops, moved, flops / moved if moved else None, max(compute, memory), bound)


def estimate(
    report: Report, profile: HardwareProfile, efficiency: float | None = None, dtype: str | None = None
) -> Roofline:
    """The roofline estimate of ``report``'s forward (and, where present, LLM serving and a training step)."""
    e = efficiency if efficiency is not None else (profile.efficiency or 1.0)
    if not e > 0:
        raise InputError(f"--efficiency {e}: expected a fraction of the peak above 0, e.g. 0.6")
    if not report.totals.read_bytes + report.totals.write_bytes:
        raise InputError(
            f"{report.model}: no memory traffic was recorded ({report.device}: only the PyTorch frontend prices "
            "bytes), so there is nothing to put on a roofline; for a layer spec, estimate the network it builds: "
            "modelmeter.summary(modelmeter.spec.to_torch(SPEC), input_size=..., hardware=...)"
        )
    try:
        key = dtype_key(dtype) if dtype else running_dtype(report)
        peak = profile.peak(key) * e
    except ValueError as exc:
        raise InputError(f"--hardware {profile.name}: {exc}") from None
    bandwidth = profile.bandwidth * e
    layers = tuple(_layer_time(n, t, f, b, peak, bandwidth) for n, t, f, b in _own(report))
    time_s = sum(x.time_s for x in layers)
    by_bound = {b: sum(x.time_s for x in layers if x.bound == b) for b in ("compute", "memory")}
    roof = Roofline(
        hardware=profile.name,
        title=profile.title,
        dtype=key,
        peak_flops=peak / e,
        bandwidth=profile.bandwidth,
        efficiency=e,
        time_s=time_s,
        compute_time_s=sum(x.flops for x in layers) / peak,
        memory_time_s=sum(x.bytes for x in layers) / bandwidth,
        bound=max(by_bound, key=lambda b: by_bound[b]),
        attainable_flops=report.totals.flops / time_s if time_s else 0.0,
        layers=layers,
    )
    return dataclasses.replace(
        roof, llm=_llm(report, peak, bandwidth, time_s), training=_training(report, peak, e, profile.peak(key))
    )


def _llm(report: Report, peak: float, bandwidth: float, prefill_s: float) -> LLMTime | None:
    llm = report.llm
    if llm is None:
        return None
    weights = report.memory.weights if report.memory is not None else report.totals.param_bytes
    compute = llm.decode_flops_per_token * llm.batch / peak
    memory = (weights + llm.kv_cache) / bandwidth
    decode = max(compute, memory)
    return LLMTime(
        batch=llm.batch,
        seq_len=llm.seq_len,
        kv_len=llm.seq_len,
        weight_bytes=weights,
        kv_cache_bytes=llm.kv_cache,
        prefill_time_s=prefill_s,
        decode_time_s=decode,
        decode_bound="compute" if compute >= memory else "memory",
        tokens_per_s=llm.batch / decode,
    )


def _training(report: Report, peak: float, e: float, full_peak: float) -> TrainingTime | None:
    training = report.memory.training if report.memory is not None else None
    if training is None:
        return None
    step = training.total_flops / peak
    model = training.forward_flops + training.backward_flops
    return TrainingTime(flops=training.total_flops, model_flops=model, step_time_s=step, mfu=model / (step * full_peak))


def with_estimate(report: Report, options: RooflineOptions, hardware: str | None = None) -> Report:
    """``report`` with ``report.roofline`` estimated on ``hardware`` (default ``options.hardware``), the profile
    looked up in the built-ins, the user file and ``cpu``."""
    from ..hardware import find

    name = hardware or options.hardware
    if name is None:
        raise InputError("a roofline estimate needs hardware=NAME (see `modelmeter hardware`)")
    profile = find(name, options.hardware_file)
    return dataclasses.replace(report, roofline=estimate(report, profile, options.efficiency))
