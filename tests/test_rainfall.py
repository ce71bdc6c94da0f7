"""Rainfall: hyetographs, Huff and alternating-block design storms, IDF, gauge CSV, KMA alerts."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import numpy as np
import pytest

from twin.errors import DataImportError, TwinError
from twin.rainfall import (
    DEFAULT_IDF,
    HUFF_QUARTILES,
    IDF,
    KMA_CRITERIA,
    Hyetograph,
    RainAlert,
    alternating_block,
    huff_storm,
    kma_alerts,
    read_rain_csv,
    uniform_field,
)

HOUR_S = 3600.0


def constant_rain(rate_mm_h: float, hours: float, *, interval_s: float = 600.0, offset_s: float = 0.0) -> Hyetograph:
    n = round(hours * HOUR_S / interval_s)
    return Hyetograph(np.full(n, rate_mm_h * interval_s / HOUR_S), interval_s, offset_s)


# ---------------------------------------------------------------------------------------------
# Hyetograph
# ---------------------------------------------------------------------------------------------


def test_hyetograph_properties():
    h = Hyetograph([1.0, 3.0, 0.0, 2.0], 600.0, offset_s=1200.0)
    assert h.total_mm == 6.0
    assert h.duration_s == 2400.0
    assert h.end_s == 3600.0
    np.testing.assert_array_equal(h.times_s, [1200.0, 1800.0, 2400.0, 3000.0])
    np.testing.assert_allclose(h.intensity_mm_h, [6.0, 18.0, 0.0, 12.0])
    assert h.peak_intensity_mm_h == 18.0
    with pytest.raises(ValueError):
        h.depths_mm[0] = 5.0  # read-only: the dataclass is frozen all the way down


def test_hyetograph_cumulative_is_linear_within_intervals():
    h = Hyetograph([1.0, 3.0, 0.0, 2.0], 600.0, offset_s=1200.0)
    assert h.cumulative_mm(0.0) == 0.0
    assert h.cumulative_mm(1200.0) == 0.0
    assert h.cumulative_mm(1500.0) == pytest.approx(0.5)
    assert h.cumulative_mm(2100.0) == pytest.approx(2.5)
    assert h.cumulative_mm(3000.0) == pytest.approx(4.0)
    assert h.cumulative_mm(1e9) == pytest.approx(6.0)
    np.testing.assert_allclose(h.cumulative_mm(np.array([1200.0, 1800.0, 2400.0])), [0.0, 1.0, 4.0])
    assert h.depth_between(1500.0, 2100.0) == pytest.approx(2.0)
    assert h.depth_between(0.0, 1e6) == pytest.approx(h.total_mm)
    with pytest.raises(ValueError, match="t0_s"):
        h.depth_between(2000.0, 1000.0)


def test_hyetograph_scaled_and_validation():
    h = Hyetograph([1.0, 2.0], 300.0)
    s = h.scaled(2.5)
    np.testing.assert_allclose(s.depths_mm, [2.5, 5.0])
    assert s.interval_s == 300.0
    assert h == Hyetograph(np.array([1.0, 2.0]), 300.0, 0.0)
    assert h != s
    for bad in ([-1.0, 2.0], [math.nan], []):
        with pytest.raises(ValueError):
            Hyetograph(bad, 600.0)
    with pytest.raises(ValueError, match="-5"):
        Hyetograph([1.0], -5.0)
    with pytest.raises(ValueError, match="-1"):
        h.scaled(-1)


def test_resample_multiple_divisor_and_other():
    h = Hyetograph([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 600.0, offset_s=60.0)
    coarse = h.resample(1800.0)
    np.testing.assert_allclose(coarse.depths_mm, [6.0, 15.0], rtol=0, atol=1e-12)
    assert coarse.offset_s == 60.0
    fine = h.resample(300.0)
    np.testing.assert_allclose(fine.depths_mm, np.repeat(h.depths_mm / 2, 2), rtol=0, atol=1e-12)
    odd = h.resample(900.0)  # 3600 s is 4 intervals of 900 s: proportional sharing
    assert odd.total_mm == pytest.approx(21.0, abs=1e-9)
    np.testing.assert_allclose(odd.depths_mm, [1.0 + 1.0, 1.0 + 3.0, 4.0 + 2.5, 2.5 + 6.0], atol=1e-12)
    uneven = h.resample(2400.0)  # does not divide 3600 s: padded with no rain, total kept
    assert uneven.depths_mm.size == 2
    assert uneven.total_mm == pytest.approx(21.0, abs=1e-9)
    np.testing.assert_allclose(uneven.depths_mm, [10.0, 11.0], atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Huff storms
# ---------------------------------------------------------------------------------------------


def test_huff_table_is_immutable_and_monotone_0_to_1():
    assert isinstance(HUFF_QUARTILES, MappingProxyType)
    assert sorted(HUFF_QUARTILES) == [1, 2, 3, 4]
    for q, curve in HUFF_QUARTILES.items():
        assert isinstance(curve, tuple) and len(curve) == 11, q
        assert curve[0] == 0.0 and curve[-1] == 1.0, q
        assert all(b > a for a, b in zip(curve, curve[1:], strict=False)), q
        increments = np.diff(curve)
        # the heaviest tenth of the storm lies in the quartile's own quarter of the duration
        peak_tenth = int(np.argmax(increments))
        assert (q - 1) * 2.5 <= peak_tenth + 0.5 <= q * 2.5, (q, peak_tenth)
    with pytest.raises(TypeError):
        HUFF_QUARTILES[5] = (0.0,) * 11  # type: ignore[index]


def test_huff_table_matches_tabulated_reference_points():
    # Huff median curves as tabulated (ISWS Bulletins 70/71, after Huff 1967): share of the storm
    # total fallen after 10 % and 50 % of the duration, per quartile
    assert [HUFF_QUARTILES[q][1] for q in (1, 2, 3, 4)] == [0.33, 0.08, 0.05, 0.04]
    assert [HUFF_QUARTILES[q][5] for q in (1, 2, 3, 4)] == [0.82, 0.70, 0.39, 0.28]
    # the earlier the quartile, the more rain has fallen at every point of the storm
    for j in range(1, 10):
        assert [HUFF_QUARTILES[q][j] for q in (1, 2, 3, 4)] == sorted(
            (HUFF_QUARTILES[q][j] for q in (1, 2, 3, 4)), reverse=True
        ), j


@pytest.mark.parametrize("quartile", [1, 2, 3, 4])
@pytest.mark.parametrize(
    ("total_mm", "duration_s", "interval_s"),
    [(180.0, 3 * HOUR_S, 600.0), (250.0, 6 * HOUR_S, 600.0), (317.3, 24 * HOUR_S, 3600.0), (91.7, 2 * HOUR_S, 60.0)],
)
def test_huff_storm_conserves_total_and_peaks_in_its_quarter(quartile, total_mm, duration_s, interval_s):
    h = huff_storm(total_mm, duration_s, quartile=quartile, interval_s=interval_s)
    assert h.interval_s == interval_s and h.offset_s == 0.0
    assert h.duration_s == pytest.approx(duration_s)
    assert abs(h.depths_mm.sum() - total_mm) <= 1e-9
    assert (h.depths_mm >= 0).all()
    # the peak interval's midpoint falls in the quartile's own quarter of the duration
    k = int(np.argmax(h.depths_mm))
    mid_fraction = (k + 0.5) * interval_s / duration_s
    assert (quartile - 1) / 4 <= mid_fraction <= quartile / 4, (quartile, mid_fraction)
    # the cumulative curve passes through the tabulated points (PCHIP interpolates them)
    for j, frac in enumerate(HUFF_QUARTILES[quartile]):
        t = duration_s * j / 10
        if abs(t / interval_s - round(t / interval_s)) < 1e-9:
            assert h.cumulative_mm(t) == pytest.approx(frac * total_mm, abs=1e-9)


def test_huff_storm_third_quartile_is_default_and_errors():
    assert huff_storm(100.0, 3 * HOUR_S) == huff_storm(100.0, 3 * HOUR_S, quartile=3, interval_s=600.0)
    with pytest.raises(ValueError, match="5000") as exc:
        huff_storm(100.0, 5000.0, interval_s=600.0)
    assert "600" in str(exc.value)
    with pytest.raises(ValueError, match="5"):
        huff_storm(100.0, 3 * HOUR_S, quartile=5)
    with pytest.raises(ValueError, match="-3"):
        huff_storm(-3.0, 3 * HOUR_S)
    assert huff_storm(0.0, HOUR_S).total_mm == 0.0


# ---------------------------------------------------------------------------------------------
# IDF and alternating block
# ---------------------------------------------------------------------------------------------


def test_default_idf_is_plausible_for_seoul_and_labelled_approximate():
    assert 90.0 <= DEFAULT_IDF.intensity_mm_h(60.0, 30.0) <= 100.0
    assert 160.0 <= DEFAULT_IDF.depth_mm(180.0, 30.0) <= 190.0
    assert "approximate, not the official MOLIT/KMA regional IDF" in DEFAULT_IDF.source
    assert "replace with the official formula" in DEFAULT_IDF.source
    # depth = intensity * t / 60, and the formula itself
    i = DEFAULT_IDF.intensity_mm_h(45.0, 50.0)
    a = DEFAULT_IDF.a0 + DEFAULT_IDF.a1 * math.log(50.0)
    assert i == pytest.approx(a / (45.0**DEFAULT_IDF.n + DEFAULT_IDF.b), rel=1e-12)
    assert DEFAULT_IDF.depth_mm(45.0, 50.0) == pytest.approx(i * 45.0 / 60.0, rel=1e-12)


def test_idf_monotone_in_duration_and_return_period():
    durations = np.array([5, 10, 20, 30, 60, 120, 180, 360, 720, 1440], dtype=float)
    periods = [2, 5, 10, 20, 30, 50, 80, 100, 200, 500]
    for T in periods:
        i = DEFAULT_IDF.intensity_mm_h(durations, T)
        assert (np.diff(i) < 0).all(), T  # intensity falls with duration
        assert (np.diff(DEFAULT_IDF.depth_mm(durations, T)) > 0).all(), T  # depth still grows
    for t in durations:
        i = [DEFAULT_IDF.intensity_mm_h(float(t), T) for T in periods]
        assert all(b > a for a, b in zip(i, i[1:], strict=False)), t
    with pytest.raises(ValueError, match="0.5"):
        DEFAULT_IDF.intensity_mm_h(60.0, 0.5)
    with pytest.raises(ValueError, match="-10"):
        DEFAULT_IDF.intensity_mm_h(-10.0, 30.0)
    with pytest.raises(ValueError, match="n"):
        IDF(a0=1.0, a1=0.0, b=0.0, n=0.0, source="x")


def max_window_depth(depths: np.ndarray, k: int) -> float:
    c = np.concatenate(([0.0], np.cumsum(depths)))
    return float(np.max(c[k:] - c[:-k]))


@pytest.mark.parametrize(
    ("duration_s", "interval_s", "T"),
    [(3 * HOUR_S, 600.0, 30.0), (2 * HOUR_S, 300.0, 100.0), (24 * HOUR_S, 3600.0, 10.0), (HOUR_S * 1.5, 600.0, 2.0)],
)
def test_alternating_block_defining_property(duration_s, interval_s, T):
    h = alternating_block(duration_s, return_period_yr=T, interval_s=interval_s)
    n = h.depths_mm.size
    assert n == round(duration_s / interval_s)
    # the heaviest window of every length k*interval holds exactly the IDF depth for that duration
    for k in range(1, n + 1):
        expected = DEFAULT_IDF.depth_mm(k * interval_s / 60.0, T)
        assert abs(max_window_depth(h.depths_mm, k) - expected) <= 1e-9, k
    assert abs(h.total_mm - DEFAULT_IDF.depth_mm(duration_s / 60.0, T)) <= 1e-9
    centre = (n - 1) // 2
    assert int(np.argmax(h.depths_mm)) == centre
    # blocks fall off on both sides of the peak
    assert (np.diff(h.depths_mm[: centre + 1]) > 0).all()
    assert (np.diff(h.depths_mm[centre:]) < 0).all()
    # the peak block is the 1-interval IDF depth
    assert h.peak_intensity_mm_h == pytest.approx(DEFAULT_IDF.intensity_mm_h(interval_s / 60.0, T), rel=1e-12)


def test_alternating_block_odd_count_peak_is_exact_centre_and_scaling():
    h = alternating_block(7 * 600.0, interval_s=600.0)
    assert int(np.argmax(h.depths_mm)) == 3  # the middle of 7
    scaled = alternating_block(7 * 600.0, interval_s=600.0, total_mm=50.0)
    assert abs(scaled.total_mm - 50.0) <= 1e-9
    np.testing.assert_allclose(scaled.depths_mm / h.depths_mm, 50.0 / h.total_mm, rtol=1e-12)
    other = IDF(a0=500.0, a1=100.0, b=5.0, n=0.6, source="test")
    g = alternating_block(HOUR_S, idf=other, return_period_yr=10.0)
    assert g.total_mm == pytest.approx(other.depth_mm(60.0, 10.0), abs=1e-9)
    with pytest.raises(ValueError, match="1000"):
        alternating_block(1000.0, interval_s=600.0)


# ---------------------------------------------------------------------------------------------
# Gauge CSV
# ---------------------------------------------------------------------------------------------

GOOD_CSV = """time,gauge_id,mm
2020-08-03T01:00:00+09:00,UJB01,1.5
2020-08-03T01:10:00+09:00,UJB01,4.0
2020-08-03T01:40:00+09:00,UJB01,2.0
2020-08-03 01:10:00,UJB02,0.5
2020-08-02T16:20:00Z,UJB02,3.25
"""


def write(tmp_path, text: str, name: str = "rain.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_read_rain_csv_good_file_round_trips(tmp_path):
    p = write(tmp_path, GOOD_CSV)
    field = read_rain_csv(p)
    assert list(field) == ["UJB01", "UJB02"]
    a, b = field["UJB01"], field["UJB02"]
    assert a.interval_s == 600.0 and b.interval_s == 600.0
    # 01:20 and 01:30 are missing: zero rain
    np.testing.assert_array_equal(a.depths_mm, [1.5, 4.0, 0.0, 0.0, 2.0])
    # naive time is Asia/Seoul; 16:20Z is 01:20 KST
    np.testing.assert_array_equal(b.depths_mm, [0.5, 3.25])
    assert a.offset_s == 0.0 and b.offset_s == 600.0
    assert a.total_mm + b.total_mm == pytest.approx(11.25)

    # explicit start and interval: offsets move, depths split evenly
    start = datetime(2020, 8, 3, 0, 0)  # naive: KST
    field2 = read_rain_csv(p, start=start, interval_s=300.0)
    assert field2["UJB01"].offset_s == HOUR_S
    assert field2["UJB02"].offset_s == HOUR_S + 600.0
    np.testing.assert_allclose(field2["UJB01"].resample(600.0).depths_mm, a.depths_mm, atol=1e-12)
    utc_start = datetime(2020, 8, 2, 15, 0, tzinfo=UTC)  # same instant
    assert read_rain_csv(p, start=utc_start)["UJB01"].offset_s == HOUR_S

    # writing the hyetographs back out and reading them again gives the same field
    rows = ["time,gauge_id,mm"]
    t0 = datetime(2020, 8, 3, 1, 0, tzinfo=timezone(timedelta(hours=9)))
    for g, h in field.items():
        for t_s, mm in zip(h.times_s, h.depths_mm, strict=True):
            rows.append(f"{(t0 + timedelta(seconds=float(t_s))).isoformat()},{g},{float(mm)!r}")
    again = read_rain_csv(write(tmp_path, "\n".join(rows) + "\n", "again.csv"))
    assert again == field


def test_read_rain_csv_single_row_gauge_uses_file_interval_and_blank_lines(tmp_path):
    text = "gauge_id,time,mm,quality\nA,2021-07-01T00:00:00+09:00,1,ok\n\nA,2021-07-01T00:10:00+09:00,2,ok\n"
    text += "B,2021-07-01T00:30:00+09:00,5,ok\n"
    field = read_rain_csv(write(tmp_path, text))
    assert field["B"].interval_s == 600.0 and field["B"].offset_s == 1800.0
    np.testing.assert_array_equal(field["A"].depths_mm, [1.0, 2.0])
    with pytest.raises(DataImportError, match="interval_s"):
        read_rain_csv(write(tmp_path, "time,gauge_id,mm\n2021-07-01T00:00:00,A,1\n", "one.csv"))


BAD_CASES = [
    ("time,gauge_id,mm\n2020-08-03T01:00:00,A,1\n\n2020-08-03T01:10:00,A,1,5\n", 4, "more fields than the header"),
    ("time,gauge_id,mm\n2020-08-03T01:00:00,A,1\n\n13:00,A,1\n", 4, "column time: not an ISO 8601"),
    ("time,gauge,mm\n2020-08-03T01:00:00,A,1\n", 1, "gauge_id"),
    ("time,gauge_id,mm\n2020-08-03T01:00:00,A,1\nyesterday,A,2\n", 3, "column time: not an ISO 8601"),
    (
        "time,gauge_id,mm\n2020-08-03T01:00:00,A,1\n2020-08-03T01:10:00,A,-0.5\n",
        3,
        "column mm: expected a finite depth >= 0 mm",
    ),
    ("time,gauge_id,mm\n2020-08-03T01:00:00,A,lots\n", 2, "column mm: not a number"),
    ("time,gauge_id,mm\n2020-08-03T01:00:00,A,\n", 2, "not a number"),
    (
        "time,gauge_id,mm\n2020-08-03T01:00:00,A,1\n2020-08-03T01:10:00,A,1\n2020-08-03T01:00:00+09:00,A,2\n",
        4,
        "duplicate",
    ),
    (
        "time,gauge_id,mm\n2020-08-03T01:00:00,A,1\n2020-08-03T01:10:00,A,1\n2020-08-03T01:25:00,A,2\n",
        4,
        "multiple of the interval",
    ),
    ("time,gauge_id,mm\n2020-08-03T01:00:00,,1\n", 2, "gauge_id"),
    ("time,gauge_id,mm\n", 2, "no data rows"),
    ("", 1, "empty file"),
]


@pytest.mark.parametrize(("text", "line", "what"), BAD_CASES)
def test_read_rain_csv_bad_input_names_file_and_line(tmp_path, text, line, what):
    p = write(tmp_path, text, "bad_rain.csv")
    with pytest.raises(DataImportError) as exc:
        read_rain_csv(p)
    msg = str(exc.value)
    assert "bad_rain.csv" in msg
    assert f"line {line}:" in msg
    assert what in msg
    assert isinstance(exc.value, TwinError) and isinstance(exc.value, ValueError)


def test_read_rain_csv_irregular_against_given_interval_and_missing_file(tmp_path):
    p = write(tmp_path, "time,gauge_id,mm\n2020-08-03T01:00:00,A,1\n2020-08-03T01:10:00,A,1\n", "ten.csv")
    with pytest.raises(DataImportError, match=r"ten\.csv line 3: .*900 s"):
        read_rain_csv(p, interval_s=900.0)
    with pytest.raises(DataImportError, match="nope.csv"):
        read_rain_csv(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="-1"):
        read_rain_csv(p, interval_s=-1)


def test_uniform_field():
    h = huff_storm(100.0, HOUR_S)
    field = uniform_field(h, ["A", "B", "C"])
    assert list(field) == ["A", "B", "C"]
    assert all(v == h for v in field.values())
    with pytest.raises(ValueError, match="'A'"):
        uniform_field(h, ["A", "A"])


# ---------------------------------------------------------------------------------------------
# KMA alerts
# ---------------------------------------------------------------------------------------------


def test_kma_criteria_table():
    assert KMA_CRITERIA == (
        ("advisory", 10800.0, 60.0),
        ("advisory", 43200.0, 110.0),
        ("warning", 10800.0, 90.0),
        ("warning", 43200.0, 180.0),
    )


@pytest.mark.parametrize("interval_s", [600.0, 3600.0, 60.0])
def test_kma_constant_20_mm_h_gives_advisory_at_exactly_3_h(interval_s):
    alerts = kma_alerts(constant_rain(20.0, 3.0, interval_s=interval_s))
    assert len(alerts) == 1
    a = alerts[0]
    assert a == RainAlert(a.time_s, "advisory", "호우주의보", 10800.0, a.depth_mm, 60.0)
    assert a.time_s == pytest.approx(10800.0, abs=1e-6)
    assert a.depth_mm == pytest.approx(60.0, abs=1e-9)


@pytest.mark.parametrize("interval_s", [600.0, 3600.0, 300.0])
def test_kma_90_mm_in_one_hour(interval_s):
    h = Hyetograph(np.concatenate((constant_rain(90.0, 1.0, interval_s=interval_s).depths_mm, np.zeros(5))), interval_s)
    alerts = kma_alerts(h)
    assert [(a.level, a.window_s) for a in alerts] == [("advisory", 10800.0), ("warning", 10800.0)]
    assert alerts[0].time_s == pytest.approx(60.0 / 90.0 * HOUR_S, abs=1e-6)  # 2400 s, inside the hour
    assert alerts[1].time_s == pytest.approx(3600.0, abs=1e-6)
    assert alerts[1].level_ko == "호우경보"
    assert alerts[0].depth_mm == pytest.approx(60.0, abs=1e-9)


def test_kma_offset_moves_alert_time():
    h = Hyetograph(np.array([90.0]), HOUR_S, offset_s=5000.0)
    alerts = kma_alerts(h)
    assert [a.time_s for a in alerts] == pytest.approx([7400.0, 8600.0])


@pytest.mark.parametrize("interval_s", [600.0, 3600.0])
def test_kma_100_mm_over_12_h_gives_no_alert(interval_s):
    assert kma_alerts(constant_rain(100.0 / 12.0, 12.0, interval_s=interval_s)) == []


@pytest.mark.parametrize(("rate_mm_h", "interval_s"), [(10.0, 3600.0), (12.0, 3600.0), (12.0, 600.0), (14.0, 1800.0)])
def test_kma_long_gentle_rain_gives_12_h_advisory_at_exact_time(rate_mm_h, interval_s):
    alerts = kma_alerts(constant_rain(rate_mm_h, 24.0, interval_s=interval_s))
    assert len(alerts) == 1  # 3-h sums stay below 60 mm; 12-h sums stay below 180 mm
    a = alerts[0]
    assert (a.level, a.level_ko, a.window_s, a.threshold_mm) == ("advisory", "호우주의보", 43200.0, 110.0)
    # 12 mm/h reaches 110 mm at 9 h 10 min: inside an hourly interval, solved exactly
    assert a.time_s == pytest.approx(110.0 / rate_mm_h * HOUR_S, abs=1e-6)
    assert a.depth_mm == pytest.approx(110.0, abs=1e-9)


def test_kma_window_drops_old_rain():
    # 50 mm in the first hour, nothing for 3 h, then 20 mm: the 3-h sum never reaches 60 mm
    # although 60 mm have fallen within 5 h; the 12-h total of 70 mm is below 110 mm.
    h = Hyetograph([50.0, 0.0, 0.0, 0.0, 20.0], HOUR_S)
    assert kma_alerts(h) == []
    # a burst after a shower: 40 mm then 40 mm an hour later reaches 60 mm over 3 h at 1.5 h
    g = Hyetograph([40.0, 40.0], HOUR_S)
    (alert,) = kma_alerts(g)
    assert alert.time_s == pytest.approx(1.5 * HOUR_S)


def test_kma_design_storm_sorted_and_consistent():
    h = alternating_block(6 * HOUR_S, return_period_yr=100.0)
    alerts = kma_alerts(h)
    # by the alternating-block property the heaviest window holds the IDF depth of min(window, storm)
    expected = {
        (lv, w) for lv, w, thr in KMA_CRITERIA if DEFAULT_IDF.depth_mm(min(w, h.duration_s) / 60.0, 100.0) >= thr
    }
    assert expected and {(a.level, a.window_s) for a in alerts} == expected
    assert alerts == sorted(alerts, key=lambda a: (a.time_s, a.level))
    for a in alerts:
        # at the alert time the window holds the threshold, and a moment earlier it did not
        assert h.depth_between(a.time_s - a.window_s, a.time_s) == pytest.approx(a.threshold_mm, abs=1e-9)
        assert h.depth_between(a.time_s - 1.0 - a.window_s, a.time_s - 1.0) < a.threshold_mm
