"""Valid means runnable: a scenario (or policy) that validates either runs or fails with a clean
TwinError; what cannot run is refused at validation, naming the field and the range; error
messages name the file and the problem, never the file's contents (issue 13)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import twin.scenario as _scenario
from twin.cli_scenario import policy_group, scenario_group
from twin.control.policy import PolicyError, load_policy
from twin.errors import ScenarioError, TwinError
from twin.rainfall import read_rain_csv
from twin.scenario import Hydraulics, load_scenario, scenario_from_mapping, scenario_json_schema

MAX_PEOPLE = getattr(_scenario, "MAX_PEOPLE", 100_000)  # getattr: the tests ran (and failed) before these existed
MAX_RAIN_MM = getattr(_scenario, "MAX_RAIN_MM", 3000.0)


def scenario_warnings(s):
    return _scenario.scenario_warnings(s)


DATA = Path(__file__).resolve().parent / "data" / "scenarios"
MINIMAL = DATA / "minimal.yaml"
SECRET = "S3CRET-MARKER-do-not-echo"


def _problems(path=MINIMAL, **kwargs) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    assert all("\n" not in line for line in info.value.problems)
    return info.value.problems


def _one(problems: list[str], *parts: str) -> str:
    """The one problem line that contains every one of ``parts``."""
    hits = [p for p in problems if all(part in p for part in parts)]
    assert hits, (parts, problems)
    return hits[0]


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+09:00", "9999-12-31T20:00:00+09:00", "1899-12-31T23:00:00Z"])
def test_start_outside_1900_2200_is_refused(start):
    line = _one(_problems(overrides=[f"start={start}"]), "start:")
    assert "1900" in line and "2200" in line


@pytest.mark.parametrize("start", ["20260715", "1752543600", "'20260715'", "2026.5", "true"])
def test_start_as_a_number_is_refused(start):
    line = _one(_problems(overrides=[f"start={start}"]), "start:")
    assert "expected a date and time (ISO 8601" in line


def test_start_at_the_edges_of_the_range_is_accepted():
    assert load_scenario(MINIMAL, overrides=["start=1900-01-01T09:00:00+09:00"]).start.year == 1900
    assert load_scenario(MINIMAL, overrides=["start=2199-12-01T00:00:00+09:00"]).start.year == 2199


# --- YAML that breaks the loader ---------------------------------------------------------------


def test_bad_timestamp_tag_in_set_is_a_clean_problem():
    line = _one(_problems(overrides=["seed=!!timestamp nope"]), "seed")
    assert "Traceback" not in line


@pytest.mark.parametrize("depth", [400, 3000])
def test_deep_nesting_in_a_file_is_refused_in_one_line(tmp_path, depth):
    base = MINIMAL.read_text(encoding="utf-8")
    f = tmp_path / "deep.yaml"
    f.write_text(base + "seed: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    (line,) = _problems(f)
    assert line.startswith(f"{f}: ") and "nested deeper than" in line


def test_deep_nesting_from_python_data_is_refused():
    deep: list = []
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(ScenarioError, match="nested deeper than"):
        scenario_from_mapping({"schema_version": 1, "seed": deep})


def test_long_key_path_in_set_is_refused():
    line = _one(_problems(overrides=["x." * 500 + "y=1"]), "--set")
    assert "key path" in line


# --- physical bounds ----------------------------------------------------------------------------

BOUNDS = {
    "hydraulics.base_flow_m3s=100000": ("hydraulics.base_flow_m3s", "<= 100"),
    "hydraulics.upstream_catchment_km2=1e30": ("hydraulics.upstream_catchment_km2", "<= 1000"),
    "rainfall.return_period_yr=0.5": ("rainfall.return_period_yr", ">= 1"),
    "rainfall.total_mm=1e30": ("rainfall.total_mm", f"<= {MAX_RAIN_MM:g}"),
    "rainfall.gauge_factors={UJB01: 1e308}": ("rainfall.gauge_factors.UJB01", "<= 10"),
    "hydraulics.routing_step_s=1e-9": ("hydraulics.routing_step_s", ">= 0.5"),
    "crowd.sample_interval=0.001": ("crowd.sample_interval", ">= 1 s"),
    "devices.level_sensor.sample_interval=0.001": ("devices.level_sensor.sample_interval", ">= 1 s"),
    "devices.camera_interval=0.000001": ("devices.camera_interval", ">= 1 s"),
    "populations=[{kind: riverside, count: 1000000000}]": ("populations.0.count", f"<= {MAX_PEOPLE}"),
    "populations=[{kind: riverside, count: 10, groups: {adult: 1e308, child: 1e308}}]": (
        "populations.0.groups.adult",
        "<=",
    ),
    "crowd.trajectory_sample=1000000000": ("crowd.trajectory_sample", f"<= {MAX_PEOPLE}"),
    "seed=99999999999999999999999": ("seed", "<="),
    "populations=[{kind: trips, origin: a, destination: b, count: 5, free_speed_m_s: 1e300}]": (
        "populations.0.free_speed_m_s",
        "<=",
    ),
    "faults=[{kind: latency, device: X, start: 0, latency: 1e300}]": ("faults.0.latency", "<="),
    "rainfall.start_offset=1.0e+300": ("rainfall.start_offset", "<="),
}


@pytest.mark.parametrize("item", sorted(BOUNDS))
def test_values_that_cannot_run_are_refused_with_field_and_range(item):
    field, bound = BOUNDS[item]
    line = _one(_problems(overrides=[item]), f"{field}:")
    assert bound in line, line


def test_people_in_all_populations_together_are_bounded():
    half = MAX_PEOPLE // 2 + 1
    line = _one(
        _problems(overrides=[f"populations=[{{kind: riverside, count: {half}}}, {{kind: riverside, count: {half}}}]"]),
        "populations",
    )
    assert str(MAX_PEOPLE) in line


def test_bounds_are_in_the_json_schema():
    defs = scenario_json_schema()["$defs"]
    assert defs["Hydraulics"]["properties"]["base_flow_m3s"]["maximum"] == 100
    assert defs["Hydraulics"]["properties"]["routing_step_s"]["minimum"] == 0.5
    assert defs["DesignStorm"]["properties"]["total_mm"]["maximum"] == MAX_RAIN_MM
    assert defs["DesignStorm"]["properties"]["return_period_yr"]["minimum"] == 1
    assert defs["RiversidePopulation"]["properties"]["count"]["maximum"] == MAX_PEOPLE
    sample = defs["Crowd"]["properties"]["sample_interval"]["anyOf"][0]
    assert sample["minimum"] == 1


def test_swmm_errors_become_a_hydraulics_error(city):
    """A base flow beyond the channels' capacity (SWMM error 138) is a TwinError, not a bare Exception."""
    from twin.models.flood import build_flood_model

    s = load_scenario(MINIMAL, overrides=["rainfall.kind=none", "duration=10min"])
    too_much = Hydraulics.model_construct(**{**s.hydraulics.model_dump(), "base_flow_m3s": 100000.0})
    with pytest.raises(TwinError) as info:
        build_flood_model(city, {}, start=s.start, duration_s=s.duration_s, hydraulics=too_much)
    text = str(info.value)
    assert "\n" not in text and "ERROR 138" in text and "hydraulics.base_flow_m3s" in text


# --- warnings -----------------------------------------------------------------------------------


def test_values_outside_the_models_range_warn_but_validate():
    s = load_scenario(MINIMAL, overrides=["rainfall.pattern=alternating_block", "rainfall.return_period_yr=1000"])
    (warning,) = scenario_warnings(s)
    assert warning.startswith("rainfall.return_period_yr: 1000") and "500" in warning
    s = load_scenario(MINIMAL, overrides=["rainfall.total_mm=1500"])
    (warning,) = scenario_warnings(s)
    assert warning.startswith("rainfall.total_mm: 1500") and "870.5" in warning
    assert scenario_warnings(load_scenario(MINIMAL)) == []


def test_cli_validate_prints_each_warning_on_one_line():
    result = CliRunner().invoke(scenario_group, ["validate", str(MINIMAL), "--set", "rainfall.total_mm=1500"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{MINIMAL}: warning: rainfall.total_mm: 1500")


# --- policies -----------------------------------------------------------------------------------


def test_policy_duplicate_keys_are_refused(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("policy_version: 1\ngates:\n  G01: {close_level_m: 1.4}\n  G01: {close_level_m: 1.3}\n")
    with pytest.raises(PolicyError, match="duplicate key 'G01'"):
        load_policy(f)


def _bomb(top: str, key: str = "a") -> str:
    """Nine levels of nine aliases each: 9**9 (387 million) strings once expanded."""
    lines = [top, f'{key}0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"{key}{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("tail", ["gates: *a9", "defaults: {median_of: *a9}", "gates: {G01: *a9}"])
def test_billion_laughs_policy_is_refused_quickly(tmp_path, tail):
    f = tmp_path / "bomb.yaml"
    f.write_text(_bomb("policy_version: 1") + tail + "\n")
    t0 = time.perf_counter()
    with pytest.raises(PolicyError) as info:
        load_policy(f)
    assert time.perf_counter() - t0 < 5
    (line,) = info.value.problems
    assert line.startswith(f"{f}: ") and "alias" in line


def test_billion_laughs_scenario_is_refused_quickly(tmp_path):
    f = tmp_path / "bomb.yaml"
    f.write_text(MINIMAL.read_text(encoding="utf-8") + "faults:\n" + _bomb("", key="  - k"))
    t0 = time.perf_counter()
    (line,) = _problems(f)
    assert time.perf_counter() - t0 < 5 and "alias" in line


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("latin1.yaml", f"policy_version: 1\n# café {SECRET}\n".encode("latin-1")),
        ("binary.yaml", bytes(range(256)) * 4 + SECRET.encode()),
        ("deep.yaml", ("policy_version: 1\ngates: " + "{a: " * 3000 + "1" + "}" * 3000 + f"\n# {SECRET}\n").encode()),
        ("scalar.yaml", f"{SECRET}\n".encode()),
        ("list.yaml", f"- {SECRET}\n- b\n".encode()),
        ("env.yaml", f"PATH=/bin\nTOKEN={SECRET}\n".encode()),
    ],
)
def test_bad_policy_files_give_one_clean_line_without_content(tmp_path, name, content):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(PolicyError) as info:
        load_policy(f)
    (line,) = info.value.problems
    assert line.startswith(f"{f}: ") and SECRET not in line
    result = CliRunner().invoke(policy_group, ["validate", str(f)])
    assert result.exit_code == 2 and SECRET not in result.output and "Traceback" not in result.output


# --- files named by a scenario: never echo them ---------------------------------------------------


def _secret_files(tmp_path: Path) -> list[Path]:
    env = tmp_path / "environ"
    env.write_bytes(f"PATH=/usr/bin\x00TOKEN={SECRET}\x00".encode())
    shadow = tmp_path / "shadow"
    shadow.write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
    csvish = tmp_path / "secrets.csv"
    csvish.write_text(f"user,password\nroot,{SECRET}\n")
    rainlike = tmp_path / "rainlike.csv"
    rainlike.write_text(f"time,gauge_id,mm\n{SECRET},A,1\n2026-07-15T00:00:00,A,{SECRET}\n")
    return [env, shadow, csvish, rainlike]


@pytest.mark.parametrize("which", range(4))
def test_rain_csv_errors_never_echo_the_file(tmp_path, which):
    f = _secret_files(tmp_path)[which]
    problems = _problems(overrides=["rainfall.kind=observed", f"rainfall.csv={f}"])
    assert problems and all(SECRET not in p for p in problems)
    assert any("rainfall.csv" in p for p in problems)
    with pytest.raises(TwinError) as info:
        read_rain_csv(f)
    assert SECRET not in str(info.value) and str(f) in str(info.value)


@pytest.mark.parametrize("which", range(4))
def test_policy_that_is_not_a_policy_is_not_echoed(tmp_path, which):
    f = _secret_files(tmp_path)[which]
    problems = _problems(overrides=[f"controller.policy={f}"])
    assert problems and all(SECRET not in p for p in problems)


@pytest.mark.parametrize("path", ["/proc/self/environ", "/proc/self/status", "/dev/zero", "/dev/null"])
@pytest.mark.parametrize("field", ["rainfall.csv", "controller.policy"])
def test_paths_that_are_not_regular_files_are_refused(path, field):
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    over = ["rainfall.kind=observed", f"rainfall.csv={path}"] if field == "rainfall.csv" else [f"{field}={path}"]
    t0 = time.perf_counter()
    line = _one(_problems(overrides=over), f"{field}:")
    assert time.perf_counter() - t0 < 5
    assert "regular file" in line


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "rain.csv"
    os.mkfifo(fifo)
    line = _one(_problems(overrides=["rainfall.kind=observed", f"rainfall.csv={fifo}"]), "rainfall.csv:")
    assert "regular file" in line
    scen = tmp_path / "s.yaml"
    os.mkfifo(scen)
    (line,) = _problems(scen)
    assert "regular file" in line


def test_rain_csv_size_is_bounded(tmp_path, monkeypatch):
    import twin.rainfall as rainfall

    monkeypatch.setattr(rainfall, "MAX_RAIN_CSV_BYTES", 100)
    f = tmp_path / "big.csv"
    f.write_text("time,gauge_id,mm\n" + "2026-07-15T00:00:00,A,1\n" * 10)
    with pytest.raises(TwinError, match="bytes"):
        read_rain_csv(f)


def test_rain_csv_span_is_bounded(tmp_path):
    f = tmp_path / "sparse.csv"
    f.write_text("time,gauge_id,mm\n1900-01-01T00:00:00,A,1\n1900-01-01T00:01:00,A,1\n2199-01-01T00:00:00,A,1\n")
    t0 = time.perf_counter()
    with pytest.raises(TwinError, match="intervals"):
        read_rain_csv(f)
    assert time.perf_counter() - t0 < 5


def test_observed_rain_is_checked_at_validation(tmp_path):
    """A rain CSV that cannot be read fails validation, not the run."""
    f = tmp_path / "rain.csv"
    f.write_text("time,gauge_id,mm\n2026-07-15T00:00:00,A,1\n2026-07-15T00:00:30,A,1\n")
    line = _one(_problems(overrides=["rainfall.kind=observed", f"rainfall.csv={f}"]), "rainfall.csv")
    assert "whole number of minutes" in line
