"""Benchmark briefing maps with many enterprise points: write time, HTML size, load time.

For 10^5 and 10^6 synthetic enterprises (clustered around four Beijing centres, with a name,
sector, employees, revenue, founding year and district each) it writes an offline HTML map
with

* ``cci_geo WebGL``: ``briefing_map`` + ``save_html(self_contained=True)`` (the WebGL point
  layer: typed-array columns, points in view drawn on the GPU, cells with counts when more
  than 50,000 are in view, every asset inlined), enterprises switched on;
* ``cci_geo canvas (old)``: the same map with the previous point path (JSON columns, every
  point drawn on a 2D canvas at each redraw), ``folium_layers.POINT_ENGINE = "canvas"``;
* ``folium CircleMarker``: the naive map, one ``folium.CircleMarker`` per point
  (``prefer_canvas=True``, no popups: with a popup each, 10^5 points take about 5 minutes and
  107 MB), its CDN assets inlined with cci_geo's copies so it can load at all offline (stock
  folium pages are blank without internet);
* ``folium FastMarkerCluster``: folium's fast clustering plugin, assets inlined likewise;

then opens each file in headless Chromium (WebGL on SwiftShader, the CPU renderer: a real
GPU is faster) with the network blocked and reports the time to the load event, and for
cci_geo the time to redraw after a pan at zoom 12 (the whole city in view) and at zoom 16
(streets), measured until the pixels are drawn (a one-pixel read-back), and to find the
clicked point (the cci_geo pages also carry every point's popup data; the peers do not).
The naive peer is only written up to 50,000 points unless ``--naive-all``.

Run:  python benchmarks/bench_maps.py [--sizes 100000 1000000] [--naive-all]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import folium
from folium import plugins

import cci_geo.maps as cm
from cci_geo._files import atomic_path
from cci_geo.maps import folium_layers
from cci_geo.maps.export import inline_assets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _browser import find_browser, load, offline_chromium  # noqa: E402
from _maps_data import synthetic_enterprises  # noqa: E402


def _ours(ent, path: Path) -> None:
    m = cm.briefing_map({"enterprises": ent}, lang="zh", show={"enterprises"})
    cm.save_html(m, path, overwrite=True)


def _ours_canvas(ent, path: Path) -> None:
    engine, folium_layers.POINT_ENGINE = folium_layers.POINT_ENGINE, "canvas"
    try:
        _ours(ent, path)
    finally:
        folium_layers.POINT_ENGINE = engine


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


_FIND_LAYER = """
    var map = Object.values(window).find(v => v instanceof L.Map), layer = null;
    map.eachLayer(l => { if (l.isCciPoints || l instanceof cciGeo.CanvasPoints) layer = l; });
    function drawn() {  // wait for the pixels: read one back
      if (layer._sync) { layer._sync(); }
      else { layer._canvas.getContext('2d').getImageData(0, 0, 1, 1); }
    }"""


def _pan_ms(driver, zoom: int) -> float:
    """Best of two pans at ``zoom`` (the pan's moveend redraws the layer), until drawn."""
    return float(driver.execute_script(_FIND_LAYER + """
        map.setView([39.93, 116.40], arguments[0], {animate: false}); drawn();
        var best = Infinity;
        for (var i = 0; i < 2; i++) {
          var t0 = performance.now(); map.panBy([120, 80], {animate: false}); drawn();
          best = Math.min(best, performance.now() - t0);
        }
        return best;""", zoom))


def _interaction_ms(driver) -> tuple[float, float, float]:
    z12, z16 = _pan_ms(driver, 12), _pan_ms(driver, 16)
    pick = driver.execute_script(_FIND_LAYER + """
        var t0 = performance.now(); layer.nearest(L.point(400, 300), 6);
        return performance.now() - t0;""")
    return z12, z16, float(pick)


def _row(r: dict) -> str:
    load_s = f"{r['load_s']:.2f}" if "load_s" in r else r.get("note", "n/a")
    z12 = f"{r['z12_ms']:.0f}" if "z12_ms" in r else "-"
    z16 = f"{r['z16_ms']:.0f}" if "z16_ms" in r else "-"
    pick = f"{r['pick_ms']:.1f}" if "pick_ms" in r else "-"
    return (f"{r['variant']:<26}{r['n']:>10,}{r['write_s']:>9.2f}{r['mb']:>9.1f}{load_s:>8}"
            f"{z12:>12}{z16:>12}{pick:>9}{os.getloadavg()[0]:>6.1f}")


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--load-timeout", type=float, default=300.0,
                        help="seconds a page may take to load before it is reported as '>N'")
    parser.add_argument("--naive-all", action="store_true",
                        help="also write the naive CircleMarker map above 50,000 points")
    args = parser.parse_args()
    chromium, driver_path, reason = find_browser()
    print(f"Briefing maps with n enterprise points (offline, headless Chromium, WebGL on "
          f"SwiftShader; {os.cpu_count()} CPUs, shared: load = 1-minute load average)\n")
    head = (f"{'variant':<26}{'n':>10}{'write s':>9}{'HTML MB':>9}{'load s':>8}"
            f"{'pan z12 ms':>12}{'pan z16 ms':>12}{'pick ms':>9}{'load':>6}")
    print(head)
    print("-" * len(head), flush=True)
    if reason:
        print(f"load times skipped: {reason}")
    from selenium.common.exceptions import TimeoutException

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        driver = None if reason else stack.enter_context(offline_chromium(chromium, driver_path))
        if driver is not None:
            driver.set_page_load_timeout(args.load_timeout)
        for n in args.sizes:
            ent = synthetic_enterprises(n, seed=1)
            variants = [("cci_geo WebGL", _ours), ("cci_geo canvas (old)", _ours_canvas),
                        ("folium FastMarkerCluster", _fast_cluster),
                        ("folium CircleMarker", _naive)]
            for name, build in variants:
                if name == "folium CircleMarker" and n > 50_000 and not args.naive_all:
                    continue
                path = Path(tmp) / f"{name.replace(' ', '_').strip('()')}_{n}.html"
                t = time.perf_counter()
                build(ent, path)
                row = {"variant": name, "n": n, "write_s": time.perf_counter() - t,
                       "mb": path.stat().st_size / 1e6}
                if driver is not None:
                    try:
                        load(driver, path)  # warm the browser's caches once
                        row["load_s"] = load(driver, path)
                        if name.startswith("cci_geo"):
                            row["z12_ms"], row["z16_ms"], row["pick_ms"] = \
                                _interaction_ms(driver)
                    except (TimeoutException, TimeoutError):
                        row["note"] = f">{args.load_timeout:.0f}"
                print(_row(row), flush=True)
    print("\nTargets for 10^6 points: write <= 3 s, load event <= 2 s, redraw after a pan "
          "<= 50 ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
