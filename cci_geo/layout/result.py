"""The result of a location model: selected sites, allocation lines and summary tables."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..results import tag_result
from .costs import Instance

__all__ = ["LayoutResult", "build_result"]


@dataclass
class LayoutResult:
    """Solution of a location model.

    Attributes
    ----------
    model
        ``"p_median"``, ``"max_coverage"``, ``"set_cover"`` or ``"p_center"``.
    sites
        The open sites (fixed ones included): a copy of the chosen candidate rows (a
        GeoDataFrame in the candidates' CRS when geometries were given) with columns
        ``fixed`` (bool), ``demand_served`` (weight allocated to the site), ``n_demand``
        (demand rows allocated), ``mean_cost`` (weighted mean cost of its demand) and
        ``max_cost``. Result kind ``"selected_sites"``.
    allocations
        One row per allocated demand (and site for a split capacitated allocation):
        ``demand_id``, ``site_id``, ``cost``, ``weight``, ``share`` and ``covered`` (cost
        within the standard, coverage models only) with a LineString from the demand to its
        site. Result kind ``"allocations"``.
    objective
        Objective value (weighted cost, covered weight, number/cost of sites, max cost).
    bound
        Proven bound on the optimum (lower for minimisation, upper for ``max_coverage``).
    gap
        Relative gap ``|objective - bound| / |objective|`` (0 when proven optimal).
    status
        ``"optimal"``, ``"gap"`` (stopped within the requested gap), ``"time_limit"`` or
        ``"heuristic"`` (no exact solve was run).
    method
        How it was solved, e.g. ``"highs-radius"``, ``"heuristic+lagrangian"``.
    solve_time_s
        Wall-clock seconds.
    unit
        Unit of costs: ``"m"`` or ``"cost"`` (the caller's matrix unit).
    selected
        Positions of the open sites among the candidates.
    districts
        Per-district table (when districts were given), else ``None``.
    params
        The model's options, for provenance.
    """

    model: str
    sites: pd.DataFrame
    allocations: pd.DataFrame
    objective: float
    bound: float
    gap: float
    status: str
    method: str
    solve_time_s: float
    unit: str
    selected: NDArray[np.intp]
    districts: pd.DataFrame | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.Series:
        """Return the headline numbers as a Series (model, objective, bound, gap...)."""
        return pd.Series({
            "model": self.model, "status": self.status, "method": self.method,
            "objective": self.objective, "bound": self.bound, "gap": self.gap,
            "solve_time_s": self.solve_time_s, "n_sites": len(self.selected),
            "n_new": int((~self.sites["fixed"]).sum()), "unit": self.unit,
        })

    def to_map_parts(self) -> list[pd.DataFrame]:
        """Return the frames a map draws: allocation lines, then the sites."""
        return [f for f in (self.allocations, self.sites) if isinstance(f, gpd.GeoDataFrame)]

    def __repr__(self) -> str:
        return (f"LayoutResult(model={self.model!r}, status={self.status!r}, "
                f"objective={self.objective:.6g}, gap={self.gap:.3%}, sites={len(self.selected)},"
                f" time={self.solve_time_s:.2f}s)")


def relative_gap(objective: float, bound: float) -> float:
    """Return ``|objective - bound| / max(|objective|, tiny)`` (inf if either is infinite)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-12)


def _point_xy(gdf: gpd.GeoDataFrame) -> NDArray[np.float64]:
    geoms = gdf.geometry
    pts = geoms.where(geoms.geom_type == "Point", geoms.representative_point())
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _allocation_frame(inst: Instance, rows: NDArray[np.intp], cols: NDArray[np.intp],
                      share: NDArray[np.float64], standard_m: float | None) -> pd.DataFrame:
    data = {
        "demand_id": inst.demand_ids[rows].to_numpy(),
        "site_id": inst.candidate_ids[cols].to_numpy(),
        "cost": inst.cost[rows, cols],
        "weight": inst.weights[rows],
        "share": share,
    }
    if standard_m is not None:
        data["covered"] = inst.cost[rows, cols] <= standard_m
    frame = pd.DataFrame(data)
    if inst.demand is not None and inst.candidates is not None:
        a = _point_xy(inst.demand)[rows]
        b = _point_xy(inst.candidates)[cols]
        lines = shapely.linestrings(np.stack([a, b], axis=1))
        frame = gpd.GeoDataFrame(frame, geometry=lines, crs=inst.demand.crs)
    tag_result(frame, "allocations")
    return frame


def build_result(inst: Instance, *, model: str, open_idx: NDArray[np.intp],
                 fixed: NDArray[np.bool_], objective: float, bound: float, status: str,
                 method: str, seconds: float, standard_m: float | None = None,
                 shares: NDArray[np.float64] | None = None,
                 district: NDArray[np.object_] | None = None,
                 params: dict[str, Any] | None = None) -> LayoutResult:
    """Assemble a :class:`LayoutResult` from the open sites of a solved model.

    Examples
    --------
    Five demands on a line at 0, 1, 10, 11 and 30 km, each a candidate site:

    >>> import numpy as np
    >>> from cci_geo.layout.costs import prepare_instance
    >>> from cci_geo.layout.rules import build_rules
    >>> x = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> inst = prepare_instance(None, None, cost=np.abs(x[:, None] - x[None, :]))
    >>> rules = build_rules(inst, p=2)
    >>> res = build_result(inst, model="p_median", open_idx=np.array([4, 2]),
    ...                    fixed=rules.fixed, objective=20.0, bound=20.0, status="optimal",
    ...                    method="greedy", seconds=0.0)
    >>> res
    LayoutResult(model='p_median', status='optimal', objective=20, gap=0.000%, sites=2, time=0.00s)
    >>> print(res.sites[["id", "demand_served", "mean_cost", "max_cost"]].to_string())
       id  demand_served  mean_cost  max_cost
    0   2            4.0        5.0      10.0
    1   4            1.0        0.0       0.0
    """
    open_idx = np.sort(np.asarray(open_idx, dtype=np.intp))
    n = inst.n_demand
    if shares is not None:
        rows, cols = np.nonzero(shares > 1e-9)
        share = shares[rows, cols]
    else:
        sub = inst.cost[:, open_idx]
        rows = np.arange(n)
        cols = open_idx[np.argmin(sub, axis=1)]
        reach = np.isfinite(inst.cost[rows, cols])
        rows, cols = rows[reach], cols[reach]
        share = np.ones(rows.size)
    if standard_m is not None and model in ("max_coverage", "set_cover"):
        keep = inst.cost[rows, cols] <= standard_m
        rows, cols, share = rows[keep], cols[keep], share[keep]
    alloc = _allocation_frame(inst, rows, cols, share, standard_m)
    served = pd.DataFrame({"site": cols, "w": inst.weights[rows] * share,
                           "wc": inst.weights[rows] * share * inst.cost[rows, cols],
                           "c": inst.cost[rows, cols]})
    agg = served.groupby("site").agg(demand_served=("w", "sum"), n_demand=("w", "size"),
                                     wc=("wc", "sum"), max_cost=("c", "max"))
    agg = agg.reindex(open_idx)
    if inst.candidates is not None:
        sites = inst.candidates.iloc[open_idx].copy()
    else:
        sites = pd.DataFrame({"id": inst.candidate_ids[open_idx].to_numpy()})
    sites["fixed"] = fixed[open_idx]
    sites["demand_served"] = agg["demand_served"].fillna(0.0).to_numpy()
    sites["n_demand"] = agg["n_demand"].fillna(0).astype(int).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        sites["mean_cost"] = (agg["wc"] / agg["demand_served"]).to_numpy()
    sites["max_cost"] = agg["max_cost"].to_numpy()
    if district is not None:
        sites["district"] = district[open_idx]
    tag_result(sites, "selected_sites")
    table = _district_table(inst, open_idx, fixed, district, rows, share, standard_m)
    return LayoutResult(model=model, sites=sites, allocations=alloc, objective=float(objective),
                        bound=float(bound), gap=relative_gap(objective, bound), status=status,
                        method=method, solve_time_s=float(seconds), unit=inst.unit,
                        selected=open_idx, districts=table, params=dict(params or {}))


def _district_table(inst: Instance, open_idx: NDArray[np.intp], fixed: NDArray[np.bool_],
                    district: NDArray[np.object_] | None, rows: NDArray[np.intp],
                    share: NDArray[np.float64], standard_m: float | None) -> pd.DataFrame | None:
    if district is None:
        return None
    labels = pd.Series(district[open_idx], dtype=object).fillna("(none)")
    is_fixed = fixed[open_idx]
    table = pd.DataFrame({
        "sites_fixed": labels[is_fixed].value_counts(),
        "sites_new": labels[~is_fixed].value_counts(),
    }).fillna(0).astype(int)
    table.index.name = "district"
    dem = _demand_district(inst)
    if dem is not None:
        w = pd.Series(inst.weights, index=range(inst.n_demand))
        table = table.reindex(table.index.union(pd.Index(dem.dropna().unique())), fill_value=0)
        total = w.groupby(dem.to_numpy()).sum()
        table["demand"] = total.reindex(table.index).fillna(0.0)
        served = pd.Series(inst.weights[rows] * share).groupby(dem.to_numpy()[rows]).sum()
        label = "demand_covered" if standard_m is not None else "demand_served"
        table[label] = served.reindex(table.index).fillna(0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            table[label.replace("demand_", "share_")] = table[label] / table["demand"]
    return table.sort_index()


def _demand_district(inst: Instance) -> pd.Series | None:
    if inst.demand is None or "district" not in inst.demand.columns:
        return None
    return inst.demand["district"].astype("string").reset_index(drop=True)
