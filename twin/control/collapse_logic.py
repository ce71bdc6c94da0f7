"""The reference collapse early-warning logic of one site (a slope or a building): sensor readings
in, alarm actions out. Times are simulated seconds; tilt in degrees (absolute), crack and
extensometer readings in mm, rain in mm/h.

**Levels** (``normal`` < ``caution`` < ``warning`` < ``evacuate``), from the policy
(:mod:`twin.control.collapse_policy`) of the site's kind:

- slopes: the smoothed rate of each sensor (tilt °/h, crack and extensometer mm/h, from
  :class:`~twin.control.inverse_velocity.InverseVelocity`, smoothed over the slope rule's
  ``rate_smoothing`` when it sets one, else over the forecast's window) against ``tilt_rate_deg_h`` and
  ``displacement_rate_mm_h``; rain over the intensity-duration threshold ``I = a·D^-b`` (the mean
  intensity over any trailing D between ``min_duration`` and ``max_duration``, from the rain history
  this logic keeps) raises caution;
- buildings: totals, the median of each sensor's last three accepted readings: the tilt grade
  (A-E) of the tilt ratio ``tan(|tilt|)`` against ``tilt_grade_alarms``; crack (and extensometer)
  opening in mm against ``crack_mm``;
- both: each sensor's inverse-velocity failure forecast (settings: the kind's own ``forecast`` block
  of the policy, else the top-level one): failure within ``forecast_warning_lead`` raises warning,
  within ``forecast_evacuate_lead`` it is an evacuate signal. On a slope whose rule sets
  ``forecast_after`` (a level), a sensor's forecast counts (as a signal, a ``forecast`` action or
  the forecast attached to an alarm) only while that sensor's own rate is at that level or above:
  the rain-driven rise of secondary creep also makes 1/v fall, but not at the rates of the
  accelerating (tertiary) phase that ends in failure.

**Cross-check.** Evacuate needs ``corroboration`` independent evacuate-level signals: two sensors
(each by its rate, its total or its forecast), or on a slope one sensor and rain over the
threshold. Otherwise the site goes to warning at most, and the reason says "unconfirmed: single
sensor". So one faulty sensor never evacuates a site (without rain over the threshold on a slope:
then the rain is the second, independent signal). Evacuate is latched: only :meth:`SiteLogic.lift`
(an engineer) ends it. Caution and warning clear, or step down, after ``clear_after`` below. When
the site is at warning already, the warning is repeated once as a single sensor reaches evacuate
level without corroboration (so the log says that it did, and why the site did not evacuate).

**Plausibility** of each sensor: a reading further than ``max_step`` from the last accepted one is
a spike and is dropped; ``spikes_to_suspect`` spikes within ``spike_window`` make the sensor suspect
(erratic). A reading outside ``physical_range`` is dropped and the sensor is suspect; a sensor with
no reading for ``stale_after`` is suspect (stale); ``stuck_readings`` identical readings in a row
while another sensor of the site moves make it suspect (stuck). A sensor suspect for these reasons
is left out of the levels. A sensor at warning or above while every other sensor of the site is at
least two levels lower (and, on a slope, the rain is below the threshold) is suspect as
inconsistent; it still counts, but never as an evacuate signal. Nor does a sensor in its
``probation`` after being suspect: an erratic sensor, suspect one moment and plausible the next, is
never an evacuate signal, even beside heavy rain. ``sensor_suspect`` is emitted once when a sensor
becomes suspect, with the reason, ``sensor_ok`` when it recovers. A ``forecast`` action is emitted
when a sensor's forecast first appears and whenever it moves by more than a tenth of the time left.

ASSUMPTIONS: rain missing from an observation counts as no rain; readings of sensors not named
when the logic was built are ignored, and a reading's ``kind`` is taken from that list (the site's
sensor list is configuration); the rain given with an observation is the mean intensity since the
previous observation; "moves" for the
stuck test means not all of the other sensor's last ``stuck_readings`` readings are identical.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import TwinError
from .collapse_policy import LEVELS, SiteRule
from .inverse_velocity import Forecast, InverseVelocity

SENSOR_KINDS = ("tilt", "crack", "extensometer")
SITE_KINDS = ("slope", "building")
LEVEL_NAMES = ("normal", *LEVELS)
RAIN_STEP_S = 600.0
"""Resolution of the trailing durations D at which the rain threshold is checked, s."""


class CollapseLogicError(TwinError, ValueError):
    """A site set up wrongly: an unknown site kind or sensor kind."""


@dataclass(frozen=True)
class SensorReading:
    sensor_id: str
    kind: str  # "tilt" (degrees, absolute) | "crack" (mm) | "extensometer" (mm)
    t_s: float
    value: float | None  # None: the uplink came without a value


@dataclass(frozen=True)
class SiteObservation:
    t_s: float
    readings: tuple[SensorReading, ...]  # new readings since the last step
    rain_mm_h: float | None = None  # rain intensity at the site since the last step (slopes)


@dataclass(frozen=True)
class CollapseAction:
    kind: str  # "caution" | "warning" | "evacuate" | "clear" | "sensor_suspect" | "sensor_ok" | "forecast"
    site_id: str
    t_s: float
    reason: str
    sensor_id: str | None = None
    forecast: Forecast | None = None


@dataclass
class _Sensor:
    sensor_id: str
    kind: str
    unit: str
    iv: InverseVelocity
    last_value: float | None = None  # last accepted reading
    last_time: float | None = None  # last reading that came with a value
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=3))  # accepted, for totals
    raw: deque[float] = field(default_factory=deque)  # last readings as received (stuck test)
    spikes: deque[float] = field(default_factory=deque)  # times of the recent spikes
    out_of_range: str | None = None
    suspect: bool = False
    ok_since: float | None = None  # plausible again since (after being suspect)
    forecast_said: float | None = None  # the failure time of the last forecast action
    rate_iv: InverseVelocity | None = None  # the rate's own smoothing, when it differs from the forecast's


def _h(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


class SiteLogic:
    """The alarm state machine of one site. ``sensors`` maps sensor id to kind; ``rule`` is
    :meth:`CollapsePolicy.rule` of the site."""

    def __init__(self, site_id: str, site_kind: str, sensors: dict[str, str], rule: SiteRule) -> None:
        if site_kind not in SITE_KINDS:
            raise CollapseLogicError(f"site {site_id}: site_kind: got {site_kind!r}: expected one of slope, building")
        for sid, kind in sensors.items():
            if kind not in SENSOR_KINDS:
                raise CollapseLogicError(
                    f"site {site_id}: sensors.{sid}: got {kind!r}: expected one of {', '.join(SENSOR_KINDS)}"
                )
        self.site_id, self.site_kind, self.rule = site_id, site_kind, rule
        settings = rule.forecast_settings(site_kind)
        rate_s = rule.slopes.rate_smoothing if site_kind == "slope" else None
        rate_settings = (
            None if rate_s is None or rate_s == settings.smoothing_s else replace(settings, smoothing_s=rate_s)
        )
        n_stuck = rule.plausibility.stuck_readings
        self._sensors = {
            sid: _Sensor(
                sid,
                kind,
                "deg" if kind == "tilt" else "mm",
                InverseVelocity(settings),
                raw=deque(maxlen=n_stuck),
                rate_iv=None if rate_settings is None else InverseVelocity(rate_settings),
            )
            for sid, kind in sensors.items()
        }
        self._level = 0
        self._unconfirmed = False  # a sensor alone at evacuate level, not corroborated
        self._below_since: float | None = None
        self._started: float | None = None
        self._rain: deque[tuple[float, float]] = deque()  # (end of interval s, intensity mm/h)
        self._rain_t: float | None = None  # time of the last observation (start of the next rain interval)

    @property
    def level(self) -> str:
        """``normal``, ``caution``, ``warning`` or ``evacuate``."""
        return LEVEL_NAMES[self._level]

    def lift(self, t_s: float, reason: str) -> list[CollapseAction]:
        """An engineer ends the alarm (evacuate included): back to normal."""
        if self._level == 0:
            return []
        self._level, self._below_since = 0, None
        return [CollapseAction("clear", self.site_id, t_s, f"lifted by an engineer: {reason}")]

    # -- readings -------------------------------------------------------------------------------

    def _take(self, s: _Sensor, r: SensorReading) -> None:
        p = self.rule.plausibility
        if r.value is None or not math.isfinite(r.value):
            return
        s.last_time = r.t_s
        s.raw.append(r.value)
        bad = (
            abs(r.value) > p.physical_range.tilt_deg
            if s.kind == "tilt"
            else not p.physical_range.mm_min <= r.value <= p.physical_range.mm_max
        )
        if bad:
            s.out_of_range = f"reading {r.value:.6g} {s.unit} outside the physical range"
            return
        s.out_of_range = None
        step = p.max_step.tilt_deg if s.kind == "tilt" else p.max_step.mm
        if s.last_value is not None and abs(r.value - s.last_value) > step:
            s.spikes.append(r.t_s)  # dropped
            return
        s.last_value = r.value
        s.recent.append(r.value)
        s.iv.add(r.t_s, r.value)
        if s.rate_iv is not None:
            s.rate_iv.add(r.t_s, r.value)

    def _rain_over(self, t: float, rain_mm_h: float | None) -> str | None:
        """Record the rain since the last observation; a text when the I-D threshold is exceeded."""
        th = self.rule.slopes.rain
        if self._rain_t is not None and t > self._rain_t:
            rate = rain_mm_h if rain_mm_h is not None and math.isfinite(rain_mm_h) else 0.0  # NaN: silent for a day
            self._rain.append((t, max(rate, 0.0)))
        self._rain_t = t if self._rain_t is None else max(self._rain_t, t)
        if th is None:
            return None
        while self._rain and self._rain[0][0] < t - th.max_duration - 86_400.0:
            self._rain.popleft()
        if not self._rain or not any(i > 0 for _, i in self._rain):
            return None
        ends = np.array([e for e, _ in self._rain])
        rates = np.array([i for _, i in self._rain])
        starts = np.concatenate([[ends[0] - (ends[1] - ends[0]) if len(ends) > 1 else ends[0]], ends[:-1]])
        times = np.concatenate([[starts[0]], ends])
        depth = np.concatenate([[0.0], np.cumsum(rates * (ends - starts) / 3600.0)])  # mm at each time
        durations = np.arange(th.min_duration, th.max_duration + 1e-9, RAIN_STEP_S)
        fallen = depth[-1] - np.interp(t - durations, times, depth, left=0.0)
        mean = fallen / (durations / 3600.0)
        limit = th.a_mm_h * (durations / 3600.0) ** (-th.b)
        over = np.nonzero(mean >= limit)[0]
        if len(over) == 0:
            return None
        k = over[np.argmax(mean[over] / limit[over])]
        return (
            f"rain {mean[k]:.1f} mm/h mean over {_h(durations[k])} >= threshold {limit[k]:.1f} mm/h "
            f"(I = {th.a_mm_h:g}·D^-{th.b:g})"
        )

    # -- signals --------------------------------------------------------------------------------

    def _signal(self, s: _Sensor, t: float) -> tuple[int, str, Forecast | None]:
        """(level 0-3, reason, forecast) of one usable sensor."""
        level, why, rate_level = 0, "", 0
        if self.site_kind == "slope":
            v = (s.rate_iv or s.iv).velocity(t)
            if v is not None:
                levels = (
                    self.rule.slopes.tilt_rate_deg_h if s.kind == "tilt" else self.rule.slopes.displacement_rate_mm_h
                )
                level = rate_level = levels.level(abs(v))
                if level:
                    limit = getattr(levels, LEVELS[level - 1])
                    why = f"{s.sensor_id} {s.kind} rate {abs(v):.3g} {s.unit}/h >= {limit:g} {s.unit}/h"
        elif s.recent:
            total = statistics.median(s.recent)
            b = self.rule.buildings
            if s.kind == "tilt":
                ratio = math.tan(math.radians(abs(total)))
                grade = b.tilt_grade_limits.grade(ratio)
                level = b.tilt_grade_alarms.level(grade)
                if level:
                    why = f"{s.sensor_id} tilt {abs(total):.3f} deg (ratio 1/{1 / ratio:.0f}) is grade {grade}"
            else:
                level = b.crack_mm.level(total)
                if level:
                    limit = getattr(b.crack_mm, LEVELS[level - 1])
                    why = f"{s.sensor_id} {s.kind} {total:.2f} mm >= {limit:g} mm"
        f = s.iv.forecast(t)
        after = self.rule.slopes.forecast_after if self.site_kind == "slope" else None
        if f is not None and after is not None and rate_level < LEVELS.index(after) + 1:
            f = None  # the sensor does not move fast enough yet for its forecast to count
        if f is not None:
            kind_rule = self.rule.slopes if self.site_kind == "slope" else self.rule.buildings
            left = f.failure_s - t
            lead = (
                3 if left <= kind_rule.forecast_evacuate_lead else 2 if left <= kind_rule.forecast_warning_lead else 0
            )
            if lead > level:
                level = lead
                why = f"{s.sensor_id} forecasts failure in {_h(left)} (90 % {_h(f.lower_s - t)} to {_h(f.upper_s - t)})"
        return level, why, f

    def _unusable(self, s: _Sensor, t: float) -> str | None:
        """Why a sensor cannot be used now (stale, out of range, spiking, stuck), else None."""
        p = self.rule.plausibility
        seen = s.last_time if s.last_time is not None else self._started
        if seen is not None and t - seen > p.stale_after:
            return f"no reading for {_h(t - seen)} (stale after {_h(p.stale_after)})"
        if s.out_of_range:
            return s.out_of_range
        while s.spikes and s.spikes[0] <= t - p.spike_window:
            s.spikes.popleft()
        if len(s.spikes) >= p.spikes_to_suspect:
            return (
                f"erratic: {len(s.spikes)} readings in {_h(p.spike_window)} jumped more than the max step "
                f"from {s.last_value:.6g} {s.unit}"
            )
        if len(s.raw) == s.raw.maxlen and len(set(s.raw)) == 1:
            moving = [
                o.sensor_id
                for o in self._sensors.values()
                if o is not s and len(o.raw) == o.raw.maxlen and len(set(o.raw)) > 1
            ]
            if moving:
                return f"stuck: {len(s.raw)} identical readings {s.raw[-1]:.6g} {s.unit} while {moving[0]} moves"
        return None

    # -- the step -------------------------------------------------------------------------------

    def step(self, obs: SiteObservation) -> list[CollapseAction]:
        """Take the new readings and rain of one observation; the actions they cause."""
        t = obs.t_s
        if self._started is None:
            self._started = t
        for r in sorted(obs.readings, key=lambda r: r.t_s):
            s = self._sensors.get(r.sensor_id)
            if s is not None:
                self._take(s, r)
        rain = self._rain_over(t, obs.rain_mm_h) if self.site_kind == "slope" else None
        out: list[CollapseAction] = []
        why_not: dict[str, str] = {}
        signals: dict[str, tuple[int, str, Forecast | None]] = {}
        for s in self._sensors.values():
            bad = self._unusable(s, t)
            if bad is None:
                signals[s.sensor_id] = self._signal(s, t)
            else:
                why_not[s.sensor_id] = bad
        for sid, (level, _, _) in signals.items():  # inconsistency: one loud sensor among quiet ones
            others = [lv for o, (lv, _, _) in signals.items() if o != sid]
            if level >= 2 and others and max(others) <= level - 2 and rain is None:
                why_not.setdefault(
                    sid,
                    f"inconsistent: {sid} says {LEVEL_NAMES[level]} while the other sensors are at most "
                    f"{LEVEL_NAMES[max(others)]}"
                    + (" and the rain is below the threshold" if self.site_kind == "slope" else ""),
                )
        for s in self._sensors.values():
            bad = why_not.get(s.sensor_id)
            if bad is not None and not s.suspect:
                s.suspect = True
                out.append(
                    CollapseAction("sensor_suspect", self.site_id, t, f"{s.sensor_id} suspect: {bad}", s.sensor_id)
                )
            elif bad is None and s.suspect:
                s.suspect, s.ok_since = False, t
                out.append(CollapseAction("sensor_ok", self.site_id, t, f"{s.sensor_id} plausible again", s.sensor_id))
        doubted = set()  # sensors in doubt are never evacuate signals
        for sid in signals:
            s = self._sensors[sid]
            if s.suspect or (s.ok_since is not None and t - s.ok_since < self.rule.plausibility.probation):
                doubted.add(sid)
        for sid, (_, _, f) in signals.items():
            s = self._sensors[sid]
            if f is not None and (
                s.forecast_said is None or abs(f.failure_s - s.forecast_said) > max(0.1 * (f.failure_s - t), 600.0)
            ):
                s.forecast_said = f.failure_s
                out.append(
                    CollapseAction(
                        "forecast", self.site_id, t,
                        f"{sid} forecasts failure at t = {f.failure_s:.0f} s, in {_h(f.failure_s - t)} "
                        f"(90 % interval {_h(f.lower_s - t)} to {_h(f.upper_s - t)}; {f.n_points} points, "
                        f"r² {f.r2:.2f}, onset of acceleration at t = {f.onset_s:.0f} s)",
                        sid, f,
                    )
                )  # fmt: skip
        out += self._levels(t, signals, rain, doubted)
        return out

    def _levels(
        self, t: float, signals: dict[str, tuple[int, str, Forecast | None]], rain: str | None, doubted: set[str]
    ) -> list[CollapseAction]:
        loud = [(lv, why) for lv, why, _ in signals.values() if lv]
        evac = [why for sid, (lv, why, _) in signals.items() if lv == 3 and sid not in doubted]
        evac += [rain] if rain and evac else []
        need = self.rule.plausibility.corroboration
        forecasts = [f for lv, _, f in signals.values() if f is not None]
        best = min(forecasts, key=lambda f: f.failure_s) if forecasts else None
        top = 0
        if len(evac) >= need:
            target, reason = 3, f"{len(evac)} independent signals at evacuate level: " + "; ".join(evac)
        else:
            top = max([lv for lv, _ in loud] + [1 if rain else 0])
            target = min(top, 2)
            parts = [why for lv, why in loud if min(lv, 2) == target] + ([rain] if rain and target == 1 else [])
            reason = "; ".join(parts)
            if top == 3:
                doubt = sorted(sid for sid in doubted if signals[sid][0] == 3)
                alone = "single sensor" if len(evac) <= 1 else f"{len(evac)} signals"
                reason += f" (unconfirmed: {alone}, evacuate needs {need} independent signals"
                reason += f"; {', '.join(doubt)} in doubt)" if doubt else ")"
        out: list[CollapseAction] = []
        unconfirmed = top == 3 if len(evac) < need else False
        if unconfirmed and not self._unconfirmed and target == self._level == 2:
            out.append(CollapseAction("warning", self.site_id, t, f"warning: {reason}", forecast=best))
        self._unconfirmed = unconfirmed
        if target > self._level:
            self._level, self._below_since = target, None
            name = LEVEL_NAMES[target]
            out.append(CollapseAction(name, self.site_id, t, f"{name}: {reason}", forecast=best))
        elif target < self._level and self._level < 3:
            self._below_since = t if self._below_since is None else self._below_since
            if t - self._below_since >= self.rule.clear_after:
                was, self._level, self._below_since = LEVEL_NAMES[self._level], target, None
                calm = f"below {was} for {_h(self.rule.clear_after)}"
                kind = "clear" if target == 0 else LEVEL_NAMES[target]
                out.append(CollapseAction(kind, self.site_id, t, f"{kind}: {calm}" + (f"; {reason}" if reason else "")))
        else:
            self._below_since = None
        return out
