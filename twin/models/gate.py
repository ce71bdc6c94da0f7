"""A smart gate's barrier (진출입로 차단시설) on the way down to a riverside path: travel time,
an obstacle interlock, and what a closed gate does to the walkers (it stops people entering the
path, never leaving it). Times are simulated seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dataset_schema import ACCESS_KINDS


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
        entry = roads[(roads["access_id"] == access_id) & roads["kind"].isin(ACCESS_KINDS)]
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


@dataclass(frozen=True)
class GateSite:
    """A gate and the devices that serve it, from the dataset: its level sensor and rain gauge,
    the signboard at its access point and the camera that watches it."""

    gate_id: str
    access_id: str
    level_sensor_id: str | None
    rain_gauge_id: str | None
    signboard_id: str | None
    camera_id: str | None
    path_height_m: float | None
    travel_s: float
    stream: str | None


def gate_sites(city) -> list[GateSite]:
    """Every gate of ``city`` with its devices, sorted by gate id."""

    def text(v) -> str | None:
        return str(v) if isinstance(v, str) and v else None

    gates = city.devices_of_kind("gate")
    boards = city.devices_of_kind("signboard")
    cams = city.devices_of_kind("cctv")
    aps = city.layer("access_points").set_index("access_id")
    board_at = {a: d for d, a in sorted(zip(boards["device_id"], boards["access_id"], strict=True)) if text(a)}
    cam_at = {}
    if "watches" in cams.columns:
        cam_at = {a: d for d, a in sorted(zip(cams["device_id"], cams["watches"], strict=True)) if text(a)}
    out = []
    for g in gates.sort_values("device_id").itertuples():
        ap = text(g.access_id)
        travel = g.travel_time_s if g.travel_time_s == g.travel_time_s and g.travel_time_s is not None else 20.0
        height = float(aps.at[ap, "path_height_m"]) if ap in aps.index else None
        out.append(
            GateSite(
                gate_id=str(g.device_id),
                access_id=ap or "",
                level_sensor_id=text(g.level_sensor_id),
                rain_gauge_id=text(g.rain_gauge_id),
                signboard_id=board_at.get(ap),
                camera_id=cam_at.get(ap),
                path_height_m=height,
                travel_s=float(travel),
                stream=text(aps.at[ap, "stream"]) if ap in aps.index else None,
            )
        )
    return out


class GateWatch:
    """Counts for the verdict: people on each gate's stretch of path (the path links at its access
    point, and its ramp) when the gate closes and when the water reaches the path. Logs
    ``gate.path_flooded`` (entity: the gate) when a gate's path floods, with how many of those on
    the path when the gate closed are still on it. A gate's camera zone is the ground within the
    dataset's ``surveillance.access_zone_m`` of its access point (what its camera must see, the
    ``access_points`` zone of the coverage metrics)."""

    def __init__(self, engine, crowd, sites: list[GateSite], city) -> None:
        self.engine = engine
        self.crowd = crowd
        self.by_access = {s.access_id: s for s in sites}
        self.by_gate = {s.gate_id: s for s in sites}
        self.zones = {s.gate_id: GateZone(city, s.access_id) for s in sites}
        self.at_closure: dict[str, set[int]] = {}  # gate -> people on its path when it last closed
        aps = city.layer("access_points")
        at = {a: (g.x, g.y) for a, g in zip(aps.get("access_id", []), aps.geometry, strict=True)}
        self.access_xy = {s.gate_id: at[s.access_id] for s in sites if s.access_id in at}
        self.access_zone_m = city.surveillance.access_zone_m

    def in_camera_zone(self, gate_id: str) -> int:
        """People within ``access_zone_m`` of the gate's access point now (what its camera must see)."""
        xy = self.access_xy.get(gate_id)
        if self.crowd is None or xy is None:
            return 0
        r2 = self.access_zone_m**2
        return sum(1 for _, x, y, _ in self.crowd.positions() if (x - xy[0]) ** 2 + (y - xy[1]) ** 2 <= r2)

    def on_path(self, gate_id: str) -> set[int]:
        """Ids of the people on the gate's stretch of path now."""
        site = self.by_gate.get(gate_id)
        if self.crowd is None or site is None:
            return set()
        keys = set(self.crowd.ap_links.get(site.access_id, ())) | set(self.zones[gate_id].links)
        on = self.crowd.model.on_link
        return {uid for k in sorted(keys) for uid in on.get(k, ())}

    def people_on_path(self, gate_id: str) -> int:
        return len(self.on_path(gate_id))

    def closed(self, gate_id: str) -> int:
        """The gate has just closed: remember who is on its path; returns how many."""
        self.at_closure[gate_id] = self.on_path(gate_id)
        return len(self.at_closure[gate_id])

    def path_flooded(self, access_id: str, stream: str) -> None:
        site = self.by_access.get(access_id)
        if site is None:
            return
        now = self.on_path(site.gate_id)
        since = len(now & self.at_closure.get(site.gate_id, set()))
        self.engine.log(
            "gate.path_flooded",
            site.gate_id,
            f"path at {access_id} under water with {len(now)} people on it",
            access_id=access_id,
            people_on_path=len(now),
            there_since_closure=since,
        )
