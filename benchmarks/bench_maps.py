"""Benchmark briefing maps with many enterprise points: write, size, load, first draw, pan, pick.

For 10^5 and 10^6 synthetic enterprises (clustered around four Beijing centres, with a name,
sector, employees, revenue, founding year and district each) it writes an offline HTML map
with

* ``cci_geo WebGL``: ``briefing_map`` + ``save_html(self_contained=True)`` (the WebGL point
  layer: Web Mercator units in byte planes, decoded by the browser after the page has parsed,
  points in view drawn on the GPU from one static buffer, count cells while more than 50,000
  are in view, every asset inlined), enterprises switched on;
* ``cci_geo canvas (old)``: the same map with the previous point path (JSON columns, every
  point drawn on a 2D canvas at each redraw), ``folium_layers.POINT_ENGINE = "canvas"``;
* ``folium FastMarkerCluster``: folium's fast clustering plugin, its CDN assets inlined with
  cci_geo's copies so that it can load at all offline (stock folium pages are blank without
  internet);
* ``folium CircleMarker``: the naive map, one ``folium.CircleMarker`` per point
  (``prefer_canvas=True``, no popups), only up to 50,000 points unless ``--naive-all``;

then opens each file in headless Chromium (WebGL on SwiftShader, the CPU renderer: a real
GPU is faster) with the network blocked and reports

* ``load s``: navigation start to the load event;
* ``drawn s``: navigation start to the points on the screen (cci_geo decodes its points after
  the page has parsed, so this comes after the load event; the old canvas path draws before
  it; folium's cluster markers are added before it, so it is not measured for the peers);
* ``pan z12``/``pan z16``: redraw after a pan with the whole city in view (zoom 12: count cells
  at 10^6) and at street level (zoom 16: single points), best of two, until the pixels are
  drawn (a one-pixel read-back);
* ``pick ms``: finding the point under a click (the cci_geo pages carry every point's popup
  data; the peers do not).

Every page is measured in its own Chromium, in a child process with a time limit
(``--timeout``, for load and all interactions together) and a memory limit for the browser
(``--max-browser-gb``); what does not finish is reported as ``>N s`` (or ``>N GB``).

Run:  python benchmarks/bench_maps.py [--sizes 100000 1000000] [--naive-all]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
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
      if (layer._gl) { layer._sync(); }
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


def _first_draw_s(driver, timeout_s: float) -> float:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        at = driver.execute_script(_FIND_LAYER + "return layer && layer._firstDrawAt;")
        while driver.execute_script(_FIND_LAYER + "return map._animatingZoom;"):
            time.sleep(0.02)  # the page's first fitBounds would undo the setView of a pan
        if at:
            return float(at) / 1000.0
        time.sleep(0.02)
    raise TimeoutError


def _measure(path: Path, ours: bool, timeout_s: float) -> None:
    """Child process: print one JSON object per finished measurement."""
    chromium, driver_path, _ = find_browser()
    with offline_chromium(chromium, driver_path) as driver:
        driver.set_page_load_timeout(timeout_s)
        driver.set_script_timeout(timeout_s)
        load(driver, path)  # warm the browser's caches once
        if ours:
            _first_draw_s(driver, timeout_s)
        print(json.dumps({"load_s": load(driver, path)}), flush=True)
        if not ours:
            return
        print(json.dumps({"drawn_s": _first_draw_s(driver, timeout_s)}), flush=True)
        print(json.dumps({"z12_ms": _pan_ms(driver, 12)}), flush=True)
        print(json.dumps({"z16_ms": _pan_ms(driver, 16)}), flush=True)
        pick = driver.execute_script(_FIND_LAYER + """
            var t0 = performance.now(); layer.nearest(L.point(400, 300), 6);
            return performance.now() - t0;""")
        print(json.dumps({"pick_ms": float(pick)}), flush=True)


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _rss_gb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1e6


def _browse(path: Path, ours: bool, timeout_s: float, max_gb: float) -> dict:
    """Measure ``path`` in a child process; stop it (and its browser) at the limits."""
    cmd = [sys.executable, __file__, "--measure", str(path), "--timeout", str(timeout_s)]
    if ours:
        cmd.append("--ours")
    out = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - read after the child ends
    child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, start_new_session=True)
    start, peak, stopped = time.monotonic(), 0.0, ""
    while child.poll() is None:
        time.sleep(0.5)
        pids = _tree(child.pid)
        peak = max(peak, _rss_gb(pids[1:]))
        over_time = time.monotonic() - start > timeout_s + 60
        if over_time or peak > max_gb:
            stopped = f">{timeout_s:.0f} s" if over_time else f">{max_gb:.0f} GB"
            for p in reversed(pids):
                with contextlib.suppress(OSError):
                    os.kill(p, signal.SIGKILL)
            child.wait()
    out.seek(0)
    row: dict = {"browser_gb": peak}
    for line in out.read().splitlines():
        with contextlib.suppress(ValueError):
            row.update(json.loads(line))
    if stopped or child.returncode:
        row["stopped"] = stopped or f">{timeout_s:.0f} s"
    return row


def _cell(row: dict, key: str, fmt: str) -> str:
    if key in row:
        return format(row[key], fmt)
    return row.get("stopped", "-") if "stopped" in row else "-"


def _row(r: dict, ours: bool) -> str:
    drawn = _cell(r, "drawn_s", ".2f") if ours else "-"
    z12, z16, pick = (_cell(r, k, f) for k, f in
                      (("z12_ms", ".0f"), ("z16_ms", ".0f"), ("pick_ms", ".1f"))) \
        if ours else ("-", "-", "-")
    return (f"{r['variant']:<26}{r['n']:>10,}{r['write_s']:>9.2f}{r['mb']:>9.1f}"
            f"{_cell(r, 'load_s', '.2f'):>9}{drawn:>9}{z12:>9}{z16:>9}{pick:>9}"
            f"{r.get('browser_gb', 0):>8.1f}{r['loadavg']:>6.1f}")


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds a page may take (load and interactions) before it is "
                             "reported as '>N s'")
    parser.add_argument("--max-browser-gb", type=float, default=4.0,
                        help="resident memory of the browser above which it is stopped")
    parser.add_argument("--variants", nargs="+", default=None,
                        help="names (substrings) of the variants to run")
    parser.add_argument("--naive-all", action="store_true",
                        help="also write the naive CircleMarker map above 50,000 points")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ours", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(args.measure, args.ours, args.timeout)
        return 0
    _, _, reason = find_browser()
    print(f"Briefing maps with n enterprise points (offline, headless Chromium, WebGL on "
          f"SwiftShader; {os.cpu_count()} CPUs, shared: load = 1-minute load average; "
          f"browser GB = peak resident memory of Chromium)\n")
    head = (f"{'variant':<26}{'n':>10}{'write s':>9}{'HTML MB':>9}{'load s':>9}"
            f"{'drawn s':>9}{'pan z12':>9}{'pan z16':>9}{'pick ms':>9}{'GB':>8}{'load':>6}")
    print(head)
    print("-" * len(head), flush=True)
    if reason:
        print(f"browser measurements skipped: {reason}")
    variants = [("cci_geo WebGL", _ours), ("cci_geo canvas (old)", _ours_canvas),
                ("folium FastMarkerCluster", _fast_cluster), ("folium CircleMarker", _naive)]
    if args.variants:
        variants = [v for v in variants if any(s in v[0] for s in args.variants)]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            ent = synthetic_enterprises(n, seed=1)
            for name, build in variants:
                if name == "folium CircleMarker" and n > 50_000 and not args.naive_all:
                    continue
                path = Path(tmp) / f"{name.replace(' ', '_').strip('()')}_{n}.html"
                t = time.perf_counter()
                build(ent, path)
                row = {"variant": name, "n": n, "write_s": time.perf_counter() - t,
                       "mb": path.stat().st_size / 1e6}
                ours = name.startswith("cci_geo")
                if not reason:
                    row.update(_browse(path, ours, args.timeout, args.max_browser_gb))
                row["loadavg"] = os.getloadavg()[0]
                print(_row(row, ours), flush=True)
                path.unlink()
    print("\nTargets for 10^6 points: write <= 3 s, loaded <= 2 s, redraw after a pan <= 50 ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
