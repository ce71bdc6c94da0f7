"""What a scenario names in its city is checked against the city at load time (issue 14): before,
``--set thresholds.NOPE.attention_m=1`` was accepted and did nothing, and
``--set thresholds.LS-1018665.attention_m=9`` ran with 관심 (attention) above 주의 (caution)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.cli_scenario import scenario_group
from twin.errors import ScenarioError
from twin.scenario import load_scenario
from twin.scenario_city import city_problems

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"
SHIPPED = sorted(p for p in (REPO / "scenarios").rglob("*.yaml") if "policies" not in p.parts)


def _validate(*sets: str) -> tuple[int, str]:
    args = ["validate", str(FLAGSHIP)]
    for s in sets:
        args += ["--set", s]
    res = CliRunner().invoke(scenario_group, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, res.output


@pytest.mark.parametrize("scenario", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_names_only_what_its_city_has(scenario, city):
    s = load_scenario(scenario)
    if s.dataset_path() == load_scenario(FLAGSHIP).dataset_path():
        assert city_problems(s, city) == []


def test_an_unknown_sensor_in_thresholds_is_refused(city):
    code, out = _validate("thresholds.NOPE.attention_m=1")
    assert code == 2 and "thresholds.NOPE: got a sensor id: expected a level sensor of the dataset" in out
    s = load_scenario(FLAGSHIP, overrides=["thresholds.LS-G01.caution_m=2.2"])  # a sensor it has: fine
    assert city_problems(s, city) == []


def test_an_override_that_inverts_the_dataset_ladder_is_refused(city):
    code, out = _validate("thresholds.LS-1018665.attention_m=9")
    assert code == 2
    assert "thresholds.LS-1018665: attention 9 m and caution 5.1 m: expected each stage above the one before" in out


def test_a_run_refuses_it_before_any_model_is_built(city, monkeypatch):
    import twin.simulation as simulation

    built = []
    monkeypatch.setattr(simulation, "build_flood_model", lambda *a, **k: built.append(1))
    s = load_scenario(FLAGSHIP, overrides=["thresholds.LS-1018665.attention_m=9"])
    with pytest.raises(ScenarioError, match="attention 9 m and caution"):
        simulation.Simulation(s, city=city)
    assert built == []


def test_unknown_gauges_and_fault_devices_are_refused(city):
    s = load_scenario(
        FLAGSHIP,
        overrides=[
            "rainfall.gauge_factors={RG-NOPE: 1.2}",
            "faults=[{kind: dropout, device: LS-NOPE, start: 10min}, {kind: gate_stuck_open, device: LS-G01, "
            "start: 10min}]",
        ],
    )
    problems = city_problems(s, city)
    assert any(p.startswith("rainfall.gauge_factors.RG-NOPE: got a gauge id") for p in problems)
    assert "faults[0].device: got 'LS-NOPE': expected a device of the dataset" in problems
    assert "faults[1].device: got 'LS-G01': expected a gate for gate_stuck_open" in problems


def test_resizing_a_basin_the_dataset_lacks_is_refused(city):
    """hydraulics.upstream_catchment_km2 resizes the dataset's upstream basin; a city without one
    (an imported city) refuses it instead of silently ignoring it."""
    import copy
    import dataclasses

    s = load_scenario(FLAGSHIP, overrides=["hydraulics.upstream_catchment_km2=60"])
    assert city_problems(s, city) == []  # Uijeongbu has the basin above 신곡교
    manifest = copy.deepcopy(city.manifest)
    manifest["hydrology"].pop("upstream_basins")
    bare = dataclasses.replace(city, manifest=manifest, fingerprint=None)
    (problem,) = city_problems(s, bare)
    assert problem.startswith("hydraulics.upstream_catchment_km2: got 60: expected null")
    assert city_problems(load_scenario(FLAGSHIP), bare) == []
