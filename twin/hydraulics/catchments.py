"""Subcatchments: the land of the city divided among the stream reaches, plus the upstream basin.

Every 100 m cell of the city drains to its nearest reach (a nearest-channel delineation; with a
DEM the delineation would follow the terrain instead), and each reach's land is split by dong,
so that runoff can be read per administrative area. Per subcatchment:

* area (ha) = cells x 1 ha;
* imperviousness (%) = 3 x (building footprints + 6 m x street length) / area, clipped to
  5-90 %: footprints and carriageways, tripled for yards, car parks and pavements the layers do
  not hold; scaled by the scenario's ``imperviousness_scale``;
* flow length (m) = mean distance from the cells to the reach; width = area / flow length;
* slope (%) = 2 % on developed land, 15 % on the rest (Uijeongbu's valley floor and the hills of
  도봉산, 수락산, 사패산 and 천보산 around it).

Land outside the city that drains into the top of a stream (for Uijeongbu, the part of the
Jungnangcheon basin north of the city, in 양주) is one more subcatchment, sized so that the area
above the stream's gauge matches the published basin area the dataset gives (80.4 km² above the
신곡교 gauge, WAMIS; see :mod:`twin.river_gauges`).
All approximate; units: m, ha, %.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box

CELL_M = 100.0
MIN_PIECE_CELLS = 10
"""A reach's land in one dong smaller than this many cells (10 ha) joins its largest piece."""


@dataclass(frozen=True)
class Subcatchment:
    name: str
    outlet: str  # junction name
    rain_gauge: str  # device id of the nearest rain gauge
    area_ha: float
    imperv_pct: float
    width_m: float
    slope_pct: float
    polygon: shapely.Geometry  # EPSG:5186


def delineate(
    boundary: gpd.GeoDataFrame,
    streams: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    junctions: gpd.GeoDataFrame,
    rain_gauges: gpd.GeoDataFrame,
    *,
    dongs: gpd.GeoDataFrame | None = None,
    imperviousness_scale: float = 1.0,
) -> list[Subcatchment]:
    """Subcatchments inside ``boundary``: the land of each reach, split by dong (``dong_code``)
    when ``dongs`` is given (all layers in EPSG:5186).

    ``junctions``: the channel junctions (``name``, ``stream``, geometry); each subcatchment
    drains to the junction of its reach nearest to its centroid. ``rain_gauges``: ``device_id``.
    """
    city = shapely.union_all(boundary.geometry.values)
    minx, miny, maxx, maxy = city.bounds
    xs = np.arange(minx + CELL_M / 2, maxx, CELL_M)
    ys = np.arange(miny + CELL_M / 2, maxy, CELL_M)
    gx, gy = np.meshgrid(xs, ys)
    centres = shapely.points(gx.ravel(), gy.ravel())
    inside = shapely.contains(city, centres)
    centres = centres[inside]
    reach_geoms = streams.geometry.values
    tree = shapely.STRtree(reach_geoms)
    nearest, dist = tree.query_nearest(centres, return_distance=True, all_matches=False)
    reach_idx = nearest[1]
    # which cells are built up, and how much: each building's footprint goes to the cell of its
    # centroid and each street edge's length to the cell of its midpoint (edges are ~100 m or less)
    cell_of = np.full(gx.shape, -1, dtype=np.int64)
    cell_of.ravel()[np.flatnonzero(inside)] = np.arange(int(inside.sum()))

    def cell_index(pts) -> np.ndarray:
        i = np.floor((shapely.get_y(pts) - miny) / CELL_M).astype(np.int64)
        j = np.floor((shapely.get_x(pts) - minx) / CELL_M).astype(np.int64)
        ok = (i >= 0) & (i < gx.shape[0]) & (j >= 0) & (j < gx.shape[1])
        out = np.full(len(i), -1, dtype=np.int64)
        out[ok] = cell_of[i[ok], j[ok]]
        return out

    n_cells = int(inside.sum())
    bld_area = np.zeros(n_cells)
    if len(buildings):
        idx = cell_index(shapely.centroid(buildings.geometry.values))
        ok = idx >= 0
        np.add.at(bld_area, idx[ok], shapely.area(buildings.geometry.values)[ok])
    street = roads[roads["kind"].isin(["road", "sidewalk", "bridge"])]
    road_len = np.zeros(n_cells)
    if len(street):
        geoms = street.geometry.values
        idx = cell_index(shapely.line_interpolate_point(geoms, 0.5, normalized=True))
        ok = idx >= 0
        np.add.at(road_len, idx[ok], shapely.length(geoms)[ok])
    cells = shapely.box(
        gx.ravel()[inside] - CELL_M / 2,
        gy.ravel()[inside] - CELL_M / 2,
        gx.ravel()[inside] + CELL_M / 2,
        gy.ravel()[inside] + CELL_M / 2,
    )
    developed = (bld_area > 0) | (road_len > 0)
    gauge_xy = np.column_stack([rain_gauges.geometry.x, rain_gauges.geometry.y]) if len(rain_gauges) else None
    # split each reach's land by dong, so results can be read per administrative area; pieces
    # under MIN_PIECE_CELLS join the reach's largest piece
    dong_idx = np.full(len(centres), -1, dtype=np.int64)
    if dongs is not None and len(dongs):
        pairs = shapely.STRtree(dongs.geometry.values).query(centres, predicate="within")
        dong_idx[pairs[0]] = pairs[1]
    groups: list[tuple[int, int, np.ndarray]] = []
    for ri in np.unique(reach_idx):
        in_reach = reach_idx == ri
        pieces = [(di, in_reach & (dong_idx == di)) for di in np.unique(dong_idx[in_reach])]
        pieces.sort(key=lambda p: (-int(p[1].sum()), p[0]))
        big = [p for p in pieces if p[1].sum() >= MIN_PIECE_CELLS] or pieces[:1]
        main_di, main_sel = big[0]
        for _, sel in pieces:
            if not any(sel is b[1] for b in big):
                main_sel = main_sel | sel
        groups.append((int(ri), int(main_di), main_sel))
        groups += [(int(ri), int(di), sel) for di, sel in big[1:]]
    out: list[Subcatchment] = []
    jn = junctions
    for ri, di, sel in groups:
        reach = streams.iloc[ri]
        suffix = f"-{dongs.iloc[di]['dong_code']}" if dongs is not None and di >= 0 else ""
        area_m2 = sel.sum() * CELL_M**2
        imperv = 100.0 * 3.0 * (bld_area[sel].sum() + 6.0 * road_len[sel].sum()) / area_m2
        imperv = float(np.clip(imperv * imperviousness_scale, 5.0 if imperviousness_scale > 0 else 0.0, 90.0))
        flow_len = float(np.clip(dist[sel].mean(), 50.0, 1500.0))
        dev = developed[sel].mean()
        slope = 2.0 * dev + 15.0 * (1.0 - dev)
        poly = shapely.coverage_union_all(cells[sel]).intersection(city)
        cx, cy = poly.centroid.x, poly.centroid.y
        cand = jn[jn["stream"] == reach["name"]]
        cand = cand[cand.distance(reach.geometry) < 1.0] if (cand.distance(reach.geometry) < 1.0).any() else cand
        outlet = cand.iloc[int(np.argmin(np.hypot(cand.geometry.x - cx, cand.geometry.y - cy)))]["name"]
        gauge = (
            rain_gauges.iloc[int(np.argmin(np.hypot(gauge_xy[:, 0] - cx, gauge_xy[:, 1] - cy)))]["device_id"]
            if gauge_xy is not None
            else ""
        )
        out.append(
            Subcatchment(
                f"S-{reach['reach_id']}{suffix}",
                str(outlet),
                str(gauge),
                round(area_m2 / 1e4, 2),
                round(imperv, 1),
                round(area_m2 / flow_len, 1),
                round(slope, 2),
                poly,
            )
        )
    return out


def upstream_basin(
    subcatchments: list[Subcatchment],
    above_gauge: set[str],
    top_junction: str,
    rain_gauge: str,
    *,
    area_above_gauge_km2: float,
    name: str,
    area_km2: float | None = None,
) -> Subcatchment | None:
    """The basin outside the city draining into ``top_junction``, as subcatchment ``name``.

    ``above_gauge``: names of the in-city subcatchments that drain to the gauge whose published
    basin area is ``area_above_gauge_km2`` (km², from the dataset's manifest: 80.4 km² above
    신곡교 for Uijeongbu). Default area: what makes the total above that gauge equal it;
    ``area_km2`` (km²) replaces it. None when that leaves nothing (area <= 0).
    """
    inside_km2 = sum(s.area_ha for s in subcatchments if s.name in above_gauge) / 100.0
    area = area_above_gauge_km2 - inside_km2 if area_km2 is None else area_km2
    if area <= 0.01:
        return None
    # mostly forested hills of 양주 with some town: 15 % impervious, 8 % slope, 3 km flow length
    area_ha = area * 100.0
    return Subcatchment(
        name,
        top_junction,
        rain_gauge,
        round(area_ha, 2),
        15.0,
        round(area_ha * 1e4 / 3000.0, 1),
        8.0,
        box(0, 0, 0, 0),
    )
