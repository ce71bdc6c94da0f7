"""River flood: SWMM hydraulics stepped by the engine, stage at every gauge and access point,
HRFCO alert crossings, riverside paths flooding, and the warning lead time.

Stage is the water depth above the bed at the junction of a gauge or access point (m), the
datum of the gauges' thresholds. A riverside path is flooded while the stage at its access point
exceeds the path's height above the bed. The warning lead time of an access point is the time
from the first alert that concerns it (an upward threshold crossing at its own level sensor or
at the gauge that warns for its stream, or a KMA heavy-rain advisory) to the path flooding.
Which gauge warns for which stream is a fact of the city, read from its dataset
(:mod:`twin.river_gauges`), as is the basin upstream of the city.

Why one module of this size: it joins the SWMM run, the gauges and access points that watch it
and the summary of alerts and lead times, which must agree on where and when stage is read.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import simpy

from ..city import DERIVED_LIMIT, CityModel
from ..dataset_schema import THRESHOLD_LEVELS
from ..engine import Engine
from ..hydraulics.catchments import Subcatchment, delineate, upstream_basin
from ..hydraulics.channel_network import ChannelNetwork, build_channel_network
from ..hydraulics.swmm_inp import steady_state, write_inp
from ..hydraulics.swmm_run import HydraulicsError, SwmmRun
from ..rainfall import Hyetograph, kma_alerts
from ..river_gauges import RiverGauges

LEVELS_KO = {"attention": "관심", "caution": "주의", "alert": "경계", "serious": "심각"}


@dataclass
class Watch:
    """A place where stage is read: a level sensor or an access point."""

    entity_id: str
    kind: str  # "gauge" | "access_point"
    junction: str
    stream: str
    thresholds_m: dict[str, float] = field(default_factory=dict)  # level -> stage, m
    path_height_m: float | None = None
    sensor_id: str | None = None  # access point: its gate's level sensor


@dataclass
class FloodSetup:
    network: ChannelNetwork
    subcatchments: list[Subcatchment]
    watches: dict[str, Watch]
    inp_text: str
    rain: dict[str, Hyetograph]
    river_gauges: RiverGauges = field(default_factory=RiverGauges)
    """Which gauge warns for which stream (the dataset's manifest ``hydrology``)."""


def build_flood_model(
    city: CityModel,
    rain: dict[str, Hyetograph],
    *,
    start: datetime,
    duration_s: float,
    hydraulics,
    threshold_overrides: dict[str, dict[str, float | None]] | None = None,
) -> FloodSetup:
    """The SWMM model of ``city`` for this rain, and where stage is watched (EPSG:5186 inside)."""
    level = city.devices_of_kind("level_sensor")
    # the channels and catchments depend only on the data and two parameters: built once
    key = f"{city.fingerprint}|{hydraulics.imperviousness_scale!r}|{hydraulics.upstream_catchment_km2!r}"
    net, subs = _derived(
        city,
        "catchments",
        key,
        lambda: catchment_model(city, hydraulics.imperviousness_scale, hydraulics.upstream_catchment_km2),
    )
    state_key = (
        f"{city.fingerprint}|{hydraulics.imperviousness_scale!r}|{hydraulics.upstream_catchment_km2!r}|"
        f"{hydraulics.base_flow_m3s!r}|{hydraulics.routing}|{hydraulics.routing_step_s!r}"
    )

    def spin_up():
        return steady_state(
            net,
            subs,
            base_flow_m3s=hydraulics.base_flow_m3s,
            routing=hydraulics.routing,
            routing_step_s=hydraulics.routing_step_s,
        )

    initial = _derived(city, "steady-state", state_key, spin_up)
    inp = write_inp(
        net,
        subs,
        rain,
        initial_state=initial,
        start=start,
        duration_s=duration_s,
        routing=hydraulics.routing,
        routing_step_s=hydraulics.routing_step_s,
        report_step_s=hydraulics.sample_interval,
        base_flow_m3s=hydraulics.base_flow_m3s,
        title=f"Uijeongbu digital twin: {city.path.name}",
    )
    overrides = threshold_overrides or {}
    watches: dict[str, Watch] = {}
    for d in level.sort_values("device_id").itertuples() if len(level) else ():  # an empty layer may lack columns
        if d.device_id not in net.entity_node:
            continue
        th = {lv: float(getattr(d, f"threshold_{lv}_m")) for lv in THRESHOLD_LEVELS}
        for lv, v in (overrides.get(d.device_id) or {}).items():
            if v is not None:
                th[lv.removesuffix("_m")] = float(v)
        watches[d.device_id] = Watch(d.device_id, "gauge", net.entity_node[d.device_id], d.stream, th)
    gates = city.devices_of_kind("gate")
    sensor_of_ap = dict(zip(gates["access_id"], gates["level_sensor_id"], strict=True)) if len(gates) else {}
    aps = city.layer("access_points")
    for a in aps.sort_values("access_id").itertuples() if len(aps) else ():
        if a.access_id not in net.entity_node:
            continue
        sensor = sensor_of_ap.get(a.access_id)
        th = dict(watches[sensor].thresholds_m) if sensor in watches else {}
        watches[a.access_id] = Watch(
            a.access_id,
            "access_point",
            net.entity_node[a.access_id],
            a.stream,
            th,
            float(a.path_height_m),
            sensor if sensor in watches else None,
        )
    return FloodSetup(net, subs, watches, inp, rain, city.river_gauges)


def _derived(city: CityModel, kind: str, key: str, build: Callable[[], Any]) -> Any:
    """``build()``, once per city instance and ``kind``/``key`` (kept in ``city.derived``), and
    through the on-disk cache (:func:`twin.cache.cached`) when the city was loaded through it.
    Callers never change what they get back: every run on the city shares it."""
    if (kind, key) in city.derived:
        return city.derived[(kind, key)]
    if city.fingerprint is None:
        value = build()
    else:
        from ..cache import cached

        value = cached(kind, key, build)
    while len(city.derived) >= DERIVED_LIMIT:
        city.derived.pop(next(iter(city.derived)))
    city.derived[(kind, key)] = value
    return value


def catchment_model(
    city: CityModel, imperviousness_scale: float, upstream_catchment_km2: float | None
) -> tuple[ChannelNetwork, list[Subcatchment]]:
    """The channel network and subcatchments of ``city`` (EPSG:5186), the rain-independent part."""
    level = city.devices_of_kind("level_sensor")
    net = build_channel_network(city.layer("streams"), city.layer("access_points"), level)
    gauges = rain_gauges(city)
    subs = delineate(
        city.layer("boundary"),
        city.layer("streams"),
        city.layer("buildings"),
        city.layer("roads"),
        net.junction_table(),
        gauges,
        dongs=city.layer("dongs"),
        imperviousness_scale=imperviousness_scale,
    )
    for basin in city.river_gauges.upstream_basins:
        # the land outside the city above the top of the stream: sized from the area the dataset
        # gives above its gauge, or as the scenario's hydraulics.upstream_catchment_km2
        if basin.stream not in net.top_nodes:
            continue
        top = net.top_nodes[basin.stream]
        above: set[str] = set()
        if basin.gauge in net.entity_node:
            G = nx.DiGraph([(c.upstream, c.downstream) for c in net.conduits])
            gauge_node = net.entity_node[basin.gauge]
            above = nx.ancestors(G, gauge_node) | {gauge_node}
        if basin.gauge in net.entity_node or upstream_catchment_km2 is not None:
            nearest = _nearest_gauge(gauges, net.junctions[top].x, net.junctions[top].y)
            sub = upstream_basin(
                subs,
                {s.name for s in subs if s.outlet in above},
                top,
                nearest,
                area_above_gauge_km2=basin.area_above_gauge_km2,
                name=f"S-UPSTREAM-{_stream_code(city, basin.stream)}",
                area_km2=upstream_catchment_km2,
            )
            if sub is not None:
                subs.append(sub)
    return net, subs


def rain_gauges(city: CityModel) -> gpd.GeoDataFrame:
    """The rain gauges of ``city`` (EPSG:5186); a dataset without any gets one virtual gauge,
    ``RG-CITY``, at the centre of its boundary, so that rain still falls on every catchment."""
    gauges = city.devices_of_kind("rain_gauge")
    if len(gauges):
        return gauges[["device_id", "geometry"]].reset_index(drop=True)
    centre = city.layer("boundary").union_all().representative_point()
    return gpd.GeoDataFrame({"device_id": ["RG-CITY"]}, geometry=[centre], crs=city.crs)


def _stream_code(city: CityModel, stream: str) -> str:
    """The short code of ``stream`` (its reaches' ``stream_code``, else the first reach id's prefix)."""
    reaches = city.layer("streams")
    first = reaches[reaches["name"] == stream].sort_values("reach_id").iloc[0]
    code = first.get("stream_code")
    return str(code) if isinstance(code, str) and code else str(first["reach_id"]).split("-")[0]


def _nearest_gauge(gauges, x: float, y: float) -> str:
    d = np.hypot(gauges.geometry.x - x, gauges.geometry.y - y)
    return str(gauges.iloc[int(np.argmin(d.to_numpy()))]["device_id"])


class FloodModel:
    """Runs the SWMM model on the engine's clock and keeps what the summary reports."""

    def __init__(self, engine: Engine, setup: FloodSetup, inp_path: Path, *, sample_s: float) -> None:
        self.engine = engine
        self.setup = setup
        self.inp_path = inp_path
        self.sample_s = float(sample_s)
        self.level_index: dict[str, int] = {w: 0 for w in setup.watches}
        self.crossings: dict[str, list[dict[str, Any]]] = {w: [] for w in setup.watches}
        self.flooded: dict[str, bool] = {w: False for w in setup.watches}
        self.flooded_at: dict[str, float | None] = {w: None for w in setup.watches}
        self.peaks: dict[str, tuple[float, float]] = {}
        self.peak_flows: dict[str, float] = {}
        # discharge at a junction = flow in the conduit leaving it (m³/s)
        leaving = {c.upstream: c.name for c in setup.network.conduits}
        self.outflow_link = {w: leaving[x.junction] for w, x in setup.watches.items() if x.junction in leaving}
        self.continuity: dict[str, float] = {}
        self.rain_alerts: list[dict[str, Any]] = []
        self.current_stage: dict[str, float] = {}  # watch id -> stage at the last sample (m)
        # listeners of other models (crowds now, devices and controllers later)
        self.on_path_flooded: list[Callable[[str, str], None]] = []  # (access point id, stream)
        self.on_threshold_up: list[Callable[[str, str, str], None]] = []  # (gauge id, stream, level)
        rec = engine.recorder
        rec.declare("stage", "m")
        rec.declare("rain", "mm")

    def processes(self) -> None:
        self.engine.process(self._rain_alerts())
        self.engine.process(self._rain_record())
        self._hydraulics_gen = self._hydraulics()
        self.engine.process(self._hydraulics_gen)

    def close(self) -> None:
        """Close SWMM if a run stopped before its end (pyswmm allows one open model per process)."""
        gen = getattr(self, "_hydraulics_gen", None)
        if gen is not None:
            gen.close()  # GeneratorExit at its yield: the SwmmRun context closes the model

    def _rain_alerts(self) -> Generator[simpy.Event, Any, None]:
        """The SimPy process that logs each KMA heavy-rain alert (first gauge to reach it) at its time."""
        env = self.engine.env
        first: dict[tuple[str, float], tuple[float, str, Any]] = {}
        for gauge, h in sorted(self.setup.rain.items()):
            for a in kma_alerts(h):
                key = (a.level, a.window_s)
                if key not in first or a.time_s < first[key][0]:
                    first[key] = (a.time_s, gauge, a)
        for (lv, window), (t, gauge, a) in sorted(first.items(), key=lambda kv: (kv[1][0], kv[0])):
            if t > self.engine.duration_s:
                continue
            yield env.timeout(max(t - env.now, 0.0))
            hours = window / 3600
            self.engine.log(
                f"rain.{lv}",
                gauge,
                f"{a.level_ko}: {a.threshold_mm:g} mm in {hours:g} h reached",
                level=lv,
                level_ko=a.level_ko,
                window_s=window,
                threshold_mm=a.threshold_mm,
            )
            self.rain_alerts.append(
                {
                    "level": lv,
                    "level_ko": a.level_ko,
                    "window_s": window,
                    "time_s": t,
                    "gauge": gauge,
                    "threshold_mm": a.threshold_mm,
                }
            )

    def _rain_record(self):
        """Rain per gauge in each sample interval (mm), recorded at the interval's end."""
        env = self.engine.env
        rec = self.engine.recorder
        gauges = sorted(self.setup.rain)
        end = self.engine.duration_s
        ticks = np.append(np.arange(0.0, end, self.sample_s), end)
        depth = {g: np.diff(self.setup.rain[g].cumulative_mm(ticks)) for g in gauges}
        for k in range(1, len(ticks)):
            yield env.timeout(ticks[k] - env.now)
            rec.record_many(env.now, "rain", {g: float(depth[g][k - 1]) for g in gauges})

    def _hydraulics(self):
        env = self.engine.env
        watches = self.setup.watches
        junctions = sorted({w.junction for w in watches.values()})
        links = sorted(set(self.outflow_link.values()))
        with SwmmRun(
            self.inp_path, watch=junctions, step_s=self.sample_s, start=self.engine.start, watch_links=links
        ) as run:
            self._sample(run.depths_m())
            end = self.engine.duration_s
            while not run.finished and env.now < end - 1e-9:
                step = min(self.sample_s, end - env.now)  # the last step may be shorter
                yield env.timeout(step)
                run.advance(step)
                if abs(run.elapsed_s - env.now) > 1.5:  # SWMM reports its clock to the second
                    raise HydraulicsError(f"SWMM at {run.elapsed_s:.1f} s but the engine at {env.now:.1f} s")
                self._sample(run.depths_m())
            self.peaks = run.peaks()
            self.peak_flows = run.peak_flows()
            self.continuity = run.finish()

    def _sample(self, depth: dict[str, float]) -> None:
        t = self.engine.now
        rec = self.engine.recorder
        stages = {wid: depth[w.junction] for wid, w in self.setup.watches.items()}
        self.current_stage = stages
        rec.record_many(t, "stage", stages)
        for wid, w in self.setup.watches.items():
            stage = stages[wid]
            if w.kind == "gauge":
                self._thresholds(wid, w, stage)
            if w.path_height_m is not None:
                self._path(wid, w, stage, w.path_height_m)

    def _thresholds(self, wid: str, w: Watch, stage: float) -> None:
        th = w.thresholds_m
        new = sum(1 for lv in THRESHOLD_LEVELS if lv in th and stage >= th[lv])
        old = self.level_index[wid]
        if new == old:
            return
        step = 1 if new > old else -1
        for i in range(old, new, step):
            lv = THRESHOLD_LEVELS[i if step > 0 else i - 1]
            direction = "up" if step > 0 else "down"
            self.crossings[wid].append(
                {
                    "level": lv,
                    "level_ko": LEVELS_KO[lv],
                    "direction": direction,
                    "time_s": self.engine.now,
                    "stage_m": round(stage, 3),
                }
            )
            self.engine.log(
                f"stage.threshold_{direction}",
                wid,
                f"{LEVELS_KO[lv]} ({lv}) {th[lv]:g} m {'reached' if step > 0 else 'left'}: stage {stage:.2f} m",
                level=lv,
                threshold_m=th[lv],
                stage_m=round(stage, 3),
            )
            if step > 0:
                for listener in self.on_threshold_up:
                    listener(wid, w.stream, lv)
        self.level_index[wid] = new

    def _path(self, wid: str, w: Watch, stage: float, path_height_m: float) -> None:
        wet = stage > path_height_m
        if wet == self.flooded[wid]:
            return
        self.flooded[wid] = wet
        if wet and self.flooded_at[wid] is None:
            self.flooded_at[wid] = self.engine.now
        self.engine.log(
            "path.flooded" if wet else "path.dry",
            wid,
            f"riverside path {'under water' if wet else 'dry again'}: stage {stage:.2f} m, "
            f"path {path_height_m:g} m above the bed",
            stage_m=round(stage, 3),
            path_height_m=path_height_m,
        )
        if wet:
            for listener in self.on_path_flooded:
                listener(wid, w.stream)

    # --- results ---------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        eng = self.engine
        out_g: dict[str, Any] = {}
        out_a: dict[str, Any] = {}
        first_up = {
            wid: next((c["time_s"] for c in cs if c["direction"] == "up"), None) for wid, cs in self.crossings.items()
        }
        rain_first = min((a["time_s"] for a in self.rain_alerts), default=None)
        river = self.setup.river_gauges
        for wid, w in self.setup.watches.items():
            peak, t_peak = self.peaks.get(w.junction, (float("nan"), float("nan")))
            base = {
                "stream": w.stream,
                "junction": w.junction,
                "peak_stage_m": round(peak, 3),
                "time_of_peak_s": t_peak,
                "time_of_peak": eng.clock(t_peak).isoformat(timespec="seconds"),
            }
            base["peak_discharge_m3s"] = (
                round(self.peak_flows[self.outflow_link[wid]], 3) if wid in self.outflow_link else None
            )
            if w.kind == "gauge":
                out_g[wid] = {
                    **base,
                    "thresholds_m": w.thresholds_m,
                    "threshold_crossings": self.crossings[wid],
                    "highest_level": THRESHOLD_LEVELS[
                        max(
                            (THRESHOLD_LEVELS.index(c["level"]) for c in self.crossings[wid] if c["direction"] == "up"),
                            default=-1,
                        )
                    ]
                    if any(c["direction"] == "up" for c in self.crossings[wid])
                    else None,
                }
                continue
            sensor_crossings = self.crossings.get(w.sensor_id, []) if w.sensor_id else []
            candidates: list[tuple[float, str]] = []
            if w.sensor_id and (sensor_up := first_up.get(w.sensor_id)) is not None:
                candidates.append((sensor_up, w.sensor_id))
            ref = river.warning_gauge(w.stream)
            if ref is not None and (ref_up := first_up.get(ref)) is not None:
                candidates.append((ref_up, ref))
            if rain_first is not None:
                candidates.append((rain_first, "kma_rain_advisory"))
            first_alert = min(candidates) if candidates else None
            flooded = self.flooded_at[wid]
            lead = None
            if flooded is not None and first_alert is not None:
                lead = flooded - first_alert[0]
            out_a[wid] = {
                **base,
                "path_height_m": w.path_height_m,
                "level_sensor": w.sensor_id,
                "threshold_crossings": sensor_crossings,
                "path_flooded_at_s": flooded,
                "path_flooded_at": eng.clock(flooded).isoformat(timespec="seconds") if flooded is not None else None,
                "first_alert": {"time_s": first_alert[0], "source": first_alert[1]} if first_alert else None,
                "warning_lead_time_s": lead,
            }
        flooded_ids = [a for a, v in out_a.items() if v["path_flooded_at_s"] is not None]
        leads = [v["warning_lead_time_s"] for v in out_a.values() if v["warning_lead_time_s"] is not None]
        return {
            "gauges": out_g,
            "access_points": out_a,
            "rain": {
                "gauges": {
                    g: {"total_mm": round(h.total_mm, 2), "peak_intensity_mm_h": round(h.peak_intensity_mm_h, 2)}
                    for g, h in sorted(self.setup.rain.items())
                },
                "kma_alerts": self.rain_alerts,
            },
            "flooded_paths": {
                "count": len(flooded_ids),
                "first_s": min((out_a[a]["path_flooded_at_s"] for a in flooded_ids), default=None),
                "min_warning_lead_time_s": min(leads, default=None),
            },
            "swmm": {
                **{k: round(v, 4) for k, v in self.continuity.items()},
                "junctions": len(self.setup.network.junctions),
                "conduits": len(self.setup.network.conduits),
                "subcatchments": len(self.setup.subcatchments),
                "catchment_area_km2": round(sum(s.area_ha for s in self.setup.subcatchments) / 100, 3),
            },
        }
