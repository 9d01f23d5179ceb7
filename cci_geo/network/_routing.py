"""Travel-time matrices and isochrones on a street graph, with scipy.sparse.csgraph."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from ..errors import ParameterError
from ..results import tag_result
from ..scale import gather, scheduler_client
from ..settings import Settings
from ._arrays import GraphArrays, check_positive, graph_arrays, point_labels, points_xy, snap

__all__ = ["isochrones", "travel_time_matrix"]

logger = logging.getLogger(__name__)

_MAX_CELLS = 40_000_000
"""Most distances (float64) held at once by one Dijkstra call: about 320 MB."""


def _dijkstra_rows(csr: object, sources: np.ndarray, targets: np.ndarray | None,
                   limit: float) -> np.ndarray:
    part = dijkstra(csr, directed=True, indices=sources, limit=limit)
    return part if targets is None else part[:, targets]


def _network_times_on(client: object, arrays: GraphArrays, sources: np.ndarray,
                      targets: np.ndarray | None, limit: float,
                      progress: bool = False) -> np.ndarray:
    """As :func:`_network_times`, with the source chunks spread over a Dask cluster.

    The graph's CSR arrays and the targets are scattered once to every worker (not sent
    with each chunk); chunks are sized so every worker gets a few and none exceeds the
    in-memory bound.
    """
    n = len(arrays.nodes)
    workers = max(1, len(client.scheduler_info()["workers"]))  # type: ignore[attr-defined]
    chunk = max(1, min(_MAX_CELLS // max(n, 1), -(-len(sources) // (4 * workers))))
    csr = client.scatter(arrays.csr, broadcast=True)  # type: ignore[attr-defined]
    tgt = client.scatter(targets, broadcast=True)  # type: ignore[attr-defined]
    futures = [client.submit(_dijkstra_rows, csr, sources[s:s + chunk], tgt, limit,  # type: ignore[attr-defined]
                             pure=False) for s in range(0, len(sources), chunk)]
    logger.debug("dijkstra: %d chunks of up to %d sources on %d workers", len(futures),
                 chunk, workers)
    return np.vstack(gather(futures, client, progress=progress))


def _network_times(arrays: GraphArrays, sources: np.ndarray, targets: np.ndarray | None,
                   limit: float, client: object = None,
                   progress: bool = False) -> np.ndarray:
    """Shortest network costs from each source node (to ``targets``, or to every node).

    All sources go to csgraph in one call per chunk; chunks only bound memory. With a Dask
    ``client`` the chunks run on its workers.
    """
    if client is not None and len(sources):
        return _network_times_on(client, arrays, sources, targets, limit, progress)
    n = len(arrays.nodes)
    chunk = max(1, _MAX_CELLS // max(n, 1))
    width = n if targets is None else len(targets)
    out = np.empty((len(sources), width), dtype=float)
    for start in range(0, len(sources), chunk):
        part = dijkstra(arrays.csr, directed=True, indices=sources[start:start + chunk],
                        limit=limit)
        out[start:start + chunk] = part if targets is None else part[:, targets]
    return out


def travel_time_matrix(G: nx.MultiDiGraph, origins: gpd.GeoDataFrame | gpd.GeoSeries,
                       destinations: gpd.GeoDataFrame | gpd.GeoSeries | None = None, *,
                       max_time_s: float | None = None, edge_cost: str = "travel_time",
                       walk_speed_kph: float = 4.8, snap_warn_m: float | None = 250.0,
                       id_column: str | None = "id",
                       settings: Settings | None = None) -> pd.DataFrame:
    """Compute shortest travel times between every origin and every destination.

    Each point snaps to its nearest graph node; the straight-line snap distance is walked at
    ``walk_speed_kph`` and added at both ends. The network part is computed by
    :func:`scipy.sparse.csgraph.dijkstra` from all origin nodes at once (no Python loop per
    origin) and equals networkx's shortest-path lengths on the same graph.

    Parameters
    ----------
    G
        Street graph from :func:`load_graph` (metric CRS, ``travel_time`` on every edge).
        Parallel edges count with their smallest weight.
    origins
        Layer in any CRS (reprojected to the graph's CRS). Points are used as they are; lines
        and polygons (grid cells, districts) stand at their centroid in the graph's CRS.
    destinations
        Layer like ``origins``; default: the origins.
    max_time_s
        Pairs whose total time exceeds this many seconds are ``inf``; the search also stops
        there, which is much faster on large graphs. Default: no limit.
    edge_cost
        Edge attribute to minimise; ``"length"`` gives metres on the network (the snap part
        is still converted to seconds, so use it with ``walk_speed_kph=3.6`` to get metres).
    walk_speed_kph
        Speed at which the snap distances are walked.
    snap_warn_m
        A :class:`SnapWarning` names every point farther than this from its node; None: never.
    id_column
        Column naming the rows and columns of the result; the index is used when the layer
        has no such column.
    settings
        With ``settings.scheduler`` set (see :mod:`cci_geo.scale`), the origins are split
        into chunks that run on the Dask workers; the graph's arrays are scattered to each
        worker once. The result is the same.

    Returns
    -------
    pandas.DataFrame
        Seconds (float), one row per origin and one column per destination, in input order.
        Unreachable pairs (disconnected or one-way-trapped, or beyond ``max_time_s``) are
        ``inf``; never NaN. ``attrs`` holds ``origin_snap_m`` and ``destination_snap_m``
        (tuples of metres, in row/column order), ``units="s"``, ``edge_cost``, ``crs`` and
        result kind ``"travel_time_matrix"``.

    Raises
    ------
    DataError
        If G has no edges, an edge lacks ``edge_cost``, or a layer is empty or has missing
        geometries.
    CRSMismatchError
        If G is not in a metric CRS, or a layer has no CRS or cannot be transformed.
    ValueError
        If ``max_time_s``, ``walk_speed_kph`` or ``snap_warn_m`` is not positive.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from cci_geo import network
    >>> G = network.load_graph(network.demo_streets_path(), mode="walk")
    >>> pts = gpd.GeoDataFrame({"id": ["798", "751"]},
    ...                        geometry=[Point(116.4883, 39.9839), Point(116.4950, 39.9870)],
    ...                        crs="EPSG:4326")
    >>> tt = network.travel_time_matrix(G, pts)
    >>> round(tt.loc["798", "751"] / 60) in range(5, 20)
    True
    """
    max_time_s = check_positive(max_time_s, "max_time_s", "s")
    walk_mps = check_positive(walk_speed_kph, "walk_speed_kph", "km/h") / 3.6  # type: ignore[operator]
    snap_warn_m = check_positive(snap_warn_m, "snap_warn_m", "m") if snap_warn_m else None
    destinations = origins if destinations is None else destinations
    arrays = graph_arrays(G, edge_cost)
    o_lab, d_lab = point_labels(origins, id_column), point_labels(destinations, id_column)
    o_node, o_snap = snap(arrays, points_xy(origins, arrays.crs, "origins"), o_lab, "origins",
                          snap_warn_m)
    d_node, d_snap = snap(arrays, points_xy(destinations, arrays.crs, "destinations"), d_lab,
                          "destinations", snap_warn_m)
    o_walk, d_walk = o_snap / walk_mps, d_snap / walk_mps
    limit = np.inf if max_time_s is None else max(0.0, max_time_s - float(o_walk.min()))
    sources, inverse = np.unique(o_node, return_inverse=True)
    logger.debug("csgraph dijkstra from %d source nodes over %d nodes", len(sources),
                 len(arrays.nodes))
    settings = settings or Settings()
    with scheduler_client(settings.scheduler) as client:
        net = _network_times(arrays, sources, d_node, limit, client, settings.progress)
    total = net[inverse] + o_walk[:, None] + d_walk[None, :]
    if max_time_s is not None:
        total[total > max_time_s] = np.inf
    out = pd.DataFrame(total, index=o_lab, columns=d_lab)
    out.index.name = "origin"
    out.columns.name = "destination"
    out.attrs.update(units="s", edge_cost=edge_cost,
                     crs=arrays.crs, origin_snap_m=tuple(o_snap.tolist()),
                     destination_snap_m=tuple(d_snap.tolist()))
    return tag_result(out, "travel_time_matrix")


def _minutes(minutes: Iterable[float]) -> list[float]:
    values = sorted({check_positive(m, "minutes", "min") for m in minutes})  # type: ignore[type-var]
    if not values:
        msg = "minutes must hold at least one positive number of minutes, e.g. (5, 10, 15)."
        raise ParameterError(msg)
    return values  # type: ignore[return-value]


def _reached_segments(arrays: GraphArrays, times: np.ndarray, budget: float) -> np.ndarray:
    """Edge pieces reachable within ``budget`` seconds, given node arrival ``times``."""
    assert arrays.edge_geometry is not None
    t_u = times[arrays.edge_u]
    entered = t_u <= budget
    full = entered & (t_u + arrays.edge_w <= budget)
    partial = np.flatnonzero(entered & ~full)
    pieces = [substring(arrays.edge_geometry[i], 0.0,
                        float((budget - t_u[i]) / arrays.edge_w[i]), normalized=True)
              for i in partial]
    return np.concatenate([arrays.edge_geometry[full], np.asarray(pieces, dtype=object)])


def _footprint(segments: np.ndarray, origin: np.ndarray, buffer_m: float,
               fill_holes: bool) -> shapely.Geometry:
    geoms = np.concatenate([segments, [shapely.points(origin)]])
    area = shapely.union_all(shapely.buffer(geoms, buffer_m, quad_segs=4))
    if fill_holes:
        parts = shapely.get_parts(area)
        area = shapely.union_all(shapely.polygons(shapely.get_exterior_ring(parts)))
    return area


def isochrones(G: nx.MultiDiGraph, sources: gpd.GeoDataFrame | gpd.GeoSeries,
               minutes: Iterable[float] = (5, 10, 15), *, edge_cost: str = "travel_time",
               walk_speed_kph: float = 4.8, buffer_m: float = 50.0, fill_holes: bool = True,
               snap_warn_m: float | None = 250.0,
               id_column: str | None = "id") -> gpd.GeoDataFrame:
    """Return the area reachable from each source within each time band.

    Footprint rule: a source snaps to its nearest node and the snap distance is walked at
    ``walk_speed_kph`` first. Every street edge is reached in full if its far end is reached
    within the budget, and in part (cut along its geometry at the exact fraction of its
    travel time that the remaining budget allows) if only its near end is. The reached
    street pieces and the snapped node are buffered by ``buffer_m`` and dissolved; with
    ``fill_holes`` the blocks enclosed by reached streets count as reached. Bands are
    cumulative: the 10-minute polygon contains the 5-minute one.

    Parameters
    ----------
    G
        Street graph from :func:`load_graph`.
    sources
        Layer in any CRS; non-point geometries stand at their centroid.
    minutes
        Time budgets in minutes.
    edge_cost
        Edge attribute in seconds.
    walk_speed_kph
        Speed at which the snap distance is walked.
    buffer_m
        Half-width in metres of the reached strip along each street.
    fill_holes
        Fill interior holes of the footprint (blocks enclosed by reached streets).
    snap_warn_m
        A :class:`SnapWarning` names every source farther than this from its node.
    id_column
        Column naming the sources (else the index).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per source and band, sorted by source order then minutes, in the CRS of
        ``sources``: ``source`` (label), ``minutes`` (float), ``area_m2`` (float, measured in
        the graph's metric CRS), ``geometry`` ((Multi)Polygon; empty when the snap walk alone
        exceeds the budget). Result kind ``"isochrones"``.

    Raises
    ------
    DataError, CRSMismatchError, ValueError
        As :func:`travel_time_matrix`; ValueError also for non-positive ``minutes`` or
        ``buffer_m``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from cci_geo import network
    >>> G = network.load_graph(network.demo_streets_path(), mode="walk")
    >>> src = gpd.GeoDataFrame({"id": ["798"]}, geometry=[Point(116.4883, 39.9839)],
    ...                        crs="EPSG:4326")
    >>> iso = network.isochrones(G, src, minutes=(5, 10))
    >>> iso["area_m2"].is_monotonic_increasing
    True
    """
    bands = _minutes(minutes)
    buffer_m = check_positive(buffer_m, "buffer_m", "m")  # type: ignore[assignment]
    walk_mps = check_positive(walk_speed_kph, "walk_speed_kph", "km/h") / 3.6  # type: ignore[operator]
    snap_warn_m = check_positive(snap_warn_m, "snap_warn_m", "m") if snap_warn_m else None
    arrays = graph_arrays(G, edge_cost, geometry=True)
    labels = point_labels(sources, id_column)
    node, dist = snap(arrays, points_xy(sources, arrays.crs, "sources"), labels, "sources",
                      snap_warn_m)
    unique, inverse = np.unique(node, return_inverse=True)
    times = _network_times(arrays, unique, None, bands[-1] * 60.0)
    rows = []
    for i, label in enumerate(labels):
        walk = dist[i] / walk_mps
        for band in bands:
            budget = band * 60.0 - walk
            if budget < 0:
                geom = shapely.Polygon()
            else:
                segs = _reached_segments(arrays, times[inverse[i]], budget)
                geom = _footprint(segs, arrays.xy[node[i]], buffer_m, fill_holes)
            rows.append((label, float(band), float(geom.area), geom))
    out = gpd.GeoDataFrame(rows, columns=["source", "minutes", "area_m2", "geometry"],
                           geometry="geometry", crs=arrays.crs)
    out = out.to_crs(sources.crs)
    tag_result(out, "isochrones")
    return out


def travel_time_pairs(G: nx.MultiDiGraph, origins: gpd.GeoDataFrame | gpd.GeoSeries,
                      destinations: gpd.GeoDataFrame | gpd.GeoSeries, *, max_time_s: float,
                      edge_cost: str = "travel_time", walk_speed_kph: float = 4.8,
                      snap_warn_m: float | None = 250.0,
                      settings: Settings | None = None,
                      chunk: int = 2048) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the sparse ``(origin row, destination column, seconds)`` pairs within ``max_time_s``.

    The same times as :func:`travel_time_matrix` (pairs with total time <= ``max_time_s``),
    without ever holding the dense matrix: origins are processed ``chunk`` at a time (on the
    Dask workers when ``settings.scheduler`` is set, the graph's arrays scattered once), and
    each chunk keeps only its pairs in reach. This is what catchment methods such as
    :func:`cci_geo.access.two_step_fca` need from every 100 m cell of a region.

    Parameters
    ----------
    G, origins, destinations, edge_cost, walk_speed_kph, snap_warn_m
        As for :func:`travel_time_matrix`.
    max_time_s
        Seconds: the catchment; the search stops there.
    settings
        ``settings.scheduler`` chooses where the chunks run.
    chunk
        Origins per task.

    Returns
    -------
    tuple of numpy.ndarray
        ``(i, j, seconds)``: row positions in ``origins``, column positions in
        ``destinations`` and total times, ordered by origin then destination.

    Examples
    --------
    >>> from geopandas import GeoSeries
    >>> from cci_geo.network import demo_streets_path, load_graph, travel_time_pairs
    >>> sites = GeoSeries.from_xy([116.4883, 116.4950], [39.9839, 39.9870], crs=4326)
    >>> i, j, s = travel_time_pairs(load_graph(demo_streets_path(), mode="walk"), sites,
    ...                             sites, max_time_s=3600)
    >>> list(zip(i.tolist(), j.tolist()))
    [(0, 0), (0, 1), (1, 0), (1, 1)]
    """
    max_time = float(check_positive(max_time_s, "max_time_s", "s"))  # type: ignore[arg-type]
    walk_mps = check_positive(walk_speed_kph, "walk_speed_kph", "km/h") / 3.6  # type: ignore[operator]
    snap_warn_m = check_positive(snap_warn_m, "snap_warn_m", "m") if snap_warn_m else None
    arrays = graph_arrays(G, edge_cost)
    o_lab = point_labels(origins, None)
    d_lab = point_labels(destinations, None)
    o_node, o_snap = snap(arrays, points_xy(origins, arrays.crs, "origins"), o_lab, "origins",
                          snap_warn_m)
    d_node, d_snap = snap(arrays, points_xy(destinations, arrays.crs, "destinations"), d_lab,
                          "destinations", snap_warn_m)
    o_walk, d_walk = o_snap / walk_mps, d_snap / walk_mps
    starts = range(0, len(o_node), max(1, int(chunk)))
    settings = settings or Settings()
    with scheduler_client(settings.scheduler) as client:
        if client is None:
            parts = [_pairs_chunk(arrays.csr, o_node[s:s + chunk], o_walk[s:s + chunk], s,
                                  d_node, d_walk, max_time) for s in starts]
        else:
            csr = client.scatter(arrays.csr, broadcast=True)
            dn = client.scatter(d_node, broadcast=True)
            dw = client.scatter(d_walk, broadcast=True)
            futures = [client.submit(_pairs_chunk, csr, o_node[s:s + chunk],
                                     o_walk[s:s + chunk], s, dn, dw, max_time, pure=False)
                       for s in starts]
            parts = gather(futures, client, progress=settings.progress)
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    i, j, c = (np.concatenate(a) for a in zip(*parts, strict=True))
    return i, j, c


def _pairs_chunk(csr: object, o_node: np.ndarray, o_walk: np.ndarray, offset: int,
                 d_node: np.ndarray, d_walk: np.ndarray,
                 max_time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sources, inverse = np.unique(o_node, return_inverse=True)
    limit = max(0.0, max_time - float(o_walk.min()))
    net = _dijkstra_rows(csr, sources, d_node, limit)
    total = net[inverse] + o_walk[:, None] + d_walk[None, :]
    i, j = np.nonzero(total <= max_time)
    return i + offset, j, total[i, j]
