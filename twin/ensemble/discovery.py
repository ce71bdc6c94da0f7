"""Scenario discovery: which parameter ranges of a sweep lead to a bad outcome.

Input is ``x``, a DataFrame of the ok members' parameters (one column per parameter key, numeric columns
as float, categorical columns as str) and ``bad``, one bool per row of ``x``. Failed members must be left
out by the caller. Two methods give readable rules: PRIM (ema_workbench) and a shallow decision tree
(scikit-learn). A rule's numeric bounds are in the unit of the parameter (mm, min, ...).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SweepError

_EMA_LOGGER = "EMA"
_ONE_HOT_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Condition:
    """One parameter's range in a rule: ``low <= value <= high`` (None = open end), or ``value in categories``.

    Exactly one of the two forms is used: numeric (``categories`` None) or categorical (``low``/``high`` None).
    """

    parameter: str
    low: float | None = None
    high: float | None = None
    categories: frozenset[str] | None = None

    def contains(self, values: pd.Series) -> np.ndarray:
        """Boolean array: each value satisfies the condition (closed bounds)."""
        if self.categories is not None:
            return np.asarray(values.astype(str).isin(self.categories).to_numpy(), dtype=bool)
        v = values.to_numpy(dtype=float)
        inside = np.ones(v.shape, dtype=bool)
        if self.low is not None:
            inside &= v >= self.low
        if self.high is not None:
            inside &= v <= self.high
        return inside

    def text(self, lang: str = "en", label: str | None = None) -> str:
        """Readable form, numbers to 3 significant digits: "x ≥ 118", "0.2 ≤ x ≤ 0.5", "p in {a, b}"."""
        name = label or self.parameter
        if self.categories is not None:
            listed = ", ".join(sorted(self.categories))
            return f"{name} {'∈' if lang == 'ko' else 'in'} {{{listed}}}"
        if self.low is not None and self.high is not None:
            return f"{_sig3(self.low)} ≤ {name} ≤ {_sig3(self.high)}"
        if self.low is not None:
            return f"{name} ≥ {_sig3(self.low)}"
        if self.high is not None:
            return f"{name} ≤ {_sig3(self.high)}"
        return name


@dataclass(frozen=True)
class Rule:
    """A box of parameter space and how well it singles out the bad members.

    ``coverage``: share of all bad members that fall in the rule; ``density``: share of the members in the
    rule that are bad; ``n_inside``: members in the rule; ``n_bad_inside``: bad members in the rule;
    ``n_bad``: bad members in all; ``method``: "prim" or "tree".
    """

    conditions: tuple[Condition, ...]
    coverage: float
    density: float
    n_inside: int
    n_bad_inside: int
    n_bad: int
    method: str

    def contains(self, x: pd.DataFrame) -> np.ndarray:
        """Boolean array: each row of ``x`` satisfies every condition."""
        inside = np.ones(len(x), dtype=bool)
        for condition in self.conditions:
            inside &= condition.contains(x[condition.parameter])
        return inside

    def text(self, lang: str = "en", labels: Mapping[str, str] | None = None) -> str:
        """The rule in words (lang "en" or "ko"); ``labels`` maps a parameter key to its display name.

        e.g. "rainfall.total_mm ≥ 118 and rainfall.pattern in {huff_q3}: 23 of 25 runs bad (92 %), 23 of 27 bad
        runs (85 %)" / "rainfall.total_mm ≥ 118 그리고 rainfall.pattern ∈ {huff_q3}: 25회 중 23회 (92 %), 나쁜 결과
        27회 중 23회 (85 %)".
        """
        labels = labels or {}
        joiner = " 그리고 " if lang == "ko" else " and "
        where = joiner.join(c.text(lang, labels.get(c.parameter)) for c in self.conditions)
        if not where:
            where = "모든 실행" if lang == "ko" else "all runs"
        density = f"{round(100 * self.density)} %"
        coverage = f"{round(100 * self.coverage)} %"
        if lang == "ko":
            return (f"{where}: {self.n_inside}회 중 {self.n_bad_inside}회 ({density}), "
                    f"나쁜 결과 {self.n_bad}회 중 {self.n_bad_inside}회 ({coverage})")
        return (f"{where}: {self.n_bad_inside} of {self.n_inside} runs bad ({density}), "
                f"{self.n_bad_inside} of {self.n_bad} bad runs ({coverage})")


def _sig3(value: float) -> str:
    """``value`` rounded to 3 significant digits, written without exponent (118, 0.713, 12300)."""
    return str(np.format_float_positional(float(f"{float(value):.3g}"), trim="-"))


def _prepare(x: pd.DataFrame, bad: Sequence[bool] | np.ndarray | pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """Validate and normalise: numeric columns to float, others to pandas category of str; bad to bool."""
    y = np.asarray(bad)
    if y.ndim != 1 or y.size != len(x):
        raise SweepError(f"scenario discovery: bad has {y.size} values for {len(x)} members")
    if y.dtype != bool:
        if pd.isna(y).any() or not np.isin(y, [0, 1]).all():
            raise SweepError("scenario discovery: bad must hold only True/False (or 1/0)")
        y = y.astype(bool)
    if x.shape[1] == 0:
        raise SweepError("scenario discovery: no parameters")
    columns: dict[str, pd.Series] = {}
    for name in x.columns:
        column = x[name].reset_index(drop=True)
        if column.isna().any():
            raise SweepError(f"scenario discovery: parameter {name} has missing values")
        if pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype):
            columns[str(name)] = column.astype(float)
        else:
            columns[str(name)] = column.astype(str).astype("category")
    return pd.DataFrame(columns), y


def _rule(conditions: Sequence[Condition], x: pd.DataFrame, y: np.ndarray, method: str) -> Rule:
    """A Rule with coverage and density measured on all of ``x`` / ``y``."""
    rule = Rule(tuple(conditions), 0.0, 0.0, 0, 0, int(y.sum()), method)
    inside = rule.contains(x)
    n_inside = int(inside.sum())
    n_bad_inside = int((inside & y).sum())
    return Rule(rule.conditions, n_bad_inside / rule.n_bad if rule.n_bad else 0.0,
                n_bad_inside / n_inside if n_inside else 0.0, n_inside, n_bad_inside, rule.n_bad, method)


def _nothing_to_separate(y: np.ndarray) -> bool:
    """True when no member is bad or every member is bad."""
    return not y.any() or bool(y.all())


@contextmanager
def _quiet_ema() -> Iterator[None]:
    """Silence ema_workbench while it runs: its logger ("EMA") and its warnings (ipyparallel, pandas)."""
    logger = logging.getLogger(_EMA_LOGGER)
    was_disabled = logger.disabled
    logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.disabled = was_disabled


def _prim_conditions(box_lim: pd.DataFrame, box_init: pd.DataFrame, x: pd.DataFrame) -> list[Condition]:
    """Conditions for the dimensions a PRIM box restricts (bounds equal to the data range become open)."""
    conditions = []
    for name in box_init.columns:  # PRIM leaves out categorical columns with a single category
        if isinstance(x[name].dtype, pd.CategoricalDtype):
            chosen = frozenset(str(c) for c in box_lim.loc[0, name])
            if chosen != frozenset(str(c) for c in box_init.loc[0, name]):
                conditions.append(Condition(str(name), categories=chosen))
            continue
        low, high = float(box_lim.loc[0, name]), float(box_lim.loc[1, name])
        open_low = low <= float(box_init.loc[0, name])
        open_high = high >= float(box_init.loc[1, name])
        if not (open_low and open_high):
            conditions.append(Condition(str(name), None if open_low else low, None if open_high else high))
    return conditions


def prim_rules(x: pd.DataFrame, bad: Sequence[bool] | np.ndarray | pd.Series, *, threshold: float = 0.8,
               mass_min: float = 0.05) -> list[Rule]:
    """PRIM's first box as a rule (a list of 0 or 1 Rule, method "prim").

    Runs ema_workbench's Prim (binary mode, density ``threshold``, minimum box mass ``mass_min``, share of
    members). The box is chosen on the peeling/pasting trajectory without interaction: the one with the
    highest density among those with coverage >= 0.5 (ties: the higher coverage, then the earlier box).
    Only the dimensions that box restricts become conditions. No rule when nothing is bad, everything is bad,
    PRIM finds no box reaching ``threshold`` or the chosen box restricts nothing.
    """
    xp, y = _prepare(x, bad)
    if _nothing_to_separate(y):
        return []
    with _quiet_ema():
        from ema_workbench.analysis import prim

        finder = prim.Prim(xp, y.astype(int), threshold=threshold, mass_min=mass_min)
        box = finder.find_box()
        if box is None:
            return []
        trajectory = box.peeling_trajectory.reset_index(drop=True)
        candidates = trajectory[trajectory["coverage"] >= 0.5]
        order = candidates.assign(position=candidates.index).sort_values(
            ["density", "coverage", "position"], ascending=[False, False, True], kind="mergesort")
        chosen = int(order.index[0])
        conditions = _prim_conditions(box.box_lims[chosen], finder.box_init, xp)
    if not conditions:
        return []
    return [_rule(conditions, xp, y, "prim")]


def _one_hot(x: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[str, str | None]]]:
    """Numeric design matrix for the tree: float columns as they are, one 0/1 column per category.

    Returns the matrix and, per matrix column, (parameter, category or None for a numeric parameter).
    """
    parts: dict[str, Any] = {}
    origin: dict[str, tuple[str, str | None]] = {}
    for name in x.columns:
        if isinstance(x[name].dtype, pd.CategoricalDtype):
            for category in sorted(str(c) for c in x[name].cat.categories):
                key = f"{name}{_ONE_HOT_SEPARATOR}{category}"
                parts[key] = (x[name].astype(str) == category).astype(float)
                origin[key] = (str(name), category)
        else:
            parts[str(name)] = x[name]
            origin[str(name)] = (str(name), None)
    return pd.DataFrame(parts), origin


def _merge(path: Sequence[tuple[str, bool, float]], origin: Mapping[str, tuple[str, str | None]],
           x: pd.DataFrame) -> list[Condition]:
    """Merge the splits on a root-to-leaf path into one condition per parameter (in x's column order).

    ``path`` holds (matrix column, went right i.e. value > threshold, threshold).
    """
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    allowed: dict[str, set[str]] = {}
    for column, right, threshold in path:
        parameter, category = origin[column]
        if category is None:
            if right:
                lows[parameter] = max(lows.get(parameter, -np.inf), threshold)
            else:
                highs[parameter] = min(highs.get(parameter, np.inf), threshold)
            continue
        everything = {str(c) for c in x[parameter].cat.categories}
        current = allowed.setdefault(parameter, set(everything))
        if right:
            current &= {category}
        else:
            current.discard(category)
    conditions = []
    for name in x.columns:
        if name in allowed and allowed[name] != {str(c) for c in x[name].cat.categories}:
            conditions.append(Condition(str(name), categories=frozenset(allowed[name])))
        elif name in lows or name in highs:
            conditions.append(Condition(str(name), lows.get(name), highs.get(name)))
    return conditions


def tree_rules(x: pd.DataFrame, bad: Sequence[bool] | np.ndarray | pd.Series, *, max_depth: int = 3,
               min_leaf: int | None = None) -> list[Rule]:
    """One rule per leaf of a decision tree that predicts "bad" (method "tree").

    scikit-learn's DecisionTreeClassifier (gini, ``random_state=0``, ``max_depth``; ``min_samples_leaf`` =
    ``min_leaf``, by default max(5, 2 % of the members)) on the parameters with categories one-hot encoded.
    The splits on a leaf's path are merged into one condition per parameter (a split "x ≤ t" gives the upper
    bound t, "x > t" the lower bound t, read as closed bounds). Rules are sorted by density, then coverage
    (both descending). Empty when nothing is bad or everything is bad.
    """
    from sklearn.tree import DecisionTreeClassifier

    xp, y = _prepare(x, bad)
    if _nothing_to_separate(y):
        return []
    matrix, origin = _one_hot(xp)
    leaf = min_leaf if min_leaf is not None else max(5, round(0.02 * len(xp)))
    model = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf, random_state=0)
    model.fit(matrix.to_numpy(), y.astype(int))
    tree = model.tree_
    bad_class = int(np.flatnonzero(model.classes_ == 1)[0])
    rules = []
    stack: list[tuple[int, list[tuple[str, bool, float]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        left, right = int(tree.children_left[node]), int(tree.children_right[node])
        if left == -1:
            if int(np.argmax(tree.value[node][0])) == bad_class:
                conditions = _merge(path, origin, xp)
                if conditions:
                    rules.append(_rule(conditions, xp, y, "tree"))
            continue
        column, threshold = str(matrix.columns[tree.feature[node]]), float(tree.threshold[node])
        stack.append((right, [*path, (column, True, threshold)]))
        stack.append((left, [*path, (column, False, threshold)]))
    return sorted(rules, key=lambda r: (-r.density, -r.coverage))


def discover(x: pd.DataFrame, bad: Sequence[bool] | np.ndarray | pd.Series) -> list[Rule]:
    """Rules from PRIM first, then from the decision tree, with the default settings of each.

    Empty when no member is bad or every member is bad: there is nothing to separate.
    """
    _, y = _prepare(x, bad)
    if _nothing_to_separate(y):
        return []
    return prim_rules(x, bad) + tree_rules(x, bad)
