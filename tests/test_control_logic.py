"""The reference gate controller's decisions (issue 7, first part): policy files and the logic."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from twin.control.gate_logic import GateLogic, Observation
from twin.control.policy import PolicyError, load_policy, policy_from_mapping

ROOT = Path(__file__).resolve().parents[1]


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


def test_policy_errors_say_what_was_expected_and_suggest_the_right_name(tmp_path):
    f = tmp_path / "policy.yaml"
    f.write_text(
        "policy_version: 1\ndefaults:\n  close_levl_m: 2\n  stale_after: soon\n  median_of: 0\n"
        "  when: 2026-01-01T00:00:00\ngates:\n  G02: [1]\nextra: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as exc:
        load_policy(f)
    text = str(exc.value)
    assert f"{f}: defaults.close_levl_m: unknown field: expected one of warn_level_m, close_level_m" in text
    assert "(did you mean close_level_m?)" in text
    assert f"{f}: defaults.stale_after: got 'soon': expected a duration" in text
    assert f"{f}: defaults.median_of: got 0: expected an integer >= 1 and <= 15" in text
    assert f"{f}: gates.G02: got [1]: expected a mapping with any of" in text
    assert f"{f}: extra: unknown field: expected one of policy_version, defaults, gates" in text
    for raw in ("Extra inputs are not permitted", "datetime.datetime(", "Input should be", "GateRule"):
        assert raw not in text, raw  # pydantic's own wording never reaches the user
    f.write_text("policy_version: 2\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy_version: got 2: expected 1$"):
        load_policy(f)
    f.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"top level: got a list: expected a mapping with policy_version"):
        load_policy(f)


def test_a_gate_is_blamed_only_for_the_levels_it_sets_itself(tmp_path):
    f = tmp_path / "policy.yaml"
    f.write_text(
        "policy_version: 1\ndefaults: {close_level_m: 1.0, reopen_level_m: 1.2}\ngates:\n  G01: {median_of: 5}\n"
        "  G02: {warn_level_m: 3}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as exc:
        load_policy(f)
    assert exc.value.problems == [
        f"{f}: defaults.reopen_level_m: got 1.2: expected a level below close_level_m 1 (hysteresis)",
        f"{f}: gates.G02.warn_level_m: got 3: expected a level at or below close_level_m 1 (the warning comes first)",
    ]


def test_a_policy_file_is_validated_on_its_own_from_the_command_line(tmp_path):
    from click.testing import CliRunner

    from twin.cli import main

    policy = ROOT / "scenarios" / "policies" / "reference_gates.yaml"
    r = CliRunner().invoke(main, ["policy", "validate", str(policy)])
    assert r.exit_code == 0 and "valid gate policy" in r.output and "G06, G07, G08, G09, G10" in r.output
    r = CliRunner().invoke(main, ["scenario", "validate", str(policy)])  # the wrong command: it says so, and checks
    assert r.exit_code == 0 and "a gate policy (it has policy_version), not a scenario" in r.output
    assert "schema_version: missing" not in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy_version: 1\ndefaults: {close_level_m: -1}\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["scenario", "validate", str(bad)])
    assert r.exit_code == 2 and f"{bad}: defaults.close_level_m: got -1: expected a number >= 0" in r.output
    assert "Traceback" not in r.output
    scenario = ROOT / "scenarios" / "flash_flood_jungnangcheon.yaml"  # the other way round: one line, not ten
    r = CliRunner().invoke(main, ["policy", "validate", str(scenario)])
    assert r.exit_code == 2 and r.output.strip() == (
        f"{scenario}: top level: got a scenario (it has schema_version): expected a gate policy with "
        "policy_version (a scenario names its policy in controller.policy)"
    )
    r = CliRunner().invoke(main, ["policy", "schema"])
    assert r.exit_code == 0 and '"policy_version"' in r.output


def test_the_default_fleet_folder_with_its_credentials_is_ignored_by_git():
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: .gitignore cannot be checked with git")
    for path in ("fleet/credentials.json", "fleet/manifest.json"):  # twin devices serve's default --manifest
        r = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, capture_output=True)
        assert r.returncode == 0, f"{path} is not ignored by .gitignore"


def test_an_unreadable_policy_file_is_one_clean_line_without_its_contents(tmp_path):
    f = tmp_path / "policy.yaml"
    cases = [
        ("policy_version: 1\ndefaults: {close_level_m: \"secret-stuff\n", "line 3 column 1: not valid YAML"),
        ("[" * 100_000, "not valid YAML: nested deeper than 32 levels"),
        (b"\xff\xfe\x98 not text", "not UTF-8 text (byte 0): save the file as UTF-8"),
        ("", "the file is empty: expected a mapping with policy_version"),
    ]
    for content, said in cases:
        f.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        with pytest.raises(PolicyError) as exc:
            load_policy(f)
        assert len(exc.value.problems) == 1 and said in exc.value.problems[0], exc.value.problems
        assert "secret-stuff" not in str(exc.value) and "[[[" not in str(exc.value)  # no contents echoed
