"""The reference gate controller in-process (``twin run`` with ``controller: builtin``) and the
verdict (issue 7): the shipped flash-flood and fault scenarios, a wrong policy, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from twin.cli import main
from twin.control.verdict import CHECKS

ROOT = Path(__file__).resolve().parents[1]
GATES = ROOT / "scenarios" / "gates"
POLICY = ROOT / "scenarios" / "policies" / "reference_gates.yaml"


@pytest.fixture
def runs(gate_runs):
    """The headless gate runs of the session (conftest.gate_runs)."""
    return gate_runs


def _verdict(folder: Path) -> dict:
    return json.loads((folder / "verdict.json").read_text(encoding="utf-8"))


def _events(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "events.parquet")


def test_the_reference_controller_closes_every_gate_before_its_path_floods_with_a_warning_first(runs):
    code, out = runs("flash_flood_gates")
    v = _verdict(out)
    assert code == 0 and v["passed"] and v["failed"] == []
    assert sorted(v["gates"]) == [f"G{k:02d}" for k in range(1, 11)]
    flooded = [g for g, c in v["gates"].items() if c["closed_before_flooding"]["value"] is not None]
    assert len(flooded) >= 8  # not vacuous: most gates' paths did flood in this storm
    ev = _events(out)
    for g in flooded:
        checks = v["gates"][g]
        assert set(checks) == set(CHECKS)
        assert checks["closed_before_flooding"]["value"] > 0 and checks["warning_before_closure"]["value"] >= 300
        closed = ev[(ev.kind == "gate.closed") & (ev.entity_id == g)].time_s.min()
        flood = ev[(ev.kind == "gate.path_flooded") & (ev.entity_id == g)].time_s.min()
        assert closed < flood
        # the barrier takes its travel time (20 s) when nobody is under it
        command = ev[(ev.kind == "gate.close_command") & (ev.entity_id == g)].time_s.min()
        assert closed - command == pytest.approx(20.0, abs=1.0)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["crowd"]["stranded"] == 0  # a closed gate never traps anyone
    assert summary["crowd"]["exposed_people"] == 0
    assert (out / "report.html").read_text(encoding="utf-8").count("<tr>") == 11
    assert "policy.yaml" in (out / "scenario.resolved.yaml").read_text(encoding="utf-8")


def test_a_policy_above_the_bank_fails_the_verdict(runs, tmp_path):
    wrong = tmp_path / "wrong.yaml"
    # 7 m is above every Jungnangcheon bank in the dataset (sensor heights 8.2-8.8 m, banks about 7 m)
    wrong.write_text(
        "policy_version: 1\ndefaults: {warn_level_m: 7.0, close_level_m: 7.0, reopen_level_m: 6.5, "
        "override_level_m: 7.5}\n",
        encoding="utf-8",
    )
    code, out = runs("flash_flood_gates", "--set", f"controller.policy={wrong}")
    v = _verdict(out)
    assert code == 1 and not v["passed"]
    good = _verdict(runs("flash_flood_gates")[1])
    flooded = sorted(g for g, c in good["gates"].items() if c["closed_before_flooding"]["value"] is not None)
    assert sorted(k.split(".")[0] for k in v["failed"] if k.endswith("closed_before_flooding")) == flooded
    assert "with the gate open" in v["gates"][flooded[0]]["closed_before_flooding"]["detail"]


def test_a_gate_stuck_open_is_named_in_the_verdict(runs):
    code, out = runs("gate_stuck_open")
    v = _verdict(out)
    assert code == 1 and v["failed"] == ["G04.closed_before_flooding", "G04.closing_time"]
    assert "never fully closed" in v["gates"]["G04"]["closing_time"]["detail"]
    ev = _events(out)
    assert ev[(ev.kind == "gate.close_command") & (ev.entity_id == "G04")].shape[0] == 1  # it was told
    assert ev[(ev.kind == "gate.closed") & (ev.entity_id == "G04")].empty


def test_a_dead_level_sensor_closes_its_gate_within_the_stale_timeout(runs):
    code, out = runs("sensor_dropout")
    v = _verdict(out)
    assert code == 0 and v["passed"]
    check = v["gates"]["G03"]["sensor_failure_detection"]
    assert 120.0 < check["value"] <= 120.0 + 10.0  # stale_after 2 min, readings every 10 s
    ev = _events(out)
    close = ev[(ev.kind == "control.close") & (ev.entity_id == "G03")].iloc[0]
    assert "fail safe" in close.message and 5400.0 + 120.0 < close.time_s <= 5400.0 + 130.0
    normal = _verdict(runs("flash_flood_gates")[1])["gates"]["G03"]["closed_before_flooding"]["value"]
    assert v["gates"]["G03"]["closed_before_flooding"]["value"] > normal  # fail safe closes earlier


def test_the_median_filter_keeps_spikes_from_moving_a_gate(runs, tmp_path):
    _, filtered = runs("noisy_sensor")
    naive = tmp_path / "naive.yaml"
    naive.write_text(POLICY.read_text(encoding="utf-8").replace("median_of: 3", "median_of: 1"), encoding="utf-8")
    _, raw = runs("noisy_sensor", "--set", f"controller.policy={naive}")

    def first(folder, kind):
        ev = _events(folder)
        return ev[(ev.kind == kind) & (ev.entity_id == "G05")].time_s.min()

    clean = first(runs("flash_flood_gates")[1], "control.warn")
    assert first(filtered, "control.warn") == pytest.approx(clean, abs=30.0)
    assert first(raw, "control.warn") < clean - 3600.0  # a spike put the warning up an hour early
    assert first(raw, "gate.closed") < first(filtered, "gate.closed") - 600.0  # and closed it early


def test_gate_runs_are_deterministic(runs, tmp_path):
    _, a = runs("flash_flood_gates")
    b = tmp_path / "again"
    r = CliRunner().invoke(main, ["run", str(GATES / "flash_flood_gates.yaml"), "--out", str(b), "--quiet"])
    assert r.exit_code == 0
    for name in ("verdict.json", "events.parquet", "report.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_every_shipped_fault_scenario_validates_and_names_its_fault():
    from twin.scenario import load_scenario

    kinds = {load_scenario(p).faults[0].kind for p in GATES.glob("*.yaml") if p.stem != "flash_flood_gates"}
    assert kinds == {"dropout", "gate_stuck_open", "broker_outage", "spikes"}
    assert len(list(GATES.glob("*.yaml"))) == 6


def test_the_app_timeline_follows_the_events(runs):
    from twin.app.gates_view import gate_timeline, signboard_texts
    from twin.city import load_city
    from twin.models.gate import gate_sites

    _, out = runs("flash_flood_gates")
    ev = _events(out)
    sites = gate_sites(load_city(ROOT / "gis_data" / "uijeongbu"))
    tl = gate_timeline(ev, sites, 10800.0)
    g02 = tl[tl.gate == "G02"]
    assert list(g02.state) == ["open", "warning", "closing", "closed"]
    t = {
        k: ev[(ev.kind == k) & (ev.entity_id == "G02")].time_s.min() / 60 for k in ("gate.close_command", "gate.closed")
    }
    warn = ev[(ev.kind == "signboard.display") & (ev.entity_id == "SB-G02")].time_s.min() / 60
    assert list(g02.start_min) == pytest.approx([0.0, warn, t["gate.close_command"], t["gate.closed"]])
    assert g02.end_min.iloc[-1] == pytest.approx(180.0)
    for _gate, rows in tl.groupby("gate"):  # intervals tile the run without gaps
        assert rows.start_min.iloc[0] == 0.0 and (rows.start_min.values[1:] == rows.end_min.values[:-1]).all()
    texts = signboard_texts(ev, sites)
    assert len(texts) == 20 and set(texts.text) == {
        "산책로 통제 예정 / 즉시 올라오세요",
        "산책로 출입 통제 / 하천 범람 위험",
    }


@pytest.mark.parametrize("name", ["flash_flood_jungnangcheon", "flash_flood_evening_walkers"])
def test_the_reference_controller_on_the_city_flash_flood_scenarios(name, tmp_path):
    """The city's own flash-flood scenarios with the reference controller switched on."""
    out = tmp_path / name
    r = CliRunner().invoke(
        main,
        ["run", str(ROOT / "scenarios" / f"{name}.yaml"), "--out", str(out), "--quiet",
         "--set", "controller={kind: builtin, policy: policies/reference_gates.yaml}"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    v = _verdict(out)
    flooded = [g for g, c in v["gates"].items() if c["closed_before_flooding"]["value"] is not None]
    assert len(flooded) >= 8
    for g in flooded:
        assert v["gates"][g]["closed_before_flooding"]["value"] > 0
        assert v["gates"][g]["warning_before_closure"]["value"] >= 300
