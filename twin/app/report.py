"""A self-contained HTML report of a run for a workshop: KPIs in plain words, maps, charts and
events, every picture an embedded PNG (nothing fetched, opens offline, prints on paper).
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ..city import CityModel
from ..results import RunData
from .charts import rain_table, scenario_start
from .i18n import t
from .kpis import key_gauge, plain_kpis
from .playback import LEVEL_RGB, PATH_STATE_RGB, PERSON_RGB, Playback, evacuation_curve


def korean_font_family() -> list[str]:
    """Font families for figures with Korean text: DejaVu Sans, then a CJK font of the system
    (fonts-noto-cjk, NanumGothic) if one is installed; matplotlib falls back glyph by glyph."""
    from matplotlib import font_manager as fm

    known = {f.name for f in fm.fontManager.ttflist}
    for family in ("Noto Sans CJK KR", "NanumGothic", "Malgun Gothic"):
        if family in known:
            return ["DejaVu Sans", family]
    for path in sorted(fm.findSystemFonts()):  # installed after matplotlib built its font cache
        name = Path(path).name
        if name.startswith(("NotoSansCJK-Regular", "NanumGothic.")):
            fm.fontManager.addfont(path)
            return korean_font_family() if len(fm.fontManager.ttflist) > len(known) else ["DejaVu Sans"]
    return ["DejaVu Sans"]


def _b64(fig: Figure, dpi: int = 90) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _rgb(c: list[int]) -> tuple[float, ...]:
    return tuple(v / 255 for v in c)


def state_map_png(city: CityModel, pb: Playback, *, t: float | None, title: str, zoom_to_people: bool = False) -> str:
    """A static map (PNG, base64) of streams by alert level, riverside paths by state and people;
    ``t=None`` draws the worst state of the run. Drawn in lon/lat with the aspect of 37.7 °N."""
    with rc_context({"font.family": korean_font_family()}):
        return _state_map(city, pb, t=t, title=title, zoom_to_people=zoom_to_people)


def _state_map(city: CityModel, pb: Playback, *, t: float | None, title: str, zoom_to_people: bool) -> str:
    fig = Figure(figsize=(7.5, 8.5))
    ax = fig.subplots()
    dongs = city.layer("dongs").to_crs("EPSG:4326")
    dongs.boundary.plot(ax=ax, color="#999999", linewidth=0.6)
    levels = pb.peak_levels() if t is None else pb.reach_levels(t)
    ax.add_collection(
        LineCollection(pb.reach_paths, colors=[_rgb(LEVEL_RGB[lv]) for lv in levels], linewidths=3.0, zorder=3)
    )
    states = pb.link_states(t)
    ax.add_collection(
        LineCollection(
            [lk["path"] for lk in pb.path_links],
            colors=[_rgb(PATH_STATE_RGB[s]) for s in states],
            linewidths=1.4,
            zorder=4,
        )
    )
    if t is not None:
        ppl = pb.people_at(t)
        if len(ppl):
            cols = [_rgb(PERSON_RGB[bool(e)]) for e in ppl["evacuating"]]
            ax.scatter(ppl["lon"], ppl["lat"], s=4, c=cols, zorder=5)
            if zoom_to_people:
                x0, x1 = np.percentile(ppl["lon"], [1, 99])
                y0, y1 = np.percentile(ppl["lat"], [1, 99])
                pad = max(x1 - x0, y1 - y0) * 0.15 + 0.004
                ax.set_xlim(x0 - pad, x1 + pad)
                ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect(1 / math.cos(math.radians(37.74)))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")  # geopandas labels the axes "Geodetic longitude [degree]"
    ax.set_title(title, fontsize=11)
    return _b64(fig)


def _chart_png(*args, **kwargs) -> str:
    with rc_context({"font.family": korean_font_family()}):
        return _chart(*args, **kwargs)


def _chart(
    series: dict[str, tuple[np.ndarray, np.ndarray]],
    title: str,
    *,
    xlabel: str,
    ylabel: str,
    hlines: dict[str, float] | None = None,
    bars: bool = False,
    vline: float | None = None,
) -> str:
    fig = Figure(figsize=(9, 3.2))
    ax = fig.subplots()
    for label, (x, y) in series.items():
        if bars:
            ax.bar(x, y, width=10, align="edge", alpha=0.7, label=label)
        else:
            if label == "evac":
                ax.step(x, y, label=label, where="post")
            else:
                ax.plot(x, y, label=label)
    for name, v in (hlines or {}).items():
        ax.axhline(v, linestyle="--", linewidth=0.8, color="gray")
        ax.annotate(name, (ax.get_xlim()[0], v), fontsize=7, va="bottom")
    if vline is not None:
        ax.axvline(vline, linestyle=":", color="gray")
    if len(series) > 1:
        ax.legend(fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return _b64(fig)


def report_html(run: RunData, city: CityModel, pb: Playback, lang: str, names=None) -> str:
    """One HTML file (no external resources): the scenario, plain-language KPIs, maps of the worst
    state and of the evacuation, stage with thresholds, rain, evacuation curve and the events (by
    name and clock time). ``names``: the city's :class:`~twin.app.names.Names` (built if not given)."""
    from .names import Names
    from .tables import events_table

    summary = run.summary
    key = key_gauge(city)
    names = names or Names.of(city)
    name = summary.get("scenario", {}).get("name", {}).get(lang, "")
    cards = "".join(
        f"<tr><th>{html.escape(k.label)}</th><td><b>{html.escape(k.value)}</b></td><td>{html.escape(k.sentence)}</td></tr>"
        for k in plain_kpis(summary, lang, key)
    )
    imgs = [(t("peak_map", lang), state_map_png(city, pb, t=None, title=t("peak_map", lang)))]
    orders = summary.get("crowd", {}).get("evacuation_orders", {})
    busiest = max(orders.items(), key=lambda kv: kv[1]["people_on_paths"], default=None)
    if busiest and busiest[1]["people_on_paths"]:
        when = busiest[1]["time_s"] + 60.0
        title = f"{names.stream(busiest[0], lang)} +{when / 60:.0f} {t('minutes', lang)}"
        imgs.append((title, state_map_png(city, pb, t=when, title=title, zoom_to_people=True)))
    charts = []
    stage = run.series("stage", key.device_id) if key is not None else None
    if key is not None and stage is not None and len(stage):
        th = summary.get("gauges", {}).get(key.device_id, {}).get("thresholds_m") or {}
        charts.append(
            _chart_png(
                {key.words(lang)["gauge"]: (stage.index.to_numpy() / 60, stage[key.device_id].to_numpy())},
                t("stage_chart", lang),
                xlabel="min",
                ylabel="m",
                hlines={lv: v for lv, v in th.items() if v is not None},
            )
        )
    rain = rain_table(run)
    if len(rain):
        charts.append(
            _chart_png(
                {"rain": (rain["minute"].to_numpy(), rain["rain_mm"].to_numpy())},
                t("rain_chart", lang),
                xlabel="min",
                ylabel="mm",
                bars=True,
            )
        )
    curve = evacuation_curve(run.evacuees)
    if len(curve):
        lb = (summary["crowd"].get("evacuation_lower_bound_s") or {}).get(busiest[0] if busiest else "", {})
        charts.append(
            _chart_png(
                {"evac": (curve["evacuation_s"].to_numpy() / 60, curve["share"].to_numpy())},
                t("evac_chart", lang),
                xlabel=t("evac_x", lang),
                ylabel="share",
                vline=(lb.get("bound_s") or 0) / 60 or None,
            )
        )
    table = events_table(run.events.head(300), names, lang, scenario_start(summary))
    head = "<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns) + "</tr>"
    ev = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    maps = "".join(
        f'<figure><img alt="map" src="data:image/png;base64,{png}"><figcaption>{html.escape(cap)}</figcaption></figure>'
        for cap, png in imgs
    )
    pics = "".join(f'<img alt="chart" src="data:image/png;base64,{png}">' for png in charts)
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(name)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:auto;font-size:18px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:6px 10px;text-align:left;vertical-align:top}}img{{max-width:100%}}
figure{{display:inline-block;margin:8px}}</style></head><body>
<h1>{html.escape(t("title", lang))}</h1><h2>{html.escape(name)}</h2>
<table>{cards}</table>
<p>{html.escape(t("legend", lang))}</p>{maps}
{pics}
<h3>{html.escape(t("events", lang))}</h3><table>{head}{ev}</table>
</body></html>"""
