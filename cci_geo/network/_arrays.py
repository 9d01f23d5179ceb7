"""A street graph as arrays (CSR adjacency, node coordinates) and snapping points to nodes."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.spatial import cKDTree

from .. import _validate
from ..errors import CRSMismatchError, DataError, ParameterTypeError

__all__ = ["GraphArrays", "SnapWarning", "graph_arrays", "point_labels", "points_xy", "snap"]


class SnapWarning(UserWarning):
    """Points lie farther from the street graph than the snapping threshold."""


@dataclass(frozen=True)
class GraphArrays:
    """A directed street graph as arrays.

    Attributes
    ----------
    nodes
        Node labels of the graph, in matrix order.
    xy
        Node coordinates, shape (n, 2), in ``crs`` (metres).
    csr
        Sparse adjacency (n, n): the smallest ``weight`` over parallel edges.
    crs
        The graph's metric CRS.
    weight
        Edge attribute held in ``csr``.
    edge_u, edge_v, edge_w
        Every edge (parallel edges included): source and target positions, weight.
    edge_geometry
        The edges as LineStrings from u to v (only when asked for), else None.
    """

    nodes: np.ndarray
    xy: np.ndarray
    csr: sparse.csr_array
    crs: str
    weight: str
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_w: np.ndarray
    edge_geometry: np.ndarray | None = None


def graph_crs(G: nx.Graph) -> str:
    """Return the CRS of ``G`` if it is projected in metres, else raise CRSMismatchError."""
    crs = G.graph.get("crs")
    if crs is None:
        msg = ("G has no G.graph['crs']; load it with cci_geo.network.load_graph, or project "
               "it with osmnx.project_graph(G, to_crs='EPSG:32650').")
        raise CRSMismatchError(msg)
    parsed = CRS.from_user_input(crs)
    unit = parsed.axis_info[0].unit_name if parsed.axis_info else ""
    if not parsed.is_projected or unit not in ("metre", "meter", "m"):
        msg = (f"G is in {parsed.to_string()}, not a metric CRS, so snapping distances would be "
               "in degrees; project it with osmnx.project_graph(G, to_crs='EPSG:32650') or load "
               "it with cci_geo.network.load_graph.")
        raise CRSMismatchError(msg)
    return str(crs)


def graph_arrays(G: nx.Graph, weight: str = "travel_time", *,
                 geometry: bool = False) -> GraphArrays:
    """Convert ``G`` to arrays, checking it has edges and a finite, non-negative ``weight``."""
    if not isinstance(G, nx.Graph):
        msg = f"G must be a networkx graph (from load_graph), got {type(G).__name__}."
        raise ParameterTypeError(msg)
    crs = graph_crs(G)
    node_items = list(G.nodes(data=True))
    nodes = np.empty(len(node_items), dtype=object)
    nodes[:] = [n for n, _ in node_items]
    try:
        xy = np.array([(d["x"], d["y"]) for _, d in node_items], dtype=float).reshape(-1, 2)
    except KeyError as exc:
        msg = f"every node of G needs 'x' and 'y' coordinates; one lacks {exc}."
        raise DataError(msg) from None
    us, vs, ws, geoms = _edge_lists(G, weight, geometry)
    if not us:
        msg = (f"G has no edges ({len(nodes)} nodes); a travel time needs streets. "
               "Check the source and mode passed to load_graph.")
        raise DataError(msg)
    u = np.array(us, dtype=np.int64)
    v = np.array(vs, dtype=np.int64)
    try:
        w = np.array(ws, dtype=float)
    except (TypeError, ValueError):
        w = pd.to_numeric(pd.Series(ws, dtype=object), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = (f"{int(bad.sum())} edge(s) of G have no finite, non-negative {weight!r}, e.g. "
               f"({nodes[u[i]]}, {nodes[v[i]]}) = {ws[i]!r}; load the graph with load_graph "
               "(which adds 'travel_time' in seconds) or pass edge_cost= an edge attribute every "
               "edge has.")
        raise DataError(msg)
    if not G.is_directed():
        u, v, w = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w])
        if geometry:
            geoms = geoms + [None if g is None else shapely.reverse(g) for g in geoms]
    csr = _min_csr(u, v, w, len(nodes))
    edge_geometry = None
    if geometry:
        edge_geometry = np.asarray(geoms, dtype=object)
        missing = np.array([g is None for g in edge_geometry], dtype=bool)
        if missing.any():
            mu, mv = u[missing], v[missing]
            coords = np.stack([xy[mu], xy[mv]], axis=1)
            edge_geometry[missing] = shapely.linestrings(coords)
        # Orient every geometry from u to v (stored geometries may run either way).
        start = shapely.get_coordinates(shapely.get_point(edge_geometry, 0))
        flip = (np.hypot(*(start - xy[u]).T) > np.hypot(*(start - xy[v]).T))
        edge_geometry[flip] = shapely.reverse(edge_geometry[flip])
    return GraphArrays(nodes, xy, csr, crs, weight, u, v, w, edge_geometry)


def _edge_lists(G: nx.Graph, weight: str, geometry: bool
                ) -> tuple[list[int], list[int], list[object], list[object]]:
    """Edge endpoints (positions), weights and geometries, read straight from the adjacency.

    Iterating ``G.adjacency()`` avoids networkx's edge views, which dominate the cost of a
    travel-time matrix on large graphs otherwise.
    """
    pos = {n: i for i, n in enumerate(G)}
    us: list[int] = []
    vs: list[int] = []
    ws: list[object] = []
    gs: list[object] = []
    add_u, add_v, add_w, add_g = us.append, vs.append, ws.append, gs.append
    multi, directed = G.is_multigraph(), G.is_directed()
    seen: set[tuple[int, int]] = set()
    for a, nbrs in G.adjacency():
        ia = pos[a]
        for b, attrs in nbrs.items():
            ib = pos[b]
            if not directed:
                if (ib, ia) in seen:
                    continue
                seen.add((ia, ib))
            for d in (attrs.values() if multi else (attrs,)):
                add_u(ia)
                add_v(ib)
                add_w(d.get(weight))
                if geometry:
                    add_g(d.get("geometry"))
    return us, vs, ws, gs


def _min_csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sparse.csr_array:
    """Build a CSR adjacency keeping the smallest weight of parallel edges (not their sum)."""
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    # Explicit zero weights stay stored, so csgraph treats them as zero-cost edges.
    return sparse.csr_array((w, (u, v)), shape=(n, n))


def point_labels(points: gpd.GeoDataFrame | gpd.GeoSeries, id_column: str | None) -> pd.Index:
    """Return row labels: ``points[id_column]`` if that column exists, else the index."""
    if (id_column is not None and isinstance(points, gpd.GeoDataFrame)
            and id_column in points.columns):
        return pd.Index(points[id_column], name=id_column)
    return points.index


def points_xy(points: gpd.GeoDataFrame | gpd.GeoSeries, crs: str, name: str) -> np.ndarray:
    """Return the coordinates of ``points`` in ``crs`` as an (n, 2) array.

    Points are used as they are; any other geometry stands at its centroid in ``crs``.
    """
    _validate.has_crs(points, name)
    _validate.non_empty(points, name)
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        rows = list(points.index[missing.to_numpy()][:10])
        msg = f"{name} has missing or empty geometries in rows {rows}; drop or fix them."
        raise DataError(msg)
    projected = geoms.to_crs(crs).to_numpy()
    not_point = shapely.get_type_id(projected) != 0
    if not_point.any():
        # Lines and polygons (e.g. grid cells, districts) stand at their metric centroid.
        projected = projected.copy()
        projected[not_point] = shapely.centroid(projected[not_point])
    xy = shapely.get_coordinates(projected)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        rows = list(points.index[bad][:10])
        msg = (f"{name} rows {rows} cannot be transformed from {points.crs.to_string()} to "
               f"{crs}; the layer's CRS is probably wrong (e.g. metres labelled EPSG:4326, or "
               "swapped lat/lon). Set the CRS the coordinates are really in.")
        raise CRSMismatchError(msg)
    return xy


def snap(arrays: GraphArrays, xy: np.ndarray, labels: pd.Index, name: str,
         warn_m: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Snap points to their nearest graph node; warn about points beyond ``warn_m`` metres.

    Returns the node positions and the snap distances in metres.
    """
    dist, idx = cKDTree(arrays.xy).query(xy)
    if warn_m is not None:
        far = dist > warn_m
        if far.any():
            shown = [f"{lab!r} ({d:,.0f} m)" for lab, d in zip(labels[far][:10], dist[far][:10],
                                                             strict=True)]
            more = f" and {int(far.sum()) - 10} more" if far.sum() > 10 else ""
            msg = (f"{int(far.sum())} of {len(dist)} {name} lie more than {warn_m:g} m from the "
                   f"street graph: {', '.join(shown)}{more}. The distance is added as walking "
                   "time; check the layer's CRS and the graph's extent, or drop these points.")
            warnings.warn(msg, SnapWarning, stacklevel=3)
    return idx.astype(np.int64), dist


def check_positive(value: float | None, name: str, unit: str) -> float | None:
    """Validate an optional positive number."""
    if value is None:
        return None
    v = _validate.positive(value, name, unit)
    return v if math.isfinite(v) else None
