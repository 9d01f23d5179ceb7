"""Enterprise clusters (DBSCAN/HDBSCAN) and the gap between clusters and designated places."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .._crs import resolve_metric_crs, stamp_metric_crs, stamped_metric_crs
from .._validate import ensure_metric, positive, same_crs
from ..errors import DataError, ParameterError, ParameterTypeError
from ..results import tag_result
from ._common import as_frame, metric_points

__all__ = ["DESIGNATED_KINDS", "DesignationGap", "clusters", "designation_gap"]

logger = logging.getLogger(__name__)

DESIGNATED_KINDS = ("zones", "functional_areas", "demonstrative_regions")
"""Atlas layers that count as designated places by default."""


def _labels(xy: np.ndarray, method: str, eps_m: float | None, min_samples: int,
            min_cluster_size: int | None) -> np.ndarray:
    if method == "dbscan":
        from sklearn.cluster import DBSCAN

        eps = positive(500.0 if eps_m is None else eps_m, "eps_m", "metres")
        return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(xy)
    if method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        mcs = min_cluster_size or max(min_samples, 5)
        if len(xy) <= mcs:
            return np.full(len(xy), -1)
        eps = 0.0 if eps_m is None else positive(eps_m, "eps_m", "metres")
        model = HDBSCAN(min_cluster_size=mcs, min_samples=min_samples,
                        cluster_selection_epsilon=eps, copy=True)
        return model.fit_predict(xy)
    msg = f"method must be 'dbscan' or 'hdbscan', got {method!r}."
    raise ParameterError(msg)


def _footprint_buffer(xy: np.ndarray, method: str, eps_m: float | None, min_samples: int,
                      buffer_m: float | None) -> float:
    if buffer_m is not None:
        return positive(buffer_m, "buffer_m", "metres")
    if method == "dbscan":
        return 0.5 * (500.0 if eps_m is None else float(eps_m))
    k = min(min_samples, len(xy) - 1)
    if k < 1:
        return 50.0
    dist, _ = cKDTree(xy).query(xy, k=k + 1)
    core = float(np.median(np.asarray(dist)[:, -1]))
    return max(0.5 * core, 1.0)


def clusters(points: gpd.GeoDataFrame, *, method: Literal["dbscan", "hdbscan"] = "dbscan",
             eps_m: float | None = 500.0, min_samples: int = 10, by: str | None = None,
             min_cluster_size: int | None = None, buffer_m: float | None = None,
             sector_column: str = "sector", revenue_column: str = "revenue_cny",
             metric_crs: str | None = None) -> gpd.GeoDataFrame:
    """Return cluster polygons of enterprises with counts, sector mix and revenue.

    Footprint rule: a cluster's polygon is the convex hull of its members buffered by
    ``buffer_m`` (default: ``eps_m / 2`` for DBSCAN, so members within ``eps_m`` of each other
    have touching buffers; for HDBSCAN half the median distance of all points to their
    ``min_samples``-th neighbour). Noise points belong to no cluster.

    Parameters
    ----------
    points
        Enterprise points (any CRS; clustered in ``metric_crs`` metres).
    method
        ``"dbscan"`` (``eps_m`` neighbourhood, ``min_samples``) or ``"hdbscan"``
        (``min_cluster_size``, ``min_samples``; ``eps_m`` is the cluster-selection epsilon).
    eps_m
        DBSCAN neighbourhood radius in metres (HDBSCAN: merge clusters closer than this).
    min_samples
        Core-point neighbourhood size (including the point itself).
    by
        Optional column (e.g. ``"sector"``) to cluster each category separately.
    min_cluster_size
        HDBSCAN's smallest cluster (default ``max(min_samples, 5)``).
    buffer_m
        Footprint buffer in metres (see the rule above).
    sector_column, revenue_column
        Columns used for the sector mix and revenue when present.
    metric_crs
        Metric CRS for geographic input ; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cluster in the input CRS, ordered by size: ``id`` (``"cl001"`` or
        ``"<category>-001"``), ``n`` (int, members), ``dominant_sector`` (str),
        ``share_<sector>`` (float 0-1) per sector present, ``revenue_cny`` (float, sum; when
        the column exists), ``area_km2`` (float, footprint), ``density_per_km2`` (float) and
        ``<by>`` when ``by`` is set. Result kind ``"clusters"``.

    Raises
    ------
    DataError
        Empty layer, non-point geometries or NaN revenue.
    ValueError
        Unknown method or non-positive ``eps_m``/``min_samples``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> xy = np.r_[rng.normal(0, 100, (40, 2)), rng.normal(5000, 100, (30, 2))]
    >>> firms = gpd.GeoDataFrame({"sector": ["design"] * 70}, crs="EPSG:32651",
    ...                          geometry=gpd.points_from_xy(*xy.T))
    >>> cl = clusters(firms, eps_m=150, min_samples=5)
    >>> cl["n"].tolist(), cl["dominant_sector"].tolist()
    ([40, 30], ['design', 'design'])
    """
    if isinstance(min_samples, bool) or int(min_samples) < 1:
        msg = f"min_samples must be a positive integer, got {min_samples!r}."
        raise ParameterError(msg)
    located = metric_points(points, "points", metric_crs)
    metric, xy = as_frame(located.frame, "points"), located.xy
    groups: list[tuple[str | None, np.ndarray]] = [(None, np.arange(len(xy)))]
    if by is not None:
        if by not in metric.columns:
            msg = f"points has no column {by!r}; it has {list(metric.columns)}."
            raise DataError(msg)
        cats = metric[by].astype("string")
        groups = [(str(c), np.flatnonzero((cats == c).to_numpy(dtype=bool, na_value=False)))
                  for c in sorted(cats.dropna().unique())]
    has_sector = sector_column in metric.columns
    has_revenue = revenue_column in metric.columns
    if has_revenue:
        rev = pd.to_numeric(metric[revenue_column], errors="coerce").to_numpy(dtype="float64")
        if np.isnan(rev).any():
            msg = f"column {revenue_column!r} has NaN/non-numeric values; fill or drop them."
            raise DataError(msg)
    rows: list[dict[str, object]] = []
    for cat, idx in groups:
        if idx.size == 0:
            continue
        sub = xy[idx]
        labels = _labels(sub, method, eps_m, int(min_samples), min_cluster_size)
        buf = _footprint_buffer(sub, method, eps_m, int(min_samples), buffer_m)
        for lab in np.unique(labels[labels >= 0]):
            members = idx[labels == lab]
            pts = xy[members]
            geom = shapely.buffer(shapely.convex_hull(shapely.multipoints(pts)), buf)
            row: dict[str, object] = {"_cat": cat, "n": int(members.size), "geometry": geom}
            if has_sector:
                mix = metric[sector_column].iloc[members].astype(str).value_counts(normalize=True)
                row["dominant_sector"] = str(mix.sort_index().idxmax())
                row.update({f"share_{s}": float(v) for s, v in mix.items()})
            if has_revenue:
                row[revenue_column] = float(rev[members].sum())
            rows.append(row)
    crs = located.crs
    if not rows:
        logger.info("no clusters found (%s, eps_m=%s, min_samples=%s)", method, eps_m, min_samples)
        empty = gpd.GeoDataFrame({"id": pd.Series(dtype=str), "n": pd.Series(dtype="int64"),
                                  "area_km2": pd.Series(dtype=float)},
                                 geometry=gpd.GeoSeries([], crs=crs))
        out = empty.to_crs(points.crs)
        stamp_metric_crs(out, crs.to_string())
        tag_result(out, "clusters")
        return out
    frame = pd.DataFrame(rows).sort_values(["_cat", "n"], ascending=[True, False],
                                           kind="stable", na_position="first")
    share_cols = sorted(c for c in frame.columns if c.startswith("share_"))
    frame[share_cols] = frame[share_cols].fillna(0.0)
    counter = frame.groupby("_cat", dropna=False).cumcount() + 1
    frame.insert(0, "id", [f"{c}-{k:03d}" if c is not None else f"cl{k:03d}"
                           for c, k in zip(frame["_cat"], counter, strict=True)])
    if by is not None:
        frame[by] = frame["_cat"]
    frame = frame.drop(columns="_cat")
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
    out["area_km2"] = out.geometry.area / 1e6
    out["density_per_km2"] = out["n"] / out["area_km2"]
    ordered = ["id", "n", *(c for c in out.columns if c not in ("id", "n", "geometry")),
               "geometry"]
    out = out[ordered].reset_index(drop=True).to_crs(points.crs)
    stamp_metric_crs(out, crs.to_string())  # later steps measure where the clusters were made
    tag_result(out, "clusters")
    out.attrs.update({"method": method, "eps_m": "" if eps_m is None else f"{eps_m:g}",
                      "min_samples": str(min_samples), "footprint": "convex hull + buffer"})
    logger.info("%d clusters from %d points (%s)", len(out), len(xy), method)
    return out


@dataclass(frozen=True)
class DesignationGap:
    """Result of :func:`designation_gap`.

    Attributes
    ----------
    clusters
        The clusters with ``designation`` (``"designated"``, ``"partly"``,
        ``"undesignated"``), ``designated_share`` (float 0-1, share of the footprint covered
        by designated footprints) and ``designated_ids`` (str, ';'-joined).
        Result kind ``"designation_gap_clusters"``.
    designated
        Every designated place (``id``, ``kind`` = source layer, names, original geometry)
        with ``cluster_present`` (bool), ``cluster_ids`` (str), ``cluster_share`` (float,
        share of its footprint inside clusters) and ``cluster_strength`` (int, enterprises in
        the clusters it touches; 0 if absent). Result kind ``"designation_gap_designated"``.
    """

    clusters: gpd.GeoDataFrame
    designated: gpd.GeoDataFrame


def _designated_frame(designated: object) -> gpd.GeoDataFrame:
    if hasattr(designated, "layers"):
        layers = designated.layers  # an Atlas
        parts = {k: layers[k] for k in DESIGNATED_KINDS if k in layers}
        if not parts:
            msg = f"the atlas has none of the designated layers {DESIGNATED_KINDS}."
            raise DataError(msg)
    elif isinstance(designated, gpd.GeoDataFrame):
        parts = {"designated": designated}
    elif isinstance(designated, Mapping):
        parts = dict(designated)
    elif isinstance(designated, Sequence):
        parts = {f"layer{i}": g for i, g in enumerate(designated)}
    else:
        msg = (
            "designated must be an Atlas, a GeoDataFrame, a dict of GeoDataFrames or a list of "
            f"them, got {type(designated).__name__}."
        )
        raise ParameterTypeError(msg)
    frames = []
    crs = None
    for kind, gdf in parts.items():
        g = as_frame(gdf, f"designated[{kind!r}]")
        if crs is None:
            crs = g.crs
        g = g.to_crs(crs)
        keep = [c for c in ("id", "name_zh", "name_en") if c in g.columns]
        f = g[keep + [g.geometry.name]].copy()
        if f.geometry.name != "geometry":
            f = f.rename_geometry("geometry")
        if "id" not in f.columns:
            f["id"] = [f"{kind}-{i}" for i in range(len(f))]
        f.insert(1, "kind", kind)
        frames.append(f)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    stamp = next((s for s in map(stamped_metric_crs, parts.values()) if s), None)
    return stamp_metric_crs(out, stamp) if stamp else out


def designation_gap(clusters: gpd.GeoDataFrame, designated: object, *,
                    point_radius_m: float = 500.0, designated_share: float = 0.5,
                    metric_crs: str | None = None) -> DesignationGap:
    """Compare enterprise clusters with designated places, both ways.

    Designated places are footprints: polygons as they are, points buffered by
    ``point_radius_m``. A cluster is ``"designated"`` when at least ``designated_share`` of
    its footprint is covered by designated footprints, ``"partly"`` when some is, and
    ``"undesignated"`` otherwise. A designated place has a cluster present when its footprint
    intersects a cluster; its strength is the number of enterprises in those clusters.

    Parameters
    ----------
    clusters
        Output of :func:`clusters`.
    designated
        An :class:`~cci_geo.atlas.Atlas` (its ``zones``, ``functional_areas`` and
        ``demonstrative_regions``), a GeoDataFrame, or a dict/list of GeoDataFrames.
        Required: the demo atlas is never loaded by itself.
    point_radius_m
        Radius in metres given to point-designated places.
    designated_share
        Coverage share above which a cluster counts as designated.
    metric_crs
        Metric CRS for areas and buffers ; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    DesignationGap
        ``.clusters`` and ``.designated`` GeoDataFrames (see :class:`DesignationGap`).

    Raises
    ------
    CRSMismatchError
        If the clusters and the designated places have different CRSs.
    TypeError
        If ``designated`` is of an unknown type.
    cci_geo.errors.ParameterError
        If ``designated`` is None.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> cl = gpd.GeoDataFrame({"id": ["cl001", "cl002"], "n": [40, 25]}, crs="EPSG:32651",
    ...                       geometry=[box(0, 0, 1000, 1000), box(5000, 0, 6000, 1000)])
    >>> parks = gpd.GeoDataFrame({"id": ["p1"]}, geometry=[box(0, 0, 1000, 900)],
    ...                          crs="EPSG:32651")
    >>> gap = designation_gap(cl, parks)
    >>> gap.clusters["designation"].tolist(), gap.designated["cluster_strength"].tolist()
    (['designated', 'undesignated'], [40])
    """
    if designated is None:
        msg = ("designation_gap() needs the designated places: pass an Atlas (its zones, "
               "functional_areas and demonstrative_regions), a GeoDataFrame or a list of them; "
               "the demo atlas is never loaded by itself.")
        raise ParameterError(msg)
    r = positive(point_radius_m, "point_radius_m", "metres")
    if not 0 < designated_share <= 1:
        msg = f"designated_share must be in (0, 1], got {designated_share!r}."
        raise ParameterError(msg)
    places = _designated_frame(designated)
    cl = clusters if isinstance(clusters, gpd.GeoDataFrame) else as_frame(clusters, "clusters")
    if len(cl):
        same_crs(cl, places, "clusters", "designated")
    crs = resolve_metric_crs(cl, places, metric_crs=metric_crs)
    cl_m = ensure_metric(cl, "clusters", crs) if len(cl) else cl
    pl_m = ensure_metric(places, "designated", crs)
    if len(cl):
        pl_m = pl_m.to_crs(cl_m.crs)
    geoms = pl_m.geometry.values
    is_area = np.isin(shapely.get_type_id(geoms), (3, 6))
    foot = np.where(is_area, shapely.make_valid(geoms), shapely.buffer(geoms, r))
    cfoot = np.asarray(cl_m.geometry.values) if len(cl) else np.empty(0, dtype=object)
    union = shapely.union_all(foot) if len(foot) else shapely.Polygon()
    covered = shapely.area(shapely.intersection(cfoot, union))
    share = covered / np.maximum(shapely.area(cfoot), 1e-12)
    tree = shapely.STRtree(foot)
    ci, pj = tree.query(cfoot, predicate="intersects") if len(cfoot) else (np.empty(0, int),) * 2
    out_cl = cl.copy()
    out_cl["designated_share"] = share if len(cl) else np.empty(0)
    out_cl["designation"] = np.select([share >= designated_share, share > 0],
                                      ["designated", "partly"], "undesignated") \
        if len(cl) else np.empty(0, dtype=object)
    ids_p = places["id"].astype(str).to_numpy()
    ids_c = cl["id"].astype(str).to_numpy() if len(cl) else np.empty(0, dtype=object)
    out_cl["designated_ids"] = [";".join(sorted(set(ids_p[pj[ci == i]]))) for i in range(len(cl))]
    tag_result(out_cl, "designation_gap_clusters")
    n_c = cl["n"].to_numpy() if len(cl) else np.empty(0)
    cover = shapely.union_all(cfoot) if len(cfoot) else shapely.Polygon()
    out_pl = places.copy()
    out_pl["cluster_present"] = [bool((pj == j).any()) for j in range(len(places))]
    out_pl["cluster_ids"] = [";".join(ids_c[ci[pj == j]]) for j in range(len(places))]
    out_pl["cluster_share"] = shapely.area(shapely.intersection(foot, cover)) / np.maximum(
        shapely.area(foot), 1e-12)
    out_pl["cluster_strength"] = [int(n_c[ci[pj == j]].sum()) for j in range(len(places))]
    tag_result(out_pl, "designation_gap_designated")
    logger.info("designation gap: %d undesignated clusters, %d designated places without cluster",
                int((out_cl["designation"] == "undesignated").sum()),
                int((~out_pl["cluster_present"]).sum()))
    return DesignationGap(clusters=out_cl, designated=out_pl)
