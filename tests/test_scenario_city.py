"""What a scenario names in its city is checked against the city at load time (issue 14): before,
``--set thresholds.NOPE.attention_m=1`` was accepted and did nothing, and
``--set thresholds.LS-1018665.attention_m=9`` ran with 관심 (attention) above 주의 (caution).
Populations too (issue 15): a facility, school, dong, stream or point the dataset lacks stopped
``twin run`` in the crowd model after ``twin scenario validate`` had passed the scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from golden_runs import shipped_scenarios

from twin.city import load_city
from twin.cli_scenario import scenario_group
from twin.errors import ScenarioError
from twin.scenario import load_scenario
from twin.scenario_city import MAX_SNAP_M, RIVERSIDE_PATH_KINDS, city_problems

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"
VERIFICATION = REPO / "scenarios" / "verification"
CORRIDOR = VERIFICATION / "corridor_single_walker.yaml"  # nodes at (195000, 560000) and (195040, 560000)
ROOM = VERIFICATION / "room_two_exits.yaml"  # two shelters, no buildings, no riverside paths


def _validate(*sets: str, scenario: Path = FLAGSHIP) -> tuple[int, str]:
    args = ["validate", str(scenario)]
    for s in sets:
        args += ["--set", s]
    res = CliRunner().invoke(scenario_group, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, res.output


def _refused(line: str, *sets: str, scenario: Path = FLAGSHIP) -> str:
    """``twin scenario validate`` exits 2 with ``line`` (prefixed by the file) and no traceback;
    the whole output."""
    code, out = _validate(*sets, scenario=scenario)
    assert code == 2 and f"{scenario}: {line}" in out, out
    assert "Traceback" not in out
    return out


@pytest.fixture(scope="module")
def cities(city):
    """Each shipped scenario's city, by dataset path (the shipped one is the session's)."""
    loaded = {load_scenario(FLAGSHIP).dataset_path(): city}

    def get(s):
        if s.dataset_path() not in loaded:
            loaded[s.dataset_path()] = load_city(s.dataset_path())
        return loaded[s.dataset_path()]

    return get


@pytest.mark.parametrize("scenario", shipped_scenarios(), ids=lambda p: p.stem)
def test_every_shipped_scenario_names_only_what_its_city_has(scenario, cities):
    s = load_scenario(scenario)
    assert city_problems(s, cities(s)) == []


def test_an_unknown_sensor_in_thresholds_is_refused(city):
    code, out = _validate("thresholds.NOPE.attention_m=1")
    assert code == 2 and "thresholds.NOPE: got a sensor id: expected a level sensor of the dataset" in out
    s = load_scenario(FLAGSHIP, overrides=["thresholds.LS-G01.caution_m=2.2"])  # a sensor it has: fine
    assert city_problems(s, city) == []


def test_an_override_that_inverts_the_dataset_ladder_is_refused(city):
    code, out = _validate("thresholds.LS-1018665.attention_m=9")
    assert code == 2
    assert "thresholds.LS-1018665: attention 9 m and caution 5.1 m: expected each stage above the one before" in out


def test_a_run_refuses_it_before_any_model_is_built(city, monkeypatch):
    import twin.simulation as simulation

    built = []
    monkeypatch.setattr(simulation, "build_flood_model", lambda *a, **k: built.append(1))
    s = load_scenario(FLAGSHIP, overrides=["thresholds.LS-1018665.attention_m=9"])
    with pytest.raises(ScenarioError, match="attention 9 m and caution"):
        simulation.Simulation(s, city=city)
    assert built == []


def test_unknown_gauges_and_fault_devices_are_refused(city):
    s = load_scenario(
        FLAGSHIP,
        overrides=[
            "rainfall.gauge_factors={RG-NOPE: 1.2}",
            "faults=[{kind: dropout, device: LS-NOPE, start: 10min}, {kind: gate_stuck_open, device: LS-G01, "
            "start: 10min}]",
        ],
    )
    problems = city_problems(s, city)
    assert any(p.startswith("rainfall.gauge_factors.RG-NOPE: got a gauge id") for p in problems)
    assert "faults[0].device: got 'LS-NOPE': expected a device of the dataset" in problems
    assert "faults[1].device: got 'LS-G01': expected a gate for gate_stuck_open" in problems


def test_resizing_a_basin_the_dataset_lacks_is_refused(city):
    """hydraulics.upstream_catchment_km2 resizes the dataset's upstream basin; a city without one
    (an imported city) refuses it instead of silently ignoring it."""
    import copy
    import dataclasses

    s = load_scenario(FLAGSHIP, overrides=["hydraulics.upstream_catchment_km2=60"])
    assert city_problems(s, city) == []  # Uijeongbu has the basin above 신곡교
    manifest = copy.deepcopy(city.manifest)
    manifest["hydrology"].pop("upstream_basins")
    bare = dataclasses.replace(city, manifest=manifest, fingerprint=None)
    (problem,) = city_problems(s, bare)
    assert problem.startswith("hydraulics.upstream_catchment_km2: got 60: expected null")
    assert city_problems(load_scenario(FLAGSHIP), bare) == []


# --- populations (issue 15) -----------------------------------------------------------------


def test_a_trip_between_facilities_the_dataset_lacks_is_refused(city):
    _refused(
        "populations.0.origin: got 'F-NOPE': expected a facility_id of the dataset, one of F-END, F-START",
        "populations.0.origin=F-NOPE",
        scenario=CORRIDOR,
    )
    _refused(
        "populations.0.destination: got 'F-NOWHERE': expected a facility_id of the dataset, one of F-END, F-START",
        "populations.0.destination=F-NOWHERE",
        scenario=CORRIDOR,
    )
    trip = "populations=[{kind: trips, origin: F-CITYHALL, destination: F-ARTS, count: 5}]"
    assert city_problems(load_scenario(FLAGSHIP, overrides=[trip]), city) == []


def test_nearest_of_a_facility_kind_the_dataset_lacks_is_refused(city):
    """nearest:shelter is an evacuation in the room (two shelters), nowhere to go in the corridor."""
    out = _refused(
        "populations.0.destination: got 'nearest:shelter': expected nearest:<kind> with a facility kind of the "
        "dataset, one of nearest:other",
        "populations.0.destination=nearest:shelter",
        scenario=CORRIDOR,
    )
    assert out.count("populations.") == 1
    _refused(
        "populations.0.destination: got 'nearest:bunker': expected nearest:<kind> with a facility kind of the "
        "dataset, one of nearest:other, nearest:shelter",
        "populations.0.destination=nearest:bunker",
        scenario=ROOM,
    )
    evacuation = "populations=[{kind: trips, origin: F-CITYHALL, destination: 'nearest:shelter', count: 5}]"
    assert city_problems(load_scenario(FLAGSHIP, overrides=[evacuation]), city) == []


def test_a_flow_between_facilities_the_dataset_lacks_is_refused():
    flow = "populations=[{kind: flow, origin: F-NOPE, destination: 'nearest:hospital', rate_p_s: 1, duration: 10}]"
    out = _refused("populations.0.origin: got 'F-NOPE': expected a facility_id of the dataset", flow, scenario=ROOM)
    assert f"{ROOM}: populations.0.destination: got 'nearest:hospital': expected nearest:<kind>" in out
    fine = "populations=[{kind: flow, origin: F-ROOM, destination: F-EXIT-W, rate_p_s: 1, duration: 10}]"
    assert _validate(fine, scenario=ROOM)[0] == 0


@pytest.mark.parametrize("field", ["origin_xy", "destination_xy"])
def test_a_flow_point_farther_than_the_snap_distance_from_the_walk_graph_is_refused(field):
    """The corridor's nodes are (195000, 560000) and (195040, 560000): (195020, 560045) is 49.2 m
    from both, (195020, 560050) 53.9 m, across the 50 m the crowd model snaps within."""
    other = {"origin_xy": "destination: F-END", "destination_xy": "origin: F-START"}[field]

    def flow(y: float) -> str:
        return f"populations=[{{kind: flow, {field}: [195020, {y}], {other}, rate_p_s: 1, duration: 10}}]"

    _refused(
        f"populations.0.{field}: got [195020.0, 560050.0]: expected a point within 50 m of the walk graph "
        "(EPSG:5186, m; the nearest node is 54 m away)",
        flow(560050),
        scenario=CORRIDOR,
    )
    assert _validate(flow(560045), scenario=CORRIDOR)[0] == 0


def test_the_snap_distance_and_path_kinds_are_the_crowd_models():
    """The check and the crowd model apply one rule (the crowd module cannot be imported here:
    twin.models sits above twin.scenario_city in the import layers)."""
    from twin.models.crowd import populations, riverside

    assert MAX_SNAP_M == populations.MAX_SNAP_M == 50.0
    assert RIVERSIDE_PATH_KINDS == riverside.PATH_KINDS


def test_a_school_the_dataset_lacks_is_refused(city):
    _refused(
        "populations.0.school: got '가능중학교': expected a school of the dataset (its name or facility_id), one of "
        "가능초등학교, ",
        "populations.0.school=가능중학교",
        scenario=REPO / "scenarios" / "school_commute_ganeung.yaml",
    )
    schools = city.facilities_of_kind("school")
    by_id = schools.loc[schools["name"] == "가능초등학교", "facility_id"].iloc[0]
    s = load_scenario(REPO / "scenarios" / "school_commute_ganeung.yaml", overrides=[f"populations.0.school={by_id}"])
    assert city_problems(s, city) == []  # _spawn_school matches the facility_id too
    shelter = city.facilities_of_kind("shelter")["facility_id"].iloc[0]
    s = load_scenario(FLAGSHIP, overrides=[f"populations=[{{kind: school_commute, school: {shelter}, count: 5}}]"])
    assert [p.split(":")[0] for p in city_problems(s, city)] == ["populations.0.school"]  # a facility, not a school


def test_residents_of_a_dong_without_buildings_are_refused(city):
    _refused(
        "populations.0.dong: got '신곡9동': expected 'all' or a dong with buildings in the dataset, one of 가능1동",
        "populations=[{kind: residents, dong: 신곡9동, count: 10}]",
    )
    s = load_scenario(FLAGSHIP, overrides=["populations=[{kind: residents, dong: 신곡1동, count: 10}]"])
    assert city_problems(s, city) == []
    _refused(  # the verification room has no buildings at all
        "populations.0.dong: got 'all': expected a dataset with buildings (the residents leave from them)",
        "populations=[{kind: residents, dong: all, count: 10}]",
        scenario=ROOM,
    )
    _refused(  # nor do they name a dong: the crowd model would take every building of the city
        "populations.0.dong: got '신곡1동': expected 'all', because the dataset's buildings do not say which dong",
        "populations=[{kind: residents, dong: 신곡1동, count: 10}]",
        scenario=ROOM,
    )


def test_residents_sent_to_a_facility_kind_the_dataset_lacks_are_refused(city):
    _refused(
        "populations.0.shelter_kind: got 'bunker': expected a facility kind of the dataset, one of "
        "child_protection_zone, city_hall,",
        "populations=[{kind: residents, dong: all, shelter_kind: bunker, count: 10}]",
    )
    s = load_scenario(
        FLAGSHIP, overrides=["populations=[{kind: residents, dong: all, shelter_kind: school, count: 1}]"]
    )
    assert city_problems(s, city) == []


def test_walkers_on_a_stream_without_riverside_paths_are_refused():
    _refused(
        "populations.0.stream: got '중랑': expected a stream with riverside paths, one of 민락천, 백석천, 부용천, "
        "중랑천, 호원천, 회룡천",
        "populations.0.stream=중랑",
        scenario=REPO / "scenarios" / "flash_flood_evening_walkers.yaml",
    )


@pytest.mark.parametrize("stream", ["null", "중랑천"])
def test_walkers_in_a_city_without_riverside_paths_are_refused(stream):
    """Before, the crowd model placed none of them without a word (stream null) or stopped the run."""
    _refused(
        f"populations.0.stream: got {'null' if stream == 'null' else repr(stream)}: expected a dataset with "
        "riverside paths (roads of kind riverside_path, ramp or stairs with a stream), and this one has none",
        f"populations=[{{kind: riverside, stream: {stream}, count: 100}}]",
        scenario=ROOM,
    )


def test_every_bad_population_is_reported_at_once_and_a_run_refuses_it_before_any_model(city, monkeypatch):
    import twin.simulation as simulation

    pops = (
        "populations=[{kind: riverside, stream: 중랑천, count: 10}, {kind: trips, origin: F-NOPE, "
        "destination: 'nearest:shelter', count: 1}, {kind: school_commute, school: 가능초등학교, count: 1}, "
        "{kind: flow, origin_xy: [0, 0], destination_xy: [0, 0], rate_p_s: 1, duration: 1}]"
    )
    s = load_scenario(FLAGSHIP, overrides=[pops])
    fields = [p.split(": ")[0] for p in city_problems(s, city)]
    assert fields == ["populations.1.origin", "populations.3.origin_xy", "populations.3.destination_xy"]
    built = []
    monkeypatch.setattr(simulation, "build_flood_model", lambda *a, **k: built.append(1))
    with pytest.raises(ScenarioError, match=r"populations\.1\.origin: got 'F-NOPE'"):
        simulation.Simulation(s, city=city)
    assert built == []
