"""Camera placement as maximal covering: the integer program against brute force, the greedy
against the integer program and its 1 − 1/e guarantee, sites, existing coverage, the budget form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from twin.models.placement import (
    brute_force_max_coverage,
    exact_max_coverage,
    greedy_max_coverage,
    min_cameras_for_share,
)

GUARANTEE = 1 - 1 / math.e


def _instances(n: int = 200):
    """Small random instances (seeded): 6-14 poses, 10-60 demand points, k 1-4; every other one
    with sites shared by several poses, every third with demand already covered."""
    rng = np.random.default_rng(20261201)
    for i in range(n):
        poses, demand = int(rng.integers(6, 15)), int(rng.integers(10, 61))
        A = sparse.csr_matrix((rng.random((poses, demand)) < 0.2).astype(np.int8))
        w = rng.random(demand) * 10
        site = rng.integers(0, poses // 2 + 1, poses) if i % 2 else None
        done = rng.random(demand) < 0.1 if i % 3 == 0 else None
        yield i, A, w, int(rng.integers(1, 5)), site, done


def test_exact_equals_brute_force_and_beats_greedy_on_every_instance():
    for i, A, w, k, site, done in _instances():
        kw = dict(site_of_pose=site, covered_already=done)
        g = greedy_max_coverage(A, w, k, **kw)
        e = exact_max_coverage(A, w, k, warm_start=g, **kw)
        b = brute_force_max_coverage(A, w, k, **kw)
        assert e.status == "optimal", i
        assert e.covered_weight >= g.covered_weight - 1e-9, i
        assert e.covered_weight == pytest.approx(b.covered_weight, abs=1e-9), i
        assert g.bound >= b.covered_weight - 1e-9, i  # the greedy's online bound is a true bound
        assert e.bound == pytest.approx(e.covered_weight, abs=1e-6) and e.gap == pytest.approx(0, abs=1e-9)
        if site is not None:
            chosen_sites = [site[j] for j in e.poses]
            assert len(set(chosen_sites)) == len(chosen_sites), i
        else:  # the cardinality-constrained greedy guarantee (Nemhauser, Wolsey & Fisher 1978)
            base = 0.0 if done is None else float(w[done].sum())
            assert g.covered_weight - base >= GUARANTEE * (b.covered_weight - base) - 1e-9, i


def test_greedy_takes_the_big_set_where_two_small_ones_are_better():
    # pose 0 sees demand 0-3 (weight 4), poses 1 and 2 each see one half plus one more point
    A = sparse.csr_matrix(np.array([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]], dtype=np.int8))
    w = np.ones(6)
    g = greedy_max_coverage(A, w, 2)
    e = exact_max_coverage(A, w, 2, warm_start=g)
    assert g.poses[0] == 0 and g.covered_weight == 5.0
    assert e.poses == (1, 2) and e.covered_weight == 6.0 and e.share == 1.0


def test_demand_already_covered_counts_without_a_camera_and_k_beyond_need_adds_nothing():
    A = sparse.csr_matrix(np.array([[1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.int8))
    w = np.array([2.0, 3.0, 5.0])
    done = np.array([True, True, False])
    p = exact_max_coverage(A, w, 3, covered_already=done)
    assert p.poses == (1,) and p.covered_weight == 10.0 and p.share == 1.0
    g = greedy_max_coverage(A, w, 3, covered_already=done)
    assert g.poses == (1,)
    assert exact_max_coverage(A, w, 0).poses == () and greedy_max_coverage(A, w, 0).covered_weight == 0.0


def test_one_camera_per_site():
    # poses 0 and 1 share a site (two headings on one pole): both would be best
    A = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0]], dtype=np.int8))
    w = np.ones(4)
    p = exact_max_coverage(A, w, 2, site_of_pose=np.array([0, 0, 1]))
    assert p.poses in ((0, 2), (1, 2)) and p.covered_weight == 3.0


def test_the_budget_form_finds_the_fewest_cameras():
    for i, A, w, _k, site, done in list(_instances(60)):
        kw = dict(site_of_pose=site, covered_already=done)
        best_all = brute_force_max_coverage(A, w, A.shape[0], **kw) if A.shape[0] <= 12 else None
        if best_all is None:
            continue
        target = 0.8 * best_all.share
        e = min_cameras_for_share(A, w, target, **kw)
        g = min_cameras_for_share(A, w, target, method="greedy", **kw)
        assert e.share >= target - 1e-9 and g.share >= target - 1e-9, i
        reach = [brute_force_max_coverage(A, w, k, **kw).share for k in range(A.shape[0] + 1)]
        fewest = next(k for k, share in enumerate(reach) if share >= target - 1e-9)
        assert len(e.poses) == fewest and len(g.poses) >= fewest, i


def test_an_unreachable_target_is_refused_with_the_reachable_share():
    A = sparse.csr_matrix(np.array([[1, 0], [1, 0]], dtype=np.int8))
    with pytest.raises(ValueError, match=r"target_share: got 0.9: the candidates reach at most 0.5000"):
        min_cameras_for_share(A, np.ones(2), 0.9)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda A: greedy_max_coverage(A, np.ones(3), -1), "k: got -1"),
        (lambda A: exact_max_coverage(A, np.ones(2), 1), "w: got 2 weights"),
        (lambda A: exact_max_coverage(A, np.array([1.0, np.nan, 1.0]), 1), "w: expected finite"),
        (lambda A: greedy_max_coverage(A, np.ones(3), 1, site_of_pose=[0]), "site_of_pose"),
        (lambda A: min_cameras_for_share(A, np.ones(3), 1.5), "target_share: got 1.5"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(sparse.csr_matrix(np.eye(3, dtype=np.int8)))


def test_the_same_instance_gives_the_same_answer():
    _, A, w, k, site, done = next(iter(_instances(1)))
    assert exact_max_coverage(A, w, k).poses == exact_max_coverage(A, w, k).poses
    assert greedy_max_coverage(A, w, k).poses == greedy_max_coverage(A, w, k).poses


def test_a_street_grid_of_a_thousand_poses_solves_to_optimality():
    """1,200 poses (300 poles × 4 headings) over 20,000 demand points: the integer program proves
    its optimum (about a second here; no time is asserted) and is at least the greedy."""
    rng = np.random.default_rng(7)
    demand = rng.uniform(0, 1000, (20000, 2))
    poles = rng.uniform(0, 1000, (300, 2))
    rows, cols = [], []
    for s, (px, py) in enumerate(poles):
        d = np.hypot(demand[:, 0] - px, demand[:, 1] - py)
        bearing = np.degrees(np.arctan2(demand[:, 0] - px, demand[:, 1] - py)) % 360
        for h in range(4):
            off = (bearing - 90 * h + 180) % 360 - 180
            seen = np.flatnonzero((d <= 40) & (np.abs(off) <= 45))
            rows.append(np.full(len(seen), 4 * s + h))
            cols.append(seen)
    A = sparse.csr_matrix(
        (np.ones(sum(map(len, rows)), np.int8), (np.concatenate(rows), np.concatenate(cols))), shape=(1200, 20000)
    )
    site = np.repeat(np.arange(300), 4)
    g = greedy_max_coverage(A, np.ones(20000), 10, site_of_pose=site)
    e = exact_max_coverage(A, np.ones(20000), 10, site_of_pose=site, warm_start=g, time_limit_s=120)
    assert e.status == "optimal" and e.covered_weight >= g.covered_weight
    assert g.covered_weight >= 0.5 * e.covered_weight  # one per site: a partition matroid, guarantee 1/2
