"""A hardware-in-the-loop run on a busy machine (issue 12): with one busy-loop process per core
running alongside (this test starts them), the verdict is the idle machine's, or inconclusive
with the budget that broke and the speed the machine sustained; never a false failure. A replay
of the loaded run with its own policy decides exactly as recorded.

Timing budget: clock lag and delivery delay within half a sampling interval (5 s simulated);
the paced clock slows down to keep them. A run that still broke them is skipped with its reason.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pandas as pd
import pytest
from hil_jobs import hil_job

pytestmark = [pytest.mark.hil, pytest.mark.slow]


def _spin() -> None:  # pragma: no cover - runs in the load processes
    x = 0
    while True:
        x += 1


@pytest.fixture
def busy_machine():
    """One busy-loop process per core, for as long as the test runs."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_spin, daemon=True) for _ in range(os.cpu_count() or 1)]
    for p in procs:
        p.start()
    yield len(procs)
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(timeout=10)


def test_under_load_the_verdict_is_the_idle_ones_or_inconclusive_never_a_false_failure(
    busy_machine, gate_runs, tmp_path
):
    from twin.control.policy import load_policy
    from twin.control.replay import replay

    r = hil_job("flash_flood_gates", str(tmp_path / "run"), str(tmp_path / "tmp"))
    v = r["verdict"]
    t = v["timing"]
    d = t["delivery_delay_s"]
    print(
        f"under load ({busy_machine} busy loops): {t['sustained']}, wall {r['wall_s']:.0f} s, clock lag "
        f"{t['max_clock_lag_s']} s, delivery p50 {d['p50']} s p99 {d['p99']} s, held {t['held_wall_s']}"
    )
    assert v["status"] != "failed", v["failed"]  # the reference controller passes on an idle machine
    # whatever the timing, the recording replays exactly: the same decisions at the same simulated times
    same = replay(r["out"], load_policy(Path(r["out"]) / "policy.yaml"))
    assert same["exact"] and same["differs"] == []
    assert all(s == 0.0 for g in same["gates"].values() for s in g["time_shifts_s"])
    if v["status"] == "inconclusive":
        assert t["broken"] and "sustained" in t["advice"]
        pytest.skip(f"timing budget broke under load: {'; '.join(t['broken'])} ({t['sustained']})")
    _, folder = gate_runs("flash_flood_gates")
    ref = json.loads((folder / "verdict.json").read_text(encoding="utf-8"))
    assert {g: {c: x["passed"] for c, x in ch.items()} for g, ch in v["gates"].items()} == {
        g: {c: x["passed"] for c, x in ch.items()} for g, ch in ref["gates"].items()
    }
    closed = pd.read_parquet(Path(r["out"]) / "events.parquet").query("kind == 'gate.closed'")
    ref_closed = pd.read_parquet(folder / "events.parquet").query("kind == 'gate.closed'")
    a = closed.groupby("entity_id").time_s.min()
    b = ref_closed.groupby("entity_id").time_s.min()
    assert (a - b).abs().max() <= 10.0, (a - b).to_dict()  # within one sampling interval, as on an idle machine
