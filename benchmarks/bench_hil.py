"""Hardware-in-the-loop timing, idle and under load, in the same run (issue 12).

    python benchmarks/bench_hil.py [--speed 120] [--devices gates|all] [--broker auto|embedded|mosquitto]
                                   [--runs idle,load,strict-load]

Runs the 3-hour smart-gates storm with the reference controller as its own process:

* ``idle``: the paced clock on this machine as it is;
* ``load``: the paced clock with one busy-loop process per core running alongside (started here);
* ``strict-load``: the baseline, a strict clock (exactly --speed, as every run was before issue
  12) under the same load: what the harness did when the host fell behind.

Prints, for each: the effective speed (simulated s per wall s) against the ceiling, the worst
clock lag and the delivery delay of the readings (p50, p99, max; simulated s), the controller's
reaction (p50, max), how long the clock was held and by what, the status (passed, failed,
inconclusive and why), and the largest difference of a gate's closing time from the headless
run (goal: within one sampling interval, 10 s).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim_devices.hil.runner import run_hil  # noqa: E402
from twin.runner import run_scenario  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "gates" / "flash_flood_gates.yaml"


def _spin() -> None:
    x = 0
    while True:
        x += 1


class BusyMachine:
    """One busy-loop process per core while inside the ``with``."""

    def __enter__(self):
        ctx = multiprocessing.get_context("spawn")
        self.procs = [ctx.Process(target=_spin, daemon=True) for _ in range(os.cpu_count() or 1)]
        for p in self.procs:
            p.start()
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.join(timeout=10)


def closed_times(events: pd.DataFrame) -> dict[str, float]:
    return events[events.kind == "gate.closed"].groupby("entity_id").time_s.min().to_dict()


def one(scenario, name: str, args, base: dict[str, float]) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-hil-")) / name
    strict = name.startswith("strict")
    speed = math.inf if args.speed == "max" else float(args.speed)

    def run():
        t = time.perf_counter()
        r = run_hil(scenario, controller="builtin", speed=speed, strict=strict, out=out, devices=args.devices,
                    broker=args.broker)  # fmt: skip
        return r, time.perf_counter() - t

    if name.endswith("load"):
        with BusyMachine():
            r, wall = run()
    else:
        r, wall = run()
    closed = closed_times(pd.read_parquet(out / "events.parquet"))
    diffs = [abs(closed[g] - t) if g in closed else math.inf for g, t in base.items()]
    return {"name": name, "result": r, "wall": wall, "closing_diff": max(diffs) if diffs else None}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed", default="120", help="the ceiling (a number or max)")
    ap.add_argument("--devices", choices=["all", "gates"], default="gates")
    ap.add_argument("--broker", default="auto")
    ap.add_argument("--runs", default="idle,load,strict-load")
    args = ap.parse_args()
    scenario = load_scenario(SCENARIO)
    t = time.perf_counter()
    headless = run_scenario(scenario)
    headless_s = time.perf_counter() - t
    base = closed_times(headless.engine.events.to_frame())
    print(f"scenario: {SCENARIO.relative_to(ROOT)} ({scenario.duration_s / 3600:g} h simulated), "
          f"{args.devices} devices, {args.broker} broker, ceiling {args.speed}x, {os.cpu_count()} cores")  # fmt: skip
    print(f"headless twin run (the baseline for closing times): {headless_s:.1f} s wall, verdict "
          f"{headless.verdict['status']}")  # fmt: skip
    rows = [one(scenario, name.strip(), args, base) for name in args.runs.split(",") if name.strip()]
    fmt = lambda x: "-" if x is None else f"{x:g}"  # noqa: E731
    head = ("run", "wall s", "effective x", "lag max s", "deliv p50", "p99", "max", "react p50", "max",
            "held d/c/h wall s", "closing diff s", "status")  # fmt: skip
    print("  ".join(f"{h:>11}" for h in head))
    for row in rows:
        v = row["result"].verdict
        t = v["timing"]
        d, r, h = t["delivery_delay_s"], t["reaction_s"], t["held_wall_s"]
        cells = (row["name"], f"{row['wall']:.0f}", fmt(t["effective_speed"]), fmt(t["max_clock_lag_s"]),
                 fmt(d["p50"]), fmt(d["p99"]), fmt(d["max"]), fmt(r["p50"]), fmt(r["max"]),
                 f"{h['delivery']:.0f}/{h['controller']:.0f}/{h['host']:.0f}",
                 "-" if row["closing_diff"] is None else f"{row['closing_diff']:.1f}", v["status"])  # fmt: skip
        print("  ".join(f"{c:>11}" for c in cells))
    for row in rows:
        t = row["result"].verdict["timing"]
        if t["broken"]:
            print(f"{row['name']}: inconclusive: " + "; ".join(t["broken"]))
        if row["result"].verdict["failed"]:
            print(f"{row['name']}: checks not passed: {', '.join(row['result'].verdict['failed'])}")
    print("budgets (simulated s): clock lag and delivery <= half a sampling interval (5 s); closing diff goal <= 10 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
