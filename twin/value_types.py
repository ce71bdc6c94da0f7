"""Value types of the twin's input files (scenarios, gate policies): durations, bounded numbers,
and the cross-field problem that a model validator raises.

Durations take a number of seconds or a string of ``d``/``h``/``min``/``s`` parts in that order
('90s', '45min', '1h30min', '1.5h', '2d') and are stored as float seconds. Numbers refuse
booleans (YAML reads ``yes``/``no`` as booleans), NaN and infinity. Both are pydantic metadata
with bounds in their own unit, declared as type aliases that a type checker reads as plain
``float``/``int``: ``Annotated[float, duration(ge=0, le=86_400)]`` is 0 s to one day,
``Annotated[float, number(ge=0, le=100)]`` whatever unit the field's name carries (``_m``, ``_mm_h``).

This module sits below :mod:`twin.scenario` and :mod:`twin.control.policy` (docs/architecture.md),
so both read their files with the same types and the same messages.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterator
from datetime import timedelta
from fractions import Fraction
from typing import Any

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from .validation_messages import DURATION_EXPECTED, _bounds_text, format_duration

__all__ = [
    "DURATION_PATTERN",
    "duration",
    "integer",
    "number",
    "parse_duration",
    "reject_bool",
    "rule_error",
]

_NUM = r"(\d+(?:\.\d+)?)"
_DURATION_BODY = rf"\s*(?:{_NUM}|(?=\S)(?:{_NUM}\s*d)?\s*(?:{_NUM}\s*h)?\s*(?:{_NUM}\s*min)?\s*(?:{_NUM}\s*s)?)\s*"
DURATION_PATTERN = f"^{_DURATION_BODY}$"
"""The duration string syntax as a regular expression (also in the JSON Schema)."""
_DURATION_RE = re.compile(_DURATION_BODY)
_UNIT_S = (1, 86_400, 3_600, 60, 1)  # seconds per unit of each group: plain number, d, h, min, s


def parse_duration(value: Any) -> float:
    """Seconds from a number of seconds or a string like '90s', '45min', '3h', '1h30min', '2d'.

    String parts are ``d``, ``h``, ``min``, ``s`` in that order, each at most once, with an
    optional decimal fraction ('1.5h'). Raises ``PydanticCustomError`` (a ``ValueError``) with
    the message ``expected a duration: ...`` for anything else (booleans, '3 hours', '5m').
    """
    if isinstance(value, bool):
        raise _duration_error()
    if isinstance(value, timedelta):
        return value.total_seconds()
    try:
        if isinstance(value, numbers.Real):
            seconds = float(value)
        elif isinstance(value, str) and (m := _DURATION_RE.fullmatch(value)) is not None:
            groups = zip(m.groups(), _UNIT_S, strict=True)
            seconds = float(sum((Fraction(g) * unit for g, unit in groups if g), Fraction(0)))
        else:
            raise _duration_error()
    except OverflowError:
        raise _duration_error() from None
    if not math.isfinite(seconds):
        raise _duration_error()
    return seconds


def _duration_error() -> PydanticCustomError:
    return PydanticCustomError("duration_parsing", "expected " + DURATION_EXPECTED)


class _Metadata(GroupedMetadata):
    """Pydantic metadata items that go together: ``Annotated[float, _Metadata(a, b)]`` is ``Annotated[float, a, b]``."""

    __slots__ = ("_items",)

    def __init__(self, *items: object):
        self._items = items

    def __iter__(self) -> Iterator[object]:
        return iter(self._items)


def duration(*, gt: float | None = None, ge: float | None = None, le: float | None = None) -> GroupedMetadata:
    """Metadata of a duration field, ``Annotated[float, duration(...)]``: parsed by :func:`parse_duration`,
    float seconds within bounds (s)."""
    bounds = _bounds_text(gt, ge, le, format_duration)

    def check(seconds: float) -> float:
        if (gt is not None and not seconds > gt) or (ge is not None and not seconds >= ge):
            raise PydanticCustomError("duration_range", "expected a duration {bounds}", {"bounds": bounds})
        if le is not None and not seconds <= le:
            raise PydanticCustomError("duration_range", "expected a duration {bounds}", {"bounds": bounds})
        return seconds

    limits: dict[str, Any] = {"type": "number"}
    if gt is not None:
        limits["exclusiveMinimum"] = gt
    if ge is not None:
        limits["minimum"] = ge
    if le is not None:
        limits["maximum"] = le
    json_schema = {
        "anyOf": [limits, {"type": "string", "pattern": DURATION_PATTERN}],
        "description": "Seconds, or a string of d/h/min/s parts such as '90s', '45min', '3h', '1h30min', '2d'.",
    }
    return _Metadata(BeforeValidator(parse_duration), AfterValidator(check), WithJsonSchema(json_schema))


def reject_bool(value: Any) -> Any:
    """YAML turns ``yes``/``no``/``on``/``off`` into booleans; never take them as numbers."""
    if isinstance(value, bool):
        raise PydanticCustomError("bool_as_number", "expected a number, not true/false")
    return value


def number(
    *, gt: float | None = None, ge: float | None = None, lt: float | None = None, le: float | None = None
) -> GroupedMetadata:
    """Metadata of a finite float field, ``Annotated[float, number(...)]``, within pydantic ``Field``
    bounds (``gt``, ``ge``, ``lt``, ``le``), in the field's unit."""
    return _Metadata(Field(allow_inf_nan=False, gt=gt, ge=ge, lt=lt, le=le), BeforeValidator(reject_bool))


def integer(*, ge: int | None = None, le: int | None = None) -> GroupedMetadata:
    """Metadata of an int field, ``Annotated[int, integer(...)]``, within pydantic ``Field`` bounds;
    ``true``/``false`` refused."""
    return _Metadata(Field(ge=ge, le=le), BeforeValidator(reject_bool))


def rule_error(problems: list[tuple[str, str, str]]) -> PydanticCustomError:
    """A cross-field problem list: (field path relative to the model, got, expected) each."""
    summary = "; ".join(f"{p}: got {g}: expected {e}" for p, g, e in problems)
    return PydanticCustomError("scenario_rules", "{summary}", {"summary": summary, "problems": tuple(problems)})
