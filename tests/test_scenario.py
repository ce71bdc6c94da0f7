"""Scenario files: schema, durations, --set overrides, resolved dump, one-line error messages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from twin.city import DEFAULT_DATASET
from twin.cli_scenario import scenario_group
from twin.errors import ScenarioError, TwinError
from twin.scenario import (
    SCENARIO_SCHEMA_ID,
    SCENARIO_SCHEMA_VERSION,
    DesignStorm,
    DeviceSettings,
    Hydraulics,
    NoRain,
    ObservedRain,
    dump_resolved,
    format_duration,
    load_scenario,
    parse_duration,
    scenario_from_mapping,
    scenario_json_schema,
)

DATA = Path(__file__).resolve().parent / "data" / "scenarios"
BAD = DATA / "bad"
MINIMAL = DATA / "minimal.yaml"
FULL = DATA / "full.yaml"
OBSERVED = DATA / "observed.yaml"
KST = timezone(timedelta(hours=9))


def _problems(path, **kwargs) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    assert str(info.value) == "\n".join(info.value.problems)
    assert all("\n" not in line for line in info.value.problems)
    return info.value.problems


def _cli(*args: str):
    return CliRunner().invoke(scenario_group, list(args))


# --- valid files ------------------------------------------------------------------------------


def test_minimal_file_gets_every_default():
    s = load_scenario(MINIMAL)
    assert s.schema_version == SCENARIO_SCHEMA_VERSION == 1
    assert (s.name.ko, s.name.en) == ("최소 시나리오", "Minimal scenario")
    assert s.description is None and s.dataset is None and s.seed == 0
    assert s.start == datetime(2026, 7, 15, 6, 0, tzinfo=KST)
    assert s.duration_s == 6 * 3600
    assert s.rainfall == DesignStorm(total_mm=80, duration=10800)
    r = s.rainfall
    assert (r.pattern, r.interval, r.return_period_yr, r.start_offset, r.gauge_factors) == ("huff_q3", 600, 30, 0, {})
    assert s.hydraulics == Hydraulics()
    h = s.hydraulics
    assert (h.routing, h.routing_step_s, h.sample_interval) == ("dynamic", 5, 60)
    assert (h.base_flow_m3s, h.imperviousness_scale, h.upstream_catchment_km2) == (1.0, 1.0, None)
    assert (s.thresholds, s.populations, s.devices, s.controller, s.faults) == ({}, [], DeviceSettings(), None, [])
    assert s.source_path == MINIMAL
    assert s.dataset_path() == DEFAULT_DATASET


def test_full_file_loads_every_field():
    s = load_scenario(FULL)
    assert s.description.en.startswith("Jungnangcheon")
    assert s.dataset_path() == DEFAULT_DATASET.resolve()
    assert (s.seed, s.duration_s) == (42, 86_400)
    assert s.start.isoformat() == "2026-08-02T03:00:00+09:00"
    r = s.rainfall
    assert isinstance(r, DesignStorm)
    assert (r.total_mm, r.duration, r.pattern, r.interval) == (250.5, 21_600, "alternating_block", 600)
    assert (r.return_period_yr, r.start_offset) == (100, 5400)
    assert list(r.gauge_factors.items()) == [("dobong", 0.9), ("uijeongbu", 1.2)]  # sorted: deterministic
    h = s.hydraulics
    assert (h.routing, h.routing_step_s, h.sample_interval, h.base_flow_m3s) == ("kinematic", 10, 300, 0.8)
    assert (h.imperviousness_scale, h.upstream_catchment_km2) == (1.25, 12.5)
    assert list(s.thresholds) == ["wl-buyong-02", "wl-jungnang-01"]
    assert s.thresholds["wl-jungnang-01"].serious_m == 3.5 and s.thresholds["wl-buyong-02"].attention_m is None
    assert [(p.kind, p.stream, p.count) for p in s.populations] == [("riverside", "중랑천", 300)]
    assert (s.controller.kind, s.controller.policy, s.controller.warning_reach_m) == ("builtin", "policy.yaml", 250)
    assert s.devices.level_sensor.sample_interval == 5 and s.devices.level_sensor.noise_sd == 0.02
    assert s.devices.rain_gauge.resolution == 0.5 and s.devices.gate_state_interval == 2
    assert (s.faults[0].kind, s.faults[0].start, s.faults[0].end) == ("stuck", 3600, 5400)


def test_observed_rain_resolves_csv_against_the_scenario_folder():
    s = load_scenario(OBSERVED)
    assert isinstance(s.rainfall, ObservedRain)
    assert (s.rainfall.interval, s.rainfall.field, s.rainfall.uniform_gauge) == (600, "uniform", "uijeongbu")
    assert s.resolve_path(s.rainfall.csv) == DATA / "rain_observed.csv"
    assert s.start == datetime(2026, 7, 15, tzinfo=KST)  # a bare date is midnight in Seoul


def test_scenario_is_frozen():
    s = load_scenario(MINIMAL)
    with pytest.raises(ValidationError):
        s.seed = 3
    with pytest.raises(ValidationError):
        s.rainfall.total_mm = 1


# --- durations and start time -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3h", 10_800),
        ("1h30min", 5400),
        (600, 600),
        (600.5, 600.5),
        ("90s", 90),
        ("45min", 2700),
        ("2d", 172_800),
        ("1.5h", 5400),
        ("1.1h", 3960),
        ("1d2h", 93_600),
        (" 1h 30min ", 5400),
        ("600", 600),
        (timedelta(minutes=2), 120),
    ],
)
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds
    assert isinstance(parse_duration(text), float)


@pytest.mark.parametrize(
    "text",
    [
        "3 hours",
        "5m",
        "30min1h",
        "1h30",
        "",
        "h",
        "-5min",
        "1h1h",
        True,
        None,
        [1],
        float("nan"),
        10**400,
        "9" * 400 + "s",
    ],
)
def test_bad_durations_are_rejected(text):
    with pytest.raises(ValueError, match="expected a duration: seconds or a string like '3h', '90min'"):
        parse_duration(text)


def test_durations_in_a_scenario_and_their_format():
    data = {"schema_version": 1, "name": {"ko": "가", "en": "A"}, "start": "2026-07-15T06:00:00"}
    s = scenario_from_mapping({**data, "duration": "1h30min", "rainfall": {"kind": "none"}})
    assert s.duration_s == 5400
    assert scenario_from_mapping({**data, "duration": 600, "rainfall": {"kind": "none"}}).duration_s == 600
    assert format_duration(5400) == "5400 s (1h30min)" and format_duration(30) == "30 s"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-07-15T06:00:00", "2026-07-15T06:00:00+09:00"),  # naive: Asia/Seoul
        ("2026-07-15 06:00", "2026-07-15T06:00:00+09:00"),
        ("2026-07-14T21:00:00Z", "2026-07-15T06:00:00+09:00"),  # the same instant, in Seoul time
        ("2026-07-15", "2026-07-15T00:00:00+09:00"),
    ],
)
def test_naive_start_is_seoul_time(tmp_path, start, expected):
    f = tmp_path / "s.yaml"
    f.write_text(
        f"schema_version: 1\nname: {{ko: 가, en: A}}\nstart: {start}\nduration: 1h\nrainfall: {{kind: none}}\n"
    )
    s = load_scenario(f)
    assert s.start.utcoffset() is not None
    assert s.start == datetime.fromisoformat(expected)
    assert s.start.utcoffset() == datetime.fromisoformat(expected).utcoffset()


# --- --set overrides --------------------------------------------------------------------------


def test_set_number_string_and_nested_section():
    s = load_scenario(
        MINIMAL,
        overrides=["rainfall.total_mm=120", "hydraulics.routing=kinematic", "name.en=Test", "duration=1d"],
    )
    assert s.rainfall.total_mm == 120 and s.hydraulics.routing == "kinematic"
    assert s.name.en == "Test" and s.name.ko == "최소 시나리오" and s.duration_s == 86_400
    s = load_scenario(MINIMAL, overrides=["thresholds.wl-01.alert_m=2.5", "rainfall.gauge_factors={g2: 2, g1: 0.5}"])
    assert s.thresholds["wl-01"].alert_m == 2.5 and list(s.rainfall.gauge_factors) == ["g1", "g2"]


def test_set_rainfall_kind_switches_the_variant():
    s = load_scenario(MINIMAL, overrides=["rainfall.kind=observed", "rainfall.csv=rain_observed.csv"])
    assert isinstance(s.rainfall, ObservedRain) and s.rainfall.csv == "rain_observed.csv"
    assert isinstance(load_scenario(MINIMAL, overrides=["rainfall.kind=none"]).rainfall, NoRain)
    s = load_scenario(OBSERVED, overrides=["rainfall.kind=design", "rainfall.total_mm=50", "rainfall.duration=1h"])
    assert s.rainfall == DesignStorm(total_mm=50, duration=3600)
    # the same kind again keeps the section as it is
    assert load_scenario(MINIMAL, overrides=["rainfall.kind=design"]).rainfall.total_mm == 80


def test_set_list_index_and_append_and_seed():
    s = load_scenario(
        FULL, overrides=["faults.0.kind=dropout", "faults.1={device: g-1, kind: gate_stuck_open, start: 0}"], seed=7
    )
    assert [(f.device, f.kind) for f in s.faults] == [("wl-jungnang-01", "dropout"), ("g-1", "gate_stuck_open")]
    assert s.seed == 7
    pops = load_scenario(MINIMAL, overrides=["populations.0.kind=riverside", "populations.0.count=5"]).populations
    assert [(p.kind, p.count) for p in pops] == [("riverside", 5)]


def test_a_sensor_section_given_in_part_keeps_its_kinds_defaults():
    # found by the stand-alone early warning's test: --set devices.level_sensor.sample_interval=600 reset the
    # level sensors' noise to the generic 0 m; a tilt sensor given only its noise lost its resolution
    s = load_scenario(
        MINIMAL, overrides=["devices.level_sensor.sample_interval=600", "devices.tilt_sensor.noise_sd=0.01"]
    )
    assert (s.devices.level_sensor.sample_interval, s.devices.level_sensor.noise_sd) == (600.0, 0.003)
    assert (s.devices.tilt_sensor.resolution, s.devices.tilt_sensor.noise_sd) == (0.001, 0.01)
    assert s.devices.rain_gauge.resolution == 0.5  # untouched sections keep theirs
    with pytest.raises(ScenarioError, match=r"devices\.level_sensor\.bogus: unknown field"):
        load_scenario(MINIMAL, overrides=["devices.level_sensor.bogus=1"])


def test_set_does_not_leak_through_yaml_aliases(tmp_path):
    f = tmp_path / "alias.yaml"
    f.write_text(
        "schema_version: 1\nname: &n {ko: 가, en: A}\ndescription: *n\nstart: 2026-07-15T06:00:00\n"
        "duration: 1h\nrainfall: {kind: none}\n"
    )
    s = load_scenario(f, overrides=["name.en=B"])
    assert (s.name.en, s.description.en) == ("B", "A")


# --- resolved dump and JSON schema ------------------------------------------------------------


@pytest.mark.parametrize("path", [MINIMAL, FULL, OBSERVED], ids=lambda p: p.stem)
def test_dump_resolved_round_trips(tmp_path, path):
    s = load_scenario(path)
    text = dump_resolved(s)
    assert text == dump_resolved(load_scenario(path))  # deterministic
    out = tmp_path / "elsewhere" / "resolved.yaml"
    out.parent.mkdir()
    out.write_text(text, encoding="utf-8")
    back = load_scenario(out)
    assert dump_resolved(back) == text
    a, b = s.model_dump(), back.model_dump()
    for m, x in ((a, s), (b, back)):  # paths are absolute in the dump
        if x.dataset:
            m["dataset"] = str(x.resolve_path(x.dataset))
        if isinstance(x.rainfall, ObservedRain):
            m["rainfall"]["csv"] = str(x.resolve_path(x.rainfall.csv))
        if x.controller:
            m["controller"]["policy"] = str(x.resolve_path(x.controller.policy))
    assert a == b
    assert "duration_s" not in text and "\nduration: " in text
    assert "start: '" + s.start.isoformat() + "'" in text


def test_dump_resolved_fills_defaults_in_seconds():
    text = dump_resolved(load_scenario(MINIMAL))
    for line in ("duration: 21600.0", "  interval: 600.0", "  pattern: huff_q3", "  sample_interval: 60.0", "seed: 0"):
        assert line in text.splitlines()
    # no paths in the minimal file: equal as models
    assert load_scenario(MINIMAL) == scenario_from_mapping(yaml.safe_load(text), source=MINIMAL)


def test_json_schema():
    schema = json.loads(json.dumps(scenario_json_schema()))
    assert schema["$id"] == SCENARIO_SCHEMA_ID == "https://uijeongbu-twin/scenario-1.json"
    assert "scenario" in schema["title"] and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"schema_version", "name", "start", "duration", "rainfall"}
    rain = schema["properties"]["rainfall"]
    assert rain["discriminator"]["propertyName"] == "kind"
    variants = [schema["$defs"][r["$ref"].rsplit("/", 1)[1]] for r in rain["oneOf"]]
    assert [v["properties"]["kind"]["const"] for v in variants] == ["design", "observed", "none"]
    assert schema["$defs"]["DesignStorm"]["required"] == ["total_mm", "duration"]
    assert schema["properties"]["duration"]["anyOf"][0]["maximum"] == 30 * 86_400
    result = _cli("schema")
    assert result.exit_code == 0 and json.loads(result.output) == schema


# --- malformed files: one line per problem ----------------------------------------------------

MALFORMED = {
    "negative_total_mm": ["rainfall.total_mm: got -5: expected a number > 0 and <= 3000"],
    "unknown_key": [
        "rainfall.total_mm: missing: expected a number > 0 and <= 3000",
        "rainfall.totl_mm: unknown field: expected one of kind, total_mm, duration, pattern, interval, "
        "return_period_yr, start_offset, gauge_factors (did you mean total_mm?)",
    ],
    "missing_name_en": ["name.en: missing: expected a non-empty string"],
    "bad_duration": ["duration: got '3 hours': expected a duration: seconds or a string like '3h', '90min'"],
    "rain_kind_snow": ["rainfall.kind: got 'snow': expected one of design, observed, none"],
    "rain_kind_missing": ["rainfall.kind: missing: expected one of design, observed, none"],
    "interval_not_dividing": [
        "rainfall.interval: got 1500 s (25min): expected a duration that divides rainfall.duration 3600 s (1h) "
        "into whole steps"
    ],
    "rain_longer_than_run": [
        "rainfall.duration: got start_offset 1800 s (30min) + duration 10800 s (3h) = 12600 s (3h30min): "
        "expected the rain to end within the scenario duration 7200 s (2h)"
    ],
    "duration_too_long": ["duration: got '31d': expected a duration > 0 s and <= 2592000 s (30d)"],
    "seed_negative": ["seed: got -1: expected an integer >= 0 and <= 9223372036854775807"],
    "routing_diffusion": ["hydraulics.routing: got 'diffusion': expected one of dynamic, kinematic"],
    "start_not_date": [
        "start: got 'tomorrow morning': expected a date and time (ISO 8601, e.g. 2026-07-15T06:00:00+09:00)"
    ],
    "dataset_wrong_type": ["dataset: got [gis_data, uijeongbu]: expected a non-empty string (or null)"],
    "yaml_syntax": ["line 3 column 6: not valid YAML: expected ',' or '}', but got ':'"],
    "duplicate_key": ["line 6 column 1: not valid YAML: duplicate key 'rainfall' (first on line 5)"],
    "top_level_list": [
        "top level: got a list: expected a mapping with schema_version, name, start, duration, rainfall, ..."
    ],
    "empty": ["the file is empty: expected a mapping with schema_version, name, start, duration, rainfall, ..."],
    "schema_version_2": ["schema_version: got 2: expected 1 (the scenario schema version this twin reads)"],
    "several_problems": [
        "rainfall.total_mm: got true: expected a number > 0 and <= 3000",
        "hydraulics.routing_step_s: got 0: expected a number >= 0.5 and <= 60",
        "hydraulics.imperviousness_scale: got 2.5: expected a number >= 0 and <= 2",
    ],
    "thresholds_out_of_order": [
        "thresholds.wl-01.alert_m: got 1.5: expected a level above caution_m 2",
        "thresholds.wl-02: got {}: expected at least one of attention_m, caution_m, alert_m, serious_m",
    ],
    "start_impossible_date": [
        "start: got '2026-13-45T06:00:00': expected a date and time (ISO 8601, e.g. 2026-07-15T06:00:00+09:00)"
    ],
    "two_documents": [
        "line 5 column 1: not valid YAML: expected a single document in the stream, but found another document"
    ],
    "not_utf8": ["not UTF-8 text (byte 29): save the file as UTF-8"],
    "top_level_typo": [
        "rainfall: missing: expected a mapping with kind: one of design, observed, none",
        "rainfal: unknown field: expected one of schema_version, name, description, dataset, seed, start, duration, "
        "rainfall, hydraulics, thresholds, populations, crowd, devices, controller, faults, collapse "
        "(did you mean rainfall?)",
    ],
    "controller_policy_missing": [
        "controller.policy: got 'no_such_policy.yaml': expected an existing policy file "
        f"(not {BAD / 'no_such_policy.yaml'})"
    ],
    "controller_policy_invalid": [
        f"controller.policy: {BAD / 'inverted_policy.yml'}: gates.G01.reopen_level_m: got 2.5: "
        "expected a level below close_level_m 2 (hysteresis)"
    ],
    "observed_csv_missing": [
        f"rainfall.csv: got 'no_such_rain.csv': expected an existing CSV file (not {BAD / 'no_such_rain.csv'})"
    ],
}


def test_every_bad_fixture_has_an_expected_message():
    assert sorted(p.stem for p in BAD.glob("*.yaml")) == sorted(MALFORMED)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_gives_one_line_per_problem(name):
    path = BAD / f"{name}.yaml"
    expected = [f"{path}: {line}" for line in MALFORMED[name]]
    assert _problems(path) == expected
    result = _cli("validate", str(path))
    assert result.exit_code == 2
    assert result.stdout == "" and result.stderr.splitlines() == expected
    assert "Traceback" not in result.output


SET_PROBLEMS = {
    "rainfall.total_mm": "--set rainfall.total_mm: got no '=': expected KEY.PATH=VALUE, e.g. rainfall.total_mm=120",
    "rainfall.total_mm.x=5": "--set rainfall.total_mm.x=5: got 80 at rainfall.total_mm: "
    "expected a mapping or a list to set x in",
    "name.en.first=A": "--set name.en.first=A: got 'Minimal scenario' at name.en: expected a mapping or a list to set "
    "first in",
    "rainfall..total_mm=5": "--set rainfall..total_mm=5: got the key path 'rainfall..total_mm': "
    "expected dot-separated names, e.g. rainfall.total_mm=120",
    "populations.3.count=1": "--set populations.3.count=1: got '3' after populations, a list of 0: "
    "expected an index 0..0",
}


@pytest.mark.parametrize("item", sorted(SET_PROBLEMS))
def test_malformed_set_names_the_override(item):
    assert _problems(MINIMAL, overrides=[item]) == [f"{MINIMAL}: {SET_PROBLEMS[item]}"]
    result = _cli("validate", str(MINIMAL), "--set", item)
    assert result.exit_code == 2 and result.stderr.splitlines() == [f"{MINIMAL}: {SET_PROBLEMS[item]}"]
    assert "Traceback" not in result.output


def test_bad_values_from_set_and_seed_name_the_field():
    assert _problems(MINIMAL, overrides=["rainfall.total_mm=-5", "hydraulics.routing=diffusion"]) == [
        f"{MINIMAL}: rainfall.total_mm: got -5: expected a number > 0 and <= 3000",
        f"{MINIMAL}: hydraulics.routing: got 'diffusion': expected one of dynamic, kinematic",
    ]
    assert _problems(MINIMAL, seed=-1) == [
        f"{MINIMAL}: seed: got -1: expected an integer >= 0 and <= 9223372036854775807"
    ]
    assert _problems(MINIMAL, overrides=["rainfall.kind=observed"]) == [
        f"{MINIMAL}: rainfall.csv: missing: expected a non-empty string"
    ]
    assert _problems(MINIMAL, overrides=["duration_s=5"])[0].startswith(
        f"{MINIMAL}: duration_s: unknown field: expected one of schema_version, name, description, dataset, seed, "
        "start, duration, "
    )


def test_missing_file_and_directory(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert _problems(missing) == [f"{missing}: not found"]
    assert _problems(tmp_path) == [f"{tmp_path}: is a directory: expected a scenario YAML file"]
    result = _cli("validate", str(missing))
    assert result.exit_code == 2 and result.stderr == f"{missing}: not found\n"
    assert "Traceback" not in result.output


def test_problems_from_python_data_use_a_placeholder_name():
    with pytest.raises(ScenarioError) as info:
        scenario_from_mapping({"schema_version": 1})
    assert info.value.problems == [
        "<scenario>: name: missing: expected a mapping with ko, en",
        "<scenario>: start: missing: expected a date and time (ISO 8601, e.g. 2026-07-15T06:00:00+09:00)",
        "<scenario>: duration: missing: expected a duration > 0 s and <= 2592000 s (30d): "
        "seconds or a string like '3h', '90min'",
        "<scenario>: rainfall: missing: expected a mapping with kind: one of design, observed, none",
    ]
    assert isinstance(info.value, TwinError) and isinstance(info.value, ValueError)


# --- the command line -------------------------------------------------------------------------


def test_cli_validate_valid_files():
    result = _cli("validate", str(MINIMAL))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{MINIMAL}: valid (Minimal scenario, 6 h, rainfall design)\n"
    result = _cli("validate", str(MINIMAL), "--set", "duration=90min", "--set", "rainfall.kind=none")
    assert result.stdout == f"{MINIMAL}: valid (Minimal scenario, 1.5 h, rainfall none)\n"
    result = _cli("validate", str(OBSERVED))
    assert result.stdout == f"{OBSERVED}: valid (Observed rain, 2 h, rainfall observed)\n"


def test_faults_name_their_device_and_a_window():
    bad = ["faults=[{kind: dropout, start: 2h, end: 1h}, {kind: broker_outage, device: LS-G01, start: 0}]"]
    with pytest.raises(ScenarioError) as e:
        load_scenario(MINIMAL, overrides=bad)
    text = str(e.value)
    assert "faults.0.device: got nothing: expected the id of the device with the dropout fault" in text
    assert "faults.0.end: got 3600 s (1h): expected a time after start 7200 s (2h)" in text
    assert "faults.1.device: got 'LS-G01': expected no device for a broker_outage" in text
    with pytest.raises(ScenarioError, match="faults.0.kind"):
        load_scenario(MINIMAL, overrides=["faults=[{kind: melted, device: X, start: 0}]"])


# --- the package ------------------------------------------------------------------------------


def test_the_package_keeps_the_names_of_the_old_module():
    """``twin.scenario`` was one module; every name importers used from it still comes from the
    package, as the same object as in the module that now defines it."""
    import twin.scenario as scenario
    from twin.scenario import devices, fields, loading, populations, rain, schema

    old = (
        "SCENARIO_SCHEMA_ID SCENARIO_SCHEMA_VERSION DesignStorm Duration Hydraulics LocalizedText NoRain "
        "ObservedRain PositiveDuration RainfallSpec Scenario ThresholdOverride dump_resolved format_duration "
        "load_scenario parse_duration read_regular_file scenario_from_mapping scenario_json_schema "
        "scenario_warnings DATETIME_EXPECTED DURATION_PATTERN MAX_YAML_BYTES MAX_YAML_DEPTH MAX_YAML_NODES "
        "read_yaml_file DeviceSettings Fault FAULT_KINDS PEOPLE_GROUPS MAX_PEOPLE MAX_RAIN_MM"
    ).split()
    assert [name for name in old if not hasattr(scenario, name)] == []
    assert sorted(set(scenario.__all__)) == sorted(scenario.__all__)
    assert [name for name in scenario.__all__ if not hasattr(scenario, name)] == []
    assert scenario.Scenario is schema.Scenario and scenario.load_scenario is loading.load_scenario
    assert scenario.DesignStorm is rain.DesignStorm and scenario.Fault is devices.Fault
    assert scenario.PEOPLE_GROUPS is populations.PEOPLE_GROUPS and scenario.MAX_PEOPLE == fields.MAX_PEOPLE
