"""How far a suitability ranking can be trusted: Monte Carlo and one-at-a-time weight analysis.

Ranks are ordinal (1 = best) with ties broken by the sites' identifiers, so every draw and
every re-run ranks identically.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import check_seed
from ..errors import ParameterError, ScenarioError

__all__ = ["MonteCarloResult", "monte_carlo", "one_at_a_time", "rank_scores"]

logger = logging.getLogger(__name__)


def _tiebreak_order(ids: Sequence[object]) -> np.ndarray:
    """Positions that sort ``ids`` ascending (as strings): the tie-break order."""
    keys = np.asarray([str(i) for i in ids], dtype=object)
    return np.argsort(keys, kind="stable")


def rank_scores(scores: np.ndarray, ids: Sequence[object]) -> np.ndarray:
    """Return ordinal ranks (1 = highest score) of ``scores``; rows are sites.

    Parameters
    ----------
    scores
        ``(n,)`` or ``(n, d)`` array; each column is ranked separately. No NaN allowed.
    ids
        ``n`` site identifiers; equal scores are ranked by ascending ``str(id)``.

    Returns
    -------
    numpy.ndarray
        Integer ranks with the shape of ``scores``.

    Examples
    --------
    >>> import numpy as np
    >>> rank_scores(np.array([0.2, 0.9, np.nan, 0.9]), ["a", "b", "c", "d"]).tolist()
    [3, 1, 4, 2]
    """
    s = np.asarray(scores, dtype="float64")
    one_d = s.ndim == 1
    if one_d:
        s = s[:, None]
    tb = _tiebreak_order(ids)
    order = np.argsort(-s[tb], axis=0, kind="stable")  # positions within tie-break order
    ranks = np.empty(s.shape, dtype=np.int64)
    rank_vals = np.broadcast_to(np.arange(1, s.shape[0] + 1)[:, None], s.shape)
    np.put_along_axis(ranks, tb[order], rank_vals, axis=0)
    return ranks[:, 0] if one_d else ranks


@dataclass(frozen=True)
class MonteCarloResult:
    """Rank distribution of each site under Dirichlet-perturbed weights.

    Attributes
    ----------
    summary
        DataFrame indexed by site id with ``rank_p05``, ``rank_median``, ``rank_p95``,
        ``rank_mean`` and ``p_top_k`` (share of draws in which the site ranks <= ``top_k``).
    rank_counts
        ``(n_sites, n_sites)`` integer array: ``rank_counts[i, r - 1]`` is how many draws gave
        site ``i`` rank ``r``.
    weight_draws
        ``(draws, n_criteria)`` array of the sampled weights.
    top_k, draws, concentration, seed
        The settings used.
    """

    summary: pd.DataFrame
    rank_counts: np.ndarray
    weight_draws: np.ndarray
    top_k: int
    draws: int
    concentration: float
    seed: int | None


def _check_inputs(values: np.ndarray, weights: np.ndarray, ids: Sequence[object],
                  top_k: int) -> tuple[np.ndarray, np.ndarray]:
    V = np.asarray(values, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    if V.ndim != 2 or V.shape[1] != w.shape[0] or V.shape[0] != len(ids):
        msg = (f"values must be (n_sites, n_criteria) = ({len(ids)}, {w.shape[0]}), "
               f"got {V.shape}.")
        raise ParameterError(msg)
    if not np.all(np.isfinite(V)):
        msg = "values contain NaN; drop sites with missing criterion values before ranking."
        raise ParameterError(msg)
    if np.any(w < 0) or w.sum() <= 0:
        msg = f"weights must be >= 0 with a positive sum, got {w.tolist()}."
        raise ScenarioError(msg)
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        msg = f"top_k must be an integer >= 1, got {top_k!r}."
        raise ScenarioError(msg)
    return V, w / w.sum()


def monte_carlo(values: np.ndarray, weights: np.ndarray, ids: Sequence[object], *,
                draws: int = 1000, concentration: float = 100.0, top_k: int = 5,
                seed: int | None = None) -> MonteCarloResult:
    """Rank sites under random weights drawn around the chosen ones.

    Weights are drawn from a Dirichlet distribution with ``alpha = concentration * weights``,
    so their mean is the chosen weights and the standard deviation of weight ``w`` is
    ``sqrt(w (1 - w) / (concentration + 1))``: 100 gives about +/-0.04 on a weight of 0.2,
    20 about +/-0.09. Criteria with weight 0 stay at 0.

    Parameters
    ----------
    values
        ``(n_sites, n_criteria)`` criterion values in [0, 1] (no NaN).
    weights
        ``n_criteria`` chosen weights (normalised here).
    ids
        Site identifiers (tie-break key and index of the summary).
    draws
        Number of weight vectors drawn.
    concentration
        Dirichlet concentration (> 0); larger means weights closer to the chosen ones.
    top_k
        Size of the shortlist whose membership probability is reported.
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives identical results.

    Returns
    -------
    MonteCarloResult

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[1.0, 0.0], [0.6, 0.6], [0.0, 1.0]])   # 3 sites x 2 criteria
    >>> mc = monte_carlo(values, np.array([0.5, 0.5]), ["a", "b", "c"], draws=200, top_k=1,
    ...                  seed=0)
    >>> bool(mc.summary.loc["b", "p_top_k"] > 0.9)
    True
    """
    V, w = _check_inputs(values, weights, ids, top_k)
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        msg = f"draws must be an integer >= 1, got {draws!r}."
        raise ScenarioError(msg)
    if not np.isfinite(concentration) or concentration <= 0:
        msg = f"concentration must be > 0, got {concentration!r}."
        raise ScenarioError(msg)
    rng = np.random.default_rng(check_seed(seed))
    pos = w > 0
    W = np.zeros((draws, w.size))
    if pos.sum() == 1:
        W[:, pos] = 1.0
    else:
        W[:, pos] = rng.dirichlet(concentration * w[pos], size=draws)
    ranks = rank_scores(V @ W.T, ids)
    n = V.shape[0]
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(n), draws), ranks.ravel() - 1), 1)
    p05, med, p95 = np.percentile(ranks, [5, 50, 95], axis=1)
    summary = pd.DataFrame({
        "rank_p05": p05, "rank_median": med, "rank_p95": p95,
        "rank_mean": ranks.mean(axis=1), "p_top_k": (ranks <= top_k).mean(axis=1),
    }, index=pd.Index(list(ids), name="id"))
    logger.info("Monte Carlo: %d draws, concentration %g, top %d", draws, concentration, top_k)
    return MonteCarloResult(summary, counts, W, int(top_k), int(draws), float(concentration),
                            seed)


def _rescaled_base(V: np.ndarray, w: np.ndarray, i: int) -> np.ndarray:
    """Score of the other criteria when their weights are rescaled to sum to one."""
    rest = np.delete(w, i)
    Vr = np.delete(V, i, axis=1)
    if rest.sum() <= 0:  # every other weight is 0: they share the freed weight equally
        return Vr.mean(axis=1) if Vr.shape[1] else np.zeros(V.shape[0])
    return Vr @ (rest / rest.sum())


def one_at_a_time(values: np.ndarray, weights: np.ndarray, ids: Sequence[object],
                  names: Sequence[str], *, top_k: int = 5) -> pd.DataFrame:
    """For each criterion, the range its weight can move before the top-k set changes.

    Weight ``i`` is moved to ``t`` while the other weights are rescaled proportionally to sum
    to ``1 - t``. Every site's score is then linear in ``t``, so the first ``t`` where a
    top-k site is overtaken by an outsider is found exactly from the pairwise crossings.

    Parameters
    ----------
    values
        ``(n_sites, n_criteria)`` values (no NaN).
    weights
        Chosen weights (normalised here).
    ids
        Site identifiers.
    names
        Criterion names.
    top_k
        Shortlist size.

    Returns
    -------
    pandas.DataFrame
        One row per criterion (index ``criterion``) with ``weight``, ``weight_min`` and
        ``weight_max`` (the interval of weights keeping the same top-k set), ``down`` and
        ``up`` (distances to those ends) and ``swap_down`` / ``swap_up`` ("leaving -> entering"
        site ids at each end, empty when the set never changes).

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[1.0, 0.0], [0.6, 0.6], [0.0, 1.0]])
    >>> oat = one_at_a_time(values, np.array([0.5, 0.5]), ["a", "b", "c"], ["x", "y"], top_k=1)
    >>> oat[["weight_min", "weight_max"]].values.tolist()   # "b" stays first within these
    [[0.4, 0.6], [0.4, 0.6]]
    """
    V, w = _check_inputs(values, weights, ids, top_k)
    n = V.shape[0]
    ids_list = list(ids)
    base_rank = rank_scores(V @ w, ids_list)
    top = np.flatnonzero(base_rank <= top_k)
    out_ = np.flatnonzero(base_rank > top_k)
    rows = []
    for i, name in enumerate(names):
        r = _rescaled_base(V, w, i)
        slope = V[:, i] - r
        lo, hi, swap_lo, swap_hi = 0.0, 1.0, "", ""
        if n > top_k and len(top):
            A = r[top][:, None] - r[out_][None, :]
            B = slope[top][:, None] - slope[out_][None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(B != 0, -A / B, np.nan)
            up = (B < 0) & (t >= w[i] - 1e-12) & (t <= 1)
            down = (B > 0) & (t <= w[i] + 1e-12) & (t >= 0)
            if up.any():
                a, b = np.unravel_index(np.argmin(np.where(up, t, np.inf)), t.shape)
                hi = float(max(t[a, b], w[i]))
                swap_hi = f"{ids_list[top[a]]} -> {ids_list[out_[b]]}"
            if down.any():
                a, b = np.unravel_index(np.argmax(np.where(down, t, -np.inf)), t.shape)
                lo = float(min(t[a, b], w[i]))
                swap_lo = f"{ids_list[top[a]]} -> {ids_list[out_[b]]}"
        rows.append({"criterion": name, "weight": float(w[i]), "weight_min": lo,
                     "weight_max": hi, "down": float(w[i]) - lo, "up": hi - float(w[i]),
                     "swap_down": swap_lo, "swap_up": swap_hi})
    return pd.DataFrame(rows).set_index("criterion")
