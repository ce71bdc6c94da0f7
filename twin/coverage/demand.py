"""The walk network as the cameras must see it: points sampled along every road link, each with
the length and the walkable area it stands for and the coverage zones it lies in.

Coverage is measured on these samples: a link of length L is cut into n = ceil(L / step) equal
pieces and each piece is represented by its midpoint, carrying L/n m of length and L/n · width m²
of area. A share of length seen is then exact to within one piece per place where the view's edge
crosses the link (step 2 m by default). Coordinates EPSG:5186 m.

Zones (:data:`twin.surveillance.ZONES`, the reaches from the manifest's ``surveillance``):

* ``access_points``: the ramps and stairs down to a riverside path, and the network within
  ``access_zone_m`` of an access point (what a gate camera must watch);
* ``riverside_path``: links of kind ``riverside_path``;
* ``school_zone``: within ``school_zone_m`` of a school (straight-line distance from the school's
  point; the law measures from the main gate, which the dataset does not have);
* ``child_protection_zone``: within ``protection_zone_m`` of a children's protection zone point;
* ``street``: within ``corridor_m`` of a watched street's centre line (행복로);
* ``rest``: everything else.

A sample may lie in several zones; each zone's metrics count it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from ..city import CityModel
from ..dataset_schema import ACCESS_KINDS
from ..surveillance import ZONES

DEFAULT_STEP_M = 2.0
"""Spacing of the samples along a link, m."""


@dataclass(frozen=True)
class Demand:
    """Samples of the walk network (one row each, EPSG:5186 m): position ``x``, ``y``; the length
    (m) and walkable area (m²) each stands for; ``link``, the row of :attr:`links` it lies on;
    ``zones``, a bool matrix (sample × :data:`~twin.surveillance.ZONES`). ``links`` holds the
    road links (``edge_id``, ``name``, ``kind``, ``width_m``, geometry) with ``first`` and
    ``count``, their samples' range."""

    x: np.ndarray
    y: np.ndarray
    length_m: np.ndarray
    area_m2: np.ndarray
    link: np.ndarray
    zones: np.ndarray
    links: gpd.GeoDataFrame
    step_m: float

    def __len__(self) -> int:
        return len(self.x)

    def in_zone(self, zone: str) -> np.ndarray:
        """Which samples lie in ``zone`` (bool)."""
        return self.zones[:, ZONES.index(zone)]

    def offsets_m(self) -> np.ndarray:
        """Each sample's distance along its link from the link's start, m."""
        first = self.links["first"].to_numpy()[self.link]
        k = np.arange(len(self)) - first
        return (k + 0.5) * self.length_m


def sample_walk_network(city: CityModel, *, step_m: float = DEFAULT_STEP_M) -> Demand:
    """Sample every road link of ``city`` every ``step_m`` m (> 0) and mark the zones of each sample."""
    if not step_m > 0 or not math.isfinite(step_m):
        raise ValueError(f"step_m: got {step_m!r}: expected a distance in m > 0")
    roads = city.layer("roads")
    roads = roads[roads.geometry.notna() & ~roads.geometry.is_empty].sort_values("edge_id", kind="stable")
    geoms = roads.geometry.to_numpy()
    lengths = shapely.length(geoms)
    counts = np.maximum(1, np.ceil(lengths / step_m).astype(np.int64))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    link = np.repeat(np.arange(len(roads)), counts)
    k = np.arange(len(link)) - first[link]
    piece = lengths[link] / counts[link]
    pts = shapely.line_interpolate_point(geoms[link], (k + 0.5) * piece)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    width = pd.to_numeric(roads.get("width_m"), errors="coerce").fillna(2.0).to_numpy()
    links = gpd.GeoDataFrame(
        {
            "edge_id": roads["edge_id"].to_numpy(),
            "name": roads.get("name", pd.Series(None, index=roads.index)).to_numpy(),
            "kind": roads["kind"].to_numpy(),
            "road_class": roads.get("road_class", pd.Series(None, index=roads.index)).to_numpy(),
            "width_m": width,
            "first": first,
            "count": counts,
        },
        geometry=geoms,
        crs=roads.crs,
    )
    zones = _zones(city, roads, link, x, y)
    return Demand(x, y, piece, piece * width[link], link, zones, links, float(step_m))


def _zones(city: CityModel, roads: gpd.GeoDataFrame, link: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    watch = city.surveillance
    xy = np.column_stack([x, y])
    kind = roads["kind"].to_numpy()[link]
    out = np.zeros((len(x), len(ZONES)), dtype=bool)
    access = city.layer("access_points")
    out[:, ZONES.index("access_points")] = np.isin(kind, ACCESS_KINDS) | _near(xy, access, watch.access_zone_m)
    out[:, ZONES.index("riverside_path")] = kind == "riverside_path"
    out[:, ZONES.index("school_zone")] = _near(xy, city.facilities_of_kind("school"), watch.school_zone_m)
    out[:, ZONES.index("child_protection_zone")] = _near(
        xy, city.facilities_of_kind("child_protection_zone"), watch.protection_zone_m
    )
    street = np.zeros(len(x), dtype=bool)
    to_grid = Transformer.from_crs("EPSG:4326", city.crs, always_xy=True)
    for s in watch.streets:
        line = shapely.LineString([to_grid.transform(lon, lat) for lon, lat in s.line])
        street |= shapely.dwithin(line, shapely.points(x, y), s.corridor_m)
    out[:, ZONES.index("street")] = street
    out[:, ZONES.index("rest")] = ~out[:, : ZONES.index("rest")].any(axis=1)
    return out


def _near(xy: np.ndarray, points: gpd.GeoDataFrame, reach_m: float) -> np.ndarray:
    """Which of ``xy`` lie within ``reach_m`` of any of ``points`` (their representative points)."""
    if points.empty:
        return np.zeros(len(xy), dtype=bool)
    reps = shapely.point_on_surface(points.geometry.to_numpy())
    tree = cKDTree(np.column_stack([shapely.get_x(reps), shapely.get_y(reps)]))
    d, _ = tree.query(xy, distance_upper_bound=reach_m)
    return np.isfinite(d)
