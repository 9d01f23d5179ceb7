"""Exact vertex p-center: bisection over the sorted distinct costs with set-cover tests.

For a trial radius ``r`` the question "can ``p`` sites put every demand within ``r``?" is a
set-cover feasibility problem. Before HiGHS sees it, each test is made small:

* demands already covered by fixed sites are dropped;
* a demand whose coverable sites include all of another demand's is dropped (covering the
  other covers it too), and, when only the site count matters, a site whose covered demands
  are a subset of another site's is dropped (the other does at least as well);
* a greedy cover that needs no more than ``p`` sites answers "yes" without a solve; otherwise
  HiGHS minimises the number of sites, and the answer is "no" once its bound exceeds ``p``.

The bisection starts between the largest nearest-site cost (no radius can be smaller) and the
radius of a greedy solution, so a handful of tests suffice. The time limit is checked before
every test and handed to HiGHS as the time left.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from ._milp import RowBlock, solve_milp
from .rules import SiteRules, site_blocks, site_bounds

__all__ = ["CenterOutcome", "solve_p_center"]

logger = logging.getLogger(__name__)

DOMINANCE_MAX = 4_000
"""Dominance reductions build a square overlap matrix; above this many rows/columns they skip."""


@dataclass(frozen=True)
class CenterOutcome:
    """Open sites, radius, proven lower bound and status of a p-center solve."""

    open_idx: NDArray[np.intp]
    objective: float
    bound: float
    status: str  # "optimal", "time_limit", "infeasible"
    seconds: float
    tests: int


def _undominated(N: NDArray[np.bool_], axis: int) -> NDArray[np.bool_]:
    """Mask of the rows (``axis=0``) or columns (``axis=1``) of ``N`` that are kept.

    A row is dropped when another row's set is contained in it (ties: the later one goes);
    a column is dropped when its set is contained in another column's (ties likewise).
    """
    A = (N if axis == 0 else N.T).astype(np.float32)
    size = A.sum(axis=1)
    inter = A @ A.T  # inter[a, b] = |set a & set b|
    k = size.size
    idx = np.arange(k)
    if axis == 0:
        # row a is dropped when some row b (b != a) has set b within set a
        inside = inter == size[None, :]
        strict = size[None, :] < size[:, None]
    else:
        # column a is dropped when set a lies within some column b (b != a)
        inside = inter == size[:, None]
        strict = size[:, None] < size[None, :]
    tie_break = idx[None, :] < idx[:, None]  # equal sets: keep the first
    drop = (inside & (strict | tie_break)).any(axis=1)
    return ~drop


def _packing(N: NDArray[np.bool_], limit: int, *, tries: int = 4) -> bool:
    """True when more than ``limit`` rows of ``N`` have pairwise disjoint sets.

    No site covers two such demands, so they need ``limit + 1`` sites: a proof of "no".
    Greedy on the smallest sets first, then on a few randomly perturbed orders.
    """
    size = N.sum(axis=1).astype(np.float64)
    rng = np.random.default_rng(0)
    for t in range(tries):
        key = size + (rng.random(size.size) * 0.9 if t else 0.0)
        avail = np.ones(size.size, dtype=bool)
        k = 0
        while avail.any():
            i = int(np.flatnonzero(avail)[np.argmin(key[avail])])
            k += 1
            if k > limit:
                return True
            avail &= ~N[:, N[i]].any(axis=1)
    return False


def _greedy_cover(N: NDArray[np.bool_], limit: int) -> NDArray[np.intp] | None:
    """Columns of a greedy cover of every row of ``N`` if it needs at most ``limit``."""
    left = np.ones(N.shape[0], dtype=bool)
    chosen: list[int] = []
    counts = N.sum(axis=0).astype(np.int64)
    while left.any():
        if len(chosen) >= limit:
            return None
        j = int(np.argmax(counts))
        if counts[j] == 0:
            return None
        chosen.append(j)
        newly = left & N[:, j]
        left &= ~newly
        counts -= N[newly].sum(axis=0)
    return np.asarray(chosen, dtype=np.intp)


def _swap_cover(N: NDArray[np.bool_], p: int, *, deadline: float,
                max_iter: int = 3000) -> NDArray[np.intp] | None:
    """Columns of a cover of every row of ``N`` by ``p`` columns, found by local search.

    Starts from greedy maximal coverage and swaps one open column for one closed column at a
    time, choosing the swap that most raises the weight of covered rows; rows left uncovered
    gain weight after each move (row weighting), which steers the search out of plateaus.
    Returns ``None`` when no cover is found within ``max_iter`` swaps or by ``deadline``.
    """
    n, k = N.shape
    if p <= 0 or k == 0:
        return None
    if p >= k:
        return np.arange(k) if N.any(axis=1).all() else None
    Nf = N.astype(np.float32)
    weight = np.ones(n, dtype=np.float32)
    cnt = np.zeros(n, dtype=np.int32)
    chosen = np.zeros(k, dtype=bool)
    for _ in range(p):  # greedy maximal coverage
        j = int(np.argmax(np.where(chosen, -1.0, (cnt == 0).astype(np.float32) @ Nf)))
        chosen[j] = True
        cnt += N[:, j]
    rng = np.random.default_rng(0)
    tabu = np.zeros(k, dtype=np.int64)
    for it in range(max_iter):
        uncovered = cnt == 0
        if not uncovered.any():
            return np.flatnonzero(chosen)
        if time.perf_counter() > deadline:
            return None
        inside = np.flatnonzero(chosen)
        only = (cnt == 1)[:, None] & N[:, inside]  # rows that only column `inside[a]` covers
        loss = weight @ only  # weight lost by closing each open column
        gain = (weight * uncovered) @ Nf  # weight gained by opening each column
        keep = (only * weight[:, None]).T @ Nf  # closing a and opening b keeps only_a & N_b
        delta = gain[None, :] - loss[:, None] + keep
        delta[:, chosen] = -np.inf
        delta[:, tabu > it] = -np.inf
        best = delta.max()
        if not np.isfinite(best):
            tabu[:] = 0
            continue
        a_idx, b_idx = np.nonzero(delta >= best - 1e-6)
        pick = int(rng.integers(a_idx.size))
        a, b = int(inside[a_idx[pick]]), int(b_idx[pick])
        chosen[a], chosen[b] = False, True
        cnt += N[:, b].astype(np.int32) - N[:, a].astype(np.int32)
        tabu[a] = it + 1 + int(rng.integers(1, 4))
        weight[cnt == 0] += 1.0
    return None


def _greedy_radius(C: NDArray[np.float64], rules: SiteRules) -> NDArray[np.intp]:
    """A p-center solution opening, each step, the site that lowers the radius most."""
    free = np.flatnonzero(rules.allowed & ~rules.fixed)
    fixed = np.flatnonzero(rules.fixed)
    d = C[:, fixed].min(axis=1) if fixed.size else np.full(C.shape[0], np.inf)
    chosen: list[int] = []
    avail = np.ones(free.size, dtype=bool)
    for _ in range(int(rules.p or 0)):
        cand = free[avail]
        if not cand.size:
            break
        radius = np.minimum(d[:, None], C[:, cand]).max(axis=0)
        # among ties prefer the site with the smallest total cost (a steadier choice)
        best = np.flatnonzero(radius == radius.min())
        if best.size > 1:
            tot = np.minimum(d[:, None], C[:, cand[best]]).sum(axis=0)
            best = best[[int(np.argmin(tot))]]
        j = int(cand[best[0]])
        chosen.append(j)
        avail[np.searchsorted(free, j)] = False
        d = np.minimum(d, C[:, j])
    return np.sort(np.concatenate([fixed, np.asarray(chosen, dtype=np.intp)]))


def _test(C: NDArray[np.float64], r: float, rules: SiteRules,
          time_left_s: float) -> tuple[str, NDArray[np.intp] | None]:
    """Answer "can the rules be met with every demand within ``r``?".

    Returns ``("yes", open_idx)``, ``("no", None)`` or ``("unknown", None)`` (time ran out).
    """
    m = C.shape[1]
    fixed = np.flatnonzero(rules.fixed)
    rows = np.ones(C.shape[0], dtype=bool)
    if fixed.size:
        rows &= ~(C[:, fixed] <= r).any(axis=1)
    usable = rules.allowed & ~rules.fixed
    N = C[np.ix_(rows, usable)] <= r if rows.any() else np.zeros((0, int(usable.sum())), bool)
    cols = np.flatnonzero(usable)
    if N.shape[0] and not N.any(axis=1).all():
        return "no", None
    if rules.p is not None and N.shape[0] and _packing(N, int(rules.p)):
        return "no", None
    if N.shape[0] and N.shape[0] <= DOMINANCE_MAX:
        N = N[_undominated(N, 0)]
    simple = not rules.has_side_rules
    if simple:
        if N.shape[0] == 0:
            return "yes", np.sort(np.concatenate([fixed, cols[: int(rules.p or 0)]]))
        keep: NDArray[np.bool_] = np.asarray(N.any(axis=0), dtype=bool)
        if keep.sum() <= DOMINANCE_MAX:
            keep[keep] = _undominated(N[:, keep], 1)
        N, cols = N[:, keep], cols[keep]
        p = int(rules.p or 0)
        greedy = _greedy_cover(N, p)
        if greedy is not None:
            return "yes", _pad(cols[greedy], fixed, usable, p)
        # A local search finds most hard "yes" covers quickly; HiGHS then gets the time left
        # (a short first HiGHS try does not help: its time limit is checked too rarely).
        found = _swap_cover(N, p, deadline=time.perf_counter() + min(time_left_s * 0.25, 3.0))
        if found is not None:
            return "yes", _pad(cols[found], fixed, usable, p)
        answer, sol = _cover_milp(N, p, time_left_s - min(time_left_s * 0.25, 3.0))
        return answer, None if sol is None else _pad(cols[sol], fixed, usable, p)
    # District or budget rules: keep every site (they may be needed for the rules).
    full = np.zeros((N.shape[0], m))
    full[:, cols] = N
    A = sparse.csr_array(full)
    blocks = [RowBlock("coverage", A, np.ones(N.shape[0]), np.full(N.shape[0], np.inf)),
              *site_blocks(rules, m, 0)]
    lb, ub = site_bounds(rules)
    out = solve_milp(np.zeros(m), blocks, integrality=np.ones(m, np.int8), lb=lb, ub=ub,
                     time_limit_s=time_left_s, mip_gap=0.0)
    if out.x is not None:
        return "yes", np.flatnonzero(out.x > 0.5)
    return ("no" if out.status == "infeasible" else "unknown"), None


def _cover_milp(N: NDArray[np.bool_], p: int,
                time_limit_s: float) -> tuple[str, NDArray[np.intp] | None]:
    """Cover every row of ``N`` with the fewest columns (at most ``p``) with HiGHS."""
    k = N.shape[1]
    A = sparse.csr_array(N.astype(np.float64))
    blocks = [RowBlock("coverage", A, np.ones(N.shape[0]), np.full(N.shape[0], np.inf)),
              RowBlock("p", sparse.csr_array(np.ones((1, k))), np.zeros(1),
                       np.array([float(p)]))]
    out = solve_milp(np.ones(k), blocks, integrality=np.ones(k, np.int8), lb=np.zeros(k),
                     ub=np.ones(k), time_limit_s=time_limit_s, mip_gap=0.0)
    if out.x is not None:  # any cover within p (optimal or not) answers "yes"
        return "yes", np.flatnonzero(out.x > 0.5)
    if out.status == "infeasible" or out.bound > p + 1e-6:
        return "no", None
    return "unknown", None


def _pad(chosen: NDArray[np.intp], fixed: NDArray[np.intp], usable: NDArray[np.bool_],
         p: int) -> NDArray[np.intp]:
    """Fixed sites, ``chosen``, and further usable sites until ``p`` new ones are open."""
    chosen = np.asarray(chosen, dtype=np.intp)
    need = p - chosen.size
    if need > 0:
        spare = np.setdiff1d(np.flatnonzero(usable), chosen)[:need]
        chosen = np.concatenate([chosen, spare])
    return np.sort(np.concatenate([fixed, chosen]))


def solve_p_center(C: NDArray[np.float64], rules: SiteRules, *,
                   time_limit_s: float) -> CenterOutcome:
    """Minimise the largest demand-to-nearest-site cost under ``rules`` (see the module).

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> from cci_geo.layout.costs import prepare_instance
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> inst = prepare_instance(None, None, cost=np.abs(x[:, None] - x[None, :]))
    >>> from cci_geo.layout.rules import build_rules
    >>> rules = build_rules(inst, p=2)
    >>> out = solve_p_center(inst.cost, rules, time_limit_s=10)
    >>> out.open_idx.tolist(), out.objective, out.status    # nobody is more than 10 km away
    ([1, 4], 10.0, 'optimal')
    """
    t0 = time.perf_counter()
    usable = rules.allowed | rules.fixed
    lower = float(C[:, usable].min(axis=1).max())
    best: NDArray[np.intp] | None = None
    upper = math.inf
    if not rules.has_side_rules:
        best = _greedy_radius(C, rules)
        upper = float(C[:, best].min(axis=1).max())
    radii = np.unique(C[:, usable])
    radii = radii[(radii >= lower) & (radii <= upper)]
    lo, hi = 0, radii.size - 1
    if best is not None:
        hi -= 1  # the greedy radius itself is known feasible
    status, tests = "optimal", 0
    while lo <= hi:
        mid = (lo + hi) // 2
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0:
            status = "time_limit"
            break
        tests += 1
        answer, sol = _test(C, float(radii[mid]), rules, left)
        logger.debug("p-center test r=%g: %s (%.2fs)", radii[mid], answer,
                     time.perf_counter() - t0)
        if answer == "yes" and sol is not None:
            best = sol
            radius = float(C[:, sol].min(axis=1).max())
            hi = min(mid, int(np.searchsorted(radii, radius))) - 1
        elif answer == "no":
            lo = mid + 1
        else:
            status = "time_limit"
            break
    secs = time.perf_counter() - t0
    if best is None:
        return CenterOutcome(np.array([], dtype=np.intp), math.inf,
                             float(radii[lo]) if lo < radii.size else math.inf,
                             "infeasible" if status == "optimal" else status, secs, tests)
    objective = float(C[:, best].min(axis=1).max())
    bound = float(radii[lo]) if lo < radii.size else objective
    return CenterOutcome(best, objective, min(bound, objective), status, secs, tests)
