"""Regular analysis grids and the :class:`Surface` raster type shared by the analyses.

A Surface is plain data: a 2-D ``float64`` array (row 0 is the northern edge), an affine
transform, a CRS and the unit of its values. Concentration (density), suitability (scores)
and access results are Surfaces; the maps module renders them.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS

from ._files import atomic_path
from ._validate import check_grid_size, positive
from .errors import MissingFileError, ParameterError
from .settings import Settings

__all__ = ["Surface", "bin_points", "grid_for_bounds", "open_raster"]

logger = logging.getLogger(__name__)


def grid_for_bounds(bounds: tuple[float, float, float, float], cell_size_m: float, *,
                    what: str = "grid", settings: Settings | None = None,
                    check_size: bool = True) -> tuple[Affine, tuple[int, int]]:
    """Return ``(transform, (rows, cols))`` of a grid of square cells covering ``bounds``.

    Parameters
    ----------
    bounds
        ``(xmin, ymin, xmax, ymax)`` in the grid's (metric) CRS.
    cell_size_m
        Cell edge length in CRS units (metres).
    what
        Name of the grid in the error message.
    settings
        Its ``max_cells``/``max_bytes`` bound the grid (default :class:`Settings`).
    check_size
        ``False`` for a grid that is never allocated whole (the region grid of a chunked
        raster, whose windows are bounded instead); the size check is then skipped.

    Returns
    -------
    tuple
        The north-up affine transform (origin snapped outward to a multiple of ``cell_size_m``)
        and the shape ``(rows, cols)``.

    Raises
    ------
    cci_geo.errors.ResourceLimitError
        If the grid would exceed ``settings.max_cells`` (estimated before any allocation;
        only with ``check_size=True``).

    Examples
    --------
    >>> transform, shape = grid_for_bounds((0, 0, 950, 420), 100)
    >>> shape, (transform.c, transform.f)
    ((6, 10), (0.0, 500.0))
    """
    cs = positive(cell_size_m, "cell_size_m", "metres")
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    if not (xmax >= xmin and ymax >= ymin) or not all(map(math.isfinite, bounds)):
        msg = f"bounds must be finite (xmin, ymin, xmax, ymax) with max >= min, got {bounds!r}."
        raise ParameterError(msg)
    x0 = math.floor(xmin / cs) * cs
    y1 = math.ceil(ymax / cs) * cs
    cols = max(1, math.ceil((xmax - x0) / cs))
    rows = max(1, math.ceil((y1 - ymin) / cs))
    if (xmax - x0) / cs == cols:
        cols += 1  # a point exactly on the east edge still falls in a cell
    if (y1 - ymin) / cs == rows:
        rows += 1
    if check_size:
        check_grid_size((rows, cols), what=what, cell_size=cs, settings=settings)
    return Affine(cs, 0.0, x0, 0.0, -cs, y1), (rows, cols)


def bin_points(x: np.ndarray, y: np.ndarray, transform: Affine, shape: tuple[int, int], *,
               weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sum points (or their weights) into the grid cells that contain them.

    Parameters
    ----------
    x, y
        Point coordinates in the grid's CRS.
    transform, shape
        North-up grid (e.g. from :func:`grid_for_bounds`).
    weights
        Optional weight per point (default 1).

    Returns
    -------
    tuple
        ``(grid, inside)``: the ``(rows, cols)`` float64 array of sums and a boolean mask of
        the points that fell inside the grid (cells are closed on the west/north edges).

    Examples
    --------
    >>> import numpy as np
    >>> transform, shape = grid_for_bounds((0, 0, 200, 100), 100)
    >>> counts, inside = bin_points(np.array([50.0, 150, 160]), np.array([50.0, 50, 50]),
    ...                             transform, shape)
    >>> counts.tolist(), inside.tolist()
    ([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]], [True, True, True])
    """
    rows, cols = shape
    col = np.floor((np.asarray(x, dtype="float64") - transform.c) / transform.a)
    row = np.floor((np.asarray(y, dtype="float64") - transform.f) / transform.e)
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    idx = row[inside].astype(np.int64) * cols + col[inside].astype(np.int64)
    w = None if weights is None else np.asarray(weights, dtype="float64")[inside]
    grid = np.bincount(idx, weights=w, minlength=rows * cols).astype("float64")
    return grid.reshape(rows, cols), inside


@dataclass
class Surface:
    """A single-band raster surface.

    Attributes
    ----------
    data
        2-D ``float64`` array; row 0 is north. Cells without data hold ``nodata`` (NaN).
    transform
        Affine transform from (col, row) to CRS coordinates of the cell corner.
    crs
        CRS of the grid (a metric CRS for analysis results).
    units
        Unit of the values, e.g. ``"enterprises per km²"`` or ``"score 0-1"``.
    name
        Short name used as band description and map label.
    nodata
        Value marking cells without data (NaN by default).
    tags
        Provenance and parameters, written as GeoTIFF metadata tags.
    """

    data: np.ndarray
    transform: Affine
    crs: Any
    units: str = ""
    name: str = "surface"
    nodata: float = float("nan")
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype="float64")
        if self.data.ndim != 2:
            msg = f"Surface data must be 2-D, got shape {self.data.shape}."
            raise ParameterError(msg)
        self.crs = CRS.from_user_input(self.crs)

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(rows, cols)``."""
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    @property
    def cell_size(self) -> float:
        """Cell edge length in CRS units (the grid is square)."""
        return float(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid in its CRS."""
        rows, cols = self.shape
        x0, y1 = self.transform.c, self.transform.f
        x1 = x0 + cols * self.transform.a
        y0 = y1 + rows * self.transform.e
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def cell_centers(self) -> tuple[np.ndarray, np.ndarray]:
        """Return 1-D arrays ``(x, y)`` of column and row centre coordinates."""
        rows, cols = self.shape
        x = self.transform.c + (np.arange(cols) + 0.5) * self.transform.a
        y = self.transform.f + (np.arange(rows) + 0.5) * self.transform.e
        return x, y

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the value of the cell under each point (NaN outside the grid)."""
        inv = ~self.transform
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        col = np.floor(inv.a * x + inv.b * y + inv.c).astype(np.int64)
        row = np.floor(inv.d * x + inv.e * y + inv.f).astype(np.int64)
        rows, cols = self.shape
        ok = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        out = np.full(col.shape, np.nan)
        out[ok] = self.data[row[ok], col[ok]]
        return out

    def to_geotiff(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the surface as a compressed, tiled GeoTIFF, atomically.

        The band description is ``name``; ``units`` and every entry of ``tags`` become
        metadata tags; NaN is declared as nodata.

        Returns
        -------
        pathlib.Path
            The written path.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is false.
        """
        rows, cols = self.shape
        profile = {
            "driver": "GTiff", "height": rows, "width": cols, "count": 1, "dtype": "float32",
            "crs": self.crs.to_wkt(), "transform": self.transform, "nodata": self.nodata,
            "compress": "deflate", "predictor": 3,
        }
        if rows >= 256 and cols >= 256:
            profile.update(tiled=True, blockxsize=256, blockysize=256)
        with atomic_path(path, overwrite=overwrite) as tmp, \
                rasterio.open(tmp, "w", **profile) as dst:
            dst.write(self.data.astype("float32"), 1)
            dst.set_band_description(1, self.name)
            dst.update_tags(units=self.units, name=self.name, **self.tags)
            dst.update_tags(1, units=self.units)
        logger.info("wrote %s (%d x %d)", path, rows, cols)
        return Path(path)

    @classmethod
    def from_geotiff(cls, path: str | os.PathLike[str]) -> Surface:
        """Read band 1 of a GeoTIFF (e.g. one written by :meth:`to_geotiff`).

        Raises
        ------
        cci_geo.errors.DataError
            If the file is not a readable raster.
        cci_geo.errors.ResourceLimitError
            If the raster exceeds ``Settings().max_cells``.
        """
        with open_raster(path) as src:
            check_grid_size((src.height, src.width), what=f"raster {Path(path).name}",
                            cell_size=abs(src.transform.a))
            arr = src.read(1, masked=True).astype("float64").filled(np.nan)
            tags = dict(src.tags())
            units = tags.pop("units", "")
            name = tags.pop("name", src.descriptions[0] or Path(path).stem)
            return cls(arr, src.transform, src.crs.to_wkt(), units=units, name=name, tags=tags)


def open_raster(path: str | os.PathLike[str]) -> Any:
    """Open a raster for reading with :func:`rasterio.open`, wrapping its errors.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    cci_geo.errors.DataError
        If the file is not a raster GDAL can read (e.g. a ``.tif`` that is something else).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np, rasterio
    >>> from affine import Affine
    >>> from cci_geo.errors import DataError
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with rasterio.open(folder / "cells.tif", "w", driver="GTiff", width=3, height=2,
    ...                    count=1, dtype="float32", crs="EPSG:32650",
    ...                    transform=Affine(100, 0, 440000, 0, -100, 4430000)) as dst:
    ...     dst.write(np.arange(6, dtype="float32").reshape(1, 2, 3))
    >>> with open_raster(folder / "cells.tif") as src:
    ...     print(src.shape, src.crs.to_epsg(), src.read(1).tolist())
    (2, 3) 32650 [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    >>> _ = (folder / "notes.tif").write_text("not a raster")
    >>> try:
    ...     open_raster(folder / "notes.tif")
    ... except DataError as exc:
    ...     print("DataError:", str(exc).endswith("or export it again."))
    DataError: True
    """
    from .errors import DataError  # noqa: PLC0415

    p = Path(path)
    if not p.exists():
        msg = f"raster {p} does not exist."
        raise MissingFileError(msg)
    try:
        return rasterio.open(p)
    except rasterio.errors.RasterioError as exc:
        msg = (f"{p} is not a raster GDAL can read ({str(exc).splitlines()[0][:160]}); give a "
               "GeoTIFF (or another GDAL raster), or export it again.")
        raise DataError(msg) from exc
