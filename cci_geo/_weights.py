"""Spatial weights as ``scipy.sparse`` matrices: contiguity, nearest neighbours, distance bands.

Every builder returns a binary ``csr_matrix`` ``W`` of shape ``(n, n)`` with ``W[i, j] = 1`` when
unit ``j`` is a neighbour of unit ``i`` and a zero diagonal. Row ``i`` is the ``i``-th unit in the
order given. Grid weights are built straight from cell indices (no geometry), which is what
makes hot spots on 10^5 grid cells fast.

The analyses (:mod:`cci_geo.concentration`) resolve a user's ``weights=`` argument with
:func:`weights_from_spec`.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from ._validate import ensure_metric, positive
from .errors import DataError, ParameterError, ParameterTypeError

__all__ = [
    "GRID_ATTR",
    "WeightsSpec",
    "distance_band_weights",
    "grid_weights",
    "islands",
    "knn_weights",
    "log_islands",
    "polygon_weights",
    "row_sums",
    "weights_from_spec",
]

logger = logging.getLogger(__name__)

GRID_ATTR = "cci_geo_grid"
"""Key in ``GeoDataFrame.attrs`` marking a frame of regular grid cells with ``row``/``col``."""

WeightsSpec = object
"""A ``weights=`` argument: 'queen', 'rook', 'knn:K', metres (distance band), a scipy sparse
matrix, or a libpysal ``W`` or ``Graph`` (duck-typed: libpysal is never imported here)."""

_QUEEN_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_ROOK_OFFSETS = ((-1, 0), (0, -1), (0, 1), (1, 0))


def _from_pairs(i: np.ndarray, j: np.ndarray, n: int) -> sparse.csr_matrix:
    data = np.ones(len(i), dtype="float64")
    W = sparse.csr_matrix((data, (i, j)), shape=(n, n))
    W.sum_duplicates()
    W.data[:] = 1.0
    return W


def grid_weights(rows: int | np.ndarray, cols: int | np.ndarray, *,
                 contiguity: Literal["queen", "rook"] = "queen") -> sparse.csr_matrix:
    """Return contiguity weights of regular grid cells, built from their indices.

    Parameters
    ----------
    rows, cols
        Either two ints (the grid shape; all ``rows * cols`` cells in row-major order), or two
        integer arrays giving the row and column index of each unit (any subset of a grid, in
        any order; the matrix follows that order).
    contiguity
        ``"queen"`` (8 neighbours: shared edge or corner) or ``"rook"`` (4: shared edge).

    Returns
    -------
    scipy.sparse.csr_matrix
        Binary weights with a zero diagonal.

    Raises
    ------
    ValueError
        If ``contiguity`` is unknown, indices are negative or a cell appears twice.
    """
    offsets = _offsets(contiguity)
    if np.ndim(rows) == 0 and np.ndim(cols) == 0:
        R, C = int(rows), int(cols)  # type: ignore[arg-type]
        if R < 1 or C < 1:
            msg = f"grid shape must be positive, got ({R}, {C})."
            raise ParameterError(msg)
        r, c = np.divmod(np.arange(R * C, dtype=np.int64), C)
    else:
        r = np.asarray(rows, dtype=np.int64).ravel()
        c = np.asarray(cols, dtype=np.int64).ravel()
        if r.shape != c.shape:
            msg = f"rows and cols must have the same length, got {r.size} and {c.size}."
            raise ParameterError(msg)
        if r.size and (r.min() < 0 or c.min() < 0):
            msg = "grid row/col indices must be >= 0."
            raise ParameterError(msg)
    n = r.size
    if n == 0:
        return sparse.csr_matrix((0, 0))
    R, C = int(r.max()) + 1, int(c.max()) + 1
    lookup = np.full((R + 2, C + 2), -1, dtype=np.int64)  # one-cell border of -1
    lookup[r + 1, c + 1] = np.arange(n)
    if int((lookup >= 0).sum()) != n:
        msg = "grid cells must be unique; the same (row, col) appears more than once."
        raise ParameterError(msg)
    src, dst = [], []
    idx = np.arange(n)
    for dr, dc in offsets:
        nb = lookup[r + 1 + dr, c + 1 + dc]
        ok = nb >= 0
        src.append(idx[ok])
        dst.append(nb[ok])
    i = np.concatenate(src)
    j = np.concatenate(dst)
    # coo -> csr is a linear-time counting pass (no global sort); pairs are unique
    return sparse.coo_matrix((np.ones(len(j)), (i, j)), shape=(n, n)).tocsr()


def _offsets(contiguity: str) -> tuple[tuple[int, int], ...]:
    if contiguity == "queen":
        return _QUEEN_OFFSETS
    if contiguity == "rook":
        return _ROOK_OFFSETS
    msg = f"contiguity must be 'queen' or 'rook', got {contiguity!r}."
    raise ParameterError(msg)


def polygon_weights(geoms: gpd.GeoSeries | np.ndarray, *,
                    contiguity: Literal["queen", "rook"] = "queen") -> sparse.csr_matrix:
    """Return contiguity weights of polygons.

    Queen neighbours share at least one boundary point (or overlap); rook neighbours share a
    boundary segment of positive length (or overlap). For a clean tessellation these are the
    queen/rook definitions of libpysal.

    Parameters
    ----------
    geoms
        Polygon or MultiPolygon geometries.
    contiguity
        ``"queen"`` or ``"rook"``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Binary weights with a zero diagonal.
    """
    _offsets(contiguity)
    arr = np.asarray(geoms.values if isinstance(geoms, gpd.GeoSeries) else geoms)
    n = len(arr)
    tree = shapely.STRtree(arr)
    i, j = tree.query(arr, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if contiguity == "rook" and len(i):
        shared = shapely.intersection(shapely.boundary(arr[i]), shapely.boundary(arr[j]))
        overlap = shapely.area(shapely.intersection(arr[i], arr[j])) > 0
        edge = (shapely.length(shared) > 0) | overlap
        i, j = i[edge], j[edge]
    return _from_pairs(np.r_[i, j], np.r_[j, i], n)


def knn_weights(xy: np.ndarray, k: int) -> sparse.csr_matrix:
    """Return ``k``-nearest-neighbour weights (row ``i`` marks the ``k`` units nearest to ``i``).

    The matrix is not symmetric in general. Ties are broken by the KD-tree's order.

    Raises
    ------
    DataError
        If there are not more than ``k`` units.
    """
    xy = np.asarray(xy, dtype="float64")
    n = len(xy)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        msg = f"k must be a positive integer, got {k!r}; e.g. weights='knn:8'."
        raise ParameterError(msg)
    if n <= k:
        msg = f"knn:{k} weights need more than {k} units, got {n}; use a smaller k."
        raise DataError(msg)
    _, nbrs = cKDTree(xy).query(xy, k=k + 1)
    nbrs = np.asarray(nbrs).reshape(n, k + 1)
    is_self = nbrs == np.arange(n)[:, None]
    has_self = is_self.any(axis=1)
    # drop self where found; otherwise (duplicate points) drop the farthest candidate
    drop = np.where(has_self, is_self.argmax(axis=1), k)
    mask = np.ones_like(nbrs, dtype=bool)
    mask[np.arange(n), drop] = False
    out = nbrs[mask].reshape(n, k)
    return _from_pairs(np.repeat(np.arange(n), k), out.ravel(), n)


def distance_band_weights(xy: np.ndarray, threshold_m: float) -> sparse.csr_matrix:
    """Return binary weights linking units whose distance is at most ``threshold_m`` metres."""
    threshold = positive(threshold_m, "distance band", "metres")
    xy = np.asarray(xy, dtype="float64")
    pairs = cKDTree(xy).query_pairs(threshold, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    return _from_pairs(np.r_[i, j], np.r_[j, i], len(xy))


def _is_grid(gdf: gpd.GeoDataFrame) -> bool:
    return GRID_ATTR in gdf.attrs and {"row", "col"} <= set(gdf.columns)


def weights_from_spec(gdf: gpd.GeoDataFrame, spec: object, *,
                      metric_crs: str | None = None) -> tuple[sparse.csr_matrix, str]:
    """Resolve a ``weights=`` argument into a binary sparse matrix and a description.

    Parameters
    ----------
    gdf
        The units (polygons, grid cells from :func:`cci_geo.concentration.grid_counts`, or
        points).
    spec
        ``"queen"`` or ``"rook"`` (contiguity; for grid cells built from their ``row``/``col``
        indices), ``"knn:K"`` (``K`` nearest centroids), a number (distance band in metres
        between centroids, measured in the metric CRS), a square ``scipy.sparse`` matrix
        whose non-zero entries mark neighbours (rows in ``gdf`` order), or a libpysal ``W``
        (its ``sparse`` in ``id_order``) or ``Graph`` (its ``sparse`` in ``unique_ids``
        order); their ids must be ``gdf``'s index labels (any order) or the positions
        ``0..n-1``. Only which pairs are neighbours is used (binary weights).
    metric_crs
        Metric CRS for centroid distances; default as
        :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    tuple
        ``(W, description)``.

    Raises
    ------
    ValueError
        If ``spec`` is not understood, or contiguity is asked of points.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = gpd.GeoDataFrame(geometry=[box(i, 0, i + 1, 1) for i in range(3)],
    ...                          crs="EPSG:32651")
    >>> W, desc = weights_from_spec(cells, "rook")
    >>> W.toarray().astype(int).tolist(), desc
    ([[0, 1, 0], [1, 0, 1], [0, 1, 0]], 'rook')
    """
    n = len(gdf)
    libpysal_kind = _libpysal_kind(spec)
    if libpysal_kind is not None:
        return _binary(_aligned(spec, gdf, libpysal_kind), n), f"libpysal {libpysal_kind}"
    if sparse.issparse(spec):
        return _binary(spec, n), "user matrix"
    if isinstance(spec, str):
        s = spec.strip().lower()
        if s in ("queen", "rook"):
            if _is_grid(gdf):
                W = grid_weights(gdf["row"].to_numpy(), gdf["col"].to_numpy(), contiguity=s)  # type: ignore[arg-type]
                return W, f"{s} (grid)"
            types = set(gdf.geom_type.dropna().unique())
            if not types <= {"Polygon", "MultiPolygon"}:
                msg = (
                    f"weights={spec!r} needs polygons, got {sorted(types)}; for points use "
                    "weights='knn:8' or a distance band in metres such as weights=1000."
                )
                raise ParameterError(msg)
            return polygon_weights(gdf.geometry, contiguity=s), s  # type: ignore[arg-type]
        m = re.fullmatch(r"knn:(\d+)", s)
        if m:
            k = int(m.group(1))
            return knn_weights(_centroid_xy(gdf, metric_crs), k), f"knn:{k}"
        msg = (
            f"weights={spec!r} is not understood; use 'queen', 'rook', 'knn:K' (e.g. 'knn:8'), "
            "a distance band in metres (e.g. 1000) or a scipy.sparse matrix."
        )
        raise ParameterError(msg)
    if isinstance(spec, (int, float, np.integer, np.floating)) and not isinstance(spec, bool):
        band = positive(float(spec), "weights (distance band)", "metres")
        return distance_band_weights(_centroid_xy(gdf, metric_crs), band), f"distance<={band:g}m"
    msg = (
        "weights must be a string, a number of metres, a scipy sparse matrix or a libpysal W "
        f"or Graph, got {type(spec).__name__}."
    )
    raise ParameterTypeError(msg)


def _libpysal_kind(spec: object) -> str | None:
    """Return ``"W"`` or ``"Graph"`` for a libpysal weights object (duck-typed), else None."""
    if sparse.issparse(spec) or not hasattr(spec, "sparse"):
        return None
    if hasattr(spec, "unique_ids"):
        return "Graph"
    if hasattr(spec, "id_order"):
        return "W"
    return None


def _aligned(spec: object, gdf: gpd.GeoDataFrame, kind: str) -> sparse.csr_matrix:
    """Return the libpysal object's matrix with rows and columns in ``gdf`` order."""
    ids = list(spec.unique_ids if kind == "Graph" else spec.id_order)  # type: ignore[attr-defined]
    M = sparse.csr_matrix(spec.sparse, dtype="float64")  # type: ignore[attr-defined]
    n = len(gdf)
    if len(ids) != n:
        msg = (f"the libpysal {kind} has {len(ids)} units but the layer has {n} rows; build the "
               "weights from the same rows (e.g. after filtering, rebuild them).")
        raise ParameterError(msg)
    labels = list(gdf.index)
    if ids == labels:
        return M
    if set(ids) == set(labels) and len(set(labels)) == n:
        pos = {label: k for k, label in enumerate(ids)}
        order = np.array([pos[label] for label in labels])
        return M[order][:, order]
    if ids == list(range(n)):
        return M
    msg = (f"the libpysal {kind}'s ids ({ids[:5]}...) are neither the layer's index labels "
           f"({labels[:5]}...) nor the positions 0..{n - 1}; build it with ids from the layer's "
           "index (e.g. libpysal.graph.Graph.build_contiguity(gdf)).")
    raise ParameterError(msg)


def _binary(matrix: object, n: int) -> sparse.csr_matrix:
    W = sparse.csr_matrix(matrix, dtype="float64")  # type: ignore[arg-type]
    if W.shape != (n, n):
        msg = f"weights matrix has shape {W.shape}, expected ({n}, {n}) for {n} units."
        raise ParameterError(msg)
    W.setdiag(0)
    W.eliminate_zeros()
    W.data[:] = 1.0
    return W


def _centroid_xy(gdf: gpd.GeoDataFrame, metric_crs: str | None) -> np.ndarray:
    metric = ensure_metric(gdf, "gdf", metric_crs)
    geoms = metric.geometry.values
    pts = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.centroid(geoms))
    return shapely.get_coordinates(pts)


def row_sums(W: sparse.csr_matrix) -> np.ndarray:
    """Return the number of neighbours (row sums) of a binary weights matrix."""
    return np.asarray(W.sum(axis=1)).ravel()


def islands(W: sparse.csr_matrix) -> np.ndarray:
    """Return the indices of units without neighbours."""
    return np.flatnonzero(np.diff(W.indptr) == 0)


def log_islands(W: sparse.csr_matrix, description: str) -> None:
    """Log (at INFO) how many units have no neighbours."""
    isl = islands(W)
    if isl.size:
        logger.info("%d unit(s) have no neighbours under %s weights", isl.size, description)
