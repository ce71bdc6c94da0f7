"""The shipped dataset's monitored buildings and slopes (issue 17, part 1), checked against the
facts they are drawn from and against the slope-stability physics that will read them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.models.slope_creep import CreepLaw, displacement_history
from twin.models.slope_stability import GAMMA_W_KN_M3, SoilColumn, factor_of_safety, fs_history


@pytest.fixture(scope="module")
def layers(city):
    return city.layer("buildings"), city.layer("slopes"), city.layer("devices"), city.reference_year


def _column(s) -> SoilColumn:
    return SoilColumn(
        slope_deg=float(s["slope_deg"]),
        soil_depth_m=float(s["soil_depth_m"]),
        water_table_depth_m=float(s["water_table_depth_m"]),
        cohesion_kpa=float(s["cohesion_kpa"]),
        friction_deg=float(s["friction_deg"]),
        unit_weight_kn_m3=float(s["unit_weight_kn_m3"]),
        diffusivity_m2_s=float(s["diffusivity_m2_s"]),
        ks_m_s=float(s["ks_m_s"]),
    )


def test_sensors_sit_on_buildings_thirty_years_old_that_have_a_name_occupants_and_a_surveyed_tilt(layers):
    buildings, _, devices, year = layers
    hosts = set(devices.loc[devices["kind"].isin(["tilt_sensor", "crack_sensor"]), "host_id"])
    watched = buildings[buildings["building_id"].isin(hosts)]
    assert len(watched) == 40
    assert (watched["year_built"] <= year - 30).all()
    assert watched["name"].notna().all() and watched["name"].is_unique
    assert (watched["occupants"] > 0).all()
    # surveyed tilt: grade A or B (MOLIT: A <= 1/750, B <= 1/500)
    assert ((watched["tilt_ratio"] > 0) & (watched["tilt_ratio"] <= 1 / 500)).all()
    # every building has occupants; about Uijeongbu's 460,000 people live and work in them
    assert buildings["occupants"].notna().all()
    assert 300_000 < buildings["occupants"].sum() < 600_000


def test_every_d_grade_slope_has_an_extensometer_and_no_other_has_one(layers):
    _, slopes, devices, _ = layers
    ext = set(devices.loc[devices["kind"] == "extensometer", "host_id"])
    assert ext == set(slopes.loc[slopes["risk_grade"] == "D", "slope_id"])
    for kind in ("tilt_sensor", "crack_sensor"):
        assert set(slopes["slope_id"]) <= set(devices.loc[devices["kind"] == kind, "host_id"])


def test_slope_soils_lie_in_the_published_weathered_granite_ranges(layers):
    _, slopes, _, _ = layers
    assert slopes["friction_deg"].between(30, 38).all()  # phi' 30-38 deg
    assert slopes["unit_weight_kn_m3"].between(17, 20).all()  # 17-20 kN/m3
    assert slopes["ks_m_s"].between(1e-6, 1e-4).all()  # 1e-6 to 1e-4 m/s
    assert (slopes["cohesion_kpa"] >= 0).all() and (slopes["cohesion_kpa"] <= 25).all()  # 0-10 kPa + roots
    assert (slopes["water_table_depth_m"] <= slopes["soil_depth_m"]).all()
    assert np.allclose(slopes["runout_m"], 2 * slopes["height_m"], atol=0.05)


def test_no_slope_moves_without_rain_and_only_d_grade_slopes_fail_when_saturated(layers):
    """Dry, every slope's FS is above the creep model's fs_creep (it stands still); saturated to
    the surface (psi = cos^2(delta) Z, the TRIGRS cap), a B or C slope still stands (FS > 1)."""
    _, slopes, _, _ = layers
    law = CreepLaw()
    failing = 0
    for _, s in slopes.iterrows():
        col = _column(s)
        t = np.arange(0.0, 48 * 3600.0 + 1, 3600.0)
        dry = fs_history(col, t, np.array([0.0]), np.array([0.0]))
        assert dry.fs_min.min() >= law.fs_creep, s["slope_id"]
        motion = displacement_history(t, dry.fs_min, law)
        assert motion.failure_s is None and np.all(motion.displacement_mm == 0.0), s["slope_id"]
        z = np.array([col.soil_depth_m])
        saturated = float(factor_of_safety(col, z, np.array([[col.beta * col.soil_depth_m]]))[0, 0])
        # by hand at the base (TRIGRS): tan(phi)/tan(delta) + (c - psi gw tan(phi)) / (gs Z sin cos)
        d, p = math.radians(col.slope_deg), math.radians(col.friction_deg)
        hand = math.tan(p) / math.tan(d) + (
            col.cohesion_kpa - math.cos(d) ** 2 * col.soil_depth_m * GAMMA_W_KN_M3 * math.tan(p)
        ) / (col.unit_weight_kn_m3 * col.soil_depth_m * math.sin(d) * math.cos(d))
        assert saturated == pytest.approx(hand, rel=1e-9)
        if s["risk_grade"] in ("B", "C"):
            assert saturated > 1.0, s["slope_id"]
        failing += saturated < 1.0
    assert failing >= 5  # most D slopes can fail in a long heavy rain
