"""The analysis grid a scenario is scored on: a north-up metric raster with a study-area mask."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS
from rasterio import features as rio_features

from ..errors import DataError
from ..raster import Surface, grid_for_bounds
from ..settings import Settings

__all__ = ["AnalysisGrid", "build_grid"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisGrid:
    """Cells on which every criterion, constraint and the composite score are computed.

    Attributes
    ----------
    transform
        North-up affine transform (cell corner) in ``crs``.
    shape
        ``(rows, cols)``.
    crs
        Metric CRS of the grid (e.g. ``"EPSG:32650"``).
    mask
        Boolean ``(rows, cols)`` array, True for cells inside the study area; cells outside
        are nodata in every output raster.
    """

    transform: Affine
    shape: tuple[int, int]
    crs: str
    mask: np.ndarray = field(repr=False)

    @property
    def cell_size(self) -> float:
        """Cell edge length in metres."""
        return float(self.transform.a)

    @property
    def n_cells(self) -> int:
        """Number of cells inside the study area."""
        return int(self.mask.sum())

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` in ``crs``."""
        rows, cols = self.shape
        return (self.transform.c, self.transform.f - rows * self.cell_size,
                self.transform.c + cols * self.cell_size, self.transform.f)

    def centers(self) -> tuple[np.ndarray, np.ndarray]:
        """Return 1-D arrays ``(x, y)`` of column and row centre coordinates."""
        rows, cols = self.shape
        x = self.transform.c + (np.arange(cols) + 0.5) * self.cell_size
        y = self.transform.f - (np.arange(rows) + 0.5) * self.cell_size
        return x, y

    def cell_index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(row, col, inside)`` of the cells under points; ``inside`` marks valid cells.

        A point is inside when it falls on the grid and on a cell of the study-area mask.
        """
        col = np.floor((np.asarray(x, float) - self.transform.c) / self.cell_size).astype(int)
        row = np.floor((self.transform.f - np.asarray(y, float)) / self.cell_size).astype(int)
        rows, cols = self.shape
        on = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        inside = on.copy()
        inside[on] = self.mask[row[on], col[on]]
        return np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1), inside

    def surface(self, data: np.ndarray, *, name: str, units: str,
                tags: dict[str, str] | None = None, copy: bool = True) -> Surface:
        """Wrap ``data`` as a :class:`~cci_geo.raster.Surface`, NaN outside the study area.

        With ``copy=False`` a float64 ``data`` is masked in place and shared (no new array).
        """
        out = np.array(data, dtype="float64", copy=copy)
        out[~self.mask] = np.nan
        return Surface(out, self.transform, self.crs, units=units, name=name,
                       tags=dict(tags or {}))

    def padded(self, pad: int) -> tuple[Affine, tuple[int, int]]:
        """Return transform and shape of this grid grown by ``pad`` cells on every side."""
        rows, cols = self.shape
        cs = self.cell_size
        t = Affine(cs, 0.0, self.transform.c - pad * cs, 0.0, -cs, self.transform.f + pad * cs)
        return t, (rows + 2 * pad, cols + 2 * pad)


def build_grid(extent: gpd.GeoDataFrame | tuple[float, float, float, float], *,
               cell_size_m: float, crs: str, buffer_m: float = 0.0,
               mask_to_polygons: bool = True,
               settings: Settings | None = None) -> AnalysisGrid:
    """Build the analysis grid over a layer's extent or a metric bounding box.

    Parameters
    ----------
    extent
        A GeoDataFrame in ``crs`` (its bounds, grown by ``buffer_m``, define the grid; if it
        holds polygons and ``mask_to_polygons``, cells whose centre lies in none of them are
        masked out), or ``(xmin, ymin, xmax, ymax)`` in ``crs``.
    cell_size_m
        Cell edge in metres.
    crs
        Metric CRS of the grid.
    buffer_m
        Margin added around the extent (and around the polygons of the mask).
    mask_to_polygons
        Whether a polygon extent masks the grid to its footprint.

    Returns
    -------
    AnalysisGrid

    Raises
    ------
    DataError
        If the grid would be empty.
    ResourceLimitError
        If the grid would exceed ``settings.max_cells`` (default 50 million cells).

    Examples
    --------
    >>> g = build_grid((0.0, 0.0, 1000.0, 500.0), cell_size_m=100, crs="EPSG:32651")
    >>> g.shape
    (6, 11)
    """
    if CRS.from_user_input(crs).is_geographic:
        msg = f"the analysis grid needs a metric CRS, got {crs!r}; use e.g. 'EPSG:32650'."
        raise DataError(msg)
    if isinstance(extent, gpd.GeoDataFrame):
        geoms = extent.geometry[~(extent.geometry.is_empty | extent.geometry.isna())]
        if len(geoms) == 0:
            msg = "the grid extent layer has no usable geometry; choose another [grid] extent."
            raise DataError(msg)
        xmin, ymin, xmax, ymax = geoms.total_bounds
    else:
        geoms = None
        xmin, ymin, xmax, ymax = extent
    bounds = (xmin - buffer_m, ymin - buffer_m, xmax + buffer_m, ymax + buffer_m)
    transform, shape = grid_for_bounds(bounds, cell_size_m, settings=settings,
                                       what="analysis grid ([grid] cell_size_m, extent)")
    mask = np.ones(shape, dtype=bool)
    if geoms is not None and mask_to_polygons:
        polys = geoms[geoms.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(polys):
            shapes = polys if buffer_m <= 0 else polys.buffer(buffer_m)
            union = shapely.union_all(np.asarray(shapes.values))
            mask = rio_features.geometry_mask([union], out_shape=shape, transform=transform,
                                              invert=True)
    grid = AnalysisGrid(transform, shape, str(crs), mask)
    logger.info("analysis grid: %d x %d cells of %g m (%d in the study area)",
                shape[0], shape[1], cell_size_m, grid.n_cells)
    return grid
