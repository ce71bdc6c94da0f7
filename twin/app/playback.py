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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pydeck as pdk

from ..city import CityModel
from ..dataset_schema import RIVERSIDE_PATH_KINDS
from ..dataset_schema import THRESHOLD_LEVELS as LEVELS
from ..results import RunData
from . import legend as lg
from .map_layers import (
    DECIMALS,
    NO_TILES,
    CompactDeck,
    city_bounds,
    dong_layers,
    fit_view,
    icon_layer,
    literal,
    main_road_layer,
    path_layer,
    stream_label_points,
    text_layer,
)

if TYPE_CHECKING:
    from .names import Names

LEVEL_NAMES = ("normal",) + LEVELS
LEVEL_RGB = [list(c) for c in lg.LEVEL_RGB]
PATH_STATE_RGB = {k: list(v) for k, v in lg.PATH_STATE_RGB.items()}
PERSON_RGB = {k: list(v) for k, v in lg.PERSON_RGB.items()}  # walking / heading to safety
DEVICE_STATE_RGB = {k: [*v, 255] for k, v in lg.DEVICE_STATE_RGB.items()}
DEVICE_DEFAULT = {"gate": ("open", "open"), "signboard": ("blank", ""), "cctv": ("clear", "")}
LIVE_KINDS = ("gate", "signboard", "level_sensor")  # and the cameras that reported anything
ROAD_RGB = [160, 160, 160, 150]
PLAY_W_PX, PLAY_H_PX = 900, 480  # the size a playback map is fitted to unless told, px
COMPARE_W_PX, COMPARE_H_PX = 480, 420  # each of the two compare maps (half the page's width), px
PERSON_PX = 2.5  # radius of a person's dot, px
DEVICE_PX = 18  # a live device's symbol, px
PATH_SIMPLIFY_M = 3.0  # tolerance of the riverside path lines on a playback, m (EPSG:5186)


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


def _people_layer(points: list[list[float]], layer_id: str, color: list[int]) -> pdk.Layer:
    """Pedestrians as dots of :data:`PERSON_PX` px; ``points`` are bare [lon, lat] pairs (the
    smallest JSON: the accessor ``"-"`` makes each datum its own position)."""
    return pdk.Layer(
        "ScatterplotLayer",
        points,
        get_position="-",
        get_fill_color=color,
        get_radius=PERSON_PX,
        radius_units=literal("pixels"),
        pickable=False,
        id=layer_id,
    )


def compare_states(flooded_self: set[str], flooded_other: set[str], access_ids: list[str | None]) -> list[str]:
    """Per riverside path link (by its access point id): "only_here" when its access point floods
    in this run and not in the other, "both" when in both, else "none"."""
    out = []
    for a in access_ids:
        if a is not None and a in flooded_self:
            out.append("both" if a in flooded_other else "only_here")
        else:
            out.append("none")
    return out


@dataclass(frozen=True)
class FloodDifference:
    """Access points (ids) whose riverside paths flood in one run and not the other, and in both."""

    only_a: frozenset[str]
    only_b: frozenset[str]
    both: frozenset[str]


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
    devices: list[dict[str, Any]] = field(default_factory=list)  # id, kind, position (lon/lat), label
    device_steps: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)  # id -> (t, state, text)
    base: list[pdk.Layer] = field(default_factory=list)  # static layers drawn under the state
    view: pdk.ViewState | None = None
    bounds: tuple[float, float, float, float] | None = None  # the city's, WGS84 (min lon, min lat, max lon, max lat)
    top: list[pdk.Layer] = field(default_factory=list)  # static layers drawn over the state (place names)
    words: dict[str, dict[str, str]] = field(default_factory=dict)  # group -> key -> words in the playback's lang
    people_points: dict[float, tuple[list[list[float]], list[list[float]]]] = field(default_factory=dict)

    # --- state at a time --------------------------------------------------------------------
    def gauge_level(self, gauge: str | None, t: float) -> int:
        """Alert level (0-4) of a level sensor at ``t`` (s); 0 for no sensor."""
        level = 0
        for when, lv in self.gauge_steps.get(gauge, ()) if gauge else ():
            if when > t:
                break
            level = lv
        return level

    def reach_levels(self, t: float) -> list[int]:
        """Alert level (0-4) of every stream reach at ``t`` (s)."""
        return [self.gauge_level(g, t) for g in self.reach_gauge]

    def peak_levels(self) -> list[int]:
        """The highest alert level each reach reached during the run."""
        return [max((lv for _, lv in self.gauge_steps.get(g, ())), default=0) if g else 0 for g in self.reach_gauge]

    def link_states(self, t: float | None) -> list[str]:
        """State of every riverside path link at ``t`` (s); ``None``: flooded if it ever flooded."""
        if t is None:
            return ["flooded" if self.flooded.get(lk["access_id"]) else "open" for lk in self.path_links]
        return [self.path_state(lk["access_id"], lk["stream"], t) for lk in self.path_links]

    def path_state(self, access_id: str | None, stream: str | None, t: float) -> str:
        """ "flooded", "cleared" (an evacuation order covers the stream) or "open" at ``t`` (s)."""
        if access_id and any(a <= t < b for a, b in self.flooded.get(access_id, ())):
            return "flooded"
        if stream in self.cleared_at and self.cleared_at[stream] <= t:
            return "cleared"
        return "open"

    def path_states(self, t: float) -> dict[str, int]:
        """How many riverside path links are open, cleared and flooded at ``t`` (s)."""
        out = {"open": 0, "cleared": 0, "flooded": 0}
        for state in self.link_states(t):
            out[state] += 1
        return out

    def ever_flooded(self) -> set[str]:
        """Access point ids whose paths flooded at some time of the run."""
        return {a for a, spans in self.flooded.items() if spans}

    def people_at(self, t: float) -> pd.DataFrame:
        """Pedestrians on the network at the last trajectory sample at or before ``t`` (s)."""
        when = self._people_time(t)
        if when is None:
            return pd.DataFrame(columns=["lon", "lat", "evacuating"])
        return self.people[when]

    def _people_time(self, t: float) -> float | None:
        if not len(self.people_times):
            return None
        i = int(np.searchsorted(self.people_times, t, side="right")) - 1
        return None if i < 0 else float(self.people_times[i])

    def device_state(self, device_id: str, kind: str, t: float) -> tuple[str, str]:
        """(state, text) of a device at ``t`` (s): a gate open/closing/closed, a signboard's text, a
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

    def _word(self, group: str, key: str) -> str:
        return self.words.get(group, {}).get(key, key.replace("_", " "))

    def device_states(self, t: float) -> list[dict[str, Any]]:
        """Every live device at ``t`` (s): position, state, its symbol (``icon``), colour, tooltip."""
        out = []
        for d in self.devices:
            state, text = self.device_state(d["id"], d["kind"], t)
            color = (
                LEVEL_RGB[LEVEL_NAMES.index(state)]
                if d["kind"] == "level_sensor"
                else DEVICE_STATE_RGB.get(state, [120, 120, 120, 200])
            )
            group = "level" if d["kind"] == "level_sensor" else "device_state"
            said = self._word(group, state)
            if text and text != state:
                said = f"{said}: {text}"
            icon = f"{d['kind']}:{state}" if state in lg.DEVICE_STATES.get(d["kind"], ()) else d["kind"]
            out.append(
                {**d, "state": state, "color": color, "icon": icon, "label": f"{d.get('label', d['id'])}: {said}"}
            )
        return out

    def events_until(self, t: float) -> pd.DataFrame:
        """The events at or before ``t`` (s), newest first."""
        ev = self.events
        return ev[ev["time_s"] <= t].iloc[::-1]

    # --- layers -----------------------------------------------------------------------------
    def stream_layer(self, levels: list[int], layer_id: str = "stream_level") -> pdk.Layer:
        """Stream reaches :data:`twin.app.legend.STREAM_PX` px wide in the colour of ``levels`` (0-4)."""
        streams = [
            {"path": p, "color": LEVEL_RGB[lv], "label": f"{lab}: {self._word('level', LEVEL_NAMES[lv])}"}
            for p, lv, lab in zip(self.reach_paths, levels, self.reach_labels, strict=True)
        ]
        return path_layer(streams, layer_id, width=lg.STREAM_PX, min_px=2, width_units=literal("pixels"))

    def path_layer_of(self, states: list[str], layer_id: str = "path_state", words: dict[str, str] | None = None):
        """Riverside path links in the colour and width (px) of ``states`` (path states, or the
        compare states of :func:`compare_states`); the flooded ones drawn last (on top)."""
        rgb = PATH_STATE_RGB if words is None else {k: list(v) for k, v in lg.COMPARE_RGB.items()}
        px = lg.PATH_STATE_PX if words is None else lg.COMPARE_PX
        say = words if words is not None else self.words.get("path_state", {})
        order = np.argsort([px.get(s, 2.0) for s in states], kind="stable")
        data = [
            {
                "path": self.path_links[i]["path"],
                "color": rgb[states[i]],
                "width": px[states[i]],
                "label": f"{self.path_links[i]['label']}: {say.get(states[i], states[i])}",
            }
            for i in order.tolist()
        ]
        return path_layer(data, layer_id, width="width", min_px=1, width_units=literal("pixels"))

    def people_layers(self, t: float) -> list[pdk.Layer]:
        """The pedestrians at ``t`` (s): walking (dark) and heading to safety (green), two layers."""
        when = self._people_time(t)
        walking, leaving = self.people_points.get(when, ([], [])) if when is not None else ([], [])
        return [
            _people_layer(walking, "people", PERSON_RGB[False]),
            _people_layer(leaving, "people_evacuating", PERSON_RGB[True]),
        ]

    def layers_at(self, t: float, *, peak: bool = False) -> list[pdk.Layer]:
        """The map at ``t`` (s), bottom to top: dongs, main roads, streams by alert level, the
        riverside paths by state (flooded thickest, on top), live devices, people, place names.
        ``peak=True`` draws the worst state over the whole run instead: each reach's highest level
        and every path that flooded at any time."""
        levels = self.peak_levels() if peak else self.reach_levels(t)
        layers = list(self.base)
        layers.append(self.stream_layer(levels))
        layers.append(self.path_layer_of(self.link_states(None if peak else t)))
        if self.devices and not peak:
            layers.append(icon_layer(self.device_states(t), "device_state", size_px=DEVICE_PX))
        if not peak:
            layers += self.people_layers(t)
        return layers + list(self.top)

    def view_for(self, width_px: float, height_px: float, zoom: float | None = None) -> pdk.ViewState | None:
        """A flat (pitch 0) view of the whole city, south to north, on a ``width_px`` x
        ``height_px`` px map; ``zoom`` overrides the fitted web-map zoom level."""
        if self.bounds is None:
            return self.view
        view = fit_view(self.bounds, width_px, height_px)
        if zoom is not None:
            view = pdk.ViewState(longitude=view.longitude, latitude=view.latitude, zoom=zoom, pitch=0, bearing=0)
        return view

    def deck_at(
        self,
        t: float,
        *,
        peak: bool = False,
        tiles: str | None = None,
        zoom: float | None = None,
        width_px: float = PLAY_W_PX,
        height_px: float = PLAY_H_PX,
    ) -> pdk.Deck:
        """The map at ``t`` (s) (see :meth:`layers_at`), flat and fitted to the whole city on a map of
        ``width_px`` x ``height_px`` px (``zoom``: a web-map zoom level instead)."""
        return _deck(self.layers_at(t, peak=peak), self.view_for(width_px, height_px, zoom), tiles)


def _deck(layers: list[pdk.Layer], view, tiles: str | None = None) -> pdk.Deck:
    return CompactDeck(
        layers=layers,
        initial_view_state=view,
        map_style=tiles or NO_TILES,
        map_provider="carto" if tiles else None,  # no base map at all unless asked
        tooltip={"text": "{label}"},
    )


# --- comparing two runs -----------------------------------------------------------------------
def flood_difference(pb_a: Playback, pb_b: Playback) -> FloodDifference:
    """Access points whose paths flood (at any time) in run a only, in run b only, and in both."""
    a, b = pb_a.ever_flooded(), pb_b.ever_flooded()
    return FloodDifference(frozenset(a - b), frozenset(b - a), frozenset(a & b))


def compare_layers(pb_self: Playback, pb_other: Playback, lang: str) -> list[pdk.Layer]:
    """The worst state of ``pb_self``'s run drawn against ``pb_other``'s: each reach's highest
    level, and the riverside paths that flood in this run and not the other highlighted (those
    flooding in both drawn thin and muted, the others thin); no people or devices."""
    states = compare_states(
        pb_self.ever_flooded(), pb_other.ever_flooded(), [lk["access_id"] for lk in pb_self.path_links]
    )
    said = {k: lg.words(k, lang) for k in lg.COMPARE_RGB}
    layers = list(pb_self.base)
    layers.append(pb_self.stream_layer(pb_self.peak_levels()))
    layers.append(pb_self.path_layer_of(states, "path_compare", words=said))
    return layers + list(pb_self.top)


def deck_compare(
    pb_self: Playback,
    pb_other: Playback,
    lang: str,
    *,
    width_px: float = COMPARE_W_PX,
    height_px: float = COMPARE_H_PX,
    tiles: str | None = None,
) -> pdk.Deck:
    """The map of :func:`compare_layers`, flat and fitted to the whole city (``width_px`` x
    ``height_px`` px)."""
    return _deck(compare_layers(pb_self, pb_other, lang), pb_self.view_for(width_px, height_px), tiles)


def compare_decks(
    pb_a: Playback, pb_b: Playback, lang: str, *, width_px: float = COMPARE_W_PX, height_px: float = COMPARE_H_PX
) -> tuple[pdk.Deck, pdk.Deck]:
    """The two compare maps: run a against b, and b against a (see :func:`deck_compare`)."""
    return (
        deck_compare(pb_a, pb_b, lang, width_px=width_px, height_px=height_px),
        deck_compare(pb_b, pb_a, lang, width_px=width_px, height_px=height_px),
    )


# --- building a playback ------------------------------------------------------------------------
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
                (float(row.time_s), "someone" if inside else "clear", "someone" if inside else "clear")
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


def _people_points(people: dict[float, pd.DataFrame]) -> dict[float, tuple[list[list[float]], list[list[float]]]]:
    """Per trajectory sample: ([lon, lat] of those walking, of those heading to safety), rounded."""
    out = {}
    for t, df in people.items():
        xy = np.round(df[["lon", "lat"]].to_numpy(float), DECIMALS)
        ev = df["evacuating"].to_numpy(bool)
        out[t] = (xy[~ev].tolist(), xy[ev].tolist())
    return out


def _playback_words(lang: str) -> dict[str, dict[str, str]]:
    """The enumeration words a playback's tooltips use, in ``lang``."""
    groups = {
        "level": LEVEL_NAMES,
        "path_state": tuple(PATH_STATE_RGB),
        "device_state": tuple(DEVICE_STATE_RGB),
    }
    return {g: {k: lg.enum_word(g, k, lang) for k in keys} for g, keys in groups.items()}


def build_playback(
    city: CityModel,
    run: RunData,
    *,
    lang: str = "ko",
    base: list[pdk.Layer] | None = None,
    names: Names | None = None,
) -> Playback:
    """Everything the playback draws, read from ``run`` (a run folder of ``city``'s dataset);
    ``names``: the city's :class:`twin.app.names.Names` (built when not given)."""
    if names is None:
        from .names import Names

        names = Names.of(city)
    ev = run.events.sort_values("time_s", kind="stable").reset_index(drop=True)
    streams = city.layer("streams")
    wgs = streams.to_crs("EPSG:4326")
    gauge_of = reach_gauges(city)
    roads = city.layer("roads")
    rp = roads[roads["kind"].isin(RIVERSIDE_PATH_KINDS)]
    rp_wgs = rp.geometry.simplify(PATH_SIMPLIFY_M).to_crs("EPSG:4326")
    links = [
        {
            "path": _coords(g),
            "access_id": a if isinstance(a, str) else None,
            "stream": s if isinstance(s, str) else None,
            "label": names.with_id(a, lang) if isinstance(a, str) else _path_label(s, k, names, lang),
        }
        for g, a, s, k in zip(rp_wgs, rp["access_id"], rp["stream"], rp["kind"], strict=True)
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
    device_steps = _device_steps(ev)
    dv = city.layer("devices")
    keep = dv[dv["kind"].isin(LIVE_KINDS) | dv["device_id"].isin(list(device_steps))]
    kw = keep.to_crs("EPSG:4326")
    devices = [
        {
            "id": str(i),
            "kind": str(k),
            "position": [round(g.x, DECIMALS), round(g.y, DECIMALS)],
            "label": f"{names.with_id(str(i), lang)} · {lg.enum_word('device_kind', str(k), lang)}",
        }
        for i, k, g in zip(keep["device_id"], keep["kind"], kw.geometry, strict=True)
    ]
    gauge_words = {g: names.gauge(g, lang) for g in set(gauge_of.values()) if g}
    reach_labels = []
    for r in streams.to_dict("records"):
        g = gauge_of[r["reach_id"]]
        where = f" · {gauge_words[g]}" if g else ""
        reach_labels.append(f"{names.with_id(str(r['reach_id']), lang)}{where}")
    bounds = city_bounds(city)
    return Playback(
        times=times,
        duration_s=duration,
        reach_paths=[_coords(g) for g in wgs.geometry],
        reach_labels=reach_labels,
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
        people_points=_people_points(people),
        base=list(base) if base is not None else base_layers(city, lang=lang, names=names),
        top=top_layers(city, lang=lang, names=names),
        view=fit_view(bounds, PLAY_W_PX, PLAY_H_PX),
        bounds=bounds,
        words=_playback_words(lang),
    )


def _path_label(stream: Any, kind: str, names: Names, lang: str) -> str:
    """A riverside path link without an access point: its stream's name and the kind in words."""
    what = lg.words(str(kind), lang)
    return f"{names.stream(stream, lang)} {what}" if isinstance(stream, str) else what


def base_layers(city: CityModel, *, lang: str = "ko", names: Names | None = None) -> list[pdk.Layer]:
    """The light static layers under a playback: dong outlines, the named roads and the rain
    gauges (buildings left out: the map is sent again for every frame)."""
    if names is None:
        from .names import Names

        names = Names.of(city)
    outline, _ = dong_layers(city, lang, names)
    rain = city.devices_of_kind("rain_gauge").to_crs("EPSG:4326")
    gauges = [
        {
            "position": [round(g.x, DECIMALS), round(g.y, DECIMALS)],
            "icon": "rain_gauge",
            "label": f"{names.with_id(str(i), lang)} · {lg.enum_word('device_kind', 'rain_gauge', lang)}",
        }
        for i, g in zip(rain["device_id"], rain.geometry, strict=True)
    ]
    return [
        outline,
        main_road_layer(city, layer_id="main_roads", color=ROAD_RGB, named_only=True),
        icon_layer(gauges, "devices", size_px=lg.ICON_PX * 0.55),
    ]


def top_layers(city: CityModel, *, lang: str = "ko", names: Names | None = None) -> list[pdk.Layer]:
    """The place names drawn over a playback: stream names and dong names, in ``lang``."""
    if names is None:
        from .names import Names

        names = Names.of(city)
    _, dong_names = dong_layers(city, lang, names)
    pts = [
        {"position": [round(p.x, DECIMALS), round(p.y, DECIMALS)], "text": names.stream(n, lang)}
        for n, p in stream_label_points(city)
    ]
    return [text_layer(pts, "stream_labels", size_px=15, color=(20, 80, 160, 255)), dong_names]


def evacuation_curve(evacuees: pd.DataFrame | None) -> pd.DataFrame:
    """Cumulative share of evacuees safe against seconds since they were told to leave.

    Columns: evacuation_s, safe (count), share (0-1 of everyone told to leave). Empty without evacuees.
    """
    if evacuees is None or not len(evacuees):
        return pd.DataFrame(columns=["evacuation_s", "safe", "share"])
    t = np.sort(evacuees["evacuation_s"].dropna().to_numpy(float))
    n = len(evacuees)
    return pd.DataFrame({"evacuation_s": t, "safe": np.arange(1, len(t) + 1), "share": np.arange(1, len(t) + 1) / n})
