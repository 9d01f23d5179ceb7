"""Concentration analyses over partitioned points (dask-geopandas or GeoParquet).

Every analysis here reduces the partitions to additive partial results — binned moment
grids, cell counts and sums, area x sector tables — sums them, then finishes exactly as the
in-memory path does from the same totals.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
from pyproj import CRS

from .._crs import estimate_utm_crs, resolve_metric_crs
from .._validate import metric_target
from ..errors import CRSMismatchError, DataError, ParameterError
from ..raster import Surface
from ..scale import compute, read_partitioned, scheduler_client, sum_partitions
from ..settings import Settings
from ._common import finite_values, metric_points, to_frame, xy_bounds
from ._parquet_points import ParquetPoints, open_parquet_points, read_points

__all__ = [
    "metric_crs_of",
    "partition_bounds",
    "partitioned_density",
    "partitioned_grid_counts",
    "partitioned_sector_stats",
]

logger = logging.getLogger(__name__)


def metric_crs_of(frame: Any, metric_crs: str | None) -> CRS:
    """Return the CRS partitions are measured in (as :func:`cci_geo._crs.resolve_metric_crs`).

    The explicit ``metric_crs`` wins, then the frame's own projected CRS; otherwise the UTM
    zone is estimated from the first non-empty partition's extent.
    """
    if frame.crs is None:
        msg = "the partitioned points have no CRS; set it (e.g. ddf.set_crs('EPSG:4326'))."
        raise DataError(msg)
    if metric_crs is not None:
        return CRS.from_user_input(resolve_metric_crs(metric_crs=metric_crs))
    crs = CRS.from_user_input(frame.crs)
    if crs.is_projected:
        return crs
    for i in range(frame.npartitions):
        sample = frame.get_partition(i).compute()
        if len(sample):
            return CRS.from_user_input(resolve_metric_crs(sample))
    msg = "the partitioned points are empty (0 rows); pass a non-empty dataset."
    raise DataError(msg)


def _part_xy(part: Any, metric_crs: str, weight: Any) -> tuple[np.ndarray, np.ndarray]:
    if len(part) == 0:
        return np.empty((0, 2)), np.empty(0)
    pts = metric_points(part, "points", metric_crs)
    return pts.xy, finite_values(pts.frame, weight, "points")


def _bounds_part(part: Any, metric_crs: str, weight: Any) -> np.ndarray:
    """Return ``[n, sum w, -xmin, -ymin, xmax, ymax]`` of one partition."""
    xy, w = _part_xy(part, metric_crs, weight)
    if len(xy) == 0:
        return np.array([0.0, 0.0, -np.inf, -np.inf, -np.inf, -np.inf])
    xmin, ymin, xmax, ymax = xy_bounds(xy)
    return np.array([len(xy), float(w.sum()), -xmin, -ymin, xmax, ymax])


def _merge_bounds(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.r_[a[:2] + b[:2], np.maximum(a[2:], b[2:])]


def partition_bounds(frame: Any, metric_crs: str, weight: Any = None,
                     client: Any = None, progress: bool = False) -> tuple[int, float, tuple]:
    """Return ``(n points, total weight, (xmin, ymin, xmax, ymax))`` in one pass."""
    task = sum_partitions(frame, _bounds_part, metric_crs, weight, combine=_merge_bounds)
    (stats,) = compute(task, client=client, progress=progress)
    n = int(stats[0])
    if n == 0:
        msg = "the partitioned points are empty (0 rows); pass a non-empty dataset."
        raise DataError(msg)
    return n, float(stats[1]), (-stats[2], -stats[3], stats[4], stats[5])


def _density_part(part: Any, metric_crs: str, weight: Any, plan: dict[str, Any]) -> tuple:
    from . import kde

    xy, w = _part_xy(part, metric_crs, weight)
    if plan["exact"]:
        grid, touched, in_grid = kde._exact_quartic_sum(
            xy, w, plan["transform"], plan["shape"], plan["h"])
        return grid, np.array([touched, 0 if touched == 0 else in_grid])
    fine = plan["fine"]
    moments, n_in = kde.bin_moments(xy, None if weight is None else w, fine.origin, fine.d,
                                    fine.shape)
    return moments, np.array([n_in, n_in])


def _merge_pair(a: tuple, b: tuple) -> tuple:
    return a[0] + b[0], a[1] + b[1]


def partitioned_density(points: Any, *, cell_size: float, bandwidth: float | None,
                        kernel: str, weight: str | None, extent: object,
                        metric_crs: str | None, units: str | None,
                        settings: Settings | None) -> Surface:
    """Kernel density of partitioned points (see :func:`cci_geo.concentration.kernel_density`)."""
    from . import kde

    if bandwidth is None:
        msg = (
            "kernel_density of partitioned points needs bandwidth_m= in metres: the default rule "
            "takes a median distance over all points, which is not additive over partitions; "
            "compute it once with default_bandwidth() on a sample, or choose it."
        )
        raise ParameterError(msg)
    h = kde.positive(bandwidth, "bandwidth_m", "metres")
    if isinstance(points, (str, os.PathLike, list, tuple)):
        info = open_parquet_points(points)
        if info is not None:
            return _parquet_density(info, h=h, cell_size=cell_size, kernel=kernel, weight=weight,
                                    extent=extent, metric_crs=metric_crs, units=units,
                                    settings=settings or Settings())
    columns = [weight] if isinstance(weight, str) else []
    frame = read_partitioned(points, columns=columns or None)
    crs = metric_crs_of(frame, metric_crs)
    mcrs = crs.to_string()
    support = h if kernel == "quartic" else kde._GAUSS_TRUNCATE * h
    settings = settings or Settings()
    with scheduler_client(settings.scheduler) as client:
        n, total, (xmin, ymin, xmax, ymax) = partition_bounds(frame, mcrs, weight, client,
                                                             settings.progress)
        if extent is None:
            extent = (xmin - support, ymin - support, xmax + support, ymax + support)
            logger.info("kde grid extent from the bounds pass over %d points: %s", n, extent)
        transform, shape = kde._resolve_grid(extent, np.empty((0, 2)), support, cell_size, crs,
                                             settings)
        plan: dict[str, Any] = {"exact": kde._uses_exact(kernel, h, float(transform.a), n),
                                "transform": transform, "shape": shape, "h": h}
        if not plan["exact"]:
            plan["fine"] = kde._fine_grid(transform, shape, kernel, h, support, settings)
        # partials are grid-sized (six moment grids): combine them two at a time
        task = sum_partitions(frame, _density_part, mcrs, weight, plan, combine=_merge_pair,
                              split_every=2)
        (grid, counts), = compute(task, client=client, progress=settings.progress)
    n_in = int(counts[1])
    kde._check_reach(n_in, n, transform, shape, support)
    if plan["exact"]:
        data = grid
    else:
        fine = plan["fine"]
        data = kde._convolve_moments(grid, fine, shape, kernel, h, node_units=True)
    return kde.density_surface(data, transform, crs, kernel=kernel, h=h, rule="given",
                               n_points=n, weight=weight, total=total, units=units)


# ------------------------------------------------------------------ GeoParquet paths
def parquet_metric_crs(info: ParquetPoints, metric_crs: str | None) -> CRS:
    """Return the metric CRS of a GeoParquet point set, as the in-memory path would choose it.

    The explicit ``metric_crs`` wins, then the files' own projected CRS (in metres); for
    geographic files the UTM zone of the files' ``bbox`` metadata (or of the first file's
    points when a file has none).
    """
    if metric_crs is not None:
        return CRS.from_user_input(resolve_metric_crs(metric_crs=metric_crs))
    if info.crs is None:
        msg = ("the GeoParquet points have no CRS (their metadata says it is unknown); pass "
               "metric_crs='EPSG:...' if they are in metres of that CRS, or set the CRS.")
        raise CRSMismatchError(msg)
    if info.crs.is_projected:
        import geopandas as gpd

        metric_target(gpd.GeoSeries([], crs=info.crs), "points")  # refuses feet and the like
        return info.crs
    box = info.bbox()
    if box is None:
        xy, _ = read_points(info.files[0], info, None, info.crs)
        box = xy_bounds(xy) if len(xy) else None
    if box is None:
        msg = "the GeoParquet points are empty (0 rows); pass a non-empty dataset."
        raise DataError(msg)
    return CRS.from_user_input(estimate_utm_crs(box))


_STATS = 7  # n, n binned, total weight, -xmin, -ymin, xmax, ymax


def _file_stats(xy: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    if len(xy) == 0:
        return np.array([0.0, 0.0, 0.0, -np.inf, -np.inf, -np.inf, -np.inf])
    xmin, ymin, xmax, ymax = xy_bounds(xy)
    total = float(len(xy)) if w is None else float(w.sum())
    return np.array([len(xy), 0.0, total, -xmin, -ymin, xmax, ymax])


def _merge_stats(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.r_[a[:3] + b[:3], np.maximum(a[3:], b[3:])]


def _bounds_files(files: list[str], info: ParquetPoints, metric: str,
                  weight: str | None) -> np.ndarray:
    """Return the stats of a group of files (one pass that only decodes coordinates)."""
    stats = _file_stats(np.empty((0, 2)), None)
    crs = CRS.from_user_input(metric)
    for path in files:
        xy, w = read_points(path, info, weight, crs)
        stats = _merge_stats(stats, _file_stats(xy, w))
    return stats


def _bin_files(files: list[str], info: ParquetPoints, metric: str, weight: str | None,
               plan: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Bin a group of files into one set of additive grids, file after file."""
    from . import kde

    crs = CRS.from_user_input(metric)
    stats = _file_stats(np.empty((0, 2)), None)
    if plan["exact"]:
        grid = np.zeros(plan["shape"])
    else:
        fine = plan["fine"]
        grid = np.zeros((6, *fine.shape))
    for path in files:
        xy, w = read_points(path, info, weight, crs)
        part = _file_stats(xy, w)
        if plan["exact"]:
            dens, touched, in_grid = kde._exact_quartic_sum(
                xy, np.ones(len(xy)) if w is None else w, plan["transform"], plan["shape"],
                plan["h"])
            grid += dens
            part[1] = 0 if touched == 0 else in_grid
        else:
            _, part[1] = kde.bin_moments(xy, w, fine.origin, fine.d, fine.shape, out=grid)
        stats = _merge_stats(stats, part)
    return grid, stats


def _merge_grids(a: tuple[np.ndarray, np.ndarray],
                 b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Add two groups' grids into the first (each partial is consumed exactly once)."""
    grid, stats = a
    grid += b[0]
    return grid, _merge_stats(stats, b[1])


def _slots(client: Any) -> int:
    """Tasks that run at once: the cluster's worker threads, or this machine's cores."""
    if client is not None:
        return max(1, int(sum(client.nthreads().values())))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _tree(tasks: list[Any], combine: Any) -> Any:
    import dask

    merge = dask.delayed(combine, pure=True)
    while len(tasks) > 1:
        tasks = [merge(*tasks[i:i + 2]) if i + 1 < len(tasks) else tasks[i]
                 for i in range(0, len(tasks), 2)]
    return tasks[0]


def _parquet_density(info: ParquetPoints, *, h: float, cell_size: float, kernel: str,
                     weight: str | None, extent: object, metric_crs: str | None,
                     units: str | None, settings: Settings) -> Surface:
    """Kernel density of GeoParquet points decoded straight to arrays (see the module doc).

    The files are split into as many groups as tasks can run at once; each group's task
    reads its files one after the other and adds them into one set of six moment grids (so
    a worker holds one set, not one per file); the groups' grids are added pairwise and
    convolved once. The grid extent comes from ``extent``, else from the files' ``bbox``
    metadata (when they are in the metric CRS; checked against the points afterwards), else
    from a first pass that decodes the coordinates.
    """
    import dask

    from . import kde

    crs = parquet_metric_crs(info, metric_crs)
    mcrs = crs.to_wkt()
    support = h if kernel == "quartic" else kde._GAUSS_TRUNCATE * h
    with scheduler_client(settings.scheduler) as client:
        k = min(len(info.files), _slots(client))
        groups = [list(g) for g in np.array_split(np.array(info.files, dtype=object), k)]
        meta_box = info.bbox() if info.crs is not None and info.crs.equals(crs) else None
        if extent is None and meta_box is None:
            bounds_task = _tree([dask.delayed(_bounds_files, pure=True)(g, info, mcrs, weight)
                                 for g in groups], _merge_stats)
            (stats,) = compute(bounds_task, client=client, progress=settings.progress)
            if stats[0] == 0:
                msg = "the GeoParquet points are empty (0 rows); pass a non-empty dataset."
                raise DataError(msg)
            meta_box = (-stats[3], -stats[4], stats[5], stats[6])
        grid_box = meta_box if extent is None else None
        if extent is None:
            xmin, ymin, xmax, ymax = grid_box  # type: ignore[misc]
            extent = (xmin - support, ymin - support, xmax + support, ymax + support)
            logger.info("kde grid extent from the points' bounds: %s", extent)
        transform, shape = kde._resolve_grid(extent, np.empty((0, 2)), support, cell_size, crs,
                                             settings)
        plan: dict[str, Any] = {"exact": kde._uses_exact(kernel, h, float(transform.a),
                                                        info.n_rows),
                                "transform": transform, "shape": shape, "h": h}
        if not plan["exact"]:
            plan["fine"] = kde._fine_grid(transform, shape, kernel, h, support, settings)
        task = _tree([dask.delayed(_bin_files, pure=True)(g, info, mcrs, weight, plan)
                      for g in groups], _merge_grids)
        # the convolution runs where the grids are: only the surface comes back
        task = dask.delayed(_finish_density, pure=True)(task, plan, kernel, h)
        (data, stats), = compute(task, client=client, progress=settings.progress)
    n = int(stats[0])
    if n == 0:
        msg = "the GeoParquet points are empty (0 rows); pass a non-empty dataset."
        raise DataError(msg)
    _check_metadata_box(grid_box, stats)
    kde._check_reach(int(stats[1]), n, transform, shape, support)
    return kde.density_surface(data, transform, crs, kernel=kernel, h=h, rule="given",
                               n_points=n, weight=weight, total=float(stats[2]), units=units)


def _finish_density(result: tuple[np.ndarray, np.ndarray], plan: dict[str, Any], kernel: str,
                    h: float) -> tuple[np.ndarray, np.ndarray]:
    """Turn the summed grids into the density surface's data (where they were summed)."""
    from . import kde

    grid, stats = result
    if plan["exact"] or stats[1] == 0:
        return (grid if plan["exact"] else np.zeros(plan["shape"])), stats
    return kde._convolve_moments(grid, plan["fine"], plan["shape"], kernel, h,
                                 node_units=True), stats


def _check_metadata_box(box: tuple[float, ...] | None, stats: np.ndarray) -> None:
    """Refuse a grid built from ``bbox`` metadata that the points do not fit."""
    if box is None:
        return
    actual = (float(-stats[3]), float(-stats[4]), float(stats[5]), float(stats[6]))
    if actual == tuple(box):
        return
    tol = 1e-6 * max(1.0, *(abs(v) for v in box))
    outside = (actual[0] < box[0] - tol or actual[1] < box[1] - tol
               or actual[2] > box[2] + tol or actual[3] > box[3] + tol)
    if outside:
        msg = (f"the GeoParquet files' bbox metadata {tuple(box)} does not contain their points "
               f"{actual}, so points beyond it may have been left out of the grid; pass "
               "extent= (xmin, ymin, xmax, ymax) in metres, or rewrite the files' metadata.")
        raise DataError(msg)
    logger.info("the files' bbox metadata %s is wider than the points %s (by %.0f m at most): "
                "the grid is wider than the in-memory one", box, actual,
                max(abs(a - b) for a, b in zip(actual, box, strict=True)))


def _cells_part(part: Any, metric_crs: str, plan: dict[str, Any]) -> dict[str, np.ndarray]:
    from .grid import bin_cells

    if len(part) == 0:
        return {"_n": np.array([0]), "_inside": np.array([0]),
                "count": np.zeros(plan["shape"][0] * plan["shape"][1])}
    pts = metric_points(part, "points", metric_crs)
    return bin_cells(to_frame(pts.frame), pts.xy, plan["transform"], plan["shape"], plan["by"],
                     plan["value"])


def partitioned_grid_counts(points: Any, cell_size: float, *, region: Any, extent: Any,
                            by: str | None, value: str | None, keep_empty: bool,
                            metric_crs: str | None, to_crs: object,
                            settings: Settings | None) -> Any:
    """Grid counts of partitioned points (see :func:`cci_geo.concentration.grid_counts`)."""
    from ..raster import grid_for_bounds
    from .grid import add_cells, assemble_cells, metric_region

    columns = [c for c in (by, value) if c is not None]
    frame = read_partitioned(points, columns=columns or None)
    for col in columns:
        if col not in frame.columns:
            msg = f"points has no column {col!r}; it has {list(frame.columns)}."
            raise DataError(msg)
    crs = metric_crs_of(frame, metric_crs)
    mcrs = crs.to_string()
    region_m = metric_region(region, crs)
    settings = settings or Settings()
    with scheduler_client(settings.scheduler) as client:
        if extent is None:
            if region_m is not None:
                extent = tuple(float(v) for v in region_m.total_bounds)
            else:
                _, _, extent = partition_bounds(frame, mcrs, None, client, settings.progress)
                logger.info("grid extent from the bounds pass: %s", extent)
        transform, shape = grid_for_bounds(extent, cell_size)
        plan = {"transform": transform, "shape": shape, "by": by, "value": value}
        task = sum_partitions(frame, _cells_part, mcrs, plan, combine=add_cells)
        (sums,) = compute(task, client=client, progress=settings.progress)
    return assemble_cells(sums, transform, shape, crs, region_m=region_m, extent=extent,
                          keep_empty=keep_empty, to_crs=to_crs)


def _stats_part(part: Any, areas: Any, by: str, value: str | None) -> tuple | None:
    from .indices import sector_stats

    if len(part) == 0:
        return None
    return sector_stats(part, areas, by=by, weight=value)


def _add_optional(a: Any, b: Any) -> Any:
    from .indices import add_stats

    if a is None:
        return b
    if b is None:
        return a
    return add_stats(a, b)


def partitioned_sector_stats(enterprises: Any, areas: Any, *, by: str, value: str | None,
                             settings: Settings | None) -> tuple:
    """Area x sector sums and per-sector sums of partitioned enterprises, added up."""
    columns = [c for c in (by, value) if c is not None]
    frame = read_partitioned(enterprises, columns=columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"enterprises has no column(s) {missing}; it has {list(frame.columns)}."
        raise DataError(msg)
    settings = settings or Settings()
    with scheduler_client(settings.scheduler) as client:
        task = sum_partitions(frame, _stats_part, areas, by, value, combine=_add_optional)
        (result,) = compute(task, client=client, progress=settings.progress)
    if result is None:
        msg = "the partitioned enterprises are empty (0 rows); pass a non-empty dataset."
        raise DataError(msg)
    table, stats = result
    return table.reindex(index=areas.index, fill_value=0.0), stats
