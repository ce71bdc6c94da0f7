"""People in the city during a flood: populations from the scenario, closures and evacuation
orders from the flood model, and the crowd KPIs of ``summary.json`` (section ``crowd``).

A riverside path link is closed, with its occupants exposed, when the stage at an access point at
either end passes the path. Its ramps and stairs stay open: they climb out of the water, and a
flood does not stop anyone leaving (a closed gate will stop people entering). The order for a
stream's paths comes with the first flooded path of that stream (``path_flooded``) or when its
gauge reaches 관심 (``attention``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import networkx as nx
import numpy as np

from ...city import CityModel
from ...engine import Engine
from ..flood import STREAM_GAUGE
from .lower_bound import evacuation_lower_bound_s
from .model import CrowdModel

PATH_KINDS = ("riverside_path", "ramp", "stairs")
WARNING_REACH_M = 300.0
"""How far along the path a gate's signboard and loudspeaker reach by default (m, straight line)."""
MIN_TRIP_M = 300.0
BOUND_STEP_S = 20.0
RESIDENT_BOUND_MAX_NODES = 2000
"""Above this many walk-graph nodes the residents' whole-network bound is not computed."""
"""Time step of the quickest-flow lower bound (s); the bound is exact to within a step per link."""


class CityCrowd:
    """The crowd of one run on ``city`` (graph in EPSG:5186), driven by ``engine``'s clock."""

    def __init__(self, engine: Engine, city: CityModel, scenario) -> None:
        self.engine = engine
        self.city = city
        self.spec = scenario.crowd
        self.model = CrowdModel(engine.env, city.graph, seed=scenario.seed)
        G = city.graph
        roads = city.layer("roads").set_index("edge_id")
        self.stream_of_edge = {
            str(k): roads.at[str(k), "stream"]
            for _, _, k, kind in G.edges(keys=True, data="kind")
            if kind in PATH_KINDS and "stream" in roads.columns and isinstance(roads.at[str(k), "stream"], str)
        }
        self.stream_links: dict[str, set[str]] = defaultdict(set)
        for k, st in self.stream_of_edge.items():
            self.stream_links[st].add(k)
        # access point -> the links that flood with it: the path links at its node
        self.ap_links: dict[str, set[str]] = {}
        aps = city.layer("access_points")
        if len(aps):
            nodes, _ = city.nearest_nodes(np.column_stack([aps.geometry.x, aps.geometry.y]))
            for aid, node in zip(aps["access_id"], nodes, strict=True):
                self.ap_links[aid] = {
                    str(k) for _, _, k, kind in G.edges(int(node), keys=True, data="kind") if kind == "riverside_path"
                }
        self.ordered: dict[str, float] = {}
        self.gate_warnings: dict[str, dict[str, Any]] = {}  # gate id -> when, and how many were near
        self.lower_bounds: dict[str, dict[str, Any]] = {}
        self.present_at_order: dict[str, list[int]] = {}
        self.tracks: list[tuple] = []
        self.resident_groups: dict[str, tuple[float, list[int], set[int]]] = {}
        rec = engine.recorder
        rec.declare("density", "P/m2")
        rec.declare("occupants", "P")
        self._spawn(scenario.populations)

    # --- people ----------------------------------------------------------------------------
    def _spawn(self, populations) -> None:
        for k, pop in enumerate(populations):
            if pop.kind == "school_commute":
                self._spawn_school(pop)
            elif pop.kind == "trips":
                self._spawn_trips(pop, k)
            elif pop.kind == "residents":
                self._spawn_residents(pop, k)
            else:
                self._spawn_riverside(pop)

    def _facility_node(self, facility_id: str) -> int:
        fac = self.city.layer("facilities")
        row = fac[fac["facility_id"] == facility_id]
        if row.empty:
            from ...errors import ScenarioError

            raise ScenarioError(f"populations: facility {facility_id!r} is not in the dataset")
        g = row.iloc[0].geometry
        return self.city.nearest_node(g.x, g.y)

    def _nearest_of_kind(self, kind: str) -> tuple[set[int], Any]:
        """Nodes of facilities of ``kind`` and a predecessor array towards the nearest of them."""
        from scipy.sparse.csgraph import dijkstra

        fac = self.city.facilities_of_kind(kind)
        if fac.empty:
            from ...errors import ScenarioError

            raise ScenarioError(f"populations: the dataset has no facility of kind {kind!r}")
        nodes, _ = self.city.nearest_nodes(np.column_stack([fac.geometry.x, fac.geometry.y]))
        targets = {int(n) for n in nodes}
        m = self.model
        if m._full is None:
            m._full = m._matrix(open_only=False)
        _, pred, _ = dijkstra(
            m._full, indices=sorted(m._index[n] for n in targets), min_only=True, return_predecessors=True
        )
        return targets, pred

    def _trip_to_nearest(
        self, origin: int, targets: set[int], pred, depart: float, group: str, speed: float | None = None
    ):
        m = self.model
        idx = {m._index[t] for t in targets}
        keys = m._follow(pred, origin, lambda i: i in idx, open_only=False)
        if keys is None:
            return None
        speed = m.draw_free_speed(group) if speed is None else speed
        from .pedestrian import Pedestrian

        p = Pedestrian(m, origin=origin, route=keys, depart_s=depart, free_speed_m_s=speed, group=group)
        m._by_id[p.unique_id] = p
        m.env.process(p.walk())
        return p

    def _spawn_trips(self, pop, k: int) -> None:
        rng = self.model.rng
        origin = self._facility_node(pop.origin)
        departs = np.sort(rng.uniform(pop.window_start, max(pop.window_end, pop.window_start), size=pop.count))
        groups = self._groups(pop.groups, pop.count)
        speed = pop.free_speed_m_s
        if pop.destination.startswith("nearest:"):  # an evacuation: reported with its lower bound
            targets, pred = self._nearest_of_kind(pop.destination.split(":", 1)[1])
            members = []
            for depart, group in zip(departs, groups, strict=True):
                p = self._trip_to_nearest(origin, targets, pred, float(depart), group, speed)
                if p is not None:
                    p.evacuating_since = float(depart)
                    p.heading_to_safety = True
                    p.targets = targets
                    members.append(p.unique_id)
            self.resident_groups[f"trips:{pop.origin}#{k}"] = (pop.window_start, members, targets)
            return
        dest = self._facility_node(pop.destination)
        for depart, group in zip(departs, groups, strict=True):
            self.model.add_trip(origin, dest, float(depart), group=group, free_speed_m_s=speed)

    def _spawn_residents(self, pop, k: int) -> None:
        """Residents leave random buildings of the dong for the nearest shelter after the order."""
        rng = self.model.rng
        b = self.city.layer("buildings")
        if pop.dong != "all" and "dong" in b.columns:
            b = b[b["dong"] == pop.dong]
        if b.empty:
            from ...errors import ScenarioError

            raise ScenarioError(f"populations: no building in dong {pop.dong!r}")
        pts = b.geometry.representative_point()
        homes, _ = self.city.nearest_nodes(np.column_stack([pts.x, pts.y]))
        targets, pred = self._nearest_of_kind(pop.shelter_kind)
        origins = rng.choice(np.asarray(homes), size=pop.count)
        departs = pop.order_at + rng.uniform(0.0, pop.reaction_max, size=pop.count)
        label = f"residents:{pop.dong}#{k}"
        members = []
        for origin, depart, group in zip(origins, departs, self._groups(pop.groups, pop.count), strict=True):
            p = self._trip_to_nearest(int(origin), targets, pred, float(depart), group)
            if p is not None:
                p.evacuating_since = float(pop.order_at)  # they learn of it at the order
                p.heading_to_safety = True
                p.targets = targets
                members.append(p.unique_id)
        self.resident_groups[label] = (pop.order_at, members, targets)

    def _groups(self, groups: dict[str, float], n: int) -> list[str]:
        names = sorted(groups)
        w = np.array([groups[g] for g in names], float)
        return [names[i] for i in self.model.rng.choice(len(names), size=n, p=w / w.sum())]

    def _spawn_school(self, pop) -> None:
        G = self.city.graph
        rng = self.model.rng
        fac = self.city.facilities_of_kind("school")
        match = fac[(fac["facility_id"] == pop.school) | (fac["name"] == pop.school)]
        if match.empty:
            from ...errors import ScenarioError

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
        if pop.stream and pop.stream not in self.stream_links:
            from ...errors import ScenarioError

            known = ", ".join(sorted(self.stream_links)) or "none"
            raise ScenarioError(f"populations: stream {pop.stream!r} has no riverside paths (streams: {known})")
        streams = [pop.stream] if pop.stream else sorted(self.stream_links)
        links = sorted(k for st in streams for k in self.stream_links.get(st, ()))
        path_nodes = sorted({n for u, v, k in G.edges(keys=True) if str(k) in links for n in (u, v)} - safe)
        exits = sorted({n for u, v, k in G.edges(keys=True) if str(k) in links for n in (u, v)} & safe)
        if not path_nodes or not exits or pop.count == 0:
            return
        xy = {n: (G.nodes[n]["x"], G.nodes[n]["y"]) for n in path_nodes + exits}
        window = self.engine.duration_s if pop.arrival_window is None else pop.arrival_window
        origins = rng.choice(path_nodes, size=pop.count)
        departs = np.sort(rng.uniform(0.0, window, size=pop.count))
        for origin, depart, group in zip(origins, departs, self._groups(pop.groups, pop.count), strict=True):
            far = [e for e in exits if np.hypot(xy[e][0] - xy[origin][0], xy[e][1] - xy[origin][1]) >= MIN_TRIP_M]
            dest = int(rng.choice(far or exits))
            try:
                self.model.add_trip(int(origin), dest, float(depart), group=group)
            except nx.NetworkXNoPath:
                continue

    def processes(self) -> None:
        self.engine.process(self._sample())
        self.engine.process(self._tracks())

    def _tracks(self):
        """Positions of up to ``trajectory_sample`` people every 30 s, for the map (EPSG:5186 m)."""
        env = self.engine.env
        G = self.city.graph
        links = self.model.links.links
        tracked = self.model.pedestrians()[: self.spec.trajectory_sample]
        rows = self.tracks
        while env.now + 30.0 <= self.engine.duration_s + 1e-9:
            yield env.timeout(30.0)
            t = env.now
            for p in tracked:
                xy = self._position(p, t, G, links)
                if xy is not None:
                    rows.append((t, p.unique_id, xy[0], xy[1], p.group, p.evacuating_since is not None))

    @staticmethod
    def _position(p, t: float, G, links) -> tuple[float, float] | None:
        """Where pedestrian ``p`` is at ``t`` (EPSG:5186 m), along its link; None when not out."""
        if t < p.depart_s or p.arrived_s is not None or p.cancelled:
            return None
        a = G.nodes[p.node]
        if p.link is None:
            return a["x"], a["y"]
        lk = links[p.link]
        other = G.nodes[lk.v if p.node == lk.u else lk.u]
        f = min(max((t - p.entered_s) / max(p.link_exit_s - p.entered_s, 1e-9), 0.0), 1.0)
        return a["x"] + f * (other["x"] - a["x"]), a["y"] + f * (other["y"] - a["y"])

    def positions(self) -> list[tuple[int, float, float, bool]]:
        """Everyone out now: (person, x, y, heading to safety), EPSG:5186 m."""
        t = self.engine.now
        G = self.city.graph
        links = self.model.links.links
        out = []
        for p in self.model.pedestrians():
            xy = self._position(p, t, G, links)
            if xy is not None:
                out.append((p.unique_id, xy[0], xy[1], p.evacuating_since is not None))
        return out

    def trajectories(self):
        """Sampled positions: time_s, person, x, y (EPSG:5186), lon, lat (WGS84), group, evacuating."""
        import pandas as pd
        from pyproj import Transformer

        df = pd.DataFrame(self.tracks, columns=["time_s", "person", "x", "y", "group", "evacuating"])
        lon, lat = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True).transform(df["x"], df["y"])
        df["lon"], df["lat"] = np.round(lon, 7), np.round(lat, 7)
        return df

    def evacuees(self):
        """One row per person told to leave: person, group, evacuating_since_s, arrived_s (None if
        not yet safe), evacuation_s (arrived - since), exposed, stranded. Sorted by person."""
        import pandas as pd

        rows = [
            (
                p.unique_id,
                p.group,
                p.evacuating_since,
                p.arrived_s,
                None if p.arrived_s is None else p.arrived_s - p.evacuating_since,
                p.exposed,
                p.stranded,
            )
            for p in sorted(self.model.pedestrians(), key=lambda q: q.unique_id)
            if p.evacuating_since is not None
        ]
        cols = ["person", "group", "evacuating_since_s", "arrived_s", "evacuation_s", "exposed", "stranded"]
        df = pd.DataFrame(rows, columns=cols)
        for c in ("evacuating_since_s", "arrived_s", "evacuation_s"):
            df[c] = df[c].astype(float)
        return df

    def _sample(self):
        env = self.engine.env
        rec = self.engine.recorder
        links = self.model.links.links
        while env.now + self.spec.sample_interval <= self.engine.duration_s + 1e-9:
            yield env.timeout(self.spec.sample_interval)
            busy = {k: lk for k, lk in links.items() if lk.occupants > 0}
            rec.record_many(env.now, "density", {k: lk.density_p_m2 for k, lk in sorted(busy.items())})
            rec.record_many(env.now, "occupants", {k: float(lk.occupants) for k, lk in sorted(busy.items())})

    # --- from the flood model ----------------------------------------------------------------
    def path_flooded(self, access_id: str, stream: str) -> None:
        # the order (and the snapshot of where people are) comes first, then the links close
        if self.spec.evacuation_trigger == "path_flooded":
            self._order(stream, f"riverside path at {access_id} flooded")
        for key in sorted(self.ap_links.get(access_id, ())):
            self.model.close_link(key, flooded=True)

    def threshold_up(self, gauge_id: str, stream: str, level: str) -> None:
        if self.spec.evacuation_trigger != "attention" or level != "attention":
            return
        for st, g in STREAM_GAUGE.items():
            if g == gauge_id:
                self._order(st, f"{gauge_id} reached 관심")

    def _order(self, stream: str, why: str) -> None:
        if stream in self.ordered or stream not in self.stream_links:
            return
        now = self.engine.now
        self.ordered[stream] = now
        zone = self.stream_links[stream]
        present = sorted({uid for k in zone for uid in self.model.on_link.get(k, ())})
        self.present_at_order[stream] = present
        self.model.order_evacuation(zone)
        self.engine.log(
            "crowd.evacuation_order", stream, f"clear the {stream} riverside paths: {why}", people_on_paths=len(present)
        )
        # the bound is solved after the run (it is analysis, not simulation); keep the snapshot
        self.lower_bounds[stream] = self._bound_problem(zone, present)

    def gate_warning(self, source_id: str, access_id: str, reach_m: float = WARNING_REACH_M) -> None:
        """A signboard (and loudspeaker) ``source_id`` at an access point warns that the path will
        close: people on its stream's paths within ``reach_m`` (m, straight line from the access
        point) leave for the street. Once per source."""
        gate_id = source_id
        if gate_id in self.gate_warnings:
            return
        aps = self.city.layer("access_points").set_index("access_id")
        if access_id not in aps.index:
            return
        stream = aps.at[access_id, "stream"]
        roads = self.city.layer("roads").set_index("edge_id")
        keys = sorted(self.stream_links.get(stream, ()))
        if not keys:
            return
        near = roads.loc[keys].geometry.distance(aps.at[access_id, "geometry"]) <= reach_m
        zone = {str(k) for k, ok in zip(keys, near, strict=True) if ok}
        present = sorted({uid for k in zone for uid in self.model.on_link.get(k, ())})
        self.gate_warnings[gate_id] = {"time_s": self.engine.now, "people_near": len(present), "links": len(zone)}
        if zone:
            self.model.order_evacuation(zone)
        self.engine.log(
            "crowd.gate_warning",
            gate_id,
            f"{len(present)} people within {reach_m:g} m of {access_id} told to leave the path",
            access_id=access_id,
            people_near=len(present),
        )

    def _bound_problem(self, zone: set[str], present: list[int]) -> dict[str, Any]:
        """Quickest-flow bound for the people on the zone's links at the order, on the zone's
        subnetwork plus the ramps out of it. Each person stands where they are on their link
        (to the nearest 25 m, rounded towards the nearer end, which only lowers the bound)."""
        G = self.city.graph
        zone_nodes = {n for u, v, k in G.edges(keys=True) if str(k) in zone for n in (u, v)}
        sub = nx.MultiGraph()
        for u, v, k, d in G.edges(keys=True, data=True):
            # closed links stay in: people on them walk on, and more ways out only lower a bound
            if str(k) in zone or (u in zone_nodes and v in zone_nodes):
                sub.add_edge(u, v, key=k, **d)
        for u, v, k, d in G.edges(keys=True, data=True):  # the ramps and stairs out of the zone
            if d["kind"] in ("ramp", "stairs") and (u in zone_nodes or v in zone_nodes):
                sub.add_edge(u, v, key=k, **d)
        exits = set(sub.nodes) & self.model.safe_nodes
        if not present or not exits:
            return {"people": len(present), "bound_s": None}
        at: dict[Any, int] = defaultdict(int)
        agents = self.model._by_id
        now = self.engine.now
        vmax = 0.0
        for uid in present:
            a = agents[uid]
            vmax = max(vmax, a.free_speed_m_s)
            lk = self.model.links.links[a.link] if a.link else None
            if lk is None or not sub.has_edge(lk.u, lk.v, key=lk.key):
                at[a.node] += 1
                continue
            frac = min(max((now - a.entered_s) / max(a.link_exit_s - a.entered_s, 1e-9), 0.0), 1.0)
            from_u = frac if a.node == lk.u else 1.0 - frac  # fraction of the link from its u end
            d_u = 25.0 * np.floor(from_u * lk.length_m / 25.0)  # towards u: shorter (optimistic)
            d_v = 25.0 * np.floor((1.0 - from_u) * lk.length_m / 25.0)
            spot = ("on", lk.key, d_u)
            if spot not in sub:
                w = lk.width_m
                sub.add_edge(spot, lk.u, key=f"{lk.key}@u{d_u:g}", length_m=d_u, width_m=w, kind="split")
                sub.add_edge(spot, lk.v, key=f"{lk.key}@v{d_u:g}", length_m=d_v, width_m=w, kind="split")
            at[spot] += 1
        reach = set()
        for e in exits:
            reach |= nx.node_connected_component(sub, e)
        reachable = {n: c for n, c in at.items() if n in reach}
        return {
            "people": len(present),
            "cut_off": len(present) - sum(reachable.values()),
            "problem": (sub, reachable, exits, vmax),
        }

    def _solve_bound(self, entry: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in entry.items() if k != "problem" and v is not None or k == "bound_s"}
        if "problem" not in entry:
            out.setdefault("bound_s", None)
            return out
        sub, reachable, exits, vmax = entry["problem"]
        out["time_step_s"] = BOUND_STEP_S
        out["bound_s"] = evacuation_lower_bound_s(
            sub, reachable, exits, max_free_speed_m_s=vmax, time_step_s=BOUND_STEP_S
        )
        return out

    # --- results ---------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        now = self.engine.now
        people = self.model.pedestrians()
        evac = [p for p in people if p.evacuating_since is not None]
        times = np.array([p.arrived_s - p.evacuating_since for p in evac if p.arrived_s is not None])
        for p in people:  # still standing on a flooded link at the end
            if p.link is not None:
                lk = self.model.links.links[p.link]
                if lk.flooded_s is not None:
                    p.exposure_s += now - max(p.entered_s, lk.flooded_s)
                    p.exposed = True

        def pct(q: float) -> float | None:
            return round(float(np.percentile(times, q)), 1) if len(times) else None

        links = self.model.links.links
        dens = sorted(
            ((lk.peak_occupants / lk.area_m2, k) for k, lk in links.items() if lk.peak_occupants), reverse=True
        )
        queues = sorted(((lk.peak_queue, k) for k, lk in links.items() if lk.peak_queue > 1), reverse=True)
        present_times = {}
        for st, uids in self.present_at_order.items():
            t0 = self.ordered[st]
            done = [self.model._by_id[u].arrived_s for u in uids]
            present_times[st] = round(max(done) - t0, 1) if uids and all(t is not None for t in done) else None
        for label, (order_at, members, targets) in sorted(self.resident_groups.items()):
            bound = None
            if len(self.city.graph) <= RESIDENT_BOUND_MAX_NODES and members:
                at: dict[int, int] = defaultdict(int)
                for uid in members:
                    at[self.model._by_id[uid].origin] += 1
                vmax = max(self.model._by_id[u].free_speed_m_s for u in members)
                bound = evacuation_lower_bound_s(
                    self.city.graph, dict(at), targets, max_free_speed_m_s=vmax, time_step_s=BOUND_STEP_S
                )
            done = [self.model._by_id[u].arrived_s for u in members]
            present_times[label] = round(max(done) - order_at, 1) if members and None not in done else None
            self.lower_bounds[label] = {
                "people": len(members),
                "bound_s": bound,
                "note": None if bound is not None or not members else "network too large for the time-expanded bound",
            }
        return {
            "people": len(people),
            "cancelled": sum(1 for p in people if p.cancelled),
            "evacuees": len(evac),
            "evacuated": int(len(times)),
            "still_evacuating": len(evac) - int(len(times)),
            "stranded": sum(1 for p in people if p.stranded),
            "t50_s": pct(50),
            "t90_s": pct(90),
            "t95_s": pct(95),
            "t100_s": round(float(times.max()), 1) if len(times) else None,
            "exposed_people": sum(1 for p in people if p.exposed),
            "exposure_person_s": round(sum(p.exposure_s for p in people), 1),
            "evacuation_orders": {
                st: {"time_s": t, "people_on_paths": len(self.present_at_order.get(st, []))}
                for st, t in sorted(self.ordered.items())
            },
            "evacuation_lower_bound_s": {
                st: {**self._solve_bound(lb), "simulated_s": present_times.get(st)}
                for st, lb in sorted(self.lower_bounds.items())
                if lb["people"] > 0
            },
            **({"gate_warnings": dict(sorted(self.gate_warnings.items()))} if self.gate_warnings else {}),
            "max_density": [{"link": k, "density_p_m2": round(d, 3)} for d, k in dens[:10]],
            "longest_queues": [{"link": k, "people": q} for q, k in queues[:10]],
        }
