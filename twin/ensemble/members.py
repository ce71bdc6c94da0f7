"""A sweep's members: the scenario with one point of the design applied, validated, resolved and keyed.

A member's key is a digest of what decides its results: its resolved scenario (every default
filled in, its seed), the bytes of the files it reads (the dataset, the rain CSV, the gate policy)
and the twin's own source (but the app's pages). A restarted sweep skips a member whose key it has a record of; a
changed dataset or program gives new keys, so no stale result is reused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cache import code_fingerprint, dataset_fingerprint, fingerprint
from ..errors import ScenarioError, SweepError
from ..input_files import read_yaml_file
from ..scenario import Scenario, dump_resolved, scenario_from_mapping
from ..validation_messages import short
from .design import Design
from .parameters import Parameter

MAX_PROBLEMS = 10  # invalid members reported before "... and N more"


@dataclass(frozen=True)
class Member:
    """One run of a sweep: ``index`` (0-based, the row of the design), ``key`` (see the module
    docstring), ``seed``, ``values`` (parameter key -> value) and ``resolved`` (the resolved
    scenario YAML the worker runs; ``source`` labels its messages)."""

    index: int
    key: str
    seed: int
    values: dict[str, Any]
    resolved: str
    source: str


def override(key: str, value: Any) -> str:
    """The ``--set`` text that gives field ``key`` the ``value`` (JSON, which YAML reads back exactly)."""
    return f"{key}={json.dumps(value, ensure_ascii=False)}"


def build_members(scenario_path: Path, parameters: tuple[Parameter, ...], design: Design) -> list[Member]:
    """Every member of ``design`` on the scenario at ``scenario_path``, each validated as ``twin run``
    would validate it (:class:`~twin.errors.SweepError` naming the members and values that fail)."""
    label = os.fspath(scenario_path)
    base = read_yaml_file(scenario_path, what="a scenario YAML file")
    scenario_from_mapping(base, source=scenario_path)  # the scenario itself first: its own problems, once
    _parameter_problems(base, scenario_path, parameters)
    code = code_fingerprint(skip=("app",))  # the pages make no results
    inputs: dict[str, str] = {}
    out: list[Member] = []
    problems: list[str] = []
    for i, (row, seed) in enumerate(zip(design.u, design.seeds, strict=True)):
        values = {p.key: p.value(float(u)) for p, u in zip(parameters, row, strict=True)}
        try:
            s = scenario_from_mapping(
                base, source=scenario_path, overrides=[override(k, v) for k, v in values.items()], seed=seed
            )
        except ScenarioError as exc:
            if len(problems) < MAX_PROBLEMS:
                shown = ", ".join(f"{short(k, 30)}={_value(v)}" for k, v in values.items())
                problems += [f"member {i} ({shown}): {line.removeprefix(label + ': ')}" for line in exc.problems[:2]]
            else:
                problems.append("")
            continue
        resolved = dump_resolved(s)
        key = fingerprint(resolved, inputs_digest(s, inputs), code)
        out.append(Member(i, key, seed, values, resolved, label))
    if problems:
        listed = [p for p in problems if p]
        more = len(problems) - len(listed)
        raise SweepError(
            [f"{label}: {p}" for p in listed]
            + ([f"{label}: ... and {more} more invalid member(s)"] if more else [])
            + [f"{label}: narrow the varied ranges to values the scenario accepts"]
        )
    return out


def _parameter_problems(base: dict, scenario_path: Path, parameters: tuple[Parameter, ...]) -> None:
    """Each parameter alone, at its middle value, on the scenario: a field that does not exist or a
    range the scenario refuses even there is one line naming the ``--vary``, not one per member."""
    problems = []
    for p in parameters:
        middle = p.value(0.5)
        try:
            scenario_from_mapping(base, source=scenario_path, overrides=[override(p.key, middle)])
        except ScenarioError as exc:
            first = exc.problems[0].removeprefix(os.fspath(scenario_path) + ": ")
            if first.startswith("--set "):  # the override's own text repeats the parameter: keep the problem
                first = first.split(": ", 1)[-1]
            problems.append(f"vary {short(p.key, 30)} (at its middle value {_value(middle)}): {first}")
    if problems:
        raise SweepError([f"{os.fspath(scenario_path)}: {line}" for line in problems])


def inputs_digest(s: Scenario, seen: dict[str, str]) -> str:
    """Digest of the files ``s`` reads (its dataset, rain CSV and policy), memoised in ``seen`` by path."""
    parts = []
    paths = [("dataset", s.dataset_path())]
    if getattr(s.rainfall, "csv", None):
        paths.append(("file", s.resolve_path(s.rainfall.csv)))  # type: ignore[union-attr]
    if s.controller is not None:
        paths.append(("file", s.resolve_path(s.controller.policy)))
    if s.collapse is not None and s.collapse.policy is not None:
        paths.append(("file", s.resolve_path(s.collapse.policy)))
    for kind, path in paths:
        where = str(Path(path).resolve())
        if where not in seen:
            seen[where] = dataset_fingerprint(Path(path)) if kind == "dataset" else fingerprint(Path(path).read_bytes())
        parts.append(seen[where])
    return fingerprint(*parts)


def member_scenario(member: Member) -> Scenario:
    """The scenario a member runs, read back from its resolved YAML."""
    import yaml

    return scenario_from_mapping(yaml.safe_load(member.resolved), source=member.source)


def _value(value: Any) -> str:
    """A drawn value in a message: a number to 4 significant digits, anything else cut to 30 characters."""
    return f"{value:.4g}" if isinstance(value, float) else short(value, 30)
