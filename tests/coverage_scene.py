"""Small hand-made datasets for the coverage tests: roads, buildings and cameras placed in local
metres around an origin in an empty field (EPSG:5186), written with the dataset writer so that
``load_city`` reads them as it reads any city. A scene can be rotated and translated whole."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box

from twin.city import load_city
from twin.geojson_io import write_dataset

X0, Y0 = 195_000.0, 560_000.0
CRS = "EPSG:5186"
SRC = {"source": "authored for tests", "licence": "CC0", "approximate": False}


@dataclass(frozen=True)
class Cam:
    """A camera in local metres: heading clockwise from north."""

    x: float
    y: float
    heading_deg: float
    fov_deg: float = 90.0
    resolution_px: int = 1920
    mount_height_m: float = 1.5  # at the target height: ground ranges = line-of-sight ranges
    ir_range_m: float | None = None
    ptz_sweep_deg: float | None = None
    ptz_period_s: float | None = None


@dataclass(frozen=True)
class Scene:
    """Roads (edge_id, [(x, y), ...], kind, width m), buildings (polygons) and cameras, local m;
    facilities (facility_id, kind, (x, y))."""

    roads: list[tuple[str, list[tuple[float, float]], str, float]]
    buildings: list[Polygon] = field(default_factory=list)
    cameras: list[Cam] = field(default_factory=list)
    facilities: list[tuple[str, str, tuple[float, float]]] = field(default_factory=list)

    def moved(self, angle_deg: float, dx: float, dy: float) -> Scene:
        """The whole scene rotated by ``angle_deg`` counter-clockwise about the origin, then shifted."""

        def pt(x: float, y: float) -> tuple[float, float]:
            a = math.radians(angle_deg)
            return (x * math.cos(a) - y * math.sin(a) + dx, x * math.sin(a) + y * math.cos(a) + dy)

        return Scene(
            roads=[(e, [pt(*p) for p in pts], k, w) for e, pts, k, w in self.roads],
            buildings=[
                affinity.translate(affinity.rotate(b, angle_deg, origin=(0, 0)), dx, dy) for b in self.buildings
            ],
            cameras=[
                replace(c, x=pt(c.x, c.y)[0], y=pt(c.x, c.y)[1], heading_deg=(c.heading_deg - angle_deg) % 360)
                for c in self.cameras
            ],  # fmt: skip
            facilities=[(f, k, pt(*p)) for f, k, p in self.facilities],
        )

    def write(self, folder: Path, *, manifest: dict | None = None) -> Path:
        """Write the scene as a dataset into ``folder`` and return it."""
        folder.mkdir(parents=True, exist_ok=True)
        shift = lambda g: affinity.translate(g, X0, Y0)  # noqa: E731
        roads = gpd.GeoDataFrame(
            {
                "edge_id": [r[0] for r in self.roads],
                "kind": [r[2] for r in self.roads],
                "width_m": [r[3] for r in self.roads],
                "name": [f"길 {r[0]}" for r in self.roads],
            },  # fmt: skip
            geometry=[shift(LineString(r[1])) for r in self.roads],
            crs=CRS,
        )
        xs = [p[0] for r in self.roads for p in r[1]] + [c.x for c in self.cameras]
        ys = [p[1] for r in self.roads for p in r[1]] + [c.y for c in self.cameras]
        area = shift(box(min(xs) - 50, min(ys) - 50, max(xs) + 50, max(ys) + 50))
        boundary = gpd.GeoDataFrame(
            {"city_code": ["T"], "name": ["test"], "name_en": ["test"]}, geometry=[area], crs=CRS
        )
        dongs = gpd.GeoDataFrame(
            {"dong_code": ["T-1"], "name": ["test"], "name_en": ["test"]}, geometry=[area], crs=CRS
        )
        buildings = gpd.GeoDataFrame(
            {
                "building_id": [f"B{i}" for i in range(len(self.buildings))],
                "year_built": [2000] * len(self.buildings),
                "storeys": [3] * len(self.buildings),
                "structure": ["reinforced_concrete"] * len(self.buildings),
                "use": ["residential"] * len(self.buildings),
            },  # fmt: skip
            geometry=[shift(b) for b in self.buildings],
            crs=CRS,
        )
        fac = gpd.GeoDataFrame(
            {
                "facility_id": [f[0] for f in self.facilities],
                "kind": [f[1] for f in self.facilities],
                "name": [f[0] for f in self.facilities],
                "name_en": [f[0] for f in self.facilities],
            },  # fmt: skip
            geometry=[shift(Point(f[2])) for f in self.facilities],
            crs=CRS,
        )
        devices = gpd.GeoDataFrame(
            [
                {
                    "device_id": f"CAM-{i}",
                    "kind": "cctv",
                    "name": f"카메라 {i}",
                    "mount_height_m": c.mount_height_m,
                    "heading_deg": c.heading_deg,
                    "fov_deg": c.fov_deg,
                    "resolution_px": c.resolution_px,
                    "ir_range_m": c.ir_range_m,
                    "ptz_sweep_deg": c.ptz_sweep_deg,
                    "ptz_period_s": c.ptz_period_s,
                }  # fmt: skip
                for i, c in enumerate(self.cameras)
            ],
            geometry=[shift(Point(c.x, c.y)) for c in self.cameras],
            crs=CRS,
        )
        layers = {"boundary": boundary, "dongs": dongs, "roads": roads, "facilities": fac, "buildings": buildings,
                  "devices": devices}  # fmt: skip
        extra = {"reference_year": 2026, **({"surveillance": manifest} if manifest else {})}
        write_dataset(folder, layers, name="coverage test", sources={k: SRC for k in layers}, extra_manifest=extra)
        return folder

    def city(self, folder: Path, **kw):
        return load_city(self.write(folder, **kw), cache=False)
