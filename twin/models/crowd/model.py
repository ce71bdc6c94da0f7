"""The crowd: a Mesa model of pedestrians on the walk graph, driven by the engine's SimPy clock.

Every random draw comes from ``self.rng`` (seeded from the scenario), so a run is reproducible.
Evacuation: :meth:`order_evacuation` sends everyone in a zone (a set of links) to the nearest
safe node over links that are open; :meth:`close_link` closes a link (a gate, or water on a
riverside path) and whoever would use it re-plans at their next node. People on a flooded link
are exposed; exposure counts person-seconds spent on links after the water reached them.

The model owns the graph, the links and the routing; each :class:`~.pedestrian.Pedestrian` makes
its own decisions through the public API here (routes, closures, the zone under an order, who is
on which link). The model tells agents of events (an order, water) by calling their methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import mesa
import networkx as nx
import numpy as np
import simpy

from .fundamental_diagram import WEIDMANN, Weidmann
from .links import LinkNetwork
from .pedestrian import FREE_SPEED_M_S, MIN_FREE_SPEED_M_S, Pedestrian


@dataclass(frozen=True)
class ShortestTree:
    """Shortest walks (by length, all links) from every node to the nearest of ``targets``:
    a predecessor array over the model's node order. Get one from :meth:`CrowdModel.shortest_tree`."""

    targets: frozenset[int]
    pred: np.ndarray
    target_index: frozenset[int]


@dataclass(frozen=True)
class ExitOption:
    """One place to go: ``target`` node, the ``route`` there (edge keys), its length (m) and the
    capacity of its narrowest link (P/s)."""

    target: int
    route: list[str]
    length_m: float
    capacity_p_s: float


class CrowdModel(mesa.Model):
    """Pedestrians walking shortest routes (by length) on ``graph`` (networkx MultiGraph in a
    metric CRS, edges with ``length_m``, ``width_m``, ``kind``; edge key = edge id).

    ``safe_nodes``: where evacuees may stop (default: nodes that touch no riverside path, ramp or
    stairs only, i.e. the street network).
    """

    def __init__(
        self,
        env: simpy.Environment,
        graph: nx.MultiGraph,
        *,
        seed: int = 0,
        diagram: Weidmann = WEIDMANN,
        safe_nodes: set[int] | None = None,
    ) -> None:
        super().__init__(rng=seed)
        self.env = env
        self.graph = graph
        self.links = LinkNetwork(env, graph, diagram=diagram)
        self._trees: dict[int, object] = {}
        street = {"road", "sidewalk", "bridge"}
        if safe_nodes is None:  # on the street network: the top of a ramp counts, its foot does not
            safe_nodes = {n for n in graph.nodes if any(k in street for _, _, k in graph.edges(n, data="kind"))}
        self.safe_nodes = safe_nodes
        self.evacuation_zone: set[str] = set()  # link keys under an evacuation order
        self.evacuation_ordered_s: float | None = None
        self._escape = None  # predecessor array towards the nearest safe node (open links)
        self._nodes = sorted(graph.nodes)
        self._index = {n: i for i, n in enumerate(self._nodes)}
        self._safe_idx = {self._index[n] for n in safe_nodes}
        self._full = None
        self.version = 0  # bumped by every closure and order: routes are checked again
        self.closed_version = 0  # bumped by closures only: open-link trees are rebuilt
        self._open_m = None
        self._open_trees: dict = {}
        self.on_link: dict[str, set[int]] = {}
        self.closed: set[str] = set()
        self.entry_blocked: dict[str, int] = {}  # link -> the node it may not be entered from (a closed gate)
        self._by_id: dict[int, Pedestrian] = {}
        self._links_at: dict[int, frozenset[str]] = {}
        self._shortest: dict[tuple[int, int], str] = {}  # (a, b) -> the shortest link between them
        self._routes: dict[tuple[int, int], list[str]] = {}  # (origin, destination) -> route, all links
        self._edges = self._edge_arrays()
        self.wet_nodes: dict[int, float] = {}  # node -> when a flooded link at it was first flooded (s)

    # --- routing (scipy's C Dijkstra on a sparse matrix of the graph) ------------------------
    def _matrix(self, *, open_only: bool):
        """CSR matrix of the shortest parallel link between nodes (m), over all or open links.

        Trees are grown from where people are going, so entry [b, a] stands for walking a -> b:
        over open links a link whose entry a closed gate blocks is kept in its exit direction only.
        """
        from scipy.sparse import csr_matrix

        e = self._edges
        keep = e["a"] != e["b"]
        if open_only and self.closed:
            keep &= ~np.isin(e["key"], sorted(self.closed))
        fwd, back = keep.copy(), keep.copy()  # walking a -> b, and b -> a
        if open_only and self.entry_blocked:
            for key, node in self.entry_blocked.items():
                rows = e["row_of"].get(key, ())
                for r in rows:
                    if e["u"][r] == node:
                        fwd[r] = False  # walking u -> v would enter through a closed gate
                    if e["v"][r] == node:
                        back[r] = False
        y = np.concatenate([e["b"][fwd], e["a"][back]])
        x = np.concatenate([e["a"][fwd], e["b"][back]])
        w = np.concatenate([e["w"][fwd], e["w"][back]])
        n = len(self._nodes)
        if not len(w):
            return csr_matrix((n, n))
        order = np.lexsort((w, x, y))  # the shortest parallel link first
        y, x, w = y[order], x[order], w[order]
        first = np.ones(len(w), bool)
        first[1:] = (y[1:] != y[:-1]) | (x[1:] != x[:-1])
        return csr_matrix((w[first], (y[first], x[first])), shape=(n, n))

    def _edge_arrays(self) -> dict:
        """The graph's links as arrays for :meth:`_matrix`: node indices ``a``, ``b``, nodes ``u``,
        ``v``, length ``w`` (m), ``key``, and ``row_of`` (key -> rows)."""
        rows = [(u, v, str(k), max(float(d), 1e-3)) for u, v, k, d in self.graph.edges(keys=True, data="length_m")]
        row_of: dict[str, list[int]] = {}
        for r, (_, _, k, _) in enumerate(rows):
            row_of.setdefault(k, []).append(r)
        return {
            "a": np.array([self._index[u] for u, _, _, _ in rows], dtype=np.int64),
            "b": np.array([self._index[v] for _, v, _, _ in rows], dtype=np.int64),
            "u": [u for u, _, _, _ in rows],
            "v": [v for _, v, _, _ in rows],
            "w": np.array([w for _, _, _, w in rows], dtype=float),
            "key": np.array([k for _, _, k, _ in rows], dtype=object),
            "row_of": row_of,
        }

    def _open_matrix(self):
        """The matrix over open links, rebuilt only after a closure."""
        if self._open_m is None or self._open_m[0] != self.closed_version:
            self._open_m = (self.closed_version, self._matrix(open_only=True))
        return self._open_m[1]

    def _edge_between(self, a: int, b: int, *, open_only: bool = False) -> str:
        """The shortest link to walk from node ``a`` to node ``b`` (open ones only: not closed, and
        not entered through a closed gate)."""
        if not open_only and (a, b) in self._shortest:
            return self._shortest[(a, b)]
        data = self.graph.get_edge_data(a, b)
        keys = [k for k in data if not open_only or (str(k) not in self.closed and self.entry_blocked.get(str(k)) != a)]
        key = str(min(keys, key=lambda k: (data[k]["length_m"], str(k))))
        if not open_only:
            self._shortest[(a, b)] = key  # over all links it never changes
        return key

    def _follow(self, pred, start: int, stop, *, open_only: bool) -> list[str] | None:
        keys = []
        i = self._index[start]
        while not stop(i):
            j = int(pred[i])
            if j < 0:
                return None
            keys.append(self._edge_between(self._nodes[i], self._nodes[j], open_only=open_only))
            i = j
        return keys

    def route(self, origin: int, destination: int) -> list[str]:
        """Edge keys of the shortest walk (m) from ``origin`` to ``destination`` (all links).

        One Dijkstra tree per destination, shared by everyone going there. Raises
        nx.NetworkXNoPath when no walk exists.
        """
        from scipy.sparse.csgraph import dijkstra

        pred = self._trees.get(destination)
        if pred is None:
            if self._full is None:
                self._full = self._matrix(open_only=False)
            _, pred = dijkstra(self._full, indices=self._index[destination], return_predecessors=True)
            self._trees[destination] = pred
        target = self._index[destination]
        keys = self._routes.get((origin, destination))
        if keys is None:
            keys = self._follow(pred, origin, lambda i: i == target, open_only=False)
            if keys is None:
                raise nx.NetworkXNoPath(f"no walk from node {origin} to node {destination}")
            self._routes[(origin, destination)] = keys
        keys = list(keys)
        return keys

    def evacuation_route(self, node: int) -> list[str] | None:
        """Edge keys from ``node`` to the nearest safe node over open links; None if cut off."""
        from scipy.sparse.csgraph import dijkstra

        if node in self.safe_nodes:
            return []
        if self._escape is None:
            sources = sorted(self._index[n] for n in self.safe_nodes if n in self._index)
            if not sources:
                return None
            _, pred, _ = dijkstra(self._open_matrix(), indices=sources, min_only=True, return_predecessors=True)
            self._escape = pred
        safe_idx = self._safe_idx
        return self._follow(self._escape, node, lambda i: i in safe_idx, open_only=True)

    def route_to(self, node: int, targets: set[int]) -> list[str] | None:
        """Edge keys from ``node`` to the nearest of ``targets`` over open links; None if none."""
        from scipy.sparse.csgraph import dijkstra

        if node in targets:
            return []
        idx = tuple(sorted(self._index[t] for t in targets if t in self._index))
        if not idx:
            return None
        key = (self.closed_version, idx)  # everyone going to the same place shares the tree
        pred = self._open_trees.get(key)
        if pred is None:
            if len(self._open_trees) > 256:
                self._open_trees.clear()
            _, pred, _ = dijkstra(self._open_matrix(), indices=list(idx), min_only=True, return_predecessors=True)
            self._open_trees[key] = pred
        tset = set(idx)
        return self._follow(pred, node, lambda i: i in tset, open_only=True)

    def shortest_tree(self, targets: set[int]) -> ShortestTree:
        """One Dijkstra tree (all links) towards the nearest of ``targets`` (nodes), to share
        between everyone going there: pass it to :meth:`route_along`."""
        from scipy.sparse.csgraph import dijkstra

        if self._full is None:
            self._full = self._matrix(open_only=False)
        idx = sorted(self._index[n] for n in targets)
        _, pred, _ = dijkstra(self._full, indices=idx, min_only=True, return_predecessors=True)
        return ShortestTree(frozenset(targets), pred, frozenset(idx))

    def route_along(self, tree: ShortestTree, origin: int) -> list[str] | None:
        """Edge keys of the shortest walk from ``origin`` to the nearest target of ``tree``; None
        when there is none."""
        idx = tree.target_index
        return self._follow(tree.pred, origin, lambda i: i in idx, open_only=False)

    def exit_options(self, origin: int, targets: set[int], *, k: int = 8) -> list[ExitOption]:
        """The ``k`` nearest of ``targets`` (nodes) from ``origin`` by walking distance (all
        links), each with its route, length (m) and narrowest capacity (P/s), nearest first."""
        from scipy.sparse.csgraph import dijkstra

        full = self._full if self._full is not None else self._matrix(open_only=False)
        self._full = full
        start = self._index[origin]
        dist, pred = dijkstra(full.T, indices=start, return_predecessors=True)
        ranked = sorted((float(dist[self._index[t]]), t) for t in targets if np.isfinite(dist[self._index[t]]))
        out = []
        for d, t in ranked[:k]:
            keys = self._follow(pred, t, lambda i: i == start, open_only=False) or []
            keys.reverse()  # followed from the target back to the origin
            cap = min((self.links.links[key].capacity_p_s for key in keys), default=float("inf"))
            out.append(ExitOption(t, keys, d, cap))
        return out

    # --- state a pedestrian asks about -------------------------------------------------------
    def is_closed(self, key: str) -> bool:
        """Whether link ``key`` is closed (a gate shut across it, or water)."""
        return key in self.closed

    def any_closed(self, keys: Iterable[str]) -> bool:
        """Whether any of the links ``keys`` is closed."""
        return not self.closed.isdisjoint(keys)

    def node_flooded_s(self, node: int) -> float | None:
        """When the water reached a link at ``node`` (s), or None while every link there is dry."""
        return self.wet_nodes.get(node)

    def enters_closed_gate(self, node: int, keys: list[str]) -> bool:
        """Whether walking ``keys`` from ``node`` enters a link through a closed gate."""
        return bool(self.entry_blocked) and self._gate_ahead(node, keys)

    def links_at(self, node: int) -> frozenset[str]:
        """Keys of the links that meet at ``node`` (kept once asked)."""
        keys = self._links_at.get(node)
        if keys is None:
            keys = self._links_at[node] = frozenset(str(k) for _, _, k in self.graph.edges(node, keys=True))
        return keys

    def in_evacuation_zone(self, keys: Iterable[str]) -> bool:
        """Whether any of the links ``keys`` is under an evacuation order."""
        return not self.evacuation_zone.isdisjoint(keys)

    def occupy(self, key: str, unique_id: int) -> None:
        """Pedestrian ``unique_id`` is now on link ``key``."""
        self.on_link.setdefault(key, set()).add(unique_id)

    def vacate(self, key: str, unique_id: int) -> None:
        """Pedestrian ``unique_id`` has left link ``key``."""
        self.on_link[key].discard(unique_id)

    def _gate_ahead(self, node: int, keys: list[str]) -> bool:
        """Whether walking ``keys`` from ``node`` enters a link through a closed gate."""
        links = self.links.links
        for k in keys:
            if self.entry_blocked.get(k) == node:
                return True
            lk = links[k]
            node = lk.v if node == lk.u else lk.u
        return False

    # --- events from outside -----------------------------------------------------------------
    def order_evacuation(self, zone: set[str]) -> None:
        """Everyone on or heading into the links ``zone`` goes to the nearest safe node."""
        self.evacuation_zone |= set(zone)
        self.version += 1
        if self.evacuation_ordered_s is None:
            self.evacuation_ordered_s = self.env.now
        self.links.reroute_waiting([self.links.links[key] for key in sorted(zone)])
        for key in sorted(zone):
            for uid in self.on_link.get(key, ()):
                self._by_id[uid].hear_order(self.env.now)

    def close_link(self, key: str, *, flooded: bool = False) -> None:
        """Close link ``key`` (a gate, or water); with ``flooded`` its occupants become exposed."""
        link = self.links.links[key]
        if flooded and link.flooded_s is None:
            link.flooded_s = self.env.now
            for node in (link.u, link.v):
                self.wet_nodes.setdefault(node, self.env.now)
            for uid in self.on_link.get(key, ()):
                self._by_id[uid].meet_water()
        if key not in self.closed:
            self.closed.add(key)
            self.version += 1
            self.closed_version += 1
            self._escape = None
            self.links.close(link)

    def open_link(self, key: str) -> None:
        """Open link ``key`` again (a gate lifted); a flooded link stays closed."""
        link = self.links.links[key]
        if key in self.closed and link.flooded_s is None:
            self.closed.discard(key)
            self.version += 1
            self.closed_version += 1
            self._escape = None
            self.links.reopen(link)

    def gate_top(self, key: str) -> int:
        """The street end of link ``key`` (a ramp or stairs): where a gate stops people entering."""
        lk = self.links.links[key]
        return lk.u if lk.u in self.safe_nodes or lk.v not in self.safe_nodes else lk.v

    def close_entry(self, key: str) -> None:
        """A gate closes at the top of link ``key``: nobody may enter it from the street any more,
        and whoever is on it or below may still walk out (a closed gate never traps anyone)."""
        top = self.gate_top(key)
        if self.entry_blocked.get(key) == top:
            return
        self.entry_blocked[key] = top
        self.version += 1
        self.closed_version += 1
        self._escape = None
        self.links.reroute_waiting([self.links.links[key]], from_node=top)  # those about to go down turn back

    def open_entry(self, key: str) -> None:
        """The gate at the top of link ``key`` opens again."""
        if self.entry_blocked.pop(key, None) is not None:
            self.version += 1
            self.closed_version += 1
            self._escape = None

    # --- people ----------------------------------------------------------------------------
    def draw_free_speed(self, group: str) -> float:
        """A free walking speed (m/s) for someone of ``group``, drawn from ``self.rng``."""
        mean, sd = FREE_SPEED_M_S[group]
        return float(max(MIN_FREE_SPEED_M_S, self.rng.normal(mean, sd)))

    def add_trip(
        self,
        origin: int,
        destination: int,
        depart_s: float,
        *,
        group: str = "adult",
        free_speed_m_s: float | None = None,
    ) -> Pedestrian:
        """A pedestrian walking the shortest route from ``origin`` to ``destination`` (nodes),
        setting out at ``depart_s`` (s); free speed (m/s) drawn for ``group`` unless given.
        Raises nx.NetworkXNoPath when no walk exists."""
        speed = self.draw_free_speed(group) if free_speed_m_s is None else free_speed_m_s
        route = self.route(origin, destination)
        return self.add_walker(origin, route, depart_s, group=group, free_speed_m_s=speed, destination=destination)

    def add_walker(
        self,
        origin: int,
        route: list[str],
        depart_s: float,
        *,
        group: str,
        free_speed_m_s: float,
        destination: int | None = None,
    ) -> Pedestrian:
        """A pedestrian walking ``route`` (edge keys) from ``origin`` at ``depart_s`` (s), at
        ``free_speed_m_s`` (m/s); its walk starts as a process on the model's clock."""
        p = Pedestrian(
            self,
            origin=origin,
            route=route,
            depart_s=depart_s,
            free_speed_m_s=free_speed_m_s,
            group=group,
            destination=destination,
        )
        self._by_id[p.unique_id] = p
        self.env.process(p.walk())
        return p

    def pedestrian(self, unique_id: int) -> Pedestrian:
        """The pedestrian with id ``unique_id``."""
        return self._by_id[unique_id]

    def pedestrians(self) -> list[Pedestrian]:
        """Everyone, by id."""
        return sorted(self._by_id.values(), key=lambda a: a.unique_id)
