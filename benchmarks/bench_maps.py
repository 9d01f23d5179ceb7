"""Benchmark briefing maps with many enterprise points: write time, HTML size, load time.

For 10^4 and 10^5 synthetic enterprises (clustered around four Beijing centres, with a name,
sector, employees, revenue, founding year and district each) it writes an offline HTML map
with

* ``cci_geo``: ``briefing_map`` + ``save_html(self_contained=True)`` (canvas point layer,
  compressed columnar data, every asset inlined), enterprises switched on;
* ``folium CircleMarker``: the naive map, one ``folium.CircleMarker`` per point
  (``prefer_canvas=True``, no popups: with a popup each, 10^5 points take about 5 minutes and
  107 MB), its CDN assets inlined with cci_geo's copies so it can load at all offline (stock
  folium pages are blank without internet);
* ``folium FastMarkerCluster``: folium's fast clustering plugin, assets inlined likewise;

then opens each file in headless Chromium with the network blocked and reports the time to
the load event, and for cci_geo also the time to redraw all points after a pan and to find a
clicked point (the cci_geo page also carries every point's popup data; the peers do not). The
naive peer at 10^5 takes about a minute to write; skip it with ``--no-naive-100k``.

Run:  python benchmarks/bench_maps.py [--sizes 10000 100000] [--no-naive-100k]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import folium
from folium import plugins

import cci_geo.maps as cm
from cci_geo._files import atomic_path
from cci_geo.maps.export import inline_assets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _browser import find_browser, load, offline_chromium  # noqa: E402
from _maps_data import synthetic_enterprises  # noqa: E402


def _ours(ent, path: Path) -> None:
    m = cm.briefing_map({"enterprises": ent}, lang="zh", show={"enterprises"})
    cm.save_html(m, path, overwrite=True)


def _naive(ent, path: Path) -> None:
    m = folium.Map(location=[39.93, 116.40], zoom_start=11, prefer_canvas=True)
    for row in ent.itertuples():
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=3, weight=0,
                            fill=True, fill_opacity=0.8).add_to(m)
    _write_inlined(m, path)


def _fast_cluster(ent, path: Path) -> None:
    m = folium.Map(location=[39.93, 116.40], zoom_start=11)
    plugins.FastMarkerCluster(list(zip(ent.geometry.y, ent.geometry.x, strict=True))).add_to(m)
    _write_inlined(m, path)


def _write_inlined(m: folium.Map, path: Path) -> None:
    html = inline_assets(m.get_root().render())
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(html, encoding="utf-8")


def _interaction_ms(driver) -> tuple[float, float]:
    return tuple(driver.execute_script("""
        var map = Object.values(window).find(v => v instanceof L.Map), layer = null;
        map.eachLayer(l => { if (l instanceof cciGeo.CanvasPoints) layer = l; });
        map.setView([39.93, 116.40], 12, {animate: false});
        var t0 = performance.now(); layer._redraw(); var t1 = performance.now();
        layer.nearest(L.point(400, 300), 6); var t2 = performance.now();
        return [t1 - t0, t2 - t1];"""))


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--no-naive-100k", action="store_true",
                        help="skip the naive CircleMarker map above 50,000 points")
    args = parser.parse_args()
    chromium, driver_path, reason = find_browser()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            ent = synthetic_enterprises(n, seed=1)
            variants = [("cci_geo canvas", _ours), ("folium FastMarkerCluster", _fast_cluster),
                        ("folium CircleMarker", _naive)]
            for name, build in variants:
                if name == "folium CircleMarker" and n > 50_000 and args.no_naive_100k:
                    continue
                path = Path(tmp) / f"{name.split()[-1]}_{n}.html"
                t = time.perf_counter()
                build(ent, path)
                gen = time.perf_counter() - t
                rows.append({"variant": name, "n": n, "write_s": gen,
                             "mb": path.stat().st_size / 1e6, "path": path})
        if reason:
            print(f"load times skipped: {reason}")
        else:
            with offline_chromium(chromium, driver_path) as driver:
                for row in rows:
                    load(driver, row["path"])  # warm the browser's caches once
                    row["load_s"] = min(load(driver, row["path"]) for _ in range(2))
                    if row["variant"].startswith("cci_geo"):
                        row["redraw_ms"], row["pick_ms"] = _interaction_ms(driver)
    print(f"\nBriefing maps with n enterprise points (offline, headless Chromium; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})\n")
    head = (f"{'variant':<26}{'n':>9}{'write s':>9}{'HTML MB':>9}{'load s':>8}"
            f"{'redraw ms':>11}{'pick ms':>9}")
    print(head)
    print("-" * len(head))
    for r in rows:
        load_s = f"{r['load_s']:.2f}" if "load_s" in r else "n/a"
        redraw = f"{r['redraw_ms']:.0f}" if "redraw_ms" in r else "-"
        pick = f"{r['pick_ms']:.1f}" if "pick_ms" in r else "-"
        print(f"{r['variant']:<26}{r['n']:>9,}{r['write_s']:>9.2f}{r['mb']:>9.1f}{load_s:>8}"
              f"{redraw:>11}{pick:>9}")
    print("\nTargets for 10^5 points: write <= 3 s, HTML <= 6 MB, load event <= 2 s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
