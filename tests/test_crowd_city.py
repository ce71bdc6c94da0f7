"""People on the Uijeongbu riverside paths during the flagship flash flood (integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.models.crowd.fundamental_diagram import WEIDMANN
from twin.runner import run_scenario
from twin.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "flash_flood_evening_walkers.yaml"


@pytest.fixture(scope="module")
def walkers(city, tmp_path_factory):
    s = load_scenario(SCENARIO, overrides=["populations.0.count=600"])
    return run_scenario(s, out=tmp_path_factory.mktemp("walk") / "run", city=city)


def test_crowd_kpis_are_reported_and_consistent(walkers):
    c = walkers.summary["crowd"]
    assert c["people"] == 600 and c["stranded"] == 0 and c["still_evacuating"] == 0
    assert c["evacuees"] == c["evacuated"] > 0
    assert 0 < c["t50_s"] <= c["t90_s"] <= c["t95_s"] <= c["t100_s"]
    evac = [p for p in walkers.crowd.model.pedestrians() if p.evacuating_since is not None]
    assert min(p.arrived_s - p.evacuating_since for p in evac) > 0  # nobody "evacuates" in no time
    assert 0 < c["exposed_people"] <= c["people"] and c["exposure_person_s"] > 0
    assert "중랑천" in c["evacuation_orders"]


def test_no_evacuation_is_faster_than_its_lower_bound(walkers):
    lb = walkers.summary["crowd"]["evacuation_lower_bound_s"]["중랑천"]
    assert lb["people"] > 0 and lb["bound_s"] is not None
    assert lb["bound_s"] <= lb["simulated_s"]


def test_evacuees_end_on_the_street_and_densities_stay_below_jam(walkers):
    crowd_links = walkers.engine.recorder.to_frame()
    dens = crowd_links[crowd_links.variable == "density"]["value"]
    assert len(dens) > 0 and dens.max() < WEIDMANN.jam_density_p_m2


def test_the_order_follows_the_first_flooded_jungnangcheon_path(walkers):
    s = walkers.summary
    first = min(
        a["path_flooded_at_s"]
        for a in s["access_points"].values()
        if a["stream"] == "중랑천" and a["path_flooded_at_s"] is not None
    )
    assert s["crowd"]["evacuation_orders"]["중랑천"]["time_s"] == first


def test_school_commute_brings_everyone_to_the_gate_and_writes_tracks(city, tmp_path):
    import pandas as pd

    s = load_scenario(SCENARIO.parent / "school_commute_ganeung.yaml", overrides=["populations.0.count=200"])
    r = run_scenario(s, out=tmp_path / "run", city=city)
    people = r.crowd.model.pedestrians()
    assert len(people) == 200 and all(p.arrived_s is not None for p in people)
    school = city.facilities_of_kind("school").set_index("name").loc["가능초등학교"].geometry
    gate = city.nearest_node(school.x, school.y)
    assert {p.node for p in people} == {gate}
    tracks = pd.read_parquet(r.out / "trajectories.parquet")
    assert {"time_s", "person", "x", "y", "lon", "lat"} <= set(tracks.columns)
    assert tracks["lon"].between(127.0, 127.15).all() and tracks["lat"].between(37.68, 37.79).all()
    # children walk slower than adults on average
    child = [p.free_speed_m_s for p in people if p.group == "child"]
    adult = [p.free_speed_m_s for p in people if p.group == "adult"]
    assert sum(child) / len(child) < sum(adult) / len(adult)


def test_an_unknown_school_is_a_scenario_error(city):
    from twin.errors import ScenarioError

    s = load_scenario(SCENARIO.parent / "school_commute_ganeung.yaml", overrides=["populations.0.school=없는학교"])
    with pytest.raises(ScenarioError, match="없는학교"):
        run_scenario(s, city=city)


def test_residents_of_a_dong_walk_to_the_nearest_shelter(city):
    from twin.scenario import scenario_from_mapping

    data = {
        "schema_version": 1,
        "name": {"ko": "대피", "en": "evacuation"},
        "start": "2026-07-15T20:00:00+09:00",
        "duration": "1h",
        "rainfall": {"kind": "none"},
        "hydraulics": {"enabled": False},
        "populations": [{"kind": "residents", "dong": "신곡1동", "count": 150, "order_at": "5min"}],
    }
    r = run_scenario(scenario_from_mapping(data, source=SCENARIO), city=city)
    shelters = city.facilities_of_kind("shelter")
    shelter_nodes = {city.nearest_node(g.x, g.y) for g in shelters.geometry}
    people = r.crowd.model.pedestrians()
    assert len(people) == 150 and all(p.arrived_s is not None and p.node in shelter_nodes for p in people)
    assert all(p.depart_s >= 300.0 for p in people)
    c = r.summary["crowd"]
    assert c["evacuated"] == 150 and c["t50_s"] <= c["t100_s"]


def test_summary_changes_nothing(city):
    """Reporting is not simulating: the crowd KPIs read twice (as a live fleet reads them) are the
    same, also while people are still on a flooded path (their exposure so far counts once)."""
    from twin.simulation import Simulation

    s = load_scenario(SCENARIO, overrides=["populations.0.count=600"])
    with Simulation(s, city=city) as sim:
        sim.advance_to(6630.0)  # the 중랑천 paths flooded at 6600 s: some are still on them
        crowd = sim.crowd
        links = crowd.model.links.links
        assert any(p.link is not None and links[p.link].flooded_s is not None for p in crowd.model.pedestrians())
        first = crowd.summary()
        assert first["exposure_person_s"] > 0
        assert crowd.summary() == first
        assert crowd.evacuees().equals(crowd.evacuees())
