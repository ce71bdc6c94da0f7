"""``twin proposal``: living-lab proposals kept in a database (:mod:`twin.proposals`).

Attach with ``main.add_command(proposal_group)`` in :mod:`twin.cli`. ``--db URL`` (or
``TWIN_DB_URL``) names the database; the default is a SQLite file in ``data/`` beside the runs. A
bad request prints one line per problem and exits 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .errors import ProblemsError, ProposalError, TwinError

DB_OPTION = click.option("--db", "db", default=None, metavar="URL",
                         help="Database URL (default: $TWIN_DB_URL, else sqlite:///data/proposals.sqlite).")


def _store(db: str | None):
    from .proposals.store import default_url, network_host, open_store

    host = network_host(db or default_url())
    if host is not None:
        click.echo(f"warning: the proposals database is on {host}, over the network: make sure it asks for a "
                   "password and uses TLS (sslmode=require)", err=True)
    try:
        return open_store(db)
    except ProposalError as exc:
        _problems(exc.problems)


def _read_patch(path: Path) -> Any:
    """A dataset patch file: YAML (JSON is YAML too); its problems name the file."""
    from .input_files import read_yaml_file

    try:
        patch = read_yaml_file(path, what="a dataset patch (JSON or YAML)")
    except TwinError as exc:
        _problems([str(exc)])
    if patch is None:  # an empty file is a mistake, not "no change"
        _problems([f"{path}: got nothing: expected a dataset patch with 'devices' (docs/proposals.md)"])
    return patch


def _problems(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(2)


class _ProposalGroup(click.Group):
    """The command group; a database failure after the database was opened (a server gone, a disk
    full, a value the database refuses) is one line naming its kind, never a traceback with SQL."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            from sqlalchemy.exc import SQLAlchemyError

            if not isinstance(exc, SQLAlchemyError):
                raise
            click.echo(f"the proposals database failed ({type(exc).__name__}): nothing of this command was "
                       "stored; check the database and try again", err=True)
            sys.exit(1)


@click.group("proposal", cls=_ProposalGroup)
def proposal_group() -> None:
    """Living-lab proposals: add, list, show, evaluate, export and import them (kept in a database)."""


@proposal_group.command("new")
@DB_OPTION
@click.option("--title-ko", required=True, help="Title in Korean.")
@click.option("--title-en", required=True, help="Title in English.")
@click.option("--author", required=True, help="Who proposes it (a name or a group).")
@click.option("--publish-author", is_flag=True,
              help="The author consents to their name being published (open data); else a pseudonym is.")
@click.option("--scenario", required=True, help="The scenario file the proposal changes.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="The change, as scenario overrides (repeatable), e.g. thresholds.LS-1018665.attention_m=1.5")
@click.option("--description-ko", default="", help="Why, in Korean.")
@click.option("--description-en", default="", help="Why, in English.")
@click.option("--patch", "patch_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="A dataset patch (JSON or YAML): devices to add, move or remove (see docs/proposals.md).")
def proposal_new(db, title_ko, title_en, author, publish_author, scenario, overrides, description_ko, description_en,
                 patch_file) -> None:
    """Add a draft proposal; its change is validated as a run would validate it."""
    patch = _read_patch(patch_file) if patch_file is not None else None
    store = _store(db)
    try:
        pid = store.new(title_ko=title_ko, title_en=title_en, author=author, scenario=scenario,
                        overrides=overrides, description_ko=description_ko, description_en=description_en,
                        dataset_patch=patch, author_public=publish_author)
    except ProposalError as exc:
        _problems(exc.problems)
    click.echo(f"proposal {pid}: {title_en} (draft)")


@proposal_group.command("list")
@DB_OPTION
@click.option("--status", default=None, help="Only proposals in this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def proposal_list(db, status, as_json) -> None:
    """The proposals, newest first: id, status, votes, comments, title."""
    store = _store(db)
    try:
        rows = store.proposals(status)
    except ProposalError as exc:
        _problems(exc.problems)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['id']:>4}  {r['status']:<16} +{r['votes_for']} -{r['votes_against']}  "
                   f"{r['n_comments']} comment(s)  {r['title_ko']} / {r['title_en']}  ({r['author']})")


@proposal_group.command("show")
@DB_OPTION
@click.argument("proposal_id", type=int)
def proposal_show(db, proposal_id) -> None:
    """One proposal, whole, as JSON."""
    store = _store(db)
    try:
        click.echo(json.dumps(store.get(proposal_id), ensure_ascii=False, indent=2))
    except ProposalError as exc:
        _problems(exc.problems)


@proposal_group.command("evaluate")
@DB_OPTION
@click.argument("proposal_id", type=int)
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Data folder for the runs (default: $TWIN_DATA_DIR, else data/).")
@click.option("--sweep", "sweep_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Evaluate over a sweep: this sweep file's varied parameters, runs and seed, on both.")
@click.option("--workers", type=int, default=None, help="With --sweep: local worker processes (default: every core).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def proposal_evaluate(db, proposal_id, data, sweep_file, workers, quiet) -> None:
    """Run the proposal and its baseline, and store both runs' KPIs with the proposal.

    Runs that exist (same scenario, data and code) are reused, so evaluating again after an
    interruption finishes the work without redoing it. With --sweep, each is run over the sweep's
    members (the same draws for both) and the KPIs' means and 95th percentiles are stored."""
    from tqdm import tqdm

    from .proposals.evaluate import evaluate_by_sweep, evaluate_proposal

    store = _store(db)
    bars: dict[str, Any] = {}

    def progress(which: str, done: float, total: float) -> None:
        if quiet:
            return
        bar = bars.get(which)
        if bar is None:
            for old in bars.values():
                old.close()
            hours = "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} h [{elapsed}]"
            bar = bars[which] = tqdm(total=total if sweep_file else total / 3600, unit="run" if sweep_file else "h",
                                     desc=which, file=sys.stderr, bar_format=None if sweep_file else hours)
        bar.update((done if sweep_file else done / 3600) - bar.n)

    try:
        if sweep_file is not None:
            ev = evaluate_by_sweep(store, proposal_id, sweep_file, data=data, workers=workers, progress=progress)
        else:
            ev = evaluate_proposal(store, proposal_id, data=data, progress=progress)
    except (TwinError, OSError) as exc:
        _problems(exc.problems if isinstance(exc, ProblemsError) else [str(exc)])
    finally:
        for bar in bars.values():
            bar.close()
    what = "sweep" if ev["kind"] == "sweep" else "run"
    click.echo(f"proposal {proposal_id}: evaluation {ev['id']} stored (baseline {what} {ev['baseline_key']}, "
               f"proposal {what} {ev['proposal_key']})")
    if ev["kind"] == "sweep":
        click.echo(f"  means over {ev['kpis']['proposal_runs']} runs:")
    for line in _kpi_lines(ev["kpis"]):
        click.echo("  " + line)


def _kpi_lines(kpis: dict[str, Any]) -> list[str]:
    """The run-wide KPIs, baseline -> proposal, in words (English)."""
    from .ensemble.kpis import measure_of

    lines = []
    for column, before in kpis["baseline"].items():
        m = measure_of(column)
        if not column.startswith("kpi/") or m is None:
            continue
        after = kpis["proposal"].get(column)
        show = lambda v: "none" if v is None else f"{v:.4g}"  # noqa: E731
        lines.append(f"{m.en}: {show(before)} -> {show(after)} {m.unit}".rstrip())
    return lines


def _os_problem(exc: Exception, where: Path | None) -> list[str]:
    """A ProposalError's lines, or an OS error as one line naming the path."""
    if isinstance(exc, ProposalError):
        return exc.problems
    return [f"{where}: {getattr(exc, 'strerror', None) or exc}"]


@proposal_group.command("export")
@DB_OPTION
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def proposal_export(db, folder) -> None:
    """Write every proposal, its evaluations and its feedback as an open-data package in FOLDER
    (CSV and GeoJSON with a data dictionary and licence; docs/open-data.md). Names only with consent."""
    from .proposals.opendata import export_package

    store = _store(db)
    try:
        counts = export_package(store, folder)
    except (ProposalError, OSError) as exc:
        _problems(_os_problem(exc, folder))
    click.echo(f"{folder}: {counts['proposals']} proposal(s), {counts['comments']} comment(s), "
               f"{counts['votes']} vote(s), {counts['evaluations']} evaluation(s)")


@proposal_group.command("import")
@DB_OPTION
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def proposal_import(db, folder) -> None:
    """Add the proposals of an open-data package in FOLDER (checked whole first, written in one transaction)."""
    from .proposals.opendata import import_package

    store = _store(db)
    try:
        got = import_package(store, folder)
    except (ProposalError, OSError) as exc:
        _problems(_os_problem(exc, folder))
    pairs = ", ".join(f"{a} -> {b}" for a, b in got["ids"].items())
    click.echo(f"{got['proposals']} proposal(s) imported" + (f" (package id -> id: {pairs})" if pairs else ""))
    for name in got["scenarios_not_here"]:
        click.echo(f"scenario {name}: not on this machine; kept by name (cannot be evaluated here)", err=True)


@proposal_group.command("report")
@DB_OPTION
@click.argument("proposal_id", type=int)
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write (default: standard output).")
def proposal_report(db, proposal_id, lang, out) -> None:
    """One proposal as a self-contained HTML page: its change, its latest evaluation, votes and comments."""
    from .atomic import write_text_atomic
    from .proposals.report import proposal_html

    store = _store(db)
    try:
        proposal = store.get(proposal_id)
        page = proposal_html(proposal, lang, place_names=_place_names(proposal, lang))
        if out is None:
            click.echo(page)
            return
        write_text_atomic(out, page)
    except (ProposalError, OSError) as exc:
        _problems(_os_problem(exc, out))
    click.echo(f"wrote {out}")


def _place_names(proposal: dict[str, Any], lang: str) -> dict[tuple[str, str], str]:
    """Names of the proposal's places and devices, from its scenario's dataset (none when the
    scenario or its dataset is not on this machine: the report then shows ids)."""
    from .proposals.report import place_names_of
    from .scenario import load_scenario

    if not Path(proposal["scenario"]).is_absolute():
        return {}
    try:
        return place_names_of(load_scenario(proposal["scenario"]).dataset_path(), lang)
    except (TwinError, OSError, KeyError, ValueError):
        return {}


@proposal_group.command("status")
@DB_OPTION
@click.argument("proposal_id", type=int)
@click.argument("status")
def proposal_status(db, proposal_id, status) -> None:
    """Move a proposal to STATUS: draft, under_evaluation, evaluated, adopted or rejected (a
    workshop's decision)."""
    store = _store(db)
    try:
        version = store.get(proposal_id)["version"]
        store.update(proposal_id, version=version, status=status)
    except ProposalError as exc:
        _problems(exc.problems)
    click.echo(f"proposal {proposal_id}: {status}")
