"""Places for interaction analysis: city-level places and their creative-industry masses.

A mass is only as complete as the points it is counted from. The demo atlas's ``enterprises``
are synthetic and lie only inside Beijing, so counting them gives Tianjin and the Hebei cities
a mass of 0; for a regional model give those cities masses from statistics (a mapping
``{place id: mass}`` passed to :func:`cci_geo.corridors.gravity_flows`).
"""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _validate
from ..errors import DataError
from ._common import check_layer, require_geom_types

__all__ = ["city_places", "place_masses"]

logger = logging.getLogger(__name__)

_MUNICIPALITY_ZH = {"11": "北京市", "12": "天津市", "31": "上海市", "50": "重庆市"}


def city_places(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Merge the districts of each municipality into one city-level place.

    Rows with ``level == "district"`` are dissolved by the first two digits of their
    ``adcode`` (the province-level unit: Beijing 11, Tianjin 12, ...) into one row with
    ``adcode`` and ``id`` ``"<xx>0000"``; other rows (prefecture cities such as the Hebei
    cities) are kept as they are. The demo atlas's ``districts`` (16 Beijing districts,
    Tianjin, 11 Hebei cities) gives 13 city-level places.

    Parameters
    ----------
    districts
        Polygons with ``id``, ``adcode``, ``level`` and ``province`` columns (the ``districts``
        layer of the data model).

    Returns
    -------
    geopandas.GeoDataFrame
        One (Multi)Polygon per city-level place in the CRS of ``districts``: merged
        municipalities first (by adcode), then the kept rows in input order. Columns ``id``,
        ``name_zh``, ``name_en`` (the province name for merged municipalities), ``adcode``,
        ``level`` (``"city"`` for merged rows), ``province`` and ``n_districts``.

    Raises
    ------
    cci_geo.errors.DataError
        A required column is missing or an ``adcode`` of a district row is not a 6-digit code.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> d = gpd.GeoDataFrame({"id": ["110101", "110102", "130600"],
    ...     "name_zh": ["东城区", "西城区", "保定市"],
    ...     "name_en": ["Dongcheng", "Xicheng", "Baoding"],
    ...     "adcode": ["110101", "110102", "130600"], "level": ["district", "district", "city"],
    ...     "province": ["Beijing", "Beijing", "Hebei"]}, crs="EPSG:4326",
    ...     geometry=[box(116, 39.8, 116.4, 40), box(116.4, 39.8, 116.8, 40),
    ...               box(115, 38, 116, 39)])
    >>> city_places(d)[["id", "name_en", "n_districts"]].to_numpy().tolist()
    [['110000', 'Beijing', 2], ['130600', 'Baoding', 1]]
    """
    check_layer(districts, "districts")
    require_geom_types(districts, ("Polygon", "MultiPolygon"), "districts")
    _validate.require_columns(districts, ["id", "adcode", "level", "province"], "districts")
    is_district = districts["level"].astype(str) == "district"
    codes = districts.loc[is_district, "adcode"].astype(str)
    bad = codes[~codes.str.fullmatch(r"\d{6}")]
    if len(bad):
        msg = (
            f"districts rows {list(bad.index[:10])} have adcode(s) {list(bad[:10])} that are not "
            "6-digit administrative codes; fix the adcode column."
        )
        raise DataError(msg)
    merged_rows: list[dict[str, object]] = []
    merged_geoms = []
    parts = districts.loc[is_district]
    for prefix, group in parts.groupby(codes.str[:2], sort=True):
        province = str(group["province"].iloc[0])
        merged_rows.append({
            "id": f"{prefix}0000", "name_zh": _MUNICIPALITY_ZH.get(str(prefix), province),
            "name_en": province, "adcode": f"{prefix}0000", "level": "city",
            "province": province, "n_districts": len(group),
        })
        merged_geoms.append(shapely.union_all(group.geometry.make_valid().to_numpy()))
    kept = pd.DataFrame(districts.loc[~is_district].drop(columns=districts.geometry.name))
    kept = kept.reindex(columns=["id", "name_zh", "name_en", "adcode", "level", "province"])
    kept["n_districts"] = 1
    rows = pd.concat([pd.DataFrame(merged_rows, columns=kept.columns), kept], ignore_index=True)
    geoms = [*merged_geoms, *districts.loc[~is_district].geometry.to_numpy()]
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=districts.crs)
    out["id"] = out["id"].astype(str)
    logger.debug("city_places: %d districts -> %d places", len(districts), len(out))
    return out


def place_masses(
    areas: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    *,
    weight: str | None = None,
    name: str = "mass",
) -> gpd.GeoDataFrame:
    """Aggregate a point layer (e.g. enterprises) into a creative-industry mass per area.

    Each point is assigned to the first area (in row order) that contains it, boundary
    included, so a point on a shared border is counted once.

    Parameters
    ----------
    areas
        Polygons of the places (districts, cities), e.g. ``atlas["districts"]``.
    points
        Points to aggregate, in the CRS of ``areas``, e.g. ``atlas["enterprises"]``.
    weight
        ``None`` counts points; a numeric column name (``"revenue_cny"``, ``"employees"``) sums
        it. Missing values count as 0 (with a warning).
    name
        Name of the mass column added.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``areas`` (same index and order) with ``name`` (float: point count or sum of
        ``weight``) and ``n_points`` (int: points assigned to the area).

    Raises
    ------
    cci_geo.errors.CRSMismatchError
        ``areas`` and ``points`` are in different CRSs (both named).
    cci_geo.errors.DataError
        ``weight`` is not a column of ``points`` or ``name`` already exists in ``areas``.

    Notes
    -----
    A mass is only as complete as the points layer; see the module docstring about the demo
    atlas, whose synthetic enterprises lie only inside Beijing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> areas = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
    ...                          crs="EPSG:32650")
    >>> pts = gpd.GeoDataFrame({"employees": [10, 5, 7]}, crs="EPSG:32650",
    ...                        geometry=[Point(0.5, 0.5), Point(1.5, 0.5), Point(1.6, 0.2)])
    >>> place_masses(areas, pts, weight="employees")["mass"].tolist()
    [10.0, 12.0]
    """
    check_layer(areas, "areas")
    _validate.same_crs(areas, points, "areas", "points")
    if name in areas.columns:
        msg = f"areas already has a column {name!r}; pass another name= or drop that column."
        raise DataError(msg)
    if weight is not None:
        _validate.require_columns(points, [weight], "points")
        weights = pd.to_numeric(points[weight], errors="coerce").to_numpy(dtype=float)
        if bool(np.isnan(weights).any()):
            warnings.warn(
                f"points[{weight!r}] has {int(np.isnan(weights).sum())} missing or non-numeric "
                "values; they count as 0 in the mass.", stacklevel=2,
            )
            weights = np.nan_to_num(weights, nan=0.0)
    else:
        weights = np.ones(len(points))
    tree = shapely.STRtree(areas.geometry.to_numpy())
    pi, ai = tree.query(points.geometry.to_numpy(), predicate="intersects")
    first = pd.DataFrame({"p": pi, "a": ai}).sort_values(["p", "a"]).drop_duplicates("p")
    pidx, aidx = first["p"].to_numpy(), first["a"].to_numpy()
    out = areas.copy()
    out[name] = np.bincount(aidx, weights=weights[pidx], minlength=len(areas)).astype(float)
    out["n_points"] = np.bincount(aidx, minlength=len(areas)).astype(int)
    logger.debug("place_masses: %d of %d points fall in %d areas", len(pidx), len(points),
                 len(areas))
    return out
