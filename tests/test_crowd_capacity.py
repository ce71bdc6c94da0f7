"""Pedestrian flow that never beats physics (issue 15): capacity at a link's exit as well as its
entry, door discharge at capacity for a mix of speeds, spillback, and a lower bound that no
evacuation beats and that never falls when people are added. docs/crowd.md, "Verification".

Networks and numbers are our own: corridors, rooms with doors, and a riverside-like path with
ramps, built in code. Speeds are drawn from the model's groups (adults 1.34 ± 0.26 m/s, older
people 1.00 ± 0.20 m/s, ... down to 0.3 m/s), so fast walkers overtake slow ones inside a link.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import simpy

from twin.models.crowd.fundamental_diagram import WEIDMANN
from twin.models.crowd.lower_bound import Start, evacuation_lower_bound
from twin.models.crowd.model import CrowdModel

JMAX = WEIDMANN.max_specific_flow()  # 1.225 P/(m·s)
RIVERSIDE_MIX = {"adult": 0.75, "child": 0.08, "older": 0.14, "limited_mobility": 0.03}
"""The default speed mix of the riverside walkers (twin/scenario/populations.py)."""


def _groups(model: CrowdModel, n: int, mix: dict[str, float]) -> list[str]:
    names = sorted(mix)
    w = np.array([mix[g] for g in names])
    return [names[i] for i in model.rng.choice(len(names), size=n, p=w / w.sum())]


def _chain(*links: tuple[str, float, float]) -> nx.MultiGraph:
    """Sidewalk links (key, length m, width m) end to end: nodes 0, 1, 2, ..."""
    G = nx.MultiGraph()
    for i, (key, length, width) in enumerate(links):
        G.add_edge(i, i + 1, key=key, length_m=length, width_m=width, kind="sidewalk")
    return G


def _window_counts(times, window_s: float) -> int:
    """The most events in any window of ``window_s`` seconds."""
    t = np.sort(np.frombuffer(times) if not isinstance(times, np.ndarray) else times)
    return int((np.searchsorted(t, t + window_s, side="left") - np.arange(len(t))).max()) if len(t) else 0


# -- capacity at the exit --------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outflow_of_an_overfed_corridor_never_exceeds_capacity_in_any_10_s(seed):
    """A 2.5 m × 60 m corridor fed at 5 P/s (1.6 × its capacity of 3.06 P/s) by a wide square,
    with the riverside speed mix: fast walkers overtake slow ones inside it, yet in any 10 s (and
    30 s) window no more than capacity × window + 1 leave it."""
    G = _chain(("square", 10.0, 20.0), ("corridor", 60.0, 2.5), ("out", 20.0, 10.0))
    env = simpy.Environment()
    m = CrowdModel(env, G, seed=seed)
    groups = _groups(m, 900, RIVERSIDE_MIX)
    people = [m.add_trip(0, 3, k / 5.0, group=g) for k, g in enumerate(groups)]
    env.run()
    assert all(p.arrived_s is not None for p in people)
    corridor = m.links.links["corridor"]
    cap = JMAX * 2.5
    for w in (10.0, 30.0):
        assert _window_counts(corridor.exited_s, w) <= cap * w + 1, w
        assert _window_counts(corridor.admitted_s, w) <= cap * w + 1, w
    # it was overfed: a queue stood at its entry, and people overtook inside it
    assert corridor.peak_queue > 50
    order_in = sorted(people, key=lambda p: p.unique_id)
    assert any(a.arrived_s > b.arrived_s for a, b in zip(order_in, order_in[1:], strict=False))


# -- doors ----------------------------------------------------------------------------------


def _room_with_door(depth_m: float, width_m: float) -> nx.MultiGraph:
    return _chain(("room", 10.0, 10.0), ("door", depth_m, width_m), ("out", 10.0, 5.0))


@pytest.mark.parametrize("depth_m", [0.5, 1.2, 3.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_door_discharges_at_capacity_while_its_queue_lasts(depth_m, seed):
    """A room of 200 with the riverside speed mix empties through a 0.8 m door (0.98 P/s): while a
    queue stands before it, the door passes at least 95 % of its capacity, whatever its depth.
    Measured from when the slowest possible walker (0.3 m/s) could have crossed it after the first
    entry (the door is full of people from then on) to the last entry (the queue is gone)."""
    width = 0.8
    env = simpy.Environment()
    m = CrowdModel(env, _room_with_door(depth_m, width), seed=seed)
    people = [m.add_trip(0, 3, 0.0, group=g) for g in _groups(m, 200, RIVERSIDE_MIX)]
    env.run()
    assert all(p.arrived_s is not None for p in people)
    door = m.links.links["door"]
    cap = JMAX * width
    entered, left = np.frombuffer(door.admitted_s), np.frombuffer(door.exited_s)
    slowest = 0.3 * WEIDMANN.speed_factor(WEIDMANN.capacity_density())  # m/s, at the door's densest walk
    t0, t1 = entered[0] + depth_m / slowest, entered[-1]
    busy = left[(left >= t0) & (left <= t1)]
    assert (len(busy) - 1) / (busy[-1] - busy[0]) >= 0.95 * cap
    assert _window_counts(left, 10.0) <= cap * 10.0 + 1
    # the room empties no faster than the door allows, and not much slower: (N - 1)/c plus the walk
    assert (200 - 1) / cap <= left[-1] <= 1.08 * (200 - 1) / cap + 10.0 / 0.3 + depth_m / slowest


def test_a_door_shorter_than_the_merge_distance_keeps_its_capacity():
    """A 0.3 m door is walked as 0.5 m (the shortest link the model keeps) and still holds."""
    env = simpy.Environment()
    m = CrowdModel(env, _room_with_door(0.3, 0.8), seed=5)
    people = [m.add_trip(0, 3, 0.0, group=g) for g in _groups(m, 200, RIVERSIDE_MIX)]
    env.run()
    left = np.frombuffer(m.links.links["door"].exited_s)
    assert len(left) == 200 and left[-1] >= 199 / (JMAX * 0.8)
    assert all(p.arrived_s is not None for p in people)


# -- spillback ------------------------------------------------------------------------------


def test_a_queue_spills_back_and_drains_at_capacity():
    """Four 10 m × 2 m links feed a 0.6 m × 2 m passage (0.735 P/s); 600 people arrive at 3 P/s.
    The link before the passage fills to its storage, and so do the links before it, up to the
    start (spillback); no link ever holds more than its storage; while the queue stands, the
    passage lets out 0.735 P/s (±5 %), and so does the link before it (it drains at capacity)."""
    G = _chain(*[(f"f{i}", 10.0, 2.0) for i in range(4)], ("passage", 2.0, 0.6), ("out", 20.0, 5.0))
    env = simpy.Environment()
    m = CrowdModel(env, G, seed=11)
    people = [m.add_trip(0, 6, k / 3.0, group=g) for k, g in enumerate(_groups(m, 600, RIVERSIDE_MIX))]
    links = m.links.links
    full_at: dict[str, float] = {}
    over: list[str] = []

    def watch():
        while True:
            for k, lk in links.items():
                if lk.occupants >= lk.storage and k not in full_at:
                    full_at[k] = env.now
                if lk.occupants > lk.storage:
                    over.append(k)
            yield env.timeout(1.0)

    env.process(watch())
    env.run(until=3000)
    assert all(p.arrived_s is not None for p in people)
    assert not over and sum(lk.forced for lk in links.values()) == 0
    # the queue spilled back link by link, from the passage to the start
    assert {"f3", "f2", "f1", "f0"} <= set(full_at)
    assert full_at["f3"] < full_at["f2"] < full_at["f1"] < full_at["f0"]
    assert max(p.waited_s for p in people) > 60.0  # people waited at the start for room
    cap = JMAX * 0.6
    passage_out = np.frombuffer(links["passage"].exited_s)
    feeder_out = np.frombuffer(links["f3"].exited_s)
    last_in = np.frombuffer(links["f0"].admitted_s)[-1]  # the queue reaches back to the start till then
    for t in (passage_out, feeder_out):
        busy = t[(t >= 60.0) & (t <= last_in)]
        assert (len(busy) - 1) / (busy[-1] - busy[0]) == pytest.approx(cap, rel=0.05)
        assert _window_counts(t, 10.0) <= cap * 10.0 + 1


def test_counterflow_through_a_full_passage_passes_at_its_capacity():
    """Two crowds of 150 meet head-on in a 1 m × 4 m passage (storage 22) between two full 10 m ×
    2 m corridors (storage 108): people at the end of the passage wait for room in the corridor
    ahead, which is full of people waiting for the passage. Facing heads pass each other, so
    nobody needs the stuck time, and the passage carries both directions at its shared capacity
    (1.225 P/s): 300 people in no less than 299/1.225 s, and not much more."""
    G = _chain(("west", 10.0, 2.0), ("passage", 4.0, 1.0), ("east", 10.0, 2.0))
    env = simpy.Environment()
    m = CrowdModel(env, G, seed=2)
    a = [m.add_trip(0, 3, 0.0, free_speed_m_s=1.2) for _ in range(150)]
    b = [m.add_trip(3, 0, 0.0, free_speed_m_s=1.2) for _ in range(150)]
    env.run(until=20_000)
    links = m.links.links
    assert all(p.arrived_s is not None for p in a + b)
    assert links["passage"].swapped > 0 and sum(lk.forced for lk in links.values()) == 0
    last = max(p.arrived_s for p in a + b)
    assert 299 / JMAX <= last <= 1.2 * 299 / JMAX + 2 * 20.0 / 1.2


def test_a_ring_of_full_links_is_released_by_the_stuck_time(monkeypatch):
    """Three 1 m × 2 m links in a triangle (storage 11 each), each full of people who want the next
    one clockwise: a gridlock that no passing resolves. The head that has waited 30 s goes in
    anyway (counted) and everyone gets round; without the stuck time nobody would."""
    import twin.models.crowd.links as links_module

    def run():
        G = _chain(("a", 1.0, 2.0), ("b", 1.0, 2.0))
        G.add_edge(2, 0, key="c", length_m=1.0, width_m=2.0, kind="sidewalk")  # closes the ring
        env = simpy.Environment()
        m = CrowdModel(env, G, seed=1)
        people = [
            m.add_walker(origin, route, 0.0, group="adult", free_speed_m_s=1.2)
            for origin, route in ((0, ["a", "b"]), (1, ["b", "c"]), (2, ["c", "a"]))
            for _ in range(20)
        ]
        env.run(until=5_000)
        return people, sum(lk.forced for lk in m.links.links.values())

    people, forced = run()
    assert all(p.arrived_s is not None for p in people) and forced > 0
    monkeypatch.setattr(links_module, "STUCK_S", 1e9)
    people, forced = run()
    assert not any(p.arrived_s is not None for p in people if p.route[-1] != p.route[0])


# -- the lower bound ------------------------------------------------------------------------


def _riverside() -> nx.MultiGraph:
    """A 1.2 km riverside path in 24 links of 50 m × 3 m, with a 2 m × 30 m ramp every 300 m up to
    the street (nodes 100...), where people are safe."""
    G = nx.MultiGraph()
    for i in range(24):
        G.add_edge(i, i + 1, key=f"p{i}", length_m=50.0, width_m=3.0, kind="riverside_path")
    for j, foot in enumerate(range(0, 25, 6)):
        G.add_edge(foot, 100 + j, key=f"r{j}", length_m=30.0, width_m=2.0, kind="ramp")
    return G


@pytest.mark.parametrize("seed", range(6))
def test_an_evacuation_never_beats_its_bound(seed):
    """People spread along the path, some setting out late, each with a drawn speed, walk to the
    nearest street node; the simulated last arrival is never below the bound, which uses each
    person's own speed and earliest time at a node."""
    G = _riverside()
    exits = {n for n in G if n >= 100}
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 800))
    env = simpy.Environment()
    m = CrowdModel(env, G, seed=seed, safe_nodes=exits)
    origins = rng.integers(0, 25, size=n)
    departs = rng.uniform(0.0, 120.0, size=n)
    groups = _groups(m, n, RIVERSIDE_MIX)
    people = []
    for o, t, g in zip(origins, departs, groups, strict=True):
        p = m.add_walker(
            int(o), m.evacuation_route(int(o)) or [], float(t), group=g, free_speed_m_s=m.draw_free_speed(g)
        )
        people.append(p)
    env.run()
    starts = [Start(p.origin, p.depart_s, p.free_speed_m_s) for p in people]
    b = evacuation_lower_bound(G, starts, exits, time_step_s=10.0)
    t_sim = max(p.arrived_s for p in people)
    assert b.cut_off == 0 and 0 < b.bound_s <= t_sim + 1e-6


def test_people_on_the_way_do_not_shorten_the_bound():
    """One person 218 m from the exit gets 218 s at 1 m/s; four faster people on the way, even
    in the middle of links, do not lower it (their positions are no shortcut for anyone)."""
    G = nx.MultiGraph()
    for i in range(10):
        G.add_edge(i, i + 1, key=f"c{i}", length_m=21.8, width_m=2.0, kind="riverside_path")
    alone = evacuation_lower_bound(G, [Start(0, 0.0, 1.0)], {10})
    assert alone.bound_s == pytest.approx(218.0)
    # the others stand mid-link: they start at the node ahead, when their own speed gets them there
    crowd = [Start(0, 0.0, 1.0)] + [Start(k + 1, 10.9 / 1.5, 1.5) for k in (2, 4, 6, 8)]
    assert evacuation_lower_bound(G, crowd, {10}).bound_s >= alone.bound_s


@pytest.mark.parametrize("seed", range(4))
def test_adding_people_never_lowers_the_bound(seed):
    """On the riverside path, people are added one at a time (random nodes, ready times and
    speeds of 1.0-1.8 m/s); the bound never falls, and once the ramps bind, the flow part does."""
    G = _riverside()
    exits = {n for n in G if n >= 100}
    rng = np.random.default_rng(seed)
    starts: list[Start] = []
    last = 0.0
    for size in (1, 2, 5, 20, 80, 300, 900, 2000, 6000):
        while len(starts) < size:
            starts.append(Start(int(rng.integers(0, 25)), float(rng.uniform(0, 60)), float(rng.uniform(1.0, 1.8))))
        b = evacuation_lower_bound(G, starts, exits, time_step_s=10.0)
        assert b.bound_s >= last - 1e-9, size
        last = b.bound_s
    # 6,000 people through five 2 m ramps (2.45 P/s each) need at least 6000 / 12.25 s = 490 s
    assert b.flow_s is not None and b.bound_s == b.flow_s >= 6000 / (5 * JMAX * 2.0) - 10.0


# -- exit choice ----------------------------------------------------------------------------


def test_quickest_exit_choice_shares_two_doors_and_nears_the_bound():
    """300 people in a room with two 1 m doors (scenarios/verification/room_two_exits.yaml): by
    distance alone all take one door (245 s of queue); choosing where each expects to be out first,
    the doors share them and the room empties near (N - 2)/(2c) = 122 s plus the walk, within 1.5 ×
    the lower bound."""
    from pathlib import Path

    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    room = Path(__file__).resolve().parents[1] / "scenarios" / "verification" / "room_two_exits.yaml"
    res = {}
    for choice in ("nearest", "quickest"):
        r = run_scenario(load_scenario(room, overrides=[f"populations.0.exit_choice={choice}"]))
        links = r.crowd.model.links.links
        (lb,) = r.summary["crowd"]["evacuation_lower_bound_s"].values()
        res[choice] = (links["doorW"].entered, links["doorE"].entered, lb)
    w, e, lb = res["nearest"]
    assert sorted((w, e)) == [0, 300] and lb["ratio"] > 2.0
    w, e, lb = res["quickest"]
    assert abs(w - e) <= 30 and w + e == 300
    assert lb["bound_s"] <= lb["simulated_s"] <= 1.5 * lb["bound_s"]
    assert lb["simulated_s"] >= 298 / (2 * JMAX)
