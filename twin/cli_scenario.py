"""``twin scenario``: check scenario files and print their JSON Schema.

Attach with ``main.add_command(scenario_group)`` in :mod:`twin.cli`. A scenario with problems
prints one line per problem on stderr (``FILE: field.path: got VALUE: expected WHAT``) and exits
with status 2, never with a traceback.
"""

from __future__ import annotations

import json
import sys

import click

from .errors import ScenarioError


@click.group("scenario")
def scenario_group() -> None:
    """Scenario files: validate them, print their JSON Schema."""


@scenario_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=True))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a field before validating, e.g. rainfall.total_mm=120 (repeatable; VALUE is YAML).",
)
def scenario_validate(file: str, overrides: tuple[str, ...]) -> None:
    """Check FILE; exit 0 when valid, 2 with one line per problem otherwise."""
    from .scenario import load_scenario

    try:
        s = load_scenario(file, overrides=overrides)
    except ScenarioError as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        sys.exit(2)
    click.echo(f"{file}: valid ({s.name.en}, {s.duration_s / 3600:g} h, rainfall {s.rainfall.kind})")


@scenario_group.command("schema")
def scenario_schema() -> None:
    """Print the JSON Schema of scenario files (schema version 1)."""
    from .scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), ensure_ascii=False, indent=2))
