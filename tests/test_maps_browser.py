"""Briefing maps in a real headless Chromium with the network off.

Skipped (with the reason) when Chromium, chromedriver or selenium are missing; with
``CCI_GEO_REQUIRE_BROWSER=1`` (CI) they fail instead. A screenshot per test is written to
``$CCI_GEO_ARTIFACTS`` (or a pytest temporary folder, printed in the test output).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from _browser import console_errors, load, offline_chromium, require_browser
from _maps_data import XSS_IMG, XSS_SCRIPT, synthetic_atlas, synthetic_enterprises
from affine import Affine
from shapely.geometry import Point

import cci_geo.maps as cm
from cci_geo.raster import Surface
from cci_geo.results import tag_result

pytestmark = pytest.mark.browser

TOGGLE_JS = """
    document.querySelectorAll('.leaflet-control-layers-overlays label').forEach(l => {
      if (l.textContent.trim() === arguments[0]) { l.querySelector('input').click(); }
    });"""
VISIBLE_LEGENDS_JS = """
    return Array.from(document.querySelectorAll('.cci-legend-section'))
      .filter(e => e.style.display !== 'none')
      .map(e => e.querySelector('.cci-legend-title').textContent);"""


@pytest.fixture(scope="module")
def driver():
    chromium, chromedriver = require_browser()
    with offline_chromium(chromium, chromedriver) as drv:
        yield drv


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    env = os.environ.get("CCI_GEO_ARTIFACTS")
    path = Path(env) if env else tmp_path_factory.mktemp("map_screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _shot(driver, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")  # noqa: T201 - shown with -s / in the test report
    assert path.stat().st_size > 10_000
    return path


def _density() -> Surface:
    x = np.linspace(-3, 3, 120)
    data = np.exp(-(x[None, :] ** 2 + x[:, None] ** 2)) * 800.0
    s = Surface(data, Affine(150.0, 0, 445_000, 0, -150.0, 4_425_000), "EPSG:32650",
                units="enterprises per km²", name="density")
    tag_result(s, "kernel_density")
    return s


def _hot_spots(atlas):
    g = atlas.layers["districts"][["id", "geometry"]].copy()
    g["gi_z"] = np.linspace(-3, 3, len(g))
    g["gi_class"] = ["Cold Spot - 99% Confidence"] + ["Not Significant"] * (len(g) - 2) + \
        ["Hot Spot - 99% Confidence"]
    tag_result(g, "hot_spots")
    return g


@pytest.fixture(scope="module")
def briefing_file(tmp_path_factory):
    atlas = synthetic_atlas(3000)
    atlas.provenance["zones"]["source"] = XSS_SCRIPT
    m = cm.briefing_map(atlas, _density(), _hot_spots(atlas), lang="en")
    return cm.save_html(m, tmp_path_factory.mktemp("briefing") / "briefing.html")


def test_briefing_loads_offline_with_layers_and_legends(driver, briefing_file, artifacts):
    seconds = load(driver, briefing_file)
    time.sleep(0.5)
    assert console_errors(driver) == []
    assert driver.execute_script("return typeof L === 'object' && L.version") == "1.9.3"
    names = driver.execute_script(
        "return Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label')).map(e => e.textContent.trim());")
    for expected in ("Districts", "Enterprise density", "Hot spots (Gi*)", "Creative enterprises",
                     "Old factory sites", "CCI parks and bases", "Jing-Jin-Ji corridors"):
        assert expected in names
    legends = driver.execute_script(VISIBLE_LEGENDS_JS)
    assert "Enterprise density" in legends and "CCI parks and bases" in legends
    assert "Hot spots (Gi*)" in legends
    # atlas point layers start off (the first view stays readable), and so do their legends
    assert "Creative enterprises" not in legends
    assert driver.execute_script(
        "return document.querySelectorAll('canvas.cci-gl-points').length") == 0
    for name in ("Hot spots (Gi*)", "Creative enterprises"):
        driver.execute_script(TOGGLE_JS, name)
    time.sleep(0.3)
    legends = driver.execute_script(VISIBLE_LEGENDS_JS)
    assert "Hot spots (Gi*)" not in legends and "Creative enterprises" in legends
    checks = driver.execute_script("""
        var img = document.querySelector('.leaflet-image-layer');
        return {raster: img ? img.naturalWidth : 0,
                paths: document.querySelectorAll('path.leaflet-interactive').length,
                canvas: document.querySelectorAll('canvas.cci-gl-points').length,
                scale: document.querySelector('.leaflet-control-scale-line').textContent,
                minimap: document.querySelectorAll('.leaflet-control-minimap').length,
                fullscreen: document.querySelectorAll('.leaflet-control-zoom-fullscreen').length,
                measure: document.querySelectorAll('.leaflet-control-measure').length,
                attribution: document.querySelector('.leaflet-control-attribution').textContent};
    """)
    assert checks["raster"] > 10 and checks["paths"] > 20 and checks["canvas"] == 1
    assert checks["scale"].endswith("km") or checks["scale"].endswith("m")
    assert checks["minimap"] == checks["fullscreen"] == checks["measure"] == 1
    assert "SYNTHETIC data: Creative enterprises" in checks["attribution"]
    _shot(driver, artifacts, "briefing_offline")
    assert seconds < 60


def test_injected_markup_shows_as_text_and_never_runs(driver, briefing_file, artifacts):
    from selenium.common.exceptions import NoAlertPresentException

    load(driver, briefing_file)
    shown = driver.execute_script("""
        var map = Object.values(window).find(v => v instanceof L.Map), texts = [];
        map.eachLayer(function (layer) {
          var p = layer.feature && layer.feature.properties;
          if (p && (p._name || '').indexOf('<') >= 0) {
            layer.openTooltip && layer.openTooltip(layer.getBounds ? layer.getBounds().getCenter()
                                                    : layer.getLatLng());
            layer.openPopup();
            var pop = layer.getPopup().getElement().querySelector('.cci-popup-title');
            texts.push(pop ? pop.textContent : null);
          }
        });
        var tip = document.querySelector('.leaflet-tooltip');
        document.querySelector('.cci-sources-button').click();
        return {texts: texts, tip: tip ? tip.textContent : null,
                sources: document.querySelector('.cci-sources-panel').textContent};
    """)
    assert XSS_IMG in shown["texts"] and XSS_SCRIPT in shown["texts"]
    assert XSS_SCRIPT in shown["sources"]
    state = driver.execute_script("""return {pwned: window.__pwned === undefined ? null : 1,
        imgs: document.querySelectorAll('img[src="x"]').length,
        scripts: Array.from(document.scripts)
                   .filter(s => s.text.indexOf('__pwned=1') === 0).length};""")
    assert state == {"pwned": None, "imgs": 0, "scripts": 0}
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - raises when no alert() ran
    assert console_errors(driver) == []
    _shot(driver, artifacts, "injection_inert")


POINTS_LAYER_JS = """
    var map = Object.values(window).find(v => v instanceof L.Map), layer = null;
    map.eachLayer(l => { if (l.isCciPoints) layer = l; });"""


def _wait_drawn(driver, which: str = "layer", timeout_s: float = 30.0) -> float:
    """Wait until the points layer (or the JS expression ``which``) has drawn its points
    (decoding is asynchronous) and the page's first zoom (an animated fitBounds, which would
    undo a setView made meanwhile) has ended; return the time of the first draw since
    navigation (ms)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        at = driver.execute_script(POINTS_LAYER_JS + f"""
            var l = {which}; return !map._animatingZoom && l && l._firstDrawAt;""")
        if at:
            return float(at)
        time.sleep(0.05)
    msg = f"{which} never drew its points"
    raise TimeoutError(msg)


def _colourful_pixels(path: Path) -> int:
    """Pixels of the screenshot's map area (legend and controls left out) that are strongly
    coloured (the sector colours; basemap-free pages are grey/white elsewhere)."""
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    area = rgb[120:-60, 200:-250]
    return int(((area.max(axis=2) - area.min(axis=2)) > 80).sum())


def _click_point(driver, lat: float, lon: float) -> str | None:
    """Centre the map on (lat, lon) at zoom 16 and click there with the mouse."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    driver.execute_script(POINTS_LAYER_JS + f"""
        map.setView([{lat}, {lon}], 16, {{animate: false}});
        map.closePopup();""")
    time.sleep(0.3)
    box = driver.find_element(By.CSS_SELECTOR, ".leaflet-container")
    x, y = driver.execute_script(POINTS_LAYER_JS + f"""
        var pt = map.latLngToContainerPoint([{lat}, {lon}]);
        var size = map.getSize();
        return [pt.x - size.x / 2, pt.y - size.y / 2];""")
    ActionChains(driver).move_to_element_with_offset(box, round(x), round(y)).click().perform()
    time.sleep(0.5)  # let the popup fade in
    return driver.execute_script(
        "var box = document.querySelector('.leaflet-popup-content');"
        "return box ? box.textContent : null;")


@pytest.fixture(scope="module")
def points_file(tmp_path_factory):
    ent = synthetic_enterprises(20_000, seed=11)
    ent.loc[0, "name_zh"] = XSS_IMG
    ent.loc[1, ["name_zh", "employees", "founded"]] = ["孤立企业", 4242, 1999]
    ent.loc[1, "geometry"] = Point(116.62, 40.12)  # far from every other point
    m = cm.briefing_map({"enterprises": ent}, lang="zh", show={"enterprises"})
    return ent, cm.save_html(m, tmp_path_factory.mktemp("points") / "points.html")


def test_webgl_points_draw_and_a_click_opens_the_nearest_points_popup(driver, points_file,
                                                                       artifacts):
    ent, path = points_file
    load_s = load(driver, path)
    first_draw_ms = _wait_drawn(driver)
    assert first_draw_ms > 0 and load_s > 0
    assert driver.execute_script(POINTS_LAYER_JS + "return layer instanceof cciGeo.GLPoints;")
    lon, lat = ent.geometry.x.iloc[1], ent.geometry.y.iloc[1]
    popup = _click_point(driver, lat, lon)
    assert popup is not None and "孤立企业" in popup
    assert "4,242" in popup and "1999" in popup and "1,999" not in popup
    assert "行业" in popup and "从业人员" in popup and "成立年份" in popup
    _shot(driver, artifacts, "webgl_point_popup")
    lon, lat = ent.geometry.x.iloc[0], ent.geometry.y.iloc[0]
    popup = _click_point(driver, lat, lon)
    assert popup is not None and XSS_IMG in popup  # markup in a name is shown as text
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    # the points are on the screen: coloured pixels appear with the layer and go without it
    driver.execute_script(POINTS_LAYER_JS + """
        map.closePopup(); map.setView([39.94, 116.40], 13, {animate: false});""")
    time.sleep(0.3)
    with_points = _colourful_pixels(_shot(driver, artifacts, "webgl_points"))
    assert driver.execute_script(POINTS_LAYER_JS + "return layer._mode;") == "points"
    driver.execute_script(POINTS_LAYER_JS + "map.removeLayer(layer);")
    time.sleep(0.3)
    without = _colourful_pixels(_shot(driver, artifacts, "webgl_points_removed"))
    assert with_points > 20_000 and without < 2_000
    assert console_errors(driver) == []


def test_a_click_opens_the_popup_of_the_point_under_it(driver, points_file):
    """For sampled points: a click at the point's position opens that point's popup, and the
    name, sector and employees shown are the frame's (the nearest point is the point itself,
    as the sample keeps points at least 12 pixels from any other at zoom 18)."""
    ent, path = points_file
    load(driver, path)
    _wait_drawn(driver)
    from scipy.spatial import cKDTree

    from cci_geo.maps.labels import sector_label

    xy = np.column_stack([ent.geometry.x * 85_000, ent.geometry.y * 111_000])  # ~metres
    dist, _ = cKDTree(xy).query(xy, k=2)
    alone = np.flatnonzero(dist[:, 1] > 12 * 0.6)[:6]  # 0.6 m per pixel at zoom 18
    for i in alone:
        row = ent.iloc[i]
        text = driver.execute_async_script(POINTS_LAYER_JS + f"""
            var done = arguments[arguments.length - 1];
            map.closePopup(); map.setView([{row.geometry.y}, {row.geometry.x}], 18,
                                          {{animate: false}});
            var p = map.latLngToContainerPoint([{row.geometry.y}, {row.geometry.x}]);
            layer.openPopupAt(p).then(function (hit) {{
              var box = layer._map._popup && layer._map._popup._contentNode;  // the new one
              done(hit && box ? box.textContent : null);
            }});""")
        assert text is not None
        assert str(row["name_zh"]) in text
        assert sector_label(row["sector"], "zh") in text
        assert f"{int(row['employees']):,}" in text


def test_a_pan_redraws_the_points_in_view(driver, points_file, artifacts):
    _, path = points_file
    load(driver, path)
    _wait_drawn(driver)
    before = driver.execute_script(POINTS_LAYER_JS + """
        map.setView([39.90, 116.40], 16, {animate: false});
        return [layer._mode, layer._drawCalls];""")
    assert before[0] == "points" and 1 <= before[1] <= 16  # a few runs, not a call per point
    first = _colourful_pixels(_shot(driver, artifacts, "webgl_pan_before"))
    # in the same task as the pan's redraw (the drawing buffer is not kept after compositing):
    # the pixel under each point in view is coloured
    after = driver.execute_script(POINTS_LAYER_JS + """
        var buf = layer._posBuf;
        map.panBy([300, 200], {animate: false});
        var d = layer._d, size = map.getSize(), hit = 0, tried = 0, gl = layer._gl;
        var px = new Uint8Array(4), k = Math.pow(2, map.getZoom() - d.uz);
        var origin = map.getPixelBounds().min;
        for (var i = 0; i < d.n && tried < 50; i += 3) {
          var x = Math.round(d.ix[i] * k - origin.x), y = Math.round(d.iy[i] * k - origin.y);
          if (x < 5 || y < 5 || x > size.x - 5 || y > size.y - 5) { continue; }
          tried++;
          gl.readPixels(x, gl.drawingBufferHeight - 1 - y, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
          if (px[3] > 0) { hit++; }
        }
        return [layer._mode, layer._posBuf === buf, hit, tried];""")
    assert after[0] == "points" and after[1]  # the same GPU buffer: only the transform moved
    hits = after[2:]
    second = _colourful_pixels(_shot(driver, artifacts, "webgl_pan_after"))
    assert first > 5_000 and second > 5_000
    assert hits[1] == 50 and hits[0] == hits[1]
    assert console_errors(driver) == []


def _cells_layer(driver, max_points: int = 1000, webgl: bool = True) -> None:
    driver.execute_script(POINTS_LAYER_JS + f"""
        window.__cells = cciGeo.glPoints(layer._meta, layer._blobs,
                                         {{maxPoints: {max_points}, radius: 2.5,
                                           webgl: {str(webgl).lower()}}});
        map.removeLayer(layer); window.__cells.addTo(map);""")
    _wait_drawn(driver, "window.__cells")


def test_many_points_in_view_are_drawn_as_cells_with_counts(driver, points_file, artifacts):
    from pyproj import Transformer

    from cci_geo.maps.labels import sector_label

    ent, path = points_file
    load(driver, path)
    _wait_drawn(driver)
    _cells_layer(driver)
    info = driver.execute_script("""
        var cells = window.__cells, map = cells._map;
        map.setView([39.94, 116.40], 11, {animate: false});
        var agg = cells._cells(), best = 0, total = 0;
        for (var c = 0; c < agg.m; c++) {
          total += agg.count[c];
          if (agg.count[c] > agg.count[best]) { best = c; }
        }
        var p = cells.cellCentre(best);
        map.fire("click", {containerPoint: p, latlng: map.containerPointToLatLng(p)});
        var box = document.querySelector('.leaflet-popup-content');
        return {mode: cells._mode, shift: agg.shift, cx: agg.cx[best], cy: agg.cy[best],
                count: agg.count[best], total: total, uz: cells._d.uz,
                popup: box ? box.textContent : null,
                rows: Array.from(box.querySelectorAll('tr')).map(
                  tr => [tr.cells[0].textContent, tr.cells[1].textContent])};""")
    assert info["mode"] == "cells"
    assert info["total"] == len(ent)  # every point is in exactly one cell
    # the clicked cell's counts, computed here from the coordinates (pyproj's Web Mercator)
    mx, my = Transformer.from_crs(4326, 3857, always_xy=True).transform(
        ent.geometry.x.to_numpy(), ent.geometry.y.to_numpy())
    half, world = np.pi * 6378137.0, 2.0 ** (8 + info["uz"])
    ux = np.rint((mx + half) / (2 * half) * world).astype(np.int64) >> info["shift"]
    uy = np.rint((half - my) / (2 * half) * world).astype(np.int64) >> info["shift"]
    inside = ent[(ux == info["cx"]) & (uy == info["cy"])]
    assert len(inside) == info["count"] > 10
    assert info["popup"] is not None and f"n = {info['count']:,}" in info["popup"]
    expected = {sector_label(s, "zh"): f"{n:,}" for s, n in inside["sector"].value_counts().items()}
    assert dict(info["rows"]) == expected
    time.sleep(0.3)
    assert _colourful_pixels(_shot(driver, artifacts, "webgl_cells")) > 5_000
    # zoomed in far enough, the same layer draws single points again
    mode = driver.execute_script("""
        var cells = window.__cells; cells._map.closePopup();
        cells._map.setView([40.12, 116.62], 15, {animate: false}); return cells._mode;""")
    assert mode == "points"
    assert console_errors(driver) == []


def test_the_pako_path_decodes_the_same_points(driver, points_file):
    """Browsers without DecompressionStream or Uint8Array.fromBase64 decode with atob and
    pako: the same coordinates, categories and popup columns."""
    _, path = points_file
    load(driver, path)
    _wait_drawn(driver)
    same = driver.execute_async_script(POINTS_LAYER_JS + """
        var done = arguments[arguments.length - 1];
        function sums(d) {
          var s = [0, 0, 0];
          for (var i = 0; i < d.n; i++) {
            s[0] += d.ix[i] * (i % 7 + 1); s[1] += d.iy[i] * (i % 5 + 1); s[2] += d.cat[i] * i;
          }
          return s.join(",");
        }
        var native = sums(layer._d);
        cciGeo.nativeDecode = false;
        var slow = cciGeo.glPoints(layer._meta, layer._blobs, {});
        slow.whenDecoded().then(function (d) {
          cciGeo.nativeDecode = true;
          done([native, sums(d), d.n]);
        });""")
    assert same[0] == same[1] and same[2] == 20_000


def test_without_webgl_the_canvas_layer_draws_the_same_points(driver, points_file, artifacts):
    ent, path = points_file
    load(driver, path)
    _wait_drawn(driver)
    _cells_layer(driver, webgl=False)
    assert driver.execute_script("return window.__cells instanceof cciGeo.DecodedCanvasPoints;")
    lon, lat = ent.geometry.x.iloc[1], ent.geometry.y.iloc[1]
    popup = _click_point(driver, lat, lon)
    assert popup is not None and "孤立企业" in popup and "4,242" in popup
    painted = driver.execute_script("""
        var c = document.querySelector('canvas.cci-canvas-points');
        var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;
        for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
        return n;""")
    assert painted > 100
    _shot(driver, artifacts, "canvas_points_popup")
    # zoomed out, the canvas layer draws the same count cells as the WebGL layer
    info = driver.execute_script("""
        var cells = window.__cells, map = cells._map;
        map.closePopup(); map.setView([39.94, 116.40], 11, {animate: false});
        var agg = cells._cells(), best = 0;
        for (var c = 0; c < agg.m; c++) { if (agg.count[c] > agg.count[best]) { best = c; } }
        var p = cells.cellCentre(best);
        map.fire("click", {containerPoint: p, latlng: map.containerPointToLatLng(p)});
        var box = map._popup && map._popup._contentNode;
        return {mode: cells._mode, count: agg.count[best], popup: box ? box.textContent : null};""")
    assert info["mode"] == "cells" and info["count"] > 10
    assert info["popup"] is not None and f"n = {info['count']:,}" in info["popup"]
    time.sleep(0.3)
    assert _colourful_pixels(_shot(driver, artifacts, "canvas_cells")) > 5_000
    assert console_errors(driver) == []


def test_layers_added_to_a_briefing_map_toggle_without_errors(driver, tmp_path, artifacts):
    import folium

    atlas = synthetic_atlas(300)
    m = cm.briefing_map({"districts": atlas.layers["districts"]}, lang="en")
    cm.add_to_map(m, atlas.layers["zones"], kind="zones", lang="en")
    folium.GeoJson(atlas.layers["nodes"].__geo_interface__, name="Nodes (folium)").add_to(m)
    path = cm.save_html(m, tmp_path / "added.html")
    load(driver, path)
    time.sleep(0.3)
    assert console_errors(driver) == []
    names = driver.execute_script(
        "return Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label')).map(e => e.textContent.trim());")
    assert names == ["Districts", "CCI parks and bases", "Nodes (folium)"]
    assert "CCI parks and bases" in driver.execute_script(VISIBLE_LEGENDS_JS)
    driver.execute_script(TOGGLE_JS, "CCI parks and bases")
    time.sleep(0.2)
    assert "CCI parks and bases" not in driver.execute_script(VISIBLE_LEGENDS_JS)
    driver.execute_script(TOGGLE_JS, "CCI parks and bases")
    time.sleep(0.2)
    assert "CCI parks and bases" in driver.execute_script(VISIBLE_LEGENDS_JS)
    assert console_errors(driver) == []
    _shot(driver, artifacts, "added_layers")


def test_long_layer_lists_are_grouped_and_folded(driver, tmp_path, artifacts):
    atlas = synthetic_atlas(300)
    lq = atlas.layers["districts"][["id", "geometry"]].copy()
    for k, code in enumerate(("design", "media", "film_tv")):
        lq[f"lq_{code}"] = np.linspace(0.5, 2.5, len(lq))[::1 if k % 2 else -1]
    tag_result(lq, "location_quotient")
    m = cm.briefing_map(atlas, lq, lang="en", show={"districts", "zones"})
    path = cm.save_html(m, tmp_path / "grouped.html")
    load(driver, path)
    time.sleep(0.3)
    assert console_errors(driver) == []
    groups_js = """
        return Array.from(document.querySelectorAll('.cci-layer-group')).map(d => ({
          name: d.querySelector('summary span').textContent, open: d.open,
          count: d.querySelector('.cci-layer-group-count').textContent.trim(),
          layers: Array.from(d.querySelectorAll('label')).map(l => l.textContent.trim())}));"""
    groups = driver.execute_script(groups_js)
    assert [g["name"] for g in groups] == ["Atlas layers", "Location quotient by sector"]
    atlas_group, lq_group = groups
    assert atlas_group["open"] and atlas_group["count"].startswith("2/")
    assert "Districts" in atlas_group["layers"]
    assert not lq_group["open"] and lq_group["count"] == "0/3"
    assert len(lq_group["layers"]) == 3
    # every overlay sits in a group, none is lost or listed twice
    labels = driver.execute_script(
        "return document.querySelectorAll('.leaflet-control-layers-overlays label').length")
    assert labels == len(atlas_group["layers"]) + 3
    # open the folded group; a layer switched on inside it stays grouped after Leaflet
    # rebuilds the list, and the exclusive classed fills keep one sector on
    driver.execute_script("document.querySelectorAll('.cci-layer-group summary')[1].click();")
    first, second = lq_group["layers"][:2]
    driver.execute_script(TOGGLE_JS, first)
    time.sleep(0.3)
    driver.execute_script(TOGGLE_JS, second)
    time.sleep(0.3)
    groups = driver.execute_script(groups_js)
    assert groups[1]["open"] and groups[1]["count"] == "1/3"
    legends = driver.execute_script(VISIBLE_LEGENDS_JS)
    assert second in legends and first not in legends
    assert console_errors(driver) == []
    _shot(driver, artifacts, "grouped_layer_control")
