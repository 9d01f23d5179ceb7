"""Prepare location problems: cost matrices, demand weights and candidate attributes.

Every model in :mod:`cci_geo.layout` works on an :class:`Instance`: a dense cost matrix
(demand rows x candidate columns, non-negative), demand weights and optional candidate
attributes. Costs come from geometries (straight-line metres in the metric CRS) or from a
precomputed matrix such as a travel-time matrix in minutes (an ``ndarray`` or a ``DataFrame``
indexed by demand and candidate ids).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.distance import cdist

from .. import _validate
from .._crs import resolve_metric_crs
from ..errors import DataError, ParameterError, ParameterTypeError

__all__ = ["CostInput", "Instance", "cost_matrix", "prepare_instance"]

logger = logging.getLogger(__name__)

CostInput: TypeAlias = str | NDArray[np.floating] | pd.DataFrame | None
"""``None``/``"euclidean"`` (metres between geometries), an ndarray or a DataFrame."""


@dataclass(frozen=True)
class Instance:
    """A prepared location problem.

    Attributes
    ----------
    cost
        Cost matrix, shape ``(n_demand, n_candidates)``, float64, non-negative; ``inf`` marks
        an unreachable pair.
    weight
        Demand weights, shape ``(n_demand,)``, float64, non-negative.
    demand, candidates
        The caller's frames (never modified), or ``None`` when only a matrix was given.
    demand_ids, candidate_ids
        Labels of the rows and columns of ``cost``.
    unit
        Unit of the costs: ``"m"`` for metric distance, otherwise ``"cost"`` (the caller's
        unit, e.g. minutes of a travel-time matrix).
    """

    cost: NDArray[np.float64]
    weights: NDArray[np.float64]
    demand: gpd.GeoDataFrame | None
    candidates: gpd.GeoDataFrame | None
    demand_ids: pd.Index
    candidate_ids: pd.Index
    unit: str

    @property
    def n_demand(self) -> int:
        """Number of demand rows."""
        return int(self.cost.shape[0])

    @property
    def n_candidates(self) -> int:
        """Number of candidate columns."""
        return int(self.cost.shape[1])


def _points(gdf: gpd.GeoDataFrame) -> NDArray[np.float64]:
    """Return x/y of each geometry's point (centroid for lines and polygons), metric CRS."""
    geoms = gdf.geometry
    kinds = geoms.geom_type.to_numpy()
    pts = geoms.where(kinds == "Point", geoms.centroid)
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]).astype(np.float64)


def cost_matrix(demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, *,
                metric_crs: str | None = None) -> pd.DataFrame:
    """Return straight-line distances in metres between demand and candidate sites.

    Points are used as they are; lines and polygons by their centroid. Both frames are
    measured in one metric CRS (see :func:`cci_geo._crs.resolve_metric_crs`).

    Parameters
    ----------
    demand
        Demand points or polygons.
    candidates
        Candidate sites.
    metric_crs
        Projected CRS to measure in when the frames are geographic.

    Returns
    -------
    pandas.DataFrame
        Distances in metres; index = demand ids, columns = candidate ids (the ``id`` column
        when present, else the index).

    Raises
    ------
    CRSMismatchError
        If the two frames are in different CRSs or have none.
    DataError
        If either frame is empty.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> a = gpd.GeoDataFrame({"id": ["d"]}, geometry=[Point(0, 0)], crs="EPSG:32650")
    >>> b = gpd.GeoDataFrame({"id": ["s"]}, geometry=[Point(3000, 4000)], crs="EPSG:32650")
    >>> float(cost_matrix(a, b).loc["d", "s"])
    5000.0
    """
    _validate.same_crs(demand, candidates, "demand", "candidates")
    _validate.non_empty(demand, "demand")
    _validate.non_empty(candidates, "candidates")
    crs = resolve_metric_crs(demand, candidates, metric_crs=metric_crs)
    a = _points(_validate.ensure_metric(demand, "demand", crs))
    b = _points(_validate.ensure_metric(candidates, "candidates", crs))
    dist = cdist(a, b)
    return pd.DataFrame(dist, index=_ids(demand, "demand"),
                        columns=_ids(candidates, "candidates"))


def _ids(gdf: pd.DataFrame, what: str = "sites") -> pd.Index:
    ids = pd.Index(gdf["id"].to_numpy(), name="id") if "id" in gdf.columns else pd.Index(gdf.index)
    _validate.unique_ids(ids, what, "id" if "id" in gdf.columns else "index")
    return ids


def _align_frame(cost: pd.DataFrame, ids: pd.Index, axis: str) -> pd.DataFrame:
    labels = cost.index if axis == "demand" else cost.columns
    if labels.equals(ids):
        return cost
    if set(ids) <= set(labels) and ids.is_unique:
        return cost.loc[ids] if axis == "demand" else cost.loc[:, ids]
    where = "index" if axis == "demand" else "columns"
    missing = [x for x in ids if x not in set(labels)][:5]
    msg = (
        f"cost DataFrame {where} do not match the {axis} ids (e.g. missing {missing}); "
        f"label the {where} with the {axis} 'id' values (or its index)."
    )
    raise DataError(msg)


def _matrix(cost: CostInput, demand: gpd.GeoDataFrame | None,
            candidates: gpd.GeoDataFrame | None,
            metric_crs: str | None) -> tuple[NDArray[np.float64], pd.Index, pd.Index, str]:
    if cost is None or (isinstance(cost, str) and cost == "euclidean"):
        if demand is None or candidates is None:
            msg = "cost is None, so demand and candidates geometries are needed to measure it."
            raise ParameterTypeError(msg)
        frame = cost_matrix(demand, candidates, metric_crs=metric_crs)
        return frame.to_numpy(np.float64), frame.index, frame.columns, "m"
    if isinstance(cost, str):
        msg = f"cost must be 'euclidean', an ndarray or a DataFrame, got {cost!r}."
        raise ParameterError(msg)
    if isinstance(cost, pd.DataFrame):
        table = cost
        if demand is not None:
            table = _align_frame(table, _ids(demand, "demand"), "demand")
        if candidates is not None:
            table = _align_frame(table, _ids(candidates, "candidates"), "candidates")
        arr = table.to_numpy(dtype=np.float64, na_value=np.nan)
        d_ids, c_ids = pd.Index(table.index), pd.Index(table.columns)
        _validate.unique_ids(d_ids, "demand", "cost table index")
        _validate.unique_ids(c_ids, "candidates", "cost table columns")
    else:
        arr = np.asarray(cost, dtype=np.float64)
        if arr.ndim != 2:
            msg = f"cost must be a 2-D matrix (demand x candidates), got shape {arr.shape}."
            raise ParameterError(msg)
        d_ids = _ids(demand, "demand") if demand is not None else pd.RangeIndex(arr.shape[0])
        c_ids = (_ids(candidates, "candidates") if candidates is not None
                 else pd.RangeIndex(arr.shape[1]))
        if (len(d_ids), len(c_ids)) != arr.shape:
            msg = (
                f"cost has shape {arr.shape} but there are {len(d_ids)} demand rows and "
                f"{len(c_ids)} candidates; pass a matrix of shape ({len(d_ids)}, {len(c_ids)})."
            )
            raise DataError(msg)
    return arr, d_ids, c_ids, "cost"


def _check_costs(arr: NDArray[np.float64], d_ids: pd.Index, c_ids: pd.Index) -> None:
    if arr.shape[0] == 0:
        msg = "demand is empty (0 rows); pass at least one demand point or polygon."
        raise DataError(msg)
    if arr.shape[1] == 0:
        msg = "there are no candidate sites (0 columns); pass at least one candidate."
        raise DataError(msg)
    nan = np.argwhere(np.isnan(arr))
    if len(nan):
        i, j = nan[0]
        msg = (
            f"cost has {len(nan)} NaN entries, e.g. demand {d_ids[i]!r} x candidate "
            f"{c_ids[j]!r}; use numpy.inf for unreachable pairs or fill the gaps."
        )
        raise DataError(msg)
    neg = np.argwhere(arr < 0)
    if len(neg):
        i, j = neg[0]
        msg = (
            f"cost has {len(neg)} negative entries, e.g. demand {d_ids[i]!r} x candidate "
            f"{c_ids[j]!r} = {arr[i, j]!r}; costs must be >= 0 (distances or times)."
        )
        raise DataError(msg)


def resolve_weights(weight: str | ArrayLike | None, demand: gpd.GeoDataFrame | None,
                    n: int) -> NDArray[np.float64]:
    """Return demand weights as a float array of length ``n`` (ones when ``None``)."""
    if weight is None:
        return np.ones(n)
    w = _non_negative(weight, demand, n, "weight", rows="demand rows", frame="demand")
    if not np.any(w > 0):
        msg = ("demand weights are all zero, so there is no demand to serve; pass positive "
               "weights.")
        raise DataError(msg)
    return w


def candidate_values(values: str | ArrayLike, candidates: gpd.GeoDataFrame | None, n: int,
                     name: str) -> NDArray[np.float64]:
    """Return a per-candidate numeric array from a column name or array-like."""
    return _non_negative(values, candidates, n, name, rows="candidates", frame="candidates")


def _non_negative(values: str | ArrayLike, table: gpd.GeoDataFrame | None, n: int, name: str,
                  *, rows: str, frame: str) -> NDArray[np.float64]:
    """Return ``values`` (a column of ``table`` or an array) as finite, >= 0 floats of length n.

    ``rows`` names what the n entries are (for messages), ``frame`` the table's argument name.
    """
    if isinstance(values, str):
        if table is None:
            msg = f"{name}={values!r} names a column, but no {frame} frame was given."
            raise ParameterTypeError(msg)
        _validate.require_columns(table, [values], frame)
        arr = pd.to_numeric(table[values], errors="coerce").to_numpy(np.float64)
        name = f"{frame} column {values!r}"
    else:
        arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.shape != (n,):
        msg = f"{name} has {arr.size} values but there are {n} {rows}."
        raise DataError(msg)
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if len(bad):
        msg = (
            f"{name} must be finite and >= 0; {len(bad)} of the {rows} are not (first at "
            f"position {int(bad[0])}: {arr[bad[0]]!r}). Fill or drop those rows."
        )
        raise DataError(msg)
    return arr


def candidate_labels(values: str | Sequence[object] | pd.Series,
                     candidates: gpd.GeoDataFrame | None, n: int,
                     name: str) -> NDArray[np.object_]:
    """Return per-candidate labels (e.g. district codes) as strings."""
    if isinstance(values, str):
        if candidates is None:
            msg = f"{name}={values!r} names a column, but no candidates frame was given."
            raise ParameterTypeError(msg)
        _validate.require_columns(candidates, [values], "candidates")
        arr = candidates[values].to_numpy(dtype=object)
    else:
        arr = np.asarray(list(values), dtype=object)
    if arr.shape != (n,):
        msg = f"{name} has {arr.size} values but there are {n} candidates."
        raise DataError(msg)
    return np.array([None if pd.isna(v) else str(v) for v in arr], dtype=object)


def prepare_instance(demand: gpd.GeoDataFrame | None, candidates: gpd.GeoDataFrame | None,
                     *, cost: CostInput = None, weight: str | ArrayLike | None = None,
                     metric_crs: str | None = None) -> Instance:
    """Build an :class:`Instance` from geometries and/or a cost matrix, validating both.

    Parameters
    ----------
    demand
        Demand points/polygons, or ``None`` when ``cost`` is a matrix.
    candidates
        Candidate sites, or ``None`` when ``cost`` is a matrix.
    cost
        ``None`` or ``"euclidean"`` for straight-line metres, or a matrix
        (``ndarray``/``DataFrame``) of shape ``(n_demand, n_candidates)``.
    weight
        Demand weights: a column of ``demand``, an array, or ``None`` for ones.
    metric_crs
        Projected CRS for distances ; default as :func:`cci_geo._crs.resolve_metric_crs`.

    Returns
    -------
    Instance
        The validated problem.

    Raises
    ------
    DataError
        Empty demand or candidates, NaN or negative costs, bad weights.
    CRSMismatchError
        If demand and candidates are in different CRSs.

    Examples
    --------
    >>> import numpy as np
    >>> inst = prepare_instance(None, None, cost=np.array([[1.0, 2.0], [3.0, 4.0]]),
    ...                         weight=[2, 1])
    >>> inst.cost.shape, inst.weights.tolist()
    ((2, 2), [2.0, 1.0])
    """
    if demand is not None and candidates is not None:
        _validate.same_crs(demand, candidates, "demand", "candidates")
    if demand is not None and len(demand) == 0:
        msg = "demand is empty (0 rows); pass at least one demand point or polygon."
        raise DataError(msg)
    arr, d_ids, c_ids, unit = _matrix(cost, demand, candidates, metric_crs)
    _check_costs(arr, d_ids, c_ids)
    w = resolve_weights(weight, demand, arr.shape[0])
    logger.debug("instance: %d demand x %d candidates (%s)", arr.shape[0], arr.shape[1], unit)
    return Instance(cost=np.ascontiguousarray(arr), weights=w, demand=demand,
                    candidates=candidates, demand_ids=d_ids, candidate_ids=c_ids, unit=unit)


def require_finite(inst: Instance, model: str) -> None:
    """Raise :class:`DataError` if ``inst.cost`` has unreachable (infinite) pairs."""
    bad = np.argwhere(~np.isfinite(inst.cost))
    if len(bad):
        i, j = bad[0]
        msg = (
            f"{model} needs a cost for every demand x candidate pair, but {len(bad)} pairs "
            f"are unreachable (inf), e.g. demand {inst.demand_ids[i]!r} x candidate "
            f"{inst.candidate_ids[j]!r}. Replace inf with a penalty cost, or drop the "
            "unreachable demand/candidates (e.g. those off the street network's main component)."
        )
        raise DataError(msg)
