"""Camera placement as maximal covering: the integer program against brute force, the greedy
against the integer program and its 1 − 1/e guarantee, sites, existing coverage, the budget form."""

from __future__ import annotations

import itertools
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


def _fewest_by_enumeration(A, w, target, site, done) -> int | None:
    """The fewest poses reaching ``target`` share, by trying every subset (smallest first) with
    a dense boolean matrix: independent of the library's code."""
    dense = A.toarray() > 0
    n = dense.shape[0]
    base = np.zeros(dense.shape[1], dtype=bool) if done is None else np.asarray(done)
    for size in range(n + 1):
        for combo in itertools.combinations(range(n), size):
            if site is not None and len({int(site[j]) for j in combo}) < size:
                continue
            seen = base | dense[list(combo)].any(axis=0)
            if w[seen].sum() >= target * w.sum() - 1e-9:
                return size
    return None


def test_the_budget_form_finds_the_fewest_cameras():
    checked = 0
    for i, A, w, _k, site, done in _instances(80):
        if A.shape[0] > 11:
            continue
        kw = dict(site_of_pose=site, covered_already=done)
        best_all = brute_force_max_coverage(A, w, A.shape[0], **kw)
        target = 0.8 * best_all.share
        fewest = _fewest_by_enumeration(A, w, target, site, done)
        e = min_cameras_for_share(A, w, target, **kw)
        assert e.share >= target - 1e-9 and len(e.poses) == fewest and e.status == "optimal", i
        try:
            g = min_cameras_for_share(A, w, target, method="greedy", **kw)
        except ValueError as err:  # with sites the greedy can stop short of a reachable target
            assert site is not None and "use method='exact'" in str(err), i
        else:
            assert g.share >= target - 1e-9 and len(g.poses) >= fewest, i
        checked += 1
    assert checked >= 20


def test_the_budget_form_with_sites_reaches_what_the_greedy_cannot():
    # poses 0 and 1 share a pole; the greedy takes pose 0 (3 points, tie with pose 2 to the lower
    # index), after which pose 2 adds nothing and pose 1 is barred: 3 of 4 points. Poses 1 + 2 see all.
    A = sparse.csr_matrix(np.array([[1, 1, 1, 0], [0, 0, 0, 1], [1, 1, 1, 0]], dtype=np.int8))
    site = np.array([0, 0, 1])
    with pytest.raises(ValueError, match=r"target_share: got 1: the greedy reaches only 0.7500 .* 1.0000 is reachable"):
        min_cameras_for_share(A, np.ones(4), 1.0, site_of_pose=site, method="greedy")
    p = min_cameras_for_share(A, np.ones(4), 1.0, site_of_pose=site)
    assert p.poses == (1, 2) and p.share == 1.0 and p.status == "optimal"
    one = min_cameras_for_share(A, np.ones(4), 0.75, site_of_pose=site)
    assert one.poses in ((0,), (2,)) and one.share == 0.75  # either three-point pose will do


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
        (lambda A: min_cameras_for_share(A, np.ones(3), 0.5, method="best"), "method: got 'best'"),
        (lambda A: exact_max_coverage(A, np.ones(3), 1, time_limit_s=0), "time_limit_s: got 0"),
        (lambda A: exact_max_coverage(A.toarray()[0], np.ones(3), 1), "A: got ndarray"),
        (
            lambda A: exact_max_coverage(A, np.ones(3), 1, warm_start=greedy_max_coverage(A, np.ones(3), 2)),
            "warm_start: got poses",
        ),
        (
            lambda A: exact_max_coverage(
                A, np.ones(3), 2, site_of_pose=[0, 0, 1], warm_start=greedy_max_coverage(A, np.ones(3), 2)
            ),
            "expected at most one pose per site",
        ),
        (lambda A: brute_force_max_coverage(sparse.csr_matrix(np.ones((40, 3))), np.ones(3), 5), "k: got 5"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(sparse.csr_matrix(np.eye(3, dtype=np.int8)))


def test_stored_zeros_are_not_coverage_and_the_callers_matrix_is_left_alone():
    A = sparse.csr_matrix((np.array([0.0, 2.0, 1.0]), (np.array([0, 0, 1]), np.array([0, 1, 2]))), shape=(2, 3))
    w = np.array([5.0, 1.0, 2.0])
    g = greedy_max_coverage(A, w, 1)
    assert g.poses == (1,) and g.covered_weight == 2.0  # pose 0's stored zero does not see the 5
    assert A.data.tolist() == [0.0, 2.0, 1.0]


def test_the_greedy_bound_is_its_cover_plus_the_best_gains_left():
    # greedy: pose 0 (4 points), then poses 1 and 2 tie at one new point each, pose 1 by index:
    # covered 5; gains left 0 (pose 0), 0 (pose 1), 1 (pose 2): bound 5 + 1 + 0 = 6 (the optimum)
    A = sparse.csr_matrix(np.array([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]], dtype=np.int8))
    g = greedy_max_coverage(A, np.ones(6), 2)
    assert g.poses == (0, 1) and g.covered_weight == 5.0 and g.bound == 6.0 and g.gap == pytest.approx(1 / 6)
    assert greedy_max_coverage(A, np.ones(6), 0).bound == 0.0
    # poses 0-2 on one pole see two points each, pose 3 on another one point: greedy takes 0 then 3
    # (3 points); gains left 2, 2, 0 but only one per pole counts: bound 3 + 2 + 0 = 5, not 7
    A = sparse.csr_matrix(np.kron(np.eye(4, dtype=np.int8), np.ones((1, 2), dtype=np.int8))[:, :7])
    p = greedy_max_coverage(A, np.ones(7), 2, site_of_pose=[0, 0, 0, 1])
    assert p.poses == (0, 3) and p.covered_weight == 3.0 and p.bound == 5.0


def test_the_same_instance_gives_the_same_answer():
    _, A, w, k, site, done = next(iter(_instances(1)))
    assert exact_max_coverage(A, w, k).poses == exact_max_coverage(A, w, k).poses
    assert greedy_max_coverage(A, w, k).poses == greedy_max_coverage(A, w, k).poses


def _sector_coverage(poles, demand, headings_deg, fov_deg, range_m):
    """Poses (pole × heading, pose = len(headings) · pole + heading index) × demand points: the
    point lies within ``range_m`` of the pole and within half the field of view of the heading
    (degrees clockwise from grid north, EPSG:5186-style x east / y north metres)."""
    rows, cols = [], []
    for s, (px, py) in enumerate(poles):
        d = np.hypot(demand[:, 0] - px, demand[:, 1] - py)
        near = np.flatnonzero(d <= range_m)
        bearing = np.degrees(np.arctan2(demand[near, 0] - px, demand[near, 1] - py)) % 360
        for h, heading in enumerate(headings_deg):
            off = (bearing - heading + 180) % 360 - 180
            seen = near[np.abs(off) <= fov_deg / 2]
            rows.append(np.full(len(seen), len(headings_deg) * s + h))
            cols.append(seen)
    shape = (len(poles) * len(headings_deg), len(demand))
    return sparse.csr_matrix(
        (np.ones(sum(map(len, rows)), np.int8), (np.concatenate(rows), np.concatenate(cols))), shape
    )


def test_a_street_grid_of_a_thousand_poses_solves_to_optimality():
    """1,200 poses (300 poles × 4 headings, 90° sectors of 40 m) over 19,998 demand points every
    1.1 m along a 1 km² grid of streets 100 m apart: the integer program proves its optimum for
    k = 10 and 80 and is at least the greedy. Measured: 0.1 s to build A, 0.01 s greedy, 0.07 s
    (k = 10) and 0.13 s (k = 80) exact on 1,343 merged demand groups; no time is asserted."""
    rng = np.random.default_rng(7)
    along = np.arange(20000 // 22) * 1.1
    lines = np.arange(0, 1001, 100.0)
    demand = np.concatenate(
        [np.column_stack([np.full(len(along), c), along]) for c in lines]
        + [np.column_stack([along, np.full(len(along), c)]) for c in lines]
    )
    busy = np.where(np.isin(np.round(demand, 6), [300.0, 700.0]).any(axis=1), 3.0, 1.0)  # two main streets
    w = 1.1 * busy  # metres of street × relative footfall
    on_x = rng.random(300) < 0.5
    street, pos = rng.choice(lines, 300), rng.uniform(0, 1000, 300)
    poles = np.where(on_x[:, None], np.column_stack([street, pos]), np.column_stack([pos, street]))
    A = _sector_coverage(poles, demand, [0, 90, 180, 270], 90, 40)
    assert A.shape == (1200, 19998)  # 22 streets × 909 points
    site = np.repeat(np.arange(300), 4)
    for k in (10, 80):
        g = greedy_max_coverage(A, w, k, site_of_pose=site)
        e = exact_max_coverage(A, w, k, site_of_pose=site, warm_start=g, time_limit_s=120)
        assert e.status == "optimal" and e.covered_weight >= g.covered_weight - 1e-9, k
        assert e.gap == pytest.approx(0, abs=1e-6) and len(set(site[list(e.poses)])) == len(e.poses) == k
        seen = np.asarray(A[list(e.poses)].sum(axis=0)).ravel() > 0  # recount on the unmerged points
        assert e.covered_weight == pytest.approx(w[seen].sum(), abs=1e-9)
        assert g.covered_weight >= 0.5 * e.covered_weight  # one per site: a partition matroid, guarantee 1/2
        assert g.bound >= e.covered_weight - 1e-9
    assert e.covered_weight > g.covered_weight + 1  # for k = 80 the greedy is 0.7 % short of the optimum
