"""The Mann-Kendall trend test, vectorised over many series (one per grid cell).

The statistic, tie-corrected variance, continuity-corrected z, two-sided p-value, Kendall's tau
(``S / (n (n - 1) / 2)``) and Sen's slope follow ``pymannkendall.original_test``, which the
tests use as the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import DataError

__all__ = ["MannKendall", "mann_kendall"]


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall results, one entry per series.

    Attributes
    ----------
    s, var_s, z, p, tau, slope
        Arrays: the S statistic, its variance (tie-corrected), the standard normal score
        (continuity-corrected), the two-sided p-value, Kendall's tau and Sen's slope (change
        per time step).
    """

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray
    slope: np.ndarray


def _tie_terms(X: np.ndarray) -> np.ndarray:
    """Sum over tie groups of t (t - 1) (2 t + 5), per row."""
    srt = np.sort(X, axis=1)
    same = srt[:, 1:] == srt[:, :-1]
    out = np.zeros(X.shape[0])
    for r in np.flatnonzero(same.any(axis=1)):  # rows with ties only (rare for z-scores)
        _, counts = np.unique(srt[r], return_counts=True)
        t = counts[counts > 1].astype("float64")
        out[r] = float((t * (t - 1) * (2 * t + 5)).sum())
    return out


def mann_kendall(series: np.ndarray) -> MannKendall:
    """Run the Mann-Kendall trend test on each row of ``series``.

    Parameters
    ----------
    series
        Array of shape ``(n_series, n_steps)`` (or one series of shape ``(n_steps,)``), in time
        order, without NaN; at least 3 steps.

    Returns
    -------
    MannKendall
        Arrays of length ``n_series`` (length 1 for a single series).

    Raises
    ------
    DataError
        Fewer than 3 steps, or NaN values.

    Examples
    --------
    >>> res = mann_kendall([1.0, 2.0, 3.0, 2.5, 4.0, 5.0])
    >>> int(res.s[0]), round(float(res.tau[0]), 3), bool(res.p[0] < 0.05)
    (13, 0.867, True)
    """
    X = np.atleast_2d(np.asarray(series, dtype="float64"))
    n = X.shape[1]
    if n < 3:
        msg = f"the Mann-Kendall test needs at least 3 time steps, got {n}."
        raise DataError(msg)
    if np.isnan(X).any():
        msg = "series contain NaN; fill or drop the missing time steps first."
        raise DataError(msg)
    i, j = np.triu_indices(n, k=1)
    diff = X[:, j] - X[:, i]
    s = np.sign(diff).sum(axis=1)
    var_s = (n * (n - 1) * (2 * n + 5) - _tie_terms(X)) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var_s),
                     np.where(s < 0, (s + 1) / np.sqrt(var_s), 0.0))
    z = np.where(var_s > 0, z, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = s / (0.5 * n * (n - 1))
    slope = np.median(diff / (j - i), axis=1)
    return MannKendall(s=s, var_s=var_s, z=z, p=p, tau=tau, slope=slope)
