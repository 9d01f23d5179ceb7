"""Shared argument checks used at the public boundary of every module.

Each check raises a cci_geo error (or ``TypeError``/``ValueError``) whose message names the
argument, the bad value and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ._crs import resolve_metric_crs, stamped_metric_crs
from .errors import (
    CRSMismatchError,
    DataError,
    ParameterError,
    ParameterTypeError,
    ResourceLimitError,
    opt,
)
from .settings import Settings

__all__ = [
    "check_coordinates",
    "check_degree_bounds",
    "check_grid_size",
    "check_seed",
    "ensure_metric",
    "has_crs",
    "is_geographic",
    "metric_target",
    "non_empty",
    "positive",
    "require_columns",
    "same_crs",
    "unique_ids",
]


def has_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> None:
    """Raise if ``gdf`` has no CRS."""
    if not isinstance(gdf, (gpd.GeoDataFrame, gpd.GeoSeries)):
        msg = f"{name} must be a GeoDataFrame or GeoSeries, got {type(gdf).__name__}."
        raise ParameterTypeError(msg)
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
    check_coordinates(gdf, name)
    target = metric_target(gdf, name, metric_crs)
    return gdf if target is None else gdf.to_crs(target)


def metric_target(gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str,
                  metric_crs: str | None = None) -> CRS | None:
    """Return the metric CRS :func:`ensure_metric` would bring ``gdf`` to, or None if it is in it.

    Only the CRSs are looked at (and, to estimate a UTM zone, the extent), never each
    coordinate, so callers that read the coordinates themselves can reproject arrays.

    Raises
    ------
    cci_geo.errors.CRSMismatchError
        If ``gdf`` is projected in a unit other than the metre (and no metric CRS is given).
    """
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_projected and metric_crs is None and stamped_metric_crs(gdf) is None:
        unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
        if unit not in ("metre", "meter", "m"):
            msg = (
                f"{name} is in {crs.to_string()} whose unit is {unit!r}; reproject it to a "
                "metric CRS first or pass metric_crs='EPSG:...'."
            )
            raise CRSMismatchError(msg)
        return None
    target = CRS.from_user_input(resolve_metric_crs(gdf, metric_crs=metric_crs))
    return None if crs.equals(target) else target


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
        raise ParameterTypeError(msg)
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        u = f" {unit}" if unit else ""
        msg = f"{name} must be > 0{u}, got {value!r}; pass a positive finite value{u}."
        raise ParameterError(msg)
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


REGION_ATTR = "cci_geo_region"
"""``gdf.attrs`` key of a layer's study region ``(west, south, east, north)`` in EPSG:4326."""
REGION_MARGIN_DEG = 5.0
"""How far (degrees, ~500 km) beyond the study region a feature may lie before it is refused."""


def _region(gdf: gpd.GeoDataFrame | gpd.GeoSeries,
            region: tuple[float, float, float, float] | None) -> tuple[float, ...]:
    if region is not None:
        return tuple(float(v) for v in region)
    stamped = getattr(gdf, "attrs", {}).get(REGION_ATTR)
    if stamped is not None:
        return tuple(float(v) for v in stamped)
    from .schema import STUDY_REGION  # noqa: PLC0415 - schema imports this module

    return tuple(float(v) for v in STUDY_REGION)


def nonfinite_vertices(geoms: np.ndarray) -> np.ndarray:
    """Return, per geometry, True if any vertex is NaN or infinite (bounds can hide a NaN)."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    out = np.zeros(len(geoms), dtype=bool)
    bad = ~np.isfinite(coords).all(axis=1)
    out[owner[bad]] = True
    return out


def check_coordinates(gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str, *,
                      region: tuple[float, float, float, float] | None = None) -> None:
    """Refuse coordinates no analysis can use, where a layer enters an analysis.

    Checks, in order: non-finite coordinates (NaN, inf: e.g. a blank lon/lat in a CSV);
    geographic coordinates beyond ±180/±90 (projected metres labelled as degrees); features
    more than :data:`REGION_MARGIN_DEG` degrees outside the study region (``region``, else the
    layer's ``attrs["cci_geo_region"]`` stamped by an atlas, else Jing-Jin-Ji). Missing and
    empty geometries are left to the callers, which know whether they may be skipped.

    Raises
    ------
    cci_geo.errors.DataError
        Naming the layer, the rows, the first bad coordinate and the fix.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoDataFrame(geometry=[shapely.Point(116.4, 39.9), shapely.Point(450000, 4e6)],
    ...                        crs="EPSG:4326")
    >>> check_coordinates(pts, "sites")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cci_geo.errors.DataError: sites has coordinates beyond ±180°/±90° in rows [1] ...
    """
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if len(geoms) == 0 or geoms.crs is None:
        return
    arr = np.asarray(geoms.values)
    usable = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if not usable.any():
        return
    b = shapely.bounds(arr[usable])
    idx = np.flatnonzero(usable)
    labels = geoms.index
    bad = nonfinite_vertices(arr[usable])
    if bad.any():
        rows = list(labels[idx[bad]][:10])
        msg = (f"{name} has NaN or infinite coordinates in rows {rows}; fill or drop those rows "
               "(a blank longitude/latitude cell in a CSV gives NaN).")
        raise DataError(msg)
    check_degree_bounds(gdf, name, b, labels[idx], region=region)


def check_degree_bounds(gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str, b: np.ndarray,
                        labels: pd.Index, *,
                        region: tuple[float, float, float, float] | None = None) -> None:
    """Run :func:`check_coordinates`' geographic checks on finite feature bounds.

    ``b`` is the ``(n, 4)`` array of the usable features' bounds (for points: ``x, y, x, y``,
    so a caller that already holds the points' bounds checks them without another pass over
    the geometries) and ``labels`` their row labels. Projected layers pass unchecked.
    """
    crs = gdf.crs
    if crs is None or len(b) == 0 or not is_geographic(crs):
        return
    reg = _region(gdf, region)
    w, s, e, n = reg
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    swapped = (cy >= w) & (cy <= e) & (cx >= s) & (cx <= n) & ~((cx >= w) & (cx <= e))
    is_wgs84 = CRS.from_user_input(crs).equals(CRS.from_epsg(4326))
    if is_wgs84 and swapped.any():
        rows = list(labels[np.flatnonzero(swapped)[:10]])
        msg = (f"{name} has coordinates that look like (latitude, longitude) instead of "
               f"(longitude, latitude) in rows {rows} (first: x={cx[swapped][0]:g}, "
               f"y={cy[swapped][0]:g}); swap the axes (or the lon/lat columns of the CSV).")
        raise DataError(msg)
    beyond = (np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
    if beyond.any():
        rows = list(labels[np.flatnonzero(beyond)[:10]])
        x, y = b[beyond][0, 0], b[beyond][0, 1]
        msg = (f"{name} has coordinates beyond ±180°/±90° in rows {rows} (first: x={x:g}, "
               f"y={y:g}): they are probably projected metres labelled as degrees; set the real "
               f"CRS with {name}.set_crs(..., allow_override=True).")
        raise DataError(msg)
    if not is_wgs84:
        return
    m = REGION_MARGIN_DEG
    far = (cx < w - m) | (cx > e + m) | (cy < s - m) | (cy > n + m)
    if far.any():
        rows = list(labels[np.flatnonzero(far)[:10]])
        hint = "check the CRS, the datum and the coordinates, or drop them"
        msg = (f"{name} has {int(far.sum())} feature(s) far outside the study region "
               f"(lon {w:g}..{e:g}, lat {s:g}..{n:g}) in rows {rows} (first at lon "
               f"{cx[far][0]:.4f}, lat {cy[far][0]:.4f}); {hint}. A layer of another region "
               f"needs its region stamped: {name}.attrs['{REGION_ATTR}'] = (west, south, east, "
               "north).")
        raise DataError(msg)


def check_grid_size(shape: tuple[int, ...], *, what: str, cell_size: float | None = None,
                    itemsize: int = 8, settings: Settings | None = None) -> None:
    """Refuse a grid of ``shape`` larger than ``Settings.max_cells``/``max_bytes``.

    Call it with the estimated shape before allocating. The message gives the size and the fix.

    Raises
    ------
    cci_geo.errors.ResourceLimitError
        If the grid has more cells than ``settings.max_cells`` or more bytes than
        ``settings.max_bytes``.

    Examples
    --------
    >>> check_grid_size((1000, 1000), what="density grid", cell_size=100.0)
    >>> try:
    ...     check_grid_size((2_000_000, 1_000_000), what="density grid", cell_size=1.0)
    ... except ResourceLimitError as exc:
    ...     print(str(exc)[:60])
    the density grid would have 2,000,000 x 1,000,000 = 2e+12 ce
    """
    st = settings or Settings()
    cells = float(np.prod([float(v) for v in shape]))
    nbytes = cells * itemsize
    if cells <= st.max_cells and nbytes <= st.max_bytes:
        return
    dims = " x ".join(f"{int(v):,}" for v in shape)
    size = nbytes / 2**30
    size_txt = f"{size / 1024:.1f} TiB" if size >= 1024 else f"{size:.1f} GiB"
    fix = ""
    if cell_size is not None:
        factor = math.sqrt(max(cells / st.max_cells, nbytes / st.max_bytes))
        need = cell_size * factor
        fix = f" (at least {_round_up(need):g} m)"
    msg = (f"the {what} would have {dims} = {cells:.3g} cells ({size_txt}), over the limit of "
           f"{st.max_cells:,} cells ({st.max_bytes / 1e9:.1f} GB per array; "
           f"Settings.max_cells/max_bytes); use a larger cell size{fix}, a smaller extent, or "
           "raise the limit with dataclasses.replace(Settings(), max_cells=...).")
    raise ResourceLimitError(msg)


def _round_up(v: float) -> float:
    mag = 10 ** math.floor(math.log10(v)) if v > 0 else 1.0
    return math.ceil(v / mag) * mag


def check_seed(seed: object, name: str = "seed") -> int | None:
    """Return ``seed`` if it is None or a whole number in ``[0, 2**63)``, else raise.

    Raises
    ------
    cci_geo.errors.ParameterError
        For negative, fractional, boolean or non-numeric seeds.
    """
    if seed is None:
        return None
    ok = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    if not ok or not 0 <= int(seed) < 2**63:  # type: ignore[call-overload]
        msg = (f"{name} must be a whole number from 0 to 2**63-1 (or None), got {seed!r}; pass "
               f"e.g. {opt(f'{name}=42', '--seed 42')}.")
        raise ParameterError(msg)
    return int(seed)  # type: ignore[call-overload]


def unique_ids(ids: Iterable[object], name: str, column: str = "id") -> None:
    """Raise :class:`DataError` naming the duplicated values if ``ids`` are not unique.

    Ids pick rows (chosen sites, allocations, scores); a duplicate would silently select or
    report the wrong feature, so every function that uses ids calls this.

    Examples
    --------
    >>> unique_ids(["a", "b", "a"], "candidates")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cci_geo.errors.DataError: candidates have duplicate id values ['a'] (3 rows, 1 duplicated)...
    """
    import pandas as pd  # noqa: PLC0415

    idx = pd.Index(list(ids))
    if idx.is_unique:
        return
    dup = idx[idx.duplicated(keep="first")]
    shown = list(dict.fromkeys(dup.tolist()))[:10]
    msg = (f"{name} have duplicate {column} values {shown} ({len(idx)} rows, {len(dup)} "
           f"duplicated); give every feature a unique {column}.")
    raise DataError(msg)
