"""Benchmark cci_geo on Dask against the in-memory path and print a table.

Two cases, each run in a fresh process so peak memory is its own:

- **KDE from partitioned GeoParquet**: ``N`` clustered points over Jing-Jin-Ji written as
  GeoParquet files of 10^6 points, quartic KDE (2 km) onto 100 m cells of the points' extent;
  in memory (``geopandas.read_parquet`` then ``kernel_density``) where it fits, and on a
  LocalCluster of 1 and 2 single-threaded worker processes.
- **Region suitability**: six criteria (distance to zones and to stations, venues within
  1 km, employees within 1.5 km, enterprise density, a slope raster) on 30 m cells of a
  window of the Jing-Jin-Ji bounding box, written as COGs window by window by
  ``score_chunked``; ``score()`` in memory where it fits.

Peak memory: the client's maximum resident set (``ru_maxrss``) and, on Dask, the largest
worker's. Runs at a stated fraction of full size (``--kde-points``, ``--region-fraction``)
are extrapolated linearly to full size in rows labelled "extrapolated".

Run: ``python benchmarks/bench_scale.py [--kde-points 1e7] [--region-fraction 0.03]``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

FULL_POINTS = 1e8
JJJ_BOX_M = (300_000.0, 3_990_000.0, 850_000.0, 4_720_000.0)  # UTM 50N, the region's bbox
JJJ_CELLS_30M = 2.4e8  # cells of the region itself (216,000 km²) at 30 m
ROWS: list[tuple[str, ...]] = []


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _worker_peaks(client: object) -> float:
    peaks = client.run(_rss_mb)  # type: ignore[attr-defined]
    return max(peaks.values()) if peaks else float("nan")


# ------------------------------------------------------------------------------ data
def write_registry(folder: Path, n: int, per_file: int = 1_000_000) -> None:
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(0)
    centres = rng.uniform([400_000, 4_250_000], [700_000, 4_550_000], (60, 2))
    for k, start in enumerate(range(0, n, per_file)):
        m = min(per_file, n - start)
        pick = rng.integers(0, 60, m)
        xy = centres[pick] + rng.normal(0, 4000, (m, 2))
        gdf = gpd.GeoDataFrame({"employees": rng.integers(1, 200, m).astype("int32")},
                               geometry=shapely.points(xy), crs="EPSG:32650")
        gdf.to_parquet(folder / f"part{k:04d}.parquet")


def region_inputs(folder: Path, fraction: float) -> tuple[dict, dict]:
    import geopandas as gpd
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    x0, y0, x1, y1 = JJJ_BOX_M
    side = math.sqrt(fraction * JJJ_CELLS_30M) * 30.0
    cx, cy = 450_000.0, 4_420_000.0  # around Beijing
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    rng = np.random.default_rng(5)

    def pts(n: int) -> gpd.GeoDataFrame:
        xy = rng.uniform(box[:2], box[2:], (n, 2))
        return gpd.GeoDataFrame({"employees": rng.integers(1, 300, n).astype(float)},
                                geometry=shapely.points(xy), crs="EPSG:32650")

    layers = {"region": gpd.GeoDataFrame(geometry=[shapely.box(*box)], crs="EPSG:32650"),
              "zones": pts(300), "stations": pts(1500), "venues": pts(3000),
              "firms": pts(100_000), "sites": pts(50)}
    slope = folder / "slope.tif"
    w, h = int((x1 - x0) / 90), int((y1 - y0) / 90)
    yy, xx = np.mgrid[0:h, 0:w].astype("float32")
    data = (np.sin(xx / 300) * np.cos(yy / 500) * 10 + 10).astype("float32")
    with rasterio.open(slope, "w", driver="GTiff", height=h, width=w, count=1, dtype="float32",
                       crs="EPSG:32650", transform=from_origin(x0, y1, 90, 90),
                       tiled=True, compress="deflate") as dst:
        dst.write(data, 1)
    lin = {"function": "linear"}
    scenario = {
        "scenario": {"name": "jjj_30m", "metric_crs": "EPSG:32650"},
        "candidates": {"layer": "sites"},
        "grid": {"cell_size_m": 30, "extent": "region"},
        "criteria": [
            {"name": "zones", "layer": "zones", "measure": "distance", "weight": 0.2,
             "value": {**lin, "low": 500, "high": 5000, "direction": "decreasing"}},
            {"name": "metro", "layer": "stations", "measure": "distance", "weight": 0.2,
             "value": {**lin, "low": 200, "high": 2000, "direction": "decreasing"}},
            {"name": "venues", "layer": "venues", "measure": "count", "radius_m": 1000,
             "weight": 0.15, "value": {**lin, "low": 0, "high": 5}},
            {"name": "jobs", "layer": "firms", "measure": "sum", "radius_m": 1500,
             "column": "employees", "weight": 0.15, "value": {**lin, "low": 0, "high": 5000}},
            {"name": "density", "layer": "firms", "measure": "density", "bandwidth_m": 2000,
             "weight": 0.15, "value": {**lin, "low": 0, "high": 50}},
            {"name": "slope", "measure": "raster", "path": str(slope), "weight": 0.15,
             "value": {**lin, "low": 0, "high": 20, "direction": "decreasing"}},
        ],
    }
    return scenario, layers


# ------------------------------------------------------------------------------ cases
def case_kde(folder: str, workers: int) -> dict:
    from cci_geo.concentration import kernel_density
    from cci_geo.settings import Settings

    t0 = time.perf_counter()
    if workers == 0:
        import geopandas as gpd
        import pandas as pd

        files = sorted(Path(folder).glob("*.parquet"))
        gdf = pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)
        surf = kernel_density(gdf, cell_size_m=100, bandwidth_m=2000, weight="employees")
        return {"s": time.perf_counter() - t0, "client_mb": _rss_mb(), "worker_mb": None,
                "shape": list(surf.shape), "sum": float(surf.data.sum())}
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        surf = kernel_density(f"{folder}/*.parquet", cell_size_m=100, bandwidth_m=2000,
                              weight="employees", settings=Settings(scheduler=client))
        elapsed = time.perf_counter() - t0
        wmb = _worker_peaks(client)
    return {"s": elapsed, "client_mb": _rss_mb(), "worker_mb": wmb, "shape": list(surf.shape),
            "sum": float(surf.data.sum())}


def case_region(folder: str, fraction: float, workers: int) -> dict:
    from cci_geo.settings import Settings
    from cci_geo.suitability import score, score_chunked

    scenario, layers = region_inputs(Path(folder), fraction)
    out = Path(folder) / f"out{workers}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if workers == 0:
            t0 = time.perf_counter()
            res = score(scenario, layers=layers, sensitivity=False)
            return {"s": time.perf_counter() - t0, "client_mb": _rss_mb(), "worker_mb": None,
                    "cells": res.composite.shape[0] * res.composite.shape[1], "out_mb": None}
        if workers < 0:  # chunked in this process, no Dask
            t0 = time.perf_counter()
            res = score_chunked(scenario, out, layers=layers, sensitivity=False)
            wmb = None
        else:
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=":0") as cluster, Client(cluster) as client:
                t0 = time.perf_counter()
                res = score_chunked(scenario, out, layers=layers, sensitivity=False,
                                    settings=Settings(scheduler=client))
                wmb = _worker_peaks(client)
    size = sum(p.stat().st_size for p in res.files.values()) / 1e6
    return {"s": time.perf_counter() - t0, "client_mb": _rss_mb(), "worker_mb": wmb,
            "cells": res.shape[0] * res.shape[1], "out_mb": size}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mb(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kde-points", type=float, default=1e7)
    parser.add_argument("--region-fraction", type=float, default=0.03)
    parser.add_argument("--no-in-memory", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        res = (case_kde(rest[0], int(rest[1])) if kind == "kde"
               else case_region(rest[0], float(rest[1]), int(rest[2])))
        print(json.dumps(res))
        return
    n = int(args.kde_points)
    with tempfile.TemporaryDirectory() as tmp:
        reg = Path(tmp) / "registry"
        reg.mkdir()
        t0 = time.perf_counter()
        write_registry(reg, n)
        size = sum(p.stat().st_size for p in reg.glob("*.parquet")) / 1e6
        print(f"wrote {n:,} points in {len(list(reg.glob('*.parquet')))} GeoParquet files "
              f"({size:,.0f} MB) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        scale = FULL_POINTS / n
        for label, w in (("in memory", 0), ("Dask, 1 worker", 1), ("Dask, 2 workers", 2)):
            if w == 0 and args.no_in_memory:
                continue
            r = _child(["kde", str(reg), str(w)])
            if "error" in r:
                ROWS.append((f"KDE {n:.0e} pts", label, r["error"], "", "", ""))
                continue
            ROWS.append((f"KDE {n:.0e} pts", label, f"{r['s']:.1f}", _mb(r["client_mb"]),
                         _mb(r["worker_mb"]), f"grid {r['shape'][0]}x{r['shape'][1]}"))
            if w:
                ROWS.append((f"KDE 1e+08 pts (extrapolated x{scale:g})", label,
                             f"{r['s'] * scale:.0f}", "", "", "time linear in points"))
        frac = args.region_fraction
        for label, w in (("score() in memory", 0), ("chunked, no Dask", -1),
                         ("chunked, Dask 1 worker", 1), ("chunked, Dask 2 workers", 2)):
            if w == 0 and args.no_in_memory:
                continue
            r = _child(["region", tmp, str(frac), str(w)])
            case = f"JJJ 30 m x{frac:g} (6 criteria)"
            if "error" in r:
                ROWS.append((case, label, r["error"], "", "", ""))
                continue
            ROWS.append((case, label, f"{r['s']:.1f}", _mb(r["client_mb"]),
                         _mb(r["worker_mb"]),
                         f"{r['cells']:,} cells" + (f", COGs {r['out_mb']:,.0f} MB"
                                                    if r["out_mb"] else "")))
            if w:
                k = JJJ_CELLS_30M / r["cells"]
                ROWS.append(("JJJ 30 m full (extrapolated)", label, f"{r['s'] * k:.0f}", "",
                             "", f"x{k:.0f}; COGs ~{(r['out_mb'] or 0) * k / 1e3:.1f} GB"))
    header = ("case", "path", "seconds", "client peak MB", "worker peak MB", "note")
    widths = [max(len(h), *(len(r[i]) for r in ROWS)) for i, h in enumerate(header)]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r in ROWS:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
