"""Criterion weights from an AHP pairwise comparison matrix (Saaty's eigenvector method)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ..errors import ScenarioError

__all__ = ["RANDOM_INDEX", "ahp_weights", "consistency_ratio"]

logger = logging.getLogger(__name__)

RANDOM_INDEX: dict[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
    11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}
"""Saaty's random consistency index RI by matrix order n (Saaty 1980, Table 1.7; n > 10
from Saaty 1994). CR = CI / RI with CI = (lambda_max - n) / (n - 1)."""

_RECIPROCAL_RTOL = 1e-3  # judgements like 1/3 written as 0.333 are accepted


def _check_matrix(matrix: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    try:
        A = np.asarray(matrix, dtype="float64")
    except (TypeError, ValueError) as exc:
        msg = f"AHP matrix must be a square array of numbers; could not read it ({exc})."
        raise ScenarioError(msg) from exc
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        msg = f"AHP matrix must be square (n x n), got shape {A.shape}; give one row per criterion."
        raise ScenarioError(msg)
    n = A.shape[0]
    if n > max(RANDOM_INDEX):
        msg = (f"AHP matrix has {n} criteria; Saaty's random index is tabulated up to "
               f"{max(RANDOM_INDEX)}. Group criteria hierarchically or give direct weights.")
        raise ScenarioError(msg)
    if not np.all(np.isfinite(A)) or np.any(A <= 0):
        i, j = np.argwhere(~np.isfinite(A) | (A <= 0))[0]
        msg = (f"AHP matrix must be positive: entry [{i}][{j}] = {A[i, j]!r}; use Saaty's "
               "1-9 scale and its reciprocals (1/9 ... 9).")
        raise ScenarioError(msg)
    bad = ~np.isclose(A * A.T, 1.0, rtol=_RECIPROCAL_RTOL, atol=0.0)
    if np.any(bad):
        i, j = np.argwhere(bad)[0]
        msg = (f"AHP matrix must be reciprocal (a[j][i] = 1 / a[i][j]) but a[{i}][{j}] = "
               f"{A[i, j]:g} and a[{j}][{i}] = {A[j, i]:g}; set a[{j}][{i}] = "
               f"{1.0 / A[i, j]:.4g}.")
        raise ScenarioError(msg)
    if not np.allclose(np.diag(A), 1.0):
        msg = "AHP matrix diagonal must be all 1 (each criterion equals itself)."
        raise ScenarioError(msg)
    return A


def consistency_ratio(lambda_max: float, n: int) -> float:
    """Return Saaty's consistency ratio CR = ((lambda_max - n) / (n - 1)) / RI(n).

    Parameters
    ----------
    lambda_max
        Principal eigenvalue of the pairwise matrix.
    n
        Matrix order.

    Returns
    -------
    float
        The consistency ratio; 0 for n <= 2 (such matrices are always consistent).

    Examples
    --------
    >>> round(consistency_ratio(3.05, 3), 3)
    0.043
    """
    if n <= 2:
        return 0.0
    ci = (lambda_max - n) / (n - 1)
    return float(max(ci, 0.0) / RANDOM_INDEX[n])


def ahp_weights(matrix: Sequence[Sequence[float]] | np.ndarray, *,
                allow_inconsistent: bool = False,
                max_cr: float = 0.10) -> tuple[np.ndarray, float]:
    """Derive criterion weights from a pairwise comparison matrix by Saaty's AHP.

    The weights are the principal (Perron) eigenvector normalised to sum to one; consistency
    is judged by Saaty's consistency ratio.

    Parameters
    ----------
    matrix
        Square, positive, reciprocal matrix: ``matrix[i][j]`` says how much more important
        criterion ``i`` is than criterion ``j`` on Saaty's 1-9 scale, and
        ``matrix[j][i] = 1 / matrix[i][j]``.
    allow_inconsistent
        Return weights even when the consistency ratio exceeds ``max_cr`` (a warning is
        logged instead of an error).
    max_cr
        Largest acceptable consistency ratio (Saaty's 0.10).

    Returns
    -------
    tuple
        ``(weights, consistency_ratio)``: a 1-D float array summing to 1, in the matrix's
        row order, and the CR.

    Raises
    ------
    ScenarioError
        If the matrix is not square, positive and reciprocal, or if CR > ``max_cr`` and
        ``allow_inconsistent`` is false.

    Examples
    --------
    >>> w, cr = ahp_weights([[1, 1/3, 1/2], [3, 1, 3], [2, 1/3, 1]])
    >>> [round(float(x), 3) for x in w], round(cr, 3)
    ([0.157, 0.594, 0.249], 0.046)
    """
    A = _check_matrix(matrix)
    n = A.shape[0]
    eigvals, eigvecs = np.linalg.eig(A)
    k = int(np.argmax(eigvals.real))
    lam = float(eigvals[k].real)
    vec = np.abs(eigvecs[:, k].real)
    weights = vec / vec.sum()
    cr = consistency_ratio(lam, n)
    logger.debug("AHP: n=%d lambda_max=%.4f CR=%.4f weights=%s", n, lam, cr, weights)
    if cr > max_cr:
        msg = (f"AHP matrix is inconsistent: consistency ratio {cr:.3f} > {max_cr:.2f} "
               f"(lambda_max = {lam:.3f}, n = {n}). Revise the judgements that contradict "
               "each other, or pass allow_inconsistent=True (scenario: "
               "[weights] allow_inconsistent = true).")
        if not allow_inconsistent:
            raise ScenarioError(msg)
        logger.warning(msg)
    return weights, cr
