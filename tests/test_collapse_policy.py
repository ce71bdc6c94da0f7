"""The collapse early-warning policy file (issue 17): the shipped file loads, and every mistake is
one line naming the file, the field path and what was expected, without the file's contents."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from twin.control.collapse_policy import (
    CollapsePolicyError,
    collapse_policy_from_mapping,
    collapse_policy_json_schema,
    load_collapse_policy,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "scenarios" / "policies" / "reference_collapse.yaml"


def test_the_shipped_policy_loads_with_the_published_values():
    p = load_collapse_policy(SHIPPED)
    r = p.rule("SLP-01")
    assert (r.slopes.tilt_rate_deg_h.caution, r.slopes.tilt_rate_deg_h.warning) == (0.01, 0.1)
    assert r.slopes.rain is not None and r.slopes.rain.intensity_mm_h(4 * 3600) == pytest.approx(9.64 * 4**-0.27)
    assert r.slopes.rain.intensity_mm_h(76 * 3600) == pytest.approx(2.99, abs=0.01)  # 9.64·76^-0.27
    g = r.buildings.tilt_grade_limits  # 1/750, 1/500, 1/250, 1/150
    assert [g.A, g.B, g.C, g.D] == pytest.approx([1 / 750, 1 / 500, 1 / 250, 1 / 150], rel=1e-4)
    # a 117 m tower stays grade A up to a 156 mm lean (the MOLIT figure quoted in the press)
    assert g.grade(0.156 / 117) == "A" and g.grade(0.160 / 117) == "B" and g.grade(1 / 100) == "E"
    assert r.buildings.tilt_grade_alarms.level(g.grade(1 / 300)) == 1  # grade C (1/500 to 1/250): caution
    assert r.forecast.settings().window_points == 13 and r.clear_after == 6 * 3600
    assert r.plausibility.corroboration == 2
    # the slopes' own forecast block (hour-long accelerations: 90 min smoothing), the top-level one for
    # buildings; a slope's forecast counts once its rate is at warning
    assert r.forecast_settings("slope").window_points == 9 and r.forecast_settings("slope").fit_tail
    assert (
        r.forecast_settings("slope").max_interval_ratio == 0.3 and r.forecast_settings("building").window_points == 13
    )
    assert r.slopes.forecast_after == "warning" and r.buildings.forecast is None
    assert r.slopes.rate_smoothing == 2 * 3600  # the rates keep the 2 h window (tilt noise under 0.01 deg/h)


def test_kind_forecast_blocks_and_forecast_after_are_checked(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        "collapse_policy_version: 1\nslopes: {forecast: {smoothing: 1h}}\n"
        "sites:\n  SLP-03: {slopes: {forecast: {smoothing: 3h}, forecast_after: caution}}\n",
        encoding="utf-8",
    )
    p = load_collapse_policy(f)
    assert p.rule("SLP-01").forecast_settings("slope").window_points == 7
    assert p.rule("SLP-01").forecast_settings("building").window_points == 13  # the top-level default
    assert p.rule("SLP-03").forecast_settings("slope").window_points == 19
    assert p.rule("SLP-03").slopes.forecast_after == "caution" and p.rule("SLP-01").slopes.forecast_after is None
    f.write_text("collapse_policy_version: 1\nslopes: {forecast_after: alarm, forecast: {max_interval_ratio: 0}}\n")
    with pytest.raises(CollapsePolicyError) as exc:
        load_collapse_policy(f)
    text = "\n".join(exc.value.problems)
    assert "slopes.forecast_after: got 'alarm'" in text and "slopes.forecast.max_interval_ratio: got 0" in text


def test_site_overrides_replace_entries_and_are_checked(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        "collapse_policy_version: 1\nsites:\n  SLP-03:\n"
        "    slopes: {displacement_rate_mm_h: {caution: 1, warning: 2}}\n"
        "    plausibility: {corroboration: 3}\n",
        encoding="utf-8",
    )
    p = load_collapse_policy(f)
    own, other = p.rule("SLP-03"), p.rule("SLP-01")
    assert own.slopes.displacement_rate_mm_h.evacuate is None and own.slopes.displacement_rate_mm_h.warning == 2
    assert other.slopes.displacement_rate_mm_h.evacuate == 2.0 and own.plausibility.corroboration == 3
    assert own.slopes.tilt_rate_deg_h == other.slopes.tilt_rate_deg_h
    f.write_text("collapse_policy_version: 1\nsites:\n  SLP-03: {slopes: {forecast_warning_lead: 1h}}\n")
    with pytest.raises(CollapsePolicyError) as exc:
        load_collapse_policy(f)
    assert exc.value.problems == [
        f"{f}: sites.SLP-03.slopes.forecast_warning_lead: got 3600 s (1h): expected at least "
        "forecast_evacuate_lead 10800 s (3h) (the warning comes first)"
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "slopes: {displacement_rate_mm_h: {caution: 1.0, warning: 0.5}}",
            "slopes.displacement_rate_mm_h.warning: got 0.5: expected more than caution 1 (levels increase)",
        ),
        (
            "buildings: {tilt_grade_limits: {B: 0.001}}",
            "buildings.tilt_grade_limits.B: got 0.001: expected more than A 0.00133333 (grade limits increase)",
        ),
        (
            "buildings: {tilt_grade_alarms: {caution: D, warning: C}}",
            "buildings.tilt_grade_alarms.warning: got C: expected a grade worse than caution D",
        ),
        ("buildings: {tilt_grade_alarms: {caution: F}}", "buildings.tilt_grade_alarms.caution: got 'F': expected"),
        (
            "slopes: {tilt_rate_deg_h: {cauton: 0.01}}",
            "slopes.tilt_rate_deg_h.cauton: unknown field: expected one of caution, warning, evacuate "
            "(did you mean caution?)",
        ),
        ("clear_after: soon", "clear_after: got 'soon': expected a duration"),
        ("plausibility: {corroboration: yes}", "plausibility.corroboration: got true: expected"),
        ("plausibility: {stuck_readings: 1}", "plausibility.stuck_readings: got 1: expected an integer >= 2"),
        ("slopes: {rain: {min_duration: 80h}}", "slopes.rain.min_duration: got 288000 s (3d8h): expected less than"),
        ("forecast: {ema_long: 1h}", "forecast.ema_long: got 3600 s (1h): expected more than ema_short 10800 s (3h)"),
        ("forecast: {min_r2: 1.5}", "forecast.min_r2: got 1.5: expected a number >= 0 and <= 1"),
        ("slopes: {forecast_evacuate_lead: 1d}", "slopes.forecast_warning_lead: got 43200 s (12h): expected at least"),
        ("slope: {}", "slope: unknown field: expected one of collapse_policy_version, slopes"),
    ],
)
def test_each_mistake_is_one_line_naming_file_field_and_expectation(tmp_path, text, line):
    f = tmp_path / "collapse.yaml"
    f.write_text(f"collapse_policy_version: 1\n{text}\n", encoding="utf-8")
    with pytest.raises(CollapsePolicyError) as exc:
        load_collapse_policy(f)
    assert len(exc.value.problems) == 1, exc.value.problems
    assert exc.value.problems[0].startswith(f"{f}: {line}"), exc.value.problems
    for raw in ("Input should be", "Extra inputs", "Levels", "pydantic", "Value error"):
        assert raw not in str(exc.value)


def test_other_files_and_unreadable_ones_are_named_without_their_contents(tmp_path):
    f = tmp_path / "c.yaml"
    cases = [
        ("policy_version: 1\ndefaults: {secret-stuff: 1}\n", "got a gate policy (it has policy_version)"),
        ("schema_version: 1\nsecret-stuff: 2\n", "got a scenario (it has schema_version)"),
        ("secret-stuff: 1\n", "got a mapping without collapse_policy_version: expected a collapse policy"),
        ("- secret-stuff\n", "top level: got a list: expected a mapping with collapse_policy_version: 1"),
        ("collapse_policy_version: 2\n", "collapse_policy_version: got 2: expected 1"),
        ('collapse_policy_version: 1\nslopes: {rain: "secret-stuff\n', "not valid YAML"),
        ("", "the file is empty"),
    ]
    for content, said in cases:
        f.write_text(content, encoding="utf-8")
        with pytest.raises(CollapsePolicyError) as exc:
            load_collapse_policy(f)
        assert len(exc.value.problems) == 1 and said in exc.value.problems[0], exc.value.problems
        assert exc.value.problems[0].startswith(str(f)) and "secret-stuff" not in str(exc.value)
    with pytest.raises(CollapsePolicyError, match="not found"):
        load_collapse_policy(tmp_path / "nope.yaml")
    with pytest.raises(CollapsePolicyError, match=r"^<collapse policy>: top level: got a number"):
        collapse_policy_from_mapping(math.pi)


def test_the_json_schema_names_every_section():
    schema = collapse_policy_json_schema()
    json.dumps(schema)
    assert schema["title"] == "Collapse policy, version 1"
    assert set(schema["properties"]) == {
        "collapse_policy_version", "slopes", "buildings", "forecast", "plausibility", "clear_after", "sites"
    }  # fmt: skip
    assert schema["required"] == ["collapse_policy_version"]


def test_the_policy_command_validates_a_collapse_policy_and_prints_its_schema(tmp_path):
    """`twin policy validate` tells a collapse policy by its version key; `twin scenario validate`
    given one says what it is and checks it as a policy."""
    from click.testing import CliRunner

    from twin.cli import main

    shipped = Path(__file__).resolve().parents[1] / "scenarios" / "policies" / "reference_collapse.yaml"
    r = CliRunner().invoke(main, ["policy", "validate", str(shipped)])
    assert r.exit_code == 0 and "valid collapse policy" in r.output and "2 mm/h" in r.output, r.output
    r = CliRunner().invoke(main, ["scenario", "validate", str(shipped)])
    assert r.exit_code == 0 and "a collapse policy (it has collapse_policy_version), not a scenario" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "collapse_policy_version: 1\nslopes:\n  displacement_rate_mm_h: {caution: 3, warning: 1, evacuate: 2}\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(main, ["policy", "validate", str(bad)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{bad}: slopes.displacement_rate_mm_h.warning: got 1: expected" in r.output
    r = CliRunner().invoke(main, ["policy", "schema", "--kind", "collapse"])
    assert r.exit_code == 0 and json.loads(r.output)["title"] == "Collapse policy, version 1"
