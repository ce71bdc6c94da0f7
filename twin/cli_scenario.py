"""``twin scenario`` and ``twin policy``: check scenario and gate policy files, print their JSON
Schemas.

Attach with ``main.add_command(scenario_group)`` and ``main.add_command(policy_group)`` in
:mod:`twin.cli`. A file with problems prints one line per problem on stderr
(``FILE: field.path: got VALUE: expected WHAT``) and exits with status 2, never with a traceback.
``twin scenario validate`` given a gate policy (a file with ``policy_version``) says so and
validates it as a policy. A valid scenario with values outside the range the models were made
for (:func:`twin.scenario.scenario_warnings`) prints one line per warning on stderr,
``FILE: warning: field.path: VALUE: why``, and still exits 0.
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
    from .scenario import load_scenario, scenario_warnings

    if not overrides and _looks_like_policy(file):
        what = (
            "a collapse policy (it has collapse_policy_version)"
            if _is_collapse_policy(file)
            else "a gate policy (it has policy_version)"
        )
        click.echo(f"{file}: {what}, not a scenario: checked as a policy", err=True)
        _validate_policy(file)
        return
    from .ensemble.spec import is_sweep_file

    if not overrides and is_sweep_file(file):
        click.echo(f"{file}: a sweep file (it has scenario and vary), not a scenario: checked as a sweep", err=True)
        _validate_sweep(file)
        return
    try:
        s = load_scenario(file, overrides=overrides)
    except ScenarioError as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        sys.exit(2)
    from .city import load_city
    from .errors import TwinError
    from .scenario_city import city_problems

    try:  # what the scenario names must exist in its dataset (loaded from the cache when it can be)
        city = load_city(s.dataset_path())
        problems = city_problems(s, city)
        if not problems and s.collapse is not None:  # the monitored sites can start (what a run checks first)
            from .models.collapse import collapse_problems

            problems = collapse_problems(city, s.collapse)
    except TwinError as exc:
        problems = [f"dataset: {exc}"]
    if problems:
        for line in problems:
            click.echo(f"{file}: {line}", err=True)
        sys.exit(2)
    for line in scenario_warnings(s):
        click.echo(f"{file}: warning: {line}", err=True)
    click.echo(f"{file}: valid ({s.name.en}, {s.duration_s / 3600:g} h, rainfall {s.rainfall.kind})")


def _validate_sweep(file: str) -> None:
    """Check a sweep file and every member it makes, as ``twin sweep`` would before its first run."""
    from .ensemble.spec import load_sweep_file
    from .ensemble.sweep import plan
    from .errors import ProblemsError

    try:
        spec = load_sweep_file(file)
        d, members = plan(spec)
    except ProblemsError as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        sys.exit(2)
    varied = ", ".join(p.key for p in spec.parameters)
    click.echo(f"{file}: valid ({len(members)} members, {d.sampler}, varying {varied})")


@scenario_group.command("schema")
def scenario_schema() -> None:
    """Print the JSON Schema of scenario files (schema version 1)."""
    from .scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), ensure_ascii=False, indent=2))


def _looks_like_policy(file: str) -> bool:
    from .errors import TwinError
    from .scenario import read_yaml_file

    try:  # the scenario loader's own bounded reader: a bad file is for it to report
        data = read_yaml_file(file, what="a scenario YAML file")
    except TwinError:
        return False
    return (
        isinstance(data, dict)
        and ("policy_version" in data or "collapse_policy_version" in data)
        and "schema_version" not in data
    )


def _is_collapse_policy(file: str) -> bool:
    from .errors import TwinError
    from .input_files import read_yaml_file

    try:  # the loaders' own bounded reader: a bad file is for them to report
        data = read_yaml_file(file, what="a policy YAML file")
    except TwinError:
        return False
    return isinstance(data, dict) and "collapse_policy_version" in data and "policy_version" not in data


def _load_or_exit(load, error: type[Exception], file: str):
    """``load(file)``, or each of its problems on stderr and exit 2."""
    try:
        return load(file)
    except error as exc:
        for line in getattr(exc, "problems", [str(exc)]):
            click.echo(line, err=True)
        sys.exit(2)


def _validate_collapse_policy(file: str) -> None:
    from .control.collapse_policy import CollapsePolicyError, load_collapse_policy

    policy = _load_or_exit(load_collapse_policy, CollapsePolicyError, file)
    own = ", ".join(sorted(policy.sites)) or "none"
    r = policy.slopes.displacement_rate_mm_h
    click.echo(
        f"{file}: valid collapse policy (slopes evacuate at {r.evacuate:g} mm/h or a forecast failure within "
        f"{policy.slopes.forecast_evacuate_lead / 3600:g} h, with {policy.plausibility.corroboration} independent "
        f"signals; sites with their own rules: {own})"
    )


def _validate_policy(file: str) -> None:
    from .control.policy import PolicyError, load_policy

    if _is_collapse_policy(file):
        _validate_collapse_policy(file)
        return
    policy = _load_or_exit(load_policy, PolicyError, file)
    own = ", ".join(sorted(policy.gates)) or "none"
    d = policy.defaults
    warn = d.warn_level_m if d.warn_level_m is not None else d.close_level_m
    click.echo(
        f"{file}: valid gate policy (defaults: warn at {warn:g} m, close at {d.close_level_m:g} m, reopen below "
        f"{d.reopen_level_m:g} m; gates with their own rules: {own})"
    )


@click.group("policy")
def policy_group() -> None:
    """Gate and collapse early-warning policy files: validate them, print their JSON Schema."""


@policy_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def policy_validate(file: str) -> None:
    """Check the policy FILE (a gate policy, or a collapse policy with collapse_policy_version);
    exit 0 when valid, 2 with one line per problem otherwise."""
    _validate_policy(file)


@policy_group.command("schema")
@click.option("--kind", type=click.Choice(["gate", "collapse"]), default="gate", show_default=True)
def policy_schema(kind: str) -> None:
    """Print the JSON Schema of gate (policy_version 1) or collapse (collapse_policy_version 1) policy files."""
    if kind == "collapse":
        from .control.collapse_policy import collapse_policy_json_schema

        click.echo(json.dumps(collapse_policy_json_schema(), ensure_ascii=False, indent=2))
        return
    from .control.policy import policy_json_schema

    click.echo(json.dumps(policy_json_schema(), ensure_ascii=False, indent=2))
