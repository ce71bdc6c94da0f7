"""Verification of twin.models.building_tilt: hand-computed tilts and grades (the boundary rule),
the excavation's first-order approach (63.2 % at one time constant), linear rate-driven tilt,
the rain driver by hand, the crack law, and the no-driver case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.errors import TwinError
from twin.models.building_tilt import (
    TILT_GRADE_LIMITS,
    BuildingParameterError,
    BuildingSettlement,
    Excavation,
    differential_settlement_mm,
    tilt_grade,
    tilt_history,
)

DAY = 86400.0


def test_hand_tilt_and_grade_boundaries() -> None:
    # 30 mm differential over 15 m = 30 / 15000 = 0.002 = 1/500, exactly at grade B's limit -> "B" (<= rule)
    b = BuildingSettlement(width_m=15.0, rate_mm_day=3.0)
    m = tilt_history(np.array([0.0, 10 * DAY]), b)
    assert m.tilt_ratio[1] == pytest.approx(1 / 500, rel=1e-12)
    assert m.tilt_deg[1] == pytest.approx(math.degrees(math.atan(0.002)), rel=1e-12)
    assert m.tilt_deg[1] == pytest.approx(0.114591, rel=1e-5)
    assert tilt_grade(1 / 500) == "B"
    assert tilt_grade(1 / 500 * (1 + 1e-9)) == "C"
    assert tilt_grade(0.0) == "A" and tilt_grade(1 / 750) == "A" and tilt_grade(1 / 749) == "B"
    assert tilt_grade(1 / 250) == "C" and tilt_grade(1 / 150) == "D" and tilt_grade(1 / 149) == "E"
    assert tilt_grade(-1 / 300) == "C"  # leaning the other way: its magnitude
    # the quoted example: a 117 m tower stays A up to 156 mm of lean: 156/117000 = 1/750
    assert tilt_grade(0.156 / 117.0) == "A"
    assert tilt_grade(0.16 / 117.0) == "B"
    assert [g for g, _ in TILT_GRADE_LIMITS] == ["A", "B", "C", "D"]
    assert tilt_grade(0.01, limits=(("ok", 0.02),)) == "ok"
    with pytest.raises(BuildingParameterError, match="limits"):
        tilt_grade(0.01, limits=(("A", 0.02), ("B", 0.01)))


def test_excavation_reaches_63_percent_at_one_time_constant() -> None:
    tau = 5 * DAY
    ex = Excavation(start_s=2 * DAY, settlement_mm=40.0, time_constant_s=tau)
    b = BuildingSettlement(width_m=20.0, initial_tilt_ratio=0.001)
    t = np.array([0.0, 2 * DAY, 2 * DAY + tau, 2 * DAY + 3 * tau, 1000 * DAY])
    ds = differential_settlement_mm(t, b, [ex])
    assert ds[0] == 0.0 and ds[1] == 0.0
    assert ds[2] / 40.0 == pytest.approx(1 - math.exp(-1), rel=1e-12)
    assert ds[2] / 40.0 == pytest.approx(0.632121, abs=1e-6)
    assert ds[3] / 40.0 == pytest.approx(0.950213, abs=1e-6)
    assert ds[4] == pytest.approx(40.0)
    m = tilt_history(t, b, [ex])
    assert m.tilt_ratio[4] == pytest.approx(0.001 + 40.0 / 20000.0)
    # two excavations superpose
    ex2 = Excavation(start_s=0.0, settlement_mm=10.0, time_constant_s=DAY)
    both = differential_settlement_mm(t, b, [ex, ex2])
    assert np.allclose(both, ds + 10.0 * (1 - np.exp(-t / DAY)))


def test_rate_driven_tilt_is_linear() -> None:
    b = BuildingSettlement(width_m=12.0, initial_tilt_ratio=1 / 1000, rate_mm_day=0.5)
    t = np.linspace(0.0, 100 * DAY, 101)
    m = tilt_history(t, b)
    # 0.5 mm/day over 12 m: 0.5/12000 per day
    assert np.allclose(np.diff(m.tilt_ratio), 0.5 / 12000.0, rtol=1e-9)
    assert m.tilt_ratio[-1] == pytest.approx(1 / 1000 + 50.0 / 12000.0)
    # 1/1000 + 50/12000 = 0.0051667 -> between 1/250 and 1/150: grade D
    assert tilt_grade(float(m.tilt_ratio[-1])) == "D"


def test_crack_follows_tilt() -> None:
    b = BuildingSettlement(width_m=10.0, initial_tilt_ratio=0.002, initial_crack_mm=0.3, rate_mm_day=1.0)
    t = np.linspace(0.0, 60 * DAY, 61)
    m = tilt_history(t, b)
    assert np.allclose(m.crack_mm, 0.3 + 150.0 * (m.tilt_ratio - 0.002))
    # a tilt change of exactly 1/150 (grade D's size) opens the crack by 1.0 mm (the default k):
    # 1/150 over 10 m = 66.667 mm of differential settlement
    ex = Excavation(0.0, 10_000.0 / 150.0, 1.0)
    big = tilt_history(np.array([0.0, 1e6]), BuildingSettlement(width_m=10.0, initial_crack_mm=0.2), [ex])
    assert big.crack_mm[1] - big.crack_mm[0] == pytest.approx(1.0, rel=1e-9)
    k2 = tilt_history(t, BuildingSettlement(10.0, 0.0, 0.0, 1.0, crack_mm_per_tilt=300.0))
    assert np.allclose(k2.crack_mm, 300.0 * k2.tilt_ratio)


def test_rain_driver_by_hand() -> None:
    b = BuildingSettlement(width_m=10.0, rain_mm_per_mm=0.002, rain_threshold_mm_h=30.0)
    # hours 0-1: 20 mm/h (below), 1-3: 50 mm/h (20 above), 3-4: 80 mm/h (50 above), then dry
    rain_t = np.array([0.0, 3600.0, 3 * 3600.0, 4 * 3600.0])
    rain = np.array([20.0, 50.0, 80.0])
    t = np.array([0.0, 3600.0, 2 * 3600.0, 3 * 3600.0, 3.5 * 3600.0, 10 * 3600.0])
    ds = differential_settlement_mm(t, b, rain_times_s=rain_t, rain_mm_h=rain)
    # excess mm: 0, 0, 20, 40, 40 + 25, 40 + 50; x 0.002
    assert np.allclose(ds, 0.002 * np.array([0.0, 0.0, 20.0, 40.0, 65.0, 90.0]))
    # open-ended last step keeps accumulating
    open_ds = differential_settlement_mm(t, b, rain_times_s=rain_t[:3], rain_mm_h=rain)
    assert open_ds[-1] == pytest.approx(0.002 * (40.0 + 50.0 * 7.0))
    with pytest.raises(BuildingParameterError, match="rain_times_s"):
        differential_settlement_mm(t, b, rain_times_s=rain_t, rain_mm_h=None)
    with pytest.raises(BuildingParameterError, match="rain_mm_h"):
        differential_settlement_mm(t, b, rain_times_s=rain_t, rain_mm_h=np.array([1.0, -2.0, 3.0]))


def test_no_drivers_constant() -> None:
    b = BuildingSettlement(width_m=8.0, initial_tilt_ratio=1 / 400, initial_crack_mm=0.25)
    t = np.linspace(0.0, 365 * DAY, 50)
    m = tilt_history(t, b, rain_times_s=np.array([0.0]), rain_mm_h=np.array([25.0]))  # rain below threshold
    assert np.all(m.tilt_ratio == 1 / 400) and np.all(m.crack_mm == 0.25)
    assert np.all(m.tilt_deg == m.tilt_deg[0])
    assert tilt_grade(float(m.tilt_ratio[0])) == "C"


def test_bad_parameters_name_the_field() -> None:
    for kwargs, name in (
        ({"width_m": 0.0}, "width_m"),
        ({"width_m": 10.0, "rate_mm_day": -1.0}, "rate_mm_day"),
        ({"width_m": 10.0, "initial_crack_mm": float("inf")}, "initial_crack_mm"),
        ({"width_m": 10.0, "crack_mm_per_tilt": -5.0}, "crack_mm_per_tilt"),
    ):
        with pytest.raises(TwinError, match=rf"building 12\.{name}"):
            BuildingSettlement(**kwargs).check("building 12")
    with pytest.raises(BuildingParameterError, match=r"excavations\[1\]\.time_constant_s"):
        differential_settlement_mm(
            np.array([0.0]), BuildingSettlement(10.0), [Excavation(0.0, 1.0, 1.0), Excavation(0.0, 1.0, 0.0)]
        )
