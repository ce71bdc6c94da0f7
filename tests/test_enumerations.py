"""Each enumeration is declared once (docs/architecture.md): the alert levels in
:mod:`twin.dataset_schema`, the people groups and the fault kinds in the scenario schema. Typing
one out again as a tuple, list or set elsewhere in ``twin`` or ``sim_devices`` lets the copies
drift apart (a fifth level, a new fault kind that one module does not know), so it fails here.

Dictionaries keyed by an enumeration (translations, walking speeds by group) are allowed, but must
name every member. The scan reads the source (AST), so it also sees ``Literal[...]`` arguments.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import pytest

from twin.dataset_schema import THRESHOLD_LEVELS
from twin.scenario import (
    FAULT_KINDS,
    GATE_FAULT_KINDS,
    PEOPLE_GROUPS,
    THRESHOLD_FIELDS,
    Fault,
    RiversidePopulation,
    ThresholdOverride,
    scenario_json_schema,
)

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("twin", "sim_devices")


@dataclass(frozen=True)
class Enumeration:
    name: str
    members: frozenset[str]
    home: str  # the one module (path from the repository root) that spells the members out


ENUMERATIONS = (
    Enumeration("alert levels (THRESHOLD_LEVELS)", frozenset(THRESHOLD_LEVELS), "twin/dataset_schema.py"),
    Enumeration("alert level keys (THRESHOLD_FIELDS)", frozenset(THRESHOLD_FIELDS), "twin/scenario/devices.py"),
    Enumeration(
        "alert level columns (threshold_<level>_m)",
        frozenset(f"threshold_{lv}_m" for lv in THRESHOLD_LEVELS),
        "twin/dataset_schema.py",
    ),
    Enumeration("people groups (PEOPLE_GROUPS)", frozenset(PEOPLE_GROUPS), "twin/scenario/populations.py"),
    Enumeration("fault kinds (FAULT_KINDS)", frozenset(FAULT_KINDS), "twin/scenario/devices.py"),
)

# Copies allowed for a while (a file being rewritten elsewhere); none left. An entry must name a copy
# that exists: test_pending_copies_still_exist fails on a stale entry, so no copy can come back.
PENDING: set[tuple[str, str]] = set()


def _strings(node: ast.AST) -> list[str] | None:
    """The string elements of a tuple, list or set display (None for any other node)."""
    if not isinstance(node, ast.Tuple | ast.List | ast.Set):
        return None
    return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]


def retyped(source: str, enumerations=ENUMERATIONS) -> list[tuple[int, str]]:
    """(line, enumeration name) of each tuple/list/set display in ``source`` that names every
    member of an enumeration (it may name more)."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        strings = _strings(node)
        if not strings:
            continue
        for enum in enumerations:
            if enum.members <= set(strings):
                hits.append((node.lineno, enum.name))
    return hits


def partial_tables(source: str, enumerations=ENUMERATIONS) -> list[tuple[int, str, list[str]]]:
    """(line, enumeration name, missing members) of each dict display whose keys are all members of
    one enumeration (two or more of them) but not all of its members."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Dict) or not node.keys:
            continue
        keys = [k.value if isinstance(k, ast.Constant) and isinstance(k.value, str) else None for k in node.keys]
        if None in keys:
            continue
        for enum in enumerations:
            if len(set(keys)) >= 2 and set(keys) <= enum.members and set(keys) != enum.members:
                hits.append((node.lineno, enum.name, sorted(enum.members - set(keys))))
    return hits


def _sources():
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*.py")):
            yield path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")


def test_the_scan_finds_a_retyped_enumeration():
    """The scanner itself: a copy (in any order, as a set, with an extra member, in a Literal) is
    found; a translation table and a partial list are not copies."""
    source = (
        "A = ('serious', 'alert', 'caution', 'attention')\n"
        "B = frozenset({'dropout', 'stuck', 'latency', 'spikes', 'drift', 'gate_stuck_open', 'broker_outage', 'x'})\n"
        "C: Literal['adult', 'child', 'older', 'limited_mobility']\n"
        "D = {'adult': 1.3, 'child': 1.1, 'older': 1.0, 'limited_mobility': 0.7}\n"
        "E = ('adult', 'child')\n"
        "F = {'adult': 1.3, 'child': 1.1}\n"
    )
    assert retyped(source) == [
        (1, "alert levels (THRESHOLD_LEVELS)"),
        (2, "fault kinds (FAULT_KINDS)"),
        (3, "people groups (PEOPLE_GROUPS)"),
    ]
    assert partial_tables(source) == [(6, "people groups (PEOPLE_GROUPS)", ["limited_mobility", "older"])]


def test_no_enumeration_is_typed_out_outside_its_module():
    found = []
    for rel, source in _sources():
        for line, name in retyped(source):
            home = next(e.home for e in ENUMERATIONS if e.name == name)
            if rel != home and (rel, name) not in PENDING:
                found.append(f"{rel}:{line}: {name}: import it from {home}")
    assert found == []


def test_each_enumeration_is_spelled_out_in_its_own_module():
    """The home of each enumeration spells it out (or derives it there), so the scan above
    looks at the right place."""
    for enum in ENUMERATIONS:
        assert (REPO / enum.home).is_file(), enum.home
    sources = dict(_sources())
    assert [name for _, name in retyped(sources["twin/dataset_schema.py"])] == ["alert levels (THRESHOLD_LEVELS)"]
    assert {name for _, name in retyped(sources["twin/scenario/populations.py"])} == {"people groups (PEOPLE_GROUPS)"}
    assert {name for _, name in retyped(sources["twin/scenario/devices.py"])} == {"fault kinds (FAULT_KINDS)"}


def test_pending_copies_still_exist():
    """An entry of PENDING whose copy is gone is removed from PENDING, so no copy can come back."""
    sources = dict(_sources())
    stale = [
        (rel, name)
        for rel, name in PENDING
        if rel not in sources or name not in dict(map(reversed, retyped(sources[rel])))
    ]
    assert stale == [], f"these copies are gone: remove them from PENDING: {stale}"


def test_tables_keyed_by_an_enumeration_name_every_member():
    found = []
    for rel, source in _sources():
        for line, name, missing in partial_tables(source):
            home = next(e.home for e in ENUMERATIONS if e.name == name)
            if rel != home:  # the scenario's default group shares name some groups only
                found.append(f"{rel}:{line}: {name}: missing {', '.join(missing)}")
    assert found == []


def test_the_scenario_schema_uses_the_shared_enumerations():
    assert THRESHOLD_FIELDS == tuple(f"{lv}_m" for lv in THRESHOLD_LEVELS)
    assert tuple(ThresholdOverride.model_fields) == THRESHOLD_FIELDS
    assert get_args(Fault.model_fields["kind"].annotation) == FAULT_KINDS
    assert GATE_FAULT_KINDS <= set(FAULT_KINDS)
    assert get_args(get_args(RiversidePopulation.model_fields["groups"].annotation)[0]) == PEOPLE_GROUPS
    defs = scenario_json_schema()["$defs"]
    assert defs["Fault"]["properties"]["kind"]["enum"] == list(FAULT_KINDS)
    for pop in ("RiversidePopulation", "SchoolCommute", "Trips", "Residents", "Flow"):
        assert defs[pop]["properties"]["groups"]["propertyNames"]["enum"] == list(PEOPLE_GROUPS)


def test_the_crowd_walks_every_people_group():
    pytest.importorskip("mesa")
    from twin.models.crowd.pedestrian import FREE_SPEED_M_S

    assert set(FREE_SPEED_M_S) == set(PEOPLE_GROUPS)
