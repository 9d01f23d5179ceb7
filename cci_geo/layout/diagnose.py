"""Diagnose a layout: how well do existing facilities serve demand within a standard?"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from .. import _validate
from .._crs import resolve_metric_crs
from ..results import tag_result
from .costs import CostInput, prepare_instance, resolve_weights

__all__ = ["Diagnosis", "diagnose"]

logger = logging.getLogger(__name__)


@dataclass
class Diagnosis:
    """How existing facilities serve demand within a service standard.

    Attributes
    ----------
    standard_m
        The service standard (metres or the cost matrix's unit).
    coverage
        Share of the demand weight within ``standard_m`` of some facility (0..1).
    demand
        Copy of the demand with ``nearest_facility`` (id), ``cost`` (to it), ``covered``
        (bool) and ``n_covering`` (facilities within the standard).
        Result kind ``"coverage"``.
    facilities
        Copy of the facilities with ``covered_demand`` (weight within the standard),
        ``unique_demand`` (weight covered by this facility only), ``overlap_share``
        (1 - unique/covered), ``redundant`` (covers demand but none uniquely),
        ``nearest_facility_cost`` (to the nearest other facility).
        Result kind ``"facilities"``.
    uncovered
        Grid cells (``cell_size_m`` squares, in the metric CRS) holding uncovered demand,
        largest first, with ``uncovered_weight``, ``n_demand`` and ``share_of_uncovered``; ``None``
        when only a matrix was given. Result kind ``"uncovered_demand"``.
    districts
        Per district (from the demand's ``district`` column): ``demand``, ``covered``,
        ``share_covered``, ``uncovered``, ``mean_cost``; ``None`` without that column.
    """

    standard_m: float
    coverage: float
    demand: pd.DataFrame
    facilities: pd.DataFrame
    uncovered: gpd.GeoDataFrame | None
    districts: pd.DataFrame | None

    def summary(self) -> pd.Series:
        """Return headline numbers: coverage, covered and uncovered weight, redundancy."""
        return pd.Series({
            "standard_m": self.standard_m,
            "coverage": self.coverage,
            "covered_weight": float(self.facilities.attrs.get("covered_weight", np.nan)),
            "uncovered_weight": float(self.facilities.attrs.get("uncovered_weight", np.nan)),
            "facilities": len(self.facilities),
            "redundant_facilities": int(self.facilities["redundant"].sum()),
        })


def diagnose(facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *,
             standard_m: float, cost: CostInput = None,
             weight: str | ArrayLike | None = None, district: str | None = "district",
             cell_size_m: float = 2000.0, metric_crs: str | None = None) -> Diagnosis:
    """Measure how well ``facilities`` serve ``demand`` within a service ``standard_m``.

    Parameters
    ----------
    facilities
        Existing facilities (e.g. the atlas's ``zones``). May be empty (a place without any
        yet): then nothing is covered and costs are NaN.
    demand
        Demand points or polygons (e.g. ``enterprises``, or a population grid).
    standard_m
        Service standard: metres for straight-line costs, or the unit of ``cost`` (minutes
        for a travel-time matrix).
    cost
        ``None`` for straight-line metres, or a demand x facility matrix.
    weight
        Demand weight of each row (a column such as ``"employees"`` or ``"revenue_cny"``, or
        an array); None counts rows.
    district
        Demand column holding the district, for the per-district table (skipped when
        absent or ``None``).
    cell_size_m
        Grid cell size in metres for locating concentrations of uncovered demand.
    metric_crs
        Projected CRS for distances and the grid; default as
        :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    Diagnosis
        Coverage, per-demand and per-facility tables (in their input CRS), uncovered hot
        cells (a grid, in the metric CRS) and districts.

    Raises
    ------
    CRSMismatchError
        If the frames are in different CRSs.
    DataError
        Empty inputs, NaN or negative costs, bad weights.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> parks = gpd.GeoDataFrame({"id": ["p"]}, geometry=[Point(0, 0)], crs="EPSG:32651")
    >>> firms = gpd.GeoDataFrame({"id": ["a", "b"], "employees": [30, 10]}, crs="EPSG:32651",
    ...                          geometry=[Point(1000, 0), Point(9000, 0)])
    >>> diagnose(parks, firms, standard_m=3000, weight="employees").coverage
    0.75
    """
    _validate.positive(standard_m, "standard_m", "cost units (metres or minutes)")
    if cost is None:
        metric_crs = resolve_metric_crs(demand, facilities, metric_crs=metric_crs)
    _validate.positive(cell_size_m, "cell_size_m", "metres")
    if len(facilities) == 0 and (cost is None or np.shape(cost)[1:] == (0,)):
        # no facility yet (a city planning its first zones): nothing is served
        _validate.same_crs(demand, facilities, "demand", "facilities")
        _validate.non_empty(demand, "demand")
        w = resolve_weights(weight, demand, len(demand))
        C = np.empty((len(demand), 0))
        nearest_ids = np.full(len(demand), None, dtype=object)
        near_cost = np.full(len(demand), np.nan)
    else:
        inst = prepare_instance(demand, facilities, cost=cost, weight=weight,
                                metric_crs=metric_crs)
        C, w = inst.cost, inst.weights
        nearest = np.argmin(C, axis=1)
        nearest_ids = inst.candidate_ids[nearest].to_numpy()
        near_cost = C[np.arange(C.shape[0]), nearest]
    within = np.less_equal(C, standard_m)
    n_cov = within.sum(axis=1)
    covered = n_cov > 0
    total = float(w.sum())
    d = demand.copy()
    d["nearest_facility"] = nearest_ids
    d["cost"] = near_cost
    d["covered"] = covered
    d["n_covering"] = n_cov.astype(int)
    tag_result(d, "coverage")

    f = facilities.copy()
    f["covered_demand"] = w @ within
    only = within & (n_cov == 1)[:, None]
    f["unique_demand"] = w @ only
    with np.errstate(invalid="ignore", divide="ignore"):
        f["overlap_share"] = np.where(f["covered_demand"] > 0,
                                      1.0 - f["unique_demand"] / f["covered_demand"], np.nan)
    f["redundant"] = (f["covered_demand"] > 0) & (f["unique_demand"] == 0)
    f["nearest_facility_cost"] = _facility_spacing(facilities, metric_crs) if cost is None \
        else np.nan
    tag_result(f, "facilities")
    f.attrs["covered_weight"] = float(w[covered].sum())
    f.attrs["uncovered_weight"] = float(w[~covered].sum())

    hot = _uncovered_cells(demand, w, covered, cell_size_m, metric_crs)
    table = None
    if district is not None and district in demand.columns:
        frame = pd.DataFrame({"district": demand[district].astype("string").to_numpy(),
                              "w": w, "cov": w * covered, "wc": w * near_cost})
        g = frame.groupby("district")
        table = pd.DataFrame({"demand": g["w"].sum(), "covered": g["cov"].sum()})
        table["share_covered"] = table["covered"] / table["demand"]
        table["uncovered"] = table["demand"] - table["covered"]
        table["mean_cost"] = g["wc"].sum(min_count=1) / table["demand"]  # NaN: no facility
        table = table.sort_values("uncovered", ascending=False)
    coverage = float(w[covered].sum() / total)
    logger.info("diagnose: %.1f%% of demand within %g of %d facilities", 100 * coverage,
                standard_m, len(facilities))
    return Diagnosis(standard_m=float(standard_m), coverage=coverage, demand=d, facilities=f,
                     uncovered=hot, districts=table)


def _facility_spacing(facilities: gpd.GeoDataFrame, metric_crs: str | None) -> np.ndarray:
    from .costs import cost_matrix

    if len(facilities) < 2:
        return np.full(len(facilities), np.nan)
    dist = cost_matrix(facilities, facilities, metric_crs=metric_crs).to_numpy(copy=True)
    np.fill_diagonal(dist, np.inf)
    return dist.min(axis=1)


def _uncovered_cells(demand: gpd.GeoDataFrame, w: np.ndarray, covered: np.ndarray,
                     cell_size_m: float, metric_crs: str | None) -> gpd.GeoDataFrame | None:
    metric = _validate.ensure_metric(demand, "demand", metric_crs)
    geoms = metric.geometry
    pts = geoms.where(geoms.geom_type == "Point", geoms.centroid)
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    mask = ~covered
    cols = [
        "uncovered_weight", "n_demand", "share_of_uncovered", "geometry",
    ]
    if not mask.any():
        out = gpd.GeoDataFrame({c: [] for c in cols[:-1]}, geometry=[], crs=metric.crs)
        tag_result(out, "uncovered_demand")
        return out
    ix = np.floor(x[mask] / cell_size_m).astype(np.int64)
    iy = np.floor(y[mask] / cell_size_m).astype(np.int64)
    frame = pd.DataFrame({"ix": ix, "iy": iy, "w": w[mask]})
    g = frame.groupby(["ix", "iy"]).agg(uncovered_weight=("w", "sum"), n_demand=("w", "size"))
    g = g.reset_index().sort_values("uncovered_weight", ascending=False, kind="stable")
    size = cell_size_m
    boxes = shapely.box(g["ix"] * size, g["iy"] * size, (g["ix"] + 1) * size,
                        (g["iy"] + 1) * size)
    out = gpd.GeoDataFrame(
        {"uncovered_weight": g["uncovered_weight"].to_numpy(),
         "n_demand": g["n_demand"].to_numpy(),
         "share_of_uncovered": (g["uncovered_weight"] / frame["w"].sum()).to_numpy()},
        geometry=boxes, crs=metric.crs).reset_index(drop=True)
    tag_result(out, "uncovered_demand")
    return out
