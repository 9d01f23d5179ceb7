"""The what-if suitability map: weights moved in an offline browser re-rank the sites exactly
as cci_geo.suitability.score ranks them with those weights."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from _browser import console_errors, load

import cci_geo
from cci_geo import suitability as su
from cci_geo.maps.whatif import save_whatif_html, whatif_data

pytestmark = pytest.mark.browser

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "old_factory_reuse.toml"


def _scenario(weights=None):
    """The demo scenario on a 1 km grid (site values at points do not depend on the grid)."""
    data = tomllib.loads(re.sub(r"(?m)^cell_size_m = 100\b", "cell_size_m = 1000",
                                SCENARIO.read_text(encoding="utf-8")))
    for c in data["criteria"]:
        if weights is not None:
            c["weight"] = weights[c["name"]]
    return data


@pytest.fixture(scope="module")
def atlas():
    return cci_geo.load_demo()


@pytest.fixture(scope="module")
def result(atlas):
    return su.score(_scenario(), atlas=atlas, sensitivity=False)


@pytest.fixture(scope="module")
def driver(offline_driver):
    return offline_driver


@pytest.fixture(scope="module")
def page(result, atlas, tmp_path_factory):
    out = tmp_path_factory.mktemp("whatif") / "whatif.html"
    return save_whatif_html(result, out, {"districts": atlas["districts"]}, lang="zh")


def _python_ranking(res):
    t = res.ranking()
    return t.loc[t["rank"].notna(), "id"].astype(str).tolist()


def test_page_carries_every_site_and_criterion(result):
    data = whatif_data(result, lang="zh")
    assert [c["name"] for c in data["criteria"]] == list(result.criteria_table.index)
    assert len(data["sites"]) == len(result.sites)
    assert all(len(s["values"]) == len(data["criteria"]) for s in data["sites"])
    assert all(not re.fullmatch(r"SF\d+", s["name"]) for s in data["sites"])  # names, not ids


def test_browser_ranking_equals_python_for_other_weights(driver, page, atlas, result, tmp_path):
    load(driver, page)
    assert not console_errors(driver)
    names = list(result.criteria_table.index)
    # the scenario's own weights first
    assert driver.execute_script("return cciWhatIf.ranking()") == _python_ranking(result)
    # then weights a planner might try: equal, and one criterion dominant
    trials = [dict.fromkeys(names, 1.0),
              {n: (0.7 if i == 2 else 0.04) for i, n in enumerate(names)}]  # sum != 1
    for weights in trials:
        driver.execute_script("cciWhatIf.setWeights(arguments[0])", weights)
        browser = driver.execute_script("return cciWhatIf.ranking()")
        with pytest.warns(UserWarning, match="normalised"):  # they do not sum to 1
            python = _python_ranking(su.score(_scenario(weights), atlas=atlas,
                                              sensitivity=False))
        assert browser == python
    assert browser != _python_ranking(result)  # the weights did change the order


def test_typing_a_weight_updates_the_panel_and_reset_restores(driver, page, result):
    from selenium.webdriver.common.by import By

    load(driver, page)
    first = driver.execute_script("return cciWhatIf.ranking()")
    top = [li.text for li in driver.find_elements(By.CSS_SELECTOR, ".cci-whatif-ranking li")]
    assert len(top) == 10 and "候选厂址" in top[0]
    field = driver.find_element(By.CSS_SELECTOR, "input[data-criterion='heritage']")
    field.clear()
    field.send_keys("90")
    shares = driver.find_element(By.CSS_SELECTOR, ".cci-whatif-weights").text
    assert "当前权重" in shares and "工业遗产" in shares
    w = driver.execute_script("return cciWhatIf.weights()")
    assert w["heritage"] == pytest.approx(0.9 / (0.9 + 0.9))  # the others sum to 0.9
    assert driver.execute_script("return cciWhatIf.ranking()") != first
    moved = [li.text for li in driver.find_elements(By.CSS_SELECTOR, ".cci-whatif-ranking li")]
    assert any("▲" in t or "▼" in t for t in moved)
    driver.find_element(By.CSS_SELECTOR, ".cci-whatif-reset").click()
    assert driver.execute_script("return cciWhatIf.ranking()") == first
    assert driver.execute_script("return cciWhatIf.weights()")["heritage"] == pytest.approx(0.1)
    if os.environ.get("CCI_GEO_ARTIFACTS"):
        driver.save_screenshot(str(Path(os.environ["CCI_GEO_ARTIFACTS"]) / "whatif_zh.png"))
    assert not console_errors(driver)
