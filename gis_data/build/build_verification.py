"""Build the simple verification geometries in gis_data/verification/ (corridor, bottleneck,
room with two exits): datasets `load_city` accepts, on which scenarios check the crowd model
against known answers (docs/crowd.md). Placed in an empty field west of Uijeongbu; EPSG:5186.

    twin gis build-verification --out gis_data/verification
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, Point, box

from twin.atomic import atomic_dir
from twin.geojson_io import write_dataset

X0, Y0 = 195_000.0, 560_000.0  # EPSG:5186, metres
CRS = "EPSG:5186"
SRC = {
    "source": "authored geometry for verification (gis_data/build/build_verification.py)",
    "licence": "CC0",
    "approximate": False,
}


def _write(root: Path, name: str, edges: list[tuple[str, tuple, tuple, float, str]], facilities: list[tuple]) -> None:
    roads = gpd.GeoDataFrame(
        {
            "edge_id": [e[0] for e in edges],
            "kind": [e[4] for e in edges],
            "width_m": [e[3] for e in edges],
            "name": [None] * len(edges),
        },
        geometry=[LineString([(X0 + e[1][0], Y0 + e[1][1]), (X0 + e[2][0], Y0 + e[2][1])]) for e in edges],
        crs=CRS,
    )
    xs = [c for e in edges for c in (e[1][0], e[2][0])]
    ys = [c for e in edges for c in (e[1][1], e[2][1])]
    area = box(X0 + min(xs) - 20, Y0 + min(ys) - 20, X0 + max(xs) + 20, Y0 + max(ys) + 20)
    boundary = gpd.GeoDataFrame(
        {"city_code": ["V-" + name], "name": [name], "name_en": [name]}, geometry=[area], crs=CRS
    )
    dongs = gpd.GeoDataFrame(
        {"dong_code": ["V-" + name + "-1"], "name": [name], "name_en": [name]}, geometry=[area], crs=CRS
    )
    fac = gpd.GeoDataFrame(
        {
            "facility_id": [f[0] for f in facilities],
            "kind": [f[1] for f in facilities],
            "name": [f[0] for f in facilities],
            "name_en": [f[0] for f in facilities],
        },
        geometry=[Point(X0 + f[2][0], Y0 + f[2][1]) for f in facilities],
        crs=CRS,
    )
    out = root / name
    with atomic_dir(out, overwrite=True) as tmp:
        write_dataset(
            tmp,
            {"boundary": boundary, "dongs": dongs, "roads": roads, "facilities": fac},
            name=f"verification: {name}",
            sources={k: SRC for k in ("boundary", "dongs", "roads", "facilities")},
            extra_manifest={"reference_year": 2026},
        )


def build_verification(out: Path) -> list[str]:
    """Write the verification datasets into folders of ``out`` (each replaced whole); return their
    names."""
    out = Path(out)
    # a 40 m corridor, 3 m wide
    _write(
        out,
        "corridor",
        [("c1", (0, 0), (40, 0), 3.0, "sidewalk")],
        [("F-START", "other", (0, 0)), ("F-END", "other", (40, 0))],
    )
    # 30 m x 3 m, a 1 m door 1 m deep, 30 m x 3 m
    _write(
        out,
        "bottleneck",
        [
            ("in", (0, 0), (30, 0), 3.0, "sidewalk"),
            ("door", (30, 0), (31, 0), 1.0, "sidewalk"),
            ("out", (31, 0), (61, 0), 3.0, "sidewalk"),
        ],
        [("F-START", "other", (0, 0)), ("F-EXIT", "shelter", (61, 0))],
    )
    # a 20 m x 20 m room as a 5 m lattice of 5 m wide links, two 1 m doors to 10 m corridors outside
    edges = []
    for i in range(5):
        for j in range(5):
            if i < 4:
                edges.append((f"r{i}{j}h", (5 * i, 5 * j), (5 * i + 5, 5 * j), 5.0, "sidewalk"))
            if j < 4:
                edges.append((f"r{i}{j}v", (5 * i, 5 * j), (5 * i, 5 * j + 5), 5.0, "sidewalk"))
    edges += [
        ("doorW", (0, 10), (-1, 10), 1.0, "sidewalk"),
        ("outW", (-1, 10), (-11, 10), 2.0, "sidewalk"),
        ("doorE", (20, 10), (21, 10), 1.0, "sidewalk"),
        ("outE", (21, 10), (31, 10), 2.0, "sidewalk"),
    ]
    _write(
        out,
        "room",
        edges,
        [("F-ROOM", "other", (10, 10)), ("F-EXIT-W", "shelter", (-11, 10)), ("F-EXIT-E", "shelter", (31, 10))],
    )
    return ["corridor", "bottleneck", "room"]
