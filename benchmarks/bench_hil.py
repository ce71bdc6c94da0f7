"""A hardware-in-the-loop run of a 3-hour storm at 60x with every device of the dataset, against
the same scenario run headless (the baseline, in the same run).

    python benchmarks/bench_hil.py [--speed 60] [--devices all|gates] [--broker embedded|mosquitto]

Prints:
* the HIL run's wall time (goal, issue 7: a 3-hour event at --speed 60 within 4 minutes), next to
  the headless run's;
* for every gate, its closing time in both runs and the difference (goal: within one sampling
  interval of the level sensors, 10 s);
* how late MQTT telemetry reached the recorder (simulated seconds after it was sampled: p50,
  p99, max) and how far the fleet's clock lagged at worst;
* whether both verdicts passed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin.hil.runner import run_hil  # noqa: E402
from twin.runner import run_scenario  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "gates" / "flash_flood_gates.yaml"


def closed_times(events: pd.DataFrame) -> dict[str, float]:
    return events[events.kind == "gate.closed"].groupby("entity_id").time_s.min().to_dict()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--devices", choices=["all", "gates"], default="all")
    ap.add_argument("--broker", default="embedded")
    args = ap.parse_args()
    scenario = load_scenario(SCENARIO)

    t = time.perf_counter()
    headless = run_scenario(scenario)
    headless_s = time.perf_counter() - t
    base = closed_times(headless.engine.events.to_frame())

    out = Path(tempfile.mkdtemp(prefix="bench-hil-")) / "run"
    t = time.perf_counter()
    hil = run_hil(scenario, controller="builtin", speed=args.speed, out=out, devices=args.devices, broker=args.broker)
    hil_s = time.perf_counter() - t
    closed = closed_times(pd.read_parquet(out / "events.parquet"))

    print(f"scenario: {SCENARIO.relative_to(ROOT)} ({scenario.duration_s / 3600:g} h simulated)")
    print(f"headless twin run: {headless_s:.1f} s wall, verdict {'passed' if headless.verdict['passed'] else 'FAILED'}")
    print(
        f"HIL at {args.speed:g}x, {hil.verdict['hil']['devices']} devices, {args.broker} broker: {hil_s:.1f} s wall "
        f"(nominal {scenario.duration_s / args.speed:.0f} s; goal < 240 s at 60x), "
        f"verdict {'passed' if hil.verdict['passed'] else 'FAILED ' + ', '.join(hil.verdict['failed'])}"
    )
    print("gate  closed headless (s)  closed HIL (s)  difference (s)")
    diffs = []
    for g in sorted(set(base) | set(closed)):
        a, b = base.get(g), closed.get(g)
        d = None if a is None or b is None else b - a
        diffs.append(abs(d) if d is not None else float("inf"))
        fa = "-" if a is None else f"{a:.1f}"
        fb = "-" if b is None else f"{b:.1f}"
        print(f"{g:5s} {fa:>18}  {fb:>14}  {'-' if d is None else f'{d:+.1f}':>14}")
    print(f"largest difference: {max(diffs):.1f} s (goal: <= 10 s, one level-sensor sampling interval)")
    delays = []
    for line in (out / "messages.jsonl").read_text(encoding="utf-8").splitlines():
        m = json.loads(line)
        p = m["payload"]
        if m["topic"].endswith("/telemetry") and isinstance(p, dict) and "sim_time_s" in p:
            delays.append(m["sim_s"] - p["sim_time_s"])
    d = np.array(delays)
    print(
        f"telemetry delay (simulated s): p50 {np.percentile(d, 50):.1f}, p99 {np.percentile(d, 99):.1f}, "
        f"max {d.max():.1f} over {len(d)} messages; fleet clock lag at worst "
        f"{hil.verdict['hil']['max_clock_lag_s']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
