"""Sobol sensitivity indices of one KPI over a sweep sampled with SALib's Sobol' design.

The sweep samples the unit hypercube with ``SALib.sample.sobol.sample(problem, N, calc_second_order=...,
scramble=True, seed=...)`` where ``problem = sobol_problem(names)``; each row is one member, and the member
outputs ``y`` come back here in that row order. SALib lays the rows out in blocks, one block per base sample:
``A, AB_1 .. AB_D, B`` (D + 2 rows), or ``A, AB_1 .. AB_D, BA_1 .. BA_D, B`` (2 D + 2 rows) with second order.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SweepError

SOBOL_COLUMNS = ("parameter", "S1", "S1_conf", "ST", "ST_conf")


def sobol_problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib problem of ``names`` on the unit hypercube: ``num_vars``, ``names``, ``bounds`` [[0, 1]] * D."""
    names = list(names)
    if not names:
        raise SweepError("Sobol analysis needs at least one parameter")
    if len(set(names)) != len(names):
        raise SweepError(f"Sobol analysis: parameter names repeat: {names}")
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def block_size(n_params: int, calc_second_order: bool = False) -> int:
    """Rows per base sample of SALib's Sobol' design: D + 2, or 2 D + 2 with second order."""
    return 2 * n_params + 2 if calc_second_order else n_params + 2


def _salib_seed(seed: int) -> int:
    """A non-zero seed for SALib's bootstrap derived from ``seed``.

    SALib's ``analyze`` treats a falsy seed (0) as "no seed" and draws from numpy's global generator, so
    ``seed`` is mapped through numpy's SeedSequence to a positive int (the same one every time).
    """
    return int(np.random.SeedSequence(int(seed)).generate_state(1, dtype=np.uint32)[0]) or 1


def _complete_blocks(y: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Keep the base-sample blocks of ``y`` without NaN; return (kept values flattened, dropped block count)."""
    if y.ndim != 1:
        raise SweepError(f"Sobol analysis: y must be one-dimensional, got shape {y.shape}")
    if y.size == 0 or y.size % size:
        raise SweepError(f"Sobol analysis: {y.size} outputs is not a positive multiple of the block size {size} "
                         "(D + 2 rows per base sample, 2 D + 2 with second order): was the design sampled with "
                         "the same parameters and calc_second_order?")
    if np.isinf(y).any():
        raise SweepError("Sobol analysis: y holds infinite values")
    blocks = y.reshape(-1, size)
    keep = ~np.isnan(blocks).any(axis=1)
    if keep.sum() < 2:
        raise SweepError(f"Sobol analysis: only {int(keep.sum())} of {blocks.shape[0]} base samples are complete "
                         "(a failed member or an undefined KPI drops its whole block); at least 2 are needed")
    return blocks[keep].ravel(), int((~keep).sum())


def sobol_indices(names: Sequence[str], y: Sequence[float] | np.ndarray, *, calc_second_order: bool = False,
                  seed: int = 0, conf_level: float = 0.95, num_resamples: int = 1000) -> pd.DataFrame:
    """First-order and total Sobol indices of the output ``y`` for each parameter in ``names``.

    ``y`` is in the row order of SALib's Sobol' design (see the module docstring); its unit does not matter
    (the indices are shares of variance, dimensionless). Returns a DataFrame with the columns ``parameter``,
    ``S1``, ``S1_conf``, ``ST``, ``ST_conf``, one row per name in the order given; ``*_conf`` is the half
    width of the bootstrap confidence interval at ``conf_level`` (``num_resamples`` resamples, seeded from
    ``seed``, so the result is deterministic).

    Failed members (NaN in ``y``) make their whole base-sample block unusable; those blocks are dropped (the
    blocks are independent) and the count is in ``attrs["dropped_blocks"]`` (``attrs["blocks"]`` holds the
    blocks used). ValueError when ``len(y)`` is not a multiple of the block size, y holds inf, or fewer than
    2 complete blocks are left. A constant output (zero variance) has no sensitivity: all indices and their
    confidence half widths are 0. With ``calc_second_order`` the second-order indices are in
    ``attrs["S2"]`` and ``attrs["S2_conf"]`` (D x D DataFrames, upper triangle, NaN elsewhere).
    """
    problem = sobol_problem(names)
    d = problem["num_vars"]
    values, dropped = _complete_blocks(np.asarray(y, dtype=float), block_size(d, calc_second_order))
    if np.ptp(values) == 0.0:
        zeros = np.zeros(d)
        result = _frame(problem["names"], zeros, zeros, zeros, zeros)
        second: tuple[np.ndarray, np.ndarray] | None = (np.zeros((d, d)), np.zeros((d, d)))
    else:
        from SALib.analyze import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            s = sobol.analyze(problem, values, calc_second_order=calc_second_order, num_resamples=num_resamples,
                              conf_level=conf_level, seed=_salib_seed(seed))
        result = _frame(problem["names"], s["S1"], s["S1_conf"], s["ST"], s["ST_conf"])
        second = (np.asarray(s["S2"]), np.asarray(s["S2_conf"])) if calc_second_order else None
    if calc_second_order and second is not None:
        upper = np.triu(np.ones((d, d), dtype=bool), k=1)
        result.attrs["S2"] = pd.DataFrame(np.where(upper, second[0], np.nan), index=names, columns=names)
        result.attrs["S2_conf"] = pd.DataFrame(np.where(upper, second[1], np.nan), index=names, columns=names)
    result.attrs["dropped_blocks"] = dropped
    result.attrs["blocks"] = values.size // block_size(d, calc_second_order)
    return result


def _frame(names: Sequence[str], s1: Any, s1_conf: Any, st: Any, st_conf: Any) -> pd.DataFrame:
    """The result table: one row per parameter, float indices."""
    return pd.DataFrame({"parameter": list(names), "S1": np.asarray(s1, dtype=float),
                         "S1_conf": np.asarray(s1_conf, dtype=float), "ST": np.asarray(st, dtype=float),
                         "ST_conf": np.asarray(st_conf, dtype=float)}, columns=list(SOBOL_COLUMNS))
