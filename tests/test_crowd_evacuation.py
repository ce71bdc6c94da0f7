"""Evacuation of a riverside path: orders, closures, re-planning and exposure (tiny worlds)."""

from __future__ import annotations

import networkx as nx
import pytest
import simpy

from twin.models.crowd.model import CrowdModel


def riverside() -> nx.MultiGraph:
    """A 600 m riverside path (nodes 0..3) with a ramp at each end up to the street (10, 13)."""
    G = nx.MultiGraph()
    for i in range(3):
        G.add_edge(i, i + 1, key=f"p{i}", length_m=200.0, width_m=3.0, kind="riverside_path")
    G.add_edge(0, 10, key="rampW", length_m=16.0, width_m=2.0, kind="ramp")
    G.add_edge(3, 13, key="rampE", length_m=16.0, width_m=2.0, kind="ramp")
    G.add_edge(10, 13, key="street", length_m=650.0, width_m=4.0, kind="road")
    return G


def test_an_order_sends_everyone_on_the_path_to_the_nearest_exit():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=1)
    walkers = [crowd.add_trip(0, 3, k * 10.0, free_speed_m_s=1.3) for k in range(20)]
    zone = {"p0", "p1", "p2"}
    env.process(_at(env, 200.0, lambda: crowd.order_evacuation(zone)))
    env.run()
    assert crowd.safe_nodes == {10, 13}
    for w in walkers:
        assert w.arrived_s is not None and not w.stranded
        assert w.node in crowd.safe_nodes  # everyone left the path
        assert w.evacuating_since is not None and w.arrived_s >= 200.0


def test_a_closed_exit_makes_people_turn_to_the_other_one():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=2)
    walkers = [crowd.add_trip(1, 13, 0.0, free_speed_m_s=1.3) for _ in range(5)]
    env.process(_at(env, 30.0, lambda: (crowd.close_link("rampE"), crowd.order_evacuation({"p0", "p1", "p2"}))))
    env.run()
    assert all(w.node == 10 for w in walkers)  # they went west: the east ramp was shut


def test_people_on_a_flooded_link_are_exposed_and_others_are_not():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=3)
    on_it = crowd.add_trip(1, 3, 0.0, free_speed_m_s=1.0)  # on p1 at t = 100 s
    elsewhere = crowd.add_trip(0, 10, 0.0, free_speed_m_s=1.0)  # leaves by the west ramp at once
    env.process(_at(env, 100.0, lambda: crowd.close_link("p1", flooded=True)))
    env.run()
    assert on_it.exposed and 0 < on_it.exposure_s < 200.0
    assert not elsewhere.exposed and elsewhere.exposure_s == 0.0


def test_cut_off_people_are_reported_stranded():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=4)
    w = crowd.add_trip(1, 2, 50.0, free_speed_m_s=1.3)
    env.process(_at(env, 10.0, lambda: [crowd.close_link(k) for k in ("p0", "p1", "rampW", "p2")]))
    env.run()
    assert w.stranded and w.node == 1 and w.arrived_s is None  # stranded is not arrived


def test_a_trip_whose_way_closes_goes_round_to_its_destination():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=5)
    w = crowd.add_trip(10, 13, 0.0, free_speed_m_s=1.3)  # the path (632 m) is shorter than the street
    assert w.route[0] == "rampW"
    env.process(_at(env, 5.0, lambda: crowd.close_link("p1")))
    env.run()
    assert w.node == 13 and w.evacuating_since is None and not w.stranded


def test_street_walkers_are_not_counted_as_evacuees():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=6)
    w = crowd.add_trip(10, 3, 100.0, free_speed_m_s=1.3)  # still on the street when the order comes
    env.process(_at(env, 50.0, lambda: crowd.order_evacuation({"p0", "p1", "p2", "rampW", "rampE"})))
    env.run()
    assert w.evacuating_since is None and w.trip_cut and w.node == 10


def test_a_closed_gate_stops_people_entering_but_lets_them_leave():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=7)
    assert crowd.gate_top("rampW") == 10  # the street end
    going_down = crowd.add_trip(10, 2, 20.0, free_speed_m_s=1.3)  # planned west ramp -> path
    coming_up = crowd.add_trip(1, 10, 0.0, free_speed_m_s=1.3)  # on the path, leaving by the west ramp
    env.process(_at(env, 10.0, lambda: crowd.close_entry("rampW")))
    env.run()
    assert coming_up.node == 10 and coming_up.arrived_s is not None  # walked out through the closed gate
    assert crowd.links.links["rampW"].entered == 1  # only the one leaving used it
    assert going_down.node == 2 and going_down.arrived_s is not None  # went round by the east ramp
    assert going_down.distance_m > 650.0


def test_an_evacuation_goes_out_through_a_closed_gate_when_it_is_nearest():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=8)
    walkers = [crowd.add_trip(3, 0, k * 5.0, free_speed_m_s=1.3) for k in range(10)]
    env.process(_at(env, 0.0, lambda: crowd.close_entry("rampW")))
    env.process(_at(env, 400.0, lambda: crowd.order_evacuation({"p0", "p1", "p2"})))
    env.run()
    # at the order all are past the middle (>= 455 m from node 3): out by the west ramp, gate or not
    assert all(w.node == 10 and not w.stranded for w in walkers)
    assert crowd.links.links["rampW"].entered == 10


def test_a_gate_opened_again_lets_people_in():
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=9)
    env.process(_at(env, 0.0, lambda: crowd.close_entry("rampW")))
    env.process(_at(env, 5.0, lambda: crowd.open_entry("rampW")))
    w = crowd.add_trip(10, 1, 10.0, free_speed_m_s=1.3)
    env.run()
    assert w.route[0] == "rampW" and w.distance_m < 300.0


def _at(env, t, action):
    yield env.timeout(t)
    action()


def test_people_cut_off_between_two_flooded_links_are_exposed_where_they_stand():
    """Water closes p0 and p2 around a walker on the dry p1: it is cut off, stranded at the end of
    p1, and standing where p2's water is, so it is exposed from then on (issue 15)."""
    env = simpy.Environment()
    crowd = CrowdModel(env, riverside(), seed=10)
    w = crowd.add_trip(1, 13, 0.0, free_speed_m_s=1.0)  # on p1 (200 m) from 0 s to 200 s
    env.process(_at(env, 50.0, lambda: [crowd.close_link(k, flooded=True) for k in ("p0", "p2")]))
    env.run(until=1000.0)
    assert w.stranded and w.arrived_s is None and w.node == 2
    assert w.exposed_now() and w.exposure_at(1000.0) == pytest.approx(1000.0 - 200.0, abs=1.0)
    # never on a flooded link, yet in water: exposure counts wherever the water is
    assert crowd.links.links["p1"].flooded_s is None


def test_water_at_two_access_points_covers_the_whole_path_between_them():
    """A 400 m path in four 100 m links with access points at its ends only: each link floods with
    the access point nearest to either of its ends, so when both flood no link between them stays
    dry (people cut off there stand in water), and one alone covers its half (issue 15)."""
    from twin.models.crowd.riverside import _nearest_access_point

    G = nx.MultiGraph()
    for i in range(4):
        G.add_edge(i, i + 1, key=f"p{i}", length_m=100.0, width_m=3.0, kind="riverside_path")
    G.add_edge(0, 10, key="rampW", length_m=16.0, width_m=2.0, kind="ramp")
    G.add_edge(4, 14, key="rampE", length_m=16.0, width_m=2.0, kind="ramp")
    links = _nearest_access_point(G, ["AP-W", "AP-E"], [0, 4])
    assert links["AP-W"] | links["AP-E"] == {"p0", "p1", "p2", "p3"}
    assert {"p0", "p1"} <= links["AP-W"] and "p3" not in links["AP-W"]
    assert {"p2", "p3"} <= links["AP-E"] and "p0" not in links["AP-E"]
    assert "rampW" not in links["AP-W"]  # the way up never floods
