"""Location models: p-median, maximal covering, set covering and p-center.

Each function accepts demand and candidate geometries (straight-line metres in the metric
CRS) and/or a precomputed cost matrix (e.g. travel minutes), plus the shared site rules:
``fixed`` sites that stay open while ``p`` new ones are chosen, per-district minimum and
maximum counts, site costs with a budget. Exact models are solved with HiGHS; the p-median
also has a seeded heuristic (greedy + vertex substitution) with a Lagrangian lower bound.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from .. import _validate
from ..errors import InfeasibleError, ParameterError, ParameterTypeError
from . import heuristics as heur
from ._milp import RowBlock, solve_milp
from .branch import lagrangian_branch_and_bound
from .costs import CostInput, Instance, candidate_values, prepare_instance, require_finite
from .pcenter import solve_p_center
from .pmedian import capacitated_p_median, radius_p_median
from .result import LayoutResult, build_result
from .rules import CountRule, FixedInput, SiteRules, build_rules, site_blocks, site_bounds

__all__ = ["max_coverage", "p_center", "p_median", "set_cover"]

logger = logging.getLogger(__name__)

DistrictInput: TypeAlias = str | Sequence[object] | pd.Series | None
EXACT_AUTO_LIMIT = 1_000_000
"""``method="auto"`` solves p-median exactly when demand x candidates is at most this."""
LARGE = 5_000_000
"""Above this many pairs the p-median heuristic works on neighbour lists."""


def _setup(demand: gpd.GeoDataFrame | None, candidates: gpd.GeoDataFrame | None, *,
           cost: CostInput, weight: str | ArrayLike | None, metric_crs: str | None,
           p: int | None, fixed: FixedInput, district: DistrictInput,
           district_min: CountRule, district_max: CountRule, count_fixed: bool,
           site_cost: str | ArrayLike | None, budget: float | None
           ) -> tuple[Instance, SiteRules]:
    inst = prepare_instance(demand, candidates, cost=cost, weight=weight,
                            metric_crs=metric_crs)
    rules = build_rules(inst, p=p, fixed=fixed, district=district, district_min=district_min,
                        district_max=district_max, count_fixed=count_fixed,
                        site_cost=site_cost, budget=budget)
    if rules.has_side_rules:
        _check_site_rules(rules)
    return inst, rules


def _rules_feasible(rules: SiteRules) -> bool:
    m = rules.fixed.size
    lb, ub = site_bounds(rules)
    out = solve_milp(np.zeros(m), site_blocks(rules, m, 0), integrality=np.ones(m, np.int8),
                     lb=lb, ub=ub, time_limit_s=10.0, mip_gap=0.0)
    return out.status != "infeasible"


def _check_site_rules(rules: SiteRules) -> None:
    """Raise :class:`InfeasibleError` naming the rules that together cannot be met."""
    if _rules_feasible(rules):
        return
    names = [n for n in ("district_min", "district_max", "budget")
             if getattr(rules, n) not in (None, {})]
    culprits = [n for n in names if _rules_feasible(rules.without(n))]
    which = " or ".join(culprits) if culprits else " + ".join(["p", *names])
    msg = (
        f"no choice of sites satisfies the rules together (p={rules.p}); relaxing {which} "
        "would make it feasible. Loosen that rule or add candidate sites."
    )
    raise InfeasibleError(msg)


def _params(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if isinstance(v, (int, float, str, bool))}


# --------------------------------------------------------------------------- p-median


def _heuristic_p_median(inst: Instance, rules: SiteRules, *, seed: int | None,
                        time_limit_s: float, n_starts: int
                        ) -> tuple[NDArray[np.intp], float, heur.LagrangeOutcome]:
    t0 = time.perf_counter()
    C, w = inst.cost, inst.weights
    p, fixed, allowed = int(rules.p or 0), rules.fixed, rules.allowed
    rng = np.random.default_rng(_validate.check_seed(seed))
    m_eff = int((allowed | fixed).sum())
    if C.size > LARGE and rules.p_total > 1:
        # Large instance: price greedy steps and swaps on each demand's nearest sites, then
        # certify the local optimum with one full-matrix pass.
        k = min(m_eff, max(64, 2 * math.ceil(m_eff / max(rules.p_total, 1))) + 1)
        nb = heur._neighbour_lists(C, np.flatnonzero(allowed | fixed), k)
        best = heur.sparse_greedy(C, w, nb, p=p, fixed=fixed, allowed=allowed)
        best, _ = heur.sparse_swap_search(C, w, best, nb, fixed=fixed, allowed=allowed,
                                          time_limit_s=time_limit_s * 0.3)
    else:
        nb = None
        best = heur.greedy(C, w, p=p, fixed=fixed, allowed=allowed)
    best, best_obj, _ = heur.interchange(C, w, best, fixed=fixed, allowed=allowed,
                                         time_limit_s=time_limit_s * 0.4)
    for _ in range(n_starts - 1):
        if time.perf_counter() - t0 > time_limit_s * 0.3:
            break
        start = heur.greedy(C, w, p=p, fixed=fixed, allowed=allowed, rng=rng, rcl=3)
        sol, obj, _ = heur.interchange(C, w, start, fixed=fixed, allowed=allowed,
                                       time_limit_s=time_limit_s * 0.2)
        if obj < best_obj - 1e-9 * abs(best_obj):
            best, best_obj = sol, obj
    d1, _, d2 = heur.nearest_two(C, best)
    left = max(time_limit_s - (time.perf_counter() - t0), 0.5)
    per_site = math.ceil(m_eff / max(rules.p_total, 1))
    neighbours = min(m_eff, max(64, (2 if C.size > LARGE else 8) * per_site))
    lag = heur.lagrangian_bound(C, w, p=p, fixed=fixed, allowed=allowed, upper=best_obj,
                                start=w * (d1 + d2) / 2 if np.isfinite(d2).all() else w * d1,
                                neighbours=neighbours, time_limit_s=left * 0.75,
                                target_gap=1e-7, lists=nb)
    if p > 0:
        free = np.flatnonzero(allowed & ~fixed)
        chosen = free[np.argsort(lag.rho[free], kind="stable")[:p]]
        start = np.sort(np.concatenate([np.flatnonzero(fixed), chosen]))
        left = max(time_limit_s - (time.perf_counter() - t0), 0.5)
        if nb is not None:  # large instance: neighbour lists were built above
            start, _ = heur.sparse_swap_search(C, w, start, nb, fixed=fixed, allowed=allowed,
                                               time_limit_s=left * 0.7)
            left = max(time_limit_s - (time.perf_counter() - t0), 0.5)
        sol, obj, _ = heur.interchange(C, w, start, fixed=fixed, allowed=allowed,
                                       time_limit_s=left)
        if obj < best_obj - 1e-9 * abs(best_obj):
            best, best_obj = sol, obj
    return best, best_obj, lag


def p_median(demand: gpd.GeoDataFrame | None = None,
             candidates: gpd.GeoDataFrame | None = None, *, p: int,
             cost: CostInput = None, weight: str | ArrayLike | None = None,
             fixed: FixedInput = None, capacity: str | ArrayLike | None = None,
             district: DistrictInput = None, district_min: CountRule = None,
             district_max: CountRule = None, count_fixed: bool = False,
             site_cost: str | ArrayLike | None = None, budget: float | None = None,
             method: Literal["auto", "exact", "heuristic"] = "auto",
             time_limit_s: float = 60.0, mip_gap: float = 0.0, seed: int | None = 0,
             metric_crs: str | None = None) -> LayoutResult:
    """Choose ``p`` sites minimising the total weighted cost from demand to its nearest site.

    Parameters
    ----------
    demand
        Demand points or polygons (polygons are represented by their centroid), or ``None``
        when ``cost`` is a matrix.
    candidates
        Candidate sites (existing facilities included when ``fixed`` is used).
    p
        Number of *new* sites to open (besides ``fixed``; with no fixed sites, the total).
    cost
        ``None``/``"euclidean"`` for straight-line metres, or a matrix of shape
        ``(n_demand, n_candidates)`` (ndarray, or DataFrame labelled by ids), e.g. travel
        minutes from :func:`cci_geo.network.travel_time_matrix`.
    weight
        Demand weights: a column of ``demand`` (e.g. ``"employees"``) or an array.
    fixed
        Sites that stay open: a boolean column of ``candidates``, a mask, or candidate ids.
    capacity
        Per-site capacity (column or array, in weight units): solves the capacitated
        p-median, where a demand may be split between sites.
    district, district_min, district_max, count_fixed
        Geographic balance: district label per candidate (column or labels) and the minimum
        / maximum number of open sites per district (an int for every district, or a
        mapping). Fixed sites count only with ``count_fixed=True``.
    site_cost, budget
        Opening cost per site and the budget for new sites.
    method
        ``"exact"`` (Lagrangian branch and bound after the heuristic and Lagrangian
        fixing; HiGHS on the truncated radius formulation when district or budget rules
        apply),
        ``"heuristic"`` (multi-start greedy + vertex substitution with a Lagrangian lower
        bound), or ``"auto"`` (exact up to 1,000,000 demand x candidate pairs, and whenever
        district, budget or capacity rules apply).
    time_limit_s, mip_gap
        Solver limits; the reached gap is reported.
    seed
        Seed of the randomised heuristic starts.
    metric_crs
        Projected CRS for straight-line distances; default as
        :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    LayoutResult
        ``objective`` is the total weighted cost; ``bound`` a proven lower bound.

    Raises
    ------
    ValueError
        If ``p`` exceeds the candidates available.
    InfeasibleError
        If district, budget or capacity rules cannot be met (the message names the rule).
    DataError
        Empty demand, NaN/negative costs, or unreachable (infinite) pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from cci_geo.layout import p_median
    >>> res = p_median(cost=np.array([[0., 4., 9.], [4., 0., 5.], [9., 5., 0.]]), p=1)
    >>> res.objective, res.selected.tolist()
    (9.0, [1])
    """
    t0 = time.perf_counter()
    inst, rules = _setup(demand, candidates, cost=cost, weight=weight, metric_crs=metric_crs,
                         p=p, fixed=fixed, district=district, district_min=district_min,
                         district_max=district_max, count_fixed=count_fixed,
                         site_cost=site_cost, budget=budget)
    require_finite(inst, "p_median")
    params = _params(p=p, method=method, time_limit_s=time_limit_s, mip_gap=mip_gap, seed=seed)
    if capacity is not None:
        cap = candidate_values(capacity, inst.candidates, inst.n_candidates, "capacity")
        _check_capacity(cap, rules, float(inst.weights.sum()))
        out = capacitated_p_median(inst.cost, inst.weights, rules, cap,
                                   time_limit_s=time_limit_s, mip_gap=mip_gap)
        if out.status == "infeasible":
            _check_site_rules(rules)
            msg = "capacity: the open sites cannot hold all demand under the other rules."
            raise InfeasibleError(msg)
        return build_result(inst, model="p_median", open_idx=out.open_idx, fixed=rules.fixed,
                            objective=out.objective, bound=out.bound, status=out.status,
                            method="highs-capacitated", seconds=time.perf_counter() - t0,
                            shares=out.shares, district=rules.district, params=params)
    if rules.has_side_rules:
        if method == "heuristic":
            msg = ("method='heuristic' supports p and fixed sites only; use method='exact' "
                   "with district or budget rules.")
            raise ParameterError(msg)
        out = radius_p_median(inst.cost, inst.weights, rules, time_limit_s=time_limit_s,
                              mip_gap=mip_gap)
        if out.status == "infeasible":
            _check_site_rules(rules)
        return build_result(inst, model="p_median", open_idx=out.open_idx, fixed=rules.fixed,
                            objective=out.objective, bound=out.bound, status=out.status,
                            method="highs-radius", seconds=time.perf_counter() - t0,
                            district=rules.district, params=params)
    exact = method == "exact" or (method == "auto"
                                  and inst.n_demand * inst.n_candidates <= EXACT_AUTO_LIMIT)
    n_starts = 4 if inst.n_demand * inst.n_candidates <= LARGE else 1
    budget_h = time_limit_s * (0.3 if exact else 1.0)
    best, best_obj, lag = _heuristic_p_median(inst, rules, seed=seed, time_limit_s=budget_h,
                                              n_starts=n_starts)
    bound = min(lag.bound, best_obj)
    gap = (best_obj - bound) / max(abs(best_obj), 1e-12)
    status, how = ("optimal" if gap <= 1e-9 else "heuristic"), "heuristic+lagrangian"
    if gap <= max(mip_gap, 1e-9):
        status = "optimal" if gap <= 1e-9 else "gap"
    elif exact:
        closed, opened = heur.lagrangian_fixing(lag, p=int(rules.p or 0), fixed=rules.fixed,
                                                allowed=rules.allowed, upper=best_obj)
        logger.info("Lagrangian fixing closed %d and opened %d of %d sites", int(closed.sum()),
                    int(opened.sum()), inst.n_candidates)
        left = max(time_limit_s - (time.perf_counter() - t0), 1.0)
        out = lagrangian_branch_and_bound(inst.cost, inst.weights, p=int(rules.p or 0),
                                          fixed=rules.fixed, allowed=rules.allowed, best=best,
                                          upper=best_obj, multipliers=lag.multipliers,
                                          closed=closed, opened=opened, time_limit_s=left,
                                          mip_gap=mip_gap)
        best, best_obj, bound = out.open_idx, out.objective, max(min(bound, out.objective),
                                                                  out.bound)
        gap = (best_obj - bound) / max(abs(best_obj), 1e-12)
        status = "optimal" if gap <= 1e-9 else ("gap" if gap <= mip_gap else "time_limit")
        how = "lagrangian-branch-and-bound"
    return build_result(inst, model="p_median", open_idx=best, fixed=rules.fixed,
                        objective=best_obj, bound=bound, status=status, method=how,
                        seconds=time.perf_counter() - t0, district=rules.district,
                        params=params)


def _check_capacity(cap: NDArray[np.float64], rules: SiteRules, total: float) -> None:
    free = np.sort(cap[rules.allowed & ~rules.fixed])[::-1]
    most = float(cap[rules.fixed].sum() + free[: int(rules.p or 0)].sum())
    if most < total:
        msg = (
            f"capacity: even the {rules.p} largest new sites plus the fixed ones hold {most:g}, "
            f"less than the total demand weight {total:g}; raise p or the capacities."
        )
        raise InfeasibleError(msg)


# --------------------------------------------------------------------------- coverage


def _coverage(inst: Instance, standard_m: float) -> sparse.csr_array:
    _validate.positive(standard_m, "standard_m", "cost units (metres or minutes)")
    return sparse.csr_array((inst.cost <= standard_m).astype(np.float64))


def max_coverage(demand: gpd.GeoDataFrame | None = None,
                 candidates: gpd.GeoDataFrame | None = None, *, p: int, standard_m: float,
                 cost: CostInput = None, weight: str | ArrayLike | None = None,
                 fixed: FixedInput = None, district: DistrictInput = None,
                 district_min: CountRule = None, district_max: CountRule = None,
                 count_fixed: bool = False, site_cost: str | ArrayLike | None = None,
                 budget: float | None = None, site_score: str | ArrayLike | None = None,
                 score_weight: float = 0.0, time_limit_s: float = 60.0,
                 mip_gap: float = 0.0, metric_crs: str | None = None) -> LayoutResult:
    """Choose ``p`` new sites that maximise the demand weight within ``standard_m`` of a site.

    Parameters
    ----------
    demand, candidates, p, cost, weight, fixed, district, district_min, district_max
        As in :func:`p_median`.
    count_fixed, site_cost, budget, metric_crs
        As in :func:`p_median`.
    standard_m
        Service standard in cost units: metres for geometries, minutes for a travel-time
        matrix. A demand is covered when some open site is within it.
    site_score, score_weight
        Optional per-site suitability in [0, 1] (column or array) and its weight ``a`` in
        [0, 1): the objective becomes ``(1 - a) * covered share + a * mean score of the new
        sites``. With ``a = 0`` (default) only coverage counts.
    time_limit_s, mip_gap
        HiGHS limits.

    Returns
    -------
    LayoutResult
        ``objective`` is the covered demand weight (fixed sites' coverage included);
        ``bound`` an upper bound on it (``nan`` when ``score_weight > 0``).

    Raises
    ------
    ValueError
        Bad ``p``, ``standard_m`` or ``score_weight``.
    InfeasibleError
        If district or budget rules cannot be met.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0., 5., 9.], [5., 0., 4.], [9., 4., 0.], [2., 6., 8.]])
    >>> res = max_coverage(cost=cost, p=1, standard_m=5.0, weight=[1, 1, 1, 3])
    >>> res.selected.tolist(), res.objective
    ([0], 5.0)
    """
    t0 = time.perf_counter()
    inst, rules = _setup(demand, candidates, cost=cost, weight=weight, metric_crs=metric_crs,
                         p=p, fixed=fixed, district=district, district_min=district_min,
                         district_max=district_max, count_fixed=count_fixed,
                         site_cost=site_cost, budget=budget)
    if not 0.0 <= score_weight < 1.0:
        msg = f"score_weight must be in [0, 1), got {score_weight!r}."
        raise ParameterError(msg)
    N = _coverage(inst, standard_m)
    m = inst.n_candidates
    w = inst.weights
    by_fixed = (N[:, np.flatnonzero(rules.fixed)].sum(axis=1) > 0) if rules.fixed.any() \
        else np.zeros(inst.n_demand, dtype=bool)
    reachable = (N @ (rules.allowed & ~rules.fixed).astype(float)) > 0
    open_rows = np.flatnonzero(~by_fixed & reachable)
    k = open_rows.size
    total = float(w.sum())
    c = np.zeros(m + k)
    scale = (1.0 - score_weight) / total if score_weight > 0 else 1.0
    c[m:] = -w[open_rows] * scale
    if score_weight > 0:
        if site_score is None:
            msg = "score_weight > 0 needs site_score= (a candidates column or array in [0, 1])."
            raise ParameterTypeError(msg)
        s = candidate_values(site_score, inst.candidates, m, "site_score")
        c[:m] = -score_weight * s * (~rules.fixed) / max(int(rules.p or 1), 1)
    A = sparse.hstack([-N[open_rows], sparse.eye_array(k, format="csr")], format="csr")
    blocks = [RowBlock("coverage", A, np.full(k, -np.inf), np.zeros(k)),
              *site_blocks(rules, m + k, 0)]
    lb_y, ub_y = site_bounds(rules)
    out = solve_milp(c, blocks, integrality=np.concatenate([np.ones(m, np.int8),
                                                            np.zeros(k, np.int8)]),
                     lb=np.concatenate([lb_y, np.zeros(k)]),
                     ub=np.concatenate([ub_y, np.ones(k)]),
                     time_limit_s=time_limit_s, mip_gap=mip_gap)
    if out.x is None:
        _check_site_rules(rules)
        msg = f"HiGHS found no solution ({out.status}): {out.message}"
        raise InfeasibleError(msg)
    open_idx = np.flatnonzero(out.x[:m] > 0.5)
    covered = float(w[np.asarray(N[:, open_idx].sum(axis=1)).ravel() > 0].sum())
    fixed_part = float(w[by_fixed].sum())
    bound = fixed_part - out.bound if score_weight == 0 else math.nan
    res = build_result(inst, model="max_coverage", open_idx=open_idx, fixed=rules.fixed,
                       objective=covered, bound=bound, status=out.status, method="highs",
                       seconds=time.perf_counter() - t0, standard_m=float(standard_m),
                       district=rules.district,
                       params=_params(p=p, standard_m=standard_m, score_weight=score_weight))
    if score_weight > 0:
        res.gap = (out.objective - out.bound) / max(abs(out.objective), 1e-12)
    return res


def set_cover(demand: gpd.GeoDataFrame | None = None,
              candidates: gpd.GeoDataFrame | None = None, *, standard_m: float,
              cost: CostInput = None, weight: str | ArrayLike | None = None,
              fixed: FixedInput = None, district: DistrictInput = None,
              district_min: CountRule = None, district_max: CountRule = None,
              count_fixed: bool = False, site_cost: str | ArrayLike | None = None,
              budget: float | None = None, time_limit_s: float = 60.0, mip_gap: float = 0.0,
              metric_crs: str | None = None) -> LayoutResult:
    """Open the fewest (or cheapest) new sites so that all demand is within ``standard_m``.

    Parameters
    ----------
    demand, candidates, standard_m, cost, fixed, district, district_min, district_max
        As in :func:`max_coverage`.
    count_fixed, budget, time_limit_s, mip_gap, metric_crs
        As in :func:`p_median`.
    weight
        Demand weights (reported per site and district; every demand row must be covered).
    site_cost
        Opening cost per site: minimise total cost instead of the number of sites.

    Returns
    -------
    LayoutResult
        ``objective`` is the number (or total ``site_cost``) of new sites.

    Raises
    ------
    InfeasibleError
        If some demand has no candidate within ``standard_m`` (the rows are named), or the
        district/budget rules cannot be met together with full coverage.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0., 5., 9.], [5., 0., 4.], [9., 4., 0.], [2., 6., 8.]])
    >>> res = set_cover(cost=cost, standard_m=5.0)
    >>> res.selected.tolist()
    [0, 2]
    """
    t0 = time.perf_counter()
    inst, rules = _setup(demand, candidates, cost=cost, weight=weight, metric_crs=metric_crs,
                         p=None, fixed=fixed, district=district, district_min=district_min,
                         district_max=district_max, count_fixed=count_fixed,
                         site_cost=site_cost, budget=budget)
    N = _coverage(inst, standard_m)
    m = inst.n_candidates
    by_fixed = (N[:, np.flatnonzero(rules.fixed)].sum(axis=1) > 0) if rules.fixed.any() \
        else np.zeros(inst.n_demand, dtype=bool)
    rows = np.flatnonzero(~by_fixed)
    sub = N[rows][:, np.flatnonzero(rules.allowed & ~rules.fixed)]
    lonely = rows[np.asarray(sub.sum(axis=1)).ravel() == 0]
    if lonely.size:
        ids = list(inst.demand_ids[lonely][:5])
        msg = (
            f"set_cover: {lonely.size} demand rows have no candidate within standard_m="
            f"{standard_m:g}, e.g. {ids}; raise the standard, add candidates near them, or use "
            "max_coverage."
        )
        raise InfeasibleError(msg)
    unit = rules.site_cost if rules.site_cost is not None else np.ones(m)
    c = unit * (~rules.fixed)
    blocks = [RowBlock("coverage", N[rows], np.ones(rows.size), np.full(rows.size, np.inf)),
              *site_blocks(rules, m, 0)]
    lb, ub = site_bounds(rules)
    out = solve_milp(c, blocks, integrality=np.ones(m, np.int8), lb=lb, ub=ub,
                     time_limit_s=time_limit_s, mip_gap=mip_gap)
    if out.x is None:
        if rules.has_side_rules:
            _check_site_rules(rules)
            msg = ("set_cover: full coverage is impossible under the district/budget rules; "
                   "loosen district_max or budget, or use max_coverage.")
            raise InfeasibleError(msg)
        msg = f"HiGHS found no solution ({out.status}): {out.message}"
        raise InfeasibleError(msg)
    open_idx = np.flatnonzero(out.x > 0.5)
    return build_result(inst, model="set_cover", open_idx=open_idx, fixed=rules.fixed,
                        objective=out.objective, bound=out.bound, status=out.status,
                        method="highs", seconds=time.perf_counter() - t0,
                        standard_m=float(standard_m), district=rules.district,
                        params=_params(standard_m=standard_m))


def p_center(demand: gpd.GeoDataFrame | None = None,
             candidates: gpd.GeoDataFrame | None = None, *, p: int, cost: CostInput = None,
             weight: str | ArrayLike | None = None, fixed: FixedInput = None,
             district: DistrictInput = None, district_min: CountRule = None,
             district_max: CountRule = None, count_fixed: bool = False,
             site_cost: str | ArrayLike | None = None, budget: float | None = None,
             time_limit_s: float = 60.0, metric_crs: str | None = None) -> LayoutResult:
    """Choose ``p`` new sites minimising the largest cost from any demand to its nearest site.

    Solved exactly by bisection over the distinct costs between the largest nearest-site cost
    and a greedy solution's radius: each step asks whether the site rules can be met with
    every demand within the trial radius (a set-cover test, reduced by dominance, answered by
    a greedy cover or by HiGHS). ``time_limit_s`` is checked before each test.

    Parameters
    ----------
    demand, candidates, p, cost, fixed, district, district_min, district_max
        As in :func:`p_median`.
    count_fixed, site_cost, budget, time_limit_s, metric_crs
        As in :func:`p_median`.
    weight
        Demand weights (reported only; p-center serves every demand row equally).

    Returns
    -------
    LayoutResult
        ``objective`` is the largest demand-to-site cost; ``bound`` a proven lower bound.

    Raises
    ------
    ValueError
        If ``p`` exceeds the candidates available.
    InfeasibleError
        If district or budget rules cannot be met.
    DataError
        Unreachable (infinite) pairs, NaN or negative costs, empty demand.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0., 5., 9.], [5., 0., 4.], [9., 4., 0.], [2., 6., 8.]])
    >>> res = p_center(cost=cost, p=1)
    >>> res.selected.tolist(), res.objective
    ([1], 6.0)
    """
    t0 = time.perf_counter()
    inst, rules = _setup(demand, candidates, cost=cost, weight=weight, metric_crs=metric_crs,
                         p=p, fixed=fixed, district=district, district_min=district_min,
                         district_max=district_max, count_fixed=count_fixed,
                         site_cost=site_cost, budget=budget)
    require_finite(inst, "p_center")
    out = solve_p_center(inst.cost, rules, time_limit_s=time_limit_s)
    if out.open_idx.size == 0:
        if out.status == "infeasible":
            _check_site_rules(rules)
            msg = "p_center: no choice of sites satisfies the rules."
            raise InfeasibleError(msg)
        msg = f"p_center: time limit of {time_limit_s}s reached before any feasible radius."
        raise InfeasibleError(msg)
    return build_result(inst, model="p_center", open_idx=out.open_idx, fixed=rules.fixed,
                        objective=out.objective, bound=out.bound, status=out.status,
                        method="bisection+set-cover", seconds=time.perf_counter() - t0,
                        district=rules.district, params=_params(p=p))
