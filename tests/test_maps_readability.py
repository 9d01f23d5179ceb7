"""Maps that read well, in a real offline Chromium: a click on a point opens the point's popup
even over a district, classed fills are shown one at a time, crowded markers are decluttered."""

from __future__ import annotations

import time

import pytest
from _browser import console_errors, load

import cci_geo
import cci_geo.maps as cm
from cci_geo import concentration as cc

pytestmark = pytest.mark.browser

MAP = "var map = Object.values(window).find(v => v instanceof L.Map);"
TOGGLE_JS = """
    document.querySelectorAll('.leaflet-control-layers-overlays label').forEach(l => {
      if (l.textContent.trim() === arguments[0]) { l.querySelector('input').click(); }
    });"""


@pytest.fixture(scope="module")
def driver(offline_driver):
    return offline_driver


@pytest.fixture(scope="module")
def atlas():
    return cci_geo.load_demo()


def _click_at(driver, lat, lon):
    """A real mouse click on the map pixel of (lat, lon); returns the popup text or None."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    x, y = driver.execute_script(MAP + f"""
        var p = map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y];""")
    box = driver.find_element(By.CSS_SELECTOR, ".folium-map")
    size = box.size
    ActionChains(driver).move_to_element_with_offset(
        box, int(x - size["width"] / 2), int(y - size["height"] / 2)).click().perform()
    return driver.execute_script(
        "var b = document.querySelector('.leaflet-popup-content'); return b && b.textContent;")


def test_a_click_on_a_point_over_a_district_opens_the_point(driver, atlas, tmp_path):
    layers = {k: atlas[k] for k in ("districts", "zones", "enterprises")}
    path = cm.save_html(cm.briefing_map(layers, lang="zh"), tmp_path / "z.html")
    load(driver, path)
    driver.execute_script(TOGGLE_JS, cm.label("enterprises", "zh"))
    time.sleep(0.3)
    # an enterprise (drawn on the canvas) inside a district, away from park markers
    firms = atlas["enterprises"]
    parks = atlas["zones"].to_crs(32650).geometry.union_all()
    far = (firms.to_crs(32650).geometry.distance(parks) > 800).to_numpy()
    ent = firms[far].iloc[0]
    driver.execute_script(MAP + f"map.setView([{ent.geometry.y}, {ent.geometry.x}], 17, "
                                "{animate: false}); map.fire('moveend');")
    text = _click_at(driver, ent.geometry.y, ent.geometry.x)
    assert text is not None and "行业" in text and "从业人员" in text  # the firm's popup
    assert "行政区划代码" not in text  # not the district's
    # a park marker (vector point) over the district
    zone = atlas["zones"].iloc[0]
    driver.execute_script(MAP + "map.closePopup();")
    driver.execute_script(TOGGLE_JS, cm.label("enterprises", "zh"))  # enterprises off
    driver.execute_script(MAP + f"map.setView([{zone.geometry.y}, {zone.geometry.x}], 15, "
                                "{animate: false});")
    text = _click_at(driver, zone.geometry.y, zone.geometry.x)
    assert text is not None and zone["name_zh"] in text
    assert console_errors(driver) == []


def test_classed_fills_are_shown_one_at_a_time(driver, atlas, tmp_path):
    d = atlas["districts"]
    bj = d[d["adcode"].astype(str).str.startswith("11")]
    lq = cc.location_quotient(atlas["enterprises"], bj)
    path = cm.save_html(cm.briefing_map({"districts": d}, lq, lang="en"), tmp_path / "lq.html")
    load(driver, path)
    names = [n for n in driver.execute_script("""
        return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
          .map(l => l.textContent.trim());""") if n.startswith("Location quotient")]
    assert len(names) >= 3

    def checked():
        return driver.execute_script("""
            return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
              .filter(l => l.textContent.trim().startsWith('Location quotient')
                      && l.querySelector('input').checked).map(l => l.textContent.trim());""")

    assert len(checked()) <= 1  # never two at first
    for name in names[1:4]:
        driver.execute_script(TOGGLE_JS, name)
        time.sleep(0.1)
        assert checked() == [name]  # switching one on switched the other off
    assert console_errors(driver) == []


def test_crowded_markers_are_decluttered_at_low_zoom(driver, atlas, tmp_path):
    layers = {k: atlas[k] for k in ("districts", "factory_sites")}
    path = cm.save_html(cm.briefing_map(layers, lang="zh"), tmp_path / "d.html")
    load(driver, path)
    driver.execute_script(TOGGLE_JS, cm.label("factory_sites", "zh"))
    time.sleep(0.3)
    hidden = {}
    for zoom in (9, 16):
        driver.execute_script(MAP + f"map.setView([39.93, 116.45], {zoom}, {{animate: false}});"
                                    "map.fire('zoomend');")
        hidden[zoom] = driver.execute_script("""
            return Array.from(document.querySelectorAll('.leaflet-cciPoints-pane path'))
              .filter(p => p.style.display === 'none').length;""")
    assert hidden[9] > 0, hidden  # overlapping sites hidden on the city view
    assert hidden[16] < hidden[9]  # and shown again when zoomed in
    assert console_errors(driver) == []
