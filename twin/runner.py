"""Run a scenario headless: GIS -> scenario -> engine -> models -> results.

``run_scenario`` is what ``twin run`` calls; the Streamlit app and the benchmarks call it too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._atomic import check_output_dir
from .city import CityModel, load_city
from .engine import Engine
from .models.flood import FloodModel, build_flood_model, rain_gauges
from .models.rain_field import rain_field
from .results import SUMMARY, write_run_folder
from .scenario import dump_resolved

_VOLATILE_RPT = ("Analysis begun on", "Analysis ended on", "Total elapsed time")


@dataclass
class RunResult:
    summary: dict[str, Any]
    engine: Engine
    inp_text: str
    report_text: str
    out: Path | None
    crowd: Any = None


def run_scenario(
    scenario,
    *,
    out: str | Path | None = None,
    city: CityModel | None = None,
    progress: Callable[[float, float], None] | None = None,
    resolved_yaml: str | None = None,
) -> RunResult:
    """Run ``scenario`` (a validated :class:`twin.scenario.Scenario`); write the run folder to ``out``.

    ``progress(done_s, total_s)`` is called as simulated time advances. ``city`` skips loading
    the dataset again (it must be the scenario's dataset).
    """
    if out is not None:  # refuse a bad --out before the work, not after it
        check_output_dir(out, overwrite=True, marker=SUMMARY)
    if city is None:
        city = load_city(scenario.dataset_path())
    csv = scenario.resolve_path(scenario.rainfall.csv) if scenario.rainfall.kind == "observed" else None
    rain = rain_field(scenario.rainfall, rain_gauges(city), csv_path=csv, start=scenario.start)
    overrides = {k: v.model_dump() for k, v in scenario.thresholds.items()}
    river = scenario.hydraulics.enabled
    setup = None
    if river:
        setup = build_flood_model(
            city,
            rain,
            start=scenario.start,
            duration_s=scenario.duration_s,
            hydraulics=scenario.hydraulics,
            threshold_overrides=overrides,
        )
    engine = Engine(start=scenario.start, duration_s=scenario.duration_s, seed=scenario.seed)
    report = ""
    with tempfile.TemporaryDirectory(prefix="twin-swmm-") as scratch:
        inp = Path(scratch) / "model.inp"
        flood = None
        if setup is not None:
            inp.write_text(setup.inp_text, encoding="utf-8")
            flood = FloodModel(engine, setup, inp, sample_s=scenario.hydraulics.sample_interval)
            flood.processes()
        crowd = None
        if scenario.populations:
            from .models.crowd.city_crowd import CityCrowd

            crowd = CityCrowd(engine, city, scenario)
            if flood is not None:
                flood.on_path_flooded.append(crowd.path_flooded)
                flood.on_threshold_up.append(crowd.threshold_up)
            crowd.processes()
        engine.run(progress=(lambda t: progress(t, engine.duration_s)) if progress else None)
        rpt = inp.with_suffix(".rpt")
        if rpt.exists():
            report = rpt.read_text(encoding="utf-8", errors="replace")
    report = "".join(line for line in report.splitlines(keepends=True) if not line.strip().startswith(_VOLATILE_RPT))
    summary = {
        "scenario": {
            "name": scenario.name.model_dump(),
            "seed": scenario.seed,
            "start": scenario.start.isoformat(),
            "duration_s": scenario.duration_s,
            "rainfall": scenario.rainfall.kind,
            "dataset": city.manifest.get("name"),
        },
        **(flood.summary() if flood is not None else {}),
        **({"crowd": crowd.summary()} if crowd is not None else {}),
        "run": {"events": len(engine.events), "samples": len(engine.recorder)},
    }
    inp_text = setup.inp_text if setup is not None else ""
    result = RunResult(summary, engine, inp_text, report, None, crowd)
    if out is not None:
        files = {"model.inp": inp_text, "model.rpt": report} if setup is not None else {}
        if csv is not None:  # the run folder keeps the rain it ran with
            files["rainfall.csv"] = csv.read_text(encoding="utf-8")
        files["scenario.resolved.yaml"] = (
            resolved_yaml
            if resolved_yaml is not None
            else dump_resolved(scenario, rainfall_csv="rainfall.csv" if csv is not None else None)
        )
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
