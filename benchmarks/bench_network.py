"""Benchmark travel-time matrices: cci_geo vs a networkx loop vs bare scipy csgraph.

A synthetic grid-like street graph of about 90,000 nodes (300 x 300 intersections, 100 m
blocks with jitter, 4 % of links missing, 5 % one-way, speeds by road class) in EPSG:32650;
200 origins and 200 destinations placed on nodes. The three peers compute the same shortest
travel times:

- ``networkx``: ``single_source_dijkstra_path_length`` from each origin (a Python loop);
- ``csgraph``: one ``scipy.sparse.csgraph.dijkstra`` call on a CSR matrix built beforehand
  (the timing excludes building it);
- ``cci_geo``: ``travel_time_matrix(G, origins, destinations)`` from the networkx graph:
  conversion to arrays, snapping, Dijkstra and the DataFrame included.

Run: ``python benchmarks/bench_network.py [--side 300] [--origins 200] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import geopandas as gpd
import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from cci_geo import network


def grid_graph(side: int, seed: int = 0) -> nx.MultiDiGraph:
    """A jittered grid street graph with road classes, gaps and one-ways."""
    rng = np.random.default_rng(seed)
    ids = np.arange(side * side).reshape(side, side)
    x = 440_000 + 100.0 * np.arange(side)[None, :] + rng.normal(0, 8, (side, side))
    y = 4_400_000 + 100.0 * np.arange(side)[:, None] + rng.normal(0, 8, (side, side))
    G = nx.MultiDiGraph(crs="EPSG:32650")
    G.add_nodes_from((int(i), {"x": float(a), "y": float(b)})
                     for i, a, b in zip(ids.ravel(), x.ravel(), y.ravel(), strict=True))
    pairs = np.concatenate([np.stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()], axis=1),
                            np.stack([ids[:-1, :].ravel(), ids[1:, :].ravel()], axis=1)])
    pairs = pairs[rng.random(len(pairs)) > 0.04]
    xs, ys = x.ravel(), y.ravel()
    length = np.hypot(xs[pairs[:, 0]] - xs[pairs[:, 1]], ys[pairs[:, 0]] - ys[pairs[:, 1]])
    row, col = pairs[:, 0] // side, pairs[:, 1] % side
    kph = np.where((row % 10 == 0) | (col % 10 == 0), 50.0, 25.0)  # arterials every km
    one_way = rng.random(len(pairs)) < 0.05
    for (u, v), m, s, ow in zip(pairs.tolist(), length, kph, one_way, strict=True):
        data = {"length": float(m), "speed_kph": float(s), "travel_time": float(m / (s / 3.6))}
        G.add_edge(u, v, **data)
        if not ow:
            G.add_edge(v, u, **data)
    return G


def bare_csr(G: nx.MultiDiGraph) -> tuple[sparse.csr_array, dict[int, int]]:
    """CSR adjacency (min over parallel edges) and node -> position, for the bare peer."""
    pos = {n: i for i, n in enumerate(G.nodes)}
    best: dict[tuple[int, int], float] = {}
    for u, v, w in G.edges(data="travel_time"):
        key = (pos[u], pos[v])
        if w < best.get(key, np.inf):
            best[key] = w
    uv = np.array(list(best), dtype=np.int64)
    w = np.fromiter(best.values(), float, len(best))
    n = G.number_of_nodes()
    return sparse.csr_array((w, (uv[:, 0], uv[:, 1])), shape=(n, n)), pos


def best_of(repeat: int, fn) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=300, help="grid side (nodes = side^2)")
    parser.add_argument("--origins", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="best-of for the fast peers")
    parser.add_argument("--nx-origins", type=int, default=None,
                        help="origins timed for networkx (default: all), scaled to --origins")
    args = parser.parse_args()

    t0 = time.perf_counter()
    G = grid_graph(args.side)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    nodes = np.array(list(G.nodes))
    o_nodes = rng.choice(nodes, args.origins, replace=False)
    d_nodes = rng.choice(nodes, args.origins, replace=False)

    def layer(ns: np.ndarray, prefix: str) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {"id": [f"{prefix}{n}" for n in ns]},
            geometry=gpd.points_from_xy([G.nodes[n]["x"] for n in ns],
                                        [G.nodes[n]["y"] for n in ns]), crs="EPSG:32650")

    origins, destinations = layer(o_nodes, "o"), layer(d_nodes, "d")
    csr, pos = bare_csr(G)
    o_pos = np.array([pos[n] for n in o_nodes])
    d_pos = np.array([pos[n] for n in d_nodes])

    ours_s, ours = best_of(args.repeat, lambda: network.travel_time_matrix(G, origins,
                                                                           destinations))
    bare_s, bare = best_of(args.repeat, lambda: dijkstra(csr, directed=True, indices=o_pos))

    n_nx = args.nx_origins or args.origins
    d_list = [int(d) for d in d_nodes]
    t0 = time.perf_counter()
    nx_rows = []
    for o in o_nodes[:n_nx]:
        lengths = nx.single_source_dijkstra_path_length(G, int(o), weight="travel_time")
        nx_rows.append([lengths.get(d, np.inf) for d in d_list])  # keep only what is needed
    nx_s = (time.perf_counter() - t0) * args.origins / n_nx

    ours_arr = ours.to_numpy()
    nx_arr = np.array(nx_rows)
    agree_nx = np.allclose(ours_arr[:n_nx], nx_arr, rtol=1e-9, atol=1e-6)
    agree_bare = np.allclose(ours_arr, bare[:, d_pos], rtol=1e-12, atol=1e-9)

    print(f"graph: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} directed edges "
          f"(built in {build_s:.1f} s); {args.origins} origins x {args.origins} destinations")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat} for the fast peers"
          + (f"; networkx timed on {n_nx} origins and scaled" if n_nx != args.origins else ""))
    print()
    print(f"{'peer':<34}{'seconds':>10}{'per origin (ms)':>18}{'vs networkx':>14}"
          f"{'vs csgraph':>12}")
    for name, secs in (("networkx loop (single_source)", nx_s),
                       ("bare scipy csgraph (same arrays)", bare_s),
                       ("cci_geo.travel_time_matrix", ours_s)):
        print(f"{name:<34}{secs:>10.2f}{1000 * secs / args.origins:>18.1f}"
              f"{nx_s / secs:>13.1f}x{secs / bare_s:>11.2f}x")
    print()
    print(f"results agree: with networkx {agree_nx}, with bare csgraph {agree_bare}; "
          f"unreachable pairs {int(np.isinf(ours_arr).sum())}")
    print(f"target: >= 20x faster than networkx -> {nx_s / ours_s:.1f}x; "
          f"overhead within 1.5x of bare csgraph -> {ours_s / bare_s:.2f}x")


if __name__ == "__main__":
    main()
