"""Accounting that adds up (issue 15): everyone who sets out is arrived, walking or stranded;
``t100_s`` only when every evacuee is safe; the lower bound and the simulated time of a group on
the same time origin. Through scenario files on the verification datasets (no hydraulics)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.runner import run_scenario
from twin.scenario import load_scenario

VERIFY = Path(__file__).resolve().parents[1] / "scenarios" / "verification"


def test_a_run_that_ends_before_everyone_is_safe_reports_no_t100():
    """300 people need about 3 min to leave the room; the run stops after 1 min."""
    r = run_scenario(load_scenario(VERIFY / "room_two_exits.yaml", overrides=["duration=1min"]))
    c = r.summary["crowd"]
    assert c["t100_s"] is None and c["not_safe"] > 0
    assert c["evacuated"] + c["not_safe"] == c["evacuees"] == 300
    assert c["still_evacuating"] + c["stranded"] == c["not_safe"]
    a = c["accounting"]
    assert a["set_out"] == a["arrived"] + a["walking"] + a["stranded"]
    assert a["set_out"] + a["not_set_out"] == c["people"]
    assert a["walking"] == c["still_evacuating"] > 0
    (lb,) = c["evacuation_lower_bound_s"].values()
    assert lb["simulated_s"] is None and lb["ratio"] is None  # not everyone got out: no time to compare


def test_with_everyone_safe_t100_is_the_slowest_evacuation():
    r = run_scenario(load_scenario(VERIFY / "room_two_exits.yaml"))
    c = r.summary["crowd"]
    assert c["not_safe"] == 0 and c["t100_s"] is not None
    ev = r.crowd.evacuees()
    assert c["t100_s"] == pytest.approx(ev["evacuation_s"].max(), abs=0.05)
    a = c["accounting"]
    assert a["arrived"] == a["set_out"] == 300 and a["walking"] == a["stranded"] == 0


def test_bound_and_simulation_share_the_window_start_as_origin():
    """400 people set out between 60 s and 193 s: the bound counts each person from their own
    departure (ready at depart - 60 s), the simulated time from 60 s too, so the last
    departure's own walk is inside both."""
    s = load_scenario(
        VERIFY / "bottleneck_400.yaml", overrides=["populations.0.window_start=60", "populations.0.window_end=193"]
    )
    r = run_scenario(s)
    (lb,) = r.summary["crowd"]["evacuation_lower_bound_s"].values()
    people = r.crowd.model.pedestrians()
    last_arrival = max(p.arrived_s for p in people)
    assert lb["simulated_s"] == pytest.approx(last_arrival - 60.0, abs=0.05)
    assert lb["bound_s"] <= lb["simulated_s"]
    latest = max(people, key=lambda p: p.depart_s)
    assert lb["walk_bound_s"] >= latest.depart_s - 60.0  # the late starter counts from the same origin
    assert 1.0 <= lb["ratio"] <= 1.5
