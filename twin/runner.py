"""Run a scenario headless: GIS -> scenario -> engine -> models -> results.

``run_scenario`` is what ``twin run`` calls; the Streamlit app and the benchmarks call it too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import check_output_dir
from .city import CityModel
from .engine import Engine
from .errors import ScenarioError
from .results import SUMMARY, write_run_folder
from .scenario import Scenario, dump_resolved
from .simulation import Simulation

_VOLATILE_RPT = ("Analysis begun on", "Analysis ended on", "Total elapsed time")


@dataclass
class RunResult:
    summary: dict[str, Any]
    engine: Engine
    inp_text: str
    report_text: str
    out: Path | None
    crowd: Any = None
    verdict: dict[str, Any] | None = None  # with a gate controller: the checks of twin.control.verdict


def _check_dataset(scenario: Scenario, city: CityModel) -> None:
    want, have = Path(scenario.dataset_path()).resolve(), Path(city.path).resolve()
    if want != have:
        src = scenario.source_path or "scenario"
        raise ScenarioError(
            f"{src}: dataset: got {want}: expected the dataset this run was given ({have}); "
            "run a scenario on another dataset with `twin run`"
        )


def run_scenario(
    scenario: Scenario,
    *,
    out: str | Path | None = None,
    city: CityModel | None = None,
    progress: Callable[[float, float], None] | None = None,
    resolved_yaml: str | None = None,
) -> RunResult:
    """Run ``scenario`` (a validated :class:`twin.scenario.Scenario`); write the run folder to ``out``.

    ``progress(done_s, total_s)`` is called as simulated time advances. ``city`` skips loading
    the dataset again; it must be the scenario's dataset (ScenarioError otherwise: the run folder
    names the dataset the scenario names, so it must be the one used).
    """
    if city is not None:
        _check_dataset(scenario, city)
    if out is not None:  # refuse a bad --out before the work, not after it
        check_output_dir(out, overwrite=True, marker=SUMMARY)
    with Simulation(scenario, city=city) as sim:
        sim.run(progress=(lambda t: progress(t, sim.engine.duration_s)) if progress else None)
        parts = sim.summary_parts()
    city, engine, setup, csv, crowd = sim.city, sim.engine, sim.setup, sim.rainfall_csv, sim.crowd
    report = "".join(
        line for line in sim.report_text.splitlines(keepends=True) if not line.strip().startswith(_VOLATILE_RPT)
    )
    summary = {
        "scenario": sim.scenario_header(),
        **parts,
        "run": {"events": len(engine.events), "samples": len(engine.recorder)},
    }
    inp_text = setup.inp_text if setup is not None else ""
    result = RunResult(summary, engine, inp_text, report, None, crowd)
    extra: dict[str, str] = {}
    if sim.gates is not None:  # a gate controller ran: judge it as a HIL run would be judged
        assert scenario.controller is not None and sim.policy is not None  # the gates run only for them
        from .control.verdict import stale_limit_s, verdict
        from .control.verdict_report import html_report
        from .models.gate import gate_sites
        from .results import RunData

        run = RunData(summary, engine.recorder.to_frame(), engine.events.to_frame(), None, None, Path("."))
        sites = gate_sites(city)
        limit = stale_limit_s(sim.policy, sites, scenario.devices.level_sensor.sample_interval)
        result.verdict = verdict(
            run, sites, faults=scenario.faults, stale_limit_s=limit, controller="builtin (in-process)"
        )
        extra["verdict.json"] = json.dumps(result.verdict, ensure_ascii=False, indent=2) + "\n"
        extra["report.html"] = html_report(result.verdict, run, sites)
        extra["policy.yaml"] = scenario.resolve_path(scenario.controller.policy).read_text(encoding="utf-8")
    if out is not None:
        files = {"model.inp": inp_text, "model.rpt": report} if setup is not None else {}
        if csv is not None:  # the run folder keeps the rain it ran with
            files["rainfall.csv"] = csv.read_text(encoding="utf-8")
        files["scenario.resolved.yaml"] = (
            resolved_yaml
            if resolved_yaml is not None
            else dump_resolved(
                scenario,
                rainfall_csv="rainfall.csv" if csv is not None else None,
                policy="policy.yaml" if scenario.controller is not None else None,
            )
        )
        files.update(extra)
        tables = (
            {"trajectories.parquet": crowd.trajectories(), "evacuees.parquet": crowd.evacuees()}
            if crowd is not None
            else {}
        )
        result.out = write_run_folder(
            out,
            summary=summary,
            timeseries=engine.recorder.to_frame(),
            events=engine.events.to_frame(),
            files=files,
            tables=tables,
        )
    return result
