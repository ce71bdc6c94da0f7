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
:class:`~twin.errors.ScenarioError`; :mod:`twin.validation_messages` words the lines and applies
the overrides.

The package, each module importing only those listed before it: :mod:`.fields` (the bounds and
field types), the sections :mod:`.rain`, :mod:`.populations`, :mod:`.devices` and :mod:`.collapse`, :mod:`.schema`
(:class:`Scenario` and its JSON Schema) and :mod:`.loading` (files, ``--set`` overrides,
warnings, the resolved dump). Import from the package: ``from twin.scenario import load_scenario``.
"""

from __future__ import annotations

from ..input_files import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, read_regular_file, read_yaml_file
from ..validation_messages import DATETIME_EXPECTED, format_duration
from ..value_types import DURATION_PATTERN, parse_duration
from .collapse import BuildingLoad, CollapseEvacuation, CollapseSpec, ExcavationEvent, SoilOverride
from .devices import (
    DEFAULT_WARNING_REACH_M,
    FAULT_KINDS,
    GATE_FAULT_KINDS,
    THRESHOLD_FIELDS,
    ControllerSpec,
    DeviceSettings,
    Fault,
    FaultKind,
    SensorSettings,
    StructuralReading,
    ThresholdOverride,
)
from .fields import (
    IDF_TABLE_MAX_YR,
    KOREA_DAY_RECORD_MM,
    MAX_BASE_FLOW_M3S,
    MAX_DISTANCE_M,
    MAX_DURATION_S,
    MAX_GAUGE_FACTOR,
    MAX_LEVEL_M,
    MAX_PEOPLE,
    MAX_RAIN_MM,
    MAX_RETURN_PERIOD_YR,
    MAX_SEED,
    MAX_SHARE,
    MAX_SPEED_M_S,
    MAX_UPSTREAM_KM2,
    MIN_ROUTING_STEP_S,
    MIN_SAMPLE_S,
    SEOUL,
    START_RANGE,
    Duration,
    PositiveDuration,
)
from .loading import dump_resolved, load_scenario, scenario_from_mapping, scenario_warnings
from .populations import (
    PEOPLE_GROUPS,
    Crowd,
    Flow,
    PeopleGroup,
    Population,
    Residents,
    RiversidePopulation,
    SchoolCommute,
    Trips,
)
from .rain import DesignStorm, NoRain, ObservedRain, RainfallSpec
from .schema import (
    SCENARIO_SCHEMA_ID,
    SCENARIO_SCHEMA_VERSION,
    Hydraulics,
    LocalizedText,
    Scenario,
    scenario_json_schema,
)

__all__ = [
    # the file and its loading
    "SCENARIO_SCHEMA_ID",
    "SCENARIO_SCHEMA_VERSION",
    "Scenario",
    "dump_resolved",
    "load_scenario",
    "scenario_from_mapping",
    "scenario_json_schema",
    "scenario_warnings",
    # its sections
    "BuildingLoad",
    "CollapseEvacuation",
    "CollapseSpec",
    "ExcavationEvent",
    "SoilOverride",
    "ControllerSpec",
    "Crowd",
    "DesignStorm",
    "DeviceSettings",
    "Fault",
    "Flow",
    "Hydraulics",
    "LocalizedText",
    "NoRain",
    "ObservedRain",
    "Population",
    "RainfallSpec",
    "Residents",
    "RiversidePopulation",
    "SchoolCommute",
    "SensorSettings",
    "StructuralReading",
    "ThresholdOverride",
    "Trips",
    # the enumerations declared by the schema
    "DEFAULT_WARNING_REACH_M",
    "FAULT_KINDS",
    "GATE_FAULT_KINDS",
    "PEOPLE_GROUPS",
    "THRESHOLD_FIELDS",
    "FaultKind",
    "PeopleGroup",
    # field types, bounds (docs/scenarios.md, "Bounds") and the Seoul time zone
    "Duration",
    "PositiveDuration",
    "IDF_TABLE_MAX_YR",
    "KOREA_DAY_RECORD_MM",
    "MAX_BASE_FLOW_M3S",
    "MAX_DISTANCE_M",
    "MAX_DURATION_S",
    "MAX_GAUGE_FACTOR",
    "MAX_LEVEL_M",
    "MAX_PEOPLE",
    "MAX_RAIN_MM",
    "MAX_RETURN_PERIOD_YR",
    "MAX_SEED",
    "MAX_SHARE",
    "MAX_SPEED_M_S",
    "MAX_UPSTREAM_KM2",
    "MIN_ROUTING_STEP_S",
    "MIN_SAMPLE_S",
    "SEOUL",
    "START_RANGE",
    # durations and file reading, from the modules below the scenario, kept in this namespace
    "DATETIME_EXPECTED",
    "DURATION_PATTERN",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "format_duration",
    "parse_duration",
    "read_regular_file",
    "read_yaml_file",
]
