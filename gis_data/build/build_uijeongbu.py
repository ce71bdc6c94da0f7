"""Build the default Uijeongbu dataset (gis_data/uijeongbu/) from ../shared/reference-data.

    python gis_data/build/build_uijeongbu.py [--reference DIR] [--out DIR]

Deterministic: the same reference data and library versions give the same files, byte for
byte (fixed seeds, sorted inputs, fixed coordinate precision). What is real and what is
authored is recorded per layer in manifest.json and per feature in ``approximate`` and
``position_source``/``source`` attributes; see gis_data/uijeongbu/README.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from buildings import build_buildings  # noqa: E402
from devices import build_devices, build_slopes  # noqa: E402
from facilities import build_facilities  # noqa: E402
from reference import load_reference  # noqa: E402
from roads import WIDTH, build_roads  # noqa: E402
from streams import build_streams  # noqa: E402

from twin.atomic import atomic_dir  # noqa: E402
from twin.geojson_io import write_dataset  # noqa: E402

SEED = 20261125
REFERENCE_YEAR = 2026
KOGL = (
    "KOGL Type 1 (공공누리 제1유형, attribution) as published; "
    "republished via GitHub repositories without a licence of their own"
)


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, sum(ord(c) * (i + 1) for i, c in enumerate(name))])


def _connect_points(roads: gpd.GeoDataFrame, points: gpd.GeoDataFrame, channels, id_col: str) -> list[dict]:
    """Sidewalk connectors from each point to the nearest street node that does not cross a channel."""
    street = roads[roads["kind"].isin(["road", "bridge", "sidewalk"])]
    ends = np.array(
        sorted({tuple(np.round(c, 3)) for g in street.geometry.values for c in (g.coords[0], g.coords[-1])})
    )
    tree = cKDTree(ends)
    out = []
    for fid, p in zip(points[id_col], points.geometry.values, strict=True):
        d, idx = tree.query((p.x, p.y), k=16)
        for dd, ii in zip(d, idx, strict=True):
            if dd < 0.5:
                break
            line = LineString([(p.x, p.y), tuple(ends[ii])])
            if line.intersects(channels):
                continue
            long = line.length > 150  # a lane up to an outlying facility rather than a footpath
            out.append(
                dict(
                    kind="road" if long else "sidewalk",
                    cls="access_road" if long else "connector",
                    name=None,
                    connects=fid,
                    geometry=line,
                )
            )
            break
    return out


def build(reference: Path, out: Path) -> dict:
    ref = load_reference(reference)
    city_poly = shapely.union_all(ref.city.geometry.values)
    streams, reaches = build_streams(ref)
    roads, access, helpers = build_roads(ref, streams, city_poly, _rng("roads"))
    facilities = build_facilities(ref)
    roads = gpd.GeoDataFrame(
        list(roads.to_dict("records")) + _connect_points(roads, facilities, helpers["channels"], "facility_id"),
        geometry="geometry",
        crs="EPSG:5186",
    )
    roads["width_m"] = [WIDTH.get(c, WIDTH["main"]) for c in roads["cls"]]
    roads["road_class"] = roads["cls"]
    roads["approximate"] = True
    roads["edge_id"] = [f"E{i + 1:05d}" for i in range(len(roads))]
    buildings = build_buildings(ref, roads, helpers["channels"], helpers["area"], ref.dongs, _rng("buildings"))
    buildings = buildings.reset_index(drop=True)
    buildings["building_id"] = [f"B{i + 1:05d}" for i in range(len(buildings))]
    buildings["approximate"] = True
    slopes = build_slopes(helpers["area"], city_poly, helpers["channels"], ref.dongs, _rng("slopes"))
    devices = build_devices(ref, streams, reaches, roads, access, facilities, buildings, slopes, _rng("devices"))

    boundary = ref.city.assign(
        city_code="41150",
        name="의정부시",
        name_en="Uijeongbu-si",
        kostat_code=ref.city["code"],
        area_km2=(ref.city.area / 1e6).round(3),
    )
    dongs = ref.dongs.assign(
        dong_code=ref.dongs["code"], name_en=ref.dongs["name_eng"], area_km2=(ref.dongs.area / 1e6).round(3)
    ).sort_values("dong_code")

    roads = roads.drop(columns=["cls"])
    layers = {
        "boundary": boundary,
        "dongs": dongs,
        "streams": reaches,
        "roads": roads,
        "access_points": access,
        "buildings": buildings,
        "facilities": facilities,
        "slopes": slopes,
        "devices": devices,
    }
    return write_dataset(
        out,
        layers,
        name="Uijeongbu (의정부시) default dataset",
        sources=SOURCES,
        extra_manifest={
            "reference_year": REFERENCE_YEAR,
            "generated_by": "gis_data/build/build_uijeongbu.py",
            "seed": SEED,
        },
    )


_SRC = "../shared/reference-data/"
SOURCES = {
    "boundary": (
        f"{_SRC}kostat-southkorea-maps (통계청 SGIS 2018 센서스용 행정구역경계)",
        "KOGL Type 1; 출처: 통계청 SGIS, 2018 센서스용 행정구역경계",
        False,
        "City boundary, KOSTAT 2018 polygon (planar area about 82.0 km2).",
    ),
    "dongs": (
        f"{_SRC}kostat-southkorea-maps",
        "KOGL Type 1; 출처: 통계청 SGIS",
        False,
        "14 administrative dongs of the 2018 boundaries (송산3동 split later is not reflected).",
    ),
    "streams": (
        f"{_SRC}ngii-streams-traced (NGII 국가기본도 하천, hand-traced centrelines)",
        "NGII public-sector data; verify before redistribution",
        True,
        "Centrelines real (20-60 m); reaches, channel width, bank height, bed elevations and Manning n "
        "are approximate, authored by gis_data/build/streams.py.",
    ),
    "roads": (
        f"{_SRC}gyeonggi-bus-stops (GBIS) and road-address-points; geometry authored",
        KOGL + "; generated geometry CC0",
        True,
        "Main roads traced by a Gabriel graph over merged bus stops, names from road-address points; "
        "local streets, riverside paths, ramps/stairs and connectors generated (gis_data/build/roads.py).",
    ),
    "access_points": (
        "authored (gis_data/build/roads.py)",
        "CC0",
        True,
        "Ramps and stairs down to the riverside paths every ~450 m; path elevation approximate.",
    ),
    "buildings": (
        "generated (gis_data/build/buildings.py); school years from schools-location",
        "CC0",
        True,
        "Plausible footprints, years, storeys, structures; not real buildings.",
    ),
    "facilities": (
        f"{_SRC}schools-location, child-protection-zones, civil-defense-shelters, uijeongbu-lrt; "
        "a few public buildings placed approximately",
        KOGL,
        False,
        "Schools, zones, shelters and U-Line stations at real positions; features with "
        "approximate=true (line-1 stations, police, fire, hospitals, welfare and health centres) "
        "are not.",
    ),
    "slopes": (
        "authored (gis_data/build/devices.py)",
        "CC0",
        True,
        "Steep-slope zones at the edge of the developed area; not the official 급경사지 register.",
    ),
    "devices": (
        f"{_SRC}wamis-stations (gauges), child-protection-zones (CCTV counts); rest authored",
        KOGL + "; authored devices CC0",
        True,
        "WAMIS gauges real; thresholds unverified; gates, signboards, camera poses, structural "
        "sensors and crosswalks authored.",
    ),
}

_SRC = "../shared/reference-data/"
SOURCES = {
    name: {"source": s, "licence": lic, "approximate": approx, "description": desc}
    for name, (s, lic, approx, desc) in SOURCES.items()
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=HERE.parents[2] / "shared" / "reference-data")
    ap.add_argument("--out", type=Path, default=HERE.parent / "uijeongbu")
    args = ap.parse_args(argv)
    if not args.reference.is_dir():
        print(f"reference data not found at {args.reference} (pass --reference DIR)", file=sys.stderr)
        return 2
    # build beside the target and swap the whole directory in: a crash leaves the old dataset
    with atomic_dir(args.out, overwrite=True, marker="manifest.json") as tmp:
        manifest = build(args.reference, tmp)
        readme = args.out / "README.md"  # hand-written credits live with the data
        if readme.is_file():
            shutil.copy2(readme, tmp / "README.md")
    for name, entry in manifest["layers"].items():
        print(f"{name:14s} {entry['features']:6d} features{'  (approximate)' if entry['approximate'] else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
