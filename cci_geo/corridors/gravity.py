"""Creative-industry interaction between cities: masses, gravity flows and their calibration.

The gravity model (e.g. Haynes & Fotheringham, *Gravity and Spatial Interaction Models*, 1984)
gives the interaction between places ``i`` and ``j`` as

    T_ij = k * M_i**alpha * M_j**gamma * f(d_ij)

with masses ``M`` (creative-industry enterprise counts, revenue or employees), distance ``d_ij``
in km and a distance-decay function ``f``:

- ``decay="power"``: ``f(d) = d**-beta`` (``beta`` dimensionless; 1-2 is typical for
  intercity interaction);
- ``decay="exponential"``: ``f(d) = exp(-beta * d)`` (``beta`` per km; ``1/beta`` is the
  distance over which interaction falls by a factor e).

``k`` scales flows to the units of observed data; with the default ``k = 1`` flows are relative
interaction strengths, comparable between pairs but not counts of anything.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _validate
from ..errors import DataError, ParameterError, ParameterTypeError
from ..results import tag_result
from ._common import check_layer, feature_ids, mass_values, metric_crs_for, to_metric

__all__ = ["GravityFit", "calibrate_gravity", "decay_factor", "gravity_flows"]

logger = logging.getLogger(__name__)

Decay = Literal["power", "exponential"]
MassSpec: TypeAlias = "str | Mapping[str, float] | pd.Series"


def _check_decay(decay: str, beta: float) -> float:
    if decay not in ("power", "exponential"):
        msg = f"decay must be 'power' or 'exponential', got {decay!r}."
        raise ParameterError(msg)
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)):
        msg = f"beta must be a number, got {type(beta).__name__} {beta!r}."
        raise ParameterTypeError(msg)
    if not math.isfinite(float(beta)) or beta < 0:
        msg = (
            f"beta must be finite and >= 0, got {beta!r}; distance decay makes interaction "
            "fall with distance (0 = no decay)."
        )
        raise ParameterError(msg)
    return float(beta)


def decay_factor(d_km: np.ndarray, *, beta: float, decay: Decay) -> np.ndarray:
    """Return ``f(d)``: ``d**-beta`` (power) or ``exp(-beta * d)`` (exponential), ``d`` in km.

    Examples
    --------
    >>> decay_factor([10.0, 20.0], beta=2.0, decay="power").tolist()
    [0.01, 0.0025]
    """
    beta = _check_decay(decay, beta)
    d = np.asarray(d_km, dtype=float)
    return np.power(d, -beta) if decay == "power" else np.exp(-beta * d)


def _anchors(places: gpd.GeoDataFrame, metric_crs: str | None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Return anchor points of ``places`` in the metric CRS and in the CRS of ``places``."""
    metric = metric_crs_for(places, metric_crs=metric_crs)
    geoms = to_metric(places, metric).geometry
    pts = gpd.GeoSeries(shapely.centroid(geoms.to_numpy()), crs=metric)
    return pts.to_numpy(), pts.to_crs(places.crs).to_numpy()


def _pair_distances(i: np.ndarray, j: np.ndarray, ids: np.ndarray, anchors_m: np.ndarray,
                    distances_km: pd.DataFrame | None, min_distance_km: float) -> np.ndarray:
    """Return distances in km for pairs (i, j): from ``distances_km`` or straight-line."""
    if distances_km is None:
        d = shapely.distance(anchors_m[i], anchors_m[j]) / 1000.0
    else:
        if not isinstance(distances_km, pd.DataFrame):
            msg = (
                "distances_km must be a DataFrame (km, place ids as index and columns), got "
                f"{type(distances_km).__name__}."
            )
            raise ParameterTypeError(msg)
        mat = distances_km.copy()
        mat.index, mat.columns = mat.index.astype(str), mat.columns.astype(str)
        missing = sorted({x for x in set(ids[i]) | set(ids[j])
                          if x not in mat.index or x not in mat.columns})
        if missing:
            msg = (
                f"distances_km lacks place id(s) {missing[:10]} in its index or columns; give a "
                "km distance for every pair of places."
            )
            raise DataError(msg)
        rows, cols = mat.index.get_indexer(ids[i]), mat.columns.get_indexer(ids[j])
        d = mat.to_numpy(dtype=float)[rows, cols]
        bad = ~np.isfinite(d) | (d < 0)
        if bool(bad.any()):
            k = int(np.flatnonzero(bad)[0])
            msg = (
                f"distances_km[{str(ids[i][k])!r}][{str(ids[j][k])!r}] is {float(d[k])!r}; "
                "distances_km must be finite km >= 0."
            )
            raise DataError(msg)
    return np.asarray(np.maximum(d, min_distance_km), dtype=float)


def _names(places: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    return {c: places[c].to_numpy() for c in ("name_en", "name_zh") if c in places.columns}


def gravity_flows(
    places: gpd.GeoDataFrame,
    *,
    mass: MassSpec,
    beta: float,
    decay: Decay = "power",
    k: float = 1.0,
    alpha: float = 1.0,
    gamma: float | None = None,
    directed: bool = False,
    distances_km: pd.DataFrame | None = None,
    min_distance_km: float = 1.0,
    top_n: int | None = None,
    id_column: str = "id",
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Compute gravity-model interaction between places as weighted lines ready to map.

    ``T_ij = k * M_i**alpha * M_j**gamma * f(d_ij)`` with ``f(d) = d**-beta`` (power) or
    ``exp(-beta * d)`` (exponential); see the module docstring.

    Parameters
    ----------
    places
        Places with a unique id column: points (e.g. the city nodes of ``atlas["nodes"]``) or
        polygons (e.g. cities built from ``atlas["districts"]``; their centroids, computed in the
        metric CRS, are used).
    mass
        Column of ``places`` holding the mass, or a mapping ``{place id: mass}`` (>= 0), e.g.
        from :func:`place_masses` or from statistics supplied by the caller.
    beta
        Distance-decay parameter (>= 0): exponent for ``"power"``, rate per km for
        ``"exponential"``.
    decay
        ``"power"`` (default) or ``"exponential"``.
    k
        Scale constant (> 0); 1 gives relative interaction strengths.
    alpha, gamma
        Mass exponents of origin and destination; ``gamma=None`` uses ``alpha``.
    directed
        ``False`` (default): one line per unordered pair (needs ``alpha == gamma``).
        ``True``: both directions, ``i -> j`` and ``j -> i``.
    distances_km
        Optional km distances (e.g. by rail or road) as a DataFrame with place ids as index and
        columns; default: straight-line distance between anchors in the metric CRS.
    min_distance_km
        Distances are floored at this value so that coincident places do not give infinite
        flows under power decay.
    top_n
        Keep only the ``top_n`` strongest flows.
    id_column
        Id column of ``places``.
    metric_crs
        Projected CRS for distances; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per pair (origin anchor -> destination anchor) in the CRS of
        ``places``, strongest first, with ``origin``, ``destination`` (ids),
        ``origin_name_en``/``destination_name_en`` and ``..._name_zh`` (when ``places`` has
        names), ``mass_origin``, ``mass_destination``, ``distance_km``, ``flow`` (float,
        model units), ``flow_share`` (flow / sum of all flows before ``top_n``) and ``rank``
        (1 = strongest). Result kind ``"flows"``.

    Raises
    ------
    ValueError
        Bad ``beta``, ``k``, ``decay``, ``top_n`` or ``min_distance_km``; ``alpha != gamma``
        with ``directed=False``.
    cci_geo.errors.DataError
        Fewer than two places, a missing or negative mass (the place is named), duplicated
        ids, ``distances_km`` without some place.

    See Also
    --------
    calibrate_gravity : estimate ``k`` and ``beta`` from observed flows.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> places = gpd.GeoDataFrame({"id": ["a", "b"], "firms": [100, 50]}, crs="EPSG:32650",
    ...                           geometry=[Point(0, 0), Point(10_000, 0)])
    >>> f = gravity_flows(places, mass="firms", beta=2)     # 100 * 50 / 10**2
    >>> float(f.loc[0, "flow"])
    50.0
    """
    check_layer(places, "places")
    ids = feature_ids(places, id_column, "places").to_numpy()
    if len(ids) < 2:
        msg = f"places has {len(ids)} row(s); interaction needs at least two places."
        raise DataError(msg)
    beta = _check_decay(decay, beta)
    k = _validate.positive(k, "k")
    _validate.positive(min_distance_km, "min_distance_km", "km")
    gamma = alpha if gamma is None else gamma
    if not (math.isfinite(alpha) and math.isfinite(gamma)):
        msg = f"alpha and gamma must be finite, got alpha={alpha!r}, gamma={gamma!r}."
        raise ParameterError(msg)
    if not directed and alpha != gamma:
        msg = (
            f"alpha={alpha!r} and gamma={gamma!r} differ, so flows depend on direction; pass "
            "directed=True (or equal exponents)."
        )
        raise ParameterError(msg)
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer))
                              or top_n < 1):
        msg = f"top_n must be a positive integer or None, got {top_n!r}."
        raise ParameterError(msg)
    m = mass_values(places, pd.Series(ids), mass, "places")
    anchors_m, anchors = _anchors(places, metric_crs)
    n = len(ids)
    if directed:
        i, j = np.nonzero(~np.eye(n, dtype=bool))
    else:
        i, j = np.triu_indices(n, k=1)
    d = _pair_distances(i, j, ids, anchors_m, distances_km, min_distance_km)
    flow = k * np.power(m[i], alpha) * np.power(m[j], gamma) * decay_factor(d, beta=beta,
                                                                             decay=decay)
    total = float(flow.sum())
    cols: dict[str, object] = {"origin": ids[i], "destination": ids[j]}
    for c, vals in _names(places).items():
        cols[f"origin_{c}"] = vals[i]
        cols[f"destination_{c}"] = vals[j]
    cols.update({"mass_origin": m[i], "mass_destination": m[j], "distance_km": d,
                 "flow": flow, "flow_share": flow / total if total > 0 else np.zeros(len(flow))})
    order = np.lexsort((j, i, -flow))
    geoms = shapely.linestrings(
        np.stack([shapely.get_coordinates(anchors[i]), shapely.get_coordinates(anchors[j])],
                 axis=1))
    out = gpd.GeoDataFrame(pd.DataFrame(cols), geometry=geoms, crs=places.crs).iloc[order]
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    if top_n is not None:
        out = out.iloc[:top_n].copy()
    logger.debug("gravity_flows: %d pairs, decay=%s beta=%s", len(out), decay, beta)
    return tag_result(out, "flows")


@dataclass(frozen=True)
class GravityFit:
    """Result of :func:`calibrate_gravity`.

    Attributes
    ----------
    decay
        ``"power"`` or ``"exponential"``.
    k, beta, alpha, gamma
        Fitted scale, distance-decay parameter and mass exponents (``alpha == gamma == 1`` when
        the exponents were fixed).
    r2
        Coefficient of determination of the log-linear regression (on the regressand
        ``ln T - alpha ln M_i - gamma ln M_j`` when the exponents are fixed, on ``ln T``
        otherwise).
    se_beta
        Standard error of ``beta`` (NaN when the fit is exact, n equal to the parameter count).
    rmse_log
        Root mean squared residual on the log scale.
    n
        Number of flows used.
    n_dropped
        Observed flows left out (zero flow or zero mass cannot be logged; intra-place flows).
    """

    decay: Decay
    k: float
    beta: float
    alpha: float
    gamma: float
    r2: float
    se_beta: float
    rmse_log: float
    n: int
    n_dropped: int

    def params(self) -> dict[str, object]:
        """Return ``k``, ``beta``, ``decay``, ``alpha``, ``gamma`` for ``gravity_flows(**...)``."""
        return {"k": self.k, "beta": self.beta, "decay": self.decay, "alpha": self.alpha,
                "gamma": self.gamma}


def calibrate_gravity(
    observed: pd.DataFrame,
    places: gpd.GeoDataFrame,
    *,
    mass: MassSpec,
    decay: Decay = "power",
    fit_exponents: bool = False,
    origin_column: str = "origin",
    destination_column: str = "destination",
    flow_column: str = "flow",
    distances_km: pd.DataFrame | None = None,
    min_distance_km: float = 1.0,
    id_column: str = "id",
    metric_crs: str | None = None,
) -> GravityFit:
    """Calibrate the gravity model on observed flows by log-linear least squares.

    Ordinary least squares on the logarithm of the model: with ``x = ln d`` (power) or
    ``x = d`` (exponential, km),

    - ``fit_exponents=False``: ``ln T - ln M_i - ln M_j = ln k - beta * x`` (two parameters);
    - ``fit_exponents=True``: ``ln T = ln k + alpha ln M_i + gamma ln M_j - beta * x``.

    ``k = exp(intercept)`` is the plain back-transform (no log-normal bias correction), so
    predicted flows are geometric-mean predictions.

    Parameters
    ----------
    observed
        Observed flows, one row per (origin, destination), e.g. firm relocations, investment
        links or joint projects between cities.
    places
        The places the ids refer to (as in :func:`gravity_flows`).
    mass, distances_km, min_distance_km, id_column, metric_crs
        As in :func:`gravity_flows`.
    decay
        ``"power"`` or ``"exponential"``.
    fit_exponents
        Also estimate the mass exponents ``alpha`` and ``gamma`` (needs masses that vary
        independently of distance).
    origin_column, destination_column, flow_column
        Columns of ``observed``.

    Returns
    -------
    GravityFit
        Fitted parameters and diagnostics; ``fit.params()`` feeds :func:`gravity_flows`
        (pass ``directed=True`` when ``alpha != gamma``).

    Raises
    ------
    cci_geo.errors.DataError
        Unknown place ids (named), missing columns, too few usable flows, or distances that
        do not vary (``beta`` cannot be identified).

    Warns
    -----
    UserWarning
        When flows are dropped: zero or negative flows, zero masses, intra-place rows.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> places = gpd.GeoDataFrame({"id": ["a", "b", "c"], "m": [10.0, 20.0, 40.0]},
    ...     geometry=[Point(0, 0), Point(10_000, 0), Point(0, 30_000)], crs="EPSG:32650")
    >>> flows = gravity_flows(places, mass="m", beta=1.5, k=3.0)
    >>> fit = calibrate_gravity(flows, places, mass="m")
    >>> round(fit.beta, 6), round(fit.k, 6)
    (1.5, 3.0)
    """
    check_layer(places, "places")
    if not isinstance(observed, pd.DataFrame):
        msg = f"observed must be a DataFrame of flows, got {type(observed).__name__}."
        raise ParameterTypeError(msg)
    _check_decay(decay, 1.0)
    _validate.positive(min_distance_km, "min_distance_km", "km")
    for col in (origin_column, destination_column, flow_column):
        if col not in observed.columns:
            msg = (
                f"observed lacks column {col!r}; it has {list(observed.columns)}. Pass "
                "origin_column=, destination_column=, flow_column= to name yours."
            )
            raise DataError(msg)
    ids = feature_ids(places, id_column, "places").to_numpy()
    pos = {v: p for p, v in enumerate(ids)}
    o = observed[origin_column].astype(str).to_numpy()
    t = observed[destination_column].astype(str).to_numpy()
    unknown = sorted({x for x in (*o, *t) if x not in pos})
    if unknown:
        msg = (
            f"observed refers to place id(s) {unknown[:10]} that are not in places; valid "
            f"ids: {list(ids)[:30]}."
        )
        raise DataError(msg)
    m = mass_values(places, pd.Series(ids), mass, "places")
    i = np.array([pos[x] for x in o], dtype=int)
    j = np.array([pos[x] for x in t], dtype=int)
    flow = pd.to_numeric(observed[flow_column], errors="coerce").to_numpy(dtype=float)
    usable = np.isfinite(flow) & (flow > 0) & (m[i] > 0) & (m[j] > 0) & (i != j)
    n_dropped = int((~usable).sum())
    if n_dropped:
        warnings.warn(
            f"calibrate_gravity: {n_dropped} of {len(flow)} observed flows left out (zero, "
            "negative or missing flow, zero mass, or origin == destination cannot enter a "
            "log-linear fit).", stacklevel=2,
        )
    i, j, flow = i[usable], j[usable], flow[usable]
    anchors_m, _ = _anchors(places, metric_crs)
    d = _pair_distances(i, j, ids, anchors_m, distances_km, min_distance_km)
    x = np.log(d) if decay == "power" else d
    lmi, lmj = np.log(m[i]), np.log(m[j])
    if fit_exponents:
        X = np.column_stack([np.ones(len(x)), lmi, lmj, -x])
        y = np.log(flow)
    else:
        X = np.column_stack([np.ones(len(x)), -x])
        y = np.log(flow) - lmi - lmj
    p = X.shape[1]
    if len(y) < p:
        msg = (
            f"calibrate_gravity needs at least {p} usable observed flows for "
            f"fit_exponents={fit_exponents}, got {len(y)}."
        )
        raise DataError(msg)
    if np.linalg.matrix_rank(X) < p:
        msg = (
            "the observed flows cannot identify the parameters: distances (or masses, with "
            "fit_exponents=True) do not vary independently. Add flows between other pairs or "
            "fix the exponents."
        )
        raise DataError(msg)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    ss_res = float(resid @ resid)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    dof = len(y) - p
    if dof > 0:
        cov = ss_res / dof * np.linalg.inv(X.T @ X)
        se_beta = float(np.sqrt(cov[-1, -1]))
    else:
        se_beta = float("nan")
    alpha_hat, gamma_hat = (float(coef[1]), float(coef[2])) if fit_exponents else (1.0, 1.0)
    fit = GravityFit(decay=decay, k=float(np.exp(coef[0])), beta=float(coef[-1]),
                     alpha=alpha_hat, gamma=gamma_hat, r2=r2, se_beta=se_beta,
                     rmse_log=math.sqrt(ss_res / len(y)), n=len(y), n_dropped=n_dropped)
    logger.info("calibrated gravity model: %s", fit)
    return fit
