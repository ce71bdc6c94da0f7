"""The inverse-velocity (Fukuzono) failure-time forecast of one displacement or tilt sensor.

Voight's law of accelerating creep before failure, ``d²x/dt² = A·(dx/dt)^α`` (Voight 1989,
Science 243:200), gives for α = 2 an inverse velocity that falls linearly to zero at the failure
time: ``1/v = A·(t_f − t)`` (Fukuzono 1985, Proc. 4th Int. Conf. and Field Workshop on Landslides,
Tokyo, 145–150). So a straight line fitted to ``1/v`` against ``t`` crosses zero at ``t_f = −a/b``.

What this module does with the readings of one sensor (times in s, values in the sensor's unit:
mm of displacement or crack opening, or degrees of tilt):

1. **Resampling** to a uniform grid of ``step_s`` by linear interpolation between consecutive
   readings, when they are at most ``max_gap_s`` apart. A longer gap restarts the analysis from the
   reading after it (the two sides cannot be joined; the onset must be detected again). Readings at
   or before the last one taken (repeats, out of order) are ignored.
2. **Smoothing** with a Savitzky–Golay filter (window ``smoothing_s`` as a duration, ``polyorder``)
   and the velocity from its first derivative, as :func:`scipy.signal.savgol_filter` with
   ``mode="interp"`` computes it: centred windows inside the series, the polynomial of the last
   window at its end. Carlà et al. 2017 (Landslides 14:517, doi:10.1007/s10346-016-0731-5) found
   smoothing essential; NHESS 22:411 (2022) found Savitzky–Golay better than moving averages.
   The filter is applied incrementally (one dot product per new grid point), over a bounded trailing
   history of ``history_s``, so each reading costs O(window).
3. **Onset of acceleration (OOA)**, in the spirit of the EMA-based OOA detector (J. Eng. Geol.,
   gcdz.org/article/cstr/32088.14.JEG.20220743, not read in full: the rule here is this module's
   own): the speed |v| at the end of the newest window feeds a short and a long exponential moving
   average (time constants ``ema_short_s``, ``ema_long_s``). Acceleration is declared when, at
   ``onset_confirm`` consecutive grid points, the short EMA exceeds ``onset_ratio`` × the long EMA
   *and* ``1/|v|`` over the last ``onset_window_s`` falls with a slope whose one-sided upper
   ``onset_confidence`` bound is below zero. The speed is the centred-window velocity (half a window
   late, much less noisy than the end of the window). ``onset_s`` is the last time before the
   detection that the short EMA rose above ``onset_margin`` × the long EMA. Nothing is detected
   before ``onset_warmup_s`` of data (the long EMA needs that long to settle). No forecast is issued
   before the onset is detected (the "engine rule" of the project notes, after Intrieri et al. 2019,
   Earth-Sci. Rev. 193:333).
4. **Forecast**: ordinary least squares of ``1/|v|`` (h per unit) on ``t`` over the smoothed points
   since the onset, at most the last ``fit_window_s``; ``t_f = −a/b``. The interval is Fieller's
   (inverse prediction): the times where the two-sided ``confidence`` band of the fitted line
   (Student t with n − 2 degrees of freedom) crosses ``1/v = 0``. No forecast (None) when the slope
   is not negative, there are fewer than ``min_points`` points, r² is below ``min_r2``, or the slope
   is not significant at that confidence (the band never leaves zero: Fieller's interval is
   unbounded), or the interval (the band's, before the floor below) is wider than
   ``max_interval_ratio`` × the time left to the forecast failure (too imprecise to act on; off by
   default). The interval is at least ± ``step_s`` around ``t_f`` (the data do not resolve the
   failure time better than their grid; the band alone ignores the filter's bias, so on clean data
   it is far too narrow). ``fit_tail=False`` fits only the centred velocities, which are final and
   less noisy than the end-of-window ones of the last half window, but half a window late (harmless
   for a straight 1/v line: its zero crossing does not move). Everything is deterministic.

Caveats (documented, not corrected): the smoothed velocity lags the true one near failure, where
``1/v`` is curved by noise and by α ≠ 2; Qi et al. 2023 (doaj d21991d587294685a940857d0e19eb63)
report failure earlier than the linear extrapolation. The band treats the smoothed points as
independent, which they are not (the filter correlates neighbours), so the interval is narrower than
an honest one; ASSUMPTION: acceptable for an alarm that acts on the lead time, not the interval.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_coeffs
from scipy.stats import t as student_t

from ..errors import TwinError

SECONDS_PER_HOUR = 3600.0


class ForecastSettingsError(TwinError, ValueError):
    """Inverse-velocity settings that cannot work (a window shorter than its polynomial, ...)."""


@dataclass(frozen=True)
class ForecastSettings:
    """How one sensor's series is resampled, smoothed and forecast. Times in s."""

    step_s: float = 600.0  # resampling grid (the sensors report every 10 min)
    max_gap_s: float = 3600.0  # longest gap bridged by linear interpolation
    smoothing_s: float = 7200.0  # Savitzky–Golay window, as a duration
    polyorder: int = 2
    history_s: float = 2 * 86_400.0  # trailing history kept
    ema_short_s: float = 3 * 3600.0
    ema_long_s: float = 24 * 3600.0
    onset_ratio: float = 1.5  # short EMA / long EMA of the speed that signals acceleration
    onset_margin: float = 1.1  # the onset time is when short EMA last rose above this × the long EMA
    onset_window_s: float = 3 * 3600.0  # window of the 1/v slope test
    onset_confidence: float = 0.95  # one-sided confidence that the 1/v slope is negative
    onset_confirm: int = 3  # consecutive grid points with both conditions
    onset_warmup_s: float = 12 * 3600.0  # no onset until the series is this long (the long EMA settles)
    fit_window_s: float = 24 * 3600.0  # longest span of the 1/v fit
    fit_tail: bool = True  # fit the last half window too (False: only the centred, final velocities)
    max_interval_ratio: float = math.inf  # no forecast when its interval is wider than this × the time left
    min_points: int = 6
    min_r2: float = 0.8
    confidence: float = 0.90  # two-sided level of the failure-time interval

    def __post_init__(self) -> None:
        problems = []
        for name in ("step_s", "max_gap_s", "smoothing_s", "history_s", "ema_short_s", "ema_long_s", "fit_window_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                problems.append(f"{name}: got {value!r}: expected a duration > 0 s")
        if not problems:
            if self.ema_long_s <= self.ema_short_s:
                problems.append(f"ema_long_s: got {self.ema_long_s:g}: expected more than ema_short_s")
            if self.window_points <= self.polyorder + 1:
                problems.append(
                    f"smoothing_s: got {self.smoothing_s:g}: expected a window of more than polyorder + 1 = "
                    f"{self.polyorder + 1} steps of {self.step_s:g} s"
                )
            if self.history_points < self.window_points + self.onset_points:
                problems.append("history_s: expected at least the smoothing window plus the onset window")
        if self.polyorder < 1:
            problems.append(f"polyorder: got {self.polyorder}: expected an integer >= 1 (a velocity)")
        if not 0.5 < self.onset_confidence < 1 or not 0 < self.confidence < 1:
            problems.append("onset_confidence, confidence: expected a probability between 0.5 and 1")
        if not self.max_interval_ratio > 0:
            problems.append(f"max_interval_ratio: got {self.max_interval_ratio!r}: expected a number > 0 (inf: off)")
        if self.min_points < 3 or self.onset_confirm < 1:
            problems.append("min_points: expected an integer >= 3; onset_confirm: >= 1")
        if problems:
            raise ForecastSettingsError("; ".join(problems))

    @property
    def window_points(self) -> int:
        """Points of the Savitzky–Golay window (odd)."""
        half = max(1, round(self.smoothing_s / self.step_s / 2))
        return 2 * half + 1

    @property
    def history_points(self) -> int:
        return int(self.history_s // self.step_s) + 1

    @property
    def onset_points(self) -> int:
        return max(3, round(self.onset_window_s / self.step_s) + 1)


@dataclass(frozen=True)
class Forecast:
    """A failure-time forecast: all times in s on the readings' clock; ``r2`` of the 1/v fit."""

    issued_s: float
    failure_s: float
    lower_s: float
    upper_s: float
    n_points: int
    r2: float
    onset_s: float


class InverseVelocity:
    """Incremental inverse-velocity analysis of one sensor: :meth:`add` each reading, then ask
    :meth:`velocity` (unit/h) and :meth:`forecast`. Memory and time per reading are bounded by
    the settings (``history_s``, ``smoothing_s``)."""

    def __init__(self, settings: ForecastSettings | None = None) -> None:
        s = settings or ForecastSettings()
        self.settings = s
        w = s.window_points
        self._half = w // 2
        # velocity (unit/s) at each position of a window from its points: row j = position j
        self._coef = np.array(
            [savgol_coeffs(w, s.polyorder, deriv=1, delta=s.step_s, pos=j, use="dot") for j in range(w)]
        )
        self._a_short = 1.0 - math.exp(-s.step_s / s.ema_short_s)
        self._a_long = 1.0 - math.exp(-s.step_s / s.ema_long_s)
        self._t_onset = student_t.ppf(s.onset_confidence, s.onset_points - 2)
        self._reset()

    def _reset(self) -> None:
        n = self.settings.history_points
        self._t0: float | None = None  # time of grid point 0
        self._k = -1  # index of the newest grid point
        self._x: deque[float] = deque(maxlen=n)  # resampled values of the last grid points
        self._v: deque[float] = deque(maxlen=n)  # centred-window velocities (unit/s), final ones
        self._last: tuple[float, float] | None = None  # last reading taken (t, value)
        self._ema_s: float | None = None
        self._ema_l: float | None = None
        self._above_since: float | None = None  # short EMA above long EMA since (grid time)
        self._confirm = 0
        self.onset_s: float | None = None
        self.detected_s: float | None = None

    # -- input ------------------------------------------------------------------------------------

    def add(self, t_s: float, value: float) -> bool:
        """Take one reading (time s, value in the sensor's unit); False when it was ignored (not
        finite, or not after the last reading taken)."""
        if not (math.isfinite(t_s) and math.isfinite(value)):
            return False
        s = self.settings
        if self._last is None:
            self._t0, self._last = t_s, (t_s, value)
            self._push(value)
            return True
        t1, x1 = self._last
        if t_s <= t1:
            return False
        if t_s - t1 > s.max_gap_s:
            self._reset()
            return self.add(t_s, value)
        assert self._t0 is not None
        while True:
            tk = self._t0 + (self._k + 1) * s.step_s
            if tk > t_s:
                break
            self._push(x1 + (value - x1) * (tk - t1) / (t_s - t1))
        self._last = (t_s, value)
        return True

    def _push(self, x: float) -> None:
        self._k += 1
        self._x.append(x)
        w, h = len(self._coef), self._half
        if len(self._x) < w:
            return
        window = np.fromiter((self._x[i] for i in range(len(self._x) - w, len(self._x))), float, w)
        centre = float(self._coef[h] @ window)  # the velocity at the centre of this window is final now
        self._v.append(centre)
        self._onset_step(abs(centre) * SECONDS_PER_HOUR)

    def _onset_step(self, speed_h: float) -> None:
        s = self.settings
        if self._ema_s is None or self._ema_l is None:
            self._ema_s = self._ema_l = speed_h
            return
        self._ema_s += self._a_short * (speed_h - self._ema_s)
        self._ema_l += self._a_long * (speed_h - self._ema_l)
        now = self._grid_time(self._k)
        if self._ema_s > s.onset_margin * self._ema_l:
            self._above_since = now if self._above_since is None else self._above_since
        else:
            self._above_since = None
        if self.detected_s is not None or len(self._v) * s.step_s < s.onset_warmup_s:
            return
        ok = self._ema_s > s.onset_ratio * self._ema_l and self._slope_falls()
        self._confirm = self._confirm + 1 if ok else 0
        if self._confirm >= s.onset_confirm:
            self.detected_s = now
            self.onset_s = self._above_since if self._above_since is not None else now

    def _slope_falls(self) -> bool:
        """Whether 1/|v| over the onset window falls significantly (one-sided upper bound < 0)."""
        n = self.settings.onset_points
        if len(self._v) < n:
            return False
        speed = np.abs(np.fromiter((self._v[i] for i in range(len(self._v) - n, len(self._v))), float, n))
        t = self.settings.step_s * np.arange(n, dtype=float)
        if np.any(speed <= 0):
            return False
        fit = _line(t, 1.0 / speed)
        return fit is not None and fit[1] + self._t_onset * fit[3] < 0

    # -- output -----------------------------------------------------------------------------------

    def _grid_time(self, k: int) -> float:
        assert self._t0 is not None
        return self._t0 + k * self.settings.step_s

    def _series(self) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) and smoothed velocities (unit/h) of the kept history: the centred values, then
        the last window's polynomial at its last ``half`` points."""
        w, h = len(self._coef), self._half
        if len(self._x) < w:
            return np.empty(0), np.empty(0)
        window = np.fromiter((self._x[i] for i in range(len(self._x) - w, len(self._x))), float, w)
        tail = self._coef[h + 1 :] @ window
        v = np.concatenate([np.fromiter(self._v, float, len(self._v)), tail]) * SECONDS_PER_HOUR
        t = self._grid_time(self._k) + self.settings.step_s * np.arange(1 - len(v), 1, dtype=float)
        return t, v

    def velocity(self, t_s: float) -> float | None:
        """The smoothed velocity at the newest reading, unit per hour; None before a full window of
        readings, or when the newest reading is older than ``max_gap_s`` at ``t_s``."""
        if self._last is None or t_s - self._last[0] > self.settings.max_gap_s:
            return None
        w = len(self._coef)
        if len(self._x) < w:
            return None
        window = np.fromiter((self._x[i] for i in range(len(self._x) - w, len(self._x))), float, w)
        return float(self._coef[-1] @ window) * SECONDS_PER_HOUR  # as the last point of _series()

    def forecast(self, t_s: float) -> Forecast | None:
        """The failure-time forecast issued at ``t_s`` (s) from the readings so far, or None (no onset
        of acceleration yet, data too old, too few points, r² too low, slope not significantly
        negative)."""
        s = self.settings
        if self.onset_s is None or self._last is None or t_s - self._last[0] > s.max_gap_s:
            return None
        t, v = self._series()
        if not s.fit_tail:
            t, v = t[: len(self._v)], v[: len(self._v)]
        keep = (t >= max(self.onset_s, t[-1] - s.fit_window_s)) & (v != 0)
        t, speed = t[keep], np.abs(v[keep])
        if len(t) < s.min_points:
            return None
        y = SECONDS_PER_HOUR / speed  # 1/v in s per unit (t in s, so t_f = -a/b in s)
        fit = _line(t, y)
        if fit is None:
            return None
        mean_y, b, resid_s, _, mean_t, sxx, r2 = fit
        n = len(t)
        if not b < 0 or r2 < s.min_r2:
            return None
        q = float(student_t.ppf(0.5 + s.confidence / 2, n - 2))
        # Fieller: (mean_y + b·u)² = q²·s²·(1/n + u²/Sxx), u = t − mean_t
        qq = (q * resid_s) ** 2
        c2, c1, c0 = b * b - qq / sxx, 2 * mean_y * b, mean_y * mean_y - qq / n
        if c2 <= 0:
            return None  # the slope is not significant: the interval is unbounded
        disc = max(c1 * c1 - 4 * c2 * c0, 0.0)
        lo, hi = sorted(((-c1 - math.sqrt(disc)) / (2 * c2), (-c1 + math.sqrt(disc)) / (2 * c2)))
        failure = mean_t - mean_y / b
        if hi - lo > s.max_interval_ratio * max(failure - t_s, s.step_s):
            return None  # too imprecise to act on
        return Forecast(
            issued_s=t_s,
            failure_s=failure,
            lower_s=min(mean_t + lo, failure - s.step_s),
            upper_s=max(mean_t + hi, failure + s.step_s),
            n_points=n,
            r2=r2,
            onset_s=self.onset_s,
        )


def _line(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float, float, float, float] | None:
    """Least squares y = mean_y + b·(t − mean_t): (mean_y, b, residual std, std error of b, mean_t,
    Sxx, r²); None with fewer than 3 points or no spread in t."""
    n = len(t)
    if n < 3:
        return None
    mean_t, mean_y = float(t.mean()), float(y.mean())
    u = t - mean_t
    sxx = float(u @ u)
    if sxx <= 0:
        return None
    b = float(u @ (y - mean_y)) / sxx
    res = y - mean_y - b * u
    ss_res = float(res @ res)
    ss_tot = float((y - mean_y) @ (y - mean_y))
    resid_s = math.sqrt(ss_res / (n - 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0
    return mean_y, b, resid_s, resid_s / math.sqrt(sxx), mean_t, sxx, r2
