"""Site rules shared by every model: fixed sites, counts, district balance and budget.

The rules only touch the site variables ``y`` (1 = site open). They are checked before any
solve so that an impossible request fails with an :class:`~cci_geo.errors.InfeasibleError`
that names the rule, and turned into linear rows for HiGHS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from ..errors import DataError, InfeasibleError, ParameterError, ParameterTypeError
from ._milp import RowBlock
from .costs import Instance, candidate_labels, candidate_values

__all__ = ["CountRule", "FixedInput", "SiteRules", "build_rules", "site_blocks"]

FixedInput: TypeAlias = str | Sequence[object] | NDArray[np.bool_] | pd.Series | None
"""Fixed sites: a boolean column of candidates, a boolean mask, or candidate ids."""

CountRule = int | Mapping[str, int] | None
"""A per-district count: one int for every district, or a mapping district -> count."""


@dataclass(frozen=True)
class SiteRules:
    """Validated rules on which candidate sites may open.

    Attributes
    ----------
    p
        Number of new (non-fixed) sites to open, or ``None`` when the model chooses it.
    fixed
        Boolean mask of sites that stay open.
    allowed
        Boolean mask of sites that may open (fixed sites included).
    district
        District label per candidate (``None`` entries have no district), or ``None``.
    district_min, district_max
        Per-district bounds on the number of counted open sites.
    count_fixed
        Whether fixed sites count towards the district bounds.
    site_cost
        Cost of opening each site (fixed sites are free), or ``None``.
    budget
        Upper bound on the total ``site_cost`` of new sites, or ``None``.
    """

    p: int | None
    fixed: NDArray[np.bool_]
    allowed: NDArray[np.bool_]
    district: NDArray[np.object_] | None = None
    district_min: Mapping[str, int] | None = None
    district_max: Mapping[str, int] | None = None
    count_fixed: bool = False
    site_cost: NDArray[np.float64] | None = None
    budget: float | None = None

    @property
    def has_side_rules(self) -> bool:
        """True when district bounds or a budget apply (beyond the site count)."""
        return bool(self.district_min or self.district_max or self.budget is not None)

    @property
    def p_total(self) -> int:
        """Number of open sites, fixed included (``p`` must be set)."""
        return int(self.fixed.sum()) + int(self.p or 0)

    def without(self, name: str) -> SiteRules:
        """Return a copy with one rule group (``district_min``...) dropped."""
        if name == "budget":
            return replace(self, budget=None)
        if name == "district_min":
            return replace(self, district_min=None)
        if name == "district_max":
            return replace(self, district_max=None)
        if name == "p":
            return replace(self, p=None)
        msg = f"unknown rule {name!r}"
        raise ParameterError(msg)


def _fixed_mask(fixed: FixedInput, inst: Instance) -> NDArray[np.bool_]:
    m = inst.n_candidates
    if fixed is None:
        return np.zeros(m, dtype=bool)
    if isinstance(fixed, str):
        if inst.candidates is None or fixed not in inst.candidates.columns:
            msg = f"fixed={fixed!r} must name a boolean column of candidates."
            raise DataError(msg)
        return inst.candidates[fixed].fillna(False).astype(bool).to_numpy()
    arr = np.asarray(list(fixed) if not isinstance(fixed, np.ndarray) else fixed)
    if arr.dtype == bool:
        if arr.shape != (m,):
            msg = f"fixed mask has {arr.size} values but there are {m} candidates."
            raise DataError(msg)
        return arr.astype(bool)
    ids = list(inst.candidate_ids)
    pos = {v: k for k, v in enumerate(ids)}
    missing = [v for v in arr.tolist() if v not in pos]
    if missing:
        msg = (
            f"fixed lists {len(missing)} ids that are not candidates, e.g. {missing[:5]}; "
            "pass candidate ids (the 'id' column or index) or a boolean mask."
        )
        raise DataError(msg)
    mask = np.zeros(m, dtype=bool)
    mask[[pos[v] for v in arr.tolist()]] = True
    return mask


def _count_rule(rule: CountRule, labels: NDArray[np.object_], name: str) -> dict[str, int]:
    present = sorted({str(v) for v in labels if v is not None})
    if rule is None:
        return {}
    if isinstance(rule, Mapping):
        out = {str(k): int(v) for k, v in rule.items()}
    else:
        out = dict.fromkeys(present, int(rule))
    bad = {k: v for k, v in out.items() if v < 0}
    if bad:
        msg = f"{name} must be >= 0, got {bad}."
        raise ParameterError(msg)
    return out


def build_rules(inst: Instance, *, p: int | None, fixed: FixedInput = None,
                district: str | Sequence[object] | pd.Series | None = None,
                district_min: CountRule = None, district_max: CountRule = None,
                count_fixed: bool = False, site_cost: str | ArrayLike | None = None,
                budget: float | None = None) -> SiteRules:
    """Validate the site options of a model call and return :class:`SiteRules`.

    Raises
    ------
    ValueError
        If ``p`` is negative or larger than the number of candidates that may open.
    InfeasibleError
        If a district bound or the budget cannot be met (the message names the rule).

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> from cci_geo.layout.costs import prepare_instance
    >>> from cci_geo.layout.rules import build_rules
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> inst = prepare_instance(None, None, cost=np.abs(x[:, None] - x[None, :]))
    >>> rules = build_rules(inst, p=2, fixed=[0], district=["a", "a", "b", "b", "c"],
    ...                     district_max=1)
    >>> rules.fixed.tolist(), rules.district_max
    ([True, False, False, False, False], {'a': 1, 'b': 1, 'c': 1})
    >>> try:
    ...     build_rules(inst, p=5, fixed=[0])
    ... except ValueError as exc:
    ...     print(str(exc).split(";")[0])
    p=5 exceeds the 4 candidate sites available (1 of the 5 are fixed)
    """
    m = inst.n_candidates
    fixed_mask = _fixed_mask(fixed, inst)
    n_free = int((~fixed_mask).sum())
    if p is not None:
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            msg = f"p must be an int (number of new sites), got {p!r}."
            raise ParameterTypeError(msg)
        if p < 0 or (p == 0 and not fixed_mask.any()):
            msg = f"p must be >= 1 (or 0 with fixed sites), got {p}."
            raise ParameterError(msg)
        if p > n_free:
            extra = f" ({int(fixed_mask.sum())} of the {m} are fixed)" if fixed_mask.any() else ""
            msg = (
                f"p={p} exceeds the {n_free} candidate sites available{extra}; "
                f"pass p <= {n_free} or add candidates."
            )
            raise ParameterError(msg)
    labels = None
    if district is not None:
        labels = candidate_labels(district, inst.candidates, m, "district")
    elif district_min is not None or district_max is not None:
        msg = "district_min/district_max need district= (a candidates column or labels)."
        raise ParameterTypeError(msg)
    costs = None
    if site_cost is not None:
        costs = candidate_values(site_cost, inst.candidates, m, "site_cost")
    if budget is not None and costs is None:
        msg = "budget needs site_cost= (a candidates column or array of opening costs)."
        raise ParameterTypeError(msg)
    rules = SiteRules(
        p=None if p is None else int(p), fixed=fixed_mask, allowed=np.ones(m, dtype=bool),
        district=labels,
        district_min=_count_rule(district_min, labels, "district_min") if labels is not None
        else None,
        district_max=_count_rule(district_max, labels, "district_max") if labels is not None
        else None,
        count_fixed=count_fixed, site_cost=costs,
        budget=None if budget is None else float(budget),
    )
    check_rules(rules)
    return rules


def _district_counts(rules: SiteRules) -> tuple[dict[str, int], dict[str, int]]:
    """Per district: candidate sites free to open, and fixed sites that count."""
    assert rules.district is not None
    free: dict[str, int] = {}
    fixed: dict[str, int] = {}
    for lab, is_fixed, ok in zip(rules.district, rules.fixed, rules.allowed, strict=True):
        if lab is None:
            continue
        if is_fixed:
            fixed[lab] = fixed.get(lab, 0) + (1 if rules.count_fixed else 0)
        elif ok:
            free[lab] = free.get(lab, 0) + 1
    return free, fixed


def check_rules(rules: SiteRules) -> None:
    """Raise :class:`InfeasibleError` naming the first rule that cannot be met."""
    p = rules.p
    if rules.district is not None and (rules.district_min or rules.district_max):
        free, fixed = _district_counts(rules)
        need = 0
        for d, lo in (rules.district_min or {}).items():
            have = free.get(d, 0) + fixed.get(d, 0)
            if lo > have:
                msg = (
                    f"district_min asks for {lo} sites in district {d!r} but only {have} "
                    "candidate sites lie there; lower the minimum or add candidates."
                )
                raise InfeasibleError(msg)
            need += max(0, lo - fixed.get(d, 0))
        for d, hi in (rules.district_max or {}).items():
            if fixed.get(d, 0) > hi:
                msg = (
                    f"district_max allows {hi} sites in district {d!r} but {fixed[d]} fixed "
                    "sites already count there; raise the maximum or use count_fixed=False."
                )
                raise InfeasibleError(msg)
        if p is not None and need > p:
            msg = (
                f"district_min needs at least {need} new sites in total but p={p}; raise p "
                "or lower the district minimums."
            )
            raise InfeasibleError(msg)
        if p is not None and rules.district_max:
            room = 0
            for lab in {*free, *(d for d in rules.district if d is not None)}:
                cap = rules.district_max.get(lab)
                room += free.get(lab, 0) if cap is None else max(0, min(
                    free.get(lab, 0), cap - fixed.get(lab, 0)))
            room += int(sum(1 for lab, f, a in zip(rules.district, rules.fixed, rules.allowed,
                                                   strict=True) if lab is None and a and not f))
            if room < p:
                msg = (
                    f"district_max leaves room for only {room} new sites but p={p}; raise "
                    "the district maximums or lower p."
                )
                raise InfeasibleError(msg)
    if rules.budget is not None and rules.site_cost is not None and p:
        free_costs = np.sort(rules.site_cost[rules.allowed & ~rules.fixed])
        cheapest = float(free_costs[:p].sum())
        if cheapest > rules.budget:
            msg = (
                f"budget {rules.budget:g} is below the {cheapest:g} that the {p} cheapest "
                "new sites cost; raise the budget or lower p."
            )
            raise InfeasibleError(msg)


def site_blocks(rules: SiteRules, n_vars: int, offset: int = 0) -> list[RowBlock]:
    """Return the linear rows of ``rules`` on the site variables ``x[offset:offset+m]``.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> from cci_geo.layout.costs import prepare_instance
    >>> from cci_geo.layout.rules import build_rules
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> inst = prepare_instance(None, None, cost=np.abs(x[:, None] - x[None, :]))
    >>> rules = build_rules(inst, p=2, district=["a", "a", "b", "b", "c"], district_max=1)
    >>> blocks = site_blocks(rules, n_vars=5)
    >>> [(b.name, b.A.shape) for b in blocks]
    [('p', (1, 5)), ('district_max', (3, 5))]
    >>> blocks[1].A.toarray()          # one row per district, at most one open site each
    array([[1., 1., 0., 0., 0.],
           [0., 0., 1., 1., 0.],
           [0., 0., 0., 0., 1.]])
    >>> blocks[1].upper.tolist()
    [1.0, 1.0, 1.0]
    """
    m = rules.fixed.size
    rows: list[tuple[str, NDArray[np.float64], float, float]] = []
    free = (~rules.fixed).astype(np.float64)
    if rules.p is not None:
        rows.append(("p", free, float(rules.p), float(rules.p)))
    if rules.district is not None:
        counted = np.ones(m) if rules.count_fixed else free
        labs = rules.district
        for name, bounds in (("district_min", rules.district_min),
                             ("district_max", rules.district_max)):
            for d, v in (bounds or {}).items():
                coef = counted * (labs == d)
                lo, hi = (float(v), np.inf) if name == "district_min" else (-np.inf, float(v))
                rows.append((name, coef, lo, hi))
    if rules.budget is not None and rules.site_cost is not None:
        rows.append(("budget", rules.site_cost * free, -np.inf, rules.budget))
    blocks: list[RowBlock] = []
    for name in ("p", "district_min", "district_max", "budget"):
        sel = [r for r in rows if r[0] == name]
        if not sel:
            continue
        dense = np.vstack([r[1] for r in sel])
        A = sparse.hstack([sparse.csr_array((dense.shape[0], offset)), sparse.csr_array(dense),
                           sparse.csr_array((dense.shape[0], n_vars - offset - m))],
                          format="csr")
        blocks.append(RowBlock(name, A, np.array([r[2] for r in sel]),
                               np.array([r[3] for r in sel])))
    return blocks


def site_bounds(rules: SiteRules) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return lower/upper bounds of the site variables (fixed open, disallowed closed)."""
    lb = rules.fixed.astype(np.float64)
    ub = (rules.allowed | rules.fixed).astype(np.float64)
    return lb, ub
