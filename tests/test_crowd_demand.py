"""The ``flow`` population: a fixed rate of people (P/s) from one place for a set time, on the
verification datasets (docs/scenarios.md, "Populations"). Departures are evenly spaced and
drawn from nothing; groups and speeds come from the model's rng."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twin.city import load_city
from twin.errors import ScenarioError
from twin.runner import run_scenario
from twin.scenario import MAX_PEOPLE, load_scenario

REPO = Path(__file__).resolve().parents[1]
VERIFY = REPO / "scenarios" / "verification"
CORRIDOR = VERIFY / "corridor_single_walker.yaml"  # one 40 m x 3 m link, F-START -> F-END
BOTTLENECK = VERIFY / "bottleneck_400.yaml"  # 30 m x 3 m, a 1 m x 1 m door, 30 m x 3 m to a shelter
START_XY = (195000.0, 560000.0)  # F-START of the corridor in EPSG:5186, m (its west end)


def flow(**fields) -> str:
    """An override that makes population 0 a ``flow`` with ``fields``."""
    body = ", ".join(f"{k}: {v}" for k, v in {"kind": "flow", **fields}.items())
    return f"populations.0={{{body}}}"


@pytest.fixture(scope="module")
def corridor():
    return load_city(REPO / "gis_data" / "verification" / "corridor")


def run(city, overrides: list[str], scenario: Path = CORRIDOR):
    return run_scenario(load_scenario(scenario, overrides=overrides), city=city)


def test_half_a_person_per_second_for_a_minute_is_30_people_2_s_apart(corridor):
    r = run(corridor, [flow(origin="F-START", destination="F-END", rate_p_s=0.5, duration="1min", start=10)])
    people = r.crowd.model.pedestrians()
    departs = np.array([p.depart_s for p in people])
    assert len(people) == 30
    assert departs[0] == 10.0 and np.all(np.diff(departs) == 2.0)  # start + k / rate, exactly
    # 40 m at free speed: nobody is held up at 0.5 P/s on a 3 m wide link
    assert all(p.arrived_s is not None for p in people)
    walked = np.array([p.arrived_s - p.depart_s for p in people])
    speeds = np.array([p.free_speed_m_s for p in people])
    assert walked == pytest.approx(40.0 / speeds, rel=0.02)


def test_a_point_origin_snaps_to_the_nearest_node(corridor):
    """10 m off F-START (within 50 m): the same walk as from the facility."""
    near = f"[{START_XY[0] - 6.0}, {START_XY[1] + 8.0}]"
    by_point = run(corridor, [flow(origin_xy=near, destination_xy="[195040, 560000]", rate_p_s=1, duration=5)])
    by_name = run(corridor, [flow(origin="F-START", destination="F-END", rate_p_s=1, duration=5)])
    key = [(p.origin, p.destination, p.depart_s, p.free_speed_m_s) for p in by_point.crowd.model.pedestrians()]
    assert key == [(p.origin, p.destination, p.depart_s, p.free_speed_m_s) for p in by_name.crowd.model.pedestrians()]
    assert len(key) == 5


def test_entries_into_a_narrow_door_never_outrun_the_rate():
    """2 P/s for 100 s towards a 1 m door (capacity 1.225 P/s): by any time t, at most
    floor(rate x t) + 1 people have entered the first link or the door; the evacuation is
    reported with a lower bound it does not beat."""
    rate = 2.0
    r = run_scenario(
        load_scenario(
            BOTTLENECK, overrides=[flow(origin="F-START", destination="'nearest:shelter'", rate_p_s=rate, duration=100)]
        )
    )
    links = r.crowd.model.links.links
    for key in ("in", "door"):
        t = np.sort(np.frombuffer(links[key].admitted_s))
        assert len(t) == 200, key
        entered = np.arange(1, len(t) + 1)  # by the time of each entry, including it
        assert np.all(entered <= np.floor(rate * t + 1e-9) + 1), key
    (label,) = r.summary["crowd"]["evacuation_lower_bound_s"]
    lb = r.summary["crowd"]["evacuation_lower_bound_s"][label]
    assert label.startswith("flow:F-START") and lb["people"] == 200
    assert 0 < lb["bound_s"] <= lb["simulated_s"]


def test_same_seed_same_departures_groups_and_speeds(corridor):
    mixed = "{adult: 0.5, older: 0.5}"

    def people(seed: int):
        r = run(
            corridor,
            [f"seed={seed}", flow(origin="F-START", destination="F-END", rate_p_s=3, duration=10, groups=mixed)],
        )
        return [(p.depart_s, p.group, p.free_speed_m_s) for p in r.crowd.model.pedestrians()]

    a, b, c = people(4), people(4), people(5)
    assert a == b and len(a) == 30
    assert [d for d, _, _ in a] == [d for d, _, _ in c]  # the times are drawn from nothing
    assert [(g, s) for _, g, s in a] != [(g, s) for _, g, s in c]
    assert {g for _, g, _ in a} == {"adult", "older"}


def test_count_is_rate_times_duration_rounded_down():
    pops = load_scenario(
        CORRIDOR,
        overrides=[
            flow(origin="F-START", destination="F-END", rate_p_s=0.1, duration=30),
            "populations.1={kind: flow, origin: F-START, destination: F-END, rate_p_s: 0.7, duration: 9.9}",
        ],
    ).populations
    assert pops[0].count == 3 and pops[0].departures_s() == pytest.approx([0.0, 10.0, 20.0])
    assert pops[1].count == math.floor(0.7 * 9.9) == 6


@pytest.mark.parametrize(
    ("fields", "where", "expected"),
    [
        ({"origin": "F-START", "destination": "F-END", "rate_p_s": 0, "duration": 60}, "populations.0.rate_p_s", "> 0"),
        (
            {
                "origin": "F-START",
                "origin_xy": "[195000, 560000]",
                "destination": "F-END",
                "rate_p_s": 1,
                "duration": 60,
            },
            "populations.0.origin",
            "got both origin and origin_xy",
        ),
        ({"destination": "F-END", "rate_p_s": 1, "duration": 60}, "populations.0.origin", "got neither"),
        ({"origin": "F-START", "rate_p_s": 1, "duration": 60}, "populations.0.destination", "got neither"),
        (
            {"origin": "F-START", "destination": "F-END", "rate_p_s": 100, "duration": 1001},
            "populations.0.rate_p_s",
            f"100100 people: expected at most {MAX_PEOPLE} people",
        ),
        (
            {"origin_xy": "[1, 2, 3]", "destination": "F-END", "rate_p_s": 1, "duration": 60},
            "populations.0.origin_xy",
            "[x, y]",
        ),
        ({"origin": "F-START", "destination": "F-END", "rate_p_s": 1, "duration": 0}, "populations.0.duration", "> 0"),
    ],
)
def test_bad_flows_are_refused_naming_the_field(fields, where, expected):
    with pytest.raises(ScenarioError) as err:
        load_scenario(CORRIDOR, overrides=[flow(**fields)])
    (line,) = err.value.problems
    assert f"corridor_single_walker.yaml: {where}: got " in line
    assert expected in line


def test_flows_count_towards_the_people_cap():
    half = f"{{kind: flow, origin: F-START, destination: F-END, rate_p_s: 100, duration: {MAX_PEOPLE // 200 + 1}}}"
    with pytest.raises(ScenarioError, match=rf": populations: got {MAX_PEOPLE + 200} people in 2 populations"):
        load_scenario(CORRIDOR, overrides=[f"populations.0={half}", f"populations.1={half}"])


@pytest.mark.parametrize("field", ["origin_xy", "destination_xy"])
def test_a_point_1_km_off_the_graph_is_refused_before_the_run(corridor, field):
    """The city check (twin/scenario_city.py) refuses it, naming the file and the field."""
    other = "destination: F-END" if field == "origin_xy" else "origin: F-START"
    far = f"[{START_XY[0]}, {START_XY[1] + 1000.0}]"
    s = load_scenario(
        CORRIDOR, overrides=[f"populations.0={{kind: flow, {field}: {far}, {other}, rate_p_s: 1, duration: 5}}"]
    )
    with pytest.raises(
        ScenarioError,
        match=rf"yaml: populations\.0\.{field}: got \[195000\.0, 561000\.0\]: expected a point within 50 m",
    ) as err:
        run_scenario(s, city=corridor)
    assert "1000 m away" in str(err.value)


def test_a_flow_survives_the_resolved_file(tmp_path):
    from twin.scenario import dump_resolved

    pop = flow(origin_xy="[195000, 560000]", destination="'nearest:shelter'", rate_p_s=0.5, duration="1min", start="5s")
    s = load_scenario(CORRIDOR, overrides=[pop])
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_resolved(s), encoding="utf-8")
    again = load_scenario(path).populations[0]
    assert again == s.populations[0] and again.count == 30 and again.departures_s()[:2] == [5.0, 7.0]


def test_quickest_exit_choice_needs_a_choice():
    """exit_choice: quickest only with destination nearest:<kind>; the error names the field."""
    with pytest.raises(ScenarioError, match=r"populations\.0\.exit_choice: .*nearest:<kind>"):
        load_scenario(BOTTLENECK, overrides=["populations.0.destination=F-START", "populations.0.exit_choice=quickest"])
