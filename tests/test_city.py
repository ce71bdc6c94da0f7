"""The shipped Uijeongbu city model: contents, invariants and the lookups of CityModel."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from twin.cli import main
from twin.dataset_schema import LAYERS

STREAMS_KO_EN = {
    "중랑천": "Jungnangcheon",
    "부용천": "Buyongcheon",
    "백석천": "Baekseokcheon",
    "회룡천": "Hoeryongcheon",
    "호원천": "Howoncheon",
    "민락천": "Minrakcheon",
}


def test_info_json_meets_the_done_when_figures():
    res = CliRunner().invoke(main, ["gis", "info", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert set(info) >= {"crs", "layers", "devices", "graph", "bounds_wgs84"}
    assert info["crs"] == "EPSG:5186"
    assert info["graph"]["components"] == 1
    assert info["graph"]["edges"] >= 2000
    assert info["layers"]["dongs"] == 14
    assert info["streams"]["named"] == 6
    assert info["layers"]["buildings"] >= 2000
    assert info["devices"]["gate"] >= 10
    assert info["devices"]["level_sensor"] >= 2
    assert info["devices"]["cctv"] >= 30
    lon0, lat0, lon1, lat1 = info["bounds_wgs84"]
    assert 126.9 < lon0 < lon1 < 127.2 and 37.6 < lat0 < lat1 < 37.85


def test_six_named_streams_with_korean_and_english_names(city):
    s = city.layer("streams")
    assert dict(zip(s["name"], s["name_en"], strict=True)) == STREAMS_KO_EN


def test_every_layer_is_in_epsg_5186(city):
    for name, gdf in city.layers.items():
        assert gdf.crs.to_epsg() == 5186, name
        assert LAYERS[name].id_column in gdf


def test_walk_graph_edges_carry_length_width_kind(city):
    kinds = set()
    for _, _, d in city.graph.edges(data=True):
        assert d["length_m"] > 0 and d["width_m"] > 0
        kinds.add(d["kind"])
    assert kinds == {"road", "sidewalk", "riverside_path", "bridge", "ramp", "stairs"}


def test_riverside_paths_are_entered_only_by_ramps_and_stairs(city):
    """A gate at each ramp or stair must be able to close a path: no street joins it directly."""
    G = city.graph
    allowed = {"riverside_path", "ramp", "stairs"}
    for u, v, d in G.edges(data=True):
        if d["kind"] != "riverside_path":
            continue
        for n in (u, v):
            assert {e[2] for e in G.edges(n, data="kind")} <= allowed


def test_reach_network_drains_downhill_to_one_outlet(city):
    """Reaches form a tree; beds fall downstream and are continuous at every join (within 5 cm)."""
    s = city.layer("streams").set_index("reach_id")
    outlets = s[s["downstream_reach_id"].isna()]
    assert len(outlets) == 1 and outlets.iloc[0]["name"] == "중랑천"
    for rid, r in s.iterrows():
        assert r["bed_elev_up_m"] >= r["bed_elev_down_m"]
        assert r["bed_slope"] == pytest.approx(
            (r["bed_elev_up_m"] - r["bed_elev_down_m"]) / r.geometry.length, abs=2e-4
        ), rid
        nxt = r["downstream_reach_id"]
        if isinstance(nxt, str):
            assert nxt in s.index
            if s.loc[nxt, "name"] == r["name"]:
                assert r["bed_elev_down_m"] == pytest.approx(s.loc[nxt, "bed_elev_up_m"], abs=0.05)
            # every reach ends on the reach it drains into (confluences are shared points)
            assert r.geometry.boundary.geoms[-1].distance(s.loc[nxt].geometry) < 1.0


def test_gates_have_their_sensors_and_access_points(city):
    dev = city.layer("devices").set_index("device_id")
    ap = city.layer("access_points").set_index("access_id")
    gates = dev[dev["kind"] == "gate"]
    assert len(gates) == 10
    assert set(gates["access_id"].map(lambda a: ap.loc[a, "stream"])) == {"중랑천", "부용천", "백석천"}
    for gid, g in gates.iterrows():
        assert dev.loc[g["level_sensor_id"], "kind"] == "level_sensor"
        assert dev.loc[g["rain_gauge_id"], "kind"] == "rain_gauge"
        assert ap.loc[g["access_id"], "gate_id"] == gid
        # the gate stands at the top of its ramp or stair, a few metres from the path
        assert g.geometry.distance(ap.loc[g["access_id"]].geometry) < 20


def test_alert_thresholds_rise_in_hrfco_order(city):
    ls = city.devices_of_kind("level_sensor")
    cols = ["threshold_attention_m", "threshold_caution_m", "threshold_alert_m", "threshold_serious_m"]
    assert (np.diff(ls[cols].to_numpy(float), axis=1) > 0).all()
    wamis = ls.set_index("device_id").loc[["LS-1018665", "LS-1018666"]]
    assert not wamis["thresholds_verified"].astype(bool).any()  # conflicting public sources


def test_ramps_and_stairs_are_short_and_start_at_an_access_point(city):
    roads = city.layer("roads")
    ap = city.layer("access_points").set_index("access_id")
    steps = roads[roads["kind"].isin(["ramp", "stairs"])]
    assert len(steps) == len(ap)
    assert (steps.length <= 16.5).all()
    for _, e in steps.iterrows():
        assert e.geometry.boundary.geoms[0].distance(ap.loc[e["access_id"]].geometry) < 0.01


def test_access_points_lie_below_the_bank_top(city):
    ap = city.layer("access_points")
    reaches = city.layer("streams")
    for _, a in ap.iterrows():
        r = reaches[reaches["name"] == a["stream"]]
        bank = r.loc[r.distance(a.geometry).idxmin(), "bank_height_m"]
        assert 0 < a["path_height_m"] < bank


def test_cctv_counts_match_the_protection_zone_data(city):
    cams = city.devices_of_kind("cctv")
    zones = city.facilities_of_kind("child_protection_zone")
    per_zone = cams["zone_id"].value_counts()
    for _, z in zones.iterrows():
        assert per_zone.get(z["facility_id"], 0) == z["cctv_count"]
        near = cams[cams["zone_id"] == z["facility_id"]]
        assert (near.distance(z.geometry) < 60).all()


def test_structural_sensors_sit_on_old_buildings_or_slopes(city):
    old = set(city.buildings_older_than(30)["building_id"])
    slopes = set(city.layer("slopes")["slope_id"])
    for kind in ("tilt_sensor", "crack_sensor"):
        d = city.devices_of_kind(kind)
        assert len(d) > 0
        assert d["host_id"].map(lambda h: h in old or h in slopes).all()


def test_crosswalks_are_at_the_two_school_zones(city):
    xw = city.devices_of_kind("crosswalk")
    fac = city.layer("facilities").set_index("facility_id")
    assert set(fac.loc[xw["school_id"], "name"]) == {"가능초등학교", "의정부효자초등학교"}
    for _, x in xw.iterrows():
        assert x.geometry.distance(fac.loc[x["school_id"]].geometry) < 250


def test_required_facilities_are_present(city):
    fac = city.layer("facilities")
    kinds = fac["kind"].value_counts()
    assert kinds["school"] == 70 and kinds["shelter"] == 107 and kinds["lrt_station"] == 15
    assert kinds["child_protection_zone"] == 75
    for kind in (
        "city_hall",
        "railway_station",
        "welfare_centre",
        "health_centre",
        "police",
        "fire_station",
        "hospital",
    ):
        assert kinds.get(kind, 0) >= 1, kind
    assert "신곡노인종합복지관" in set(fac["name"])


def test_nearest_node_matches_brute_force(city):
    G = city.graph
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    ids = np.array(list(G.nodes))
    rng = np.random.default_rng(0)
    minx, miny, maxx, maxy = city.layer("boundary").total_bounds
    for x, y in zip(rng.uniform(minx, maxx, 20), rng.uniform(miny, maxy, 20), strict=True):
        n = city.nearest_node(x, y)
        d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
        assert np.hypot(G.nodes[n]["x"] - x, G.nodes[n]["y"] - y) == pytest.approx(d.min())
        assert n in ids


def test_buildings_older_than_counts_from_the_reference_year(city):
    b = city.layer("buildings")
    assert city.reference_year == 2026
    old = city.buildings_older_than(30)
    assert len(old) == int((b["year_built"] <= 1996).sum()) > 0
    assert len(city.buildings_older_than(30, as_of_year=2036)) == int((b["year_built"] <= 2006).sum())


def test_unknown_lookups_fail_clearly(city):
    with pytest.raises(KeyError, match="unknown device kind"):
        city.devices_of_kind("drone")
    with pytest.raises(KeyError, match="unknown layer"):
        city.layer("parks")


def test_manifest_credits_every_layer(city):
    layers = city.manifest["layers"]
    for name in LAYERS:
        entry = layers[name]
        assert entry["source"] and entry["licence"] and isinstance(entry["approximate"], bool)
    for name in ("roads", "buildings", "streams", "slopes"):
        assert layers[name]["approximate"] is True


def test_dataset_doc_names_every_attribute():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "dataset.md").read_text(encoding="utf-8")
    for name, spec in LAYERS.items():
        assert f"`{name}`" in doc
        names = [a.name for a in spec.attrs] + [a.name for attrs in spec.kind_attrs.values() for a in attrs]
        for attr in names:
            assert f"`{attr}`" in doc, f"docs/dataset.md does not describe {name}.{attr}"
