"""Scenario discovery: PRIM and a decision tree find the parameter box of the bad runs; rules read well."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.ensemble.discovery import Condition, Rule, discover, prim_rules, tree_rules


def _synthetic(seed=7):
    """400 members: x1, x2 in [0, 1], x3 in [0, 10] mm, a category a/b/c; bad = x1 > 0.7 and cat == c."""
    rng = np.random.default_rng(seed)
    n = 400
    x = pd.DataFrame({"x1": rng.uniform(0.0, 1.0, n), "x2": rng.uniform(0.0, 1.0, n),
                      "x3": rng.uniform(0.0, 10.0, n), "cat": rng.choice(["a", "b", "c"], n)})
    bad = ((x["x1"] > 0.7) & (x["cat"] == "c")).to_numpy()
    return x, bad


def _check_found(rule: Rule, x: pd.DataFrame, bad: np.ndarray) -> None:
    """The rule is 'x1 >= ~0.7 and cat in {c}' and its numbers are recounted right."""
    by_name = {c.parameter: c for c in rule.conditions}
    assert set(by_name) == {"x1", "cat"}
    assert by_name["x1"].low == pytest.approx(0.7, abs=0.05)
    assert by_name["x1"].high is None
    assert by_name["cat"].categories == frozenset({"c"})
    assert rule.density >= 0.9
    inside = ((x["x1"] >= by_name["x1"].low) & (x["cat"] == "c")).to_numpy()
    assert rule.n_inside == inside.sum()
    assert rule.n_bad_inside == (inside & bad).sum()
    assert rule.n_bad == bad.sum()
    assert rule.coverage == pytest.approx((inside & bad).sum() / bad.sum())


@pytest.mark.parametrize("seed", [7, 11])
def test_prim_finds_the_box(seed):
    x, bad = _synthetic(seed)
    rules = prim_rules(x, bad)
    assert len(rules) == 1
    assert rules[0].method == "prim"
    _check_found(rules[0], x, bad)


@pytest.mark.parametrize("seed", [7, 11])
def test_tree_finds_the_box(seed):
    x, bad = _synthetic(seed)
    rules = tree_rules(x, bad)
    assert rules and all(r.method == "tree" for r in rules)
    _check_found(rules[0], x, bad)
    densities = [(r.density, r.coverage) for r in rules]
    assert densities == sorted(densities, reverse=True)


def test_discover_is_deterministic_and_prim_first():
    x, bad = _synthetic()
    first, second = discover(x, bad), discover(x, bad)
    assert first == second
    assert [r.method for r in first][0] == "prim"
    assert {r.method for r in first} == {"prim", "tree"}


def test_nothing_to_separate():
    x, _ = _synthetic()
    assert discover(x, np.zeros(len(x), dtype=bool)) == []
    assert discover(x, np.ones(len(x), dtype=bool)) == []
    assert tree_rules(x, np.ones(len(x), dtype=bool)) == []
    with pytest.raises(ValueError, match="bad has 3 values for 400"):
        discover(x, [True, False, True])


def test_rule_text_in_english_and_korean():
    rule = Rule((Condition("rainfall.total_mm", low=118.37), Condition("rainfall.pattern", categories=frozenset(
        {"huff_q3"}))), coverage=23 / 27, density=23 / 25, n_inside=25, n_bad_inside=23, n_bad=27, method="prim")
    assert rule.text("en") == ("rainfall.total_mm ≥ 118 and rainfall.pattern in {huff_q3}: "
                               "23 of 25 runs bad (92 %), 23 of 27 bad runs (85 %)")
    assert rule.text("ko") == ("rainfall.total_mm ≥ 118 그리고 rainfall.pattern ∈ {huff_q3}: "
                               "25회 중 23회 (92 %), 나쁜 결과 27회 중 23회 (85 %)")
    labels = {"rainfall.total_mm": "총 강우량 (mm)"}
    assert rule.text("ko", labels).startswith("총 강우량 (mm) ≥ 118 그리고 rainfall.pattern")


def test_condition_text_rounds_to_three_significant_digits():
    assert Condition("q", low=0.712994, high=12345.6).text() == "0.713 ≤ q ≤ 12300"
    assert Condition("q", high=0.000123456).text() == "q ≤ 0.000123"
    assert Condition("p", categories=frozenset({"b", "a"})).text("en") == "p in {a, b}"


def test_constant_parameters_are_never_conditions():
    x, bad = _synthetic(3)
    x["scenario_kind"] = "only"
    x["fixed_mm"] = 5.0
    for rules in (prim_rules(x, bad), tree_rules(x, bad)):
        assert rules
        assert {c.parameter for c in rules[0].conditions} == {"x1", "cat"}
