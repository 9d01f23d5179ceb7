"""p-median heuristics and bounds: greedy, vertex substitution, Lagrangian relaxation.

* :func:`greedy` adds, one at a time, the site that saves the most weighted cost.
* :func:`interchange` is Teitz and Bart's vertex substitution in the fast form of Whitaker
  (1983) and Resende and Werneck (2007): every (insert, remove) swap is priced at once from
  each demand's nearest and second-nearest open site, and the best swap is applied until no
  swap improves.
* :func:`lagrangian_bound` relaxes the assignment constraints ``sum_j x_ij = 1`` with
  multipliers ``lambda_i`` and maximises the dual by subgradient steps; any multipliers give a
  valid lower bound on the optimum. :func:`lagrangian_fixing` uses the bound to close (or
  force open) sites that cannot (or must) be in any solution cheaper than a known one.

All functions work on a dense cost matrix processed in row chunks, so memory stays bounded
for 20,000 x 2,000 instances.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = [
    "LagrangeOutcome",
    "evaluate",
    "greedy",
    "interchange",
    "lagrangian_bound",
    "lagrangian_fixing",
    "nearest_two",
]

logger = logging.getLogger(__name__)

_CHUNK = 2048


def _chunks(n: int) -> Iterator[slice]:
    for s in range(0, n, _CHUNK):
        yield slice(s, min(n, s + _CHUNK))


def evaluate(cost: NDArray[np.float64], weights: NDArray[np.float64],
             open_idx: NDArray[np.intp]) -> float:
    """Return ``sum_i w_i min_{j in open} c_ij``.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> cost, w = np.abs(x[:, None] - x[None, :]), np.ones(5)
    >>> evaluate(cost, w, np.array([0, 2]))     # 0 + 1 + 0 + 1 + 20
    22.0
    """
    total = 0.0
    for sl in _chunks(cost.shape[0]):
        total += float(weights[sl] @ cost[sl][:, open_idx].min(axis=1))
    return total


def nearest_two(cost: NDArray[np.float64], open_idx: NDArray[np.intp]
                ) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.float64]]:
    """Return each demand's nearest open cost, its position in ``open_idx``, and the second.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> cost, w = np.abs(x[:, None] - x[None, :]), np.ones(5)
    >>> d1, phi, d2 = nearest_two(cost, np.array([0, 2]))
    >>> d1.tolist(), phi.tolist(), d2.tolist()
    ([0.0, 1.0, 0.0, 1.0, 20.0], [0, 0, 1, 1, 1], [10.0, 9.0, 10.0, 11.0, 30.0])
    """
    n = cost.shape[0]
    d1 = np.empty(n)
    d2 = np.full(n, np.inf)
    phi = np.empty(n, dtype=np.intp)
    for sl in _chunks(n):
        sub = cost[sl][:, open_idx]
        phi[sl] = sub.argmin(axis=1)
        rows = np.arange(sub.shape[0])
        d1[sl] = sub[rows, phi[sl]]
        if sub.shape[1] > 1:
            sub[rows, phi[sl]] = np.inf
            d2[sl] = sub.min(axis=1)
    return d1, phi, d2


def greedy(cost: NDArray[np.float64], weights: NDArray[np.float64], *, p: int,
           fixed: NDArray[np.bool_], allowed: NDArray[np.bool_],
           rng: np.random.Generator | None = None, rcl: int = 1) -> NDArray[np.intp]:
    """Open ``p`` sites besides ``fixed``, each time the one with the largest saving.

    With ``rng`` and ``rcl > 1`` each step picks at random among the ``rcl`` best sites
    (a randomised greedy start for multi-start runs).

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> cost, w = np.abs(x[:, None] - x[None, :]), np.ones(5)
    >>> none, every = np.zeros(5, dtype=bool), np.ones(5, dtype=bool)
    >>> greedy(cost, w, p=2, fixed=none, allowed=every).tolist()  # the middle, then 30 km
    [2, 4]
    >>> fixed = none.copy(); fixed[0] = True
    >>> greedy(cost, w, p=1, fixed=fixed, allowed=every).tolist()  # fixed sites come first
    [0, 3]
    """
    n, m = cost.shape
    chosen: list[int] = np.flatnonzero(fixed).tolist()
    d1 = cost[:, chosen].min(axis=1) if chosen else np.full(n, np.inf)
    free = allowed & ~fixed
    for _ in range(p):
        score = np.zeros(m)
        for sl in _chunks(n):
            if chosen:
                score += weights[sl] @ np.maximum(d1[sl, None] - cost[sl], 0.0)
            else:
                score -= weights[sl] @ cost[sl]
        score[~free] = -np.inf
        if rng is not None and rcl > 1:
            top = np.argsort(-score, kind="stable")[: min(rcl, int(free.sum()))]
            j = int(rng.choice(top))
        else:
            j = int(np.argmax(score))
        chosen.append(j)
        free[j] = False
        d1 = np.minimum(d1, cost[:, j])
    return np.array(sorted(chosen), dtype=np.intp)


def interchange(cost: NDArray[np.float64], weights: NDArray[np.float64],
                open_idx: NDArray[np.intp], *, fixed: NDArray[np.bool_],
                allowed: NDArray[np.bool_], time_limit_s: float = math.inf,
                max_swaps: int = 10_000) -> tuple[NDArray[np.intp], float, int]:
    """Improve ``open_idx`` by best-improvement vertex substitution until no swap helps.

    Returns the open sites, their objective and the number of swaps made.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> cost, w = np.abs(x[:, None] - x[None, :]), np.ones(5)
    >>> none, every = np.zeros(5, dtype=bool), np.ones(5, dtype=bool)
    >>> sites, objective, swaps = interchange(cost, w, np.array([0, 1]), fixed=none,
    ...                                       allowed=every)
    >>> sites.tolist(), objective, swaps
    ([1, 4], 20.0, 1)
    """
    t0 = time.perf_counter()
    n, m = cost.shape
    current = np.array(open_idx, dtype=np.intp)
    removable = ~fixed[current]
    if not removable.any():
        return current, evaluate(cost, weights, current), 0
    if current.size == 1:
        col = np.zeros(m)
        for sl in _chunks(n):
            col += weights[sl] @ cost[sl]
        col[~allowed | fixed] = np.inf
        best = np.array([int(np.argmin(col))], dtype=np.intp)
        return best, float(col[best[0]]), int(best[0] != current[0])
    swaps = 0
    while swaps < max_swaps and time.perf_counter() - t0 < time_limit_s:
        d1, phi, d2 = nearest_two(cost, current)
        P = current.size
        obj = float(weights @ d1)
        loss = np.bincount(phi, weights * (d2 - d1), minlength=P)
        gain = np.zeros(m)
        extra = np.zeros((P, m))
        for sl in _chunks(n):
            c = cost[sl]
            w = weights[sl]
            gain += w @ np.maximum(d1[sl, None] - c, 0.0)
            a = np.maximum(c, d1[sl, None])
            np.subtract(d2[sl, None], a, out=a)
            np.maximum(a, 0.0, out=a)
            a *= w[:, None]
            k = a.shape[0]
            onehot = sparse.csr_array((np.ones(k), (phi[sl], np.arange(k))), shape=(P, k))
            extra += onehot @ a
        profit = gain[None, :] - loss[:, None] + extra
        is_open = np.zeros(m, dtype=bool)
        is_open[current] = True
        profit[:, ~allowed | is_open | fixed] = -np.inf
        profit[~removable, :] = -np.inf
        f, j = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if not profit[f, j] > 1e-9 * max(abs(obj), 1.0):
            break
        current[f] = j
        swaps += 1
        logger.debug("swap %d: out %d in %d saves %.6g", swaps, f, j, profit[f, j])
    order = np.argsort(current)
    current = current[order]
    return current, evaluate(cost, weights, current), swaps


@dataclass(frozen=True)
class LagrangeOutcome:
    """Best Lagrangian lower bound found and the site values ``rho`` that produced it."""

    bound: float
    rho: NDArray[np.float64]
    multipliers: NDArray[np.float64]
    iterations: int
    seconds: float


def lagrangian_bound(cost: NDArray[np.float64], weights: NDArray[np.float64], *, p: int,
                     fixed: NDArray[np.bool_], allowed: NDArray[np.bool_], upper: float,
                     start: NDArray[np.float64] | None = None, neighbours: int = 400,
                     max_iter: int = 5000, time_limit_s: float = 30.0,
                     target_gap: float = 1e-6, lists: Neighbours | None = None
                     ) -> LagrangeOutcome:
    """Maximise the Lagrangian dual of the p-median problem by subgradient optimisation.

    Parameters
    ----------
    cost, weights
        Cost matrix and demand weights.
    p
        Number of sites to open besides ``fixed``.
    fixed, allowed
        Sites that stay open; sites that may open.
    upper
        Objective of a known solution (the Polyak step target).
    start
        Initial multipliers (e.g. each demand's weighted cost in that solution).
    neighbours
        Only each demand's ``neighbours`` cheapest sites enter the relaxation; its multiplier
        is capped at the next cost so the bound stays valid.
    max_iter, time_limit_s
        Stopping rules.
    target_gap
        Stop once ``(upper - bound) / upper`` is below this.
    lists
        Precomputed neighbour lists over the allowed and fixed sites (their last entry per
        demand caps the multiplier); replaces ``neighbours``.

    Returns
    -------
    LagrangeOutcome
        The best bound, the site values ``rho`` (sum of negative reduced costs) at it, and the
        multipliers.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> cost, w = np.abs(x[:, None] - x[None, :]), np.ones(5)
    >>> none, every = np.zeros(5, dtype=bool), np.ones(5, dtype=bool)
    >>> upper = evaluate(cost, w, np.array([2, 4]))   # a solution, e.g. from greedy
    >>> lag = lagrangian_bound(cost, w, p=2, fixed=none, allowed=every, upper=upper)
    >>> upper, round(lag.bound, 6)                   # the bound proves it optimal
    (20.0, 20.0)
    """
    t0 = time.perf_counter()
    n, m = cost.shape
    cols = np.flatnonzero(allowed | fixed)
    if lists is not None and lists.cols.size // n < cols.size:
        nb, k = lists, lists.cols.size // n - 1
    else:
        k = min(neighbours, cols.size)
        nb = _neighbour_lists(cost, cols, k + 1 if k < cols.size else k)
    cap = np.full(n, np.inf)
    if k < cols.size:
        cap = nb.costs.reshape(n, k + 1)[:, k] * weights
        keep = np.tile(np.arange(k + 1) < k, n)
        rows, ecol, ecost = nb.rows[keep], nb.cols[keep], nb.costs[keep]
    else:
        rows, ecol, ecost = nb.rows, nb.cols, nb.costs
    if fixed.any():
        cap = np.minimum(cap, weights * cost[:, fixed].min(axis=1))
    # Column-major layout: rho is a segmented sum, and an open column's entries are a slice.
    order = np.argsort(ecol, kind="stable")
    rows, ecol = rows[order], ecol[order]
    wc = ecost[order] * weights[rows]
    starts = np.searchsorted(ecol, np.arange(m))
    ends = np.searchsorted(ecol, np.arange(m), side="right")
    nonempty = starts < ends
    lam = np.minimum(start if start is not None else weights * ecost.reshape(n, -1)[:, 0], cap)
    free = np.flatnonzero(allowed & ~fixed)
    fixed_idx = np.flatnonzero(fixed)
    best = LagrangeOutcome(-math.inf, np.zeros(m), lam.copy(), 0, 0.0)
    theta, stall, it = 2.0, 0, 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        diff = wc - lam[rows]
        np.minimum(diff, 0.0, out=diff)
        rho = np.zeros(m)
        if diff.size:
            rho[nonempty] = np.add.reduceat(diff, starts[nonempty])
        chosen = free[np.argpartition(rho[free], p - 1)[:p]] if p > 0 else free[:0]
        bound = float(lam.sum() + rho[fixed_idx].sum() + rho[chosen].sum())
        if bound > best.bound:
            best = LagrangeOutcome(bound, rho, lam.copy(), it, 0.0)
            stall = 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2.0, 0
        if upper - best.bound <= target_gap * max(abs(upper), 1.0) or theta < 1e-6:
            break
        if time.perf_counter() - t0 > time_limit_s:
            break
        served = np.zeros(n)
        for j in np.concatenate([fixed_idx, chosen]):
            sl = slice(starts[j], ends[j])
            hit = diff[sl] < 0
            served[rows[sl][hit]] += 1.0
        g = 1.0 - served
        g[(g > 0) & (lam >= cap)] = 0.0
        norm = float(g @ g)
        if norm == 0.0:
            break
        lam = np.clip(lam + theta * (upper - bound) / norm * g, 0.0, cap)
    secs = time.perf_counter() - t0
    logger.debug("Lagrangian bound %.6g after %d iterations (%.2fs)", best.bound, it, secs)
    return LagrangeOutcome(best.bound, best.rho, best.multipliers, it, secs)


def lagrangian_fixing(lag: LagrangeOutcome, *, p: int, fixed: NDArray[np.bool_],
                      allowed: NDArray[np.bool_], upper: float
                      ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Return masks of sites that are closed / open in every solution cheaper than ``upper``.

    Forcing a site against the Lagrangian choice raises the bound by a known amount; if the
    raised bound exceeds ``upper`` the site is fixed (a standard reduced-cost test).

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> cost, w = np.abs(x[:, None] - x[None, :]), np.ones(5)
    >>> none, every = np.zeros(5, dtype=bool), np.ones(5, dtype=bool)
    >>> lag = lagrangian_bound(cost, w, p=2, fixed=none, allowed=every, upper=20.0)
    >>> closed, opened = lagrangian_fixing(lag, p=2, fixed=none, allowed=every, upper=20.0)
    >>> np.flatnonzero(closed).tolist(), np.flatnonzero(opened).tolist()
    ([0, 3], [4])
    """
    m = lag.rho.size
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    free = np.flatnonzero(allowed & ~fixed)
    if p <= 0 or free.size <= p:
        return closed, opened
    order = free[np.argsort(lag.rho[free], kind="stable")]
    rho_in = lag.rho[order[p - 1]]
    rho_out = lag.rho[order[p]]
    limit = upper + 1e-9 * max(abs(upper), 1.0)
    outside = order[p:]
    closed[outside[lag.bound - rho_in + lag.rho[outside] > limit]] = True
    inside = order[:p]
    opened[inside[lag.bound - lag.rho[inside] + rho_out > limit]] = True
    return closed, opened


@dataclass(frozen=True)
class Neighbours:
    """Each demand's ``k`` cheapest sites, flattened: rows, columns and costs (sorted)."""

    rows: NDArray[np.intp]
    cols: NDArray[np.intp]
    costs: NDArray[np.float64]
    last: NDArray[np.float64]  # cost of each demand's k-th site (its list's reach)


def _neighbour_lists(cost: NDArray[np.float64], cols: NDArray[np.intp], k: int) -> Neighbours:
    """Return the ``k`` cheapest of ``cols`` for every demand (row chunks, bounded memory)."""
    n = cost.shape[0]
    k = min(k, cols.size)
    idx = np.empty((n, k), dtype=np.intp)
    val = np.empty((n, k))
    for sl in _chunks(n):
        sub = cost[sl][:, cols]
        part = np.argpartition(sub, k - 1, axis=1)[:, :k] if k < cols.size else \
            np.broadcast_to(np.arange(k), (sub.shape[0], k))
        v = np.take_along_axis(sub, part, axis=1)
        order = np.argsort(v, axis=1)
        idx[sl] = cols[np.take_along_axis(part, order, axis=1)]
        val[sl] = np.take_along_axis(v, order, axis=1)
    return Neighbours(np.repeat(np.arange(n), k), idx.ravel(), val.ravel(), val[:, -1].copy())


def sparse_swap_search(cost: NDArray[np.float64], weights: NDArray[np.float64],
                       open_idx: NDArray[np.intp], nb: Neighbours, *,
                       fixed: NDArray[np.bool_], allowed: NDArray[np.bool_],
                       time_limit_s: float = math.inf) -> tuple[NDArray[np.intp], int]:
    """Vertex substitution priced on neighbour lists only.

    A swap's saving is under-estimated when a demand's second-nearest open site lies beyond
    its list, so every applied swap truly improves; :func:`interchange` on the full matrix
    afterwards certifies the local optimum.
    """
    t0 = time.perf_counter()
    m = cost.shape[1]
    current = np.array(open_idx, dtype=np.intp)
    removable = ~fixed[current]
    swaps = 0
    w_e = weights[nb.rows]
    while time.perf_counter() - t0 < time_limit_s and current.size > 1 and removable.any():
        d1, phi, d2 = nearest_two(cost, current)
        P = current.size
        d1e, d2e = d1[nb.rows], d2[nb.rows]
        g = nb.costs < d1e
        gain = np.bincount(nb.cols[g], w_e[g] * (d1e[g] - nb.costs[g]), minlength=m)
        e = nb.costs < d2e
        val = w_e[e] * (d2e[e] - np.maximum(nb.costs[e], d1e[e]))
        extra = np.bincount(phi[nb.rows[e]] * m + nb.cols[e], val, minlength=P * m)
        loss = np.bincount(phi, weights * (d2 - d1), minlength=P)
        profit = gain[None, :] - loss[:, None] + extra.reshape(P, m)
        is_open = np.zeros(m, dtype=bool)
        is_open[current] = True
        profit[:, ~allowed | is_open | fixed] = -np.inf
        profit[~removable, :] = -np.inf
        f, j = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if not profit[f, j] > 1e-9 * max(float(weights @ d1), 1.0):
            break
        current[f] = j
        swaps += 1
    return np.sort(current), swaps


def sparse_greedy(cost: NDArray[np.float64], weights: NDArray[np.float64], nb: Neighbours, *,
                  p: int, fixed: NDArray[np.bool_], allowed: NDArray[np.bool_]
                  ) -> NDArray[np.intp]:
    """Greedy adding on neighbour lists (full-matrix steps while lists do not reach d1)."""
    n, m = cost.shape
    chosen: list[int] = np.flatnonzero(fixed).tolist()
    d1 = cost[:, chosen].min(axis=1) if chosen else np.full(n, np.inf)
    free = allowed & ~fixed
    w_e = weights[nb.rows]
    for _ in range(p):
        if np.mean(d1 > nb.last) > 0.5:
            score = np.zeros(m)
            for sl in _chunks(n):
                if chosen:
                    score += weights[sl] @ np.maximum(d1[sl, None] - cost[sl], 0.0)
                else:
                    score -= weights[sl] @ cost[sl]
        else:
            d1e = d1[nb.rows]
            g = nb.costs < d1e
            # weighted bincount yields float64; numpy's stubs type it as an integer count
            score = np.asarray(np.bincount(nb.cols[g], w_e[g] * (d1e[g] - nb.costs[g]),
                                           minlength=m), dtype=np.float64)
        score[~free] = -np.inf
        j = int(np.argmax(score))
        chosen.append(j)
        free[j] = False
        d1 = np.minimum(d1, cost[:, j])
    return np.array(sorted(chosen), dtype=np.intp)
