"""Evaluate a proposal: run it and its baseline, and store the KPIs of both with the proposal.

The baseline is the proposal's scenario as it is; the proposal is that scenario with the proposal's
overrides and, when it has one, its dataset patch (:mod:`twin.proposals.patch`). Each run is kept
in the data folder as ``runs/<key>/``, where the key is a digest of what the run depends on: its
resolved scenario (seed included), the bytes of its dataset, rain and policy files, and the twin's
source (as a sweep member's key, :mod:`twin.ensemble.members`). A run folder is written atomically
and only ever holds that run, so an evaluation reuses every run that already exists and the
database refers to runs by their content.

What a crash leaves: the proposal is marked ``under_evaluation`` in its own transaction before any
run; the evaluation (both runs' keys and KPIs) and the status ``evaluated`` are written together in
one transaction after both runs. A process killed in between leaves the proposal under evaluation
with its earlier evaluations, and finished run folders; evaluating again reuses those runs and
completes. A proposal changed while it was being evaluated is not stamped with KPIs of its old
change (:class:`~twin.errors.ProposalConflict`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..cache import code_fingerprint, fingerprint
from ..errors import ProposalError
from ..results import SUMMARY
from ..scenario import Scenario, dump_resolved, load_scenario
from ..validation_messages import short
from .patch import is_empty, patched_dataset
from .store import ProposalStore, data_dir

Progress = Callable[[str, float, float], None]
"""``progress(which, done_s, total_s)``: ``which`` is "baseline" or "proposal", times simulated s."""


def proposal_scenarios(proposal: dict[str, Any], data: Path) -> tuple[Scenario, Scenario]:
    """The baseline and the proposal scenario of ``proposal`` (a :meth:`ProposalStore.get` dict); the
    proposal's patched dataset is written to ``data`` when it is not there yet. A proposal imported
    from a package whose scenario this machine lacks keeps the scenario's name only: refused."""
    if not Path(proposal["scenario"]).is_absolute():  # never a file that happens to have the name here
        raise ProposalError(f"scenario {short(proposal['scenario'], 60)}: not on this machine (the proposal came "
                            "from an open-data package): expected a scenario file here; it cannot be evaluated")
    base = load_scenario(proposal["scenario"])
    overrides = list(proposal["overrides"])
    if not is_empty(proposal.get("dataset_patch")):
        folder = patched_dataset(proposal["dataset_patch"], base.dataset_path(), data)
        overrides.append(f"dataset={json.dumps(str(folder))}")
    return base, load_scenario(proposal["scenario"], overrides=overrides)


def run_key(scenario: Scenario) -> str:
    """The content key of the run of ``scenario`` (the name of its run folder)."""
    from ..ensemble.members import inputs_digest

    # the app's pages and this package make no run (a patch is in the dataset's bytes)
    return fingerprint(dump_resolved(scenario), inputs_digest(scenario, {}),
                       code_fingerprint(skip=("app", "proposals")))


def ensure_run(scenario: Scenario, folder: Path, progress: Callable[[float, float], None] | None = None) -> Path:
    """The run folder of ``scenario`` at ``folder``: reused when it is there (a run folder is
    complete or absent), else run and written atomically."""
    from ..runner import run_scenario

    if not (folder / SUMMARY).is_file():
        run_scenario(scenario, out=folder, progress=progress)
    return folder


def run_kpis_of(folder: Path) -> dict[str, float | None]:
    """The KPIs of the run in ``folder`` (:func:`twin.ensemble.kpis.run_kpis`); NaN as None (JSON)."""
    from ..ensemble.kpis import run_kpis

    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    verdict_file = folder / "verdict.json"
    verdict = json.loads(verdict_file.read_text(encoding="utf-8")) if verdict_file.is_file() else None
    return {k: (None if isinstance(v, float) and math.isnan(v) else float(v))
            for k, v in sorted(run_kpis(summary, verdict).items())}


def evaluate_proposal(
    store: ProposalStore,
    proposal_id: int,
    *,
    data: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run proposal ``proposal_id`` and its baseline (reusing runs that exist in ``data``, default
    :func:`~twin.proposals.store.data_dir`) and store the evaluation. Returns the evaluation as
    :meth:`ProposalStore.get` lists it."""
    data = Path(data) if data is not None else data_dir()
    p = store.get(proposal_id)
    change = {"overrides": list(p["overrides"]), "dataset_patch": dict(p["dataset_patch"])}
    base, prop = proposal_scenarios(p, data)  # refused here, before the status changes
    if p["status"] in ("draft", "evaluated"):
        store.update(proposal_id, version=p["version"], status="under_evaluation")
    keys = {"baseline": run_key(base), "proposal": run_key(prop)}
    kpis: dict[str, Any] = {"scenario": Path(p["scenario"]).name, **change}
    for which, scenario in (("baseline", base), ("proposal", prop)):
        tick = (lambda done, total, w=which: progress(w, done, total)) if progress else None
        folder = ensure_run(scenario, data / "runs" / keys[which], tick)
        kpis[which] = run_kpis_of(folder)
    return store.add_evaluation(proposal_id, change=change, kind="run", baseline_key=keys["baseline"],
                                proposal_key=keys["proposal"], kpis=kpis)


def evaluate_by_sweep(
    store: ProposalStore,
    proposal_id: int,
    sweep_file: str | Path,
    *,
    data: str | Path | None = None,
    workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Evaluate proposal ``proposal_id`` over a sweep: the sweep file's varied parameters, runs,
    sampler and seed (its own scenario is replaced) applied to the baseline and to the proposal.
    Both sweeps draw the same design and member seeds (common random numbers), so the difference is
    the proposal's. Stores each KPI's mean over the members that ran (``baseline``/``proposal``) and
    its 95th percentile (``baseline_p95``/``proposal_p95``). ``progress(which, done, total)`` counts
    members. The sweep folders are ``<data>/sweeps/<key>/``; an interrupted one restarts where it stopped."""
    from dataclasses import replace

    from ..atomic import write_text_atomic
    from ..ensemble.spec import load_sweep_file
    from ..ensemble.sweep import run_sweep

    data = Path(data) if data is not None else data_dir()
    spec = load_sweep_file(sweep_file)
    p = store.get(proposal_id)
    change = {"overrides": list(p["overrides"]), "dataset_patch": dict(p["dataset_patch"])}
    scenarios = dict(zip(("baseline", "proposal"), proposal_scenarios(p, data), strict=True))
    if p["status"] in ("draft", "evaluated"):
        store.update(proposal_id, version=p["version"], status="under_evaluation")
    kpis: dict[str, Any] = {"scenario": Path(p["scenario"]).name, "sweep": Path(sweep_file).name, **change}
    keys = {}
    for which, scenario in scenarios.items():
        scenario_key = run_key(scenario)
        path = data / "scenarios" / f"{scenario_key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, dump_resolved(scenario))
        member_spec = replace(spec, scenario=path, keep_worst=0, worst_by=None, targets=(), source=None)
        keys[which] = fingerprint(scenario_key, repr(member_spec.parameters), str(spec.runs), spec.sampler,
                                  str(spec.seed))
        tick = (lambda done, total, w=which: progress(w, done, total)) if progress else None
        result = run_sweep(member_spec, data / "sweeps" / keys[which], workers=workers, progress=tick)
        ok = result.table[result.table["status"] == "ok"]
        columns = [c for c in ok.columns if c.startswith("kpi/")]
        kpis[which] = {c: _number(ok[c].mean()) for c in columns}
        kpis[f"{which}_p95"] = {c: _number(ok[c].quantile(0.95)) for c in columns}
        kpis[f"{which}_runs"] = int(len(ok))
    return store.add_evaluation(proposal_id, change=change, kind="sweep", baseline_key=keys["baseline"],
                                proposal_key=keys["proposal"], kpis=kpis)


def _number(x: Any) -> float | None:
    """A statistic for JSON: None for NaN (no member had the value)."""
    x = float(x)
    return None if math.isnan(x) else x

