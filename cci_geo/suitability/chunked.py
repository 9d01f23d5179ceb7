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
Site scores, ranks and the sensitivity analyses are :func:`~cci_geo.suitability.score_sites`'s:
equal to :func:`score`'s, computed at the sites and on small windows of the region grid around
them, so candidates spread over the whole region cost what the sites cost.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio import features as rio_features
from tqdm import tqdm

from ..errors import ParameterError, ResourceLimitError, opt
from ..scale import progress_bar, scheduler_client
from ..settings import Settings
from ._layers import LayerBook
from ._window import compact_layer, region_grid, window_grid, window_raw, windows
from .criteria import Criterion
from .overlay import _setup
from .scenario import Scenario
from .sites import SiteScores, _score_sites

__all__ = ["ChunkedSuitability", "criterion_halo", "read_window", "score_chunked"]

logger = logging.getLogger(__name__)

_SATURATION_TOL = 1e-6
_GDAL_CACHE_MB = 256
_COMPRESSIONS = ("deflate", "zstd")
_SITE_CLUSTER = 512  # cells: point sites in one block share a window
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
        (float32, NaN nodata, 512-pixel tiles, DEFLATE or ZSTD, overviews).
    halos_m
        Halo used for each spatial criterion, in metres.
    transform, shape, crs
        The region grid.
    site_result
        The site scores with weights, criteria table, sensitivity and provenance, as
        :func:`~cci_geo.suitability.score_sites` computes them (equal to :func:`score`'s).
    """

    sites: gpd.GeoDataFrame
    files: dict[str, Path]
    halos_m: dict[str, float]
    transform: Affine
    shape: tuple[int, int]
    crs: str
    site_result: SiteScores = field(repr=False)


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








def _compute_window(win: tuple[int, int, int, int], plan: _Plan) -> dict[str, np.ndarray] | None:
    """Return the composite and value layers (float32) of one window.

    None for a window that lies wholly outside the study area (nothing to compute or write).
    """
    r0, c0, h, w = win
    cs = float(plan.transform.a)
    grid = window_grid(plan.transform, plan.crs, plan.mask_geom, r0, c0, (h, w))
    if grid is None or not grid.mask.any():
        return None
    t, mask = grid.transform, grid.mask
    whole = bool(mask.all())
    allowed = mask.copy()
    for geom in plan.excludes:
        allowed &= rio_features.geometry_mask([geom], out_shape=(h, w), transform=t)
    out: dict[str, np.ndarray] = {}
    comp = np.zeros((h, w))
    for k, c in enumerate(plan.criteria):
        raw = window_raw(c, plan.layers[k], plan.totals[k], grid, plan.halos[k])
        for ci, lo, hi in plan.thresholds:
            if ci == k:
                with np.errstate(invalid="ignore"):
                    if lo is not None:
                        allowed &= ~(raw < lo)
                    if hi is not None:
                        allowed &= ~(raw > hi)
        if whole:
            value = np.asarray(c.value_function(raw), dtype=np.float64)
        else:
            value = np.full((h, w), np.nan)
            value[mask] = c.value_function(raw[mask])
        del raw
        out[f"value_{c.name}"] = value.astype(np.float32)  # the output type
        value *= plan.weights[k]
        comp += value  # in float64, as score() adds
        del value
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
        needed = [c.params.get("column"), c.params.get("weight_column")]
        layers.append(compact_layer(lay, [n for n in needed if n]))
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
                  overwrite: bool = False, compress: str = "deflate") -> ChunkedSuitability:
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
    compress
        Compression of the COGs: ``"deflate"`` (read by every GeoTIFF reader) or ``"zstd"``
        (GDAL >= 2.3, QGIS, rasterio; about 3x faster to write, similar size). Both with the
        floating-point predictor.

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
    if compress not in _COMPRESSIONS:
        msg = f"compress must be one of {_COMPRESSIONS}, got {compress!r}."
        raise ParameterError(msg)
    settings = settings or Settings()
    sc, _, metric_crs, book, w, cr, cand = _setup(scenario, atlas=atlas, layers=layers,
                                                     candidates=candidates, seed=seed,
                                                     metric_crs=metric_crs)
    transform, shape, mask_geom = region_grid(sc, book, cand, metric_crs)
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
    # the sites first: they are quick, and a site outside the study area stops the run early
    site_res = _score_sites(sc, book, w, cr, cand, metric_crs, sensitivity, _SITE_CLUSTER,
                            region=(transform, shape, mask_geom))
    _write_windows(plan, files, int(chunk_cells), settings, compress)
    return ChunkedSuitability(site_res.sites, files,
                              {c.name: h for c, h in zip(plan.criteria, plan.halos, strict=True)},
                              transform, shape, metric_crs, site_res)


def _write_windows(plan: _Plan, files: dict[str, Path], size: int,
                   settings: Settings, compress: str = "deflate") -> int:
    """Compute every window into tiled GeoTIFFs, then convert them to COGs.

    The windows go into uncompressed, sparse, tiled GeoTIFFs first (this process only
    writes, so it keeps up with many workers; windows outside the study area are never
    written and read back as nodata), which are then compressed once into the COGs, the
    layers side by side on this machine's cores. Returns the number of windows computed.
    """
    import rasterio
    from rasterio.windows import Window

    profile = {**_TIFF_PROFILE, "height": plan.shape[0], "width": plan.shape[1],
               "crs": plan.crs, "transform": plan.transform, "compress": None,
               "SPARSE_OK": True}
    profile.pop("predictor")
    tmp = {n: p.with_name(f".{p.stem}.{os.getpid()}.partial.tif") for n, p in files.items()}
    wins = list(windows(plan.shape, size))
    logger.info("suitability: %d x %d cells in %d windows of %d cells", *plan.shape, len(wins),
                size)
    computed = 0
    try:
        # the GDAL block cache would otherwise grow to 5 % of RAM while the files are written
        with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_MB):
            dsts = {n: rasterio.open(p, "w", **profile) for n, p in tmp.items()}
            try:
                for win, arrays in _run_windows(wins, plan, settings):
                    if arrays is None:
                        continue
                    computed += 1
                    r0, c0, h, w = win
                    for n, dst in dsts.items():
                        dst.write(arrays[n], 1, window=Window(c0, r0, w, h))
            finally:
                for dst in dsts.values():
                    dst.close()
        logger.info("suitability: %d windows computed (%d outside the study area); writing "
                    "%d Cloud-Optimised GeoTIFFs", computed, len(wins) - computed, len(files))
        threads = max(1, min(len(files), os.cpu_count() or 1))
        with ThreadPoolExecutor(threads) as pool:  # GDAL compresses without the GIL
            list(pool.map(lambda n: _to_cog(tmp[n], files[n], compress), list(files)))
    finally:
        for src in tmp.values():
            src.unlink(missing_ok=True)
    return computed


def _run_windows(wins: list[tuple[int, int, int, int]], plan: _Plan,
                 settings: Settings) -> Iterator[tuple[tuple[int, int, int, int],
                                                       dict[str, np.ndarray] | None]]:
    """Yield ``(window, arrays)`` as windows are computed, here or on Dask workers."""
    with scheduler_client(settings.scheduler) as client:
        if client is None:
            bar = tqdm(total=len(wins), desc="suitability windows", unit="window",
                       disable=not settings.progress, file=sys.stderr)
            with bar:
                for win in wins:
                    yield win, _compute_window(win, plan)
                    bar.update()
            return
        from distributed import as_completed

        plan_f = client.scatter(plan, broadcast=True)
        futures = client.map(_compute_window, wins, plan=plan_f, pure=False)
        index = {f.key: k for k, f in enumerate(futures)}
        # this process only writes uncompressed tiles, so it takes windows as fast as the
        # workers make them; each is released once written
        with progress_bar(futures, enabled=settings.progress):
            for fut in as_completed(futures):
                arrays = fut.result()
                k = index[fut.key]
                futures[k] = None  # type: ignore[call-overload]
                fut.release()
                yield wins[k], arrays


def _to_cog(src: Path, dst: Path, compress: str = "deflate") -> None:
    """Copy a tiled GeoTIFF to a Cloud-Optimised GeoTIFF (GDAL streams it tile by tile)."""
    import rasterio.shutil

    part = dst.with_name(f".{dst.stem}.{os.getpid()}.cog.tif")
    try:
        with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_MB // 2):
            rasterio.shutil.copy(src, part, driver="COG", compress=compress.upper(),
                                 predictor="YES",
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
