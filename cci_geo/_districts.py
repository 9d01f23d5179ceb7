"""Which district a feature lies in, by spatial join with a districts layer.

Analyses that report per district (layout's balance rule and before/after table, the
briefing's per-district summaries) need a ``district`` column; a planner's own enterprises or
sites often lack one. :func:`assign_districts` derives it from the districts layer instead of
requiring it.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from ._validate import has_crs

__all__ = ["assign_districts", "district_key"]


def district_key(districts: gpd.GeoDataFrame) -> str:
    """Return the column naming a district: ``adcode`` when present, else ``id``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> district_key(gpd.GeoDataFrame({"id": ["a"]}, geometry=[box(0, 0, 1, 1)]))
    'id'
    """
    return "adcode" if "adcode" in districts.columns else "id"


def assign_districts(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.Series:
    """Return the district (adcode, else id) of each feature of ``points``.

    Only the finest level is used when ``districts`` holds several (``level == "district"``
    rows when there are any). A polygon or line is placed by a representative point. Features
    outside every district get ``<NA>``.

    Parameters
    ----------
    points
        Features to place (any geometry; any CRS).
    districts
        Polygon layer with ``adcode`` or ``id``.

    Returns
    -------
    pandas.Series
        String dtype, indexed like ``points``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> d = gpd.GeoDataFrame({"adcode": ["310101", "310104"]},
    ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    >>> p = gpd.GeoDataFrame(geometry=[Point(0.5, 0.5), Point(1.5, 0.2), Point(5, 5)], crs=4326)
    >>> assign_districts(p, d).tolist()
    ['310101', '310104', <NA>]
    """
    has_crs(points, "points")
    has_crs(districts, "districts")
    polys = districts
    if "level" in polys.columns and (polys["level"] == "district").any():
        polys = polys[polys["level"] == "district"]
    key = district_key(polys)
    polys = gpd.GeoDataFrame({"_district": polys[key].astype("string").to_numpy()},
                             geometry=polys.geometry.to_numpy(), crs=polys.crs).to_crs(points.crs)
    geoms = points.geometry
    where = geoms.where(geoms.geom_type == "Point", geoms.representative_point())
    probe = gpd.GeoDataFrame(geometry=where.to_numpy(), index=points.index, crs=points.crs)
    joined = gpd.sjoin(probe, polys, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["_district"].astype("string").reindex(points.index)
