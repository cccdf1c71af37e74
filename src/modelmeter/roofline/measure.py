"""The measurement beside the estimate: ratio, and the efficiency that would make the estimate match."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .types import Measurement, Roofline

if TYPE_CHECKING:
    from ..report.model import Report


def calibrate(roofline: Roofline, measured: Measurement) -> Measurement:
    """``measured`` with the estimate, measured / estimate, and the calibrated efficiency: since both roofs
    scale with the efficiency e, time(e) = time(1) / e, so e = time(1) / measured."""
    at_full = roofline.time_s * roofline.efficiency
    return dataclasses.replace(
        measured,
        estimate_s=roofline.time_s,
        ratio=measured.median_s / roofline.time_s if roofline.time_s else None,
        calibrated_efficiency=at_full / measured.median_s if measured.median_s else None,
    )


def attach(report: Report, measured: Measurement) -> Report:
    """The report with the measurement in ``report.roofline.measured`` (calibrated when there is an estimate)."""
    if report.roofline is None:
        raise ValueError("attach needs a report with a roofline estimate")
    return dataclasses.replace(
        report, roofline=dataclasses.replace(report.roofline, measured=calibrate(report.roofline, measured))
    )
