"""Evaluating proposals: dataset patches validated as datasets are, the proposal and its baseline run
and their KPIs stored (on SQLite and on PostgreSQL), runs reused by content key, a SIGKILL in the
middle of ``twin proposal evaluate`` leaving the database consistent and a rerun completing, and an
evaluation over a sweep with the same draws on both sides.

The physics check: lowering a gauge's attention stage changes when people are warned, not the water,
so the flooded paths are the same in both runs and the paths flooded before any alert cannot grow.

Wall time: the killed evaluation is polled for up to 120 s (a budget broken is said as such).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.city import load_city
from twin.errors import ProposalConflict, ProposalError
from twin.proposals import evaluate as evaluate_module
from twin.proposals.evaluate import evaluate_by_sweep, evaluate_proposal
from twin.proposals.patch import patch_features, patch_key, patch_problems, patched_dataset
from twin.proposals.store import open_store
from twin.resources import default_dataset, shipped_scenarios

FLAGSHIP = str(shipped_scenarios() / "flash_flood_jungnangcheon.yaml")
LOWER_ATTENTION = ["thresholds.LS-1018665.attention_m=1.5"]
VENV_BIN = Path(sys.executable).parent
KILL_BUDGET_S = 120.0
NEW_CAMERA = {"device_id": "CAM-P1", "kind": "cctv", "name": "신곡교 새 CCTV", "lon": 127.046, "lat": 37.745,
              "mount_height_m": 6, "heading_deg": 90, "fov_deg": 90, "resolution_px": 1920}


def _new(store, **kw):
    args = dict(title_ko="신곡교 관심 기준 낮추기", title_en="Lower the attention level at Singok bridge",
                author="의정부 리빙랩", scenario=FLAGSHIP, overrides=LOWER_ATTENTION)
    args.update(kw)
    return store.new(**args)


# --- dataset patches ---------------------------------------------------------------------------

def test_a_valid_patch_has_no_problem_and_its_dataset_holds_the_change(tmp_path):
    patch = {"devices": {"add": [NEW_CAMERA], "move": [{"device_id": "SB-G01", "lon": 127.047, "lat": 37.746}],
                         "remove": ["CAM-G02"]}}
    assert patch_problems(patch, default_dataset()) == []
    folder = patched_dataset(patch, default_dataset(), tmp_path)
    assert folder.parent == tmp_path / "datasets" and folder.name == patch_key(patch, default_dataset())
    city = load_city(folder, cache=False)
    cams = set(city.devices_of_kind("cctv")["device_id"])
    assert "CAM-P1" in cams and "CAM-G02" not in cams
    board = city.devices_of_kind("signboard").set_index("device_id").to_crs(4326).geometry["SB-G01"]
    assert (round(board.x, 6), round(board.y, 6)) == (127.047, 37.746)
    base = load_city(default_dataset())
    assert len(city.devices_of_kind("cctv")) == len(base.devices_of_kind("cctv"))  # one added, one removed
    assert patched_dataset(patch, default_dataset(), tmp_path) == folder  # written once, then reused
    assert [p.name for p in (tmp_path / "datasets").iterdir()] == [folder.name]  # no temporary folder left


def test_a_new_gate_is_named_by_its_access_point_and_a_removed_one_is_not():
    base = load_city(default_dataset())
    aps = base.layer("access_points")
    free = aps[aps["gate_id"].isna() & (aps["stream"] == "중랑천")].iloc[0]
    lon, lat = base.layer("access_points").to_crs(4326).geometry[free.name].coords[0]
    gate = {"device_id": "G99", "kind": "gate", "name": "새 차단시설", "lon": lon, "lat": lat,
            "access_id": free["access_id"], "level_sensor_id": "LS-G01", "rain_gauge_id": "RG-G01",
            "travel_time_s": 20}
    assert patch_problems({"devices": {"add": [gate], "remove": ["G01"]}}, default_dataset()) == []


def test_every_problem_of_a_patch_names_where_it_is_and_what_was_expected():
    gate = {"device_id": "G99", "kind": "gate", "name": "x", "lon": 127.05, "lat": 37.74, "access_id": "AP-NOPE",
            "level_sensor_id": "LS-G01", "rain_gauge_id": "RG-G01", "travel_time_s": 20}
    far = {"device_id": "XW-9", "kind": "crosswalk", "lon": 126.0, "lat": 37.7, "school_id": "B000004646"}
    lines = patch_problems({"devices": {"add": [gate, far]}}, default_dataset())
    assert any(line.startswith("dataset_patch.devices.add[0] (G99): attribute 'access_id'") and "AP-NOPE" in line
               for line in lines), lines
    assert any(line.startswith("dataset_patch.devices.add[1] (XW-9): lon/lat: got a point")
               and "outside the city" in line for line in lines), lines
    lines = patch_problems({"devices": {"add": [{**NEW_CAMERA, "device_id": "RG-10184010"}, {"kind": "tower"}],
                                        "move": [{"device_id": "LS-1018665", "lon": 127.0, "lat": 37.7}],
                                        "remove": ["NOPE", 5]}}, default_dataset())
    assert lines == [
        "dataset_patch.devices.add[0] (RG-10184010).device_id: got an id the dataset has: expected a new id",
        "dataset_patch.devices.add[1].device_id: got None: expected a device id",
        "dataset_patch.devices.add[1].kind: got tower: expected one of gate, cctv, signboard, crosswalk",
        "dataset_patch.devices.add[1].lon: got None: expected WGS84 degrees (a number)",
        "dataset_patch.devices.add[1].lat: got None: expected WGS84 degrees (a number)",
        "dataset_patch.devices.move[0] (LS-1018665): got a level_sensor: expected a gate, cctv, signboard, "
        "crosswalk of the dataset",
        "dataset_patch.devices.remove[0] (NOPE): got an unknown device: expected a gate, cctv, signboard, "
        "crosswalk of the dataset",
        "dataset_patch.devices.remove[1]: got 5: expected a device id",
    ]
    assert patch_problems([], default_dataset()) == ["dataset_patch: got list: expected a mapping with 'devices'"]
    assert patch_problems({"devices": {"add": [NEW_CAMERA], "move": [{**NEW_CAMERA}]}}, default_dataset()) == [
        "dataset_patch.devices.move[0].kind: got a field: expected none (a moved device keeps its kind)"]
    twice = patch_problems({"devices": {"add": [NEW_CAMERA], "remove": ["CAM-P1"]}}, default_dataset())
    assert twice and "already changes" in twice[0]


def test_a_store_refuses_a_bad_patch_and_keeps_a_good_one(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'p.sqlite'}")
    with pytest.raises(ProposalError) as err:
        _new(store, dataset_patch={"devices": {"add": [{**NEW_CAMERA, "fov_deg": 500}]}})
    assert err.value.problems[0].startswith("dataset_patch.devices.add[0] (CAM-P1): attribute 'fov_deg'")
    assert store.proposals() == []
    pid = _new(store, dataset_patch={"devices": {"add": [NEW_CAMERA]}})
    p = store.get(pid)
    assert p["dataset_patch"]["devices"]["add"][0]["device_id"] == "CAM-P1"
    feats = patch_features(p["dataset_patch"], default_dataset())
    assert [(f["properties"]["change"], f["geometry"]["coordinates"]) for f in feats] == [("add", [127.046, 37.745])]
    with pytest.raises(ProposalError):
        store.update(pid, version=p["version"], dataset_patch={"devices": {"remove": ["LS-1018665"]}})


# --- evaluation --------------------------------------------------------------------------------

def test_evaluate_stores_both_runs_kpis_and_lowering_the_attention_stage_only_warns_earlier(db_url, tmp_path):
    store = open_store(db_url)
    pid = _new(store, dataset_patch={"devices": {"add": [NEW_CAMERA]}})
    ev = evaluate_proposal(store, pid, data=tmp_path)
    p = store.get(pid)
    assert p["status"] == "evaluated" and [e["id"] for e in p["evaluations"]] == [ev["id"]]
    base, prop = ev["kpis"]["baseline"], ev["kpis"]["proposal"]
    assert base["kpi/flooded_paths"] == prop["kpi/flooded_paths"] > 0  # the same water
    assert prop["kpi/unwarned_paths"] < base["kpi/unwarned_paths"]  # warned earlier: fewer paths flood unwarned
    runs = {k: tmp_path / "runs" / ev[k] for k in ("baseline_key", "proposal_key")}
    summaries = {k: json.loads((f / "summary.json").read_text(encoding="utf-8")) for k, f in runs.items()}
    assert summaries["baseline_key"]["flooded_paths"]["count"] == base["kpi/flooded_paths"]
    datasets = {k: s["scenario"]["dataset"] for k, s in summaries.items()}  # the dataset's name
    assert datasets["proposal_key"] == datasets["baseline_key"] + " + proposal patch"  # the patched dataset ran
    resolved = (runs["proposal_key"] / "scenario.resolved.yaml").read_text(encoding="utf-8")
    assert str(tmp_path / "datasets") in resolved
    stamps = {k: f.stat().st_mtime_ns for k, f in runs.items()}
    again = evaluate_proposal(store, pid, data=tmp_path)
    assert again["id"] == ev["id"] and len(store.get(pid)["evaluations"]) == 1  # the same runs: kept once
    assert {k: f.stat().st_mtime_ns for k, f in runs.items()} == stamps  # reused, not run again


def test_a_proposal_edited_during_its_evaluation_is_not_stamped_with_the_old_kpis(tmp_path, monkeypatch):
    store = open_store(f"sqlite:///{tmp_path / 'p.sqlite'}")
    pid = _new(store)
    real = evaluate_module.ensure_run

    def edit_then_run(scenario, folder, progress=None):
        p = store.get(pid)
        if p["overrides"] == LOWER_ATTENTION:
            store.update(pid, version=p["version"], overrides=["thresholds.LS-1018665.attention_m=2.0"])
        return real(scenario, folder, progress)

    monkeypatch.setattr(evaluate_module, "ensure_run", edit_then_run)
    with pytest.raises(ProposalConflict, match="edited during the evaluation"):
        evaluate_proposal(store, pid, data=tmp_path)
    p = store.get(pid)
    assert p["evaluations"] == [] and p["status"] == "under_evaluation"
    monkeypatch.setattr(evaluate_module, "ensure_run", real)
    evaluate_proposal(store, pid, data=tmp_path)
    assert store.get(pid)["status"] == "evaluated"


def test_a_decided_proposal_keeps_its_status_when_evaluated_again(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'p.sqlite'}")
    pid = _new(store)
    store.update(pid, version=1, status="adopted")
    evaluate_proposal(store, pid, data=tmp_path)
    p = store.get(pid)
    assert p["status"] == "adopted" and len(p["evaluations"]) == 1


def _runs_finished(runs: Path) -> list[Path]:
    return [d for d in runs.iterdir() if (d / "summary.json").is_file()] if runs.is_dir() else []


def test_a_sigkill_in_the_middle_of_evaluate_leaves_the_database_consistent_and_a_rerun_completes(db_url, tmp_path):
    store = open_store(db_url)
    pid = _new(store)
    env = {**os.environ, "TWIN_DATA_DIR": str(tmp_path / "data"), "TWIN_DB_URL": db_url}
    runs = tmp_path / "data" / "runs"
    proc = subprocess.Popen([str(VENV_BIN / "twin"), "proposal", "evaluate", str(pid), "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    t0 = time.monotonic()
    while not _runs_finished(runs):  # the baseline is written: kill it while the proposal runs
        if proc.poll() is not None:
            pytest.fail(f"twin proposal evaluate ended (exit {proc.returncode}) before its first run was written: "
                        f"{proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
        if time.monotonic() - t0 > KILL_BUDGET_S:
            proc.kill()
            pytest.fail(f"timing budget broken: no run written within {KILL_BUDGET_S:.0f} s")
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the evaluation finished before the kill: nothing was tested"
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    p = open_store(db_url).get(pid)
    assert p["status"] == "under_evaluation" and p["evaluations"] == []  # before the evaluation, never half of it
    finished = _runs_finished(runs)
    assert len(finished) == 1
    kept_stamp = finished[0].stat().st_mtime_ns
    done = subprocess.run([str(VENV_BIN / "twin"), "proposal", "evaluate", str(pid), "--quiet"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1000:]
    p = open_store(db_url).get(pid)
    assert p["status"] == "evaluated" and len(p["evaluations"]) == 1
    assert p["evaluations"][0]["baseline_key"] == finished[0].name  # the run made before the kill, reused
    assert finished[0].stat().st_mtime_ns == kept_stamp
    assert sorted(d.name for d in runs.iterdir() if not d.name.startswith(".")) == sorted(
        [p["evaluations"][0]["baseline_key"], p["evaluations"][0]["proposal_key"]])


def test_an_evaluation_over_a_sweep_draws_the_same_storms_for_both(tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("scenario: ignored.yaml\nruns: 3\nsampler: lhs\nseed: 5\nvary:\n"
                     "  rainfall.total_mm: uniform(70, 140)\n", encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path / 'p.sqlite'}")
    pid = _new(store)
    ev = evaluate_by_sweep(store, pid, sweep, data=tmp_path, workers=1)
    assert ev["kind"] == "sweep" and ev["kpis"]["baseline_runs"] == ev["kpis"]["proposal_runs"] == 3
    import pandas as pd

    tables = {k: pd.read_parquet(tmp_path / "sweeps" / ev[k] / "results.parquet")
              for k in ("baseline_key", "proposal_key")}
    drawn = [tables[k]["param/rainfall.total_mm"].tolist() for k in ("baseline_key", "proposal_key")]
    assert drawn[0] == drawn[1] and len(set(drawn[0])) == 3
    for side, key in (("baseline", "baseline_key"), ("proposal", "proposal_key")):
        assert ev["kpis"][side]["kpi/flooded_paths"] == pytest.approx(tables[key]["kpi/flooded_paths"].mean())
    assert ev["kpis"]["baseline"]["kpi/flooded_paths"] == ev["kpis"]["proposal"]["kpi/flooded_paths"]
    assert ev["kpis"]["proposal"]["kpi/unwarned_paths"] < ev["kpis"]["baseline"]["kpi/unwarned_paths"]


def test_the_cli_evaluates_and_says_what_changed_and_refuses_bad_input(tmp_path, monkeypatch):
    from twin.cli import main

    monkeypatch.setenv("TWIN_DATA_DIR", str(tmp_path))
    db = f"sqlite:///{tmp_path / 'p.sqlite'}"
    patch = tmp_path / "patch.yaml"
    patch.write_text("devices:\n  add:\n    - {device_id: CAM-P1, kind: cctv, lon: 127.046, lat: 37.745}\n",
                     encoding="utf-8")
    r = CliRunner().invoke(main, ["proposal", "new", "--db", db, "--title-ko", "가", "--title-en", "a",
                                  "--author", "b", "--scenario", FLAGSHIP, "--patch", str(patch)])
    assert r.exit_code == 2 and "dataset_patch.devices.add[0] (CAM-P1): attribute 'mount_height_m'" in r.output
    patch.write_text("devices: [unclosed\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["proposal", "new", "--db", db, "--title-ko", "가", "--title-en", "a",
                                  "--author", "b", "--scenario", FLAGSHIP, "--patch", str(patch)])
    assert r.exit_code == 2 and str(patch) in r.output and "unclosed" not in r.output.replace(str(patch), "")
    patch.write_text("# nothing\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["proposal", "new", "--db", db, "--title-ko", "가", "--title-en", "a",
                                  "--author", "b", "--scenario", FLAGSHIP, "--patch", str(patch)])
    assert r.exit_code == 2 and "got nothing: expected a dataset patch" in r.output
    pid = _new(open_store(db))
    r = CliRunner().invoke(main, ["proposal", "evaluate", "--db", db, str(pid), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "Paths flooded before any alert:" in r.output and "->" in r.output
    r = CliRunner().invoke(main, ["proposal", "evaluate", "--db", db, "999", "--quiet"])
    assert r.exit_code == 2 and r.output.strip() == "proposal 999: no such proposal"


def test_a_gate_at_an_access_point_that_has_one_is_refused():
    gate = {"device_id": "G-NEW", "kind": "gate", "name": "x", "lon": 127.0480, "lat": 37.7507,
            "access_id": "AP-JN-R04", "level_sensor_id": "LS-G01", "rain_gauge_id": "RG-G01", "travel_time_s": 20}
    lines = patch_problems({"devices": {"add": [gate]}}, default_dataset())
    assert lines == ["dataset_patch.devices.add[0] (G-NEW).access_id: got AP-JN-R04, where gate G01 stands: expected "
                     "an access point without a gate (move or remove that gate)"]
    moved = {"device_id": "G01", "lon": 127.0452093, "lat": 37.7617529, "access_id": "AP-JN-L01"}  # to a free one
    assert patch_problems({"devices": {"add": [gate], "move": [moved]}}, default_dataset()) == []


def test_an_imported_proposal_whose_scenario_is_not_here_is_not_evaluated_against_a_file_of_its_name(
        tmp_path, monkeypatch):
    store = open_store(f"sqlite:///{tmp_path / 'p.sqlite'}")
    pid = _new(store)
    with store.transaction() as s:  # as an import leaves it: the package's label, not a file of this machine
        from twin.proposals.records import Proposal

        s.get(Proposal, pid).scenario = "flash_flood_jungnangcheon.yaml"
    monkeypatch.chdir(Path(FLAGSHIP).parent)  # a file of that name is right here
    with pytest.raises(ProposalError, match="not on this machine"):
        evaluate_proposal(store, pid, data=tmp_path)
    assert store.get(pid)["status"] == "draft" and not (tmp_path / "runs").exists()
