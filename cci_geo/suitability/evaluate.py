"""Evaluate one criterion on the grid and at the candidate sites.

Point candidates get exact vector measures; polygon candidates get the zonal mean of the grid
(cells whose centre lies inside, or the cell under the polygon's representative point when
the polygon is smaller than a cell).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import DataError
from . import measures
from .criteria import Criterion
from .grid import AnalysisGrid

__all__ = ["Evaluated", "Sites", "evaluate", "zonal_mean"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sites:
    """Candidate sites in the grid CRS, split into exact points and zonal polygons."""

    gdf: gpd.GeoDataFrame
    x: np.ndarray
    y: np.ndarray
    is_point: np.ndarray
    row: np.ndarray
    col: np.ndarray


@dataclass(frozen=True)
class Evaluated:
    """A criterion's raw measure and 0-1 value on the grid (None if aspatial) and at sites."""

    grid_raw: np.ndarray | None
    grid_value: np.ndarray | None
    site_raw: np.ndarray
    site_value: np.ndarray


def zonal_mean(grid_arr: np.ndarray, geom: shapely.Geometry, grid: AnalysisGrid,
               row: int, col: int) -> float:
    """Mean of the finite cells of ``grid_arr`` whose centre lies in ``geom`` and the mask.

    Falls back to the cell ``(row, col)`` when no cell centre lies inside (tiny polygons).

    Examples
    --------
    A grid of 2 x 3 cells of 1 km in UTM 50N, north-west corner at (0, 2000):

    >>> import numpy as np
    >>> from affine import Affine
    >>> from cci_geo.suitability.grid import AnalysisGrid
    >>> grid = AnalysisGrid(Affine(1000, 0, 0, 0, -1000, 2000), (2, 3), "EPSG:32650",
    ...                     mask=np.ones((2, 3), dtype=bool))
    >>> from shapely.geometry import box
    >>> values = np.arange(6.0).reshape(2, 3)
    >>> zonal_mean(values, box(0, 0, 2000, 2000), grid, 0, 0)   # mean of 0, 1, 3 and 4
    2.0
    >>> zonal_mean(values, box(2100, 100, 2200, 200), grid, 1, 2)  # no centre inside
    5.0
    """
    t = grid.transform
    cs = grid.cell_size
    xmin, ymin, xmax, ymax = geom.bounds
    c0 = max(int(np.floor((xmin - t.c) / cs)), 0)
    c1 = min(int(np.ceil((xmax - t.c) / cs)), grid.shape[1])
    r0 = max(int(np.floor((t.f - ymax) / cs)), 0)
    r1 = min(int(np.ceil((t.f - ymin) / cs)), grid.shape[0])
    if c1 > c0 and r1 > r0:
        xs = t.c + (np.arange(c0, c1) + 0.5) * cs
        ys = t.f - (np.arange(r0, r1) + 0.5) * cs
        X, Y = np.meshgrid(xs, ys)
        inside = shapely.contains_xy(geom, X, Y) & grid.mask[r0:r1, c0:c1]
        vals = grid_arr[r0:r1, c0:c1][inside]
        if vals.size:
            return float(np.mean(vals)) if np.all(np.isfinite(vals)) else float("nan")
    return float(grid_arr[row, col])


def _site_from_grid(grid_arr: np.ndarray, sites: Sites, grid: AnalysisGrid,
                    exact: np.ndarray | None = None) -> np.ndarray:
    """Site values: ``exact`` (or the cell value) at points, the zonal mean for polygons."""
    out = grid_arr[sites.row, sites.col].astype("float64")
    if exact is not None:
        out[sites.is_point] = exact
    geoms = sites.gdf.geometry.to_numpy()
    for i in np.flatnonzero(~sites.is_point):
        out[i] = zonal_mean(grid_arr, geoms[i], grid, int(sites.row[i]), int(sites.col[i]))
    return out


_ACCESS_NODES = 4  # a place reaches the network through the best of its 4 nearest nodes
_WALK_KPH = 4.8


def _travel_time(crit: Criterion, layer: gpd.GeoDataFrame, grid: AnalysisGrid,
                 sites: Sites) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from the nearest feature of ``layer`` to every cell and every point site.

    Straight-line: distance x detour factor / speed. Network: shortest times from the
    features to every graph node (:func:`cci_geo.network.travel_time_matrix`), then each place
    walks at 4.8 km/h to the best of its four nearest nodes; grid cells and sites use the same
    rule, so a site's value equals the grid's at the site's own coordinates.
    """
    p = crit.params
    px, py = sites.x[sites.is_point], sites.y[sites.is_point]
    if p["straight_line"]:
        m_per_min = p["speed_kmh"] * 1000.0 / 60.0 / p["detour_factor"]
        g = measures.grid_raw("distance", {}, layer, grid, label=crit.key) / m_per_min
        s = measures.point_raw("distance", {}, layer, px, py, label=crit.key) / m_per_min
        return g, s
    from scipy.spatial import cKDTree  # noqa: PLC0415

    from ..network import load_graph, travel_time_matrix  # noqa: PLC0415 - sibling module

    G = load_graph(p["network"], mode=p["mode"])
    feats = gpd.GeoDataFrame(geometry=layer.geometry.representative_point().to_numpy(),
                             crs=layer.crs)
    nxy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float)
    nodes = gpd.GeoDataFrame(geometry=gpd.points_from_xy(nxy[:, 0], nxy[:, 1]),
                             crs=G.graph["crs"])
    node_s = travel_time_matrix(G, feats, nodes, id_column=None, snap_warn_m=None,
                                walk_speed_kph=_WALK_KPH).to_numpy().min(axis=0)
    nodes_xy = shapely.get_coordinates(nodes.to_crs(grid.crs).geometry.to_numpy())
    tree = cKDTree(nodes_xy)
    k = min(_ACCESS_NODES, len(nodes_xy))
    walk_mps = _WALK_KPH / 3.6

    def minutes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.empty(0)
        d, idx = tree.query(np.column_stack([x, y]), k=k)
        d, idx = d.reshape(len(x), k), idx.reshape(len(x), k)
        return np.min(node_s[idx] + d / walk_mps, axis=1) / 60.0

    xs, ys = grid.centers()
    X, Y = np.meshgrid(xs, ys)
    g = np.full(grid.shape, np.nan)
    g[grid.mask] = minutes(X[grid.mask], Y[grid.mask])
    far = float(tree.query(np.column_stack([px, py]))[0].max()) if len(px) else 0.0
    if far > 1000:
        logger.warning("%s: a candidate lies %.0f m from the street network; its travel time "
                       "is mostly walking", crit.name, far)
    return g, minutes(px, py)


def _numeric(raw: np.ndarray, crit: Criterion, column: str, where: str) -> np.ndarray:
    """Return ``raw`` as float; refuse text or infinite values under a numeric value function.

    A text column under e.g. a linear function would otherwise turn into NaN and score 0
    everywhere, silently.
    """
    series = pd.Series(raw)
    num = pd.to_numeric(series, errors="coerce")
    text = num.isna() & series.notna() & (series.astype(str).str.strip() != "")
    if text.any():
        examples = list(dict.fromkeys(series[text].astype(str)))[:5]
        msg = (f"{crit.key}: column {column!r} of the {where} holds text such as {examples}, "
               f"but the value function {crit.value_function.function!r} needs numbers; use "
               "function = 'categories' (or 'boolean' with equals = ...) for text, or fix the "
               "column.")
        raise DataError(msg)
    out = num.to_numpy(dtype="float64", na_value=np.nan)
    if np.isinf(out).any():
        msg = (f"{crit.key}: column {column!r} of the {where} holds infinite values; write "
               "finite numbers (or leave the cell empty).")
        raise DataError(msg)
    return out


def _attribute(crit: Criterion, layer: gpd.GeoDataFrame, grid: AnalysisGrid,
               sites: Sites) -> Evaluated:
    p, vf = crit.params, crit.value_function
    polys = layer[~(layer.geometry.is_empty | layer.geometry.isna())]
    if not bool(np.all(polys.geom_type.isin(["Polygon", "MultiPolygon"]))):
        msg = f"{crit.key}: measure 'attribute' needs a polygon layer; use 'distance' or 'count'."
        raise DataError(msg)
    if p["column"] not in polys.columns:
        msg = (f"{crit.key}.column = {p['column']!r} is not a column of the layer; it has "
               f"{[c for c in polys.columns if c != polys.geometry.name]}.")
        raise DataError(msg)
    codes = measures.grid_raw("attribute", p, polys, grid, label=crit.key).astype(int)
    pcodes = measures.point_raw("attribute", p, polys, sites.x[sites.is_point],
                                sites.y[sites.is_point], label=crit.key).astype(int)
    raw_vals = polys[p["column"]].to_numpy()
    fill = p["fill"]
    if vf.numeric:
        table = np.append(_numeric(raw_vals, crit, p["column"], "layer"),
                          np.nan if fill is None else float(fill))
        g_raw = table[codes - 1]  # code 0 -> last entry: the fill value
        s_raw = _site_from_grid(g_raw, sites, grid, exact=table[pcodes - 1])
        g_val = np.full(grid.shape, np.nan)
        g_val[grid.mask] = vf(g_raw[grid.mask])
        return Evaluated(g_raw, g_val, s_raw, vf(s_raw))
    vtable = np.append(vf(raw_vals), np.nan if fill is None else vf([fill])[0])
    g_val = vtable[codes - 1]
    rtable = np.append(raw_vals.astype(object), fill)
    s_raw = rtable[codes[sites.row, sites.col] - 1]
    s_raw[sites.is_point] = rtable[pcodes - 1]
    s_val = _site_from_grid(g_val, sites, grid, exact=vtable[pcodes - 1])
    return Evaluated(None, g_val, s_raw, s_val)


def evaluate(crit: Criterion, layer: gpd.GeoDataFrame | None, grid: AnalysisGrid,
             sites: Sites) -> Evaluated:
    """Compute a criterion's raw measure and value on ``grid`` and at ``sites``.

    Parameters
    ----------
    crit
        The criterion.
    layer
        Its layer in the grid CRS (None for ``raster`` and ``site_attribute``).
    grid
        The analysis grid.
    sites
        The candidate sites.

    Returns
    -------
    Evaluated
        ``grid_raw``/``grid_value`` are None for ``site_attribute`` (and ``grid_raw`` for
        text attributes); site arrays follow the candidates' row order.

    Examples
    --------
    A grid of 2 x 3 cells of 1 km in UTM 50N, north-west corner at (0, 2000):

    >>> import numpy as np
    >>> from affine import Affine
    >>> from cci_geo.suitability.grid import AnalysisGrid
    >>> grid = AnalysisGrid(Affine(1000, 0, 0, 0, -1000, 2000), (2, 3), "EPSG:32650",
    ...                     mask=np.ones((2, 3), dtype=bool))
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> metro = gpd.GeoDataFrame(geometry=[Point(500, 1500)], crs="EPSG:32650")
    >>> from cci_geo.suitability import Criterion, linear
    >>> near_metro = Criterion(name="metro", measure="distance", layer="stations",
    ...                        value=linear(0, 2000, decreasing=True), weight=1.0)
    >>> cand = gpd.GeoDataFrame({"id": ["a", "b"]}, crs="EPSG:32650",
    ...                         geometry=[Point(500, 500), Point(2500, 1500)])
    >>> sites = Sites(cand, x=np.array([500.0, 2500.0]), y=np.array([500.0, 1500.0]),
    ...               is_point=np.array([True, True]), row=np.array([1, 0]),
    ...               col=np.array([0, 2]))
    >>> out = evaluate(near_metro, metro, grid, sites)
    >>> out.site_raw.tolist(), out.site_value.tolist()     # 1 km away: value 0.5
    ([1000.0, 2000.0], [0.5, 0.0])
    >>> out.grid_value[0].tolist()
    [1.0, 0.5, 0.0]
    """
    vf = crit.value_function
    if crit.measure == "site_attribute":
        col = crit.params["column"]
        if col not in sites.gdf.columns:
            msg = (f"{crit.key}.column = {col!r} is not a column of the candidates; they have "
                   f"{[c for c in sites.gdf.columns if c != sites.gdf.geometry.name]}.")
            raise DataError(msg)
        raw = sites.gdf[col].to_numpy()
        if vf.numeric:
            raw = _numeric(raw, crit, col, "candidates")
        return Evaluated(None, None, raw, vf(raw))
    if crit.measure == "attribute":
        assert layer is not None  # noqa: S101
        return _attribute(crit, layer, grid, sites)
    px, py = sites.x[sites.is_point], sites.y[sites.is_point]
    exact: np.ndarray | None
    if crit.measure == "travel_time":
        assert layer is not None  # noqa: S101
        g_raw, exact = _travel_time(crit, layer, grid, sites)
    else:
        g_raw = measures.grid_raw(crit.measure, crit.params, layer, grid, label=crit.key)
        exact = (measures.point_raw(crit.measure, crit.params, layer, px, py, label=crit.key)
                 if crit.measure in ("distance", "count", "sum") else None)
    g_val = np.full(grid.shape, np.nan)
    g_val[grid.mask] = vf(g_raw[grid.mask])  # outside the study area stays nodata
    if crit.measure in ("raster", "density"):
        s_raw = _site_from_grid(g_raw, sites, grid)
        s_val = _site_from_grid(g_val, sites, grid)
    else:
        s_raw = _site_from_grid(g_raw, sites, grid, exact=exact)
        s_val = vf(s_raw)
        for i in np.flatnonzero(~sites.is_point):  # zonal mean of values, not value of mean
            s_val[i] = zonal_mean(g_val, sites.gdf.geometry.iloc[i], grid,
                                  int(sites.row[i]), int(sites.col[i]))
    if crit.measure == "raster":
        logger.info("%s: raster %s resampled onto the grid", crit.name, Path(crit.params["path"]))
    return Evaluated(g_raw, g_val, s_raw, s_val)
