"""Weighted overlay on tiny grids checked by hand, constraints, rasters and measures."""

import math

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.geometry import Point, box

from cci_geo.errors import DataError
from cci_geo.results import result_kind
from cci_geo.suitability import build_grid, parse_scenario, score
from cci_geo.suitability.measures import grid_raw, point_raw

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_400_000.0  # south-west corner; 5 x 5 cells of 100 m


def cell(r, c):
    """Centre of cell (row r from the north, col c)."""
    return X0 + 50 + 100 * c, Y0 + 450 - 100 * r


def gdf(geoms, crs=CRS, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


@pytest.fixture
def layers():
    return {
        "area": gdf([box(X0, Y0, X0 + 500, Y0 + 500)], id=["A"]),
        "feature": gdf([Point(*cell(0, 0))], id=["F"]),
        "zoning": gdf([box(X0, Y0, X0 + 200, Y0 + 500)], id=["Z"], q=[0.8]),
        "water": gdf([box(X0 + 400, Y0, X0 + 500, Y0 + 100)], id=["W"]),
        "sites": gdf([Point(*cell(0, 1)), Point(*cell(1, 0)), Point(*cell(2, 2)),
                      Point(*cell(0, 0)), Point(*cell(4, 4)),
                      box(X0, Y0, X0 + 200, Y0 + 200)],
                     id=["s2", "s1", "a", "c", "wet", "poly"], floor=[10, 20, 30, 40, 50, 60]),
    }


def doc(**over):
    d = {
        "scenario": {"name": "tiny", "seed": 1},
        "candidates": {"layer": "sites"},
        "grid": {"cell_size_m": 100, "extent": "area", "buffer_m": 0},
        "criteria": [
            {"name": "near", "layer": "feature", "measure": "distance", "weight": 0.75,
             "value": {"function": "linear", "low": 0, "high": 400, "direction": "decreasing"}},
            {"name": "zone", "layer": "zoning", "measure": "attribute", "column": "q",
             "fill": 0.2, "weight": 0.25,
             "value": {"function": "linear", "low": 0, "high": 1}},
        ],
        "sensitivity": {"enabled": False},
    }
    d.update(over)
    return d


def expected(r, c):
    return 0.75 * max(0.0, 1 - 100 * math.hypot(r, c) / 400) + 0.25 * (0.8 if c < 2 else 0.2)


def test_overlay_arithmetic_on_a_5x5_grid(layers):
    res = score(parse_scenario(doc()), layers=layers)
    data = res.composite.data
    assert res.grid.n_cells == 25
    for r in range(5):
        for c in range(5):
            assert data[r, c] == pytest.approx(expected(r, c)), (r, c)
    # the grid has one more row/col (a point on the edge still falls in a cell): masked out
    assert np.isnan(data[5, :]).all() and np.isnan(data[:, 5]).all()
    near = res.criteria["near"].data
    assert near[2, 2] == pytest.approx(1 - math.sqrt(8) / 4)


def test_site_scores_contributions_and_ranks(layers):
    res = score(parse_scenario(doc()), layers=layers)
    s = res.sites.set_index("id")
    assert s.loc["c", "score"] == pytest.approx(0.75 + 0.25 * 0.8)
    assert s.loc["a", "score"] == pytest.approx(expected(2, 2))
    assert s.loc["a", "raw_near"] == pytest.approx(100 * math.sqrt(8))
    assert s.loc["a", "contrib_near"] == pytest.approx(0.75 * (1 - math.sqrt(8) / 4))
    assert s.loc["a", "raw_zone"] == pytest.approx(0.2)
    contrib = s[["contrib_near", "contrib_zone"]].sum(axis=1)
    np.testing.assert_allclose(contrib, s["score"])
    # polygon site: zonal mean over its four cells (rows 3-4, cols 0-1)
    poly = np.mean([expected(r, c) for r in (3, 4) for c in (0, 1)])
    assert s.loc["poly", "score"] == pytest.approx(poly)
    # s1 and s2 tie exactly; the tie is broken by id
    assert s.loc["s1", "score"] == s.loc["s2", "score"]
    assert s.loc["s1", "rank"] < s.loc["s2", "rank"]
    assert list(res.ranking()["id"][:3]) == ["c", "s1", "s2"]
    assert res.sites.crs == CRS
    assert result_kind(res.sites) == "suitability"
    assert result_kind(res.composite) == "suitability"


def test_inputs_are_not_modified(layers):
    before = layers["sites"].copy()
    score(parse_scenario(doc()), layers=layers)
    assert layers["sites"].equals(before)


def test_exclusion_threshold_and_site_constraints(layers):
    d = doc(constraints=[
        {"type": "exclude", "name": "water", "layer": "water"},
        {"type": "threshold", "name": "too_far", "criterion": "near", "max": 350},
        {"type": "site", "name": "small", "column": "floor", "min": 15},
    ])
    res = score(parse_scenario(d), layers=layers)
    data = res.composite.data
    assert np.isnan(data[4, 4])                          # water
    assert np.isnan(data[3, 3]) and not np.isnan(data[2, 2])  # 424 m > 350 m; 283 m is fine
    assert data[0, 1] == pytest.approx(expected(0, 1))
    s = res.sites.set_index("id")
    assert s.loc["wet", "excluded_by"] == "water;too_far"
    assert s.loc["s2", "excluded_by"] == "small"
    assert s.loc["s2", "rank"] is pd_na() or np.isnan(float(s.loc["s2", "rank"]))
    assert s.loc["s1", "rank"] == 2  # c first, s2 excluded


def pd_na():
    import pandas as pd
    return pd.NA


def test_raster_in_another_crs_is_reprojected(tmp_path, layers):
    # A constant raster in EPSG:4326 covering the area (and more).
    path = tmp_path / "wgs84.tif"
    west, south, east, north = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True) \
        .transform_bounds(X0 - 1000, Y0 - 1000, X0 + 1500, Y0 + 1500)
    assert east - west < 0.05 and north - south < 0.06
    t = Affine(0.001, 0, west, 0, -0.001, north)
    with rasterio.open(path, "w", driver="GTiff", width=50, height=60, count=1, dtype="float32",
                       crs="EPSG:4326", transform=t, nodata=-9999) as dst:
        dst.write(np.full((60, 50), 7.0, dtype="float32"), 1)
    lay = dict(layers)
    lay["sites"] = layers["sites"].iloc[:4]
    d = doc()
    d["criteria"] = [{"name": "bring", "measure": "raster", "path": str(path), "weight": 1,
                      "resampling": "nearest",
                      "value": {"function": "linear", "low": 0, "high": 10}}]
    res = score(parse_scenario(d), layers=lay)
    inside = res.composite.data[res.grid.mask]
    np.testing.assert_allclose(inside, 0.7)
    assert res.sites["raw_bring"].tolist() == [7.0] * 4


def test_aligned_raster_values_land_on_their_cells(tmp_path, layers):
    path = tmp_path / "aligned.tif"
    arr = np.arange(25, dtype="float32").reshape(5, 5)
    arr[0, 0] = -1  # nodata
    t = Affine(100, 0, X0, 0, -100, Y0 + 500)
    with rasterio.open(path, "w", driver="GTiff", width=5, height=5, count=1, dtype="float32",
                       crs=CRS, transform=t, nodata=-1) as dst:
        dst.write(arr, 1)
    d = doc()
    d["criteria"] = [{"name": "bring", "measure": "raster", "path": str(path), "weight": 1,
                      "resampling": "nearest",
                      "value": {"function": "linear", "low": 0, "high": 24}}]
    res = score(parse_scenario(d), layers=layers)
    got = res.composite.data[:5, :5]
    assert np.isnan(got[0, 0])  # nodata respected
    np.testing.assert_allclose(got.ravel()[1:], np.arange(1, 25) / 24)
    s = res.sites.set_index("id")
    assert np.isnan(s.loc["c", "score"]) and s.loc["c", "missing"] == "bring"
    assert s.loc["c", "rank"] is pd_na()


def test_all_nodata_raster_is_an_error(tmp_path, layers):
    path = tmp_path / "empty.tif"
    t = Affine(100, 0, X0, 0, -100, Y0 + 500)
    with rasterio.open(path, "w", driver="GTiff", width=5, height=5, count=1, dtype="float32",
                       crs=CRS, transform=t, nodata=0) as dst:
        dst.write(np.zeros((5, 5), dtype="float32"), 1)
    d = doc()
    d["criteria"] = [{"name": "bring", "measure": "raster", "path": str(path), "weight": 1,
                      "value": {"function": "linear", "low": 0, "high": 1}}]
    with pytest.raises(DataError, match="no valid .*cell inside the study area"):
        score(parse_scenario(d), layers=layers)


def test_candidates_outside_the_grid_are_an_error(layers):
    lay = dict(layers)
    lay["sites"] = gdf([Point(*cell(1, 1)), Point(X0 + 5000, Y0)], id=["in", "far"])
    with pytest.raises(DataError, match=r"outside the analysis grid.*\['far'\]"):
        score(parse_scenario(doc()), layers=lay)


# --------------------------------------------------------------- measures vs brute force
def _grid(n=60, cs=100.0):
    return build_grid((X0, Y0, X0 + n * cs - 1, Y0 + n * cs - 1), cell_size_m=cs, crs=CRS)


def test_distance_grid_is_exact_for_features_on_cell_centres_even_far_outside():
    g = _grid()
    rng = np.random.default_rng(0)
    x, y = g.centers()
    pts = [Point(x[c], y[r]) for r, c in rng.integers(0, 60, size=(5, 2))]
    pts.append(Point(X0 + 40_050, Y0 + 3_050))  # far beyond the padded frame
    feats = gdf(pts)
    got = grid_raw("distance", {}, feats, g, label="t")
    X, Y = np.meshgrid(x, y)
    want, _ = cKDTree([(p.x, p.y) for p in pts]).query(np.column_stack([X.ravel(), Y.ravel()]))
    np.testing.assert_allclose(got.ravel(), want, rtol=0, atol=1e-6)


def test_distance_to_polygons_within_half_a_cell():
    g = _grid(40)
    poly = gdf([box(X0 + 1234, Y0 + 1234, X0 + 1800, Y0 + 2600)])
    got = grid_raw("distance", {}, poly, g, label="t")
    x, y = g.centers()
    X, Y = np.meshgrid(x, y)
    want = gpd.GeoSeries(gpd.points_from_xy(X.ravel(), Y.ravel()), crs=CRS).distance(
        poly.geometry.iloc[0]).to_numpy()
    assert np.abs(got.ravel() - want).max() <= 100 * math.sqrt(2) / 2 + 1e-6
    exact = point_raw("distance", {}, poly, np.array([X0]), np.array([Y0]), label="t")
    assert exact[0] == pytest.approx(math.hypot(1234, 1234))


@pytest.mark.parametrize("measure", ["count", "sum"])
def test_count_and_sum_within_radius_match_brute_force(measure):
    g = _grid(50)
    rng = np.random.default_rng(2)
    x, y = g.centers()
    rc = rng.integers(-5, 55, size=(300, 2))  # some features lie outside the grid
    fx, fy = X0 + 50 + 100 * rc[:, 1], Y0 + 4950 - 100 * rc[:, 0]
    w = rng.uniform(1, 10, size=300)
    feats = gdf(gpd.points_from_xy(fx, fy), v=w)
    params = {"radius_m": 350.0, "column": "v"}
    got = grid_raw(measure, params, feats, g, label="t")
    X, Y = np.meshgrid(x, y)
    d = np.hypot(X.ravel()[:, None] - fx[None, :], Y.ravel()[:, None] - fy[None, :])
    weights = np.ones(300) if measure == "count" else w
    want = ((d <= 350.0) * weights[None, :]).sum(axis=1)
    np.testing.assert_allclose(got.ravel(), want, atol=1e-7)
    sites = point_raw(measure, params, feats, X.ravel()[:20], Y.ravel()[:20], label="t")
    np.testing.assert_allclose(sites, want[:20], atol=1e-9)
