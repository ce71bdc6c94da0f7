"""Where to put k cameras: the maximal covering location problem (Church & ReVelle 1974) over
candidate poses, solved greedily and exactly.

Demand points i carry weights w_i ≥ 0 (metres of path, or person-seconds); a candidate pose j (a
site times a heading) sees a set of them, given as a sparse 0/1 matrix A (pose × demand). Demand
already seen by existing cameras (``covered_already``) counts without a new camera. At most one
pose per site may be chosen (one camera per pole) when ``site_of_pose`` is given.

* :func:`greedy_max_coverage`: the lazy greedy (marginal gains kept as stale upper bounds in a
  heap, exact by submodularity). It reaches at least 1 − 1/e of the optimum without sites
  (Nemhauser, Wolsey & Fisher 1978; with one pose per site, a partition matroid, the guarantee is
  1/2, Fisher et al. 1978). Its bound on the optimum is the online bound: what it covers plus
  the k largest marginal gains left, the best one per site (Minoux 1978, Leskovec et al. 2007).
* :func:`exact_max_coverage`: the integer program, built sparse and solved by HiGHS: maximise
  Σ w_i x_i s.t. x_i ≤ Σ_{j sees i} y_j, Σ y_j ≤ k, Σ_{j at site s} y_j ≤ 1, y binary,
  0 ≤ x ≤ 1 (x is integral at an optimum). Demand points seen by exactly the same poses are
  merged first (their weights summed), which shrinks the model without changing it.
* :func:`min_cameras_for_share`: the budget form, the fewest poses that see a target share.
* :func:`brute_force_max_coverage`: every combination, for tests.

Weights are in the caller's unit; ``solve_s`` is wall time, reported, never relied on.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse

BRUTE_FORCE_LIMIT = 200_000
"""Most combinations :func:`brute_force_max_coverage` will try."""


@dataclass(frozen=True)
class Placement:
    """A choice of poses: ``poses`` (sorted indices), the weight they and the existing cameras
    see (``covered_weight``) of ``total_weight``, ``share`` = covered / total, the ``method``,
    wall ``solve_s``, an upper ``bound`` on the best covered weight (None when unknown), the
    relative ``gap`` (bound − covered) / bound, and ``status`` (optimal, time_limit, greedy,
    brute_force)."""

    poses: tuple[int, ...]
    covered_weight: float
    total_weight: float
    share: float
    method: str
    solve_s: float
    bound: float | None
    gap: float | None
    status: str


@dataclass(frozen=True)
class _Model:
    """The instance reduced: poses × merged demand groups (``B``, CSR, 0/1), group weights ``W``,
    the weight already covered, the total, and each pose's site."""

    B: sparse.csr_matrix
    W: np.ndarray
    already: float
    total: float
    site: np.ndarray


def _reduce(A, w, site_of_pose, covered_already) -> _Model:
    """Check the arguments and merge the demand points seen by the same poses (deterministic:
    groups numbered in order of their first demand point)."""
    if not (sparse.issparse(A) or isinstance(A, np.ndarray)) or len(A.shape) != 2:
        raise ValueError(f"A: got {type(A).__name__}: expected a 2-D (sparse) poses × demand matrix")
    A = sparse.csr_matrix(A, dtype=float, copy=True)  # never touch the caller's matrix
    w = np.asarray(w, dtype=float)
    n_poses, n_demand = A.shape
    if w.shape != (n_demand,):
        raise ValueError(
            f"w: got {w.shape[0] if w.ndim == 1 else w.shape} weights: expected one per column of A ({n_demand})"
        )
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("w: expected finite weights ≥ 0")
    if site_of_pose is None:
        site = np.arange(n_poses)
    else:
        site = np.asarray(site_of_pose, dtype=np.int64)
        if site.shape != (n_poses,):
            raise ValueError(f"site_of_pose: got {site.shape}: expected one site per row of A ({n_poses})")
    done = np.zeros(n_demand, dtype=bool) if covered_already is None else np.asarray(covered_already, dtype=bool)
    if done.shape != (n_demand,):
        raise ValueError(f"covered_already: got {done.shape}: expected one flag per column of A ({n_demand})")
    total = float(w.sum())
    already = float(w[done].sum())
    A.eliminate_zeros()  # stored zeros are no coverage; any other entry is
    A.data[:] = 1
    open_cols = np.flatnonzero(~done & (w > 0) & (np.asarray(A.sum(axis=0)).ravel() > 0))
    csc = A[:, open_cols].tocsc()
    csc.sort_indices()
    groups: dict[bytes, int] = {}
    group_of = np.empty(len(open_cols), dtype=np.int64)
    for c in range(len(open_cols)):
        key = csc.indices[csc.indptr[c] : csc.indptr[c + 1]].tobytes()
        group_of[c] = groups.setdefault(key, len(groups))
    W = np.bincount(group_of, weights=w[open_cols], minlength=len(groups))
    merge = sparse.csr_matrix(
        (np.ones(len(open_cols)), (np.arange(len(open_cols)), group_of)), shape=(len(open_cols), len(groups))
    )
    B = (csc @ merge).tocsr()
    B.data[:] = 1
    return _Model(B, W, already, total, site)


def _covered(m: _Model, poses) -> float:
    if not len(poses):
        return m.already
    seen = np.zeros(m.B.shape[1], dtype=bool)
    for j in poses:
        seen[m.B.indices[m.B.indptr[j] : m.B.indptr[j + 1]]] = True
    return m.already + float(m.W[seen].sum())


def _result(m: _Model, poses, method: str, t0: float, bound: float | None, status: str) -> Placement:
    poses = tuple(sorted(int(j) for j in poses))
    covered = _covered(m, poses)
    gap = None if bound is None else (max(0.0, bound - covered) / bound if bound > 0 else 0.0)
    share = covered / m.total if m.total > 0 else 0.0
    return Placement(poses, covered, m.total, share, method, time.perf_counter() - t0, bound, gap, status)


def _check_k(k: int) -> None:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
        raise ValueError(f"k: got {k!r}: expected a number of cameras ≥ 0")


def _greedy(m: _Model, k: int | None, need: float | None) -> list[int]:
    """Lazy greedy: up to ``k`` poses, or until ``need`` weight is covered (beyond the already covered)."""
    B, W = m.B, m.W
    gains = B @ W
    heap = [(-g, j, 0) for j, g in enumerate(gains) if g > 0]
    heapq.heapify(heap)
    seen = np.zeros(B.shape[1], dtype=bool)
    used_sites: set[int] = set()
    chosen: list[int] = []
    got = 0.0
    while heap and (k is None or len(chosen) < k) and (need is None or got < need - 1e-9 * max(1.0, need)):
        neg, j, stamp = heapq.heappop(heap)
        if int(m.site[j]) in used_sites:
            continue
        if stamp == len(chosen):
            if -neg <= 0:
                break
            chosen.append(j)
            used_sites.add(int(m.site[j]))
            cols = B.indices[B.indptr[j] : B.indptr[j + 1]]
            got += float(W[cols[~seen[cols]]].sum())
            seen[cols] = True
            continue
        cols = B.indices[B.indptr[j] : B.indptr[j + 1]]
        g = float(W[cols[~seen[cols]]].sum())
        if g > 0:
            heapq.heappush(heap, (-g, j, len(chosen)))
    return chosen


def greedy_max_coverage(A, w, k: int, *, site_of_pose=None, covered_already=None) -> Placement:
    """The lazy greedy choice of at most ``k`` poses (fewer when no pose adds anything), ties to
    the lowest pose index, at most one pose per site of ``site_of_pose``. ``A`` is poses × demand
    (any nonzero entry: the pose sees the point), ``w`` the demand weights in the caller's unit
    (metres of path, person-seconds; no coordinates here, so no CRS), ``covered_already`` the
    points existing cameras see. ``bound`` is the online bound (covered + the k largest marginal
    gains left, the best per site), a true upper bound on the optimum; ``solve_s`` wall seconds."""
    _check_k(k)
    t0 = time.perf_counter()
    m = _reduce(A, w, site_of_pose, covered_already)
    chosen = _greedy(m, k, None)
    return _result(m, chosen, "greedy", t0, _online_bound(m, chosen, k), "greedy")


def _online_bound(m: _Model, chosen, k: int) -> float:
    """An upper bound on the best covered weight with ≤ k poses, from any feasible ``chosen``:
    f(OPT) ≤ f(S) + Σ_{j ∈ OPT} Δ_j(S) ≤ f(S) + the k largest per-site best marginal gains."""
    if k == 0:
        return m.already
    seen = np.zeros(m.B.shape[1], dtype=bool)
    for j in chosen:
        seen[m.B.indices[m.B.indptr[j] : m.B.indptr[j + 1]]] = True
    left = m.B @ (m.W * ~seen)
    _, site_row = np.unique(m.site, return_inverse=True)
    best = np.zeros(int(site_row.max()) + 1 if len(site_row) else 0)
    np.maximum.at(best, site_row, left)
    return _covered(m, chosen) + float(np.sort(best)[::-1][:k].sum())


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS prints its banner to the C stdout when created; send it to /dev/null."""
    try:
        fd = os.dup(1)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                yield
            finally:
                os.dup2(fd, 1)
    finally:
        os.close(fd)


def _solve(m: _Model, *, k: int | None, need: float | None, time_limit_s: float, warm: list[int] | None):
    """Build and solve the integer program: max coverage with ≤ k poses (``k``), or fewest poses
    covering ``need`` (``need``). Returns (chosen poses, status, dual bound of the objective)."""
    import highspy

    B, W = m.B, m.W
    n_g = B.shape[1]
    useful = np.flatnonzero(np.diff(B.indptr) > 0)
    Bu = B[useful]
    n_y = len(useful)
    # rows: one per group (x_g − Σ y ≤ 0), the cardinality or the coverage row, one per shared site
    _, site_row = np.unique(m.site[useful], return_inverse=True)
    shared = np.bincount(site_row) > 1
    site_index = np.cumsum(shared) - 1
    n_site_rows = int(shared.sum())
    bu = Bu.tocoo()
    in_shared = shared[site_row]
    site_cols = np.flatnonzero(in_shared)
    rows = [bu.col, np.full(n_y, n_g), n_g + 1 + site_index[site_row[in_shared]]]
    cols = [bu.row, np.arange(n_y), site_cols]
    vals = [-np.ones(len(bu.row)), np.ones(n_y), np.ones(len(site_cols))]
    # x columns
    rows.append(np.arange(n_g))
    cols.append(n_y + np.arange(n_g))
    vals.append(np.ones(n_g))
    if need is not None:  # the coverage row Σ W x ≥ need, in place of the cardinality row
        rows[1] = np.full(n_g, n_g)
        cols[1] = n_y + np.arange(n_g)
        vals[1] = W.astype(float)
    M = sparse.csc_matrix(
        (
            np.concatenate(vals).astype(float),
            (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)),
        ),
        shape=(n_g + 1 + n_site_rows, n_y + n_g),
    )
    M.sort_indices()
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_y + n_g, M.shape[0]
    if need is None:
        lp.col_cost_ = np.concatenate([np.zeros(n_y), W])
        lp.sense_ = highspy.ObjSense.kMaximize
        card = (-inf, float(k if k is not None else n_y))
    else:
        lp.col_cost_ = np.concatenate([np.ones(n_y), np.zeros(n_g)])
        lp.sense_ = highspy.ObjSense.kMinimize
        card = (float(need), inf)
    lp.col_lower_ = np.zeros(n_y + n_g)
    lp.col_upper_ = np.ones(n_y + n_g)
    lp.row_lower_ = np.concatenate([np.full(n_g, -inf), [card[0]], np.full(n_site_rows, -inf)])
    lp.row_upper_ = np.concatenate([np.zeros(n_g), [card[1]], np.ones(n_site_rows)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_y + [highspy.HighsVarType.kContinuous] * n_g
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    if warm:
        pos = {int(j): i for i, j in enumerate(useful)}
        y = np.zeros(n_y)
        y[[pos[j] for j in warm if j in pos]] = 1.0
        x = np.minimum(1.0, Bu.T @ y) if n_g else np.zeros(0)
        sol = highspy.HighsSolution()
        sol.col_value = list(np.concatenate([y, x]))
        sol.value_valid = True
        h.setSolution(sol)  # a start the solver rejects is only a lost hint
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kOptimal:
        text = "optimal"
    elif status == highspy.HighsModelStatus.kTimeLimit:
        text = "time_limit"
    elif status == highspy.HighsModelStatus.kInfeasible:
        return [], "infeasible", None
    else:
        text = h.modelStatusToString(status).lower().replace(" ", "_")
    values = np.asarray(h.getSolution().col_value[:n_y]) if info.primal_solution_status else np.zeros(n_y)
    chosen = [int(useful[i]) for i in np.flatnonzero(values > 0.5)]
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    return chosen, text, bound


def _check_warm(m: _Model, warm_start: Placement, k: int) -> list[int]:
    poses = [int(j) for j in warm_start.poses]
    n = m.B.shape[0]
    if any(j < 0 or j >= n for j in poses) or len(set(poses)) < len(poses) or len(poses) > k:
        raise ValueError(f"warm_start: got poses {poses}: expected at most k={k} distinct poses of 0..{n - 1}")
    sites = [int(m.site[j]) for j in poses]
    if len(set(sites)) < len(sites):
        raise ValueError(f"warm_start: got poses {poses} on sites {sites}: expected at most one pose per site")
    return poses


def _check_time(time_limit_s: float) -> None:
    if not (isinstance(time_limit_s, (int, float)) and time_limit_s > 0):
        raise ValueError(f"time_limit_s: got {time_limit_s!r}: expected seconds > 0")


def exact_max_coverage(
    A,
    w,
    k: int,
    *,
    site_of_pose=None,
    covered_already=None,
    time_limit_s: float = 60.0,
    warm_start: Placement | None = None,
) -> Placement:
    """The maximal covering integer program solved by HiGHS within ``time_limit_s`` wall seconds
    (one thread, fixed seed), started from ``warm_start`` (a feasible placement of this instance,
    e.g. the greedy's) when given; ``status`` optimal or time_limit, ``bound`` an upper bound on
    the covered weight (existing cameras included): the smaller of the solver's dual bound and the
    online bound of the poses found, and ``gap`` relative to it. Arguments
    as :func:`greedy_max_coverage` (weights in the caller's unit, indices only, no CRS)."""
    _check_k(k)
    _check_time(time_limit_s)
    t0 = time.perf_counter()
    m = _reduce(A, w, site_of_pose, covered_already)
    if k == 0 or m.B.shape[1] == 0:
        return _result(m, [], "exact", t0, m.already, "optimal")
    warm = None if warm_start is None else _check_warm(m, warm_start, k)
    chosen, status, bound = _solve(m, k=k, need=None, time_limit_s=time_limit_s, warm=warm)
    if warm is not None and _covered(m, warm) > _covered(m, chosen):
        chosen = warm  # the solver stopped before it found what it was given
    online = _online_bound(m, chosen, k)  # often far tighter than the solver's when it ran out of time
    bound = online if bound is None else min(online, m.already + bound)
    return _result(m, chosen, "exact", t0, bound, status)


def _reach(m: _Model, time_limit_s: float, warm: list[int]) -> tuple[list[int], float]:
    """The most the candidates can cover, one pose per site: (poses, upper bound on the covered
    weight, existing cameras included). Without shared sites that is every useful pose."""
    useful = np.flatnonzero(np.diff(m.B.indptr) > 0)
    n_sites = len(np.unique(m.site[useful]))
    if n_sites == len(useful):
        return [int(j) for j in useful], m.already + float(m.W.sum())
    chosen, status, bound = _solve(m, k=n_sites, need=None, time_limit_s=time_limit_s, warm=warm)
    if _covered(m, warm) > _covered(m, chosen):
        chosen = warm
    if status == "optimal" or bound is None:
        return chosen, _covered(m, chosen)
    return chosen, max(_covered(m, chosen), m.already + bound)


def min_cameras_for_share(
    A,
    w,
    target_share: float,
    *,
    site_of_pose=None,
    covered_already=None,
    method: str = "exact",
    time_limit_s: float = 60.0,
) -> Placement:
    """The fewest poses whose coverage, with the existing cameras', reaches ``target_share`` (a
    share of the total weight, 0 < share ≤ 1; weights in the caller's unit, no coordinates),
    exactly (HiGHS integer program: minimise Σ y s.t. Σ w x ≥ target · total − already, within
    ``time_limit_s`` wall seconds; ``status`` optimal or time_limit) or greedily (best poses added
    until the target is reached). ``bound`` and ``gap`` are None here (they bound covered weight).
    Raises ValueError naming ``target_share`` when even every candidate (one per site) cannot
    reach it, with the reachable share, or when the greedy cannot but the exact method could."""
    if isinstance(target_share, bool) or not (isinstance(target_share, (int, float)) and 0 < target_share <= 1):
        raise ValueError(f"target_share: got {target_share!r}: expected a share > 0 and ≤ 1")
    if method not in ("exact", "greedy"):
        raise ValueError(f"method: got {method!r}: expected exact or greedy")
    _check_time(time_limit_s)
    t0 = time.perf_counter()
    m = _reduce(A, w, site_of_pose, covered_already)
    goal = target_share * m.total
    tol = 1e-9 * max(1.0, m.total)
    need = goal - m.already
    if need <= tol:
        return _result(m, [], method, t0, None, "optimal" if method == "exact" else "greedy")
    chosen: list[int] | None = _greedy(m, None, need)
    if _covered(m, chosen) < goal - tol:
        # with shared sites the greedy may stop short of what one pose per site can reach
        best, reach = _reach(m, time_limit_s, chosen or [])
        if reach < goal - tol or m.total <= 0:
            raise ValueError(
                f"target_share: got {target_share:g}: the candidates reach at most "
                f"{reach / m.total if m.total > 0 else 0.0:.4f} of the demand (every site with its best pose)"
            )
        if method == "greedy":
            raise ValueError(
                f"target_share: got {target_share:g}: the greedy reaches only {_covered(m, chosen) / m.total:.4f} "
                f"of the demand though {reach / m.total:.4f} is reachable: use method='exact'"
            )
        chosen = best if _covered(m, best) >= goal - tol else None
    if method == "greedy":
        return _result(m, chosen, "greedy", t0, None, "greedy")
    found, status, _ = _solve(m, k=None, need=need, time_limit_s=time_limit_s, warm=chosen)
    if status == "infeasible":
        raise ValueError(f"target_share: got {target_share:g}: the candidates cannot reach it (one pose per site)")
    if chosen is not None and (not found or len(found) > len(chosen) or _covered(m, found) < goal - tol):
        found = chosen  # the solver stopped before it bettered what it was given
    return _result(m, found, "exact", t0, None, status)


def brute_force_max_coverage(A, w, k: int, *, site_of_pose=None, covered_already=None) -> Placement:
    """The best of every combination of at most ``k`` poses (at most one per site), for tests;
    arguments and units as :func:`greedy_max_coverage`, ties to the lexicographically first
    combination of the smallest size. Raises ValueError when there are more than
    :data:`BRUTE_FORCE_LIMIT` combinations."""
    _check_k(k)
    t0 = time.perf_counter()
    m = _reduce(A, w, site_of_pose, covered_already)
    n = m.B.shape[0]
    kk = min(k, n)
    tries = sum(math.comb(n, size) for size in range(kk + 1))
    if tries > BRUTE_FORCE_LIMIT:
        raise ValueError(f"k: got {k}: {tries} combinations of {n} poses, expected at most {BRUTE_FORCE_LIMIT}")
    best: tuple[float, tuple[int, ...]] = (m.already, ())
    for size in range(kk + 1):
        for combo in itertools.combinations(range(n), size):
            if len({int(m.site[j]) for j in combo}) < size:
                continue
            c = _covered(m, combo)
            if c > best[0] + 1e-12:
                best = (c, combo)
    return _result(m, best[1], "brute_force", t0, best[0], "brute_force")
