"""Corridor axes (from ordered nodes or a planner's line layer) and corridor zones (buffers)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point

from .. import _validate
from ..errors import DataError, ParameterError, ParameterTypeError
from ..results import tag_result
from ._common import (
    check_layer,
    feature_ids,
    metric_crs_for,
    origin_node_from_roles,
    require_geom_types,
    to_metric,
)

__all__ = ["corridor_zones", "corridors_from_lines", "corridors_from_nodes"]

logger = logging.getLogger(__name__)

_TEXT_COLUMNS = ("name_zh", "name_en", "kind")


def _parse_spec(spec: pd.DataFrame | Mapping[str, str | Sequence[str]], sep: str
                ) -> pd.DataFrame:
    """Return the corridor spec as a DataFrame with ``id`` and ``node_list`` (list of str)."""
    if isinstance(spec, Mapping):
        rows = [{"id": str(k), "node_ids": v} for k, v in spec.items()]
        frame = pd.DataFrame(rows, columns=["id", "node_ids"])
    elif isinstance(spec, pd.DataFrame):
        for col in ("id", "node_ids"):
            if col not in spec.columns:
                msg = (
                    f"spec lacks column {col!r}; it has {list(spec.columns)}. A corridor spec "
                    "needs 'id' and 'node_ids' (ordered node ids joined by ';')."
                )
                raise DataError(msg)
        frame = pd.DataFrame(spec.drop(columns=spec.geometry.name)
                             if isinstance(spec, gpd.GeoDataFrame) else spec).copy()
        frame = frame.reset_index(drop=True)
    else:
        msg = (
            "spec must be a DataFrame with 'id' and 'node_ids' columns or a mapping "
            f"{{corridor id: node ids}}, got {type(spec).__name__}."
        )
        raise ParameterTypeError(msg)
    if len(frame) == 0:
        msg = "spec has no corridors; pass at least one row with 'id' and 'node_ids'."
        raise DataError(msg)
    frame["id"] = frame["id"].astype(str)
    dup = frame["id"][frame["id"].duplicated()]
    if len(dup):
        msg = f"spec corridor ids must be unique; duplicated: {sorted(set(dup))}."
        raise DataError(msg)
    lists: list[list[str]] = []
    for cid, raw in zip(frame["id"], frame["node_ids"], strict=True):
        if isinstance(raw, str):
            items = [s.strip() for s in raw.split(sep)]
        elif isinstance(raw, Sequence):
            items = [str(s).strip() for s in raw]
        else:
            msg = (
                f"corridor {cid!r}: node_ids must be a {sep!r}-joined string or a list of node "
                f"ids, got {raw!r}."
            )
            raise DataError(msg)
        lists.append([s for s in items if s])
    frame["node_list"] = lists
    return frame


def _collapse_repeats(ids: list[str]) -> list[str]:
    """Drop consecutive repeats (a;a;b -> a;b)."""
    out: list[str] = []
    for i in ids:
        if not out or out[-1] != i:
            out.append(i)
    return out


def corridors_from_nodes(
    nodes: gpd.GeoDataFrame,
    spec: pd.DataFrame | Mapping[str, str | Sequence[str]],
    *,
    origin: str | None = None,
    kinds: Sequence[str] | None = None,
    id_column: str = "id",
    sep: str = ";",
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Build corridor axes as polylines through ordered nodes.

    Each corridor is a straight-segment polyline through its nodes in the order given, e.g. the
    Jing-Jin-Ji development axes and cultural belts of the reference tables
    (``jingjinji_corridors.csv``) over ``jingjinji_nodes.csv``, or the atlas layers
    ``corridors`` and ``nodes``. Lengths are measured in the metric CRS.

    Parameters
    ----------
    nodes
        Point layer of nodes with a unique id column (``id`` by default), e.g. ``atlas["nodes"]``.
    spec
        The corridors: a DataFrame (or GeoDataFrame, whose geometry is ignored and rebuilt) with
        columns ``id`` and ``node_ids`` (ordered node ids joined by ``sep``, or lists), and
        optionally ``name_zh``, ``name_en``, ``kind`` and any other columns (kept); or a mapping
        ``{corridor id: "a;b;c" or ["a", "b", "c"]}``.
    origin
        Node id from which the signed distance along each corridor (``from_origin_km`` in
        :func:`membership`) is counted (e.g. ``"beijing"`` for the Jing-Jin-Ji axes). Default
        ``None``: taken from the data, the node whose ``role`` starts with the word ``capital``
        (then ``core``, ``hub``, ``origin``; the first such row), logged; if no node has such
        a role, every corridor counts from its own first node. ``"first"`` forces the latter.
        A corridor that does not pass through the origin counts from its first node.
    kinds
        Keep only corridors whose ``kind`` is in ``kinds`` (e.g. ``["development_axis"]``).
    id_column
        Id column of ``nodes``.
    sep
        Separator of ``node_ids`` strings.
    metric_crs
        Projected CRS for lengths; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per corridor in the CRS of ``nodes``, in ``spec`` order, with columns
        ``id``, ``name_zh``, ``name_en``, ``kind`` (empty string when not given), ``node_ids``
        (``;``-joined, consecutive repeats removed), ``n_nodes``, ``start_node``, ``end_node``,
        ``origin_node`` (node from which distances are signed), ``origin_km`` (km from the first
        node to ``origin_node`` along the axis), ``length_km``, plus any other spec columns.
        Result kind ``"corridors"``.

    Raises
    ------
    cci_geo.errors.DataError
        Unknown node ids (named, with the valid ids listed), a corridor with fewer than two
        distinct nodes or of zero length, duplicated ids, non-Point nodes.
    cci_geo.errors.CRSMismatchError
        ``nodes`` has no CRS or coordinates that do not fit its CRS.
    cci_geo.errors.ParameterError
        ``origin`` is not a node id.

    See Also
    --------
    corridors_from_lines : corridors from a planner's own line layer.
    corridor_zones : buffer the axes into zones.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> nodes = gpd.GeoDataFrame({"id": ["beijing", "langfang", "tianjin"]},
    ...     geometry=[Point(116.3912, 39.9059), Point(116.7036, 39.5236), Point(117.2054, 39.1336)],
    ...     crs="EPSG:4326")
    >>> ax = corridors_from_nodes(nodes, {"AX01": "beijing;langfang;tianjin"})
    >>> ax.loc[0, "node_ids"], round(float(ax.loc[0, "length_km"])), ax.loc[0, "origin_node"]
    ('beijing;langfang;tianjin', 111, 'beijing')

    With no ``role`` column and no ``origin=``, each corridor counts from its first node;
    here ``origin="tianjin"`` signs distances from Tianjin instead:

    >>> ax = corridors_from_nodes(nodes, {"AX01": "beijing;langfang;tianjin"}, origin="tianjin")
    >>> round(float(ax.loc[0, "origin_km"]))
    111
    """
    check_layer(nodes, "nodes")
    require_geom_types(nodes, ("Point",), "nodes")
    ids = feature_ids(nodes, id_column, "nodes")
    frame = _parse_spec(spec, sep)
    if kinds is not None:
        if "kind" not in frame.columns:
            msg = "kinds= was given but spec has no 'kind' column; drop kinds= or add the column."
            raise DataError(msg)
        frame = frame[frame["kind"].isin(list(kinds))].reset_index(drop=True)
        if len(frame) == 0:
            msg = f"no corridor of spec has kind in {list(kinds)}; check the kinds= values."
            raise DataError(msg)
    valid = set(ids)
    if origin is None:
        origin = origin_node_from_roles(nodes, ids)
        if origin is not None:
            logger.info("corridor distances are signed from node %r (its role); pass origin= "
                        "to choose another node", origin)
    elif origin == "first":
        origin = None
    elif origin not in valid:
        msg = (
            f"origin={origin!r} is not a node id; valid ids: {sorted(valid)}. Pass one of them, "
            "or origin='first' to count distances from each corridor's first node."
        )
        raise ParameterError(msg)
    metric = metric_crs_for(nodes, metric_crs=metric_crs)
    pts_m = to_metric(nodes, metric).geometry
    xy = dict(zip(ids, zip(pts_m.x.to_numpy(), pts_m.y.to_numpy(), strict=True), strict=True))
    native = dict(zip(ids, zip(nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy(),
                                strict=True), strict=True))
    lines: list[LineString] = []
    records: list[dict[str, object]] = []
    for row in frame.to_dict("records"):
        cid = str(row["id"])
        seq = list(row["node_list"])
        unknown = [n for n in seq if n not in valid]
        if unknown:
            msg = (
                f"corridor {cid!r} refers to unknown node id(s) {unknown}; valid node ids are "
                f"{sorted(valid)}. Fix the spelling in node_ids or add the node(s) to nodes."
            )
            raise DataError(msg)
        seq = _collapse_repeats(seq)
        if len(set(seq)) < 2:
            msg = (
                f"corridor {cid!r} has fewer than two distinct nodes ({row['node_ids']!r}); a "
                "corridor needs at least two different nodes in order."
            )
            raise DataError(msg)
        line = LineString([xy[n] for n in seq])
        if line.length <= 0:
            msg = (
                f"corridor {cid!r} has zero length: its nodes {seq} share one location. Check "
                "the node coordinates."
            )
            raise DataError(msg)
        if origin is not None and origin in seq:
            origin_node = origin
            origin_km = float(line.project(Point(xy[origin]))) / 1000.0
        else:
            origin_node, origin_km = seq[0], 0.0
        lines.append(LineString([native[n] for n in seq]))
        rec = {k: v for k, v in row.items() if k not in ("node_list", "geometry")}
        rec.update({
            "node_ids": ";".join(seq), "n_nodes": len(seq), "start_node": seq[0],
            "end_node": seq[-1], "origin_node": origin_node, "origin_km": origin_km,
            "length_km": float(line.length) / 1000.0,
        })
        records.append(rec)
    # Vertices are the nodes' own coordinates (no round trip through the metric CRS).
    out = gpd.GeoDataFrame(pd.DataFrame(records), geometry=lines, crs=nodes.crs)
    for col in _TEXT_COLUMNS:
        if col not in out.columns:
            out[col] = ""
    first = ["id", *_TEXT_COLUMNS, "node_ids", "n_nodes", "start_node", "end_node",
             "origin_node", "origin_km", "length_km"]
    rest = [c for c in out.columns if c not in first and c != "geometry"]
    out = out[[*first, *rest, "geometry"]]
    logger.debug("built %d corridors from %d nodes", len(out), len(nodes))
    return tag_result(out, "corridors")


def _orient(line: LineString, origin: Point | None) -> LineString:
    """Reverse ``line`` when its last vertex is nearer to ``origin`` than its first."""
    if origin is None:
        return line
    start, end = Point(line.coords[0]), Point(line.coords[-1])
    return line.reverse() if end.distance(origin) < start.distance(origin) else line


def corridors_from_lines(
    lines: gpd.GeoDataFrame,
    *,
    origin: tuple[float, float] | None = None,
    origin_snap_km: float = 5.0,
    id_column: str = "id",
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Turn a planner's own line layer into corridor axes usable for linear referencing.

    MultiLineStrings are merged into one line (``shapely.line_merge``). Lines keep the
    direction they are drawn in, unless ``origin`` is given: then each axis is oriented so that
    it starts at the end nearer to ``origin``.

    Parameters
    ----------
    lines
        (Multi)LineString layer with a unique id column; other columns are kept.
    origin
        ``(lon, lat)`` in WGS-84 of the end the corridors start from (e.g.
        :data:`cci_geo.corridors.BEIJING_LONLAT` for Jing-Jin-Ji). Default ``None``: each line
        is kept as drawn and distances count from its start.
    origin_snap_km
        When ``origin`` lies within this distance of an axis, distances along that axis are
        signed from the point of the axis nearest to ``origin`` (``origin_km``); otherwise from
        the start of the axis.
    id_column
        Id column of ``lines``; copied to ``id``.
    metric_crs
        Projected CRS for lengths; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per row in the CRS of ``lines``, same order, with the input columns plus
        ``id``, ``name_zh``, ``name_en``, ``kind`` (added empty when missing), ``origin_km`` and
        ``length_km``. Result kind ``"corridors"``.

    Raises
    ------
    cci_geo.errors.DataError
        Non-line rows, lines that cannot be merged into one (gaps or branches; the row is named),
        zero-length lines, duplicated or missing ids.
    cci_geo.errors.CRSMismatchError
        ``lines`` has no CRS or coordinates that do not fit its CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> own = gpd.GeoDataFrame({"id": ["C1"]}, crs="EPSG:4326",
    ...     geometry=[LineString([(117.2054, 39.1336), (116.3912, 39.9059)])])
    >>> [round(v, 4) for v in corridors_from_lines(own).geometry[0].coords[0]]   # as drawn
    [117.2054, 39.1336]
    >>> from cci_geo.corridors import BEIJING_LONLAT
    >>> c = corridors_from_lines(own, origin=BEIJING_LONLAT)   # turned to start at Beijing
    >>> [round(v, 4) for v in c.geometry[0].coords[0]]
    [116.3912, 39.9059]
    """
    check_layer(lines, "lines")
    require_geom_types(lines, ("LineString", "MultiLineString"), "lines")
    ids = feature_ids(lines, id_column, "lines")
    _validate.positive(origin_snap_km, "origin_snap_km", "km")
    metric = metric_crs_for(lines, metric_crs=metric_crs)
    geoms = to_metric(lines, metric).geometry
    origin_m: Point | None = None
    if origin is not None:
        x, y = Transformer.from_crs("EPSG:4326", metric, always_xy=True).transform(*origin)
        origin_m = Point(x, y)
    axes: list[LineString] = []
    origin_kms: list[float] = []
    for label, cid, geom in zip(lines.index, ids, geoms, strict=True):
        merged = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
        if merged.geom_type != "LineString":
            msg = (
                f"lines row {label!r} (id {cid!r}) is a MultiLineString with gaps or branches "
                "that do not merge into one line; linear referencing needs a single line. "
                "Connect the parts or split them into separate corridors."
            )
            raise DataError(msg)
        if merged.length <= 0:
            msg = f"lines row {label!r} (id {cid!r}) has zero length; drop or fix it."
            raise DataError(msg)
        axis = _orient(merged, origin_m)
        okm = 0.0
        if origin_m is not None and axis.distance(origin_m) <= origin_snap_km * 1000.0:
            okm = float(axis.project(origin_m)) / 1000.0
        axes.append(axis)
        origin_kms.append(okm)
    out = pd.DataFrame(lines.drop(columns=lines.geometry.name)).copy()
    out["id"] = ids.to_numpy()
    for col in _TEXT_COLUMNS:
        if col not in out.columns:
            out[col] = ""
    out["origin_km"] = origin_kms
    out["length_km"] = [a.length / 1000.0 for a in axes]
    res = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(axes, index=lines.index, crs=metric))
    res = res.to_crs(lines.crs)
    return tag_result(res, "corridors")


def _widths(corridors: gpd.GeoDataFrame, ids: pd.Series,
            width_km: float | Mapping[str, float]) -> np.ndarray:
    if isinstance(width_km, Mapping):
        lookup = {str(k): v for k, v in width_km.items()}
        missing = [i for i in ids if i not in lookup]
        if missing:
            msg = (
                f"width_km has no width for corridor id(s) {missing}; give a width for every "
                f"corridor ({list(ids)}) or a single number."
            )
            raise DataError(msg)
        return np.array([_validate.positive(lookup[i], f"width_km[{i!r}]", "km") for i in ids])
    w = _validate.positive(width_km, "width_km", "km")
    return np.full(len(corridors), w)


def corridor_zones(
    corridors: gpd.GeoDataFrame,
    *,
    width_km: float | Mapping[str, float],
    region: gpd.GeoDataFrame | None = None,
    cap: Literal["round", "flat"] = "round",
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Buffer corridor axes into corridor zones, clipped to the region.

    The buffer is computed in the metric CRS: a zone reaches ``width_km / 2`` on each side of
    its axis (``width_km`` is the full width of the zone).

    Parameters
    ----------
    corridors
        Axes from :func:`corridors_from_nodes` or :func:`corridors_from_lines` (needs ``id``).
    width_km
        Full zone width in km (> 0), one number for all or a mapping ``{corridor id: km}``.
    region
        Polygons the zones are clipped to (their union), e.g. ``atlas["districts"]``; must be in
        the CRS of ``corridors``. ``None`` leaves the zones unclipped.
    cap
        End caps of the buffer: ``"round"`` (default; reaches ``width_km / 2`` beyond the end
        nodes) or ``"flat"`` (stops at the end nodes).
    metric_crs
        Projected CRS of the buffers; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        One (Multi)Polygon per corridor in the CRS of ``corridors``, same order, with the
        corridor columns plus ``width_km``, ``half_width_km``, ``area_km2`` (after clipping) and
        ``clipped`` (bool). Result kind ``"corridor_zones"``.

    Raises
    ------
    ValueError
        ``width_km`` is zero, negative or not finite; ``cap`` is unknown.
    cci_geo.errors.CRSMismatchError
        ``region`` and ``corridors`` are in different CRSs (both are named).
    cci_geo.errors.DataError
        A zone does not overlap the region at all (the corridor is named).

    See Also
    --------
    membership : what falls in each zone, with distances along and from the axis.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> ax = gpd.GeoDataFrame({"id": ["A"]}, geometry=[LineString([(0, 0), (10_000, 0)])],
    ...                       crs="EPSG:32650")
    >>> z = corridor_zones(ax, width_km=2, cap="flat")
    >>> round(float(z.loc[0, "area_km2"]), 6)
    20.0
    """
    check_layer(corridors, "corridors")
    require_geom_types(corridors, ("LineString", "MultiLineString"), "corridors")
    ids = feature_ids(corridors, "id", "corridors")
    if cap not in ("round", "flat"):
        msg = f"cap must be 'round' or 'flat', got {cap!r}."
        raise ParameterError(msg)
    widths = _widths(corridors, ids, width_km)
    metric = metric_crs_for(corridors, metric_crs=metric_crs)
    axes = to_metric(corridors, metric).geometry.to_numpy()
    zones = shapely.buffer(axes, widths * 500.0, cap_style=cap, quad_segs=16)
    clipped = np.zeros(len(zones), dtype=bool)
    if region is not None:
        check_layer(region, "region")
        _validate.same_crs(corridors, region, "corridors", "region")
        require_geom_types(region, ("Polygon", "MultiPolygon"), "region")
        area = to_metric(region, metric).geometry.make_valid().union_all()
        before = shapely.area(zones)
        zones = shapely.intersection(zones, area)
        after = shapely.area(zones)
        empty = after <= 0
        if bool(empty.any()):
            msg = (
                f"corridor zone(s) {list(ids[empty])} do not overlap the region at all; check "
                "that region covers the corridors (same study area) or drop those corridors."
            )
            raise DataError(msg)
        clipped = after < before * (1 - 1e-9)
        zones = np.array([_polygonal(z) for z in zones], dtype=object)
    out = pd.DataFrame(corridors.drop(columns=corridors.geometry.name)).copy()
    out["width_km"] = widths
    out["half_width_km"] = widths / 2.0
    out["area_km2"] = shapely.area(zones) / 1e6
    out["clipped"] = clipped
    res = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(zones, index=corridors.index, crs=metric))
    res = res.to_crs(corridors.crs)
    logger.debug("built %d corridor zones (widths %s km)", len(res), sorted(set(widths)))
    return tag_result(res, "corridor_zones")


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygonal part of a clip result (drop stray lines/points on boundaries)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()

