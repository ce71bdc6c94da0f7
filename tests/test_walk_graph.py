"""The walk graph connects lines only at shared end points (grade separation is preserved)."""

import geopandas as gpd
import networkx as nx
import pytest
from shapely.geometry import LineString

from twin.errors import GraphError
from twin.walk_graph import MERGE_DISTANCE_M, collapse_reason, collapsed_links, components_by_size, walk_graph


def _roads(lines, crs="EPSG:5186"):
    return gpd.GeoDataFrame(
        {"edge_id": [f"e{i}" for i in range(len(lines))], "kind": "road", "width_m": 3.0, "name": None},
        geometry=lines,
        crs=crs,
    )


def test_shared_end_points_connect_and_lengths_are_metres():
    G = walk_graph(_roads([LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 40)])]))
    assert G.number_of_nodes() == 3
    assert nx_components(G) == 1
    lengths = sorted(d["length_m"] for _, _, d in G.edges(data=True))
    assert lengths == pytest.approx([40.0, 100.0])
    assert G.graph["crs"] == "EPSG:5186"


def test_crossing_without_shared_point_does_not_connect():
    """A bridge over a riverside path: the lines cross, but nobody can step from one to the other."""
    G = walk_graph(_roads([LineString([(0, 0), (100, 0)]), LineString([(50, -50), (50, 50)])]))
    assert nx_components(G) == 2


def test_end_points_within_snap_distance_are_one_node():
    G = walk_graph(_roads([LineString([(0, 0), (10, 0)]), LineString([(10.2, 0.1), (20, 0)])]), snap_m=0.5)
    assert nx_components(G) == 1
    G2 = walk_graph(_roads([LineString([(0, 0), (10, 0)]), LineString([(12, 0), (20, 0)])]), snap_m=0.5)
    assert nx_components(G2) == 2


def test_snapping_is_by_distance_not_by_grid_cell():
    """Ends 2 cm apart on either side of a 0.5 m grid line are one node; ends 0.7 m apart are not."""
    near = walk_graph(_roads([LineString([(0, 0), (10.24, 0)]), LineString([(10.26, 0), (20, 0)])]), snap_m=0.5)
    assert nx_components(near) == 1
    far = walk_graph(_roads([LineString([(0, 0), (10.0, 0)]), LineString([(10.7, 0), (20, 0)])]), snap_m=0.5)
    assert nx_components(far) == 2


def test_node_numbering_does_not_depend_on_input_order():
    lines = [LineString([(0, 0), (10, 0)]), LineString([(10, 0), (10, 10)]), LineString([(10, 10), (0, 0)])]
    a = walk_graph(_roads(lines))
    b = walk_graph(_roads(lines[::-1]))
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))


def test_parallel_edges_are_kept():
    G = walk_graph(_roads([LineString([(0, 0), (10, 0)]), LineString([(0, 0), (5, 3), (10, 0)])]))
    assert G.number_of_edges() == 2 and G.number_of_nodes() == 2


def test_geographic_crs_is_refused():
    with pytest.raises(GraphError, match="projected CRS"):
        walk_graph(_roads([LineString([(127.0, 37.7), (127.001, 37.7)])], crs="EPSG:4326"))


def nx_components(G):
    return len(components_by_size(G))


# -- a link whose two ends fall in one node (issue 15) --------------------------------------------

DOOR = LineString([(10.0, 0.0), (10.3, 0.0)])
"""A 0.3 m door between two 10 m corridors: shorter than the merge distance."""


def test_a_link_shorter_than_the_merge_distance_is_refused_not_dropped():
    roads = _roads([LineString([(0, 0), (10, 0)]), DOOR, LineString([(10.3, 0), (20, 0)])])
    assert collapsed_links(roads).tolist() == [False, True, False]
    with pytest.raises(GraphError, match=r"edge_id 'e1': geometry: both ends fall in one node") as exc:
        walk_graph(roads)
    assert f"at least {MERGE_DISTANCE_M:g} m long" in str(exc.value)


def test_ends_merged_through_a_chain_of_close_ends_collapse_the_link():
    """0.8 m apart, but a third line ends 0.4 m from each end: snapping joins all three ends."""
    link = LineString([(10.0, 0.0), (10.8, 0.0)])
    spur = LineString([(10.4, 0.0), (10.4, 30.0)])
    roads = _roads([LineString([(0, 0), (10, 0)]), link, LineString([(10.8, 0), (20, 0)]), spur])
    assert collapsed_links(roads).tolist() == [False, True, False, False]
    got, _ = collapse_reason(link)
    assert "0.80 m apart" in got and "joined through other line ends" in got
    kept = roads[~collapsed_links(roads)]
    assert not collapsed_links(kept).any()  # removing a collapsed link never collapses another
    assert nx_components(walk_graph(kept)) == 1


def test_a_closed_line_collapses_and_the_reason_says_so():
    ring = LineString([(0, 0), (10, 0), (10, 10), (0, 0)])
    assert collapsed_links(_roads([ring])).tolist() == [True]
    got, fix = collapse_reason(ring)
    assert got.startswith("a closed line 34.1 m long") and fix == "split it in two"
    assert collapse_reason(DOOR)[0] == "a link 0.30 m long"


def test_links_just_longer_than_the_merge_distance_are_kept():
    roads = _roads([LineString([(0, 0), (10, 0)]), LineString([(10, 0), (10.6, 0)]), LineString([(10.6, 0), (20, 0)])])
    assert not collapsed_links(roads).any()
    G = walk_graph(roads)
    assert G.number_of_edges() == 3 and G.number_of_nodes() == 4
    assert nx.number_of_selfloops(G) == 0


def test_a_garbage_edge_id_is_named_by_its_row():
    roads = _roads([LineString([(0, 0), (10, 0)]), DOOR])
    roads.loc[1, "edge_id"] = "x" * 5000
    with pytest.raises(GraphError, match=r"edge_id #1: geometry") as exc:
        walk_graph(roads)
    assert "xxxx" not in str(exc.value)
