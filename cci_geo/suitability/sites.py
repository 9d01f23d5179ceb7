"""Score candidate sites spread over a region without holding the region's grid.

:func:`score` evaluates every criterion on a grid that covers the study area, then reads the
sites' values from it; for candidates spread over the whole Jing-Jin-Ji region at 30 m that
grid alone is 4.5·10^8 cells. :func:`score_sites` gives the same site scores, ranks and
sensitivity analyses while computing only what the sites need:

- **point sites, vector measures** (``distance``, ``count``, ``sum``, straight-line
  ``travel_time``, ``attribute``) and ``site_attribute``: computed at the points themselves,
  exactly, as :func:`score` does (it never reads these from its grid);
- **point sites, surfaces** (``density``, ``raster``): the value of the site's cell of the
  region grid, computed on a small window of that grid around each cluster of sites (sites
  whose cells share a block of ``cluster_cells`` x ``cluster_cells``), seeing the features
  within the kernel's reach — the same binned grid, kernel and resampling as in memory;
- **polygon sites**: the zonal mean over the cells of the region grid under the polygon, on a
  window covering the polygon, computed by :func:`score`'s own code.

The windows are aligned with the region grid (the scenario's ``[grid]``: extent, buffer, cell
size and study-area mask), so a site's cell is the cell :func:`score` would use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine

from ..errors import ParameterError
from ..results import tag_result
from ._window import region_grid, window_grid, window_raw, window_transform
from .criteria import Criterion
from .evaluate import Evaluated, Sites, evaluate
from .grid import AnalysisGrid
from .overlay import (
    _check_candidates,
    _criteria_table,
    _original_crs,
    _provenance,
    _refuse_outside,
    _sensitivity,
    _setup,
    _site_points,
    _site_reasons,
    _site_table,
    ranking_table,
)
from .scenario import Scenario
from .sensitivity import MonteCarloResult

__all__ = ["SiteScores", "score_sites"]

logger = logging.getLogger(__name__)

_POINT_EXACT = ("distance", "count", "sum", "travel_time", "attribute")
_SURFACES = ("density", "raster")


@dataclass
class SiteScores:
    """Site scores, ranks and sensitivity of a scenario, computed without its region grid.

    Attributes
    ----------
    sites
        As :attr:`SuitabilityResult.sites` (``raw_<c>``, ``value_<c>``, ``contrib_<c>``,
        ``score``, ``rank``, ``excluded_by``, ``missing`` and the sensitivity columns).
    weights, criteria_table, consistency_ratio, monte_carlo, one_at_a_time, scenario
        As in :class:`SuitabilityResult`.
    windows
        Number of grid windows computed (for clusters of point sites and for polygons).
    provenance
        The provenance record (the grid fields describe the region grid).
    """

    sites: gpd.GeoDataFrame
    weights: pd.Series
    criteria_table: pd.DataFrame
    consistency_ratio: float | None
    monte_carlo: MonteCarloResult | None
    one_at_a_time: pd.DataFrame | None
    scenario: Scenario
    windows: int = 0
    provenance: dict[str, Any] = field(default_factory=dict)

    def ranking(self) -> pd.DataFrame:
        """Return the sites as a table sorted by rank (excluded sites last), without geometry."""
        return ranking_table(self.sites, self.scenario.id_column)


@dataclass(frozen=True)
class _Region:
    transform: Affine
    shape: tuple[int, int]
    crs: str
    mask_geom: Any

    def window(self, r0: int, r1: int, c0: int, c1: int) -> AnalysisGrid:
        shape = (r1 - r0, c1 - c0)
        grid = window_grid(self.transform, self.crs, self.mask_geom, r0, c0, shape)
        return grid or AnalysisGrid(window_transform(self.transform, r0, c0), shape, self.crs,
                                    np.zeros(shape, dtype=bool))

    def cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cs = float(self.transform.a)
        col = np.floor((np.asarray(x, float) - self.transform.c) / cs).astype(np.int64)
        row = np.floor((self.transform.f - np.asarray(y, float)) / cs).astype(np.int64)
        return row, col


def _clusters(row: np.ndarray, col: np.ndarray, size: int) -> list[np.ndarray]:
    """Positions of the sites grouped by the ``size`` x ``size`` block their cell is in."""
    key = (row // size) * (1 << 32) + (col // size)
    order = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order])) + 1
    return np.split(order, cuts)


def _window_of(region: _Region, rows: np.ndarray, cols: np.ndarray,
               bounds: np.ndarray | None = None) -> tuple[int, int, int, int]:
    """Rows and columns ``(r0, r1, c0, c1)`` covering the cells (and polygon bounds)."""
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    if bounds is not None and len(bounds):
        t, cs = region.transform, float(region.transform.a)
        c0 = min(c0, int(np.floor((bounds[:, 0].min() - t.c) / cs)))
        c1 = max(c1, int(np.ceil((bounds[:, 2].max() - t.c) / cs)))
        r0 = min(r0, int(np.floor((t.f - bounds[:, 3].max()) / cs)))
        r1 = max(r1, int(np.ceil((t.f - bounds[:, 1].min()) / cs)))
    rows_n, cols_n = region.shape
    return max(r0, 0), min(r1, rows_n), max(c0, 0), min(c1, cols_n)


def _evaluate_sites(sc: Scenario, book: Any, cand_m: gpd.GeoDataFrame, region: _Region,
                    cluster_cells: int) -> tuple[dict[str, Evaluated], int]:
    """Every criterion's raw measure and value at the sites (grid arrays left out)."""
    n = len(cand_m)
    x, y, is_point = _site_points(cand_m, sc.id_column)
    row, col = region.cells(x, y)
    rows_n, cols_n = region.shape
    on = (row >= 0) & (row < rows_n) & (col >= 0) & (col < cols_n)
    _refuse_outside(cand_m, on, sc.id_column)
    layers = {c.name: (book.get(c.layer, key=f"{c.key}.layer", where=c.where)
                       if c.layer is not None and c.measure not in ("raster", "site_attribute")
                       else None) for c in sc.criteria}
    raw = {c.name: np.full(n, np.nan, dtype=object if c.measure == "attribute" else float)
           for c in sc.criteria}
    val = {c.name: np.full(n, np.nan) for c in sc.criteria}
    inside = np.zeros(n, dtype=bool)
    n_windows = 0

    def put(ev: Evaluated, pos: np.ndarray, c: Criterion) -> None:
        raw[c.name][pos] = ev.site_raw
        val[c.name][pos] = ev.site_value

    # point sites: one cluster per block of cells; one window per cluster for the surfaces
    pts = np.flatnonzero(is_point)
    surfaces = [c for c in sc.criteria if c.measure in _SURFACES]
    from .chunked import criterion_halo  # noqa: PLC0415 - chunked imports this module

    totals = {c.name: len(lay) if (lay := layers[c.name]) is not None else 0
              for c in surfaces}
    halos = {c.name: criterion_halo(c) for c in surfaces}
    for group in _clusters(row[pts], col[pts], cluster_cells) if len(pts) else []:
        pos = pts[group]
        r0, r1, c0, c1 = _window_of(region, row[pos], col[pos])
        grid = region.window(r0, r1, c0, c1)
        inside[pos] = grid.mask[row[pos] - r0, col[pos] - c0]
        if not surfaces or not inside[pos].any():
            continue
        n_windows += 1
        for c in surfaces:
            g_raw = window_raw(c, layers[c.name], totals[c.name], grid, halos[c.name])
            cell_raw = g_raw[row[pos] - r0, col[pos] - c0]
            raw[c.name][pos] = cell_raw
            val[c.name][pos] = c.value_function(cell_raw)
    # point sites, everything else: at the points (score() never reads these from its grid)
    if len(pts):
        probe = AnalysisGrid(window_transform(region.transform, int(row[pts[0]]),
                                              int(col[pts[0]])), (1, 1), region.crs,
                             np.ones((1, 1), dtype=bool))
        sites = Sites(cand_m.iloc[pts], x[pts], y[pts], np.ones(len(pts), dtype=bool),
                      np.zeros(len(pts), dtype=np.int64), np.zeros(len(pts), dtype=np.int64))
        for c in sc.criteria:
            if c.measure in _POINT_EXACT:
                put(evaluate(c, layers[c.name], probe, sites), pts, c)
    # polygon sites: score()'s own evaluation on a window covering each cluster's polygons
    polys = np.flatnonzero(~is_point)
    bounds = np.asarray(cand_m.geometry.bounds)
    for group in _clusters(row[polys], col[polys], cluster_cells) if len(polys) else []:
        pos = polys[group]
        r0, r1, c0, c1 = _window_of(region, row[pos], col[pos], bounds[pos])
        grid = region.window(r0, r1, c0, c1)
        inside[pos] = grid.mask[row[pos] - r0, col[pos] - c0]
        n_windows += 1
        sites = Sites(cand_m.iloc[pos], x[pos], y[pos], np.zeros(len(pos), dtype=bool),
                      row[pos] - r0, col[pos] - c0)
        for c in sc.criteria:
            if c.measure != "site_attribute":
                put(evaluate(c, layers[c.name], grid, sites), pos, c)
    _refuse_outside(cand_m, inside, sc.id_column)
    evals = {}
    everyone = Sites(cand_m, x, y, is_point, np.zeros(n, dtype=np.int64),
                     np.zeros(n, dtype=np.int64))
    for c in sc.criteria:
        if c.measure == "site_attribute":  # a column of the sites: no grid, dtype kept
            evals[c.name] = evaluate(c, None, region.window(0, 1, 0, 1), everyone)
            continue
        r = raw[c.name]
        if c.measure == "attribute" and c.value_function.numeric:
            r = r.astype(float)
        evals[c.name] = Evaluated(None, None, r, val[c.name])
    return evals, n_windows


def score_sites(scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str], *,
                atlas: Mapping[str, gpd.GeoDataFrame] | None = None,
                layers: Mapping[str, gpd.GeoDataFrame] | None = None,
                candidates: str | gpd.GeoDataFrame | None = None,
                sensitivity: bool | None = None, seed: int | None = None,
                metric_crs: str | None = None, cluster_cells: int = 512) -> SiteScores:
    """Score and rank candidate sites as :func:`score` does, without the region's grid.

    Memory and time follow the number of sites and the windows around them, not the size of
    the scenario's grid, so candidates spread over a whole region at 30 m are scored where
    :func:`score` would refuse the grid. Point sites get exact vector measures at the points
    and the value of their grid cell for ``density`` and ``raster``; polygon sites the zonal
    mean of the cells under them — the values :func:`score` gives.

    Parameters
    ----------
    scenario, atlas, layers, candidates, sensitivity, seed, metric_crs
        As for :func:`score`.
    cluster_cells
        Point sites whose cells fall in the same block of ``cluster_cells`` x
        ``cluster_cells`` cells share one window for the surfaces; smaller blocks mean more,
        smaller windows.

    Returns
    -------
    SiteScores

    Raises
    ------
    ScenarioError, DataError
        As for :func:`score` (a site outside the grid or the study area, duplicated ids...).
    ParameterError
        ``cluster_cells`` < 1, or a criterion with a network travel time (its value at a site
        needs the travel times from the whole network: use :func:`score`).

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import suitability as su
    >>> atlas = cci_geo.load_demo()
    >>> fast = su.score_sites("scenarios/old_factory_reuse.toml", atlas=atlas,
    ...                       sensitivity=False)   # run from the repository root
    >>> full = su.score("scenarios/old_factory_reuse.toml", atlas=atlas, sensitivity=False)
    >>> bool((fast.ranking()["id"] == full.ranking()["id"]).all())
    True
    """
    if isinstance(cluster_cells, bool) or int(cluster_cells) < 1:
        msg = f"cluster_cells must be a positive number of cells, got {cluster_cells!r}."
        raise ParameterError(msg)
    sc, _, metric_crs, book, w, cr, cand_src = _setup(scenario, atlas=atlas, layers=layers,
                                                      candidates=candidates, seed=seed,
                                                      metric_crs=metric_crs)
    return _score_sites(sc, book, w, cr, cand_src, metric_crs, sensitivity,
                        int(cluster_cells))


def _score_sites(sc: Scenario, book: Any, w: np.ndarray, cr: float | None,
                 cand_src: gpd.GeoDataFrame, metric_crs: str, sensitivity: bool | None,
                 cluster_cells: int, region: tuple[Affine, tuple[int, int], Any] | None = None,
                 ) -> SiteScores:
    network = [c.name for c in sc.criteria
               if c.measure == "travel_time" and not c.params["straight_line"]]
    if network:
        msg = (f"criteria {network} use network travel times, which score_sites does not "
               "compute at sites; use score() on a grid that fits in memory.")
        raise ParameterError(msg)
    _check_candidates(sc, cand_src)
    transform, shape, mask_geom = region or region_grid(sc, book, cand_src, metric_crs)
    reg = _Region(transform, shape, metric_crs, mask_geom)
    evals, n_windows = _evaluate_sites(sc, book, cand_src, reg, cluster_cells)
    logger.info("%d candidate sites scored on %d windows of the %d x %d region grid",
                len(cand_src), n_windows, *shape)
    reasons = _site_reasons(sc.constraints, book, cand_src, evals)
    n = len(cand_src)
    none = np.zeros(n, dtype=np.int64)
    sites = Sites(cand_src, none.astype(float), none.astype(float), none.astype(bool), none, none)
    table = _site_table(sc, w, evals, sites, reasons)  # reads the sites' frame only
    mc, oat = _sensitivity(sc, w, evals, table, sensitivity)
    if mc is not None:
        table = table.join(mc.summary, on=sc.id_column)
    prov = _provenance(sc, book, w, cr, reg.window(0, 1, 0, 1), metric_crs)
    # the region grid is never built whole: its shape, and no count of its cells
    prov.update(grid_shape=list(shape), grid_cells_in_study_area=None)
    out = cand_src.to_crs(_original_crs(sc, book))
    for col in table.columns.drop(sc.id_column):
        out[col] = table[col].array
    tag_result(out, "suitability")
    return SiteScores(out, pd.Series(w, index=[c.name for c in sc.criteria], name="weight"),
                      _criteria_table(sc.criteria, w), cr, mc, oat, sc, n_windows, prov)
