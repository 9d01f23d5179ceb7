"""Getis-Ord Gi* per time step with a space-time neighbourhood.

The neighbourhood of bin ``(i, t)`` is every spatial neighbour ``j`` of cell ``i`` (``i``
itself included, binary weights) in time steps ``t - k .. t`` (as in ArcGIS Pro's Emerging Hot
Spot Analysis *Neighborhood Time Step* and sfdep's ``k``). The statistic of step ``t`` treats
the bins of its window (all cells x steps ``max(0, t - k) .. t``) as the population::

    z_it = (L_it - ȳ W_i) / (S sqrt((N W_i - W_i²) / (N - 1)))

with ``L_it`` the sum of the neighbourhood's values, ``W_i`` its number of bins, ``N`` the
number of bins in the window and ``ȳ``, ``S`` their mean and (population) standard deviation.
With ``k = 0`` each slice is exactly esda's ``G_Local(y_t, w, star=True, transform="B")``.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import sparse, stats

from .._weights import log_islands, weights_from_spec
from ..concentration.autocorrelation import benjamini_hochberg
from ..errors import ParameterError
from .cube import SpaceTimeCube

__all__ = ["significance_bins", "space_time_gi"]

logger = logging.getLogger(__name__)


def space_time_gi(cube: SpaceTimeCube, *, k: int = 1, weights: object = "queen",
                  metric_crs: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return Gi* z-scores and two-sided p-values of every bin of ``cube``.

    Parameters
    ----------
    cube
        A :class:`SpaceTimeCube`.
    k
        Number of previous time steps in the neighbourhood (0: space only).
    weights
        Spatial neighbours: ``"queen"``/``"rook"`` (grid contiguity), ``"knn:K"``, a distance
        band in metres, or a square ``scipy.sparse`` matrix (non-zero = neighbour).
    metric_crs
        Metric CRS for distance-based weights.

    Returns
    -------
    tuple of numpy.ndarray
        ``(z, p)``, each of shape ``(cells, years)``; a bin whose window has no variance gets
        ``z = 0`` and ``p = 1``.

    Raises
    ------
    ParameterError
        ``k`` negative or not smaller than the number of years.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from cci_geo._weights import GRID_ATTR
    >>> cells = gpd.GeoDataFrame({"id": list("abc"), "row": [0, 0, 0], "col": [0, 1, 2]})
    >>> cells.attrs[GRID_ATTR] = {}
    >>> cube = SpaceTimeCube(cells, np.arange(2020, 2024),
    ...                      np.array([[0., 1, 2, 3], [0, 1, 2, 3], [5, 4, 3, 0]]), "count")
    >>> z, p = space_time_gi(cube, k=0)
    >>> z.shape
    (3, 4)
    """
    n_cells, n_steps = cube.values.shape
    if not isinstance(k, (int, np.integer)) or k < 0 or k >= n_steps:
        msg = (f"k must be an integer in 0..{n_steps - 1} (previous time steps in the "
               f"neighbourhood), got {k!r}.")
        raise ParameterError(msg)
    W, desc = weights_from_spec(cube.cells, weights, metric_crs=metric_crs)
    log_islands(W, desc)
    A = (W + sparse.identity(n_cells, format="csr")).tocsr()  # binary, self included
    n_nb = np.asarray(A.sum(axis=1)).ravel()
    Y = np.asarray(cube.values, dtype="float64")
    cum = np.concatenate([np.zeros((n_cells, 1)), np.cumsum(Y, axis=1)], axis=1)
    z = np.zeros((n_cells, n_steps))
    for t in range(n_steps):
        lo = max(0, t - k)
        m = t + 1 - lo
        window = Y[:, lo:t + 1]
        N = n_cells * m
        ybar = float(window.mean())
        s = float(np.sqrt(max(float((window * window).mean()) - ybar * ybar, 0.0)))
        L = A @ (cum[:, t + 1] - cum[:, lo])
        Wi = n_nb * m
        denom = s * np.sqrt(np.maximum(N * Wi - Wi * Wi, 0.0) / (N - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            z[:, t] = np.where(denom > 0, (L - ybar * Wi) / denom, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    logger.debug("space-time Gi*: %d cells x %d steps, k=%d, %s weights", n_cells, n_steps, k,
                 desc)
    return z, p


def significance_bins(z: np.ndarray, p: np.ndarray, *, alpha: float = 0.10,
                      fdr: bool = True) -> np.ndarray:
    """Return -3..3 hot/cold bins (99/95/90 % confidence) of z-scores and p-values.

    With ``fdr`` the p-values of each time step (column) are Benjamini-Hochberg adjusted first;
    only bins with (adjusted) ``p <= alpha`` are significant.

    Examples
    --------
    >>> import numpy as np
    >>> significance_bins(np.array([[3.0], [-2.0], [0.1]]), np.array([[0.002], [0.04], [0.9]]),
    ...                   fdr=False).ravel().tolist()
    [3, -2, 0]
    """
    if not 0 < alpha < 1:
        msg = f"alpha must be in (0, 1), got {alpha!r}; 0.10 means 90 % confidence."
        raise ParameterError(msg)
    q = np.column_stack([benjamini_hochberg(p[:, t]) for t in range(p.shape[1])]) if fdr \
        else p
    level = np.select([q <= 0.01, q <= 0.05, q <= 0.10], [3, 2, 1], 0)
    level = np.where(q <= alpha, np.maximum(level, 1), 0)
    return (np.sign(z) * level).astype("int64")
