"""Statistics of a sweep's results table: KPI summary, exceedance with Wilson intervals, exceedance curve."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from twin.ensemble.statistics import Event, exceedance, exceedance_curve, kpi_summary, wilson_interval

NAN = float("nan")


def _table() -> pd.DataFrame:
    """Six members: member 2 failed (NaN KPIs), member 4 ok without a t90 (nobody evacuated)."""
    return pd.DataFrame({
        "member": [0, 1, 2, 3, 4, 5],
        "status": ["ok", "ok", "failed", "ok", "ok", "ok"],
        "error": [None, None, "boom", None, None, None],
        "seed": [10, 11, 12, 13, 14, 15],
        "param/rainfall.total_mm": [100.0, 120.0, 140.0, 160.0, 180.0, 200.0],
        "kpi/t90_min": [4.0, 1.0, NAN, 3.0, NAN, 2.0],
        "access_point/AP-JN-L07/flooded": [1.0, 0.0, NAN, 1.0, 1.0, 0.0],
    })


def test_summary_counts_and_linear_percentiles():
    summary = kpi_summary(_table(), ["kpi/t90_min", "access_point/AP-JN-L07/flooded"])
    t90 = summary.loc["kpi/t90_min"]
    assert (t90["n"], t90["missing"], t90["failed"]) == (4, 1, 1)
    # values 1, 2, 3, 4: linear percentile at q is 1 + 3 q / 100
    assert t90["p5"] == pytest.approx(1.15)
    assert t90["p50"] == pytest.approx(2.5)
    assert t90["p95"] == pytest.approx(3.85)
    assert (t90["mean"], t90["min"], t90["max"]) == (2.5, 1.0, 4.0)
    flooded = summary.loc["access_point/AP-JN-L07/flooded"]
    assert (flooded["n"], flooded["missing"], flooded["failed"]) == (5, 0, 1)
    assert flooded["mean"] == pytest.approx(0.6)
    assert list(summary.columns) == ["n", "missing", "failed", "mean", "p5", "p50", "p95", "min", "max"]


def test_summary_of_a_kpi_without_values_is_nan():
    table = _table().assign(**{"kpi/empty": NAN})
    row = kpi_summary(table, ["kpi/empty"]).loc["kpi/empty"]
    assert (row["n"], row["missing"], row["failed"]) == (0, 5, 1)
    assert math.isnan(row["p50"]) and math.isnan(row["mean"])


def test_summary_rejects_unknown_column_and_status():
    with pytest.raises(ValueError, match="kpi/nope"):
        kpi_summary(_table(), ["kpi/nope"])
    with pytest.raises(ValueError, match="status"):
        kpi_summary(_table().assign(status="running"), ["kpi/t90_min"])


def test_wilson_interval_matches_hand_computation():
    # 8 of 10, z = 1.959964: centre = (0.8 + z²/20) / (1 + z²/10) = 0.716739,
    # half = z / (1 + z²/10) * sqrt(0.8 * 0.2 / 10 + z² / 400) = 0.226577
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-5)
    assert high == pytest.approx(0.943316, abs=1e-5)
    # 0 of 10: low 0, high = (z²/10) / (1 + z²/10) = 0.277533
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12)
    assert high == pytest.approx(0.277533, abs=1e-5)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_exceedance_leaves_out_failed_and_nan():
    events = [Event("kpi/t90_min", ">", 2.0), Event("access_point/AP-JN-L07/flooded", "==", 1.0),
              Event("kpi/t90_min", "<=", 2.0)]
    result = exceedance(_table(), events)
    first = result.iloc[0]
    assert (first["n"], first["count"], first["missing"], first["failed"]) == (4, 2, 1, 1)
    assert first["probability"] == pytest.approx(0.5)
    assert (first["low"], first["high"]) == pytest.approx(wilson_interval(2, 4))
    second = result.iloc[1]
    assert (second["n"], second["count"]) == (5, 3)
    assert second["probability"] == pytest.approx(0.6)
    assert result.iloc[2]["count"] == 2
    assert list(result.columns[:8]) == ["column", "op", "threshold", "n", "count", "probability", "low", "high"]


def test_event_rejects_unknown_operator():
    with pytest.raises(ValueError, match="op"):
        Event("kpi/t90_min", "=>", 1.0)


def test_exceedance_curve_with_ties():
    x, p = exceedance_curve([3.0, 1.0, NAN, 2.0, 2.0])
    assert x.tolist() == [1.0, 2.0, 2.0, 3.0]
    assert p.tolist() == [1.0, 0.75, 0.75, 0.25]
    x, p = exceedance_curve(np.array([]))
    assert x.size == 0 and p.size == 0
