"""Window-by-window suitability equals the in-memory overlay, also out of core on Dask."""

from __future__ import annotations

import dataclasses
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from scipy.spatial import cKDTree

import cci_geo
from cci_geo.errors import ParameterError, ResourceLimitError
from cci_geo.settings import Settings
from cci_geo.suitability import criterion_halo, load_scenario, score, score_chunked
from cci_geo.suitability.chunked import read_window

distributed = pytest.importorskip("distributed")

SCENARIO = "scenarios/old_factory_reuse.toml"


@pytest.fixture(scope="module")
def atlas():
    return cci_geo.load_demo()


@pytest.fixture(scope="module")
def scenario():
    sc = load_scenario(SCENARIO)
    return dataclasses.replace(sc, grid=dataclasses.replace(sc.grid, cell_size_m=250))


@pytest.fixture(scope="module")
def in_memory(atlas, scenario):
    return score(scenario, atlas=atlas, sensitivity=True)


def _read(path):
    with rasterio.open(path) as src:
        return src.read(1), {"transform": src.transform, "profile": src.profile,
                             "compression": src.compression, "overviews": src.overviews(1)}


def _chunked(scenario, atlas, out, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the sigmoid never saturates
        return score_chunked(scenario, out, atlas=atlas, sensitivity=True, chunk_cells=128,
                             **kw)


def _check_equal(res, ref):
    comp, meta = _read(res.files["composite"])
    assert meta["transform"] == ref.composite.transform
    assert meta["profile"]["tiled"] and meta["profile"]["blockxsize"] == 512
    assert meta["compression"] is not None
    np.testing.assert_array_equal(np.isnan(comp), np.isnan(ref.composite.data))
    np.testing.assert_allclose(comp, ref.composite.data, rtol=0, atol=2e-6, equal_nan=True)
    for name, surf in ref.criteria.items():
        value, _ = _read(res.files[f"value_{name}"])
        # float32 output; the sigmoid criterion is within its 1e-6 saturation tolerance
        np.testing.assert_allclose(value, surf.data, rtol=0, atol=2e-6, equal_nan=True)
    drop = ref.sites.geometry.name
    pd.testing.assert_frame_equal(pd.DataFrame(res.sites.drop(columns=drop)),
                                  pd.DataFrame(ref.sites.drop(columns=drop)))
    pd.testing.assert_frame_equal(res.site_result.monte_carlo.summary,
                                  ref.monte_carlo.summary)


def test_chunked_equals_in_memory(atlas, scenario, in_memory, tmp_path):
    res = _chunked(scenario, atlas, tmp_path)
    assert res.halos_m["zone_proximity"] == 15_000  # the threshold constraint's bound
    assert res.halos_m["enterprise_density"] == 2_000
    _check_equal(res, in_memory)
    with pytest.raises(ParameterError, match="overwrite"):
        _chunked(scenario, atlas, tmp_path)


def test_chunked_on_dask_workers_equals_in_memory(atlas, scenario, in_memory, tmp_path,
                                                   capsys):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster:
        res = _chunked(scenario, atlas, tmp_path,
                       settings=Settings(scheduler=cluster.scheduler_address, progress=True))
    _check_equal(res, in_memory)
    assert "100% Completed" in capsys.readouterr().out  # distributed's own progress bar


def test_never_saturating_value_function_warns_and_network_time_is_refused(atlas, scenario,
                                                                          tmp_path):
    sigmoid = next(c for c in scenario.criteria if c.value_function.function == "sigmoid")
    with pytest.warns(UserWarning, match="never saturates"):
        assert criterion_halo(sigmoid) > 20_000
    crit = [dataclasses.replace(c, params={**c.params, "straight_line": False,
                                           "network": "streets.osm"})
            if c.measure == "travel_time" else c for c in scenario.criteria]
    with warnings.catch_warnings(), pytest.raises(ParameterError, match="window by window"):
        warnings.simplefilter("ignore", UserWarning)
        score_chunked(dataclasses.replace(scenario, criteria=tuple(crit)), tmp_path,
                      atlas=atlas, sensitivity=False)


# ------------------------------------------------------------------------ out of core
SIDE, CELL = 90_000.0, 10.0          # 9,000 x 9,000 cells: 648 MB per float64 layer
X0, Y0 = 400_000.0, 4_400_000.0
MEMORY_LIMIT = "600MB"                # per worker: below one float64 layer (score() holds ~5)


def _registry(n, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, int(SIDE / CELL), (n, 2))
    return np.column_stack((X0 + (idx[:, 0] + 0.5) * CELL, Y0 + (idx[:, 1] + 0.5) * CELL))


def test_the_window_not_the_raster_is_bounded_by_the_memory_limit(atlas, scenario, tmp_path):
    # a region grid beyond max_cells is fine (never held whole); a window beyond it is refused
    small = Settings(max_cells=400 * 400)
    res = _chunked(scenario, atlas, tmp_path / "ok", settings=small, compress="zstd")
    assert res.shape[0] * res.shape[1] > small.max_cells
    with rasterio.open(res.files["composite"]) as src:
        assert src.compression.name == "zstd" and src.overviews(1)
    with (pytest.raises(ResourceLimitError, match="smaller chunk_cells"),
          warnings.catch_warnings()):
        warnings.simplefilter("ignore", UserWarning)
        score_chunked(scenario, tmp_path / "big", atlas=atlas, sensitivity=False,
                          chunk_cells=4096, settings=small)
    assert not (tmp_path / "big").exists()  # refused before anything was written


def test_out_of_core_raster_matches_independent_values(tmp_path):
    venues = _registry(4000, 1)       # features at cell centres: the EDT distance is exact
    region = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE)],
                              crs="EPSG:32650")
    # sites close together: their scores come from score() on a grid around them
    sites = gpd.GeoDataFrame({"id": ["a", "b", "c"]}, crs="EPSG:32650",
                             geometry=shapely.points(X0 + 20_000 + np.array([0, 700, 1400]),
                                                     Y0 + 30_000 + np.array([0, 500, 900])))
    layers = {"region": region, "venues": gpd.GeoDataFrame(
        geometry=shapely.points(venues), crs="EPSG:32650"), "sites": sites}
    scenario = {
        "scenario": {"name": "out of core", "metric_crs": "EPSG:32650"},
        "candidates": {"layer": "sites"},
        "grid": {"cell_size_m": CELL, "extent": "region", "buffer_m": 0},
        "criteria": [
            {"name": "near", "layer": "venues", "measure": "distance", "weight": 0.6,
             "value": {"function": "linear", "low": 100, "high": 1000,
                       "direction": "decreasing"}},
            {"name": "many", "layer": "venues", "measure": "count", "radius_m": 505,
             "weight": 0.4, "value": {"function": "linear", "low": 0, "high": 3}},
        ],
    }
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit=MEMORY_LIMIT,
                                  dashboard_address=":0") as cluster:
        res = score_chunked(scenario, tmp_path, layers=layers, chunk_cells=1024,
                            sensitivity=False,
                            settings=Settings(scheduler=cluster.scheduler_address))
    assert res.shape[0] * res.shape[1] * 8 > 640e6   # one float64 layer > the worker limit
    rng = np.random.default_rng(3)
    rows, cols = rng.integers(0, res.shape[0], 300), rng.integers(0, res.shape[1], 300)
    x = res.transform.c + (cols + 0.5) * CELL
    y = res.transform.f - (rows + 0.5) * CELL
    tree = cKDTree(venues)
    dist, _ = tree.query(np.column_stack((x, y)))
    count = np.array([len(h) for h in tree.query_ball_point(np.column_stack((x, y)), 505.0)])
    near = np.clip(1 - (dist - 100) / 900, 0, 1)
    many = np.clip(count / 3, 0, 1)
    got = read_window(res.files["composite"], rows, cols)
    np.testing.assert_allclose(got, 0.6 * near + 0.4 * many, rtol=0, atol=1e-6)
    np.testing.assert_allclose(read_window(res.files["value_near"], rows, cols), near,
                               rtol=0, atol=1e-6)


def test_a_chunked_run_checks_its_seed_as_score_does(atlas, scenario, tmp_path):
    with pytest.raises(ParameterError, match="seed"):
        score_chunked(scenario, tmp_path / "out", atlas=atlas, seed=-1, sensitivity=False)
    assert not (tmp_path / "out").exists()
