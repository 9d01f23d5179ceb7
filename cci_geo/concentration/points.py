"""Point-pattern tests of clustering: Ripley's K/L and the Duranton–Overman K-density."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist

from .._validate import check_seed, ensure_metric, require_columns
from ..errors import DataError, ParameterError, ParameterTypeError
from ..results import tag_result
from ._common import metric_points, to_frame

__all__ = ["k_density", "ripley"]

logger = logging.getLogger(__name__)


def _distances(distances_m: Sequence[float] | np.ndarray, name: str = "distances_m") -> np.ndarray:
    d = np.asarray(distances_m, dtype="float64").ravel()
    if d.size == 0 or not np.isfinite(d).all() or (d <= 0).any():
        msg = f"{name} must be a non-empty sequence of positive metres, got {distances_m!r}."
        raise ParameterError(msg)
    return np.sort(d)


def _region_geometry(region: object, crs: object, xy: np.ndarray) -> shapely.Geometry:
    if region is None:
        return shapely.convex_hull(shapely.multipoints(xy))
    if isinstance(region, (gpd.GeoDataFrame, gpd.GeoSeries)):
        frame = ensure_metric(to_frame(region), "region").to_crs(crs)
        return shapely.union_all(frame.geometry.values)
    if isinstance(region, shapely.Geometry):
        return region
    msg = "region must be a GeoDataFrame/GeoSeries, a shapely polygon in the metric CRS, or None."
    raise ParameterTypeError(msg)


def _uniform_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    xmin, ymin, xmax, ymax = geom.bounds
    out = np.empty((0, 2))
    shapely.prepare(geom)
    while len(out) < n:
        m = max(64, int((n - len(out)) * 1.3 * (xmax - xmin) * (ymax - ymin) / geom.area))
        cand = np.column_stack((rng.uniform(xmin, xmax, m), rng.uniform(ymin, ymax, m)))
        out = np.vstack((out, cand[shapely.contains_xy(geom, cand[:, 0], cand[:, 1])]))
    return out[:n]


def _k_counts(xy: np.ndarray, d: np.ndarray) -> np.ndarray:
    tree = cKDTree(xy)
    return tree.count_neighbors(tree, d).astype("float64") - len(xy)  # ordered pairs i != j


def ripley(points: gpd.GeoDataFrame | gpd.GeoSeries, *, distances_m: Sequence[float] | np.ndarray,
           simulations: int = 99, region: object = None, seed: int | None = 0,
           metric_crs: str | None = None) -> pd.DataFrame:
    """Return Ripley's K and L functions with complete-spatial-randomness envelopes.

    ``K(d) = A / (n (n - 1)) Σ_{i≠j} 1(d_ij <= d)`` and ``L(d) = sqrt(K(d) / π)`` (so
    ``L(d) = d`` under CSR). No edge correction is applied; instead each of the
    ``simulations`` CSR patterns has the same ``n`` points drawn uniformly inside the same
    study region, so the envelope carries the same edge effect as the observed curve.
    ``L`` above ``l_hi`` means clustering at that distance, below ``l_lo`` dispersion.

    Parameters
    ----------
    points
        Point layer (projected to ``metric_crs`` if geographic).
    distances_m
        Distances in metres.
    simulations
        CSR patterns for the envelope (0 to skip).
    region
        Study region (GeoDataFrame/GeoSeries, or a shapely polygon in the metric CRS); by
        default the convex hull of the points. Points outside it are an error.
    seed
        Seed of ``numpy.random.default_rng``.
    metric_crs
        Metric CRS for geographic input ; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    pandas.DataFrame
        One row per distance: ``distance_m``, ``k``, ``l``, ``l_minus_d``, ``k_lo``, ``k_hi``,
        ``l_lo``, ``l_hi`` (min/max over the simulations) and ``clustered`` (bool,
        ``l > l_hi``). Result kind ``"ripley"``.

    Raises
    ------
    DataError
        Fewer than 2 distinct points, points outside the region, or an empty region.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> xy = np.r_[rng.normal(0, 200, (60, 2)), rng.uniform(-3000, 3000, (60, 2))]
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs="EPSG:32651")
    >>> out = ripley(pts, distances_m=[250, 500], simulations=19, seed=1)
    >>> out["clustered"].tolist()
    [True, True]
    """
    d = _distances(distances_m)
    pts = metric_points(points, "points", metric_crs)
    xy = pts.xy
    if len(np.unique(xy, axis=0)) < 2:
        msg = f"points has {len(xy)} point(s) at fewer than 2 distinct locations; K is undefined."
        raise DataError(msg)
    geom = _region_geometry(region, pts.crs, xy)
    area = float(geom.area)
    if area <= 0:
        msg = "the study region has zero area; pass region= explicitly (e.g. the districts)."
        raise DataError(msg)
    outside = ~shapely.intersects_xy(geom, xy[:, 0], xy[:, 1])
    if outside.any():
        msg = (
            f"{int(outside.sum())} of {len(xy)} points lie outside the study region; clip the "
            "points to the region or pass a region that contains them."
        )
        raise DataError(msg)
    n = len(xy)
    scale = area / (n * (n - 1))
    k = _k_counts(xy, d) * scale
    out = pd.DataFrame({"distance_m": d, "k": k, "l": np.sqrt(k / math.pi)})
    out["l_minus_d"] = out["l"] - d
    if simulations:
        rng = np.random.default_rng(check_seed(seed))
        sims = np.stack([_k_counts(_uniform_in(geom, n, rng), d) * scale
                         for _ in range(int(simulations))])
        out["k_lo"] = sims.min(axis=0)
        out["k_hi"] = sims.max(axis=0)
        out["l_lo"] = np.sqrt(out["k_lo"] / math.pi)
        out["l_hi"] = np.sqrt(out["k_hi"] / math.pi)
        out["clustered"] = out["l"] > out["l_hi"]
    tag_result(out, "ripley")
    out.attrs["simulations"] = int(simulations)
    out.attrs["area_m2"] = area
    return out


def _silverman(x: np.ndarray) -> float:
    sd = float(np.std(x, ddof=1)) if x.size > 1 else 0.0
    iqr = float(np.subtract(*np.percentile(x, [75, 25])))
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    return 0.9 * spread * x.size ** (-0.2)


class _PairKDE:
    """Duranton–Overman density of bilateral distances, evaluated on ``grid`` (metres).

    Pair distances below ``max(grid) + 4h`` are binned at ``h / 20`` and smoothed with a
    Gaussian kernel reflected at zero; the normalisation uses all ``n(n-1)/2`` pairs. The
    kernel matrix is built once and reused for every simulated labelling.
    """

    def __init__(self, grid: np.ndarray, h: float) -> None:
        self.step = h / 20.0
        self.nbins = math.ceil((grid[-1] + 4.0 * h) / self.step)
        self.rmax = self.nbins * self.step
        centres = (np.arange(self.nbins) + 0.5) * self.step
        u = (grid[:, None] - centres[None, :]) / h
        v = (grid[:, None] + centres[None, :]) / h  # reflection at 0
        self.kern = (np.exp(-0.5 * u * u) + np.exp(-0.5 * v * v)) / (math.sqrt(2 * math.pi) * h)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        n = len(xy)
        if n <= 4000:
            d = pdist(xy)
            d = d[d < self.rmax]
        else:
            pairs = cKDTree(xy).query_pairs(self.rmax, output_type="ndarray")
            d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
            d = d[d < self.rmax]
        counts = np.bincount((d / self.step).astype(np.int64), minlength=self.nbins)
        return self.kern @ counts[: self.nbins] / (n * (n - 1) / 2.0)


def k_density(enterprises: gpd.GeoDataFrame, sector: str, *, by: str = "sector",
              distances_m: Sequence[float] | np.ndarray | None = None,
              bandwidth_m: float | None = None, simulations: int = 99, seed: int | None = 0,
              metric_crs: str | None = None) -> pd.DataFrame:
    """Return the Duranton–Overman K-density of one sector with random-labelling bands.

    ``K(d) = 1 / (n(n-1)/2 · h) Σ_{i<j} f((d - d_ij) / h)`` over the ``n`` enterprises of
    ``sector`` (``f`` Gaussian, reflected at 0; ``h`` Silverman's bandwidth of the sector's
    bilateral distances unless given). The counterfactual draws ``n`` enterprises at random
    from all enterprises (random labelling, which controls for the overall concentration of
    activity). Local bands are the 5th/95th percentiles at each distance; the global bands
    are the local percentiles widened until only 5 % of simulated curves cross them anywhere
    (Duranton & Overman 2005). ``localised`` marks ``K`` above the global upper band; the
    localisation index is ``Γ(d) = max(K - global_hi, 0)``.

    Parameters
    ----------
    enterprises
        All enterprises (points) with the category column ``by``.
    sector
        Category to test.
    by
        Category column.
    distances_m
        Distances in metres (default 0 to 20 km every 250 m).
    bandwidth_m
        Kernel bandwidth in metres.
    simulations
        Random-labelling draws (>= 20 for meaningful bands).
    seed
        Seed of ``numpy.random.default_rng``.
    metric_crs
        Metric CRS for geographic input.

    Returns
    -------
    pandas.DataFrame
        ``distance_m``, ``k``, ``local_lo``, ``local_hi``, ``global_lo``, ``global_hi``,
        ``localised`` (bool), ``dispersed`` (bool), ``gamma`` and ``psi`` (float).
        ``attrs`` hold ``n`` and ``bandwidth_m``; result kind ``"k_density"``.

    Raises
    ------
    DataError
        Unknown sector, fewer than 2 enterprises in the sector, or no others to draw from.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> xy = np.r_[rng.normal(0, 200, (60, 2)), rng.uniform(-3000, 3000, (60, 2))]
    >>> firms = gpd.GeoDataFrame({"sector": ["design"] * 60 + ["media"] * 60}, crs="EPSG:32651",
    ...                          geometry=gpd.points_from_xy(*xy.T))
    >>> kd = k_density(firms, "design", distances_m=[200, 400, 800], simulations=19, seed=1)
    >>> bool(kd["localised"].any())
    True
    """
    pts = metric_points(enterprises, "enterprises", metric_crs)
    metric, xy = to_frame(pts.frame), pts.xy
    require_columns(metric, [by], "enterprises")
    labels = metric[by].astype("string").to_numpy(dtype=object, na_value=None)
    mask = labels == sector
    n = int(mask.sum())
    if n < 2:
        known = sorted({str(v) for v in labels if v is not None})
        msg = f"sector {sector!r} has {n} enterprise(s); K-density needs >= 2. Known: {known}."
        raise DataError(msg)
    if n == len(xy):
        msg = f"every enterprise is in {sector!r}; random labelling needs other enterprises too."
        raise DataError(msg)
    grid = _distances(np.arange(250.0, 20_001.0, 250.0) if distances_m is None else distances_m)
    own = xy[mask]
    if bandwidth_m is None:
        pick = np.random.default_rng(check_seed(seed)).choice(n, min(n, 2000), replace=False)
        h = _silverman(pdist(own[np.sort(pick)]))
    else:
        h = float(bandwidth_m)
    if not h > 0:
        msg = f"all {n} enterprises of {sector!r} are at one location; K-density is undefined."
        raise DataError(msg)
    kde = _PairKDE(grid, h)
    k = kde(own)
    out = pd.DataFrame({"distance_m": grid, "k": k})
    if simulations:
        rng = np.random.default_rng(check_seed(seed))
        sims = np.stack([kde(xy[rng.choice(len(xy), n, replace=False)])
                         for _ in range(int(simulations))])
        out["local_lo"] = np.percentile(sims, 5, axis=0)
        out["local_hi"] = np.percentile(sims, 95, axis=0)
        lo, hi = _global_bands(sims)
        out["global_lo"] = lo
        out["global_hi"] = hi
        out["localised"] = out["k"] > out["global_hi"]
        out["dispersed"] = (out["k"] < out["global_lo"]) & ~out["localised"].any()
        out["gamma"] = np.maximum(out["k"] - out["global_hi"], 0.0)
        out["psi"] = np.where(out["localised"].any(), 0.0,
                              np.maximum(out["global_lo"] - out["k"], 0.0))
    out.attrs.update({"sector": sector, "n": n, "bandwidth_m": h,
                      "simulations": int(simulations)})
    return tag_result(out, "k_density")


def _global_bands(sims: np.ndarray, level: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Widen symmetric local percentile bands until ``level`` of the curves cross either band."""
    m = sims.shape[0]
    best = (sims.min(axis=0), sims.max(axis=0))
    for q in np.linspace(level / 2 * 100, 0.0, 51):
        lo = np.percentile(sims, q, axis=0)
        hi = np.percentile(sims, 100 - q, axis=0)
        crossing = ((sims > hi) | (sims < lo)).any(axis=1).mean()
        if crossing <= level:
            best = (lo, hi)
            break
    logger.debug("global bands from %d simulations", m)
    return best
