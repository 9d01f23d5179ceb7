"""Region-scale suitability: the overlay computed window by window into Cloud-Optimised GeoTIFFs.

:func:`score` holds every criterion on the whole grid in memory; the Jing-Jin-Ji region at
30 m is 2.4·10^8 cells per criterion. :func:`score_chunked` computes the same composite and
value layers one window (``chunk_cells`` x ``chunk_cells``) at a time, each window seeing the
features within a **halo** around it, and writes them window by window; peak memory follows
the window, not the raster. Windows run in this process, or on Dask workers when
``settings.scheduler`` is set (see :mod:`cci_geo.scale`), a bounded number at a time.

Halo per criterion (the margin of features a window must see):

- ``distance`` and straight-line ``travel_time``: the distance at which the value function
  saturates (``linear``: its far end; ``step``: its last break; ``boolean`` with ``op``: the
  threshold), raised to cover the bounds of ``threshold`` constraints on the criterion. Beyond
  it every cell has the saturated value whatever the true distance, so values are exact. A
  ``sigmoid`` or ``gaussian`` never saturates: the halo is where it comes within
  ``1e-6`` of its limit, with a warning (values beyond differ by less than that);
- ``count``/``sum``: the radius (exact); ``density``: the kernel's reach (bandwidth for the
  quartic, 5 bandwidths for the Gaussian; the same binned grid as in memory);
- ``raster``: none (each window is resampled from the file).

Network ``travel_time`` and ``attribute`` criteria are not chunked (an error says so).
Site scores, ranks and the sensitivity analyses are computed as by :func:`score` on a grid
that covers the candidates (grown by the largest halo), aligned with the region grid. That
grid follows the candidates' bounding box: candidates spread over the whole region make it
region-sized again (score such sets tile by tile).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio import features as rio_features
from tqdm import tqdm

from ..errors import ParameterError, ResourceLimitError, opt
from ..raster import grid_for_bounds
from ..scale import scheduler_client
from ..settings import Settings
from . import measures
from ._layers import LayerBook
from .criteria import Criterion
from .grid import AnalysisGrid
from .overlay import SuitabilityResult, _setup, score
from .scenario import Scenario

__all__ = ["ChunkedSuitability", "criterion_halo", "read_window", "score_chunked"]

logger = logging.getLogger(__name__)

_SATURATION_TOL = 1e-6
_GDAL_CACHE_MB = 256
_CHUNKED_MEASURES = ("distance", "travel_time", "count", "sum", "density", "raster")
_TIFF_PROFILE = {"driver": "GTiff", "dtype": "float32", "count": 1, "nodata": float("nan"),
                 "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
                 "predictor": 3, "BIGTIFF": "IF_SAFER"}


@dataclass
class ChunkedSuitability:
    """What :func:`score_chunked` produced.

    Attributes
    ----------
    sites
        The scored sites, as :attr:`SuitabilityResult.sites`.
    files
        ``"composite"`` and ``"value_<criterion>"`` -> path of each Cloud-Optimised GeoTIFF
        (float32, NaN nodata, 512-pixel tiles, DEFLATE, overviews).
    halos_m
        Halo used for each spatial criterion, in metres.
    transform, shape, crs
        The region grid.
    site_result
        The full in-memory result on the candidates' grid (weights, criteria table,
        sensitivity, provenance).
    """

    sites: gpd.GeoDataFrame
    files: dict[str, Path]
    halos_m: dict[str, float]
    transform: Affine
    shape: tuple[int, int]
    crs: str
    site_result: SuitabilityResult = field(repr=False)


def _saturation(c: Criterion) -> tuple[float, bool]:
    """Return ``(raw value beyond which the value is constant, exact?)`` of a criterion."""
    vf = c.value_function
    p = vf.params
    if vf.function == "linear":
        return max(float(p["low"]), float(p["high"])), True
    if vf.function == "step":
        return float(max(p["breaks"])), True
    if vf.function == "boolean" and "op" in p:
        return float(p["threshold"]), True
    tail = math.log(1.0 / _SATURATION_TOL)
    if vf.function == "sigmoid":
        return float(p["midpoint"]) + abs(float(p["scale"])) * tail, False
    if vf.function == "gaussian":
        return float(p["center"]) + float(p["sd"]) * math.sqrt(2.0 * tail), False
    msg = (f"{c.key}: value function {vf.function!r} of a distance criterion has no "
           "saturation distance, so it cannot be computed window by window.")
    raise ParameterError(msg)


def criterion_halo(c: Criterion, constraints: Sequence[Any] = ()) -> float:
    """Return the halo (metres) a window needs for criterion ``c`` to be exact.

    Parameters
    ----------
    c
        A spatial criterion.
    constraints
        The scenario's constraints; ``threshold`` bounds on ``c`` widen its halo.

    Returns
    -------
    float
        Metres of features around a window that the window must see.

    Raises
    ------
    ParameterError
        The measure is not chunked (network travel time, attribute) or its value function
        never saturates in a way that can be bounded.

    Examples
    --------
    >>> from cci_geo.suitability import Criterion, linear
    >>> c = Criterion(name="parks", measure="distance", layer="zones",
    ...               value=linear(500, 5000, decreasing=True), weight=1.0)
    >>> criterion_halo(c)
    5000.0
    """
    p = c.params
    if c.measure not in _CHUNKED_MEASURES or (c.measure == "travel_time"
                                              and not p["straight_line"]):
        msg = (f"{c.key}: measure {c.measure!r}"
               f"{' over a street network' if c.measure == 'travel_time' else ''} is not "
               "computed window by window; use score() on a smaller grid, or a straight-line "
               "travel time.")
        raise ParameterError(msg)
    if c.measure in ("count", "sum"):
        return float(p["radius_m"])
    if c.measure == "density":
        h = float(p["bandwidth_m"])
        return h if p["kernel"] == "quartic" else 5.0 * h
    if c.measure == "raster":
        return 0.0
    sat, exact = _saturation(c)
    bounds = [float(b) for k in constraints if getattr(k, "criterion", None) == c.name
              for b in (k.min, k.max) if b is not None]
    sat = max([sat, *bounds])
    if c.measure == "travel_time":
        sat *= p["speed_kmh"] * 1000.0 / 60.0 / p["detour_factor"]  # minutes -> metres
    if not exact:
        warnings.warn(
            f"{c.key}: a {c.value_function.function} value function never saturates; windows "
            f"see features within {sat:.0f} m, where it is within {_SATURATION_TOL:g} of its "
            "limit, so values beyond may differ from score() by less than that.",
            UserWarning, stacklevel=2)
    return sat


@dataclass(frozen=True)
class _Plan:
    """Everything a window needs (sent to each Dask worker once)."""

    transform: Affine
    shape: tuple[int, int]
    crs: str
    mask_geom: Any
    criteria: tuple[Criterion, ...]
    weights: tuple[float, ...]
    halos: tuple[float, ...]
    layers: tuple[Any, ...]
    totals: tuple[int, ...]
    excludes: tuple[Any, ...]
    thresholds: tuple[tuple[int, float | None, float | None], ...]


def _region_grid(sc: Scenario, book: LayerBook, cand: gpd.GeoDataFrame,
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


def _windows(shape: tuple[int, int], size: int) -> Iterator[tuple[int, int, int, int]]:
    rows, cols = shape
    for r in range(0, rows, size):
        for c in range(0, cols, size):
            yield r, c, min(size, rows - r), min(size, cols - c)


def _subset(layer: gpd.GeoDataFrame, bounds: tuple[float, float, float, float],
            margin: float) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = bounds
    idx = layer.sindex.query(shapely.box(x0 - margin, y0 - margin, x1 + margin, y1 + margin))
    return layer.iloc[np.sort(idx)]


def _window_raw(c: Criterion, layer: Any, total: int, grid: AnalysisGrid,
                halo: float) -> np.ndarray:
    """The raw measure of ``c`` on one window (distances capped at the halo)."""
    p = c.params
    cs = grid.cell_size
    if c.measure == "raster":
        return measures.raster_on_grid(Path(p["path"]), grid, band=p["band"],
                                       resampling=p["resampling"], label=c.key, check=False)
    sub = _subset(layer, grid.bounds, halo + cs)
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
        return _window_density(sub, p, grid, total)
    return measures.grid_raw(c.measure, p, sub, grid, label=c.key)


def _window_density(sub: gpd.GeoDataFrame, p: Mapping[str, Any], grid: AnalysisGrid,
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
    return kde._convolve_moments(kde._scale_moments(moments, fine.d),  # noqa: SLF001
                                 fine, grid.shape, kernel, h)


def _compute_window(win: tuple[int, int, int, int], plan: _Plan) -> dict[str, np.ndarray]:
    """Return the composite and value layers (float32) of one window."""
    r0, c0, h, w = win
    cs = float(plan.transform.a)
    t = Affine(cs, 0.0, plan.transform.c + c0 * cs, 0.0, -cs, plan.transform.f - r0 * cs)
    if plan.mask_geom is None:
        mask = np.ones((h, w), dtype=bool)
    else:
        mask = rio_features.geometry_mask([plan.mask_geom], out_shape=(h, w), transform=t,
                                          invert=True)
    grid = AnalysisGrid(t, (h, w), plan.crs, mask)
    allowed = mask.copy()
    for geom in plan.excludes:
        allowed &= rio_features.geometry_mask([geom], out_shape=(h, w), transform=t)
    out: dict[str, np.ndarray] = {}
    comp = np.zeros((h, w))
    for k, c in enumerate(plan.criteria):
        raw = _window_raw(c, plan.layers[k], plan.totals[k], grid, plan.halos[k])
        for ci, lo, hi in plan.thresholds:
            if ci == k:
                with np.errstate(invalid="ignore"):
                    if lo is not None:
                        allowed &= ~(raw < lo)
                    if hi is not None:
                        allowed &= ~(raw > hi)
        value = np.full((h, w), np.nan)
        value[mask] = c.value_function(raw[mask])
        comp += plan.weights[k] * value
        out[f"value_{c.name}"] = value.astype(np.float32)
    comp[~allowed] = np.nan
    out["composite"] = comp.astype(np.float32)
    logger.debug("window r%d c%d (%d x %d) at %g m done", r0, c0, h, w, cs)
    return out


def _plan(sc: Scenario, book: LayerBook, w: np.ndarray, transform: Affine,
          shape: tuple[int, int], crs: str, mask_geom: Any) -> _Plan:
    spatial = [i for i, c in enumerate(sc.criteria) if c.spatial]
    if not spatial:
        msg = "the scenario has no spatial criterion: there is no raster to compute."
        raise ParameterError(msg)
    ws = float(w[spatial].sum())
    crits = tuple(sc.criteria[i] for i in spatial)
    halos = tuple(criterion_halo(c, sc.constraints) for c in crits)
    layers: list[Any] = []
    totals: list[int] = []
    for c in crits:
        if c.layer is None or c.measure == "raster":
            layers.append(None)
            totals.append(0)
            continue
        lay = book.get(c.layer, key=f"{c.key}.layer", where=c.where)
        lay = lay[~(lay.geometry.is_empty | lay.geometry.isna())]
        layers.append(lay)
        totals.append(len(lay))
    excludes: list[Any] = []
    thresholds: list[tuple[int, float | None, float | None]] = []
    names = [c.name for c in crits]
    for k in sc.constraints:
        if k.kind == "exclude":
            area = book.get(k.layer, key=f"{k.key}.layer", where=k.where)
            geoms = area.geometry if k.buffer_m <= 0 else area.geometry.buffer(k.buffer_m)
            excludes.append(shapely.union_all(np.asarray(geoms.values)))
        elif k.kind == "threshold" and k.criterion in names:
            thresholds.append((names.index(k.criterion), k.min, k.max))
    return _Plan(transform, shape, crs, mask_geom, crits,
                 tuple(float(w[i]) / ws for i in spatial), halos, tuple(layers), tuple(totals),
                 tuple(excludes), tuple(thresholds))


def score_chunked(scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str],
                  out_dir: str | os.PathLike[str], *,
                  atlas: Mapping[str, gpd.GeoDataFrame] | None = None,
                  layers: Mapping[str, gpd.GeoDataFrame] | None = None,
                  candidates: str | gpd.GeoDataFrame | None = None,
                  sensitivity: bool | None = None, seed: int | None = None,
                  chunk_cells: int = 2048, settings: Settings | None = None,
                  metric_crs: str | None = None,
                  overwrite: bool = False) -> ChunkedSuitability:
    """Score a scenario over a region-scale grid, writing the rasters window by window.

    Parameters
    ----------
    scenario, atlas, layers, candidates, sensitivity, seed
        As for :func:`score`.
    out_dir
        Folder of the outputs: ``composite.tif`` and ``value_<criterion>.tif`` (created if
        missing).
    chunk_cells
        Window edge in cells (a multiple of 512 keeps windows on whole tiles); memory per
        window is about 40 bytes per cell per spatial criterion.
    settings
        ``scheduler`` to compute windows on Dask workers (a few windows in flight per
        worker; this process writes them).
    metric_crs
        As for :func:`score`.
    overwrite
        Replace existing output files (otherwise an existing file is an error).

    Returns
    -------
    ChunkedSuitability

    Raises
    ------
    ParameterError
        A criterion that is not chunked, ``chunk_cells`` < 64, or outputs that exist
        without ``overwrite``.
    ScenarioError, DataError
        As for :func:`score`.

    Examples
    --------
    >>> import tempfile, cci_geo
    >>> scenario = {"scenario": {"name": "near parks"},
    ...             "candidates": {"layer": "factory_sites"},
    ...             "grid": {"cell_size_m": 1000, "extent": "districts"},
    ...             "criteria": [{"name": "parks", "layer": "zones", "measure": "distance",
    ...                           "value": {"function": "linear", "low": 1000, "high": 8000,
    ...                                     "direction": "decreasing"}, "weight": 1.0}]}
    >>> res = score_chunked(scenario, tempfile.mkdtemp(), atlas=cci_geo.load_demo(),
    ...                     chunk_cells=64, sensitivity=False)
    >>> sorted(res.files), res.halos_m
    (['composite', 'value_parks'], {'parks': 8000.0})
    """
    if int(chunk_cells) < 64:
        msg = f"chunk_cells must be at least 64, got {chunk_cells!r}."
        raise ParameterError(msg)
    settings = settings or Settings()
    sc, extra, metric_crs, book, w, _, cand = _setup(scenario, atlas=atlas, layers=layers,
                                                     candidates=candidates, seed=seed,
                                                     metric_crs=metric_crs)
    transform, shape, mask_geom = _region_grid(sc, book, cand, metric_crs)
    plan = _plan(sc, book, w, transform, shape, metric_crs, mask_geom)
    # what is held at once is one window and its halo: bound that instead of the whole raster
    halo_m = max(plan.halos, default=0.0)
    pad = math.ceil(halo_m / sc.grid.cell_size_m) + 2
    side = min(int(chunk_cells), max(shape)) + 2 * pad
    if side * side > settings.max_cells or side * side * 8 > settings.max_bytes:
        msg = (f"a raster window with its halo would hold {side:,} x {side:,} cells "
               f"(chunk_cells={int(chunk_cells)} plus {pad} cells on each side for the widest "
               f"criterion's halo of {halo_m:g} m), over Settings.max_cells="
               f"{settings.max_cells:,}; pass a smaller "
               f"{opt('chunk_cells=', '--chunk-cells')} or raise the limit.")
        raise ResourceLimitError(msg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = ["composite", *(f"value_{c.name}" for c in plan.criteria)]
    files = {n: out / f"{n}.tif" for n in names}
    clash = [str(p) for p in files.values() if p.exists()]
    if clash and not overwrite:
        msg = f"outputs exist: {clash}; pass overwrite=True (--overwrite) to replace them."
        raise ParameterError(msg)
    _write_windows(plan, files, int(chunk_cells), settings)
    site_sc = replace(sc, grid=replace(sc.grid, extent="candidates",
                                       buffer_m=max(plan.halos) + sc.grid.cell_size_m))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # weights were checked above
        site_res = score(site_sc, atlas=atlas, layers=extra, sensitivity=sensitivity,
                         metric_crs=metric_crs)
    return ChunkedSuitability(site_res.sites, files,
                              {c.name: h for c, h in zip(plan.criteria, plan.halos, strict=True)},
                              transform, shape, metric_crs, site_res)


def _write_windows(plan: _Plan, files: dict[str, Path], size: int,
                   settings: Settings) -> None:
    """Compute every window and write it into tiled GeoTIFFs, then convert them to COGs."""
    import rasterio
    from rasterio.windows import Window

    profile = {**_TIFF_PROFILE, "height": plan.shape[0], "width": plan.shape[1],
               "crs": plan.crs, "transform": plan.transform}
    tmp = {n: p.with_name(f".{p.stem}.{os.getpid()}.partial.tif") for n, p in files.items()}
    wins = list(_windows(plan.shape, size))
    logger.info("suitability: %d x %d cells in %d windows of %d cells", *plan.shape, len(wins),
                size)
    bar = tqdm(total=len(wins), desc="suitability windows", unit="window",
               disable=not settings.progress, file=sys.stderr)
    # the GDAL block cache would otherwise grow to 5 % of RAM while the files are written
    with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_MB):
        dsts = {n: rasterio.open(p, "w", **profile) for n, p in tmp.items()}
        try:
            for win, arrays in _run_windows(wins, plan, settings):
                bar.update()
                r0, c0, h, w = win
                for n, dst in dsts.items():
                    dst.write(arrays[n], 1, window=Window(c0, r0, w, h))
        finally:
            bar.close()
            for dst in dsts.values():
                dst.close()
    try:
        for n, src in tmp.items():
            _to_cog(src, files[n])
    finally:
        for src in tmp.values():
            src.unlink(missing_ok=True)


def _run_windows(wins: list[tuple[int, int, int, int]], plan: _Plan,
                 settings: Settings) -> Iterator[tuple[tuple[int, int, int, int],
                                                       dict[str, np.ndarray]]]:
    with scheduler_client(settings.scheduler) as client:
        if client is None:
            for win in wins:
                yield win, _compute_window(win, plan)
            return
        from distributed import as_completed

        n_workers = max(1, len(client.scheduler_info()["workers"]))
        in_flight = 2 * n_workers  # results wait on the workers until written: keep few
        plan_f = client.scatter(plan, broadcast=True)
        queue = iter(wins)
        futures = {client.submit(_compute_window, win, plan_f, pure=False): win
                   for win in [next(queue) for _ in range(min(in_flight, len(wins)))]}
        done = as_completed(list(futures))
        for fut in done:
            win = futures.pop(fut)
            arrays = fut.result()
            fut.release()
            nxt = next(queue, None)
            if nxt is not None:
                new = client.submit(_compute_window, nxt, plan_f, pure=False)
                futures[new] = nxt
                done.add(new)
            yield win, arrays


def _to_cog(src: Path, dst: Path) -> None:
    """Copy a tiled GeoTIFF to a Cloud-Optimised GeoTIFF (GDAL streams it tile by tile)."""
    import rasterio.shutil

    part = dst.with_name(f".{dst.stem}.{os.getpid()}.cog.tif")
    try:
        with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_MB):
            rasterio.shutil.copy(src, part, driver="COG", compress="DEFLATE", predictor="YES",
                                 blocksize=512, overview_resampling="average",
                                 BIGTIFF="IF_SAFER")
        part.replace(dst)
    finally:
        part.unlink(missing_ok=True)


def read_window(path: str | os.PathLike[str], rows: np.ndarray,
                cols: np.ndarray) -> np.ndarray:
    """Return the values of a GeoTIFF at ``(row, col)`` cells without reading it whole.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import rasterio
    >>> from affine import Affine
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "score.tif"
    >>> with rasterio.open(path, "w", driver="GTiff", width=3, height=2, count=1,
    ...                    dtype="float64", crs="EPSG:32650",
    ...                    transform=Affine(1000, 0, 0, 0, -1000, 2000)) as dst:
    ...     dst.write(np.arange(6.0).reshape(1, 2, 3))
    >>> read_window(path, rows=np.array([0, 1]), cols=np.array([2, 0]))
    array([2., 3.])
    """
    import rasterio
    from rasterio.windows import Window

    out = np.empty(len(rows))
    with rasterio.open(path) as src:
        for k, (r, c) in enumerate(zip(rows, cols, strict=True)):
            out[k] = src.read(1, window=Window(int(c), int(r), 1, 1))[0, 0]
    return out
