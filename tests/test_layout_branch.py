"""Lagrangian branch and bound for the p-median: brute force and plain HiGHS as oracles."""

from itertools import combinations

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import shortest_path
from scipy.spatial.distance import cdist

from cci_geo.layout import heuristics as heur
from cci_geo.layout import p_median
from cci_geo.layout.branch import lagrangian_branch_and_bound


def graph_instance(seed, n=80, integer=True):
    """Shortest paths over a sparse random graph, as in the OR-Library instances.

    Such instances with few sites have a gap between the optimum and the linear relaxation
    (random points in the plane rarely do), so the search has to branch.
    """
    rng = np.random.default_rng(seed)
    i = np.r_[np.arange(n), rng.integers(0, n, 3 * n)]
    j = np.r_[np.roll(np.arange(n), 1), rng.integers(0, n, 3 * n)]
    c = rng.integers(1, 100, i.size).astype(float)
    if not integer:
        c += rng.random(i.size)
    cost = shortest_path(sparse.csr_array((c, (i, j)), shape=(n, n)), directed=False)
    return cost, np.ones(n)


def clustered(seed, n=40, m=14):
    rng = np.random.default_rng(seed)
    centres = rng.random((4, 2)) * 100
    d = centres[rng.integers(0, 4, n)] + rng.normal(0, 8, (n, 2))
    w = rng.integers(1, 9, n).astype(float)
    return cdist(d, rng.random((m, 2)) * 100), w


def brute_force(cost, w, p, fixed=(), allowed=None):
    m = cost.shape[1]
    pool = [j for j in range(m) if j not in fixed and (allowed is None or allowed[j])]
    return min(float(w @ cost[:, list(fixed) + list(s)].min(axis=1))
               for s in combinations(pool, p))


def plain_highs(cost, w, p):
    """The textbook formulation (x_ij <= y_j) solved to optimality by HiGHS."""
    n, m = cost.shape
    nx = n * m
    c = np.concatenate([np.zeros(m), (w[:, None] * cost).ravel()])
    xi = m + np.arange(nx)
    r = np.arange(nx)
    assign = sparse.csr_array((np.ones(nx), (np.repeat(np.arange(n), m), xi)),
                              shape=(n, m + nx))
    link = sparse.csr_array((np.r_[np.ones(nx), -np.ones(nx)],
                             (np.r_[r, r], np.r_[xi, np.tile(np.arange(m), n)])),
                            shape=(nx, m + nx))
    card = sparse.csr_array(np.r_[np.ones(m), np.zeros(nx)][None, :])
    res = milp(c, constraints=[LinearConstraint(assign, 1, 1),
                               LinearConstraint(link, -np.inf, 0),
                               LinearConstraint(card, p, p)],
               integrality=np.r_[np.ones(m), np.zeros(nx)], bounds=Bounds(0, 1),
               options={"mip_rel_gap": 0.0})
    assert res.status == 0
    return float(res.fun)


def run(cost, w, p, fixed=None, allowed=None, start=None, **kw):
    m = cost.shape[1]
    fixed = np.zeros(m, dtype=bool) if fixed is None else fixed
    allowed = np.ones(m, dtype=bool) if allowed is None else allowed
    if start is None:  # a poor start: the first allowed sites
        start = np.sort(np.concatenate([np.flatnonzero(fixed),
                                        np.flatnonzero(allowed & ~fixed)[:p]]))
    upper = heur.evaluate(cost, w, start)
    return lagrangian_branch_and_bound(cost, w, p=p, fixed=fixed, allowed=allowed, best=start,
                                       upper=upper, time_limit_s=60, **kw)


@pytest.mark.parametrize(("seed", "p"), [(0, 2), (1, 3), (2, 4), (3, 5), (4, 3), (5, 6)])
def test_matches_brute_force(seed, p):
    cost, w = clustered(seed)
    best = brute_force(cost, w, p)
    out = run(cost, w, p)
    assert out.objective == pytest.approx(best, rel=1e-12)
    assert heur.evaluate(cost, w, out.open_idx) == out.objective
    assert out.status == "optimal"
    assert best * (1 - 1e-9) <= out.bound <= out.objective
    assert out.open_idx.size == p


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize(("seed", "n", "p"), [(0, 60, 4), (1, 80, 5), (2, 80, 5), (3, 80, 5)])
def test_branches_and_matches_plain_highs(seed, n, p, integer):
    cost, w = graph_instance(seed, n, integer=integer)
    best = plain_highs(cost, w, p)
    lag = heur.lagrangian_bound(cost, w, p=p, fixed=np.zeros(n, bool),
                                allowed=np.ones(n, bool), upper=best)
    assert lag.bound < best * (1 - 1e-4)  # the root bound alone does not prove it
    out = run(cost, w, p, multipliers=lag.multipliers)
    assert out.rounds > 1
    assert out.status == "optimal"
    assert out.objective == pytest.approx(best, rel=1e-9)
    assert heur.evaluate(cost, w, out.open_idx) == out.objective
    assert best * (1 - 1e-9) <= out.bound <= out.objective


def test_default_method_takes_the_tree_and_proves_it():
    cost, w = graph_instance(2, 80, integer=False)
    best = plain_highs(cost, w, 5)
    res = p_median(cost=cost, weight=w, p=5)
    assert res.method == "lagrangian-branch-and-bound"
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.bound == pytest.approx(best, rel=1e-9)
    assert res.bound <= res.objective
    exact = p_median(cost=cost, weight=w, p=5, method="exact")
    assert exact.objective == pytest.approx(best, rel=1e-9)
    assert exact.status == "optimal"


def test_fixed_and_forbidden_sites():
    cost, w = graph_instance(4, 40)
    m = cost.shape[1]
    fixed = np.zeros(m, dtype=bool)
    fixed[[2, 7]] = True
    allowed = np.ones(m, dtype=bool)
    allowed[[0, 1, 5]] = False
    best = brute_force(cost, w, 3, fixed=(2, 7), allowed=allowed)
    out = run(cost, w, 3, fixed=fixed, allowed=allowed)
    assert out.objective == pytest.approx(best, rel=1e-12)
    assert {2, 7} <= set(out.open_idx.tolist())
    assert not set(out.open_idx.tolist()) & {0, 1, 5}
    assert out.open_idx.size == 5
    assert out.status == "optimal"
    res = p_median(cost=cost, weight=w, p=3, fixed=fixed, district=np.array(
        ["a"] * 20 + ["b"] * 20), district_max={"a": 2})
    assert res.method == "highs-radius"  # district rules still go to HiGHS


def test_zero_weight_demand_and_mip_gap():
    cost, w = graph_instance(5, 60, integer=False)
    w[::3] = 0.0
    best = plain_highs(cost, w, 4)
    out = run(cost, w, 4)
    assert out.objective == pytest.approx(best, rel=1e-9)
    assert out.status == "optimal"
    loose = run(cost, w, 4, mip_gap=0.05)
    assert loose.status in {"gap", "optimal"}
    assert loose.bound <= best * (1 + 1e-12)
    assert loose.objective - loose.bound <= 0.05 * loose.objective + 1e-9
