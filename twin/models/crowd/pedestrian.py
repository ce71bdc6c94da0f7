"""A pedestrian: a Mesa agent whose walk is a SimPy process on the engine's clock.

The agent makes its own decisions (set out or stay, re-plan at a node, which new route) and keeps
its own state (where it is, whether it evacuates, its exposure). It asks its model only through
the public routing and state API described by :class:`Walkway`; this module does not import the
model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import mesa

from .links import ADMITTED, ARRIVED
from .lower_bound import Start

if TYPE_CHECKING:
    from collections.abc import Iterable

    import networkx as nx
    import simpy

    from .links import Link, LinkNetwork

# free walking speed by group, m/s: mean and standard deviation (Weidmann 1993 for adults;
# children and older people slower; limited mobility after studies of wheelchair and cane users)
FREE_SPEED_M_S = {
    "adult": (1.34, 0.26),
    "child": (1.10, 0.20),
    "older": (1.00, 0.20),
    "limited_mobility": (0.70, 0.15),
}
MIN_FREE_SPEED_M_S = 0.3
CLOSED_AHEAD = "__closed__"
"""Route marker: the next link turned the pedestrian away, so the route is planned again here."""


class Walkway(Protocol):
    """What a pedestrian asks of its model (the crowd model implements it). Times in simulated s."""

    env: simpy.Environment
    graph: nx.MultiGraph
    links: LinkNetwork
    safe_nodes: set[int]
    version: int
    evacuation_ordered_s: float | None

    def route_to(self, node: int, targets: set[int]) -> list[str] | None: ...
    def evacuation_route(self, node: int) -> list[str] | None: ...
    def is_closed(self, key: str) -> bool: ...
    def any_closed(self, keys: Iterable[str]) -> bool: ...
    def node_flooded_s(self, node: int) -> float | None: ...
    def enters_closed_gate(self, node: int, keys: list[str]) -> bool: ...
    def links_at(self, node: int) -> frozenset[str]: ...
    def in_evacuation_zone(self, keys: Iterable[str]) -> bool: ...
    def occupy(self, key: str, unique_id: int) -> None: ...
    def vacate(self, key: str, unique_id: int) -> None: ...


class Pedestrian(mesa.Agent):
    """Walks ``route`` (edge keys) from its origin node, link by link, starting at ``depart_s``.

    When the model orders an evacuation or a link ahead closes, it re-plans at the next node to
    the nearest safe node over open links. Times are simulated seconds; speeds m/s.
    """

    model: Walkway  # a mesa.Model that offers the Walkway API

    def __init__(
        self,
        model: Walkway,
        *,
        origin: int,
        route: list[str],
        depart_s: float,
        free_speed_m_s: float,
        group: str,
        destination: int | None = None,
    ) -> None:
        super().__init__(model)
        self.origin = origin
        self.route = list(route)
        self.depart_s = float(depart_s)
        self.free_speed_m_s = float(free_speed_m_s)
        self.group = group
        self.link: str | None = None
        self.node = origin
        self.arrived_s: float | None = None
        self.distance_m = 0.0
        self.waited_s = 0.0
        self.entered_s = 0.0
        self.evacuating_since: float | None = None
        self.exposed = False
        self.exposure_s = 0.0
        self.stranded = False
        self.heading_to_safety = False
        self.trip_cut = False
        self.cancelled = False
        self.checked_version = -1
        self.destination = destination if destination is not None else (origin if not route else None)
        self.targets: set[int] | None = None  # for trips to the nearest of several places
        self.link_exit_s = 0.0
        self.link_from = origin  # the node it entered its link from
        self.at_node_s = self.depart_s  # since when it stands at ``node`` (off any link)

    # --- what others tell it -------------------------------------------------------------------
    def evacuate_to(self, targets: set[int], *, since_s: float) -> None:
        """Go to the nearest of ``targets`` (nodes), evacuating since ``since_s`` (s)."""
        self.evacuating_since = float(since_s)
        self.heading_to_safety = True
        self.targets = targets

    def hear_order(self, now_s: float) -> None:
        """An evacuation order reaches it (s): from now on it evacuates, if it did not already."""
        if self.evacuating_since is None:
            self.evacuating_since = now_s

    def meet_water(self) -> None:
        """The link it is on has just flooded."""
        self.exposed = True

    # --- what it reports -------------------------------------------------------------------------
    def _flooded_now(self) -> float | None:
        """Since when the water has been where it stands now (s), or None if it is dry there."""
        if self.arrived_s is not None or self.cancelled or self.model.env.now < self.depart_s:
            return None
        if self.link is None:
            wet = self.model.node_flooded_s(self.node)
            return None if wet is None else max(wet, self.at_node_s)
        lk = self.model.links.links[self.link]
        return None if lk.flooded_s is None else max(self.entered_s, lk.flooded_s)

    def exposure_at(self, now_s: float) -> float:
        """Person-seconds in water (on a flooded link, or standing at a node of one) up to
        ``now_s``, counting where it is now."""
        since = self._flooded_now()
        if since is None or now_s < since:
            return self.exposure_s
        return self.exposure_s + (now_s - since)

    def exposed_now(self) -> bool:
        """Whether it has been in water, where it is now included."""
        return self.exposed or self._flooded_now() is not None

    def _walked_share(self, t: float) -> float:
        """How much of its current link it has walked at ``t`` (s), 0 to 1."""
        return min(max((t - self.entered_s) / max(self.link_exit_s - self.entered_s, 1e-9), 0.0), 1.0)

    def bound_start(self, now_s: float) -> Start:
        """Where it can first stand at a node, for a lower bound taken at ``now_s`` (s): the node
        ahead if it is on a link (it cannot turn round inside one), ready when its own free speed
        would bring it there (s after ``now_s``)."""
        if self.link is None:
            return Start(self.node, 0.0, self.free_speed_m_s)
        lk = self.model.links.links[self.link]
        ahead = lk.v if self.link_from == lk.u else lk.u
        f = self._walked_share(now_s)
        return Start(ahead, (1.0 - f) * lk.length_m / self.free_speed_m_s, self.free_speed_m_s)

    def position_at(self, t: float) -> tuple[float, float] | None:
        """Where it is at ``t`` (s) in the graph's metric CRS (m), along its link; None when not
        out (not yet set out, arrived, or stayed home)."""
        if t < self.depart_s or self.arrived_s is not None or self.cancelled:
            return None
        G = self.model.graph
        if self.link is None:
            a = G.nodes[self.node]
            return a["x"], a["y"]
        lk = self.model.links.links[self.link]
        a = G.nodes[self.link_from]
        other = G.nodes[lk.v if self.link_from == lk.u else lk.u]
        f = self._walked_share(t)
        return a["x"] + f * (other["x"] - a["x"]), a["y"] + f * (other["y"] - a["y"])

    # --- its decisions ---------------------------------------------------------------------------
    def may_set_out(self) -> bool:
        """Whether it still sets out: not into a zone being cleared."""
        m = self.model
        if m.evacuation_ordered_s is None or self.origin in m.safe_nodes:
            return True
        return not (m.in_evacuation_zone(m.links_at(self.origin)) or m.in_evacuation_zone(self.route))

    def must_replan(self, i: int) -> bool:
        """Re-plan before taking link ``i`` of the route: a link ahead is closed, or an evacuation
        order covers where it is or is going and it is not yet heading to safety. The route is
        scanned again only after a closure or an order (the model's ``version``)."""
        m = self.model
        if self.checked_version == m.version and self.route and self.route[-1] != CLOSED_AHEAD:
            return False
        self.checked_version = m.version
        ahead = self.route[i:]
        if (ahead and ahead[-1] == CLOSED_AHEAD) or m.any_closed(ahead):
            return True
        if m.enters_closed_gate(self.node, ahead):
            return True
        if m.evacuation_ordered_s is None or self.heading_to_safety:
            return False
        if self.evacuating_since is None and self.node in m.safe_nodes:
            if m.in_evacuation_zone(ahead):
                del self.route[i:]  # on the street already: the trip into the cleared zone ends here
                self.trip_cut = True
            return False
        here = m.links_at(self.node)
        if self.evacuating_since is not None or m.in_evacuation_zone(ahead) or m.in_evacuation_zone(here):
            if self.evacuating_since is None:
                self.evacuating_since = m.env.now
            return True
        return False

    def new_route(self) -> list[str] | None:
        """Where it goes after a closure or an order: evacuees to the nearest safe node; others on
        to their destination (or nearest target) over open links, else to safety."""
        m = self.model
        if self.evacuating_since is None or self.targets:
            targets = self.targets or ({self.destination} if self.destination is not None else set())
            if targets:
                keys = m.route_to(self.node, targets)
                if keys is not None:
                    return keys
        if self.evacuating_since is not None:
            self.heading_to_safety = True
        return m.evacuation_route(self.node)

    # --- its walk --------------------------------------------------------------------------------
    def _enter(self, link: Link, now: float) -> None:
        self._settle_node_exposure(now)
        self.link = link.key
        self.link_from = self.node
        self.entered_s = now
        self.model.occupy(link.key, self.unique_id)
        if link.flooded_s is not None:
            self.exposed = True

    def _reach_end(self, link: Link) -> None:
        """At the end of ``link``: still on it (in its storage) until the exit lets it go."""
        self.distance_m += link.length_m
        self.node = link.v if self.link_from == link.u else link.u

    def _leave(self, link: Link, now: float) -> None:
        self.model.vacate(link.key, self.unique_id)
        if link.flooded_s is not None:
            self.exposure_s += now - max(self.entered_s, link.flooded_s)
        self.link = None
        self.at_node_s = now

    def _settle_node_exposure(self, now: float) -> None:
        """Add the person-seconds spent standing at a flooded node since ``at_node_s``."""
        wet = self.model.node_flooded_s(self.node)
        if wet is not None and now > max(wet, self.at_node_s):
            self.exposed = True
            self.exposure_s += now - max(wet, self.at_node_s)
        self.at_node_s = now

    def walk(self):
        """The SimPy process: wait for the departure time, then walk link by link. At the end of a
        link it chooses the next one and asks to leave for it (the exit's capacity, and a full next
        link, hold it there); a closed link or an order sends it back to planning at that node."""
        env = self.model.env
        net = self.model.links
        if self.depart_s > env.now:
            yield env.timeout(self.depart_s - env.now)
        if not self.may_set_out():
            self.cancelled = True  # the paths it was going to walk are being cleared
            return
        self.at_node_s = env.now
        link: Link | None = None  # the link it is on
        i = 0
        while True:
            if self.must_replan(i):
                route = self.new_route()
                if route is None:  # no open way to safety: it stays at this node
                    if link is not None:
                        yield net.leave(link, None, self.node)
                        self._leave(link, env.now)
                    self.stranded = True
                    return
                self.route, i = route, 0
            nxt = net.links[self.route[i]] if i < len(self.route) else None
            asked = env.now
            if link is None:
                if nxt is None:
                    break  # already where it was going
                answer = yield net.request(nxt, self.node)
            else:
                answer = yield net.leave(link, nxt, self.node)
                self._leave(link, env.now)
                link = None
            self.waited_s += env.now - asked
            if answer == ARRIVED:
                break
            if answer != ADMITTED or nxt is None:
                self.route = self.route[:i] + [CLOSED_AHEAD]  # forces a re-plan at this node
                self.checked_version = -1
                continue
            link = nxt
            self._enter(link, env.now)
            travel = net.travel_time_s(link, self.free_speed_m_s)
            self.link_exit_s = env.now + travel
            yield env.timeout(travel)
            self._reach_end(link)
            i += 1
        self._settle_node_exposure(env.now)
        self.arrived_s = env.now
