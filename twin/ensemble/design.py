"""Experimental designs: where in the unit hypercube [0, 1)^D a sweep's members sit, and their seeds.

- ``random``: independent uniform points (Monte Carlo);
- ``lhs``: a Latin hypercube (scipy.stats.qmc): each parameter's range cut into ``runs`` equal-probability
  strata, each stratum sampled once;
- ``grid``: every combination of a few levels per parameter (:meth:`Parameter.levels`), ``k`` levels
  for each numeric parameter with ``k`` the largest whole number such that the grid has at most
  ``runs`` points (and at least 2 levels), every value of a ``choice``;
- ``sobol``: Saltelli's scheme for Sobol indices (SALib.sample.sobol): N base points, D + 2 runs each
  (first and total order), N the largest power of two with N (D + 2) <= ``runs``.

Everything random derives from the sweep's seed through numpy's SeedSequence: child 0 draws the
design, child 1 spawns one seed per member, so adding members or changing the sampler never moves
another stream, and the design is the same on any machine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import SweepError
from .parameters import Parameter

SAMPLERS = ("lhs", "random", "grid", "sobol")
MAX_SEED = 2**31 - 1  # a member's seed is a scenario seed


@dataclass(frozen=True)
class Design:
    """``u``: the members' points (runs x D, in [0, 1]); ``seeds``: each member's scenario seed;
    ``sampler`` and ``base_samples`` (Sobol's N, else None) say how they were made."""

    u: np.ndarray
    seeds: tuple[int, ...]
    sampler: str
    base_samples: int | None = None

    @property
    def runs(self) -> int:
        return len(self.seeds)


def design(parameters: list[Parameter], runs: int, *, sampler: str, seed: int) -> Design:
    """The design of ``runs`` members (fewer for grid and sobol, see the module docstring)."""
    if sampler not in SAMPLERS:
        raise SweepError(f"--sampler: got {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    if runs < 1:
        raise SweepError(f"--runs: got {runs}: expected at least 1")
    d = len(parameters)
    root = np.random.SeedSequence(seed)
    design_seq, member_seq = root.spawn(2)
    rng = np.random.default_rng(design_seq)
    base: int | None = None
    if d == 0:
        u = np.zeros((runs, 0))
    elif sampler == "random":
        u = rng.random((runs, d))
    elif sampler == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d, seed=rng).random(runs)
    elif sampler == "grid":
        u = _grid(parameters, runs)
    else:
        base = _sobol_base(d, runs)
        from SALib.sample import sobol as salib_sobol

        problem = {"num_vars": d, "names": [p.key for p in parameters], "bounds": [[0.0, 1.0]] * d}
        design_seed = int(design_seq.generate_state(1)[0] % MAX_SEED)
        u = salib_sobol.sample(problem, base, calc_second_order=False, scramble=True, seed=design_seed)
    n = len(u)
    seeds = tuple(int(s.generate_state(1)[0] % MAX_SEED) for s in member_seq.spawn(n))
    return Design(np.asarray(u, dtype=float), seeds, sampler, base)


def _grid(parameters: list[Parameter], runs: int) -> np.ndarray:
    cats = math.prod(len(p.levels(2)) for p in parameters if p.categorical)
    numeric = [p for p in parameters if not p.categorical]
    k = 2
    while numeric and cats * _grid_size(numeric, k + 1) <= runs and _grid_size(numeric, k + 1) > _grid_size(numeric, k):
        k += 1
    axes = [p.levels(k) for p in parameters]
    size = math.prod(len(a) for a in axes)
    if size > runs:
        raise SweepError(
            f"--runs: got {runs}: expected at least {size} for a grid of "
            + " x ".join(f"{len(a)} ({p.key})" for p, a in zip(parameters, axes, strict=True))
        )
    return np.array(list(itertools.product(*axes)), dtype=float)


def _grid_size(numeric: list[Parameter], k: int) -> int:
    return math.prod(len(p.levels(k)) for p in numeric)


def _sobol_base(d: int, runs: int) -> int:
    per = d + 2
    if runs < 2 * per:
        raise SweepError(
            f"--runs: got {runs}: expected at least {2 * per} for a Sobol design of {d} parameter(s) "
            f"(2 base points x {per} runs)"
        )
    return 2 ** int(math.floor(math.log2(runs / per)))
