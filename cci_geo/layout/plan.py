"""Planning workflow: keep the existing zones, propose new ones on old factory sites.

:func:`propose_zones` aggregates enterprise demand to a grid, keeps every existing zone open,
chooses ``k`` new zones among the candidate factory sites with a location model and a
per-district balance rule, and compares coverage before and after. :func:`run_scenario` does
the same from a TOML scenario (``scenarios/layout_new_zones.toml``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _validate
from .._crs import resolve_metric_crs
from .._districts import assign_districts
from .._toml import read_toml
from ..errors import DataError, ParameterError, ScenarioError
from ..results import tag_result
from .diagnose import Diagnosis, diagnose
from .models import max_coverage, p_center, p_median, set_cover
from .result import LayoutResult

__all__ = ["DEMANDS", "Proposal", "aggregate_demand", "load_scenario", "propose_zones",
           "run_scenario"]

logger = logging.getLogger(__name__)

MODELS = ("max_coverage", "p_median", "p_center", "set_cover")


def aggregate_demand(points: gpd.GeoDataFrame, *, cell_size_m: float = 1000.0,
                     weight: str | None = None, by: str | None = "district",
                     metric_crs: str | None = None) -> gpd.GeoDataFrame:
    """Aggregate demand points to grid cells, keeping the weighted mean location.

    Parameters
    ----------
    points
        Demand points (e.g. enterprises).
    cell_size_m
        Cell size in metres.
    weight
        Column to sum (e.g. ``"employees"``); ``None`` counts points.
    by
        Optional column that also splits cells (e.g. ``"district"``), kept in the output.
    metric_crs
        Projected CRS of the cells; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per non-empty cell (and ``by`` value) in the input CRS (vector demand
        points, not a polygon grid), with ``id``, ``weight`` (sum) and ``n`` (points);
        result kind ``"demand"``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> firms = gpd.GeoDataFrame({"employees": [10, 30, 5]}, crs="EPSG:32651",
    ...                          geometry=[Point(100, 100), Point(500, 100), Point(2500, 900)])
    >>> cells = aggregate_demand(firms, cell_size_m=1000, weight="employees", by=None)
    >>> cells[["id", "weight", "n"]].values.tolist()
    [['cell_0_0', 40.0, 2], ['cell_2_0', 5.0, 1]]
    """
    _validate.non_empty(points, "points")
    cell = _validate.positive(cell_size_m, "cell_size_m", "metres")
    metric = _validate.ensure_metric(points, "points", metric_crs)
    pts = metric.geometry.where(metric.geometry.geom_type == "Point", metric.geometry.centroid)
    if weight is None:
        w = np.ones(len(points))
    else:
        _validate.require_columns(points, [weight], "points")
        w = pd.to_numeric(points[weight], errors="coerce").fillna(0.0).clip(lower=0.0)
        w = w.to_numpy(np.float64)
    frame = pd.DataFrame({"ix": np.floor(pts.x.to_numpy() / cell).astype(np.int64),
                          "iy": np.floor(pts.y.to_numpy() / cell).astype(np.int64),
                          "w": w, "wx": w * pts.x.to_numpy(), "wy": w * pts.y.to_numpy(),
                          "x": pts.x.to_numpy(), "y": pts.y.to_numpy()})
    keys = ["ix", "iy"]
    if by is not None and by in points.columns:
        frame[by] = points[by].astype("string").to_numpy()
        keys.append(by)
    g = frame.groupby(keys, dropna=False).agg(weight=("w", "sum"), n=("w", "size"),
                                              wx=("wx", "sum"), wy=("wy", "sum"),
                                              x=("x", "mean"), y=("y", "mean")).reset_index()
    g = g[g["weight"] > 0].reset_index(drop=True)
    x = g["wx"] / g["weight"]
    y = g["wy"] / g["weight"]
    ids = "cell_" + g["ix"].astype(str) + "_" + g["iy"].astype(str)
    if len(keys) == 3:
        ids = ids + "_" + g[by].astype(str)
    out = gpd.GeoDataFrame(
        {"id": ids.to_numpy(), "weight": g["weight"].to_numpy(), "n": g["n"].to_numpy()},
        geometry=gpd.points_from_xy(x, y), crs=metric.crs)
    if len(keys) == 3:
        out[by] = g[by].to_numpy()
    out = out.to_crs(points.crs)
    tag_result(out, "demand")
    return out


@dataclass
class Proposal:
    """New zones proposed for an atlas, with the layout before and after.

    Attributes
    ----------
    result
        The location model's :class:`LayoutResult` (fixed zones and new sites).
    before, after
        :class:`Diagnosis` of the existing zones alone and with the new sites.
    table
        Per district (adcode; plus a ``total`` row): ``demand``, ``zones_before``,
        ``new_sites``, ``covered_before``, ``covered_after``, ``share_before``,
        ``share_after``, ``mean_cost_before``, ``mean_cost_after``.
    scenario
        The settings used (for provenance).
    """

    result: LayoutResult
    before: Diagnosis
    after: Diagnosis
    table: pd.DataFrame
    scenario: dict[str, Any] = field(default_factory=dict)

    def to_map_parts(self) -> list[gpd.GeoDataFrame]:
        """Return the frames a map draws: demand covered after, allocations, sites."""
        parts = [self.after.demand, self.result.allocations, self.result.sites]
        return [p for p in parts if isinstance(p, gpd.GeoDataFrame) and len(p)]

    @property
    def new_sites(self) -> gpd.GeoDataFrame:
        """The proposed new sites (non-fixed rows of ``result.sites``)."""
        sites = self.result.sites
        out = sites[~sites["fixed"]].copy()
        tag_result(out, "selected_sites")
        return out


def _existing_zones(atlas: Any) -> gpd.GeoDataFrame:
    """The atlas's ``zones``, or an empty layer when it has none (no zone to keep open)."""
    layers = atlas.layers if hasattr(atlas, "layers") else atlas
    zones = layers.get("zones")
    if zones is None:
        crs = layers["factory_sites"].crs
        return gpd.GeoDataFrame({"id": pd.Series(dtype=str)}, geometry=[], crs=crs)
    return zones


def _candidates(atlas: Any, statuses: Sequence[str], suitability: str | pd.Series | None,
                metric_crs: str) -> gpd.GeoDataFrame:
    zones = _existing_zones(atlas)
    factories = atlas["factory_sites"]
    if isinstance(statuses, str) or not all(isinstance(x, str) for x in statuses):
        msg = (f"statuses must be a sequence of status names, got {statuses!r}; write e.g. "
               f"statuses=({statuses!r},)." if isinstance(statuses, str) else
               f"statuses must be a sequence of status names, got {statuses!r}.")
        raise ParameterError(msg)
    keep = factories[factories["status"].astype(str).isin(list(statuses))].copy()
    if keep.empty:
        have = sorted(factories["status"].astype(str).unique().tolist())
        msg = (f"no factory site has a status in {list(statuses)}; the statuses present are "
               f"{have}.")
        raise DataError(msg)
    keep = keep[~keep["id"].isin(set(zones["id"]))]
    score = None
    if isinstance(suitability, pd.Series):
        score = suitability.reindex(keep["id"]).to_numpy(np.float64)
    elif isinstance(suitability, str) and suitability not in keep.columns:
        logger.warning("factory_sites has no %r column; proposing without suitability scores",
                       suitability)
    elif isinstance(suitability, str):
        score = pd.to_numeric(keep[suitability], errors="coerce").to_numpy(np.float64)
    z = gpd.GeoDataFrame({"id": zones["id"].astype(str).to_numpy(),
                          "name_en": zones.get("name_en"), "name_zh": zones.get("name_zh"),
                          "source": "zones", "existing": True, "score": 1.0},
                         geometry=zones.geometry.to_numpy(), crs=zones.crs)
    if z.empty:
        z = z.to_crs(factories.crs)
    f = gpd.GeoDataFrame({"id": keep["id"].astype(str).to_numpy(),
                          "name_en": keep.get("name_en"), "name_zh": keep.get("name_zh"),
                          "source": "factory_sites", "existing": False,
                          "score": np.nan if score is None else score},
                         geometry=keep.geometry.to_numpy(), crs=factories.crs)
    if score is not None:
        s = f["score"].to_numpy(np.float64)
        lo, hi = np.nanmin(s), np.nanmax(s)
        f["score"] = np.where(np.isfinite(s), (s - lo) / (hi - lo) if hi > lo else 1.0, 0.0)
    out = pd.concat([z, f], ignore_index=True) if len(z) else f
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=z.crs)
    out["geometry"] = out.geometry.where(out.geometry.geom_type == "Point",
                                         out.to_crs(metric_crs).centroid.to_crs(out.crs))
    return out


DEMANDS = ("enterprises", "stations")
"""What layout demand can be: creative enterprises, or metro stations (station access)."""


def _demand_points(atlas: Any, demand: str, weight: str | None) -> gpd.GeoDataFrame:
    """The demand layer of ``atlas`` (stations get ``n_lines``, the lines each serves)."""
    if demand not in DEMANDS:
        msg = f"demand must be one of {DEMANDS}, got {demand!r}."
        raise ParameterError(msg)
    if demand == "enterprises":
        return atlas["enterprises"]
    if "stations" not in atlas:
        msg = ("demand='stations' needs a 'stations' layer in the atlas; add one with "
               "atlas.with_layer('stations', cci_geo.read_layer(path, 'stations')).")
        raise ParameterError(msg)
    st = atlas["stations"].copy()
    lines = st["lines"] if "lines" in st else pd.Series("", index=st.index)
    st["n_lines"] = lines.fillna("").astype(str).map(
        lambda v: len([x for x in v.split(";") if x.strip()]))
    if weight is not None and weight not in st.columns:
        msg = (f"demand='stations': weight {weight!r} is not a column of the stations layer; "
               "pass weight='n_lines' (lines served) or weight=None (each station once).")
        raise ParameterError(msg)
    logger.info("layout demand: %d metro stations (mind the stations layer's coverage, see "
                "its provenance)", len(st))
    return st


def propose_zones(atlas: Any, *, k: int = 6, model: str = "max_coverage",
                  standard_m: float = 3000.0, weight: str | None = "employees",
                  cell_size_m: float = 1000.0,
                  statuses: Sequence[str] = ("vacant", "candidate"),
                  district_max: int | Mapping[str, int] | None = 2,
                  district_min: int | Mapping[str, int] | None = None,
                  suitability: str | pd.Series | None = None, score_weight: float = 0.0,
                  time_limit_s: float = 60.0, metric_crs: str | None = None,
                  demand: str = "enterprises") -> Proposal:
    """Keep the existing zones and propose ``k`` new ones among candidate factory sites.

    Parameters
    ----------
    atlas
        A :class:`cci_geo.atlas.Atlas` with ``factory_sites`` and the demand layer
        (``enterprises`` or ``stations``); ``zones`` (kept open) and ``districts`` (balance
        rule, per-district table) when it has them. Without ``zones`` the layout starts from
        none: every zone is new and the "before" coverage is 0.
    k
        Number of new zones (ignored by ``set_cover``, which chooses the count).
    model
        ``"max_coverage"``, ``"p_median"``, ``"p_center"`` or ``"set_cover"``.
    standard_m
        Service standard in metres (coverage and the before/after table).
    weight
        Column of the demand layer weighting demand (enterprises: ``"employees"``,
        ``"revenue_cny"``; stations: ``"n_lines"``, the lines a station serves) or ``None``
        (each point counts once).
    cell_size_m
        Demand is aggregated to cells of this size in metres (keeps the model small).
    statuses
        Factory-site statuses that may become zones.
    district_max, district_min
        Balance rule: bounds on new zones per district (the ``districts`` layer).
    suitability, score_weight
        Optional suitability score of the factory sites (a column of ``factory_sites`` or a
        Series indexed by site id; rescaled to 0..1) and its weight in the ``max_coverage``
        objective.
    time_limit_s
        Solver time limit.
    metric_crs
        Projected CRS for distances and the demand grid; default the atlas's metric CRS
        (stamped on its layers), see :func:`cci_geo._crs.resolve_metric_crs`.
    demand
        What the zones should serve: ``"enterprises"`` (creative firms, the default) or
        ``"stations"`` (metro station access: the atlas's ``stations`` as demand points, so
        new zones lie within ``standard_m`` of the stations visitors arrive at). Stations
        get an ``n_lines`` column (lines served) to weight interchanges.

    Returns
    -------
    Proposal
        The model result, diagnoses before and after, and the before/after table.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import layout
    >>> prop = layout.propose_zones(cci_geo.load_demo(), k=2, time_limit_s=10)
    >>> int((~prop.result.sites["fixed"]).sum())
    2
    >>> by_metro = layout.propose_zones(cci_geo.load_demo(), k=2, demand="stations",
    ...                                 weight="n_lines", standard_m=1500.0, cell_size_m=2000.0)
    >>> int((~by_metro.result.sites["fixed"]).sum())
    2
    """
    if model not in MODELS:
        msg = f"model must be one of {MODELS}, got {model!r}."
        raise ParameterError(msg)
    points = _demand_points(atlas, demand, weight)
    layers = atlas.layers if hasattr(atlas, "layers") else atlas
    districts = layers.get("districts")
    if districts is not None and len(districts) and "district" not in points.columns:
        logger.info("%s have no 'district' column; derived from the districts layer", demand)
        points = points.assign(district=assign_districts(points, districts))
    existing = _existing_zones(atlas)
    if not len(existing):
        logger.info("the atlas has no zones: proposing %d zones from none", k)
    crs = resolve_metric_crs(points, *([existing] if len(existing) else []),
                             metric_crs=metric_crs)
    demand_cells = aggregate_demand(points, cell_size_m=cell_size_m, weight=weight,
                                    by="district", metric_crs=crs)
    cands = _candidates(atlas, statuses, suitability, crs)
    by_district = districts is not None and len(districts) > 0
    if by_district:
        cands["district"] = assign_districts(cands, districts)
    elif district_max is not None or district_min is not None:
        logger.warning("the atlas has no 'districts' layer: the per-district balance rule "
                       "(district_max=%r, district_min=%r) is not applied; add a districts "
                       "layer to apply it", district_max, district_min)
    common: dict[str, Any] = {"weight": "weight", "fixed": "existing", "metric_crs": crs,
                              "district": "district" if by_district else None,
                              "district_max": district_max if by_district else None,
                              "district_min": district_min if by_district else None,
                              "time_limit_s": time_limit_s}
    if model == "max_coverage":
        use_score = bool(cands.loc[~cands["existing"], "score"].notna().all()) and score_weight > 0
        res = max_coverage(demand_cells, cands, p=k, standard_m=standard_m,
                           site_score="score" if use_score else None,
                           score_weight=score_weight if use_score else 0.0, **common)
    elif model == "p_median":
        res = p_median(demand_cells, cands, p=k, method="exact", **common)
    elif model == "p_center":
        res = p_center(demand_cells, cands, p=k, **common)
    else:
        res = set_cover(demand_cells, cands, standard_m=standard_m, **common)
    zones = cands[cands["existing"]]
    before = diagnose(zones, demand_cells, standard_m=standard_m, weight="weight",
                      metric_crs=crs)
    after = diagnose(res.sites, demand_cells, standard_m=standard_m, weight="weight",
                     metric_crs=crs)
    table = _before_after(before, after, zones, res)
    settings = {"k": k, "model": model, "standard_m": standard_m, "weight": weight,
                "cell_size_m": cell_size_m, "metric_crs": crs, "statuses": list(statuses),
                "district_max": district_max, "district_min": district_min,
                "score_weight": score_weight, "demand": demand}
    logger.info("proposed %d new zones: coverage %.1f%% -> %.1f%%", int((~res.sites["fixed"])
                .sum()), 100 * before.coverage, 100 * after.coverage)
    return Proposal(result=res, before=before, after=after, table=table, scenario=settings)


def _before_after(before: Diagnosis, after: Diagnosis, zones: gpd.GeoDataFrame,
                  res: LayoutResult) -> pd.DataFrame:
    b, a = before.districts, after.districts
    new = res.sites[~res.sites["fixed"]]
    if b is None or a is None or "district" not in zones.columns:
        # no district for the demand: the table has the total row only
        w_b, w_a = _totals(before), _totals(after)
        t = pd.DataFrame({"demand": [w_b[0]], "covered_before": [w_b[1]],
                          "covered_after": [w_a[1]], "mean_cost_before": [w_b[2]],
                          "mean_cost_after": [w_a[2]], "zones_before": [len(zones)],
                          "new_sites": [len(new)]}, index=pd.Index(["total"], name="district"))
        return _shares(t)
    t = pd.DataFrame({"demand": b["demand"], "covered_before": b["covered"],
                      "covered_after": a["covered"].reindex(b.index),
                      "mean_cost_before": b["mean_cost"],
                      "mean_cost_after": a["mean_cost"].reindex(b.index)})
    t["zones_before"] = zones["district"].astype("string").value_counts().reindex(t.index)
    t["new_sites"] = new["district"].astype("string").value_counts().reindex(t.index)
    t[["zones_before", "new_sites"]] = t[["zones_before", "new_sites"]].fillna(0).astype(int)
    total = pd.DataFrame({
        "demand": [t["demand"].sum()], "covered_before": [t["covered_before"].sum()],
        "covered_after": [t["covered_after"].sum()],
        # NaN stays NaN (no zone before): min_count keeps a sum of missing costs missing
        "mean_cost_before": [(t["mean_cost_before"] * t["demand"]).sum(min_count=1)
                             / t["demand"].sum()],
        "mean_cost_after": [(t["mean_cost_after"] * t["demand"]).sum(min_count=1)
                            / t["demand"].sum()],
        "zones_before": [len(zones)], "new_sites": [len(new)]}, index=["total"])
    t = pd.concat([t.sort_index(), total])
    t.index.name = "district"
    return _shares(t)


def _totals(diag: Diagnosis) -> tuple[float, float, float]:
    """Return (demand weight, covered weight, weighted mean cost) of a diagnosis."""
    d = diag.demand
    w = pd.to_numeric(d["weight"], errors="coerce").fillna(0.0).to_numpy(np.float64)
    covered = d["covered"].to_numpy(bool)
    cost = pd.to_numeric(d["cost"], errors="coerce").to_numpy(np.float64)
    total = float(w.sum())
    return total, float(w[covered].sum()), float((w * cost).sum() / total) if total else np.nan


def _shares(t: pd.DataFrame) -> pd.DataFrame:
    t = t.copy()
    t["share_before"] = t["covered_before"] / t["demand"]
    t["share_after"] = t["covered_after"] / t["demand"]
    cols = ["demand", "zones_before", "new_sites", "covered_before", "covered_after",
            "share_before", "share_after", "mean_cost_before", "mean_cost_after"]
    return t[cols]


_SCENARIO_KEYS = {
    "scenario": {"name", "description"},
    "model": {"type", "k", "standard_m", "time_limit_s"},
    "demand": {"weight", "cell_m", "source"},
    "candidates": {"statuses", "suitability", "suitability_scenario", "score_weight"},
    "balance": {"district_max", "district_min"},
    "output": {"sites", "allocations", "summary", "map"},
}


def load_scenario(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Read and check a layout scenario (a TOML file path or an equivalent mapping).

    Raises
    ------
    ScenarioError
        Unknown sections or keys, a missing ``[model]`` section, or bad values; the message
        names the key.

    Examples
    --------
    >>> load_scenario({"model": {"type": "p_median", "k": 3}})["model"]
    {'type': 'p_median', 'k': 3}
    """
    if isinstance(source, Mapping):
        data = {k: dict(v) if isinstance(v, Mapping) else v for k, v in source.items()}
        where = "scenario"
    else:
        path = Path(source)
        data = read_toml(path, "scenario file")
        where = str(path)
    for sec, body in data.items():
        if sec not in _SCENARIO_KEYS or not isinstance(body, Mapping):
            msg = f"{where}: unknown section [{sec}]; expected {sorted(_SCENARIO_KEYS)}."
            raise ScenarioError(msg)
        extra = set(body) - _SCENARIO_KEYS[sec]
        if extra:
            msg = (f"{where}: unknown key(s) {sorted(extra)} in [{sec}]; allowed: "
                   f"{sorted(_SCENARIO_KEYS[sec])}.")
            raise ScenarioError(msg)
    model = data.get("model")
    if not model or "type" not in model:
        msg = f"{where}: [model] with type = one of {MODELS} is required."
        raise ScenarioError(msg)
    if model["type"] not in MODELS:
        msg = f"{where}: [model] type = {model['type']!r}; use one of {MODELS}."
        raise ScenarioError(msg)
    source = data.get("demand", {}).get("source", "enterprises")
    if source not in DEMANDS:
        msg = f"{where}: [demand] source = {source!r}; use one of {DEMANDS}."
        raise ScenarioError(msg)
    for key in ("k", "standard_m", "time_limit_s"):
        v = model.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
            msg = f"{where}: [model] {key} must be a positive number, got {v!r}."
            raise ScenarioError(msg)
    _check_values(data, where)
    return data


def _check_values(data: Mapping[str, Any], where: str) -> None:
    """Check the kinds and ranges of the optional keys (the ones a typo turns silently wrong)."""
    c, d, b = data.get("candidates", {}), data.get("demand", {}), data.get("balance", {})
    st = c.get("statuses")
    if st is not None and (isinstance(st, str) or not isinstance(st, list) or not st
                           or not all(isinstance(x, str) for x in st)):
        msg = (f"{where}: [candidates] statuses must be a non-empty list of strings, got "
               f"{st!r}; write e.g. statuses = [{st!r}]." if isinstance(st, str) else
               f"{where}: [candidates] statuses must be a non-empty list of strings such as "
               f'["vacant", "candidate"], got {st!r}.')
        raise ScenarioError(msg)
    sw = c.get("score_weight")
    if sw is not None and (isinstance(sw, bool) or not isinstance(sw, (int, float))
                           or not 0 <= sw <= 1):
        msg = f"{where}: [candidates] score_weight must be a number from 0 to 1, got {sw!r}."
        raise ScenarioError(msg)
    for sec, key, body in (("candidates", "suitability", c),
                           ("candidates", "suitability_scenario", c), ("demand", "weight", d)):
        v = body.get(key)
        if v is not None and not isinstance(v, str):
            msg = f"{where}: [{sec}] {key} must be a string (a column or file name), got {v!r}."
            raise ScenarioError(msg)
    cell = d.get("cell_m")
    if cell is not None and (isinstance(cell, bool) or not isinstance(cell, (int, float))
                             or not 0 < cell < 1e6):
        msg = f"{where}: [demand] cell_m must be a positive number of metres, got {cell!r}."
        raise ScenarioError(msg)
    for key in ("district_max", "district_min"):
        v = b.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            msg = f"{where}: [balance] {key} must be a whole number >= 0, got {v!r}."
            raise ScenarioError(msg)
    for key, v in data.get("output", {}).items():
        if not isinstance(v, str) or not v.strip():
            msg = f"{where}: [output] {key} must be a file name, got {v!r}."
            raise ScenarioError(msg)


def _suitability_scores(name: str, base_dir: Path, atlas: Any) -> pd.Series:
    """Score the factory sites with a suitability scenario; return scores indexed by id.

    A relative ``name`` is resolved against ``base_dir`` (the layout scenario's folder).
    """
    from .. import suitability  # scoring is an optional input of layout, imported on use

    path = Path(name)
    if not path.is_absolute():
        path = base_dir / path
    if not path.exists():
        msg = (f"[candidates] suitability_scenario = {name!r}: {path} does not exist; give a "
               "path relative to the layout scenario file.")
        raise ScenarioError(msg)
    result = suitability.score(path, atlas=atlas, sensitivity=False)
    logger.info("scored %d factory sites with %s for the layout proposal",
                len(result.sites), path)
    return result.sites.set_index("id")["score"]


def run_scenario(source: str | os.PathLike[str] | Mapping[str, Any], atlas: Any, *,
                 base_dir: str | os.PathLike[str] | None = None) -> Proposal:
    """Run a layout scenario on ``atlas``.

    Parameters
    ----------
    source
        Path of a TOML scenario (see ``scenarios/layout_new_zones.toml``) or a mapping.
    atlas
        The atlas to plan on (e.g. :func:`cci_geo.load_demo` or your own
        :class:`~cci_geo.Atlas`); required, the demo is never loaded by itself.
    base_dir
        Folder against which relative paths in the scenario (``suitability_scenario``) are
        resolved; default: the scenario file's folder, or the working directory for a mapping.

    Returns
    -------
    Proposal
        As :func:`propose_zones`; ``scenario`` also holds the parsed file.

    Raises
    ------
    cci_geo.errors.ParameterError
        If ``atlas`` is None.
    cci_geo.errors.ScenarioError
        If the scenario is invalid.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import layout
    >>> scenario = {"model": {"type": "max_coverage", "k": 2, "standard_m": 3000.0},
    ...             "balance": {"district_max": 1}}
    >>> prop = layout.run_scenario(scenario, cci_geo.load_demo())
    >>> int((~prop.result.sites["fixed"]).sum())
    2
    """
    if atlas is None:
        msg = ("run_scenario() needs the atlas to plan on: pass atlas=cci_geo.load_demo() or "
               "your own cci_geo.Atlas (it never loads the demo by itself).")
        raise ParameterError(msg)
    data = load_scenario(source)
    m, d = data["model"], data.get("demand", {})
    c, b = data.get("candidates", {}), data.get("balance", {})
    suitability: str | pd.Series | None = c.get("suitability") or None
    if c.get("suitability_scenario"):
        if base_dir is None:
            base_dir = Path.cwd() if isinstance(source, Mapping) else Path(source).parent
        suitability = _suitability_scores(c["suitability_scenario"], Path(base_dir), atlas)
    prop = propose_zones(
        atlas, k=int(m.get("k", 6)), model=m["type"],
        standard_m=float(m.get("standard_m", 3000.0)),
        weight=d.get("weight", "employees") or None,
        cell_size_m=float(d.get("cell_m", 1000.0)),
        statuses=tuple(c.get("statuses", ("vacant", "candidate"))),
        district_max=b.get("district_max", 2), district_min=b.get("district_min"),
        suitability=suitability,
        score_weight=float(c.get("score_weight", 0.0)),
        time_limit_s=float(m.get("time_limit_s", 60.0)),
        demand=str(d.get("source", "enterprises")))
    prop.scenario["file"] = data
    return prop
