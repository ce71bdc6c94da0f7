"""Sweep requests: parameters and their distributions, the designs, sweep files, validated members."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.ensemble.design import design
from twin.ensemble.members import build_members
from twin.ensemble.parameters import parse_parameter
from twin.ensemble.spec import is_sweep_file, load_sweep_file, parse_target, parse_vary
from twin.errors import SweepError
from twin.resources import shipped_scenarios

FLAGSHIP = shipped_scenarios() / "flash_flood_jungnangcheon.yaml"


# --- parameters ------------------------------------------------------------------------------
def test_uniform_maps_quantiles_to_the_range_and_back_to_its_text():
    p = parse_parameter("rainfall.total_mm=uniform(60, 150)")
    assert (p.key, p.kind, p.args) == ("rainfall.total_mm", "uniform", (60.0, 150.0))
    assert [p.value(u) for u in (0.0, 0.5, 1.0)] == [60.0, 105.0, 150.0]
    assert p.text() == "rainfall.total_mm=uniform(60.0, 150.0)"


def test_integers_are_inclusive_and_equally_likely():
    p = parse_parameter("populations.0.count=integers(500, 503)")
    u = (np.arange(4000) + 0.5) / 4000
    values = [p.value(x) for x in u]
    assert set(values) == {500, 501, 502, 503}
    assert all(values.count(v) == 1000 for v in (500, 501, 502, 503))
    assert p.value(1.0) == 503


def test_choice_splits_the_unit_interval_evenly():
    p = parse_parameter("rainfall.pattern=choice(huff_q2, huff_q3, huff_q4)")
    assert [p.value(u) for u in (0.0, 0.33, 0.34, 0.66, 0.67, 0.999, 1.0)] == [
        "huff_q2", "huff_q2", "huff_q3", "huff_q3", "huff_q4", "huff_q4", "huff_q4"]


def test_loguniform_triangular_normal_follow_their_inverse_cdf():
    lg = parse_parameter("x=loguniform(1, 100)")
    assert lg.value(0.5) == pytest.approx(10.0)
    tri = parse_parameter("x=triangular(0, 1, 4)")
    # CDF of the triangle at the mode is (mode - low) / (high - low) = 0.25
    assert tri.value(0.25) == pytest.approx(1.0)
    assert tri.value(1.0) == pytest.approx(4.0)
    n = parse_parameter("x=normal(90, 15)")
    assert n.value(0.5) == pytest.approx(90.0)
    assert n.value(0.841344746) == pytest.approx(105.0, abs=1e-6)  # one standard deviation
    assert math.isfinite(n.value(0.0)) and math.isfinite(n.value(1.0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rainfall.total_mm", "got no '='"),
        ("rainfall.total_mm=gauss(1, 2)", "expected one of uniform(...)"),
        ("rainfall.total_mm=uniform(150, 60)", "low < high"),
        ("rainfall.total_mm=uniform(60)", "2 finite numbers"),
        ("rainfall.total_mm=uniform(60, .inf)", "2 finite numbers"),
        ("rainfall.total_mm=loguniform(0, 5)", "0 < low < high"),
        ("rainfall.total_mm=normal(90, 0)", "standard deviation > 0"),
        ("rainfall.pattern=choice(huff_q3)", "at least two values"),
        ("rainfall.pattern=choice(a, a)", "each value once"),
        ("populations.0.count=integers(1.5, 3)", "two whole numbers"),
        ("seed=integers(1, 3)", "other than seed"),
        ("rainfall..total_mm=uniform(1, 2)", "a scenario field path"),
        ("x=uniform([1, 2)", "values separated by commas"),
    ],
)
def test_bad_parameters_say_where_what_and_what_was_expected(text, expected):
    with pytest.raises(SweepError) as err:
        parse_parameter(text, where="--vary X")
    (line,) = err.value.problems
    assert line.startswith("--vary X: got ")
    assert expected in line


def test_a_field_varied_twice_is_refused_and_every_bad_option_is_listed():
    with pytest.raises(SweepError) as err:
        parse_vary(["a=uniform(1, 2)", "a=uniform(3, 4)", "b=nonsense"])
    text = "\n".join(err.value.problems)
    assert "a: got it twice" in text and "--vary b=nonsense" in text


def test_targets_parse_and_refuse_garbage():
    t = parse_target("kpi/exposed_people >= 50", where="x")
    assert (t.column, t.op, t.threshold) == ("kpi/exposed_people", ">=", 50.0)
    with pytest.raises(SweepError, match="expected COLUMN OP NUMBER"):
        parse_target("kpi/exposed_people is big", where="x")


# --- designs ---------------------------------------------------------------------------------
def _params(*texts):
    return [parse_parameter(t) for t in texts]


def test_latin_hypercube_puts_one_point_in_every_stratum_of_every_parameter():
    d = design(_params("a=uniform(0, 1)", "b=uniform(0, 1)", "c=uniform(0, 1)"), 50, sampler="lhs", seed=3)
    assert d.u.shape == (50, 3)
    for j in range(3):
        assert sorted(np.floor(d.u[:, j] * 50).astype(int)) == list(range(50))


def test_designs_and_seeds_repeat_for_a_seed_and_change_with_it():
    ps = _params("a=uniform(0, 1)", "b=choice(x, y)")
    a, b, c = (design(ps, 20, sampler="random", seed=s) for s in (7, 7, 8))
    assert np.array_equal(a.u, b.u) and a.seeds == b.seeds
    assert not np.array_equal(a.u, c.u) and a.seeds != c.seeds
    assert len(set(a.seeds)) == 20 and all(0 <= s < 2**31 for s in a.seeds)
    # the member seeds do not depend on the sampler: one stream for the design, another for the seeds
    assert design(ps, 20, sampler="lhs", seed=7).seeds == a.seeds


def test_grid_uses_both_ends_and_every_choice():
    ps = _params("rainfall.total_mm=uniform(60, 150)", "rainfall.pattern=choice(huff_q2, huff_q3)")
    d = design(ps, 8, sampler="grid", seed=0)
    values = {(ps[0].value(u0), ps[1].value(u1)) for u0, u1 in d.u}
    assert values == {(v, p) for v in (60.0, 90.0, 120.0, 150.0) for p in ("huff_q2", "huff_q3")}
    with pytest.raises(SweepError, match="expected at least 4 for a grid"):
        design(_params("a=uniform(0, 1)", "b=uniform(0, 1)"), 3, sampler="grid", seed=0)


def test_sobol_design_has_a_power_of_two_base_and_d_plus_2_runs_each():
    ps = _params("a=uniform(0, 1)", "b=uniform(0, 1)", "c=choice(x, y, z)")
    d = design(ps, 100, sampler="sobol", seed=1)
    assert d.base_samples == 16 and d.runs == 16 * 5  # 2^floor(log2(100 / 5))
    block = d.u[:5]
    # Saltelli's block: A, then A with column i from B (AB_i) for each i, then B
    a, b = block[0], block[-1]
    for i in range(3):
        expect = a.copy()
        expect[i] = b[i]
        assert np.allclose(block[1 + i], expect)
    with pytest.raises(SweepError, match="at least 10 for a Sobol design"):
        design(ps, 9, sampler="sobol", seed=1)


# --- sweep files -----------------------------------------------------------------------------
def test_a_sweep_file_reads_relative_to_itself(tmp_path):
    f = tmp_path / "rain.yaml"
    f.write_text(
        f"scenario: {FLAGSHIP}\nruns: 12\nsampler: random\nseed: 5\nvary:\n"
        "  rainfall.total_mm: uniform(60, 150)\ndiscover:\n  - kpi/flooded_paths > 100\n",
        encoding="utf-8",
    )
    assert is_sweep_file(f) and not is_sweep_file(FLAGSHIP)
    spec = load_sweep_file(f)
    assert (spec.runs, spec.sampler, spec.seed, spec.scenario) == (12, "random", 5, FLAGSHIP.resolve())
    assert spec.targets[0].text() == "kpi/flooded_paths > 100"
    more = spec.with_options(runs=4, parameters=parse_vary(["rainfall.total_mm=uniform(10, 20)"]), seed=None)
    assert more.runs == 4 and more.seed == 5 and more.parameters[0].args == (10.0, 20.0)


def test_a_bad_sweep_file_names_the_file_and_each_field(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("scenario: x.yaml\nruns: many\nvary:\n  rainfall.total_mm: uniform(9, 1)\nspeed: 3\n"
                 "discover: [kpi/x ~ 3]\n", encoding="utf-8")
    with pytest.raises(SweepError) as err:
        load_sweep_file(f)
    lines = err.value.problems
    assert all(line.startswith(f"{f}: ") for line in lines)
    text = "\n".join(lines)
    for where in ("speed: got an unknown field", "runs: got 'many'", "vary.rainfall.total_mm: got uniform(9, 1)",
                  "discover.0: got"):
        assert where in text


# --- members ---------------------------------------------------------------------------------
def test_members_are_validated_and_keyed_by_what_they_run():
    ps = tuple(_params("rainfall.total_mm=uniform(60, 150)"))
    d = design(list(ps), 3, sampler="lhs", seed=1)
    members = build_members(FLAGSHIP, ps, d)
    assert [m.index for m in members] == [0, 1, 2]
    assert len({m.key for m in members}) == 3
    for m, seed in zip(members, d.seeds, strict=True):
        assert f"seed: {seed}\n" in m.resolved
        assert f"total_mm: {m.values['rainfall.total_mm']!r}" in m.resolved
    assert [m.key for m in build_members(FLAGSHIP, ps, d)] == [m.key for m in members]  # stable


def test_values_the_scenario_refuses_stop_the_sweep_before_any_run():
    ps = tuple(_params("rainfall.pattern=choice(huff_q2, huff_q3)", "rainfall.total_mm=uniform(-60, 150)"))
    d = design(list(ps), 60, sampler="lhs", seed=1)
    bad = [i for i, u in enumerate(d.u) if ps[1].value(u[1]) <= 0]  # no rain or less
    assert len(bad) > 10
    with pytest.raises(SweepError) as err:
        build_members(FLAGSHIP, ps, d)
    lines = err.value.problems
    assert lines[0].startswith(f"{FLAGSHIP}: member {bad[0]} (rainfall.pattern=huff_q")
    assert "rainfall.total_mm: got -" in lines[0]
    assert lines[-2].endswith(f"... and {len(bad) - 10} more invalid member(s)")
    assert lines[-1].endswith("narrow the varied ranges to values the scenario accepts")


@pytest.mark.parametrize("name", ["jungnangcheon_rain", "gates_sensitivity"])
def test_the_shipped_sweep_files_are_valid_to_the_last_member(name):
    f = shipped_scenarios() / "sweeps" / f"{name}.yaml"
    spec = load_sweep_file(f)
    d = design(list(spec.parameters), spec.runs, sampler=spec.sampler, seed=spec.seed)
    members = build_members(spec.scenario, spec.parameters, d)
    assert len(members) == spec.runs  # 64 = 64, and Sobol's 256 = 64 x (2 + 2)
    assert {m.values["rainfall.pattern"] for m in members} == {"huff_q1", "huff_q2", "huff_q3", "huff_q4"}


def test_scenario_validate_checks_a_sweep_file_as_a_sweep(tmp_path):
    from click.testing import CliRunner

    from twin.cli import main

    f = tmp_path / "sweep.yaml"
    f.write_text(f"scenario: {FLAGSHIP}\nsampler: grid\nruns: 3\nvary:\n  rainfall.total_mm: uniform(60, 5000)\n",
                 encoding="utf-8")
    bad = CliRunner().invoke(main, ["scenario", "validate", str(f)])
    assert bad.exit_code == 2 and "checked as a sweep" in bad.output
    assert "member 2 (rainfall.total_mm=5000): rainfall.total_mm: got 5000.0: expected a number > 0" in bad.output
    f.write_text(f.read_text(encoding="utf-8").replace("5000", "150"), encoding="utf-8")
    ok = CliRunner().invoke(main, ["scenario", "validate", str(f)])
    assert ok.exit_code == 0 and "valid (3 members, grid, varying rainfall.total_mm)" in ok.output


def test_numbers_in_e_notation_and_dates_are_read_as_the_scenario_reads_them():
    assert parse_parameter("rainfall.total_mm=uniform(1e1, 1.5e2)").args == (10.0, 150.0)
    p = parse_parameter("start=choice(2026-07-15T14:00:00+09:00, 2026-07-16)")
    assert p.args == ("2026-07-15T14:00:00+09:00", "2026-07-16")
    members = build_members(FLAGSHIP, (p,), design([p], 2, sampler="grid", seed=0))
    assert [m.values["start"] for m in members] == list(p.args)
    assert "start: '2026-07-16T00:00:00+09:00'" in members[1].resolved
    with pytest.raises(SweepError, match="2 finite numbers"):
        parse_parameter("rainfall.total_mm=uniform(1e1, 1e999)")


def test_a_threshold_that_is_not_a_number_is_refused():
    with pytest.raises(SweepError, match="got the number '1.2.3': expected a finite number"):
        parse_target("kpi/flooded_paths > 1.2.3", where="--discover")


def test_a_file_that_is_not_yaml_is_refused_with_the_yaml_error(tmp_path):
    from twin.ensemble.spec import load_request

    f = tmp_path / "bad.yaml"
    f.write_text("scenario: x\nvary: {a: uniform(1, 2)\n", encoding="utf-8")
    with pytest.raises(SweepError) as err:
        load_request(f)
    (line,) = err.value.problems
    assert line.startswith(f"{f}: line ") and "not valid YAML" in line
    assert load_request(FLAGSHIP).scenario == FLAGSHIP.resolve()  # a scenario: nothing varied yet


def test_a_field_that_does_not_exist_or_a_bad_base_scenario_is_said_once(tmp_path):
    ps = (parse_parameter("rainfall.nonexistent=uniform(1, 2)"), parse_parameter("rainfall.total_mm=uniform(60, 90)"))
    with pytest.raises(SweepError) as err:
        build_members(FLAGSHIP, ps, design(list(ps), 20, sampler="lhs", seed=0))
    (line,) = err.value.problems
    assert line.startswith(f"{FLAGSHIP}: vary rainfall.nonexistent (at its middle value 1.5): ")
    not_a_scenario = tmp_path / "notes.yaml"
    not_a_scenario.write_text("hello: world\n", encoding="utf-8")
    from twin.errors import ScenarioError

    with pytest.raises(ScenarioError) as err2:
        build_members(not_a_scenario, ps[1:], design(list(ps[1:]), 20, sampler="lhs", seed=0))
    assert not any("member" in line for line in err2.value.problems)
