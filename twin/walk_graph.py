"""The walk graph: the roads layer as a networkx graph of walkable links.

Edges meet only where line ends share a point (closer than ``snap_m``); two lines that cross without
a shared end point do not connect (a bridge over a riverside path, say). This is the rule
OpenStreetMap ways follow once split at shared nodes, and the rule the importers write.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy.spatial import cKDTree

from .errors import GraphError


def walk_graph(roads: gpd.GeoDataFrame, *, snap_m: float = 0.5) -> nx.MultiGraph:
    """Build the undirected walk graph of ``roads`` (a projected, metric CRS).

    Nodes are integers numbered by sorted snapped coordinates, so numbering is deterministic;
    node attributes ``x``, ``y`` (metres, in the CRS of ``roads``). Edge key is ``edge_id``;
    edge attributes: ``edge_id``, ``kind``, ``width_m`` (m), ``length_m`` (m, geometry length),
    ``name`` (str or None). ``G.graph["crs"]`` records the CRS.

    End points closer than ``snap_m`` (metres) are one node (see :func:`snap_points`).
    Raises GraphError if ``roads`` is in a geographic CRS.
    """
    if roads.crs is not None and roads.crs.is_geographic:
        raise GraphError(f"walk_graph needs a projected CRS in metres, got {roads.crs.to_string()}")
    G = nx.MultiGraph(crs=roads.crs.to_string() if roads.crs is not None else None)
    if len(roads) == 0:
        return G
    geoms = roads.geometry.values
    starts = shapely.get_coordinates(shapely.get_point(geoms, 0))
    ends = shapely.get_coordinates(shapely.get_point(geoms, -1))
    coords, inverse = snap_points(np.vstack([starts, ends]), snap_m)
    G.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(coords))
    n = len(roads)
    u = inverse[:n]
    v = inverse[n:]
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
