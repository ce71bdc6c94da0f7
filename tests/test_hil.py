"""Hardware-in-the-loop runs (issue 7): the reference controller as its own process and an
outsider's controller (tests/external_controller.py: pymodbus, paho-mqtt and the standard
library only) against the device fleet, judged like the in-process runs.

The fleet serves only the gates and the devices that serve them (``devices="gates"``) at 120x,
so a 3-hour storm takes under two minutes; benchmarks/bench_hil.py runs the whole fleet at 60x.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from twin.hil.runner import run_hil
from twin.hil.verdict import CHECKS
from twin.runner import run_scenario
from twin.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
GATES = ROOT / "scenarios" / "gates"
EXTERNAL = Path(__file__).with_name("external_controller.py")
SPEED = 120.0
RULES = {
    "default": {"warn_m": 1.5, "close_m": 2.0, "reopen_m": 1.5, "override_m": 2.3, "warn_s": 300, "reopen_s": 1800,
                "stale_s": 120},
    **{g: {"warn_m": 1.0, "close_m": 1.5, "reopen_m": 1.0, "override_m": 1.8} for g in ("G06", "G07", "G08")},
    **{g: {"warn_m": 0.5, "close_m": 1.0, "reopen_m": 0.5, "override_m": 1.3} for g in ("G09", "G10")},
}  # fmt: skip


def _outcome(v: dict) -> dict[str, dict[str, bool]]:
    return {g: {c: r["passed"] for c, r in checks.items()} for g, checks in v["gates"].items()}


def _closed(events: pd.DataFrame) -> dict[str, float]:
    sel = events[events.kind == "gate.closed"]
    return sel.groupby("entity_id").time_s.min().to_dict()


@pytest.fixture(scope="module")
def headless():
    """The in-process reference runs, for comparison."""
    out = {}
    for name in ("flash_flood_gates", "gate_stuck_open"):
        r = run_scenario(load_scenario(GATES / f"{name}.yaml"))
        out[name] = (r.verdict, _closed(r.engine.events.to_frame()))
    return out


def _external(tmp_path: Path, name: str):
    procs = []

    def start(manifest: Path) -> None:
        cmd = [sys.executable, str(EXTERNAL), str(manifest), json.dumps(RULES)]
        procs.append(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))

    result = run_hil(
        load_scenario(GATES / f"{name}.yaml"),
        controller="external",
        policy=ROOT / "scenarios" / "policies" / "reference_gates.yaml",  # for the dead-sensor limit only
        speed=SPEED,
        out=tmp_path / name,
        devices="gates",
        hold_s=4.0,
        on_manifest=start,
    )
    _, err = procs[0].communicate(timeout=60)
    assert procs[0].returncode == 0, err
    return result


@pytest.fixture(scope="module")
def builtin_run(tmp_path_factory):
    """The flash-flood HIL run with the reference controller as its own process."""
    folder = tmp_path_factory.mktemp("builtin") / "hil"
    result = run_hil(
        load_scenario(GATES / "flash_flood_gates.yaml"), controller="builtin", speed=SPEED, out=folder, devices="gates"
    )
    return result, folder


def test_the_reference_controller_over_the_protocols_agrees_with_the_in_process_run(headless, builtin_run):
    result, folder = builtin_run
    tmp_path = folder.parent
    v = result.verdict
    assert v["passed"], v["failed"]
    assert result.controller_exit == 0
    ref_verdict, ref_closed = headless["flash_flood_gates"]
    assert _outcome(v) == _outcome(ref_verdict)
    events = pd.read_parquet(tmp_path / "hil" / "events.parquet")
    closed = _closed(events)
    assert sorted(closed) == sorted(ref_closed) and len(closed) == 10
    for g, t in ref_closed.items():  # within one level-sensor sampling interval (10 s)
        assert abs(closed[g] - t) <= 10.0, (g, closed[g], t)
    decisions = [json.loads(x) for x in (tmp_path / "hil" / "controller.jsonl").read_text().splitlines()][:-1]
    assert not [d for d in decisions if "problem" in d]  # every CAP post and Modbus write accepted
    for g in closed:
        kinds = [d["action"] for d in decisions if d["gate"] == g]
        assert kinds[:2] == ["warn", "close"]
    # every message was recorded with its time, and the signboards took the controller's CAP alerts
    lines = (tmp_path / "hil" / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    topics = {json.loads(x)["topic"] for x in lines}
    assert len(lines) > 3000 and "uijeongbu/level_sensor/LS-G02/telemetry" in topics
    assert "uijeongbu/signboard/SB-G02/state" in topics and "uijeongbu/gate/G02/event" in topics
    shown = events[(events.kind == "signboard.display") & (events.entity_id == "SB-G02")]
    assert json.loads(shown.iloc[0].data)["lines"] == ["산책로 통제 예정", "즉시 올라오세요"]
    summary = json.loads((tmp_path / "hil" / "summary.json").read_text(encoding="utf-8"))
    assert summary["hil"]["controller_exit_code"] == 0 and summary["hil"]["devices"] == 50


@pytest.mark.skipif(shutil.which("mosquitto") is None, reason="not installed: mosquitto (apt-get install -y mosquitto)")
def test_through_a_broker_outage_the_reference_controller_reads_modbus_and_still_passes(headless, tmp_path):
    # mosquitto: it restarts at once with its sessions; the embedded broker's restart backs up under load
    scenario = load_scenario(GATES / "broker_outage.yaml")
    result = run_hil(
        scenario, controller="builtin", speed=SPEED, out=tmp_path / "outage", devices="gates", broker="mosquitto"
    )
    assert result.verdict["passed"], result.verdict["failed"]
    assert _outcome(result.verdict) == _outcome(headless["flash_flood_gates"][0])
    closed = _closed(pd.read_parquet(tmp_path / "outage" / "events.parquet"))
    # after the outage the devices' queued messages drain first, and readings come over Modbus
    # meanwhile: closings stay within three sampling intervals of the in-process run
    for g, t in headless["flash_flood_gates"][1].items():
        assert abs(closed[g] - t) <= 30.0, (g, closed[g], t)
    log = (tmp_path / "outage" / "controller.jsonl").read_text(encoding="utf-8").splitlines()
    readings = json.loads(log[-1])["summary"]["level_readings"]
    # 30 min without the broker: about 180 readings per sensor came over Modbus instead
    assert readings["modbus"] >= 10 * 150 and readings["mqtt"] > readings["modbus"]
    decisions = [json.loads(x) for x in log[:-1]]
    assert not [d for d in decisions if "stale" in d["reason"]]  # it never lost sight of the water
    messages = [json.loads(x)["sim_s"] for x in (tmp_path / "outage" / "messages.jsonl").read_text().splitlines()]
    assert not [t for t in messages if 4800.0 + 30.0 < t < 6600.0 - 30.0]  # the recorder heard nothing meanwhile


def test_an_outsiders_controller_gets_the_same_verdicts(headless, tmp_path):
    for name in ("flash_flood_gates", "gate_stuck_open"):
        v = _external(tmp_path, name).verdict
        assert _outcome(v) == _outcome(headless[name][0]), name
        assert v["failed"] == headless[name][0]["failed"]
    assert v["failed"] == ["G04.closed_before_flooding", "G04.closing_time"]  # the stuck gate, named


def test_the_outsiders_controller_uses_only_pymodbus_paho_and_the_standard_library():
    tree = ast.parse(EXTERNAL.read_text(encoding="utf-8"))
    roots = {
        (n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [n])
    }
    assert roots - set(sys.stdlib_module_names) == {"paho", "pymodbus"}


def test_every_check_is_in_the_verdict_of_a_hil_run(tmp_path, headless):
    v = headless["flash_flood_gates"][0]
    assert all(set(c) == set(CHECKS) for c in v["gates"].values())


def test_a_replay_with_the_same_policy_decides_as_recorded(builtin_run):
    from click.testing import CliRunner

    from twin.cli import main

    _, folder = builtin_run
    r = CliRunner().invoke(main, ["hil", "replay", str(folder), "--out", str(folder.parent / "same.json")])
    assert r.exit_code == 0, r.output
    result = json.loads((folder.parent / "same.json").read_text(encoding="utf-8"))
    assert result["differs"] == []
    for g in result["gates"].values():
        assert [a["action"] for a in g["recorded"]] == [a["action"] for a in g["replayed"]]
        assert len(g["recorded"]) >= 2 and all(abs(s) <= 10.0 for s in g["time_shifts_s"])


def test_a_replay_with_a_higher_closing_level_shows_where_it_decides_later(builtin_run, tmp_path):
    from twin.control.policy import load_policy
    from twin.hil.replay import replay

    _, folder = builtin_run
    text = (ROOT / "scenarios" / "policies" / "reference_gates.yaml").read_text(encoding="utf-8")
    later = tmp_path / "later.yaml"
    later.write_text(text.replace("  close_level_m: 2.0", "  close_level_m: 2.2").replace(
        "  override_level_m: 2.3", "  override_level_m: 2.4"), encoding="utf-8")  # fmt: skip
    result = replay(folder, load_policy(later))
    assert result["differs"] == ["G01", "G02", "G03", "G04", "G05"]  # the Jungnangcheon gates (the defaults)
    for g in result["differs"]:
        shifts = result["gates"][g]["time_shifts_s"]
        assert abs(shifts[0]) <= 10.0 and shifts[1] > 60.0  # the same warning, a later closing


def test_replay_refuses_a_folder_that_is_not_a_hil_run(tmp_path):
    from click.testing import CliRunner

    from twin.cli import main

    r = CliRunner().invoke(main, ["hil", "replay", str(tmp_path)])
    assert r.exit_code == 2 and "not a HIL run folder: no messages.jsonl" in r.output
