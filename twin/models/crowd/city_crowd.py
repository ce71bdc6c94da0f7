"""People in the city during a flood: one run's crowd, put together from its parts.

``populations`` (demand: who is where), ``evacuation`` (warnings and orders from the flood model
and the gates), ``results`` (samples, tracks, the evacuees table and the KPIs of ``summary.json``,
section ``crowd``), on a :class:`~.model.CrowdModel` of the city's walk graph (EPSG:5186, m).
"""

from __future__ import annotations

from typing import Any

from ...city import CityModel
from ...engine import Engine
from .evacuation import Evacuation
from .model import CrowdModel
from .populations import MIN_TRIP_M, Populations
from .results import BOUND_STEP_S, RESIDENT_BOUND_MAX_NODES, CrowdResults
from .riverside import PATH_KINDS, riverside_paths

__all__ = [
    "BOUND_STEP_S",
    "MIN_TRIP_M",
    "PATH_KINDS",
    "RESIDENT_BOUND_MAX_NODES",
    "CityCrowd",
]


class CityCrowd:
    """The crowd of one run on ``city`` (graph in EPSG:5186), driven by ``engine``'s clock.

    ``model`` is the Mesa model; ``ap_links`` maps an access point to the path links that flood
    with it. The flood model calls :meth:`path_flooded` and :meth:`threshold_up`, the gates
    :meth:`gate_warning`; :meth:`summary`, :meth:`evacuees`, :meth:`trajectories` and
    :meth:`positions` read the results and change nothing."""

    def __init__(self, engine: Engine, city: CityModel, scenario) -> None:
        self.engine = engine
        self.city = city
        self.spec = scenario.crowd
        self.model = CrowdModel(engine.env, city.graph, seed=scenario.seed)
        self.paths = riverside_paths(city)
        self.ap_links = self.paths.ap_links
        self.evacuation = Evacuation(engine, city, self.model, self.paths, trigger=self.spec.evacuation_trigger)
        populations = Populations(self.model, city, self.paths, duration_s=engine.duration_s)
        self.results = CrowdResults(engine, city, self.model, self.evacuation, populations.groups, self.spec)
        populations.spawn(scenario.populations)

    def processes(self) -> None:
        """Start the crowd's own processes (sampling, tracks) on the engine's clock."""
        self.results.processes()

    # --- events from the flood model and the gates ----------------------------------------------
    def path_flooded(self, access_id: str, stream: str) -> None:
        self.evacuation.path_flooded(access_id, stream)

    def threshold_up(self, gauge_id: str, stream: str, level: str) -> None:
        self.evacuation.threshold_up(gauge_id, stream, level)

    def gate_warning(self, source_id: str, access_id: str, reach_m: float) -> None:
        self.evacuation.gate_warning(source_id, access_id, reach_m)

    # --- results ---------------------------------------------------------------------------
    def positions(self) -> list[tuple[int, float, float, bool]]:
        return self.results.positions()

    def trajectories(self):
        return self.results.trajectories()

    def evacuees(self):
        return self.results.evacuees()

    def summary(self) -> dict[str, Any]:
        return self.results.summary()
