"""Verification of the pedestrian model on simple geometries built in code (docs/crowd.md).

Each test is a physical statement: free walking time, the Weidmann diagram, bottleneck capacity.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import simpy

from twin.models.crowd.fundamental_diagram import WEIDMANN
from twin.models.crowd.model import CrowdModel


def corridor(length_m: float, width_m: float, *, pieces: int = 1) -> nx.MultiGraph:
    G = nx.MultiGraph(crs="EPSG:5186")
    step = length_m / pieces
    for i in range(pieces):
        G.add_edge(i, i + 1, key=f"c{i}", length_m=step, width_m=width_m, kind="sidewalk")
    return G


def test_weidmann_capacity_is_the_published_value():
    assert WEIDMANN.max_specific_flow() == pytest.approx(1.225, abs=0.002)
    assert WEIDMANN.capacity_density() == pytest.approx(1.75, abs=0.01)
    assert WEIDMANN.speed_m_s(0.0) == 1.34 and WEIDMANN.speed_m_s(5.4) == 0.0


def test_single_walker_crosses_40_m_in_30_s():
    env = simpy.Environment()
    crowd = CrowdModel(env, corridor(40.0, 3.0), seed=1)
    p = crowd.add_trip(0, 1, 0.0, free_speed_m_s=1.33)
    env.run()
    assert p.arrived_s == pytest.approx(40.0 / 1.33, rel=0.02)
    assert p.arrived_s == pytest.approx(30.0, rel=0.02)


def test_steady_stream_in_a_long_corridor_follows_the_diagram_and_conserves_people():
    """Inflows below capacity into a 200 m x 2 m corridor: the measured (density, speed) pairs lie
    on the Weidmann curve and the measured flow equals the inflow (conservation, Little's law)."""
    for inflow in (0.5, 1.2, 2.0):  # P/s; capacity is 1.225 P/(m s) x 2 m = 2.45 P/s
        env = simpy.Environment()
        G = corridor(200.0, 2.0)
        crowd = CrowdModel(env, G, seed=2)
        n = 1200
        people = [crowd.add_trip(0, 1, k / inflow, free_speed_m_s=1.34) for k in range(n)]
        samples = []

        def sampler(env=env, crowd=crowd, samples=samples):
            while True:
                yield env.timeout(1.0)
                samples.append((env.now, crowd.links.links["c0"].density_p_m2))

        env.process(sampler())
        env.run(until=n / inflow + 400)
        mid = people[n // 3 : 2 * n // 3]  # the steady part of the stream
        travel = np.mean([p.arrived_s - p.depart_s for p in mid])
        # space-mean speed (length over mean travel time) and the density while they walked
        speed = 200.0 / travel
        t0, t1 = mid[0].depart_s + travel, mid[-1].depart_s
        dens = np.mean([d for t, d in samples if t0 <= t <= t1])
        assert speed == pytest.approx(WEIDMANN.speed_m_s(dens), rel=0.05), inflow
        assert dens * speed * 2.0 == pytest.approx(inflow, rel=0.05), inflow


def test_flow_through_a_1_m_bottleneck_never_exceeds_its_capacity():
    """3 m corridor -> 1 m door -> 3 m corridor, 400 people arriving at 3 P/s."""
    G = nx.MultiGraph()
    G.add_edge(0, 1, key="in", length_m=30.0, width_m=3.0, kind="sidewalk")
    G.add_edge(1, 2, key="door", length_m=1.0, width_m=1.0, kind="sidewalk")
    G.add_edge(2, 3, key="out", length_m=30.0, width_m=3.0, kind="sidewalk")
    env = simpy.Environment()
    crowd = CrowdModel(env, G, seed=3)
    people = [crowd.add_trip(0, 3, k / 3.0, group="adult") for k in range(400)]
    door = crowd.links.links["door"]
    env.run()
    assert all(p.arrived_s is not None for p in people)
    capacity = WEIDMANN.max_specific_flow() * 1.0
    # in any window of 10 s or more, no more than capacity x window (+1 for the first) went in or out
    for times in (door.admitted_s, door.exited_s):
        t = np.sort(np.frombuffer(times))
        for w in (10.0, 30.0, 60.0):
            counts = np.searchsorted(t, t + w) - np.arange(len(t))
            assert counts.max() <= capacity * w + 1, w
    # and the door was the bottleneck: people queued in front of it
    assert door.peak_queue > 10 and sum(p.waited_s for p in people) > 0


def test_a_queue_drains_at_capacity():
    """100 people set out together into a 100 m x 2 m link: admissions at its capacity, 2.45 P/s."""
    env = simpy.Environment()
    crowd = CrowdModel(env, corridor(100.0, 2.0), seed=9)
    people = [crowd.add_trip(0, 1, 0.0, free_speed_m_s=1.34) for _ in range(100)]
    env.run()
    t = np.frombuffer(crowd.links.links["c0"].admitted_s)
    cap = WEIDMANN.max_specific_flow() * 2.0
    assert t[-1] == pytest.approx(99 / cap, rel=0.02)
    assert max(p.arrived_s for p in people) < 99 / cap + 100.0 / 1.34 * 1.6


def test_same_seed_same_walk():
    def run(seed):
        env = simpy.Environment()
        crowd = CrowdModel(env, corridor(100.0, 2.0, pieces=4), seed=seed)
        ps = [crowd.add_trip(0, 4, k * 0.7, group="older") for k in range(50)]
        env.run()
        return [p.arrived_s for p in ps]

    assert run(7) == run(7) and run(7) != run(8)


def _bottleneck_graph() -> nx.MultiGraph:
    G = nx.MultiGraph()
    G.add_edge(0, 1, key="in", length_m=30.0, width_m=3.0, kind="sidewalk")
    G.add_edge(1, 2, key="door", length_m=1.0, width_m=1.0, kind="sidewalk")
    G.add_edge(2, 3, key="out", length_m=30.0, width_m=3.0, kind="sidewalk")
    return G


def _grid(n: int) -> nx.MultiGraph:
    G = nx.MultiGraph()
    for i in range(n):
        for j in range(n):
            if i + 1 < n:
                G.add_edge(i * n + j, (i + 1) * n + j, key=f"v{i}-{j}", length_m=50.0, width_m=2.0, kind="road")
            if j + 1 < n:
                G.add_edge(i * n + j, i * n + j + 1, key=f"h{i}-{j}", length_m=50.0, width_m=1.5, kind="road")
    return G


def test_lower_bound_matches_the_bottleneck_analysis():
    """400 people behind a 1 m door: the continuous optimum is (N - 1)/capacity plus the free walk
    of 61 m. The flow bound never exceeds it and loses no more than its rounding (capacity per
    step rounded up: 25 for 24.5, a step per link and one for the start); no simulation beats it."""
    from twin.models.crowd.lower_bound import Start, evacuation_lower_bound

    G = _bottleneck_graph()
    b = evacuation_lower_bound(G, [Start(0, 0.0, 1.34)] * 400, {3}, time_step_s=20.0)
    analytic = 399 / WEIDMANN.max_specific_flow() + 61.0 / 1.34
    assert b.flow_s is not None and b.bound_s == b.flow_s  # the door, not the walk, binds
    assert analytic * 24.5 / 25 - 3 * 20.0 <= b.bound_s <= analytic
    env = simpy.Environment()
    crowd = CrowdModel(env, G, seed=4)
    people = [crowd.add_trip(0, 3, 0.0, free_speed_m_s=1.34) for _ in range(400)]
    env.run()
    assert max(p.arrived_s for p in people) >= b.bound_s


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_simulated_evacuation_beats_the_lower_bound_on_a_grid(seed):
    from twin.models.crowd.lower_bound import Start, evacuation_lower_bound

    G = _grid(5)
    rng = np.random.default_rng(seed)
    origins = rng.integers(0, 25, size=300)
    exits = {0, 24}
    env = simpy.Environment()
    crowd = CrowdModel(env, G, seed=seed)
    people = []
    for o in origins:
        exit_ = min(exits, key=lambda e: nx.shortest_path_length(G, int(o), e, weight="length_m"))
        people.append(crowd.add_trip(int(o), exit_, 0.0))
    env.run()
    starts = [Start(p.origin, 0.0, p.free_speed_m_s) for p in people]
    b = evacuation_lower_bound(G, starts, exits, time_step_s=5.0)
    t_sim = max(p.arrived_s for p in people)
    assert 0 < b.bound_s <= t_sim


VERIFY = __import__("pathlib").Path(__file__).resolve().parents[1] / "scenarios" / "verification"


def test_verification_scenarios_run_on_their_own_datasets():
    """The same statements, through scenario files on datasets of simple geometry."""
    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    r = run_scenario(load_scenario(VERIFY / "corridor_single_walker.yaml"))
    (p,) = r.crowd.model.pedestrians()
    assert p.arrived_s - p.depart_s == pytest.approx(30.0, rel=0.02)

    for name in ("bottleneck_400.yaml", "room_two_exits.yaml"):
        r = run_scenario(load_scenario(VERIFY / name))
        (lb,) = r.summary["crowd"]["evacuation_lower_bound_s"].values()
        assert lb["bound_s"] > 0 and lb["bound_s"] <= lb["simulated_s"], name
        links = r.crowd.model.links.links
        cap = WEIDMANN.max_specific_flow() * 1.0  # every door is 1 m wide
        for door in [k for k in links if k.startswith("door")]:
            t = np.sort(np.frombuffer(links[door].admitted_s))
            if len(t) < 2:
                continue
            for w in (10.0, 30.0, 60.0):
                counts = np.searchsorted(t, t + w) - np.arange(len(t))
                assert counts.max() <= cap * w + 1, (name, door, w)
        if name.startswith("bottleneck"):  # and it passes close to capacity while the queue lasts
            t = np.sort(np.frombuffer(links["door"].admitted_s))
            busy = t[(t > 30) & (t < t[-1] - 30)]
            assert (len(busy) - 1) / (busy[-1] - busy[0]) > 0.8 * cap
