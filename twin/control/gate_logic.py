"""The reference gate controller's decisions for one gate: observations in, actions out.

States: ``open`` -> ``warning`` (signboard message up) -> ``closed`` -> (level low long enough)
``open``. The warning comes when the stage at the gate's level sensor reaches ``warn_level_m``
(default ``close_level_m``), rain reaches ``rain_trigger_mm_h``, or no fresh level reading has
come for ``stale_after`` (fail safe). The gate closes once the stage has reached
``close_level_m`` (or the rain or stale trigger holds) and the warning has been up for
``warn_before_close``, but only when the camera sees nobody in the gate zone, unless the stage
has reached ``override_level_m`` or the data are stale. Stages are the
median of the last ``median_of`` readings, so one spike neither closes nor reopens a gate. It reopens
after the stage has stayed below ``reopen_level_m`` (and the rain below its trigger, with fresh
data) for ``reopen_after``. Times are simulated seconds; stages metres; rain mm/h.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, replace

from .policy import Defaults


@dataclass(frozen=True)
class Observation:
    t_s: float
    stage_m: float | None  # the last level reading (None: never had one)
    stage_time_s: float | None  # when that reading was taken
    rain_mm_h: float | None = None
    people_in_zone: int | None = None  # from the camera; None: no camera data


@dataclass(frozen=True)
class Action:
    kind: str  # "warn", "close", "open", "clear_warning"
    gate_id: str
    t_s: float
    reason: str


class GateLogic:
    def __init__(self, gate_id: str, rule: Defaults) -> None:
        self.gate_id = gate_id
        self.rule = rule
        self.state = "open"
        self.warned_at: float | None = None
        self.calm_since: float | None = None  # stage below reopen level (and the rest calm) since
        self.readings: deque[float] = deque(maxlen=rule.median_of)
        self._last_time: float | None = None
        self.stale_since: float | None = None  # when the data were first seen stale (for the record)
        self.started_s: float | None = None  # the first observation: no reading yet is stale only after stale_after

    def _filtered(self, obs: Observation) -> Observation:
        """The observation with its stage replaced by the median of the last readings."""
        if obs.stage_m is not None and obs.stage_time_s is not None and obs.stage_time_s != self._last_time:
            self._last_time = obs.stage_time_s
            self.readings.append(obs.stage_m)
        if not self.readings:
            return obs
        return replace(obs, stage_m=statistics.median(self.readings))

    def _stale(self, obs: Observation) -> bool:
        if obs.stage_time_s is None:
            return self.started_s is not None and obs.t_s - self.started_s > self.rule.stale_after
        return obs.t_s - obs.stage_time_s > self.rule.stale_after

    def _trigger(self, obs: Observation, level_m: float) -> str | None:
        r = self.rule
        if self._stale(obs):
            age = "no reading" if obs.stage_time_s is None else f"last reading {obs.t_s - obs.stage_time_s:.0f} s old"
            return f"level data stale ({age}): fail safe"
        if obs.stage_m is not None and obs.stage_m >= level_m:
            return f"stage {obs.stage_m:.2f} m >= {level_m:g} m"
        if r.rain_trigger_mm_h is not None and obs.rain_mm_h is not None and obs.rain_mm_h >= r.rain_trigger_mm_h:
            return f"rain {obs.rain_mm_h:.0f} mm/h >= {r.rain_trigger_mm_h:g} mm/h"
        return None

    def _calm(self, obs: Observation) -> bool:
        r = self.rule
        if self._stale(obs) or obs.stage_m is None or obs.stage_m >= r.reopen_level_m:
            return False
        return not (
            r.rain_trigger_mm_h is not None and obs.rain_mm_h is not None and obs.rain_mm_h >= r.rain_trigger_mm_h
        )

    def step(self, obs: Observation) -> list[Action]:
        if self.started_s is None:
            self.started_s = obs.t_s
        obs = self._filtered(obs)
        r, t = self.rule, obs.t_s
        out: list[Action] = []
        if self._stale(obs):
            self.stale_since = t if self.stale_since is None else self.stale_since
        else:
            self.stale_since = None
        warn_level = r.close_level_m if r.warn_level_m is None else r.warn_level_m
        why = self._trigger(obs, warn_level)
        why_close = self._trigger(obs, r.close_level_m)
        if self._calm(obs):
            self.calm_since = t if self.calm_since is None else self.calm_since
        else:
            self.calm_since = None
        if self.state == "open" and why:
            self.state, self.warned_at = "warning", t
            out.append(Action("warn", self.gate_id, t, why))
        if self.state == "warning":
            assert self.warned_at is not None  # set with every change to "warning"
            if self.calm_since is not None and t - self.calm_since >= r.reopen_after:
                self.state, self.warned_at = "open", None
                out.append(Action("clear_warning", self.gate_id, t, "calm again before closing"))
                return out
            if why_close and t - self.warned_at >= r.warn_before_close:
                stale = self._stale(obs)
                high = obs.stage_m is not None and obs.stage_m >= r.override_level_m
                empty = obs.people_in_zone == 0 or (obs.people_in_zone is None and not r.camera_required)
                if empty or high or stale:
                    reason = (
                        "zone empty" if empty else ("water too high: override" if high else "stale data: fail safe")
                    )
                    self.state = "closed"
                    out.append(Action("close", self.gate_id, t, f"{why_close}; {reason}"))
        elif self.state == "closed" and self.calm_since is not None and t - self.calm_since >= r.reopen_after:
            self.state = "open"
            out += [
                Action("open", self.gate_id, t, f"stage below {r.reopen_level_m:g} m for {r.reopen_after:g} s"),
                Action("clear_warning", self.gate_id, t, "gate open again"),
            ]
        return out
