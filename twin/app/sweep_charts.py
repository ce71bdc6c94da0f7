"""Charts of a sweep (Altair): a KPI's distribution over the members with its p5/p50/p95 marked,
its exceedance curve P(X >= x), and the Sobol indices of one KPI with their 95 % intervals.

Every chart takes numbers already chosen by the page (the finished members' values, the indices of
one KPI) and the words to show (titles in the page's language, a unit such as min or paths).
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

BINS = 20  # at most this many bars in a KPI's histogram
PCT_COLOURS = {"p5": "#2b7bba", "p50": "#222222", "p95": "#d6006c"}
S1_COLOUR, ST_COLOUR = "#9ecae1", "#08519c"
Chart = alt.LayerChart | alt.FacetChart  # what alt.layer(...).properties(...) gives


def axis_title(label: str, unit: str) -> str:
    """``label (unit)``; the label alone for unit-less figures (``-``, ``yes/no``)."""
    return label if unit in ("", "-", "yes/no") else f"{label} ({unit})"


def histogram_bins(values: np.ndarray, bins: int = BINS) -> pd.DataFrame:
    """The histogram of ``values`` (NaN left out): columns low, high, count. Whole-number data with few
    distinct values get one bar per value (low = value - 0.5, high = value + 0.5)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return pd.DataFrame({"low": [], "high": [], "count": []})
    lo, hi = float(v.min()), float(v.max())
    if np.all(v == np.round(v)) and hi - lo + 1 <= bins:
        edges = np.arange(lo - 0.5, hi + 1.0, 1.0)
    elif hi == lo:
        edges = np.array([lo - 0.5, hi + 0.5])
    else:
        edges = np.linspace(lo, hi, bins + 1)
    counts, edges = np.histogram(v, bins=edges)
    return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "count": counts.astype(int)})


def kpi_histogram(
    values: np.ndarray, marks: dict[str, float], title: str, unit: str, count_title: str, height: int = 180
) -> Chart:
    """How many members (y) had each value (x, in ``unit``), with a labelled vertical rule at each of
    ``marks`` (``{"p5": ..., "p50": ..., "p95": ...}``; a NaN mark is left out)."""
    bins = histogram_bins(values)
    x_title = axis_title(title, unit)
    whole = bool(len(bins)) and bool(np.all(bins["high"] - bins["low"] == 1.0))  # one bar per whole number
    axis = alt.Axis(format="d", tickMinStep=1) if whole else alt.Axis()
    bars = (
        alt.Chart(bins)
        .mark_bar(color="#8fa8c8", stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("low:Q", title=x_title, bin="binned", axis=axis),
            x2="high:Q",
            y=alt.Y("count:Q", title=count_title, axis=alt.Axis(tickMinStep=1)),
            tooltip=[
                alt.Tooltip("low:Q", title="≥", format=".3~g"),
                alt.Tooltip("high:Q", title="<", format=".3~g"),
                alt.Tooltip("count:Q", title=count_title),
            ],
        )
    )
    rows = [
        {"name": k, "x": float(v), "label": f"{k} {_fmt(float(v))}"}
        for k, v in marks.items()
        if v is not None and math.isfinite(float(v))
    ]
    layers: list[alt.Chart] = [bars]
    if rows:
        df = pd.DataFrame(rows)
        colour = alt.Color("name:N", scale=alt.Scale(domain=list(PCT_COLOURS), range=list(PCT_COLOURS.values())),
                           legend=None)  # fmt: skip
        base = alt.Chart(df).encode(x="x:Q", color=colour, tooltip=[alt.Tooltip("label:N", title=x_title)])
        layers.append(base.mark_rule(strokeWidth=2, strokeDash=[4, 2]))
        # labels stacked at the top, one line each, so that close percentiles do not overwrite each other
        for i, name in enumerate(PCT_COLOURS):
            part = df[df["name"] == name]
            if len(part):
                layers.append(
                    alt.Chart(part)
                    .mark_text(align="left", dx=3, dy=12 * i, baseline="top", fontWeight="bold")
                    .encode(x="x:Q", y=alt.value(0), text="label:N", color=colour)
                )
    return alt.layer(*layers).properties(height=height)


def exceedance_curve_data(values: np.ndarray) -> pd.DataFrame:
    """P(X >= x) at each distinct finite value x of ``values``: columns x, probability (0-1), count."""
    v = np.sort(np.asarray(values, dtype=float)[np.isfinite(np.asarray(values, dtype=float))])
    if v.size == 0:
        return pd.DataFrame({"x": [], "probability": [], "count": []})
    xs = np.unique(v)
    counts = v.size - np.searchsorted(v, xs, side="left")
    return pd.DataFrame({"x": xs, "probability": counts / v.size, "count": counts.astype(int)})


def exceedance_chart(values: np.ndarray, title: str, unit: str, y_title: str, height: int = 240) -> Chart:
    """The exceedance curve of ``values``: the share of members (y, %) whose value is at least x."""
    df = exceedance_curve_data(values)
    x_title = axis_title(title, unit)
    line = (
        alt.Chart(df)
        .mark_line(interpolate="step-before", color="#d6006c")
        .encode(
            x=alt.X("x:Q", title=x_title),
            y=alt.Y("probability:Q", title=y_title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        )
    )
    points = line.mark_point(filled=True, size=30, color="#d6006c").encode(
        tooltip=[
            alt.Tooltip("x:Q", title=x_title, format=".3~g"),
            alt.Tooltip("probability:Q", title=y_title, format=".0%"),
            alt.Tooltip("count:Q", title="n"),
        ]
    )
    return alt.layer(line, points).properties(height=height)


def sensitivity_data(rows: pd.DataFrame, labels: dict[str, str], names: dict[str, str]) -> pd.DataFrame:
    """The Sobol indices of one KPI in long form for the chart: parameter (its words), index (the words
    of S1 or ST, from ``names``), value, low, high (value ± its 95 % half-width), sorted by ST descending."""
    order = rows.sort_values("ST", ascending=False, kind="mergesort")
    out = []
    for _, r in order.iterrows():
        for ix in ("ST", "S1"):
            value, conf = float(r[ix]), float(r[f"{ix}_conf"])
            out.append(
                {
                    "parameter": labels.get(str(r["parameter"]), str(r["parameter"])),
                    "key": str(r["parameter"]),
                    "index": names[ix],
                    "value": value,
                    "low": value - conf,
                    "high": value + conf,
                }
            )
    return pd.DataFrame(out)


def sensitivity_chart(data: pd.DataFrame, value_title: str, height_per_row: int = 44) -> Chart:
    """Horizontal bars of ST and S1 per parameter (sorted as in ``data``) with 95 % error bars."""
    order = list(dict.fromkeys(data["parameter"]))
    kinds = list(dict.fromkeys(data["index"]))
    y = alt.Y("parameter:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    colour = alt.Color("index:N", scale=alt.Scale(domain=kinds, range=[ST_COLOUR, S1_COLOUR][: len(kinds)]),
                       legend=alt.Legend(title=None, orient="top"))  # fmt: skip
    offset = alt.YOffset("index:N", sort=kinds)
    tip = [
        alt.Tooltip("parameter:N", title=" "),
        alt.Tooltip("index:N", title=" "),
        alt.Tooltip("value:Q", title=value_title, format=".2f"),
        alt.Tooltip("low:Q", title="95 % ≥", format=".2f"),
        alt.Tooltip("high:Q", title="95 % ≤", format=".2f"),
    ]
    base = alt.Chart(data).encode(y=y, yOffset=offset)
    bars = base.mark_bar().encode(x=alt.X("value:Q", title=value_title), color=colour, tooltip=tip)
    errors = base.mark_rule(color="#333", strokeWidth=1.5).encode(
        x="low:Q", x2="high:Q", yOffset=alt.YOffset("index:N", sort=kinds, bandPosition=0.5), tooltip=tip
    )
    return alt.layer(bars, errors).properties(height={"step": height_per_row // 2})


def _fmt(x: float) -> str:
    """A number for a label: 3 significant digits, no exponent for everyday sizes."""
    return f"{x:.3g}" if abs(x) < 1e5 else f"{x:,.0f}"
