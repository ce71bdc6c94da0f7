"""``twin sweep``: many runs of one scenario with sampled parameters, on Dask (:mod:`twin.ensemble`).

Attach with ``main.add_command(sweep_cmd)`` in :mod:`twin.cli`. A bad request (a ``--vary`` that
does not parse, a range the scenario refuses, a folder that is not a sweep's) prints one line per
problem on stderr and exits 2, before any run. A member that fails is recorded and the sweep goes
on; the exit status is 0 when every member finished, 1 when some failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import ProblemsError, SweepError, TwinError


@click.command("sweep")
@click.argument("file", metavar="SCENARIO_OR_SWEEP_FILE", type=click.Path(path_type=Path))
@click.option("--runs", type=int, default=None, help="How many members (default 64; grid and sobol may make fewer).")
@click.option(
    "--vary",
    multiple=True,
    metavar="KEY=DIST(ARGS)",
    help="A varied field and its distribution: uniform(a,b), loguniform(a,b), triangular(a,m,b), normal(mean,sd), "
    "integers(a,b), choice(x,y,...); e.g. rainfall.total_mm=uniform(60,150). Repeatable.",
)
@click.option("--sampler", type=click.Choice(["lhs", "random", "grid", "sobol"]), default=None,
              help="Design: Latin hypercube (default), Monte Carlo, full grid, or Saltelli's for Sobol indices.")
@click.option("--seed", type=int, default=None, help="The sweep's seed; each member's seed is spawned from it.")
@click.option("--workers", type=int, default=None, help="Local worker processes (default: every core).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on an existing Dask cluster instead of a local one.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Sweep folder (default: sweeps/<file name>); run again with the same folder to resume.")
@click.option("--keep-worst", type=int, default=None, help="Keep the run folders of the K worst members.")
@click.option("--worst-by", default=None, metavar="KPI", help="The KPI that ranks them, e.g. kpi/flooded_paths.")
@click.option("--discover", "targets", multiple=True, metavar="'KPI OP NUMBER'",
              help="An outcome to explain, e.g. 'kpi/exposed_people > 50' (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sweep_cmd(file, runs, vary, sampler, seed, workers, scheduler, out, keep_worst, worst_by, targets, quiet) -> None:
    """Run SCENARIO many times with the --vary fields drawn from their distributions (or the sweep a
    sweep file describes), and write results.parquet, percentiles, exceedance probabilities, Sobol
    indices (sampler sobol) and discovered rules to the sweep folder."""
    from tqdm import tqdm

    from .ensemble.spec import load_request, parse_target, parse_vary
    from .ensemble.sweep import run_sweep

    try:
        parameters = parse_vary(vary) if vary else None
        parsed = tuple(parse_target(t, where=f"--discover {t[:40]}") for t in targets) or None
        base = load_request(file)
        spec = base.with_options(runs=runs, sampler=sampler, seed=seed, keep_worst=keep_worst, worst_by=worst_by,
                                 targets=parsed, parameters=parameters)
        spec.check()
    except SweepError as exc:
        _problems(exc.problems)
    out = out or Path("sweeps") / file.stem
    bars: list[tqdm] = []  # made when the runs start: nothing is drawn above a refusal

    def progress(done: int, total: int) -> None:
        if quiet:
            return
        if not bars:
            bars.append(tqdm(total=total, unit="run", desc="members", file=sys.stderr))
        bars[0].update(done - bars[0].n)

    def log(text: str) -> None:
        (bars[0].write if bars else click.echo)(text, file=sys.stderr)

    try:
        result = run_sweep(spec, out, workers=workers, scheduler=scheduler, progress=progress, log=log)
    except ProblemsError as exc:
        _problems(exc.problems)
    except (TwinError, OSError) as exc:
        _problems([f"error: {exc}"])
    except KeyboardInterrupt:
        for bar in bars:
            bar.close()
        click.echo(f"stopped: the finished members are kept in {out}; run the same command again to go on", err=True)
        sys.exit(130)
    finally:
        for bar in bars:
            bar.close()
    _report(result)
    if result.failed:
        sys.exit(1)


def _problems(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(2)


def _report(result) -> None:
    """The sweep in a few lines: members, the run-wide KPIs' p5/p50/p95 in words, the parameters that
    matter most (Sobol), the rules found. Per-place figures are in the folder's tables and the app."""
    from .ensemble.kpis import measure_of

    t = result.table
    click.echo(f"wrote {result.folder}")
    click.echo(
        f"  {len(t)} members ({result.design.sampler}): {result.ran} run now, {result.reused} found finished, "
        f"{result.failed} failed"
    )
    for line in t.loc[t["status"] != "ok", ["member", "error"]].head(5).itertuples(index=False):
        click.echo(f"  member {line.member} failed: {line.error}")
    pct = result.analysis.get("percentiles")
    if pct is not None:
        for col in [c for c in pct.index if str(c).startswith("kpi/")]:
            r, m = pct.loc[col], measure_of(col)
            if r["n"]:
                what = f"{m.en} ({m.unit})" if m is not None else col
                click.echo(f"  {what}: p5 {r['p5']:.4g}, p50 {r['p50']:.4g}, p95 {r['p95']:.4g}")
    sens = result.analysis.get("sensitivity")
    if sens is not None and len(sens):
        click.echo("  Sobol total-order indices, 95 % interval (sensitivity.parquet has them all):")
        for kpi, rows in sens.groupby("kpi", sort=False):
            if rows["ST"].abs().max() == 0:
                continue  # a KPI that never changed
            m = measure_of(str(kpi))
            parts = ", ".join(f"{r.parameter} {r.ST:.2f} ± {r.ST_conf:.2f}" for r in
                              rows.sort_values("ST", ascending=False).itertuples(index=False))
            click.echo(f"    {m.en if m is not None else kpi}: {parts}")
    for entry in result.analysis.get("rules", []):
        click.echo(f"  {entry['target']}: {entry['bad']} of {entry['n']} members")
        for rule in entry["rules"][:2]:
            click.echo(f"    {rule['method']}: {rule['text_en']}")
