"""Lagrangian branch and bound for the uncapacitated p-median problem.

The linear relaxation of the p-median problem is tight for many sites but often 0.5-1 %
below the optimum when few sites open (on the OR-Library instances with p = 5 or 10 its
solution opens ten sites at one half). This module closes that gap by a tree search in the
manner of Beasley (1985, "A note on solving large p-median problems", EJOR 21), who solved
those instances with it:

* each node fixes some sites open and some closed; its lower bound is the Lagrangian
  relaxation of the assignment constraints, maximised by subgradient steps that start from
  the parent's multipliers (dense numpy over the demand x remaining-site matrix);
* at every node a site is closed when opening it would lift the bound to the incumbent, and
  forced open when closing it would (reduced-cost fixing), so the matrix narrows as the
  tree deepens;
* a node that has one or two sites left to choose is solved exactly by enumeration;
* the search branches on the site whose share of the subgradient steps that choose it is
  nearest one half (an estimate of its fractional value in the linear relaxation), opening
  it first (so the open side of the tree is at most ``p`` deep), depth first.

With integer costs and weights every objective is an integer, so a node whose bound exceeds
the incumbent minus one cannot hold a better solution: the tree then stops as soon as the
rounded-up bound meets the incumbent, and the proof is exact. Otherwise a node is pruned
only when its bound is within a relative 5e-10 of the incumbent.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .heuristics import evaluate
from .pmedian import ExactOutcome

__all__ = ["lagrangian_branch_and_bound"]

logger = logging.getLogger(__name__)

ENUMERATE_MAX = 4_000_000
"""A node with two sites left is enumerated when pairs x demands is at most this."""
_THETA = 3.0
"""First step size (Polyak factor) at every node after the root; large, as the parent's
multipliers are a good start but the child's optimum moves."""
_REL = 5e-10
"""Relative pruning tolerance for costs that are not all integers."""


@dataclass
class _Node:
    bound: float
    opened: NDArray[np.bool_]  # over the local columns
    closed: NDArray[np.bool_]
    lam: NDArray[np.float64]


class _Search:
    """State of one tree search over the local (kept) columns."""

    def __init__(self, wc: NDArray[np.float64], p_total: int, upper: float,
                 best: NDArray[np.intp], mip_gap: float, deadline: float) -> None:
        self.wc = wc
        self.n, self.m = wc.shape
        self.p_total = p_total
        self.upper = upper
        self.best = best  # local column indices
        self.mip_gap = mip_gap
        self.deadline = deadline
        eps = 1e-9 * max(1.0, abs(upper))
        self.integral = bool(np.all(wc == np.round(wc))) and eps < 1e-2
        self.eps = eps
        self.floor = math.inf  # least certified value of the parts of the tree cut off
        self.nodes = 0
        self.iterations = 0
        self.freq = np.zeros(self.m)  # per active column: subgradient steps choosing it

    # ---------------------------------------------------------------- bounds and pruning
    def threshold(self) -> float:
        """A node whose bound reaches this cannot hold a solution worth finding."""
        if self.integral:
            thr = self.upper - 1.0 + 2.0 * self.eps
        else:
            thr = self.upper - _REL * max(1.0, abs(self.upper))
        if self.mip_gap > 0:
            thr = min(thr, self.upper * (1.0 - self.mip_gap))
        return thr

    def certified(self, value: float) -> float:
        """The least objective of a solution whose lower bound is ``value``."""
        return math.ceil(value - self.eps) if self.integral else value

    def cut(self, value: float) -> None:
        self.floor = min(self.floor, self.certified(value))

    def offer(self, cols: NDArray[np.intp], value: float) -> None:
        if value < self.upper - self.eps:
            logger.debug("branch and bound: incumbent %.10g -> %.10g", self.upper, value)
            self.upper, self.best = value, np.sort(cols)

    # ---------------------------------------------------------------- exact small nodes
    def solve_small(self, opened: NDArray[np.bool_], closed: NDArray[np.bool_]) -> bool:
        """Solve the node exactly if it is trivial or enumerable; True when solved."""
        k = self.p_total - int(opened.sum())
        free = np.flatnonzero(~opened & ~closed)
        o_idx = np.flatnonzero(opened)
        if k < 0 or k > free.size:
            return True  # no solution in this node
        if k == free.size:
            cols = np.concatenate([o_idx, free])
            value = float(self.wc[:, cols].min(axis=1).sum()) if cols.size else math.inf
            self.offer(cols, value)
            self.cut(value)
            return True
        if k > 2 or (k == 2 and free.size * (free.size - 1) // 2 * self.n > ENUMERATE_MAX):
            return False
        d_open = self.wc[:, o_idx].min(axis=1) if o_idx.size else np.full(self.n, np.inf)
        sub = self.wc[:, free]
        if k == 1:
            vals = np.minimum(sub, d_open[:, None]).sum(axis=0)
            j = int(np.argmin(vals))
            cols = np.append(o_idx, free[j])
            value = float(vals[j])
        else:
            value, cols = math.inf, o_idx
            for a in range(free.size - 1):
                first = np.minimum(d_open, sub[:, a])
                vals = np.minimum(sub[:, a + 1:], first[:, None]).sum(axis=0)
                b = int(np.argmin(vals))
                if vals[b] < value:
                    value, cols = float(vals[b]), np.append(o_idx, [free[a], free[a + 1 + b]])
        self.offer(cols, value)
        self.cut(value)
        return True

    # ---------------------------------------------------------------- one node
    def lagrange(self, node: _Node, max_iter: int, theta: float
                 ) -> tuple[float, NDArray[np.float64], NDArray[np.float64],
                            NDArray[np.intp], NDArray[np.intp], bool]:
        """Subgradient ascent at a node.

        Returns the best bound, its multipliers and site values ``rho`` (over the node's
        active columns), the active columns, the chosen free columns (positions in the
        active set) and whether the node is closed (pruned or solved).
        """
        act = np.flatnonzero(~node.closed)
        is_open = node.opened[act]
        o_pos = np.flatnonzero(is_open)
        f_pos = np.flatnonzero(~is_open)
        k = self.p_total - o_pos.size
        A = self.wc[:, act]
        lam = node.lam.copy()
        best_l, best_lam, best_rho = -math.inf, lam, np.zeros(act.size)
        best_pick = f_pos[:k]
        stall = 0
        self.freq = np.zeros(act.size)
        thr = self.threshold()
        D = np.empty_like(A)
        for _ in range(max_iter):
            self.iterations += 1
            np.subtract(A, lam[:, None], out=D)
            np.minimum(D, 0.0, out=D)
            rho = D.sum(axis=0)
            rf = rho[f_pos]
            part = np.argpartition(rf, k - 1)[:k] if k < f_pos.size else np.arange(k)
            pick = f_pos[part]
            self.freq[pick] += 1.0
            value = float(lam.sum() + rho[o_pos].sum() + rf[part].sum())
            if value > best_l:
                best_l, best_lam, best_rho, best_pick = value, lam.copy(), rho, pick
                stall = 0
            else:
                stall += 1
                if stall >= 4:
                    theta, stall = theta / 2.0, 0
            if best_l >= thr:
                self.cut(best_l)
                return best_l, best_lam, best_rho, act, best_pick, True
            sel = np.concatenate([o_pos, pick])
            g = 1.0 - (D[:, sel] < 0).sum(axis=1)
            norm = float(g @ g)
            if norm == 0.0:  # the relaxed solution is feasible, hence optimal in the node
                self.offer(act[sel], float(A[:, sel].min(axis=1).sum()))
                self.cut(value)
                return best_l, best_lam, best_rho, act, best_pick, True
            if theta < 1e-3 or time.perf_counter() > self.deadline:
                break
            lam = lam + theta * max(self.upper - value, self.eps) / norm * g
        sel = np.concatenate([o_pos, best_pick])
        self.offer(act[sel], float(A[:, sel].min(axis=1).sum()))
        return best_l, best_lam, best_rho, act, best_pick, False

    def fix(self, node: _Node, bound: float, rho: NDArray[np.float64], act: NDArray[np.intp],
            pick: NDArray[np.intp]) -> bool:
        """Reduced-cost fixing at a node; True when some site was fixed."""
        is_open = node.opened[act]
        f_pos = np.flatnonzero(~is_open)
        k = self.p_total - int(is_open.sum())
        if k <= 0 or k >= f_pos.size:
            return False
        rf = np.sort(rho[f_pos])
        rho_k, rho_next = rf[k - 1], rf[k]
        thr = self.threshold()
        chosen = np.zeros(act.size, dtype=bool)
        chosen[pick] = True
        out = f_pos[~chosen[f_pos]]
        close = out[bound - rho_k + rho[out] >= thr]
        inside = pick[bound - rho[pick] + rho_next >= thr]
        if close.size == 0 and inside.size == 0:
            return False
        self.cut(thr)
        node.closed[act[close]] = True
        node.opened[act[inside]] = True
        return True

    def branch_site(self, node: _Node, act: NDArray[np.intp], rho: NDArray[np.float64],
                    pick: NDArray[np.intp]) -> int:
        """Position (in ``act``) of the free site to branch on.

        The share of subgradient steps in which a site was chosen estimates its value in the
        linear relaxation; the site nearest one half splits the node most evenly. When no
        site was ever chosen (cannot happen after a step), the chosen site with the most
        negative value is taken.
        """
        share = self.freq / max(float(self.freq.max()), 1.0)
        share[node.opened[act]] = 0.0
        score = np.abs(share - 0.5)
        score[share == 0.0] = np.inf
        if np.isfinite(score.min()):
            return int(np.argmin(score))
        return int(pick[np.argmin(rho[pick])])

    def process(self, node: _Node, max_iter: int, theta: float) -> list[_Node]:
        """Bound, fix and branch one node; return its children."""
        self.nodes += 1
        for rounds in range(8):
            if node.bound >= self.threshold():
                self.cut(node.bound)
                return []
            if self.solve_small(node.opened, node.closed):
                return []
            bound, lam, rho, act, pick, done = self.lagrange(node, max_iter, theta)
            if done:
                return []
            node.bound = max(node.bound, bound)
            node.lam = lam
            if rounds == 7 or not self.fix(node, bound, rho, act, pick):
                break
            max_iter, theta = max(max_iter // 2, 10), theta / 2.0
        if self.solve_small(node.opened, node.closed):
            return []
        # branch on the chosen free site with the most negative value: opening it keeps the
        # relaxed solution, closing it costs at least the gap to the next site
        j_pos = self.branch_site(node, act, rho, pick)
        j = act[j_pos]
        is_open = node.opened[act]
        k = self.p_total - int(is_open.sum())
        rf = np.sort(rho[np.flatnonzero(~is_open)])
        penalty = max(rf[k] - rho[j_pos], 0.0) if j_pos in pick else 0.0
        shut = _Node(node.bound + penalty, node.opened.copy(), node.closed.copy(), node.lam)
        shut.closed[j] = True
        keep = _Node(node.bound, node.opened.copy(), node.closed.copy(), node.lam)
        keep.opened[j] = True
        return [shut, keep]  # the last is searched first


def lagrangian_branch_and_bound(cost: NDArray[np.float64], weights: NDArray[np.float64], *,
                                p: int, fixed: NDArray[np.bool_], allowed: NDArray[np.bool_],
                                best: NDArray[np.intp], upper: float,
                                multipliers: NDArray[np.float64] | None = None,
                                closed: NDArray[np.bool_] | None = None,
                                opened: NDArray[np.bool_] | None = None,
                                time_limit_s: float = 60.0, mip_gap: float = 0.0,
                                root_iterations: int = 300, node_iterations: int = 100
                                ) -> ExactOutcome:
    """Prove (or improve) a p-median solution by Lagrangian branch and bound.

    Parameters
    ----------
    cost, weights
        Finite cost matrix ``(n_demand, n_sites)`` and demand weights.
    p
        Number of sites to open besides ``fixed``.
    fixed, allowed
        Sites that stay open; sites that may open.
    best, upper
        A known solution (site indices, fixed ones included) and its objective.
    multipliers
        Starting Lagrangian multipliers, one per demand (e.g. from
        :func:`~cci_geo.layout.heuristics.lagrangian_bound`); default each demand's weighted
        cost in ``best``.
    closed, opened
        Sites already proven closed / open in every solution cheaper than ``upper``.
    time_limit_s, mip_gap
        Stop after this many seconds, or once the relative gap is at most ``mip_gap``.
    root_iterations, node_iterations
        Subgradient steps at the root and at every other node.

    Returns
    -------
    ExactOutcome
        The best solution, its objective, a proven lower bound, the status
        (``"optimal"`` when the bound equals the objective within a relative 1e-9, ``"gap"``
        when within ``mip_gap``, else ``"time_limit"``) and the number of nodes as
        ``rounds``.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site, starting from a
    poor solution:

    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> cost, w = np.abs(x[:, None] - x[None, :]), np.ones(5)
    >>> none, every = np.zeros(5, dtype=bool), np.ones(5, dtype=bool)
    >>> out = lagrangian_branch_and_bound(cost, w, p=2, fixed=none, allowed=every,
    ...                                   best=np.array([0, 1]), upper=50.0)
    >>> out.open_idx.tolist(), out.objective, out.bound, out.status
    ([1, 4], 20.0, 20.0, 'optimal')
    """
    t0 = time.perf_counter()
    none = np.zeros(cost.shape[1], dtype=bool)
    closed = none if closed is None else closed
    opened = none if opened is None else opened
    cols = np.flatnonzero((allowed & ~closed) | fixed)
    rows = np.flatnonzero(weights > 0)
    wc = weights[rows, None] * cost[np.ix_(rows, cols)]
    local = np.full(none.size, -1, dtype=np.intp)
    local[cols] = np.arange(cols.size)
    best = np.asarray(best, dtype=np.intp)
    start_best = local[best] if (local[best] >= 0).all() else np.array([], dtype=np.intp)
    search = _Search(wc, int(fixed.sum()) + p, float(upper), start_best, mip_gap,
                     t0 + time_limit_s)
    if multipliers is None:
        lam = wc[:, start_best].min(axis=1) if start_best.size else wc.min(axis=1)
    else:
        lam = np.asarray(multipliers, dtype=np.float64)[rows].copy()
    root = _Node(-math.inf, (fixed | opened)[cols], np.zeros(cols.size, dtype=bool), lam)
    stack = search.process(root, root_iterations, 0.5)
    while stack:
        if time.perf_counter() > search.deadline or (
                search.mip_gap > 0
                and min(search.floor, min(nd.bound for nd in stack)) >= search.threshold()):
            break
        node = stack.pop()
        stack.extend(search.process(node, node_iterations, _THETA))
    open_bound = min((search.certified(nd.bound) for nd in stack), default=math.inf)
    upper = search.upper
    bound = min(upper, search.floor, open_bound)
    gap = (upper - bound) / max(abs(upper), 1e-12)
    status = "optimal" if gap <= 1e-9 else ("gap" if gap <= mip_gap else "time_limit")
    secs = time.perf_counter() - t0
    logger.info("branch and bound: %d nodes, %d subgradient steps, %.2fs, %s (gap %.3g)",
                search.nodes, search.iterations, secs, status, gap)
    sites = np.sort(cols[search.best]) if search.best.size else np.sort(best)
    objective = evaluate(cost, weights, sites) if search.best.size else float(upper)
    return ExactOutcome(sites, objective, min(bound, objective), status, secs, search.nodes)
