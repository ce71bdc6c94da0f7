"""Vega-Lite charts of a run (Altair; Streamlit ships the renderer, so they work offline).

x axes are minutes since the scenario start (a browser's time zone never shifts them); stage is
metres above the gauge datum, rain millimetres per 10 minutes, the evacuation curve a share 0-1.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ..results import RunData
from .i18n import t

LEVEL_COLOURS = {"attention": "#e6b800", "caution": "#ff8200", "alert": "#dc1e1e", "serious": "#82009a"}


def _cursor(t_min: float | None) -> list[alt.Chart]:
    if t_min is None:
        return []
    return [
        alt.Chart(pd.DataFrame({"minute": [t_min]})).mark_rule(color="black", strokeDash=[4, 3]).encode(x="minute:Q")
    ]


def stage_chart(run: RunData, gauges: list[str], lang: str, *, t_min: float | None = None, height: int = 260):
    """Stage at ``gauges`` with each gauge's alert thresholds (dashed, coloured by level)."""
    wide = run.series("stage").reindex(columns=[g for g in gauges if g in run.series("stage").columns])
    long = wide.reset_index().melt(id_vars="time_s", var_name="gauge", value_name="stage_m")
    long["minute"] = long["time_s"] / 60.0
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("minute:Q", title=t("time_min", lang)),
            y=alt.Y("stage_m:Q", title="m"),
            color=alt.Color("gauge:N", title=t("gauge", lang)),
            tooltip=["gauge", alt.Tooltip("minute:Q", format=".0f"), alt.Tooltip("stage_m:Q", format=".2f")],
        )
    )
    rows = [
        {"gauge": g, "level": lv, "name": t(f"level_{lv}", lang), "stage_m": v}
        for g in gauges
        for lv, v in (run.summary.get("gauges", {}).get(g, {}).get("thresholds_m") or {}).items()
        if v is not None
    ]
    layers: list[alt.Chart] = [lines]
    if rows:
        th = pd.DataFrame(rows)
        layers.append(
            alt.Chart(th)
            .mark_rule(strokeDash=[6, 4])
            .encode(
                y="stage_m:Q",
                color=alt.Color(
                    "level:N",
                    scale=alt.Scale(domain=list(LEVEL_COLOURS), range=list(LEVEL_COLOURS.values())),
                    legend=None,
                ),
                tooltip=["gauge", "name", "stage_m"],
            )
        )
    return alt.layer(*layers, *_cursor(t_min)).resolve_scale(color="independent").properties(height=height)


def rain_table(run: RunData) -> pd.DataFrame:
    """Mean rain over the gauges, summed to 10-minute bins: columns minute (bin start), rain_mm."""
    wide = run.series("rain")
    if not len(wide):
        return pd.DataFrame(columns=["minute", "rain_mm"])
    mean = wide.mean(axis=1)
    bins = ((mean.index.to_numpy(float) - 1e-9) // 600).clip(min=0) * 10  # a depth recorded at t fell before t
    return mean.groupby(bins).sum().rename("rain_mm").rename_axis("minute").reset_index()


def rain_chart(run: RunData, lang: str, *, t_min: float | None = None, height: int = 180):
    """Hyetograph: mean rain of the gauges per 10 minutes."""
    df = rain_table(run)
    df = df.assign(end=df["minute"] + 10.0)
    bars = (
        alt.Chart(df)
        .mark_bar(color="#2c7fb8", stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("minute:Q", title=t("time_min", lang)),
            x2="end:Q",
            y2=alt.datum(0),
            y=alt.Y("rain_mm:Q", title="mm / 10 min"),
            tooltip=[alt.Tooltip("minute:Q"), alt.Tooltip("rain_mm:Q", format=".1f")],
        )
    )
    return alt.layer(bars, *_cursor(t_min)).properties(height=height)


def evacuation_chart(curve: pd.DataFrame, lang: str, *, lower_bound_s: float | None = None, height: int = 220):
    """Share of evacuees safe against minutes since they were told to leave, with the max-flow
    lower bound of the evacuation time as a vertical line."""
    df = curve.assign(minute=curve["evacuation_s"] / 60.0)
    line = (
        alt.Chart(df)
        .mark_line(interpolate="step-after", color="#d6006c")
        .encode(
            x=alt.X("minute:Q", title=t("evac_x", lang)),
            y=alt.Y("share:Q", title=t("share_safe", lang), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=[alt.Tooltip("minute:Q", format=".1f"), "safe:Q", alt.Tooltip("share:Q", format=".0%")],
        )
    )
    layers = [line]
    if lower_bound_s is not None:
        lb = pd.DataFrame({"minute": [lower_bound_s / 60.0], "what": [t("lower_bound", lang)]})
        layers.append(alt.Chart(lb).mark_rule(color="gray", strokeDash=[4, 3]).encode(x="minute:Q", tooltip=["what"]))
    return alt.layer(*layers).properties(height=height)
