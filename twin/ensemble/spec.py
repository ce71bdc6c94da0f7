"""A sweep's request: which scenario, which parameters vary and how, how many runs, which sampler.

It comes from ``twin sweep``'s options or from a sweep file (YAML), whose options it takes the same::

    # sweeps/jungnangcheon_rain.yaml
    scenario: ../scenarios/flash_flood_jungnangcheon.yaml   # relative to this file
    runs: 64
    sampler: lhs            # lhs | random | grid | sobol
    seed: 2026
    vary:
      rainfall.total_mm: uniform(60, 150)
      rainfall.pattern: choice(huff_q2, huff_q3, huff_q4)
    keep_worst: 3           # keep the run folders of the 3 worst members ...
    worst_by: kpi/flooded_paths   # ... by this KPI (the higher, the worse, unless the KPI says otherwise)
    discover:               # scenario discovery: what leads to these outcomes
      - kpi/exposed_people > 50

Every problem is one line ``FILE: field: got ...: expected ...`` of a
:class:`~twin.errors.SweepError`, never the file's contents.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import SweepError
from ..input_files import read_yaml_file
from ..validation_messages import _kind_word, _show, short
from .design import MAX_SEED, SAMPLERS
from .parameters import Parameter, parameter, parse_parameter

MAX_RUNS = 100_000
SWEEP_KEYS = ("scenario", "runs", "sampler", "seed", "vary", "keep_worst", "worst_by", "discover")
OPS = (">=", "<=", "==", ">", "<")
_TARGET = re.compile(r"^\s*([^\s<>=]+)\s*(>=|<=|==|>|<)\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class Target:
    """An outcome to explain (scenario discovery): members whose ``column`` ``op`` ``threshold`` holds
    are the "bad" ones, e.g. ``kpi/exposed_people > 50``."""

    column: str
    op: str
    threshold: float

    def text(self) -> str:
        return f"{self.column} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep: ``scenario`` (a scenario file), ``parameters`` (varied fields), ``runs``,
    ``sampler``, ``seed`` (the sweep's; every member's seed is spawned from it), ``keep_worst``
    (how many run folders to keep, the worst by ``worst_by``), ``targets`` (outcomes to explain);
    ``source`` is the sweep file, if any."""

    scenario: Path
    parameters: tuple[Parameter, ...]
    runs: int = 64
    sampler: str = "lhs"
    seed: int = 0
    keep_worst: int = 0
    worst_by: str | None = None
    targets: tuple[Target, ...] = ()
    source: Path | None = None

    def with_options(self, **options: Any) -> SweepSpec:
        """This spec with the command line's options that were given (None means not given);
        ``vary`` adds to (or replaces, key by key) the file's parameters."""
        given = {k: v for k, v in options.items() if v is not None and k != "parameters"}
        spec = replace(self, **given)
        extra = options.get("parameters") or ()
        if extra:
            keep = [p for p in spec.parameters if p.key not in {q.key for q in extra}]
            spec = replace(spec, parameters=tuple(keep) + tuple(extra))
        return spec

    def check(self) -> None:
        """Raise :class:`~twin.errors.SweepError` naming each problem of the combination."""
        where = os.fspath(self.source) if self.source is not None else "twin sweep"
        problems = []
        if not self.parameters:
            problems.append(f"{where}: vary: got nothing: expected at least one parameter, e.g. --vary "
                            "rainfall.total_mm=uniform(60,150)")
        if not 1 <= self.runs <= MAX_RUNS:
            problems.append(f"{where}: runs: got {self.runs}: expected 1 to {MAX_RUNS}")
        if self.sampler not in SAMPLERS:
            problems.append(f"{where}: sampler: got {self.sampler!r}: expected one of {', '.join(SAMPLERS)}")
        if not 0 <= self.seed <= MAX_SEED:
            problems.append(f"{where}: seed: got {self.seed}: expected 0 to {MAX_SEED}")
        if 1 <= self.runs <= MAX_RUNS and not 0 <= self.keep_worst <= self.runs:
            problems.append(f"{where}: keep_worst: got {self.keep_worst}: expected 0 to runs ({self.runs})")
        if problems:
            raise SweepError(problems)


def parse_target(text: str, *, where: str) -> Target:
    """``COLUMN OP NUMBER`` (``kpi/exposed_people > 50``) as a :class:`Target`."""
    m = _TARGET.match(str(text))
    if not m:
        raise SweepError(
            f"{where}: got {short(str(text))!r}: expected COLUMN OP NUMBER with OP one of {' '.join(OPS)}, "
            "e.g. kpi/exposed_people > 50"
        )
    try:
        threshold = float(m.group(3))
    except ValueError:
        threshold = math.nan
    if not math.isfinite(threshold):
        raise SweepError(f"{where}: got the number {short(m.group(3), 30)!r}: expected a finite number, "
                         "e.g. kpi/exposed_people > 50")
    return Target(m.group(1), m.group(2), threshold)


def parse_vary(items: tuple[str, ...] | list[str]) -> tuple[Parameter, ...]:
    """The ``--vary KEY=DIST(ARGS)`` options; one line per bad one, a key given twice refused."""
    params, problems = [], []
    for item in items:
        try:
            params.append(parse_parameter(item, where=f"--vary {short(str(item), 40)}"))
        except SweepError as exc:
            problems += exc.problems
    seen: set[str] = set()
    for p in params:
        if p.key in seen:
            problems.append(f"--vary {p.key}: got it twice: expected each field once")
        seen.add(p.key)
    if problems:
        raise SweepError(problems)
    return tuple(params)


def load_sweep_file(path: str | os.PathLike[str]) -> SweepSpec:
    """The sweep file at ``path`` (see the module docstring); relative paths are from its folder."""
    label = os.fspath(path)
    data = read_yaml_file(path, what="a sweep YAML file", error=SweepError)
    if not isinstance(data, dict):
        raise SweepError(
            f"{label}: top level: got {_kind(data)}: expected a mapping with {', '.join(SWEEP_KEYS)}"
        )
    problems = [f"{label}: {k}: got an unknown field: expected one of {', '.join(SWEEP_KEYS)}"
                for k in map(str, data) if k not in SWEEP_KEYS]
    scenario = data.get("scenario")
    if not isinstance(scenario, str) or not scenario.strip():
        problems.append(f"{label}: scenario: got {_kind(scenario)}: expected the path of a scenario file")
    params: list[Parameter] = []
    vary = data.get("vary")
    if not isinstance(vary, dict) or not vary:
        problems.append(f"{label}: vary: got {_kind(vary)}: expected a mapping of field: distribution, e.g. "
                        "rainfall.total_mm: uniform(60, 150)")
    else:
        for key, dist in vary.items():
            try:
                params.append(parameter(str(key), dist, where=f"{label}: vary.{short(str(key), 60)}"))
            except SweepError as exc:
                problems += exc.problems
    ints = {}
    for name, default in (("runs", 64), ("seed", 0), ("keep_worst", 0)):
        value = data.get(name, default)
        if type(value) is not int:
            problems.append(f"{label}: {name}: got {_kind(value)}: expected a whole number")
        ints[name] = value if type(value) is int else default
    sampler = data.get("sampler", "lhs")
    if not isinstance(sampler, str):
        problems.append(f"{label}: sampler: got {_kind(sampler)}: expected one of {', '.join(SAMPLERS)}")
        sampler = "lhs"
    worst_by = data.get("worst_by")
    if worst_by is not None and not isinstance(worst_by, str):
        problems.append(f"{label}: worst_by: got {_kind(worst_by)}: expected a KPI column, e.g. kpi/flooded_paths")
        worst_by = None
    targets: list[Target] = []
    discover = data.get("discover", [])
    if not isinstance(discover, list):
        problems.append(f"{label}: discover: got {_kind(discover)}: expected a list of COLUMN OP NUMBER")
        discover = []
    for i, item in enumerate(discover):
        try:
            targets.append(parse_target(item, where=f"{label}: discover.{i}"))
        except SweepError as exc:
            problems += exc.problems
    if problems:
        raise SweepError(problems)
    spec = SweepSpec(
        scenario=(Path(path).parent / str(scenario)).resolve(),
        parameters=tuple(params),
        runs=ints["runs"],
        sampler=sampler,
        seed=ints["seed"],
        keep_worst=ints["keep_worst"],
        worst_by=worst_by,
        targets=tuple(targets),
        source=Path(path),
    )
    spec.check()
    return spec


def is_sweep_file(path: str | os.PathLike[str]) -> bool:
    """True when the YAML file at ``path`` is a sweep file (it has ``vary`` and ``scenario`` at the top),
    not a scenario; False for anything else, an unreadable file included (its own loader says why)."""
    try:
        data = read_yaml_file(path, what="a YAML file")
    except Exception:  # noqa: BLE001 - unreadable: the caller's loader reports it
        return False
    return isinstance(data, dict) and "vary" in data and "scenario" in data


def load_request(path: str | os.PathLike[str]) -> SweepSpec:
    """The sweep that ``twin sweep FILE`` starts from: the sweep file at ``path``, or the scenario at
    ``path`` with nothing varied yet (``--vary`` adds the parameters). A file that is not readable YAML
    is refused with the YAML error (:class:`~twin.errors.SweepError`)."""
    data = read_yaml_file(path, what="a scenario or sweep YAML file", error=SweepError)
    if isinstance(data, dict) and "vary" in data and "scenario" in data:
        return load_sweep_file(path)
    return SweepSpec(scenario=Path(path).resolve(), parameters=())


def _kind(value: Any) -> str:
    """A field's value in a message: a scalar as written, a list or mapping by its kind only (the
    file's contents stay out of the message)."""
    return _kind_word(value) if isinstance(value, list | dict) else _show(value)
