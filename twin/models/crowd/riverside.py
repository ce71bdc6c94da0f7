"""The riverside paths of a city's walk graph: which links belong to which stream, and which
flood with which access point. Graph and layers in EPSG:5186 (m)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
import numpy as np

from ...city import CityModel
from ...dataset_schema import RIVERSIDE_PATH_KINDS

PATH_KINDS = RIVERSIDE_PATH_KINDS
"""Link kinds that belong to a stream's paths (the path itself and the ways down to it)."""


@dataclass(frozen=True)
class RiversidePaths:
    """``stream_of_edge``: link key -> stream, for path, ramp and stairs links with a stream;
    ``stream_links``: stream -> those link keys; ``ap_links``: access point id -> the riverside
    path links with an end nearer to it, along the paths, than to any other access point (they
    flood with it)."""

    stream_of_edge: dict[str, str]
    stream_links: dict[str, set[str]]
    ap_links: dict[str, set[str]]


def riverside_paths(city: CityModel) -> RiversidePaths:
    """The riverside paths of ``city`` (roads layer column ``stream``, access points layer)."""
    G = city.graph
    roads = city.layer("roads").set_index("edge_id")
    stream_of_edge = {
        str(k): roads.at[str(k), "stream"]
        for _, _, k, kind in G.edges(keys=True, data="kind")
        if kind in PATH_KINDS and "stream" in roads.columns and isinstance(roads.at[str(k), "stream"], str)
    }
    stream_links: dict[str, set[str]] = defaultdict(set)
    for k, st in stream_of_edge.items():
        stream_links[st].add(k)
    ap_links: dict[str, set[str]] = {}
    aps = city.layer("access_points")
    if len(aps):
        nodes, _ = city.nearest_nodes(np.column_stack([aps.geometry.x, aps.geometry.y]))
        ap_links = _nearest_access_point(G, [str(a) for a in aps["access_id"]], [int(n) for n in nodes])
    return RiversidePaths(stream_of_edge, stream_links, ap_links)


def _nearest_access_point(G, access_ids: list[str], nodes: list[int]) -> dict[str, set[str]]:
    """Each riverside path link goes with the access point nearest to each of its ends along the
    paths (m), so that the water at an access point covers the path on either side up to halfway
    to the next one, and a link floods when the water reaches either half. Access points whose
    node has no path link get none; a path that no access point reaches never floods."""
    H = nx.MultiGraph()
    H.add_edges_from(
        (u, v, k, {"length_m": d})
        for u, v, k, d in G.edges(keys=True, data="length_m")
        if G.edges[u, v, k]["kind"] == "riverside_path"
    )
    source_of: dict[int, str] = {}
    for aid, node in sorted(zip(access_ids, nodes, strict=True)):
        if node in H:
            source_of.setdefault(node, aid)  # two access points at one node: the first by id
    out: dict[str, set[str]] = {aid: set() for aid in access_ids}
    if not source_of:
        return out
    dist, paths = nx.multi_source_dijkstra(H, set(source_of), weight="length_m")
    for u, v, k in H.edges(keys=True):
        for end in (u, v):
            if end in dist:
                out[source_of[paths[end][0]]].add(str(k))
    return out
