"""Spatial accessibility: two-step floating catchment area (2SFCA) scores.

The classic 2SFCA (Luo & Wang 2003) and its enhanced variants with distance decay (step bands,
Luo & Qi 2009; Gaussian) measure how much supply (open space of libraries, museums and
galleries) each demand unit (creative workers, residents) can reach, shared among everyone
else who can reach the same supply. Costs are travel times from
:func:`cci_geo.network.travel_time_matrix` or straight-line metric distances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from . import _validate
from ._crs import resolve_metric_crs
from .errors import DataError, ParameterError, ParameterTypeError
from .results import tag_result
from .settings import Settings

__all__ = ["enterprise_grid", "nearest_distance_m", "two_step_fca", "venue_access_by_district",
           "venue_access_grid"]

logger = logging.getLogger(__name__)

Decay = Mapping[float, float] | Literal["gaussian"] | Callable[[np.ndarray], np.ndarray] | None


def _labels(gdf: gpd.GeoDataFrame, id_column: str | None, name: str) -> pd.Index:
    labels = (pd.Index(gdf[id_column]) if id_column is not None and id_column in gdf.columns
              else gdf.index)
    if labels.has_duplicates:
        dup = list(labels[labels.duplicated()].unique()[:10])
        msg = (f"{name} has duplicate {id_column if id_column in gdf.columns else 'index'} "
               f"labels {dup}; 2SFCA needs one row per location. Make the ids unique.")
        raise DataError(msg)
    return labels


def _amounts(gdf: gpd.GeoDataFrame, column: str | None, name: str) -> np.ndarray:
    if column is None:
        return np.ones(len(gdf))
    _validate.require_columns(gdf, [column], name)
    values = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        rows = list(gdf.index[bad][:10])
        msg = (f"{name}[{column!r}] must be finite and >= 0, but rows {rows} hold "
               f"{list(gdf[column][bad][:10])}; fill or drop them.")
        raise DataError(msg)
    return values


def _weight_fn(decay: Decay, threshold: float,
               sigma: float | None) -> Callable[[np.ndarray], np.ndarray]:
    if decay is None:
        return np.ones_like
    if isinstance(decay, str):
        if decay != "gaussian":
            msg = (f"decay must be None, 'gaussian', a mapping of band upper bounds to weights "
                   f"or a function, got {decay!r}.")
            raise ParameterError(msg)
        s = _validate.positive(sigma, "sigma") if sigma is not None else threshold / 2.0
        return lambda c: np.exp(-(c * c) / (2.0 * s * s))
    if isinstance(decay, Mapping):
        if not decay:
            msg = "decay bands are empty; pass e.g. {600: 1.0, 1200: 0.68, 1800: 0.22}."
            raise ParameterError(msg)
        uppers = np.array(sorted(float(k) for k in decay), dtype=float)
        weights = np.array([float(decay[k]) for k in sorted(decay, key=float)], dtype=float)
        if (uppers <= 0).any() or not np.isfinite(weights).all() or (weights < 0).any():
            msg = (f"decay bands must map positive upper bounds to weights >= 0, got "
                   f"{dict(decay)!r}.")
            raise ParameterError(msg)

        def bands(c: np.ndarray) -> np.ndarray:
            idx = np.searchsorted(uppers, c, side="left")
            return np.where(idx < len(uppers), weights[np.minimum(idx, len(uppers) - 1)], 0.0)

        return bands
    if callable(decay):
        return decay
    msg = f"decay must be None, 'gaussian', a mapping or a callable, got {type(decay).__name__}."
    raise ParameterTypeError(msg)


def _pairs_from_matrix(cost: pd.DataFrame, d_lab: pd.Index, s_lab: pd.Index,
                       threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing_rows = d_lab.difference(cost.index)
    missing_cols = s_lab.difference(cost.columns)
    if len(missing_rows) or len(missing_cols):
        transposed = d_lab.isin(cost.columns).all() and s_lab.isin(cost.index).all()
        hint = (" The matrix looks transposed: pass cost.T (rows = demand, columns = supply)."
                if transposed else " Compute it with travel_time_matrix(G, demand, supply).")
        msg = (f"cost lacks demand rows {list(missing_rows[:10])} and/or supply columns "
               f"{list(missing_cols[:10])}.{hint}")
        raise DataError(msg)
    if cost.index.has_duplicates or cost.columns.has_duplicates:
        msg = "cost has duplicate row or column labels; make the ids unique."
        raise DataError(msg)
    values = cost.loc[d_lab, s_lab].to_numpy(dtype=float)
    if (values < 0).any():
        msg = "cost holds negative values; travel costs must be >= 0 (inf/NaN = unreachable)."
        raise DataError(msg)
    i, j = np.nonzero(np.isfinite(values) & (values <= threshold))
    return i, j, values[i, j]


def _pairs_from_distance(supply: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, threshold: float,
                         metric_crs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
        metric = _validate.ensure_metric(gdf, "layer", metric_crs)
        geoms = metric.geometry.to_numpy()
        not_point = shapely.get_type_id(geoms) != 0
        if not_point.any():
            geoms = geoms.copy()
            geoms[not_point] = shapely.centroid(geoms[not_point])
        return shapely.get_coordinates(geoms)

    pairs = cKDTree(xy(demand)).sparse_distance_matrix(cKDTree(xy(supply)), threshold,
                                                       output_type="ndarray")
    return (pairs["i"].astype(np.int64), pairs["j"].astype(np.int64),
            pairs["v"].astype(float))


def two_step_fca(supply: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *,
                 cost: pd.DataFrame | Literal["distance"] | nx.MultiDiGraph, threshold: float,
                 decay: Decay = None, sigma: float | None = None,
                 supply_weight: str | None = None, demand_weight: str | None = None,
                 id_column: str | None = "id", column: str = "access",
                 metric_crs: str | None = None,
                 settings: Settings | None = None) -> gpd.GeoDataFrame:
    r"""Score each demand unit's access to supply with the two-step floating catchment method.

    With weights :math:`W_{ij} = f(c_{ij})` for :math:`c_{ij} \le` ``threshold`` (else 0),
    step 1 gives every supply site :math:`j` its ratio
    :math:`R_j = S_j / \sum_i D_i W_{ij}`, step 2 sums the reachable ratios
    :math:`A_i = \sum_j R_j W_{ij}`. The same formulas as PySAL ``access``
    (``two_stage_fca``/``enhanced_two_stage_fca``); the test suite checks them against it.

    Parameters
    ----------
    supply
        Supply sites (e.g. venues); any geometry (centroids are used for distances).
    demand
        Demand units (e.g. an enterprise grid from :func:`enterprise_grid`).
    cost
        A DataFrame of costs with one row per demand label and one column per supply label
        (e.g. seconds from :func:`cci_geo.network.travel_time_matrix`; ``inf``/NaN mean
        unreachable), or ``"distance"`` for straight-line metres in the metric CRS,
        or a street graph from :func:`cci_geo.network.load_graph`: travel seconds from every
        demand unit to every supply site are then computed in chunks of demand units
        (:func:`cci_geo.network.travel_time_pairs`; on the Dask workers when
        ``settings.scheduler`` is set), keeping only the pairs within ``threshold`` — the
        same result as passing ``travel_time_matrix(G, demand, supply)`` without holding
        that matrix.
    threshold
        Catchment size in the cost's own unit (seconds for a travel-time matrix, metres for
        ``cost="distance"``): costs above it count zero. It carries no unit suffix because
        its unit is the cost's.
    decay
        Weight :math:`f` of a cost inside the catchment:

        - ``None``: classic 2SFCA, :math:`f = 1`;
        - a mapping of band upper bounds to weights, e.g. ``{600: 1.0, 1200: 0.68,
          1800: 0.22}`` (enhanced 2SFCA; a cost in ``(previous bound, bound]`` takes that
          band's weight, costs beyond the last bound 0);
        - ``"gaussian"``: :math:`f(c) = \exp(-c^2 / 2\sigma^2)` (not normalised, so
          :math:`f(0) = 1`, as PySAL ``access.weights.gaussian``);
        - a function mapping an array of costs to an array of weights >= 0.
    sigma
        Width of the Gaussian, in cost units; default ``threshold / 2``.
    supply_weight
        Column with the amount of supply (e.g. ``"open_space_m2"``); None counts each site 1.
    demand_weight
        Column with the amount of demand (e.g. ``"employees"``); None counts each unit 1.
    id_column
        Column labelling rows in ``cost`` (the index when the layer has no such column).
    column
        Name of the output column.
    metric_crs
        Projected CRS for ``cost="distance"``; default as
        :func:`cci_geo._crs.resolve_metric_crs` (the atlas's, a projected input's, or the
        UTM zone of the data).
    settings
        ``settings.scheduler`` for a graph ``cost`` (see :mod:`cci_geo.scale`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``demand`` (its CRS) with ``<column>`` (float: supply per unit of demand,
        e.g. m² of open space per employee; 0 where no supply is in reach) and
        ``supply_in_reach`` (int: supply sites with a positive weight).
        ``attrs["supply_ratio"]`` maps each supply label to :math:`R_j` (0 when nobody is in
        its catchment); result kind ``"accessibility"``.

    Raises
    ------
    DataError
        If supply or demand is empty, an amount is negative or missing, or ``cost`` lacks
        rows or columns.
    CRSMismatchError
        If supply and demand are in different CRSs (or have none).
    ValueError
        If ``threshold``/``sigma`` are not positive or ``decay`` is malformed.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> venues = gpd.GeoDataFrame({"id": ["v"], "open_space_m2": [1000.0]},
    ...                           geometry=[Point(0, 0)], crs="EPSG:32650")
    >>> cells = gpd.GeoDataFrame({"id": ["a", "b"], "employees": [30, 10]},
    ...                          geometry=[Point(100, 0), Point(5000, 0)], crs="EPSG:32650")
    >>> out = two_step_fca(venues, cells, cost="distance", threshold=1000,
    ...                    supply_weight="open_space_m2", demand_weight="employees")
    >>> out["access"].round(2).tolist()
    [33.33, 0.0]
    """
    _validate.same_crs(supply, demand, "supply", "demand")
    for gdf, name in ((supply, "supply"), (demand, "demand")):
        if len(gdf) == 0:
            msg = (f"{name} is empty; 2SFCA needs at least one {name} location "
                   "(an empty selection upstream?).")
            raise DataError(msg)
    threshold = _validate.positive(threshold, "threshold", "cost units")
    weight = _weight_fn(decay, threshold, sigma)
    s_lab, d_lab = _labels(supply, id_column, "supply"), _labels(demand, id_column, "demand")
    S = _amounts(supply, supply_weight, "supply")
    D = _amounts(demand, demand_weight, "demand")
    if isinstance(cost, pd.DataFrame):
        i, j, c = _pairs_from_matrix(cost, d_lab, s_lab, threshold)
    elif isinstance(cost, str) and cost == "distance":
        crs = resolve_metric_crs(demand, supply, metric_crs=metric_crs)
        i, j, c = _pairs_from_distance(supply, demand, threshold, crs)
    elif isinstance(cost, nx.Graph):
        from .network import travel_time_pairs

        i, j, c = travel_time_pairs(cost, demand, supply, max_time_s=threshold,
                                    settings=settings)
    else:
        msg = (f"cost must be a demand x supply DataFrame or 'distance', got "
               f"{type(cost).__name__} {cost!r:.60}.")
        raise ParameterTypeError(msg)
    w = np.asarray(weight(c), dtype=float)
    if w.shape != c.shape or not np.isfinite(w).all() or (w < 0).any():
        msg = "decay must give a finite weight >= 0 for every cost inside the catchment."
        raise ParameterError(msg)
    catchment = np.bincount(j, weights=w * D[i], minlength=len(S))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(catchment > 0, S / catchment, 0.0)
    score = np.bincount(i, weights=w * ratio[j], minlength=len(D))
    in_reach = np.bincount(i, weights=(w > 0).astype(float), minlength=len(D)).astype(np.int64)
    logger.info("2SFCA: %d demand x %d supply, %d pairs within %g", len(D), len(S), len(c),
                threshold)
    out = demand.copy()
    out[column] = score
    out["supply_in_reach"] = in_reach
    tag_result(out, "accessibility")
    out.attrs["supply_ratio"] = {str(k): float(r) for k, r in zip(s_lab, ratio, strict=True)}
    return out


def enterprise_grid(enterprises: gpd.GeoDataFrame, *, cell_size_m: float = 1000.0,
                    weight: str | None = "employees",
                    metric_crs: str | None = None) -> gpd.GeoDataFrame:
    """Aggregate enterprise points into square cells of the metric CRS (occupied cells only).

    Parameters
    ----------
    enterprises
        Enterprise points (any CRS).
    cell_size_m
        Cell side in metres; cells are aligned to multiples of it in the metric CRS.
    weight
        Column summed into ``demand`` (default ``"employees"``); None counts enterprises.
    metric_crs
        Projected CRS of the grid; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        One square Polygon per occupied cell, in the metric CRS (a grid built here): ``id``
        (``"c<col>_<row>"``), ``enterprises`` (int), ``demand`` (float, sum of
        ``weight``). Result kind ``"enterprise_grid"``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> firms = gpd.GeoDataFrame({"employees": [10, 5, 7]}, crs="EPSG:32650",
    ...                          geometry=[Point(100, 100), Point(900, 200), Point(1500, 100)])
    >>> grid = enterprise_grid(firms, cell_size_m=1000)
    >>> grid[["id", "enterprises", "demand"]].values.tolist()
    [['c0_0', 2, 15.0], ['c1_0', 1, 7.0]]
    """
    _validate.non_empty(enterprises, "enterprises")
    size = _validate.positive(cell_size_m, "cell_size_m", "m")
    metric = _validate.ensure_metric(enterprises, "enterprises", metric_crs)
    xy = shapely.get_coordinates(metric.geometry.centroid.to_numpy())
    col = np.floor(xy[:, 0] / size).astype(np.int64)
    row = np.floor(xy[:, 1] / size).astype(np.int64)
    amount = _amounts(enterprises, weight, "enterprises")
    frame = pd.DataFrame({"col": col, "row": row, "amount": amount})
    agg = frame.groupby(["col", "row"], sort=True).agg(enterprises=("amount", "size"),
                                                       demand=("amount", "sum")).reset_index()
    x0, y0 = agg["col"].to_numpy() * size, agg["row"].to_numpy() * size
    cells = shapely.box(x0, y0, x0 + size, y0 + size)
    out = gpd.GeoDataFrame(
        {"id": [f"c{c}_{r}" for c, r in zip(agg["col"], agg["row"], strict=True)],
         "enterprises": agg["enterprises"].astype(np.int64), "demand": agg["demand"]},
        geometry=cells, crs=metric.crs)
    return tag_result(out, "enterprise_grid")


def venue_access_grid(venues: gpd.GeoDataFrame, enterprises: gpd.GeoDataFrame, *,
                      cell_size_m: float = 1000.0, threshold_m: float = 10_000.0,
                      decay: Decay = "gaussian", supply_weight: str = "open_space_m2",
                      weight: str | None = "employees",
                      metric_crs: str | None = None,
                      stations: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Score creative workers' access to venue open space on an enterprise grid.

    Demand is :func:`enterprise_grid` (employees per cell, at the cell centre); supply is each
    venue's ``supply_weight``; cost is straight-line distance in metres. See
    :func:`two_step_fca` for the method and :func:`venue_access_by_district` for a summary.
    With ``stations`` (metro station entrances or stations, e.g. the atlas's
    ``station_entrances``) each cell also gets ``metro_walk_m``, the straight-line distance
    from its centre to the nearest one.

    Parameters
    ----------
    venues, enterprises
        Venue and enterprise layers (one CRS).
    cell_size_m
        Grid cell side in metres.
    threshold_m
        Catchment radius in metres.
    decay
        Distance decay (see :func:`two_step_fca`).
    supply_weight
        Venue column with the amount of supply.
    weight
        Enterprise column summed into each cell's demand; None counts enterprises.
    metric_crs
        Projected CRS; default as :func:`cci_geo._crs.resolve_metric_crs`.
    stations
        Optional metro station entrances (or stations), same CRS as ``venues``.

    Returns
    -------
    geopandas.GeoDataFrame
        The grid (metric CRS) with ``access`` (m² of venue open space per employee) and
        ``supply_in_reach`` (and ``metro_walk_m`` with ``stations``); result kind
        ``"accessibility"``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> venues = gpd.GeoDataFrame({"open_space_m2": [1000.0]}, geometry=[Point(0, 0)],
    ...                           crs="EPSG:32651")
    >>> firms = gpd.GeoDataFrame({"employees": [10, 10]}, crs="EPSG:32651",
    ...                          geometry=[Point(300, 300), Point(20_500, 500)])
    >>> grid = venue_access_grid(venues, firms, threshold_m=5000, decay=None)
    >>> grid["access"].round(1).tolist()
    [100.0, 0.0]
    """
    _validate.same_crs(venues, enterprises, "venues", "enterprises")
    crs = resolve_metric_crs(enterprises, venues, metric_crs=metric_crs)
    grid = enterprise_grid(enterprises, cell_size_m=cell_size_m, weight=weight, metric_crs=crs)
    out = two_step_fca(venues.to_crs(crs), grid, cost="distance", threshold=threshold_m,
                       decay=decay, supply_weight=supply_weight, demand_weight="demand",
                       metric_crs=crs)
    if stations is not None:
        _validate.same_crs(venues, stations, "venues", "stations")
        out["metro_walk_m"] = nearest_distance_m(out, stations.to_crs(out.crs), metric_crs=crs)
    return out


def nearest_distance_m(points: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, *,
                       metric_crs: str | None = None) -> np.ndarray:
    """Straight-line distance in metres from each feature's centre to the nearest target.

    Used for metro access (``targets`` = station entrances). Both frames must share a CRS.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> d = nearest_distance_m(atlas["venues"], atlas["station_entrances"])
    >>> bool((d < 1500).all())
    True
    """
    _validate.same_crs(points, targets, "points", "targets")
    _validate.non_empty(targets, "targets")
    crs = resolve_metric_crs(points, targets, metric_crs=metric_crs)
    centres = points.to_crs(crs).geometry.centroid
    tree = targets.to_crs(crs).geometry.centroid
    _, dist = tree.sindex.nearest(centres.values, return_all=False, return_distance=True)
    return np.asarray(dist, dtype=np.float64)


def venue_access_by_district(venues: gpd.GeoDataFrame, enterprises: gpd.GeoDataFrame,
                             districts: gpd.GeoDataFrame, *, cell_size_m: float = 1000.0,
                             threshold_m: float = 10_000.0, decay: Decay = "gaussian",
                             supply_weight: str = "open_space_m2",
                             weight: str | None = "employees",
                             metric_crs: str | None = None,
                             stations: gpd.GeoDataFrame | None = None,
                             station_walk_m: float = 800.0) -> gpd.GeoDataFrame:
    """Summarise access to libraries, museums and galleries per district.

    Runs :func:`venue_access_grid` (enhanced 2SFCA with a Gaussian decay by default) and
    assigns each grid cell to the district containing its centre.

    Parameters
    ----------
    venues, enterprises, districts
        The atlas layers of the same names (one CRS).
    cell_size_m, threshold_m, decay, supply_weight, weight, metric_crs
        As :func:`venue_access_grid`.
    stations, station_walk_m
        Metro station access: with ``stations`` (the atlas's ``station_entrances``, or its
        ``stations``) the summary adds ``share_near_metro`` (share of employees whose cell
        centre lies within ``station_walk_m`` metres, straight line, of one) and
        ``venues_near_metro`` (venues within that distance of one).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``districts`` (its CRS) with ``employees`` (sum of ``weight`` in the
        district's cells), ``cells`` (occupied cells), ``access_mean`` (employee-weighted
        mean access, m² per employee; NaN where there are no employees),
        ``share_without_access`` (share of employees whose cell reaches no venue),
        ``venues`` (venues located in the district) and ``venue_open_space_m2``.
        Result kind ``"access_by_district"``.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> summary = venue_access_by_district(atlas["venues"], atlas["enterprises"],
    ...                                    atlas["districts"])
    >>> bool((summary["access_mean"].dropna() >= 0).all())
    True
    """
    _validate.same_crs(districts, enterprises, "districts", "enterprises")
    crs = resolve_metric_crs(enterprises, venues, districts, metric_crs=metric_crs)
    walk = _validate.positive(station_walk_m, "station_walk_m", "metres")
    grid = venue_access_grid(venues, enterprises, cell_size_m=cell_size_m,
                             threshold_m=threshold_m, decay=decay, supply_weight=supply_weight,
                             weight=weight, metric_crs=crs, stations=stations)
    metric_grid = grid.to_crs(crs)
    centres = gpd.GeoDataFrame(grid.drop(columns="geometry"),
                               geometry=metric_grid.geometry.centroid, crs=crs)
    zones = districts[[districts.geometry.name]].to_crs(crs)
    zones = zones.assign(_district=np.arange(len(districts)))
    joined = gpd.sjoin(centres, zones, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    outside = joined["_district"].isna()
    if outside.any():
        logger.info("%d grid cells (%g employees) lie outside every district", int(outside.sum()),
                    float(joined.loc[outside, "demand"].sum()))
    inside = joined[~outside].astype({"_district": np.int64})
    weighted = inside["access"] * inside["demand"]
    no_access = inside["demand"].where(inside["supply_in_reach"] == 0, 0.0)
    by = inside.groupby("_district")
    n = len(districts)
    employees = by["demand"].sum().reindex(range(n), fill_value=0.0).to_numpy()
    cells = by.size().reindex(range(n), fill_value=0).to_numpy()
    acc_sum = weighted.groupby(inside["_district"]).sum().reindex(range(n), fill_value=0.0)
    none_sum = no_access.groupby(inside["_district"]).sum().reindex(range(n), fill_value=0.0)
    metric_venues = venues.to_crs(crs).reset_index(drop=True)
    metric_venues["_supply"] = _amounts(venues, supply_weight, "venues")
    vj = gpd.sjoin(metric_venues, zones, how="inner", predicate="within")
    vj = vj[~vj.index.duplicated(keep="first")]
    venue_counts = vj.groupby("_district").size().reindex(range(n), fill_value=0).to_numpy()
    venue_space = vj.groupby("_district")["_supply"].sum().reindex(range(n), fill_value=0.0)
    out = districts.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["employees"] = employees
        out["cells"] = cells.astype(np.int64)
        out["access_mean"] = np.where(employees > 0, acc_sum.to_numpy() / employees, np.nan)
        out["share_without_access"] = np.where(employees > 0, none_sum.to_numpy() / employees,
                                                np.nan)
    out["venues"] = venue_counts.astype(np.int64)
    out["venue_open_space_m2"] = venue_space.to_numpy()
    if stations is not None:
        near = inside["demand"].where(inside["metro_walk_m"] <= walk, 0.0)
        near_sum = near.groupby(inside["_district"]).sum().reindex(range(n), fill_value=0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["share_near_metro"] = np.where(employees > 0, near_sum.to_numpy() / employees,
                                               np.nan)
        walk_v = nearest_distance_m(venues, stations, metric_crs=crs)
        vj = vj.assign(_walk=walk_v[vj.index])
        out["venues_near_metro"] = (vj[vj["_walk"] <= walk].groupby("_district").size()
                                    .reindex(range(n), fill_value=0).to_numpy().astype(np.int64))
    return tag_result(out, "access_by_district")
