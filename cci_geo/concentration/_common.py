"""Input checks shared by the concentration analyses."""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import ensure_metric, has_crs, non_empty
from ..errors import DataError

__all__ = ["as_frame", "finite_values", "point_xy", "rows_hint", "to_frame"]


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


def point_xy(points: gpd.GeoDataFrame | gpd.GeoSeries, name: str,
             metric_crs: str | None = None, *,
             keep_series: bool = False) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Return ``(frame in a metric CRS, (n, 2) coordinates)`` of a layer of points.

    The layer is brought to the metric CRS resolved by
    :func:`cci_geo._crs.resolve_metric_crs`. With
    ``keep_series`` a GeoSeries comes back as a (metric) GeoSeries rather than wrapped in a
    frame, which saves a reindex of every row when no column is needed.

    Raises
    ------
    DataError
        If the layer is empty, has missing/empty geometries or non-point geometries.
    """
    if keep_series and isinstance(points, gpd.GeoSeries):
        has_crs(points, name)
        non_empty(points, name)
        frame = points
    else:
        frame = as_frame(points, name)
    metric = ensure_metric(frame, name, metric_crs)  # type: ignore[arg-type]
    xy = _fast_xy(metric.geometry.values)
    if xy is None:  # something is wrong: find it and say which rows
        _explain_bad_points(frame, metric, name)
    return metric, xy  # type: ignore[return-value]


def _fast_xy(geoms: np.ndarray) -> np.ndarray | None:
    """Return the ``(n, 2)`` coordinates of all-valid points, or None if any row is not one.

    ``get_x``/``get_y`` give NaN for missing and non-point geometries and raise for empty
    points, so one finite sum checks every row without a per-row type test.
    """
    try:
        x = shapely.get_x(geoms)
        y = shapely.get_y(geoms)
    except shapely.errors.GEOSException:
        return None
    if not math.isfinite(float(x.sum()) + float(y.sum())):
        return None
    xy = np.empty((x.size, 2))
    xy[:, 0] = x
    xy[:, 1] = y
    return xy


def _explain_bad_points(frame: gpd.GeoDataFrame, metric: gpd.GeoDataFrame, name: str) -> None:
    """Raise the DataError that names the missing, non-point or non-finite rows."""
    type_id = shapely.get_type_id(frame.geometry.values)
    missing = type_id < 0
    if missing.any():
        msg = (
            f"{name} has missing geometries in {rows_hint(frame.index, missing)}; drop them "
            f"first, e.g. {name}[{name}.geometry.notna()]."
        )
        raise DataError(msg)
    not_point = type_id != 0
    if not_point.any():
        kinds = sorted(set(frame.geom_type[not_point]))
        msg = (
            f"{name} must hold Point geometries, found {kinds} in "
            f"{rows_hint(frame.index, not_point)}; convert them with "
            f"{name}.representative_point() first."
        )
        raise DataError(msg)
    geoms = metric.geometry.values
    bad = shapely.is_empty(geoms)
    if not bad.any():
        bad = ~(np.isfinite(shapely.get_x(geoms)) & np.isfinite(shapely.get_y(geoms)))
    msg = (
        f"{name} has empty or non-finite point coordinates in "
        f"{rows_hint(frame.index, bad)}; fix or drop those rows."
    )
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
