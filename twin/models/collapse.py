"""Building and slope collapse signals in a run: what each monitored site truly does, what its
sensors read, what the reference early warning decides, and who is still in the danger zone when
a slope fails.

For each site of :func:`~.monitored_sites.monitored_sites`:

* **truth**, computed once for the whole run (the rain is known in advance): a slope's factor of
  safety FS(t) from the rain at its nearest gauge (:mod:`.slope_stability`), and its displacement
  by creep and Voight acceleration up to the failure time the model knows (:mod:`.slope_creep`);
  a building's tilt and crack width from its settlement (:mod:`.building_tilt`);
* **readings**: each sensor samples every ``devices.structural_interval`` at its own phase, through
  a :class:`~.sensor_model.SensorModel` (noise, resolution, and the scenario's faults: dropout,
  stuck, spikes, drift). A slope's tilt sensor is a 0.5 m rod turning with the soil, its crack gauge
  and extensometer read the displacement; a building's read its tilt (degrees) and crack width;
* **early warning** (when the scenario names a collapse policy): one
  :class:`~twin.control.collapse_logic.SiteLogic` per site, fed each reading as it comes;
* **response**: the first evacuate alarm of a site sends the occupants of the buildings in its
  danger zone to the nearest shelter through the crowd model (each setting out within
  ``collapse.evacuation.reaction_max``), and walkers on the zone's links leave too. A slope's
  failure closes the links in its zone for everyone; whoever is still in the zone then is counted
  inside at failure.

Times are simulated seconds from the run start; geometry EPSG:5186 (m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from ..city import CityModel
from ..control.collapse_logic import CollapseAction, SensorReading, SiteLogic, SiteObservation
from ..control.collapse_verdict import collapse_verdict
from ..engine import Engine
from ..rainfall import Hyetograph
from .building_tilt import tilt_history
from .faults import FaultSchedule
from .monitored_sites import (
    EXTENSOMETER_ZERO_MM,
    SLOPE_CRACK_START_MM,
    SLOPE_TILT_INSTALLED_DEG,
    MonitoredSite,
    monitored_sites,
    nearest_gauge,
)
from .sensor_model import SensorModel, sample_phase_s
from .slope_creep import CreepLaw, displacement_history, tilt_deg_from_displacement
from .slope_stability import fs_history

TRUTH_STEP_S = 300.0
"""Spacing of the recorded truth (FS, displacement, tilt), s; readings are computed at their own times."""
UNITS = {"tilt": "deg", "crack": "mm", "extensometer": "mm"}


@dataclass
class SiteTruth:
    """One site's truth at ``times_s``: ``value[kind]`` is what a perfect sensor of that kind
    reads (NaN once the slope has failed); ``fs`` for a slope."""

    times_s: np.ndarray
    value: dict[str, np.ndarray]
    fs: np.ndarray | None = None
    failure_s: float | None = None
    onset_s: float | None = None

    def at(self, kind: str, t_s: float) -> float | None:
        """The true reading of ``kind`` at ``t_s`` (linear between samples), None after failure."""
        if self.failure_s is not None and t_s >= self.failure_s:
            return None
        v = float(np.interp(t_s, self.times_s, self.value[kind]))
        return None if math.isnan(v) else v


@dataclass
class SiteState:
    """What happened at one site during the run."""

    alarms: list[dict[str, Any]] = field(default_factory=list)
    suspects: list[dict[str, Any]] = field(default_factory=list)
    level: str = "normal"
    evacuated_s: float | None = None
    residents: list[int] = field(default_factory=list)  # pedestrian ids sent from the zone's homes
    in_zone_at_alarm: int = 0
    residents_inside_at_failure: int | None = None
    walkers_inside_at_failure: int | None = None

    @property
    def inside_at_failure(self) -> int | None:
        if self.residents_inside_at_failure is None:
            return None
        return self.residents_inside_at_failure + (self.walkers_inside_at_failure or 0)


def _steps(h: Hyetograph | None) -> tuple[np.ndarray, np.ndarray]:
    """A hyetograph as step start times (s) and intensities (mm/h), zero after it ends."""
    if h is None or len(h.depths_mm) == 0:
        return np.array([0.0]), np.array([0.0])
    n = len(h.depths_mm)
    starts = h.offset_s + h.interval_s * np.arange(n + 1)
    rates = np.asarray(h.depths_mm, dtype=float) * 3600.0 / h.interval_s
    if starts[0] > 0:
        starts = np.concatenate(([0.0], starts))
        rates = np.concatenate(([0.0], rates))
    return starts, rates  # one more time than rates: no rain after the last step


def site_truth(
    site: MonitoredSite,
    times_s: np.ndarray,
    rain: tuple[np.ndarray, np.ndarray],
    law: CreepLaw,
) -> SiteTruth:
    """The truth of ``site`` at ``times_s`` under ``rain`` (step times s, mm/h)."""
    t = np.asarray(times_s, dtype=float)
    steps, rates = rain
    if site.kind == "slope":
        assert site.soil is not None
        fs = fs_history(site.soil, t, steps, rates)
        motion = displacement_history(t, fs.fs_min, law)
        disp = motion.displacement_mm
        return SiteTruth(
            t,
            {
                "tilt": SLOPE_TILT_INSTALLED_DEG + tilt_deg_from_displacement(disp),
                "crack": SLOPE_CRACK_START_MM + disp,
                "extensometer": EXTENSOMETER_ZERO_MM + disp,
                "displacement": disp,
            },
            fs=fs.fs_min,
            failure_s=motion.failure_s,
            onset_s=motion.onset_s,
        )
    assert site.settlement is not None
    m = tilt_history(t, site.settlement, site.excavations, steps, rates)
    return SiteTruth(t, {"tilt": m.tilt_deg, "crack": m.crack_mm, "extensometer": np.zeros_like(t)})


def collapse_problems(city: CityModel, spec) -> list[str]:
    """What would stop the monitored sites of ``city`` under the scenario's ``collapse`` section
    ``spec`` from running, one line each naming the site: a soil value out of range (a water
    table below the soil, after the scenario's overrides) or a slope that is not stable before
    any rain (FS <= 1 at the start: the model has no time before its failure)."""
    from ..errors import TwinError

    try:
        sites = monitored_sites(city, spec)
    except TwinError as exc:
        return [str(exc)]  # the error names the site and the field
    out = []
    for site in sites:
        if site.soil is None:
            continue
        fs0 = float(fs_history(site.soil, np.array([0.0]), np.array([0.0]), np.array([0.0])).fs_min[0])
        if not fs0 > 1.0:
            where = f"collapse.slopes.{site.site_id}" if spec is not None and site.site_id in spec.slopes else (
                f"dataset slopes[{site.site_id}]")  # fmt: skip
            out.append(f"{where}: the slope's factor of safety before any rain is {fs0:.2f}: expected above 1 "
                       "(a slope that stands at the start; check its cohesion, friction and water table)")  # fmt: skip
    return out


class CollapseModel:
    """The monitored sites of ``city`` under ``rain`` (gauge id -> hyetograph) for ``scenario``,
    on ``engine``'s clock; ``policy`` the collapse policy (None: no early warning), ``crowd`` the
    run's :class:`~.crowd.city_crowd.CityCrowd` (None: nobody moves)."""

    def __init__(
        self,
        engine: Engine,
        city: CityModel,
        scenario,
        rain: dict[str, Hyetograph],
        *,
        gauge_xy: dict[str, tuple[float, float]],
        policy=None,
        crowd=None,
        creep: CreepLaw | None = None,
        own_readings: bool = True,
    ) -> None:
        self.engine = engine
        self.own_readings = own_readings
        self.city = city
        self.scenario = scenario
        self.spec = scenario.collapse
        self.crowd = crowd
        self.law = creep or CreepLaw()
        self.sites = monitored_sites(city, self.spec)
        self.interval_s = float(scenario.devices.structural_interval)
        self.faults = FaultSchedule(scenario.faults)
        duration = float(engine.duration_s)
        self.rain_steps: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.reading_times: dict[str, np.ndarray] = {}
        self.truth: dict[str, SiteTruth] = {}
        self.sensors: dict[str, SensorModel] = {}
        settings = scenario.devices
        for site in self.sites:
            gid = nearest_gauge(site, gauge_xy)
            self.rain_steps[site.site_id] = _steps(rain.get(gid) if gid else None)
            grid = [np.arange(0.0, duration + 1e-9, TRUTH_STEP_S)]
            for s in site.sensors:
                phase = sample_phase_s(s.device_id, self.interval_s)
                times = np.arange(phase, duration + 1e-9, self.interval_s)
                self.reading_times[s.device_id] = times
                grid.append(times)
                cfg = getattr(settings, s.dataset_kind)
                self.sensors[s.device_id] = SensorModel(
                    s.device_id,
                    seed=scenario.seed,
                    noise_sd=cfg.noise_sd,
                    resolution=cfg.resolution,
                    faults=self.faults,
                )
            times = np.unique(np.concatenate(grid))
            self.truth[site.site_id] = site_truth(site, times, self.rain_steps[site.site_id], self.law)
        self.state = {site.site_id: SiteState() for site in self.sites}
        self.logic: dict[str, SiteLogic] = {}
        if policy is not None:
            for site in self.sites:
                kinds = {s.device_id: s.kind for s in site.sensors}
                self.logic[site.site_id] = SiteLogic(site.site_id, site.kind, kinds, policy.rule(site.site_id))
        self._by_id = {s.site_id: s for s in self.sites}
        self._sensor_site = {s.device_id: (site.site_id, s.kind) for site in self.sites for s in site.sensors}
        self.last_reading: dict[str, tuple[float, float | None, str]] = {}
        self._zone_links: dict[str, list[str]] = {}
        self._zone_nodes: dict[str, set[int]] = {}
        self._node_points: tuple[list[int], np.ndarray] | None = None
        rec = engine.recorder
        rec.declare("fs", "-")
        rec.declare("displacement_mm", "mm")
        rec.declare("tilt_ratio", "-")
        rec.declare("crack_mm", "mm")
        for kind, unit in UNITS.items():
            rec.declare(f"{kind}_reading", unit)

    # --- clock ---------------------------------------------------------------------------------
    def processes(self) -> None:
        self.engine.process(self._truth_records())
        if self.own_readings:  # else a device fleet's sensors call reading() at the same times
            self.engine.process(self._readings())
        for site in self.sites:
            t_f = self.truth[site.site_id].failure_s
            if t_f is not None and t_f < self.engine.duration_s:
                self.engine.process(self._failure(site, t_f))

    def _truth_records(self):
        env, rec = self.engine.env, self.engine.recorder
        t = 0.0
        while t <= self.engine.duration_s + 1e-9:
            if t > env.now:
                yield env.timeout(t - env.now)
            for site in self.sites:
                tr = self.truth[site.site_id]
                if tr.failure_s is not None and t >= tr.failure_s:
                    continue
                if site.kind == "slope":
                    assert tr.fs is not None
                    rec.record(t, site.site_id, "fs", float(np.interp(t, tr.times_s, tr.fs)))
                    d = tr.at("displacement", t)
                    if d is not None:
                        rec.record(t, site.site_id, "displacement_mm", d)
                else:
                    tilt = tr.at("tilt", t)
                    crack = tr.at("crack", t)
                    if tilt is not None and crack is not None:
                        rec.record(t, site.site_id, "tilt_ratio", math.tan(math.radians(tilt)))
                        rec.record(t, site.site_id, "crack_mm", crack)
            t += TRUTH_STEP_S

    def _readings(self):
        """Every sensor's readings in time order; each batch at one time goes to its sites' logic."""
        events = sorted(
            (float(t), site.site_id, s.device_id, s.kind)
            for site in self.sites
            for s in site.sensors
            for t in self.reading_times[s.device_id]
        )
        env = self.engine.env
        k = 0
        while k < len(events):
            t = events[k][0]
            if t > env.now:
                yield env.timeout(t - env.now)
            batch: dict[str, list[SensorReading]] = {}
            while k < len(events) and events[k][0] == t:
                _, sid, did, kind = events[k]
                value = self.reading(did, kind, sid, t)
                if value is not None:
                    batch.setdefault(sid, []).append(SensorReading(did, kind, t, value))
                elif sid in self.logic:
                    batch.setdefault(sid, [])
                k += 1
            for sid in sorted(batch):
                if sid in self.logic:
                    self._step(sid, t, tuple(batch[sid]))

    def sensor_site(self, device_id: str) -> tuple[str, str] | None:
        """(site id, reading kind) of a structural sensor, None when it is on no monitored site."""
        return self._sensor_site.get(device_id)

    def reading(self, device_id: str, kind: str, site_id: str, t_s: float) -> float | None:
        """What sensor ``device_id`` reads at ``t_s`` (recorded), None for no reading (a dropout,
        or the slope has failed and taken the sensor with it). Each sensor must be read in time
        order: its noise comes from its own generator."""
        truth = self.truth[site_id].at(kind, t_s)
        r = self.sensors[device_id].read(truth, t_s)
        self.last_reading[device_id] = (t_s, r.value, r.quality)
        if r.value is not None:
            self.engine.recorder.record(t_s, device_id, f"{kind}_reading", r.value)
        return r.value

    def rain_mm_h(self, site_id: str, t_s: float) -> float:
        """Rain intensity at a site at ``t_s`` (mm/h)."""
        starts, rates = self.rain_steps[site_id]
        i = int(np.searchsorted(starts, t_s, side="right")) - 1
        return float(rates[i]) if 0 <= i < len(rates) else 0.0

    # --- early warning ---------------------------------------------------------------------------
    def _step(self, site_id: str, t_s: float, readings: tuple[SensorReading, ...]) -> None:
        obs = SiteObservation(t_s, readings, rain_mm_h=self.rain_mm_h(site_id, t_s))
        for action in self.logic[site_id].step(obs):
            self.act(action)

    def act(self, a: CollapseAction) -> None:
        """Take one action of an early-warning logic (the in-process one, or an outside one)."""
        st = self.state[a.site_id]
        truth = self.truth[a.site_id]
        if a.kind in ("sensor_suspect", "sensor_ok"):
            st.suspects.append({"kind": a.kind, "t_s": a.t_s, "sensor": a.sensor_id, "reason": a.reason})
            self.engine.log(a.kind, a.sensor_id or a.site_id, a.reason, site=a.site_id)
            return
        if a.kind == "forecast":
            return
        row: dict[str, Any] = {"level": a.kind, "t_s": a.t_s, "reason": a.reason}
        if a.forecast is not None:
            row["forecast_failure_s"] = round(a.forecast.failure_s, 1)
            row["forecast_interval_s"] = [round(a.forecast.lower_s, 1), round(a.forecast.upper_s, 1)]
        if truth.failure_s is not None and a.t_s < truth.failure_s:
            row["time_to_failure_s"] = round(truth.failure_s - a.t_s, 1)
            if a.forecast is not None:
                row["forecast_error_s"] = round(a.forecast.failure_s - truth.failure_s, 1)
        st.alarms.append(row)
        st.level = "normal" if a.kind == "clear" else a.kind
        self.engine.log("collapse_alarm", a.site_id, a.reason, level=a.kind)
        if a.kind == "evacuate" and st.evacuated_s is None:
            st.evacuated_s = a.t_s
            self._evacuate(self._by_id[a.site_id], a.t_s)

    # --- response ---------------------------------------------------------------------------------
    def _zone(self, site: MonitoredSite) -> tuple[list[str], set[int]]:
        """The walk links crossing the site's danger zone and the nodes inside it."""
        if site.site_id not in self._zone_links:
            G = self.city.graph
            if self._node_points is None:  # once per run: every walk node as a point
                nodes = sorted(G.nodes)
                self._node_points = (nodes, shapely.points([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes]))
            nodes, pts = self._node_points
            inside = shapely.contains(site.danger_zone, pts)
            node_set = {n for n, ok in zip(nodes, inside, strict=True) if ok}
            links = sorted({str(k) for _, _, k in G.edges(node_set, keys=True)})
            self._zone_links[site.site_id] = links
            self._zone_nodes[site.site_id] = node_set
        return self._zone_links[site.site_id], self._zone_nodes[site.site_id]

    def _shelters(self) -> set[int]:
        kind = self.spec.evacuation.shelter_kind if self.spec is not None else "shelter"
        fac = self.city.facilities_of_kind(kind)
        nodes, _ = self.city.nearest_nodes(np.column_stack([fac.geometry.x, fac.geometry.y]))
        return {int(n) for n in nodes}

    def _evacuate(self, site: MonitoredSite, t_s: float) -> None:
        if self.crowd is None:
            return
        model = self.crowd.model
        targets = self._shelters()
        tree = model.shortest_tree(targets)
        reaction = self.spec.evacuation.reaction_max if self.spec is not None else 900.0
        st = self.state[site.site_id]
        links, _nodes = self._zone(site)
        for home in site.homes:
            origin = self.city.nearest_node(home.x, home.y)
            route = model.route_along(tree, origin)
            if route is None:
                continue
            for _ in range(home.occupants):
                depart = t_s + float(model.rng.uniform(0.0, reaction)) if reaction > 0 else t_s
                p = model.add_walker(origin, list(route), depart, group="adult",
                                     free_speed_m_s=model.draw_free_speed("adult"))  # fmt: skip
                p.evacuate_to(set(targets), since_s=t_s)
                st.residents.append(p.unique_id)
        walkers = sorted({uid for key in links for uid in model.on_link.get(key, ())})
        for uid in walkers:
            model.pedestrian(uid).evacuate_to(set(targets), since_s=t_s)
        st.in_zone_at_alarm = site.people + len(walkers)
        self.engine.log("collapse_evacuation", site.site_id, f"{site.people} residents and {len(walkers)} walkers "
                        f"told to leave {site.name}", people=site.people + len(walkers))  # fmt: skip

    def _failure(self, site: MonitoredSite, t_f: float):
        env = self.engine.env
        if t_f > env.now:
            yield env.timeout(t_f - env.now)
        st = self.state[site.site_id]
        links, nodes = self._zone(site) if self.crowd is not None else ([], set())
        inside_residents = site.people - len(st.residents)  # never told to leave: still at home
        walkers = 0
        if self.crowd is not None:
            model = self.crowd.model
            for uid in st.residents:
                p = model.pedestrian(uid)
                if self._in_zone(p, set(links), nodes, env.now):
                    inside_residents += 1
            on_links = {uid for key in links for uid in model.on_link.get(key, ())} - set(st.residents)
            walkers = len(on_links)
            for key in links:
                model.close_link(key)  # closed to everyone (not water: nobody is counted as exposed to it)
        st.residents_inside_at_failure = inside_residents
        st.walkers_inside_at_failure = walkers
        self.engine.log("collapse_failure", site.site_id, f"{site.name} failed; {st.inside_at_failure} people "
                        "inside the danger zone", inside=st.inside_at_failure)  # fmt: skip

    @staticmethod
    def _in_zone(p, links: set[str], nodes: set[int], now: float) -> bool:
        if now < p.depart_s:
            return True  # not yet left home
        if p.arrived_s is not None:
            return False
        if p.link is not None:
            return p.link in links
        return p.node in nodes

    # --- results ---------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """``summary.json`` section ``collapse``: per site, its alarms (with the forecast error at
        each), its failure, and the people evacuated before it and inside at it."""
        rows = []
        for site in self.sites:
            tr, st = self.truth[site.site_id], self.state[site.site_id]
            row: dict[str, Any] = {
                "site_id": site.site_id,
                "name": site.name,
                "kind": site.kind,
                "sensors": [s.device_id for s in site.sensors],
                "failure_s": None if tr.failure_s is None else round(tr.failure_s, 1),
                "onset_s": None if tr.onset_s is None else round(tr.onset_s, 1),
                "people_in_zone": site.people,
                "alarms": st.alarms,
                "sensor_suspects": st.suspects,
                "evacuated_s": st.evacuated_s,
            }
            if tr.fs is not None:
                row["min_fs"] = round(float(np.nanmin(tr.fs)), 4)
                row["max_displacement_mm"] = round(float(np.nanmax(tr.value["displacement"])), 2)
            else:
                row["max_tilt_ratio"] = round(float(np.tan(np.radians(np.nanmax(tr.value["tilt"])))), 6)
                row["max_crack_mm"] = round(float(np.nanmax(tr.value["crack"])), 3)
            if tr.failure_s is not None and tr.failure_s < self.engine.duration_s:
                row["inside_at_failure"] = st.inside_at_failure
                inside = st.residents_inside_at_failure
                row["evacuated_before_failure"] = None if inside is None else site.people - inside
                row["evacuate_margin_s"] = None if st.evacuated_s is None else round(tr.failure_s - st.evacuated_s, 1)
            rows.append(row)
        faults = sorted({(str(w.device), w.start_s) for w in self.faults.windows if w.device in self._sensor_site})
        verdict = collapse_verdict(rows, faults)
        return {
            "verdict": verdict,
            "sites": rows,
            # the verdict's counts, at the top for a quick look
            "failed": verdict["failed_sites"],
            "evacuated_in_time": verdict["evacuated_in_time"],
            "false_evacuations": verdict["false_evacuations"],
            "inside_at_failure": sum(r.get("inside_at_failure") or 0 for r in rows),
        }
