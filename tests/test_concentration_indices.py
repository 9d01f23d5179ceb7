"""Location quotients, Krugman, HHI and Ellison–Glaeser against hand computations."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from cci_geo.concentration import location_quotient, sector_concentration
from cci_geo.errors import CRSMismatchError, DataError
from cci_geo.results import result_kind


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["A", "B", "C"]},
                            geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)],
                            crs="EPSG:32650")


@pytest.fixture
def firms() -> gpd.GeoDataFrame:
    # A: 3 design, 1 media; B: 1 design, 3 media; C: 2 media; one firm outside every area
    xs = [1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 50]
    sectors = ["design"] * 3 + ["media", "design"] + ["media"] * 3 + ["media", "media", "design"]
    emp = [10, 10, 10, 5, 2, 1, 1, 1, 4, 4, 99]
    return gpd.GeoDataFrame({"sector": sectors, "employees": emp},
                            geometry=gpd.points_from_xy(xs, [5] * len(xs)), crs="EPSG:32650")


def test_location_quotient_and_krugman_by_hand(firms, areas):
    out = location_quotient(firms, areas)
    # region: 4 design, 6 media of 10; A: 3/4 design -> LQ 0.75/0.4
    np.testing.assert_allclose(out["lq_design"], [0.75 / 0.4, 0.25 / 0.4, 0.0])
    np.testing.assert_allclose(out["lq_media"], [0.25 / 0.6, 0.75 / 0.6, 1 / 0.6])
    np.testing.assert_allclose(out["krugman"], [0.7, 0.3, 0.8])
    np.testing.assert_allclose(out["total"], [4, 4, 2])
    assert result_kind(out) == "location_quotient"
    assert "lq_design" not in areas.columns


def test_location_quotient_with_value_column(firms, areas):
    out = location_quotient(firms, areas, weight="employees")
    design = np.array([30, 2, 0.0])
    total = np.array([35, 5, 8.0])
    np.testing.assert_allclose(out["lq_design"], design / total / (32 / 48))


def test_sector_concentration_formulas(firms, areas):
    res = sector_concentration(firms, areas, weight="employees")
    x = np.array([35, 5, 8]) / 48
    s = np.array([30, 2, 0]) / 32
    h = (10**2 * 3 + 2**2) / 32**2
    g = ((s - x) ** 2).sum()
    eg = (g - (1 - (x**2).sum()) * h) / ((1 - (x**2).sum()) * (1 - h))
    row = res.loc["design"]
    assert row["n"] == 4 and row["total"] == 32
    assert row["hhi"] == pytest.approx((s**2).sum())
    assert row["plant_h"] == pytest.approx(h)
    assert row["g"] == pytest.approx(g)
    assert row["eg"] == pytest.approx(eg)
    counts = sector_concentration(firms, areas)
    assert counts.loc["media", "plant_h"] == pytest.approx(1 / 6)


def test_eg_near_zero_for_random_location():
    rng = np.random.default_rng(2)
    cells = [box(i, j, i + 1, j + 1) for i in range(5) for j in range(4)]
    areas = gpd.GeoDataFrame(geometry=cells, crs="EPSG:32650")
    n = 20000
    xy = rng.uniform(0, [5, 4], (n, 2))
    firms = gpd.GeoDataFrame({"sector": rng.choice(["a", "b"], n)},
                             geometry=gpd.points_from_xy(*xy.T), crs="EPSG:32650")
    res = sector_concentration(firms, areas)
    assert (res["eg"].abs() < 0.005).all()


def test_indices_errors(firms, areas):
    with pytest.raises(CRSMismatchError, match="EPSG:4326"):
        location_quotient(firms.to_crs("EPSG:4326"), areas)
    with pytest.raises(DataError, match="at least 2 areas"):
        location_quotient(firms, areas.iloc[:1])
    bad = firms.copy()
    bad["employees"] = bad["employees"].astype(float)
    bad.loc[2, "employees"] = np.nan
    with pytest.raises(DataError, match=r"rows \[2\]"):
        location_quotient(bad, areas, weight="employees")
    with pytest.raises(DataError, match="lacks column"):
        location_quotient(firms.drop(columns="sector"), areas)
    far = firms.assign(geometry=firms.translate(1000, 1000))
    with pytest.raises(DataError, match="no enterprise"):
        location_quotient(far, areas)
    assert isinstance(sector_concentration(firms, areas), pd.DataFrame)
