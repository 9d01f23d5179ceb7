"""Input checks shared by the concentration analyses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from .._validate import check_degree_bounds, has_crs, metric_target, non_empty
from ..errors import DataError

__all__ = [
    "MetricPoints",
    "as_frame",
    "finite_values",
    "metric_points",
    "point_xy",
    "rows_hint",
    "to_frame",
    "xy_bounds",
]


def rows_hint(index: pd.Index, bad: np.ndarray, limit: int = 5) -> str:
    """Return ``"rows [a, b, ...] (n in total)"`` for the labels of ``index`` where ``bad``."""
    labels = list(index[np.asarray(bad, dtype=bool)])
    shown = ", ".join(repr(v) for v in labels[:limit])
    more = f", ... ({len(labels)} in total)" if len(labels) > limit else ""
    return f"rows [{shown}{more}]"


def as_frame(points: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> gpd.GeoDataFrame:
    """Return ``points`` as a GeoDataFrame (a GeoSeries is wrapped), checking CRS and rows."""
    if isinstance(points, gpd.GeoSeries):
        points = gpd.GeoDataFrame(geometry=points)
    has_crs(points, name)
    non_empty(points, name)
    return points


def to_frame(obj: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame:
    """Return a GeoSeries wrapped as a GeoDataFrame (a GeoDataFrame unchanged)."""
    return obj if isinstance(obj, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=obj)


class MetricPoints(NamedTuple):
    """Points ready to measure: the input rows, the metric CRS and ``(n, 2)`` coordinates."""

    frame: gpd.GeoDataFrame | gpd.GeoSeries
    """The input layer itself (columns and row labels; its geometry is not reprojected)."""
    crs: CRS
    """The metric CRS the coordinates are in."""
    xy: np.ndarray
    """``(n, 2)`` coordinates in metres of ``crs``, in the rows' order (column-major: the
    ``x`` and ``y`` columns are each contiguous)."""


def metric_points(points: gpd.GeoDataFrame | gpd.GeoSeries, name: str,
                  metric_crs: str | None = None) -> MetricPoints:
    """Return the coordinates of a layer of points in its metric CRS, checking every row.

    The metric CRS is resolved as by :func:`cci_geo._crs.resolve_metric_crs`. The points are
    read in one pass over the geometries (their bounds, which for a point are its ``x, y``;
    a geometry that is one location, such as a MultiPoint of one point, counts as that
    point), the checks of :func:`cci_geo._validate.check_coordinates` run on those arrays,
    and geographic coordinates are reprojected as arrays: no geometry is rebuilt.

    Raises
    ------
    DataError
        If the layer is empty, has missing/empty geometries, non-point geometries, or
        coordinates :func:`~cci_geo._validate.check_coordinates` refuses.
    CRSMismatchError
        If the layer has no CRS or a projected CRS not in metres.
    """
    has_crs(points, name)
    non_empty(points, name)
    geoms = np.asarray(points.geometry.values if isinstance(points, gpd.GeoDataFrame)
                       else points.values)
    # One pass: the bounds of a point are x, y, x, y (NaN if missing or empty). A geometry
    # whose bounds are not a single location is no point; the types are only read then, to
    # name the offending rows. (A geometry that *is* one location, such as a MultiPoint of
    # one point, is read as that location.)
    bounds = shapely.bounds(geoms)
    cols = np.empty((2, len(geoms)))  # x and y each contiguous: xy[:, 0] reads fast
    cols[0], cols[1] = bounds[:, 0], bounds[:, 1]
    one_place = np.array_equal(bounds[:, 2], cols[0]) and np.array_equal(bounds[:, 3], cols[1])
    if not one_place or not math.isfinite(float(cols.sum())):
        types = shapely.get_type_id(geoms)
        _explain_bad_points(to_frame(points), name, geoms, types, bounds)
    check_degree_bounds(points, name, bounds, points.index)
    target = metric_target(points, name, metric_crs)
    if target is None:
        return MetricPoints(points, CRS.from_user_input(points.crs), cols.T)
    to_metric = Transformer.from_crs(points.crs, target, always_xy=True)
    cols[0], cols[1] = to_metric.transform(cols[0], cols[1])
    return MetricPoints(points, target, cols.T)


def point_xy(points: gpd.GeoDataFrame | gpd.GeoSeries, name: str,
             metric_crs: str | None = None) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Return ``(the layer as a frame, (n, 2) metric coordinates)``: :func:`metric_points`
    for callers that need only the columns and the coordinates."""
    located = metric_points(points, name, metric_crs)
    return to_frame(located.frame), located.xy


def xy_bounds(xy: np.ndarray) -> tuple[float, float, float, float]:
    """Return ``(xmin, ymin, xmax, ymax)`` of ``(n, 2)`` coordinates (column by column, which
    numpy reduces far faster than along axis 0 of the pairs)."""
    x, y = xy[:, 0], xy[:, 1]
    return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def _explain_bad_points(frame: gpd.GeoDataFrame, name: str, geoms: np.ndarray,
                        types: np.ndarray, bounds: np.ndarray) -> None:
    """Raise the DataError that names the missing, non-point, empty or non-finite rows."""
    missing = types < 0
    if missing.any():
        msg = (
            f"{name} has missing geometries in {rows_hint(frame.index, missing)}; drop them "
            f"first, e.g. {name}[{name}.geometry.notna()]."
        )
        raise DataError(msg)
    not_point = (types != 0) & ((bounds[:, 2] != bounds[:, 0]) | (bounds[:, 3] != bounds[:, 1]))
    if not_point.any():
        kinds = sorted(set(frame.geom_type[not_point]))
        msg = (
            f"{name} must hold Point geometries, found {kinds} in "
            f"{rows_hint(frame.index, not_point)}; convert them with "
            f"{name}.representative_point() first."
        )
        raise DataError(msg)
    empty = shapely.is_empty(geoms)
    if empty.any():
        msg = f"{name} has empty points in {rows_hint(frame.index, empty)}; drop those rows."
        raise DataError(msg)
    bad = ~np.isfinite(bounds[:, :2]).all(axis=1)
    msg = (f"{name} has NaN or infinite coordinates in {rows_hint(frame.index, bad)}; fill or "
           "drop those rows (a blank longitude/latitude cell in a CSV gives NaN).")
    raise DataError(msg)


def finite_values(frame: pd.DataFrame, column: str | Sequence[float] | np.ndarray | None,
                  name: str, *, allow_negative: bool = False, default: float = 1.0) -> np.ndarray:
    """Return the values of ``column`` (a column name or array) as float, rejecting NaN.

    ``None`` gives ``default`` for every row.

    Raises
    ------
    DataError
        If the column is missing, not numeric, has NaN/inf, or negative values when not allowed.
    """
    n = len(frame)
    if column is None:
        return np.full(n, float(default))
    if isinstance(column, str):
        columns = list(getattr(frame, "columns", []))
        if column not in columns:
            msg = f"{name} has no column {column!r}; it has {columns}."
            raise DataError(msg)
        label = f"column {column!r} of {name}"
        raw = frame[column]
    else:
        label = f"{name} values"
        raw = pd.Series(np.asarray(column), index=frame.index)
        if len(raw) != n:
            msg = f"{label} has {len(raw)} entries, expected one per row ({n})."
            raise DataError(msg)
    try:
        values = pd.to_numeric(raw, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        msg = f"{label} must be numeric ({exc}); convert it with pd.to_numeric."
        raise DataError(msg) from exc
    bad = ~np.isfinite(values)
    if bad.any():
        msg = (
            f"{label} has NaN or infinite values in {rows_hint(frame.index, bad)}; "
            "fill them (e.g. .fillna(0)) or drop those rows."
        )
        raise DataError(msg)
    if not allow_negative and (values < 0).any():
        neg = values < 0
        msg = f"{label} has negative values in {rows_hint(frame.index, neg)}; weights must be >= 0."
        raise DataError(msg)
    return values
