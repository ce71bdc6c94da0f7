"""Sweeps on Dask: the same table on 1 worker, 2 workers and a cluster started with the `dask`
commands; a sweep killed and restarted; failed members; what a worker keeps of a run.

Wall time: each sweep here runs 6-8 members of a two-hour flash flood (about 0.3 s each) plus the
start of its cluster (1-3 s). The cluster started by the `dask` commands gets 60 s to come up and the
killed sweep 120 s to write its first records; a budget broken is reported as such.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from twin.ensemble.design import design
from twin.ensemble.kpis import run_kpis
from twin.ensemble.members import build_members
from twin.ensemble.parameters import parse_parameter
from twin.ensemble.spec import SweepSpec, parse_vary
from twin.ensemble.sweep import read_sweep, run_sweep, worst_members
from twin.ensemble.worker import TwinWorkerPlugin, run_batch
from twin.resources import default_dataset, shipped_scenarios

VENV_BIN = Path(sys.executable).parent
VARY = ("rainfall.total_mm=uniform(60, 150)", "rainfall.pattern=choice(huff_q2, huff_q3)")
RUNS = 8
CLUSTER_BUDGET_S = 60.0
KILL_BUDGET_S = 120.0


@pytest.fixture(scope="module")
def short_flood(tmp_path_factory) -> Path:
    """The flagship flash flood cut to two hours (the rain falls in the first hour)."""
    data = yaml.safe_load((shipped_scenarios() / "flash_flood_jungnangcheon.yaml").read_text(encoding="utf-8"))
    data.update(duration="2h", dataset=str(default_dataset()))
    data["rainfall"].update(duration="1h", start_offset="0min")
    path = tmp_path_factory.mktemp("scenario") / "short_flood.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _spec(scenario: Path, **kw) -> SweepSpec:
    return SweepSpec(scenario=scenario, parameters=parse_vary(list(VARY)), runs=RUNS, sampler="lhs", seed=19, **kw)


@pytest.fixture(scope="module")
def one_worker(short_flood, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "one"
    return run_sweep(_spec(short_flood), out, workers=1)


def _bytes(folder: Path, name: str = "results.parquet") -> bytes:
    return (folder / name).read_bytes()


def test_a_sweep_writes_one_row_per_member_with_its_parameters_and_kpis(one_worker):
    t = one_worker.table
    assert list(t["member"]) == list(range(RUNS)) and (t["status"] == "ok").all()
    assert one_worker.ran == RUNS and one_worker.reused == 0 and one_worker.failed == 0
    assert set(t["param/rainfall.pattern"]) == {"huff_q2", "huff_q3"}
    assert t["param/rainfall.total_mm"].between(60, 150).all()
    # more rain never floods fewer paths (same pattern): the sweep reads the model, not a constant
    for _, g in t.groupby("param/rainfall.pattern"):
        g = g.sort_values("param/rainfall.total_mm")
        assert g["kpi/flooded_paths"].is_monotonic_increasing
    flooded = [c for c in t.columns if c.startswith("access_point/") and c.endswith("/flooded")]
    assert len(flooded) == 120
    assert (t[flooded].sum(axis=1) == t["kpi/flooded_paths"]).all()
    files = {p.name for p in one_worker.folder.iterdir()}
    assert {"sweep.json", "results.parquet", "series.parquet", "percentiles.parquet", "exceedance.parquet",
            "rules.json", "timings.json", "members"} <= files
    assert len(list((one_worker.folder / "members").glob("*.json"))) == RUNS


def test_percentiles_and_exceedance_agree_with_the_table(one_worker):
    t = one_worker.table
    pct = pd.read_parquet(one_worker.folder / "percentiles.parquet").set_index("column")
    fp = t["kpi/flooded_paths"].to_numpy()
    assert pct.loc["kpi/flooded_paths", "p50"] == pytest.approx(float(np.percentile(fp, 50)))
    assert pct.loc["kpi/flooded_paths", "p95"] == pytest.approx(float(np.percentile(fp, 95)))
    ex = pd.read_parquet(one_worker.folder / "exceedance.parquet")
    flooded = [c for c in t.columns if c.endswith("/flooded")]
    col = max(flooded, key=lambda c: 0 < t[c].mean() < 1)  # one that floods in some members, if any
    row = ex[(ex["column"] == col) & (ex["op"] == "==")].iloc[0]
    assert row["probability"] == pytest.approx(t[col].mean())
    assert row["low"] <= row["probability"] <= row["high"]


def test_series_hold_the_stage_at_the_warning_gauges(one_worker):
    s = pd.read_parquet(one_worker.folder / "series.parquet")
    assert set(s["member"]) == set(range(RUNS))
    names = set(s["series"])
    assert "stage/LS-1018665" in names
    one = s[(s["member"] == 0) & (s["series"] == "stage/LS-1018665")]
    peak = one_worker.table.loc[0, "gauge/LS-1018665/peak_stage_m"]
    assert one["value"].max() == pytest.approx(peak, abs=0.01)  # the peak is read between samples too
    assert one["t_s"].iloc[-1] == pytest.approx(7200.0)


def test_two_workers_give_the_same_tables_byte_for_byte(one_worker, short_flood, tmp_path):
    two = run_sweep(_spec(short_flood), tmp_path / "two", workers=2)
    for name in ("results.parquet", "series.parquet", "percentiles.parquet", "exceedance.parquet", "rules.json"):
        assert _bytes(two.folder, name) == _bytes(one_worker.folder, name), name


def test_a_cluster_started_with_the_dask_commands_gives_the_same_table(one_worker, short_flood, tmp_path):
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [
        subprocess.Popen(
            [str(VENV_BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(sched_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
        )
    ]
    try:
        address = _wait_for_scheduler(sched_file, procs[0])
        procs.append(
            subprocess.Popen(
                [str(VENV_BIN / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1", "--host",
                 "127.0.0.1", "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
            )
        )
        assert address.startswith("tcp://127.0.0.1:")
        result = run_sweep(_spec(short_flood), tmp_path / "cluster", scheduler=address)
    finally:
        for p in reversed(procs):
            _stop(p)
    assert result.ran == RUNS
    assert _bytes(result.folder) == _bytes(one_worker.folder)
    workers = {t.get("worker") for t in json.loads((result.folder / "timings.json").read_text())["members"]}
    assert len(workers - {None}) >= 1


def _wait_for_scheduler(sched_file: Path, proc: subprocess.Popen) -> str:
    t0 = time.monotonic()
    while time.monotonic() - t0 < CLUSTER_BUDGET_S:
        if proc.poll() is not None:
            pytest.fail(f"`dask scheduler` exited with {proc.returncode} before it wrote {sched_file.name}")
        if sched_file.is_file():
            try:
                return json.loads(sched_file.read_text())["address"]
            except (ValueError, KeyError):
                pass
        time.sleep(0.2)
    pytest.fail(f"timing budget broken: `dask scheduler` wrote no {sched_file.name} within {CLUSTER_BUDGET_S:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def test_a_killed_sweep_restarts_without_rerunning_finished_members(one_worker, short_flood, tmp_path):
    out = tmp_path / "killed"
    cmd = [str(VENV_BIN / "twin"), "sweep", str(short_flood), "--runs", str(RUNS), "--seed", "19", "--sampler",
           "lhs", "--workers", "1", "--out", str(out), "--quiet", *(a for v in VARY for a in ("--vary", v))]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    members = out / "members"
    t0 = time.monotonic()
    while len(list(members.glob("*.json"))) < 2:
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended ({proc.returncode}) before it was killed: {proc.stderr.read()[-400:]!r}")
        if time.monotonic() - t0 > KILL_BUDGET_S:
            _stop(proc)
            pytest.fail(f"timing budget broken: no member finished within {KILL_BUDGET_S:.0f} s")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in members.glob("*.json")}
    assert 2 <= len(before) < RUNS, "killed too late to test a restart"
    assert not (out / "results.parquet").exists()
    assert not list(members.glob("*.tmp*"))  # nothing half-written is left under its final name
    again = run_sweep(_spec(short_flood), out, workers=1)
    assert again.reused == len(before) and again.ran == RUNS - len(before)
    assert {p.name: p.stat().st_mtime_ns for p in members.glob("*.json") if p.name in before} == before
    assert _bytes(again.folder) == _bytes(one_worker.folder)
    third = run_sweep(_spec(short_flood), out, workers=1)  # nothing left: no cluster is even started
    assert (third.ran, third.reused) == (0, RUNS)
    assert _bytes(third.folder) == _bytes(one_worker.folder)


def test_a_failed_member_is_recorded_and_the_sweep_goes_on(short_flood, tmp_path):
    broken = tmp_path / "broken_city"
    shutil.copytree(default_dataset(), broken)
    (broken / "buildings.geojson").write_text("{ not json", encoding="utf-8")
    spec = SweepSpec(
        scenario=short_flood,
        parameters=parse_vary([f"dataset=choice({default_dataset()}, {broken})"]),
        runs=4,
        sampler="grid",
        seed=2,
    )
    result = run_sweep(spec, tmp_path / "sweep", workers=1)
    t = result.table.set_index("param/dataset")
    assert result.failed == 1 and len(t) == 2
    bad, good = t.loc[str(broken)], t.loc[str(default_dataset())]
    assert bad["status"] == "failed" and "buildings.geojson" in bad["error"]
    assert math.isnan(bad["kpi/flooded_paths"]) and math.isnan(bad["gauge/LS-1018665/peak_stage_m"])
    assert good["status"] == "ok" and good["kpi/flooded_paths"] > 0
    pct = pd.read_parquet(result.folder / "percentiles.parquet").set_index("column")
    assert pct.loc["kpi/flooded_paths", "failed"] == 1 and pct.loc["kpi/flooded_paths", "n"] == 1
    # the failure is kept: a restart does not run it again
    again = run_sweep(spec, tmp_path / "sweep", workers=1)
    assert (again.ran, again.reused, again.failed) == (0, 2, 1)


def test_the_cli_runs_a_sweep_and_refuses_bad_requests(short_flood, tmp_path):
    twin = str(VENV_BIN / "twin")
    bad = subprocess.run([twin, "sweep", str(short_flood), "--vary", "rainfall.total_mm=uniform(150, 60)"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--vary rainfall.total_mm=uniform(150, 60): got uniform(150, 60): expected low < high" in bad.stderr
    refused = subprocess.run([twin, "sweep", str(short_flood), "--runs", "3", "--vary",
                              "rainfall.total_mm=uniform(60, 5000)", "--sampler", "grid"],
                             capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode == 2 and "member 2 (rainfall.total_mm=5000)" in refused.stderr
    assert not (tmp_path / "sweeps").exists()  # refused before anything is written
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep", encoding="utf-8")
    foreign = subprocess.run([twin, "sweep", str(short_flood), "--runs", "2", "--vary", VARY[0], "--out", "notes"],
                             capture_output=True, text=True, cwd=tmp_path)
    assert foreign.returncode == 2 and "not a sweep folder" in foreign.stderr and "members:" not in foreign.stderr
    assert (tmp_path / "notes" / "mine.txt").read_text() == "keep"
    ok = subprocess.run([twin, "sweep", str(short_flood), "--runs", "2", "--vary", VARY[0], "--workers", "1",
                         "--keep-worst", "1", "--quiet"], capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr[-800:]
    folder = tmp_path / "sweeps" / "short_flood"
    assert f"wrote {folder}" in ok.stdout and "Riverside paths flooded (paths): p5" in ok.stdout
    got = read_sweep(folder)
    # no gates and no people: the worst are those with the most paths flooded before any alert
    assert "by kpi/unwarned_paths" in ok.stderr
    worst = worst_members(got["table"], "kpi/unwarned_paths", 1)
    kept = folder / "runs" / f"member-{worst[0]:04d}"
    assert (kept / "summary.json").is_file()
    shutil.rmtree(folder / "runs")  # as if killed while keeping it: the restart runs only that member again
    again = subprocess.run([twin, "sweep", str(short_flood), "--runs", "2", "--vary", VARY[0], "--workers", "1",
                            "--keep-worst", "1", "--quiet"], capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 0 and "0 run now, 2 found finished" in again.stdout
    assert json.loads((kept / "summary.json").read_text())["flooded_paths"]["count"] == got["table"].set_index(
        "member").loc[worst[0], "kpi/flooded_paths"]
    assert (got["table"]["kpi/unwarned_paths"] <= got["table"].set_index("member").loc[worst[0],
                                                                                     "kpi/unwarned_paths"]).all()


def test_a_worker_reuses_its_city_and_a_member_run_twice_gives_the_same_record(short_flood):
    ps = (parse_parameter(VARY[0]),)
    members = build_members(short_flood, ps, design(list(ps), 2, sampler="lhs", seed=4))
    plugin = TwinWorkerPlugin()
    a1, b, a2 = run_batch([members[0], members[1], members[0]], plugin=plugin)
    assert len(plugin.cities) == 1
    (city,) = plugin.cities.values()
    assert {k for k, _ in city.derived} == {"catchments", "steady-state"}  # built once, kept for every member
    (fresh,) = run_batch([members[0]], plugin=TwinWorkerPlugin())
    for rec in (a2, fresh):
        assert rec["kpis"] == a1["kpis"] and rec["series"] == a1["series"]
    assert b["kpis"] != a1["kpis"]


def test_kpis_read_the_run_summary():
    summary = {
        "flooded_paths": {"count": 2, "first_s": 600.0, "min_warning_lead_time_s": -120.0},
        "access_points": {
            "A": {"path_flooded_at_s": 600.0, "warning_lead_time_s": -120.0},
            "B": {"path_flooded_at_s": 900.0, "warning_lead_time_s": 300.0},
            "C": {"path_flooded_at_s": None, "warning_lead_time_s": None},
        },
        "gauges": {"G": {"peak_stage_m": 2.5, "highest_level": "caution"}},
        "crowd": {"exposed_people": 3, "exposure_person_s": 90.0, "t90_s": None, "not_safe": 0,
                  "evacuation_orders": {"중랑천": {"time_s": 10.0, "people_on_paths": 4}}},
    }
    k = run_kpis(summary)
    assert k["kpi/flooded_paths"] == 2 and k["kpi/first_flooding_min"] == 10.0
    assert k["kpi/unwarned_paths"] == 1 and k["access_point/A/unwarned"] == 1 and k["access_point/B/unwarned"] == 0
    assert k["access_point/C/flooded"] == 0 and math.isnan(k["access_point/C/warning_lead_min"])
    assert k["gauge/G/highest_level"] == 2  # attention 1, caution 2
    assert k["kpi/exposure_person_min"] == 1.5 and math.isnan(k["kpi/t90_min"])
    assert k["zone/중랑천/people_on_paths"] == 4 and k["kpi/people_on_paths"] == 4
    assert "kpi/gates_failed" not in k  # no gates section, no gate KPIs


def test_unknown_kpis_to_rank_or_explain_are_refused_before_any_run(short_flood):
    from twin.ensemble.spec import Target
    from twin.ensemble.sweep import plan
    from twin.errors import SweepError

    spec = _spec(short_flood, worst_by="kpi/flooded", targets=(Target("gate/G01/failed", ">", 0.0),
                                                               Target("kpi/nonsense", ">", 1.0)))
    with pytest.raises(SweepError) as err:
        plan(spec)
    assert [line.split(": got ")[1].split(":")[0] for line in err.value.problems] == ["'kpi/flooded'",
                                                                                      "'kpi/nonsense'"]


def test_a_choice_of_numbers_and_words_is_one_column_of_words():
    from twin.ensemble.folder import results_table

    recs = [{"member": i, "key": str(i), "seed": i, "status": "ok", "error": None, "values": {"x": v}, "kpis": {}}
            for i, v in enumerate([60, "huff_q3", 1.5])]
    t = results_table(recs, ["x"])
    assert t["param/x"].tolist() == ["60", "huff_q3", "1.5"]


def test_a_sweep_folder_is_locked_and_keeps_only_what_its_request_made(tmp_path):
    from twin.ensemble.folder import LOCK, SweepFolder
    from twin.errors import OutputError

    folder = SweepFolder(tmp_path / "s")
    with folder:
        with pytest.raises(OutputError, match="another sweep is writing to it"):
            SweepFolder(tmp_path / "s").__enter__()
    assert not (tmp_path / "s" / LOCK).exists()
    (tmp_path / "s" / LOCK).write_text("999999999", encoding="utf-8")  # left by a killed sweep
    with SweepFolder(tmp_path / "s") as again:
        assert (tmp_path / "s" / LOCK).read_text() == str(os.getpid())
        (again.path / "sensitivity.parquet").write_bytes(b"old")
        again.clear_outputs()
        assert not (again.path / "sensitivity.parquet").exists()
        again.put_run(1, "k1", {"summary.json": b"{}"})
        again.put_run(2, "k2", {"summary.json": b"{}"})
        assert again.has_run(1, "k1") and not again.has_run(1, "other")
        again.prune_runs({1: "k1", 2: "changed"})
        assert again.has_run(1, "k1") and not again.run_dir(2).exists()


def test_a_record_of_the_wrong_shape_is_run_again(tmp_path):
    from twin.ensemble.folder import SweepFolder

    folder = SweepFolder(tmp_path / "s")
    good = {"member": 0, "key": "k", "seed": 1, "values": {"a": 1.0}, "status": "ok", "error": None,
            "kpis": {"kpi/x": 1.0}, "series": {"t_s": [0.0]}}
    folder.put(dict(good))
    assert folder.record("k") == good
    no_seed = {k: v for k, v in good.items() if k != "seed"}
    wrong = {**good, "status": "maybe"}
    for bad in ({**good, "seed": "1"}, {**good, "kpis": {"kpi/x": "lots"}}, no_seed, wrong, [good]):
        (folder.path / "members" / "k.json").write_text(json.dumps(bad), encoding="utf-8")
        assert folder.record("k") is None, bad


def test_kpis_a_scenario_does_not_make_are_refused_before_any_run(short_flood):
    from twin.ensemble.sweep import plan
    from twin.errors import SweepError

    with pytest.raises(SweepError, match=r"worst_by: got 'kpi/gates_failed', a KPI of the gates model: expected a KPI "
                                         r"of this scenario's models \(flood\)"):
        plan(_spec(short_flood, worst_by="kpi/gates_failed"))


def test_a_scheduler_that_cannot_be_reached_leaves_the_folder_as_it_was(one_worker, short_flood, tmp_path):
    from twin.errors import SweepError

    out = tmp_path / "copy"
    shutil.copytree(one_worker.folder, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    from dataclasses import replace

    spec = replace(_spec(short_flood), seed=20)  # another request: every member would have to run
    with pytest.raises(SweepError, match="--scheduler: could not reach tcp://127.0.0.1:9"):
        run_sweep(spec, out, scheduler="tcp://127.0.0.1:9")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
