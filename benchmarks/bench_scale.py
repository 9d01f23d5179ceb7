"""Benchmark cci_geo on Dask against the in-memory path and print a table.

Two cases, each run in a fresh process so peak memory is its own:

- **KDE from partitioned GeoParquet**: ``N`` clustered points over Jing-Jin-Ji (weighted by
  employees) written as GeoParquet files of 10^6 points (written once under ``--registry``,
  reused while its manifest matches), quartic KDE (2 km) onto 100 m cells of the points'
  extent; on a LocalCluster of 1 and 2 single-threaded worker processes with a memory limit
  per worker (``--worker-memory``), and in memory (``geopandas.read_parquet`` of the first
  ``--kde-in-memory-points`` points, then ``kernel_density``) where that fits.
- **Region suitability**: six criteria (distance to zones and to stations, venues within
  1 km, employees within 1.5 km, enterprise density, a slope raster) on 30 m cells of a
  window of the Jing-Jin-Ji bounding box, written as COGs window by window by
  ``score_chunked``; ``score()`` in memory where it fits.

Peak memory: the client's maximum resident set (``ru_maxrss``) and, on Dask, the largest
worker's. Runs at a stated fraction of full size (``--region-fraction``) are extrapolated
linearly to full size in rows labelled "extrapolated". Each row carries the load average.

Run: ``python benchmarks/bench_scale.py [--kde-points 1e8] [--kde-in-memory-points 1e7]
[--registry /tmp/cci_geo_registry] [--kde-memory-limit 2.5GB] [--skip-kde] [--skip-region]
[--region-fraction 0.03]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

FULL_POINTS = 1e8
FULL_BOX_M2 = 561_250.0 * 727_245.0  # the region's bounding box in UTM 50N (408,000 km²)
JJJ_CELLS_30M = 2.4e8  # cells of the region itself (216,959 km²) at 30 m
ROWS: list[tuple[str, ...]] = []


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _worker_peaks(client: object) -> float:
    peaks = client.run(_rss_mb)  # type: ignore[attr-defined]
    return max(peaks.values()) if peaks else float("nan")


# ------------------------------------------------------------------------------ data
def write_registry(folder: Path, n: int, per_file: int = 1_000_000) -> None:
    """Write ``n`` clustered points as GeoParquet files of ``per_file``, unless already there.

    A manifest records ``n``, ``per_file`` and the seed; a folder whose manifest matches is
    reused as is (the files take minutes to write), any other is refused.
    """
    import geopandas as gpd
    import shapely

    manifest = folder / "manifest.json"
    want = {"n": n, "per_file": per_file, "seed": 0, "crs": "EPSG:32650"}
    if manifest.exists():
        if json.loads(manifest.read_text()) == want:
            return
        msg = f"{folder} holds another registry ({manifest.read_text()}); pick another folder."
        raise SystemExit(msg)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    centres = rng.uniform([400_000, 4_250_000], [700_000, 4_550_000], (60, 2))
    for k, start in enumerate(range(0, n, per_file)):
        m = min(per_file, n - start)
        pick = rng.integers(0, 60, m)
        xy = centres[pick] + rng.normal(0, 4000, (m, 2))
        gdf = gpd.GeoDataFrame({"employees": rng.integers(1, 200, m).astype("int32")},
                               geometry=shapely.points(xy), crs="EPSG:32650")
        gdf.to_parquet(folder / f"part{k:04d}.parquet")
    manifest.write_text(json.dumps(want))


def _region(fraction: float):  # noqa: ANN202 - (polygon, box) in UTM 50N
    """The Jing-Jin-Ji region (the demo's districts), or a box around Beijing clipped to it.

    The box's area is ``fraction`` of the region's bounding box, so the grid has about
    ``fraction`` x 4.5·10^8 cells at 30 m; ``fraction >= 1`` is the whole region.
    """
    import shapely

    import cci_geo

    districts = cci_geo.load_demo()["districts"].to_crs("EPSG:32650")
    region = shapely.union_all(districts.geometry.to_numpy())
    if fraction >= 1:
        return region, region.bounds
    x0, y0, x1, y1 = region.bounds
    side = math.sqrt(fraction * (x1 - x0) * (y1 - y0))
    cx, cy = 450_000.0, 4_420_000.0  # around Beijing
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    return region.intersection(shapely.box(*box)), box


def _write_slope(path: Path, box: tuple[float, ...]) -> None:
    """A synthetic slope raster at 90 m over ``box``, written in bands of rows."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    x0, y0, x1, y1 = box
    w, h = int((x1 - x0) / 90) + 2, int((y1 - y0) / 90) + 2
    xx = np.arange(w, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=1,
                       dtype="float32", crs="EPSG:32650",
                       transform=from_origin(x0 - 90, y1 + 90, 90, 90), tiled=True,
                       compress="deflate") as dst:
        for r in range(0, h, 512):
            yy = np.arange(r, min(h, r + 512), dtype="float32")[:, None]
            band = (np.sin(xx / 300)[None, :] * np.cos(yy / 500) * 10 + 10).astype("float32")
            dst.write(band, 1, window=Window(0, r, w, band.shape[0]))


def region_inputs(folder: Path, fraction: float) -> tuple[dict, dict]:
    """Six-criterion scenario on 30 m cells and its layers, at ``fraction`` of the region.

    Features are uniform over the grid's box at fixed densities (full region: 3,000 zones,
    15,000 stations, 30,000 venues, 10^6 enterprises), so every window has work to do and
    the feature counts grow with the area; 100 candidate sites are spread over the study
    area (the site scores never build the region grid).
    """
    import geopandas as gpd
    import shapely

    region, box = _region(fraction)
    x0, y0, x1, y1 = box
    share = (x1 - x0) * (y1 - y0) / FULL_BOX_M2
    rng = np.random.default_rng(5)

    def pts(n_full: float) -> gpd.GeoDataFrame:
        n = max(10, int(n_full * share))
        xy = rng.uniform(box[:2], box[2:], (n, 2))
        return gpd.GeoDataFrame({"employees": rng.integers(1, 300, n).astype(float)},
                                geometry=shapely.points(xy), crs="EPSG:32650")

    cand = rng.uniform(box[:2], box[2:], (5000, 2))
    cand = cand[shapely.contains_xy(region, cand[:, 0], cand[:, 1])][:100]
    sites = gpd.GeoDataFrame({"id": [f"S{i:03d}" for i in range(len(cand))]},
                             geometry=shapely.points(cand), crs="EPSG:32650")
    layers = {"region": gpd.GeoDataFrame(geometry=[region], crs="EPSG:32650"),
              "zones": pts(3e3), "stations": pts(1.5e4), "venues": pts(3e4),
              "firms": pts(1e6), "sites": sites}
    slope = folder / "slope.tif"
    if not slope.exists() or fraction >= 1:
        _write_slope(slope, _region(1.0)[1])
    lin = {"function": "linear"}
    scenario = {
        "scenario": {"name": "jjj_30m", "metric_crs": "EPSG:32650"},
        "candidates": {"layer": "sites"},
        "grid": {"cell_size_m": 30, "extent": "region", "buffer_m": 0},
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
def _registry_files(folder: str, n_files: int | None) -> list[str]:
    files = sorted(str(f) for f in Path(folder).glob("part*.parquet"))
    return files if n_files is None else files[:n_files]


def case_kde(folder: str, workers: int, n_files: int | None, memory: str) -> dict:
    from cci_geo.concentration import kernel_density
    from cci_geo.settings import Settings

    files = _registry_files(folder, n_files)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    if workers == 0:
        import geopandas as gpd
        import pandas as pd

        gdf = pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)
        t_read = time.perf_counter() - t0
        surf = kernel_density(gdf, cell_size_m=100, bandwidth_m=2000, weight="employees")
        return {"s": time.perf_counter() - t0, "read_s": t_read, "client_mb": _rss_mb(),
                "worker_mb": None, "shape": list(surf.shape), "n": len(gdf),
                "sum": float(surf.data.sum()), "load": load}
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      memory_limit=memory, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        surf = kernel_density(files, cell_size_m=100, bandwidth_m=2000, weight="employees",
                              settings=Settings(scheduler=client))
        elapsed = time.perf_counter() - t0
        wmb = _worker_peaks(client)
    return {"s": elapsed, "client_mb": _rss_mb(), "worker_mb": wmb, "shape": list(surf.shape),
            "n": int(surf.tags["n_points"]), "sum": float(surf.data.sum()), "load": load}


def case_region(folder: str, fraction: float, workers: int, memory_limit: str,
                compress: str = "deflate") -> dict:
    import logging
    import os

    from cci_geo.settings import Settings
    from cci_geo.suitability import score, score_chunked

    scenario, layers = region_inputs(Path(folder), fraction)
    area_cells = layers["region"].area.sum() / 900.0
    marks: list[tuple[float, str]] = []

    class _Mark(logging.Handler):  # when the windows start and end (from the library's log)
        def emit(self, record: logging.LogRecord) -> None:
            marks.append((time.perf_counter(), record.getMessage()))

    log = logging.getLogger("cci_geo.suitability.chunked")
    log.addHandler(_Mark(logging.INFO))
    log.setLevel(logging.INFO)
    out = Path(folder) / f"out{workers}"
    load0 = os.getloadavg()[0]
    base = {"area_cells": area_cells, "load0": load0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if workers == 0:
            t0 = time.perf_counter()
            res = score(scenario, layers=layers, sensitivity=False,
                        settings=Settings(max_cells=10**9, max_bytes=10**11))
            return {**base, "s": time.perf_counter() - t0, "client_mb": _rss_mb(),
                    "worker_mb": None, "cells": res.composite.shape[0] * res.composite.shape[1],
                    "out_mb": None, "load1": os.getloadavg()[0]}
        if workers < 0:  # chunked in this process, no Dask
            t0 = time.perf_counter()
            res = score_chunked(scenario, out, layers=layers, sensitivity=False,
                                compress=compress)
            elapsed = time.perf_counter() - t0
            wmb = None
        else:
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              memory_limit=memory_limit, dashboard_address=":0") as cluster, \
                    Client(cluster) as client:
                t0 = time.perf_counter()
                res = score_chunked(scenario, out, layers=layers, sensitivity=False,
                                    settings=Settings(scheduler=client), compress=compress)
                elapsed = time.perf_counter() - t0
                wmb = _worker_peaks(client)
    end = t0 + elapsed
    starts = [t for t, m in marks if " windows of " in m]
    done = [t for t, m in marks if " windows computed " in m]
    phases = ({"sites": starts[0] - t0, "windows": done[0] - starts[0], "cogs": end - done[0]}
              if starts and done else {})
    computed = next((m.split()[1] for _, m in marks if " windows computed " in m), "?")
    sizes = {n: p.stat().st_size / 1e6 for n, p in res.files.items()}
    ranked = int(res.sites["rank"].notna().sum())
    for p in res.files.values():
        p.unlink()
    return {**base, "s": elapsed, "client_mb": _rss_mb(), "worker_mb": wmb,
            "cells": res.shape[0] * res.shape[1], "out_mb": sum(sizes.values()),
            "files_mb": sizes, "sites": len(res.sites), "ranked": ranked,
            "phases": phases, "windows": computed, "load1": os.getloadavg()[0]}


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
    parser.add_argument("--kde-points", type=float, default=FULL_POINTS)
    parser.add_argument("--kde-in-memory-points", type=float, default=1e7,
                        help="points read into memory for the in-memory row (0: none)")
    parser.add_argument("--registry", default=str(Path(tempfile.gettempdir())
                                                  / "cci_geo_registry"),
                        help="folder of the GeoParquet registry (written once, then reused)")
    parser.add_argument("--kde-memory-limit", default="2.5GB", help="per Dask worker (KDE)")
    parser.add_argument("--kde-workers", default="1,2", help="Dask worker counts of the KDE")
    parser.add_argument("--region-fraction", type=float, default=0.03)
    parser.add_argument("--no-in-memory", action="store_true")
    parser.add_argument("--in-memory-fraction", type=float, default=None,
                        help="region fraction of the in-memory score() row (default: "
                             "--region-fraction)")
    parser.add_argument("--region-workers", default="-1,1,2",
                        help="chunked runs: -1 = in this process, N = N Dask workers")
    parser.add_argument("--memory-limit", default="2GB", help="per Dask worker")
    parser.add_argument("--compress", choices=("deflate", "zstd"), default="deflate",
                        help="compression of the region COGs")
    parser.add_argument("--skip-kde", action="store_true")
    parser.add_argument("--skip-region", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        res = (case_kde(rest[0], int(rest[1]), int(rest[2]) or None, rest[3]) if kind == "kde"
               else case_region(rest[0], float(rest[1]), int(rest[2]), *rest[3:]))
        print(json.dumps(res))
        return
    if not args.skip_kde:
        bench_kde(args)
    if not args.skip_region:
        with tempfile.TemporaryDirectory() as tmp:
            _region_rows(tmp, args)
    _print_table()


def bench_kde(args: argparse.Namespace) -> None:
    """KDE of the registry on Dask (1 and 2 workers) and of its first files in memory."""
    n = int(args.kde_points)
    reg = Path(args.registry)
    t0 = time.perf_counter()
    write_registry(reg, n)
    files = sorted(reg.glob("part*.parquet"))
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"registry: {n:,} points in {len(files)} GeoParquet files ({size:,.0f} MB), ready "
          f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    limit = args.kde_memory_limit
    runs = [(f"Dask, {w} worker{'s' if w > 1 else ''} ({limit} limit each)", w, 0)
            for w in (int(v) for v in args.kde_workers.split(",") if v)]
    n_mem = int(args.kde_in_memory_points)
    if n_mem and not args.no_in_memory:
        runs.append(("in memory (read_parquet, then kernel_density)", 0, -(-n_mem // 1_000_000)))
    for label, w, n_files in runs:
        r = _child(["kde", str(reg), str(w), str(n_files), limit])
        pts = n if n_files == 0 else min(n, n_files * 1_000_000)
        case = f"KDE {pts:.0e} pts ({len(files) if n_files == 0 else n_files} files)"
        if "error" in r:
            ROWS.append((case, label, r["error"], "", "", "", ""))
            continue
        note = f"grid {r['shape'][0]}x{r['shape'][1]}"
        if "read_s" in r:
            note += f", read {r['read_s']:.0f} s"
        ROWS.append((case, label, f"{r['s']:.1f}", _mb(r["client_mb"]), _mb(r["worker_mb"]),
                     f"{r['load']:.1f}", note))
        print(" | ".join(ROWS[-1]), file=sys.stderr, flush=True)


def _region_rows(tmp: str, args: argparse.Namespace) -> None:
    frac = args.region_fraction
    runs = [("score() in memory", 0)] if not args.no_in_memory else []
    runs += [({-1: "chunked, no Dask"}.get(w, f"chunked, Dask {w} worker{'s' * (w > 1)}"), w)
             for w in (int(v) for v in args.region_workers.split(",") if v.strip())]
    for label, w in runs:
        f = args.in_memory_fraction if w == 0 and args.in_memory_fraction else frac
        r = _child(["region", tmp, str(f), str(w), args.memory_limit, args.compress])
        case = "JJJ 30 m, whole region" if f >= 1 else f"JJJ 30 m x{f:g} of the bbox"
        if "error" in r:
            ROWS.append((case, label, r["error"], "", "", "", ""))
            continue
        note = (f"{r['cells'] / 1e6:,.1f} M cells ({r['area_cells'] / 1e6:,.1f} M in the "
                "region)")
        if r.get("phases"):
            note += (f"; {r['windows']} windows; sites {r['phases']['sites']:.0f} s, windows "
                     f"{r['phases']['windows']:.0f} s, COGs {r['phases']['cogs']:.0f} s")
        if r["out_mb"]:
            files = ", ".join(f"{k.removeprefix('value_')} {v:,.0f}"
                              for k, v in r["files_mb"].items())
            note += f"; {args.compress} COGs {r['out_mb']:,.0f} MB ({files})"
        ROWS.append((case, label, f"{r['s']:.1f}", _mb(r["client_mb"]), _mb(r["worker_mb"]),
                     f"{r['load0']:.1f}-{r['load1']:.1f}", note))
        print(" | ".join(ROWS[-1]), file=sys.stderr, flush=True)
        if w and f < 1:
            k = JJJ_CELLS_30M / r["area_cells"]
            ROWS.append(("JJJ 30 m full (extrapolated)", label, f"{r['s'] * k:.0f}", "", "",
                         "", f"x{k:.0f} by cells in the region; COGs "
                             f"~{(r['out_mb'] or 0) * k / 1e3:.1f} GB"))


def _print_table() -> None:
    header = ("case", "path", "seconds", "client peak MB", "worker peak MB", "load", "note")
    ROWS[:] = [r if len(r) == len(header) else (*r[:5], "", *r[5:]) for r in ROWS]
    widths = [max(len(h), *(len(r[i]) for r in ROWS)) for i, h in enumerate(header)]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r in ROWS:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
