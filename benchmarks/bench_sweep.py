"""A sweep of 100 members on 1 and on 2 local workers, against bare runs of the same scenario.

    python benchmarks/bench_sweep.py [--runs 100] [--scenario scenarios/flash_flood_jungnangcheon.yaml]

Prints, in one run on this machine:

* the wall time of the sweep on 1 worker and on 2 workers (fresh folders, so every member runs;
  the disk cache of the city and the hydraulic state is warm, as after any first run), each with
  its start (cluster up, first record back) apart, and the speed-up (goal of issue 19: >= 1.8 on
  2 cores);
* the cost per member on 1 worker (wall time / runs) against two baselines: a bare ``twin run`` of
  one member (a new process: interpreter, imports, city, run, run folder) and ``run_scenario`` in a
  process that has the city loaded (the simulation alone); the overhead per member is the
  difference from the latter;
* the peak resident memory of each worker process (max RSS, from the workers' own records) and of
  this process.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
VARY = ("rainfall.total_mm=uniform(60, 150)", "rainfall.pattern=choice(huff_q2, huff_q3, huff_q4)")
GOAL_SPEEDUP = 1.8
BARE_REPEAT = 3


def _sweep(scenario: Path, runs: int, workers: int, out: Path) -> dict:
    from twin.ensemble.spec import SweepSpec, parse_vary
    from twin.ensemble.sweep import run_sweep

    spec = SweepSpec(scenario=scenario, parameters=parse_vary(list(VARY)), runs=runs, sampler="lhs", seed=2026)
    first: list[float] = []
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not first and done > 0:
            first.append(time.perf_counter() - t0)

    result = run_sweep(spec, out, workers=workers, progress=progress)
    wall = time.perf_counter() - t0
    timings = json.loads((out / "timings.json").read_text(encoding="utf-8"))["members"]
    rss: dict[str, int] = {}
    for t in timings:
        rss[str(t.get("worker"))] = max(rss.get(str(t.get("worker")), 0), int(t["max_rss_kb"]))
    return {
        "wall": wall,
        "first_batch": first[0] if first else float("nan"),
        "ran": result.ran,
        "failed": result.failed,
        "member_s": statistics.median(t["elapsed_s"] for t in timings),
        "rss_mb": {w: kb / 1024 for w, kb in sorted(rss.items())},
        "table": (out / "results.parquet").read_bytes(),
    }


def _bare_cli(scenario: Path) -> float:
    times = []
    for i in range(BARE_REPEAT):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            subprocess.run(
                [str(Path(sys.executable).parent / "twin"), "run", str(scenario), "--quiet", "--out", f"{tmp}/run",
                 "--set", f"rainfall.total_mm={100 + i}"],
                check=True, capture_output=True,
            )
            times.append(time.perf_counter() - t0)
    return min(times)


def _bare_in_process(scenario: Path) -> float:
    from twin.city import load_city
    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    s = load_scenario(scenario)
    city = load_city(s.dataset_path())
    run_scenario(s, city=city)  # warm: imports, caches
    times = []
    for i in range(BARE_REPEAT):
        s = load_scenario(scenario, overrides=[f"rainfall.total_mm={100 + i}"])
        t0 = time.perf_counter()
        run_scenario(s, city=city)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--scenario", type=Path, default=REPO / "scenarios" / "flash_flood_jungnangcheon.yaml")
    args = ap.parse_args()
    scenario = args.scenario.resolve()
    print(f"scenario {scenario.relative_to(REPO) if REPO in scenario.parents else scenario}, {args.runs} members, "
          f"varying {', '.join(VARY)}")
    cli = _bare_cli(scenario)
    inproc = _bare_in_process(scenario)
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        one = _sweep(scenario, args.runs, 1, Path(tmp) / "one")
        two = _sweep(scenario, args.runs, 2, Path(tmp) / "two")
    same = one["table"] == two["table"]
    speedup = one["wall"] / two["wall"]
    steady = (one["wall"] - one["first_batch"]) / (two["wall"] - two["first_batch"])
    per_member = one["wall"] / args.runs
    print()
    print(f"{'':34s}{'1 worker':>12s}{'2 workers':>12s}")
    print(f"{'sweep wall time (s)':34s}{one['wall']:12.1f}{two['wall']:12.1f}")
    print(f"{'  of which until the first batch (s)':34s}{one['first_batch']:12.1f}{two['first_batch']:12.1f}")
    print(f"{'members run / failed':34s}{one['ran']:>8d} / {one['failed']:<1d}{two['ran']:>8d} / {two['failed']:<1d}")
    print(f"{'median member on its worker (s)':34s}{one['member_s']:12.3f}{two['member_s']:12.3f}")
    print()
    verdict = "met" if speedup >= GOAL_SPEEDUP else "NOT met"
    print(f"speed-up on 2 workers: {speedup:.2f} (goal >= {GOAL_SPEEDUP}: {verdict}); "
          f"after the first batch: {steady:.2f}")
    print(f"identical results tables on 1 and 2 workers: {same}")
    print(f"per member on 1 worker: {per_member:.3f} s; bare `twin run` of one member: {cli:.2f} s "
          f"({cli / per_member:.1f} x the sweep's cost per member)")
    print(f"simulation alone (run_scenario, city loaded): {inproc:.3f} s; sweep overhead per member: "
          f"{per_member - inproc:+.3f} s ({(per_member - inproc) / inproc:+.0%})")
    for label, r in (("1 worker", one), ("2 workers", two)):
        mem = ", ".join(f"{mb:.0f} MB" for mb in r["rss_mb"].values())
        print(f"peak memory per worker ({label}): {mem}")
    print(f"peak memory of this process (client, baselines): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
