"""Demand: who is where, and where they walk. The scenario's populations placed on the city's
walk graph (EPSG:5186, m) as pedestrians of a :class:`~.model.CrowdModel`.

Kinds: ``school_commute`` (from street nodes around a school to its gate), ``trips`` (from a
facility to another, or to the nearest facility of a kind: an evacuation), ``residents`` (from
the buildings of a dong to the nearest shelter after an order), ``riverside`` (walks along a
stream's paths) and ``flow`` (a fixed rate of people from one place, evenly spaced in time).
Every random draw comes from the model's ``rng``, in the scenario's order.
"""

from __future__ import annotations

from typing import NamedTuple

import networkx as nx
import numpy as np

from ...city import CityModel
from ...errors import ScenarioError
from ...scenario_city import MAX_SNAP_M, snap_point
from .model import CrowdModel, ShortestTree
from .riverside import RiversidePaths

MIN_TRIP_M = 300.0
"""Shortest straight-line distance (m) from a riverside walker's origin to the exit it walks to,
when one that far exists."""


class EvacuatingGroup(NamedTuple):
    """People sent to the nearest of ``targets`` (nodes) from ``order_at_s`` (s): their ids."""

    order_at_s: float
    members: list[int]
    targets: set[int]


class QuickestExit:
    """Capacity-constrained exit choice (after CCRP, Lu, George & Shekhar 2005) for people setting
    out from one ``origin`` node for the nearest of ``targets``, in order of departure: each takes,
    among the 8 nearest, the one where it expects to be through soonest, given its own free speed
    and those who chose it before: max(depart + L/v, free_k) + 1/c_k, where c_k (P/s) is the
    capacity of the narrowest link on the way and free_k when that link is next free (s).
    Deterministic: no draw."""

    def __init__(self, model: CrowdModel, origin: int, targets: set[int]) -> None:
        self.options = model.exit_options(origin, targets)
        self.free_s = [0.0] * len(self.options)

    def choose(self, depart_s: float, free_speed_m_s: float) -> list[str] | None:
        """The route (edge keys) of the choice for someone setting out at ``depart_s`` (s)."""
        best, best_t = None, float("inf")
        for i, o in enumerate(self.options):
            t = max(depart_s + o.length_m / free_speed_m_s, self.free_s[i]) + 1.0 / o.capacity_p_s
            if t < best_t - 1e-9:
                best, best_t = i, t
        if best is None:
            return None
        self.free_s[best] = best_t
        return list(self.options[best].route)


class Populations:
    """Places the scenario's populations on ``model`` (whose graph is ``city``'s). Groups that
    evacuate from the start (``trips`` to ``nearest:``, ``residents``) are kept in ``groups``,
    by label, for their evacuation times and lower bounds."""

    def __init__(self, model: CrowdModel, city: CityModel, paths: RiversidePaths, *, duration_s: float) -> None:
        self.model = model
        self.city = city
        self.paths = paths
        self.duration_s = duration_s
        self.groups: dict[str, EvacuatingGroup] = {}

    def spawn(self, populations) -> None:
        """Every population of the scenario, in order."""
        for k, pop in enumerate(populations):
            if pop.kind == "school_commute":
                self._spawn_school(pop)
            elif pop.kind == "trips":
                self._spawn_trips(pop, k)
            elif pop.kind == "residents":
                self._spawn_residents(pop, k)
            elif pop.kind == "flow":
                self._spawn_flow(pop, k)
            else:
                self._spawn_riverside(pop)

    # --- places ----------------------------------------------------------------------------
    def _facility_node(self, facility_id: str) -> int:
        fac = self.city.layer("facilities")
        row = fac[fac["facility_id"] == facility_id]
        if row.empty:
            raise ScenarioError(f"populations: facility {facility_id!r} is not in the dataset")
        g = row.iloc[0].geometry
        return self.city.nearest_node(g.x, g.y)

    def _point_node(self, xy: tuple[float, float], field: str) -> int:
        """The walk-graph node nearest to ``xy`` (EPSG:5186, m); ScenarioError naming ``field``
        (e.g. ``populations.0.origin_xy``) when it is more than :data:`MAX_SNAP_M` away."""
        node, problem = snap_point(self.city, xy, field, max_m=MAX_SNAP_M)
        if problem:
            raise ScenarioError(problem)
        return node

    def _nearest_of_kind(self, kind: str) -> ShortestTree:
        """The shortest walks to the nearest facility of ``kind``."""
        fac = self.city.facilities_of_kind(kind)
        if fac.empty:
            raise ScenarioError(f"populations: the dataset has no facility of kind {kind!r}")
        nodes, _ = self.city.nearest_nodes(np.column_stack([fac.geometry.x, fac.geometry.y]))
        return self.model.shortest_tree({int(n) for n in nodes})

    def _groups(self, groups: dict[str, float], n: int) -> list[str]:
        names = sorted(groups)
        w = np.array([groups[g] for g in names], float)
        return [names[i] for i in self.model.rng.choice(len(names), size=n, p=w / w.sum())]

    def _evacuee(
        self,
        origin: int,
        tree: ShortestTree,
        depart: float,
        group: str,
        since_s: float,
        speed=None,
        chooser: QuickestExit | None = None,
    ):
        """Someone setting out at ``depart`` (s) for the nearest target of ``tree`` (or the one
        ``chooser`` picks), evacuating since ``since_s`` (s); None (and no draw) when no walk
        gets there."""
        m = self.model
        keys = m.route_along(tree, origin)
        if keys is None:
            return None
        speed = m.draw_free_speed(group) if speed is None else speed
        if chooser is not None:
            keys = chooser.choose(depart, speed) or keys
        p = m.add_walker(origin, keys, depart, group=group, free_speed_m_s=speed)
        p.evacuate_to(set(tree.targets), since_s=since_s)
        return p

    # --- kinds -----------------------------------------------------------------------------
    def _spawn_trips(self, pop, k: int) -> None:
        rng = self.model.rng
        origin = self._facility_node(pop.origin)
        departs = np.sort(rng.uniform(pop.window_start, max(pop.window_end, pop.window_start), size=pop.count))
        groups = self._groups(pop.groups, pop.count)
        speed = pop.free_speed_m_s
        if pop.destination.startswith("nearest:"):  # an evacuation: reported with its lower bound
            tree = self._nearest_of_kind(pop.destination.split(":", 1)[1])
            chooser = QuickestExit(self.model, origin, set(tree.targets)) if pop.exit_choice == "quickest" else None
            members = []
            for depart, group in zip(departs, groups, strict=True):
                p = self._evacuee(origin, tree, float(depart), group, float(depart), speed, chooser)
                if p is not None:
                    members.append(p.unique_id)
            self.groups[f"trips:{pop.origin}#{k}"] = EvacuatingGroup(pop.window_start, members, set(tree.targets))
            return
        dest = self._facility_node(pop.destination)
        for depart, group in zip(departs, groups, strict=True):
            self.model.add_trip(origin, dest, float(depart), group=group, free_speed_m_s=speed)

    def _spawn_flow(self, pop, k: int) -> None:
        """``floor(rate_p_s x duration)`` people setting out every ``1 / rate_p_s`` s (no draw for
        the times). Draws, in order: the groups of all of them, then each one's free speed (unless
        ``free_speed_m_s`` is given), in order of departure."""
        here = f"populations.{k}"
        if pop.origin is not None:
            origin, label = self._facility_node(pop.origin), pop.origin
        else:
            origin = self._point_node(pop.origin_xy, f"{here}.origin_xy")
            label = f"node {origin}"
        departs = pop.departures_s()
        groups = self._groups(pop.groups, len(departs))
        speed = pop.free_speed_m_s
        if pop.destination is not None and pop.destination.startswith("nearest:"):  # an evacuation
            tree = self._nearest_of_kind(pop.destination.split(":", 1)[1])
            chooser = QuickestExit(self.model, origin, set(tree.targets)) if pop.exit_choice == "quickest" else None
            members = []
            for depart, group in zip(departs, groups, strict=True):
                p = self._evacuee(origin, tree, depart, group, depart, speed, chooser)
                if p is not None:
                    members.append(p.unique_id)
            self.groups[f"flow:{label}#{k}"] = EvacuatingGroup(pop.start, members, set(tree.targets))
            return
        if pop.destination is not None:
            dest = self._facility_node(pop.destination)
        else:
            dest = self._point_node(pop.destination_xy, f"{here}.destination_xy")
        try:
            route = self.model.route(origin, dest)
        except nx.NetworkXNoPath:
            which = "destination" if pop.destination is not None else "destination_xy"
            raise ScenarioError(
                f"{here}.{which}: got node {dest}: expected a place that can be walked to from node {origin}"
            ) from None
        m = self.model
        for depart, group in zip(departs, groups, strict=True):
            free = m.draw_free_speed(group) if speed is None else speed
            m.add_walker(origin, list(route), depart, group=group, free_speed_m_s=free, destination=dest)

    def _spawn_residents(self, pop, k: int) -> None:
        """Residents leave random buildings of the dong for the nearest shelter after the order."""
        rng = self.model.rng
        b = self.city.layer("buildings")
        if pop.dong != "all" and "dong" in b.columns:
            b = b[b["dong"] == pop.dong]
        if b.empty:
            raise ScenarioError(f"populations: no building in dong {pop.dong!r}")
        pts = b.geometry.representative_point()
        homes, _ = self.city.nearest_nodes(np.column_stack([pts.x, pts.y]))
        tree = self._nearest_of_kind(pop.shelter_kind)
        origins = rng.choice(np.asarray(homes), size=pop.count)
        departs = pop.order_at + rng.uniform(0.0, pop.reaction_max, size=pop.count)
        members = []
        for origin, depart, group in zip(origins, departs, self._groups(pop.groups, pop.count), strict=True):
            # they learn of it at the order
            p = self._evacuee(int(origin), tree, float(depart), group, float(pop.order_at))
            if p is not None:
                members.append(p.unique_id)
        self.groups[f"residents:{pop.dong}#{k}"] = EvacuatingGroup(pop.order_at, members, set(tree.targets))

    def _spawn_school(self, pop) -> None:
        G = self.city.graph
        rng = self.model.rng
        fac = self.city.facilities_of_kind("school")
        match = fac[(fac["facility_id"] == pop.school) | (fac["name"] == pop.school)]
        if match.empty:
            raise ScenarioError(f"populations: school {pop.school!r} is not a school of the dataset")
        school = match.iloc[0].geometry
        gate = self.city.nearest_node(school.x, school.y)
        street = sorted(self.model.safe_nodes)
        xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in street])
        near = [
            n
            for n, d in zip(street, np.hypot(xy[:, 0] - school.x, xy[:, 1] - school.y), strict=True)
            if 50.0 <= d <= pop.radius_m
        ]
        if not near or pop.count == 0:
            return
        origins = rng.choice(near, size=pop.count)
        departs = np.sort(rng.uniform(pop.window_start, pop.window_end, size=pop.count))
        for origin, depart, group in zip(origins, departs, self._groups(pop.groups, pop.count), strict=True):
            try:
                self.model.add_trip(int(origin), gate, float(depart), group=group)
            except nx.NetworkXNoPath:
                continue

    def _spawn_riverside(self, pop) -> None:
        G = self.city.graph
        rng = self.model.rng
        safe = self.model.safe_nodes
        stream_links = self.paths.stream_links
        if pop.stream and pop.stream not in stream_links:
            known = ", ".join(sorted(stream_links)) or "none"
            raise ScenarioError(f"populations: stream {pop.stream!r} has no riverside paths (streams: {known})")
        streams = [pop.stream] if pop.stream else sorted(stream_links)
        links = sorted(k for st in streams for k in stream_links.get(st, ()))
        path_nodes = sorted({n for u, v, k in G.edges(keys=True) if str(k) in links for n in (u, v)} - safe)
        exits = sorted({n for u, v, k in G.edges(keys=True) if str(k) in links for n in (u, v)} & safe)
        if not path_nodes or not exits or pop.count == 0:
            return
        xy = {n: (G.nodes[n]["x"], G.nodes[n]["y"]) for n in path_nodes + exits}
        window = self.duration_s if pop.arrival_window is None else pop.arrival_window
        origins = rng.choice(path_nodes, size=pop.count)
        departs = np.sort(rng.uniform(0.0, window, size=pop.count))
        exit_xy = np.array([xy[e] for e in exits])
        far_of: dict[int, list[int]] = {}  # origin -> the exits at least MIN_TRIP_M from it
        for origin, depart, group in zip(origins, departs, self._groups(pop.groups, pop.count), strict=True):
            far = far_of.get(origin)
            if far is None:
                d = np.hypot(exit_xy[:, 0] - xy[origin][0], exit_xy[:, 1] - xy[origin][1])
                far = far_of[origin] = [e for e, ok in zip(exits, d >= MIN_TRIP_M, strict=True) if ok]
            dest = int(rng.choice(far or exits))
            try:
                self.model.add_trip(int(origin), dest, float(depart), group=group)
            except nx.NetworkXNoPath:
                continue
