"""diagnose(): coverage, redundancy, uncovered concentrations and the district table."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from cci_geo.errors import DataError
from cci_geo.layout import aggregate_demand, diagnose
from cci_geo.results import result_kind


def frame(xy, **cols):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
                            crs="EPSG:32650")


@pytest.fixture
def layout():
    # Two facilities 500 m apart (overlapping) and one far away; demand on a line.
    fac = frame([[0, 0], [500, 0], [20_000, 0]], id=["A", "B", "C"])
    dem = frame([[100, 0], [400, 0], [1_500, 0], [9_000, 0], [9_500, 0], [20_100, 0]],
                id=[f"d{i}" for i in range(6)], jobs=[1, 2, 3, 4, 5, 6],
                district=["x", "x", "x", "y", "y", "z"])
    return fac, dem


def test_coverage_and_redundancy(layout):
    fac, dem = layout
    before = dem.copy()
    diag = diagnose(fac, dem, standard_m=1000, weight="jobs")
    pd.testing.assert_frame_equal(dem, before)
    covered = np.array([1, 1, 1, 0, 0, 1], dtype=bool)  # d2 is 1000 m from B
    assert diag.demand["covered"].to_numpy().tolist() == covered.tolist()
    assert diag.coverage == pytest.approx((1 + 2 + 3 + 6) / 21)
    f = diag.facilities.set_index("id")
    assert f.loc["A", "covered_demand"] == 3 and f.loc["A", "unique_demand"] == 0
    assert f.loc["B", "unique_demand"] == 3
    assert bool(f.loc["A", "redundant"]) and not bool(f.loc["C", "redundant"])
    assert f.loc["A", "nearest_facility_cost"] == pytest.approx(500)
    assert result_kind(diag.demand) == "coverage"
    s = diag.summary()
    assert s["redundant_facilities"] == 1
    assert s["uncovered_weight"] == 9


def test_uncovered_cells_and_districts(layout):
    fac, dem = layout
    diag = diagnose(fac, dem, standard_m=1000, weight="jobs", cell_size_m=2000)
    hot = diag.uncovered
    assert hot.crs == dem.crs
    assert hot["uncovered_weight"].sum() == 9
    assert hot.iloc[0]["uncovered_weight"] == 9  # both uncovered points share one cell
    assert hot.iloc[0].geometry.intersects(dem.geometry.iloc[3])
    t = diag.districts
    assert t.loc["y", "share_covered"] == 0
    assert t.loc["x", "covered"] == 6 and t.loc["z", "uncovered"] == 0
    assert t.index[0] == "y"  # most uncovered first


def test_travel_time_matrix_and_errors(layout):
    fac, dem = layout
    minutes = np.full((6, 3), 30.0)
    minutes[:, 2] = 5.0
    diag = diagnose(fac, dem, standard_m=10, cost=minutes)
    assert diag.coverage == 1.0
    assert diag.facilities["redundant"].sum() == 0
    with pytest.raises(ValueError, match="standard"):
        diagnose(fac, dem, standard_m=0)
    with pytest.raises(DataError, match="empty"):
        diagnose(fac, dem.iloc[:0], standard_m=10)


def test_aggregate_demand_keeps_weight_and_location():
    x0, y0 = 450_000, 4_420_000  # Beijing in UTM 50N, so the degrees lie in the study region
    pts = frame([[x0 + 10, y0 + 10], [x0 + 30, y0 + 10], [x0 + 1500, y0 + 10]], jobs=[1, 3, 5],
                district=["a", "a", "b"])
    pts = pts.to_crs("EPSG:4326")
    agg = aggregate_demand(pts, cell_size_m=1000, weight="jobs")
    assert agg.crs == pts.crs and agg["weight"].sum() == 9
    first = agg.to_crs("EPSG:32650").iloc[0]
    assert first["weight"] == 4 and first.geometry.x == pytest.approx(x0 + 25, abs=0.01)
    assert sorted(agg["district"]) == ["a", "b"]
