"""The reference gate controller's decisions (issue 7, first part): policy files and the logic."""

from __future__ import annotations

import math

import pytest

from twin.control.gate_logic import GateLogic, Observation
from twin.control.policy import PolicyError, load_policy, policy_from_mapping


def _rule(**kw):
    return policy_from_mapping({"policy_version": 1, "defaults": kw}).defaults


def _run(logic, stages, *, dt=10.0, people=0, rain=None, fresh_until=math.inf):
    """Feed a stage series sampled every ``dt`` s; readings stop after ``fresh_until`` s."""
    actions, last = [], (None, None)
    for k, h in enumerate(stages):
        t = k * dt
        if t <= fresh_until:
            last = (h, t)
        p = people(t) if callable(people) else people
        actions += logic.step(Observation(t, last[0], last[1], rain, p))
    return actions


def test_warns_then_closes_after_the_warning_period_and_reopens_with_hysteresis():
    rule = _rule(close_level_m=1.5, reopen_level_m=1.2, warn_before_close="5min", reopen_after="10min", median_of=1)
    # a flood wave: up 0.01 m per 10 s to 2.4 m, then down; chattering +-0.05 m around 1.5 m on the way up
    up = [0.5 + 0.01 * k + (0.05 if k % 2 else -0.05) for k in range(190)]
    stages = up + [max(up[-1] - 0.01 * k, 0.3) for k in range(300)]
    acts = _run(GateLogic("G01", rule), stages)
    kinds = [(a.kind, a.t_s) for a in acts]
    assert [k for k, _ in kinds] == ["warn", "close", "open", "clear_warning"]  # one sequence, no chattering
    warn_t, close_t, open_t = kinds[0][1], kinds[1][1], kinds[2][1]
    first_above = next(k * 10.0 for k, h in enumerate(stages) if h >= 1.5)
    assert warn_t == first_above and close_t == warn_t + 300.0
    first_calm = next(k * 10.0 for k, h in enumerate(stages) if k * 10.0 > close_t and h < 1.2)
    assert open_t == first_calm + 600.0


def test_people_in_the_gate_zone_hold_the_closing_until_empty_or_the_water_is_too_high():
    rule = _rule(close_level_m=1.0, reopen_level_m=0.8, override_level_m=1.6, warn_before_close=60, median_of=1)
    stages = [1.0 + 0.002 * k for k in range(400)]  # reaches 1.6 m at 3,000 s
    acts = _run(GateLogic("G", rule), stages, people=lambda t: 0 if 900 <= t < 910 else 3)
    close = next(a for a in acts if a.kind == "close")
    assert close.t_s == 900.0 and "zone empty" in close.reason
    acts = _run(GateLogic("G", rule), stages, people=2)
    close = next(a for a in acts if a.kind == "close")
    assert close.t_s == 3000.0 and "override" in close.reason  # first sample at >= 1.6 m


def test_a_dead_sensor_closes_the_gate_fail_safe_within_its_timeouts():
    rule = _rule(close_level_m=2.0, reopen_level_m=1.5, stale_after="2min", warn_before_close="1min")
    acts = _run(GateLogic("G", rule), [0.5] * 100, people=None, fresh_until=300.0)
    warn, close = acts[0], acts[1]
    assert warn.kind == "warn" and "stale" in warn.reason and close.kind == "close"
    assert 300.0 + 120.0 < warn.t_s <= 300.0 + 120.0 + 10.0  # detected within one sample after the timeout
    assert close.t_s == warn.t_s + 60.0 and "fail safe" in close.reason


def test_one_spike_is_ignored_with_a_median_of_three_but_not_without():
    stages = [0.5] * 20 + [1.6] + [0.5] * 200  # one reading 1.1 m too high (a noisy sensor)
    assert _run(GateLogic("G", _rule(close_level_m=1.0, reopen_level_m=0.8)), stages) == []
    acts = _run(GateLogic("G", _rule(close_level_m=1.0, reopen_level_m=0.8, median_of=1)), stages)
    assert [(a.kind, a.t_s) for a in acts] == [("warn", 200.0), ("clear_warning", 210.0 + 1800.0)]  # a false alarm
    # a real rise is seen one reading later with the median: the filter's delay
    rise = [0.5] * 10 + [1.2] * 10
    acts = _run(GateLogic("G", _rule(close_level_m=1.0, reopen_level_m=0.8)), rise)
    assert acts[0].kind == "warn" and acts[0].t_s == 110.0


def test_the_warning_can_come_at_a_lower_level_than_the_closing():
    rule = _rule(warn_level_m=1.0, close_level_m=1.5, reopen_level_m=0.8, warn_before_close="5min", median_of=1)
    stages = [0.5 + 0.002 * k for k in range(600)]  # 1.0 m at 2,500 s, 1.5 m at 5,000 s
    acts = _run(GateLogic("G", rule), stages)
    assert [(a.kind, a.t_s) for a in acts] == [("warn", 2500.0), ("close", 5000.0)]
    assert "stage 1.50 m >= 1.5 m" in acts[1].reason
    with pytest.raises(PolicyError, match=r"defaults.warn_level_m: got 2: expected a level at or below close_level_m"):
        policy_from_mapping({"policy_version": 1, "defaults": {"warn_level_m": 2.0}})


def test_intense_rain_alone_starts_the_sequence():
    rule = _rule(rain_trigger_mm_h=30, warn_before_close=0)
    acts = _run(GateLogic("G", rule), [0.2] * 5, rain=45.0)
    assert [a.kind for a in acts] == ["warn", "close"] and "rain 45 mm/h" in acts[0].reason


def test_policy_files_are_validated_with_the_file_and_field_named(tmp_path):
    f = tmp_path / "policy.yaml"
    f.write_text(
        "policy_version: 1\ndefaults: {close_level_m: 1.4}\ngates:\n  G01: {close_level_m: 1.1, reopen_level_m: 1.0}\n"
    )
    p = load_policy(f)
    assert p.rule("G01").close_level_m == 1.1 and p.rule("G02").close_level_m == 1.4
    f.write_text("policy_version: 1\ngates:\n  G01: {close_level_m: 1.0, reopen_level_m: 1.3}\n")
    with pytest.raises(PolicyError, match=r"policy.yaml: gates.G01.reopen_level_m: got 1.3: expected a level below"):
        load_policy(f)
    f.write_text("policy_version: 1\ngates: {G01: {colse_level_m: 1}}\n")
    with pytest.raises(PolicyError, match=r"gates.G01.colse_level_m"):
        load_policy(f)
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.yaml")
