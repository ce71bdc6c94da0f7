"""The walk network, authored from real evidence where there is some.

* Main roads: the 722 GBIS bus stops trace the real roads. Stops of one name on both sides of a
  road are merged into one "stop place" on the centreline; a Gabriel graph over the stop places
  (edges <= 900 m) follows the roads the buses drive. Edges are named after real roads where
  the road-address points (building numbers grow along a road) show the road's course.
* Bridges: bus edges that cross a stream at a steep angle are bridges (buses cross streams only
  on bridges); 신곡교 and 금신교 sit at their WAMIS gauges.
* Local streets: a jittered ~110 m grid inside the developed area (within a few hundred metres
  of stops, schools and shelters), never crossing a channel. Approximate.
* Riverside paths inside the channels along both or one bank, joined to the streets only by
  ramps and stairs (the access points) every ~450 m.
* Connectors (sidewalks) join every facility to the network.

Why one module of this size: each step of the network is built from the one before (stops,
main roads, bridges, streets, paths, connectors) and shares its indexes; split apart they would
pass them around.
"""

from __future__ import annotations

import math
from collections import Counter

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import Delaunay, cKDTree
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import substring

from .streams import STREAMS, channel_polygons

GRID_M = 110.0
MAX_BUS_EDGE_M = 900.0
ACCESS_SPACING_M = 450.0
ACCESS_RUN_M = {"ramp": 16.0, "stairs": 8.0}
WIDTH = {
    "main": 4.0,
    "named": 5.0,
    "local": 2.5,
    "bridge": 3.0,
    "riverside_path": 3.0,
    "ramp": 2.0,
    "stairs": 1.5,
    "connector": 2.0,
    "access_road": 3.0,
    "footbridge": 2.0,
}


def stop_places(bus: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Merge stops of one name within 150 m into one place at their centroid (the road centreline)."""
    rows = []
    for name, g in bus.sort_values("station_id").groupby("name", sort=True):
        pts = list(zip(g.geometry.x, g.geometry.y, g["name_en"], strict=True))
        used = [False] * len(pts)
        for i, (x, y, en) in enumerate(pts):
            if used[i]:
                continue
            members = [j for j in range(len(pts)) if not used[j] and math.hypot(pts[j][0] - x, pts[j][1] - y) < 150]
            for j in members:
                used[j] = True
            rows.append(
                dict(
                    name=name,
                    name_en=en,
                    n_stops=len(members),
                    geometry=Point(np.mean([pts[j][0] for j in members]), np.mean([pts[j][1] for j in members])),
                )
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=bus.crs)


def gabriel_edges(xy: np.ndarray, max_len: float) -> list[tuple[int, int]]:
    """Edges of the Gabriel graph of points ``xy`` no longer than ``max_len`` (same units)."""
    tri = Delaunay(xy)
    edges = set()
    for s in tri.simplices:
        for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
            edges.add((min(a, b), max(a, b)))
    tree = cKDTree(xy)
    out = []
    for a, b in sorted(edges):
        d = np.linalg.norm(xy[a] - xy[b])
        if d > max_len:
            continue
        mid = (xy[a] + xy[b]) / 2
        inside = [k for k in tree.query_ball_point(mid, d / 2 - 1e-6) if k not in (a, b)]
        if not inside:
            out.append((int(a), int(b)))
    return out


def _angle_deg(line: LineString, stream_line: LineString, at: Point) -> float:
    """Angle (0-90 deg) between ``line`` and the stream direction near ``at``."""
    ch = stream_line.project(at)
    p0 = stream_line.interpolate(max(ch - 20, 0))
    p1 = stream_line.interpolate(min(ch + 20, stream_line.length))
    sx, sy = p1.x - p0.x, p1.y - p0.y
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    lx, ly = x1 - x0, y1 - y0
    cos = abs(sx * lx + sy * ly) / (math.hypot(sx, sy) * math.hypot(lx, ly) + 1e-9)
    return math.degrees(math.acos(min(cos, 1.0)))


def developed_area(ref, city_poly) -> shapely.Geometry:
    """Where the city is built up: near bus stops, schools, shelters, protection zones, stations."""
    parts = [
        ref.bus_stops.buffer(380),
        ref.schools.buffer(300),
        ref.shelters.buffer(280),
        ref.cpz.buffer(250),
        ref.lrt.buffer(300),
    ]
    area = shapely.union_all([shapely.union_all(p.values) for p in parts])
    area = area.buffer(-60).buffer(60)  # drop slivers
    return area.intersection(city_poly.buffer(-20))


def local_grid(area, rng: np.random.Generator) -> list[LineString]:
    """A jittered grid of local streets covering ``area`` (EPSG:5186 metres)."""
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(math.floor(minx / GRID_M) * GRID_M, maxx + GRID_M, GRID_M)
    ys = np.arange(math.floor(miny / GRID_M) * GRID_M, maxy + GRID_M, GRID_M)
    jitter = rng.uniform(-0.22, 0.22, size=(len(xs), len(ys), 2)) * GRID_M
    nodes = {(i, j): (xs[i] + jitter[i, j, 0], ys[j] + jitter[i, j, 1]) for i in range(len(xs)) for j in range(len(ys))}
    inside = {k: area.contains(Point(v)) for k, v in nodes.items()}
    lines = []
    for (i, j), p in nodes.items():
        for di, dj in ((1, 0), (0, 1)):
            k = (i + di, j + dj)
            if k in nodes and inside[(i, j)] and inside[k]:
                # drop a few links so blocks vary in size, as real ones do
                if rng.random() < 0.08:
                    continue
                lines.append(LineString([p, nodes[k]]))
    return lines


def _node_lines(lines: list[LineString]) -> list[LineString]:
    """Split lines at every mutual intersection (planar noding)."""
    merged = shapely.union_all(lines)
    return [g for g in shapely.get_parts(merged) if g.length > 0.5]


def build_roads(ref, streams, city_poly, rng: np.random.Generator):
    """Return (roads GeoDataFrame, access_points GeoDataFrame, helpers dict), all EPSG:5186."""
    places = stop_places(ref.bus_stops)
    xy = np.column_stack([places.geometry.x, places.geometry.y])
    channels = channel_polygons(streams)
    channels_wide = channel_polygons(streams, extra_m=6.0)
    stream_lines = {n: s.line for n, s in streams.items()}

    # --- main (bus) roads and bridges -------------------------------------------------------
    area = developed_area(ref, city_poly)
    main_lines: list[tuple[LineString, str]] = []
    crossings: list[tuple[str, float, float, LineString]] = []  # stream, chainage, angle, line
    for a, b in gabriel_edges(xy, MAX_BUS_EDGE_M):
        line = LineString([xy[a], xy[b]])
        if line.intersection(area).length < 0.85 * line.length:
            continue  # over a hill or a field: no road evidence
        if not line.intersects(channels_wide):
            main_lines.append((line, "main"))
            continue
        crossed = [n for n, sl in stream_lines.items() if line.intersects(sl)]
        if len(crossed) != 1:
            continue
        n = crossed[0]
        at = line.intersection(stream_lines[n])
        at = at if at.geom_type == "Point" else at.centroid
        ang = _angle_deg(line, stream_lines[n], at)
        if ang >= 55 and line.length <= 700:
            crossings.append((n, stream_lines[n].project(at), ang, line))
    # keep at most one bridge per 300 m of stream, the most perpendicular
    crossings.sort(key=lambda c: (-c[2], c[0], c[1]))
    kept: list[tuple[str, float, float, LineString]] = []
    for c in crossings:
        if all(not (k[0] == c[0] and abs(k[1] - c[1]) < 300) for k in kept):
            kept.append(c)
    bridge_lines = [(c[3], None) for c in kept]
    # named bridges at the WAMIS gauges
    for _, g in ref.gauges[(ref.gauges["kind"] == "water_level") & ref.gauges["in_city"]].iterrows():
        bridge_name = g["name"].split("(")[-1].rstrip(")")
        s = stream_lines[g["river"]]
        ch = s.project(g.geometry)
        near = [i for i, (ln, _) in enumerate(bridge_lines) if ln.distance(g.geometry) < 120]
        if near:
            i = near[0]
            bridge_lines[i] = (bridge_lines[i][0], bridge_name)
            continue
        # a new bridge perpendicular to the stream through the gauge, between the nearest places
        p0, p1 = s.interpolate(max(ch - 15, 0)), s.interpolate(min(ch + 15, s.length))
        dx, dy = p1.x - p0.x, p1.y - p0.y
        nx_, ny_ = -dy / math.hypot(dx, dy), dx / math.hypot(dx, dy)
        ends = []
        for sign in (1, -1):
            probe = np.array([g.geometry.x + sign * nx_ * 120, g.geometry.y + sign * ny_ * 120])
            ends.append(probe)
        bridge_lines.append((LineString([tuple(ends[0]), (g.geometry.x, g.geometry.y), tuple(ends[1])]), bridge_name))

    # --- local streets -------------------------------------------------------------------
    grid = [ln for ln in local_grid(area, rng) if not ln.intersects(channels_wide)]

    # --- node everything (except riverside paths), then classify pieces -----------------------
    tagged = [(ln, "main") for ln, _ in main_lines] + [(ln, "local") for ln in grid]
    tagged += [(ln, "bridge") for ln, _ in bridge_lines]
    pieces = _node_lines([t[0] for t in tagged])
    src = gpd.GeoDataFrame({"src": [t[1] for t in tagged]}, geometry=[t[0] for t in tagged], crs="EPSG:5186")
    src_tree = shapely.STRtree(src.geometry.values)
    rows = []
    bridge_name_of = {i: nm for i, (_, nm) in enumerate(bridge_lines)}
    n_main, n_grid = len(main_lines), len(grid)
    for piece in pieces:
        mid = piece.interpolate(0.5, normalized=True)
        cand = src_tree.query(mid.buffer(0.05))
        cand = [int(c) for c in cand if src.geometry.values[c].distance(mid) < 0.05]
        if not cand:
            continue
        kinds = {src["src"].iat[c] for c in cand}
        in_channel = piece.intersects(channels)
        if "bridge" in kinds:
            bidx = [c - n_main - n_grid for c in cand if src["src"].iat[c] == "bridge"][0]
            kind = "bridge" if in_channel else "road"
            rows.append(
                dict(
                    kind=kind,
                    cls="bridge" if in_channel else "main",
                    name=bridge_name_of[bidx] if in_channel else None,
                    geometry=piece,
                )
            )
        elif in_channel:
            continue
        else:
            cls = "main" if "main" in kinds else "local"
            rows.append(dict(kind="road", cls=cls, name=None, geometry=piece))
    roads = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5186")

    # --- real road names along the address points ------------------------------------------------
    _name_roads(roads, ref.address_points)

    # --- connect, keep the main component ---------------------------------------------------
    roads = _connect_components(roads, streams, channels)

    # --- riverside paths and access points -------------------------------------------------------
    paths, access = _riverside_paths(roads, streams, city_poly, channels)
    roads = gpd.GeoDataFrame(list(roads.to_dict("records")) + paths, geometry="geometry", crs="EPSG:5186")
    return roads, access, {"area": area, "channels": channels, "places": places}


def _road_graph(roads: gpd.GeoDataFrame, classes=None) -> tuple[nx.Graph, dict]:
    G = nx.Graph()
    key = {}
    for i, g in enumerate(roads.geometry.values):
        if classes and roads["cls"].iat[i] not in classes:
            continue
        a = tuple(np.round(g.coords[0], 2))
        b = tuple(np.round(g.coords[-1], 2))
        G.add_edge(a, b, idx=i, length=g.length)
        key[a] = a
        key[b] = b
    return G, key


def _name_roads(roads: gpd.GeoDataFrame, addr: gpd.GeoDataFrame) -> None:
    """Name edges along each named road's course, between consecutive building numbers."""
    G, _ = _road_graph(roads)
    nodes = list(G.nodes)
    tree = cKDTree(np.array(nodes))
    counts = Counter(addr["road"])
    for road in sorted(counts, key=lambda r: (-counts[r], r)):
        pts = addr[addr["road"] == road].sort_values(["building_no", "lon"])
        pts = pts.drop_duplicates(subset=["building_no"])
        xy = np.column_stack([pts.geometry.x, pts.geometry.y])
        if len(xy) == 1:
            d, i = tree.query(xy[0])
            u = nodes[i]
            for v in G[u]:
                idx = G[u][v]["idx"]
                if pd.isna(roads.at[idx, "name"]) and roads["kind"].iat[idx] == "road":
                    roads.at[idx, "name"] = road
            continue
        for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
            _, i0 = tree.query((x0, y0))
            _, i1 = tree.query((x1, y1))
            if i0 == i1:
                continue
            try:
                path = nx.shortest_path(G, nodes[i0], nodes[i1], weight="length")
            except nx.NetworkXNoPath:
                continue
            plen = sum(G[a][b]["length"] for a, b in zip(path[:-1], path[1:], strict=True))
            if plen > 1.6 * math.hypot(x1 - x0, y1 - y0) + 250:
                continue
            for a, b in zip(path[:-1], path[1:], strict=True):
                idx = G[a][b]["idx"]
                if pd.isna(roads.at[idx, "name"]) and roads["kind"].iat[idx] == "road":
                    roads.at[idx, "name"] = road
                    roads.at[idx, "cls"] = "named"


def _connect_components(roads: gpd.GeoDataFrame, streams, channels) -> gpd.GeoDataFrame:
    """Join stray components to the largest with short connectors; drop what cannot be joined."""
    for _ in range(200):
        G, _ = _road_graph(roads)
        comps = sorted(nx.connected_components(G), key=lambda c: (-len(c), min(c)))
        if len(comps) == 1:
            break
        main = np.array(sorted(comps[0]))
        tree = cKDTree(main)
        added = []
        drop = set()
        for comp in comps[1:]:
            cn = np.array(sorted(comp))
            d, i = tree.query(cn)
            order = np.argsort(d, kind="stable")
            done = False
            for k in order[:8]:
                line = LineString([tuple(cn[k]), tuple(main[i[k]])])
                if d[k] > 400:
                    break
                if line.intersects(channels):
                    crossing = line.intersection(channels).length
                    if crossing < 40:
                        added.append(dict(kind="bridge", cls="footbridge", name=None, geometry=line))
                        done = True
                        break
                    continue
                added.append(dict(kind="sidewalk", cls="connector", name=None, geometry=line))
                done = True
                break
            if not done:
                drop |= {G[a][b]["idx"] for a in comp for b in G[a]}
        if drop:
            roads = roads.drop(index=sorted(drop)).reset_index(drop=True)
        if added:
            roads = gpd.GeoDataFrame(list(roads.to_dict("records")) + added, geometry="geometry", crs="EPSG:5186")
        if not added and not drop:
            break
    return roads


def _offset(line: LineString, dist: float) -> LineString | None:
    simple = line.simplify(12)
    off = simple.offset_curve(dist, join_style="round", quad_segs=2)
    if off.is_empty:
        return None
    if isinstance(off, MultiLineString):
        off = max(off.geoms, key=lambda g: g.length)
    return off


def _riverside_paths(roads, streams, city_poly, channels):
    """Paths inside the channel, split at access points; ramps/stairs up to the street network."""
    G, _ = _road_graph(roads)
    street_nodes = np.array(sorted(G.nodes))
    tree = cKDTree(street_nodes)
    stream_union = shapely.union_all([s.line for s in streams.values()])
    path_rows, access_rows = [], []
    for name, s in streams.items():
        spec = STREAMS[name]
        w_mean = (spec["width"][0] + spec["width"][1]) / 2
        for bank in spec["banks"]:
            # left bank looking downstream is a positive offset in shapely's convention
            dist = (w_mean / 2 - 6.0) * (1 if bank == "left" else -1)
            path = _offset(s.line, dist)
            if path is None:
                continue
            path = path.intersection(city_poly.buffer(30))
            if isinstance(path, MultiLineString):
                path = max(path.geoms, key=lambda g: g.length)
            if path.is_empty or path.length < 200:
                continue
            L = path.length
            stations = list(np.arange(ACCESS_SPACING_M / 2, L - 100, ACCESS_SPACING_M))
            accesses = []
            for k, ch in enumerate(stations):
                p = path.interpolate(ch)
                d, idx = tree.query((p.x, p.y), k=12)
                for dd, ii in zip(d, idx, strict=True):
                    if dd > 260:
                        break
                    q = tuple(street_nodes[ii])
                    ramp = LineString([(p.x, p.y), q])
                    # must not cross the stream centreline (it would reach the other bank)
                    if ramp.crosses(stream_union) or ramp.intersects(stream_union):
                        continue
                    accesses.append((ch, p, ramp, k))
                    break
            cuts = [0.0] + [a[0] for a in accesses] + [L]
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                if b - a < 1:
                    continue
                seg = substring(path, a, b)
                path_rows.append(
                    dict(
                        kind="riverside_path",
                        cls="riverside_path",
                        name=f"{name} 산책로",
                        stream=name,
                        bank=bank,
                        geometry=seg,
                    )
                )
            for j, (_ch, p, ramp, _k) in enumerate(accesses):
                kind = "stairs" if j % 3 == 1 else "ramp"
                aid = f"AP-{s.code}-{bank[0].upper()}{j + 1:02d}"
                # chainage along the stream centreline gives the bed elevation there
                sch = s.line.project(p)
                bed = s.bed_at(sch)
                # the ramp or stair climbs the bank (about 8 m of rise and run for stairs, 16 m for a
                # ramp); a sidewalk leads on from its top to the street
                (px, py), (qx, qy) = ramp.coords[0], ramp.coords[1]
                d = math.hypot(qx - px, qy - py)
                run = min(ACCESS_RUN_M[kind], d / 2)
                top = (px + (qx - px) * run / d, py + (qy - py) * run / d)
                path_rows.append(
                    dict(
                        kind=kind,
                        cls=kind,
                        name=None,
                        access_id=aid,
                        stream=name,
                        bank=bank,
                        geometry=LineString([(px, py), top]),
                    )
                )
                path_rows.append(
                    dict(
                        kind="sidewalk",
                        cls="connector",
                        name=None,
                        access_id=None,
                        stream=None,
                        bank=None,
                        geometry=LineString([top, (qx, qy)]),
                    )
                )
                access_rows.append(
                    dict(
                        access_id=aid,
                        kind=kind,
                        stream=name,
                        stream_en=spec["name_en"],
                        bank=bank,
                        chainage_m=round(sch, 1),
                        bed_elev_m=round(bed, 2),
                        path_height_m=spec["path_height"],
                        path_elevation_m=round(bed + spec["path_height"], 2),
                        gate_id=None,
                        approximate=True,
                        geometry=Point(p.x, p.y),
                    )
                )
    access = gpd.GeoDataFrame(access_rows, geometry="geometry", crs="EPSG:5186")
    return path_rows, access
