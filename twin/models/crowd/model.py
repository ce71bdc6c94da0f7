"""The crowd: a Mesa model of pedestrians on the walk graph, driven by the engine's SimPy clock.

Every random draw comes from ``self.rng`` (seeded from the scenario), so a run is reproducible.
"""

from __future__ import annotations

import mesa
import networkx as nx
import simpy

from .fundamental_diagram import WEIDMANN, Weidmann
from .links import LinkNetwork
from .pedestrian import FREE_SPEED_M_S, MIN_FREE_SPEED_M_S, Pedestrian


class CrowdModel(mesa.Model):
    """Pedestrians walking shortest routes (by length) on ``graph`` (networkx MultiGraph in a
    metric CRS, edges with ``length_m``, ``width_m``, ``kind``; edge key = edge id)."""

    def __init__(
        self, env: simpy.Environment, graph: nx.MultiGraph, *, seed: int = 0, diagram: Weidmann = WEIDMANN
    ) -> None:
        super().__init__(rng=seed)
        self.env = env
        self.graph = graph
        self.links = LinkNetwork(env, graph, diagram=diagram)
        self._trees: dict[int, dict[int, int]] = {}
        self.arrivals: list[float] = []

    # --- routing ---------------------------------------------------------------------------
    def route(self, origin: int, destination: int) -> list[str]:
        """Edge keys of the shortest walk (m) from ``origin`` to ``destination``.

        One Dijkstra tree per destination, shared by everyone going there. Raises
        nx.NetworkXNoPath when no walk exists.
        """
        pred = self._trees.get(destination)
        if pred is None:
            pred_lists, _ = nx.dijkstra_predecessor_and_distance(self.graph, destination, weight="length_m")
            pred = {n: min(p) for n, p in pred_lists.items() if p}
            self._trees[destination] = pred
        if origin != destination and origin not in pred:
            raise nx.NetworkXNoPath(f"no walk from node {origin} to node {destination}")
        keys = []
        node = origin
        while node != destination:
            nxt = pred[node]
            data = self.graph.get_edge_data(node, nxt)
            key = min(data, key=lambda k: (data[k]["length_m"], str(k)))
            keys.append(str(key))
            node = nxt
        return keys

    # --- people ----------------------------------------------------------------------------
    def draw_free_speed(self, group: str) -> float:
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
        speed = self.draw_free_speed(group) if free_speed_m_s is None else free_speed_m_s
        p = Pedestrian(
            self,
            origin=origin,
            route=self.route(origin, destination),
            depart_s=depart_s,
            free_speed_m_s=speed,
            group=group,
        )
        self.env.process(p.walk())
        return p

    def on_arrival(self, p: Pedestrian) -> None:
        self.arrivals.append(p.arrived_s)

    def pedestrians(self) -> list[Pedestrian]:
        return sorted(self.agents_by_type.get(Pedestrian, []), key=lambda a: a.unique_id)
