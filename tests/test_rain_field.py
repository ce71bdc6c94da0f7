"""The rain field of a scenario: per-gauge series, nearest-gauge fill, alignment to the start."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from twin.models.rain_field import rain_field
from twin.scenario import scenario_from_mapping

KST = timezone(timedelta(hours=9))
GAUGES = gpd.GeoDataFrame(
    {"device_id": ["RG-A", "RG-B", "RG-C"]}, geometry=[Point(0, 0), Point(1000, 0), Point(900, 50)], crs="EPSG:5186"
)


def _csv(tmp_path, rows):
    p = tmp_path / "rain.csv"
    p.write_text("time,gauge_id,mm\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p


def _spec(tmp_path, csv, **extra):
    data = {
        "schema_version": 1,
        "name": {"ko": "시험", "en": "t"},
        "start": "2020-08-03T01:00:00+09:00",
        "duration": "3h",
        "rainfall": {"kind": "observed", "csv": csv.name, **extra},
    }
    return scenario_from_mapping(data, source=tmp_path / "s.yaml").rainfall


def test_series_are_aligned_to_the_scenario_start_and_earlier_rain_is_dropped(tmp_path):
    rows = [f"2020-08-03T{h:02d}:00:00+09:00,RG-A,{m}" for h, m in ((0, 5.0), (1, 7.0), (2, 9.0))]
    csv = _csv(tmp_path, rows)
    start = datetime(2020, 8, 3, 1, tzinfo=KST)
    field = rain_field(_spec(tmp_path, csv), GAUGES, csv_path=csv, start=start)
    h = field["RG-A"]
    assert h.offset_s == 0 and list(h.depths_mm) == [7.0, 9.0]  # the 00:00 hour is before the start


def test_gauges_without_a_series_take_the_nearest_one(tmp_path):
    rows = ["2020-08-03T01:00:00+09:00,RG-A,4.0", "2020-08-03T01:00:00+09:00,RG-B,8.0"]
    csv = _csv(tmp_path, rows)
    start = datetime(2020, 8, 3, 1, tzinfo=KST)
    field = rain_field(_spec(tmp_path, csv, interval="1h"), GAUGES, csv_path=csv, start=start)
    assert field["RG-C"].total_mm == pytest.approx(8.0)  # RG-C is 112 m from RG-B, 902 m from RG-A
    spec = _spec(tmp_path, csv, interval="1h", field="uniform", uniform_gauge="RG-A")
    uni = rain_field(spec, GAUGES, csv_path=csv, start=start)
    assert {g: h.total_mm for g, h in uni.items()} == {"RG-A": 4.0, "RG-B": 4.0, "RG-C": 4.0}


def test_design_storm_factors_scale_each_gauge(tmp_path):
    data = {
        "schema_version": 1,
        "name": {"ko": "시험", "en": "t"},
        "start": "2026-07-15T14:00:00+09:00",
        "duration": "4h",
        "rainfall": {
            "kind": "design",
            "total_mm": 60,
            "duration": "2h",
            "start_offset": "30min",
            "gauge_factors": {"RG-B": 1.5},
        },
    }
    spec = scenario_from_mapping(data, source=tmp_path / "s.yaml").rainfall
    field = rain_field(spec, GAUGES)
    assert field["RG-A"].total_mm == pytest.approx(60.0) and field["RG-B"].total_mm == pytest.approx(90.0)
    assert field["RG-A"].offset_s == 1800.0
    assert np.all(field["RG-A"].depths_mm >= 0)
