"""Bounds and field types of the scenario schema: what a valid scenario may ask for, in its units.

The bounds keep a valid scenario runnable (docs/scenarios.md, "Bounds"). Each is in the JSON Schema
as minimum/maximum, so ``twin scenario schema`` and ``validate`` show them. The field types build
on :mod:`twin.value_types` (durations in float seconds, numbers that refuse booleans, NaN and
infinity); every section of a scenario uses them, and :class:`Section` is the base of every
section (unknown keys refused, values frozen).
"""

from __future__ import annotations

import numbers
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any, TypeAlias

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ..validation_messages import DATETIME_EXPECTED, _expected_error
from ..value_types import duration, integer, number

SEOUL = timezone(timedelta(hours=9))
"""Asia/Seoul (KST, +09:00, no daylight saving): the zone of a naive ``start``."""

MAX_DURATION_S = 30 * 86_400.0
"""Longest run a scenario may ask for: 30 days."""

# Bounds that keep a valid scenario runnable (docs/scenarios.md, "Bounds"). Each is in the JSON
# Schema as minimum/maximum, so `twin scenario schema` and `validate` show them.
START_RANGE = (datetime(1900, 1, 1), datetime(2200, 1, 1))
"""``start`` (wall-clock time, before conversion to Seoul time) lies in [first, second)."""
MAX_RAIN_MM = 3000.0
"""Largest rain depth at a gauge, mm: above the world record (1,825 mm in a day, La Réunion 1966)."""
KOREA_DAY_RECORD_MM = 870.5
"""Largest one-day rain recorded in Korea, mm (Gangneung, 31 August 2002): beyond it, a warning."""
MAX_RETURN_PERIOD_YR = 10_000.0
"""Largest return period of a design storm, years (the IDF formula is extrapolated beyond its table)."""
IDF_TABLE_MAX_YR = 500.0
"""Longest return period Korean IDF tables give, years: beyond it, a warning."""
MAX_GAUGE_FACTOR = 10.0
"""Largest depth multiplier of one gauge (a non-uniform field, not a second storm)."""
MAX_BASE_FLOW_M3S = 100.0
"""Largest dry-weather base flow, m3/s: about 100 times the flow of Jungnangcheon above 신곡교 (~1 m3/s);
floods come from the rain, not from the base flow (larger values overtop the channels at the start)."""
MAX_UPSTREAM_KM2 = 1000.0
"""Largest catchment above the city, km2 (the whole Jungnangcheon basin is about 300 km2)."""
MIN_ROUTING_STEP_S = 0.5
"""Shortest SWMM routing step, s (SWMM's own minimum variable step): at most 5.2 million steps in 30 days."""
MIN_SAMPLE_S = 1.0
"""Shortest sampling or publishing interval, s (crowd, sensors, devices): at most 2.6 million samples."""
MAX_PEOPLE = 100_000
"""Most people in all populations of a run together (about 2 kB each, 30 s per simulated half hour for
50,000 on one core; measured 2026 on the shipped dataset)."""
MAX_SEED = 2**63 - 1
"""Largest seed (a signed 64-bit integer, as other tools store it)."""
MAX_SHARE = 1e6
"""Largest weight of a population group (weights are normalised; finite sums)."""
MAX_SPEED_M_S = 10.0
"""Fastest free walking (or running) speed, m/s."""
MAX_DISTANCE_M = 50_000.0
"""Largest distance in a scenario (radius, warning reach), m: the city is about 15 km across."""
MAX_LEVEL_M = 100.0
"""Largest alarm stage or sensor value step, m (or mm)."""


Duration: TypeAlias = Annotated[float, duration(ge=0, le=MAX_DURATION_S)]
"""A duration from 0 s to 30 days: a number of seconds or a string like '3h', '1h30min'; float seconds."""
PositiveDuration: TypeAlias = Annotated[float, duration(gt=0, le=MAX_DURATION_S)]
"""A duration > 0 s and at most 30 days."""
RunDuration: TypeAlias = Annotated[float, duration(gt=0, le=MAX_DURATION_S)]
"""The length of a run: > 0 s and at most 30 days."""
SampleInterval: TypeAlias = Annotated[float, duration(ge=MIN_SAMPLE_S, le=MAX_DURATION_S)]
"""How often something is sampled or published: 1 s to 30 days (bounds the number of samples of a run)."""


Number: TypeAlias = Annotated[float, number()]
PositiveNumber: TypeAlias = Annotated[float, number(gt=0)]
NonNegativeNumber: TypeAlias = Annotated[float, number(ge=0)]
RoutingStep: TypeAlias = Annotated[float, number(ge=MIN_ROUTING_STEP_S, le=60)]
ImperviousnessScale: TypeAlias = Annotated[float, number(ge=0, le=2)]
Seed: TypeAlias = Annotated[int, integer(ge=0, le=MAX_SEED)]
RainDepth: TypeAlias = Annotated[float, number(gt=0, le=MAX_RAIN_MM)]
ReturnPeriod: TypeAlias = Annotated[float, number(ge=1, le=MAX_RETURN_PERIOD_YR)]
GaugeFactor: TypeAlias = Annotated[float, number(ge=0, le=MAX_GAUGE_FACTOR)]
BaseFlow: TypeAlias = Annotated[float, number(ge=0, le=MAX_BASE_FLOW_M3S)]
UpstreamArea: TypeAlias = Annotated[float, number(ge=0, le=MAX_UPSTREAM_KM2)]
Share: TypeAlias = Annotated[float, number(ge=0, le=MAX_SHARE)]
Probability: TypeAlias = Annotated[float, number(ge=0, le=1)]
Speed: TypeAlias = Annotated[float, number(gt=0, le=MAX_SPEED_M_S)]
Distance: TypeAlias = Annotated[float, number(gt=0, le=MAX_DISTANCE_M)]
Level: TypeAlias = Annotated[float, number(ge=-MAX_LEVEL_M, le=MAX_LEVEL_M)]
SmallNonNegative: TypeAlias = Annotated[float, number(ge=0, le=MAX_LEVEL_M)]
Latency: TypeAlias = Annotated[float, number(ge=0, le=86_400)]
PeopleCount: TypeAlias = Annotated[int, integer(ge=0, le=MAX_PEOPLE)]
NonEmptyText: TypeAlias = Annotated[str, Field(min_length=1)]


_BARE_NUMBER = re.compile(r"\s*[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?\s*")


def _date_to_datetime(value: Any) -> Any:
    """A date is its midnight; a number (20260715, a Unix time) is refused, not read as seconds since 1970."""
    if isinstance(value, bool | numbers.Number) or (isinstance(value, str) and _BARE_NUMBER.fullmatch(value)):
        raise _expected_error(DATETIME_EXPECTED)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0, 0))
    return value


def _seoul_if_naive(value: datetime) -> datetime:
    """Naive times are Seoul time; aware ones are converted to it (SWMM and reports use local time).
    The wall-clock time must lie in :data:`START_RANGE` (checked first: no overflow at year 1 or 9999)."""
    first, end = START_RANGE
    if not first <= value.replace(tzinfo=None) < end:
        raise _expected_error(
            f"a date and time from {first.date().isoformat()} up to {end.date().isoformat()} "
            "(ISO 8601, e.g. 2026-07-15T06:00:00+09:00)"
        )
    return value.replace(tzinfo=SEOUL) if value.tzinfo is None else value.astimezone(SEOUL)


StartTime = Annotated[
    datetime,
    BeforeValidator(_date_to_datetime),
    AfterValidator(_seoul_if_naive),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "formatMinimum": "1900-01-01T00:00:00",
            "formatExclusiveMaximum": "2200-01-01T00:00:00",
        }
    ),
]


class Section(BaseModel):
    """A section of a scenario file (and the file itself): unknown keys are refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
