"""Tilt of an old building from differential settlement of its foundation, the width of a crack
that opens with the tilt, and the building-tilt grade of the Korean safety-inspection guideline.

Pure functions of arrays. Units: times in seconds, settlement and crack width in mm, building
width in m, rain in mm/h, tilt as a ratio (rise over run, dimensionless) and in degrees.

The model: the differential settlement Δs(t) (mm) between the two sides of a building of width
B (m) is the sum of three drivers, each adding to the building's existing lean:

* a steady rate r (mm/day) from t = 0 (consolidation, leaking drains): r·t;
* excavation events (a neighbouring dig, from ``start_s``): S (1 − exp(−(t − t0)/τ)) after t0,
  a first-order approach to the final settlement S with time constant τ (63.2 % at t0 + τ);
* rain: ``rain_mm_per_mm`` mm of settlement per mm of rain falling above the threshold intensity
  ``rain_threshold_mm_h`` (softening and washout of the foundation soil), accumulated linearly
  within each constant-intensity step.

tilt ratio(t) = initial tilt ratio + Δs(t)/(1000 B); tilt (°) = atan(tilt ratio).
crack width w(t) = w0 + k (tilt ratio(t) − initial tilt ratio), k in mm per unit tilt ratio.

ASSUMPTIONS (no source, to calibrate): the rain driver (default 0.002 mm per mm above 30 mm/h,
so a 100 mm/h hour adds 0.14 mm) and the crack law: the building guideline's crack-width table
was not found (docs: research notes A3, only a bridge-deck table and an apartment-defect study),
so k defaults to 150 mm per unit tilt ratio, i.e. a tilt change of 1/150 (grade D) opens the
crack by 1.0 mm. Rigid-body tilt: Δs/B, no bending of the frame.

Tilt grades (:data:`TILT_GRADE_LIMITS`): A ≤ 1/750, B ≤ 1/500, C ≤ 1/250, D ≤ 1/150, E above,
from MOLIT's 안전점검 및 정밀안전진단 세부지침 as quoted in the press (tellerreport.com,
2022-01-19); a tilt exactly at a limit takes the better grade (≤).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from twin.errors import TwinError

DAY_S = 86400.0
H_S = 3600.0

TILT_GRADE_LIMITS: tuple[tuple[str, float], ...] = (("A", 1 / 750), ("B", 1 / 500), ("C", 1 / 250), ("D", 1 / 150))
WORST_GRADE = "E"


class BuildingParameterError(TwinError, ValueError):
    """A building-tilt input is out of range; the message names the field and what was expected."""


def _finite(where: str, obj: Excavation | BuildingSettlement) -> None:
    for f in fields(obj):
        value = getattr(obj, f.name)
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            raise BuildingParameterError(f"{where}.{f.name}: got {value!r}: expected a finite number")


@dataclass(frozen=True)
class Excavation:
    """A neighbouring excavation: from ``start_s`` (s) the differential settlement approaches
    ``settlement_mm`` (mm, ≥ 0) with time constant ``time_constant_s`` (s, > 0)."""

    start_s: float
    settlement_mm: float
    time_constant_s: float

    def check(self, where: str = "excavation") -> None:
        """Raise :class:`BuildingParameterError` naming ``where.field`` if a value is out of range."""
        _finite(where, self)
        if self.settlement_mm < 0.0:
            raise BuildingParameterError(f"{where}.settlement_mm: got {self.settlement_mm!r}: expected mm >= 0")
        if self.time_constant_s <= 0.0:
            raise BuildingParameterError(f"{where}.time_constant_s: got {self.time_constant_s!r}: expected s > 0")

    def settlement_at(self, times_s: np.ndarray) -> np.ndarray:
        """Differential settlement (mm) this excavation has caused by ``times_s`` (s)."""
        dt = np.maximum(np.asarray(times_s, dtype=float) - self.start_s, 0.0)
        return self.settlement_mm * -np.expm1(-dt / self.time_constant_s)


@dataclass(frozen=True)
class BuildingSettlement:
    """One building: ``width_m`` B (m, > 0) across which the settlement differs;
    ``initial_tilt_ratio`` (≥ 0) and ``initial_crack_mm`` (≥ 0) at t = 0; ``rate_mm_day`` steady
    differential settlement (mm/day, ≥ 0); ``rain_mm_per_mm`` settlement per mm of rain above
    ``rain_threshold_mm_h`` (both ≥ 0, ASSUMPTIONS); ``crack_mm_per_tilt`` k (mm per unit tilt
    ratio, ≥ 0, ASSUMPTION: 150 so that a 1/150 tilt change adds 1.0 mm)."""

    width_m: float
    initial_tilt_ratio: float = 0.0
    initial_crack_mm: float = 0.0
    rate_mm_day: float = 0.0
    rain_mm_per_mm: float = 0.002
    rain_threshold_mm_h: float = 30.0
    crack_mm_per_tilt: float = 150.0

    def check(self, where: str = "building") -> None:
        """Raise :class:`BuildingParameterError` naming ``where.field`` if a value is out of range."""
        _finite(where, self)
        if self.width_m <= 0.0:
            raise BuildingParameterError(f"{where}.width_m: got {self.width_m!r}: expected metres > 0")
        for name in (
            "initial_tilt_ratio",
            "initial_crack_mm",
            "rate_mm_day",
            "rain_mm_per_mm",
            "rain_threshold_mm_h",
            "crack_mm_per_tilt",
        ):
            if getattr(self, name) < 0.0:
                raise BuildingParameterError(f"{where}.{name}: got {getattr(self, name)!r}: expected a value >= 0")


@dataclass(frozen=True)
class BuildingMotion:
    """Tilt ratio (dimensionless), tilt (degrees) and crack width (mm) at ``times_s`` (s)."""

    times_s: np.ndarray
    tilt_ratio: np.ndarray
    tilt_deg: np.ndarray
    crack_mm: np.ndarray


def _rain_settlement_mm(
    t: np.ndarray, b: BuildingSettlement, rain_times_s: np.ndarray, rain_mm_h: np.ndarray
) -> np.ndarray:
    """Cumulative rain-driven settlement (mm) at ``t`` for piecewise-constant rain (mm/h):
    rain_mm_h[k] over [rain_times_s[k], rain_times_s[k+1]); the last step open-ended when the two
    arrays have the same length, zero after the last time when there is one more time."""
    starts = np.asarray(rain_times_s, dtype=float).ravel()
    rain = np.asarray(rain_mm_h, dtype=float).ravel()
    n = rain.size
    if starts.size == n:
        ends = np.append(starts[1:], np.inf)
    elif starts.size == n + 1:
        starts, ends = starts[:-1], starts[1:]
    else:
        raise BuildingParameterError(
            f"rain_times_s: got {starts.size} times for {n} rain values: expected {n} or {n + 1}"
        )
    if not np.all(np.isfinite(starts)) or np.any(np.diff(np.append(starts, ends[-1])) <= 0.0):
        raise BuildingParameterError("rain_times_s: expected finite, strictly increasing times in seconds")
    if not np.all(np.isfinite(rain)) or np.any(rain < 0.0):
        raise BuildingParameterError("rain_mm_h: expected finite intensities >= 0 mm/h")
    excess_mm_s = np.maximum(rain - b.rain_threshold_mm_h, 0.0) / H_S
    elapsed = np.clip(t[:, None] - starts[None, :], 0.0, (ends - starts)[None, :])
    return b.rain_mm_per_mm * (elapsed * excess_mm_s[None, :]).sum(axis=1)


def differential_settlement_mm(
    times_s: np.ndarray,
    b: BuildingSettlement,
    excavations: Sequence[Excavation] = (),
    rain_times_s: np.ndarray | None = None,
    rain_mm_h: np.ndarray | None = None,
) -> np.ndarray:
    """Differential settlement Δs (mm) at ``times_s`` (s, ≥ 0 from the start) from the rate, the
    excavations and the rain (see the module docstring); 0 at t = 0 unless an excavation or rain
    starts before."""
    b.check()
    t = np.asarray(times_s, dtype=float).ravel()
    if not np.all(np.isfinite(t)):
        raise BuildingParameterError("times_s: expected finite times in seconds")
    total = b.rate_mm_day * np.maximum(t, 0.0) / DAY_S
    for i, ex in enumerate(excavations):
        ex.check(f"excavations[{i}]")
        total = total + ex.settlement_at(t)
    if (rain_times_s is None) != (rain_mm_h is None):
        raise BuildingParameterError("rain_times_s, rain_mm_h: expected both or neither")
    if rain_times_s is not None and rain_mm_h is not None:
        total = total + _rain_settlement_mm(t, b, rain_times_s, rain_mm_h)
    return total


def tilt_history(
    times_s: np.ndarray,
    b: BuildingSettlement,
    excavations: Sequence[Excavation] = (),
    rain_times_s: np.ndarray | None = None,
    rain_mm_h: np.ndarray | None = None,
) -> BuildingMotion:
    """Tilt ratio, tilt (°) and crack width (mm) of building ``b`` at ``times_s`` (s); rain as in
    :func:`differential_settlement_mm`."""
    ds = differential_settlement_mm(times_s, b, excavations, rain_times_s, rain_mm_h)
    t = np.asarray(times_s, dtype=float).ravel()
    extra = ds / (1000.0 * b.width_m)
    ratio = b.initial_tilt_ratio + extra
    return BuildingMotion(
        times_s=t,
        tilt_ratio=ratio,
        tilt_deg=np.degrees(np.arctan(ratio)),
        crack_mm=b.initial_crack_mm + b.crack_mm_per_tilt * extra,
    )


def tilt_grade(ratio: float, limits: Sequence[tuple[str, float]] = TILT_GRADE_LIMITS) -> str:
    """Grade of a tilt ratio (dimensionless; its magnitude is used): the first grade whose limit
    the tilt does not exceed (a tilt exactly at a limit takes that grade), ``"E"`` above the last.
    ``limits``: (grade, largest tilt ratio) pairs in increasing order."""
    values = [float(lim) for _, lim in limits]
    if not values or any(not math.isfinite(v) or v <= 0.0 for v in values) or values != sorted(values):
        raise BuildingParameterError("limits: expected (grade, tilt ratio) pairs with increasing positive ratios")
    r = float(ratio)
    if not math.isfinite(r):
        raise BuildingParameterError(f"ratio: got {ratio!r}: expected a finite tilt ratio")
    r = abs(r)
    for grade, lim in limits:
        if r <= lim:
            return grade
    return WORST_GRADE
