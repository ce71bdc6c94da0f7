"""Collapse signals in a scenario run (issue 17): the shipped collapse scenarios, the accounting of
people in a danger zone, and the checks of the scenario's collapse section."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twin.models.monitored_sites import monitored_sites
from twin.models.slope_creep import displacement_history
from twin.models.slope_stability import fs_history
from twin.scenario import load_scenario
from twin.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios" / "collapse"


def _run(path: Path, overrides=()):
    s = load_scenario(path, overrides=list(overrides))
    with Simulation(s) as sim:
        sim.run()
        return sim, sim.summary_parts()["collapse"]


@pytest.fixture(scope="module")
def slope_run():
    return _run(SCENARIOS / "slope_failure_august_2022.yaml")


def test_the_evacuees_an_alarm_sends_out_are_tracked_for_the_map(slope_run):
    # the app plays the evacuation back from the trajectories: people who set out after the start
    # (here all of them) are sampled too, each from the first sample after they set out, heading to safety
    sim, out = slope_run
    tracks = sim.crowd.trajectories()
    people = sum(s.get("evacuated_before_failure") or 0 for s in out["sites"])
    assert tracks["person"].nunique() == people > 50  # fewer than the 500 sampled: every one of them
    first_alarm = min(a["t_s"] for s in out["sites"] for a in s["alarms"] if a["level"] == "evacuate")
    assert tracks["time_s"].min() >= first_alarm and tracks["evacuating"].all()


def test_dry_baseline_nothing_moves_and_nothing_alarms():
    sim, out = _run(SCENARIOS / "dry_baseline.yaml")
    assert len(out["sites"]) == 64  # 24 slopes and 40 buildings
    for site in out["sites"]:
        assert site["alarms"] == [] and site["sensor_suspects"] == [], site["site_id"]
        assert site["failure_s"] is None
        if site["kind"] == "slope":
            assert site["max_displacement_mm"] == 0.0 and site["min_fs"] >= 1.3
    assert out["failed"] == 0 and out["false_evacuations"] == 0


def test_slope_failures_are_the_physics_own_and_every_one_is_evacuated_before_it_fails(slope_run):
    sim, out = slope_run
    failed = {s["site_id"]: s for s in out["sites"] if s["failure_s"] is not None}
    slopes = sim.city.layer("slopes").set_index("slope_id")
    assert set(failed) <= set(slopes.index[slopes["risk_grade"] == "D"])  # only D slopes fail
    assert len(failed) >= 5
    # the failure time is that of the pure model under the same rain (hourly, uniform field)
    rain = np.array([float(x) for x in (ROOT / "scenarios/data/rain_2022_08_approx.csv").read_text().split()[1:]
                     for x in [x.rsplit(",", 1)[1]]])  # fmt: skip
    site = next(s for s in monitored_sites(sim.city, sim.scenario.collapse) if s.site_id == sorted(failed)[0])
    t = np.arange(0.0, 30 * 3600.0 + 1, 60.0)
    assert site.soil is not None
    fs = fs_history(site.soil, t, np.arange(len(rain) + 1) * 3600.0, rain)
    t_f = displacement_history(t, fs.fs_min).failure_s
    assert t_f is not None and failed[site.site_id]["failure_s"] == pytest.approx(t_f, abs=60.0)
    for sid, s in sorted(failed.items()):
        levels = [a["level"] for a in s["alarms"]]
        assert "evacuate" in levels, sid
        assert s["evacuate_margin_s"] > 0, sid  # the alarm came before the failure
        ev = next(a for a in s["alarms"] if a["level"] == "evacuate")
        assert ev["time_to_failure_s"] == pytest.approx(s["evacuate_margin_s"], abs=0.2)
        # everyone in the danger zone was out before the failure, with the margin reported
        assert s["inside_at_failure"] == 0 and s["evacuated_before_failure"] == s["people_in_zone"], sid
        assert s["evacuate_margin_s"] >= 45 * 60, sid  # 15 min to react and the walk out, with room
        # the forecast attached to the alarm: within 20 % of the time left (noisy sensors; the pure
        # chain's clean-signal bound is 10 %, tests/test_collapse_chain.py)
        assert abs(ev["forecast_error_s"]) <= 0.2 * ev["time_to_failure_s"], sid
    assert out["false_evacuations"] == 0  # no slope that stands is evacuated
    assert out["inside_at_failure"] == 0 and sum(s["people_in_zone"] for s in failed.values()) > 50


def test_without_an_early_warning_everyone_in_a_danger_zone_is_inside_when_the_slope_fails():
    """The accounting: with no policy nobody is told to leave, so the people in each failed slope's
    zone are all inside at its failure; with the reference policy, fewer (or as many)."""
    _, out = _run(SCENARIOS / "slope_failure_august_2022.yaml", ["collapse.policy=null"])
    failed = [s for s in out["sites"] if s["failure_s"] is not None]
    assert failed and all(s["alarms"] == [] for s in out["sites"])
    for s in failed:
        assert s["inside_at_failure"] == s["people_in_zone"], s["site_id"]
        assert s["evacuated_before_failure"] == 0
    assert out["inside_at_failure"] == sum(s["people_in_zone"] for s in failed) > 0


def test_a_failing_crack_gauge_is_flagged_and_evacuates_no_one():
    sim, out = _run(SCENARIOS / "tilting_building_faulty_sensor.yaml")
    site = next(s for s in out["sites"] if s["site_id"] == "B02386")
    assert site["evacuated_s"] is None and out["false_evacuations"] == 0
    assert all(a["level"] != "evacuate" for s in out["sites"] for a in s["alarms"])
    # the building really tilts: from grade A into grade C (1/500 < tilt <= 1/250)
    assert 1 / 500 < site["max_tilt_ratio"] <= 1 / 250
    flagged = [x for x in site["sensor_suspects"] if x["kind"] == "sensor_suspect"]
    assert flagged and flagged[0]["sensor"] == "CRACK-B02386"
    assert 8 * 3600 <= flagged[0]["t_s"] <= 12 * 3600  # the drift begins at 8:00
    # nothing else in the city raised an alarm or a suspicion
    others = [s["site_id"] for s in out["sites"] if s["site_id"] != "B02386" and (s["alarms"] or s["sensor_suspects"])]
    assert others == []


def test_the_same_scenario_gives_the_same_collapse_results():
    a = _run(SCENARIOS / "tilting_building_faulty_sensor.yaml")[1]
    b = _run(SCENARIOS / "tilting_building_faulty_sensor.yaml")[1]
    assert a == b


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("collapse.buildings.B99999.settlement_rate_mm_day=1",
         "collapse.buildings.B99999: got a building id: expected a monitored building of the dataset"),
        ("collapse.buildings.B00002.settlement_rate_mm_day=1",  # a building without sensors
         "collapse.buildings.B00002: got a building id: expected a monitored building"),
        ("collapse.slopes.SLP-99.cohesion_kpa=1", "collapse.slopes.SLP-99: got a slope id: expected a slope"),
        ("collapse.evacuation.shelter_kind=bunker", "collapse.evacuation.shelter_kind: got 'bunker': expected"),
        ("collapse.policy=nowhere.yaml", "collapse.policy: got 'nowhere.yaml': expected an existing collapse policy"),
        # valid values one by one, but the slope could not run: refused by validation, not mid-run
        ("collapse.slopes.SLP-01.cohesion_kpa=0",
         "collapse.slopes.SLP-01: the slope's factor of safety before any rain is 0.74: expected above 1"),
        ("collapse.slopes.SLP-01.water_table_depth_m=40",
         "collapse.slopes.SLP-01.water_table_depth_m: got 40.0: expected metres in [0, soil_depth_m = 1.12]"),
        ("collapse.buildings.B02386.excavations=[{start: 1h, settlement_mm: -3, time_constant: 1h}]",
         "collapse.buildings.B02386.excavations.0.settlement_mm: got -3"),
    ],
)  # fmt: skip
def test_the_collapse_section_is_checked_against_the_dataset(override, expected):
    from click.testing import CliRunner

    from twin.cli import main

    r = CliRunner().invoke(main, ["scenario", "validate", str(SCENARIOS / "dry_baseline.yaml"), "--set", override])
    assert r.exit_code == 2 and expected in r.output, r.output
    assert "Traceback" not in r.output


def test_a_drift_fault_reads_falsely_by_its_rate():
    from twin.models.faults import FaultSchedule
    from twin.models.sensor_model import SensorModel
    from twin.scenario import Fault

    f = Fault(kind="drift", device="X", start=3600, magnitude=0.2)
    m = SensorModel("X", seed=0, noise_sd=0.0, resolution=0.001, faults=FaultSchedule([f]))
    assert m.read(1.0, 1800.0).value == 1.0
    r = m.read(1.0, 3 * 3600.0)
    assert r.quality == "drift" and math.isclose(r.value, 1.4, abs_tol=1e-9)  # 0.2/h for 2 h


def test_a_run_refuses_an_unstable_slope_before_it_starts():
    from twin.errors import ScenarioError

    s = load_scenario(SCENARIOS / "dry_baseline.yaml", overrides=["collapse.slopes.SLP-01.cohesion_kpa=0"])
    with pytest.raises(ScenarioError, match=r"collapse\.slopes\.SLP-01: the slope's factor of safety before any rain"):
        Simulation(s)
