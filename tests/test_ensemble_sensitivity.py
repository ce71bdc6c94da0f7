"""Sobol indices from SALib's Sobol' design: the Ishigami benchmark, a dummy parameter, dropped blocks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from SALib.sample import sobol as sobol_sample

from twin.ensemble.sensitivity import block_size, sobol_indices, sobol_problem

A, B = 7.0, 0.1
NAMES = ["x1", "x2", "x3"]


def _design(names, n, *, second_order=False, seed=0):
    """Unit-hypercube design in SALib's row order."""
    return sobol_sample.sample(sobol_problem(names), n, calc_second_order=second_order, scramble=True, seed=seed)


def _ishigami(u):
    """Ishigami function on x = -pi + 2 pi u."""
    x = -np.pi + 2.0 * np.pi * u
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def _ishigami_analytic():
    """Closed-form S1, ST and S13 of the Ishigami function."""
    v = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
    s1 = np.array([v1, v2, 0.0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    return s1, st, v13 / v


def test_analytic_values_are_the_known_ones():
    s1, st, _ = _ishigami_analytic()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)


def test_ishigami_within_confidence():
    u = _design(NAMES, 2**12)
    result = sobol_indices(NAMES, _ishigami(u), seed=0)
    s1, st, _ = _ishigami_analytic()
    assert result["parameter"].tolist() == NAMES
    assert np.all(np.abs(result["S1"].to_numpy() - s1) <= result["S1_conf"].to_numpy())
    assert np.all(np.abs(result["ST"].to_numpy() - st) <= result["ST_conf"].to_numpy())
    assert np.all(result["ST_conf"].to_numpy() < 0.06)
    assert result.attrs["dropped_blocks"] == 0
    assert result.attrs["blocks"] == 2**12


def test_ishigami_second_order():
    u = _design(NAMES, 2**12, second_order=True)
    result = sobol_indices(NAMES, _ishigami(u), calc_second_order=True, seed=1)
    s1, st, s13 = _ishigami_analytic()
    assert np.all(np.abs(result["S1"].to_numpy() - s1) <= result["S1_conf"].to_numpy())
    assert np.all(np.abs(result["ST"].to_numpy() - st) <= result["ST_conf"].to_numpy())
    s2, s2_conf = result.attrs["S2"], result.attrs["S2_conf"]
    assert abs(s2.loc["x1", "x3"] - s13) <= s2_conf.loc["x1", "x3"]
    assert abs(s2.loc["x1", "x2"]) <= s2_conf.loc["x1", "x2"]
    assert np.isnan(s2.loc["x3", "x1"])


def test_parameter_without_influence_is_zero():
    names = ["rain", "dummy", "inflow"]
    u = _design(names, 2**10, seed=3)
    y = 3.0 * u[:, 0] + u[:, 2] ** 2
    result = sobol_indices(names, y, seed=3).set_index("parameter")
    assert abs(result.loc["dummy", "S1"]) <= result.loc["dummy", "S1_conf"] + 1e-12
    assert abs(result.loc["dummy", "ST"]) <= result.loc["dummy", "ST_conf"] + 1e-12
    assert result.loc["dummy", "ST"] == pytest.approx(0.0, abs=1e-12)
    assert result.loc["rain", "ST"] > 0.5


def test_failed_members_drop_their_blocks():
    u = _design(NAMES, 2**8)
    y = _ishigami(u)
    size = block_size(3)
    assert size == 5
    y_failed = y.copy()
    y_failed[[0, 3, 5 * 7 + 2]] = np.nan  # two members of block 0, one of block 7
    result = sobol_indices(NAMES, y_failed, seed=5)
    assert result.attrs["dropped_blocks"] == 2
    assert result.attrs["blocks"] == 2**8 - 2
    kept = np.delete(y.reshape(-1, size), [0, 7], axis=0).ravel()
    expected = sobol_indices(NAMES, kept, seed=5)
    assert result[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy() == pytest.approx(
        expected[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy())
    assert expected.attrs["dropped_blocks"] == 0


def test_too_few_blocks_or_wrong_length_raise():
    y = np.arange(15, dtype=float)
    y[[1, 6]] = np.nan  # blocks 0 and 1 broken: 1 of 3 left
    with pytest.raises(ValueError, match="only 1 of 3"):
        sobol_indices(NAMES, y)
    with pytest.raises(ValueError, match="multiple of the block size 5"):
        sobol_indices(NAMES, np.arange(14, dtype=float))
    with pytest.raises(ValueError, match="block size 8"):
        sobol_indices(NAMES, np.arange(10, dtype=float), calc_second_order=True)


def test_constant_output_has_no_sensitivity_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sobol_indices(NAMES, np.full(5 * 16, 2.5))
    assert result[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy().tolist() == [[0.0] * 4] * 3


def test_deterministic_including_seed_zero():
    u = _design(NAMES, 2**8)
    y = _ishigami(u)
    first = sobol_indices(NAMES, y, seed=0, num_resamples=200)
    second = sobol_indices(NAMES, y, seed=0, num_resamples=200)
    other = sobol_indices(NAMES, y, seed=1, num_resamples=200)
    assert first.equals(second)
    assert not np.allclose(first["S1_conf"], other["S1_conf"])
