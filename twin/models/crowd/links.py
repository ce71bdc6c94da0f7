"""Walkable links as queues with a capacity at both ends and spillback, event-driven.

The rules follow MATSim's queue model (Cetin, Burri & Nagel 2003; Horni, Nagel & Axhausen 2016,
ch. 1: a link's flow capacity applies at its exit and its storage capacity at its entry, and a
full link blocks the link feeding it) and the link transmission model (Yperman 2007: a link
sends at most its capacity and receives at most what its free storage takes). A link of length
L (m) and clear width W (m) has the walkable area A = L·W and:

- **flow capacity** c = J_s,max·W (P/s), J_s,max = 1.225 P/(m·s) being the peak of the Weidmann
  diagram. Successive entries are at least 1/c apart, and so are successive exits.
- **storage** N = ceil(ρ_jam·A) people (ρ_jam = 5.4 P/m², the diagram's jam density), walking it
  or queued at its end. A full link admits nobody: the person at the head of the link before it
  waits at its end, and the queue spills back.
- **walking**: someone admitted when n people walk it (not counting those queued at its end)
  walks it at v0_i · v(min(n/A, ρ_c))/v0, on the free-flow branch of the diagram (ρ_c = 1.75
  P/m², the density of its maximum flow). Congestion is not a slower walk but the queue at the
  exit, as in the link transmission model. Density is read at entry (a mesoscopic model).
- **exit**: people reach the end in their own time, so fast walkers overtake slow ones inside a
  link, and queue there in the order they arrive. The head leaves when the exit's capacity allows
  and the next link admits them, or at once when their walk ends at this node. So, while a queue
  stands before a door, the door discharges at its capacity whatever the mix of speeds, unless
  the people inside walk so slowly that its storage cannot hold enough of them: below
  J_s,max/ρ_jam = 0.23 m/s on average (the one physical case of a lower discharge: flow is density
  times speed, and density stops at ρ_jam).
- **gridlock**: a head blocked by a full link for ``STUCK_S`` is let in anyway (MATSim's stuck
  time), so that two queues blocking each other (counterflow on a full link) cannot stop a run.
  Each such entry is counted (``Link.forced``).

Both directions share a link's capacity and storage. No loop steps every link or person: state
changes only at admissions, exits and the wake-ups that capacity schedules.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass, field
from functools import partial

import simpy

from ...walk_graph import MERGE_DISTANCE_M
from .fundamental_diagram import WEIDMANN, Weidmann

ADMITTED = "admitted"
"""Answer to a passage: now on the next link."""
ARRIVED = "arrived"
"""Answer to a passage whose walk ends at this node: off the link."""
CLOSED = "closed"
"""Answer: the next link is closed; off the link, standing at the node."""
REPLAN = "replan"
"""Answer: told to plan again (an order, a gate); off the link, standing at the node."""
STUCK_S = 30.0
"""Seconds the head of a queue waits at a full link before it is let in anyway (gridlock)."""
_EPS_S = 1e-9


@dataclass(eq=False, slots=True)
class Passage:
    """One person asking to leave ``src`` (None: from a node) for ``dst`` (None: the walk ends) at
    ``node``; ``event`` fires with the answer (:data:`ADMITTED`, :data:`ARRIVED`, ...)."""

    event: simpy.Event
    src: Link | None
    dst: Link | None
    node: int
    redirect: bool = False
    stuck_timer: bool = False


@dataclass(eq=False)
class Link:
    key: str
    u: int
    v: int
    length_m: float
    width_m: float
    kind: str
    capacity_p_s: float
    storage: int
    occupants: int = 0  # walking it or queued at its end
    open: bool = True
    next_admit_s: float = 0.0
    next_exit_s: float = 0.0
    waiting: deque = field(default_factory=deque)  # passages asking to enter, in order
    exit_queue: deque = field(default_factory=deque)  # passages of those at its end, in order
    head_out: bool = False  # the head of the exit queue is waiting at the next link's entry
    waiting_n: int = 0  # people waiting to enter: at its entry or queued at the end of the link before
    entered: int = 0
    forced: int = 0  # entries past a full storage after STUCK_S (gridlock)
    peak_occupants: int = 0
    peak_queue: int = 0
    wake_s: float = -1.0  # time of the admission retry already scheduled, if any
    exit_wake_s: float = -1.0  # time of the exit retry already scheduled, if any
    flooded_s: float | None = None  # when the water reached it
    admitted_s: array = field(default_factory=lambda: array("d"))  # entry times, s
    exited_s: array = field(default_factory=lambda: array("d"))  # exit times, s

    @property
    def area_m2(self) -> float:
        return self.length_m * self.width_m

    @property
    def density_p_m2(self) -> float:
        """Everyone on it (walking or queued at its end) per m² of walkable area."""
        return self.occupants / self.area_m2

    @property
    def walking(self) -> int:
        """People walking it, not yet queued at its end."""
        return self.occupants - len(self.exit_queue)


class LinkNetwork:
    """The links of a walk graph (MultiGraph edges with ``length_m``, ``width_m``, ``kind``)."""

    def __init__(self, env: simpy.Environment, graph, *, diagram: Weidmann = WEIDMANN) -> None:
        self.env = env
        self.diagram = diagram
        jmax = diagram.max_specific_flow()
        self.rho_c = diagram.capacity_density()
        self.links: dict[str, Link] = {}
        for u, v, key, d in graph.edges(keys=True, data=True):
            length = max(float(d["length_m"]), MERGE_DISTANCE_M)  # no shorter link survives the dataset
            width = float(d["width_m"])
            storage = max(1, math.ceil(diagram.jam_density_p_m2 * length * width))
            self.links[str(key)] = Link(str(key), u, v, length, width, d.get("kind", "road"), jmax * width, storage)
        self._work: deque[tuple[bool, Link]] = deque()
        self._settling = False

    # --- what a pedestrian asks -------------------------------------------------------------
    def request(self, link: Link, node: int) -> simpy.Event:
        """Enter ``link`` from ``node`` (not from a link): fires with :data:`ADMITTED`,
        :data:`CLOSED` or :data:`REPLAN`."""
        p = Passage(self.env.event(), None, link, node)
        self._queue_for(link)
        link.waiting.append(p)
        self._kick(True, link)
        return p.event

    def leave(self, link: Link, dst: Link | None, node: int) -> simpy.Event:
        """At the end of ``link`` (node ``node``), leave it for ``dst`` (None: the walk ends here).
        Fires with :data:`ADMITTED` (now on ``dst``), :data:`ARRIVED`, or :data:`CLOSED` /
        :data:`REPLAN` (off ``link``, at the node, to plan again)."""
        now = self.env.now
        if (
            not link.exit_queue
            and now + _EPS_S >= link.next_exit_s
            and (
                dst is None
                or (dst.open and not dst.waiting and dst.occupants < dst.storage and now + _EPS_S >= dst.next_admit_s)
            )
        ):  # nothing in the way: the same steps as the queue's, without it (most passages)
            ev = self.env.event()
            link.occupants -= 1
            link.next_exit_s = max(link.next_exit_s, now) + 1.0 / link.capacity_p_s
            link.exited_s.append(now)
            if dst is not None:
                self._take_in(dst, now)
            ev.succeed(ARRIVED if dst is None else ADMITTED)
            if link.waiting:
                self._kick(True, link)
            return ev
        p = Passage(self.env.event(), link, dst, node)
        if dst is not None:
            self._queue_for(dst)
        link.exit_queue.append(p)
        self._kick(False, link)
        return p.event

    def travel_time_s(self, link: Link, free_speed_m_s: float) -> float:
        """Time (s) to walk ``link`` for a pedestrian admitted now (the density includes them)."""
        rho = min(link.walking / link.area_m2, self.rho_c)
        factor = self.diagram.speed_factor(rho)
        return link.length_m / max(free_speed_m_s * factor, 1e-3)

    # --- what the model does ------------------------------------------------------------------
    def close(self, link: Link) -> None:
        """Close ``link``: nobody more is admitted; those waiting are told (:data:`CLOSED`)."""
        link.open = False
        self._answer_waiting(link, CLOSED)
        self._kick(False, link)  # settles the links those people left

    def reopen(self, link: Link) -> None:
        """Open ``link`` again (a gate lifted); people may be admitted from now on."""
        link.open = True
        self._kick(True, link)

    def reroute_waiting(self, links: list[Link], *, from_node: int | None = None) -> None:
        """Tell everyone about to enter one of ``links`` (from ``from_node`` only, if given) to
        plan again (:data:`REPLAN`): those at its entry, and those queued at the end of a link
        before it."""
        targets = {id(lk) for lk in links}
        for link in links:
            kept: deque = deque()
            while link.waiting:
                p = link.waiting.popleft()
                if from_node is None or p.node == from_node:
                    self._answer(p, REPLAN)
                else:
                    kept.append(p)
            link.waiting = kept
        for lk in self.links.values():
            if not lk.exit_queue:
                continue
            for p in lk.exit_queue:
                if p.dst is not None and id(p.dst) in targets and (from_node is None or p.node == from_node):
                    p.redirect = True
            self._work.append((False, lk))
        for link in links:
            self._kick(True, link)

    # --- the queues ---------------------------------------------------------------------------
    def _queue_for(self, link: Link) -> None:
        link.waiting_n += 1
        if link.waiting_n > link.peak_queue:
            link.peak_queue = link.waiting_n

    def _answer_waiting(self, link: Link, value: str) -> None:
        while link.waiting:
            self._answer(link.waiting.popleft(), value)

    def _answer(self, p: Passage, value: str) -> None:
        """Turn ``p`` away from its next link: off its link (if any), standing at the node."""
        if p.dst is not None:
            p.dst.waiting_n -= 1
        if p.src is not None:
            self._exit_done(p.src)
        p.event.succeed(value)

    def _kick(self, admit: bool, link: Link) -> None:
        """Settle the entry (``admit``) or the exit of ``link`` and everything that follows from it,
        as a worklist (a spillback chain of any length needs no recursion)."""
        self._work.append((admit, link))
        if self._settling:
            return
        self._settling = True
        try:
            while self._work:
                is_admit, lk = self._work.popleft()
                if is_admit:
                    self._admit(lk)
                else:
                    self._serve(lk)
        finally:
            self._settling = False

    def _admit(self, link: Link) -> None:
        now = self.env.now
        while link.waiting and link.open:
            p = link.waiting[0]
            if link.occupants >= link.storage:
                if p.src is not None and not p.stuck_timer:
                    p.stuck_timer = True
                    self.env.timeout(STUCK_S).callbacks.append(partial(self._stuck, p))
                return
            if now + _EPS_S < link.next_admit_s:
                t = link.next_admit_s
                if link.wake_s < 0 or link.wake_s > t:
                    link.wake_s = t
                    self.env.timeout(t - now).callbacks.append(lambda _e: self._wake(link, True))
                return
            link.waiting.popleft()
            self._enter(link, p)

    def _take_in(self, link: Link, now: float) -> None:
        """One more person on ``link`` at ``now`` (s): counts and the next entry time."""
        link.occupants += 1
        link.entered += 1
        link.admitted_s.append(now)
        if link.occupants > link.peak_occupants:
            link.peak_occupants = link.occupants
        link.next_admit_s = max(link.next_admit_s, now) + 1.0 / link.capacity_p_s

    def _enter(self, link: Link, p: Passage) -> None:
        link.waiting_n -= 1
        self._take_in(link, self.env.now)
        if p.src is not None:
            self._exit_done(p.src)
        p.event.succeed(ADMITTED)

    def _serve(self, link: Link) -> None:
        """Let the head of ``link``'s exit queue go, if its exit's capacity allows."""
        if link.head_out or not link.exit_queue:
            return
        now = self.env.now
        if now + _EPS_S < link.next_exit_s:
            t = link.next_exit_s
            if link.exit_wake_s < 0 or link.exit_wake_s > t:
                link.exit_wake_s = t
                self.env.timeout(t - now).callbacks.append(lambda _e: self._wake(link, False))
            return
        p = link.exit_queue[0]
        dst = p.dst
        if dst is None:
            self._exit_done(link)
            p.event.succeed(ARRIVED)
        elif p.redirect or not dst.open:
            self._answer(p, REPLAN if p.redirect else CLOSED)
        else:
            link.head_out = True
            dst.waiting.append(p)
            self._work.append((True, dst))

    def _exit_done(self, link: Link) -> None:
        """The head of ``link``'s exit queue has left it."""
        now = self.env.now
        link.exit_queue.popleft()
        link.head_out = False
        link.occupants -= 1
        link.next_exit_s = max(link.next_exit_s, now) + 1.0 / link.capacity_p_s
        link.exited_s.append(now)
        self._work.append((True, link))
        self._work.append((False, link))

    def _wake(self, link: Link, admit: bool) -> None:
        if admit:
            link.wake_s = -1.0  # this retry has fired: a later one may be scheduled
        else:
            link.exit_wake_s = -1.0
        self._kick(admit, link)

    def _stuck(self, p: Passage, _event: simpy.Event | None = None) -> None:
        """``p`` has waited ``STUCK_S`` at the entry of a full link: let it in past the storage."""
        link = p.dst
        if p.event.triggered or link is None or not link.open or p not in link.waiting:
            return
        if link.occupants < link.storage:
            p.stuck_timer = False  # room again: it goes in its turn (and may be timed again)
            return
        link.waiting.remove(p)
        link.forced += 1
        self._enter(link, p)
        self._kick(True, link)
