"""The rain field of a scenario: one hyetograph per rain gauge of the city (mm per interval)."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np

from ..errors import DataImportError
from ..rainfall import Hyetograph, alternating_block, huff_storm, read_rain_csv


def rain_field(
    rainfall, gauges: gpd.GeoDataFrame, *, csv_path: Path | None = None, start: datetime | None = None
) -> dict[str, Hyetograph]:
    """Hyetographs for every rain gauge (``device_id``, EPSG:5186) from a scenario's rainfall spec.

    ``design``: one storm (Huff quartile or alternating block), times each gauge's factor (1 when
    not listed), starting ``start_offset`` s after the scenario start. ``observed``: the CSV's
    series; a gauge without its own series takes the one of the nearest gauge that has one
    (``field: per_gauge``) or the series of ``uniform_gauge`` (``field: uniform``); ``csv_path``
    is the CSV resolved against the scenario file, its times aligned to ``start`` (the scenario
    start; rain recorded before it is dropped). ``none``: {}.
    """
    ids = [str(g) for g in gauges["device_id"]]
    if rainfall.kind == "none":
        return {}
    if rainfall.kind == "design":
        if rainfall.pattern == "alternating_block":
            storm = alternating_block(
                rainfall.duration,
                return_period_yr=rainfall.return_period_yr,
                interval_s=rainfall.interval,
                total_mm=rainfall.total_mm,
            )
        else:
            storm = huff_storm(
                rainfall.total_mm, rainfall.duration, quartile=int(rainfall.pattern[-1]), interval_s=rainfall.interval
            )
        storm = Hyetograph(storm.depths_mm, storm.interval_s, offset_s=float(rainfall.start_offset))
        return {g: storm.scaled(float(rainfall.gauge_factors.get(g, 1.0))) for g in ids}
    series = read_rain_csv(
        csv_path if csv_path is not None else Path(rainfall.csv), interval_s=rainfall.interval, start=start
    )
    series = {g: _from_start(h) for g, h in series.items()}
    if rainfall.field == "uniform":
        key = rainfall.uniform_gauge or sorted(series)[0]
        if key not in series:
            raise DataImportError(
                f"{csv_path}: uniform_gauge {key!r} has no series in the CSV (gauges: {', '.join(sorted(series))})"
            )
        return {g: series[key] for g in ids}
    have = [g for g in ids if g in series]
    if not have:
        raise DataImportError(
            f"{csv_path}: none of the CSV's gauges ({', '.join(sorted(series))}) is a rain gauge of the dataset "
            f"({', '.join(ids)}); rename them, or use field: uniform with uniform_gauge"
        )
    xy = {str(r.device_id): (r.geometry.x, r.geometry.y) for r in gauges.itertuples()}
    out = {}
    for g in ids:
        if g in series:
            out[g] = series[g]
            continue
        d = [np.hypot(xy[g][0] - xy[h][0], xy[g][1] - xy[h][1]) for h in have]
        out[g] = series[have[int(np.argmin(d))]]
    return out


def _from_start(h: Hyetograph) -> Hyetograph:
    """Drop the intervals that begin before the scenario start (offset < 0)."""
    if h.offset_s >= 0:
        return h
    k = math.ceil(-h.offset_s / h.interval_s - 1e-9)
    return Hyetograph(h.depths_mm[k:], h.interval_s, offset_s=h.offset_s + k * h.interval_s)
