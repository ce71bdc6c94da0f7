"""``twin proposal``: living-lab proposals kept in a database (:mod:`twin.proposals`).

Attach with ``main.add_command(proposal_group)`` in :mod:`twin.cli`. ``--db URL`` (or
``TWIN_DB_URL``) names the database; the default is a SQLite file in ``data/`` beside the runs. A
bad request prints one line per problem and exits 2.
"""

from __future__ import annotations

import json
import sys

import click

from .errors import ProposalError

DB_OPTION = click.option("--db", "db", default=None, metavar="URL",
                         help="Database URL (default: $TWIN_DB_URL, else sqlite:///data/proposals.sqlite).")


def _store(db: str | None):
    from .proposals.store import open_store

    try:
        return open_store(db)
    except ProposalError as exc:
        _problems(exc.problems)


def _problems(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(2)


@click.group("proposal")
def proposal_group() -> None:
    """Living-lab proposals: add, list and show them (kept in a database)."""


@proposal_group.command("new")
@DB_OPTION
@click.option("--title-ko", required=True, help="Title in Korean.")
@click.option("--title-en", required=True, help="Title in English.")
@click.option("--author", required=True, help="Who proposes it (a name or a group).")
@click.option("--scenario", required=True, help="The scenario file the proposal changes.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="The change, as scenario overrides (repeatable), e.g. thresholds.LS-1018665.attention_m=1.5")
@click.option("--description-ko", default="", help="Why, in Korean.")
@click.option("--description-en", default="", help="Why, in English.")
def proposal_new(db, title_ko, title_en, author, scenario, overrides, description_ko, description_en) -> None:
    """Add a draft proposal; its change is validated as a run would validate it."""
    store = _store(db)
    try:
        pid = store.new(title_ko=title_ko, title_en=title_en, author=author, scenario=scenario,
                        overrides=overrides, description_ko=description_ko, description_en=description_en)
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
