"""Conversions between WGS-84 and the Chinese web-map datums GCJ-02 and BD-09.

GCJ-02 ("Mars coordinates") is the obfuscated datum of Amap/Gaode, Tencent and most Chinese
web maps; BD-09 is Baidu's further offset of GCJ-02. In Beijing both are shifted from WGS-84 by
roughly 300-700 m. cci_geo stores everything in WGS-84 and converts only at the edges: on read
(``read_layer(..., datum="gcj02")``) and when drawing on a GCJ-02 basemap.

The forward transform is the standard published algorithm (Krasovsky 1940 ellipsoid,
``a = 6378245 m``, ``e² = 0.00669342162296594323``) and is the identity outside the rough
bounding box of mainland China that the algorithm itself uses (longitude 72.004-137.8347°E,
latitude 0.8293-55.8271°N); Taiwan, Hong Kong and Macau inside that box are shifted, as every
Chinese web map does. The inverses (GCJ-02 → WGS-84, BD-09 → GCJ-02) have no closed form and
are solved by fixed-point iteration until the residual is below 1e-9° (about 0.1 mm), i.e. far
better than the 0.5 m promised.

All functions take array-likes (or scalars) of longitudes and latitudes in degrees and return a
``(lon, lat)`` tuple of ``float64`` arrays of the same shape.

Examples
--------
>>> from cci_geo import datum
>>> lon, lat = datum.wgs84_to_gcj02(116.391242, 39.905905)
>>> round(float(lon), 5), round(float(lat), 5)
(116.39748, 39.90731)
>>> back = datum.gcj02_to_wgs84(lon, lat)
>>> round(float(back[0]), 6), round(float(back[1]), 6)
(116.391242, 39.905905)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from .errors import ParameterError

__all__ = [
    "DATUMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert",
    "convert_gdf",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalise_datum",
    "out_of_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

Datum = Literal["wgs84", "gcj02", "bd09"]
DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis (m)
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-9
_MAX_ITER = 50

_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs 84": "wgs84", "epsg:4326": "wgs84", "gps": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
    "tencent": "gcj02", "mars": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "bd09ll": "bd09",
}

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def normalise_datum(name: str) -> str:
    """Return the canonical datum name (``wgs84``, ``gcj02`` or ``bd09``) for ``name``.

    Accepts common aliases such as ``"amap"``, ``"gaode"``, ``"GCJ-02"``, ``"baidu"``.

    Raises
    ------
    ValueError
        If ``name`` is not a known datum.

    Examples
    --------
    >>> normalise_datum("GCJ-02"), normalise_datum("Baidu")
    ('gcj02', 'bd09')
    """
    key = str(name).strip().lower()
    if key not in _ALIASES:
        msg = (
            f"unknown datum {name!r}; use 'wgs84' (GPS, OpenStreetMap), 'gcj02' (Amap/Gaode, "
            "Tencent) or 'bd09' (Baidu)."
        )
        raise ParameterError(msg)
    return _ALIASES[key]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Pair:
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    if x.shape != y.shape:
        msg = f"lon and lat must have the same shape, got {x.shape} and {y.shape}."
        raise ParameterError(msg)
    return x, y


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where a point lies outside the box in which GCJ-02 applies.

    Examples
    --------
    >>> out_of_china([116.4, 2.35], [39.9, 48.86]).tolist()   # Beijing, Paris
    [False, True]
    """
    x, y = _arrays(lon, lat)
    return (x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271)


def _delta_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(x: NDArray[np.float64], y: NDArray[np.float64]) -> Pair:
    dlat = _delta_lat(x - 105.0, y - 35.0)
    dlon = _delta_lon(x - 105.0, y - 35.0)
    radlat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(x, y)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert WGS-84 coordinates to GCJ-02 (identity outside China).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.391242, 39.905905)
    >>> round(float(lon), 5), round(float(lat), 5)
    (116.39748, 39.90731)
    """
    x, y = _arrays(lon, lat)
    dx, dy = _gcj_offset(x, y)
    return x + dx, y + dy


def _invert(forward: Callable[[NDArray[np.float64], NDArray[np.float64]], Pair],
            tx: NDArray[np.float64], ty: NDArray[np.float64]) -> Pair:
    """Solve ``forward(x, y) = (tx, ty)`` by fixed-point iteration (forward ≈ identity)."""
    x, y = tx.copy(), ty.copy()
    finite = np.isfinite(tx) & np.isfinite(ty)
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = tx - fx, ty - fy
        x = x + ex
        y = y + ey
        err = np.maximum(np.abs(ex), np.abs(ey))
        if not np.any(err[finite] > _TOL_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert GCJ-02 coordinates to WGS-84 by iterating the forward transform.

    The result is accurate to better than 1e-9° (about 0.1 mm) wherever the forward
    transform applies; points outside China are returned unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(116.391242, 39.905905))
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.391242, 39.905905)
    """
    x, y = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, x, y)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert GCJ-02 coordinates to Baidu's BD-09.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.39748, 39.90731)
    >>> round(float(lon), 4), round(float(lat), 4)
    (116.4039, 39.9137)
    """
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert BD-09 coordinates to GCJ-02 (exact inverse of :func:`gcj02_to_bd09`).

    Starts from the usual closed-form approximation and refines it by fixed-point iteration,
    so a round trip through :func:`gcj02_to_bd09` returns the input to within 1e-9°.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(116.39749, 39.90731))
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.39749, 39.90731)
    """
    x, y = _arrays(lon, lat)
    x0, y0 = x - 0.0065, y - 0.006
    z = np.sqrt(x0 * x0 + y0 * y0) - 0.00002 * np.sin(y0 * _X_PI)
    theta = np.arctan2(y0, x0) - 0.000003 * np.cos(x0 * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITER):
        fx, fy = gcj02_to_bd09(gx, gy)
        ex, ey = x - fx, y - fy
        gx, gy = gx + ex, gy + ey
        if not np.nanmax(np.abs(np.concatenate([np.ravel(ex), np.ravel(ey), [0.0]]))) > _TOL_DEG:
            break
    return gx, gy


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert WGS-84 coordinates to BD-09 (through GCJ-02).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(116.391242, 39.905905)
    >>> round(float(lon), 4), round(float(lat), 4)
    (116.4039, 39.9136)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert BD-09 coordinates to WGS-84 (through GCJ-02, both steps iterated).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(116.391242, 39.905905))
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.391242, 39.905905)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS = {"wgs84": None, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS = {"wgs84": None, "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def convert(lon: ArrayLike, lat: ArrayLike, src: str, dst: str) -> Pair:
    """Convert coordinates from datum ``src`` to datum ``dst`` (any of :data:`DATUMS`).

    Examples
    --------
    >>> lon, lat = convert([116.391242], [39.905905], "wgs84", "gcj02")
    >>> round(float(lon[0]), 5), round(float(lat[0]), 5)
    (116.39748, 39.90731)
    """
    s, d = normalise_datum(src), normalise_datum(dst)
    x, y = _arrays(lon, lat)
    if s == d:
        return x.copy(), y.copy()
    to_wgs, from_wgs = _TO_WGS[s], _FROM_WGS[d]
    if to_wgs is not None:
        x, y = to_wgs(x, y)
    if from_wgs is not None:
        x, y = from_wgs(x, y)
    return x, y


def convert_gdf(gdf: gpd.GeoDataFrame | gpd.GeoSeries, src: str,
                dst: str = "wgs84") -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Return a copy of ``gdf`` with every vertex converted from ``src`` to ``dst``.

    Points, lines, polygons (with holes) and multi-part geometries are all converted vertex
    by vertex in one vectorised call. The frame must be in geographic coordinates (EPSG:4326
    or no CRS); the input is not modified.

    Parameters
    ----------
    gdf
        Layer whose coordinates are in datum ``src``.
    src, dst
        Datum names; see :func:`normalise_datum`.

    Returns
    -------
    geopandas.GeoDataFrame or geopandas.GeoSeries
        A copy with converted geometries and the same CRS.

    Raises
    ------
    ValueError
        If the frame is in a projected CRS (datum shifts apply to longitude/latitude).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> amap = gpd.GeoDataFrame(geometry=[Point(116.39749, 39.90731)], crs="EPSG:4326")
    >>> p = convert_gdf(amap, "gcj02").geometry.iloc[0]
    >>> round(p.x, 4), round(p.y, 4)
    (116.3912, 39.9059)
    """
    s, d = normalise_datum(src), normalise_datum(dst)
    if gdf.crs is not None and not gdf.crs.is_geographic:
        msg = (
            f"convert_gdf needs longitude/latitude coordinates but the layer is in "
            f"{gdf.crs.to_string()}; reproject to EPSG:4326 first."
        )
        raise ParameterError(msg)
    out = gdf.copy()
    if s == d:
        return out
    geoms = out.geometry.values if isinstance(out, gpd.GeoDataFrame) else out.values

    def _fn(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = convert(coords[:, 0], coords[:, 1], s, d)
        return np.column_stack([x, y])

    new = shapely.transform(np.asarray(geoms), _fn)
    if isinstance(out, gpd.GeoDataFrame):
        out[out.geometry.name] = gpd.GeoSeries(new, index=out.index, crs=out.crs)
    else:
        out = gpd.GeoSeries(new, index=out.index, crs=out.crs, name=out.name)
    logger.debug("converted %d geometries from %s to %s", len(out), s, d)
    return out
