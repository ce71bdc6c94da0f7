"""twin.importers.osm: an OSM extract (.osm XML and .osm.pbf) becomes a dataset load_city accepts.

The fixture is a hand-written extract of a few hundred metres around lon 127.045, lat 37.738
(WGS84): two residential roads crossing, a river with a footway along it, steps and a ramp down
to the footway, a footbridge over the river, a sidewalk, a building, a school, plus a motorway,
a private service road and a far-away footway (with a hospital) that must not be imported.
"""

from __future__ import annotations

import json
from pathlib import Path

import osmium
import pandas as pd
import pytest
from pyproj import Transformer

from twin import DataImportError, load_city
from twin.importers.osm import import_osm

NODES = {
    # id: (lon, lat)
    1: (127.0430, 37.7380),  # road A west end, ramp top
    2: (127.0450, 37.7380),  # crossing of road A and road B
    3: (127.0470, 37.7380),  # road A east end
    4: (127.0450, 37.7370),  # road B south end, steps top
    5: (127.0450, 37.7390),  # road B north end
    6: (127.0450, 37.7375),  # road B interior node shared only with the motorway
    20: (127.0420, 37.7360),  # river
    21: (127.0450, 37.7360),
    22: (127.0480, 37.7360),
    30: (127.0430, 37.7363),  # riverside footway, 33 m north of the river
    31: (127.0450, 37.7363),
    32: (127.0470, 37.7363),
    33: (127.0470, 37.7352),  # south end of the footbridge
    35: (127.0470, 37.7386),  # sidewalk end
    36: (127.0450, 37.7366),  # steps interior
    37: (127.0430, 37.7370),  # ramp interior
    40: (127.0440, 37.7384),  # building corners
    41: (127.0443, 37.7384),
    42: (127.0443, 37.7387),
    43: (127.0440, 37.7387),
    60: (127.0600, 37.7500),  # far-away footway, about 1.9 km north-east
    61: (127.0605, 37.7500),
    70: (127.0420, 37.7375),  # motorway
    71: (127.0480, 37.7375),
    72: (127.0480, 37.7380),  # private service road end
}
NODE_TAGS = {
    50: (
        (127.0455, 37.7385),
        {"amenity": "school", "name": "의정부초등학교", "name:en": "Uijeongbu Elementary School"},
    ),
    51: ((127.0602, 37.7502), {"amenity": "hospital", "name": "먼병원"}),
}
WAYS = {
    100: ([1, 2, 3], {"highway": "residential", "name": "시민로", "name:en": "Simin-ro", "width": "wide"}),
    101: ([4, 6, 2, 5], {"highway": "residential", "width": "3.5m"}),
    102: ([30, 31, 32], {"highway": "footway"}),
    103: ([4, 36, 31], {"highway": "steps"}),
    104: ([32, 33], {"highway": "footway", "bridge": "yes", "layer": "1"}),
    106: ([1, 37, 30], {"highway": "footway", "incline": "down"}),
    107: ([3, 35], {"highway": "footway", "footway": "sidewalk", "width": "2 m"}),
    200: ([20, 21, 22], {"waterway": "river", "name": "중랑천", "name:en": "Jungnangcheon", "width": "40"}),
    300: (
        [40, 41, 42, 43, 40],
        {"building": "apartments", "start_date": "1985", "building:levels": "4", "building:material": "concrete"},
    ),
    400: ([60, 61], {"highway": "footway"}),
    500: ([70, 6, 71], {"highway": "motorway", "name": "고속도로"}),
    501: ([3, 72], {"highway": "service", "access": "private"}),
}
ADMIN_NODES = {
    80: (127.0400, 37.7340),
    81: (127.0500, 37.7340),
    82: (127.0500, 37.7410),
    83: (127.0400, 37.7410),
    84: (127.0460, 37.7340),
    85: (127.0460, 37.7410),
    86: (127.0460, 37.7383),  # a multipolygon school building
    87: (127.0465, 37.7383),
    88: (127.0465, 37.7386),
    89: (127.0460, 37.7386),
}
ADMIN_WAYS = {
    800: ([80, 81, 82, 83, 80], {}),
    801: ([80, 84, 85, 83, 80], {"boundary": "administrative", "admin_level": "8", "name": "가능동"}),
    802: ([86, 87, 88, 89, 86], {}),
}
ADMIN_RELATIONS = {
    900: (
        [800],
        {
            "type": "boundary",
            "boundary": "administrative",
            "admin_level": "6",
            "name": "의정부시",
            "name:en": "Uijeongbu",
        },
    ),
    901: ([802], {"type": "multipolygon", "building": "school", "amenity": "kindergarten", "name": "유치원"}),
}
TO_5186 = Transformer.from_crs("EPSG:4326", "EPSG:5186", always_xy=True)


def _tags(tags: dict[str, str]) -> str:
    return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())


def osm_xml(*, admin: bool = False) -> str:
    """The fixture extract as OSM XML; ``admin`` adds a city boundary relation and one dong."""
    nodes = dict(NODES)
    ways = dict(WAYS)
    relations = {}
    if admin:
        nodes.update(ADMIN_NODES)
        ways.update(ADMIN_WAYS)
        relations.update(ADMIN_RELATIONS)
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in sorted(nodes.items()):
        lines.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for nid, ((lon, lat), tags) in sorted(NODE_TAGS.items()):
        lines.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{_tags(tags)}</node>')
    for wid, (refs, tags) in sorted(ways.items()):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'  <way id="{wid}" version="1">{nds}{_tags(tags)}</way>')
    for rid, (members, tags) in sorted(relations.items()):
        mem = "".join(f'<member type="way" ref="{m}" role="outer"/>' for m in members)
        lines.append(f'  <relation id="{rid}" version="1">{mem}{_tags(tags)}</relation>')
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def write_pbf(xml_path: Path, pbf_path: Path) -> None:
    """Write the objects of ``xml_path`` to ``pbf_path`` with osmium's writer."""
    with osmium.SimpleWriter(str(pbf_path)) as writer:
        for obj in osmium.FileProcessor(str(xml_path)):
            writer.add(obj)


def _xy(nid: int) -> tuple[float, float]:
    lon, lat = NODES[nid]
    return TO_5186.transform(lon, lat)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The fixture imported once from XML: (src, out, report, city, progress messages)."""
    tmp = tmp_path_factory.mktemp("osm")
    src = tmp / "uijeongbu_test.osm"
    src.write_text(osm_xml(), encoding="utf-8")
    out = tmp / "dataset"
    messages: list[str] = []
    report = import_osm(src, out, progress=messages.append)
    return src, out, report, load_city(out), messages


def test_loads_as_one_connected_city(imported):
    _, out, report, city, messages = imported
    info = city.info()
    assert info["graph"]["components"] == 1
    assert messages and any("reading" in m for m in messages)
    assert report["layers"]["roads"] == len(city.layers["roads"]) == 10
    assert report["layers"]["streams"] == 1
    assert report["layers"]["slopes"] == report["layers"]["devices"] == report["layers"]["access_points"] == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    roads_entry = manifest["layers"]["roads"]
    assert roads_entry["source"] == "OpenStreetMap extract uijeongbu_test.osm"
    assert roads_entry["licence"] == "ODbL 1.0 (© OpenStreetMap contributors)"
    assert roads_entry["approximate"] is False
    assert manifest["layers"]["streams"]["approximate"] is True
    assert "placeholder" in manifest["layers"]["streams"]["description"]


def test_road_kinds_and_attributes(imported):
    _, _, _, city, _ = imported
    roads = city.layers["roads"].set_index("edge_id")
    kinds = set(roads["kind"])
    assert {"stairs", "bridge", "riverside_path", "ramp", "sidewalk", "road"} <= kinds
    assert set(roads.loc[["w102-0", "w102-1"], "kind"]) == {"riverside_path"}
    assert roads.loc["w103-0", "kind"] == "stairs"
    assert roads.loc["w104-0", "kind"] == "bridge"
    assert roads.loc["w106-0", "kind"] == "ramp"
    assert roads.loc["w107-0", "kind"] == "sidewalk"
    assert roads.loc["w100-0", "kind"] == "road"
    # width tag parsed ("3.5m", "2 m"); junk ("wide") falls back to the residential default
    assert set(roads.loc[["w101-0", "w101-1"], "width_m"]) == {3.5}
    assert roads.loc["w107-0", "width_m"] == 2.0
    assert roads.loc["w100-0", "width_m"] == 3.0
    assert roads.loc["w103-0", "width_m"] == 1.5
    assert roads.loc["w100-0", "name"] == "시민로"
    assert roads.loc["w100-0", "name_en"] == "Simin-ro"
    assert int(roads.loc["w100-1", "osm_way_id"]) == 100


def test_ways_split_at_shared_nodes_only(imported):
    _, _, _, city, _ = imported
    roads = city.layers["roads"]
    pieces = {w: sorted(roads.loc[roads["osm_way_id"] == w, "edge_id"]) for w in (100, 101, 102)}
    assert pieces == {100: ["w100-0", "w100-1"], 101: ["w101-0", "w101-1"], 102: ["w102-0", "w102-1"]}
    # road B is not split at node 6, which it shares only with the (skipped) motorway
    first = roads.set_index("edge_id").loc["w101-0"].geometry
    assert len(first.coords) == 3
    G = city.graph
    crossing = city.nearest_node(*_xy(2))
    assert G.degree(crossing) == 4
    assert {d["edge_id"] for _, _, d in G.edges(crossing, data=True)} == {"w100-0", "w100-1", "w101-0", "w101-1"}
    steps_foot = city.nearest_node(*_xy(31))
    assert G.degree(steps_foot) == 3


def test_excluded_ways_and_far_component(imported):
    _, _, report, city, _ = imported
    roads = city.layers["roads"]
    assert not set(roads["osm_way_id"].astype(int)) & {400, 500, 501}
    assert "고속도로" not in set(roads["name"].dropna())
    assert report["dropped_components"] == 1
    assert report["dropped_edges"] == 1
    dropped = report["dropped"]["roads"]
    assert dropped["highway=motorway is not walkable"] == 1
    assert dropped["access=private"] == 1
    assert dropped["not in the largest connected component"] == 1
    # the hospital beside the far-away footway is beyond load_city's reachability limit
    assert sum(report["dropped"]["facilities"].values()) == 1


def test_buildings_facilities_streams_boundary(imported):
    _, _, _, city, _ = imported
    b = city.layers["buildings"].set_index("building_id").loc["w300"]
    assert b["year_built"] == 1985
    assert b["storeys"] == 4
    assert b["structure"] == "reinforced_concrete"
    assert b["use"] == "apartments"
    fac = city.layers["facilities"]
    assert list(fac["facility_id"]) == ["n50"]
    school = fac.iloc[0]
    assert school["kind"] == "school"
    assert school["name"] == "의정부초등학교"
    assert school["name_en"] == "Uijeongbu Elementary School"
    s = city.layers["streams"].iloc[0]
    assert s["reach_id"] == "w200"
    assert s["name"] == "중랑천"
    assert s["width_m"] == 40.0
    assert s["downstream_reach_id"] is None
    assert s["bed_elev_up_m"] == pytest.approx(0.002 * s.geometry.length, abs=0.01)
    assert bool(s["approximate"]) is True
    bnd = city.layers["boundary"].iloc[0]
    assert bnd["city_code"] == "osm"
    assert bnd["name"] == "uijeongbu_test"
    assert bnd.geometry.contains(city.layers["roads"].union_all())
    assert list(city.layers["dongs"]["dong_code"]) == ["osm-1"]


def test_admin_boundary_and_dongs(tmp_path):
    src = tmp_path / "admin.osm"
    src.write_text(osm_xml(admin=True), encoding="utf-8")
    report = import_osm(src, tmp_path / "out", name="Test city")
    city = load_city(tmp_path / "out")
    bnd = city.layers["boundary"].iloc[0]
    assert (bnd["name"], bnd["name_en"]) == ("의정부시", "Uijeongbu")
    assert bnd.geometry.area == pytest.approx(880 * 780, rel=0.05)  # 0.01 deg lon x 0.007 deg lat
    dongs = city.layers["dongs"]
    assert list(dongs["dong_code"]) == ["osm-w801"]
    assert list(dongs["name"]) == ["가능동"]
    assert report["name"] == city.manifest["name"] == "Test city"
    # a multipolygon relation: a building and (at its representative point) a facility
    b = city.layers["buildings"].set_index("building_id")
    assert b.loc["r901", "use"] == "school"
    assert pd.isna(b.loc["r901", "year_built"])
    assert b.loc["r901", "structure"] == "unknown"
    fac = city.layers["facilities"].set_index("facility_id")
    assert fac.loc["r901", "kind"] == "school"
    assert b.loc["r901"].geometry.contains(fac.loc["r901"].geometry)


def test_pbf_gives_the_same_layers(imported, tmp_path):
    src, out, _, _, _ = imported
    pbf = tmp_path / "uijeongbu_test.osm.pbf"
    write_pbf(src, pbf)
    out_pbf = tmp_path / "from_pbf"
    import_osm(pbf, out_pbf)
    city = load_city(out_pbf)
    assert city.info()["graph"]["components"] == 1
    assert {"stairs", "bridge", "riverside_path"} <= set(city.layers["roads"]["kind"])
    for f in sorted(out.glob("*.geojson")):
        assert (out_pbf / f.name).read_bytes() == f.read_bytes(), f.name
    manifest = json.loads((out_pbf / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["layers"]["roads"]["source"] == "OpenStreetMap extract uijeongbu_test.osm.pbf"


def test_output_is_deterministic(imported, tmp_path):
    src, out, _, _, _ = imported
    again = tmp_path / "again"
    import_osm(src, again)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(p.name for p in again.iterdir())
    assert "manifest.json" in files
    for name in files:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_existing_output_needs_overwrite(imported, tmp_path):
    src, _, _, _, _ = imported
    out = tmp_path / "ds"
    import_osm(src, out)
    (out / "stale.txt").write_text("old", encoding="utf-8")
    with pytest.raises((FileExistsError, DataImportError)):
        import_osm(src, out)
    assert (out / "stale.txt").exists()
    import_osm(src, out, overwrite=True)
    assert not (out / "stale.txt").exists()
    load_city(out)


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere.osm.pbf"
    with pytest.raises(DataImportError, match="nowhere.osm.pbf"):
        import_osm(missing, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fname", ["garbage.osm", "garbage.osm.pbf"])
def test_garbage_file(tmp_path, fname):
    bad = tmp_path / fname
    bad.write_bytes(b"this is not OpenStreetMap data \x00\x01\x02\xff" * 10)
    with pytest.raises(DataImportError, match=fname.replace(".", r"\.")):
        import_osm(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))


def test_no_walkable_ways(tmp_path):
    src = tmp_path / "rivers_only.osm"
    src.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">'
        '<node id="1" version="1" lat="37.7360" lon="127.0420"/>'
        '<node id="2" version="1" lat="37.7360" lon="127.0450"/>'
        '<way id="1" version="1"><nd ref="1"/><nd ref="2"/><tag k="waterway" v="river"/></way>'
        '<way id="2" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/></way>'
        "</osm>\n",
        encoding="utf-8",
    )
    with pytest.raises(DataImportError, match=r"rivers_only\.osm.*no walkable ways"):
        import_osm(src, tmp_path / "out")


def test_no_waterways(tmp_path):
    src = tmp_path / "streets_only.osm"
    src.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">'
        '<node id="1" version="1" lat="37.7380" lon="127.0430"/>'
        '<node id="2" version="1" lat="37.7380" lon="127.0450"/>'
        '<way id="1" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>'
        "</osm>\n",
        encoding="utf-8",
    )
    report = import_osm(src, tmp_path / "out")  # a dataset without rivers is allowed
    assert report["layers"]["streams"] == 0
    assert len(load_city(tmp_path / "out").layers["streams"]) == 0


# --------------------------------------------------------------------------- a city with its own gauges

GAUGE_NODES = {
    # a water-level station 5 m north of the river, and a rain gauge beside road A
    90: (
        (127.0451, 37.73605),
        {
            "man_made": "monitoring_station",
            "monitoring:water_level": "yes",
            "name": "시험교 수위관측소",
            "ref": "2099001",
        },
    ),
    91: ((127.0452, 37.7382), {"man_made": "monitoring_station", "monitoring:precipitation": "yes", "ref": "2099002"}),
    92: ((127.0460, 37.7385), {"man_made": "monitoring_station", "monitoring:water_level": "yes", "ref": "far"}),
}


def gauged_xml() -> str:
    """The fixture with gauges, and its river drawn as two ways that meet (flow west to east)."""
    global NODE_TAGS, WAYS
    saved = NODE_TAGS, WAYS
    try:
        NODE_TAGS = {**NODE_TAGS, **GAUGE_NODES}
        WAYS = {k: v for k, v in WAYS.items() if k != 200}
        river = {"waterway": "river", "name": "중랑천", "name:en": "Jungnangcheon", "width": "40"}
        WAYS.update({200: ([20, 21], river), 201: ([21, 22], river)})
        return osm_xml()
    finally:
        NODE_TAGS, WAYS = saved


@pytest.fixture(scope="module")
def gauged(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("osm-gauged")
    src = tmp / "gauged.osm"
    src.write_text(gauged_xml(), encoding="utf-8")
    out = tmp / "dataset"
    report = import_osm(src, out)
    return out, report, load_city(out)


def test_gauges_and_linked_reaches_are_imported(gauged):
    out, report, city = gauged
    dev = city.layers["devices"].set_index("device_id")
    assert sorted(dev.index) == ["LS-2099001", "RG-2099002"]
    assert report["dropped"]["devices"] == {"water-level station more than 100 m from a waterway": 1}
    ls = dev.loc["LS-2099001"]
    assert (ls["kind"], ls["stream"], ls["name"]) == ("level_sensor", "중랑천", "시험교 수위관측소")
    stages = [ls[f"threshold_{lv}_m"] for lv in ("attention", "caution", "alert", "serious")]
    assert stages == sorted(stages) and 0 < stages[0] and stages[-1] < 3.0  # below the 3 m placeholder bank
    assert not ls["thresholds_verified"]
    streams = city.layers["streams"].set_index("reach_id")
    assert streams.loc["w200", "downstream_reach_id"] == "w201"
    assert streams.loc["w201", "downstream_reach_id"] is None
    # the bed falls downstream, continuously, to 0 m at the outlet
    assert streams.loc["w201", "bed_elev_down_m"] == 0.0
    assert streams.loc["w200", "bed_elev_down_m"] == pytest.approx(streams.loc["w201", "bed_elev_up_m"], abs=1e-3)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["hydrology"] == {"stream_gauges": {"중랑천": "LS-2099001"}, "key_gauge": "LS-2099001"}
    assert city.river_gauges.warning_gauge("중랑천") == "LS-2099001"
    assert not [w for w in city.warnings if "hydrology" in str(w)]


def _flood(city, dataset, tmp_path, *, total_mm: float, duration: str):
    """A design storm of ``total_mm`` mm in 1 h on ``dataset``, run for ``duration``."""
    from twin.runner import run_scenario
    from twin.scenario import scenario_from_mapping

    data = {
        "schema_version": 1,
        "name": {"ko": "시험 홍수", "en": "test flood"},
        "dataset": str(dataset),
        "seed": 1,
        "start": "2026-07-15T14:00:00+09:00",
        "duration": duration,
        "rainfall": {"kind": "design", "total_mm": total_mm, "duration": "1h", "pattern": "huff_q3"},
    }
    return run_scenario(scenario_from_mapping(data, source=tmp_path / "s.yaml"), out=tmp_path / "run", city=city)


def test_an_imported_city_floods_with_its_own_gauge(gauged, tmp_path):
    """Issue 14: an OSM city with its own gauge runs a flood scenario and reports that gauge."""
    out, _, city = gauged
    run = _flood(city, out, tmp_path, total_mm=80, duration="3h")
    gauges = run.summary["gauges"]
    assert list(gauges) == ["LS-2099001"]
    assert gauges["LS-2099001"]["peak_stage_m"] > 0.0
    for f in (tmp_path / "run").iterdir():  # nothing of Uijeongbu's gauges anywhere in the run folder
        assert b"1018665" not in f.read_bytes(), f.name


def test_a_city_without_gauges_is_told_what_it_lacks(imported):
    _, out, _, city, _ = imported
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "hydrology" not in manifest
    said = [str(w) for w in city.warnings if "hydrology" in str(w)]
    assert len(said) == 1 and "no warning gauge for 중랑천" in said[0]


def test_a_city_without_devices_or_chainage_still_floods(imported, tmp_path):
    """Issue 15 (crashes on valid datasets): an empty devices layer (no gauge to cut the channel at)
    and reaches without ``chainage_up_m`` used to crash ``twin run`` with KeyError; such a dataset
    is valid, so it must run: the flood is modelled and no gauge is reported."""
    _, out, _, city, _ = imported
    assert len(city.layers["devices"]) == 0 and "chainage_up_m" not in city.layers["streams"]
    run = _flood(city, out, tmp_path, total_mm=60, duration="2h")
    assert run.summary["gauges"] == {} and run.summary["access_points"] == {}
    assert run.summary["swmm"]["conduits"] >= 1
    assert abs(run.summary["swmm"]["flow_routing_continuity_error_pct"]) < 5.0  # mass balance holds
