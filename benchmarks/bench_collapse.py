"""Collapse signals at city scale: 1,000 monitored sites through a 24-hour storm.

    python benchmarks/bench_collapse.py [--sites 1000] [--fleet-hours 24]

Prints (issue 17's goals):

1. for ``--sites`` monitored sites (the shipped dataset's 24 slopes and 40 buildings, repeated
   with their soils and settlement varied, so that about a third of the slopes fail), through
   the first 24 h of the shipped August-2022-like storm with the reference early warning in
   process: the time to compute the sites' truth, and the wall time per simulated hour of the
   readings and the alarm logic; beside it, measured in the same run, the same for the shipped
   64 sites (the baseline), so the cost per site can be compared;
2. the uplink rate the device fleet sustains through mosquitto at ``--speed max`` (messages per
   wall second) over ``--fleet-hours``, with the simulated-time speed-up it reached and how many
   uplinks were delivered: first for the shipped dataset's 138 structural sensors (the baseline),
   then with replicas of them (``--replicas``: copies that send the true value of the sensor they
   copy through their own noise) up to as many sensors as ``--sites`` sites would have (138 per
   64 sites). A fleet at ``--speed max`` waits for its readings' delivery only for the dataset's
   own sensors, so the replicas' rate is what the broker and the fleet's loop sustain.

The repeated sites are built in memory (``monitored_sites`` is replaced for the run): nothing
about the city or the sensors' protocol changes, only how many sites there are.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from twin.city import load_city
from twin.control.collapse_policy import load_collapse_policy
from twin.engine import Engine
from twin.models import collapse as collapse_mod
from twin.models.flood import rain_gauges
from twin.models.monitored_sites import SiteSensor, monitored_sites
from twin.models.rain_field import rain_field
from twin.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "collapse" / "slope_failure_august_2022.yaml"
HOURS = 24.0


def _sites(city, spec, n: int):
    """``n`` sites: the shipped ones, then copies with their soil cohesion or settlement varied."""
    base = monitored_sites(city, spec)
    out = list(base)
    k = 0
    while len(out) < n:
        s = base[k % len(base)]
        copy = len(out) // len(base)
        sid = f"{s.site_id}-X{copy:03d}"
        sensors = tuple(SiteSensor(f"{x.device_id}-X{copy:03d}", x.kind, x.dataset_kind) for x in s.sensors)
        if s.soil is not None:
            soil = replace(s.soil, cohesion_kpa=s.soil.cohesion_kpa * (0.9 + 0.2 * ((copy * 7919) % 11) / 10))
            out.append(replace(s, site_id=sid, sensors=sensors, soil=soil))
        else:
            assert s.settlement is not None
            rate = 0.5 * ((copy * 31) % 5)  # mm/day, 0 to 2
            out.append(replace(s, site_id=sid, sensors=sensors, settlement=replace(s.settlement, rate_mm_day=rate)))
        k += 1
    return out[:n]


def model_run(city, scenario, n: int) -> dict[str, float]:
    """Build and run the collapse model for ``n`` sites over HOURS; times in wall seconds."""
    spec = scenario.collapse
    policy = load_collapse_policy(scenario.resolve_path(spec.policy))
    gauges = rain_gauges(city)
    xy = {str(g): (float(p.x), float(p.y)) for g, p in zip(gauges["device_id"], gauges.geometry, strict=True)}
    rain = rain_field(scenario.rainfall, gauges, csv_path=scenario.resolve_path(scenario.rainfall.csv),
                      start=scenario.start)  # fmt: skip
    sites = _sites(city, spec, n)
    original = collapse_mod.monitored_sites
    collapse_mod.monitored_sites = lambda city, spec=None: sites  # type: ignore[assignment]
    try:
        engine = Engine(start=scenario.start, duration_s=HOURS * 3600.0, seed=scenario.seed)
        t0 = time.perf_counter()
        model = collapse_mod.CollapseModel(engine, city, scenario, rain, gauge_xy=xy, policy=policy, crowd=None)
        build = time.perf_counter() - t0
        model.processes()
        t0 = time.perf_counter()
        engine.run()
        run = time.perf_counter() - t0
    finally:
        collapse_mod.monitored_sites = original
    out = model.summary()
    readings = sum(len(t) for t in model.reading_times.values())
    return {
        "sites": len(sites),
        "build_s": build,
        "run_s": run,
        "per_hour_s": run / HOURS,
        "readings": readings,
        "failed": out["failed"],
        "evacuated_in_time": out["evacuated_in_time"],
        "false_evacuations": out["false_evacuations"],
    }


class _Listener:
    """Counts the uplinks that come through the broker to an outside subscriber (the operator's
    mosquitto_sub, in its own process: the fleet's own process has more sockets than select() takes)."""

    def __init__(self, folder: Path) -> None:
        self.out = folder / "heard.txt"
        self.proc: subprocess.Popen | None = None

    def start(self, manifest: Path) -> None:
        m = json.loads(manifest.read_text())
        op = json.loads((manifest.parent / "credentials.json").read_text())["operator"]
        cmd = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(m["broker"]["port"]), "-u", op["username"],
               "-P", op["password"], "-t", "application/+/device/+/event/up", "-q", "1"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=open(self.out, "wb"), stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # subscribed before the first uplink

    def stop(self) -> int:
        """The uplinks heard (one JSON object a line)."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
        return sum(1 for _ in self.out.open("rb")) if self.out.exists() else 0


def fleet_rate(city, scenario, hours: float, replicas: int = 0) -> dict[str, float]:
    from sim_devices.fleet import Fleet

    with tempfile.TemporaryDirectory() as tmp:
        listener = _Listener(Path(tmp))
        f = Fleet(scenario, city=city, speed=math.inf, workdir=Path(tmp) / "fleet", replicas=replicas,
                  kinds=("tilt_sensor", "crack_sensor", "extensometer"), broker_url="mosquitto")  # fmt: skip
        sensors = len(f.devices)
        t0 = time.perf_counter()
        result = asyncio.run(f.serve(until_s=hours * 3600.0, on_ready=listener.start, hold_s=2.0))
        setup = time.perf_counter() - t0
        time.sleep(1.0)  # the last uplinks reach the listener
        received = listener.stop()
    # the run itself, from the speed the clock sustained (without the broker's start and the devices' connections)
    wall = hours * 3600.0 / result["timing"]["effective_speed"]
    return {
        "sensors": sensors,
        "wall_s": wall,
        "messages": result["messages"],
        "received": received,
        "speedup": hours * 3600.0 / wall,
        "setup_s": setup - wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--fleet-hours", type=float, default=24.0)
    args = ap.parse_args()
    city = load_city()
    scenario = load_scenario(SCENARIO)
    base = model_run(city, scenario, len(monitored_sites(city, scenario.collapse)))
    big = model_run(city, scenario, args.sites)
    for label, r in (("baseline: the shipped sites", base), (f"{args.sites} sites", big)):
        print(
            f"{label:28s} {r['sites']:5.0f} sites, {r['readings']:7.0f} readings: truth {r['build_s']:6.2f} s, "
            f"run {r['run_s']:6.2f} s = {r['per_hour_s'] * 1000:7.1f} ms per simulated hour "
            f"({r['run_s'] / r['readings'] * 1e6:5.1f} us a reading); failed {r['failed']:.0f}, evacuated in time "
            f"{r['evacuated_in_time']:.0f}, false evacuations {r['false_evacuations']:.0f}"
        )
    scale = (big["run_s"] / big["sites"]) / (base["run_s"] / base["sites"])
    print(f"cost per site, {args.sites} sites against the baseline: x{scale:.2f} (1.0 = linear)")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.fleet_hours > 0:
        shipped = fleet_rate(city, scenario, args.fleet_hours)
        want = round(shipped["sensors"] * args.sites / base["sites"])
        scaled = fleet_rate(city, scenario, args.fleet_hours, replicas=max(0, want - int(shipped["sensors"])))
        for label, f in (("baseline: the shipped sensors", shipped), (f"sensors of {args.sites} sites", scaled)):
            print(
                f"fleet, {label:30s} {f['sensors']:5.0f} sensors, mosquitto, --speed max: {args.fleet_hours:g} h "
                f"in {f['wall_s']:6.1f} s wall ({f['speedup']:5.0f}x; start and stop {f['setup_s']:4.1f} s more), "
                f"{f['messages']:7.0f} uplinks "
                f"= {f['messages'] / f['wall_s']:5.0f} per wall s; an outside subscriber received "
                f"{f['received']:.0f} ({100 * f['received'] / max(f['messages'], 1):.1f} %)"
            )
        print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
