"""The riverside paths of a city's walk graph: which links belong to which stream, and which
flood with which access point. Graph and layers in EPSG:5186 (m)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ...city import CityModel

PATH_KINDS = ("riverside_path", "ramp", "stairs")
"""Link kinds that belong to a stream's paths (the path itself and the ways down to it)."""


@dataclass(frozen=True)
class RiversidePaths:
    """``stream_of_edge``: link key -> stream, for path, ramp and stairs links with a stream;
    ``stream_links``: stream -> those link keys; ``ap_links``: access point id -> the riverside
    path links at its node (they flood with it)."""

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
        for aid, node in zip(aps["access_id"], nodes, strict=True):
            ap_links[aid] = {
                str(k) for _, _, k, kind in G.edges(int(node), keys=True, data="kind") if kind == "riverside_path"
            }
    return RiversidePaths(stream_of_edge, stream_links, ap_links)
