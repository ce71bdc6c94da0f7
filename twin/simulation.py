"""One scenario's models on one engine, advanced all at once (``twin run``) or bit by bit
(the device fleet, which keeps the simulation in step with a wall clock).

GIS -> scenario -> engine -> models: a :class:`Simulation` builds the flood model (when the
scenario has hydraulics) and the crowd (when it has people), wires the crowd to the flood's
events, and owns the scratch folder SWMM writes into. Times are simulated seconds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .city import CityModel, load_city
from .engine import Engine
from .errors import ScenarioError
from .models.flood import FloodModel, FloodSetup, build_flood_model, rain_gauges
from .models.rain_field import rain_field
from .scenario import Scenario
from .scenario_city import city_problems

if TYPE_CHECKING:  # imported when used: the crowd (Mesa) and the gates only load for runs that have them
    from .control.policy import Policy
    from .models.collapse import CollapseModel
    from .models.crowd.city_crowd import CityCrowd
    from .models.gate import GateWatch
    from .models.gate_control import GateControl


class Simulation:
    """Use as a context manager; :meth:`advance_to` moves simulated time forward."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        city: CityModel | None = None,
        controller: bool = True,
        watch_gates: bool | None = None,
        collapse: bool | None = None,
    ) -> None:
        """``controller``: run the scenario's in-process gate controller, if it has one (a fleet
        does not: its gates are commanded over the network). ``watch_gates``: log what the
        verdict needs about the gates' paths (default: when the scenario has a controller).
        ``collapse``: simulate the monitored buildings and slopes (default: when the scenario has a
        ``collapse`` section; a fleet always does, for its structural sensors to read)."""
        self.scenario = scenario
        self.city = city if city is not None else load_city(scenario.dataset_path())
        problems = city_problems(scenario, self.city)  # before any model is built
        if not problems and scenario.collapse is not None:
            from .models.collapse import collapse_problems

            problems = collapse_problems(self.city, scenario.collapse)
        if problems:
            label = scenario.source_path.name if scenario.source_path is not None else "scenario"
            raise ScenarioError([f"{label}: {p}" for p in problems])
        csv = scenario.resolve_path(scenario.rainfall.csv) if scenario.rainfall.kind == "observed" else None
        self.rainfall_csv = csv
        self.rain = rain_field(scenario.rainfall, rain_gauges(self.city), csv_path=csv, start=scenario.start)
        self.setup: FloodSetup | None = None
        if scenario.hydraulics.enabled:
            overrides = {k: v.model_dump() for k, v in scenario.thresholds.items()}
            self.setup = build_flood_model(
                self.city,
                self.rain,
                start=scenario.start,
                duration_s=scenario.duration_s,
                hydraulics=scenario.hydraulics,
                threshold_overrides=overrides,
            )
        self.engine = Engine(start=scenario.start, duration_s=scenario.duration_s, seed=scenario.seed)
        self.flood: FloodModel | None = None
        self.crowd: CityCrowd | None = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self.report_text = ""
        self.policy: Policy | None = None
        if controller and scenario.controller is not None:
            from .control.policy import load_policy

            self.policy = load_policy(scenario.resolve_path(scenario.controller.policy))
        self.watch_gates = scenario.controller is not None if watch_gates is None else watch_gates
        self.gate_watch: GateWatch | None = None
        self.collapse: CollapseModel | None = None
        self.run_collapse_logic = controller  # the in-process collapse early warning (a fleet's is outside)
        self.want_collapse = scenario.collapse is not None if collapse is None else collapse
        self.gates: GateControl | None = None  # the in-process controller

    # --- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> Simulation:
        self._scratch = tempfile.TemporaryDirectory(prefix="twin-swmm-")
        inp = Path(self._scratch.name) / "model.inp"
        if self.setup is not None:
            inp.write_text(self.setup.inp_text, encoding="utf-8")
            self.flood = FloodModel(self.engine, self.setup, inp, sample_s=self.scenario.hydraulics.sample_interval)
            self.flood.processes()
        if self.scenario.populations or self.scenario.collapse is not None:
            from .models.crowd.city_crowd import CityCrowd

            self.crowd = CityCrowd(self.engine, self.city, self.scenario)
            if self.flood is not None:
                self.flood.on_path_flooded.append(self.crowd.path_flooded)
                self.flood.on_threshold_up.append(self.crowd.threshold_up)
            self.crowd.processes()
        if self.want_collapse:
            self._start_collapse()
        if self.watch_gates or self.policy is not None:
            from .models.gate import GateWatch, gate_sites

            self.gate_watch = GateWatch(self.engine, self.crowd, gate_sites(self.city), self.city)
            if self.flood is not None:
                self.flood.on_path_flooded.append(self.gate_watch.path_flooded)
        if self.policy is not None:
            from .models.gate_control import GateControl

            self.gates = GateControl(
                self.engine,
                self.city,
                self.scenario,
                self.policy,
                flood=self.flood,
                crowd=self.crowd,
                watch=self.gate_watch,
            )
            self.gates.processes()
        return self

    def _start_collapse(self) -> None:
        from .models.collapse import CollapseModel
        from .models.flood import rain_gauges

        spec = self.scenario.collapse
        policy = None
        if self.run_collapse_logic and spec is not None and spec.policy is not None:
            from .control.collapse_policy import load_collapse_policy

            policy = load_collapse_policy(self.scenario.resolve_path(spec.policy))
        gauges = rain_gauges(self.city)
        xy = {str(g): (float(p.x), float(p.y)) for g, p in zip(gauges["device_id"], gauges.geometry, strict=True)}
        self.collapse = CollapseModel(
            self.engine,
            self.city,
            self.scenario,
            self.rain,
            gauge_xy=xy,
            policy=policy,
            crowd=self.crowd,
            own_readings=self.run_collapse_logic,  # a fleet's sensors take the readings themselves
        )
        self.collapse.processes()

    def __exit__(self, *exc) -> None:
        if self.flood is not None:
            self.flood.close()
        if self._scratch is not None:
            rpt = Path(self._scratch.name) / "model.rpt"
            if rpt.exists():
                self.report_text = rpt.read_text(encoding="utf-8", errors="replace")
            self._scratch.cleanup()
            self._scratch = None

    # --- time -------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.engine.now

    @property
    def finished(self) -> bool:
        return self.engine.now >= self.engine.duration_s - 1e-9

    def advance_to(self, t_s: float) -> None:
        """Run every model up to simulated second ``t_s`` (capped at the scenario's end)."""
        self.engine.advance_to(t_s)

    def run(self, progress=None) -> None:
        """Run to the end; ``progress(done_s)`` after each chunk."""
        self.engine.run(progress=progress)

    # --- live state (for devices) -------------------------------------------------------------
    def stage_m(self, watch_id: str) -> float | None:
        """Stage at a level gauge or access point at the last hydraulic sample (m), None without hydraulics."""
        if self.flood is None:
            return None
        return self.flood.current_stage.get(watch_id)

    def rain_mm(self, gauge_id: str, t0_s: float, t1_s: float) -> float:
        """Rain at a gauge between two simulated times (mm)."""
        import numpy as np

        h = self.rain.get(gauge_id)
        if h is None:
            return 0.0
        c = h.cumulative_mm(np.array([max(t0_s, 0.0), max(t1_s, 0.0)]))
        return float(c[1] - c[0])

    def scenario_header(self) -> dict[str, Any]:
        """The ``scenario`` section of a run's summary.json."""
        s = self.scenario
        return {
            "name": s.name.model_dump(),
            "seed": s.seed,
            "start": s.start.isoformat(),
            "duration_s": s.duration_s,
            "rainfall": s.rainfall.kind,
            "dataset": self.city.manifest.get("name"),
        }

    def summary_parts(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.flood is not None:
            out.update(self.flood.summary())
        if self.crowd is not None:
            out["crowd"] = self.crowd.summary()
        if self.gates is not None:
            out["gates"] = self.gates.summary()
        if self.collapse is not None:
            out["collapse"] = self.collapse.summary()
        return out
