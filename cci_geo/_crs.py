"""The one place that chooses the metric CRS of an analysis.

Every function that measures (distances, areas, buffers, grids) takes
``metric_crs: str | None = None`` and resolves it with :func:`resolve_metric_crs`, in this
order:

1. the explicit ``metric_crs`` argument;
2. the metric CRS an :class:`cci_geo.Atlas` stamped on its layers
   (``gdf.attrs["cci_geo_metric_crs"]``);
3. the CRS of the first input that is already projected (in metres);
4. the UTM zone estimated from the inputs' extent, logged at INFO level.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from .errors import CRSMismatchError, ParameterError

__all__ = [
    "METRIC_CRS_ATTR",
    "check_metric_crs",
    "estimate_utm_crs",
    "lonlat_bounds",
    "resolve_metric_crs",
    "stamp_metric_crs",
    "stamped_metric_crs",
]

logger = logging.getLogger(__name__)

METRIC_CRS_ATTR = "cci_geo_metric_crs"
"""Key of ``gdf.attrs`` where an atlas records its metric CRS on the layers it hands out."""


def check_metric_crs(crs: object, name: str = "metric_crs") -> str:
    """Return ``crs`` as a string after checking it is a projected CRS in metres.

    Raises
    ------
    cci_geo.errors.ParameterError
        If ``crs`` is not a valid CRS, is geographic, or its unit is not the metre.

    Examples
    --------
    >>> check_metric_crs("EPSG:32651")
    'EPSG:32651'
    """
    try:
        parsed = CRS.from_user_input(crs)
    except (CRSError, TypeError) as exc:
        msg = f"{name}={crs!r} is not a CRS pyproj understands ({exc}); use e.g. 'EPSG:32650'."
        raise ParameterError(msg) from exc
    unit = parsed.axis_info[0].unit_name if parsed.axis_info else ""
    if not parsed.is_projected or unit not in ("metre", "meter", "m"):
        msg = (f"{name} must be a projected CRS in metres, got {crs!r} ({parsed.name}); use "
               "e.g. 'EPSG:32650' (UTM 50N, Beijing) or 'EPSG:32651' (UTM 51N, Shanghai).")
        raise ParameterError(msg)
    if isinstance(crs, str):
        return crs
    auth = parsed.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else parsed.to_wkt()


def stamp_metric_crs(gdf: Any, metric_crs: str) -> Any:
    """Record ``metric_crs`` in ``gdf.attrs`` (in place) and return ``gdf``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> stamped_metric_crs(stamp_metric_crs(gpd.GeoDataFrame(), "EPSG:32650"))
    'EPSG:32650'
    """
    gdf.attrs[METRIC_CRS_ATTR] = str(metric_crs)
    return gdf


def stamped_metric_crs(obj: Any) -> str | None:
    """Return the metric CRS stamped on ``obj`` by an atlas, or None.

    Examples
    --------
    >>> import geopandas as gpd
    >>> stamped_metric_crs(gpd.GeoDataFrame()) is None
    True
    """
    attrs = getattr(obj, "attrs", None)
    if isinstance(attrs, dict):
        value = attrs.get(METRIC_CRS_ATTR)
        if value:
            return str(value)
    return None


def lonlat_bounds(frames: tuple[Any, ...]) -> tuple[float, float, float, float] | None:
    boxes = []
    for f in frames:
        if not isinstance(f, (gpd.GeoDataFrame, gpd.GeoSeries)) or f.crs is None or len(f) == 0:
            continue
        geoms = f.geometry if isinstance(f, gpd.GeoDataFrame) else f
        geoms = geoms[~(geoms.isna() | geoms.is_empty)]
        if len(geoms) == 0:
            continue
        b = geoms.total_bounds
        crs = CRS.from_user_input(f.crs)
        if not crs.equals(CRS.from_epsg(4326)):
            t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
            b = np.asarray(t.transform_bounds(*b))
        if np.all(np.isfinite(b)):
            boxes.append(b)
    if not boxes:
        return None
    arr = np.vstack(boxes)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()),
            float(arr[:, 2].max()), float(arr[:, 3].max()))


def estimate_utm_crs(bounds: tuple[float, float, float, float]) -> str:
    """Return the WGS-84 UTM zone (``"EPSG:326zz"`` / ``"EPSG:327zz"``) of a lon/lat box's centre.

    Parameters
    ----------
    bounds
        ``(west, south, east, north)`` in EPSG:4326.

    Examples
    --------
    >>> estimate_utm_crs((116.0, 39.5, 117.0, 40.5))   # Beijing
    'EPSG:32650'
    >>> estimate_utm_crs((121.0, 30.7, 122.0, 31.9))   # Shanghai
    'EPSG:32651'
    """
    west, south, east, north = bounds
    lon, lat = (west + east) / 2.0, (south + north) / 2.0
    zone = min(60, max(1, math.floor((lon + 180.0) / 6.0) + 1))
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def resolve_metric_crs(*frames: Any, metric_crs: str | None = None) -> str:
    """Return the metric CRS an analysis of ``frames`` should measure in.

    Order: the explicit ``metric_crs`` > the metric CRS an atlas stamped on any frame
    (``attrs["cci_geo_metric_crs"]``) > the CRS of the first projected frame > the UTM zone
    estimated from the frames' joint extent (logged at INFO, naming the zone).

    Parameters
    ----------
    *frames
        GeoDataFrames/GeoSeries (others, and None, are ignored).
    metric_crs
        Explicit choice; wins over everything else.

    Returns
    -------
    str
        A projected CRS in metres, e.g. ``"EPSG:32650"``.

    Raises
    ------
    cci_geo.errors.ParameterError
        If ``metric_crs`` (or a stamped CRS) is not a projected CRS in metres.
    cci_geo.errors.CRSMismatchError
        If no frame has a CRS to estimate from.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> shanghai = gpd.GeoDataFrame(geometry=[Point(121.47, 31.23)], crs="EPSG:4326")
    >>> resolve_metric_crs(shanghai)
    'EPSG:32651'
    >>> resolve_metric_crs(shanghai, metric_crs="EPSG:4549")
    'EPSG:4549'
    """
    if metric_crs is not None:
        return check_metric_crs(metric_crs)
    for f in frames:
        stamped = stamped_metric_crs(f)
        if stamped:
            return check_metric_crs(stamped, "the atlas's metric CRS")
    for f in frames:
        crs = getattr(f, "crs", None)
        if isinstance(f, (gpd.GeoDataFrame, gpd.GeoSeries)) and crs is not None:
            parsed = CRS.from_user_input(crs)
            if parsed.is_projected:
                return check_metric_crs(parsed, "the input's CRS")
    bounds = lonlat_bounds(frames)
    if bounds is None:
        msg = ("cannot choose a metric CRS: no input has a CRS and coordinates; set the CRS "
               "(gdf.set_crs('EPSG:4326')) or pass metric_crs='EPSG:...'.")
        raise CRSMismatchError(msg)
    crs = estimate_utm_crs(bounds)
    logger.info("measuring in %s (UTM zone %s%s, estimated from the data's extent); pass "
                "metric_crs= to choose", crs, crs[-2:], "N" if crs[5:8] == "326" else "S")
    return crs
