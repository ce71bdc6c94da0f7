"""Junctions and conduits of the stream network, from the ``streams`` layer (EPSG:5186, metres).

Each stream is cut at its reach ends (confluences, gauges), at every access point projected on
its centreline and at most every ``max_conduit_m``; cuts closer than ``min_conduit_m`` merge
(the reach ends win, so confluences and gauges stay where they are). A junction is named by the
gauge device or access point at it (``LS-1018665``, ``AP-JN-L03``), else ``J-<stream code>-<k>``.
Every gauge and access point is mapped to its junction, so stage can be read where devices are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import substring

from ..errors import TwinError


class NetworkError(TwinError, ValueError):
    """The stream layer cannot be turned into a connected channel network."""


@dataclass(frozen=True)
class Junction:
    name: str
    x: float  # EPSG:5186, m
    y: float
    invert_m: float  # bed elevation, m a.s.l.
    max_depth_m: float  # bank height above the bed, m
    stream: str
    chainage_m: float  # along the stream from its upstream end, m


@dataclass(frozen=True)
class Conduit:
    name: str
    upstream: str
    downstream: str
    length_m: float
    manning_n: float
    bottom_width_m: float
    side_slope: float  # horizontal : vertical
    depth_m: float  # full (bank) depth, m
    geometry: LineString


@dataclass
class ChannelNetwork:
    junctions: dict[str, Junction]
    conduits: list[Conduit]
    outfall: str
    entity_node: dict[str, str] = field(default_factory=dict)
    """gauge device id / access point id -> junction name."""
    top_nodes: dict[str, str] = field(default_factory=dict)
    """stream name -> its most upstream junction."""
    stream_of_reach: dict[str, str] = field(default_factory=dict)

    @property
    def main_stem(self) -> str:
        """The stream that leaves the network at the outfall (for Uijeongbu, 중랑천)."""
        return self.junctions[self.outfall].stream

    def junction_table(self) -> gpd.GeoDataFrame:
        rows = [
            dict(
                name=j.name,
                stream=j.stream,
                chainage_m=j.chainage_m,
                invert_m=j.invert_m,
                max_depth_m=j.max_depth_m,
                geometry=Point(j.x, j.y),
            )
            for j in self.junctions.values()
        ]
        return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5186")


def _trapezoid(width_m: float, depth_m: float) -> tuple[float, float]:
    """Bottom width and side slope of a trapezoid of top width ``width_m`` and depth ``depth_m``.

    Side slopes of 2:1 (typical levee-lined urban streams), steeper where the channel is narrow,
    so the bottom is at least a quarter of the top width.
    """
    z = min(2.0, 0.75 * width_m / (2.0 * depth_m))
    return width_m - 2.0 * z * depth_m, z


def build_channel_network(
    streams: gpd.GeoDataFrame,
    access_points: gpd.GeoDataFrame,
    gauges: gpd.GeoDataFrame,
    *,
    min_conduit_m: float = 80.0,
    max_conduit_m: float = 400.0,
) -> ChannelNetwork:
    """Junctions and trapezoidal conduits of every stream (all geometry in EPSG:5186 metres).

    ``gauges``: level sensors with ``device_id`` and a ``stream`` name; ``access_points`` with
    ``access_id`` and ``stream``. Raises NetworkError if the reaches do not drain to one outlet.
    """
    if len(streams) == 0:
        raise NetworkError("the dataset has no streams: set hydraulics.enabled: false for a scenario without rivers")
    if "chainage_up_m" not in streams:
        streams = with_chainage(streams)
    if len(access_points) == 0:  # an empty layer may lack its columns
        access_points = gpd.GeoDataFrame({"access_id": [], "stream": []}, geometry=[], crs=streams.crs)
    if len(gauges) == 0:
        gauges = gpd.GeoDataFrame({"device_id": [], "stream": []}, geometry=[], crs=streams.crs)
    reaches = streams.sort_values(["name", "chainage_up_m"])
    by_id = {r.reach_id: r for r in reaches.itertuples()}
    if not by_id:
        raise NetworkError("the dataset has no streams: set hydraulics.enabled: false for a scenario without rivers")
    outlets = [r for r in by_id.values() if not isinstance(r.downstream_reach_id, str)]
    if len(outlets) != 1:
        raise NetworkError(f"streams must drain to exactly one outlet reach, found {len(outlets)}")
    junctions: dict[str, Junction] = {}
    conduits: list[Conduit] = []
    entity_node: dict[str, str] = {}
    top_nodes: dict[str, str] = {}
    stream_names = sorted(set(reaches["name"]))
    # a stream's centreline: its reaches in chainage order, merged
    lines: dict[str, LineString] = {}
    for name in stream_names:
        parts = reaches[reaches["name"] == name].sort_values("chainage_up_m")
        coords: list = []
        for g in parts.geometry:
            points = list(g.coords)
            coords.extend(points if not coords else points[1:])
        lines[name] = LineString(coords)
    # first pass: cut chainages per stream
    cut_sets: dict[str, dict[float, str | None]] = {}
    for name in stream_names:
        line = lines[name]
        parts = reaches[reaches["name"] == name]
        cuts: dict[float, str | None] = {0.0: None, round(line.length, 2): None}
        for r in parts.itertuples():
            cuts[round(line.project(Point(r.geometry.coords[0])), 2)] = None
        for g in gauges[gauges["stream"] == name].itertuples():
            ch = round(line.project(g.geometry), 2)
            # a gauge sits on a reach end (the dataset cuts reaches there); take the nearest end
            near = min(cuts, key=lambda c: abs(c - ch))
            if abs(near - ch) < min_conduit_m:
                ch = near
            cuts[ch] = g.device_id
        fixed = dict(cuts)
        for a in access_points[access_points["stream"] == name].sort_values("access_id").itertuples():
            ch = round(line.project(a.geometry), 2)
            near = min(cuts, key=lambda c: abs(c - ch))
            if abs(near - ch) < min_conduit_m:
                entity_node.setdefault(a.access_id, f"@{name}@{near}")
                if cuts[near] is None and near not in fixed:
                    cuts[near] = a.access_id
                continue
            cuts[ch] = a.access_id
            entity_node[a.access_id] = f"@{name}@{ch}"
        # subdivide long pieces
        chs = sorted(cuts)
        for c0, c1 in zip(chs[:-1], chs[1:], strict=True):
            k = math.ceil((c1 - c0) / max_conduit_m)
            for i in range(1, k):
                cuts.setdefault(round(c0 + (c1 - c0) * i / k, 2), None)
        cut_sets[name] = cuts
    # junctions
    code_of = {r.name: getattr(r, "stream_code", r.name[:2]) for r in reaches.itertuples()}
    node_at: dict[tuple[str, float], str] = {}
    for name in stream_names:
        line = lines[name]
        parts = reaches[reaches["name"] == name].sort_values("chainage_up_m")
        starts = _reach_starts(parts, line)
        used: set[str] = set()
        for k, ch in enumerate(sorted(cut_sets[name])):
            label = cut_sets[name][ch]
            jname = label if label and label not in used and label not in junctions else f"J-{code_of[name]}-{k:03d}"
            used.add(jname)
            p = line.interpolate(ch)
            r = _reach_at(parts, starts, ch)
            ch_up = line.project(Point(r.geometry.coords[0]))
            t = 0.0 if r.geometry.length == 0 else min(max((ch - ch_up) / r.geometry.length, 0.0), 1.0)
            invert = r.bed_elev_up_m + (r.bed_elev_down_m - r.bed_elev_up_m) * t
            junctions[jname] = Junction(jname, p.x, p.y, round(invert, 3), float(r.bank_height_m), name, ch)
            node_at[(name, ch)] = jname
            if label:
                entity_node[label] = jname
        top_nodes[name] = node_at[(name, 0.0)]
    for ent, where in list(entity_node.items()):
        if where.startswith("@"):
            _, name, ch = where.split("@")
            entity_node[ent] = node_at[(name, float(ch))]
    # conduits along each stream
    for name in stream_names:
        line = lines[name]
        parts = reaches[reaches["name"] == name].sort_values("chainage_up_m")
        starts = _reach_starts(parts, line)
        chs = sorted(cut_sets[name])
        for c0, c1 in zip(chs[:-1], chs[1:], strict=True):
            r = _reach_at(parts, starts, (c0 + c1) / 2)
            bottom, z = _trapezoid(float(r.width_m), float(r.bank_height_m))
            u, d = node_at[(name, c0)], node_at[(name, c1)]
            conduits.append(
                Conduit(
                    f"C-{u}-{d}" if len(u) + len(d) < 40 else f"C-{code_of[name]}-{len(conduits):04d}",
                    u,
                    d,
                    round(c1 - c0, 2),
                    float(r.manning_n),
                    round(bottom, 2),
                    round(z, 3),
                    float(r.bank_height_m),
                    substring(line, c0, c1),
                )
            )
    # tributary mouths join the receiving stream; the outlet stream ends at the outfall
    outlet_stream = outlets[0].name
    for name in stream_names:
        if name == outlet_stream:
            continue
        last = reaches[reaches["name"] == name].sort_values("chainage_up_m").iloc[-1]
        rec = by_id.get(last["downstream_reach_id"])
        if rec is None:
            raise NetworkError(f"reach {last['reach_id']} drains into unknown reach {last['downstream_reach_id']!r}")
        mouth_node = node_at[(name, max(cut_sets[name]))]
        rline = lines[rec.name]
        ch = rline.project(Point(junctions[mouth_node].x, junctions[mouth_node].y))
        target = min(cut_sets[rec.name], key=lambda c: abs(c - ch))
        # the tributary's last junction merges into the receiving junction: rewire its conduit
        recv = node_at[(rec.name, target)]
        for i, c in enumerate(conduits):
            if c.downstream == mouth_node:
                conduits[i] = Conduit(
                    c.name,
                    c.upstream,
                    recv,
                    c.length_m,
                    c.manning_n,
                    c.bottom_width_m,
                    c.side_slope,
                    c.depth_m,
                    c.geometry,
                )
        if mouth_node in entity_node.values():
            for ent, jn in list(entity_node.items()):
                if jn == mouth_node:
                    entity_node[ent] = recv
        del junctions[mouth_node]
    outfall = node_at[(outlet_stream, max(cut_sets[outlet_stream]))]
    stream_of_reach = {r.reach_id: r.name for r in reaches.itertuples()}
    return ChannelNetwork(junctions, conduits, outfall, entity_node, top_nodes, stream_of_reach)


def with_chainage(streams: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``streams`` with ``chainage_up_m`` (m along its stream from the stream's top to the reach's
    upstream end), for a layer that lacks it (an imported one): each stream's reaches in the order
    of their ``downstream_reach_id`` links. Raises NetworkError when a stream's reaches are not one
    chain (two heads, a gap or a loop)."""
    out = streams.copy()
    out["chainage_up_m"] = np.nan
    down = dict(zip(out["reach_id"], out["downstream_reach_id"], strict=True))
    for name, group in out.groupby("name", sort=True):
        ids = set(group["reach_id"])
        fed = {down[r] for r in ids if down[r] in ids}
        heads = sorted(ids - fed)
        chain: list[str] = []
        cur = heads[0] if len(heads) == 1 else None
        while cur is not None and cur in ids and cur not in chain:
            chain.append(cur)
            cur = down[cur]
        if len(chain) != len(ids):
            raise NetworkError(
                f"stream {name}: its {len(ids)} reaches are not one chain of downstream_reach_id links "
                f"({len(heads)} upstream ends); set downstream_reach_id, or give each branch its own name"
            )
        length = dict(zip(group["reach_id"], group.geometry.length, strict=True))
        ch = 0.0
        for rid in chain:
            out.loc[out["reach_id"] == rid, "chainage_up_m"] = round(ch, 2)
            ch += float(length[rid])
    return out


def _reach_at(parts: gpd.GeoDataFrame, starts: np.ndarray, ch: float):
    """The reach containing chainage ``ch`` (m); at a reach end, the reach that starts there.

    ``starts``: from :func:`_reach_starts`; chainages compare rounded to the centimetre, as the cuts."""
    i = int(np.clip(np.searchsorted(starts, round(ch, 2), side="right") - 1, 0, len(parts) - 1))
    return parts.iloc[i]


def _reach_starts(parts: gpd.GeoDataFrame, line: LineString) -> np.ndarray:
    """Chainage (m, rounded to the centimetre) at which each of ``parts`` starts along ``line``."""
    return np.round(shapely.line_locate_point(line, shapely.get_point(parts.geometry.values, 0)), 2)


def normal_depth_m(
    flow_m3s: float, *, bottom_width_m: float, side_slope: float, slope: float, manning_n: float
) -> float:
    """Depth (m) of uniform flow in a trapezoidal channel (Manning): Q = A R^(2/3) S^(1/2) / n.

    Solved by bisection; 0 for no flow. ``slope`` in m/m (> 0), ``side_slope`` horizontal:vertical.
    """
    if flow_m3s <= 0:
        return 0.0
    s = max(slope, 1e-5)

    def q(y: float) -> float:
        area = y * (bottom_width_m + side_slope * y)
        perim = bottom_width_m + 2.0 * y * math.sqrt(1.0 + side_slope**2)
        return area * (area / perim) ** (2.0 / 3.0) * math.sqrt(s) / manning_n

    lo, hi = 0.0, 1.0
    while q(hi) < flow_m3s:
        hi *= 2.0
    for _ in range(80):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if q(mid) < flow_m3s else (lo, mid)
    return (lo + hi) / 2.0


def base_flow_state(net: ChannelNetwork, *, source: str, flow_m3s: float) -> tuple[dict[str, float], dict[str, float]]:
    """Steady base flow from junction ``source`` to the outfall: (conduit flows m³/s, junction depths m).

    Conduits on the path carry ``flow_m3s``; junction depths are the normal depth in the conduit
    leaving them (entering, for the outfall). Elsewhere 0.
    """
    leaving = {c.upstream: c for c in net.conduits}
    flows: dict[str, float] = {}
    depths: dict[str, float] = {}
    node = source
    last = None
    while node in leaving:
        c = leaving[node]
        j_up, j_dn = net.junctions[c.upstream], net.junctions[c.downstream]
        slope = (j_up.invert_m - j_dn.invert_m) / max(c.length_m, 1.0)
        y = normal_depth_m(
            flow_m3s, bottom_width_m=c.bottom_width_m, side_slope=c.side_slope, slope=slope, manning_n=c.manning_n
        )
        flows[c.name] = flow_m3s
        depths[node] = y
        last = (c.downstream, y)
        node = c.downstream
    if last is not None:
        depths.setdefault(last[0], last[1])
    return flows, depths
