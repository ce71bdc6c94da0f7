"""Loading a scenario: a YAML file or a mapping, ``--set`` overrides, the files it names, and the
resolved dump a run folder keeps.

Every problem is a line ``FILE: field.path: got VALUE: expected WHAT`` of a
:class:`~twin.errors.ScenarioError`; :mod:`twin.validation_messages` words the lines and
applies the overrides. The files a scenario names (the dataset, the rain CSV, the gate policy)
are checked as the run will read them, so a scenario that validates can run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..control.collapse_policy import CollapsePolicyError, load_collapse_policy
from ..control.policy import PolicyError, load_policy
from ..errors import ScenarioError
from ..input_files import MAX_YAML_DEPTH, StrictLoader, _data_shape_problem, read_yaml_file
from ..validation_messages import (
    _apply_override,
    _describe_top,
    _error_lines,
    _kind_word,
    _num,
    _one_line,
    _show,
    format_duration,
)
from .fields import IDF_TABLE_MAX_YR, KOREA_DAY_RECORD_MM
from .rain import DesignStorm, ObservedRain
from .schema import SCENARIO_SCHEMA_VERSION, Scenario, scenario_json_schema


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_scenario(path: str | os.PathLike[str], *, overrides: Sequence[str] = (), seed: int | None = None) -> Scenario:
    """Read, override and validate a scenario file.

    ``overrides`` are ``KEY.PATH=VALUE`` strings (the CLI's ``--set``), applied in order;
    ``seed`` replaces the file's seed. Raises :class:`~twin.errors.ScenarioError` listing every
    problem, one line each: ``FILE: field.path: got VALUE: expected WHAT``.
    """
    label = os.fspath(path)
    data = read_yaml_file(path, what="a scenario YAML file")
    if data is None:
        raise ScenarioError(f"{label}: the file is empty: expected {_describe_top(scenario_json_schema())}")
    return scenario_from_mapping(data, source=path, overrides=overrides, seed=seed)


def scenario_from_mapping(
    data: Any,
    *,
    source: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    seed: int | None = None,
) -> Scenario:
    """Validate scenario data already parsed from YAML (or built in Python).

    ``source`` is the scenario file the data came from: it names the problems and anchors
    relative paths (default: ``<scenario>`` and the current directory). Same errors as
    :func:`load_scenario`; also checks that ``dataset`` and ``rainfall.csv`` exist.
    """
    label = os.fspath(source) if source is not None else "<scenario>"
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"{label}: top level: got {_kind_word(data)}: expected {_describe_top(scenario_json_schema())}"
        )
    schema = scenario_json_schema()
    data = dict(data)
    problems = []
    for item in overrides:
        problem = _apply_override(data, str(item), schema, StrictLoader, max_parts=MAX_YAML_DEPTH)
        if problem:
            problems.append(f"{label}: --set {_short(_one_line(str(item)), 80)}: {problem}")
    if problems:
        raise ScenarioError(problems)
    shape = _data_shape_problem(data)
    if shape is not None:
        raise ScenarioError(f"{label}: top level: {shape}: expected a scenario (a few levels of mappings and lists)")
    if seed is not None:
        data["seed"] = seed
    version = data.get("schema_version", SCENARIO_SCHEMA_VERSION)
    if not (type(version) is int and version == SCENARIO_SCHEMA_VERSION):
        raise ScenarioError(
            f"{label}: schema_version: got {_show(version)}: expected {SCENARIO_SCHEMA_VERSION} "
            f"(the scenario schema version this twin reads)"
        )
    try:
        scenario = Scenario.model_validate(data, context={"source_path": source})
    except ValidationError as exc:
        raise ScenarioError(_error_lines(exc, label, schema)) from None
    problems = [f"{label}: {line}" for line in _missing_files(scenario)]
    if problems:
        raise ScenarioError(problems)
    return scenario


def _missing_files(s: Scenario) -> list[str]:
    problems = []
    if s.dataset is not None:
        where = s.resolve_path(s.dataset)
        if not (where / "manifest.json").is_file():
            problems.append(
                f"dataset: got {_show(s.dataset)}: expected a dataset directory with manifest.json (looked in {where})"
            )
    if isinstance(s.rainfall, ObservedRain):
        where = s.resolve_path(s.rainfall.csv)
        if not where.exists():
            problems.append(f"rainfall.csv: got {_show(s.rainfall.csv)}: expected an existing CSV file (not {where})")
        else:
            problems += [f"rainfall.csv: {line}" for line in _observed_rain_problems(s.rainfall, where, s.start)]
    if s.controller is not None:
        problems += _policy_problems(s, "controller.policy", s.controller.policy, "policy file", load_policy)
    if s.collapse is not None and s.collapse.policy is not None:
        problems += _policy_problems(
            s, "collapse.policy", s.collapse.policy, "collapse policy file", load_collapse_policy
        )
    return problems


def _policy_problems(s: Scenario, field: str, name: str, what: str, load) -> list[str]:
    """The policy file ``name`` (relative to the scenario) exists and loads; its own problems
    prefixed with ``field``."""
    where = s.resolve_path(name)
    if not where.exists():
        return [f"{field}: got {_show(name)}: expected an existing {what} (not {where})"]
    try:
        load(where)
    except (PolicyError, CollapsePolicyError) as exc:
        return [f"{field}: {line}" for line in exc.problems]
    return []


def _observed_rain_problems(rain: ObservedRain, where: Path, start: datetime) -> list[str]:
    """Read the rain CSV as the run will, so that a CSV that cannot run fails validation; the
    lines name the file and the line, never its contents."""
    from ..errors import DataImportError
    from ..rainfall import read_rain_csv

    try:
        series = read_rain_csv(where, interval_s=rain.interval, start=start)
    except DataImportError as exc:
        return [_one_line(str(exc))]
    problems = []
    steps = sorted({h.interval_s for h in series.values() if h.interval_s % 60 != 0})
    if steps:
        problems.append(
            f"{where}: a time step of {format_duration(steps[0])}: expected a whole number of minutes "
            "(SWMM reads rain per minute; set rainfall.interval)"
        )
    if rain.uniform_gauge is not None and rain.uniform_gauge not in series:
        problems.append(
            f"{where}: no rows for rainfall.uniform_gauge {_show(rain.uniform_gauge)}: expected a gauge_id of the CSV"
        )
    return problems


def scenario_warnings(s: Scenario) -> list[str]:
    """Values that validate and run, but lie outside the range the models were made for: one line
    each, ``field.path: VALUE: why`` (``twin scenario validate`` prints them)."""
    out = []
    rain = s.rainfall
    if isinstance(rain, DesignStorm):
        if rain.pattern == "alternating_block" and rain.return_period_yr > IDF_TABLE_MAX_YR:
            out.append(
                f"rainfall.return_period_yr: {_num(rain.return_period_yr)} yr: beyond the "
                f"{_num(IDF_TABLE_MAX_YR)}-year return period of Korean IDF tables; the IDF curve is extrapolated"
            )
        peak = rain.total_mm * max([1.0, *rain.gauge_factors.values()])
        if peak > KOREA_DAY_RECORD_MM:
            out.append(
                f"rainfall.total_mm: {_num(rain.total_mm)} mm ({peak:.6g} mm at the wettest gauge): more than the "
                f"Korean one-day record ({KOREA_DAY_RECORD_MM:g} mm, Gangneung 2002); outside the range the "
                "rain and runoff models were checked for"
            )
    return out


def dump_resolved(s: Scenario, *, rainfall_csv: str | None = None, policy: str | None = None) -> str:
    """YAML of the fully resolved scenario: every default filled in, durations in seconds, start
    in ISO 8601, paths absolute. Fields in declared order; :func:`load_scenario` reads it back.

    ``rainfall_csv`` replaces the observed-rain CSV path (a run folder keeps its own copy of the
    CSV, so the dump refers to that copy and stays the same wherever the run was made);
    ``policy`` likewise replaces the controller's policy path."""
    data = s.model_dump(mode="json", by_alias=True)
    if s.dataset is not None:
        data["dataset"] = str(s.resolve_path(s.dataset))
    if isinstance(s.rainfall, ObservedRain):
        data["rainfall"]["csv"] = rainfall_csv if rainfall_csv is not None else str(s.resolve_path(s.rainfall.csv))
    if s.controller is not None:
        data["controller"]["policy"] = policy if policy is not None else str(s.resolve_path(s.controller.policy))
    head = (
        f"# Resolved scenario (schema version {SCENARIO_SCHEMA_VERSION}): defaults filled in, "
        "durations in seconds, paths absolute.\n"
    )
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
