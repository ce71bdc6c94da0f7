"""A pedestrian: a Mesa agent whose walk is a SimPy process on the engine's clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from .model import CrowdModel

# free walking speed by group, m/s: mean and standard deviation (Weidmann 1993 for adults;
# children and older people slower; limited mobility after studies of wheelchair and cane users)
FREE_SPEED_M_S = {
    "adult": (1.34, 0.26),
    "child": (1.10, 0.20),
    "older": (1.00, 0.20),
    "limited_mobility": (0.70, 0.15),
}
MIN_FREE_SPEED_M_S = 0.3
CLOSED = "closed"


class Pedestrian(mesa.Agent):
    """Walks ``route`` (edge keys) from its origin node, link by link, starting at ``depart_s``.

    When the model orders an evacuation or a link ahead closes, it re-plans at the next node to
    the nearest safe node over open links. Times are simulated seconds; speeds m/s.
    """

    def __init__(
        self, model: CrowdModel, *, origin: int, route: list[str], depart_s: float, free_speed_m_s: float, group: str
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
        self.destination = origin if not route else None  # set by the model
        self.targets: set[int] | None = None  # for trips to the nearest of several places
        self.link_exit_s = 0.0

    def walk(self):
        """The SimPy process: wait for the departure time, then walk link by link."""
        model = self.model
        env = model.env
        net = model.links
        if self.depart_s > env.now:
            yield env.timeout(self.depart_s - env.now)
        if not model.may_set_out(self):
            self.cancelled = True  # the paths it was going to walk are being cleared
            return
        model.on_departure(self)
        i = 0
        while True:
            if model.must_replan(self, i):
                self.route, i = model.new_route(self), 0
                if self.route is None:
                    self.stranded = True  # no open way to safety: still here at the end
                    return
            if i >= len(self.route):
                break
            link = net.links[self.route[i]]
            asked = env.now
            admitted = yield net.request(link)
            self.waited_s += env.now - asked
            if admitted in (CLOSED, "replan"):
                self.route = self.route[:i] + ["__closed__"]  # forces a re-plan at this node
                self.checked_version = -1
                continue
            self.link = link.key
            self.entered_s = env.now
            model.on_enter(self, link)
            travel = net.travel_time_s(link, self.free_speed_m_s)
            self.link_exit_s = env.now + travel
            yield env.timeout(travel)
            net.leave(link)
            model.on_leave(self, link)
            self.link = None
            self.distance_m += link.length_m
            self.node = link.v if self.node == link.u else link.u
            i += 1
        self.arrived_s = env.now
        model.on_arrival(self)
