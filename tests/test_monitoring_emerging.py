"""Space-time cube, space-time Gi*, Mann-Kendall and the emerging hot spot categories."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from cci_geo._weights import GRID_ATTR, grid_weights
from cci_geo.errors import ParameterError
from cci_geo.monitoring import (
    CATEGORIES,
    SpaceTimeCube,
    classify,
    emerging_hot_spots,
    mann_kendall,
    operating,
    space_time_cube,
    space_time_gi,
)
from cci_geo.results import result_kind

pymannkendall = pytest.importorskip("pymannkendall")
esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")

CODE = {label: code for code, (label, _) in CATEGORIES.items()}


def _grid_cube(values: np.ndarray, rows: int, cols: int) -> SpaceTimeCube:
    r, c = np.divmod(np.arange(rows * cols), cols)
    cells = gpd.GeoDataFrame({"id": [f"r{a}c{b}" for a, b in zip(r, c, strict=True)],
                              "row": r, "col": c})
    cells.attrs[GRID_ATTR] = {"rows": rows, "cols": cols}
    return SpaceTimeCube(cells, np.arange(2010, 2010 + values.shape[1]), values, "count")


# -- Mann-Kendall ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_mann_kendall_equals_pymannkendall(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 30))
    x = rng.normal(size=n).cumsum()
    if seed % 2:  # ties
        x = np.round(x)
    ours = mann_kendall(x)
    ref = pymannkendall.original_test(x)
    assert ours.s[0] == pytest.approx(ref.s)
    assert ours.var_s[0] == pytest.approx(ref.var_s)
    assert ours.z[0] == pytest.approx(ref.z)
    assert ours.p[0] == pytest.approx(ref.p)
    assert ours.tau[0] == pytest.approx(ref.Tau)
    assert ours.slope[0] == pytest.approx(ref.slope)


def test_mann_kendall_is_vectorised_over_rows() -> None:
    rng = np.random.default_rng(3)
    X = np.round(rng.normal(size=(40, 14)), 1)
    res = mann_kendall(X)
    for i in (0, 17, 39):
        ref = pymannkendall.original_test(X[i])
        assert (res.z[i], res.p[i]) == pytest.approx((ref.z, ref.p))


def test_mann_kendall_rejects_short_or_nan_series() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        mann_kendall([1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        mann_kendall([1.0, np.nan, 2.0])


# -- space-time Gi* -------------------------------------------------------------------------
def test_gi_slices_with_k0_equal_esda_g_local_star() -> None:
    rng = np.random.default_rng(7)
    rows, cols, years = 6, 7, 5
    values = rng.poisson(3.0, size=(rows * cols, years)).astype(float)
    cube = _grid_cube(values, rows, cols)
    z, _ = space_time_gi(cube, k=0)
    w = libpysal.weights.lat2W(rows, cols, rook=False)
    for t in range(years):
        ref = esda.G_Local(values[:, t], w, transform="B", star=True, permutations=0)
        np.testing.assert_allclose(z[:, t], ref.Zs, atol=1e-10)


def test_gi_with_time_window_matches_the_written_formula() -> None:
    rng = np.random.default_rng(8)
    rows, cols, years, k = 4, 5, 6, 2
    Y = rng.poisson(2.0, size=(rows * cols, years)).astype(float)
    z, p = space_time_gi(_grid_cube(Y, rows, cols), k=k)
    A = grid_weights(rows, cols).toarray() + np.eye(rows * cols)
    for t in range(years):
        win = Y[:, max(0, t - k):t + 1]
        m, N = win.shape[1], win.size
        ybar, s = win.mean(), win.std()
        for i in (0, 7, 19):
            L = (A[i][:, None] * win).sum()
            Wi = A[i].sum() * m
            expect = (L - ybar * Wi) / (s * np.sqrt((N * Wi - Wi**2) / (N - 1)))
            assert z[i, t] == pytest.approx(expect)
    assert ((p > 0) & (p <= 1)).all()


def test_gi_rejects_a_window_longer_than_the_cube() -> None:
    cube = _grid_cube(np.ones((4, 3)), 2, 2)
    with pytest.raises(ParameterError, match="k must be"):
        space_time_gi(cube, k=3)


# -- categories on hand-built series ---------------------------------------------------------
H, C, o = 2, -2, 0  # hot, cold, not significant
SERIES = [
    ("new hot spot", [o, o, o, o, o, o, o, o, o, H], 0.0, 1.0),
    ("new cold spot", [o, o, o, o, o, o, o, o, o, C], 0.0, 1.0),
    ("consecutive hot spot", [o, o, o, o, o, o, o, H, H, H], 0.0, 1.0),
    ("consecutive cold spot", [o, o, o, o, o, o, C, C, C, C], 0.0, 1.0),
    ("intensifying hot spot", [o, H, H, H, H, H, H, H, H, H], 3.0, 0.001),
    ("intensifying cold spot", [C] * 10, -3.0, 0.001),
    ("persistent hot spot", [H] * 10, 0.5, 0.6),
    ("persistent cold spot", [C] * 9 + [C], 0.2, 0.8),
    ("diminishing hot spot", [H] * 10, -3.0, 0.001),
    ("diminishing cold spot", [C] * 10, 3.0, 0.001),
    ("sporadic hot spot", [o, H, o, o, H, o, o, o, o, H], 0.0, 1.0),
    ("sporadic cold spot", [C, o, C, o, o, o, C, o, C, C], 0.0, 1.0),
    ("oscillating hot spot", [C, o, H, o, C, o, o, o, o, H], 0.0, 1.0),
    ("oscillating cold spot", [H, H, o, o, o, o, o, o, o, C], 0.0, 1.0),
    ("historical hot spot", [H] * 9 + [o], -3.0, 0.001),
    ("historical cold spot", [C] * 9 + [o], 0.0, 1.0),
    ("no pattern detected", [o] * 10, 0.0, 1.0),
    ("no pattern detected", [H, H, o, o, o, o, o, o, o, o], 0.0, 1.0),
]


@pytest.mark.parametrize(("label", "bins", "tz", "tp"), SERIES,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SERIES)])
def test_each_category_rule_on_a_hand_built_series(label, bins, tz, tp) -> None:
    code = classify(np.array([bins]), np.array([tz]), np.array([tp]))[0]
    assert CATEGORIES[code][0] == label


def test_all_seventeen_categories_are_reachable_and_labelled() -> None:
    labels = {s[0] for s in SERIES}
    assert labels == {en for en, _ in CATEGORIES.values()} and len(labels) == 17
    assert all(zh.endswith(("热点", "冷点")) or zh == "未发现模式"
               for _, zh in CATEGORIES.values())


def test_choice_an_earlier_cold_step_makes_new_and_consecutive_oscillating() -> None:
    new_but_cold = [C, o, o, o, o, o, o, o, o, H]
    run_but_cold = [o, C, o, o, o, o, o, H, H, H]
    codes = classify(np.array([new_but_cold, run_but_cold]), np.zeros(2), np.ones(2))
    assert [CATEGORIES[c][0] for c in codes] == ["oscillating hot spot"] * 2


def test_choice_ninety_percent_then_not_hot_is_historical_whatever_the_trend() -> None:
    bins = np.array([[H] * 9 + [o]] * 3)
    codes = classify(bins, np.array([0.1, 3.0, -3.0]), np.array([0.9, 0.001, 0.001]))
    assert {CATEGORIES[c][0] for c in codes} == {"historical hot spot"}


def test_choice_exactly_ninety_percent_counts_as_ninety() -> None:
    exactly = [o] + [H] * 9            # 9 of 10 = 90 %
    below = [o, o] + [H] * 12          # 12 of 14 = 85.7 % (xarray-spatial would say 90 %)
    codes = classify(np.array([exactly]), np.array([0.0]), np.array([1.0]))
    assert CATEGORIES[codes[0]][0] == "persistent hot spot"
    codes = classify(np.array([below]), np.array([0.0]), np.array([1.0]))
    assert CATEGORIES[codes[0]][0] == "consecutive hot spot"


def test_choice_final_side_wins_over_historical_of_the_other_side() -> None:
    bins = np.array([[H] * 9 + [C]])
    assert CATEGORIES[classify(bins, np.zeros(1), np.ones(1))[0]][0] == "oscillating cold spot"


# -- end to end --------------------------------------------------------------------------------
def _points() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(1)
    n = 400
    centre = rng.random(n) < 0.5
    x = np.where(centre, rng.normal(452_000, 400, n), rng.uniform(445_000, 460_000, n))
    y = np.where(centre, rng.normal(4_425_000, 400, n), rng.uniform(4_418_000, 4_432_000, n))
    founded = np.where(centre, rng.integers(2014, 2021, n), rng.integers(2000, 2012, n))
    closed = np.where(~centre & (rng.random(n) < 0.5), rng.integers(2013, 2020, n), -1)
    return gpd.GeoDataFrame(
        {"id": [f"E{i}" for i in range(n)], "founded": founded,
         "closed": pd.array(np.where(closed > 0, closed, pd.NA), dtype="Int64")},
        geometry=[Point(a, b) for a, b in zip(x, y, strict=True)], crs="EPSG:32650")


def test_cube_counts_operating_enterprises_per_year() -> None:
    pts = _points()
    cube = space_time_cube(pts, years=range(2012, 2021), cell_size_m=2000)
    for t, year in enumerate(cube.years):
        assert cube.values[:, t].sum() == len(operating(pts, int(year)))


def test_cube_sums_a_panel_variable() -> None:
    pts = _points().iloc[:3]
    pts = pts.assign(founded=2010, closed=pd.array([pd.NA] * 3, dtype="Int64"))
    panel = pd.DataFrame({"enterprise_id": ["E0", "E1", "E0"], "year": [2012, 2012, 2013],
                          "revenue_cny": [5.0, 7.0, 11.0]})
    cube = space_time_cube(pts, years=[2012, 2013, 2014], variable="revenue_cny", panel=panel)
    assert cube.values.sum(axis=0).tolist() == [12.0, 11.0, 0.0]
    with pytest.raises(ParameterError, match="panel="):
        space_time_cube(pts, years=[2012, 2013, 2014], variable="revenue_cny")


def test_cube_rejects_gappy_years() -> None:
    with pytest.raises(ParameterError, match="consecutive"):
        space_time_cube(_points(), years=[2012, 2014, 2015])


def test_growing_centre_is_an_emerging_hot_spot() -> None:
    cube = space_time_cube(_points(), years=range(2012, 2021), cell_size_m=1000)
    out = emerging_hot_spots(cube, k=1)
    centre = out.loc[out.geometry.contains(Point(452_200, 4_425_200))]
    assert centre["category"].iloc[0] in {"new hot spot", "consecutive hot spot",
                                          "intensifying hot spot"}
    assert result_kind(out) == "emerging_hot_spots"
    assert {"gi_z_2012", "gi_bin_2020", "trend_tau"} <= set(out.columns)
