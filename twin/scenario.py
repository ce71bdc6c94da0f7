"""Scenario files: one YAML file says what a simulation run is (scenario schema version 1).

A scenario names the city dataset, the start time and length of the run, the rain, the river
hydraulics and the sensor thresholds; later issues add populations, devices, the controller and
faults. Minimal file::

    schema_version: 1
    name: {ko: 집중호우 시험, en: Heavy rain test}
    start: 2026-07-15T06:00:00        # naive = Asia/Seoul (+09:00)
    duration: 6h                      # the run length; seconds or '90s', '45min', '3h', '1h30min', '2d'
    rainfall: {kind: design, total_mm: 120, duration: 3h}

Durations (``duration``, ``interval``, ``start_offset``, ``sample_interval``) take a number of
seconds or a string of ``d``/``h``/``min``/``s`` parts in that order ('1h30min', '2d', '1.5h'),
and are stored as float seconds. Other fields carry their unit in the name (``_s``, ``_mm``,
``_m3s``, ``_km2``, ``_m``). The run length is the YAML key ``duration`` (``Scenario.duration_s``
in Python). Relative paths (``dataset``, ``rainfall.csv``) resolve against the scenario file's
folder; ``dataset: null`` is the shipped Uijeongbu dataset.

>>> s = load_scenario("scenarios/heavy_rain.yaml", overrides=["rainfall.total_mm=150"])
>>> s.duration_s, s.rainfall.total_mm
(21600.0, 150.0)

``--set`` overrides (``overrides``) are ``KEY.PATH=VALUE``: the path uses YAML keys and integer
list indices (``faults.0.kind=stuck``; the index one past the end appends), the value is parsed
as YAML (numbers, booleans, lists). Setting ``rainfall.kind`` to another kind starts the
rainfall section afresh (only ``kind``): set the new kind's fields with ``--set`` after it.

Every problem is reported, one line each, as ``FILE: field.path: got VALUE: expected WHAT`` in a
:class:`~twin.errors.ScenarioError`; :mod:`twin._scenario_errors` words the lines and applies the
overrides.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ._scenario_errors import DATETIME_EXPECTED as DATETIME_EXPECTED  # kept in this namespace
from ._scenario_errors import (
    _apply_override,
    _describe_top,
    _error_lines,
    _expected_error,
    _kind_word,
    _num,
    _one_line,
    _show,
    format_duration,
)
from .control.policy import PolicyError, load_policy
from .errors import ScenarioError
from .input_files import MAX_YAML_BYTES as MAX_YAML_BYTES  # kept in this namespace
from .input_files import MAX_YAML_DEPTH as MAX_YAML_DEPTH
from .input_files import MAX_YAML_NODES as MAX_YAML_NODES
from .input_files import StrictLoader, _data_shape_problem
from .input_files import read_regular_file as read_regular_file
from .input_files import read_yaml_file as read_yaml_file
from .value_types import DURATION_PATTERN as DURATION_PATTERN  # kept in this namespace
from .value_types import duration_type, integer, number, rule_error
from .value_types import parse_duration as parse_duration

__all__ = [
    "SCENARIO_SCHEMA_ID",
    "SCENARIO_SCHEMA_VERSION",
    "DesignStorm",
    "Duration",
    "Hydraulics",
    "LocalizedText",
    "NoRain",
    "ObservedRain",
    "PositiveDuration",
    "RainfallSpec",
    "Scenario",
    "ThresholdOverride",
    "dump_resolved",
    "format_duration",
    "load_scenario",
    "parse_duration",
    "read_regular_file",
    "scenario_from_mapping",
    "scenario_json_schema",
    "scenario_warnings",
]

SCENARIO_SCHEMA_VERSION = 1
"""The scenario schema version this code reads and writes (``schema_version`` in the file)."""

SCENARIO_SCHEMA_ID = "https://uijeongbu-twin/scenario-1.json"
"""``$id`` of the published JSON Schema."""

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



# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------


Duration = duration_type(ge=0, le=MAX_DURATION_S)
"""A duration from 0 s to 30 days: a number of seconds or a string like '3h', '1h30min'; float seconds."""
PositiveDuration = duration_type(gt=0, le=MAX_DURATION_S)
"""A duration > 0 s and at most 30 days."""
RunDuration = duration_type(gt=0, le=MAX_DURATION_S)
"""The length of a run: > 0 s and at most 30 days."""
SampleInterval = duration_type(ge=MIN_SAMPLE_S, le=MAX_DURATION_S)
"""How often something is sampled or published: 1 s to 30 days (bounds the number of samples of a run)."""


Number = number()
PositiveNumber = number(gt=0)
NonNegativeNumber = number(ge=0)
RoutingStep = number(ge=MIN_ROUTING_STEP_S, le=60)
ImperviousnessScale = number(ge=0, le=2)
Seed = integer(ge=0, le=MAX_SEED)
RainDepth = number(gt=0, le=MAX_RAIN_MM)
ReturnPeriod = number(ge=1, le=MAX_RETURN_PERIOD_YR)
GaugeFactor = number(ge=0, le=MAX_GAUGE_FACTOR)
BaseFlow = number(ge=0, le=MAX_BASE_FLOW_M3S)
UpstreamArea = number(ge=0, le=MAX_UPSTREAM_KM2)
Share = number(ge=0, le=MAX_SHARE)
Speed = number(gt=0, le=MAX_SPEED_M_S)
Distance = number(gt=0, le=MAX_DISTANCE_M)
Level = number(ge=-MAX_LEVEL_M, le=MAX_LEVEL_M)
SmallNonNegative = number(ge=0, le=MAX_LEVEL_M)
Latency = number(ge=0, le=86_400)
NonEmptyText = Annotated[str, Field(min_length=1)]


def _exact_version(value: Any) -> Any:
    """``schema_version`` must be the integer 1 (not ``true``, not ``1.0``, not ``'1'``)."""
    if type(value) is not int:
        raise PydanticCustomError("version", "expected {version}", {"version": SCENARIO_SCHEMA_VERSION})
    return value


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


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------


class LocalizedText(_Frozen):
    """A text in Korean and English."""

    ko: NonEmptyText = Field(description="Korean text.")
    en: NonEmptyText = Field(description="English text.")


class DesignStorm(_Frozen):
    """A synthetic storm: a total depth spread over its duration by a temporal pattern."""

    kind: Literal["design"] = "design"
    total_mm: RainDepth = Field(
        description="Total rain depth at a gauge with factor 1, mm (at most 3000; above 870.5, the Korean "
        "one-day record, a warning)."
    )
    duration: PositiveDuration = Field(description="How long it rains.")
    pattern: Literal["huff_q1", "huff_q2", "huff_q3", "huff_q4", "alternating_block"] = Field(
        "huff_q3", description="Temporal distribution: Huff quartile 1-4, or the alternating-block method."
    )
    interval: PositiveDuration = Field(600.0, description="Hyetograph step; must divide duration.")
    return_period_yr: ReturnPeriod = Field(
        30.0,
        description="Return period of the IDF curve (alternating_block), years; beyond 500 (Korean IDF tables) "
        "a warning.",
    )
    start_offset: Duration = Field(0.0, description="When the rain starts, after the scenario start.")
    gauge_factors: dict[NonEmptyText, GaugeFactor] = Field(
        default_factory=dict, description="Rain gauge id -> depth multiplier for a non-uniform field; empty = uniform."
    )

    @field_validator("gauge_factors")
    @classmethod
    def _sort_gauges(cls, v: dict[str, float]) -> dict[str, float]:
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _interval_divides_duration(self) -> DesignStorm:
        problems = []
        steps = self.duration / self.interval
        if round(steps) < 1 or abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            problems.append(
                (
                    "interval",
                    format_duration(self.interval),
                    f"a duration that divides rainfall.duration {format_duration(self.duration)} into whole steps",
                )
            )
        for gauge, factor in self.gauge_factors.items():
            if self.total_mm * factor > MAX_RAIN_MM:
                problems.append(
                    (
                        f"gauge_factors.{gauge}",
                        f"{_num(factor)} (total_mm {_num(self.total_mm)} x {_num(factor)} = "
                        f"{self.total_mm * factor:.6g} mm)",
                        f"at most {_num(MAX_RAIN_MM)} mm of rain at any gauge",
                    )
                )
        if problems:
            raise rule_error(problems)
        return self


class ObservedRain(_Frozen):
    """Recorded rain from a CSV file in long form: ``time,gauge_id,mm`` (see ``twin.rainfall.read_rain_csv``).

    Times are aligned to the scenario ``start``; rain recorded before it is left out."""

    kind: Literal["observed"] = "observed"
    csv: NonEmptyText = Field(description="CSV file, relative to the scenario file's folder.")
    interval: PositiveDuration | None = Field(None, description="Time step of the CSV; null = from its timestamps.")
    field: Literal["per_gauge", "uniform"] = Field(
        "per_gauge", description="per_gauge: each gauge's own series; uniform: one series everywhere."
    )
    uniform_gauge: NonEmptyText | None = Field(
        None, description="With field: uniform, the gauge whose series is used; null = the gauge id that sorts first."
    )

    @model_validator(mode="after")
    def _uniform_gauge_needs_uniform(self) -> ObservedRain:
        if self.uniform_gauge is not None and self.field != "uniform":
            raise rule_error(
                [("uniform_gauge", _show(self.uniform_gauge), f"null unless field is uniform (field is {self.field})")]
            )
        return self


class NoRain(_Frozen):
    """No rain: dry weather, base flow only."""

    kind: Literal["none"] = "none"


RainfallSpec = Annotated[DesignStorm | ObservedRain | NoRain, Field(discriminator="kind")]
"""The rain of a scenario, chosen by ``kind``: design, observed or none."""


PEOPLE_GROUPS = ("adult", "child", "older", "limited_mobility")
PeopleCount = integer(ge=0, le=MAX_PEOPLE)


def _population_rules(pop) -> None:
    """Shared rules: some group share > 0; a departure window that does not run backwards."""
    problems = []
    if not pop.groups or sum(pop.groups.values()) <= 0:
        problems.append(("groups", _show(dict(pop.groups)), "at least one group with a share > 0"))
    start, end = getattr(pop, "window_start", None), getattr(pop, "window_end", None)
    if start is not None and end is not None and end < start:
        problems.append(("window_end", format_duration(end), f"at least window_start {format_duration(start)}"))
    if problems:
        raise rule_error(problems)


class RiversidePopulation(_Frozen):
    """People walking the riverside paths: each enters at a random point of a path at a random
    time in ``arrival_window`` and walks along it to an access point 300 m or more away."""

    kind: Literal["riverside"] = "riverside"
    stream: NonEmptyText | None = Field(None, description="Korean stream name (e.g. 중랑천); null = every stream.")
    count: PeopleCount = Field(description="Number of people.")
    arrival_window: Duration | None = Field(
        None, description="They set out uniformly over this time from the start; null = the whole run."
    )
    groups: dict[Literal["adult", "child", "older", "limited_mobility"], Share] = Field(
        default_factory=lambda: {"adult": 0.75, "child": 0.08, "older": 0.14, "limited_mobility": 0.03},
        description="Share of each group (normalised); free walking speeds differ by group.",
    )

    @model_validator(mode="after")
    def _rules(self):
        _population_rules(self)
        return self


class SchoolCommute(_Frozen):
    """Children walking to school: from street points within ``radius_m`` of the school to its
    gate, setting out uniformly between ``window_start`` and ``window_end`` (from the run start)."""

    kind: Literal["school_commute"] = "school_commute"
    school: NonEmptyText = Field(description="School name (e.g. 가능초등학교) or facility_id.")
    count: PeopleCount = Field(description="Number of pupils (and escorts).")
    radius_m: Distance = Field(800.0, description="Where they come from: street nodes within this distance, m.")
    window_start: Duration = Field(0.0, description="First departure, from the run start.")
    window_end: PositiveDuration = Field(1800.0, description="Last departure, from the run start.")
    groups: dict[Literal["adult", "child", "older", "limited_mobility"], Share] = Field(
        default_factory=lambda: {"child": 0.8, "adult": 0.2},
        description="Share of each group (normalised).",
    )

    @model_validator(mode="after")
    def _rules(self):
        _population_rules(self)
        return self


class Trips(_Frozen):
    """Trips from one facility to another (or to the nearest facility of a kind), setting out
    uniformly between ``window_start`` and ``window_end``."""

    kind: Literal["trips"] = "trips"
    origin: NonEmptyText = Field(description="facility_id where the trips start.")
    destination: NonEmptyText = Field(
        description="facility_id where they end, or 'nearest:<kind>' (e.g. nearest:shelter) by walking distance."
    )
    count: PeopleCount = Field(description="Number of people.")
    window_start: Duration = Field(0.0, description="First departure, from the run start.")
    window_end: Duration = Field(0.0, description="Last departure, from the run start.")
    groups: dict[Literal["adult", "child", "older", "limited_mobility"], Share] = Field(
        default_factory=lambda: {"adult": 1.0}, description="Share of each group (normalised)."
    )
    free_speed_m_s: Speed | None = Field(
        None, description="Everyone's free walking speed, m/s (for verification); null = drawn per group."
    )

    @model_validator(mode="after")
    def _rules(self):
        _population_rules(self)
        return self


class Residents(_Frozen):
    """Residents of a dong ordered to a shelter: at ``order_at`` they leave random buildings of
    the dong (after a reaction time of up to ``reaction_max``) for the nearest shelter on foot."""

    kind: Literal["residents"] = "residents"
    dong: NonEmptyText = Field(description="Korean dong name (e.g. 신곡1동), or 'all'.")
    count: PeopleCount = Field(description="Number of people.")
    order_at: Duration = Field(0.0, description="When the evacuation order is given, from the run start.")
    reaction_max: Duration = Field(300.0, description="Reaction times spread uniformly up to this.")
    shelter_kind: NonEmptyText = Field("shelter", description="Facility kind they go to.")
    groups: dict[Literal["adult", "child", "older", "limited_mobility"], Share] = Field(
        default_factory=lambda: {"adult": 0.7, "child": 0.12, "older": 0.15, "limited_mobility": 0.03},
        description="Share of each group (normalised).",
    )

    @model_validator(mode="after")
    def _rules(self):
        _population_rules(self)
        return self


Population = Annotated[RiversidePopulation | SchoolCommute | Trips | Residents, Field(discriminator="kind")]


class Crowd(_Frozen):
    """How people respond to the flood."""

    evacuation_trigger: Literal["path_flooded", "attention", "none"] = Field(
        "path_flooded",
        description="When the paths of a stream are cleared: the first of them floods, or the stream's "
        "gauge reaches 관심 (attention), or never.",
    )
    sample_interval: SampleInterval = Field(60.0, description="How often link densities are recorded.")
    trajectory_sample: PeopleCount = Field(500, description="How many people's tracks are written for the map.")


class Hydraulics(_Frozen):
    """River routing settings."""

    enabled: bool = Field(True, description="Run the river model; false for dry scenarios about people only.")
    routing: Literal["dynamic", "kinematic"] = Field("dynamic", description="Flow routing method.")
    routing_step_s: RoutingStep = Field(5.0, description="Routing time step, s (0.5 to 60).")
    sample_interval: SampleInterval = Field(60.0, description="How often stage is sampled and recorded.")
    base_flow_m3s: BaseFlow = Field(
        1.0,
        description="Dry-weather flow entering at the top of Jungnangcheon, m3/s (about 0.012 m3/s per km2 "
        "of basin above 신곡교; the channels start at this steady flow; at most 100).",
    )
    imperviousness_scale: ImperviousnessScale = Field(
        1.0, description="Multiplier on every catchment's impervious fraction."
    )
    upstream_catchment_km2: UpstreamArea | None = Field(
        None, description="Catchment above the city, km2; null = derived so the area above 신곡교 is 80.4 km2."
    )


_LEVELS = ("attention_m", "caution_m", "alert_m", "serious_m")


class ThresholdOverride(_Frozen):
    """Alarm stages of one level sensor, m (관심 attention < 주의 caution < 경계 alert < 심각 serious)."""

    attention_m: Level | None = None
    caution_m: Level | None = None
    alert_m: Level | None = None
    serious_m: Level | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdOverride:
        given = [(k, getattr(self, k)) for k in _LEVELS if getattr(self, k) is not None]
        if not given:
            raise rule_error([("", "{}", "at least one of " + ", ".join(_LEVELS))])
        problems = [
            (k, _num(v), f"a level above {pk} {_num(pv)}")
            for (pk, pv), (k, v) in zip(given, given[1:], strict=False)
            if not v > pv
        ]
        if problems:
            raise rule_error(problems)
        return self


class SensorSettings(_Frozen):
    """How a kind of simulated sensor reads the twin: sampling, resolution and noise."""

    sample_interval: SampleInterval = Field(10.0, description="Time between readings (and MQTT messages).")
    resolution: SmallNonNegative = Field(0.001, description="Readings are rounded to this step (m or mm; 0 = exact).")
    noise_sd: SmallNonNegative = Field(0.0, description="Standard deviation of Gaussian noise added (m or mm).")


class DeviceSettings(_Frozen):
    """Settings of the simulated device fleet (``twin devices serve``)."""

    level_sensor: SensorSettings = Field(
        default_factory=lambda: SensorSettings(sample_interval=10.0, resolution=0.001, noise_sd=0.003),
        description="River level sensors: stage in m.",
    )
    rain_gauge: SensorSettings = Field(
        default_factory=lambda: SensorSettings(sample_interval=60.0, resolution=0.5, noise_sd=0.0),
        description="Tipping-bucket rain gauges: mm (0.5 mm buckets).",
    )
    gate_state_interval: SampleInterval = Field(5.0, description="How often gates publish their state.")
    structural_interval: SampleInterval = Field(
        600.0, description="Uplink interval of the LoRaWAN tilt and crack sensors."
    )
    crosswalk_interval: SampleInterval = Field(5.0, description="How often crosswalks publish their state.")
    camera_interval: SampleInterval = Field(5.0, description="How often cameras look for people in their view.")


FAULT_KINDS = ("dropout", "stuck", "latency", "spikes", "gate_stuck_open", "broker_outage")


class Fault(_Frozen):
    """A fault injected into one device (or the broker) between two simulated times."""

    kind: Literal["dropout", "stuck", "latency", "spikes", "gate_stuck_open", "broker_outage"] = Field(
        description="dropout: no readings; stuck: the last reading repeats; latency: messages delayed; "
        "spikes: occasional outliers; gate_stuck_open: the gate ignores close commands; broker_outage: "
        "the MQTT broker is unreachable."
    )
    device: NonEmptyText | None = Field(None, description="Device id; none for broker_outage.")
    start: Duration = Field(description="Start, from the scenario start.")
    end: Duration | None = Field(None, description="End, from the scenario start; null = to the end of the run.")
    latency: Latency = Field(0.0, description="latency: added delay, s (at most a day).")
    magnitude: SmallNonNegative = Field(1.0, description="spikes: size of an outlier (m or mm).")
    probability: Annotated[float, Field(ge=0, le=1)] = Field(0.1, description="spikes: chance per reading.")

    @model_validator(mode="after")
    def _device_and_window(self) -> Fault:
        problems = []
        if self.kind == "broker_outage" and self.device is not None:
            problems.append(("device", _show(self.device), "no device for a broker_outage"))
        if self.kind != "broker_outage" and self.device is None:
            problems.append(("device", "nothing", f"the id of the device with the {self.kind} fault"))
        if self.end is not None and not self.end > self.start:
            problems.append(("end", format_duration(self.end), f"a time after start {format_duration(self.start)}"))
        if problems:
            raise rule_error(problems)
        return self


class ControllerSpec(_Frozen):
    """The gate controller of a ``twin run``: the reference controller, in-process."""

    kind: Literal["builtin"] = Field(
        "builtin", description="builtin: the reference controller runs inside the simulation."
    )
    policy: NonEmptyText = Field(description="Gate policy YAML (policy_version 1), relative to the scenario file.")
    warning_reach_m: Distance = Field(
        300.0,
        description="People on the stream's paths within this distance of a gate (m, straight line) see or hear "
        "its warning and leave.",
    )


class Scenario(_Frozen):
    """A simulation run of the Uijeongbu digital twin (scenario schema version 1)."""

    schema_version: Annotated[Literal[1], BeforeValidator(_exact_version)] = Field(
        description="Scenario schema version; this twin reads 1."
    )
    name: LocalizedText
    description: LocalizedText | None = None
    dataset: NonEmptyText | None = Field(
        None, description="Dataset directory, relative to the scenario file; null = the shipped Uijeongbu dataset."
    )
    seed: Seed = Field(0, description="Seed of every random draw of the run.")
    start: StartTime = Field(description="Start of the run; without a UTC offset it is Asia/Seoul (+09:00).")
    duration_s: RunDuration = Field(alias="duration", description="Length of the run (at most 30 days).")
    rainfall: RainfallSpec
    hydraulics: Hydraulics = Field(default_factory=Hydraulics)
    thresholds: dict[NonEmptyText, ThresholdOverride] = Field(
        default_factory=dict, description="Level sensor device id -> alarm stages that replace the dataset's."
    )
    populations: list[Population] = Field(default_factory=list, description="People in the city during the run.")
    crowd: Crowd = Field(default_factory=Crowd)
    devices: DeviceSettings = Field(default_factory=DeviceSettings, description="The simulated device fleet.")
    controller: ControllerSpec | None = Field(
        None,
        description="The gate controller (twin run); none: the gates stay as they are unless devices are commanded.",
    )
    faults: list[Fault] = Field(default_factory=list, description="Faults injected into devices or the broker.")

    _source_path: Path | None = PrivateAttr(default=None)

    @field_validator("thresholds")
    @classmethod
    def _sort_devices(cls, v: dict[str, ThresholdOverride]) -> dict[str, ThresholdOverride]:
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Scenario:
        problems = []
        rain = self.rainfall
        if isinstance(rain, DesignStorm) and rain.start_offset + rain.duration > self.duration_s * (1 + 1e-12):
            problems.append(
                (
                    "rainfall.duration",
                    f"start_offset {format_duration(rain.start_offset)} + duration {format_duration(rain.duration)}"
                    f" = {format_duration(rain.start_offset + rain.duration)}",
                    f"the rain to end within the scenario duration {format_duration(self.duration_s)}",
                )
            )
        # SWMM reads rain at whole minutes and strides whole seconds
        if isinstance(rain, DesignStorm):
            for name, value in (("interval", rain.interval), ("start_offset", rain.start_offset)):
                if value % 60 != 0:
                    problems.append((f"rainfall.{name}", format_duration(value), "a whole number of minutes"))
        if isinstance(rain, ObservedRain) and rain.interval is not None and rain.interval % 60 != 0:
            problems.append(("rainfall.interval", format_duration(rain.interval), "a whole number of minutes"))
        if self.hydraulics.sample_interval % 1 != 0:
            problems.append(
                (
                    "hydraulics.sample_interval",
                    format_duration(self.hydraulics.sample_interval),
                    "a whole number of seconds",
                )
            )
        people = sum(p.count for p in self.populations)
        if people > MAX_PEOPLE:
            problems.append(
                (
                    "populations",
                    f"{people} people in {len(self.populations)} populations",
                    f"at most {MAX_PEOPLE} people in all populations together",
                )
            )
        if self.hydraulics.sample_interval > self.duration_s:
            problems.append(
                (
                    "hydraulics.sample_interval",
                    format_duration(self.hydraulics.sample_interval),
                    f"at most the scenario duration {format_duration(self.duration_s)}",
                )
            )
        if problems:
            raise rule_error(problems)
        source = (info.context or {}).get("source_path")
        if source is not None:
            self._source_path = Path(os.path.abspath(source))
        return self

    @property
    def source_path(self) -> Path | None:
        """Absolute path of the file this scenario was loaded from (None when built in Python)."""
        return self._source_path

    def resolve_path(self, rel: str | os.PathLike[str]) -> Path:
        """A path from the scenario, made absolute against the scenario file's folder (or the cwd)."""
        p = Path(rel)
        if p.is_absolute():
            return p
        base = self._source_path.parent if self._source_path is not None else Path.cwd()
        return Path(os.path.normpath(base / p))

    def dataset_path(self) -> Path:
        """The dataset directory of the run: ``dataset`` resolved, or the shipped Uijeongbu dataset."""
        if self.dataset is None:
            from .city import default_dataset_path

            return default_dataset_path()
        return self.resolve_path(self.dataset)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


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
        where = s.resolve_path(s.controller.policy)
        if not where.exists():
            problems.append(
                f"controller.policy: got {_show(s.controller.policy)}: expected an existing policy file (not {where})"
            )
        else:
            try:
                load_policy(where)
            except PolicyError as exc:
                problems += [f"controller.policy: {line}" for line in exc.problems]
    return problems


def _observed_rain_problems(rain: ObservedRain, where: Path, start: datetime) -> list[str]:
    """Read the rain CSV as the run will, so that a CSV that cannot run fails validation; the
    lines name the file and the line, never its contents."""
    from .errors import DataImportError
    from .rainfall import read_rain_csv

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


# ---------------------------------------------------------------------------------------------
# Schema and resolved dump
# ---------------------------------------------------------------------------------------------


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files, schema version 1."""
    body = Scenario.model_json_schema(by_alias=True)
    body.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCENARIO_SCHEMA_ID,
        "title": f"Uijeongbu digital twin scenario, schema version {SCENARIO_SCHEMA_VERSION}",
        **body,
    }


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
