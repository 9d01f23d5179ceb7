"""Park scorecards: designated areas against the city and matched comparison areas.

For every designated zone, functional area and demonstrative region: enterprises, employment
and revenue; growth since designation against the whole city and against comparison areas
(grid cells outside every designated area, matched on distance to the centre and on
enterprise density in the year before designation); sector mix and location quotients;
cluster strength (Gi*); access (distance to the nearest station and venue). A seeded,
stratified permutation test (:func:`designation_effect`) asks whether designated areas grew
faster than their comparison areas.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import ensure_metric, positive
from ..errors import DataError, ParameterError
from ..results import tag_result
from ..schema import SECTORS
from ._areas import area_footprints, memberships
from .cube import space_time_cube, years_of
from .gistar import space_time_gi

__all__ = ["DesignationEffect", "designated_areas", "designation_effect", "park_scorecards"]

logger = logging.getLogger(__name__)

_LAYERS = ("zones", "functional_areas", "demonstrative_regions")


def designated_areas(*, zones: gpd.GeoDataFrame | None = None,
                     functional_areas: gpd.GeoDataFrame | None = None,
                     demonstrative_regions: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Stack the designated layers into one frame with ``layer`` and ``designated`` (year).

    A zone without a ``designated`` column takes the earliest year of the demonstrative
    regions whose ``site_id`` is the zone's id (how the demo links them), else NA.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name_zh``, ``name_en``, ``layer``, ``designated`` (Int64) and the geometry,
        in EPSG:4326.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> areas = designated_areas(zones=atlas["zones"],
    ...                          demonstrative_regions=atlas["demonstrative_regions"])
    >>> sorted(areas["layer"].unique())
    ['demonstrative_regions', 'zones']
    """
    frames = []
    given = {"zones": zones, "functional_areas": functional_areas,
             "demonstrative_regions": demonstrative_regions}
    for layer, gdf in given.items():
        if gdf is None:
            continue
        g = gdf.to_crs("EPSG:4326")
        out = gpd.GeoDataFrame({"id": g["id"].astype(str).to_numpy()}, geometry=g.geometry.values,
                               crs="EPSG:4326")
        for col in ("name_zh", "name_en"):
            out[col] = g[col].astype(str).to_numpy() if col in g.columns else out["id"]
        out["layer"] = layer
        if "designated" in g.columns:
            year = pd.to_numeric(g["designated"], errors="coerce").to_numpy()
        elif layer == "zones" and demonstrative_regions is not None \
                and "site_id" in demonstrative_regions.columns:
            first = (demonstrative_regions.assign(
                y=pd.to_numeric(demonstrative_regions["designated"], errors="coerce"))
                .groupby("site_id")["y"].min())
            year = out["id"].map(first).to_numpy(dtype="float64", na_value=np.nan)
        else:
            year = np.full(len(out), np.nan)
        out["designated"] = pd.array(np.where(np.isnan(year), pd.NA, year), dtype="Int64")
        frames.append(out[["id", "name_zh", "name_en", "layer", "designated", "geometry"]])
    if not frames:
        msg = "pass at least one of zones=, functional_areas=, demonstrative_regions=."
        raise ParameterError(msg)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


@dataclass(frozen=True)
class DesignationEffect:
    """Result of :func:`designation_effect`.

    Attributes
    ----------
    statistic
        Mean over tested areas of (log growth of the area - mean log growth of its matches).
    p_value
        One-sided permutation p-value that designated areas grew faster.
    n_areas
        Areas tested (designated inside the panel years, with comparison matches).
    n_permutations, seed
        Permutations drawn and the seed of the generator.
    """

    statistic: float
    p_value: float
    n_areas: int
    n_permutations: int
    seed: int | None


def _growth(base: np.ndarray, last: np.ndarray) -> np.ndarray:
    return np.log((last + 1.0) / (base + 1.0))


def _pct(base: float, last: float) -> float:
    return float(100.0 * (last / base - 1.0)) if base > 0 else float("nan")


def _sector_columns(sec: np.ndarray, members: list[np.ndarray], alive: np.ndarray
                    ) -> dict[str, list[object]]:
    city = np.array([(sec[alive] == s).sum() for s in SECTORS], dtype=float)
    city_share = city / max(city.sum(), 1.0)
    cols: dict[str, list[object]] = {"top_sector": []}
    cols.update({f"lq_{s}": [] for s in SECTORS})
    for m in members:
        m = m[alive[m]]
        local = np.array([(sec[m] == s).sum() for s in SECTORS], dtype=float)
        share = local / local.sum() if local.sum() else np.full(len(SECTORS), np.nan)
        cols["top_sector"].append(SECTORS[int(np.argmax(local))] if local.sum() else None)
        with np.errstate(divide="ignore", invalid="ignore"):
            lq = np.where(city_share > 0, share / city_share, np.nan)
        for s, v in zip(SECTORS, lq, strict=True):
            cols[f"lq_{s}"].append(round(float(v), 3) if np.isfinite(v) else np.nan)
    return cols


def _nearest_m(points: gpd.GeoSeries, layer: gpd.GeoDataFrame | None) -> np.ndarray:
    if layer is None or len(layer) == 0:
        return np.full(len(points), np.nan)
    target = layer.to_crs(points.crs)
    _, dist = target.sindex.nearest(points.values, return_distance=True, return_all=False)
    return np.asarray(dist, dtype="float64")


def _matches(area_xy: np.ndarray, area_density: np.ndarray, cell_xy: np.ndarray,
             cell_density: np.ndarray, centre: np.ndarray, n_matches: int) -> np.ndarray:
    """Indices of the ``n_matches`` closest cells in (log distance, log density) space."""
    fa = np.column_stack([np.log(np.hypot(*(area_xy - centre).T) + 500.0),
                          np.log1p(area_density)])
    fc = np.column_stack([np.log(np.hypot(*(cell_xy - centre).T) + 500.0),
                          np.log1p(cell_density)])
    scale = fc.std(axis=0)
    scale[scale == 0] = 1.0
    d = np.hypot(*((fa[:, None, :] - fc[None, :, :]) / scale).transpose(2, 0, 1))
    return np.argsort(d, axis=1, kind="stable")[:, :n_matches]


def park_scorecards(enterprises: gpd.GeoDataFrame, areas: gpd.GeoDataFrame,
                    panel: pd.DataFrame | None = None, *, years: object,
                    centre: tuple[float, float] | None = None, buffer_m: float = 1000.0,
                    comparison_cell_m: float = 2000.0, n_matches: int = 5,
                    stations: gpd.GeoDataFrame | None = None,
                    venues: gpd.GeoDataFrame | None = None,
                    metric_crs: str | None = None) -> gpd.GeoDataFrame:
    """Score every designated area over the years, against the city and comparison areas.

    Parameters
    ----------
    enterprises
        Enterprises layer with ``sector`` and ``founded``/``closed`` years.
    areas
        Designated areas, e.g. from :func:`designated_areas` (``id``, ``designated`` year;
        points get a ``buffer_m`` radius).
    panel
        Annual observations (``enterprise_years``) for employment and revenue columns.
    years
        Consecutive years of the evaluation (e.g. ``range(2012, 2026)``).
    centre
        ``(lon, lat)`` of the city centre used for matching; default: the mean position of
        the enterprises operating in the first year.
    buffer_m
        Radius given to point areas, metres.
    comparison_cell_m
        Edge of the grid cells that serve as comparison areas, metres.
    n_matches
        Comparison cells matched to each area.
    stations, venues
        Optional point layers for the access columns.
    metric_crs
        Metric CRS for distances and areas.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area (footprints, in the CRS of ``enterprises``): ``id``, ``name_zh``,
        ``name_en``, ``layer``, ``designated``, ``area_km2``, ``baseline_year`` (the year
        before designation, or the first year), ``enterprises_baseline``,
        ``enterprises_last``, ``employees_last``, ``revenue_last_cny``,
        ``growth_since_designation_pct`` (enterprises), ``revenue_growth_pct``,
        ``city_growth_pct`` and ``comparison_growth_pct`` (same years), ``excess_vs_city_pp``,
        ``excess_vs_comparison_pp``, ``density_per_km2``, ``cluster_gi_z`` (Gi* z of the
        grid cell at the area's centre in the last year), ``top_sector``, ``lq_<sector>``
        (location quotient against the city, last year), ``nearest_station_m``,
        ``nearest_venue_m``. ``attrs["comparison_sets"]`` holds, per area, its log growth and
        its matches' log growths for :func:`designation_effect`.

    Raises
    ------
    ParameterError
        Bad years or sizes.
    DataError
        No area or no enterprise.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> areas = designated_areas(functional_areas=atlas["functional_areas"])
    >>> cards = park_scorecards(atlas["enterprises"], areas, atlas.table("enterprise_years"),
    ...                         years=range(2012, 2026))
    >>> len(cards) == len(areas)
    True
    """
    positive(comparison_cell_m, "comparison_cell_m", "metres")
    if n_matches < 1:
        msg = f"n_matches must be >= 1, got {n_matches!r}."
        raise ParameterError(msg)
    cube = space_time_cube(enterprises, years=years, cell_size_m=comparison_cell_m,
                           metric_crs=metric_crs)
    yrs = cube.years
    metric = cube.cells.crs
    fp = area_footprints(areas, buffer_m=buffer_m, metric_crs=metric.to_string())
    ent_m = ensure_metric(enterprises, "enterprises", metric.to_string())
    pairs = memberships(ent_m, fp)
    members = [pairs.loc[pairs["area"] == a, "enterprise"].to_numpy() for a in range(len(fp))]
    first, last = years_of(enterprises)
    alive = (first[:, None] <= yrs[None, :]) & (yrs[None, :] <= last[:, None])
    city = alive.sum(axis=0).astype(float)
    designated = pd.to_numeric(areas["designated"], errors="coerce").to_numpy(dtype="float64") \
        if "designated" in areas.columns else np.full(len(areas), np.nan)
    base_year = np.where(np.isnan(designated), yrs[0],
                         np.clip(designated - 1, yrs[0], yrs[-1])).astype(int)
    tb = base_year - yrs[0]
    counts = np.array([alive[m].sum(axis=0) for m in members], dtype=float).reshape(
        len(fp), yrs.size)
    area_km2 = fp.geometry.area.to_numpy() / 1e6
    # comparison cells: outside every designated footprint
    hit = np.zeros(len(cube.cells), dtype=bool)
    hit[fp.sindex.query(cube.cells.geometry.values, predicate="intersects")[0]] = True
    cand = np.flatnonzero(~hit)
    if cand.size < n_matches:
        msg = (f"only {cand.size} grid cells lie outside the designated areas; lower "
               "comparison_cell_m or n_matches.")
        raise DataError(msg)
    if centre is None:
        xy0 = shapely.get_coordinates(ent_m.geometry.values[alive[:, 0]]) if alive[:, 0].any() \
            else shapely.get_coordinates(ent_m.geometry.values)
        centre_xy = xy0.mean(axis=0)
    else:
        pt = gpd.GeoSeries(gpd.points_from_xy([centre[0]], [centre[1]]), crs="EPSG:4326")
        centre_xy = shapely.get_coordinates(pt.to_crs(metric).values)[0]
    area_xy = shapely.get_coordinates(fp.geometry.centroid.values)
    cell_xy = shapely.get_coordinates(cube.cells.geometry.centroid.values)[cand]
    cell_km2 = (comparison_cell_m / 1000.0) ** 2
    cell_vals = cube.values[cand]
    rows = []
    sets: dict[str, dict[str, object]] = {}
    for a in range(len(fp)):
        t = int(tb[a])
        match = _matches(area_xy[a:a + 1], counts[a:a + 1, t] / area_km2[a], cell_xy,
                         cell_vals[:, t] / cell_km2, centre_xy, n_matches)[0]
        comp_base, comp_last = cell_vals[match, t], cell_vals[match, -1]
        testable = not np.isnan(designated[a]) and yrs[0] < designated[a] <= yrs[-1]
        if testable:
            sets[str(fp["id"].iloc[a])] = {
                "area": float(_growth(counts[a, t], counts[a, -1])),
                "matches": _growth(comp_base, comp_last).tolist()}
        g_area = _pct(counts[a, t], counts[a, -1])
        g_city = _pct(city[t], city[-1])
        g_comp = _pct(comp_base.sum(), comp_last.sum())
        rows.append({"baseline_year": int(base_year[a]),
                     "enterprises_baseline": int(counts[a, t]),
                     "enterprises_last": int(counts[a, -1]), "growth_since_designation_pct": g_area,
                     "city_growth_pct": g_city, "comparison_growth_pct": g_comp,
                     "excess_vs_city_pp": g_area - g_city,
                     "excess_vs_comparison_pp": g_area - g_comp,
                     "comparison_cells": ";".join(cube.cells["id"].iloc[cand[match]])})
    out = fp[["id", "name_zh", "name_en", "layer", "designated", "geometry"]].copy() \
        if {"name_zh", "name_en", "layer"} <= set(fp.columns) else fp.copy()
    out.insert(len(out.columns) - 1, "area_km2", np.round(area_km2, 3))
    table = pd.DataFrame(rows, index=out.index)
    out = pd.concat([out, table], axis=1)
    _panel_columns(out, panel, enterprises, members, yrs, base_year)
    out["density_per_km2"] = out["enterprises_last"] / out["area_km2"]
    z, _ = space_time_gi(cube, k=0)
    cell_at = cube.cells.sindex.query(fp.geometry.centroid.values, predicate="within")
    gz = np.full(len(fp), np.nan)
    gz[cell_at[0]] = z[cell_at[1], -1]
    out["cluster_gi_z"] = gz
    sec = enterprises["sector"].astype(str).to_numpy()
    for col, vals in _sector_columns(sec, members, alive[:, -1]).items():
        out[col] = vals
    centroids = gpd.GeoSeries(fp.geometry.centroid.values, crs=metric)
    out["nearest_station_m"] = _nearest_m(centroids, stations)
    out["nearest_venue_m"] = _nearest_m(centroids, venues)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=metric).to_crs(enterprises.crs)
    tag_result(out, "park_scorecards")
    out.attrs.update({"comparison_sets": sets, "years": [int(y) for y in yrs],
                      "n_matches": int(n_matches), "comparison_cell_m": float(comparison_cell_m)})
    return out


def _panel_columns(out: pd.DataFrame, panel: pd.DataFrame | None,
                   enterprises: gpd.GeoDataFrame, members: list[np.ndarray], yrs: np.ndarray,
                   base_year: np.ndarray) -> None:
    if panel is None:
        out["employees_last"] = np.nan
        out["revenue_last_cny"] = np.nan
        out["revenue_growth_pct"] = np.nan
        return
    ids = enterprises["id"].astype(str).to_numpy()
    p = panel[["enterprise_id", "year", "revenue_cny", "employees"]].copy()
    p["enterprise_id"] = p["enterprise_id"].astype(str)
    by = p.set_index(["enterprise_id", "year"])
    emp, rev, growth = [], [], []
    for m, b in zip(members, base_year, strict=True):
        sub = by[by.index.get_level_values(0).isin(ids[m])]
        per_year = sub.groupby(level=1)[["revenue_cny", "employees"]].sum()
        last = per_year.reindex([int(yrs[-1])]).fillna(0.0).iloc[0]
        first = per_year.reindex([int(b)]).fillna(0.0).iloc[0]
        emp.append(float(last["employees"]))
        rev.append(float(last["revenue_cny"]))
        growth.append(_pct(float(first["revenue_cny"]), float(last["revenue_cny"])))
    out["employees_last"] = emp
    out["revenue_last_cny"] = rev
    out["revenue_growth_pct"] = growth


def designation_effect(scorecards: gpd.GeoDataFrame, *, n_permutations: int = 9999,
                       seed: int | None = 2018) -> DesignationEffect:
    """Test whether designated areas grew faster than their matched comparison areas.

    Each area designated inside the evaluation years forms a stratum with its matched
    comparison cells. The statistic is the mean over strata of (log enterprise growth of the
    designated unit - mean log growth of the others). Under the null hypothesis that
    designation does not matter, which unit of a stratum is the designated one is
    exchangeable: each permutation picks it at random in every stratum. The p-value is
    one-sided, ``(1 + #{T* >= T}) / (1 + n_permutations)``.

    Parameters
    ----------
    scorecards
        From :func:`park_scorecards` (its ``attrs["comparison_sets"]``).
    n_permutations
        Random permutations.
    seed
        Seed of ``numpy.random.default_rng`` (recorded in the result).

    Returns
    -------
    DesignationEffect

    Raises
    ------
    ParameterError
        ``scorecards`` without comparison sets, or no testable area.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> areas = designated_areas(zones=atlas["zones"],
    ...                          demonstrative_regions=atlas["demonstrative_regions"])
    >>> cards = park_scorecards(atlas["enterprises"], areas, years=range(2012, 2026))
    >>> res = designation_effect(cards, n_permutations=999, seed=1)
    >>> res.statistic > 0 and res.p_value < 0.05
    True
    """
    sets = scorecards.attrs.get("comparison_sets")
    if not sets:
        msg = ("scorecards carry no comparison sets with an area designated inside the years; "
               "pass the frame returned by park_scorecards (attrs are kept by .copy()).")
        raise ParameterError(msg)
    if n_permutations < 1:
        msg = f"n_permutations must be >= 1, got {n_permutations!r}."
        raise ParameterError(msg)
    strata = [np.array([s["area"], *s["matches"]], dtype=float) for s in sets.values()]
    sizes = np.array([len(s) for s in strata])

    def stat(pick: np.ndarray) -> np.ndarray:
        vals = np.zeros(pick.shape[0])
        for j, g in enumerate(strata):
            chosen = g[pick[:, j]]
            others = (g.sum() - chosen) / (len(g) - 1)
            vals += chosen - others
        return vals / len(strata)

    observed = float(stat(np.zeros((1, len(strata)), dtype=int))[0])
    rng = np.random.default_rng(seed)
    picks = (rng.random((n_permutations, len(strata))) * sizes).astype(int)
    null = stat(picks)
    p = float((1 + np.sum(null >= observed - 1e-12)) / (1 + n_permutations))
    logger.info("designation effect: T=%.4f, p=%.4f over %d areas", observed, p, len(strata))
    return DesignationEffect(observed, p, len(strata), int(n_permutations), seed)
