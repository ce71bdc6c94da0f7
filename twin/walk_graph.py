"""The walk graph: the roads layer as a networkx graph of walkable links.

Edges meet only where line ends share a point (closer than ``snap_m``); two lines that cross without
a shared end point do not connect (a bridge over a riverside path, say). This is the rule
OpenStreetMap ways follow once split at shared nodes, and the rule the importers write.

A link whose two ends fall in one node (shorter than :data:`MERGE_DISTANCE_M`, a closed line, or
ends joined through a chain of close line ends) would be a loop that no route uses: the link would
silently vanish. :func:`walk_graph` refuses it, :func:`collapsed_links` finds it.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy.spatial import cKDTree

from .errors import GraphError

MERGE_DISTANCE_M = 0.5
"""Line ends this close (m, or closer) are one node of the walk graph."""
MAX_NAMED_LINKS = 10
"""At most this many edge ids are named in one GraphError."""


def walk_graph(roads: gpd.GeoDataFrame, *, snap_m: float = MERGE_DISTANCE_M) -> nx.MultiGraph:
    """Build the undirected walk graph of ``roads`` (a projected, metric CRS).

    Nodes are integers numbered by sorted snapped coordinates, so numbering is deterministic;
    node attributes ``x``, ``y`` (metres, in the CRS of ``roads``). Edge key is ``edge_id``;
    edge attributes: ``edge_id``, ``kind``, ``width_m`` (m), ``length_m`` (m, geometry length),
    ``name`` (str or None). ``G.graph["crs"]`` records the CRS.

    End points closer than ``snap_m`` (metres) are one node (see :func:`snap_points`).
    Raises GraphError if ``roads`` is in a geographic CRS, or if a link's two ends fall in one
    node (see :func:`collapsed_links`; the error names its ``edge_id``).
    """
    if roads.crs is not None and roads.crs.is_geographic:
        raise GraphError(f"walk_graph needs a projected CRS in metres, got {roads.crs.to_string()}")
    G = nx.MultiGraph(crs=roads.crs.to_string() if roads.crs is not None else None)
    if len(roads) == 0:
        return G
    geoms = roads.geometry.values
    coords, u, v = end_nodes(roads, snap_m=snap_m)
    if (u == v).any():
        _refuse_collapsed(roads["edge_id"].tolist(), np.flatnonzero(u == v), snap_m)
    G.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(coords))
    n = len(roads)
    lengths = shapely.length(geoms)
    names = roads["name"].tolist() if "name" in roads else [None] * n
    names = [None if (isinstance(x, float) and np.isnan(x)) else x for x in names]
    for i, (eid, kind, width) in enumerate(zip(roads["edge_id"], roads["kind"], roads["width_m"], strict=True)):
        G.add_edge(
            int(u[i]),
            int(v[i]),
            key=eid,
            edge_id=eid,
            kind=kind,
            width_m=float(width),
            length_m=float(lengths[i]),
            name=names[i],
        )
    return G


def end_nodes(
    roads: gpd.GeoDataFrame, *, snap_m: float = MERGE_DISTANCE_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snap the line ends of ``roads`` (metres): (node coordinates, start node, end node of each row).

    Node numbers are those of :func:`walk_graph` for the same rows.
    """
    geoms = roads.geometry.values
    starts = shapely.get_coordinates(shapely.get_point(geoms, 0))
    ends = shapely.get_coordinates(shapely.get_point(geoms, -1))
    coords, inverse = snap_points(np.vstack([starts, ends]), snap_m)
    n = len(roads)
    return coords, inverse[:n], inverse[n:]


def collapsed_links(roads: gpd.GeoDataFrame, *, snap_m: float = MERGE_DISTANCE_M) -> np.ndarray:
    """Which rows of ``roads`` (boolean array) have both ends in one walk-graph node.

    That is a link shorter than ``snap_m`` (metres), a closed line, or one whose ends are joined
    through a chain of line ends each closer than ``snap_m``. Removing such rows never makes
    another row collapse (fewer points merge less).
    """
    if len(roads) == 0:
        return np.zeros(0, dtype=bool)
    _, u, v = end_nodes(roads, snap_m=snap_m)
    return np.asarray(u == v)


def collapse_reason(line: shapely.LineString, snap_m: float = MERGE_DISTANCE_M) -> tuple[str, str]:
    """Why a collapsed link's ends fall in one node and how to fix it (``line`` in metres), for a message."""
    length = float(line.length)
    if length <= snap_m:
        return f"a link {length:.2f} m long", "make it longer or merge it into its neighbour"
    coords = shapely.get_coordinates(line)
    gap = float(np.hypot(*(coords[-1] - coords[0])))
    if gap <= snap_m:
        return f"a closed line {length:.1f} m long whose ends are {gap:.2f} m apart", "split it in two"
    return (
        f"a link whose ends, {gap:.2f} m apart, are joined through other line ends closer than {snap_m:g} m",
        "move the line ends apart or merge it into its neighbour",
    )


def _refuse_collapsed(edge_ids: list, rows: np.ndarray, snap_m: float) -> None:
    """Raise GraphError naming the collapsed links (a long or unprintable id by its row, ``#3``)."""
    shown = ", ".join(
        repr(e) if isinstance(e, str) and len(e) <= 64 and e.isprintable() else f"#{r}"
        for r, e in ((r, edge_ids[r]) for r in rows[:MAX_NAMED_LINKS].tolist())
    )
    more = f" and {len(rows) - MAX_NAMED_LINKS} more" if len(rows) > MAX_NAMED_LINKS else ""
    raise GraphError(
        f"roads: edge_id {shown}{more}: geometry: both ends fall in one node: expected links at least "
        f"{snap_m:g} m long whose ends stay apart (the walk graph joins line ends closer than {snap_m:g} m); "
        "make them longer or merge them into a neighbour"
    )


def snap_points(pts: np.ndarray, snap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge points closer than ``snap_m`` (metres): (node coordinates, node index of each point).

    Points are clustered transitively (a chain of close points is one node); a node sits at the
    lexicographically smallest point of its cluster. Numbering follows sorted coordinates, so it
    does not depend on the order of the input.
    """
    uniq, inverse = np.unique(pts, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    parent = np.arange(len(uniq))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if snap_m > 0 and len(uniq) > 1:
        for a, b in sorted(cKDTree(uniq).query_pairs(snap_m)):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(len(uniq))])
    rep, node_of_uniq = np.unique(roots, return_inverse=True)
    return uniq[rep], node_of_uniq.reshape(-1)[inverse]


def components_by_size(G: nx.Graph) -> list[set[int]]:
    """Connected components of ``G``, largest first (ties broken by smallest node id)."""
    comps = [set(c) for c in nx.connected_components(G)]
    comps.sort(key=lambda c: (-len(c), min(c)))
    return comps
