"""A 6-hour flash flood on the default dataset: the engine-driven run against SWMM alone.

    python benchmarks/bench_flood.py [--repeat N]

Prints, best of N:
* setup: load the city, delineate catchments, write model.inp (GIS work, once per scenario);
* run: the engine stepping SWMM every sample interval, reading stage at every gauge and access
  point, checking thresholds, recording (what `twin run` does after setup);
* SWMM alone: pyswmm running the same model.inp with the same stride and nothing else;
* whole run: everything `twin run` does (load, setup, run, write the run folder), once with an
  empty cache (cold: the GIS data validated, the catchments delineated) and then with the cache
  of twin.cache warm (what every further run of the same data pays);
* the ratios run / SWMM alone and whole run / SWMM alone (goal <= 2), and simulated time / wall
  time (goal >= 5,000).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from twin.city import load_city
from twin.engine import Engine
from twin.hydraulics.swmm_run import run_standalone
from twin.models.flood import FloodModel, build_flood_model, rain_gauges
from twin.models.rain_field import rain_field
from twin.runner import run_scenario
from twin.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "flash_flood_jungnangcheon.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    s = load_scenario(SCENARIO, overrides=["duration=6h"])
    os.environ["TWIN_CACHE_DIR"] = tempfile.mkdtemp(prefix="twin-bench-cache-")  # start cold
    t0 = time.perf_counter()
    run_scenario(s, out=Path(os.environ["TWIN_CACHE_DIR"]) / "cold-run")
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    city = load_city(s.dataset_path())
    rain = rain_field(s.rainfall, rain_gauges(city))
    setup = build_flood_model(city, rain, start=s.start, duration_s=s.duration_s, hydraulics=s.hydraulics)
    t_setup = time.perf_counter() - t0
    step = s.hydraulics.sample_interval
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "model.inp"
        inp.write_text(setup.inp_text, encoding="utf-8")
        junctions = sorted({w.junction for w in setup.watches.values()})
        best_run = best_alone = float("inf")
        for _ in range(args.repeat):
            engine = Engine(start=s.start, duration_s=s.duration_s, seed=s.seed)
            model = FloodModel(engine, setup, inp, sample_s=step)
            model.processes()
            t0 = time.perf_counter()
            engine.run()
            best_run = min(best_run, time.perf_counter() - t0)
            t0 = time.perf_counter()
            run_standalone(inp, watch=junctions, step_s=step, start=s.start)
            best_alone = min(best_alone, time.perf_counter() - t0)
        best_whole = float("inf")
        for k in range(args.repeat):
            t0 = time.perf_counter()
            run_scenario(s, out=Path(tmp) / f"run{k}")
            best_whole = min(best_whole, time.perf_counter() - t0)
    net = setup.network
    print(
        f"model              {len(net.junctions)} junctions, {len(net.conduits)} conduits, "
        f"{len(setup.subcatchments)} subcatchments, {len(setup.watches)} watched places"
    )
    print(
        f"simulated          {s.duration_s / 3600:.0f} h, stage sampled every {step:g} s, "
        f"SWMM routing step {s.hydraulics.routing_step_s:g} s ({s.hydraulics.routing} wave)"
    )
    print(f"setup, warm        {t_setup:8.3f} s  (load city, catchments, model.inp)")
    print(f"run                {best_run:8.3f} s  (engine + SWMM + stage, thresholds, recording)")
    print(f"SWMM alone         {best_alone:8.3f} s  (pyswmm on the same model.inp, same stride)")
    print(f"whole run, cold    {t_cold:8.3f} s  (empty cache: validate the GIS data, delineate catchments)")
    print(f"whole run, warm    {best_whole:8.3f} s  (twin run: load, setup, run, write the run folder)")
    print(f"run / SWMM alone   {best_run / best_alone:8.2f} x   (goal <= 2)")
    print(f"whole / SWMM alone {best_whole / best_alone:8.2f} x warm, {t_cold / best_alone:.2f} x cold   (goal <= 2)")
    print(
        f"speed              {s.duration_s / best_run:8.0f} x real time for the run, "
        f"{s.duration_s / best_whole:.0f} x for the whole run (goal >= 5000)"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        if "twin-bench-cache-" in os.environ.get("TWIN_CACHE_DIR", ""):
            shutil.rmtree(os.environ["TWIN_CACHE_DIR"], ignore_errors=True)
