"""Statistics of a sweep's results table: KPI percentiles and exceedance probabilities.

The results table has one row per ensemble member with the columns ``member``, ``status`` ("ok" or
"failed"), ``error``, ``seed``, the parameters ``param/<key>`` and the KPIs (``kpi/<name>`` and
``<kind>/<id>/<name>``). Failed members are left out of every statistic here and only counted. KPI values
keep the unit of their column (m, s, min, ...); nothing here converts units.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..errors import SweepError

STATUS_OK = "ok"
STATUS_FAILED = "failed"
OPERATORS = (">", ">=", "<", "<=", "==")
SUMMARY_COLUMNS = ("n", "missing", "failed", "mean", "p5", "p50", "p95", "min", "max")
EXCEEDANCE_COLUMNS = ("column", "op", "threshold", "n", "count", "probability", "low", "high", "missing", "failed")


def _check_table(table: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise ValueError when ``status`` or one of ``columns`` is missing, or a status is neither ok nor failed."""
    if "status" not in table.columns:
        raise SweepError("results table has no 'status' column")
    unknown = sorted(set(table["status"].dropna().unique()) - {STATUS_OK, STATUS_FAILED})
    if unknown or table["status"].isna().any():
        raise SweepError(f"results table: status must be 'ok' or 'failed', got {unknown or [None]}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SweepError(f"results table has no column(s) {missing}")


def ok_mask(table: pd.DataFrame) -> np.ndarray:
    """Boolean array, True for members whose status is "ok" (row order of ``table``)."""
    _check_table(table, [])
    return np.asarray(table["status"].to_numpy() == STATUS_OK, dtype=bool)


def _ok_values(table: pd.DataFrame, column: str) -> np.ndarray:
    """Float values of ``column`` for the ok members (NaN kept), in row order."""
    return np.asarray(table.loc[ok_mask(table), column].to_numpy(dtype=float), dtype=float)


def kpi_summary(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Per KPI column: counts and distribution over the ok members of a sweep.

    Returns a DataFrame indexed by column name with the columns
    ``n`` (ok members with a value), ``missing`` (ok members whose value is NaN: the KPI is not defined for
    them, e.g. t90 when nobody evacuated), ``failed`` (failed members, the same for every column),
    ``mean``, ``p5``, ``p50``, ``p95``, ``min``, ``max`` over the ``n`` values, in the unit of the column.
    Percentiles are ``numpy.percentile(values, q, method="linear")`` (linear interpolation between order
    statistics, numpy's default). With ``n == 0`` the statistics are NaN.
    """
    _check_table(table, columns)
    failed = int((~ok_mask(table)).sum())
    rows: dict[str, dict[str, Any]] = {}
    for column in columns:
        values = _ok_values(table, column)
        present = values[~np.isnan(values)]
        row: dict[str, Any] = {"n": int(present.size), "missing": int(values.size - present.size), "failed": failed}
        if present.size:
            p5, p50, p95 = np.percentile(present, [5.0, 50.0, 95.0], method="linear")
            row.update(mean=float(present.mean()), p5=float(p5), p50=float(p50), p95=float(p95),
                       min=float(present.min()), max=float(present.max()))
        else:
            row.update({key: float("nan") for key in ("mean", "p5", "p50", "p95", "min", "max")})
        rows[column] = row
    summary = pd.DataFrame.from_dict(rows, orient="index", columns=list(SUMMARY_COLUMNS))
    summary.index.name = "column"
    return summary.astype({"n": int, "missing": int, "failed": int})


@dataclass(frozen=True)
class Event:
    """A threshold event on one KPI column: ``value <op> threshold`` (threshold in the column's unit).

    ``op`` is one of ``>``, ``>=``, ``<``, ``<=``, ``==``. Example: ``Event("kpi/t90_min", ">", 60.0)`` or,
    for a 0/1 indicator, ``Event("access_point/AP-JN-L07/flooded", "==", 1.0)``.
    """

    column: str
    op: str
    threshold: float

    def __post_init__(self) -> None:
        """Reject an unknown operator or a NaN threshold."""
        if self.op not in OPERATORS:
            raise SweepError(f"event on {self.column}: op must be one of {OPERATORS}, got {self.op!r}")
        if np.isnan(float(self.threshold)):
            raise SweepError(f"event on {self.column}: threshold is NaN")

    def happens(self, values: np.ndarray) -> np.ndarray:
        """Boolean array: the event happens for each value (False for NaN; callers leave NaN out first)."""
        v = np.asarray(values, dtype=float)
        t = float(self.threshold)
        with np.errstate(invalid="ignore"):
            if self.op == ">":
                return v > t
            if self.op == ">=":
                return v >= t
            if self.op == "<":
                return v < t
            if self.op == "<=":
                return v <= t
            return v == t


def wilson_interval(count: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``count / n``.

    With p = count/n and z the standard normal quantile at (1 + level)/2 (1.95996 for 95 %)::

        centre    = (p + z²/(2n)) / (1 + z²/n)
        halfwidth = z / (1 + z²/n) * sqrt(p (1 - p) / n + z² / (4 n²))
        (low, high) = (centre - halfwidth, centre + halfwidth), clipped to [0, 1]

    Returns (NaN, NaN) when n == 0.
    """
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= count <= n:
        raise SweepError(f"Wilson interval: count {count} outside 0..{n}")
    z = float(norm.ppf(0.5 + level / 2.0))
    p = count / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z / denominator * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def exceedance(table: pd.DataFrame, events: Sequence[Event], *, level: float = 0.95) -> pd.DataFrame:
    """Probability of each event over the ok members, with its Wilson score interval.

    One row per event with the columns ``column``, ``op``, ``threshold``, ``n`` (ok members with a value),
    ``count`` (members where the event happens), ``probability`` (count / n), ``low``, ``high`` (Wilson
    score interval at ``level``, 95 % by default; see :func:`wilson_interval`), ``missing`` (ok members with
    NaN) and ``failed`` (failed members). NaN values are *not* counted as "did not happen": they are left
    out of ``n`` and reported in ``missing``. With ``n == 0`` probability, low and high are NaN.
    """
    _check_table(table, [event.column for event in events])
    failed = int((~ok_mask(table)).sum())
    rows = []
    for event in events:
        values = _ok_values(table, event.column)
        present = values[~np.isnan(values)]
        count = int(event.happens(present).sum())
        n = int(present.size)
        low, high = wilson_interval(count, n, level)
        rows.append({"column": event.column, "op": event.op, "threshold": float(event.threshold), "n": n,
                     "count": count, "probability": count / n if n else float("nan"), "low": low, "high": high,
                     "missing": int(values.size - n), "failed": failed})
    return pd.DataFrame(rows, columns=list(EXCEEDANCE_COLUMNS))


def exceedance_curve(values: Iterable[float] | np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Empirical exceedance curve of ``values`` (NaN left out): sorted values x and P(X >= x).

    ``x`` is ascending (unit of the values); ``p[i]`` is the share of values greater than or equal to
    ``x[i]``, so tied values get the same p, p[0] == 1 and p decreases to 1/n at the largest distinct value.
    Empty input gives two empty arrays.
    """
    v = np.asarray(list(values) if not isinstance(values, np.ndarray | pd.Series) else values, dtype=float)
    x = np.sort(v[~np.isnan(v)])
    if x.size == 0:
        return x, np.zeros(0, dtype=float)
    p = (x.size - np.searchsorted(x, x, side="left")) / x.size
    return x, p.astype(float)
