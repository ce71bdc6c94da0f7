"""Vega-Lite charts of a run (Altair; Streamlit ships the renderer, so they work offline).

One time unit on every chart of a run: minutes since the scenario start on the x axis (a browser's
time zone never shifts them), with the clock time of the scenario's own zone in the axis title and
the tooltips when the start is known (:func:`scenario_start`). Stage is metres above the gauge
datum, rain millimetres per 10 minutes, the evacuation curve a share 0-1 against minutes since the
order. Thresholds and the lower bound are labelled on the chart itself, not only in a tooltip.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import altair as alt
import pandas as pd

from ..results import RunData
from .i18n import t

LEVEL_COLOURS = MappingProxyType(
    {"attention": "#e6b800", "caution": "#ff8200", "alert": "#dc1e1e", "serious": "#82009a"}
)
GaugeLabels = Mapping[str, str] | Callable[[str], str]
"""A gauge id -> its display name: a mapping (ids it lacks keep their id) or a function."""


# --- time ---------------------------------------------------------------------------------------
def scenario_start(summary: dict[str, Any]) -> dt.datetime | None:
    """The scenario start of a run's summary (``scenario.start``, ISO 8601 with its UTC offset, e.g.
    ``2026-07-15T18:00:00+09:00``) as a tz-aware datetime; None when missing, unreadable or naive."""
    text = (summary.get("scenario") or {}).get("start") if isinstance(summary.get("scenario"), dict) else None
    if not isinstance(text, str):
        return None
    try:
        start = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


def clock(start: dt.datetime | None, minute: float) -> str:
    """The clock time ``minute`` minutes after ``start``, to the nearest minute, in ``start``'s own zone:
    ``"18:35"``, or ``"00:10+1"`` a day later; ``""`` without a start or for a non-finite minute."""
    if start is None or not math.isfinite(minute):
        return ""
    at = start + dt.timedelta(minutes=round(minute))
    days = (at.date() - start.date()).days
    return at.strftime("%H:%M") + (f"{days:+d}" if days else "")


def clocks(start: dt.datetime | None, minutes: Iterable[float]) -> list[str]:
    """:func:`clock` of each of ``minutes`` (each distinct minute computed once)."""
    minutes = list(minutes)
    done = {m: clock(start, m) for m in set(minutes)}
    return [done[m] for m in minutes]


def time_axis_title(lang: str, start: dt.datetime | None) -> str:
    """Title of a time axis in minutes since the start: ``"시작(18:00) 후 분"`` / ``"Minutes since the
    start (18:00)"`` with the start's clock time, or the plain title without a start."""
    if start is None:
        return t("time_min", lang)
    return t("time_axis_start", lang).format(clock=start.strftime("%H:%M"))


def minutes_and_clock(time_s: pd.Series, start: dt.datetime | None, lang: str) -> pd.DataFrame:
    """Seconds since the start (an events table's ``time_s``) as the page's time columns: minutes since
    the start (0.1 min) and, with a start, the clock time; column titles in ``lang``."""
    minute = (time_s.astype(float) / 60.0).round(1)
    out = pd.DataFrame({t("time_min", lang): minute.to_numpy()}, index=time_s.index)
    if start is not None:
        out.insert(0, t("clock_time", lang), clocks(start, minute))
    return out


def _time_tooltips(lang: str, start: dt.datetime | None, field: str = "minute") -> list[alt.Tooltip]:
    """Tooltips of a point in time: its clock time (with a start) and its minute since the start."""
    tips = [alt.Tooltip(f"{field}:Q", title=t("time_min", lang), format=".0f")]
    if start is not None:
        tips.insert(0, alt.Tooltip("clock:N", title=t("clock_time", lang)))
    return tips


def _cursor(t_min: float | None, lang: str, start: dt.datetime | None, *, top: bool = True) -> list[alt.Chart]:
    """The playback's minute as a dashed vertical line, labelled with "now" and its time at the
    ``top`` of the plot (else at its foot)."""
    if t_min is None:
        return []
    when = clock(start, t_min) or f"{t_min:.0f} {t('minutes', lang)}"
    df = pd.DataFrame({"minute": [float(t_min)], "clock": [clock(start, t_min)], "label": [f"{t('now', lang)} {when}"]})
    base = alt.Chart(df).encode(x="minute:Q", tooltip=_time_tooltips(lang, start))
    return [
        base.mark_rule(color="black", strokeDash=[4, 3]),
        base.mark_text(
            align="left", baseline="top" if top else "bottom", dx=3, dy=2 if top else -2, fontSize=11
        ).encode(y=alt.value(0) if top else alt.value(alt.expr("height")), text="label:N"),
    ]


# --- stage --------------------------------------------------------------------------------------
def gauge_names(gauges: list[str], label_of: GaugeLabels | None) -> dict[str, str]:
    """Display name of each gauge id: ``label_of``'s (the id without one); two gauges of one name get
    their ids added, so no two lines share a colour."""
    if label_of is None:
        names = {g: g for g in gauges}
    elif callable(label_of):
        names = {g: str(label_of(g) or g) for g in gauges}
    else:
        names = {g: str(label_of.get(g) or g) for g in gauges}
    seen = pd.Series(list(names.values())).value_counts()
    return {g: (f"{n} ({g})" if seen[n] > 1 and n != g else n) for g, n in names.items()}


def threshold_table(run: RunData, gauges: list[str], names: dict[str, str], lang: str) -> pd.DataFrame:
    """One row per distinct (level, stage) of the ``gauges``' alert thresholds: level, stage_m (m),
    the level word in ``lang``, the gauges sharing it (names), and the label drawn on the chart
    (``"관심 2.50 m"``, led by the gauge names when more than one gauge is drawn)."""
    seen: dict[tuple[str, float], list[str]] = {}
    for g in gauges:
        th = (run.summary.get("gauges", {}).get(g) or {}).get("thresholds_m") or {}
        for lv, v in th.items():
            if lv in LEVEL_COLOURS and v is not None and math.isfinite(v):
                seen.setdefault((lv, round(float(v), 3)), []).append(names[g])
    rows = []
    for (lv, v), who in seen.items():
        word = t(f"level_{lv}", lang)
        lead = "·".join(who) + " " if len(gauges) > 1 else ""
        rows.append(
            {
                "level": lv,
                "stage_m": v,
                "level_word": word,
                "gauges": ", ".join(who),
                "label": f"{lead}{word} {v:.2f} m",
            }
        )
    return pd.DataFrame(rows, columns=["level", "stage_m", "level_word", "gauges", "label"])


def with_cursor(spec: dict[str, Any], t_min: float, lang: str, start: dt.datetime | None, *, top: bool) -> dict:
    """A layered chart's Vega-Lite ``spec`` (built once, without a cursor) with the playback's
    cursor at minute ``t_min`` added as its last layers: a playback step then builds only the
    cursor (about a millisecond), not the chart and its data again. ``top`` as in the chart
    (:func:`stage_chart` labels it at the foot, :func:`rain_chart` at the top)."""
    cursor = alt.layer(*_cursor(t_min, lang, start, top=top)).to_dict()
    out = dict(spec)
    shared = cursor.get("data")  # a layer of one data set keeps it at its top: give it to each layer
    out["layer"] = list(spec.get("layer", [])) + [{"data": shared, **x} if shared else x for x in cursor["layer"]]
    out["datasets"] = {**spec.get("datasets", {}), **cursor.get("datasets", {})}
    return out


def stage_chart(
    run: RunData,
    gauges: list[str],
    lang: str,
    *,
    t_min: float | None = None,
    height: int = 260,
    label_of: GaugeLabels | None = None,
    start: dt.datetime | None = None,
):
    """Stage (m) at ``gauges`` against minutes since the ``start``, with each gauge's alert thresholds
    as dashed lines coloured by level and labelled at their right end with the level word and the
    stage (m). Lines and tooltips name the gauges by ``label_of`` (ids only in the tooltips); with
    ``t_min`` a labelled cursor at that minute."""
    stage = run.series("stage")
    ids = [g for g in gauges if g in stage.columns]
    names = gauge_names(ids, label_of)
    long = stage[ids].reset_index().melt(id_vars="time_s", var_name="gauge", value_name="stage_m").dropna()
    long["minute"] = long["time_s"] / 60.0
    long["name"] = long["gauge"].map(names)
    long["clock"] = clocks(start, long["minute"])
    x = alt.X("minute:Q", title=time_axis_title(lang, start))
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=x,
            y=alt.Y("stage_m:Q", title=t("stage_axis", lang)),
            color=alt.Color("name:N", title=t("gauge", lang), sort=[names[g] for g in ids]),
            tooltip=[
                alt.Tooltip("name:N", title=t("gauge", lang)),
                *_time_tooltips(lang, start),
                alt.Tooltip("stage_m:Q", title=t("stage_axis", lang), format=".2f"),
                alt.Tooltip("gauge:N", title=t("device_id", lang)),
            ],
        )
    )
    layers: list[alt.Chart] = [lines]
    th = threshold_table(run, ids, names, lang)
    if len(th):
        values = [*long["stage_m"], *th["stage_m"], 0.0]
        span_m = max(values) - min(values)
        plot_px = max(height - PLOT_MARGIN_PX, 40)
        th = th.assign(side=label_sides(list(th["stage_m"]), span_m, plot_px))
        ends = (float(long["minute"].min()), float(long["minute"].max())) if len(long) else (0.0, 0.0)
        layers += _threshold_layers(th, ends, lang)
    cursor = _cursor(t_min, lang, start, top=False)  # at the foot: the threshold labels are high
    return alt.layer(*layers, *cursor).resolve_scale(color="independent").properties(height=height)


LABEL_PX = 13  # px: the height a threshold label needs above its line
PLOT_MARGIN_PX = 70  # px of a chart's height taken by its x axis, its title and the padding (Streamlit fits)


def label_sides(stages_m: list[float], span_m: float, height_px: int) -> list[str]:
    """Where each threshold's label goes: ``right`` or ``left`` end of its line, or ``""`` (none: its
    line keeps its tooltip) so that no two labels (:data:`LABEL_PX` px high, above their line)
    overlap on a plot ``height_px`` px high showing about ``span_m`` m. From the lowest line up, a
    label goes right unless it would cover the last right label, then left, else nowhere."""
    gap = LABEL_PX * 1.15 * span_m / max(height_px, 1)  # 1.15: the axis rounds its ends outwards
    last = {"right": -math.inf, "left": -math.inf}
    sides = [""] * len(stages_m)
    for i in sorted(range(len(stages_m)), key=lambda j: stages_m[j]):
        v = stages_m[i]
        side = next((x for x in ("right", "left") if v - last[x] >= gap), "")
        if side:
            sides[i], last[side] = side, v
    return sides


def _threshold_layers(th: pd.DataFrame, ends: tuple[float, float], lang: str) -> list[alt.Chart]:
    """Dashed threshold lines coloured by level, each labelled at the end of its ``side`` (minutes
    ``ends`` of the x axis) with its level word and stage (m)."""
    level = alt.Color(
        "level:N", scale=alt.Scale(domain=list(LEVEL_COLOURS), range=list(LEVEL_COLOURS.values())), legend=None
    )
    tips = [
        alt.Tooltip("level_word:N", title=t("thresholds", lang)),
        alt.Tooltip("stage_m:Q", title=t("stage_axis", lang), format=".2f"),
        alt.Tooltip("gauges:N", title=t("gauge", lang)),
    ]
    out = [alt.Chart(th).encode(y="stage_m:Q", color=level, tooltip=tips).mark_rule(strokeDash=[6, 4])]
    for side, at, dx in (("right", ends[1], -2), ("left", ends[0], 2)):
        part = th[th["side"] == side].assign(minute=at)
        if len(part):
            out.append(
                alt.Chart(part)
                .mark_text(
                    align="right" if side == "right" else "left",
                    baseline="bottom",
                    dx=dx,
                    dy=-2,
                    fontSize=11,
                    fontWeight="bold",
                )
                .encode(x="minute:Q", y="stage_m:Q", text="label:N", color=level, tooltip=tips)
            )
    return out


# --- rain ---------------------------------------------------------------------------------------
def rain_table(run: RunData) -> pd.DataFrame:
    """Mean rain over the gauges, summed to 10-minute bins: columns minute (bin start), rain_mm."""
    wide = run.series("rain")
    if not len(wide):
        return pd.DataFrame(columns=["minute", "rain_mm"])
    mean = wide.mean(axis=1)
    bins = ((mean.index.to_numpy(float) - 1e-9) // 600).clip(min=0) * 10  # a depth recorded at t fell before t
    return mean.groupby(bins).sum().rename("rain_mm").rename_axis("minute").reset_index()


def rain_chart(
    run: RunData, lang: str, *, t_min: float | None = None, height: int = 180, start: dt.datetime | None = None
):
    """Hyetograph: mean rain of the gauges (mm per 10 minutes) against minutes since the ``start``;
    each bar's tooltip gives its 10 minutes (clock times with a start) and its depth (mm)."""
    df = rain_table(run)
    df = df.assign(end=df["minute"] + 10.0)
    m = t("minutes", lang)
    if start is not None:
        df["when"] = [f"{clock(start, a)}–{clock(start, b)}" for a, b in zip(df["minute"], df["end"], strict=True)]
    else:
        df["when"] = [f"{a:.0f}–{b:.0f} {m}" for a, b in zip(df["minute"], df["end"], strict=True)]
    bars = (
        alt.Chart(df)
        .mark_bar(color="#2c7fb8", stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("minute:Q", title=time_axis_title(lang, start)),
            x2="end:Q",
            y2=alt.datum(0),
            y=alt.Y("rain_mm:Q", title=t("rain_axis", lang)),
            tooltip=[
                alt.Tooltip("when:N", title=t("clock_time", lang) if start is not None else t("time_min", lang)),
                alt.Tooltip("rain_mm:Q", title=t("rain_axis", lang), format=".1f"),
            ],
        )
    )
    return alt.layer(bars, *_cursor(t_min, lang, start)).properties(height=height)


# --- evacuation ---------------------------------------------------------------------------------
def evacuation_chart(curve: pd.DataFrame, lang: str, *, lower_bound_s: float | None = None, height: int = 220):
    """Share of evacuees safe (%) against minutes since they were told to leave, with the lower bound
    of the evacuation time (s; no simulated evacuation can be faster) as a grey vertical line labelled
    on the chart with its minutes, its explanation in the tooltip."""
    df = curve.assign(minute=curve["evacuation_s"] / 60.0)
    line = (
        alt.Chart(df)
        .mark_line(interpolate="step-after", color="#d6006c")
        .encode(
            x=alt.X("minute:Q", title=t("evac_x", lang)),
            y=alt.Y("share:Q", title=t("share_safe", lang), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("minute:Q", title=t("evac_x", lang), format=".1f"),
                alt.Tooltip("safe:Q", title=t("people_safe", lang)),
                alt.Tooltip("share:Q", title=t("share_safe", lang), format=".0%"),
            ],
        )
    )
    layers = [line]
    if lower_bound_s is not None and math.isfinite(lower_bound_s):
        at = lower_bound_s / 60.0
        label = t("lower_bound_label", lang).format(m=f"{at:.1f}")
        lb = pd.DataFrame({"minute": [at], "label": [label], "what": [t("lower_bound_help", lang)]})
        right = float(df["minute"].max()) if len(df) else at
        left_of_line = at > 0.6 * right  # near the right edge: write the label to the left of the line
        base = alt.Chart(lb).encode(
            x="minute:Q",
            tooltip=[
                alt.Tooltip("label:N", title=t("lower_bound", lang)),
                alt.Tooltip("what:N", title=t("meaning", lang)),
            ],
        )
        layers.append(base.mark_rule(color="gray", strokeDash=[4, 3], strokeWidth=1.5))
        layers.append(
            base.mark_text(
                align="right" if left_of_line else "left",
                baseline="bottom",
                dx=-4 if left_of_line else 4,
                color="#555",
            ).encode(y=alt.datum(0.02), text="label:N")  # at the foot: the curve is high by the bound
        )
    return alt.layer(*layers).properties(height=height)
