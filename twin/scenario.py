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

import math
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
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
    DURATION_EXPECTED,
    _apply_override,
    _bounds_text,
    _describe_top,
    _error_lines,
    _kind_of,
    _num,
    _one_line,
    _show,
    format_duration,
)
from .errors import ScenarioError, TwinError

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
    "scenario_from_mapping",
    "scenario_json_schema",
]

SCENARIO_SCHEMA_VERSION = 1
"""The scenario schema version this code reads and writes (``schema_version`` in the file)."""

SCENARIO_SCHEMA_ID = "https://uijeongbu-twin/scenario-1.json"
"""``$id`` of the published JSON Schema."""

SEOUL = timezone(timedelta(hours=9))
"""Asia/Seoul (KST, +09:00, no daylight saving): the zone of a naive ``start``."""

MAX_DURATION_S = 30 * 86_400.0
"""Longest run a scenario may ask for: 30 days."""

_NUM = r"(\d+(?:\.\d+)?)"
_DURATION_BODY = rf"\s*(?:{_NUM}|(?=\S)(?:{_NUM}\s*d)?\s*(?:{_NUM}\s*h)?\s*(?:{_NUM}\s*min)?\s*(?:{_NUM}\s*s)?)\s*"
DURATION_PATTERN = f"^{_DURATION_BODY}$"
"""The duration string syntax as a regular expression (also in the JSON Schema)."""
_DURATION_RE = re.compile(_DURATION_BODY)
_UNIT_S = (1, 86_400, 3_600, 60, 1)  # seconds per unit of each group: plain number, d, h, min, s

# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------


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


def _duration_type(*, gt: float | None = None, ge: float | None = None, le: float | None = None) -> Any:
    """A duration field type: parsed by :func:`parse_duration`, float seconds within bounds."""
    bounds = _bounds_text(gt, ge, le, format_duration)

    def check(seconds: float) -> float:
        if (gt is not None and not seconds > gt) or (ge is not None and not seconds >= ge):
            raise PydanticCustomError("duration_range", "expected a duration {bounds}", {"bounds": bounds})
        if le is not None and not seconds <= le:
            raise PydanticCustomError("duration_range", "expected a duration {bounds}", {"bounds": bounds})
        return seconds

    number: dict[str, Any] = {"type": "number"}
    if gt is not None:
        number["exclusiveMinimum"] = gt
    if ge is not None:
        number["minimum"] = ge
    if le is not None:
        number["maximum"] = le
    json_schema = {
        "anyOf": [number, {"type": "string", "pattern": DURATION_PATTERN}],
        "description": "Seconds, or a string of d/h/min/s parts such as '90s', '45min', '3h', '1h30min', '2d'.",
    }
    return Annotated[float, BeforeValidator(parse_duration), AfterValidator(check), WithJsonSchema(json_schema)]


Duration = _duration_type(ge=0)
"""A duration >= 0 s: a number of seconds or a string like '3h', '1h30min'; stored as float seconds."""
PositiveDuration = _duration_type(gt=0)
"""A duration > 0 s."""
RunDuration = _duration_type(gt=0, le=MAX_DURATION_S)
"""The length of a run: > 0 s and at most 30 days."""


def _reject_bool(value: Any) -> Any:
    """YAML turns ``yes``/``no``/``on``/``off`` into booleans; never take them as numbers."""
    if isinstance(value, bool):
        raise PydanticCustomError("bool_as_number", "expected a number, not true/false")
    return value


def _number(**bounds: float) -> Any:
    return Annotated[float, Field(allow_inf_nan=False, **bounds), BeforeValidator(_reject_bool)]


def _integer(**bounds: int) -> Any:
    return Annotated[int, Field(**bounds), BeforeValidator(_reject_bool)]


Number = _number()
PositiveNumber = _number(gt=0)
NonNegativeNumber = _number(ge=0)
RoutingStep = _number(gt=0, le=60)
ImperviousnessScale = _number(ge=0, le=2)
Seed = _integer(ge=0)
NonEmptyText = Annotated[str, Field(min_length=1)]


def _exact_version(value: Any) -> Any:
    """``schema_version`` must be the integer 1 (not ``true``, not ``1.0``, not ``'1'``)."""
    if type(value) is not int:
        raise PydanticCustomError("version", "expected {version}", {"version": SCENARIO_SCHEMA_VERSION})
    return value


def _date_to_datetime(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0, 0))
    return value


def _seoul_if_naive(value: datetime) -> datetime:
    """Naive times are Seoul time; aware ones are converted to it (SWMM and reports use local time)."""
    return value.replace(tzinfo=SEOUL) if value.tzinfo is None else value.astimezone(SEOUL)


StartTime = Annotated[datetime, BeforeValidator(_date_to_datetime), AfterValidator(_seoul_if_naive)]


def _rule_error(problems: list[tuple[str, str, str]]) -> PydanticCustomError:
    """A cross-field problem list: (field path relative to the model, got, expected) each."""
    summary = "; ".join(f"{p}: got {g}: expected {e}" for p, g, e in problems)
    return PydanticCustomError("scenario_rules", "{summary}", {"summary": summary, "problems": tuple(problems)})


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
    total_mm: PositiveNumber = Field(description="Total rain depth at a gauge with factor 1, mm.")
    duration: PositiveDuration = Field(description="How long it rains.")
    pattern: Literal["huff_q1", "huff_q2", "huff_q3", "huff_q4", "alternating_block"] = Field(
        "huff_q3", description="Temporal distribution: Huff quartile 1-4, or the alternating-block method."
    )
    interval: PositiveDuration = Field(600.0, description="Hyetograph step; must divide duration.")
    return_period_yr: PositiveNumber = Field(30.0, description="Return period of the IDF curve (alternating_block).")
    start_offset: Duration = Field(0.0, description="When the rain starts, after the scenario start.")
    gauge_factors: dict[NonEmptyText, NonNegativeNumber] = Field(
        default_factory=dict, description="Rain gauge id -> depth multiplier for a non-uniform field; empty = uniform."
    )

    @field_validator("gauge_factors")
    @classmethod
    def _sort_gauges(cls, v: dict[str, float]) -> dict[str, float]:
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _interval_divides_duration(self) -> DesignStorm:
        steps = self.duration / self.interval
        if round(steps) < 1 or abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            raise _rule_error(
                [
                    (
                        "interval",
                        format_duration(self.interval),
                        f"a duration that divides rainfall.duration {format_duration(self.duration)} into whole steps",
                    )
                ]
            )
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
            raise _rule_error(
                [("uniform_gauge", _show(self.uniform_gauge), f"null unless field is uniform (field is {self.field})")]
            )
        return self


class NoRain(_Frozen):
    """No rain: dry weather, base flow only."""

    kind: Literal["none"] = "none"


RainfallSpec = Annotated[DesignStorm | ObservedRain | NoRain, Field(discriminator="kind")]
"""The rain of a scenario, chosen by ``kind``: design, observed or none."""


PEOPLE_GROUPS = ("adult", "child", "older", "limited_mobility")
PeopleCount = _integer(ge=0)


def _population_rules(pop) -> None:
    """Shared rules: some group share > 0; a departure window that does not run backwards."""
    problems = []
    if not pop.groups or sum(pop.groups.values()) <= 0:
        problems.append(("groups", _show(dict(pop.groups)), "at least one group with a share > 0"))
    start, end = getattr(pop, "window_start", None), getattr(pop, "window_end", None)
    if start is not None and end is not None and end < start:
        problems.append(("window_end", format_duration(end), f"at least window_start {format_duration(start)}"))
    if problems:
        raise _rule_error(problems)


class RiversidePopulation(_Frozen):
    """People walking the riverside paths: each enters at a random point of a path at a random
    time in ``arrival_window`` and walks along it to an access point 300 m or more away."""

    kind: Literal["riverside"] = "riverside"
    stream: NonEmptyText | None = Field(None, description="Korean stream name (e.g. 중랑천); null = every stream.")
    count: PeopleCount = Field(description="Number of people.")
    arrival_window: Duration | None = Field(
        None, description="They set out uniformly over this time from the start; null = the whole run."
    )
    groups: dict[Literal["adult", "child", "older", "limited_mobility"], NonNegativeNumber] = Field(
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
    radius_m: PositiveNumber = Field(800.0, description="Where they come from: street nodes within this distance, m.")
    window_start: Duration = Field(0.0, description="First departure, from the run start.")
    window_end: PositiveDuration = Field(1800.0, description="Last departure, from the run start.")
    groups: dict[Literal["adult", "child", "older", "limited_mobility"], NonNegativeNumber] = Field(
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
    groups: dict[Literal["adult", "child", "older", "limited_mobility"], NonNegativeNumber] = Field(
        default_factory=lambda: {"adult": 1.0}, description="Share of each group (normalised)."
    )
    free_speed_m_s: PositiveNumber | None = Field(
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
    groups: dict[Literal["adult", "child", "older", "limited_mobility"], NonNegativeNumber] = Field(
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
    sample_interval: PositiveDuration = Field(60.0, description="How often link densities are recorded.")
    trajectory_sample: PeopleCount = Field(500, description="How many people's tracks are written for the map.")


class Hydraulics(_Frozen):
    """River routing settings."""

    enabled: bool = Field(True, description="Run the river model; false for dry scenarios about people only.")
    routing: Literal["dynamic", "kinematic"] = Field("dynamic", description="Flow routing method.")
    routing_step_s: RoutingStep = Field(5.0, description="Routing time step, s.")
    sample_interval: PositiveDuration = Field(60.0, description="How often stage is sampled and recorded.")
    base_flow_m3s: NonNegativeNumber = Field(
        1.0,
        description="Dry-weather flow entering at the top of Jungnangcheon, m3/s (about 0.012 m3/s per km2 "
        "of basin above 신곡교; the channels start at this steady flow).",
    )
    imperviousness_scale: ImperviousnessScale = Field(
        1.0, description="Multiplier on every catchment's impervious fraction."
    )
    upstream_catchment_km2: NonNegativeNumber | None = Field(
        None, description="Catchment above the city, km2; null = derived so the area above 신곡교 is 80.4 km2."
    )


_LEVELS = ("attention_m", "caution_m", "alert_m", "serious_m")


class ThresholdOverride(_Frozen):
    """Alarm stages of one level sensor, m (관심 attention < 주의 caution < 경계 alert < 심각 serious)."""

    attention_m: Number | None = None
    caution_m: Number | None = None
    alert_m: Number | None = None
    serious_m: Number | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdOverride:
        given = [(k, getattr(self, k)) for k in _LEVELS if getattr(self, k) is not None]
        if not given:
            raise _rule_error([("", "{}", "at least one of " + ", ".join(_LEVELS))])
        problems = [
            (k, _num(v), f"a level above {pk} {_num(pv)}")
            for (pk, pv), (k, v) in zip(given, given[1:], strict=False)
            if not v > pv
        ]
        if problems:
            raise _rule_error(problems)
        return self


class SensorSettings(_Frozen):
    """How a kind of simulated sensor reads the twin: sampling, resolution and noise."""

    sample_interval: PositiveDuration = Field(10.0, description="Time between readings (and MQTT messages).")
    resolution: NonNegativeNumber = Field(0.001, description="Readings are rounded to this step (m or mm; 0 = exact).")
    noise_sd: NonNegativeNumber = Field(0.0, description="Standard deviation of Gaussian noise added (m or mm).")


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
    gate_state_interval: PositiveDuration = Field(5.0, description="How often gates publish their state.")
    structural_interval: PositiveDuration = Field(
        600.0, description="Uplink interval of the LoRaWAN tilt and crack sensors."
    )
    crosswalk_interval: PositiveDuration = Field(5.0, description="How often crosswalks publish their state.")
    camera_interval: PositiveDuration = Field(5.0, description="How often cameras look for people in their view.")


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
    latency: NonNegativeNumber = Field(0.0, description="latency: added delay, s.")
    magnitude: NonNegativeNumber = Field(1.0, description="spikes: size of an outlier (m or mm).")
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
            raise _rule_error(problems)
        return self


class ControllerSpec(_Frozen):
    """The gate controller of a ``twin run``: the reference controller, in-process."""

    kind: Literal["builtin"] = Field(
        "builtin", description="builtin: the reference controller runs inside the simulation."
    )
    policy: NonEmptyText = Field(description="Gate policy YAML (policy_version 1), relative to the scenario file.")
    warning_reach_m: PositiveNumber = Field(
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
        if self.hydraulics.sample_interval > self.duration_s:
            problems.append(
                (
                    "hydraulics.sample_interval",
                    format_duration(self.hydraulics.sample_interval),
                    f"at most the scenario duration {format_duration(self.duration_s)}",
                )
            )
        if problems:
            raise _rule_error(problems)
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


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that rejects a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key; the base class reports it
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first on line {first})", key_node.start_mark
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node, deep=False):
        """An impossible timestamp (2026-13-45) stays text, for a located 'expected a date' problem."""
        if node.tag != "tag:yaml.org,2002:timestamp":
            return super().construct_object(node, deep=deep)
        try:
            return super().construct_object(node, deep=deep)
        except ValueError:
            self.recursive_objects.pop(node, None)
            return self.construct_scalar(node)


def read_yaml_file(path: str | os.PathLike[str], *, what: str, error: type[TwinError] = ScenarioError) -> Any:
    """The data of a YAML file (scenarios, gate policies), read with the scenario loader's strict
    safe loader. Raises ``error`` with one line naming the file and, for a syntax error, the line
    and column, never the file's contents."""
    label = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"{label}: not found") from None
    except IsADirectoryError:
        raise error(f"{label}: is a directory: expected {what}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{label}: not UTF-8 text (byte {exc.start}): save the file as UTF-8") from None
    except OSError as exc:
        raise error(f"{label}: cannot read: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        why = exc.problem or exc.context or "syntax error"
        if exc.problem and exc.context and exc.context.startswith("expected"):
            why = f"{exc.context}, {exc.problem}"  # 'expected a single document in the stream, but found ...'
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        raise error(f"{label}: {where}not valid YAML: {_one_line(why)}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise error(f"{label}: not valid YAML: {_one_line(str(exc))}") from None


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
            f"{label}: top level: got {_kind_of(data)}: expected {_describe_top(scenario_json_schema())}"
        )
    schema = scenario_json_schema()
    data = dict(data)
    problems = []
    for item in overrides:
        problem = _apply_override(data, str(item), schema, _StrictLoader)
        if problem:
            problems.append(f"{label}: --set {item}: {problem}")
    if problems:
        raise ScenarioError(problems)
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
        if not where.is_file():
            problems.append(f"rainfall.csv: got {_show(s.rainfall.csv)}: expected an existing CSV file (not {where})")
    if s.controller is not None:
        where = s.resolve_path(s.controller.policy)
        if not where.is_file():
            problems.append(
                f"controller.policy: got {_show(s.controller.policy)}: expected an existing policy file (not {where})"
            )
        else:
            from .control.policy import PolicyError, load_policy

            try:
                load_policy(where)
            except PolicyError as exc:
                problems += [f"controller.policy: {line}" for line in exc.problems]
    return problems


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
