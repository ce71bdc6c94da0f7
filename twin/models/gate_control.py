"""The reference gate controller inside a run (scenario ``controller: {kind: builtin}``).

Each gate's devices are modelled as the device fleet models them, with the same seeds and
sampling times: the level sensor (:class:`~twin.models.sensor_model.SensorModel`, its own phase),
the rain gauge, the camera that watches the access point (a :class:`~twin.models.camera.CameraModel`
over the pedestrians), the signboard and the barrier (:class:`~twin.models.gate.GateModel`).
At every level reading the gate's :class:`~twin.control.gate_logic.GateLogic` decides; its
actions put text on the signboard, warn the people near the gate, and move the barrier, which
stops people entering the path once it starts closing. Faults of the scenario (dropout, stuck,
spikes on a sensor; a camera that stops reporting; a gate stuck open) act here as on the fleet.

Events (same vocabulary as the fleet): ``control.{warn,close,open,clear_warning}`` (reason),
``signboard.display`` (lines), ``gate.close_command`` / ``gate.open_command`` (source),
``gate.closed`` / ``gate.open`` (people on the path and in the gate zone), ``cctv.objects_inside``
and ``gate.path_flooded``. Times are simulated seconds, stages m, rain mm/h.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..control.gate_logic import Action, GateLogic, Observation
from ..control.policy import Policy
from ..control.signboard_text import GATE_CLOSED, GATE_WARNING, GateMessage
from ..engine import Engine
from .camera import CameraModel, camera_models
from .faults import FaultSchedule
from .gate import GateModel, GateSite, GateWatch, GateZone, gate_sites
from .sensor_model import RainTotals, SensorModel, sample_phase_s

BARRIER_STEP_S = 1.0  # how often a moving barrier is advanced


@dataclass
class _Gate:
    site: GateSite
    logic: GateLogic
    barrier: GateModel
    zone: GateZone
    level: SensorModel | None
    rain: SensorModel | None
    totals: RainTotals | None
    camera: CameraModel | None
    stage: tuple[float | None, float | None] = (None, None)  # last good reading and its time
    rain_mm_h: float | None = None
    moving: bool = False
    reason: str = ""
    decisions: list[dict[str, Any]] = field(default_factory=list)


class GateControl:
    """The gates of ``city`` run by ``policy`` on ``engine``'s clock."""

    def __init__(
        self, engine: Engine, city, scenario, policy: Policy, *, flood=None, crowd=None, watch: GateWatch | None = None
    ) -> None:
        self.engine = engine
        self.city = city
        self.flood = flood
        self.crowd = crowd
        self.policy = policy
        self.settings = scenario.devices
        self.reach_m = scenario.warning_reach_m
        self.faults = FaultSchedule(scenario.faults)
        self.watch = watch
        self._people: tuple[float, np.ndarray, np.ndarray, np.ndarray] = (-1.0, np.empty(0), np.empty(0), np.empty(0))
        watched = [s.camera_id for s in gate_sites(city) if s.camera_id]
        cams = camera_models(city, scenario, faults=self.faults, ids=watched)
        self.gates: list[_Gate] = []
        for site in gate_sites(city):
            rule = policy.rule(site.gate_id)
            level = self._sensor(site.level_sensor_id, self.settings.level_sensor, scenario.seed)
            rain = totals = None
            if rule.rain_trigger_mm_h is not None:
                rain = self._sensor(site.rain_gauge_id, self.settings.rain_gauge, scenario.seed)
                totals = RainTotals(self.settings.rain_gauge.resolution) if rain is not None else None
            camera = cams.get(site.camera_id) if site.camera_id else None
            self.gates.append(
                _Gate(
                    site,
                    GateLogic(site.gate_id, rule),
                    GateModel(site.travel_s),
                    GateZone(city, site.access_id),
                    level,
                    rain,
                    totals,
                    camera,
                )
            )

    def _sensor(self, device_id: str | None, settings, seed: int) -> SensorModel | None:
        """The model of a sensor as the fleet builds it (same seed, noise, resolution, faults)."""
        if not device_id:
            return None
        return SensorModel(
            device_id, seed=seed, noise_sd=settings.noise_sd, resolution=settings.resolution, faults=self.faults
        )

    # --- processes -------------------------------------------------------------------------
    def processes(self) -> None:
        for g in self.gates:
            if g.level is not None:
                self.engine.process(self._level(g, g.level))
            if g.rain is not None and g.totals is not None:  # built together: a gauge and its totals
                self.engine.process(self._rain(g, g.rain, g.totals))
        if any(g.camera is not None for g in self.gates):
            self.engine.process(self._cameras())

    def _level(self, g: _Gate, level: SensorModel):
        """Read the level sensor ``level`` (``g``'s) at its sampling times and let the logic decide at each."""
        env = self.engine.env
        interval = float(self.settings.level_sensor.sample_interval)
        t = sample_phase_s(level.device_id, interval)
        end = self.engine.duration_s
        while t <= end + 1e-9:
            yield env.timeout(max(t - env.now, 0.0))
            true = self.flood.current_stage.get(level.device_id) if self.flood is not None else None
            r = level.read(true, t)
            if r.value is not None:
                g.stage = (r.value, t)
            self._decide(g, t)
            t += interval

    def _rain(self, g: _Gate, rain: SensorModel, totals: RainTotals):
        """Read the rain gauge ``rain`` (``g``'s) at its sampling times; its 10-minute total, as mm/h,
        is what the logic sees of the rain."""
        env = self.engine.env
        interval = float(self.settings.rain_gauge.sample_interval)
        t = sample_phase_s(rain.device_id, interval)
        h = self.flood.setup.rain.get(rain.device_id) if self.flood is not None else None
        while t <= self.engine.duration_s + 1e-9:
            yield env.timeout(max(t - env.now, 0.0))
            true = float(h.cumulative_mm(np.array([0.0, t]))[1]) if h is not None else 0.0
            r = rain.read(true, t)
            if r.value is not None:
                _, last10, _, _ = totals.add(t, r.value)
                g.rain_mm_h = last10 * 6.0
            t += interval

    def _cameras(self):
        """Every camera looks for people in its view each ``camera_interval`` (as the fleet's do)."""
        env = self.engine.env
        interval = float(self.settings.camera_interval)
        t = 0.0
        while t <= self.engine.duration_s + 1e-9:
            yield env.timeout(max(t - env.now, 0.0))
            xs, ys, ids = self._positions(t)
            for g in self.gates:
                if g.camera is None:
                    continue
                seen = g.camera.look(t, xs, ys, ids)
                if seen.changed:
                    g.camera.log(self.engine, seen)
            t += interval

    def _positions(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Everyone out at ``t``: x, y (EPSG:5186 m) and their ids."""
        if self._people[0] != t:
            pos = self.crowd.positions() if self.crowd is not None else []
            self._people = (
                t,
                np.array([p[1] for p in pos]),
                np.array([p[2] for p in pos]),
                np.array([p[0] for p in pos], dtype=np.int64),
            )
        return self._people[1], self._people[2], self._people[3]

    # --- decisions and their effects ----------------------------------------------------------
    def _decide(self, g: _Gate, t: float) -> None:
        people = (1 if g.camera.inside else 0) if g.camera is not None else None
        obs = Observation(t, g.stage[0], g.stage[1], g.rain_mm_h, people)
        for action in g.logic.step(obs):
            self._act(g, action)

    def _act(self, g: _Gate, a: Action) -> None:
        eng, site = self.engine, g.site
        g.decisions.append({"time_s": a.t_s, "action": a.kind, "reason": a.reason})
        eng.log(f"control.{a.kind}", site.gate_id, a.reason, access_id=site.access_id)
        if a.kind == "warn":
            self._show(g, GATE_WARNING)
            if self.crowd is not None:
                self.crowd.gate_warning(site.signboard_id or site.gate_id, site.access_id, self.reach_m)
        elif a.kind == "clear_warning":
            self._show(g, None)
        elif a.kind in ("close", "open"):
            g.reason = a.reason
            why = g.barrier.command(a.kind, "controller")
            if why:
                eng.log("gate.rejected", site.gate_id, f"{a.kind} from controller rejected: {why}")
                return
            zone = self.watch.in_camera_zone(site.gate_id) if self.watch is not None else None
            eng.log(f"gate.{a.kind}_command", site.gate_id, f"{a.kind} command from controller", source="controller",
                    people_in_camera_zone=zone)  # fmt: skip
            if a.kind == "close":
                self._show(g, GATE_CLOSED)
            if not g.moving:
                g.moving = True
                eng.process(self._move(g))

    def _show(self, g: _Gate, msg: GateMessage | None) -> None:
        if g.site.signboard_id is None:
            return
        lines = msg.lines() if msg is not None else []
        why = "shown" if msg is not None else "cleared"
        self.engine.log(
            "signboard.display",
            g.site.signboard_id,
            f"{why}: {' / '.join(lines) if lines else '(blank)'}",
            identifier=None,
            lines=lines,
        )

    def _move(self, g: _Gate):
        """Advance the barrier every second until it reaches a limit (a jammed one is retried slowly)."""
        env = self.engine.env
        b = g.barrier
        b.t = env.now
        while b.state in ("closing", "opening") and env.now < self.engine.duration_s - 1e-9:
            jammed = self.faults.active(g.site.gate_id, "gate_stuck_open", env.now) is not None
            yield env.timeout(min(BARRIER_STEP_S * (10 if jammed else 1), self.engine.duration_s - env.now))
            people = g.zone.people(self.crowd)
            reached = b.step(env.now, obstacle=people > 0, stuck_open=jammed)
            g.zone.update(self.crowd, b)
            if reached:
                watch = self.watch
                on_path = (watch.closed(g.site.gate_id) if reached == "closed" else 0) if watch is not None else 0
                self.engine.log(
                    f"gate.{reached}",
                    g.site.gate_id,
                    f"gate {reached} at {g.site.access_id}",
                    access_id=g.site.access_id,
                    people_on_path=on_path,
                    people_in_zone=people,
                )
        g.moving = False

    def summary(self) -> dict[str, Any]:
        """Per gate: its devices and the controller's decisions."""
        return {
            g.site.gate_id: {
                "access_id": g.site.access_id,
                "level_sensor": g.site.level_sensor_id,
                "signboard": g.site.signboard_id,
                "camera": g.site.camera_id,
                "final_state": g.barrier.state,
                "decisions": g.decisions,
            }
            for g in self.gates
        }
