"""Aggregate points to a regular grid of square cells (the units of grid hot spots)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS

from .._crs import stamp_metric_crs
from .._validate import ensure_metric, positive
from .._weights import GRID_ATTR
from ..errors import DataError
from ..raster import bin_points, grid_for_bounds
from ..results import tag_result
from ..scale import is_partitioned
from ..settings import Settings
from ._common import finite_values, metric_points, to_frame, xy_bounds

__all__ = ["grid_counts"]

logger = logging.getLogger(__name__)


def grid_counts(points: gpd.GeoDataFrame | gpd.GeoSeries, cell_size_m: float, *,
                region: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
                extent: tuple[float, float, float, float] | None = None,
                by: str | None = None, weight: str | None = None,
                keep_empty: bool = True, metric_crs: str | None = None,
                to_crs: object = None, settings: Settings | None = None) -> gpd.GeoDataFrame:
    """Count points (and sum a weight column) per cell of a regular square grid.

    Parameters
    ----------
    points
        Point layer; or a dask-geopandas frame or the path/glob of a GeoParquet dataset,
        counted partition by partition and summed (counts and sums are additive, so the
        result equals the in-memory one). The grid extent is then ``extent``, the region's
        bounds, or the points' bounds from a first pass over the partitions.
    cell_size_m
        Cell edge in metres.
    region
        Optional study area: the grid covers its bounds and keeps only cells whose centre
        lies inside it (so zeros outside the city do not dilute hot spots).
    extent
        ``(xmin, ymin, xmax, ymax)`` in metres of the metric CRS; default: the points' (or the
        region's) bounds.
    by
        Optional category column (e.g. ``"sector"``): adds ``count_<category>`` per category.
    weight
        Optional numeric column summed per cell into ``<weight>_sum`` (NaN is an error).
    keep_empty
        Keep cells without points (needed for hot spots: zeros are data).
    metric_crs
        Projected CRS of the grid; default as :func:`cci_geo._crs.resolve_metric_crs` (the
        atlas's metric CRS on its layers, a projected input's CRS, or the data's UTM zone).
    to_crs
        CRS of the returned cells (default: the grid's metric CRS, where cells are squares).
    settings
        ``settings.scheduler`` chooses where partitioned input is computed (see
        :mod:`cci_geo.scale`).
        ``settings.max_cells`` bounds the grid (refused before allocating, with the size and the
        fix).

    Returns
    -------
    geopandas.GeoDataFrame
        One square polygon per cell with ``id`` (``"r<row>c<col>"``), ``row``, ``col`` (int,
        row 0 north), ``count`` (int) and the optional columns. ``attrs`` carry
        the result kind ``"grid_counts"`` and the grid definition, which lets
        :func:`hot_spots` and :func:`morans_i` build queen/rook weights straight from
        ``row``/``col`` (keep those columns when filtering rows).

    Raises
    ------
    DataError
        Empty layer, NaN values, or no point inside the grid.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"employees": [3, 4, 5]}, crs="EPSG:32651",
    ...                        geometry=[Point(10, 10), Point(20, 30), Point(700, 10)])
    >>> grid = grid_counts(pts, 500, weight="employees", keep_empty=False)
    >>> grid[["id", "count", "employees_sum"]].values.tolist()
    [['r0c0', 2, 7.0], ['r0c1', 1, 5.0]]
    """
    cs = positive(cell_size_m, "cell_size_m", "metres")
    if is_partitioned(points):
        from ._partitioned import partitioned_grid_counts

        return partitioned_grid_counts(points, cs, region=region, extent=extent, by=by,
                                       value=weight, keep_empty=keep_empty,
                                       metric_crs=metric_crs, to_crs=to_crs, settings=settings)
    pts = metric_points(points, "points", metric_crs)
    metric, crs, xy = to_frame(pts.frame), pts.crs, pts.xy
    region_m = metric_region(region, crs)
    if extent is None:
        src = region_m.total_bounds if region_m is not None else xy_bounds(xy)
        extent = tuple(float(v) for v in src)  # type: ignore[assignment]
    transform, shape = grid_for_bounds(extent, cs, what="count grid",  # type: ignore[arg-type]
                                       settings=settings)
    sums = bin_cells(metric, xy, transform, shape, by, weight)
    return assemble_cells(sums, transform, shape, crs, region_m=region_m, extent=extent,
                          keep_empty=keep_empty, to_crs=to_crs)


def metric_region(region: gpd.GeoDataFrame | gpd.GeoSeries | None,
                  crs: CRS) -> gpd.GeoDataFrame | None:
    """Return the study region in the grid's metric CRS (None stays None)."""
    if region is None:
        return None
    return ensure_metric(to_frame(region), "region", crs.to_string()).to_crs(crs)


def bin_cells(metric: gpd.GeoDataFrame, xy: np.ndarray, transform: Affine,
              shape: tuple[int, int], by: str | None, value: str | None) -> dict[str, np.ndarray]:
    """Return the additive per-cell sums of a set of points.

    Keys: ``"count"``, ``"cat:<category>"`` per category of ``by``, ``"sum:<value>"`` and
    ``"_n"``/``"_inside"`` (points seen and points inside the grid, as 1-element arrays).
    The sums of disjoint point sets add up key by key (a category missing from one set
    counts zero there).
    """
    counts, inside = bin_points(xy[:, 0], xy[:, 1], transform, shape)
    out: dict[str, np.ndarray] = {
        "count": counts.ravel(), "_n": np.array([len(xy)]),
        "_inside": np.array([int(inside.sum())]),
    }
    if by is not None:
        if by not in metric.columns:
            msg = f"points has no column {by!r}; it has {list(metric.columns)}."
            raise DataError(msg)
        cats = metric[by].astype("string")
        for cat in sorted(cats.dropna().unique()):
            m = (cats == cat).to_numpy(dtype=bool, na_value=False)
            g, _ = bin_points(xy[m, 0], xy[m, 1], transform, shape)
            out[f"cat:{cat}"] = g.ravel()
    if value is not None:
        vals = finite_values(metric, value, "points", allow_negative=True)
        g, _ = bin_points(xy[:, 0], xy[:, 1], transform, shape, weights=vals)
        out[f"sum:{value}"] = g.ravel()
    return out


def add_cells(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add two :func:`bin_cells` results key by key."""
    out = dict(a)
    for k, v in b.items():
        out[k] = out[k] + v if k in out else v
    return out


def assemble_cells(sums: dict[str, np.ndarray], transform: Affine, shape: tuple[int, int],
                   crs: CRS, *, region_m: gpd.GeoDataFrame | None, extent: object,
                   keep_empty: bool, to_crs: object) -> gpd.GeoDataFrame:
    """Build the grid_counts frame from summed cell counts."""
    rows, cols = shape
    cs = float(transform.a)
    n, n_inside = int(sums["_n"][0]), int(sums["_inside"][0])
    if n_inside == 0:
        msg = (
            f"none of the {n} points falls inside the grid extent {extent}; check that "
            "extent is in metres of the metric CRS (not degrees) and covers the points."
        )
        raise DataError(msg)
    if n_inside < n:
        logger.info("%d of %d points fall outside the grid", n - n_inside, n)
    r, c = np.divmod(np.arange(rows * cols), cols)
    keep = np.ones(rows * cols, dtype=bool)
    cx = transform.c + (c + 0.5) * cs
    cy = transform.f - (r + 0.5) * cs
    if region_m is not None:
        inside_region = np.zeros(keep.size, dtype=bool)
        for geom in region_m.geometry.values:
            if geom is None or geom.is_empty:
                continue
            gx0, gy0, gx1, gy1 = geom.bounds
            cand = np.flatnonzero(~inside_region & (cx >= gx0) & (cx <= gx1)
                                  & (cy >= gy0) & (cy <= gy1))
            shapely.prepare(geom)
            inside_region[cand] = shapely.contains_xy(geom, cx[cand], cy[cand])
        keep &= inside_region
    flat = sums["count"]
    if not keep_empty:
        keep &= flat > 0
    data: dict[str, object] = {
        "id": _cell_ids(r[keep], c[keep]),
        "row": r[keep], "col": c[keep], "count": flat[keep].astype("int64"),
    }
    for key in sorted(k for k in sums if k.startswith("cat:")):
        data[f"count_{key[4:]}"] = sums[key][keep].astype("int64")
    for key in (k for k in sums if k.startswith("sum:")):
        data[f"{key[4:]}_sum"] = sums[key][keep]
    x0 = cx[keep] - cs / 2
    y0 = cy[keep] - cs / 2
    geoms = shapely.box(x0, y0, x0 + cs, y0 + cs)
    out = gpd.GeoDataFrame(pd.DataFrame(data), geometry=geoms, crs=crs)
    if to_crs is not None:
        out = out.to_crs(to_crs)
    tag_result(out, "grid_counts")
    stamp_metric_crs(out, crs.to_string())
    out.attrs[GRID_ATTR] = {"rows": rows, "cols": cols, "cell_size_m": cs,
                            "transform": tuple(transform)[:6], "crs": crs.to_string()}
    return out


def _cell_ids(r: np.ndarray, c: np.ndarray) -> np.ndarray:
    rs = np.char.add("r", r.astype(str))
    return np.char.add(rs, np.char.add("c", c.astype(str))).astype(object)
