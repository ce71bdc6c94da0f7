"""What a crowd run reports: the link samples of the time series, the trajectory sample, the
evacuees table and the KPIs of ``summary.json`` (section ``crowd``).

What is collected is declared once, Mesa ``DataCollector`` style: :data:`LINK_REPORTERS` (sampled
for busy links every ``sample_interval``) and :data:`EVACUEE_COLUMNS` (one row per evacuee).
Reading results changes nothing: :meth:`CrowdResults.summary` may be called at any time, and
again, with the same answer. Positions in EPSG:5186 (m), lon/lat in WGS84; times in s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...city import CityModel
from ...engine import Engine
from .evacuation import Evacuation
from .links import Link
from .lower_bound import Bound, Start, evacuation_lower_bound
from .model import CrowdModel
from .pedestrian import Pedestrian
from .populations import EvacuatingGroup

BOUND_STEP_S = 20.0
"""Time step of the quickest-flow lower bound (s); it is exact to within a step per link."""
RESIDENT_BOUND_MAX_NODES = 2000
"""Above this many nodes within an evacuating group's reach only the walk bound is solved (the
quickest-flow bound over a whole city is too large to be worth its time)."""
TRACK_INTERVAL_S = 30.0
"""Interval (s) between two positions of the trajectory sample."""

LINK_REPORTERS: dict[str, tuple[str, Callable[[Link], float]]] = {
    "density": ("P/m2", lambda lk: lk.density_p_m2),
    "occupants": ("P", lambda lk: float(lk.occupants)),
}
"""Time-series variable -> (unit, value of a link), recorded for every link with someone on it."""


def _evacuation_s(p: Pedestrian) -> float | None:
    """Seconds from being told to leave to reaching safety; None while still on the way."""
    if p.arrived_s is None or p.evacuating_since is None:
        return None
    return p.arrived_s - p.evacuating_since


def _last_arrival_s(model: CrowdModel, uids: list[int]) -> float | None:
    """When the last of these people reached their destination (s); None if one has not (or there are none)."""
    done = [model.pedestrian(u).arrived_s for u in uids]
    arrived = [t for t in done if t is not None]
    return max(arrived) if uids and len(arrived) == len(done) else None


EVACUEE_COLUMNS: dict[str, Callable[[Pedestrian, float], Any]] = {
    "person": lambda p, now: p.unique_id,
    "group": lambda p, now: p.group,
    "evacuating_since_s": lambda p, now: p.evacuating_since,
    "arrived_s": lambda p, now: p.arrived_s,
    "evacuation_s": lambda p, now: _evacuation_s(p),
    "exposed": lambda p, now: p.exposed_now(),
    "stranded": lambda p, now: p.stranded,
}
"""Column of the evacuees table -> its value for a pedestrian at time ``now`` (s)."""


def _bound_entry(b: Bound, people: int, simulated_s: float | None) -> dict[str, Any]:
    """One line of ``evacuation_lower_bound_s``: the bound, its parts, the simulated time on the
    same origin, and their ratio (s)."""

    def r(x: float | None) -> float | None:
        return None if x is None else round(float(x), 1)

    ratio = None
    if simulated_s is not None and b.bound_s:
        ratio = round(simulated_s / b.bound_s, 2)
    return {
        "people": people,
        "cut_off": b.cut_off,
        "time_step_s": BOUND_STEP_S,
        "bound_s": r(b.bound_s),
        "walk_bound_s": r(b.walk_s),
        "flow_bound_s": r(b.flow_s),
        "simulated_s": simulated_s,
        "ratio": ratio,
    }


class CrowdResults:
    """The results of the crowd on ``model`` (graph of ``city``), with its ``evacuation`` and the
    evacuating ``groups`` of its populations; ``spec`` is the scenario's ``crowd`` section."""

    def __init__(
        self,
        engine: Engine,
        city: CityModel,
        model: CrowdModel,
        evacuation: Evacuation,
        groups: dict[str, EvacuatingGroup],
        spec,
    ) -> None:
        self.engine = engine
        self.city = city
        self.model = model
        self.evacuation = evacuation
        self.groups = groups
        self.spec = spec
        self.tracks: list[tuple] = []
        for name, (unit, _) in LINK_REPORTERS.items():
            engine.recorder.declare(name, unit)

    # --- collected while the run goes --------------------------------------------------------
    def processes(self) -> None:
        """Start the link sampling and the trajectory sample on the engine's clock."""
        self.engine.process(self._sample())
        self.engine.process(self._tracks())

    def _sample(self):
        env = self.engine.env
        rec = self.engine.recorder
        links = self.model.links.links
        while env.now + self.spec.sample_interval <= self.engine.duration_s + 1e-9:
            yield env.timeout(self.spec.sample_interval)
            busy = {k: lk for k, lk in links.items() if lk.occupants > 0}
            for name, (_, value) in LINK_REPORTERS.items():
                rec.record_many(env.now, name, {k: value(lk) for k, lk in sorted(busy.items())})

    def _tracks(self):
        """Positions of up to ``trajectory_sample`` people every 30 s, for the map (EPSG:5186 m):
        those out at the start, then, while there is room, those who set out later (the residents
        an evacuation sends out), each followed from the first sample after they appear."""
        env = self.engine.env
        room = self.spec.trajectory_sample
        tracked = self.model.pedestrians()[:room]
        ids = {p.unique_id for p in tracked}
        rows = self.tracks
        while env.now + TRACK_INTERVAL_S <= self.engine.duration_s + 1e-9:
            yield env.timeout(TRACK_INTERVAL_S)
            t = env.now
            if len(tracked) < room:
                for p in self.model.pedestrians():
                    if len(tracked) >= room:
                        break
                    if p.unique_id not in ids:
                        tracked.append(p)
                        ids.add(p.unique_id)
            for p in tracked:
                xy = p.position_at(t)
                if xy is not None:
                    rows.append((t, p.unique_id, xy[0], xy[1], p.group, p.evacuating_since is not None))

    # --- read at any time ---------------------------------------------------------------------
    def positions(self) -> list[tuple[int, float, float, bool]]:
        """Everyone out now: (person, x, y, heading to safety), EPSG:5186 m."""
        t = self.engine.now
        out = []
        for p in self.model.pedestrians():
            xy = p.position_at(t)
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
        """One row per person told to leave (:data:`EVACUEE_COLUMNS`): person, group,
        evacuating_since_s, arrived_s (None if not yet safe), evacuation_s (arrived - since),
        exposed (so far, the link they are on included), stranded. Sorted by person."""
        import pandas as pd

        now = self.engine.now
        rows = [
            tuple(get(p, now) for get in EVACUEE_COLUMNS.values())
            for p in self.model.pedestrians()
            if p.evacuating_since is not None
        ]
        df = pd.DataFrame(rows, columns=list(EVACUEE_COLUMNS))
        for c in ("evacuating_since_s", "arrived_s", "evacuation_s"):
            df[c] = df[c].astype(float)
        return df

    def summary(self) -> dict[str, Any]:
        """The crowd KPIs now: people, evacuation times (s; percentiles over those who arrived),
        exposure (person-s, counting the links people are on now), orders, lower bounds (s),
        warnings, densest links (P/m²) and longest queues (P). Changes nothing."""
        now = self.engine.now
        model = self.model
        evac_state = self.evacuation
        people = model.pedestrians()
        evac = [p for p in people if p.evacuating_since is not None]
        times = np.array([t for t in map(_evacuation_s, evac) if t is not None])
        all_safe = len(times) == len(evac) and len(evac) > 0

        def pct(q: float) -> float | None:
            return round(float(np.percentile(times, q)), 1) if len(times) else None

        links = model.links.links
        dens = sorted(
            ((lk.peak_occupants / lk.area_m2, k) for k, lk in links.items() if lk.peak_occupants), reverse=True
        )
        queues = sorted(((lk.peak_queue, k) for k, lk in links.items() if lk.peak_queue > 1), reverse=True)
        bounds = self._bounds()
        warnings = evac_state.gate_warnings
        return {
            "people": len(people),
            "cancelled": sum(1 for p in people if p.cancelled),
            "evacuees": len(evac),
            "evacuated": int(len(times)),
            "still_evacuating": sum(1 for p in evac if p.arrived_s is None and not p.stranded),
            "not_safe": len(evac) - int(len(times)),
            "stranded": sum(1 for p in people if p.stranded),
            "accounting": self.accounting(),
            "t50_s": pct(50),
            "t90_s": pct(90),
            "t95_s": pct(95),
            "t100_s": round(float(times.max()), 1) if all_safe else None,
            "exposed_people": sum(1 for p in people if p.exposed_now()),
            "exposure_person_s": round(sum(p.exposure_at(now) for p in people), 1),
            "evacuation_orders": {
                st: {"time_s": t, "people_on_paths": len(evac_state.present_at_order.get(st, []))}
                for st, t in sorted(evac_state.ordered.items())
            },
            "evacuation_lower_bound_s": bounds,
            **({"gate_warnings": dict(sorted(warnings.items()))} if warnings else {}),
            "max_density": [{"link": k, "density_p_m2": round(d, 3)} for d, k in dens[:10]],
            "longest_queues": [{"link": k, "people": q} for q, k in queues[:10]],
            "gridlock_entries": sum(lk.forced for lk in links.values()),
        }

    def accounting(self) -> dict[str, int]:
        """Everyone who set out, by where they are now: ``arrived`` + ``walking`` + ``stranded`` =
        ``set_out`` (``exposed``, who have been in water, overlaps them); ``not_set_out``: not yet
        departed, or stayed home after an order."""
        now = self.engine.now
        out = {"set_out": 0, "arrived": 0, "walking": 0, "stranded": 0, "not_set_out": 0, "exposed": 0}
        for p in self.model.pedestrians():
            if p.cancelled or p.depart_s > now:
                out["not_set_out"] += 1
                continue
            out["set_out"] += 1
            out["arrived" if p.arrived_s is not None else "stranded" if p.stranded else "walking"] += 1
            out["exposed"] += p.exposed_now()
        return out

    def _bounds(self) -> dict[str, dict[str, Any]]:
        """The lower bound of each order's zone and each evacuating group, beside the simulated
        time of the same people on the same time origin (the order, or the group's first
        departure window): s."""
        model = self.model
        links = model.links.links
        out: dict[str, dict[str, Any]] = {}
        ev = self.evacuation
        for st, entry in sorted(ev.bound_problems.items()):
            if not entry["people"]:
                continue
            t0 = entry["order_s"]
            wet = {k for k, lk in links.items() if lk.flooded_s is not None and lk.flooded_s <= t0}
            b = evacuation_lower_bound(
                self.city.graph, entry["starts"], model.safe_nodes, time_step_s=BOUND_STEP_S, closed=wet
            )
            last = _last_arrival_s(model, ev.present_at_order.get(st, []))
            out[st] = _bound_entry(b, entry["people"], None if last is None else round(last - t0, 1))
        for label, (order_at, members, targets) in sorted(self.groups.items()):
            if not members:
                continue
            starts = []
            for uid in members:
                p = model.pedestrian(uid)
                starts.append(Start(p.origin, max(0.0, p.depart_s - order_at), p.free_speed_m_s))
            b = evacuation_lower_bound(
                self.city.graph,
                starts,
                targets,
                time_step_s=BOUND_STEP_S,
                max_flow_nodes=RESIDENT_BOUND_MAX_NODES,
            )
            last = _last_arrival_s(model, members)
            out[label] = _bound_entry(b, len(members), None if last is None else round(last - order_at, 1))
        return out
