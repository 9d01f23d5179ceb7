"""Site scores without the region grid equal score()'s, also for candidates spread over a region."""

from __future__ import annotations

import dataclasses
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

import cci_geo
from cci_geo.concentration import kernel_density
from cci_geo.errors import DataError, ResourceLimitError
from cci_geo.suitability import load_scenario, score, score_sites

SCENARIO = "scenarios/old_factory_reuse.toml"


@pytest.fixture(scope="module")
def atlas():
    return cci_geo.load_demo()


def _frame(res):
    return pd.DataFrame(res.sites.drop(columns=res.sites.geometry.name))


def _assert_same_sites(got, ref, *, rtol=1e-9):
    # the KDE's correction terms are convolved in float32, on an FFT sized to the grid: a
    # window's and the whole grid's density differ by ~1e-8 per km² (of values up to 100s)
    a, b = _frame(got), _frame(ref)
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        if a[col].dtype.kind == "f":
            np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), rtol=rtol,
                                       atol=1e-7, equal_nan=True, err_msg=col)
        else:
            pd.testing.assert_series_equal(a[col], b[col], check_names=False)


@pytest.mark.parametrize("cell", [100, 250])
def test_demo_site_scores_ranks_and_monte_carlo_equal_score(atlas, cell):
    sc = load_scenario(SCENARIO)
    sc = dataclasses.replace(sc, grid=dataclasses.replace(sc.grid, cell_size_m=cell))
    ref = score(sc, atlas=atlas, sensitivity=True)
    got = score_sites(sc, atlas=atlas, sensitivity=True)
    _assert_same_sites(got, ref)
    assert got.sites.crs == ref.sites.crs and got.sites.index.equals(ref.sites.index)
    pd.testing.assert_frame_equal(got.monte_carlo.summary, ref.monte_carlo.summary)
    pd.testing.assert_frame_equal(got.one_at_a_time, ref.one_at_a_time)
    for col in ("id", "rank"):
        pd.testing.assert_series_equal(got.ranking()[col], ref.ranking()[col])
    assert got.windows >= 1


def test_polygon_sites_take_the_zonal_mean_of_the_same_cells(atlas):
    sc = load_scenario(SCENARIO)
    sc = dataclasses.replace(sc, grid=dataclasses.replace(sc.grid, cell_size_m=250))
    sites = atlas["factory_sites"]
    sites = sites[sites["status"].isin(["vacant", "candidate"])]
    polys = sites.to_crs(32650).buffer(400).to_crs(sites.crs)
    polys = gpd.GeoDataFrame(sites.drop(columns="geometry"), geometry=polys)
    ref, got = (f(sc, atlas=atlas, candidates=polys, sensitivity=False)
                for f in (score, score_sites))
    a, b = _frame(got), _frame(ref)
    # distance grids snap features to cell centres inside their frame and measure exactly
    # beyond it; score()'s frame follows its whole grid, a window's its own extent: a cell's
    # distance differs by at most half a cell diagonal
    half_diagonal = 250 * math.sqrt(2) / 2
    for name in ("zone_proximity", "functional_area"):
        assert np.nanmax(np.abs(a[f"raw_{name}"] - b[f"raw_{name}"])) <= half_diagonal
    for col in ("raw_enterprise_density", "value_enterprise_density", "raw_floor_area",
                "value_heritage", "excluded_by", "missing"):
        if a[col].dtype.kind == "f":
            np.testing.assert_allclose(a[col], b[col], rtol=1e-9, atol=1e-7, err_msg=col)
        else:
            pd.testing.assert_series_equal(a[col], b[col])


# ------------------------------------------------------------------- spread over the region
def _spread_scenario(tmp_path, cell):
    slope = tmp_path / "slope.tif"
    if not slope.exists():
        x0, y1, cs = 150_000.0, 4_750_000.0, 1000.0
        yy, xx = np.mgrid[0:800, 0:650].astype("float32")
        with rasterio.open(slope, "w", driver="GTiff", height=800, width=650, count=1,
                           dtype="float32", crs="EPSG:32650",
                           transform=Affine(cs, 0, x0, 0, -cs, y1)) as dst:
            dst.write(np.sin(xx / 40) * 10 + 10 + yy / 100, 1)
    return {
        "scenario": {"name": "spread", "metric_crs": "EPSG:32650", "seed": 3},
        "candidates": {"layer": "nodes"},
        "grid": {"cell_size_m": cell, "extent": "districts", "buffer_m": 0},
        "criteria": [
            {"name": "parks", "layer": "zones", "measure": "distance", "weight": 0.3,
             "value": {"function": "linear", "low": 1000, "high": 300_000,
                       "direction": "decreasing"}},
            {"name": "metro", "layer": "stations", "measure": "count", "radius_m": 3000,
             "weight": 0.2, "value": {"function": "linear", "low": 0, "high": 10}},
            {"name": "firms", "layer": "enterprises", "measure": "density",
             "bandwidth_m": 3000, "weight": 0.3,
             "value": {"function": "linear", "low": 0, "high": 100}},
            {"name": "slope", "measure": "raster", "path": str(slope), "weight": 0.2,
             "value": {"function": "linear", "low": 0, "high": 30,
                       "direction": "decreasing"}},
        ],
        "constraints": [{"type": "threshold", "name": "far", "criterion": "parks",
                         "max": 150_000}],
        "sensitivity": {"draws": 200, "top_k": 3},
    }


def test_spread_out_sites_equal_score_where_score_fits(atlas, tmp_path):
    scenario = _spread_scenario(tmp_path, 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = score(scenario, atlas=atlas, sensitivity=True)
        got = score_sites(scenario, atlas=atlas, sensitivity=True, cluster_cells=64)
    assert got.windows > 5  # one small window per cluster of sites, not a region grid
    _assert_same_sites(got, ref)
    pd.testing.assert_frame_equal(got.monte_carlo.summary, ref.monte_carlo.summary)
    assert ref.sites["excluded_by"].str.contains("far").any()


def test_spread_out_sites_at_30_m_that_score_refuses(atlas, tmp_path):
    scenario = _spread_scenario(tmp_path, 30)
    with pytest.raises(ResourceLimitError):  # the region grid: 4.5e8 cells
        score(scenario, atlas=atlas, sensitivity=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = score_sites(scenario, atlas=atlas, sensitivity=True)
    df = _frame(got)
    nodes = atlas["nodes"].to_crs(32650)
    xy = shapely.get_coordinates(nodes.geometry.to_numpy())
    # exact distances and counts at the points, computed here independently
    zones = atlas["zones"].to_crs(32650).geometry.to_numpy()
    parks = np.array([shapely.distance(shapely.Point(p), zones).min() for p in xy])
    np.testing.assert_allclose(df["raw_parks"], parks, rtol=1e-12)
    st = shapely.get_coordinates(atlas["stations"].to_crs(32650).geometry.to_numpy())
    near = np.hypot(xy[:, None, 0] - st[None, :, 0], xy[:, None, 1] - st[None, :, 1]) <= 3000
    np.testing.assert_array_equal(df["raw_metro"], near.sum(axis=1))
    # density: the value of the site's 30 m cell of the region grid, from the public KDE on
    # that one cell
    districts = atlas["districts"].to_crs(32650)
    x0, _, _, y1 = districts.total_bounds
    x0, y1 = math.floor(x0 / 30) * 30, math.ceil(y1 / 30) * 30  # the grid's origin
    firms = atlas["enterprises"]
    for k, (x, y) in enumerate(xy):
        c0 = x0 + math.floor((x - x0) / 30) * 30
        r0 = y1 - math.floor((y1 - y) / 30) * 30
        cell = kernel_density(firms, cell_size_m=30, bandwidth_m=3000,
                              extent=(c0, r0 - 30, c0 + 30, r0), metric_crs="EPSG:32650") \
            if np.hypot(*(shapely.get_coordinates(firms.to_crs(32650).geometry.to_numpy())
                          - [x, y]).T).min() < 3000 else None
        expected = 0.0 if cell is None else float(cell.data[0, 0])
        assert df["raw_firms"].iloc[k] == pytest.approx(expected, rel=1e-9, abs=1e-7)
    assert got.monte_carlo is not None and df["rank"].notna().sum() >= 2


def test_a_site_outside_the_study_area_is_refused(atlas, tmp_path):
    scenario = _spread_scenario(tmp_path, 1000)
    sea = gpd.GeoDataFrame({"id": ["bohai"]}, geometry=[shapely.Point(120.2, 39.3)],
                           crs="EPSG:4326")  # in the Bohai Sea, inside the bounding box
    with pytest.raises(DataError, match="bohai"):
        score_sites(scenario, atlas=atlas, candidates=sea)
