"""Shared argument checks used at the public boundary of every module.

Each check raises a cci_geo error (or ``TypeError``/``ValueError``) whose message names the
argument, the bad value and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from ._crs import resolve_metric_crs, stamped_metric_crs
from .errors import CRSMismatchError, DataError

__all__ = [
    "ensure_metric",
    "has_crs",
    "is_geographic",
    "non_empty",
    "positive",
    "require_columns",
    "same_crs",
]


def has_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> None:
    """Raise if ``gdf`` has no CRS."""
    if not isinstance(gdf, (gpd.GeoDataFrame, gpd.GeoSeries)):
        msg = f"{name} must be a GeoDataFrame or GeoSeries, got {type(gdf).__name__}."
        raise TypeError(msg)
    if gdf.crs is None:
        msg = (
            f"{name} has no CRS; set it with {name}.set_crs('EPSG:4326') (or the CRS your "
            "coordinates are really in) before calling this function."
        )
        raise CRSMismatchError(msg)


def same_crs(a: gpd.GeoDataFrame | gpd.GeoSeries, b: gpd.GeoDataFrame | gpd.GeoSeries,
             name_a: str, name_b: str) -> None:
    """Raise :class:`CRSMismatchError` naming both CRSs if they differ."""
    has_crs(a, name_a)
    has_crs(b, name_b)
    if not CRS.from_user_input(a.crs).equals(CRS.from_user_input(b.crs)):
        msg = (
            f"{name_a} is in {a.crs.to_string()} but {name_b} is in {b.crs.to_string()}; "
            f"reproject one of them, e.g. {name_b}.to_crs({name_a}.crs)."
        )
        raise CRSMismatchError(msg)


def is_geographic(crs: object) -> bool:
    """Return True if ``crs`` is geographic (degrees)."""
    return bool(CRS.from_user_input(crs).is_geographic)


def ensure_metric(gdf: gpd.GeoDataFrame, name: str,
                  metric_crs: str | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` in the metric CRS chosen by :func:`cci_geo._crs.resolve_metric_crs`.

    The explicit ``metric_crs`` wins, then the atlas's stamp on ``gdf``, then ``gdf``'s own
    projected CRS (returned unchanged), then the UTM zone of its extent. The input is never
    modified.
    """
    has_crs(gdf, name)
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_projected and metric_crs is None and stamped_metric_crs(gdf) is None:
        unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
        if unit not in ("metre", "meter", "m"):
            msg = (
                f"{name} is in {crs.to_string()} whose unit is {unit!r}; reproject it to a "
                "metric CRS first or pass metric_crs='EPSG:...'."
            )
            raise CRSMismatchError(msg)
        return gdf
    target = resolve_metric_crs(gdf, metric_crs=metric_crs)
    if crs.equals(CRS.from_user_input(target)):
        return gdf
    return gdf.to_crs(target)


def non_empty(gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> None:
    """Raise :class:`DataError` if ``gdf`` has no rows or only empty geometries."""
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    head = np.asarray(geoms.values[:64])  # one usable geometry up front settles it cheaply
    if len(geoms) > 0 and bool((~shapely.is_missing(head) & ~shapely.is_empty(head)).any()):
        return
    if len(geoms) == 0 or bool(np.all(geoms.is_empty | geoms.isna())):
        msg = f"{name} is empty (0 usable geometries); pass a layer with at least one feature."
        raise DataError(msg)


def positive(value: float, name: str, unit: str = "") -> float:
    """Return ``value`` as float if it is finite and > 0, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        msg = f"{name} must be a number, got {type(value).__name__} {value!r}."
        raise TypeError(msg)
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        u = f" {unit}" if unit else ""
        msg = f"{name} must be > 0{u}, got {value!r}; pass a positive finite value{u}."
        raise ValueError(msg)
    return v


def require_columns(gdf: gpd.GeoDataFrame, columns: Iterable[str], name: str) -> None:
    """Raise :class:`DataError` listing every column of ``columns`` missing from ``gdf``."""
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        msg = (
            f"{name} lacks column(s) {missing}; it has {list(gdf.columns)}. "
            "Add or rename the column(s)."
        )
        raise DataError(msg)
