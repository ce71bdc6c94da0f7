"""Walkable links as queues: entry limited by capacity, stay set by the fundamental diagram.

A link of length L and clear width W has the walkable area A = L·W. It admits pedestrians one
at a time, at most ``capacity_p_s`` = J_s,max · W per second (the bottleneck rule), and holds at
most ``storage`` = ceil(ρ_c · A) people walking it at once, ρ_c being the density of the
diagram's maximum flow (beyond that, people wait at its entry: a queue). Holding a link at ρ_c
keeps its discharge at capacity: a denser link would walk slower and pass fewer people per
second (the capacity drop a link-entry queue model must not produce inside a short door).
A pedestrian admitted when n people are on the link walks it at v0_i · v(n/A)/v0, the
Weidmann speed at that density (a mesoscopic link model: density is read at entry). Both
directions share the link's capacity and area.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass, field

import simpy

from .fundamental_diagram import WEIDMANN, Weidmann


@dataclass
class Link:
    key: str
    u: int
    v: int
    length_m: float
    width_m: float
    kind: str
    capacity_p_s: float
    storage: int
    occupants: int = 0
    open: bool = True
    next_admit_s: float = 0.0
    waiting: deque = field(default_factory=deque)
    entered: int = 0
    peak_occupants: int = 0
    peak_queue: int = 0
    wake_s: float = -1.0  # time of the admission retry already scheduled, if any
    flooded_s: float | None = None  # when the water reached it
    admitted_s: array = field(default_factory=lambda: array("d"))  # admission times, s

    @property
    def area_m2(self) -> float:
        return self.length_m * self.width_m

    @property
    def density_p_m2(self) -> float:
        return self.occupants / self.area_m2


class LinkNetwork:
    """The links of a walk graph (MultiGraph edges with ``length_m``, ``width_m``, ``kind``)."""

    def __init__(self, env: simpy.Environment, graph, *, diagram: Weidmann = WEIDMANN) -> None:
        self.env = env
        self.diagram = diagram
        jmax = diagram.max_specific_flow()
        rho_c = diagram.capacity_density()
        self.links: dict[str, Link] = {}
        for u, v, key, d in graph.edges(keys=True, data=True):
            length = max(float(d["length_m"]), 0.5)
            width = float(d["width_m"])
            storage = max(1, math.ceil(rho_c * length * width))
            self.links[str(key)] = Link(str(key), u, v, length, width, d.get("kind", "road"), jmax * width, storage)

    def request(self, link: Link) -> simpy.Event:
        """An event that fires when ``link`` admits one more pedestrian (FIFO)."""
        ev = self.env.event()
        link.waiting.append(ev)
        link.peak_queue = max(link.peak_queue, len(link.waiting))
        self._try_admit(link)
        return ev

    def close(self, link: Link) -> None:
        """Close ``link``: nobody more is admitted; those waiting are told (event value "closed")."""
        link.open = False
        while link.waiting:
            link.waiting.popleft().succeed("closed")

    def reopen(self, link: Link) -> None:
        """Open ``link`` again (a gate lifted); people may be admitted from now on."""
        link.open = True
        self._try_admit(link)

    def leave(self, link: Link) -> None:
        link.occupants -= 1
        self._try_admit(link)

    def travel_time_s(self, link: Link, free_speed_m_s: float) -> float:
        """Time (s) to walk ``link`` for a pedestrian admitted now (the density includes them)."""
        factor = self.diagram.speed_factor(link.density_p_m2)
        return link.length_m / max(free_speed_m_s * factor, 1e-3)

    def _wake(self, link: Link) -> None:
        link.wake_s = -1.0  # this retry has fired: a later one may be scheduled
        self._try_admit(link)

    def reroute_waiting(self, link: Link) -> None:
        """Tell everyone waiting at ``link``'s entry to re-plan (event value "replan")."""
        while link.waiting:
            ev = link.waiting.popleft()
            if not ev.triggered:
                ev.succeed("replan")

    def _try_admit(self, link: Link) -> None:
        now = self.env.now
        while link.waiting and link.occupants < link.storage and link.open:
            if now + 1e-9 < link.next_admit_s:
                t = link.next_admit_s
                if link.wake_s < 0 or link.wake_s > t:
                    link.wake_s = t
                    self.env.timeout(t - now).callbacks.append(lambda _e: self._wake(link))
                return
            ev = link.waiting.popleft()
            if ev.triggered:  # a closed link already answered it
                continue
            link.occupants += 1
            link.entered += 1
            link.admitted_s.append(now)
            link.peak_occupants = max(link.peak_occupants, link.occupants)
            link.next_admit_s = max(link.next_admit_s, now) + 1.0 / link.capacity_p_s
            ev.succeed("admitted")
