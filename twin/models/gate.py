"""A smart gate's barrier (진출입로 차단시설) on the way down to a riverside path: travel time,
an obstacle interlock, and what a closed gate does to the walkers (it stops people entering the
path, never leaving it). Times are simulated seconds.
"""

from __future__ import annotations


class GateModel:
    """The barrier itself, in simulated seconds. ``position`` 0 = open, 1 = closed."""

    def __init__(self, travel_s: float) -> None:
        self.travel_s = max(float(travel_s), 0.1)
        self.state = "open"
        self.position = 0.0
        self.remote = True
        self.last_source = "none"
        self.rejected = 0
        self.t = 0.0
        self.jammed = False  # stuck open (a fault): commands are taken but the barrier does not move

    def command(self, what: str, source: str) -> str | None:
        """Take a command; returns why it was rejected, or None."""
        if what not in ("close", "open"):
            self.rejected += 1
            return f"unknown command {what!r}: expected close or open"
        if not self.remote:
            self.rejected += 1
            return "remote mode is off"
        self.last_source = source
        if what == "close" and self.state in ("open", "opening"):
            self.state = "closing"
        elif what == "open" and self.state in ("closed", "closing"):
            self.state = "opening"
        return None

    def step(self, t_s: float, *, obstacle: bool, stuck_open: bool) -> str | None:
        """Move to time ``t_s``; returns "closed" or "open" when a limit is reached."""
        dt = max(t_s - self.t, 0.0)
        self.t = t_s
        rate = dt / self.travel_s
        self.jammed = stuck_open
        if self.state == "closing" and not obstacle and not stuck_open:
            self.position = min(1.0, self.position + rate)
            if self.position >= 1.0:
                self.state = "closed"
                return "closed"
        elif self.state == "opening":
            self.position = max(0.0, self.position - rate)
            if self.position <= 0.0:
                self.state = "open"
                return "open"
        return None


class GateZone:
    """What a gate guards: the ramp or stairs from its access point up to the street (edge ids of
    the dataset's roads). Once the barrier starts closing (light and bell on, the arm coming down)
    nobody enters from the street; the obstacle interlock only holds it for those already under
    it. A barrier jammed fully open stops nobody. It lets people in again once fully up."""

    def __init__(self, city, access_id: str | None) -> None:
        roads = city.layer("roads")
        entry = roads[(roads["access_id"] == access_id) & roads["kind"].isin(["ramp", "stairs"])]
        self.access_id = access_id
        self.links = sorted(str(e) for e in entry["edge_id"])
        self.blocked = False

    def people(self, crowd) -> int:
        """People on the zone's links now (0 without a crowd)."""
        if crowd is None:
            return 0
        links = crowd.model.links.links
        return sum(links[k].occupants for k in self.links if k in links)

    def update(self, crowd, barrier: GateModel) -> bool | None:
        """Block or unblock entry to match ``barrier``; returns the new blocked state when it changed."""
        b = barrier
        jammed_up = b.jammed and b.position <= 0.0
        want = (b.state in ("closing", "closed") and not jammed_up) or b.state == "opening"
        if want == self.blocked:
            return None
        self.blocked = want
        if crowd is not None:
            links = crowd.model.links.links
            for key in self.links:
                if key in links:
                    (crowd.model.close_entry if want else crowd.model.open_entry)(key)
        return want
