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
  link, and queue there in the order they arrive (each end has its own queue and its own exit).
  The head leaves when the exit's capacity allows
  and the next link admits them, or at once when their walk ends at this node. So, while a queue
  stands before a door, the door discharges at its capacity whatever the mix of speeds, unless
  the people inside walk so slowly that its storage cannot hold enough of them: below
  J_s,max/ρ_jam = 0.23 m/s on average (the one physical case of a lower discharge: flow is density
  times speed, and density stops at ρ_jam).
- **counterflow and gridlock**: two heads facing each other at the entries of each other's full
  links pass each other (``Link.swapped``). A head blocked by a full link for ``STUCK_S`` is let in
  anyway (MATSim's stuck time), so that queues blocking each other in a cycle cannot stop a run;
  each such entry is counted (``Link.forced``).

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
    untimed: bool = False  # counted in its next link's ``untimed``: waiting there, stuck time not started


@dataclass(eq=False)
class Exit:
    """One end of a link: the queue of those who reached it, in order, and when it next lets one go."""

    queue: deque = field(default_factory=deque)
    head_out: bool = False  # the head is waiting at the next link's entry
    next_s: float = 0.0
    wake_s: float = -1.0  # time of the retry already scheduled, if any


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
    occupants: int = 0  # walking it or queued at one of its ends
    open: bool = True
    next_admit_s: float = 0.0
    waiting: deque = field(default_factory=deque)  # passages asking to enter, in order
    exits: tuple[Exit, Exit] = field(default_factory=lambda: (Exit(), Exit()))  # at u, at v
    waiting_n: int = 0  # people waiting to enter: at its entry or queued at the end of the link before
    entered: int = 0
    forced: int = 0  # entries past a full storage after STUCK_S (gridlock)
    swapped: int = 0  # entries by passing someone facing the other way between two full links
    untimed: int = 0  # passages from links waiting at its entry whose stuck time has not started
    peak_occupants: int = 0
    peak_queue: int = 0
    wake_s: float = -1.0  # time of the admission retry already scheduled, if any
    flooded_s: float | None = None  # when the water reached it
    admitted_s: array = field(default_factory=lambda: array("d"))  # entry times, s
    exited_s: array = field(default_factory=lambda: array("d"))  # exit times at either end, s

    @property
    def area_m2(self) -> float:
        return self.length_m * self.width_m

    @property
    def density_p_m2(self) -> float:
        """Everyone on it (walking or queued at its ends) per m² of walkable area."""
        return self.occupants / self.area_m2

    @property
    def walking(self) -> int:
        """People walking it, not yet queued at one of its ends."""
        return self.occupants - len(self.exits[0].queue) - len(self.exits[1].queue)

    def exit_at(self, node: int) -> Exit:
        """The end of the link at ``node``."""
        return self.exits[0] if node == self.u else self.exits[1]


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
        self._work: deque[tuple[Link, Exit | None]] = deque()  # (link, None): its entry; (link, end): that exit
        self._settling = False

    # --- what a pedestrian asks -------------------------------------------------------------
    def request(self, link: Link, node: int) -> simpy.Event:
        """Enter ``link`` from ``node`` (not from a link): fires with :data:`ADMITTED`,
        :data:`CLOSED` or :data:`REPLAN`."""
        p = Passage(self.env.event(), None, link, node)
        self._queue_for(link)
        link.waiting.append(p)
        self._kick(link, None)
        return p.event

    def leave(self, link: Link, dst: Link | None, node: int) -> simpy.Event:
        """At the end of ``link`` (node ``node``), leave it for ``dst`` (None: the walk ends here).
        Fires with :data:`ADMITTED` (now on ``dst``), :data:`ARRIVED`, or :data:`CLOSED` /
        :data:`REPLAN` (off ``link``, at the node, to plan again)."""
        now = self.env.now
        end = link.exit_at(node)
        if (
            not end.queue
            and now + _EPS_S >= end.next_s
            and (
                dst is None
                or (dst.open and not dst.waiting and dst.occupants < dst.storage and now + _EPS_S >= dst.next_admit_s)
            )
        ):  # nothing in the way: the same steps as the queue's, without it (most passages)
            ev = self.env.event()
            self._let_out(link, end, now)
            if dst is not None:
                self._take_in(dst, now)
            ev.succeed(ARRIVED if dst is None else ADMITTED)
            if link.waiting:
                self._kick(link, None)
            return ev
        p = Passage(self.env.event(), link, dst, node)
        if dst is not None:
            self._queue_for(dst)
        end.queue.append(p)
        self._kick(link, end)
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
        self._kick(link, None)  # settles the links those people left

    def reopen(self, link: Link) -> None:
        """Open ``link`` again (a gate lifted); people may be admitted from now on."""
        link.open = True
        self._kick(link, None)

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
            for end in lk.exits:
                if not end.queue:
                    continue
                for p in end.queue:
                    if p.dst is not None and id(p.dst) in targets and (from_node is None or p.node == from_node):
                        p.redirect = True
                self._work.append((lk, end))
        for link in links:
            self._kick(link, None)

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
        self._counted_out(p)
        if p.dst is not None:
            p.dst.waiting_n -= 1
        if p.src is not None:
            self._exit_done(p.src, p.src.exit_at(p.node))
        p.event.succeed(value)

    def _kick(self, link: Link, end: Exit | None) -> None:
        """Settle the entry (``end`` None) or that exit of ``link`` and everything that follows
        from it, as a worklist (a spillback chain of any length needs no recursion)."""
        self._work.append((link, end))
        if self._settling:
            return
        self._settling = True
        try:
            while self._work:
                lk, e = self._work.popleft()
                if e is None:
                    self._admit(lk)
                else:
                    self._serve(lk, e)
        finally:
            self._settling = False

    def _admit(self, link: Link) -> None:
        now = self.env.now
        while link.waiting and link.open:
            p = link.waiting[0]
            if link.occupants >= link.storage:
                if p.src is not None and self._swap(p):
                    continue
                if link.untimed:  # full: the stuck time starts for everyone waiting from a link
                    for q in link.waiting:
                        self._time_stuck(q)
                return
            if now + _EPS_S < link.next_admit_s:
                self._retry(link, None)
                return
            link.waiting.popleft()
            self._enter(link, p)

    def _swap(self, p: Passage) -> bool:
        """``p`` waits at the entry of a full link whose head at that end waits, facing it, at the
        entry of ``p``'s own full link: the two pass each other (each leaves its link at its
        exit's capacity, already respected, and enters the other; storage is unchanged)."""
        a, b = p.src, p.dst
        if a is None or b is None:
            return False
        end = b.exit_at(p.node)
        if not end.head_out or not end.queue:
            return False
        q = end.queue[0]
        if q.dst is not a or q not in a.waiting:
            return False
        b.waiting.popleft()  # p, at the front
        a.waiting.remove(q)
        b.swapped += 1
        a.swapped += 1
        self._enter(b, p)
        self._enter(a, q)
        self._work.append((a, None))
        return True

    def _let_out(self, link: Link, end: Exit, now: float) -> None:
        """One person fewer on ``link``, out by ``end`` at ``now`` (s): counts and its next exit time."""
        link.occupants -= 1
        end.next_s = max(end.next_s, now) + 1.0 / link.capacity_p_s
        link.exited_s.append(now)

    def _take_in(self, link: Link, now: float) -> None:
        """One more person on ``link`` at ``now`` (s): counts and the next entry time."""
        link.occupants += 1
        link.entered += 1
        link.admitted_s.append(now)
        if link.occupants > link.peak_occupants:
            link.peak_occupants = link.occupants
        link.next_admit_s = max(link.next_admit_s, now) + 1.0 / link.capacity_p_s

    def _enter(self, link: Link, p: Passage) -> None:
        self._counted_out(p)
        link.waiting_n -= 1
        self._take_in(link, self.env.now)
        if p.src is not None:
            self._exit_done(p.src, p.src.exit_at(p.node))
        p.event.succeed(ADMITTED)

    def _serve(self, link: Link, end: Exit) -> None:
        """Let the head of the queue at ``end`` of ``link`` go, if that exit's capacity allows."""
        if end.head_out or not end.queue:
            return
        if self.env.now + _EPS_S < end.next_s:
            self._retry(link, end)
            return
        p = end.queue[0]
        dst = p.dst
        if dst is None:
            self._exit_done(link, end)
            p.event.succeed(ARRIVED)
        elif p.redirect or not dst.open:
            self._answer(p, REPLAN if p.redirect else CLOSED)
        else:
            end.head_out = True
            dst.waiting.append(p)
            if dst.occupants >= dst.storage:
                self._time_stuck(p)  # behind others, perhaps: it is timed from now all the same
            else:
                p.untimed = True
                dst.untimed += 1
            self._work.append((dst, None))

    def _exit_done(self, link: Link, end: Exit) -> None:
        """The head of the queue at ``end`` of ``link`` has left it."""
        end.queue.popleft()
        end.head_out = False
        self._let_out(link, end, self.env.now)
        self._work.append((link, None))
        self._work.append((link, end))

    def _retry(self, link: Link, end: Exit | None) -> None:
        """Settle ``link``'s entry (``end`` None) or that exit again when its capacity next
        allows, unless a retry no later than that is already scheduled."""
        t = link.next_admit_s if end is None else end.next_s
        pending = link.wake_s if end is None else end.wake_s
        if 0 <= pending <= t:
            return
        if end is None:
            link.wake_s = t
        else:
            end.wake_s = t
        self.env.timeout(t - self.env.now).callbacks.append(lambda _e: self._wake(link, end))

    def _wake(self, link: Link, end: Exit | None) -> None:
        if end is None:
            link.wake_s = -1.0  # this retry has fired: a later one may be scheduled
        else:
            end.wake_s = -1.0
        self._kick(link, end)

    def _time_stuck(self, p: Passage) -> None:
        """Start ``p``'s stuck time, if it comes from a link (one waiting at a node blocks nobody)."""
        self._counted_out(p)
        if p.src is not None and not p.stuck_timer:
            p.stuck_timer = True
            self.env.timeout(STUCK_S).callbacks.append(partial(self._stuck, p))

    def _counted_out(self, p: Passage) -> None:
        """``p`` no longer counts among its next link's untimed passages."""
        if p.untimed and p.dst is not None:
            p.untimed = False
            p.dst.untimed -= 1

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
        self._kick(link, None)
