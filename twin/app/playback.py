"""Playback of a run on the map: what the city looked like at simulated time ``t``.

Built once per (city, run) from the run's own records, never re-simulated:

- a stream reach takes the alert level of the nearest level sensor on the same stream, from the
  flood model's ``stage.threshold_up/down`` events (0 normal, 1 관심 attention, 2 주의 caution,
  3 경계 alert, 4 심각 serious);
- a riverside path link is ``flooded`` between its access point's ``path.flooded`` and
  ``path.dry`` events, ``cleared`` once an evacuation order covers its stream, else ``open``;
- pedestrians are the trajectory sample at or before ``t``.

Times are simulated seconds from the scenario start; map positions are WGS84 lon/lat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk

from ..city import CityModel
from ..dataset_schema import RIVERSIDE_PATH_KINDS
from ..dataset_schema import THRESHOLD_LEVELS as LEVELS
from ..results import RunData
from .map_layers import DECIMALS, CompactDeck, lonlat, path_layer, points_layer, view_state

LEVEL_NAMES = ("normal",) + LEVELS
LEVEL_RGB = (
    [40, 110, 200, 220],  # normal
    [240, 200, 0, 255],  # 관심 attention
    [255, 130, 0, 255],  # 주의 caution
    [220, 30, 30, 255],  # 경계 alert
    [130, 0, 150, 255],  # 심각 serious
)
PATH_STATE_RGB = {"open": [20, 190, 210, 255], "cleared": [255, 170, 0, 255], "flooded": [200, 0, 0, 255]}
PERSON_RGB = {False: [30, 30, 30, 220], True: [230, 0, 120, 240]}  # walking / heading to safety
DEVICE_STATE_RGB = {
    "open": [40, 170, 60, 255],  # gate
    "closing": [255, 170, 0, 255],
    "closed": [200, 0, 0, 255],
    "opening": [255, 170, 0, 255],
    "blank": [150, 150, 150, 220],  # signboard
    "showing": [255, 120, 0, 255],
    "clear": [150, 150, 150, 220],  # camera
    "someone": [200, 0, 160, 255],
}
DEVICE_DEFAULT = {"gate": ("open", "open"), "signboard": ("blank", ""), "cctv": ("clear", "")}
LIVE_KINDS = ("gate", "signboard", "level_sensor")  # and the cameras that reported anything
ROAD_RGB = [160, 160, 160, 150]


def _coords(geom) -> list[list[float]]:
    return np.round(np.asarray(geom.coords)[:, :2], DECIMALS).tolist()


def _intervals(events: pd.DataFrame, on: str, off: str) -> list[tuple[float, float]]:
    """(from, to) spans between an ``on`` event and the next ``off`` event (to = inf if never)."""
    out, start = [], None
    for t, kind in zip(events["time_s"].astype(float), events["kind"], strict=True):
        if kind == on and start is None:
            start = t
        elif kind == off and start is not None:
            out.append((start, t))
            start = None
    if start is not None:
        out.append((start, float("inf")))
    return out


@dataclass
class Playback:
    """Per-frame state of one run over one city. Build with :func:`build_playback`."""

    times: np.ndarray  # frame times, s
    duration_s: float
    reach_paths: list[list[list[float]]]  # WGS84 line per stream reach
    reach_labels: list[str]
    reach_gauge: list[str | None]  # level sensor id per reach
    gauge_steps: dict[str, list[tuple[float, int]]]  # sensor -> [(time_s, level after)], sorted
    path_links: list[dict[str, Any]]  # {"path", "access_id", "stream", "label"}
    flooded: dict[str, list[tuple[float, float]]]  # access_id -> [(from_s, to_s)]
    cleared_at: dict[str, float]  # stream name -> time of its evacuation order
    events: pd.DataFrame
    people: dict[float, pd.DataFrame] = field(default_factory=dict)  # sample time -> lon, lat, evacuating
    people_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    devices: list[dict[str, Any]] = field(default_factory=list)  # id, kind, position (lon/lat)
    device_steps: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)  # id -> (t, state, text)
    base: list[pdk.Layer] = field(default_factory=list)  # static layers drawn under the state
    view: pdk.ViewState | None = None

    # --- state at a time --------------------------------------------------------------------
    def gauge_level(self, gauge: str | None, t: float) -> int:
        """Alert level (0-4) of a level sensor at ``t``; 0 for no sensor."""
        level = 0
        for when, lv in self.gauge_steps.get(gauge, ()) if gauge else ():
            if when > t:
                break
            level = lv
        return level

    def reach_levels(self, t: float) -> list[int]:
        return [self.gauge_level(g, t) for g in self.reach_gauge]

    def peak_levels(self) -> list[int]:
        """The highest alert level each reach reached during the run."""
        return [max((lv for _, lv in self.gauge_steps.get(g, ())), default=0) if g else 0 for g in self.reach_gauge]

    def link_states(self, t: float | None) -> list[str]:
        """State of every riverside path link at ``t``; ``None``: flooded if it ever flooded."""
        if t is None:
            return ["flooded" if self.flooded.get(lk["access_id"]) else "open" for lk in self.path_links]
        return [self.path_state(lk["access_id"], lk["stream"], t) for lk in self.path_links]

    def path_state(self, access_id: str | None, stream: str | None, t: float) -> str:
        if access_id and any(a <= t < b for a, b in self.flooded.get(access_id, ())):
            return "flooded"
        if stream in self.cleared_at and self.cleared_at[stream] <= t:
            return "cleared"
        return "open"

    def path_states(self, t: float) -> dict[str, int]:
        """How many riverside path links are open, cleared and flooded at ``t``."""
        out = {"open": 0, "cleared": 0, "flooded": 0}
        for state in self.link_states(t):
            out[state] += 1
        return out

    def people_at(self, t: float) -> pd.DataFrame:
        """Pedestrians on the network at the last trajectory sample at or before ``t``."""
        if not len(self.people_times):
            return pd.DataFrame(columns=["lon", "lat", "evacuating"])
        i = int(np.searchsorted(self.people_times, t, side="right")) - 1
        if i < 0:
            return pd.DataFrame(columns=["lon", "lat", "evacuating"])
        return self.people[float(self.people_times[i])]

    def device_state(self, device_id: str, kind: str, t: float) -> tuple[str, str]:
        """(state, text) of a device at ``t``: a gate open/closing/closed, a signboard's text, a
        camera seeing someone or not, a level gauge's alert level; ("unknown", "") before any news."""
        if kind == "level_sensor":
            lv = self.gauge_level(device_id, t)
            return LEVEL_NAMES[lv], LEVEL_NAMES[lv]
        state, text = DEVICE_DEFAULT.get(kind, ("unknown", ""))
        for when, st, tx in self.device_steps.get(device_id, ()):
            if when > t:
                break
            state, text = st, tx
        return state, text

    def device_states(self, t: float) -> list[dict[str, Any]]:
        out = []
        for d in self.devices:
            state, text = self.device_state(d["id"], d["kind"], t)
            color = (
                LEVEL_RGB[LEVEL_NAMES.index(state)]
                if d["kind"] == "level_sensor"
                else DEVICE_STATE_RGB.get(state, [120, 120, 120, 200])
            )
            out.append({**d, "state": state, "color": color, "label": f"{d['id']} ({d['kind']}): {text or state}"})
        return out

    def events_until(self, t: float) -> pd.DataFrame:
        """The events at or before ``t``, newest first."""
        ev = self.events
        return ev[ev["time_s"] <= t].iloc[::-1]

    # --- layers -----------------------------------------------------------------------------
    def layers_at(self, t: float, *, peak: bool = False) -> list[pdk.Layer]:
        """The map at ``t``; ``peak=True`` draws the worst state over the whole run instead."""
        levels = self.peak_levels() if peak else self.reach_levels(t)
        streams = [
            {"path": p, "color": LEVEL_RGB[lv], "label": f"{lab}: {LEVEL_NAMES[lv]}"}
            for p, lv, lab in zip(self.reach_paths, levels, self.reach_labels, strict=True)
        ]
        paths = [
            {"path": link["path"], "color": PATH_STATE_RGB[state], "label": f"{link['label']}: {state}"}
            for link, state in zip(self.path_links, self.link_states(None if peak else t), strict=True)
        ]
        layers = list(self.base)
        layers.append(path_layer(streams, "stream_level", width=30, min_px=4))
        layers.append(path_layer(paths, "path_state", width=6, min_px=3))
        if self.devices and not peak:
            layers.append(
                points_layer(
                    self.device_states(t),
                    "device_state",
                    radius=18,
                    min_px=5,
                    get_line_color=[0, 0, 0, 255],
                    stroked=True,
                    line_width_min_pixels=1,
                )
            )
        if not peak:
            ppl = self.people_at(t)
            data = [
                {"position": [lon, lat], "color": PERSON_RGB[bool(ev)]}
                for lon, lat, ev in zip(ppl["lon"], ppl["lat"], ppl["evacuating"], strict=True)
            ]
            layers.append(points_layer(data, "people", radius=6, min_px=2, pickable=False))
        return layers

    def deck_at(self, t: float, *, peak: bool = False, tiles: str | None = None, zoom: float | None = None) -> pdk.Deck:
        """The map at ``t`` (see :meth:`layers_at`); ``zoom`` (web-map zoom level) for a map
        smaller than the city map, so that the whole city still fits."""
        view = self.view
        if zoom is not None and view is not None:
            view = pdk.ViewState(longitude=view.longitude, latitude=view.latitude, zoom=zoom, pitch=view.pitch)
        return CompactDeck(
            layers=self.layers_at(t, peak=peak),
            initial_view_state=view,
            map_style=tiles,
            map_provider="carto" if tiles else None,  # no base map at all unless asked
            tooltip={"text": "{label}"},
        )


def _device_steps(events: pd.DataFrame) -> dict[str, list[tuple[float, str, str]]]:
    """What the devices reported, from the run's events: gate.*, signboard.display, cctv.objects_inside."""
    steps: dict[str, list[tuple[float, str, str]]] = {}
    for row in events.itertuples():
        kind = row.kind
        if kind in ("gate.closed", "gate.open", "gate.close_command", "gate.open_command"):
            state = {
                "gate.closed": "closed",
                "gate.open": "open",
                "gate.close_command": "closing",
                "gate.open_command": "opening",
            }[kind]
            steps.setdefault(row.entity_id, []).append((float(row.time_s), state, state))
        elif kind == "signboard.display":
            lines = json.loads(row.data or "{}").get("lines") or []
            steps.setdefault(row.entity_id, []).append(
                (float(row.time_s), "showing" if lines else "blank", " / ".join(lines))
            )
        elif kind == "cctv.objects_inside":
            inside = bool(json.loads(row.data or "{}").get("inside"))
            steps.setdefault(row.entity_id, []).append(
                (float(row.time_s), "someone" if inside else "clear", row.message)
            )
    return steps


def _level_steps(events: pd.DataFrame) -> dict[str, list[tuple[float, int]]]:
    steps: dict[str, list[tuple[float, int]]] = {}
    sel = events[events["kind"].isin(["stage.threshold_up", "stage.threshold_down"])]
    for row in sel.sort_values("time_s", kind="stable").itertuples():
        level = json.loads(row.data)["level"]
        i = LEVELS.index(level)
        steps.setdefault(row.entity_id, []).append((float(row.time_s), i + 1 if row.kind.endswith("_up") else i))
    return steps


def reach_gauges(city: CityModel) -> dict[str, str | None]:
    """For each stream reach, the nearest level sensor on the same stream (None when the stream has none)."""
    streams = city.layer("streams")
    sensors = city.devices_of_kind("level_sensor")
    out: dict[str, str | None] = {}
    for row in streams.itertuples():
        on = sensors[sensors["stream"] == row.name]
        if not len(on):
            out[row.reach_id] = None
            continue
        d = on.geometry.distance(row.geometry).to_numpy()
        out[row.reach_id] = str(on.iloc[int(np.argmin(d))]["device_id"])
    return out


def build_playback(city: CityModel, run: RunData, *, lang: str = "ko", base: list[pdk.Layer] | None = None) -> Playback:
    """Everything the playback draws, read from ``run`` (a run folder of ``city``'s dataset)."""
    ev = run.events.sort_values("time_s", kind="stable").reset_index(drop=True)
    streams = city.layer("streams")
    wgs = streams.to_crs("EPSG:4326")
    gauge_of = reach_gauges(city)
    roads = city.layer("roads")
    rp = roads[roads["kind"].isin(RIVERSIDE_PATH_KINDS)]
    rp_wgs = rp.to_crs("EPSG:4326")
    links = [
        {
            "path": _coords(g),
            "access_id": a if isinstance(a, str) else None,
            "stream": s if isinstance(s, str) else None,
            "label": f"{e} {a if isinstance(a, str) else ''}".strip(),
        }
        for g, a, s, e in zip(rp_wgs.geometry, rp["access_id"], rp["stream"], rp["edge_id"], strict=True)
    ]
    flooded = {
        ap: _intervals(grp, "path.flooded", "path.dry")
        for ap, grp in ev[ev["kind"].isin(["path.flooded", "path.dry"])].groupby("entity_id", sort=True)
    }
    orders = ev[ev["kind"] == "crowd.evacuation_order"]
    cleared = {str(s): float(t) for s, t in zip(orders["entity_id"], orders["time_s"], strict=True)}
    stage_t = run.timeseries.loc[run.timeseries["variable"] == "stage", "time_s"].unique()
    duration = float(run.summary.get("scenario", {}).get("duration_s") or (stage_t.max() if len(stage_t) else 0.0))
    times = np.unique(np.concatenate([np.sort(stage_t.astype(float)), ev["time_s"].to_numpy(float)]))
    if not len(times):
        times = np.arange(0.0, duration + 1, 60.0)
    people: dict[float, pd.DataFrame] = {}
    if run.trajectories is not None and len(run.trajectories):
        tr = run.trajectories[["time_s", "lon", "lat", "evacuating"]]
        for t, grp in tr.groupby("time_s", sort=True):
            people[float(t)] = grp[["lon", "lat", "evacuating"]].reset_index(drop=True)
    name = "name" if lang == "ko" else "name_en"
    device_steps = _device_steps(ev)
    dv = city.layer("devices")
    keep = dv[dv["kind"].isin(LIVE_KINDS) | dv["device_id"].isin(list(device_steps))]
    kw = keep.to_crs("EPSG:4326")
    devices = [
        {"id": str(i), "kind": str(k), "position": lonlat(g)}
        for i, k, g in zip(keep["device_id"], keep["kind"], kw.geometry, strict=True)
    ]
    return Playback(
        times=times,
        duration_s=duration,
        reach_paths=[_coords(g) for g in wgs.geometry],
        reach_labels=[f"{r[name]} {r['reach_id']}" for r in streams.to_dict("records")],
        reach_gauge=[gauge_of[r] for r in streams["reach_id"]],
        gauge_steps=_level_steps(ev),
        path_links=links,
        flooded=flooded,
        cleared_at=cleared,
        events=ev,
        devices=devices,
        device_steps=device_steps,
        people=people,
        people_times=np.array(sorted(people), dtype=float),
        base=list(base) if base is not None else base_layers(city, lang=lang),
        view=view_state(city),
    )


def base_layers(city: CityModel, *, lang: str = "ko") -> list[pdk.Layer]:
    """The light static layers under a playback: dongs, main roads, devices (buildings left out:
    the map is sent again for every frame)."""
    from .map_layers import city_layers

    layers = city_layers(city, lang=lang, show={"dongs", "devices"})
    roads = city.layer("roads")
    main = roads[(roads["kind"] == "road") & roads["name"].notna()]
    wgs = main.to_crs("EPSG:4326")
    data = [{"path": _coords(g), "label": n} for g, n in zip(wgs.geometry, main["name"], strict=True)]
    layers.insert(1, path_layer(data, "main_roads", width=4, min_px=1, color=ROAD_RGB))
    return layers


def evacuation_curve(evacuees: pd.DataFrame | None) -> pd.DataFrame:
    """Cumulative share of evacuees safe against seconds since they were told to leave.

    Columns: evacuation_s, safe (count), share (0-1 of everyone told to leave). Empty without evacuees.
    """
    if evacuees is None or not len(evacuees):
        return pd.DataFrame(columns=["evacuation_s", "safe", "share"])
    t = np.sort(evacuees["evacuation_s"].dropna().to_numpy(float))
    n = len(evacuees)
    return pd.DataFrame({"evacuation_s": t, "safe": np.arange(1, len(t) + 1), "share": np.arange(1, len(t) + 1) / n})
