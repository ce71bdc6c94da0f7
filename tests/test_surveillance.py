"""The manifest's ``surveillance`` facts: defaults, the shipped values, and errors that name the
field path."""

from __future__ import annotations

import json

import pytest

from twin.errors import Problem
from twin.surveillance import DEFAULT_PRIORITIES, ZONES, read_surveillance


def _read(raw) -> tuple[object, list[str]]:
    problems: list[Problem] = []
    s = read_surveillance({"surveillance": raw}, problems)
    return s, [p.message for p in problems]


def test_the_shipped_dataset_watches_haengbok_ro_with_smart_poles(city):
    s = city.surveillance
    assert (s.school_zone_m, s.protection_zone_m) == (300.0, 300.0)
    (street,) = s.streets
    assert street.name == "행복로" and street.approximate and street.smart_pole_spacing_m == 25.0
    assert set(s.priorities) == set(ZONES)


def test_a_dataset_without_surveillance_gets_the_defaults():
    problems: list[Problem] = []
    s = read_surveillance({}, problems)
    assert problems == [] and s.streets == () and dict(s.priorities) == DEFAULT_PRIORITIES


@pytest.mark.parametrize(
    "raw, where",
    [
        ({"school_zone_m": -1}, "surveillance.school_zone_m: expected a distance"),
        ({"school_zone_m": True}, "surveillance.school_zone_m: expected a distance"),
        ({"colour": 1}, "surveillance.'colour': unknown key"),
        ({"priorities": {"parks": 2}}, "surveillance.priorities.'parks': unknown zone"),
        ({"priorities": {"rest": -2}}, "surveillance.priorities.'rest': expected a weight"),
        (
            {"streets": [{"name": "x", "line": [[127, 37], [999, 37]]}]},
            "surveillance.streets[0].line[1]: expected [lon, lat]",
        ),
        ({"streets": [{"line": [[127, 37], [127.1, 37]]}]}, "surveillance.streets[0].name: expected"),
        (
            {"streets": [{"name": "x", "line": [[127, 37], [127.1, 37]], "corridor_m": 0}]},
            "surveillance.streets[0].corridor_m: expected a distance",
        ),
        ("all", "surveillance: expected an object"),
    ],
)
def test_a_bad_value_names_its_field_path(raw, where):
    _, problems = _read(raw)
    assert any(p.startswith(where) for p in problems), problems


def test_validation_of_a_dataset_reports_a_bad_surveillance_field(dataset_copy):
    from twin.city import validate_city

    path = dataset_copy / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["surveillance"]["access_zone_m"] = "near"
    path.write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    problems = [str(p) for p in validate_city(dataset_copy)]
    assert any("surveillance.access_zone_m" in p and "manifest" in p for p in problems), problems
