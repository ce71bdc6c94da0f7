"""The verdict on a collapse early-warning system (twin/control/collapse_verdict.py), on hand-made
site rows, and on runs of the shipped slope scenario with and without an early warning."""

from __future__ import annotations

from pathlib import Path

from twin.control.collapse_verdict import collapse_verdict

ROOT = Path(__file__).resolve().parents[1]


def _failed(sid, evacuated_s, failure_s, inside, sensors=()):
    return {"site_id": sid, "failure_s": failure_s, "evacuated_s": evacuated_s, "inside_at_failure": inside,
            "evacuate_margin_s": None if evacuated_s is None else failure_s - evacuated_s,
            "sensors": list(sensors), "sensor_suspects": []}  # fmt: skip


def _stood(sid, evacuated_s=None, sensors=(), suspects=()):
    return {"site_id": sid, "failure_s": None, "evacuated_s": evacuated_s, "sensors": list(sensors),
            "sensor_suspects": list(suspects)}  # fmt: skip


def test_evacuated_in_time_with_nobody_inside_passes():
    v = collapse_verdict([_failed("S1", 1000.0, 5000.0, 0), _stood("S2")])
    assert v["passed"] and v["evacuated_in_time"] == 1 and v["false_evacuations"] == 0
    assert v["sites"] == [{"site_id": "S1", "name": None, "failed": True, "evacuated_before_failure": True,
                           "margin_s": 4000.0, "inside_at_failure": 0, "passed": True}]  # fmt: skip


def test_late_missing_or_incomplete_evacuations_and_false_ones_fail():
    assert not collapse_verdict([_failed("S1", 6000.0, 5000.0, 3)])["passed"]  # after the failure
    assert not collapse_verdict([_failed("S1", None, 5000.0, 12)])["passed"]  # never
    assert not collapse_verdict([_failed("S1", 1000.0, 5000.0, 2)])["passed"]  # in time, two still inside
    v = collapse_verdict([_stood("S2", evacuated_s=300.0)])
    assert not v["passed"] and v["false_evacuations"] == 1


def test_time_to_detect_a_failed_sensor():
    suspects = [{"kind": "sensor_suspect", "sensor": "C1", "t_s": 500.0},  # before the fault: not it
                {"kind": "sensor_suspect", "sensor": "C1", "t_s": 4600.0}]  # fmt: skip
    v = collapse_verdict([_stood("B1", sensors=["T1", "C1"], suspects=suspects)], [("C1", 3600.0), ("T1", 0.0)])
    assert v["passed"]  # detection is reported, not judged
    by = {d["sensor"]: d["detected_after_s"] for d in v["faulty_sensors"]}
    assert by == {"C1": 1000.0, "T1": None}


def test_the_shipped_slope_scenario_passes_with_the_reference_and_fails_without_an_early_warning():
    from twin.scenario import load_scenario
    from twin.simulation import Simulation

    path = ROOT / "scenarios" / "collapse" / "slope_failure_august_2022.yaml"
    for overrides, passed in (([], True), (["collapse.policy=null"], False)):
        with Simulation(load_scenario(path, overrides=overrides)) as sim:
            sim.run()
            v = sim.collapse.summary()["verdict"]
        assert v["passed"] is passed and v["failed_sites"] >= 5
        assert v["evacuated_in_time"] == (v["failed_sites"] if passed else 0)
