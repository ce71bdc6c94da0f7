"""Load time of the default dataset, against a bare geopandas read of the same files.

    python benchmarks/bench_city.py [--data DIR] [--repeat N]

Prints the best-of-N wall time of ``load_city`` (read + validate + reproject to EPSG:5186 +
walk graph) and of ``geopandas.read_file`` on every layer file (no validation, no reprojection,
no graph), measured in the same run, and their ratio. The ratio, not the seconds, is what to
compare between machines.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import geopandas as gpd

from twin.city import default_dataset_path, load_city


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    path = args.data or default_dataset_path()
    if not (path / "manifest.json").is_file():
        raise SystemExit(f"error: {path} is not a dataset directory (no manifest.json)")
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    files = [path / e["file"] for e in manifest["layers"].values()]

    def bare() -> None:
        for f in files:
            gpd.read_file(f, engine="pyogrio")

    bare()  # warm the OS file cache for both
    t_bare = best_of(bare, args.repeat)
    t_load = best_of(lambda: load_city(path), args.repeat)
    city = load_city(path)
    n_features = sum(len(g) for g in city.layers.values())
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"dataset            {path}  ({n_features} features, {size_mb:.1f} MB GeoJSON)")
    print(f"geopandas read     {t_bare * 1000:8.0f} ms  (baseline: read_file of every layer)")
    print(f"load_city          {t_load * 1000:8.0f} ms  (read + validate + EPSG:5186 + walk graph)")
    print(f"ratio              {t_load / t_bare:8.2f} x baseline")
    print(f"peak RSS           {peak_mb:8.0f} MB")


if __name__ == "__main__":
    main()
