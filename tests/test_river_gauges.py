"""City facts as data (issue 14): which gauge warns for which stream, the key gauge and the basin
upstream of the city come from the dataset's manifest (``hydrology``), checked on load."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from twin.errors import Problem
from twin.models.flood import catchment_model
from twin.river_gauges import RiverGauges, read_river_gauges

JN, BY = "중랑천", "부용천"


def _with_hydrology(city, hydrology):
    manifest = copy.deepcopy(city.manifest)
    if hydrology is None:
        manifest.pop("hydrology", None)
    else:
        manifest["hydrology"] = hydrology
    # fingerprint None: nothing cached for the shipped data is reused for the changed one
    return dataclasses.replace(city, manifest=manifest, fingerprint=None)


def _read(city, hydrology):
    problems: list[Problem] = []
    warnings: list[Problem] = []
    got = read_river_gauges({"hydrology": hydrology}, city.layer("streams"), city.layer("devices"), problems, warnings)
    return got, [str(p) for p in problems], [str(w) for w in warnings]


def test_the_shipped_dataset_names_its_gauges(city):
    g = city.river_gauges
    assert g.stream_gauges == {JN: "LS-1018665", BY: "LS-1018666", "민락천": "LS-1018666"}
    assert g.key_gauge == "LS-1018665"
    # each stream's gauge is a level sensor on that stream (or, for a tributary, on the one it joins)
    level = city.devices_of_kind("level_sensor").set_index("device_id")
    assert level.loc["LS-1018665", "stream"] == JN and level.loc["LS-1018666", "stream"] == BY
    # streams without their own gauge are warned by the key gauge, as before the facts moved to data
    assert g.warning_gauge("백석천") == "LS-1018665" and g.warning_gauge("민락천") == "LS-1018666"
    assert g.streams_of("LS-1018666") == [BY, "민락천"]
    (basin,) = g.upstream_basins
    assert (basin.stream, basin.gauge, basin.area_above_gauge_km2) == (JN, "LS-1018665", 80.4)
    assert not [w for w in city.warnings if "hydrology" in str(w)]


@pytest.mark.parametrize(
    "hydrology, expected",
    [
        ([], "hydrology: expected an object with stream_gauges, key_gauge, upstream_basins, got list"),
        ({"stream_guages": {}}, "hydrology.stream_guages: unknown key"),
        ({"stream_gauges": {"없는천": "LS-1018665"}}, "hydrology.stream_gauges.없는천: not a stream name"),
        ({"stream_gauges": {JN: "RG-10184010"}}, "RG-10184010 is not a level_sensor in the devices layer"),
        (
            {"stream_gauges": {JN: 7}},
            "hydrology.stream_gauges.중랑천: expected the device_id of a level_sensor, got int",
        ),
        ({"key_gauge": "LS-NOPE"}, "hydrology.key_gauge: LS-NOPE is not a level_sensor"),
        ({"upstream_basins": {}}, "hydrology.upstream_basins: expected a list of objects, got dict"),
        (
            {"upstream_basins": [{"stream": JN, "gauge": None, "area_above_gauge_km2": -3}]},
            "hydrology.upstream_basins[0].area_above_gauge_km2: expected a number of km² > 0",
        ),
        (
            {"upstream_basins": [{"stream": JN, "gauge": None, "area_above_gauge_km2": True}]},
            "hydrology.upstream_basins[0].area_above_gauge_km2: expected a number",
        ),
        (
            {"upstream_basins": [{"stream": "x", "area_above_gauge_km2": 3}]},
            "hydrology.upstream_basins[0].stream: expected a stream name",
        ),
        (
            {"upstream_basins": [{"stream": JN, "area_above_gauge_km2": 3, "area": 1}]},
            "hydrology.upstream_basins[0].area: unknown key",
        ),
        (
            {"upstream_basins": [{"stream": JN, "area_above_gauge_km2": 3}] * 2},
            "hydrology.upstream_basins: stream 중랑천 has more than one upstream basin",
        ),
    ],
)
def test_wrong_hydrology_is_refused_with_its_field_path(city, hydrology, expected):
    got, problems, _ = _read(city, hydrology)
    assert any(p.startswith("manifest: ") and expected in p for p in problems), problems
    assert isinstance(got, RiverGauges)


def test_a_city_without_gauges_is_told_once(city):
    got, problems, warnings = _read(city, {})
    assert got == RiverGauges() and not problems
    assert len(warnings) == 1 and "no warning gauge for" in warnings[0] and JN in warnings[0]
    assert got.warning_gauge(JN) is None
    _, _, warnings = _read(city, {"key_gauge": "LS-1018665"})  # a key gauge warns every stream
    assert warnings == []


def _above(net, subs, gauge):
    import networkx as nx

    G = nx.DiGraph([(c.upstream, c.downstream) for c in net.conduits])
    node = net.entity_node[gauge]
    above = nx.ancestors(G, node) | {node}
    return sum(s.area_ha for s in subs if s.outlet in above or s.name.startswith("S-UPSTREAM")) / 100.0


def test_the_upstream_basin_is_sized_from_the_dataset(city):
    """Area balance: in-city land draining to the gauge + the basin outside = the published area."""
    net, subs = catchment_model(city, 1.0, None)
    assert _above(net, subs, "LS-1018665") == pytest.approx(80.4, abs=0.01)
    bigger = _with_hydrology(
        city,
        {
            **city.manifest["hydrology"],
            "upstream_basins": [{"stream": JN, "gauge": "LS-1018665", "area_above_gauge_km2": 120.0}],
        },
    )
    net2, subs2 = catchment_model(bigger, 1.0, None)
    assert _above(net2, subs2, "LS-1018665") == pytest.approx(120.0, abs=0.01)
    (basin,) = [s for s in subs2 if s.name.startswith("S-UPSTREAM")]
    assert basin.name == "S-UPSTREAM-JN"
    # without the fact there is no basin outside the city: nothing is invented
    none = _with_hydrology(city, None)
    _, subs3 = catchment_model(none, 1.0, None)
    assert not [s for s in subs3 if s.name.startswith("S-UPSTREAM")]
    assert len(subs3) == len(subs) - 1
