"""Concentration analyses over partitioned points (dask-geopandas or GeoParquet).

Every analysis here reduces the partitions to additive partial results — binned moment
grids, cell counts and sums, area x sector tables — sums them, then finishes exactly as the
in-memory path does from the same totals.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from pyproj import CRS

from .._crs import resolve_metric_crs
from ..errors import DataError, ParameterError
from ..raster import Surface
from ..scale import compute, read_partitioned, scheduler_client, sum_partitions
from ..settings import Settings
from ._common import finite_values, metric_points, to_frame, xy_bounds

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
