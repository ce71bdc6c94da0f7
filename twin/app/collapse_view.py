"""The app's collapse page: the monitored slopes and old buildings of a collapse run, coloured by
alarm level at a chosen time, the evacuation playing back, the verdict in plain words, and for one
site its rain, factor of safety, displacement, sensor readings and inverse-velocity forecast, in
Korean and English (twin.models.collapse does the work; this module only shows the run folder).

What is read, and from where (docs/collapse.md):

- **alarm level** of a site at time t: the level of its last ``collapse_alarm`` event at or before
  t (``clear`` is back to none), and ``failed`` from its ``collapse_failure`` event on;
- **truth**: ``fs`` (-), ``displacement_mm`` (mm), ``tilt_ratio`` (-), ``crack_mm`` (mm) of the
  site in ``timeseries.parquet``; **readings**: ``tilt_reading`` (deg), ``crack_reading`` and
  ``extensometer_reading`` (mm) of each sensor (entity = device id);
- **rain** at the site: the scenario's rain field rebuilt from the run's resolved scenario (and its
  ``rainfall.csv``), at the gauge nearest the site, as the model used it (mm/h);
- **inverse velocity** 1/v (h per mm, or h per degree) of each sensor: its readings resampled and
  Savitzky–Golay smoothed as :mod:`twin.control.inverse_velocity` does, and the forecast that
  module issues from the readings up to the site's evacuate alarm (Fukuzono 1985: 1/v falls
  linearly to zero at failure). The line drawn is the least-squares line through the plotted
  points of the fit span that crosses zero at the forecast failure time;
- **building tilt grades** A-E: the policy's tilt-ratio limits (MOLIT guideline as quoted in the
  press: A ≤ 1/750, B ≤ 1/500, C ≤ 1/250, D ≤ 1/150).

Times are hours since the scenario start on every chart (s in the pure helpers unless named
``hour``); the map is WGS84 lon/lat (EPSG:5186 inside the twin).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pydeck as pdk

from ..city import CityModel
from ..control.inverse_velocity import Forecast, ForecastSettings, InverseVelocity
from ..errors import RunFolderError
from ..results import RunData
from .i18n import t as tr
from .legend import DONG_LINE_RGB, STREAM_RGB, LegendItem
from .legend import legend_html as make_legend
from .legend import words as legend_words
from .map_layers import DECIMALS, NO_TILES, CompactDeck, city_layers
from .widgets import translated_select

LEVELS = ("none", "caution", "warning", "evacuate", "failed")
"""Site states on the map, mildest first."""
LEVEL_RGB: dict[str, list[int]] = {
    "none": [60, 140, 90, 200],
    "caution": [240, 200, 0, 230],
    "warning": [255, 130, 0, 240],
    "evacuate": [220, 30, 30, 250],
    "failed": [90, 0, 110, 255],
}
LEVEL_HEX = {k: "#{:02x}{:02x}{:02x}".format(*v[:3]) for k, v in LEVEL_RGB.items()}
SHELTER_RGB = [30, 90, 230, 230]
PERSON_RGB = [230, 0, 120, 240]
SERIES_COLOURS = ["#222222", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
GRADE_RGB = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#fc8d59", "E": "#d73027"}
SECONDS_PER_HOUR = 3600.0
MAP_ZOOM = 12.1  # web-map zoom at which every monitored site fits a 480 px high, full-width map
FRAME_S = 600.0  # s between two frames of the playback (the sensors report every 10 min)
PLAY_FRAMES = 60  # frames of the ▶ animation over the whole run
MAX_PLAY_S = 14 * 86_400.0  # the slider covers at most two weeks (2,016 frames)
PLAY_TICK_S = 0.5  # s of wall time between two frames
CHART_WIDTH = 740  # px: the stacked charts share their time axis, so they share their width (legend beside: < 920 px)
AFTER_FAILURE_H = 3.0  # h: a failed site's charts end this long after its failure
READING_VARIABLES = {"tilt": "tilt_reading", "crack": "crack_reading", "extensometer": "extensometer_reading"}
SENSOR_KINDS = {"tilt": "tilt_sensor", "crack": "crack_sensor", "extensometer": "extensometer"}
"""The device kind of each reading kind (twin.app.names.word group "device_kind")."""
SENSOR_PREFIXES = {"TILT": "tilt_sensor", "CRACK": "crack_sensor", "EXT": "extensometer"}
"""The device kind a sensor id starts with (TILT-SLP-01 ...), for a summary that names no kind."""

WORDS: dict[str, tuple[str, str]] = {
    "caption": (
        "계측 중인 급경사지와 노후 건물을 경보 단계별 색으로 보여 줍니다. 시간을 움직이면 경보와 대피가 "
        "재생됩니다. 지반, 센서와 주민 수는 근사값입니다.",
        "The monitored slopes and old buildings, coloured by alarm level. Move the time to play back the "
        "alarms and the evacuation. Soils, sensors and residents are approximate.",
    ),
    "scenario": ("시나리오", "Scenario"),
    "run": ("실행", "Run"),
    "running": ("계산 중…", "Running…"),
    "invalid": ("입력값 오류", "Invalid input"),
    "no_collapse": ("이 실행에는 붕괴 조기경보 결과가 없습니다.", "This run has no collapse early-warning results."),
    "time_h": ("시작 후 시간 (h)", "Hours since the start"),
    "play": ("▶ 재생", "▶ Play"),
    "pause": ("❚❚ 멈춤", "❚❚ Pause"),
    "none": ("정상", "normal"),
    "caution": ("주의", "caution"),
    "warning": ("경계", "warning"),
    "evacuate": ("대피", "evacuate"),
    "failed": ("붕괴", "failed"),
    "clear": ("해제", "cleared"),
    "slope": ("급경사지", "slope"),
    "building": ("건물", "building"),
    "zone": ("위험구역", "danger zone"),
    "shelter": ("대피소", "shelter"),
    "walker": ("대피 중인 사람", "person on the way to a shelter"),
    "fs": ("안전율 FS", "factor of safety FS"),
    "tilt_ratio": ("기울기", "tilt ratio"),
    "now": ("지금", "now"),
    "walking_now": ("지금 대피소로 가는 사람: {n}명", "On the way to a shelter now: {n}"),
    "counts_now": ("지금: {counts}", "Now: {counts}"),
    "verdict": ("결과", "Outcome"),
    "failed_sites": ("무너진 곳", "Sites failed"),
    "evacuated_in_time": ("붕괴 전에 대피", "Evacuated before failure"),
    "inside": ("붕괴 때 위험구역 안 사람", "People inside at failure"),
    "false_evac": ("헛 대피", "False evacuations"),
    "shortest_margin": ("가장 짧은 대피 여유", "Shortest margin"),
    "minutes": ("분", "min"),
    "passed": ("판정: 통과", "Verdict: passed"),
    "not_passed": ("판정: 실패", "Verdict: failed"),
    "s_none_failed": ("무너진 급경사지나 건물은 없습니다.", "No slope or building failed."),
    "s_all_out": (
        "{sites}이 무너졌고, 위험구역 주민 {people}명 모두 평균 {mean}분 전에 대피했습니다 (가장 짧게는 {min}분 전).",
        "{sites} failed, and all {people} people in their danger zones were out on average {mean} min before "
        "(the shortest {min} min).",
    ),
    "s_all_out_no_margin": (
        "{sites}이 무너졌고, 위험구역 주민 {people}명 모두 무너지기 전에 대피했습니다.",
        "{sites} failed, and all {people} people in their danger zones were out before.",
    ),
    "s_nobody_there": (
        "{sites}이 무너졌고, 그 위험구역에는 사람이 없었습니다.",
        "{sites} failed; nobody was in their danger zones.",
    ),
    "one_site": ("1곳", "1 site"),
    "many_sites": ("{n}곳", "{n} sites"),
    "s_inside": (
        "{sites}이 무너졌고, 그때 {inside}명이 아직 위험구역 안에 있었습니다.",
        "{sites} failed, and {inside} people were still inside a danger zone when they did.",
    ),
    "s_not_evacuated": (
        "{sites}은 무너지기 전에 대피 경보가 없었습니다.",
        "{sites} failed without an evacuation alarm before.",
    ),
    "s_false": (
        "무너지지 않은 {sites}에 대피 경보가 나갔습니다.",
        "{sites} that stood were evacuated all the same.",
    ),
    "s_no_false": ("무너지지 않은 곳에 대피 경보가 나간 일은 없습니다.", "No site that stood was evacuated."),
    "s_faulty": (
        "{site}의 고장 난 {sensor}를 고장 {minutes}분 만에 의심 센서로 찾아냈습니다.",
        "The faulty {sensor} on {site} was called suspect {minutes} min after it went wrong.",
    ),
    "s_faulty_missed": (
        "{site}의 고장 난 {sensor}는 끝까지 의심받지 않았습니다.",
        "The faulty {sensor} on {site} was never called suspect.",
    ),
    "site_table": ("무너진 곳별 결과", "Each failed site"),
    "col_site": ("장소", "Site"),
    "col_failure_h": ("붕괴 (시작 후 h)", "Failure (h after the start)"),
    "col_evacuate_h": ("대피 경보 (시작 후 h)", "Evacuate alarm (h after the start)"),
    "col_margin_min": ("대피 여유 (분)", "Margin (min)"),
    "col_people": ("위험구역 주민 (명)", "People in the zone"),
    "col_inside": ("붕괴 때 안에 있던 사람 (명)", "People inside at failure"),
    "site_pick": ("장소 (경보가 높았던 곳부터)", "Site (highest alarm first)"),
    "site_worst": ("가장 높은 단계", "highest level"),
    "rain": ("강우 (mm/h, 가장 가까운 우량계)", "Rain (mm/h, nearest gauge)"),
    "rain_axis": ("강우 mm/h", "rain mm/h"),
    "fs_axis": ("안전율", "FS"),
    "fs_title": ("안전율 FS(t): 1 아래로 내려가면 붕괴", "Factor of safety FS(t): failure when it falls to 1"),
    "disp_title": (
        "변위 (mm): 실제값과 각 센서 (설치 때부터의 변화)",
        "Displacement (mm): the truth and each sensor (change since installed)",
    ),
    "disp_axis": ("변위 mm", "displacement mm"),
    "tiltdeg_title": ("경사계 (설치 때부터 기운 각도, °)", "Tilt sensors (change since installed, °)"),
    "tiltdeg_axis": ("기울기 °", "tilt °"),
    "iv_title": (
        "역속도 1/v와 붕괴 시각 예측 (대피 경보 때)",
        "Inverse velocity 1/v and the failure-time forecast (at the evacuate alarm)",
    ),
    "iv_axis_mm": ("1/v (h/mm)", "1/v (h per mm)"),
    "iv_axis_deg": ("1/v (h/°)", "1/v (h per degree)"),
    "iv_none": (
        "이 장소의 센서는 가속하지 않아 붕괴 시각을 예측하지 않았습니다.",
        "This site's sensors did not accelerate: no failure time was forecast.",
    ),
    "iv_error": (
        "{sensor}: 예측 붕괴 {fc:.2f} h, 실제 {true:.2f} h (남은 시간의 {err:+.0f} %)",
        "{sensor}: forecast failure {fc:.2f} h, true {true:.2f} h ({err:+.0f} % of the time left)",
    ),
    "iv_forecast": ("{sensor}: 예측 붕괴 {fc:.2f} h", "{sensor}: forecast failure {fc:.2f} h"),
    "tilt_title": (
        "건물 기울기 (실제값, 경사계)와 등급 A-E",
        "Building tilt ratio (truth, tilt sensor) and grades A-E",
    ),
    "tilt_axis": ("기울기 (수평/수직)", "tilt ratio (horizontal/vertical)"),
    "crack_title": ("균열 폭 (mm, 실제값과 균열계)", "Crack width (mm, truth and crack gauge)"),
    "crack_axis": ("균열 mm", "crack mm"),
    "truth": ("실제값", "truth"),
    "series": ("계열", "series"),
    "failure": ("붕괴", "failure"),
    "alarm": ("경보", "alarm"),
    "grade": ("등급", "grade"),
    "hours": ("시작 후 시간 (h)", "hours since the start"),
    "people_unit": ("명", "people"),
    "level_title": ("경보 단계", "Alarm level"),
    "map_title": ("지도", "Map"),
}


def words(key: str, lang: str) -> str:
    """The Korean or English words of ``key`` in :data:`WORDS`."""
    ko, en = WORDS[key]
    return ko if lang == "ko" else en


# --- scenarios --------------------------------------------------------------------------------
def collapse_scenarios() -> list[Path]:
    """The shipped collapse scenarios (scenarios/collapse/*.yaml), by file name."""
    from ..resources import shipped_scenarios

    return sorted((shipped_scenarios() / "collapse").glob("*.yaml"))


def scenario_title(path: str | Path, lang: str) -> str:
    """A scenario file's ``name`` in ``lang`` (its file name made readable when it has none)."""
    from .names import scenario_label

    return scenario_label(Path(path), lang)


def _names(city: CityModel):
    """The city's cached :class:`~twin.app.names.Names`."""
    from .form_inputs import names_of

    return names_of(city)


def site_name(summary_row: dict[str, Any], lang: str, names=None) -> str:
    """A site's name in ``lang``: from ``names`` (:class:`~twin.app.names.Names`) when given,
    else the summary row's own name (the site id when it has none)."""
    sid = str(summary_row.get("site_id") or "")
    if names is not None and sid:
        return str(names.entity(sid, lang))
    return str(summary_row.get("name") or sid)


def sensor_kind_words(sensor_id: str, lang: str, names=None) -> str:
    """What a sensor is, in words ("crack sensor", "기울기 센서"), from its id's prefix; else its
    name from ``names``; else the id."""
    from .names import word

    kind = SENSOR_PREFIXES.get(str(sensor_id).split("-")[0].upper())
    if kind is not None:
        return word("device_kind", kind, lang)
    return str(names.entity(sensor_id, lang)) if names is not None else str(sensor_id)


def sensor_labels(readings: dict[str, pd.DataFrame], lang: str) -> dict[str, str]:
    """One site's sensors (:func:`sensor_readings`) -> a short label each: the kind in words,
    numbered when the site has two of a kind ("crack sensor 1", "crack sensor 2")."""
    from .names import word

    kinds = {s: SENSOR_KINDS.get(str(r["kind"].iloc[0]), "") if len(r) else "" for s, r in readings.items()}
    out = {}
    for s in sorted(readings):
        same = sorted(x for x, k in kinds.items() if k == kinds[s])
        text = word("device_kind", kinds[s], lang) if kinds[s] else sensor_kind_words(s, lang)
        out[s] = f"{text} {same.index(s) + 1}" if len(same) > 1 else text
    return out


def scenario_policy(path: str | Path):
    """The collapse policy a scenario file names (:class:`CollapsePolicy`), else the reference one."""
    from ..control.collapse_policy import load_collapse_policy
    from ..resources import shipped_scenarios
    from ..scenario import load_scenario

    sc = load_scenario(path)
    if sc.collapse is not None and sc.collapse.policy is not None:
        return load_collapse_policy(sc.resolve_path(sc.collapse.policy))
    return load_collapse_policy(shipped_scenarios() / "policies" / "reference_collapse.yaml")


# --- alarm levels -------------------------------------------------------------------------------
def _data(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str) or not raw:
        return {}
    out = json.loads(raw)
    return out if isinstance(out, dict) else {}


def alarm_steps(events: pd.DataFrame) -> dict[str, list[tuple[float, str]]]:
    """Per site, (time s, state after) of every change: each ``collapse_alarm`` (its level;
    ``clear`` is ``none``), then ``failed`` at its ``collapse_failure``. Sorted by time; an
    alarm and a failure at the same time put the failure last."""
    steps: dict[str, list[tuple[float, int, str]]] = {}
    sel = events[events["kind"].isin(["collapse_alarm", "collapse_failure"])]
    for t, kind, site, raw in zip(sel["time_s"], sel["kind"], sel["entity_id"], sel["data"], strict=True):
        if kind == "collapse_failure":
            steps.setdefault(str(site), []).append((float(t), 1, "failed"))
            continue
        level = str(_data(raw).get("level", ""))
        level = "none" if level == "clear" else level
        if level not in LEVELS:
            raise RunFolderError(
                f"events.parquet: collapse_alarm {site}: data.level: got {level!r}: "
                "expected caution, warning, evacuate or clear"
            )
        steps.setdefault(str(site), []).append((float(t), 0, level))
    return {site: [(t, lv) for t, _, lv in sorted(rows, key=lambda r: (r[0], r[1]))] for site, rows in steps.items()}


def level_at(steps: dict[str, list[tuple[float, str]]], site_id: str, t_s: float) -> str:
    """The state of ``site_id`` at ``t_s`` (s): one of :data:`LEVELS`; failed stays failed."""
    level = "none"
    for when, lv in steps.get(site_id, ()):
        if when > t_s:
            break
        if level != "failed":
            level = lv
    return level


def worst_level(steps: dict[str, list[tuple[float, str]]], site_id: str) -> str:
    """The highest state ``site_id`` reached over the whole run."""
    return max((lv for _, lv in steps.get(site_id, ())), key=LEVELS.index, default="none")


def site_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-site rows of ``summary.json`` → ``collapse`` (empty without that section)."""
    return list((summary.get("collapse") or {}).get("sites") or [])


def sites_by_level(summary: dict[str, Any], steps: dict[str, list[tuple[float, str]]]) -> list[str]:
    """Site ids, the highest state reached first (failed, evacuate, ...), then by name."""
    rows = site_rows(summary)
    return [
        r["site_id"]
        for r in sorted(rows, key=lambda r: (-LEVELS.index(worst_level(steps, r["site_id"])), r["name"], r["site_id"]))
    ]


# --- the verdict --------------------------------------------------------------------------------
def verdict_numbers(summary: dict[str, Any]) -> dict[str, Any]:
    """The run's outcome: sites failed, evacuated in time, people in the failed sites' zones and
    inside at failure, false evacuations, the margins (min) of the failed sites evacuated in time,
    the faulty sensors (sensor, minutes until called suspect or None, site name, site id),
    whether the verdict passed."""
    c = summary.get("collapse") or {}
    v = c.get("verdict") or {}
    rows = {r["site_id"]: r for r in site_rows(summary)}
    failed = [s for s in v.get("sites", []) if s.get("failed")]
    margins = [
        s["margin_s"] / 60.0 for s in failed if s.get("evacuated_before_failure") and s.get("margin_s") is not None
    ]
    faulty = [
        (
            f["sensor"],
            None if f.get("detected_after_s") is None else f["detected_after_s"] / 60.0,
            str(rows.get(f.get("site_id"), {}).get("name") or f.get("site_id") or ""),
            str(f.get("site_id") or ""),
        )
        for f in v.get("faulty_sensors", [])
    ]
    return {
        "failed": int(v.get("failed_sites", c.get("failed", 0)) or 0),
        "evacuated_in_time": int(v.get("evacuated_in_time", c.get("evacuated_in_time", 0)) or 0),
        "people": sum(int(rows.get(s["site_id"], {}).get("people_in_zone") or 0) for s in failed),
        "inside": int(c.get("inside_at_failure") or 0),
        "false_evacuations": int(v.get("false_evacuations", c.get("false_evacuations", 0)) or 0),
        "margins_min": margins,
        "faulty": faulty,
        "passed": v.get("passed"),
    }


def verdict_sentences(summary: dict[str, Any], lang: str, names=None) -> list[str]:
    """The outcome in plain sentences for the living lab ("9곳이 무너졌고, ... 평균 N분 전에 대피했습니다");
    sites by their name in ``lang`` when ``names`` (:class:`~twin.app.names.Names`) is given,
    sensors by what they are."""
    k = verdict_numbers(summary)

    def sites(n: int) -> str:
        return words("one_site" if n == 1 else "many_sites", lang).format(n=n)

    out = []
    n = k["failed"]
    if n == 0:
        out.append(words("s_none_failed", lang))
    elif k["inside"] == 0 and k["evacuated_in_time"] == n:
        m = k["margins_min"]
        if k["people"] == 0:
            out.append(words("s_nobody_there", lang).format(n=n, sites=sites(n)))
        elif not m:  # no margins in the summary: none made up
            out.append(words("s_all_out_no_margin", lang).format(n=n, sites=sites(n), people=k["people"]))
        else:
            out.append(
                words("s_all_out", lang).format(
                    n=n, sites=sites(n), people=k["people"], mean=round(float(np.mean(m))), min=round(min(m))
                )
            )
    else:
        if k["inside"]:
            out.append(words("s_inside", lang).format(n=n, sites=sites(n), inside=k["inside"]))
        missed = n - k["evacuated_in_time"]
        if missed:
            out.append(words("s_not_evacuated", lang).format(k=missed, sites=sites(missed)))
    f = k["false_evacuations"]
    out.append(words("s_false", lang).format(f=f, sites=sites(f)) if f else words("s_no_false", lang))
    for sensor, minutes, name, sid in k["faulty"]:
        site = site_name({"site_id": sid, "name": name}, lang, names) if sid else name
        what = sensor_kind_words(sensor, lang, names)
        if minutes is None:
            out.append(words("s_faulty_missed", lang).format(sensor=what, site=site))
        else:
            out.append(words("s_faulty", lang).format(sensor=what, site=site, minutes=round(minutes)))
    return out


def failed_table(summary: dict[str, Any], lang: str, names=None) -> list[dict[str, Any]]:
    """One row per failed site: its name (in ``lang`` with ``names``), failure and evacuate alarm
    (h since the start), margin (min), people in its zone and inside at failure."""
    out = []
    for r in site_rows(summary):
        if r.get("failure_s") is None or "inside_at_failure" not in r:
            continue
        ev = r.get("evacuated_s")
        margin = r.get("evacuate_margin_s")
        out.append(
            {
                words("col_site", lang): site_name(r, lang, names),
                words("col_failure_h", lang): round(r["failure_s"] / SECONDS_PER_HOUR, 2),
                words("col_evacuate_h", lang): None if ev is None else round(ev / SECONDS_PER_HOUR, 2),
                words("col_margin_min", lang): None if margin is None else round(margin / 60.0),
                words("col_people", lang): r.get("people_in_zone"),
                words("col_inside", lang): r.get("inside_at_failure"),
            }
        )
    return out


# --- the map ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SiteShape:
    """Where a monitored site is drawn (WGS84): its outline, its danger zone, its centre."""

    site_id: str
    kind: str
    name: str
    outline: list[list[float]]
    zone: list[list[float]]
    lonlat: list[float]


def _ring(geom) -> list[list[float]]:
    g = max(geom.geoms, key=lambda p: p.area) if geom.geom_type == "MultiPolygon" else geom
    return np.round(np.asarray(g.exterior.coords)[:, :2], DECIMALS).tolist()


def site_shapes(city: CityModel) -> dict[str, SiteShape]:
    """Every monitored site of ``city`` (twin.models.monitored_sites, default danger zones) by id."""
    import geopandas as gpd

    from ..models.monitored_sites import monitored_sites

    sites = monitored_sites(city)
    if not sites:
        return {}
    crs = city.layer("devices").crs
    polys = gpd.GeoSeries([s.geometry for s in sites], crs=crs).to_crs("EPSG:4326")
    zones = gpd.GeoSeries([s.danger_zone for s in sites], crs=crs).to_crs("EPSG:4326")
    return {
        s.site_id: SiteShape(
            s.site_id,
            s.kind,
            s.name,
            _ring(p),
            _ring(z),
            [round(p.centroid.x, DECIMALS + 1), round(p.centroid.y, DECIMALS + 1)],
        )
        for s, p, z in zip(sites, polys, zones, strict=True)
    }


def value_at(run: RunData, variable: str, entity: str, t_s: float) -> float | None:
    """The last recorded ``variable`` of ``entity`` at or before ``t_s`` (s); None before any or NaN."""
    ts = run.timeseries
    sel = ts[(ts["variable"] == variable) & (ts["entity_id"] == entity) & (ts["time_s"] <= t_s)]
    if not len(sel):
        return None
    v = float(sel["value"].iloc[-1])
    return None if math.isnan(v) else v


def people_at(run: RunData, t_s: float) -> pd.DataFrame:
    """Pedestrians at the last trajectory sample at or before ``t_s`` (lon, lat; empty when none)."""
    tr = run.trajectories
    if tr is None or not len(tr):
        return pd.DataFrame(columns=["lon", "lat"])
    times = np.sort(tr["time_s"].unique())
    i = int(np.searchsorted(times, t_s, side="right")) - 1
    if i < 0 or t_s - times[i] > 2 * FRAME_S:
        return pd.DataFrame(columns=["lon", "lat"])
    return tr.loc[tr["time_s"] == times[i], ["lon", "lat"]].reset_index(drop=True)


def walking_at(run: RunData, t_s: float) -> int:
    """How many evacuees are on their way to a shelter at ``t_s`` (s): set out, not yet arrived."""
    ev = run.evacuees
    if ev is None or not len(ev) or "evacuating_since_s" not in ev:
        return 0
    since = ev["evacuating_since_s"].to_numpy(float)
    arrived = ev["arrived_s"].to_numpy(float) if "arrived_s" in ev else np.full(len(ev), np.inf)
    arrived = np.where(np.isnan(arrived), np.inf, arrived)
    return int(np.sum((since <= t_s) & (t_s < arrived)))


def _tooltip(shape: SiteShape, level: str, run: RunData, t_s: float, lang: str, names=None) -> str:
    """A site's tooltip: its name (id), kind and state at ``t_s`` (s), and its FS or tilt ratio."""
    name = shape.name if names is None else names.entity(shape.site_id, lang)
    head = f"{name} ({shape.site_id}), {words(shape.kind, lang)}: {words(level, lang)}"
    if shape.kind == "slope":
        fs = value_at(run, "fs", shape.site_id, t_s)
        return head + ("" if fs is None else f", {words('fs_axis', lang)} {fs:.2f}")
    tilt = value_at(run, "tilt_ratio", shape.site_id, t_s)
    return head + ("" if not tilt else f", {words('tilt_ratio', lang)} 1/{1 / tilt:.0f}")


def collapse_deck(
    city: CityModel, run: RunData, shapes: dict[str, SiteShape], t_s: float, lang: str, *, focus: str | None = None
) -> pdk.Deck:
    """The map at ``t_s`` (s): every site of the run (slopes as their danger zone and outline,
    buildings as their footprint, each with a point) coloured by its state then, the shelters,
    and the people walking at the last trajectory sample (WGS84, no base-map tiles)."""
    steps = alarm_steps(run.events)
    named = _names(city)
    ids = [r["site_id"] for r in site_rows(run.summary) if r["site_id"] in shapes]
    zones, outlines, points = [], [], []
    for sid in ids:
        s = shapes[sid]
        level = level_at(steps, sid, t_s)
        rgb = LEVEL_RGB[level]
        label = _tooltip(s, level, run, t_s, lang, named)
        if s.kind == "slope":
            zones.append({"polygon": s.zone, "color": [*rgb[:3], 60], "label": f"{label} · {words('zone', lang)}"})
        outlines.append({"polygon": s.outline, "color": rgb, "label": label})
        points.append({"position": s.lonlat, "color": rgb, "label": label})
    layers = [
        *city_layers(city, lang=lang, show={"dongs", "streams"}),  # where the city is, for orientation
        pdk.Layer(
            "PolygonLayer",
            zones,
            id="danger_zones",
            get_polygon="polygon",
            get_fill_color="color",
            get_line_color=[80, 80, 80, 160],
            stroked=True,
            line_width_min_pixels=1,
            pickable=True,
        ),
        pdk.Layer(
            "PolygonLayer",
            outlines,
            id="sites",
            get_polygon="polygon",
            get_fill_color="color",
            stroked=False,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            points,
            id="site_points",
            get_position="position",
            get_fill_color="color",
            get_line_color=[0, 0, 0, 255],
            stroked=True,
            line_width_min_pixels=1,
            get_radius=20,
            radius_min_pixels=5,
            pickable=True,
        ),
    ]
    shelters = city.facilities_of_kind("shelter")
    if len(shelters):
        w = shelters.to_crs("EPSG:4326")
        data = [
            {
                "position": [round(g.x, DECIMALS), round(g.y, DECIMALS)],
                "label": f"{words('shelter', lang)}: {named.with_id(str(f), lang)}",
            }
            for g, f in zip(w.geometry, shelters["facility_id"], strict=True)
        ]
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data,
                id="shelters",
                get_position="position",
                get_fill_color=SHELTER_RGB,
                get_radius=15,
                radius_min_pixels=3,
                pickable=True,
            )
        )
    ppl = people_at(run, t_s)
    data = [{"position": [float(a), float(b)]} for a, b in zip(ppl["lon"], ppl["lat"], strict=True)]
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            data,
            id="people",
            get_position="position",
            get_fill_color=PERSON_RGB,
            get_radius=4,
            radius_min_pixels=2,
            pickable=False,
        )
    )
    if focus is not None and focus in shapes:
        lon, lat = shapes[focus].lonlat
        view = pdk.ViewState(longitude=lon, latitude=lat, zoom=15.5)
    else:
        pts = np.array([shapes[s].lonlat for s in ids]) if ids else np.array([[127.05, 37.74]])
        view = pdk.ViewState(longitude=float(pts[:, 0].mean()), latitude=float(pts[:, 1].mean()), zoom=MAP_ZOOM)
    return CompactDeck(
        layers=layers, initial_view_state=view, map_provider=None, map_style=NO_TILES, tooltip={"text": "{label}"}
    )


def legend_html(lang: str) -> str:
    """The map's legend (a ``<div class="twin-legend">``): a swatch and words for every state, the
    danger zones, the shelters, the people walking, the dongs and the streams."""
    items = [LegendItem("title", words("level_title", lang))]
    items += [LegendItem("dot", words(lv, lang), tuple(LEVEL_RGB[lv]), 6) for lv in LEVELS]
    items += [
        LegendItem("title", words("map_title", lang)),
        LegendItem("area", words("zone", lang), (220, 30, 30, 60)),
        LegendItem("dot", words("shelter", lang), tuple(SHELTER_RGB), 4),
        LegendItem("dot", words("walker", lang), tuple(PERSON_RGB), 3),
        LegendItem("area", legend_words("dong_names", lang), DONG_LINE_RGB),
        LegendItem("line", legend_words("streams", lang), STREAM_RGB, 5),
    ]
    return make_legend(items, lang)


def state_counts(run: RunData, t_s: float, lang: str) -> str:
    """How many sites are in each state at ``t_s`` (s), in words."""
    steps = alarm_steps(run.events)
    counts = {lv: 0 for lv in LEVELS}
    for r in site_rows(run.summary):
        counts[level_at(steps, r["site_id"], t_s)] += 1
    return words("counts_now", lang).format(counts=", ".join(f"{words(lv, lang)} {counts[lv]}" for lv in LEVELS))


# --- one site's series --------------------------------------------------------------------------
def site_row(summary: dict[str, Any], site_id: str) -> dict[str, Any]:
    """The summary row of ``site_id``; RunFolderError when the run has no such site."""
    for r in site_rows(summary):
        if r["site_id"] == site_id:
            return r
    raise RunFolderError(f"summary.json: collapse.sites: no site {site_id!r}")


def truth_series(run: RunData, site_id: str, variable: str) -> pd.DataFrame:
    """The truth ``variable`` (fs, displacement_mm, tilt_ratio, crack_mm) of a site: hour, value."""
    ts = run.timeseries
    sel = ts[(ts["variable"] == variable) & (ts["entity_id"] == site_id)].sort_values("time_s", kind="stable")
    return pd.DataFrame(
        {"hour": sel["time_s"].to_numpy(float) / SECONDS_PER_HOUR, "value": sel["value"].to_numpy(float)}
    )


def sensor_readings(run: RunData, row: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Each sensor's readings of a site (its summary ``row``): sensor id -> time_s, value, kind."""
    ts = run.timeseries
    out = {}
    for sensor in row.get("sensors", []):
        sel = ts[(ts["entity_id"] == sensor) & ts["variable"].isin(list(READING_VARIABLES.values()))]
        if not len(sel):
            continue
        var = str(sel["variable"].iloc[0])
        kind = next(k for k, v in READING_VARIABLES.items() if v == var)
        sel = sel.sort_values("time_s", kind="stable").dropna(subset=["value"])
        out[sensor] = pd.DataFrame(
            {"time_s": sel["time_s"].to_numpy(float), "value": sel["value"].to_numpy(float), "kind": kind}
        )
    return out


def site_rain(run: RunData, city: CityModel, site_id: str) -> pd.DataFrame:
    """The rain at the gauge nearest ``site_id`` as the run used it: hour (interval start),
    end (hour), mm_h. Rebuilt from the run's resolved scenario (and its rainfall.csv); empty
    without rain."""
    from ..models.flood import rain_gauges
    from ..models.monitored_sites import monitored_sites, nearest_gauge
    from ..models.rain_field import rain_field
    from ..scenario import load_scenario

    sc = load_scenario(run.folder / "scenario.resolved.yaml", overrides=["collapse.policy=null"])
    csv = sc.resolve_path(sc.rainfall.csv) if sc.rainfall.kind == "observed" and sc.rainfall.csv else None
    gauges = rain_gauges(city)
    field = rain_field(sc.rainfall, gauges, csv_path=csv, start=sc.start)
    empty = pd.DataFrame(columns=["hour", "end", "mm_h"])
    if not field:
        return empty
    site = next((s for s in monitored_sites(city) if s.site_id == site_id), None)
    xy = {str(i): (g.x, g.y) for i, g in zip(gauges["device_id"], gauges.geometry, strict=True) if str(i) in field}
    gauge = nearest_gauge(site, xy) if site is not None else None
    h = field[gauge] if gauge is not None else next(iter(field.values()))
    depth = np.asarray(h.depths_mm, dtype=float)
    start = (h.offset_s + h.interval_s * np.arange(len(depth))) / SECONDS_PER_HOUR
    return pd.DataFrame(
        {"hour": start, "end": start + h.interval_s / SECONDS_PER_HOUR, "mm_h": depth * SECONDS_PER_HOUR / h.interval_s}
    )


# --- inverse velocity -----------------------------------------------------------------------------
def inverse_velocity_points(t_s: np.ndarray, values: np.ndarray, settings: ForecastSettings) -> pd.DataFrame:
    """1/v of one sensor's readings (times s, values in mm or degrees): resampled to
    ``settings.step_s``, smoothed by Savitzky–Golay over ``settings.smoothing_s`` (centred windows,
    ``mode="interp"`` at the ends, as :mod:`twin.control.inverse_velocity`), the speed |v| in unit/h.
    Columns: time_s, hour, speed (unit/h), inv_v (h per unit; NaN where the speed is 0)."""
    from scipy.signal import savgol_filter

    t = np.asarray(t_s, dtype=float)
    x = np.asarray(values, dtype=float)
    ok = np.isfinite(t) & np.isfinite(x)
    t, x = t[ok], x[ok]
    w = settings.window_points
    if len(t) < 2:
        return pd.DataFrame(columns=["time_s", "hour", "speed", "inv_v"])
    grid = np.arange(t[0], t[-1] + 1e-9, settings.step_s)
    if len(grid) < w:
        return pd.DataFrame(columns=["time_s", "hour", "speed", "inv_v"])
    xs = np.interp(grid, t, x)
    v = savgol_filter(xs, w, settings.polyorder, deriv=1, delta=settings.step_s, mode="interp")
    speed = np.abs(v) * SECONDS_PER_HOUR
    with np.errstate(divide="ignore"):
        inv = np.where(speed > 0, 1.0 / speed, np.nan)
    return pd.DataFrame({"time_s": grid, "hour": grid / SECONDS_PER_HOUR, "speed": speed, "inv_v": inv})


def forecast_at(t_s: np.ndarray, values: np.ndarray, settings: ForecastSettings, issued_s: float) -> Forecast | None:
    """The inverse-velocity forecast (:class:`twin.control.inverse_velocity.InverseVelocity`) of
    one sensor's readings up to ``issued_s`` (s), as the early warning would issue it then."""
    iv = InverseVelocity(settings)
    for t, x in zip(np.asarray(t_s, float), np.asarray(values, float), strict=True):
        if t > issued_s:
            break
        iv.add(float(t), float(x))
    return iv.forecast(issued_s)


def forecast_line(points: pd.DataFrame, forecast: Forecast, settings: ForecastSettings) -> pd.DataFrame:
    """The straight 1/v line of ``forecast``: least squares through the ``points``
    (:func:`inverse_velocity_points`) of its fit span (from the later of its onset and
    ``fit_window_s`` before it was issued, up to its issue), constrained to cross zero at its
    failure time. Columns hour, inv_v: two rows, the fit start and the failure (inv_v 0)."""
    t0 = max(forecast.onset_s, forecast.issued_s - settings.fit_window_s)
    sel = points[(points["time_s"] >= t0) & (points["time_s"] <= forecast.issued_s)].dropna(subset=["inv_v"])
    u = sel["time_s"].to_numpy(float) - forecast.failure_s
    if not len(u) or not float(u @ u) > 0:
        return pd.DataFrame(columns=["hour", "inv_v"])
    b = float(u @ sel["inv_v"].to_numpy(float)) / float(u @ u)  # h per unit per s (negative)
    return pd.DataFrame(
        {
            "hour": [t0 / SECONDS_PER_HOUR, forecast.failure_s / SECONDS_PER_HOUR],
            "inv_v": [b * (t0 - forecast.failure_s), 0.0],
        }
    )


def issue_time(row: dict[str, Any]) -> float | None:
    """When a site's forecast is redrawn (s): its evacuate alarm, else its last warning before any
    failure; None without either."""
    if row.get("evacuated_s") is not None:
        return float(row["evacuated_s"])
    fail = row.get("failure_s")
    warns = [a["t_s"] for a in row.get("alarms", []) if a["level"] == "warning" and (fail is None or a["t_s"] < fail)]
    return float(warns[-1]) if warns else None


def site_inverse_velocity(
    run: RunData, row: dict[str, Any], settings: ForecastSettings
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Forecast]]:
    """Every sensor of a site (its summary ``row``): its 1/v points (sensor, hour, inv_v), the
    forecast line of each sensor that forecasts at :func:`issue_time` (sensor, hour, inv_v), and
    those forecasts by sensor."""
    issued = issue_time(row)
    pts, lines, fcs = [], [], {}
    for sensor, r in sensor_readings(run, row).items():
        p = inverse_velocity_points(r["time_s"].to_numpy(), r["value"].to_numpy(), settings)
        pts.append(p.assign(sensor=sensor))
        if issued is None:
            continue
        f = forecast_at(r["time_s"].to_numpy(), r["value"].to_numpy(), settings, issued)
        if f is None:
            continue
        fcs[sensor] = f
        lines.append(forecast_line(p, f, settings).assign(sensor=sensor))
    cols = ["sensor", "hour", "inv_v"]
    return (
        pd.concat(pts, ignore_index=True)[["sensor", "hour", "inv_v", "time_s"]] if pts else pd.DataFrame(columns=cols),
        pd.concat(lines, ignore_index=True)[cols] if lines else pd.DataFrame(columns=cols),
        fcs,
    )


# --- charts ---------------------------------------------------------------------------------------
def _x(lang: str, duration_h: float, title: bool) -> alt.X:
    return alt.X("hour:Q", title=words("hours", lang) if title else None, scale=alt.Scale(domain=[0, duration_h]))


def _marks(row: dict[str, Any], lang: str, t_h: float | None) -> list[alt.Chart]:
    """Vertical rules: the site's alarms (coloured by level), its failure, and the cursor."""
    rows = [
        {
            "hour": a["t_s"] / SECONDS_PER_HOUR,
            "level": "none" if a["level"] == "clear" else a["level"],
            "what": f"{words('alarm', lang)}: {words(a['level'], lang)}",
        }
        for a in row.get("alarms", [])
    ]
    if row.get("failure_s") is not None:
        rows.append({"hour": row["failure_s"] / SECONDS_PER_HOUR, "level": "failed", "what": words("failure", lang)})
    out = []
    if rows:
        marks = pd.DataFrame(rows).assign(rgb=lambda d: [LEVEL_HEX[lv] for lv in d["level"]])
        out.append(  # the colour is the data's own (scale=None): it shares no scale with the series
            alt.Chart(marks)
            .mark_rule(clip=True, strokeDash=[5, 3], strokeWidth=1.5)
            .encode(x="hour:Q", color=alt.Color("rgb:N", scale=None, legend=None), tooltip=["what", "hour"])
        )
    if t_h is not None:
        out.append(alt.Chart(pd.DataFrame({"hour": [t_h]})).mark_rule(clip=True, color="black").encode(x="hour:Q"))
    return out


def site_charts(
    run: RunData,
    city: CityModel,
    site_id: str,
    lang: str,
    policy,
    *,
    t_h: float | None = None,
    rain: pd.DataFrame | None = None,
) -> alt.VConcatChart:
    """The stacked charts of one site, sharing their time axis (h): rain (mm/h), then for a slope
    FS(t) with the line FS = 1, displacement (truth and each crack gauge / extensometer as its
    change since the first reading), the tilt sensors' change (°) and 1/v with the forecast lines;
    for a building its tilt ratio over the grade bands A-E and its crack width. Alarms and the
    failure are dashed rules, the chosen time ``t_h`` a black rule."""
    row = site_row(run.summary, site_id)
    duration_h = float(run.summary.get("scenario", {}).get("duration_s") or 0.0) / SECONDS_PER_HOUR
    duration_h = duration_h or float(run.timeseries["time_s"].max()) / SECONDS_PER_HOUR
    if row.get("failure_s") is not None:  # a failed site: up to a few hours after its failure
        duration_h = min(duration_h, float(np.ceil(row["failure_s"] / SECONDS_PER_HOUR + AFTER_FAILURE_H)))
    marks = _marks(row, lang, t_h)
    readings = sensor_readings(run, row)
    labels = sensor_labels(readings, lang)  # the sensors by what they are, not by id
    readings = {labels[s]: r for s, r in readings.items()}
    truth = words("truth", lang)
    domain = [truth, *sorted(readings)]  # one colour per series on every chart of the site
    palette = SERIES_COLOURS[: len(domain)]
    colours = alt.Scale(domain=domain, range=palette)
    series = alt.Color("series:N", title=words("series", lang), scale=colours)
    charts: list[Any] = []

    def stack(layers: list[Any], title: str, height: int = 150) -> None:
        layer = alt.layer(*layers, *marks).resolve_scale(color="independent")  # the marks' colours are their own
        charts.append(layer.properties(title=title, height=height, width=CHART_WIDTH))

    rain = site_rain(run, city, site_id) if rain is None else rain
    if len(rain):
        bars = (
            alt.Chart(rain)
            .mark_bar(clip=True, color="#2c7fb8")
            .encode(
                x=_x(lang, duration_h, False),
                x2="end:Q",
                y=alt.Y("mm_h:Q", title=words("rain_axis", lang)),
                y2=alt.datum(0),
                tooltip=[alt.Tooltip("hour:Q", format=".1f"), alt.Tooltip("mm_h:Q", format=".1f")],
            )
        )
        stack([bars], words("rain", lang), 110)
    if row["kind"] == "slope":
        fs = truth_series(run, site_id, "fs").dropna()
        line = (
            alt.Chart(fs)
            .mark_line(clip=True, color="#333")
            .encode(
                x=_x(lang, duration_h, False),
                y=alt.Y("value:Q", title=words("fs_axis", lang), scale=alt.Scale(zero=False)),
                tooltip=[alt.Tooltip("hour:Q", format=".2f"), alt.Tooltip("value:Q", format=".3f")],
            )
        )
        one = (
            alt.Chart(pd.DataFrame({"value": [1.0]}))
            .mark_rule(clip=True, color=LEVEL_HEX["failed"])
            .encode(y="value:Q")
        )
        stack([line, one], words("fs_title", lang))
        disp = truth_series(run, site_id, "displacement_mm").dropna().assign(series=truth)
        parts = [disp]
        for sensor, r in readings.items():
            if r["kind"].iloc[0] != "tilt" and len(r):
                parts.append(
                    pd.DataFrame(
                        {
                            "hour": r["time_s"] / SECONDS_PER_HOUR,
                            "value": r["value"] - r["value"].iloc[0],
                            "series": sensor,
                        }
                    )
                )
        d = pd.concat(parts, ignore_index=True)
        stack(
            [
                alt.Chart(d)
                .mark_line(clip=True)
                .encode(
                    x=_x(lang, duration_h, False),
                    y=alt.Y("value:Q", title=words("disp_axis", lang)),
                    color=series,
                    tooltip=["series", alt.Tooltip("hour:Q", format=".2f"), alt.Tooltip("value:Q", format=".2f")],
                )
            ],
            words("disp_title", lang),
        )
        tilts = [
            pd.DataFrame(
                {"hour": r["time_s"] / SECONDS_PER_HOUR, "value": r["value"] - r["value"].iloc[0], "series": s}
            )
            for s, r in readings.items()
            if r["kind"].iloc[0] == "tilt" and len(r)
        ]
        if tilts:
            d = pd.concat(tilts, ignore_index=True)
            stack(
                [
                    alt.Chart(d)
                    .mark_line(clip=True)
                    .encode(
                        x=_x(lang, duration_h, False),
                        y=alt.Y("value:Q", title=words("tiltdeg_axis", lang)),
                        color=series,
                        tooltip=["series", alt.Tooltip("hour:Q", format=".2f"), alt.Tooltip("value:Q", format=".4f")],
                    )
                ],
                words("tiltdeg_title", lang),
                120,
            )
        settings = policy.rule(site_id).forecast_settings("slope")
        pts, lines, _ = site_inverse_velocity(run, row, settings)
        pts = pts.assign(sensor=pts["sensor"].map(lambda x: labels.get(x, x)))
        lines = lines.assign(sensor=lines["sensor"].map(lambda x: labels.get(x, x)))
        tilt_ids = {s for s, r in readings.items() if r["kind"].iloc[0] == "tilt"}
        for unit, axis in (("mm", "iv_axis_mm"), ("deg", "iv_axis_deg")):  # h/mm and h/° on their own axes
            mine = [s for s in readings if (s in tilt_ids) == (unit == "deg")]
            ln = lines[lines["sensor"].isin(mine)]
            if not len(ln):
                continue
            top = float(ln["inv_v"].max()) * 1.6
            start = float(ln["hour"].min()) - settings.fit_window_s / SECONDS_PER_HOUR
            sel = pts[pts["sensor"].isin(mine) & (pts["hour"] >= start) & (pts["inv_v"] <= top)]
            dots = (
                alt.Chart(sel.rename(columns={"sensor": "series"}))
                .mark_point(clip=True, size=14, filled=True)
                .encode(
                    x=_x(lang, duration_h, True),
                    y=alt.Y("inv_v:Q", title=words(axis, lang), scale=alt.Scale(domain=[0, top])),
                    color=series,
                    tooltip=["series", alt.Tooltip("hour:Q", format=".2f"), alt.Tooltip("inv_v:Q", format=".3g")],
                )
            )
            fl = (
                alt.Chart(ln.rename(columns={"sensor": "series"}))
                .mark_line(clip=True, strokeWidth=2)
                .encode(x="hour:Q", y="inv_v:Q", color=alt.Color("series:N", scale=colours, legend=None))
            )
            stack([dots, fl], words("iv_title", lang), 150)
    else:
        tilt = truth_series(run, site_id, "tilt_ratio").dropna().assign(series=truth)
        parts = [tilt]
        for sensor, r in readings.items():
            if r["kind"].iloc[0] == "tilt":
                parts.append(
                    pd.DataFrame(
                        {
                            "hour": r["time_s"] / SECONDS_PER_HOUR,
                            "value": np.tan(np.radians(np.abs(r["value"]))),
                            "series": sensor,
                        }
                    )
                )
        d = pd.concat(parts, ignore_index=True)
        limits = policy.rule(site_id).buildings.tilt_grade_limits
        bounds = [0.0] + [float(getattr(limits, g)) for g in "ABCD"]
        top = max(float(d["value"].max()) * 1.3, bounds[2] * 1.2)
        bands = pd.DataFrame({"lo": bounds, "hi": bounds[1:] + [max(top, bounds[-1] * 1.2)], "grade": list("ABCDE")})
        bands = bands[bands["lo"] < top].assign(hi=lambda b: b["hi"].clip(upper=top))
        band = (
            alt.Chart(bands)
            .mark_rect(clip=True, opacity=0.25)
            .encode(
                y="lo:Q",
                y2="hi:Q",
                color=alt.Color(
                    "grade:N",
                    title=words("grade", lang),
                    scale=alt.Scale(domain=list(GRADE_RGB), range=list(GRADE_RGB.values())),
                ),
                tooltip=["grade"],
            )
        )
        line = (
            alt.Chart(d)
            .mark_line(clip=True)
            .encode(
                x=_x(lang, duration_h, False),
                y=alt.Y("value:Q", title=words("tilt_axis", lang), scale=alt.Scale(domain=[0, top])),
                color=series,
                tooltip=["series", alt.Tooltip("hour:Q", format=".2f"), alt.Tooltip("value:Q", format=".5f")],
            )
        )
        charts.append(
            alt.layer(band, line, *marks)
            .resolve_scale(color="independent")
            .properties(title=words("tilt_title", lang), height=170, width=CHART_WIDTH)
        )
        crack = truth_series(run, site_id, "crack_mm").dropna().assign(series=truth)
        parts = [crack]
        for sensor, r in readings.items():
            if r["kind"].iloc[0] == "crack":
                parts.append(
                    pd.DataFrame({"hour": r["time_s"] / SECONDS_PER_HOUR, "value": r["value"], "series": sensor})
                )
        d = pd.concat(parts, ignore_index=True)
        levels = policy.rule(site_id).buildings.crack_mm
        th = pd.DataFrame(
            [
                {"value": float(getattr(levels, lv)), "rgb": LEVEL_HEX[lv], "what": words(lv, lang)}
                for lv in ("caution", "warning", "evacuate")
                if getattr(levels, lv, None) is not None
            ]
        )
        rules = (
            alt.Chart(th)
            .mark_rule(clip=True, strokeDash=[2, 2])
            .encode(
                y="value:Q",
                color=alt.Color("rgb:N", scale=None, legend=None),
                tooltip=["what", "value"],
            )
        )
        line = (
            alt.Chart(d)
            .mark_line(clip=True)
            .encode(
                x=_x(lang, duration_h, True),
                y=alt.Y("value:Q", title=words("crack_axis", lang)),
                color=series,
                tooltip=["series", alt.Tooltip("hour:Q", format=".2f"), alt.Tooltip("value:Q", format=".3f")],
            )
        )
        stack([rules, line], words("crack_title", lang))
    return alt.vconcat(*charts).resolve_scale(color="independent")


def forecast_notes(run: RunData, row: dict[str, Any], policy, lang: str) -> list[str]:
    """One line per sensor (by what it is) that forecast the failure at :func:`issue_time`:
    forecast and true failure time (h) and the error as % of the time left then."""
    if row["kind"] != "slope":
        return []
    _, _, fcs = site_inverse_velocity(run, row, policy.rule(row["site_id"]).forecast_settings("slope"))
    labels = sensor_labels(sensor_readings(run, row), lang)
    out = []
    for sid, f in sorted(fcs.items()):
        label = labels.get(sid, sensor_kind_words(sid, lang))
        sensor = label[:1].upper() + label[1:]  # it starts the line
        true = row.get("failure_s")
        if true is not None and true > f.issued_s:
            err = 100.0 * (f.failure_s - true) / (true - f.issued_s)
            out.append(
                words("iv_error", lang).format(
                    sensor=sensor, fc=f.failure_s / SECONDS_PER_HOUR, true=true / SECONDS_PER_HOUR, err=err
                )
            )
        else:
            out.append(words("iv_forecast", lang).format(sensor=sensor, fc=f.failure_s / SECONDS_PER_HOUR))
    return out


# --- the page -------------------------------------------------------------------------------------
def frame_times(run: RunData) -> list[float]:
    """The playback's frames, hours since the start: every :data:`FRAME_S` over the run."""
    scenario = run.summary.get("scenario")
    given = scenario.get("duration_s") if isinstance(scenario, dict) else None
    duration = float(given) if isinstance(given, int | float) else float(run.timeseries["time_s"].max())
    if not math.isfinite(duration) or duration < 0:  # an empty or odd run: its start only
        duration = 0.0
    duration = min(duration, MAX_PLAY_S)
    return [round(k * FRAME_S / SECONDS_PER_HOUR, 4) for k in range(int(duration // FRAME_S) + 1)]


def default_hour(run: RunData, hours: list[float]) -> float:
    """Where the playback opens (h, one of ``hours``): the last frame at least 10 min before the
    first failure, else the first frame at or after the first alarm, else the start."""
    fails = [
        r["failure_s"] for r in site_rows(run.summary) if r.get("failure_s") is not None and "inside_at_failure" in r
    ]
    alarms = [a["t_s"] for r in site_rows(run.summary) for a in r.get("alarms", [])]
    if fails:
        before = [h for h in hours if h * SECONDS_PER_HOUR <= min(fails) - FRAME_S]
        return before[-1] if before else hours[0]
    after = [h for h in hours if alarms and h * SECONDS_PER_HOUR >= min(alarms)]
    return after[0] if after else hours[0]


def _get_run(st, store, path: Path, lang: str):
    from ..errors import TwinError

    try:
        if store.has(path, ()):
            return store.get(path, ())
        bar = st.progress(0.0, text=words("running", lang))

        def update(done: float, total: float) -> None:
            bar.progress(min(1.0, done / total) if total else 1.0, text=words("running", lang))

        run = store.get(path, (), progress=update)
        bar.empty()
        return run
    except TwinError as exc:
        st.error(f"{words('invalid', lang)}: {exc}")
        return None


def collapse_page(st, city: CityModel, lang: str, store, *, living_lab: bool = False) -> None:
    """The page: pick a shipped collapse scenario, run it through ``store`` (a
    :class:`~twin.app.runs.RunStore`), then the map at a chosen time (with ▶ playback), the
    outcome, and one site's charts."""
    st.header(tr("page_collapse", lang))
    st.caption(words("caption", lang))
    files = collapse_scenarios()
    names = [f.name for f in files]
    titles = {n: scenario_title(f, lang) for n, f in zip(names, files, strict=True)}
    default = "slope_failure_august_2022.yaml"
    name = translated_select(
        st,
        st,
        words("scenario", lang),
        names,
        key="collapse_scenario",
        lang=lang,
        default=default if default in names else names[0],
        format_func=titles.__getitem__,
    )
    path = files[names.index(name)]
    if st.button(words("run", lang), key="collapse_run", type="primary"):
        st.session_state["collapse_key"] = str(path)
        st.session_state.pop("collapse_t", None)
        st.session_state.pop("collapse_playing", None)
    key = st.session_state.get("collapse_key")
    if key is None:
        return
    run = _get_run(st, store, Path(key), lang)
    if run is None:
        return
    if not site_rows(run.summary):
        st.info(words("no_collapse", lang))
        return
    from .pages import shown

    shown(st, lang, run, lambda: _results(st, city, run, Path(key), lang, living_lab))


def _results(st, city: CityModel, run: RunData, path: Path, lang: str, living_lab: bool) -> None:
    policy = scenario_policy(path)
    shapes = site_shapes(city)
    st.subheader(words("verdict", lang))
    k = verdict_numbers(run.summary)
    named = _names(city)
    if living_lab:
        for sentence in verdict_sentences(run.summary, lang, named):
            st.markdown(f'<div class="ll-card ll-none">{sentence}</div>', unsafe_allow_html=True)
    else:
        c = st.columns(5)
        c[0].metric(words("failed_sites", lang), k["failed"])
        c[1].metric(words("evacuated_in_time", lang), f"{k['evacuated_in_time']} / {k['failed']}")
        c[2].metric(words("inside", lang), k["inside"])
        c[3].metric(words("false_evac", lang), k["false_evacuations"])
        c[4].metric(
            words("shortest_margin", lang),
            f"{min(k['margins_min']):.0f} {words('minutes', lang)}" if k["margins_min"] else "–",
        )
        if k["passed"] is not None:
            st.caption(
                words("passed" if k["passed"] else "not_passed", lang)
                + " · "
                + " ".join(verdict_sentences(run.summary, lang, named))
            )
        table = failed_table(run.summary, lang, named)
        if table:
            st.markdown(f"**{words('site_table', lang)}**")
            st.dataframe(table, hide_index=True)
    _playback(st, city, run, shapes, lang, living_lab)
    steps = alarm_steps(run.events)
    order = sites_by_level(run.summary, steps)
    if not order:
        return
    labels = {s: f"{named.entity(s, lang)} · {words(worst_level(steps, s), lang)}" for s in order}
    chosen = st.session_state.get("collapse_site")
    sid = translated_select(
        st,
        st,
        words("site_pick", lang),
        order,
        key="collapse_site",
        lang=lang,
        default=order[0],
        format_func=labels.__getitem__,
        help=named.with_id(chosen if chosen in labels else order[0], lang),
    )
    if sid is None:
        return
    t_h = st.session_state.get("collapse_t")
    st.altair_chart(site_charts(run, city, sid, lang, policy, t_h=t_h), width="content")
    row = site_row(run.summary, sid)
    notes = forecast_notes(run, row, policy, lang)
    if row["kind"] == "slope" and not notes:
        st.caption(words("iv_none", lang))
    for line in notes:
        st.caption(line)


def _playback(st, city: CityModel, run: RunData, shapes: dict[str, SiteShape], lang: str, living_lab: bool) -> None:
    """Time slider, ▶ / ❚❚ and the map at the chosen hour: a fragment, as the run page's playback
    (twin.app.pages.playback_block): while playing it reruns every :data:`PLAY_TICK_S` s and moves
    one frame on, and stops at the last frame."""
    hours = frame_times(run)
    if st.session_state.get("collapse_t") not in hours:
        st.session_state["collapse_t"] = default_hour(run, hours)
    playing = bool(st.session_state.get("collapse_playing"))
    step = max(1, len(hours) // PLAY_FRAMES)

    @st.fragment(run_every=PLAY_TICK_S if playing else None)
    def frame() -> None:
        _frame(st, city, run, shapes, hours, step, lang, living_lab)

    frame()


def _frame(
    st,
    city: CityModel,
    run: RunData,
    shapes: dict[str, SiteShape],
    hours: list[float],
    step: int,
    lang: str,
    living_lab: bool,
) -> None:
    playing = bool(st.session_state.get("collapse_playing"))
    if playing and not st.session_state.get("collapse_play"):  # a tick: one frame on
        i = hours.index(st.session_state["collapse_t"]) if st.session_state.get("collapse_t") in hours else 0
        st.session_state["collapse_t"] = hours[min(i + step, len(hours) - 1)]
        if st.session_state["collapse_t"] >= hours[-1]:
            st.session_state["collapse_playing"] = False
            st.rerun()
    slot = st.container()
    if st.button(words("pause" if playing else "play", lang), key="collapse_play"):
        if not playing and st.session_state.get("collapse_t") == hours[-1]:
            st.session_state["collapse_t"] = hours[0]
        st.session_state["collapse_playing"] = not playing
        st.rerun()
    with slot:
        t_h = st.select_slider(
            words("time_h", lang), options=hours, key="collapse_t", format_func=lambda h: f"{h:.1f} h"
        )
    st.markdown(legend_html(lang), unsafe_allow_html=True)
    st.pydeck_chart(collapse_deck(city, run, shapes, t_h * SECONDS_PER_HOUR, lang), height=560 if living_lab else 480)
    st.caption(
        state_counts(run, t_h * SECONDS_PER_HOUR, lang)
        + " · "
        + words("walking_now", lang).format(n=walking_at(run, t_h * SECONDS_PER_HOUR))
    )
