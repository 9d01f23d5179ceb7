"""Exact p-median solvers: the truncated radius formulation and the capacitated model.

Radius formulation (Cornuéjols, Nemhauser and Wolsey 1980; Elloumi 2010; García, Labbé and
Marín 2011). For demand ``i`` sort the sites by cost, ``D_1 <= D_2 <= ...``; ``z_ik = 1`` when
no open site lies among its ``k`` cheapest. The cost of ``i`` is
``D_1 + sum_k (D_{k+1} - D_k) z_ik`` with the chain ``z_i1 >= 1 - y_(1)`` and
``z_ik >= z_i,k-1 - y_(k)``. Keeping only the first ``K_i`` levels of each demand gives a
*relaxation* whose cost for ``i`` is ``min(true cost, D_{K_i})``, so its optimum is a valid
lower bound; if in its solution every demand has an open site within its kept levels, the
solution is optimal for the full problem. Otherwise the offending demands get more levels and
the model is solved again. Sites closed by Lagrangian reduced-cost fixing are left out, so
instances with hundreds of sites and thousands of demand points become small.
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

__all__ = ["ExactOutcome", "capacitated_p_median", "radius_p_median"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExactOutcome:
    """Open sites, objective, proven lower bound and status of an exact solve."""

    open_idx: NDArray[np.intp]
    objective: float
    bound: float
    status: str
    seconds: float
    rounds: int = 1
    shares: NDArray[np.float64] | None = None  # capacitated: (n, m) assignment shares


def _sorted_levels(cost: NDArray[np.float64], cols: NDArray[np.intp],
                   always: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.float64],
                                                       NDArray[np.intp]]:
    """Per demand: columns sorted by cost, the sorted costs, and the full useful length."""
    sub = cost[:, cols]
    order = np.argsort(sub, axis=1, kind="stable")
    srt = np.take_along_axis(sub, order, axis=1)
    cols_sorted = cols[order]
    # Beyond the first always-open site no level can matter.
    hit = always[cols_sorted]
    first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, cols.size)
    return cols_sorted, srt, first


def _build(levels: NDArray[np.intp], cols_sorted: NDArray[np.intp], srt: NDArray[np.float64],
           w: NDArray[np.float64], m: int) -> tuple[NDArray[np.float64], RowBlock, float]:
    """Objective and chain rows of the truncated radius model (y first, then z)."""
    n = levels.size
    nz = np.maximum(levels - 1, 0)  # z variables per demand
    total = int(nz.sum())
    rows_d = np.repeat(np.arange(n), nz)
    start = np.concatenate([[0], np.cumsum(nz)[:-1]])
    k = np.arange(total) - np.repeat(start, nz)  # 0-based level of each z
    zcol = m + np.arange(total)
    c = np.zeros(m + total)
    c[zcol] = w[rows_d] * (srt[rows_d, k + 1] - srt[rows_d, k])
    constant = float(w @ srt[:, 0])
    ycol = cols_sorted[rows_d, k]
    r = np.arange(total)
    prev = k > 0
    data = np.concatenate([np.ones(total), np.ones(total), -np.ones(int(prev.sum()))])
    ri = np.concatenate([r, r, r[prev]])
    ci = np.concatenate([zcol, ycol, zcol[prev] - 1])
    A = sparse.csr_array((data, (ri, ci)), shape=(total, m + total))
    lower = np.where(prev, 0.0, 1.0)
    return c, RowBlock("assignment", A, lower, np.full(total, np.inf)), constant


def radius_p_median(cost: NDArray[np.float64], weights: NDArray[np.float64], rules: SiteRules,
                    *, closed: NDArray[np.bool_] | None = None,
                    opened: NDArray[np.bool_] | None = None,
                    start: NDArray[np.intp] | None = None, upper: float = math.inf,
                    radius: NDArray[np.float64] | None = None,
                    time_limit_s: float = 60.0, mip_gap: float = 0.0,
                    initial_levels: int = 8) -> ExactOutcome:
    """Solve the p-median problem exactly with the truncated radius formulation.

    Parameters
    ----------
    cost, weights
        Cost matrix (finite) and demand weights.
    rules
        Site rules (``p``, fixed sites, district bounds, budget).
    closed, opened
        Sites proven closed / open in every solution better than ``upper`` (Lagrangian
        fixing); ``None`` for none.
    start
        A known solution (its assignment sets the first truncation levels).
    upper
        Objective of ``start`` (``inf`` when none).
    radius
        Optional per-demand cost up to which sites are kept in the first round (e.g. the
        Lagrangian multipliers divided by the weights).
    time_limit_s, mip_gap
        HiGHS limits over all rounds.
    initial_levels
        Levels kept per demand in the first round when there is no ``start``.

    Returns
    -------
    ExactOutcome
        The best solution (``start`` if nothing better is found), its objective and a proven
        lower bound.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> from cci_geo.layout.costs import prepare_instance
    >>> from cci_geo.layout.rules import build_rules
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> inst = prepare_instance(None, None, cost=np.abs(x[:, None] - x[None, :]))
    >>> rules = build_rules(inst, p=2)
    >>> out = radius_p_median(inst.cost, inst.weights, rules, time_limit_s=10)
    >>> out.open_idx.tolist(), out.objective, out.bound, out.status
    ([1, 4], 20.0, 20.0, 'optimal')
    """
    t0 = time.perf_counter()
    n, m = cost.shape
    closed = np.zeros(m, dtype=bool) if closed is None else closed
    opened = np.zeros(m, dtype=bool) if opened is None else opened
    cols = np.flatnonzero((rules.allowed & ~closed) | rules.fixed)
    always = rules.fixed | opened
    cols_sorted, srt, full = _sorted_levels(cost, cols, always)
    if start is not None:
        # Keep every site up to the second-nearest open site of the known solution: the
        # optimum rarely sends a demand further, so few demands need a second round.
        sub = np.sort(cost[:, start], axis=1)
        reach = sub[:, min(1, sub.shape[1] - 1)]
        if radius is not None:
            reach = np.maximum(reach, radius)
        rank = (srt <= reach[:, None]).sum(axis=1) + 1
        levels = np.minimum(full, rank)
    else:
        levels = np.minimum(full, initial_levels)
    lb_y, ub_y = site_bounds(rules)
    lb_y[opened] = 1.0
    ub_y[closed & ~rules.fixed] = 0.0
    best_idx = start
    best_obj = upper
    bound = -math.inf
    status = "time_limit"
    rounds = 0
    while True:
        rounds += 1
        remaining = time_limit_s - (time.perf_counter() - t0)
        c, block, constant = _build(levels, cols_sorted, srt, weights, m)
        nv = c.size
        lb = np.concatenate([lb_y, np.zeros(nv - m)])
        ub = np.concatenate([ub_y, np.full(nv - m, np.inf)])
        integrality = np.concatenate([np.ones(m, dtype=np.int8), np.zeros(nv - m, np.int8)])
        blocks = [block, *site_blocks(rules, nv, 0)]
        logger.debug("radius round %d: %d z variables, time left %.1fs", rounds, nv - m,
                     remaining)
        out = solve_milp(c, blocks, integrality=integrality, lb=lb, ub=ub,
                         time_limit_s=remaining, mip_gap=mip_gap, constant=constant)
        if out.status == "infeasible":
            return ExactOutcome(np.array([], dtype=np.intp), math.inf, math.inf, "infeasible",
                                time.perf_counter() - t0, rounds)
        bound = max(bound, out.bound)
        if out.x is None:
            break
        open_idx = np.flatnonzero(out.x[:m] > 0.5)
        d_true = cost[:, open_idx].min(axis=1)
        true_obj = float(weights @ d_true)
        if true_obj < best_obj:
            best_idx, best_obj = open_idx, true_obj
        cut = srt[np.arange(n), levels - 1]
        short = (d_true > cut + 1e-12 * np.maximum(cut, 1.0)) & (levels < full)
        if out.status != "optimal" or not short.any():
            status = out.status
            break
        rank = (srt < d_true[:, None]).sum(axis=1) + 1
        levels = np.where(short, np.minimum(full, np.maximum(rank + 2, 2 * levels)), levels)
        logger.debug("radius round %d: %d demands need more levels", rounds, int(short.sum()))
        if time.perf_counter() - t0 >= time_limit_s:
            break
    if best_idx is None:
        return ExactOutcome(np.array([], dtype=np.intp), math.inf, bound, "time_limit",
                            time.perf_counter() - t0, rounds)
    bound = min(bound, best_obj)
    if status == "optimal" and best_obj - bound > 1e-9 * max(abs(best_obj), 1.0) + mip_gap * abs(
            best_obj):
        status = "time_limit"
    return ExactOutcome(np.sort(best_idx), best_obj, bound, status,
                        time.perf_counter() - t0, rounds)


def capacitated_p_median(cost: NDArray[np.float64], weights: NDArray[np.float64],
                         rules: SiteRules, capacity: NDArray[np.float64], *,
                         time_limit_s: float = 60.0, mip_gap: float = 0.0) -> ExactOutcome:
    """Solve the capacitated p-median problem (demand may be split between sites).

    ``sum_i w_i x_ij <= capacity_j y_j`` for each site; ``x_ij <= y_j`` is added when the model
    is small enough, which tightens the relaxation.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> from cci_geo.layout.costs import prepare_instance
    >>> from cci_geo.layout.rules import build_rules
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> inst = prepare_instance(None, None, cost=np.abs(x[:, None] - x[None, :]))
    >>> rules = build_rules(inst, p=2)

    Each site serves at most 3 demand: the site at 30 km cannot take the middle pair as
    well, so the pairs split to 0 and 11 km and the far demand travels 19 km.

    >>> out = capacitated_p_median(inst.cost, inst.weights, rules, np.full(5, 3.0),
    ...                            time_limit_s=10)
    >>> out.open_idx.tolist(), out.objective, out.status
    ([0, 3], 21.0, 'optimal')
    >>> out.shares.argmax(axis=1).tolist()         # the site serving each demand
    [0, 0, 3, 3, 3]
    """
    t0 = time.perf_counter()
    n, m = cost.shape
    nx = n * m
    nv = m + nx
    c = np.concatenate([np.zeros(m), (weights[:, None] * cost).ravel()])
    xi = m + np.arange(nx).reshape(n, m)
    blocks: list[RowBlock] = []
    A = sparse.csr_array((np.ones(nx), (np.repeat(np.arange(n), m), xi.ravel())),
                         shape=(n, nv))
    blocks.append(RowBlock("assignment", A, np.ones(n), np.ones(n)))
    rows = np.tile(np.arange(m), n)
    A = sparse.csr_array((np.concatenate([np.repeat(weights, m), -capacity]),
                          (np.concatenate([rows, np.arange(m)]),
                           np.concatenate([xi.ravel(), np.arange(m)]))), shape=(m, nv))
    blocks.append(RowBlock("capacity", A, np.full(m, -np.inf), np.zeros(m)))
    if nx <= 200_000:
        r = np.arange(nx)
        A = sparse.csr_array((np.concatenate([np.ones(nx), -np.ones(nx)]),
                              (np.concatenate([r, r]), np.concatenate([xi.ravel(), rows]))),
                             shape=(nx, nv))
        blocks.append(RowBlock("link", A, np.full(nx, -np.inf), np.zeros(nx)))
    blocks.extend(site_blocks(rules, nv, 0))
    lb_y, ub_y = site_bounds(rules)
    lb = np.concatenate([lb_y, np.zeros(nx)])
    ub = np.concatenate([ub_y, np.ones(nx)])
    integrality = np.concatenate([np.ones(m, dtype=np.int8), np.zeros(nx, dtype=np.int8)])
    out = solve_milp(c, blocks, integrality=integrality, lb=lb, ub=ub,
                     time_limit_s=time_limit_s, mip_gap=mip_gap)
    if out.x is None:
        status = "infeasible" if out.status == "infeasible" else out.status
        return ExactOutcome(np.array([], dtype=np.intp), math.inf, out.bound, status,
                            time.perf_counter() - t0)
    open_idx = np.flatnonzero(out.x[:m] > 0.5)
    shares = out.x[m:].reshape(n, m)
    return ExactOutcome(open_idx, out.objective, out.bound, out.status,
                        time.perf_counter() - t0, shares=shares)
