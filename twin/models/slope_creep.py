"""Surface displacement of a shallow slope from its factor-of-safety history: steady (secondary)
creep while the slope is stable, then Voight's (1989) accelerating (tertiary) creep up to the
failure the stability model predicts; and what the slope's sensors read of that displacement.

Pure functions of arrays. Units: times in seconds, displacement in mm, velocity in mm/h, FS
dimensionless (the minimum over depth, e.g. ``FsHistory.fs_min`` of
:mod:`twin.models.slope_stability`), tilt in degrees.

The model:

* failure time t_f: the first time FS(t), linearly interpolated between samples, reaches 1.0;
  none if it never does. A history that starts at FS ≤ 1 is an error (a dataset starts stable);
* secondary creep: v(FS) = v_onset · clip((fs_creep − FS)/(fs_creep − fs_onset), 0, 1)^exponent:
  zero at and above ``fs_creep``, rising monotonically to ``v_onset`` at ``fs_onset`` and held
  there below it. The hold (the brief left FS < fs_onset open) keeps every tertiary velocity ≥
  every secondary one, which makes the model monotone: a history of lower FS never gives a lower
  velocity, hence never less displacement (property-tested). Sketch: where the higher history is
  tertiary the lower one is too, with t_on' ≤ t_on and t_f' ≤ t_f, and Voight's
  v_onset ((t_f − t_on)/(t_f − t))^p grows as t_on falls or t_f falls; elsewhere the lower one
  creeps at ≥ its secondary velocity ≥ the higher one's; without the hold a slow final descent
  could give a failing slope less velocity than a stable one sitting lower, and the test fails;
  a slope that dips below ``fs_onset`` and recovers therefore creeps at ``v_onset`` meanwhile;
* tertiary creep, only when the slope fails, from t_on = the last time before t_f that FS fell
  below ``fs_onset`` (0 if it starts below): Voight (1989, Science 243:200) Ω̈ = A Ω̇^α, whose
  solution with 1/v → 0 at t_f is (1/v)^(α−1) = A (α−1)(t_f − t); A is fixed by v(t_on) =
  v(FS(t_on)) = v_onset, so v(t) = v_onset ((t_f − t)/(t_f − t_on))^(−1/(α−1)) (for α = 2 1/v
  falls linearly to zero at t_f: Fukuzono 1985's inverse-velocity method);
* displacement is integrated exactly: secondary creep in closed form over each sample interval
  (FS linear there), tertiary as v_on T [−ln(1 − s)] for α = 2 and v_on T [1 − (1 − s)^(1−p)]/(1 − p)
  otherwise (p = 1/(α−1), T = t_f − t_on, s = (t − t_on)/T). It is finite before t_f; at t_f it is
  infinite for α ≤ 2. Samples at or after t_f are NaN (displacement and velocity): the slope has
  failed and its sensors are destroyed; ``SlopeMotion.valid`` is the mask of usable samples.

ASSUMPTIONS (defaults of :class:`CreepLaw`, to calibrate): α = 2 (Fukuzono; Voight's data span
about 1.5-2.2); fs_creep 1.3 (no source: the usual 1.3 design margin of a slope stands still) and
fs_onset 1.25 (no source; calibrated in issue 17, tests/test_collapse_chain.py: with 1.15 the
shipped D slopes accelerated for only 1.4-2.7 h in the shipped storm, too short for an
inverse-velocity forecast to come before the rates; from 1.25 they accelerate for 3.3-6.4 h, and
6-12 mm of movement before failure, while the dry slopes, FS >= 1.32, stay still; creep that
"matters" from FS 1.25 is as plausible as from 1.15, neither is published); v_onset 0.5 mm/h, the lowest of the
extensometer rates the reference policy alarms on (caution), so caution comes with the onset of
acceleration and the 0.1°/h tilt "warning" of Uchimura et al. (0.87 mm/h on a 0.5 m rod, see
:func:`tilt_deg_from_displacement`) and the often-cited 2 mm/h extensometer level follow during
it; exponent 2.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

import numpy as np

from twin.errors import TwinError

H_S = 3600.0  # seconds per hour


class CreepParameterError(TwinError, ValueError):
    """A creep-model input is out of range; the message names the field and what was expected."""


@dataclass(frozen=True)
class CreepLaw:
    """Parameters of the creep model (see the module docstring; the defaults are ASSUMPTIONS).

    ``alpha`` Voight's exponent in (1, 3); ``fs_creep`` FS at and above which the slope is still
    (> fs_onset); ``fs_onset`` FS below which tertiary creep can start (> 1); ``v_onset_mm_h``
    secondary velocity at fs_onset (mm/h, > 0); ``exponent`` of the secondary power law (> 0).
    """

    alpha: float = 2.0
    fs_creep: float = 1.3
    fs_onset: float = 1.25
    v_onset_mm_h: float = 0.5
    exponent: float = 2.0

    def check(self, where: str = "creep law") -> None:
        """Raise :class:`CreepParameterError` naming ``where.field`` if a value is out of range."""
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
                raise CreepParameterError(f"{where}.{f.name}: got {value!r}: expected a finite number")
        rules: tuple[tuple[str, bool, str], ...] = (
            ("alpha", 1.0 < self.alpha < 3.0, "a number in (1, 3)"),
            ("fs_onset", self.fs_onset > 1.0, "a factor of safety > 1"),
            ("fs_creep", self.fs_creep > self.fs_onset, f"a factor of safety > fs_onset = {self.fs_onset}"),
            ("v_onset_mm_h", self.v_onset_mm_h > 0.0, "mm/h > 0"),
            ("exponent", self.exponent > 0.0, "a number > 0"),
        )
        for name, ok, expected in rules:
            if not ok:
                raise CreepParameterError(f"{where}.{name}: got {getattr(self, name)!r}: expected {expected}")

    def secondary_velocity_mm_h(self, fs: np.ndarray | float) -> np.ndarray:
        """Secondary creep velocity (mm/h) at factors of safety ``fs`` (dimensionless)."""
        u = np.clip((self.fs_creep - np.asarray(fs, dtype=float)) / (self.fs_creep - self.fs_onset), 0.0, 1.0)
        return self.v_onset_mm_h * u**self.exponent


@dataclass(frozen=True)
class SlopeMotion:
    """Displacement (mm) and velocity (mm/h) at ``times_s`` (s); NaN at and after ``failure_s``.
    ``onset_s`` is t_on (s) and ``failure_s`` t_f (s), both None when the slope does not fail."""

    times_s: np.ndarray
    displacement_mm: np.ndarray
    velocity_mm_h: np.ndarray
    onset_s: float | None
    failure_s: float | None

    @property
    def valid(self) -> np.ndarray:
        """True where the sensors still read (before failure)."""
        return np.isfinite(self.displacement_mm)


def _crossing(t: np.ndarray, fs: np.ndarray, i: int, level: float) -> float:
    """Time (s) where the line through samples i and i+1 takes ``level``."""
    if fs[i] == fs[i + 1]:
        return float(t[i])
    return float(t[i] + (fs[i] - level) / (fs[i] - fs[i + 1]) * (t[i + 1] - t[i]))


def failure_time_s(times_s: np.ndarray, fs: np.ndarray) -> float | None:
    """First time (s) the linearly interpolated FS reaches 1.0, or None. FS(t0) ≤ 1 raises."""
    t, f = _validate(times_s, fs)
    return _failure(t, f)


def _validate(times_s: np.ndarray, fs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times_s, dtype=float).ravel()
    f = np.asarray(fs, dtype=float).ravel()
    if t.size == 0 or t.size != f.size:
        raise CreepParameterError(f"fs: got {f.size} values for {t.size} times: expected one per time, at least one")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0.0):
        raise CreepParameterError("times_s: expected finite, strictly increasing times in seconds")
    if not np.all(np.isfinite(f)):
        raise CreepParameterError("fs: expected finite factors of safety")
    if f[0] <= 1.0:
        raise CreepParameterError(f"fs[0]: got {f[0]!r}: expected > 1 (the slope must start stable)")
    return t, f


def _failure(t: np.ndarray, f: np.ndarray) -> float | None:
    hit = np.flatnonzero(f <= 1.0)
    if hit.size == 0:
        return None
    return _crossing(t, f, int(hit[0]) - 1, 1.0)


def _secondary_displacement_mm(t: np.ndarray, f: np.ndarray, law: CreepLaw) -> np.ndarray:
    """Cumulative ∫ v(FS(t)) dt (mm) at the samples, FS linear between them, in closed form."""
    width = law.fs_creep - law.fs_onset
    n = law.exponent
    u = (law.fs_creep - f) / width  # linear in t between samples

    def big_h(x: np.ndarray) -> np.ndarray:  # ∫_0^x clip(y, 0, 1)^n dy
        xc = np.clip(x, 0.0, 1.0)
        return xc ** (n + 1.0) / (n + 1.0) + np.maximum(x - 1.0, 0.0)

    dt_h = np.diff(t) / H_S
    du = np.diff(u)
    flat = np.abs(du) < 1e-12
    safe = np.where(flat, 1.0, du)
    steps = np.where(
        flat,
        np.clip(u[:-1], 0.0, 1.0) ** n * dt_h,
        (big_h(u[1:]) - big_h(u[:-1])) / safe * dt_h,
    )
    return law.v_onset_mm_h * np.concatenate(([0.0], np.cumsum(steps)))


def _voight(law: CreepLaw, t_on: float, t_f: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tertiary (velocity mm/h, displacement mm since t_on) at t_on ≤ t < t_f."""
    p = 1.0 / (law.alpha - 1.0)
    big_t = t_f - t_on
    rest = (t_f - t) / big_t  # 1 - s, in (0, 1]
    v = law.v_onset_mm_h * rest ** (-p)
    scale = law.v_onset_mm_h * big_t / H_S
    if abs(p - 1.0) < 1e-12:
        d = -scale * np.log(rest)
    else:
        d = scale * (1.0 - rest ** (1.0 - p)) / (1.0 - p)
    return v, d


def displacement_history(times_s: np.ndarray, fs: np.ndarray, law: CreepLaw | None = None) -> SlopeMotion:
    """Displacement (mm, from 0 at the first time) and velocity (mm/h) of the slope surface for a
    factor-of-safety history ``fs`` sampled at ``times_s`` (s, strictly increasing); see the
    module docstring for the model. NaN at and after the failure time."""
    law = CreepLaw() if law is None else law
    law.check()
    t, f = _validate(times_s, fs)
    disp = _secondary_displacement_mm(t, f, law)
    vel = law.secondary_velocity_mm_h(f)
    t_f = _failure(t, f)
    if t_f is None:
        return SlopeMotion(t, disp, vel, None, None)
    i_f = int(np.flatnonzero(f <= 1.0)[0])  # first sample at or below 1: t[i_f] >= t_f
    above = np.flatnonzero(f[:i_f] >= law.fs_onset)
    if above.size == 0:
        t_on = float(t[0])
    else:
        t_on = _crossing(t, f, int(above[-1]), law.fs_onset)
    # secondary displacement up to t_on (FS linear on the interval that holds t_on)
    k = int(np.searchsorted(t, t_on, side="right")) - 1
    t_pre = np.append(t[: k + 1], t_on)
    f_pre = np.append(f[: k + 1], np.interp(t_on, t, f))
    if t_on == t[k]:
        d_on = float(disp[k])
    else:
        d_on = float(_secondary_displacement_mm(t_pre, f_pre, law)[-1])
    tert = (t >= t_on) & (t < t_f)
    v_t, d_t = _voight(law, t_on, t_f, t[tert])
    vel = vel.copy()
    vel[tert] = v_t
    disp[tert] = d_on + d_t
    gone = t >= t_f
    vel[gone] = np.nan
    disp[gone] = np.nan
    return SlopeMotion(t, disp, vel, t_on, t_f)


def tilt_deg_from_displacement(disp_mm: np.ndarray | float, rod_length_m: float = 0.5) -> np.ndarray:
    """Tilt (degrees) of a surface tilt rod of ``rod_length_m`` (m) anchored in the moving layer
    whose top has moved ``disp_mm`` (mm) relative to its base: atan(disp / rod). ASSUMPTION: the
    rod rotates rigidly with the shallow layer; with 0.5 m, Uchimura et al.'s precaution rate
    0.01°/h ≈ 0.087 mm/h and warning rate 0.1°/h ≈ 0.87 mm/h. NaN stays NaN."""
    if not (isinstance(rod_length_m, numbers.Real) and math.isfinite(rod_length_m) and rod_length_m > 0.0):
        raise CreepParameterError(f"rod_length_m: got {rod_length_m!r}: expected metres > 0")
    d = np.asarray(disp_mm, dtype=float)
    return np.degrees(np.arctan(d / (1000.0 * float(rod_length_m))))


@dataclass(frozen=True)
class SlopeReadings:
    """What a slope's sensors read: tilt rod (degrees), tension-crack gauge (mm), wire
    extensometer (mm); NaN after failure."""

    tilt_deg: np.ndarray
    crack_mm: np.ndarray
    extensometer_mm: np.ndarray


def sensor_readings(disp_mm: np.ndarray | float, rod_length_m: float = 0.5) -> SlopeReadings:
    """Sensor readings for surface displacements (mm). ASSUMPTION: a tension crack at the head of
    the slide opens by the slide's displacement and an extensometer spanning it reads the same."""
    d = np.asarray(disp_mm, dtype=float)
    return SlopeReadings(tilt_deg_from_displacement(d, rod_length_m), d.copy(), d.copy())
