"""The sweep page: one scenario run many times with sampled parameters (``twin sweep``), read from its
folder (:mod:`twin.ensemble.folder`) and shown in words.

What varied and how ("총 강우량 60–150 mm, 강우 분포 Huff 2/3/4분위"), the distribution of each
run-wide KPI with its p5/p50/p95, an exceedance curve, a map of the probability of each place's event
(a path floods, floods before any alert, a gate fails a check) with its 95 % interval in the tooltip,
the probability of each gauge reaching each alert level, the Sobol ranking of the parameters (sobol
sweeps) and the rules scenario discovery found. Places are shown by name; IDs only in tooltips.
Geometry comes from the city layers (EPSG:5186) and is turned into WGS84 lon/lat only for the map.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..ensemble.kpis import measure_of, place_of
from . import legend as lg
from .i18n import t

REPO = Path(__file__).resolve().parents[2]
HOW_TO = 'twin sweep scenarios/flash_flood_jungnangcheon.yaml --runs 64 --vary "rainfall.total_mm=uniform(60,150)"'
MAP_H_PX = 520  # px, the probability map's height
PROB_STOPS = ((0.0, (225, 225, 218)), (0.5, (255, 150, 0)), (1.0, (190, 0, 70)))  # probability -> RGB ramp
PROB_ALPHA = 235
NO_VALUE_RGBA = (160, 160, 160, 160)
MAP_KINDS = ("access_point", "gate")  # the places the map can colour

WORDS: dict[str, tuple[str, str]] = {
    "pick": ("스윕 결과", "Sweep"),
    "open_path": ("또는 폴더 경로로 열기", "or open a folder by its path"),
    "open_help": ("twin sweep --out 으로 만든 폴더", "A folder written by twin sweep --out"),
    "none_found": (
        "{root} 아래에 스윕 결과가 없습니다. 이렇게 만드세요:",
        "No sweep found under {root}. Make one with:",
    ),
    "not_sweep": (
        "{path}: 스윕 폴더가 아닙니다 (sweep.json과 results.parquet가 필요합니다).",
        "{path}: not a sweep folder (it needs sweep.json and results.parquet).",
    ),
    "option": ("{name} · {runs}회 · {sampler} · {varied}", "{name} · {runs} runs · {sampler} · {varied}"),
    "varied": ("바뀐 값", "What varied"),
    "runs": ("실행 수", "Runs"),
    "failed": ("실패한 실행", "Failed runs"),
    "sampler": ("표본 추출", "Sampler"),
    "failed_list": ("실패한 실행과 오류", "Failed runs and their errors"),
    "member": ("실행 {i}", "Run {i}"),
    "dist_head": ("결과의 분포", "How the results are spread"),
    "dist_caption": (
        "완료된 {n}회 실행의 분포. 점선: 5 %, 50 % (중앙값), 95 % 백분위수.",
        "Over the {n} finished runs. Dashed lines: the 5th, 50th (median) and 95th percentiles.",
    ),
    "count": ("실행 수", "Runs"),
    "exceed_pick": ("초과 확률 곡선을 볼 결과", "Exceedance curve of"),
    "exceed_y": ("이 값 이상일 확률", "Probability of at least this"),
    "map_head": ("곳곳의 사건 확률", "How likely each place's event is"),
    "event": ("사건", "Event"),
    "prob_legend": ("확률 (실행 중 비율)", "Probability (share of runs)"),
    "tooltip": (
        "{name}: {p} % ({n}회 중, 95 % 구간 {low}–{high} %)",
        "{name}: {p} % ({n} runs, 95 % interval {low}–{high} %)",
    ),
    "no_places": ("이 스윕에는 지도에 표시할 곳별 결과가 없습니다.", "This sweep has no per-place results to map."),
    "gauges_head": ("수위계가 각 경보 단계에 닿을 확률", "Probability of each gauge reaching each alert level"),
    "gauge": ("수위계", "Gauge"),
    "sens_head": ("어떤 값이 결과를 좌우했나 (Sobol 민감도)", "Which inputs drove the result (Sobol sensitivity)"),
    "sens_pick": ("결과", "Result"),
    "sens_value": ("분산 중 비율", "Share of the variance"),
    "ST": ("전체 효과 ST", "Total effect ST"),
    "S1": ("단독 효과 S1", "First-order S1"),
    "sens_caption": (
        "ST: 이 값이 (다른 값과 함께 일으킨 효과까지) 결과의 분산 중 차지하는 비율. S1: 이 값 혼자만의 몫. "
        "선: 95 % 신뢰구간. 실행 수가 적으면 구간이 넓고 값이 0–1 밖으로 나갈 수 있습니다.",
        "ST: the share of the result's variance due to this input, including what it does together with the "
        "others. S1: its share on its own. Lines: 95 % confidence intervals. With few runs the intervals are wide "
        "and values can fall outside 0–1.",
    ),
    "sens_top": (
        "{kpi}: 가장 큰 영향은 {param}, 분산의 약 {st} % (ST, 95 % 구간 {low}–{high} %).",
        "{kpi}: the strongest input is {param}, about {st} % of the variance (ST, 95 % interval {low}–{high} %).",
    ),
    "dropped": (
        "기준 표본 {m}개 중 {k}개 제외 (실패했거나 이 결과가 없는 실행): 지수는 나머지 실행만 설명합니다.",
        "{k} of {m} base samples left out (a run failed or lacks this result): the indices describe the rest only.",
    ),
    "no_sobol": (
        "Sobol 민감도 지수는 --sampler sobol 로 실행한 스윕에만 있습니다.",
        "Sobol sensitivity indices need a sweep run with --sampler sobol.",
    ),
    "rules_head": ("나쁜 결과로 이어진 조건 (시나리오 발견)", "What led to the bad outcomes (scenario discovery)"),
    "rules_count": ("{target}: {n}회 중 {bad}회", "{target}: {bad} of {n} runs"),
    "no_rules": ("찾은 규칙 없음", "No rule found"),
    "no_rules_why": (
        "찾은 규칙 없음 (모든 실행이 같은 결과이거나, 가르는 조건을 찾지 못했습니다).",
        "No rule found (every run had the same outcome, or no condition separates them).",
    ),
    "rules_none": ("규칙 파일(rules.json)이 없습니다.", "There is no rules file (rules.json)."),
    "prim": ("PRIM", "PRIM"),
    "tree": ("결정 트리", "decision tree"),
    "all_runs": ("모든 실행", "all runs"),
    "or": (" 또는 ", " or "),
    "and": (" 그리고 ", " and "),
    "is": ("{label}: {values}", "{label} is {values}"),
    "rule_tail": (
        "{where}: {inside}회 중 {bad_in}회 ({density}), 나쁜 결과 {bad}회 중 {bad_in}회 ({coverage})",
        "{where}: {bad_in} of {inside} runs bad ({density}), {bad_in} of {bad} bad runs ({coverage})",
    ),
    "download": ("결과 표 내려받기 (CSV)", "Download the results (CSV)"),
    "mean_sd": ("{label} 평균 {a}, 표준편차 {b}{unit}", "{label} mean {a}, sd {b}{unit}"),
    "mode": ("{label} {a}–{c}{unit} (최빈값 {b})", "{label} {a}–{c}{unit} (mode {b})"),
    "group": ("집단 {n}", "group {n}"),
    "people_of": ("이용자 수 ({g})", "People ({g})"),
    "level_m": ("{gauge} {level} 기준 수위", "{gauge} {level} threshold"),
}
SAMPLERS: dict[str, tuple[str, str]] = {
    "lhs": ("라틴 하이퍼큐브 (LHS)", "Latin hypercube (LHS)"),
    "sobol": ("Sobol (Saltelli)", "Sobol (Saltelli)"),
    "random": ("무작위", "random"),
    "grid": ("격자", "grid"),
}
# common parameter keys in words: key -> (ko, en, unit)
PARAMS: dict[str, tuple[str, str, str]] = {
    "rainfall.total_mm": ("총 강우량", "Total rain", "mm"),
    "rainfall.pattern": ("강우 분포", "Rain pattern", ""),
    "rainfall.duration": ("강우 지속시간", "Rain duration", ""),
    "rainfall.start_offset": ("강우 시작 시각", "Rain start", ""),
    "rainfall.interval": ("강우 자료 간격", "Rain step", ""),
    "crowd.evacuation_trigger": ("대피 지시 시점", "When people are told to leave", ""),
    "hydraulics.routing_step_s": ("수리 계산 시간 간격", "Routing time step", "s"),
    "hydraulics.sample_interval": ("수위 기록 간격", "Stage sampling interval", ""),
    "hydraulics.base_flow_m3s": ("기저 유량", "Base flow", "m³/s"),
    "hydraulics.imperviousness_scale": ("불투수율 배율", "Imperviousness scale", ""),
    "hydraulics.upstream_catchment_km2": ("상류 유역 면적", "Upstream catchment", "km²"),
    "hydraulics.routing": ("하도 추적 방법", "Flow routing", ""),
}
# the KPIs' units (twin.ensemble.kpis) in Korean
UNITS_KO = {"people": "명", "paths": "곳", "gates": "곳", "sites": "곳", "min": "분", "person·min": "인·분",
            "level": "단계"}  # fmt: skip
_POPULATION = re.compile(r"^populations\.(\d+)\.count$")
_THRESHOLD = re.compile(r"^thresholds\.([^.]+)\.([a-z]+)_m$")
_HUFF = re.compile(r"^huff_q(\d)$")
_TARGET = re.compile(r"^\s*(\S+)\s*(>=|<=|==|>|<)\s*(-?[0-9.eE+-]+)\s*$")
_ORDINAL_EN = {"1": "1st", "2": "2nd", "3": "3rd", "4": "4th"}


def w(key: str, lang: str) -> str:
    """A text of this page in ``lang`` ("ko"/"en")."""
    return WORDS[key][0 if lang == "ko" else 1]


# --- parameters and KPIs in words ------------------------------------------------------------
def param_unit(key: str) -> str:
    """The unit of a parameter key (mm, m, s, ...), "" when it has none or is not known."""
    if key in PARAMS:
        return PARAMS[key][2]
    return "m" if _THRESHOLD.match(key) else ""


def param_label(key: str, lang: str, names: Any = None) -> str:
    """A parameter key in words: ``rainfall.total_mm`` -> 총 강우량 / Total rain; ``populations.0.count``
    -> 이용자 수 (집단 1); ``thresholds.<gauge>.<level>_m`` -> the gauge's name and level; else the key."""
    if key in PARAMS:
        return PARAMS[key][0 if lang == "ko" else 1]
    if m := _POPULATION.match(key):
        return w("people_of", lang).format(g=w("group", lang).format(n=int(m.group(1)) + 1))
    if m := _THRESHOLD.match(key):
        from .names import word

        gauge = names.gauge(m.group(1), lang) if names is not None else m.group(1)
        return w("level_m", lang).format(gauge=gauge, level=word("level", m.group(2), lang))
    return key


def param_value(key: str, value: Any, lang: str) -> str:
    """One value of a parameter in words: numbers to 3 significant digits with the unit, rain patterns
    and triggers by :func:`twin.app.names.word`."""
    from .names import word

    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        unit = param_unit(key)
        return f"{_num(float(value))} {unit}".strip()
    if key == "rainfall.pattern":
        return word("pattern", str(value), lang)
    if key == "crowd.evacuation_trigger":
        return word("trigger", str(value), lang)
    return str(value)


def _num(x: float) -> str:
    """A number for people: 3 significant digits, plain notation, thousands separated."""
    if not math.isfinite(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return np.format_float_positional(float(f"{x:.3g}"), trim="-")


def _choices(key: str, values: list[Any], lang: str) -> str:
    """The choices of a ``choice`` parameter, short: Huff quartiles as "Huff 2/3/4분위"."""
    huff = [_HUFF.match(str(v)) for v in values]
    if key == "rainfall.pattern" and values and all(huff):
        qs = [m.group(1) for m in huff if m]
        if lang == "ko":
            return f"Huff {'/'.join(qs)}분위"
        return f"Huff {'/'.join(_ORDINAL_EN.get(q, q) for q in qs)} quartile"
    return ", ".join(param_value(key, v, lang) for v in values)


def varied_text(parameters: list[dict[str, Any]], lang: str, names: Any = None) -> str:
    """What a sweep varied, from sweep.json's ``parameters``: "총 강우량 60–160 mm, 강우 분포 Huff 2/3/4분위"."""
    parts = []
    for p in parameters:
        key, kind, a = str(p.get("key")), str(p.get("distribution")), list(p.get("args") or [])
        label, unit = param_label(key, lang, names), param_unit(key)
        u = f" {unit}" if unit else ""
        if kind == "choice":
            parts.append(f"{label} {_choices(key, a, lang)}")
        elif kind == "normal" and len(a) == 2:
            parts.append(w("mean_sd", lang).format(label=label, a=_num(a[0]), b=_num(a[1]), unit=u))
        elif kind == "triangular" and len(a) == 3:
            parts.append(w("mode", lang).format(label=label, a=_num(a[0]), b=_num(a[1]), c=_num(a[2]), unit=u))
        elif len(a) == 2:
            parts.append(f"{label} {_num(float(a[0]))}–{_num(float(a[1]))}{u}")
        else:
            parts.append(f"{label} {p.get('text', '')}")
    return ", ".join(parts)


def kpi_words(column: str, lang: str) -> tuple[str, str]:
    """(words, unit) of a KPI column in ``lang`` (``kpi/flooded_paths`` -> 침수된 산책로, 곳); the
    column itself and "" when it is not declared."""
    m = measure_of(column)
    if m is None:
        return column, ""
    if lang == "ko":
        return m.ko, UNITS_KO.get(m.unit, m.unit)
    return m.en, m.unit


def target_text(target: str, lang: str) -> str:
    """A discovery target ``kpi/exposed_people > 0`` in words (its KPI's words, the comparison as is)."""
    m = _TARGET.match(target)
    if m is None:
        return target
    label, _ = kpi_words(m.group(1), lang)
    return f"{label} {m.group(2)} {_num(float(m.group(3)))}"


# --- the folder --------------------------------------------------------------------------------
@dataclass
class Sweep:
    """A sweep folder read for the page: ``meta`` (sweep.json), ``table`` (results.parquet, one row per
    member), ``exceedance`` and ``percentiles`` (None when missing), ``sensitivity`` (sobol sweeps only),
    ``rules`` (rules.json, [] when missing; None when there is no file)."""

    path: Path
    meta: dict[str, Any]
    table: pd.DataFrame
    exceedance: pd.DataFrame | None
    percentiles: pd.DataFrame | None
    sensitivity: pd.DataFrame | None
    rules: list[dict[str, Any]] | None


def is_sweep(path: Path) -> bool:
    """True when ``path`` holds a finished sweep (sweep.json and results.parquet)."""
    return (path / "sweep.json").is_file() and (path / "results.parquet").is_file()


def sweep_folders(root: Path) -> list[Path]:
    """The finished sweeps at ``root`` (itself, or its sub-folders), sorted by name."""
    if not root.is_dir():
        return []
    if is_sweep(root):
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and is_sweep(p))


def load_sweep(path: Path) -> Sweep:
    """Read a sweep folder (raises :class:`twin.errors.SweepError` when it is not one)."""
    from ..ensemble.sweep import read_sweep

    got = read_sweep(path)

    def table(name: str) -> pd.DataFrame | None:
        f = path / name
        return pd.read_parquet(f) if f.is_file() else None

    rules_file = path / "rules.json"
    try:
        rules = json.loads(rules_file.read_text(encoding="utf-8")) if rules_file.is_file() else None
    except ValueError:
        rules = None
    return Sweep(path, got["meta"], got["table"], table("exceedance.parquet"), table("percentiles.parquet"),
                 table("sensitivity.parquet"), rules)  # fmt: skip


def scenario_path(meta: dict[str, Any], folder: Path) -> Path | None:
    """The scenario file a sweep ran (sweep.json's ``scenario``, relative to the working directory, the
    repository or the sweep folder), or None when it cannot be found."""
    raw = meta.get("scenario")
    if not isinstance(raw, str) or not raw:
        return None
    p = Path(raw)
    for c in ([p] if p.is_absolute() else [Path.cwd() / p, REPO / p, folder / p, folder.parent / p]):
        if c.is_file():
            return c
    return None


def sweep_name(meta: dict[str, Any], folder: Path, lang: str) -> str:
    """The sweep's scenario by its name in ``lang``; the folder's name when the scenario file is gone."""
    from .names import scenario_label

    found = scenario_path(meta, folder)
    return scenario_label(found, lang) if found is not None else folder.name


def sampler_words(sampler: str, lang: str) -> str:
    """A sampler's name in words (lhs -> 라틴 하이퍼큐브 (LHS))."""
    pair = SAMPLERS.get(sampler)
    return sampler if pair is None else pair[0 if lang == "ko" else 1]


# --- probabilities on the map --------------------------------------------------------------------
def probability_rgba(p: float) -> tuple[int, int, int, int]:
    """The map colour of a probability ``p`` (0-1, clipped): light grey at 0, orange at 0.5, dark
    crimson at 1 (:data:`PROB_STOPS`); grey :data:`NO_VALUE_RGBA` for NaN."""
    if p is None or not math.isfinite(float(p)):
        return NO_VALUE_RGBA
    x = min(max(float(p), 0.0), 1.0)
    for (a, ca), (b, cb) in zip(PROB_STOPS, PROB_STOPS[1:], strict=False):
        if x <= b:
            f = (x - a) / (b - a)
            r, g, bl = (round(u + (v - u) * f) for u, v in zip(ca, cb, strict=True))
            return (r, g, bl, PROB_ALPHA)
    r, g, bl = PROB_STOPS[-1][1]
    return (r, g, bl, PROB_ALPHA)


def probability_legend(lang: str, event: str) -> str:
    """The map's legend (:func:`twin.app.legend.legend_html`): the event's words, then swatches of the
    colour ramp at 0, 25, 50, 75 and 100 %."""
    items = [lg.LegendItem("title", f"{event} · {w('prob_legend', lang)}")]
    items += [lg.LegendItem("area", f"{round(100 * p)} %", probability_rgba(p)) for p in (0.0, 0.25, 0.5, 0.75, 1.0)]
    return lg.legend_html(items, lang)


def _pc(x: float, clip: bool = False) -> str:
    """A share 0-1 as a whole percentage without the sign ("62"); ``clip`` keeps it within 0-100."""
    if x is None or not math.isfinite(float(x)):
        return "–"
    v = min(max(float(x), 0.0), 1.0) if clip else float(x)
    return str(round(100 * v))


def _pct(x: float) -> str:
    """A share 0-1 as a percentage ("62 %")."""
    return "–" if x is None or not math.isfinite(float(x)) else f"{_pc(x)} %"


def map_events(exc: pd.DataFrame) -> list[str]:
    """The events the map can show, as ``kind/name op threshold`` keys (``access_point/flooded == 1``),
    in the order of :data:`MAP_KINDS`."""
    found: dict[str, None] = {}
    for kind in MAP_KINDS:
        for c, op, th in zip(exc["column"], exc["op"], exc["threshold"], strict=True):
            where = place_of(str(c))
            if where is not None and where[0] == kind:
                found[f"{kind}/{str(c).rsplit('/', 1)[1]} {op} {float(th):g}"] = None
    return list(found)


def event_rows(exc: pd.DataFrame, event: str) -> pd.DataFrame:
    """The rows of ``exc`` of one map event, with the place's id in ``id``."""
    head, op, th = event.split(" ")
    kind, name = head.split("/")
    cols = exc["column"].astype(str)
    keep = cols.str.startswith(f"{kind}/") & cols.str.endswith(f"/{name}") & (exc["op"] == op)
    keep &= np.isclose(exc["threshold"].astype(float), float(th))
    out = exc[keep].copy()
    out["id"] = [place_of(c)[1] for c in out["column"].astype(str)]  # type: ignore[index]
    return out


def event_words(event: str, lang: str) -> str:
    """A map event in words: the measure's words (경보 전 침수 / Flooded before any alert)."""
    head = event.split(" ")[0]
    kind, name = head.split("/")
    label, _ = kpi_words(f"{kind}/x/{name}", lang)
    return label


def place_tooltip(names: Any, place: str, row: Any, lang: str) -> str:
    """"name (ID): 62 % (48 runs, 95 % interval 49–73 %)"."""
    return w("tooltip", lang).format(name=names.with_id(place, lang), p=_pc(row["probability"]), n=int(row["n"]),
                                     low=_pc(row["low"]), high=_pc(row["high"]))  # fmt: skip


def probability_deck(city: Any, rows: pd.DataFrame, kind: str, lang: str, names: Any):
    """The map of one event's probability per place: streams and riverside paths for context, then the
    places of ``kind`` (access points: their ramps and a dot; gates: a dot) coloured by
    :func:`probability_rgba`, each with its tooltip."""
    import geopandas as gpd

    from ..dataset_schema import ACCESS_KINDS
    from .map_layers import NO_TILES, CompactDeck, _paths, fit_view, lonlat, path_layer, points_layer, stream_layers

    by_id = {str(r["id"]): r for _, r in rows.iterrows()}
    if kind == "access_point":
        pts = city.layer("access_points")
        pts = pts[pts["access_id"].astype(str).isin(by_id)]
        ids = pts["access_id"].astype(str).tolist()
    else:
        dv = city.layer("devices")
        pts = dv[dv["device_id"].astype(str).isin(by_id)]
        ids = pts["device_id"].astype(str).tolist()
    roads = city.layer("roads")
    paths = roads[roads["kind"].isin(("riverside_path", *ACCESS_KINDS))]
    base = [{"path": p, "label": lg.words("riverside_path", lang)} for p in _paths(paths)]
    layers = [*stream_layers(city, lang, names, labels=True),
              path_layer(base, "paths", width=2, min_px=1, color=list(lg.PATH_RGB), pickable=False)]  # fmt: skip
    if kind == "access_point":
        ramps = paths[paths["access_id"].astype(str).isin(by_id)]
        data = [
            {"path": p, "color": list(probability_rgba(float(by_id[a]["probability"]))),
             "label": place_tooltip(names, a, by_id[a], lang)}
            for p, a in zip(_paths(ramps), ramps["access_id"].astype(str), strict=True)
        ]  # fmt: skip
        layers.append(path_layer(data, "event_paths", width=6, min_px=4))
    wgs = gpd.GeoSeries(pts.geometry.to_numpy(), crs=pts.crs).to_crs("EPSG:4326")
    dots = [
        {"position": lonlat(g), "color": list(probability_rgba(float(by_id[i]["probability"]))),
         "label": place_tooltip(names, i, by_id[i], lang), "p": round(float(by_id[i]["probability"]), 4)}
        for g, i in zip(wgs, ids, strict=True)
    ]  # fmt: skip
    layers.append(points_layer(dots, "event_places", radius=45, min_px=5, stroked=True,
                               get_line_color=[40, 40, 40, 200], line_width_min_pixels=1))  # fmt: skip
    bounds = wgs.total_bounds if len(wgs) else gpd.GeoSeries(paths.geometry, crs=paths.crs).to_crs(4326).total_bounds
    return CompactDeck(layers=layers, initial_view_state=fit_view(bounds, 900, MAP_H_PX, padding_px=40),
                       map_style=NO_TILES, map_provider=None, tooltip={"text": "{label}"})  # fmt: skip


def gauge_levels(exc: pd.DataFrame, names: Any, lang: str) -> pd.DataFrame:
    """One row per gauge (by name): the probability (%) of reaching each alert level, columns named by
    the level's words (관심, 주의, 경계, 심각), the highest first among the rows."""
    from ..dataset_schema import THRESHOLD_LEVELS
    from .names import word

    rows = exc[exc["column"].astype(str).str.match(r"^gauge/.+/highest_level$") & (exc["op"] == ">=")]
    out: dict[str, dict[str, float]] = {}
    for c, th, p in zip(rows["column"].astype(str), rows["threshold"], rows["probability"], strict=True):
        i = int(round(float(th))) - 1
        if 0 <= i < len(THRESHOLD_LEVELS):
            gid = place_of(c)[1]  # type: ignore[index]
            out.setdefault(gid, {})[word("level", THRESHOLD_LEVELS[i], lang)] = 100.0 * float(p)
    levels = [word("level", lv, lang) for lv in THRESHOLD_LEVELS]
    table = pd.DataFrame([{w("gauge", lang): names.gauge(g, lang), **{lv: v.get(lv, math.nan) for lv in levels}}
                          for g, v in out.items()])  # fmt: skip
    if table.empty:
        return table
    return table.sort_values(levels, ascending=False, kind="mergesort").reset_index(drop=True)


# --- discovered rules ----------------------------------------------------------------------------
def condition_text(c: dict[str, Any], lang: str, names: Any = None) -> str:
    """One condition of a rule in words: "총 강우량 ≥ 118 mm", "강우 분포: Huff 3분위 (후반 집중형)"."""
    key = str(c.get("parameter"))
    label = param_label(key, lang, names)
    cats = c.get("categories")
    if cats is not None:
        values = w("or", lang).join(param_value(key, v, lang) for v in cats)
        return w("is", lang).format(label=label, values=values)
    unit = param_unit(key)
    u = f" {unit}" if unit else ""
    low, high = c.get("low"), c.get("high")
    if low is not None and high is not None:
        return f"{_num(float(low))} ≤ {label} ≤ {_num(float(high))}{u}"
    if low is not None:
        return f"{label} ≥ {_num(float(low))}{u}"
    if high is not None:
        return f"{label} ≤ {_num(float(high))}{u}"
    return label


def rule_text(rule: dict[str, Any], n_bad: int, lang: str, names: Any = None) -> str:
    """A rule of rules.json as a sentence in ``lang``, built from its ``conditions`` (parameters in words),
    with how many runs it holds and how many of the bad runs it covers (as :meth:`Rule.text`)."""
    where = w("and", lang).join(condition_text(c, lang, names) for c in rule.get("conditions") or [])
    bad_in = int(round(float(rule.get("coverage", 0.0)) * n_bad))
    return w("rule_tail", lang).format(
        where=where or w("all_runs", lang), inside=int(rule.get("n_inside", 0)), bad_in=bad_in, bad=n_bad,
        density=_pct(float(rule.get("density", 0.0))), coverage=_pct(float(rule.get("coverage", 0.0))),
    )  # fmt: skip


# --- the page --------------------------------------------------------------------------------------
def _pick(st, lang: str, root: Path) -> Path | None:
    """The sweep chosen (a folder under ``root`` or a typed path); None, with a message, when none."""
    found = sweep_folders(root)
    typed = st.text_input(w("open_path", lang), "", key="sweep_path", help=w("open_help", lang)).strip()
    if typed:
        path = Path(typed).expanduser()
        if not is_sweep(path):
            st.warning(w("not_sweep", lang).format(path=typed))
            return None
        return path
    if not found:
        st.info(w("none_found", lang).format(root=root))
        st.code(HOW_TO, language="bash")
        return None
    metas = {str(p): _meta(p) for p in found}

    def label(p: str) -> str:
        m = metas[p]
        return w("option", lang).format(name=sweep_name(m, Path(p), lang), runs=m.get("runs", "?"),
                                        sampler=sampler_words(str(m.get("sampler")), lang),
                                        varied=varied_text(m.get("parameters") or [], lang))  # fmt: skip

    choice = _select(st, w("pick", lang), list(metas), "sweep_folder", lang, label)
    return Path(choice) if choice else None


def _select(st, label: str, options: list[str], key: str, lang: str, format_func) -> str:
    """A select box whose labels follow the language, its choice kept across a switch (key ``key:lang``)."""
    from .widgets import translated_select

    return str(translated_select(st, st, label, options, key=key, lang=lang, default=options[0],
                                 format_func=format_func))  # fmt: skip


def _meta(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _header(st, s: Sweep, lang: str, names: Any) -> None:
    """What varied, how many runs, how many failed (errors in an expander), the sampler."""
    meta, table = s.meta, s.table
    st.subheader(sweep_name(meta, s.path, lang))
    st.markdown(f"**{w('varied', lang)}:** {varied_text(meta.get('parameters') or [], lang, names)}")
    failed = table[table["status"] != "ok"]
    a, b, c = st.columns(3)
    a.metric(w("runs", lang), f"{len(table):,}")
    b.metric(w("failed", lang), f"{len(failed):,}")
    c.metric(w("sampler", lang), sampler_words(str(meta.get("sampler")), lang))
    if len(failed):
        with st.expander(w("failed_list", lang)):
            keys = [p["key"] for p in meta.get("parameters") or []]
            for _, r in failed.iterrows():
                values = ", ".join(f"{param_label(k, lang, names)} {param_value(k, r.get(f'param/{k}'), lang)}"
                                   for k in keys)  # fmt: skip
                st.markdown(f"- **{w('member', lang).format(i=int(r['member']))}** ({values}): `{r['error']}`")


def _distributions(st, s: Sweep, lang: str) -> None:
    """A histogram per run-wide KPI with p5/p50/p95, then one KPI's exceedance curve."""
    from .sweep_charts import exceedance_chart, kpi_histogram

    ok = s.table[s.table["status"] == "ok"]
    kpis = [c for c in s.table.columns if c.startswith("kpi/") and ok[c].notna().any()]
    st.subheader(w("dist_head", lang))
    if not kpis:
        return
    st.caption(w("dist_caption", lang).format(n=len(ok)))
    pct = s.percentiles.set_index("column") if s.percentiles is not None else None
    cols = st.columns(2)
    for i, c in enumerate(kpis):
        v = ok[c].to_numpy(dtype=float)
        if pct is not None and c in pct.index:
            marks = {k: float(pct.loc[c, k]) for k in ("p5", "p50", "p95")}
        else:
            marks = dict(zip(("p5", "p50", "p95"), np.nanpercentile(v, [5, 50, 95]).tolist(), strict=True))
        label, unit = kpi_words(c, lang)
        cols[i % 2].altair_chart(kpi_histogram(v, marks, label, unit, w("count", lang)), width="stretch")
    pick = _select(st, w("exceed_pick", lang), kpis, "sweep_exceed_kpi", lang, lambda c: kpi_words(c, lang)[0])
    label, unit = kpi_words(pick, lang)
    st.altair_chart(exceedance_chart(ok[pick].to_numpy(dtype=float), label, unit, w("exceed_y", lang)),
                    width="stretch")  # fmt: skip


def _map(st, city, s: Sweep, lang: str, names: Any) -> None:
    """The probability map of a chosen event, its legend, and the gauges' alert-level probabilities."""
    st.subheader(w("map_head", lang))
    exc = s.exceedance
    if exc is None or exc.empty:
        st.caption(w("no_places", lang))
        return
    events = map_events(exc)
    if events:
        event = _select(st, w("event", lang), events, "sweep_event", lang, lambda e: event_words(e, lang))
        rows = event_rows(exc, event)
        deck = probability_deck(city, rows, event.split("/")[0], lang, names)
        st.pydeck_chart(deck, height=MAP_H_PX)
        st.markdown(probability_legend(lang, event_words(event, lang)), unsafe_allow_html=True)
    else:
        st.caption(w("no_places", lang))
    gauges = gauge_levels(exc, names, lang)
    if not gauges.empty:
        import streamlit as real_st

        st.markdown(f"**{w('gauges_head', lang)}**")
        config = {c: real_st.column_config.ProgressColumn(c, format="%.0f %%", min_value=0, max_value=100)
                  for c in gauges.columns[1:]}  # fmt: skip
        st.dataframe(gauges, hide_index=True, column_config=config)


def _sensitivity(st, s: Sweep, lang: str, names: Any) -> None:
    """The Sobol ranking of one KPI (sobol sweeps), or one line saying how to get it."""
    from .sweep_charts import sensitivity_chart, sensitivity_data

    st.subheader(w("sens_head", lang))
    sens = s.sensitivity
    if sens is None or sens.empty:
        st.caption(w("no_sobol", lang))
        return
    kpis = list(dict.fromkeys(sens["kpi"].astype(str)))
    pick = _select(st, w("sens_pick", lang), kpis, "sweep_sens_kpi", lang, lambda c: kpi_words(c, lang)[0])
    rows = sens[sens["kpi"] == pick]
    labels = {str(k): param_label(str(k), lang, names) for k in rows["parameter"]}
    data = sensitivity_data(rows, labels, {"ST": w("ST", lang), "S1": w("S1", lang)})
    st.altair_chart(sensitivity_chart(data, w("sens_value", lang)), width="stretch")
    top = rows.sort_values("ST", ascending=False).iloc[0]
    st_, half = float(top["ST"]), float(top["ST_conf"])
    st.markdown(w("sens_top", lang).format(kpi=kpi_words(pick, lang)[0], param=labels[str(top["parameter"])],
                                           st=_pc(st_, True), low=_pc(st_ - half, True),
                                           high=_pc(st_ + half, True)))  # fmt: skip
    st.caption(w("sens_caption", lang))
    dropped = int(rows["dropped_blocks"].max()) if "dropped_blocks" in rows else 0
    if dropped > 0:
        blocks = int(rows["blocks"].max()) if "blocks" in rows else dropped
        st.caption(w("dropped", lang).format(k=dropped, m=blocks))


def _rules(st, s: Sweep, lang: str, names: Any) -> None:
    """Per target: how many runs were bad, and each rule found, in words."""
    st.subheader(w("rules_head", lang))
    if s.rules is None:
        st.caption(w("rules_none", lang))
        return
    for entry in s.rules:
        bad, n = int(entry.get("bad", 0)), int(entry.get("n", 0))
        st.markdown("**" + w("rules_count", lang).format(target=target_text(str(entry.get("target")), lang),
                                                        bad=bad, n=n) + "**")  # fmt: skip
        rules = entry.get("rules") or []
        if not rules:
            st.caption(w("no_rules_why", lang))
        for r in rules:
            method = w(str(r.get("method")), lang) if str(r.get("method")) in ("prim", "tree") else r.get("method")
            st.markdown(f"- {rule_text(r, bad, lang, names)} ({method})")


def _download(st, s: Sweep, lang: str) -> None:
    found = scenario_path(s.meta, s.path)
    stem = found.stem if found is not None else s.path.name
    st.download_button(w("download", lang), s.table.to_csv(index=False).encode("utf-8"),
                       file_name=f"{stem}_sweep_results.csv", mime="text/csv", on_click="ignore",
                       key="sweep_download")  # fmt: skip


def sweep_page(st, city, lang: str, root: Path) -> None:
    """The sweep page: pick a sweep under ``root`` (or type a folder's path) and see it in words."""
    from ..errors import SweepError
    from .form_inputs import names_of

    st.header(t("page_sweep", lang))
    path = _pick(st, lang, Path(root))
    if path is None:
        return
    try:
        s = load_sweep(path)
    except (SweepError, OSError, ValueError):
        st.warning(w("not_sweep", lang).format(path=path))
        return
    names = names_of(city)
    _header(st, s, lang, names)
    _distributions(st, s, lang)
    _map(st, city, s, lang, names)
    _sensitivity(st, s, lang, names)
    _rules(st, s, lang, names)
    _download(st, s, lang)
