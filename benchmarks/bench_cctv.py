"""CCTV coverage of the default Uijeongbu dataset: viewsheds, metrics and camera placement.

    python benchmarks/bench_cctv.py [--add 10]

Prints (issue 16's goals):

1. the time to compute every camera's occluded view (day and night) and all the coverage
   metrics and blind spots, cache off (goal: under 30 s on this machine), with, measured in the
   same run, the time of the exact angular-sweep isovists alone against a plain 360-ray cast of
   the same cameras (the baseline it replaces);
2. for placing ``--add`` cameras among the candidate poses of ``twin coverage`` (poles every
   40 m along the riverside paths, access points and 행복로, building corners, smart poles; 8
   headings: over 1,000 poses), the greedy and integer-program times, the integer program's status
   and the coverage gap between them (goal: the integer program proves its optimum in under 60 s).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ["TWIN_CACHE_DIR"] = ""  # measure the work, not the cache

from twin.city import load_city  # noqa: E402
from twin.coverage.assess import CoverageOptions, assess  # noqa: E402
from twin.coverage.views import cameras_of_city, occluders_of_city  # noqa: E402
from twin.models.isovist import isovist, ray_isovist  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--add", type=int, default=10, help="cameras to place (default 10)")
    args = ap.parse_args()
    city = load_city()

    t0 = time.perf_counter()
    a = assess(city, CoverageOptions())
    whole = time.perf_counter() - t0
    specs = cameras_of_city(city)
    occ = occluders_of_city(city)
    reach = [s.ground_ranges_m()["detection"] for s in specs]
    t0 = time.perf_counter()
    for s, r in zip(specs, reach, strict=True):
        isovist(s.x, s.y, occ, heading_deg=s.heading_deg, fov_deg=s.tour_fov_deg, range_m=r)
    sweep = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s, r in zip(specs, reach, strict=True):
        ray_isovist(s.x, s.y, occ, heading_deg=s.heading_deg, fov_deg=s.tour_fov_deg, range_m=r, n_rays=360)
    rays = time.perf_counter() - t0
    print(f"cameras: {len(specs)}; walk network: {a.demand.length_m.sum() / 1000:.0f} km in {len(a.demand):,} samples")
    print(f"views (day and night) + metrics + blind spots: {whole:.1f} s (goal < 30 s): "
          f"{'met' if whole < 30 else 'NOT met'}")  # fmt: skip
    print(f"  isovists alone: exact sweep {sweep * 1000 / len(specs):.1f} ms per camera, "
          f"360-ray cast {rays * 1000 / len(specs):.1f} ms (baseline, same run): {sweep / rays:.2f} x")  # fmt: skip

    t0 = time.perf_counter()
    p = assess(city, CoverageOptions(add=args.add)).placement
    total = time.perf_counter() - t0
    assert p is not None
    g, e = p["greedy"], p["exact"]
    gap = (e["covered_weight"] - g["covered_weight"]) / e["covered_weight"] if e["covered_weight"] else 0.0
    print(f"placing {args.add} cameras among {p['poses']:,} candidate poses ({p['sites']}, {p['headings']} headings),"
          f" {p['demand_samples']:,} demand samples:")  # fmt: skip
    print(f"  greedy {g['solve_s']:.2f} s, share {g['share']:.2%}; integer program {e['solve_s']:.2f} s, "
          f"{e['status']}, share {e['share']:.2%}, solver gap {e['gap'] or 0:.2%}")  # fmt: skip
    print(f"  greedy below the optimum by {gap:.2%}; whole placement run {total:.1f} s; "
          f"goal (optimal in < 60 s): {'met' if e['status'] == 'optimal' and e['solve_s'] < 60 else 'NOT met'}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
