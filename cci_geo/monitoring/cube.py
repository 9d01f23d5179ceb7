"""The space-time cube: grid cells x years of enterprise counts or panel sums.

A cube is the input of emerging hot spot analysis (as ArcGIS Pro's *Create Space Time Cube By
Aggregating Points*): a regular square grid (the analysis grid of
:func:`cci_geo.concentration.grid_counts`), one time step per calendar year, and one value per
cell and year: the number of enterprises operating, or the sum of an annual observation
(revenue, employees) from the ``enterprise_years`` table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import positive
from .._weights import GRID_ATTR
from ..concentration._common import metric_points
from ..concentration.grid import grid_counts
from ..errors import DataError, ParameterError

__all__ = ["SpaceTimeCube", "operating", "space_time_cube", "years_of"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpaceTimeCube:
    """Values of grid cells over consecutive years.

    Attributes
    ----------
    cells
        The grid cells (GeoDataFrame in the metric CRS) with ``id``, ``row``, ``col``; its
        ``attrs`` carry the grid definition, so queen/rook weights come from the indices.
    years
        The time steps (ascending calendar years, one apart).
    values
        Array of shape ``(len(cells), len(years))``.
    variable
        What ``values`` measure (``"count"``, ``"revenue_cny"``, ``"employees"``).
    attrs
        Cell size and metric CRS.
    """

    cells: gpd.GeoDataFrame
    years: np.ndarray
    values: np.ndarray
    variable: str
    attrs: dict[str, object] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return the cube in long format: ``cell_id``, ``year``, ``value``.

        Examples
        --------
        >>> import numpy as np, geopandas as gpd
        >>> cube = SpaceTimeCube(gpd.GeoDataFrame({"id": ["a"]}), np.array([2020, 2021]),
        ...                      np.array([[1.0, 3.0]]), "count")
        >>> cube.to_frame()["value"].tolist()
        [1.0, 3.0]
        """
        n, t = self.values.shape
        return pd.DataFrame({"cell_id": np.repeat(self.cells["id"].to_numpy(), t),
                             "year": np.tile(self.years, n), "value": self.values.ravel()})


def years_of(enterprises: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return each enterprise's first and last operating year (NaN where unknown).

    ``founded`` missing means "operating since before any year asked"; ``closed`` missing
    means "still operating". An enterprise operates in the years ``founded <= year < closed``.

    Examples
    --------
    >>> import pandas as pd
    >>> first, last = years_of(pd.DataFrame({"founded": [2015, None], "closed": [2020, None]}))
    >>> first.tolist(), last.tolist()
    ([2015.0, -inf], [2019.0, inf])
    """
    founded = (pd.to_numeric(enterprises["founded"], errors="coerce")
               if "founded" in enterprises.columns else pd.Series(np.nan, enterprises.index))
    closed = (pd.to_numeric(enterprises["closed"], errors="coerce")
              if "closed" in enterprises.columns else pd.Series(np.nan, enterprises.index))
    first = founded.to_numpy(dtype="float64", na_value=np.nan)
    last = closed.to_numpy(dtype="float64", na_value=np.nan) - 1
    return np.where(np.isnan(first), -np.inf, first), np.where(np.isnan(last), np.inf, last)


def operating(enterprises: gpd.GeoDataFrame, year: int) -> gpd.GeoDataFrame:
    """Return the enterprises operating in ``year`` (``founded <= year < closed``).

    Parameters
    ----------
    enterprises
        Enterprises layer; ``founded`` and ``closed`` are optional columns.
    year
        Calendar year.

    Returns
    -------
    geopandas.GeoDataFrame
        The matching rows (a new frame, index kept).

    Examples
    --------
    >>> import cci_geo
    >>> ent = cci_geo.load_demo()["enterprises"]
    >>> len(operating(ent, 2012)) < len(operating(ent, 2025)) <= len(ent)
    True
    """
    first, last = years_of(enterprises)
    mask = (first <= year) & (year <= last)
    return enterprises.loc[mask].copy()


def _check_years(years: object) -> np.ndarray:
    arr = np.asarray(list(years) if not isinstance(years, np.ndarray) else years)  # type: ignore[call-overload]
    if arr.ndim != 1 or arr.size < 3:
        msg = (f"years must list at least 3 consecutive years, got {arr.tolist()!r}; e.g. "
               "years=range(2012, 2026).")
        raise ParameterError(msg)
    arr = arr.astype(int)
    if not np.array_equal(np.diff(arr), np.ones(arr.size - 1, dtype=int)):
        msg = (f"years must be consecutive and ascending, got {arr.tolist()!r}; the cube has "
               "one time step per year.")
        raise ParameterError(msg)
    return arr


def _cell_positions(cells: gpd.GeoDataFrame, xy: np.ndarray) -> np.ndarray:
    """Index into ``cells`` of each point, or -1 when the point falls in no kept cell."""
    grid = cells.attrs[GRID_ATTR]
    a, _, c, _, e, f = grid["transform"]
    col = np.floor((xy[:, 0] - c) / a).astype(np.int64)
    row = np.floor((xy[:, 1] - f) / e).astype(np.int64)
    rows, cols = int(grid["rows"]), int(grid["cols"])
    lookup = np.full(rows * cols, -1, dtype=np.int64)
    lookup[cells["row"].to_numpy() * cols + cells["col"].to_numpy()] = np.arange(len(cells))
    ok = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
    pos = np.full(len(xy), -1, dtype=np.int64)
    pos[ok] = lookup[row[ok] * cols + col[ok]]
    return pos


def _panel_values(enterprises: gpd.GeoDataFrame, panel: pd.DataFrame | None, variable: str,
                  years: np.ndarray) -> np.ndarray:
    """Matrix (enterprises x years) of the variable: operating flags or panel values."""
    if variable == "count":
        first, last = years_of(enterprises)
        return ((first[:, None] <= years[None, :]) & (years[None, :] <= last[:, None])
                ).astype("float64")
    if panel is None:
        msg = (f"variable={variable!r} needs annual observations; pass panel= (the "
               "'enterprise_years' table, e.g. atlas.table('enterprise_years')) or use "
               "variable='count'.")
        raise ParameterError(msg)
    if variable not in panel.columns:
        msg = (f"panel has no column {variable!r}; it has {list(panel.columns)}. Use a numeric "
               "column such as 'revenue_cny' or 'employees'.")
        raise ParameterError(msg)
    row = pd.Index(enterprises["id"].astype(str)).get_indexer(panel["enterprise_id"].astype(str))
    col = panel["year"].to_numpy(dtype="int64") - int(years[0])
    keep = (row >= 0) & (col >= 0) & (col < years.size)
    vals = pd.to_numeric(panel[variable], errors="coerce").to_numpy(dtype="float64",
                                                                    na_value=np.nan)
    out = np.zeros((len(enterprises), years.size))
    np.add.at(out, (row[keep], col[keep]), np.nan_to_num(vals[keep]))
    return out


def space_time_cube(enterprises: gpd.GeoDataFrame, *, years: object, cell_size_m: float = 1000.0,
                    variable: str = "count", panel: pd.DataFrame | None = None,
                    region: gpd.GeoDataFrame | None = None,
                    metric_crs: str | None = None) -> SpaceTimeCube:
    """Aggregate enterprises into a space-time cube of grid cells x years.

    Parameters
    ----------
    enterprises
        Enterprises layer with ``founded`` and ``closed`` years (missing ``founded`` means
        operating from the start, missing ``closed`` means still operating).
    years
        Consecutive calendar years, e.g. ``range(2012, 2026)`` (at least 3).
    cell_size_m
        Cell edge in metres.
    variable
        ``"count"`` (enterprises operating in the year) or a numeric column of ``panel``
        (``"revenue_cny"``, ``"employees"``) summed per cell and year.
    panel
        Annual observations (the ``enterprise_years`` table) for panel variables.
    region
        Optional study area: only cells whose centre lies inside it are kept.
    metric_crs
        Metric CRS of the grid; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    SpaceTimeCube
        Cells where at least one enterprise operated in at least one of the years (as ArcGIS
        analyses only locations with data), in the metric CRS.

    Raises
    ------
    ParameterError
        Bad years, cell size or variable.
    DataError
        No enterprise operates in the years asked.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> cube = space_time_cube(atlas["enterprises"], years=range(2012, 2026), cell_size_m=3000)
    >>> cube.values.shape[1], int(cube.values[:, -1].sum()) == len(
    ...     operating(atlas["enterprises"], 2025))
    (14, True)
    """
    yrs = _check_years(years)
    cs = positive(cell_size_m, "cell_size_m", "metres")
    per_ent = _panel_values(enterprises, panel, variable, yrs)
    active = per_ent.any(axis=1) if variable != "count" else per_ent.sum(axis=1) > 0
    if not active.any():
        msg = (f"no enterprise operates (or has {variable!r}) in {yrs[0]}-{yrs[-1]}; check "
               "'founded'/'closed' and the years asked.")
        raise DataError(msg)
    used = enterprises.loc[active]
    cells = grid_counts(used, cs, region=region, keep_empty=False, metric_crs=metric_crs)
    xy = metric_points(used, "enterprises", metric_crs).xy
    pos = _cell_positions(cells, xy)
    inside = pos >= 0
    values = np.zeros((len(cells), yrs.size))
    np.add.at(values, pos[inside], per_ent[active][inside])
    out_cells = cells[["id", "row", "col", "geometry"]].copy()
    out_cells.attrs[GRID_ATTR] = cells.attrs[GRID_ATTR]
    logger.info("space-time cube: %d cells x %d years of %s", len(cells), yrs.size, variable)
    attrs: dict[str, object] = {"cell_size_m": cs, "crs": cells.crs.to_string()}
    return SpaceTimeCube(out_cells.reset_index(drop=True), yrs, values, variable, attrs)
