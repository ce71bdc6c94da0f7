"""The least time in which the crowd model could evacuate a set of people: a lower bound that
no simulated evacuation can beat, and that never falls when people are added.

Everyone is given as a :class:`Start`: the node they can first stand at, the earliest time they
can be there (s, from the bound's time origin) and their own free speed (m/s). Someone in the
middle of a link starts at the node ahead of them, at the time their own free speed would take
them there: the link model never lets anyone turn round inside a link or walk faster than their
free speed, so no position becomes a shortcut for anyone else.

Two bounds, both valid for the link model (:mod:`.links`), the larger of which is reported:

- **walk**: max over people of ready_s + d(node, nearest exit) / own free speed, d over every
  link of the graph given. Each person alone can do no better.
- **flow**: a quickest flow over a time-expanded network (Ford & Fulkerson 1958; Hamacher &
  Tjandra 2002 for evacuation). Time is cut into steps of Δt; a link carries at most
  ceil(c·Δt) people per step in each direction (c its flow capacity in P/s: entries are 1/c
  apart, so no more pass in any Δt) and takes floor(L / (v_max·Δt)) steps to cross (v_max the
  fastest person's free speed); people may wait at nodes without limit, and someone ready at
  t is at their node from step floor(t/Δt). A simulated evacuation that ends at T maps onto a
  flow that is out by step floor(T/Δt), so T* steps, the fewest in which a maximum flow
  (scipy's Dinic) gets everyone out, give T*·Δt ≤ T.

Both grow with the people: more supply can only need more steps, and a maximum over more people
is no smaller. Distances in m, times in s; the graph is a networkx (Multi)Graph with edge
attributes ``length_m`` and ``width_m`` in a metric CRS.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, NamedTuple

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra, maximum_flow

from .fundamental_diagram import WEIDMANN, Weidmann

_BIG = 2**30  # an unlimited arc (people are far fewer)


class Start(NamedTuple):
    """Where someone can first be: ``node``, from ``ready_s`` (s after the origin), walking at
    most ``free_speed_m_s`` (m/s)."""

    node: Any
    ready_s: float
    free_speed_m_s: float


class Bound(NamedTuple):
    """A solved bound (s): ``bound_s`` = max(``walk_s``, ``flow_s``). ``flow_s`` is None when it
    is no higher than the walk bound (then it is not solved exactly) or when the network is above
    ``max_flow_nodes``; ``cut_off`` people with no walk to an exit are left out of both."""

    bound_s: float | None
    walk_s: float | None
    flow_s: float | None
    cut_off: int


def _links(graph, closed: frozenset | set) -> list[tuple[Any, Any, float, float]]:
    """The graph's links as (a, b, length m, width m), leaving out the keys in ``closed``."""
    if graph.is_multigraph():
        rows = graph.edges(keys=True, data=True)
        return [(a, b, float(d["length_m"]), float(d["width_m"])) for a, b, k, d in rows if k not in closed]
    return [(a, b, float(d["length_m"]), float(d["width_m"])) for a, b, d in graph.edges(data=True)]


def _region(links: list, nodes: set, exits: set) -> list:
    """Nodes reachable from ``nodes`` without walking on past an exit (exits included)."""
    adj: dict[Any, set] = {}
    for a, b, _, _ in links:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    seen = set(nodes)
    todo = deque(sorted(nodes, key=repr))
    while todo:
        n = todo.popleft()
        if n in exits:
            continue
        for m in sorted(adj.get(n, ()), key=repr):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return sorted(seen, key=repr)


def _distances_m(links: list, nodes: list, exits: set) -> np.ndarray:
    """Shortest walk (m) from each node of ``nodes`` to the nearest exit, over their links."""
    index = {n: i for i, n in enumerate(nodes)}
    best: dict[tuple[int, int], float] = {}  # parallel links: the shortest
    for a, b, length, _ in links:
        if a in index and b in index and a != b:
            w = max(length, 1e-6)
            for key in ((index[a], index[b]), (index[b], index[a])):
                if w < best.get(key, math.inf):
                    best[key] = w
    n = len(nodes)
    if best:
        ij = np.array(list(best), dtype=np.int64)
        m = csr_array((np.array(list(best.values())), (ij[:, 0], ij[:, 1])), shape=(n, n))
    else:
        m = csr_array((n, n))
    sources = sorted(index[e] for e in exits if e in index)
    if not sources:
        return np.full(n, np.inf)
    return np.asarray(dijkstra(m, directed=False, indices=sources, min_only=True))


def _flow_out(arcs: np.ndarray, n: int, exits_idx: list[int], supply: dict[tuple[int, int], int], steps: int) -> int:
    """People out within ``steps`` steps: the maximum flow of the time-expanded network.
    ``arcs``: rows (a, b, steps to cross, capacity per step) over the region's node indices;
    ``supply``: (node index, first step) -> people."""
    layers = steps + 1
    src, snk = layers * n, layers * n + 1
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    caps: list[np.ndarray] = []
    node = np.arange(n)
    t = np.arange(steps)
    waits = (t[:, None] * n + node[None, :]).ravel()  # (i, t) -> (i, t + 1), unlimited
    rows.append(waits)
    cols.append(waits + n)
    caps.append(np.full(len(waits), _BIG))
    ex = np.asarray(exits_idx)
    if len(ex):
        out = (np.arange(layers)[:, None] * n + ex[None, :]).ravel()
        rows.append(out)
        cols.append(np.full(len(out), snk))
        caps.append(np.full(len(out), _BIG))
    for a, b, tau, cap in arcs:
        k = np.arange(layers - tau) if tau < layers else np.arange(0)
        rows.append(k * n + a)
        cols.append((k + tau) * n + b)
        caps.append(np.full(len(k), cap))
    for (i, first), people in supply.items():
        rows.append(np.array([src]))
        cols.append(np.array([min(first, steps) * n + i]))
        caps.append(np.array([people]))
    r, c, x = np.concatenate(rows), np.concatenate(cols), np.concatenate(caps)
    keep = r != c  # a link crossed within a step from a node to itself carries nothing
    size = layers * n + 2
    g = csr_array((x[keep].astype(np.int64), (r[keep], c[keep])), shape=(size, size))
    g.sum_duplicates()
    g.data = np.minimum(g.data, _BIG).astype(np.int32)
    g.indices = g.indices.astype(np.int32)
    g.indptr = g.indptr.astype(np.int32)
    return int(maximum_flow(g, src, snk).flow_value)


def _flow_bound_s(
    links: list,
    region: list,
    exits: set,
    reachable: list[Start],
    dt: float,
    walk_s: float,
    max_steps: int,
    diagram: Weidmann,
) -> float | None:
    """The quickest-flow bound (s) with steps of ``dt`` (s), or None when it is no higher than
    ``walk_s`` (found with a single maximum flow: then it need not be known exactly)."""
    index = {nd: i for i, nd in enumerate(region)}
    v_max = max(s.free_speed_m_s for s in reachable)
    jmax = diagram.max_specific_flow()
    arcs = []
    for a, b, length, width in links:
        if a not in index or b not in index or a == b or (a in exits and b in exits):
            continue
        tau = max(0, math.floor(length / (v_max * dt)))
        cap = max(1, math.ceil(jmax * width * dt - 1e-9))
        arcs += [(index[a], index[b], tau, cap), (index[b], index[a], tau, cap)]
    supply: dict[tuple[int, int], int] = {}
    for s in reachable:
        key = (index[s.node], math.floor(s.ready_s / dt))
        supply[key] = supply.get(key, 0) + 1
    exits_idx = sorted(index[e] for e in exits if e in index)
    arc_rows = np.asarray(arcs, dtype=np.int64).reshape(-1, 4)

    def done(steps: int) -> bool:
        return _flow_out(arc_rows, len(region), exits_idx, supply, steps) >= len(reachable)

    lo = max(0, math.floor(walk_s / dt))  # the walk bound in steps, rounded down
    if done(lo):
        return None
    span = 1
    while not done(lo + span):
        lo += span
        span *= 2
        if lo + span > max_steps:
            raise ValueError(f"not evacuated within {max_steps} steps of {dt:g} s")
    hi = lo + span  # done(hi), not done(lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if done(mid):
            hi = mid
        else:
            lo = mid
    return hi * dt


def _steps_s(links: list, index: dict, time_step_s: float, diagram: Weidmann) -> list[float]:
    """The flow bound's steps (s): near ``time_step_s`` and a quarter of it, each a whole number
    of the narrowest link's entry intervals (1/c), so that its capacity per step is a whole
    number of people and rounding it up to one gives nothing away."""
    widths = [w for a, b, _, w in links if a in index and b in index]
    if not widths:
        return [float(time_step_s)]
    c_min = diagram.max_specific_flow() * min(widths)  # P/s
    return [max(1, round(c_min * dt)) / c_min for dt in (float(time_step_s), float(time_step_s) / 4.0)]


def evacuation_lower_bound(
    graph,
    starts: list[Start],
    exits: set,
    *,
    time_step_s: float = 20.0,
    closed: frozenset | set = frozenset(),
    diagram: Weidmann = WEIDMANN,
    max_flow_nodes: int = 5_000,
    fine_cells: int = 200_000,
    max_steps: int = 20_000,
) -> Bound:
    """The lower bound (s, from the starts' time origin) on bringing everyone in ``starts`` to
    any node of ``exits``, over the links of ``graph`` whose keys are not in ``closed``.

    The flow bound is solved with steps near ``time_step_s`` (s) and, where the time-expanded
    network stays under ``fine_cells`` nodes, near a quarter of it as well (see :func:`_steps_s`);
    each is valid, so the higher is kept (a long step wastes less to the rounding of capacities,
    a short one less to the rounding of walking times). Above ``max_flow_nodes`` nodes in the region the people can
    reach, only the walk bound is solved."""
    if not starts:
        return Bound(0.0, 0.0, 0.0, 0)
    exits = {e for e in exits if e in graph}
    links = _links(graph, closed)
    region = _region(links, {s.node for s in starts if s.node in graph}, exits)
    index = {nd: i for i, nd in enumerate(region)}
    dist = _distances_m(links, region, exits)
    reachable = [s for s in starts if s.node in index and np.isfinite(dist[index[s.node]])]
    cut_off = len(starts) - len(reachable)
    if not reachable:
        return Bound(None, None, None, cut_off)
    walk = max(s.ready_s + float(dist[index[s.node]]) / s.free_speed_m_s for s in reachable)
    if len(region) > max_flow_nodes:
        return Bound(walk, walk, None, cut_off)
    flows = []
    for dt in _steps_s(links, index, time_step_s, diagram):
        if dt < 0.5 * time_step_s and len(region) * (walk / dt + 2) > fine_cells:
            continue
        f = _flow_bound_s(links, region, exits, reachable, dt, walk, max_steps, diagram)
        if f is not None:
            flows.append(f)
    flow = max(flows) if flows else None
    return Bound(walk if flow is None else max(walk, flow), walk, flow, cut_off)
