"""Warnings and evacuation orders for the riverside paths, from the flood model and the gates.

A riverside path link is closed, with its occupants exposed, when the stage at an access point at
either end passes the path. Its ramps and stairs stay open: they climb out of the water, and a
flood does not stop anyone leaving (a closed gate will stop people entering). The order for a
stream's paths comes with the first flooded path of that stream (``path_flooded``) or when its
gauge (the dataset's ``hydrology.stream_gauges``, :mod:`twin.river_gauges`) reaches 관심
(``attention``). A gate's signboard and loudspeaker warn the people near it
(``gate_warning``). Each order keeps a snapshot of who was where, for the lower bound on the time
to clear the paths (solved after the run, see ``results``). Geometry in EPSG:5186 (m).
"""

from __future__ import annotations

from typing import Any

from ...city import CityModel
from ...engine import Engine
from .model import CrowdModel
from .riverside import RiversidePaths


class Evacuation:
    """Orders and warnings on ``model`` for the riverside ``paths`` of ``city``, with the
    scenario's ``trigger`` (``path_flooded`` or ``attention``); times from ``engine``'s clock (s).

    ``ordered``: stream -> time of its order (s); ``present_at_order``: stream -> ids of the people
    on its paths then; ``bound_problems``: stream -> the snapshot for its lower bound;
    ``gate_warnings``: warning source -> when, how many people were near, how many links."""

    def __init__(self, engine: Engine, city: CityModel, model: CrowdModel, paths: RiversidePaths, *, trigger) -> None:
        self.engine = engine
        self.city = city
        self.model = model
        self.paths = paths
        self.trigger = trigger
        self.river_gauges = city.river_gauges
        self.ordered: dict[str, float] = {}
        self.gate_warnings: dict[str, dict[str, Any]] = {}
        self.bound_problems: dict[str, dict[str, Any]] = {}
        self.present_at_order: dict[str, list[int]] = {}

    # --- from the flood model ----------------------------------------------------------------
    def path_flooded(self, access_id: str, stream: str) -> None:
        """The path at ``access_id`` on ``stream`` is under water: its links close."""
        # the order (and the snapshot of where people are) comes first, then the links close
        if self.trigger == "path_flooded":
            self._order(stream, f"riverside path at {access_id} flooded")
        for key in sorted(self.paths.ap_links.get(access_id, ())):
            self.model.close_link(key, flooded=True)

    def threshold_up(self, gauge_id: str, stream: str, level: str) -> None:
        """Gauge ``gauge_id`` has risen to ``level``: at 관심, with that trigger, its streams are cleared."""
        if self.trigger != "attention" or level != "attention":
            return
        for st in self.river_gauges.streams_of(gauge_id):
            self._order(st, f"{gauge_id} reached 관심")

    def _order(self, stream: str, why: str) -> None:
        stream_links = self.paths.stream_links
        if stream in self.ordered or stream not in stream_links:
            return
        now = self.engine.now
        self.ordered[stream] = now
        zone = stream_links[stream]
        present = sorted({uid for k in zone for uid in self.model.on_link.get(k, ())})
        self.present_at_order[stream] = present
        self.model.order_evacuation(zone)
        self.engine.log(
            "crowd.evacuation_order", stream, f"clear the {stream} riverside paths: {why}", people_on_paths=len(present)
        )
        # the bound is solved after the run (it is analysis, not simulation); keep the snapshot
        self.bound_problems[stream] = self._bound_problem(zone, present)

    # --- from the gates ----------------------------------------------------------------------
    def gate_warning(self, source_id: str, access_id: str, reach_m: float) -> None:
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
        keys = sorted(self.paths.stream_links.get(stream, ()))
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

    # --- the snapshot for the lower bound -------------------------------------------------------
    def _bound_problem(self, zone: set[str], present: list[int]) -> dict[str, Any]:
        """Who was where when the order came, for the lower bound solved after the run: each
        person as a :class:`~.lower_bound.Start` at the node ahead of them, ready when their own
        free speed would bring them there (s after the order)."""
        now = self.engine.now
        starts = []
        for uid in present:
            a = self.model.pedestrian(uid)
            starts.append(a.bound_start(now))
        return {"people": len(present), "order_s": now, "starts": starts}
