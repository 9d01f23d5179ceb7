"""Corridor membership: what lies in each zone, how far along the corridor and off its axis."""

from __future__ import annotations

import logging
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .. import _validate
from ..errors import CRSMismatchError, DataError, ParameterError
from ..results import tag_result
from ..scale import compute, is_partitioned, read_partitioned, scheduler_client
from ..settings import Settings
from ._common import check_layer, feature_ids, metric_crs_for, to_metric

__all__ = ["MEMBERSHIP_COLUMNS", "membership"]

logger = logging.getLogger(__name__)

MEMBERSHIP_COLUMNS: tuple[str, ...] = (
    "corridor_id", "along_km", "from_origin_km", "position", "axis_distance_km", "share",
)
"""Columns :func:`membership` adds to the features of the layer."""


def _axes_for(zones: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame
              ) -> tuple[pd.Series, pd.DataFrame]:
    """Return the zone ids and, aligned to them, the corridor rows (axis and origin_km)."""
    zone_ids = feature_ids(zones, "id", "zones")
    corr_ids = feature_ids(corridors, "id", "corridors")
    missing = [z for z in zone_ids if z not in set(corr_ids)]
    if missing:
        msg = (
            f"zones {missing} have no corridor with the same id in corridors (ids "
            f"{list(corr_ids)}); pass the corridors the zones were built from."
        )
        raise DataError(msg)
    table = pd.DataFrame({
        "id": corr_ids.to_numpy(),
        "origin_km": (pd.to_numeric(corridors["origin_km"]).to_numpy()
                      if "origin_km" in corridors.columns else np.zeros(len(corridors))),
        "pos": np.arange(len(corridors)),
    }).set_index("id")
    return zone_ids, table.loc[list(zone_ids)]


def membership(
    zones: gpd.GeoDataFrame,
    layer: gpd.GeoDataFrame,
    *,
    corridors: gpd.GeoDataFrame,
    min_share: float = 0.0,
    metric_crs: str | None = None,
    settings: Settings | None = None,
) -> gpd.GeoDataFrame:
    """List the features of ``layer`` that fall in each corridor zone, with corridor distances.

    A point belongs to a zone when it lies in it (boundary included); a polygon or line when
    more than ``min_share`` of its area (length) lies in it. Distances are measured in the metric
    CRS. Distance along the corridor is linear referencing (``shapely.line_locate_point``) of the
    feature's reference point on the axis: the point itself, or the centroid of the part of the
    polygon/line inside the zone.

    Parameters
    ----------
    zones
        Corridor zones from :func:`corridor_zones`.
    layer
        Features to test: districts/cities, sites, enterprises... Any geometry type; all
        columns are kept. A dask-geopandas frame or the path/glob of a GeoParquet dataset
        (e.g. an enterprise registry) is tested partition by partition and the rows found are
        gathered in the same order as in memory (the result is usually small: what lies in
        the zones).
    corridors
        The corridor axes the zones were built from (matched on ``id``); they carry the axis
        geometry and ``origin_km``.
    min_share
        For polygons and lines, the share of the feature (0..1) that must lie in the zone; 0
        (default) keeps any overlap of positive area/length, e.g. 0.5 keeps districts mostly in
        the zone. Ignored for points.
    metric_crs
        Projected CRS for distances; default as :func:`cci_geo._crs.resolve_metric_crs`.
    settings
        Execution settings: ``scheduler`` where
        a partitioned ``layer`` is computed (see :mod:`cci_geo.scale`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (corridor, feature) pair, ordered by corridor (zones order), then by
        ``along_km``; the feature's columns and geometry (CRS of ``layer``), a fresh index, plus

        - ``corridor_id`` (str): id of the corridor zone;
        - ``along_km`` (float): km along the axis from its first node (the Beijing end for
          corridors drawn from Beijing outwards);
        - ``from_origin_km`` (float): ``along_km - origin_km``, signed km from the origin node
          (Beijing by default) along the axis; negative on the far side of the origin;
        - ``position`` (float): ``along_km`` as a share of the axis length, 0 at the start and
          1 at the end;
        - ``axis_distance_km`` (float): shortest distance from the feature to the axis (0 when a
          polygon or line crosses it);
        - ``share`` (float): share of the feature's area (polygons) or length (lines) inside the
          zone; 1.0 for points.

        Result kind ``"corridor_membership"``. A feature in two zones appears
        twice; a feature in none does not appear.

    Raises
    ------
    cci_geo.errors.CRSMismatchError
        ``zones``, ``layer`` and ``corridors`` are not all in the same CRS (both CRSs named).
    cci_geo.errors.DataError
        A zone has no matching corridor, or ``layer`` already has one of the output columns.
    ValueError
        ``min_share`` outside 0..1.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> from cci_geo.corridors import corridor_zones
    >>> ax = gpd.GeoDataFrame({"id": ["A"]}, geometry=[LineString([(0, 0), (10_000, 0)])],
    ...                       crs="EPSG:32650")
    >>> zones = corridor_zones(ax, width_km=4)
    >>> sites = gpd.GeoDataFrame({"id": ["s1", "s2"]}, crs="EPSG:32650",
    ...                          geometry=[Point(2500, 1500), Point(5000, 9000)])
    >>> m = membership(zones, sites, corridors=ax)
    >>> m[["id", "along_km", "axis_distance_km"]].to_numpy().tolist()
    [['s1', 2.5, 1.5]]
    """
    if is_partitioned(layer):
        crs = metric_crs_for(zones, corridors, metric_crs=metric_crs).to_string()
        return _partitioned_membership(zones, layer, corridors=corridors, min_share=min_share,
                                       metric_crs=crs, settings=settings)
    check_layer(zones, "zones")
    check_layer(layer, "layer")
    check_layer(corridors, "corridors")
    _validate.same_crs(zones, layer, "zones", "layer")
    _validate.same_crs(zones, corridors, "zones", "corridors")
    if not 0.0 <= float(min_share) < 1.0:
        msg = f"min_share must be in [0, 1), got {min_share!r}; e.g. 0.5 for 'mostly inside'."
        raise ParameterError(msg)
    clash = [c for c in MEMBERSHIP_COLUMNS if c in layer.columns]
    if clash:
        msg = (
            f"layer already has column(s) {clash} that membership() adds; rename or drop them "
            "(e.g. layer.drop(columns=[...])) first."
        )
        raise DataError(msg)
    zone_ids, axis_rows = _axes_for(zones, corridors)
    metric = metric_crs_for(zones, layer, corridors, metric_crs=metric_crs)
    zone_geoms = to_metric(zones, metric).geometry.to_numpy()
    axes_all = to_metric(corridors, metric).geometry.to_numpy()
    axes = axes_all[axis_rows["pos"].to_numpy()]
    feats = to_metric(layer, metric).geometry.to_numpy()

    tree = shapely.STRtree(zone_geoms)
    li, zi = tree.query(feats, predicate="intersects")
    g, z, a = feats[li], zone_geoms[zi], axes[zi]
    dims = shapely.get_dimensions(g)
    # Points are their own reference point; only polygons and lines are cut by the zone
    # (intersecting 20,000 points with detailed zone outlines would dominate the run time).
    inter = g.copy()
    extended = dims > 0
    inter[extended] = shapely.intersection(g[extended], z[extended])
    share = np.ones(len(li))
    with np.errstate(invalid="ignore", divide="ignore"):
        poly, line = dims == 2, dims == 1
        share[poly] = shapely.area(inter[poly]) / shapely.area(g[poly])
        share[line] = shapely.length(inter[line]) / shapely.length(g[line])
    share = np.nan_to_num(share, nan=0.0)
    keep = (dims == 0) | (share > min_share)
    li, zi, g, a, inter, share = li[keep], zi[keep], g[keep], a[keep], inter[keep], share[keep]
    ref = shapely.centroid(inter)
    along = shapely.line_locate_point(a, ref) / 1000.0
    lengths = shapely.length(a) / 1000.0
    origin = axis_rows["origin_km"].to_numpy()[zi]

    out = pd.DataFrame(layer.drop(columns=layer.geometry.name)).iloc[li].copy()
    out["corridor_id"] = zone_ids.to_numpy()[zi]
    out["along_km"] = along
    out["from_origin_km"] = along - origin
    out["position"] = along / lengths
    out["axis_distance_km"] = shapely.distance(g, a) / 1000.0
    out["share"] = share
    geom_name = layer.geometry.name
    out[geom_name] = layer.geometry.to_numpy()[li]
    res = gpd.GeoDataFrame(out, geometry=geom_name, crs=layer.crs)
    order = np.lexsort((li, along, zi))
    res = res.iloc[order].reset_index(drop=True)
    logger.debug("membership: %d (corridor, feature) pairs from %d features in %d zones",
                 len(res), len(layer), len(zones))
    if {"name_zh", "name_en"} <= set(zones.columns):  # for maps: names, not corridor ids
        res.attrs["corridor_names"] = {
            str(i): (str(zh), str(en))
            for i, zh, en in zip(zone_ids, zones["name_zh"], zones["name_en"], strict=True)}
    return tag_result(res, "corridor_membership")



_ROW = "_cci_geo_row"


def _membership_part(part: gpd.GeoDataFrame, offset: int, zones: gpd.GeoDataFrame,
                     corridors: gpd.GeoDataFrame, min_share: float,
                     metric_crs: str, settings: Settings | None) -> gpd.GeoDataFrame | None:
    if len(part) == 0:
        return None
    part = part.assign(**{_ROW: np.arange(offset, offset + len(part))})
    return membership(zones, part, corridors=corridors, min_share=min_share,
                      metric_crs=metric_crs, settings=settings)


def _partitioned_membership(zones: gpd.GeoDataFrame, layer: object, *,
                            corridors: gpd.GeoDataFrame, min_share: float,
                            metric_crs: str, settings: Settings | None) -> gpd.GeoDataFrame:
    import dask

    frame = read_partitioned(layer)
    if frame.crs is None or not CRS.from_user_input(frame.crs).equals(zones.crs):
        msg = (
            f"zones is in {zones.crs} but the partitioned layer is in {frame.crs}; reproject "
            "one of them (e.g. layer.to_crs(zones.crs))."
        )
        raise CRSMismatchError(msg)
    settings = settings or Settings()
    local = replace(settings, scheduler=None)
    with scheduler_client(settings.scheduler) as client:
        (lengths,) = compute(frame.map_partitions(len), client=client,
                             progress=settings.progress)
        offsets = np.r_[0, np.cumsum(np.asarray(lengths))[:-1]]
        z, c = dask.delayed(zones), dask.delayed(corridors)
        fn = dask.delayed(_membership_part, pure=True)
        tasks = [fn(p, int(o), z, c, min_share, metric_crs, local)
                 for p, o in zip(frame.to_delayed(), offsets, strict=True)]
        parts = compute(*tasks, client=client, progress=settings.progress)
    found = [p for p in parts if p is not None and len(p)]
    if not found:
        empty = [p for p in parts if p is not None]
        if not empty:
            msg = "the partitioned layer is empty (0 rows); pass a non-empty dataset."
            raise DataError(msg)
        return tag_result(empty[0].drop(columns=_ROW), "corridor_membership")
    res = pd.concat(found)
    zone_pos = {zid: i for i, zid in enumerate(feature_ids(zones, "id", "zones"))}
    zi = res["corridor_id"].map(zone_pos).to_numpy()
    order = np.lexsort((res[_ROW].to_numpy(), res["along_km"].to_numpy(), zi))
    res = res.iloc[order].drop(columns=_ROW).reset_index(drop=True)
    return tag_result(gpd.GeoDataFrame(res, geometry=found[0].geometry.name, crs=found[0].crs),
               "corridor_membership")
