"""Tests of twin.importers.shp: small CP949 shapefiles in EPSG:5174 / 5179 around Uijeongbu.

Every shapefile is written by the test into tmp_path (no network). Geometry is defined in
WGS84 lon/lat, converted to the source CRS with pyproj, and checked back in lon/lat after the
import, so a CRS mix-up (hundreds of metres to kilometres) cannot pass.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, Polygon

from twin.city import load_city
from twin.errors import DataImportError
from twin.importers._noding import node_lines
from twin.importers.shp import import_shp, parse_year, structure_class, walk_width

GEOD = Geod(ellps="WGS84")

# a 2 x 2 road grid near Uijeongbu station (lon 127.045, lat 37.738); lines cross without
# shared vertices, so the importer has to node them
ROADS = [
    ("평화로", 20.0, [(127.040, 37.7360), (127.050, 37.7360)]),
    ("시민로", 50.0, [(127.040, 37.7400), (127.050, 37.7400)]),
    ("호국로", 5.0, [(127.0425, 37.7340), (127.0425, 37.7420)]),
    ("신흥로", 0.0, [(127.0475, 37.7340), (127.0475, 37.7420)]),
    # far away and unconnected: dropped (largest component only)
    ("외딴길", 10.0, [(127.0700, 37.7600), (127.0710, 37.7600)]),
]
CROSSINGS = [(x, y) for x in (127.0425, 127.0475) for y in (37.7360, 37.7400)]
BOUNDARY = [(127.035, 37.730), (127.075, 37.730), (127.075, 37.765), (127.035, 37.765)]


def _proj(coords, crs):
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return [tr.transform(x, y) for x, y in coords]


def _write(path, records, geoms, crs, *, encoding="cp949"):
    gdf = gpd.GeoDataFrame(records, geometry=geoms, crs=crs)
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    return path


def write_roads(tmp_path, crs, *, stem="TL_SPRD_MANAGE"):
    recs = {
        "RN": [r[0] for r in ROADS],
        "ROAD_BT": [r[1] for r in ROADS],
        "ALT_NM": [f"alt{i}" for i in range(5)],
        "BRG": ["N", "Y", "", "0", "1"],
    }
    geoms = [LineString(_proj(r[2], crs)) for r in ROADS]
    return _write(tmp_path / f"{stem}.shp", recs, geoms, crs)


def write_boundary(tmp_path, crs):
    recs = {"SIG_CD": ["41150"], "SIG_KOR_NM": ["의정부시"], "SIG_ENG_NM": ["Uijeongbu-si"]}
    return _write(tmp_path / "TL_SCCO_SIG.shp", recs, [Polygon(_proj(BOUNDARY, crs))], crs)


def write_buildings(tmp_path, crs):
    def square(lon, lat, d=0.0001):
        return Polygon(_proj([(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)], crs))

    recs = {
        "A1": ["41150-0001", "41150-0002", ""],
        "A9": ["단독주택", "공동주택", "근린생활시설"],
        "A11": ["벽돌구조", "철근콘크리트구조", "프리케스트콘크리트구조"],
        "A13": ["19850312", "1999-07-01", ""],
        "A26": [4, 15, 0],
        "APPR_DT": ["20010101", "20020202", "20030303"],
    }
    geoms = [square(127.0440, 37.7370), square(127.0460, 37.7380), square(127.0445, 37.7385)]
    return _write(tmp_path / "AL_D010_41_20250101.shp", recs, geoms, crs)


def write_facilities(tmp_path, crs):
    recs = {"시설명": ["의정부시청", "어딘가", "먼곳"], "kind": ["city_hall", "bogus", "school"]}
    # f0: mid-block, 167 m from 시민로 but > 200 m from every crossing (needs a cut); f1: 50 m
    # from a crossing; f2: 1.5 km from any road (dropped)
    pts = _proj([(127.0450, 37.7385), (127.0430, 37.7365), (127.0300, 37.7500)], crs)
    return _write(tmp_path / "facilities.shp", recs, [Point(p) for p in pts], crs)


def write_streams(tmp_path, crs):
    recs = {"RIV_NM": ["중랑천"]}
    geom = LineString(_proj([(127.0410, 37.7420), (127.0490, 37.7335)], crs))
    return _write(tmp_path / "streams.shp", recs, [geom], crs)


def lonlat_error_m(city, name, lonlat):
    """Distance (m) from ``lonlat`` to the nearest vertex of the roads named ``name``, in WGS84."""
    roads = city.layers["roads"]
    tr = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True)
    best = float("inf")
    for geom in roads.loc[roads["name"] == name].geometry:
        for x, y in geom.coords:
            lon, lat = tr.transform(x, y)
            best = min(best, GEOD.inv(lonlat[0], lonlat[1], lon, lat)[2])
    return best


def crossing_nodes(city):
    tr = Transformer.from_crs("EPSG:4326", "EPSG:5186", always_xy=True)
    G = city.graph
    found = []
    for lon, lat in CROSSINGS:
        x, y = tr.transform(lon, lat)
        node = city.nearest_node(x, y, max_distance_m=1.0)
        found.append(G.degree(node))
    return found


@pytest.fixture(scope="module")
def city5174(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shp5174")
    crs = "EPSG:5174"
    out = tmp / "dataset"
    report = import_shp(
        out,
        roads=write_roads(tmp, crs),
        boundary=write_boundary(tmp, crs),
        buildings=write_buildings(tmp, crs),
        facilities=write_facilities(tmp, crs),
        streams=write_streams(tmp, crs),
    )
    return load_city(out), report, out


def test_5174_loads_with_korean_names(city5174):
    city, report, out = city5174
    roads = city.layers["roads"]
    assert set(roads["name"]) == {"평화로", "시민로", "호국로", "신흥로"}
    b = city.layers["boundary"].iloc[0]
    assert (b["city_code"], b["name"], b["name_en"]) == ("41150", "의정부시", "Uijeongbu-si")
    assert list(city.layers["streams"]["name"]) == ["중랑천"]
    assert report["fields"]["roads"]["name"] == "RN"
    assert report["source_crs"]["roads"] == "EPSG:5174"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["layers"]["roads"]["source"] == "TL_SPRD_MANAGE.shp"
    assert manifest["layers"]["streams"]["approximate"] is True
    assert manifest["layers"]["roads"]["approximate"] is False
    assert "check before redistribution" in manifest["layers"]["buildings"]["licence"]
    # no dongs file: one dong = the boundary
    assert list(city.layers["dongs"]["name"]) == ["의정부시"]
    assert report["derived"] == ["dongs"]


def test_5174_geometry_in_place(city5174):
    city, _, _ = city5174
    for name, _w, coords in ROADS[:4]:
        for lonlat in coords:
            assert lonlat_error_m(city, name, lonlat) < 1.0


def test_5174_crossings_are_degree_4_nodes(city5174):
    city, report, _ = city5174
    assert crossing_nodes(city) == [4, 4, 4, 4]
    assert report["roads_noding"]["cuts"] == 8
    assert report["roads_noding"]["facility_cuts"] == 1
    # 4 lines cut twice each = 12 edges, plus one cut of 시민로 for the facility f0
    assert len(city.layers["roads"]) == 13
    assert city.info()["graph"]["components"] == 1
    edge_ids = set(city.layers["roads"]["edge_id"])
    assert {"r0-0", "r0-1", "r0-2", "r3-2"} <= edge_ids


def test_5174_isolated_road_dropped_and_widths(city5174):
    city, report, _ = city5174
    dropped = report["dropped"]["roads"]
    assert dropped["count"] == 1 and dropped["features"] == ["r4-0"]
    widths = city.layers["roads"].groupby("name")["width_m"].first().to_dict()
    assert widths == {"평화로": 4.0, "시민로": 6.0, "호국로": 1.5, "신흥로": 3.0}
    assert set(city.layers["roads"]["kind"]) == {"road"}


def test_5174_buildings(city5174):
    city, _, _ = city5174
    b = city.layers["buildings"].set_index("building_id")
    first = b.loc["41150-0001"]
    assert first["year_built"] == 1985 and first["storeys"] == 4 and first["structure"] == "masonry"
    assert first["use"] == "단독주택"
    second = b.loc["41150-0002"]
    assert (second["year_built"], second["storeys"], second["structure"]) == (1999, 15, "reinforced_concrete")
    third = b.loc["b2"]  # empty A1: fallback id; empty date, 0 storeys: null
    assert pd.isna(third["year_built"])
    assert pd.isna(third["storeys"])
    assert third["structure"] == "other"


def test_5174_facilities(city5174):
    city, report, _ = city5174
    fac = city.layers["facilities"].set_index("facility_id")
    assert fac.loc["f0", "kind"] == "city_hall" and fac.loc["f0", "name"] == "의정부시청"
    assert fac.loc["f1", "kind"] == "other"
    assert "f2" not in fac.index  # 1.5 km from the roads
    # f0 got a node of its own on 시민로, within the 200 m the validator allows
    x, y = fac.loc["f0"].geometry.coords[0]
    _, dist = city.nearest_nodes([[x, y]])
    assert 150 < dist[0] < 200
    assert report["dropped"]["facilities"]["features"] == ["f2"]


def test_5179_with_dongs_and_no_cpg(tmp_path):
    crs = "EPSG:5179"
    roads = write_roads(tmp_path, crs)
    roads.with_suffix(".cpg").unlink()  # many Korean files ship without .cpg: the encoding argument decides
    dong_recs = {"EMD_CD": ["41150101"], "EMD_KOR_NM": ["의정부동"], "EMD_ENG_NM": ["Uijeongbu-dong"]}
    dongs = _write(tmp_path / "TL_SCCO_EMD.shp", dong_recs, [Polygon(_proj(BOUNDARY, crs))], crs)
    out = tmp_path / "out"
    report = import_shp(
        out, roads=roads, boundary=write_boundary(tmp_path, crs), dongs=dongs, streams=write_streams(tmp_path, crs)
    )
    city = load_city(out)
    assert report["source_crs"]["roads"] == "EPSG:5179"
    assert set(city.layers["roads"]["name"]) == {"평화로", "시민로", "호국로", "신흥로"}
    assert city.layers["boundary"]["name"].iloc[0] == "의정부시"
    assert list(city.layers["dongs"]["name"]) == ["의정부동"]
    assert lonlat_error_m(city, "평화로", ROADS[0][2][0]) < 1.0
    assert lonlat_error_m(city, "신흥로", ROADS[3][2][1]) < 1.0
    assert crossing_nodes(city) == [4, 4, 4, 4]
    assert city.manifest["name"] == "의정부시 (imported from shapefiles)"


def test_missing_prj_needs_crs(tmp_path):
    roads = write_roads(tmp_path, "EPSG:5174")
    streams = write_streams(tmp_path, "EPSG:5174")
    roads.with_suffix(".prj").unlink()
    with pytest.raises(DataImportError, match="--crs") as err:
        import_shp(tmp_path / "out", roads=roads, streams=streams)
    assert "TL_SPRD_MANAGE.shp" in str(err.value)
    assert "EPSG:5174" in str(err.value) and "EPSG:5179" in str(err.value)
    assert not (tmp_path / "out").exists()
    report = import_shp(tmp_path / "out", roads=roads, streams=streams, crs="EPSG:5174")
    city = load_city(tmp_path / "out")
    assert report["source_crs"]["roads"] == "EPSG:5174"
    assert lonlat_error_m(city, "평화로", ROADS[0][2][0]) < 1.0
    # no boundary file: hull of the roads + 100 m, one dong
    assert report["derived"] == ["boundary", "dongs"]
    hull = city.layers["boundary"].geometry.iloc[0]
    assert hull.contains(city.layers["roads"].union_all())


def test_wrong_crs_lands_outside_korea(tmp_path):
    roads = write_roads(tmp_path, "EPSG:5179")
    with pytest.raises(DataImportError, match="outside Korea"):
        import_shp(tmp_path / "out", roads=roads, streams=write_streams(tmp_path, "EPSG:5179"), crs="EPSG:5186")


def test_field_map_overrides_presets(tmp_path):
    crs = "EPSG:5186"
    out = tmp_path / "out"
    report = import_shp(
        out,
        roads=write_roads(tmp_path, crs),
        buildings=write_buildings(tmp_path, crs),
        streams=write_streams(tmp_path, crs),
        field_map={"roads.name": "alt_nm", "roads.bridge": "BRG", "buildings.year_built": "APPR_DT"},
    )
    city = load_city(out)
    # BRG makes alt1 (시민로) a bridge: it passes over the two streets it crosses mid-span, touches
    # nothing at its ends, so it is not joined to the network and is left out (docs/dataset.md)
    assert set(city.layers["roads"]["name"]) == {"alt0", "alt2", "alt3"}
    kinds = city.layers["roads"].groupby("name")["kind"].unique().map(list).to_dict()
    assert kinds == {"alt0": ["road"], "alt2": ["road"], "alt3": ["road"]}
    assert report["fields"]["roads"]["bridge"] == "BRG"
    assert "r1-0" in report["dropped"]["roads"]["features"]
    assert sorted(city.layers["buildings"]["year_built"]) == [2001, 2002, 2003]
    assert report["fields"]["roads"]["name"] == "ALT_NM"
    assert report["fields"]["buildings"]["year_built"] == "APPR_DT"


def test_field_map_errors(tmp_path):
    roads = write_roads(tmp_path, "EPSG:5186")
    streams = write_streams(tmp_path, "EPSG:5186")
    with pytest.raises(DataImportError, match="roads.nmae"):
        import_shp(tmp_path / "out", roads=roads, streams=streams, field_map={"roads.nmae": "RN"})
    with pytest.raises(DataImportError, match="NO_SUCH"):
        import_shp(tmp_path / "out", roads=roads, streams=streams, field_map={"roads.name": "NO_SUCH"})


def test_bad_path_named(tmp_path):
    streams = write_streams(tmp_path, "EPSG:5186")
    missing = tmp_path / "nowhere" / "TL_SPRD_MANAGE.shp"
    with pytest.raises(DataImportError, match="not found") as err:
        import_shp(tmp_path / "out", roads=missing, streams=streams)
    assert str(missing) in str(err.value)
    roads = write_roads(tmp_path, "EPSG:5186")
    with pytest.raises(DataImportError) as err:
        import_shp(tmp_path / "out", roads=roads, streams=streams, buildings=tmp_path / "AL_D010.shp")
    assert "AL_D010.shp" in str(err.value)
    # a file that is not a shapefile at all
    junk = tmp_path / "junk.shp"
    junk.write_bytes(b"not a shapefile")
    with pytest.raises(DataImportError, match="junk.shp"):
        import_shp(tmp_path / "out", roads=junk, streams=streams)
    assert not (tmp_path / "out").exists()


def test_wrong_encoding_is_reported(tmp_path):
    roads = write_roads(tmp_path, "EPSG:5186")
    roads.with_suffix(".cpg").unlink()
    with pytest.raises(DataImportError, match="--encoding"):
        import_shp(tmp_path / "out", roads=roads, streams=write_streams(tmp_path, "EPSG:5186"), encoding="utf-8")


def test_streams_may_be_left_out(tmp_path):
    import_shp(tmp_path / "out", roads=write_roads(tmp_path, "EPSG:5186"))
    assert len(load_city(tmp_path / "out").layers["streams"]) == 0


def test_overwrite(tmp_path):
    roads = write_roads(tmp_path, "EPSG:5186")
    streams = write_streams(tmp_path, "EPSG:5186")
    import_shp(tmp_path / "out", roads=roads, streams=streams)
    with pytest.raises(FileExistsError):
        import_shp(tmp_path / "out", roads=roads, streams=streams)
    import_shp(tmp_path / "out", roads=roads, streams=streams, overwrite=True, name="again")
    assert load_city(tmp_path / "out").manifest["name"] == "again"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("철근콘크리트구조", "reinforced_concrete"),
        ("철골철근콘크리트구조", "reinforced_concrete"),
        ("벽돌구조", "masonry"),
        ("조적구조", "masonry"),
        ("블록구조", "masonry"),
        ("석구조", "masonry"),
        ("일반철골구조", "steel"),
        ("경량철골구조", "steel"),
        ("철골구조", "steel"),
        ("목구조", "wood"),
        ("일반목구조", "wood"),
        (" 벽돌 구조 ", "masonry"),
        ("", "unknown"),
        (None, "unknown"),
        ("기타구조", "other"),
    ],
)
def test_structure_class(name, expected):
    assert structure_class(name) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("19850312", 1985), ("1985-03-12", 1985), (19850312, 1985), (19850312.0, 1985), ("", None), (None, None)],
)
def test_parse_year(value, expected):
    assert parse_year(value) == expected


def test_walk_width():
    assert walk_width(20) == 4.0
    assert walk_width("100") == 6.0
    assert walk_width(2) == 1.5
    assert walk_width(None) == 3.0 and walk_width(0) == 3.0


def test_node_lines_t_junction_and_near_end():
    a = LineString([(0, 0), (100, 0)])
    b = LineString([(50, 0), (50, 50)])  # T: b ends on a's interior
    c = LineString([(70.3, 0.2), (70.3, 50)])  # undershoot: stops 0.2 m short of a
    d = LineString([(90.0, -0.3), (90.0, -50)])  # overshoot: crosses a 0.3 m from its end
    pieces, cuts = node_lines([a, b, c, d])
    assert cuts == 3
    # a is cut exactly at the end points of b, c and d, so the walk graph joins them
    assert [p.coords[-1] for p in pieces[0][:-1]] == [(50.0, 0.0), (70.3, 0.2), (90.0, -0.3)]
    assert all(len(pieces[i]) == 1 for i in (1, 2, 3))


def test_bridge_crosses_a_path_without_joining_it(tmp_path):
    """A bridge joins the streets at its ends, not the riverside path it passes over (docs/dataset.md)."""
    crs = "EPSG:5186"
    lines = [
        ("평화로", "N", [(127.040, 37.7360), (127.050, 37.7360)]),
        ("호국로", "N", [(127.0425, 37.7340), (127.0425, 37.7420)]),
        ("신흥로", "N", [(127.0475, 37.7340), (127.0475, 37.7420)]),
        ("중랑천길", "N", [(127.0450, 37.7340), (127.0450, 37.7420)]),  # riverside path, meets 평화로
        ("중랑교", "Y", [(127.0425, 37.7380), (127.0475, 37.7380)]),  # bridge over the path
    ]
    recs = {"RN": [r[0] for r in lines], "BRIDGE": [r[1] for r in lines]}
    roads = _write(tmp_path / "roads.shp", recs, [LineString(_proj(r[2], crs)) for r in lines], crs)
    out = tmp_path / "out"
    import_shp(out, roads=roads)
    city = load_city(out)
    edges = city.layers["roads"]
    bridge = edges[edges["name"] == "중랑교"]
    assert list(bridge["kind"]) == ["bridge"]  # one edge: not cut where it passes over the path
    assert len(edges[edges["name"] == "중랑천길"]) == 2  # cut only where it meets 평화로 at grade
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    over = tr.transform(127.0450, 37.7380)
    assert city.nearest_nodes([over])[1][0] > 50.0  # no junction under the bridge
    for end in lines[4][2]:  # the bridge ends are T-junctions with 호국로 and 신흥로
        assert city.graph.degree(city.nearest_node(*tr.transform(*end), max_distance_m=1.0)) == 3


def test_node_lines_leaves_grade_separated_crossings_alone():
    path = LineString([(50, -50), (50, 50)])
    bridge = LineString([(0, 0), (100, 0)])
    street = LineString([(0, -50), (0, 50)])  # the bridge ends on it: a junction
    ramp = LineString([(70, 0.2), (70, 40)])  # stops on the bridge deck: a junction
    pieces, cuts = node_lines([path, bridge, street, ramp], separated=[False, True, False, False])
    assert cuts == 2
    assert len(pieces[0]) == 1  # the path under the bridge is not cut
    assert [p.coords[-1] for p in pieces[1][:-1]] == [(70.0, 0.2)]  # the deck is cut at the ramp's end
    assert [p.coords[-1] for p in pieces[2][:-1]] == [(0.0, 0.0)]  # the street is cut at the bridge's end
    assert node_lines([path, bridge], separated=[False, False])[1] == 2  # without the flag: a crossing
