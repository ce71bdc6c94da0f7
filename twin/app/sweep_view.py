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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..ensemble.kpis import place_of
from . import legend as lg
from .i18n import t
from .sweep_words import (
    cut,
    kpi_words,
    param_label,
    param_unit,
    param_value,
    sampler_words,
    target_text,
    varied_text,
    w,
)
from .sweep_words import num as _num
from .widgets import md_text

REPO = Path(__file__).resolve().parents[2]
HOW_TO = 'twin sweep scenarios/flash_flood_jungnangcheon.yaml --runs 64 --vary "rainfall.total_mm=uniform(60,150)"'
MAP_H_PX = 520  # px, the probability map's height
PROB_STOPS = ((0.0, (225, 225, 218)), (0.5, (255, 150, 0)), (1.0, (190, 0, 70)))  # probability -> RGB ramp
PROB_ALPHA = 235
NO_VALUE_RGBA = (160, 160, 160, 160)
MAP_KINDS = ("access_point", "gate")  # the places the map can colour
ERROR_CHARS = 300  # a failed run's error is cut to this many characters on the page

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
    from ..errors import SweepError

    got = read_sweep(path)

    def table(name: str) -> pd.DataFrame | None:
        f = path / name
        return pd.read_parquet(f) if f.is_file() else None

    rules_file = path / "rules.json"
    try:
        rules = json.loads(rules_file.read_text(encoding="utf-8")) if rules_file.is_file() else None
    except ValueError:
        rules = None
    if rules is not None and not (isinstance(rules, list) and all(isinstance(e, dict) for e in rules)):
        rules = None  # not what a sweep writes: shown as no rules file
    if not {"member", "status", "error"} <= set(got["table"].columns) or not isinstance(got["meta"], dict):
        raise SweepError(f"{path.name}: results.parquet or sweep.json is not a sweep's")
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
    bad_in = int(rule.get("n_bad_inside", round(float(rule.get("coverage", 0.0)) * n_bad)))
    return w("rule_tail", lang).format(
        where=where or w("all_runs", lang), inside=int(rule.get("n_inside", 0)), bad_in=bad_in, bad=n_bad,
        density=_pct(float(rule.get("density", 0.0))), coverage=_pct(float(rule.get("coverage", 0.0))),
    )  # fmt: skip


# --- the page --------------------------------------------------------------------------------------
def _pick(st, lang: str, root: Path) -> Path | None:
    """The sweep chosen among the folders under ``root`` (only those: a workshop's visitors cannot
    point the server at other folders); None, with how to make one, when there is none."""
    found = sweep_folders(root)
    if not found:
        st.info(w("none_found", lang).format(root=md_text(str(root))))
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
    st.subheader(md_text(sweep_name(meta, s.path, lang)))
    st.markdown(f"**{w('varied', lang)}:** {md_text(varied_text(meta.get('parameters') or [], lang, names))}")
    failed = table[table["status"] != "ok"]
    a, b, c = st.columns(3)
    a.metric(w("runs", lang), f"{len(table):,}")
    b.metric(w("failed", lang), f"{len(failed):,}")
    sampler = str(meta.get("sampler"))  # the metric shows its short name, the words on hover
    short = "LHS" if sampler == "lhs" else sampler_words(sampler, lang).split(" (")[0]
    c.metric(w("sampler", lang), short, help=sampler_words(sampler, lang))
    if len(failed):
        with st.expander(w("failed_list", lang)):
            keys = [p["key"] for p in meta.get("parameters") or []]
            for _, r in failed.iterrows():
                values = ", ".join(f"{param_label(k, lang, names)} {param_value(k, r.get(f'param/{k}'), lang)}"
                                   for k in keys)  # fmt: skip
                error = md_text(cut(str(r["error"]), ERROR_CHARS))
                st.markdown(f"- **{w('member', lang).format(i=int(r['member']))}** ({md_text(values)}): {error}")


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
    kpi, param = md_text(kpi_words(pick, lang)[0]), md_text(labels[str(top["parameter"])])
    st.markdown(w("sens_top", lang).format(kpi=kpi, param=param, st=_pc(st_, True), low=_pc(st_ - half, True),
                                           high=_pc(st_ + half, True)))  # fmt: skip
    st.caption(w("sens_caption", lang))
    dropped = int(rows["dropped_blocks"].max()) if "dropped_blocks" in rows else 0
    if dropped > 0:
        blocks = int(rows["blocks"].max()) if "blocks" in rows else dropped
        st.caption(w("dropped", lang).format(k=dropped, m=blocks))


def _count(x: Any) -> int:
    """A count read from rules.json (0 when it is not a whole number)."""
    return x if type(x) is int and x >= 0 else 0


def _rules(st, s: Sweep, lang: str, names: Any) -> None:
    """Per target: how many runs were bad, and each rule found, in words."""
    st.subheader(w("rules_head", lang))
    if s.rules is None:
        st.caption(w("rules_none", lang))
        return
    for entry in s.rules:
        bad, n = _count(entry.get("bad")), _count(entry.get("n"))
        st.markdown("**" + w("rules_count", lang).format(target=md_text(target_text(str(entry.get("target")), lang)),
                                                        bad=bad, n=n) + "**")  # fmt: skip
        rules = entry.get("rules") or []
        if not rules:
            st.caption(w("no_rules_why", lang))
        for r in rules if isinstance(rules, list) else ():
            if not isinstance(r, dict):
                continue
            method = str(r.get("method"))
            method = w(method, lang) if method in ("prim", "tree") else md_text(cut(method))
            try:
                text = rule_text(r, bad, lang, names)
            except (TypeError, ValueError, AttributeError):  # not a rule a sweep writes
                continue
            st.markdown(f"- {md_text(text)} ({method})")


def _download(st, s: Sweep, lang: str) -> None:
    found = scenario_path(s.meta, s.path)
    stem = found.stem if found is not None else s.path.name
    st.download_button(w("download", lang), s.table.to_csv(index=False).encode("utf-8"),
                       file_name=f"{stem}_sweep_results.csv", mime="text/csv", on_click="ignore",
                       key="sweep_download")  # fmt: skip


def sweep_page(st, city, lang: str, root: Path) -> None:
    """The sweep page: pick a sweep under ``root`` and see it in words."""
    from ..errors import SweepError
    from .form_inputs import names_of

    st.header(t("page_sweep", lang))
    path = _pick(st, lang, Path(root))
    if path is None:
        return
    try:
        s = load_sweep(path)
    except (SweepError, OSError, ValueError):
        st.warning(w("not_sweep", lang).format(path=md_text(path.name)))
        return
    names = names_of(city)
    _header(st, s, lang, names)
    _distributions(st, s, lang)
    _map(st, city, s, lang, names)
    _sensitivity(st, s, lang, names)
    _rules(st, s, lang, names)
    _download(st, s, lang)
