"""Importers drop a link whose two ends fall in one walk-graph node and say so in their report
(issue 15): the validator would refuse it, so the imported dataset would not load.

Geometry in EPSG:5186 metres; the OSM ways are given in lon/lat converted from those metres.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString

from twin.importers import osm, shp
from twin.walk_graph import collapsed_links, components_by_size, walk_graph

X0, Y0 = 205_000.0, 571_000.0


def _shp_roads(lines):
    gdf = gpd.GeoDataFrame({"RN": [f"길{i}" for i in range(len(lines))]}, geometry=lines, crs="EPSG:5186")
    report = {"dropped": {}, "warnings": []}
    roads = shp._roads(gdf, {"name": "RN", "road_width": None, "bridge": None}, report)
    return roads, report


def test_shp_drops_a_piece_cut_between_two_crossings_0_3_m_apart():
    """Two streets cross a road 0.3 m apart: noding cuts a 0.3 m piece out of the road."""
    road = LineString([(X0, Y0), (X0 + 100, Y0)])
    a = LineString([(X0 + 50.0, Y0 - 50), (X0 + 50.0, Y0 + 50)])
    b = LineString([(X0 + 50.3, Y0 - 50), (X0 + 50.3, Y0 + 50)])
    roads, report = _shp_roads([road, a, b])
    dropped = report["dropped"]["roads"]
    assert dropped["by_reason"] == {shp.SHORT_LINK_REASON: 1} and dropped["features"] == ["r0-1"]
    assert not collapsed_links(roads).any()
    G = walk_graph(roads)  # would raise GraphError on a collapsed link
    assert len(components_by_size(G)) == 1 and G.number_of_edges() == len(roads) == 6


def test_shp_keeps_a_piece_longer_than_the_merge_distance():
    road = LineString([(X0, Y0), (X0 + 100, Y0)])
    a = LineString([(X0 + 50.0, Y0 - 50), (X0 + 50.0, Y0 + 50)])
    b = LineString([(X0 + 50.8, Y0 - 50), (X0 + 50.8, Y0 + 50)])
    roads, report = _shp_roads([road, a, b])
    assert "roads" not in report["dropped"]
    assert len(roads) == 7 and walk_graph(roads).number_of_edges() == 7


def _way(wid, nodes, tags=None):
    to_deg = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True)
    pts = [(ref, *to_deg.transform(X0 + x, Y0 + y)) for ref, x, y in nodes]
    return osm._Way(wid, tags or {"highway": "footway"}, pts)


def _osm_roads(ways):
    data = osm._OsmData(walk_ways=ways)
    dropped: dict[str, Counter] = defaultdict(Counter)
    streams = gpd.GeoDataFrame(geometry=[], crs="EPSG:5186")
    net = osm._roads(data, streams, osm._transformer(), dropped)
    return net.roads, dropped


def test_osm_drops_a_way_0_3_m_long_and_counts_it():
    """A 0.3 m door way between two corridors meeting at its nodes."""
    ways = [
        _way(1, [(1, 0.0, 0.0), (2, 10.0, 0.0)]),
        _way(2, [(2, 10.0, 0.0), (3, 10.3, 0.0)]),
        _way(3, [(3, 10.3, 0.0), (4, 20.0, 0.0)]),
    ]
    roads, dropped = _osm_roads(ways)
    assert dropped["roads"] == {osm.SHORT_LINK_REASON: 1}
    assert sorted(roads["edge_id"]) == ["w1-0", "w3-0"]
    assert len(components_by_size(walk_graph(roads))) == 1


def test_osm_cuts_a_closed_way_in_two_instead_of_dropping_it():
    """A footway round a pond that touches the street at one node: two links, not one loop."""
    ring = [(10, 0.0, 0.0), (11, 20.0, 0.0), (12, 20.0, 20.0), (13, 0.0, 20.0), (10, 0.0, 0.0)]
    ways = [_way(1, [(1, -30.0, 0.0), (10, 0.0, 0.0)], {"highway": "residential"}), _way(2, ring)]
    roads, dropped = _osm_roads(ways)
    assert "roads" not in dropped
    assert sorted(roads["edge_id"]) == ["w1-0", "w2-0", "w2-1"]
    G = walk_graph(roads)
    ring_length = sum(d["length_m"] for _, _, k, d in G.edges(keys=True, data=True) if k.startswith("w2"))
    assert ring_length == pytest.approx(80.0, abs=0.01)
