"""Cooperation candidates: sites outside Beijing inside a corridor zone, ranked."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _validate
from ..errors import DataError, ParameterError
from ..results import tag_result
from ._common import check_layer, feature_ids, metric_crs_for, to_metric
from .membership import membership

__all__ = ["cooperation_candidates"]

logger = logging.getLogger(__name__)

_COMPONENTS = ("position", "access", "score")


def _minmax(values: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """Scale to 0..1 with 1 = best; all-equal values score 1."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi - lo <= 0:
        return np.ones(len(values))
    s = (values - lo) / (hi - lo)
    return s if higher_is_better else 1.0 - s


def _provinces(sites: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None,
               province_column: str) -> pd.Series:
    """Return the province of every site (NaN outside the districts)."""
    if districts is None:
        if province_column in sites.columns:
            return sites[province_column]
        msg = (
            f"sites has no {province_column!r} column and no districts= were given; pass "
            "districts=atlas['districts'] (with a province column) to tell which sites lie "
            "outside Beijing."
        )
        raise DataError(msg)
    check_layer(districts, "districts")
    _validate.same_crs(sites, districts, "sites", "districts")
    _validate.require_columns(districts, [province_column], "districts")
    # A polygon site lies where its representative point lies (not in every district it touches).
    tree = shapely.STRtree(districts.geometry.to_numpy())
    si, di = tree.query(shapely.point_on_surface(sites.geometry.to_numpy()),
                        predicate="intersects")
    first = pd.DataFrame({"s": si, "d": di}).sort_values(["s", "d"]).drop_duplicates("s")
    prov = pd.Series(np.nan, index=sites.index, dtype=object)
    prov.iloc[first["s"].to_numpy()] = districts[province_column].to_numpy()[first["d"].to_numpy()]
    return prov


def _weights(weights: Mapping[str, float] | None, available: list[str]) -> dict[str, float]:
    if weights is None:
        return dict.fromkeys(available, 1.0)
    unknown = [k for k in weights if k not in _COMPONENTS]
    if unknown:
        msg = f"component_weights has unknown key(s) {unknown}; use {list(_COMPONENTS)}."
        raise ParameterError(msg)
    if weights.get("score", 0) and "score" not in available:
        msg = "component_weights gives 'score' a weight but no score= column was passed."
        raise ParameterError(msg)
    w = {k: float(weights.get(k, 0.0)) for k in available}
    if any(not math.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
        msg = f"component_weights must be finite, >= 0 and not all 0, got {dict(weights)}."
        raise ParameterError(msg)
    return w


def cooperation_candidates(
    sites: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    *,
    districts: gpd.GeoDataFrame | None = None,
    exclude_province: str | None = None,
    province_column: str = "province",
    hubs: gpd.GeoDataFrame | None = None,
    access: str | None = None,
    access_higher_is_better: bool = False,
    score: str | None = None,
    component_weights: Mapping[str, float] | None = None,
    top_n: int | None = None,
    min_share: float = 0.0,
    id_column: str = "id",
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Rank sites that lie in a corridor zone as cooperation candidates.

    Each candidate gets three component scores on 0..1 (1 = best, min-max scaled over all
    candidates; when all candidates are equal the component is 1 for each):

    - **position**: nearer to the corridor's origin along the axis ranks higher
      (``|from_origin_km|``, signed distance along the axis from the origin node, see
      :func:`membership`);
    - **access**: the ``access`` column when given (e.g. a travel time from
      :mod:`cci_geo.network`, lower is better unless ``access_higher_is_better``); otherwise
      the straight-line distance to the nearest of ``hubs`` (e.g. corridor nodes or rail
      stations) when given, else the distance to the corridor axis, nearer being better;
    - **score**: a suitability column (higher is better), e.g. the score of
      :mod:`cci_geo.suitability` joined onto the sites; used only when ``score`` is given.

    The candidate score is the weighted mean of the components. A site in several zones is
    reported once, for the corridor where it scores best; ``corridor_ids`` lists them all.

    Parameters
    ----------
    sites
        Candidate sites (factory sites, parks, plots...) with a unique id column.
    zones, corridors
        Corridor zones (:func:`corridor_zones`) and the axes they were built from.
    districts
        Polygons with a ``province_column`` column used to tell where each site lies (a polygon
        site by its representative point), e.g. ``atlas["districts"]``; sites outside every
        district are left out. Without
        ``districts``, the ``province_column`` column of ``sites`` is used.
    exclude_province
        Province whose sites are left out, e.g. ``"Beijing"`` to look for partners outside
        the capital; default ``None`` keeps every province.
    province_column
        Province column of ``sites`` or ``districts``.
    hubs
        Points whose nearest one measures access when ``access`` is not given.
    access
        Column of ``sites`` measuring access (see above).
    access_higher_is_better
        Direction of the ``access`` column.
    score
        Column of ``sites`` with a suitability score (higher is better). Missing values are an
        error.
    component_weights
        Weights of ``"position"``, ``"access"`` and ``"score"`` (missing keys weigh 0);
        default: equal weights for the components in use.
    top_n
        Keep only the ``top_n`` best candidates.
    min_share
        For polygon sites, the share that must lie in a zone (see :func:`membership`).
    id_column
        Id column of ``sites``.
    metric_crs
        Projected CRS for distances; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        The candidate sites (their columns and geometry, CRS of ``sites``), best first, with
        ``site_province`` (the province used), the :func:`membership` columns of the
        best corridor (``corridor_id``, ``along_km``, ``from_origin_km``, ``position``,
        ``axis_distance_km``, ``share``), ``corridor_ids`` (``;``-joined), ``access_km`` (when
        access is a distance to hubs or axis), ``position_score``, ``access_score``,
        ``suitability_score`` (when ``score`` is given), ``candidate_score`` (0..1) and
        ``rank`` (1 = best; ties broken by id). Empty (same columns) when no site qualifies.
        Result kind ``"cooperation_candidates"``.

    Raises
    ------
    cci_geo.errors.CRSMismatchError
        The layers are not all in one CRS (both CRSs named).
    cci_geo.errors.DataError
        Missing id/province/access/score columns, or missing values in ``score``/``access``.
    ValueError
        Bad ``component_weights`` or ``top_n``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> axis = gpd.GeoDataFrame({"id": ["A"], "origin_km": [0.0]}, crs="EPSG:32651",
    ...                         geometry=[LineString([(0, 0), (100_000, 0)])])
    >>> from cci_geo.corridors import corridor_zones
    >>> zones = corridor_zones(axis, width_km=20)
    >>> sites = gpd.GeoDataFrame({"id": ["near", "far", "home"],
    ...                           "province": ["Jiangsu", "Zhejiang", "Shanghai"]},
    ...                          geometry=[Point(20_000, 0), Point(80_000, 0), Point(1_000, 0)],
    ...                          crs="EPSG:32651")
    >>> out = cooperation_candidates(sites, zones, axis, exclude_province="Shanghai")
    >>> out[["id", "rank"]].values.tolist()
    [['near', 1], ['far', 2]]
    """
    check_layer(sites, "sites")
    check_layer(zones, "zones")
    _validate.same_crs(sites, zones, "sites", "zones")
    _validate.same_crs(zones, corridors, "zones", "corridors")
    ids = feature_ids(sites, id_column, "sites")
    for col, label in ((access, "access"), (score, "score")):
        if col is not None:
            _validate.require_columns(sites, [col], "sites")
            vals = pd.to_numeric(sites[col], errors="coerce")
            if bool(vals.isna().any()):
                bad = list(ids[vals.isna()][:10])
                msg = (
                    f"sites[{col!r}] ({label}=) is missing or non-numeric for site(s) {bad}; "
                    "fill those values or drop the sites."
                )
                raise DataError(msg)
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer))
                              or top_n < 1):
        msg = f"top_n must be a positive integer or None, got {top_n!r}."
        raise ParameterError(msg)
    available = ["position", "access"] + (["score"] if score is not None else [])
    w = _weights(component_weights, available)
    metric_crs = metric_crs_for(sites, zones, corridors, metric_crs=metric_crs).to_string()
    if hubs is not None:
        check_layer(hubs, "hubs")
        _validate.same_crs(sites, hubs, "sites", "hubs")

    if "site_province" in sites.columns:
        msg = "sites already has a 'site_province' column; rename or drop it first."
        raise DataError(msg)
    prov = _provinces(sites, districts, province_column)
    inside = prov.notna()
    keep = inside if exclude_province is None else inside & (prov.astype(str) != exclude_province)
    logger.info("cooperation_candidates: %d of %d sites kept (excluded province: %s; %d "
                "outside the districts)", int(keep.sum()), len(sites), exclude_province,
                int((~inside).sum()))
    pool = sites.loc[keep].copy()
    pool["site_province"] = prov[keep]
    pairs = (membership(zones, pool, corridors=corridors, min_share=min_share,
                        metric_crs=metric_crs)
             if len(pool) else pool.iloc[:0].assign(corridor_id="", along_km=0.0,
                                                    from_origin_km=0.0, position=0.0,
                                                    axis_distance_km=0.0, share=0.0))
    pairs = pairs.reset_index(drop=True)
    pairs["corridor_ids"] = pairs[id_column].astype(str).map(
        pairs.groupby(pairs[id_column].astype(str))["corridor_id"].agg(";".join))
    n = len(pairs)
    comp: dict[str, np.ndarray] = {}
    if n:
        comp["position"] = _minmax(pairs["from_origin_km"].abs().to_numpy(float),
                                   higher_is_better=False)
        if access is not None:
            comp["access"] = _minmax(pd.to_numeric(pairs[access]).to_numpy(float),
                                     higher_is_better=access_higher_is_better)
        else:
            if hubs is not None:
                metric = metric_crs_for(sites, metric_crs=metric_crs)
                hub_pts = to_metric(hubs, metric).geometry.to_numpy()
                site_pts = to_metric(pairs, metric).geometry.to_numpy()
                tree = shapely.STRtree(hub_pts)
                near = tree.nearest(site_pts)
                pairs["access_km"] = shapely.distance(site_pts, hub_pts[near]) / 1000.0
            else:
                pairs["access_km"] = pairs["axis_distance_km"]
            comp["access"] = _minmax(pairs["access_km"].to_numpy(float), higher_is_better=False)
        if score is not None:
            comp["score"] = _minmax(pd.to_numeric(pairs[score]).to_numpy(float),
                                    higher_is_better=True)
    elif access is None:
        pairs["access_km"] = pd.Series(dtype=float)
    for key, col in (("position", "position_score"), ("access", "access_score"),
                     ("score", "suitability_score")):
        if key in available:
            pairs[col] = comp.get(key, np.zeros(n))
    total = sum(w[k] * comp.get(k, np.zeros(n)) for k in available) / sum(w.values())
    pairs["candidate_score"] = np.asarray(total, dtype=float) if n else pd.Series(dtype=float)
    best = pairs.assign(_abs=pairs["from_origin_km"].abs(), _key=pairs[id_column].astype(str))
    best = best.sort_values(["candidate_score", "_abs", "_key"], ascending=[False, True, True],
                            kind="mergesort").drop_duplicates("_key")
    best = best.drop(columns=["_abs", "_key"]).reset_index(drop=True)
    best["rank"] = np.arange(1, len(best) + 1)
    if top_n is not None:
        best = best.iloc[:top_n].copy()
    out = gpd.GeoDataFrame(best, geometry=sites.geometry.name, crs=sites.crs)
    return tag_result(out, "cooperation_candidates")
