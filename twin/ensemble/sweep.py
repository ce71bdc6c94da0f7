"""Run a sweep: the design, its members, their runs on Dask, the tables and the analysis.

``run_sweep`` is what ``twin sweep`` calls. The runs go to a local cluster or to an existing one
by address (:mod:`twin.ensemble.cluster`); the same code runs on both. Records come back to this
process, which writes them as they arrive: a sweep stopped at any point and started again with
the same folder runs only the members it has no record of, and its tables equal those of a sweep
never stopped (they are made from the records, in member order).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SweepError
from .cluster import check_cluster_options, cluster, run_on
from .design import Design, design
from .folder import SWEEP_JSON, SweepFolder, results_table, series_table
from .kpis import measure_of, model_of, scenario_models
from .members import Member, build_members, member_scenario
from .spec import SweepSpec, Target

WORST_DEFAULTS = ("kpi/gates_failed", "kpi/exposed_people", "kpi/unwarned_paths", "kpi/flooded_paths")
TARGET_DEFAULTS = (Target("kpi/gates_failed", ">", 0.0), Target("kpi/exposed_people", ">", 0.0),
                   Target("kpi/unwarned_paths", ">", 0.0))


@dataclass
class SweepResult:
    """What a sweep made: its folder, the results table, how many members ran now, were found
    finished from before, or failed, and the tables of the analysis."""

    folder: Path
    table: pd.DataFrame
    ran: int
    reused: int
    failed: int
    design: Design
    analysis: dict[str, Any] = field(default_factory=dict)


def plan(spec: SweepSpec) -> tuple[Design, list[Member]]:
    """The design and the validated members of ``spec`` (no run yet)."""
    spec.check()
    where = str(spec.source) if spec.source is not None else "twin sweep"
    unknown = [(f"{where}: worst_by", spec.worst_by)] if spec.worst_by and measure_of(spec.worst_by) is None else []
    unknown += [(f"{where}: discover", t.column) for t in spec.targets if measure_of(t.column) is None]
    if unknown:
        raise SweepError(
            [f"{w}: got {c!r}: expected a KPI column such as kpi/flooded_paths, kpi/exposed_people, "
             "gate/G01/failed (docs/sweep.md lists them)" for w, c in unknown]
        )
    d = design(list(spec.parameters), spec.runs, sampler=spec.sampler, seed=spec.seed)
    members = build_members(spec.scenario, spec.parameters, d)
    models = scenario_models(member_scenario(members[0])) if members else set()
    absent = [(f"{where}: worst_by", spec.worst_by)] if spec.worst_by and model_of(spec.worst_by) not in models else []
    absent += [(f"{where}: discover", t.column) for t in spec.targets if model_of(t.column) not in models]
    if absent:
        have = ", ".join(sorted(models)) or "none"
        raise SweepError([f"{w}: got {c!r}, a KPI of the {model_of(c)} model: expected a KPI of this scenario's "
                          f"models ({have})" for w, c in absent])
    return d, members


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run every member of ``spec`` not yet recorded in ``out`` and write the sweep folder
    (:mod:`twin.ensemble.folder`). ``workers``: local worker processes (default: every core);
    ``scheduler``: the address of an existing Dask scheduler (``tcp://host:8786``) instead.
    ``progress(done, total)`` when the runs start and after each batch; ``log(text)`` for one-line news."""
    say = log or (lambda text: None)
    check_cluster_options(workers, scheduler)
    d, members = plan(spec)
    if len(members) != spec.runs:
        say(f"{d.sampler}: {len(members)} members (asked for {spec.runs}; docs/sweep.md says why)")
    with SweepFolder(out) as folder:
        return _run_in(folder, spec, d, members, workers, scheduler, progress, say)


def _run_in(folder, spec, d, members, workers, scheduler, progress, say) -> SweepResult:
    records: dict[int, dict[str, Any]] = {}
    for m in members:
        rec = folder.record(m.key)
        if rec is not None:
            records[m.index] = {**rec, "member": m.index}
    reused = len(records)
    todo = [m for m in members if m.index not in records]
    if reused:
        say(f"{reused} of {len(members)} members already finished in {folder.path}: skipped")
    timings: list[dict[str, Any]] = []
    with ExitStack() as stack:
        clients: list[Any] = []

        def client() -> Any:
            """The cluster's client, started on first use (a finished sweep restarted needs none)."""
            if not clients:
                clients.append(stack.enter_context(cluster(workers, scheduler, _datasets(members))))
            return clients[0]

        if todo:
            client()  # reached (or refused) before the folder changes
        folder.clear_outputs()  # no table of an earlier request is left beside this request's sweep.json
        folder.write_json(SWEEP_JSON, _sweep_json(spec, d, members))
        if todo:
            n_workers = max(1, len(client().scheduler_info()["workers"]))
            say(f"running {len(todo)} members on {n_workers} worker(s)")
            if progress is not None:
                progress(reused, len(members))
            for rec in run_on(client(), todo, n_workers, progress, total=len(members), done=reused):
                timings.append({k: rec.pop(k) for k in ("elapsed_s", "max_rss_kb", "worker") if k in rec})
                if not rec.pop("lost", False):
                    folder.put(rec)
                records[rec["member"]] = rec
        table = results_table(list(records.values()), [p.key for p in spec.parameters])
        kept = _keep_worst(client, spec, folder, members, table, say)
    folder.write_table("results.parquet", table)
    folder.write_table("series.parquet", series_table(list(records.values())))
    if timings:
        folder.write_json("timings.json", {"members": timings})
    analysis = analyse(table, spec, d, folder)
    failed = int((table["status"] != "ok").sum())
    analysis["kept_runs"] = kept
    return SweepResult(folder.path, table, len(todo), reused, failed, d, analysis)


def _datasets(members: list[Member]) -> tuple[str, ...]:
    """The dataset the first member runs on (from its resolved scenario), for the workers to load as
    they start; a member on another dataset loads it on first use."""
    import yaml

    found = set()
    for m in members[:1]:
        data = yaml.safe_load(m.resolved)
        if isinstance(data, dict) and isinstance(data.get("dataset"), str):
            found.add(data["dataset"])
    return tuple(sorted(found))


def worst_column(spec: SweepSpec, table: pd.DataFrame) -> str | None:
    """The KPI that ranks members for ``keep_worst``: the sweep's ``worst_by`` or the first of
    :data:`WORST_DEFAULTS` the table has."""
    if spec.worst_by is not None:
        if spec.worst_by not in table.columns:
            raise SweepError(f"worst_by: got {spec.worst_by!r}: expected a KPI column of this sweep, e.g. "
                             + ", ".join(c for c in table.columns if c.startswith("kpi/"))[:200])
        return spec.worst_by
    return next((c for c in WORST_DEFAULTS if c in table.columns), None)


def worst_members(table: pd.DataFrame, column: str, k: int) -> list[int]:
    """The ``k`` worst finished members by ``column`` (its declared better direction; higher is worse
    when it has none), ties broken by member number."""
    ok = table[(table["status"] == "ok") & table[column].notna()]
    m = measure_of(column)
    worse_high = m is None or m.better != "higher"
    ranked = ok.sort_values([column, "member"], ascending=[not worse_high, True], kind="mergesort")
    return [int(x) for x in ranked["member"].head(k)]


def _keep_worst(
    client: Callable[[], Any],
    spec: SweepSpec,
    folder: SweepFolder,
    members: list[Member],
    table: pd.DataFrame,
    say: Callable[[str], None],
) -> list[int]:
    """Keep the run folders of the ``spec.keep_worst`` worst members (run again, keeping their files:
    a run is deterministic, so it is the member's run); those already kept are not run again."""
    if spec.keep_worst <= 0:
        folder.prune_runs({})
        return []
    column = worst_column(spec, table)
    if column is None:
        return []
    chosen = worst_members(table, column, spec.keep_worst)
    folder.prune_runs({i: members[i].key for i in chosen})  # another request's, or not among the worst now
    need = [members[i] for i in chosen if not folder.has_run(i, members[i].key)]
    if need:
        from .worker import run_batch

        say(f"keeping the run folders of the {len(chosen)} worst members by {column}")
        for fut in client().map(run_batch, [[m] for m in need], keep=True, pure=False):
            for rec in fut.result():
                if rec.get("files"):
                    folder.put_run(rec["member"], rec["key"], rec["files"])
    return chosen


def analyse(table: pd.DataFrame, spec: SweepSpec, d: Design, folder: SweepFolder) -> dict[str, Any]:
    """Percentiles, exceedance probabilities, Sobol indices (sobol designs) and discovered rules,
    written to the folder; returned as tables."""
    from .analysis import discover_rules, exceedance_events, percentiles, sensitivity

    out: dict[str, Any] = {}
    out["percentiles"] = percentiles(table)
    folder.write_table("percentiles.parquet", out["percentiles"].reset_index())
    out["exceedance"] = exceedance_events(table)
    folder.write_table("exceedance.parquet", out["exceedance"])
    if d.sampler == "sobol":
        out["sensitivity"] = sensitivity(table, spec.parameters, d)
        folder.write_table("sensitivity.parquet", out["sensitivity"])
    targets = spec.targets or tuple(t for t in TARGET_DEFAULTS if t.column in table.columns)
    out["rules"] = discover_rules(table, spec.parameters, targets)
    folder.write_json("rules.json", out["rules"])
    return out


def _sweep_json(spec: SweepSpec, d: Design, members: list[Member]) -> dict[str, Any]:
    return {
        "format": 1,
        "scenario": str(spec.scenario),
        "sweep_file": str(spec.source) if spec.source is not None else None,
        "runs": len(members),
        "runs_asked": spec.runs,
        "sampler": spec.sampler,
        "base_samples": d.base_samples,
        "seed": spec.seed,
        "parameters": [{"key": p.key, "distribution": p.kind, "args": list(p.args), "text": p.text()}
                       for p in spec.parameters],
        "keep_worst": spec.keep_worst,
        "worst_by": spec.worst_by,
        "targets": [t.text() for t in spec.targets],
        "members": [{"member": m.index, "key": m.key, "seed": m.seed, "values": m.values} for m in members],
    }


def read_sweep(folder: str | Path) -> dict[str, Any]:
    """A sweep folder's request (sweep.json) and results table, for the app and tests."""
    path = Path(folder)
    try:
        meta = json.loads((path / SWEEP_JSON).read_text(encoding="utf-8"))
        table = pd.read_parquet(path / "results.parquet")
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: not a finished sweep folder ({type(exc).__name__}): expected {SWEEP_JSON} "
                         "and results.parquet") from None
    return {"meta": meta, "table": table}
