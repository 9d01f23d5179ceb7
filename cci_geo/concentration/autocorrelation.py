"""Spatial autocorrelation: Getis–Ord Gi* hot spots, global and local Moran's I.

The statistics follow the PySAL ``esda`` definitions (``G_Local(star=True, transform="B")``,
``Moran``, ``Moran_Local``) and agree with them on the same weights; the weights are plain
``scipy.sparse`` matrices (:mod:`cci_geo._weights`), which keeps 10^5 grid cells fast.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from scipy import sparse, stats

from .._validate import check_seed
from .._weights import islands, weights_from_spec
from ..errors import DataError, ParameterError
from ..results import tag_result
from ._common import as_frame, finite_values

__all__ = ["GI_CLASSES", "LISA_CLASSES", "NO_NEIGHBOURS", "MoranResult", "benjamini_hochberg",
           "hot_spots", "local_morans", "morans_i"]

logger = logging.getLogger(__name__)

NO_NEIGHBOURS = "no neighbours"
"""``gi_class`` of a unit without neighbours under the weights (its statistics are NaN)."""

GI_CLASSES = {
    3: "hot spot 99%",
    2: "hot spot 95%",
    1: "hot spot 90%",
    0: "not significant",
    -1: "cold spot 90%",
    -2: "cold spot 95%",
    -3: "cold spot 99%",
}
"""``gi_bin`` -> ``gi_class`` label (ArcGIS's ``Gi_Bin`` classes, in cci_geo's lower case)."""

LISA_CLASSES = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
"""``lisa_q`` (esda's quadrant code) -> ``lisa_quadrant`` label; non-significant units get
``"not significant"`` in ``lisa_class``."""

_QUADRANTS = LISA_CLASSES
_MIN_UNITS = 3


def _values(gdf: gpd.GeoDataFrame, column: str, min_units: int) -> np.ndarray:
    y = finite_values(gdf, column, "gdf", allow_negative=True)
    if len(y) < min_units:
        msg = f"gdf has {len(y)} units; this statistic needs at least {min_units}."
        raise DataError(msg)
    if np.ptp(y) == 0:
        msg = (
            f"column {column!r} is constant ({y[0]!r}) over all {len(y)} units, so its spatial "
            "pattern cannot be tested; check the column or the study area."
        )
        raise DataError(msg)
    return y


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Return Benjamini–Hochberg adjusted p-values (q-values) of ``p``.

    ``q_(i) = min_{j >= i} (m / j) p_(j)`` over the ascending order, capped at 1; a unit is a
    discovery at false discovery rate ``α`` exactly when ``q <= α``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype="float64")
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def gi_star_z(y: np.ndarray, W: sparse.csr_matrix) -> np.ndarray:
    """Return Gi* z-scores for values ``y`` and binary weights ``W`` (zero diagonal).

    The focal unit is included with weight 1 (``W* = W + I``), as in
    ``esda.G_Local(y, w, star=True, transform="B")``::

        z_i = (Σ_j w*_ij y_j - ȳ W_i) / (S sqrt((n W_i - W_i²) / (n - 1)))

    with ``W_i = Σ_j w*_ij``, ``ȳ`` the mean and ``S² = mean(y²) - ȳ²``.
    """
    n = y.size
    lag = W @ y + y
    wi = np.diff(W.indptr).astype("float64") + 1.0 if _is_binary(W) else \
        np.asarray(W.sum(axis=1)).ravel() + 1.0
    ybar = y.mean()
    s = math.sqrt(max(float((y * y).mean() - ybar * ybar), 0.0))
    denom = s * np.sqrt((n * wi - wi * wi) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (lag - ybar * wi) / denom
    return np.where(denom > 0, z, 0.0)


def _is_binary(W: sparse.csr_matrix) -> bool:
    return bool(W.nnz == 0 or (W.data.min() == 1.0 and W.data.max() == 1.0))


def hot_spots(gdf: gpd.GeoDataFrame, column: str, *, weights: object = "queen",
              fdr: float | None = 0.05, metric_crs: str | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` with Getis–Ord Gi* hot/cold spot statistics added.

    Parameters
    ----------
    gdf
        Areal units (polygons, or grid cells from :func:`grid_counts`) or points.
    column
        Numeric column to test (e.g. ``"count"``).
    weights
        Spatial weights: ``"queen"``, ``"rook"`` (contiguity; grid cells use their indices),
        ``"knn:K"``, a distance band in metres between centroids, a ``scipy.sparse`` matrix,
        or a libpysal ``W`` or ``Graph`` (ids = the frame's index labels or positions).
        Weights are binary and the focal unit is included (Gi*).
    fdr
        False discovery rate of the Benjamini–Hochberg correction. When set, classes use
        BH-adjusted p-values and only units with adjusted p <= ``fdr`` are significant (so
        ``fdr=0.10`` reproduces ArcGIS's three FDR-corrected levels; the default 0.05 keeps the
        95 % and 99 % classes). ``None`` classifies the raw p-values at 90/95/99 %.
    metric_crs
        Metric CRS for distance-based weights; default as
        :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``gi_z`` (float, z-score; equals esda's ``G_Local(..., star=True,
        transform="B").Zs``), ``gi_p`` (float, two-sided normal p-value), ``gi_p_fdr`` (float,
        BH-adjusted p-value, or NaN when ``fdr`` is None), ``gi_bin`` (int -3..3) and
        ``gi_class`` (str, e.g. ``"hot spot 99%"``). Units without neighbours under
        ``weights`` (islands) get NaN statistics, ``gi_bin`` 0 and ``gi_class``
        ``"no neighbours"``, with a warning: they are never called hot or cold. Result kind
        ``"hot_spots"``.

    Raises
    ------
    DataError
        Fewer than 3 units, NaN values or a constant column.
    ValueError
        Unknown ``weights`` or ``fdr`` outside (0, 1).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> counts = [9, 9, 8, 1, 0, 9, 8, 7, 0, 1, 7, 6, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    >>> cells = gpd.GeoDataFrame({"count": counts}, crs="EPSG:32651",
    ...     geometry=[box(x, y, x + 1, y + 1) for y in range(5) for x in range(5)])
    >>> hot = hot_spots(cells, "count", fdr=None)
    >>> hot["gi_class"].iloc[0], hot["gi_class"].iloc[18]
    ('hot spot 99%', 'cold spot 95%')

    A libpysal ``W`` or ``Graph`` works too: ``hot_spots(cells, "count", weights=w)``.
    """
    frame = as_frame(gdf, "gdf")
    if fdr is not None and not 0 < fdr < 1:
        msg = f"fdr must be in (0, 1) or None, got {fdr!r}."
        raise ParameterError(msg)
    y = _values(frame, column, _MIN_UNITS)
    W, desc = weights_from_spec(frame, weights, metric_crs=metric_crs)
    lonely = _lonely_units(frame, W, desc, "Gi*")
    z = gi_star_z(y, W)
    z[lonely] = np.nan
    p = 2.0 * stats.norm.sf(np.abs(z))
    q = np.full(p.size, np.nan)
    if fdr is not None:
        q[~lonely] = benjamini_hochberg(p[~lonely])
    test = q if fdr is not None else p
    with np.errstate(invalid="ignore"):
        level = np.select([test <= 0.01, test <= 0.05, test <= 0.10], [3, 2, 1], 0)
        if fdr is not None:
            level = np.where(q <= fdr, level, 0)
    gi_bin = (np.sign(np.nan_to_num(z)) * level).astype("int64")
    out = frame.copy()
    out["gi_z"] = z
    out["gi_p"] = p
    out["gi_p_fdr"] = q
    out["gi_bin"] = gi_bin
    labels = np.array([GI_CLASSES[b] for b in range(-3, 4)], dtype=object)
    out["gi_class"] = np.where(lonely, NO_NEIGHBOURS, labels[gi_bin + 3])
    tag_result(out, "hot_spots")
    out.attrs["weights"] = desc
    out.attrs["fdr"] = "none" if fdr is None else f"{fdr:g}"
    logger.info("hot spots on %d units (%s weights): %d hot, %d cold", y.size, desc,
                int((gi_bin > 0).sum()), int((gi_bin < 0).sum()))
    return out


def _lonely_units(frame: gpd.GeoDataFrame, W: sparse.csr_matrix, desc: str,
                  statistic: str) -> np.ndarray:
    """Mask of units without neighbours under ``W``, warned about with their rows.

    A local statistic compares a unit with its neighbours; without any it has no value, so
    such units are labelled :data:`NO_NEIGHBOURS` with NaN statistics instead of being read
    as "not significant" (or, for LISA, as an outlier quadrant).
    """
    lonely = np.zeros(W.shape[0], dtype=bool)
    lonely[islands(W)] = True
    if lonely.any():
        shown = list(frame.index[lonely][:5])
        warnings.warn(
            f"{int(lonely.sum())} of {lonely.size} units have no neighbours under {desc} "
            f"weights (rows {shown}{' ...' if lonely.sum() > 5 else ''}); {statistic} compares "
            f"a unit with its neighbours, so they are labelled {NO_NEIGHBOURS!r} with NaN "
            "statistics. Use weights='knn:6' or a larger distance band to give every unit "
            "neighbours.", UserWarning, stacklevel=3)
    return lonely


def _row_standardise(W: sparse.csr_matrix, transform: str) -> sparse.csr_matrix:
    t = transform.lower()
    if t == "b":
        return W
    if t != "r":
        msg = f"transform must be 'r' (row-standardised) or 'b' (binary), got {transform!r}."
        raise ParameterError(msg)
    rs = np.asarray(W.sum(axis=1)).ravel()
    inv = np.divide(1.0, rs, out=np.zeros_like(rs), where=rs > 0)
    return sparse.csr_matrix(sparse.diags(inv) @ W)


@dataclass(frozen=True)
class MoranResult:
    """Global Moran's I with analytic and permutation inference (as ``esda.Moran``).

    Attributes
    ----------
    I, EI
        Statistic and its expectation ``-1/(n-1)``.
    VI_norm, z_norm, p_norm
        Variance, z-score and two-sided p-value under normality.
    VI_rand, z_rand, p_rand
        The same under randomisation.
    p_sim, EI_sim, z_sim
        Folded pseudo p-value ``(min(#sim >= I, #sim < I) + 1) / (permutations + 1)``, mean
        and z-score of the permuted statistics (NaN without permutations).
    n, permutations, weights, seed
        Units, permutations, weights description, random seed.
    """

    I: float  # noqa: E741
    EI: float
    VI_norm: float
    z_norm: float
    p_norm: float
    VI_rand: float
    z_rand: float
    p_rand: float
    p_sim: float
    EI_sim: float
    z_sim: float
    n: int
    permutations: int
    weights: str
    seed: int | None


def _two_sided(z: float) -> float:
    return float(2.0 * stats.norm.sf(abs(z)))


def morans_i(gdf: gpd.GeoDataFrame, column: str, *, weights: object = "queen",
             permutations: int = 999, seed: int | None = 0, transform: str = "r",
             metric_crs: str | None = None) -> MoranResult:
    """Return global Moran's I of ``column`` (as ``esda.Moran``).

    ``I = (n / S0) Σ_ij w_ij z_i z_j / Σ_i z_i²`` with ``z = y - ȳ`` and ``S0 = Σ_ij w_ij``.

    Parameters
    ----------
    gdf, column
        Units and the numeric column.
    weights
        As for :func:`hot_spots`.
    permutations
        Random permutations of ``y`` for the pseudo p-value (0 to skip).
    seed
        Seed of ``numpy.random.default_rng``.
    transform
        ``"r"`` row-standardised (esda's default) or ``"b"`` binary weights.
    metric_crs
        Metric CRS for distance-based weights on geographic input.

    Returns
    -------
    MoranResult

    Raises
    ------
    DataError
        Fewer than 4 units, NaN values, a constant column, or no unit with neighbours.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> counts = [9, 9, 8, 1, 0, 9, 8, 7, 0, 1, 7, 6, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    >>> cells = gpd.GeoDataFrame({"count": counts}, crs="EPSG:32651",
    ...     geometry=[box(x, y, x + 1, y + 1) for y in range(5) for x in range(5)])
    >>> res = morans_i(cells, "count", permutations=99, seed=0)
    >>> round(res.I, 3), res.p_sim
    (0.702, 0.01)
    """
    frame = as_frame(gdf, "gdf")
    y = _values(frame, column, 4)
    W0, desc = weights_from_spec(frame, weights, metric_crs=metric_crs)
    if W0.nnz == 0:
        msg = f"no unit has a neighbour under {desc} weights; choose wider weights."
        raise DataError(msg)
    W = _row_standardise(W0, transform)
    n = y.size
    z = y - y.mean()
    z2ss = float(z @ z)
    s0 = float(W.sum())
    Wt = W.T.tocsr()
    s1 = float(0.5 * ((W + Wt).power(2)).sum())
    s2 = float(((np.asarray(W.sum(axis=1)).ravel() + np.asarray(W.sum(axis=0)).ravel()) ** 2).sum())
    EI = -1.0 / (n - 1)
    n2 = n * n
    s02 = s0 * s0
    VI_norm = (n2 * s1 - n * s2 + 3 * s02) / ((n - 1) * (n + 1) * s02) - EI * EI
    k = float((z**4).sum() / n / ((z**2).sum() / n) ** 2)
    A = n * ((n2 - 3 * n + 3) * s1 - n * s2 + 3 * s02)
    B = k * ((n2 - n) * s1 - 2 * n * s2 + 6 * s02)
    VI_rand = (A - B) / ((n - 1) * (n - 2) * (n - 3) * s02) - EI * EI
    I_val = n / s0 * float(z @ (W @ z)) / z2ss
    z_norm = (I_val - EI) / math.sqrt(VI_norm)
    z_rand = (I_val - EI) / math.sqrt(VI_rand) if VI_rand > 0 else float("nan")
    p_sim = EI_sim = z_sim = float("nan")
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) \
            or permutations < 0:
        msg = f"permutations must be a whole number >= 0, got {permutations!r}; e.g. 999."
        raise ParameterError(msg)
    if permutations:
        rng = np.random.default_rng(check_seed(seed))
        sims = np.empty(permutations)
        batch = max(1, min(permutations, 2_000_000 // max(n, 1)))
        for start in range(0, permutations, batch):
            m = min(batch, permutations - start)
            Z = np.stack([rng.permutation(z) for _ in range(m)], axis=1)
            sims[start:start + m] = n / s0 * np.einsum("ij,ij->j", Z, W @ Z) / z2ss
        larger = int((sims >= I_val).sum())
        larger = min(larger, permutations - larger)
        p_sim = (larger + 1.0) / (permutations + 1.0)
        EI_sim = float(sims.mean())
        sd = float(sims.std())
        z_sim = (I_val - EI_sim) / sd if sd > 0 else float("nan")
    return MoranResult(I=I_val, EI=EI, VI_norm=VI_norm, z_norm=z_norm, p_norm=_two_sided(z_norm),
                       VI_rand=VI_rand, z_rand=z_rand, p_rand=_two_sided(z_rand),
                       p_sim=p_sim, EI_sim=EI_sim, z_sim=z_sim, n=n,
                       permutations=permutations, weights=desc, seed=seed)


def local_morans(gdf: gpd.GeoDataFrame, column: str, *, weights: object = "queen",
                 permutations: int = 999, seed: int | None = 0, alpha: float = 0.05,
                 transform: str = "r", metric_crs: str | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` with local Moran's I (LISA) added (as ``esda.Moran_Local``).

    ``I_i = (n - 1) z_i Σ_j w_ij z_j / Σ_k z_k²`` with ``z`` the standardised values
    (population standard deviation). Pseudo p-values come from conditional permutations: for
    each unit, its neighbours' values are drawn without replacement from the other units.

    Parameters
    ----------
    gdf, column, weights, transform, metric_crs
        As for :func:`morans_i`.
    permutations
        Conditional permutations per unit (>= 1).
    seed
        Seed of ``numpy.random.default_rng``; equal seeds give equal results.
    alpha
        Significance level of ``lisa_class``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``lisa_i`` (float), ``lisa_q`` (int: 1 HH, 2 LH, 3 LL, 4 HL, esda's
        codes), ``lisa_quadrant`` (str), ``lisa_ei`` and ``lisa_vi`` (float, analytic
        expectation and variance under total randomisation, esda's ``EI``/``VI``), ``lisa_p``
        (float, folded pseudo p-value), ``lisa_z`` (float, z of the permutation
        distribution) and ``lisa_class`` (``"high-high"``, ``"low-low"``, ``"high-low"``,
        ``"low-high"`` where
        ``lisa_p <= alpha``, else ``"not significant"``). Result kind ``"local_morans"``.
        Units without neighbours under ``weights`` (islands) get NaN statistics,
        ``lisa_q`` 0 and ``"no neighbours"`` as quadrant and class, with a warning.

    Raises
    ------
    DataError
        Fewer than 4 units, NaN values or a constant column.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> counts = [9, 9, 8, 1, 0, 9, 8, 7, 0, 1, 7, 6, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    >>> cells = gpd.GeoDataFrame({"count": counts}, crs="EPSG:32651",
    ...     geometry=[box(x, y, x + 1, y + 1) for y in range(5) for x in range(5)])
    >>> lisa = local_morans(cells, "count", permutations=99, seed=0)
    >>> lisa["lisa_class"].iloc[0], lisa["lisa_class"].iloc[18]
    ('high-high', 'low-low')
    """
    frame = as_frame(gdf, "gdf")
    if isinstance(permutations, bool) or int(permutations) < 1:
        msg = f"permutations must be >= 1, got {permutations!r}."
        raise ParameterError(msg)
    y = _values(frame, column, 4)
    W0, desc = weights_from_spec(frame, weights, metric_crs=metric_crs)
    lonely = _lonely_units(frame, W0, desc, "Local Moran's I")
    W = _row_standardise(W0, transform)
    n = y.size
    z = (y - y.mean()) / y.std()
    den = float(z @ z)
    lag = W @ z
    Is = (n - 1) * z * lag / den
    q = np.where(z > 0, np.where(lag > 0, 1, 4), np.where(lag > 0, 2, 3)).astype("int64")
    m2 = den / n
    wi = np.asarray(W.sum(axis=1)).ravel()
    wi2 = np.asarray(W.multiply(W).sum(axis=1)).ravel()
    b2 = float((z**4).sum() / n / m2**2)
    EI = -wi / (n - 1)
    VI = wi2 * (n - b2) / (n - 1) + (wi**2 - wi2) * (2 * b2 - n) / ((n - 1) * (n - 2)) - EI**2
    p_sim, z_sim = _conditional_permutations(z, W, Is, int(permutations), seed, den)
    for stat in (Is, EI, VI, p_sim, z_sim):
        stat[lonely] = np.nan
    q[lonely] = 0
    quadrant = np.array([_QUADRANTS.get(int(v), NO_NEIGHBOURS) for v in q], dtype=object)
    out = frame.copy()
    out["lisa_i"] = Is
    out["lisa_q"] = q
    out["lisa_quadrant"] = quadrant
    out["lisa_ei"] = EI
    out["lisa_vi"] = VI
    out["lisa_p"] = p_sim
    out["lisa_z"] = z_sim
    with np.errstate(invalid="ignore"):
        out["lisa_class"] = np.where(lonely, NO_NEIGHBOURS,
                                     np.where(p_sim <= alpha, quadrant, "not significant"))
    tag_result(out, "local_morans")
    out.attrs["weights"] = desc
    out.attrs["seed"] = str(seed)
    return out


def _conditional_permutations(z: np.ndarray, W: sparse.csr_matrix, Is: np.ndarray,
                              permutations: int, seed: int | None,
                              den: float) -> tuple[np.ndarray, np.ndarray]:
    """Folded pseudo p-values and z-scores of local Moran under conditional randomisation.

    As in esda, one random draw of ``k_max`` other units per permutation is shared by all
    units; for unit ``i`` the draw is over the ``n - 1`` units other than ``i``.
    """
    n = z.size
    rng = np.random.default_rng(check_seed(seed))
    card = np.diff(W.indptr)
    kmax = int(card.max()) if n else 0
    p_sim = np.ones(n)
    z_sim = np.zeros(n)
    if kmax == 0:
        return p_sim, np.full(n, np.nan)
    rids = np.stack([rng.choice(n - 1, size=kmax, replace=False) for _ in range(permutations)])
    scale = (n - 1) / den
    for k in np.unique(card):
        if k == 0:
            continue
        units = np.flatnonzero(card == k)
        ids = rids[:, :k]
        chunk = max(1, 4_000_000 // (permutations * k))
        for start in range(0, units.size, chunk):
            u = units[start:start + chunk]
            drawn = ids[None, :, :] + (ids[None, :, :] >= u[:, None, None])  # skip unit itself
            wts = W.data[W.indptr[u][:, None] + np.arange(k)[None, :]]  # (units, k)
            lag = np.einsum("upk,uk->up", z[drawn], wts)
            sims = scale * z[u][:, None] * lag
            larger = (sims >= Is[u][:, None]).sum(axis=1)
            larger = np.minimum(larger, permutations - larger)
            p_sim[u] = (larger + 1.0) / (permutations + 1.0)
            sd = sims.std(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                z_sim[u] = np.where(sd > 0, (Is[u] - sims.mean(axis=1)) / sd, np.nan)
    z_sim[card == 0] = np.nan
    return p_sim, z_sim
