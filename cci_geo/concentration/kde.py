"""Kernel density surfaces of points (quartic as in ArcGIS/QGIS heat maps, or Gaussian).

The density is computed by binning the points onto a grid of nodes and convolving with the
kernel by FFT. Binning keeps, per node, the weight and the first and second moments of the
points' offsets from the node (:func:`bin_moments`); convolving those six grids with the
kernel and its first and second derivatives is a second-order Taylor expansion of every
point's kernel about its node. The third-order remainder changes sign with the offset and
largely cancels between points, which keeps the relative error against exact summation near
1e-5 wherever the density is at least 1 % of its maximum (see benchmarks/bench_concentration.py).
Where the bandwidth spans few cells, the points are binned on a finer grid (an odd
oversampling factor) whose nodes include every output cell centre. The quartic kernel's second
derivative jumps at its support radius, so small quartic problems (points x cells per kernel
below a few million) are summed exactly, cell by cell.

The moment grids of disjoint point sets add up: partitions of a large point set (Dask) are
binned separately and summed before the one FFT, giving the in-memory result.
"""

from __future__ import annotations

import functools
import logging
import math
from typing import Literal, NamedTuple

import geopandas as gpd
import numpy as np
import scipy.fft as sfft
from affine import Affine
from pyproj import CRS

from .._validate import check_grid_size, ensure_metric, positive
from ..errors import CRSMismatchError, DataError, ParameterError, ParameterTypeError
from ..raster import Surface, grid_for_bounds
from ..results import RESULT_KEY
from ..scale import is_partitioned
from ..settings import Settings
from ._common import finite_values, metric_points, to_frame, xy_bounds

__all__ = ["KERNELS", "bin_moments", "default_bandwidth", "kernel_density"]

logger = logging.getLogger(__name__)

KERNELS = ("quartic", "gaussian")
"""Supported kernels: ``quartic`` (support radius = bandwidth), ``gaussian`` (sigma = bandwidth)."""

_GAUSS_TRUNCATE = 5.0  # the Gaussian is cut at 5 sigma (mass beyond: exp(-12.5) ≈ 4e-6)
_MIN_NODES_PER_BANDWIDTH = {"quartic": 20.0, "gaussian": 3.0}
_MAX_FINE_CELLS = 40_000_000
_EXACT_BUDGET = 30_000_000  # point-cell kernel evaluations below which quartic is summed exactly
_PER_KM2 = 1.0e6


def _bandwidth_rule(xy: np.ndarray, w: np.ndarray) -> float:
    n = len(xy)
    total = float(w.sum())
    if n < 2 or total <= 0:
        msg = (
            f"the bandwidth rule needs at least 2 points with positive weight, got {n}; "
            "pass bandwidth_m= in metres."
        )
        raise DataError(msg)
    centre = (xy * w[:, None]).sum(axis=0) / total
    d = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    sd = math.sqrt(float((w * d * d).sum()) / total)
    order = np.argsort(d, kind="stable")
    cum = np.cumsum(w[order])
    dm = float(d[order][np.searchsorted(cum, 0.5 * total)])
    if sd <= 1e-9 * max(1.0, float(np.abs(centre).max())):  # rounding noise of one location
        msg = (
            f"all {n} points are at the same location, so no bandwidth can be derived from "
            "their spread; pass bandwidth_m= in metres (or check the coordinates)."
        )
        raise DataError(msg)
    spread = min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) if dm > 0 else sd
    return 0.9 * spread * n ** (-0.2)


def default_bandwidth(points: gpd.GeoDataFrame | gpd.GeoSeries, *,
                      weight: str | None = None, metric_crs: str | None = None) -> float:
    """Return the default bandwidth (metres) used when ``kernel_density`` gets none.

    The rule is ArcGIS Pro's default search radius for Kernel Density, a spatial variant of
    Silverman's rule of thumb that is robust to outliers::

        h = 0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n ** -0.2

    where ``SD`` is the (weighted) standard distance of the points from their (weighted) mean
    centre, ``Dm`` the (weighted) median of those distances and ``n`` the number of points.
    (ArcGIS uses the sum of the weights as ``n`` when a population field is given; we keep the
    point count so the bandwidth does not depend on the unit of the weight.) The value is the
    support radius of the quartic kernel and the sigma of the Gaussian one.

    Parameters
    ----------
    points
        Point layer; geographic layers are measured in ``metric_crs``.
    weight
        Optional column of non-negative weights.
    metric_crs
        Metric CRS used when ``points`` is geographic; default as
        :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    float
        Bandwidth in metres.

    Raises
    ------
    DataError
        If fewer than two points, NaN weights, or all points at one location.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import numpy as np
    >>> xy = np.random.default_rng(0).normal(0, 1000, (500, 2))
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs="EPSG:32651")
    >>> 200 < default_bandwidth(pts) < 600
    True
    """
    pts = metric_points(points, "points", metric_crs)
    return _bandwidth_rule(pts.xy, finite_values(pts.frame, weight, "points"))


def _kernel_terms(kernel: str, h: float, d: float, radius: int) -> np.ndarray:
    """Return the six Taylor kernels ``K, -Kx, -Ky, Kxx/2, Kyy/2, Kxy`` on a (2r+1)^2 grid.

    Offsets are in the binning grid's index space (x east, y south) with step ``d`` metres.
    """
    o = np.arange(-radius, radius + 1) * d
    dx = o[None, :]
    dy = o[:, None]
    r2 = dx * dx + dy * dy
    hh = h * h
    if kernel == "quartic":
        a = 3.0 / (math.pi * hh)
        inside = r2 < hh
        u = np.where(inside, 1.0 - r2 / hh, 0.0)
        K = a * u * u
        Kx = -4.0 * a / hh * u * dx
        Ky = -4.0 * a / hh * u * dy
        Kxx = np.where(inside, -4.0 * a / hh * (u - 2.0 * dx * dx / hh), 0.0)
        Kyy = np.where(inside, -4.0 * a / hh * (u - 2.0 * dy * dy / hh), 0.0)
        Kxy = np.where(inside, 8.0 * a / (hh * hh) * dx * dy, 0.0)
    else:
        inside = r2 <= (_GAUSS_TRUNCATE * h) ** 2
        K = np.where(inside, np.exp(-r2 / (2.0 * hh)) / (2.0 * math.pi * hh), 0.0)
        Kx = -dx / hh * K
        Ky = -dy / hh * K
        Kxx = K * (dx * dx / (hh * hh) - 1.0 / hh)
        Kyy = K * (dy * dy / (hh * hh) - 1.0 / hh)
        Kxy = K * dx * dy / (hh * hh)
    return np.stack((K, -Kx, -Ky, 0.5 * Kxx, 0.5 * Kyy, Kxy))


_CACHED_SPECTRUM_CELLS = 4_000_000  # larger grids' spectra are not kept between calls


def _kernel_spectra(kernel: str, h: float, d: float, radius: int, fshape: tuple[int, int],
                    node_units: bool = False) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Return the rfft2 spectra of the Taylor kernels, centred on index (0, 0), per km².

    The main kernel's spectrum is float64; the five correction kernels' are complex64: their
    terms are a few per mille of the density, so single precision costs nothing in accuracy.
    With ``node_units`` the correction kernels take moments of offsets in node units (as
    :func:`bin_moments` returns them): the factors ``d`` and ``d²`` are in the spectra.
    Spectra of grids up to a few million cells are cached (repeated surfaces on one grid);
    larger ones (hundreds of MB) are computed per call.
    """
    if fshape[0] * fshape[1] <= _CACHED_SPECTRUM_CELLS:
        return _cached_spectra(kernel, h, d, radius, fshape, node_units)
    return _spectra(kernel, h, d, radius, fshape, node_units)


@functools.lru_cache(maxsize=8)
def _cached_spectra(kernel: str, h: float, d: float, radius: int, fshape: tuple[int, int],
                    node_units: bool) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    main, corr = _spectra(kernel, h, d, radius, fshape, node_units)
    for arr in (main, *corr):
        arr.flags.writeable = False
    return main, corr


def _spectra(kernel: str, h: float, d: float, radius: int, fshape: tuple[int, int],
             node_units: bool) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    terms = _kernel_terms(kernel, h, d, radius) * _PER_KM2
    if node_units:
        terms[1:3] *= d
        terms[3:] *= d * d
    span = np.arange(-radius, radius + 1)
    rows, cols = (span % fshape[0])[:, None], (span % fshape[1])[None, :]

    def spectrum(k: int, dtype: type) -> np.ndarray:  # one kernel wrapped at a time
        wrapped: np.ndarray = np.zeros(fshape, dtype=dtype)
        wrapped[rows, cols] = terms[k]
        return sfft.rfft2(wrapped, overwrite_x=True)

    return spectrum(0, np.float64), tuple(spectrum(k, np.float32) for k in range(1, 6))


_N_MOMENTS = 6
_BLOCK = 1 << 15  # points per block: the per-point arithmetic stays in cache


def bin_moments(xy: np.ndarray, w: np.ndarray | None, origin: tuple[float, float], d: float,
                shape: tuple[int, int], *, out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Bin points with their offsets from the nearest node (the KDE's additive statistic).

    Each point at node ``k`` plus offset ``u`` (in node units, ``|u| <= 1/2``) adds ``w``,
    ``w ux``, ``w uy``, ``w ux²``, ``w uy²`` and ``w ux uy`` to the six moment grids of node
    ``k``. The density is then ``sum_k K(x - X_k) M0 - d ∇K·M1 + d² ½ uᵀ H u ...``, a
    second-order Taylor expansion of every point's kernel about its node (the third-order
    term's sign follows ``u`` and cancels between points). The grids of disjoint point sets
    add up, which is what lets partitions be binned separately and summed.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres.
    w
        Weights, or None for 1 per point.
    origin
        ``(x, y)`` of node ``(0, 0)`` (the north-west node; rows go south).
    d
        Node spacing in metres.
    shape
        ``(rows, cols)`` of the node grid.
    out
        A ``(6, rows, cols)`` float64 array to add the points' moments to (in place), e.g.
        to bin many partitions into one grid; a new one is returned if None.

    Returns
    -------
    tuple
        ``(moments, n_in)``: a ``(6, rows, cols)`` float64 array (``out`` if given) and the
        number of points binned (points off the grid are dropped).

    Examples
    --------
    Two points near the first row of a 2 x 2 grid of 10 m spacing, one far off it:

    >>> import numpy as np
    >>> xy = np.array([[0.0, 0.0], [10.0, -2.0], [500.0, 0.0]])
    >>> moments, n_in = bin_moments(xy, None, origin=(0.0, 0.0), d=10.0, shape=(2, 2))
    >>> moments.shape, n_in
    ((6, 2, 2), 2)
    >>> moments[0]                     # the point count at each node
    array([[1., 1.],
           [0., 0.]])
    """
    rows, cols = shape
    n = len(xy)
    size = rows * cols
    x, y = xy[:, 0], xy[:, 1]
    idx = np.empty(n, dtype=np.intp)
    u = np.empty((_N_MOMENTS - 1, n))
    keep: np.ndarray | None = None
    inv = 1.0 / d
    x0, y0 = origin
    # one check of the extreme points (offsets are monotone in x and y) spares a check of
    # every block when all points fall on the grid, as they do unless an extent cuts them
    inside = n > 0 and bool(
        np.rint((x.min() - x0) * inv) >= 0 and np.rint((x.max() - x0) * inv) <= cols - 1
        and np.rint((y0 - y.max()) * inv) >= 0 and np.rint((y0 - y.min()) * inv) <= rows - 1)
    m = min(n, _BLOCK)
    fx, fy, kx, ky = (np.empty(m) for _ in range(4))
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        b = hi - lo
        bx, by, bkx, bky = fx[:b], fy[:b], kx[:b], ky[:b]
        np.subtract(x[lo:hi], x0, out=bx)
        bx *= inv
        np.subtract(y0, y[lo:hi], out=by)
        by *= inv
        np.rint(bx, out=bkx)
        np.rint(by, out=bky)
        ux = np.subtract(bx, bkx, out=u[0, lo:hi])
        uy = np.subtract(by, bky, out=u[1, lo:hi])
        np.multiply(ux, ux, out=u[2, lo:hi])
        np.multiply(uy, uy, out=u[3, lo:hi])
        np.multiply(ux, uy, out=u[4, lo:hi])
        if not inside and (bkx.min() < 0 or bky.min() < 0 or bkx.max() > cols - 1
                           or bky.max() > rows - 1):
            if keep is None:
                keep = np.ones(n, dtype=bool)
            ok = (bkx >= 0) & (bky >= 0) & (bkx <= cols - 1) & (bky <= rows - 1)
            keep[lo:hi] = ok
            bkx[~ok] = 0
            bky[~ok] = 0
        bky *= cols
        bky += bkx
        idx[lo:hi] = bky
    if keep is not None:
        idx, u = idx[keep], u[:, keep]
        w = None if w is None else w[keep]
    if out is not None:  # scatter into the caller's grids: no grid-sized temporaries
        if (out.shape != (_N_MOMENTS, rows, cols) or out.dtype != np.float64
                or not out.flags.c_contiguous):
            msg = f"out must be a C-contiguous float64 array of shape {(_N_MOMENTS, rows, cols)}."
            raise ParameterError(msg)
        flat = out.reshape(_N_MOMENTS, size)
        np.add.at(flat[0], idx, 1.0 if w is None else w)
        for k in range(_N_MOMENTS - 1):
            np.add.at(flat[k + 1], idx, u[k] if w is None else np.multiply(u[k], w, out=u[k]))
        return out, int(idx.size)
    grids = np.empty((_N_MOMENTS, size))
    grids[0] = np.bincount(idx, weights=w, minlength=size)
    for k in range(_N_MOMENTS - 1):
        vals = u[k] if w is None else np.multiply(u[k], w, out=u[k])
        grids[k + 1] = np.bincount(idx, weights=vals, minlength=size)
    return grids.reshape(_N_MOMENTS, rows, cols), int(idx.size)


def _check_bandwidth(h: float, xy: np.ndarray, cell_size: float) -> None:
    """Refuse a bandwidth out of all proportion to the data (a flat, gigantic surface)."""
    if h <= 1000.0 * cell_size:  # within the limit whatever the span: no pass over the data
        return
    if len(xy):
        xmin, ymin, xmax, ymax = xy_bounds(xy)
        span = max(xmax - xmin, ymax - ymin)
    else:
        span = 0.0
    limit = 10.0 * max(span, 100.0 * cell_size)
    if h > limit:
        msg = (f"bandwidth {h:,.0f} m is out of proportion to the data, which span "
               f"{span:,.0f} m (limit {limit:,.0f} m = 10 x max(span, 100 cells)): the surface "
               "would be flat and the grid enormous. Pass a bandwidth in metres comparable to "
               "the distances between points (e.g. 500-5,000 m in a city), or bandwidth=None "
               "for the default rule.")
        raise ParameterError(msg)


def _resolve_grid(extent: object, xy: np.ndarray, support: float, cell_size: float,
                  crs: CRS, settings: Settings | None = None) -> tuple[Affine, tuple[int, int]]:
    what = "density grid"
    if extent is None:
        xmin, ymin, xmax, ymax = xy_bounds(xy)
        padded = (xmin - support, ymin - support, xmax + support, ymax + support)
        return grid_for_bounds(padded, cell_size, what=what, settings=settings)
    if isinstance(extent, Surface):
        if not CRS.from_user_input(extent.crs).equals(crs):
            msg = (
                f"extent Surface is in {extent.crs.to_string()} but the points are measured in "
                f"{crs.to_string()}; pass metric_crs={extent.crs.to_string()!r}."
            )
            raise CRSMismatchError(msg)
        return extent.transform, extent.shape
    if isinstance(extent, (gpd.GeoDataFrame, gpd.GeoSeries)):
        bounds = ensure_metric(to_frame(extent), "extent", crs.to_string()).to_crs(crs).total_bounds
        return grid_for_bounds(tuple(float(b) for b in bounds), cell_size,  # type: ignore[arg-type]
                               what=what, settings=settings)
    try:
        bounds = tuple(float(b) for b in extent)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        msg = (
            "extent must be None, (xmin, ymin, xmax, ymax) in metres of the metric CRS, a "
            f"GeoDataFrame/GeoSeries or a Surface, got {type(extent).__name__}."
        )
        raise ParameterTypeError(msg) from exc
    if len(bounds) != 4:
        msg = f"extent must have 4 numbers (xmin, ymin, xmax, ymax), got {len(bounds)}."
        raise ParameterError(msg)
    return grid_for_bounds(bounds, cell_size, what=what, settings=settings)  # type: ignore[arg-type]


def _oversampling(kernel: str, bandwidth: float, cell_size: float, shape: tuple[int, int],
                  pad_cells: float) -> int:
    s = 1
    while bandwidth / (cell_size / s) < _MIN_NODES_PER_BANDWIDTH[kernel]:
        nxt = s + 2
        cells = (shape[0] * nxt + 2 * pad_cells * nxt) * (shape[1] * nxt + 2 * pad_cells * nxt)
        if cells > _MAX_FINE_CELLS:
            logger.warning(
                "bandwidth %.1f m spans only %.1f cells of %.1f m; accuracy is reduced. Use a "
                "smaller cell_size_m or a larger bandwidth_m.", bandwidth, bandwidth / cell_size,
                cell_size)
            break
        s = nxt
    return s


def kernel_density(points: gpd.GeoDataFrame | gpd.GeoSeries, *, cell_size_m: float = 100.0,
                   bandwidth_m: float | None = None,
                   kernel: Literal["quartic", "gaussian"] = "quartic",
                   weight: str | None = None, extent: object = None,
                   metric_crs: str | None = None, units: str | None = None,
                   settings: Settings | None = None) -> Surface:
    """Return the kernel density surface of points, in units per km².

    Parameters
    ----------
    points
        Point layer (e.g. ``atlas["enterprises"]``). Geographic layers are reprojected to
        ``metric_crs``; the density is computed in metres. A dask-geopandas frame or the
        path/glob of a GeoParquet dataset is binned partition by partition (see
        :mod:`cci_geo.scale`): the six moment grids of the partitions are summed and
        convolved once, so the surface equals the in-memory one (up to the order of
        floating-point additions). GeoParquet points are decoded from their WKB or GeoArrow
        columns with numpy, without shapely objects (see ``docs/scale.md``). Such input needs
        ``bandwidth_m`` (the default rule needs a median over all points); the grid extent
        comes from ``extent``, the files' ``bbox`` metadata, or a first pass over the points.
    cell_size_m
        Cell edge in metres.
    bandwidth_m
        Quartic: support radius in metres (ArcGIS/QGIS "search radius"). Gaussian: sigma in
        metres. ``None`` uses :func:`default_bandwidth` (ArcGIS Pro's rule).
    kernel
        ``"quartic"`` (``K(r) = 3/(π h²) (1 - r²/h²)²`` for ``r < h``) or ``"gaussian"``
        (``K(r) = exp(-r²/2h²) / (2π h²)``, truncated at 5 h).
    weight
        Optional column of non-negative weights (e.g. ``"employees"``); each point counts once
        otherwise.
    extent
        Output grid: ``None`` (the points' bounds padded by the kernel's reach),
        ``(xmin, ymin, xmax, ymax)`` in metres of the metric CRS, a GeoDataFrame/GeoSeries
        (its bounds), or a :class:`~cci_geo.raster.Surface` whose grid is reused exactly.
        Points outside the extent still contribute where their kernel reaches into it.
    metric_crs
        Metric CRS of the surface; default as :func:`cci_geo._crs.resolve_metric_crs`.
    units
        Unit label; default ``"points per km²"`` or ``"<weight> per km²"``.
    settings
        ``settings.scheduler`` chooses where partitioned input is computed (None: Dask's
        local threads; ``"local"``; a scheduler address). In-memory input ignores it.
        ``settings.max_cells``/``max_bytes`` bound the output grid and the FFT work grid.

    Returns
    -------
    Surface
        Density per km² at cell centres (row 0 north) in the metric CRS. ``sum(data) * cell
        area in km²`` equals the total weight, up to the mass that spills over the grid edge.
        ``tags`` record the kernel, bandwidth, rule, cell size, point count, total weight and
        the result kind ``"kernel_density"``.

    Raises
    ------
    DataError
        Empty layer, non-point geometries, NaN/negative weights, all points at one location
        (when the bandwidth must be derived), or no point within reach of the extent.
    ValueError
        ``bandwidth_m <= 0``, ``cell_size_m <= 0``, an unknown kernel, or (ParameterError) a
        bandwidth over 10 x max(the points' span, 100 cells).
    ResourceLimitError
        The output grid or the FFT work grid would exceed ``settings.max_cells`` /
        ``max_bytes`` (estimated before allocating; the message gives the size and the fix).
    CRSMismatchError
        The layer has no CRS or a projected CRS not in metres.

    Examples
    --------
    >>> import cci_geo
    >>> firms = cci_geo.load_demo()["enterprises"]
    >>> surf = kernel_density(firms[firms["district"] == "110105"], cell_size_m=250,
    ...                       bandwidth_m=1000)
    >>> surf.units, surf.crs.to_epsg(), bool(surf.data.max() > 100)
    ('points per km²', 32650, True)

    ``surf.to_geotiff("density.tif")`` writes it as a compressed GeoTIFF.
    """
    if kernel not in KERNELS:
        msg = f"kernel must be one of {KERNELS}, got {kernel!r}."
        raise ParameterError(msg)
    cs = positive(cell_size_m, "cell_size_m", "metres")
    if is_partitioned(points):
        from ._partitioned import partitioned_density

        return partitioned_density(points, cell_size=cs, bandwidth=bandwidth_m, kernel=kernel,
                                   weight=weight, extent=extent, metric_crs=metric_crs,
                                   units=units, settings=settings)
    metric, crs, xy = metric_points(points, "points", metric_crs)
    w = None if weight is None else finite_values(metric, weight, "points")
    rule = "given"
    if bandwidth_m is None:
        h = _bandwidth_rule(xy, np.ones(len(xy)) if w is None else w)
        rule = "arcgis (0.9*min(SD, sqrt(1/ln2)*Dm)*n^-0.2)"
        logger.info("bandwidth from the default rule: %.1f m", h)
    else:
        h = positive(bandwidth_m, "bandwidth_m", "metres")
        _check_bandwidth(h, xy, cs)
    support = h if kernel == "quartic" else _GAUSS_TRUNCATE * h
    transform, shape = _resolve_grid(extent, xy, support, cs, crs, settings)
    cs = float(transform.a)
    data = _density_on_grid(xy, w, transform, shape, kernel, h,
                            support, settings)
    return density_surface(data, transform, crs, kernel=kernel, h=h, rule=rule,
                           n_points=len(xy), weight=weight,
                           total=float(len(xy) if w is None else w.sum()), units=units)


def density_surface(data: np.ndarray, transform: Affine, crs: CRS, *, kernel: str, h: float,
                    rule: str, n_points: int, weight: str | None, total: float,
                    units: str | None) -> Surface:
    """Wrap a density grid as the tagged Surface :func:`kernel_density` returns."""
    label = units or (f"{weight} per km²" if weight else "points per km²")
    tags = {
        RESULT_KEY: "kernel_density", "kernel": kernel, "bandwidth_m": f"{h:.6g}",
        "bandwidth_rule": rule, "cell_size_m": f"{float(transform.a):.6g}",
        "n_points": str(n_points), "weight": weight or "", "total_weight": f"{total:.10g}",
    }
    return Surface(data, transform, crs.to_wkt(), units=label, name="kernel density", tags=tags)


class _FineGrid(NamedTuple):
    """The binning grid of a KDE: node spacing, padding, oversampling and FFT size."""

    origin: tuple[float, float]
    d: float
    shape: tuple[int, int]
    pad: int
    s: int
    radius: int
    fshape: tuple[int, int]


def _fine_grid(transform: Affine, shape: tuple[int, int], kernel: str, h: float,
               support: float, settings: Settings | None = None) -> _FineGrid:
    rows, cols = shape
    cs = float(transform.a)
    x0, y1 = float(transform.c), float(transform.f)
    s = _oversampling(kernel, h, cs, shape, support / cs)
    d = cs / s
    radius = math.ceil(support / d)
    pad = radius + 1
    # circular convolution: with a padding of radius + 1 nodes on each side, what wraps
    # around lands only in the padding. The FFT size (a fast length at least that) is the
    # binning grid itself: points in its extra far rows/columns are beyond the kernel's reach
    # of every output node, and what they wrap lands in the near padding.
    fshape = (sfft.next_fast_len(rows * s + 2 * pad, real=True),
              sfft.next_fast_len(cols * s + 2 * pad, real=True))
    # six binned moment grids and their spectra: refuse before allocating them
    check_grid_size(fshape, what="density FFT work grid (6 moment layers)", cell_size=cs,
                    itemsize=48, settings=settings)
    origin = (x0 - pad * d + 0.5 * d, y1 + pad * d - 0.5 * d)
    return _FineGrid(origin, d, fshape, pad, s, radius, fshape)


def _convolve_moments(moments: np.ndarray, fine: _FineGrid, shape: tuple[int, int], kernel: str,
                      h: float, *, node_units: bool = False) -> np.ndarray:
    """Return the density per km² at the output cell centres from the binned moments.

    The moments' offsets are in metres (:func:`_scale_moments`), or in node units as
    :func:`bin_moments` returns them with ``node_units=True``.
    """
    rows, cols = shape
    main, corr = _kernel_spectra(kernel, h, fine.d, fine.radius, fine.fshape, node_units)
    F = sfft.rfft2(moments[0], fine.fshape)
    F *= main
    for k, spectrum in enumerate(corr, start=1):  # one correction grid at a time
        C = sfft.rfft2(moments[k].astype(np.float32), fine.fshape, overwrite_x=True)
        C *= spectrum
        F += C
    full = sfft.irfft2(F, fine.fshape, overwrite_x=True)
    start = fine.pad + fine.s // 2
    out = full[start:start + rows * fine.s:fine.s, start:start + cols * fine.s:fine.s]
    return np.maximum(out, 0.0)


def _scale_moments(moments: np.ndarray, d: float) -> np.ndarray:
    """Turn offsets in node units into metres (in place): first moments x d, second x d²."""
    moments[1:3] *= d
    moments[3:] *= d * d
    return moments


def _density_on_grid(xy: np.ndarray, w: np.ndarray | None, transform: Affine,
                     shape: tuple[int, int], kernel: str, h: float,
                     support: float, settings: Settings | None = None) -> np.ndarray:
    if _uses_exact(kernel, h, float(transform.a), len(xy)):
        return _exact_quartic(xy, np.ones(len(xy)) if w is None else w, transform, shape, h)
    fine = _fine_grid(transform, shape, kernel, h, support, settings)
    moments, n_in = bin_moments(xy, w, fine.origin, fine.d, fine.shape)
    _check_reach(n_in, len(xy), transform, shape, support)
    logger.debug("kde: %d points, grid %dx%d, oversampling %d, kernel radius %d nodes",
                 n_in, *shape, fine.s, fine.radius)
    return _convolve_moments(moments, fine, shape, kernel, h, node_units=True)


def _check_reach(n_in: int, n: int, transform: Affine, shape: tuple[int, int],
                 support: float) -> None:
    rows, cols = shape
    x0, y1, cs = float(transform.c), float(transform.f), float(transform.a)
    if n_in == 0:
        msg = (
            f"none of the {n} points lies within {support:.0f} m of the extent "
            f"{(x0, y1 - rows * cs, x0 + cols * cs, y1)}; check that extent is in metres of the "
            "metric CRS (not degrees) and covers the points."
        )
        raise DataError(msg)
    if n_in < n:
        logger.info("%d of %d points are beyond the kernel's reach of the extent", n - n_in, n)


def _exact_quartic(xy: np.ndarray, w: np.ndarray, transform: Affine, shape: tuple[int, int],
                   h: float) -> np.ndarray:
    """Sum the quartic kernel of every point at every cell centre within its radius."""
    out, touched, in_grid = _exact_quartic_sum(xy, w, transform, shape, h)
    _check_reach(0 if touched == 0 else in_grid, len(xy), transform, shape, h)
    logger.debug("kde: exact quartic summation of %d points", len(xy))
    return out


def _exact_quartic_sum(xy: np.ndarray, w: np.ndarray, transform: Affine,
                       shape: tuple[int, int], h: float) -> tuple[np.ndarray, int, int]:
    """Return the exact quartic sums (per km²), the kernel evaluations kept, points in reach."""
    rows, cols = shape
    cs = float(transform.a)
    x0, y1 = float(transform.c), float(transform.f)
    fc = (xy[:, 0] - x0) / cs
    fr = (y1 - xy[:, 1]) / cs
    c0 = np.floor(fc).astype(np.int64)
    r0 = np.floor(fr).astype(np.int64)
    reach = math.ceil(h / cs) + 1
    a = 3.0 / (math.pi * h * h) * _PER_KM2
    out = np.zeros(rows * cols)
    touched = 0
    for dr in range(-reach, reach + 1):
        r = r0 + dr
        dy = (r + 0.5 - fr) * cs
        r_ok = (r >= 0) & (r < rows)
        idx_parts, val_parts = [], []
        for dc in range(-reach, reach + 1):
            c = c0 + dc
            dx = (c + 0.5 - fc) * cs
            u = 1.0 - (dx * dx + dy * dy) / (h * h)
            ok = (u > 0) & r_ok & (c >= 0) & (c < cols)
            if ok.any():
                idx_parts.append(r[ok] * cols + c[ok])
                val_parts.append(w[ok] * u[ok] ** 2)
        if idx_parts:
            idx = np.concatenate(idx_parts)
            touched += idx.size
            out += np.bincount(idx, weights=np.concatenate(val_parts), minlength=rows * cols)
    in_grid = (c0 >= -reach) & (c0 < cols + reach) & (r0 >= -reach) & (r0 < rows + reach)
    return out.reshape(rows, cols) * a, touched, int(in_grid.sum())


def _uses_exact(kernel: str, h: float, cell_size: float, n_points: int) -> bool:
    """Return True where the quartic kernel is summed exactly (small problems)."""
    if kernel != "quartic":
        return False
    span = 2 * math.ceil(h / cell_size) + 3
    return span * span <= 2500 and n_points * span * span <= _EXACT_BUDGET
