"""Windows of a region grid: their extent, study-area mask and each criterion's raw measure.

Shared by the window-by-window overlay (:mod:`.chunked`) and the scoring of candidates
spread over a region (:mod:`.sites`): a window is a block of cells of the region grid,
aligned with it, that sees the features within a halo around it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio import features as rio_features

from ..raster import grid_for_bounds
from . import measures
from ._layers import LayerBook
from .criteria import Criterion
from .grid import AnalysisGrid
from .scenario import Scenario


def window_transform(transform: Affine, r0: int, c0: int) -> Affine:
    """Transform of the window whose north-west cell is ``(r0, c0)`` of the region grid."""
    cs = float(transform.a)
    return Affine(cs, 0.0, transform.c + c0 * cs, 0.0, -cs, transform.f - r0 * cs)


def region_grid(sc: Scenario, book: LayerBook, cand: gpd.GeoDataFrame,
                 metric_crs: str) -> tuple[Affine, tuple[int, int], Any]:
    """Transform, shape and study-area geometry (or None) of the scenario's grid."""
    spec = sc.grid
    mask_geom = None
    if spec.extent == "candidates":
        bounds = tuple(cand.total_bounds)
    elif isinstance(spec.extent, tuple):
        t = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
        bounds = t.transform_bounds(*spec.extent)
    else:
        ext = book.get(spec.extent, key="[grid].extent", where=spec.where)
        geoms = ext.geometry[~(ext.geometry.is_empty | ext.geometry.isna())]
        bounds = tuple(geoms.total_bounds)
        polys = geoms[geoms.geom_type.isin(["Polygon", "MultiPolygon"])]
        if spec.mask and len(polys):
            shapes = polys if spec.buffer_m <= 0 else polys.buffer(spec.buffer_m)
            mask_geom = shapely.union_all(np.asarray(shapes.values))
    b = spec.buffer_m
    # the region grid is only ever held window by window, so its whole size is not bounded
    transform, shape = grid_for_bounds((bounds[0] - b, bounds[1] - b, bounds[2] + b,
                                        bounds[3] + b), spec.cell_size_m, check_size=False)
    return transform, shape, mask_geom


def windows(shape: tuple[int, int], size: int) -> Iterator[tuple[int, int, int, int]]:
    rows, cols = shape
    for r in range(0, rows, size):
        for c in range(0, cols, size):
            yield r, c, min(size, rows - r), min(size, cols - c)


@dataclass(frozen=True)
class PointLayer:
    """A point layer as coordinate and column arrays: what a window needs, sent to workers.

    A GeoDataFrame of 10^6 points (with its spatial index) takes ~0.6 GB in every worker;
    its coordinates and one numeric column take 24 MB.
    """

    xy: np.ndarray
    columns: dict[str, np.ndarray]
    crs: str

    def __len__(self) -> int:
        return len(self.xy)

    @classmethod
    def of(cls, layer: gpd.GeoDataFrame, columns: Sequence[str]) -> PointLayer:
        """The points of ``layer`` (non-empty geometries) with ``columns`` kept."""
        return cls(shapely.get_coordinates(layer.geometry.to_numpy()),
                   {c: layer[c].to_numpy() for c in dict.fromkeys(columns) if c in layer},
                   str(layer.crs))

    def near(self, bounds: tuple[float, float, float, float],
             margin: float) -> gpd.GeoDataFrame:
        """The points within ``margin`` of ``bounds`` (edges included), in layer order."""
        x0, y0, x1, y1 = bounds
        x, y = self.xy[:, 0], self.xy[:, 1]
        idx = np.flatnonzero((x >= x0 - margin) & (x <= x1 + margin)
                             & (y >= y0 - margin) & (y <= y1 + margin))
        return gpd.GeoDataFrame({k: v[idx] for k, v in self.columns.items()},
                                geometry=shapely.points(self.xy[idx]), crs=self.crs)


def compact_layer(layer: gpd.GeoDataFrame, columns: Sequence[str]) -> Any:
    """``layer`` as a :class:`PointLayer` if it holds only points, else as it is."""
    if len(layer) and bool((layer.geometry.geom_type == "Point").all()):
        return PointLayer.of(layer, columns)
    return layer


def subset_near(layer: Any, bounds: tuple[float, float, float, float],
                margin: float) -> gpd.GeoDataFrame:
    """The features of ``layer`` within ``margin`` of ``bounds``, in layer order."""
    if isinstance(layer, PointLayer):
        return layer.near(bounds, margin)
    x0, y0, x1, y1 = bounds
    idx = layer.sindex.query(shapely.box(x0 - margin, y0 - margin, x1 + margin, y1 + margin))
    return layer.iloc[np.sort(idx)]


def window_raw(c: Criterion, layer: Any, total: int, grid: AnalysisGrid,
                halo: float) -> np.ndarray:
    """The raw measure of ``c`` on one window (distances capped at the halo)."""
    p = c.params
    cs = grid.cell_size
    if c.measure == "raster":
        return measures.raster_on_grid(Path(p["path"]), grid, band=p["band"],
                                       resampling=p["resampling"], label=c.key, check=False)
    sub = subset_near(layer, grid.bounds, halo + cs)
    if c.measure in ("distance", "travel_time"):
        geoms = measures._clean(sub)  # noqa: SLF001 - same package
        if len(geoms) == 0:
            dist = np.full(grid.shape, np.inf)
        else:
            dist = measures._distance_grid(geoms, grid,  # noqa: SLF001
                                           pad_cells=math.ceil(halo / cs) + 2)
        dist = np.minimum(dist, halo + cs)  # beyond the halo every value is saturated
        if c.measure == "travel_time":
            return dist / (p["speed_kmh"] * 1000.0 / 60.0 / p["detour_factor"])
        return dist
    if len(sub) == 0:
        return np.zeros(grid.shape)
    if c.measure == "density":
        return window_density(sub, p, grid, total)
    return measures.grid_raw(c.measure, p, sub, grid, label=c.key)


def window_density(sub: gpd.GeoDataFrame, p: Mapping[str, Any], grid: AnalysisGrid,
                    total: int) -> np.ndarray:
    """Kernel density on a window, choosing the method by the whole layer's size."""
    from ..concentration import kde
    from ..concentration._common import finite_values, point_xy

    h = float(p["bandwidth_m"])
    kernel = p["kernel"]
    support = h if kernel == "quartic" else kde._GAUSS_TRUNCATE * h  # noqa: SLF001
    metric, xy = point_xy(sub, "layer", grid.crs)
    w = finite_values(metric, p["weight_column"], "layer")
    if kde._uses_exact(kernel, h, grid.cell_size, total):  # noqa: SLF001
        return kde._exact_quartic_sum(xy, w, grid.transform, grid.shape, h)[0]  # noqa: SLF001
    fine = kde._fine_grid(grid.transform, grid.shape, kernel, h, support)  # noqa: SLF001
    moments, _ = kde.bin_moments(xy, None if p["weight_column"] is None else w, fine.origin,
                                 fine.d, fine.shape)
    # as kernel_density does in memory (the moments stay in node units)
    return kde._convolve_moments(moments, fine, grid.shape, kernel, h,  # noqa: SLF001
                                 node_units=True)


def window_grid(transform: Affine, crs: str, mask_geom: Any, r0: int, c0: int,
                shape: tuple[int, int]) -> AnalysisGrid | None:
    """The analysis grid of the window at ``(r0, c0)`` of a region grid (None: outside)."""
    t = window_transform(transform, r0, c0)
    mask = window_mask(mask_geom, t, shape)
    return None if mask is None else AnalysisGrid(t, shape, crs, mask)


def window_mask(mask_geom: Any, t: Affine, shape: tuple[int, int]) -> np.ndarray | None:
    """Study-area mask of one window (None: the window lies outside the study area)."""
    h, w = shape
    if mask_geom is None:
        return np.ones((h, w), dtype=bool)
    x0, y1 = t.c, t.f
    x1, y0 = x0 + w * t.a, y1 + h * t.e
    # clip first: rasterising the whole region's outline for every window costs more than
    # the window itself
    part = shapely.clip_by_rect(mask_geom, x0, y0, x1, y1)
    if part.is_empty:
        return None
    return rio_features.geometry_mask([part], out_shape=(h, w), transform=t, invert=True)
