"""The least time in which a network could evacuate its people: a quickest flow over a
time-expanded network with the same capacities and free-flow times (Ford & Fulkerson 1958;
Hamacher & Tjandra 2002 for evacuation).

Time is cut into steps of ``time_step_s``. A link of length L carries at most c·Δt people per
step in each direction (c = its capacity in P/s) and takes floor(L / (v_max·Δt)) steps to cross;
people may wait at nodes without limit. These are all relaxations of the simulated crowd
(floor of the transit time, both directions at full capacity, no density slowdown, no storage
limit), so the discrete optimum T* steps satisfies T*·Δt < T_sim + Δt, and (T* − 1)·Δt is a
lower bound on any simulated evacuation of the same people.
"""

from __future__ import annotations

import math

import networkx as nx

from .fundamental_diagram import WEIDMANN, Weidmann


def _feasible(graph, people_at: dict, exits: set, steps: int, dt: float, v_max: float, jmax: float) -> float:
    """Maximum number of people that can reach an exit within ``steps`` time steps."""
    T = nx.DiGraph()
    src, snk = ("src",), ("snk",)
    for node, n in people_at.items():
        if n > 0:
            T.add_edge(src, (node, 0), capacity=float(n))
    nodes = list(graph.nodes)
    for t in range(steps):
        for v in nodes:
            T.add_edge((v, t), (v, t + 1))  # waiting: no capacity attribute = unlimited
    for v in exits:
        for t in range(steps + 1):
            T.add_edge((v, t), snk)
    for u, v, d in graph.edges(data=True):
        tau = max(0, math.floor(float(d["length_m"]) / (v_max * dt)))
        cap = jmax * float(d["width_m"]) * dt
        for t in range(steps + 1 - tau):
            for a, b in ((u, v), (v, u)):
                if tau == 0:
                    # instantaneous crossing within a step: still limited by capacity
                    key = ((a, t), (b, t))
                else:
                    key = ((a, t), (b, t + tau))
                if T.has_edge(*key):
                    T.edges[key]["capacity"] += cap
                else:
                    T.add_edge(*key, capacity=cap)
    if src not in T or snk not in T:
        return 0.0
    return nx.maximum_flow_value(T, src, snk)


def evacuation_lower_bound_s(
    graph: nx.MultiGraph,
    people_at: dict[int, int],
    exits: set[int],
    *,
    max_free_speed_m_s: float = 1.34,
    time_step_s: float = 10.0,
    diagram: Weidmann = WEIDMANN,
    max_steps: int = 10_000,
) -> float:
    """Lower bound (s) on the time to bring ``people_at`` (node -> count) to any of ``exits``.

    ``max_free_speed_m_s`` must be at least the fastest person's free speed for the bound to
    hold. Edges need ``length_m`` (m) and ``width_m`` (m). Raises nx.NetworkXUnfeasible when some
    people cannot reach an exit at all.
    """
    total = float(sum(people_at.values()))
    if total <= 0:
        return 0.0
    jmax = diagram.max_specific_flow()
    args = (graph, people_at, exits)
    reach = set()
    for e in exits:
        if e in graph:
            reach |= nx.node_connected_component(graph, e)
    if any(n > 0 and node not in reach for node, n in people_at.items()):
        raise nx.NetworkXUnfeasible("some people have no walk to an exit")
    lo, hi = 0, 1
    while _feasible(*args, hi, time_step_s, max_free_speed_m_s, jmax) < total - 1e-6:
        lo, hi = hi, hi * 2
        if hi > max_steps:
            raise nx.NetworkXUnfeasible(f"not evacuated within {max_steps} steps of {time_step_s} s")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _feasible(*args, mid, time_step_s, max_free_speed_m_s, jmax) >= total - 1e-6:
            hi = mid
        else:
            lo = mid
    return max(0.0, (hi - 1) * time_step_s)
