"""The Dask paths (partitioned input, scheduler switch) equal the in-memory paths on the demo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")
dask_geopandas = pytest.importorskip("dask_geopandas")
distributed = pytest.importorskip("distributed")

import cci_geo  # noqa: E402
from cci_geo import scale  # noqa: E402
from cci_geo.concentration import (  # noqa: E402
    grid_counts,
    kernel_density,
    location_quotient,
    sector_concentration,
)
from cci_geo.corridors import corridor_zones, membership  # noqa: E402
from cci_geo.errors import DataError, ParameterError  # noqa: E402
from cci_geo.settings import Settings  # noqa: E402


@pytest.fixture(scope="module")
def atlas():
    return cci_geo.load_demo()


@pytest.fixture(scope="module")
def firms(atlas):
    return atlas["enterprises"]


@pytest.fixture(scope="module")
def parts(firms):
    # keep pandas' object strings so frames compare column for column with the in-memory ones
    with dask.config.set({"dataframe.convert-string": False}):
        return dask_geopandas.from_geopandas(firms, npartitions=4)


@pytest.fixture(scope="module")
def parquet_glob(firms, tmp_path_factory):
    d = tmp_path_factory.mktemp("registry")
    for i, rows in enumerate(np.array_split(np.arange(len(firms)), 3)):
        firms.iloc[rows].to_parquet(d / f"part{i}.parquet")
    return str(d / "*.parquet")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def on_cluster(cluster):
    return Settings(scheduler=cluster.scheduler_address)


@pytest.mark.parametrize(("kernel", "bandwidth", "cell"), [
    ("quartic", 1000.0, 250.0),   # small: exact summation, added over partitions
    ("quartic", 3000.0, 100.0),   # binned moments on an oversampled grid
    ("gaussian", 700.0, 200.0),   # binned moments
])
def test_kde_partitioned_equals_in_memory(firms, parts, kernel, bandwidth, cell):
    ref = kernel_density(firms, cell_size_m=cell, bandwidth_m=bandwidth, kernel=kernel,
                         weight="employees")
    got = kernel_density(parts, cell_size_m=cell, bandwidth_m=bandwidth, kernel=kernel,
                         weight="employees")
    assert got.transform == ref.transform
    assert got.shape == ref.shape
    assert got.tags == ref.tags
    np.testing.assert_allclose(got.data, ref.data, rtol=1e-12, atol=1e-12 * ref.data.max())


def test_kde_from_geoparquet_glob_on_a_cluster(firms, parquet_glob, on_cluster):
    ref = kernel_density(firms, cell_size_m=200, bandwidth_m=700, kernel="gaussian")
    got = kernel_density(parquet_glob, cell_size_m=200, bandwidth_m=700, kernel="gaussian",
                         settings=on_cluster)
    assert got.transform == ref.transform
    np.testing.assert_allclose(got.data, ref.data, rtol=1e-12, atol=1e-12 * ref.data.max())


def test_kde_partitioned_with_explicit_extent(firms, parts):
    ext = (430_000.0, 4_400_000.0, 470_000.0, 4_440_000.0)
    ref = kernel_density(firms, cell_size_m=500, bandwidth_m=2000, kernel="gaussian", extent=ext)
    got = kernel_density(parts, cell_size_m=500, bandwidth_m=2000, kernel="gaussian", extent=ext)
    np.testing.assert_allclose(got.data, ref.data, rtol=1e-12, atol=1e-12 * ref.data.max())


def test_kde_partitioned_needs_a_bandwidth(parts):
    with pytest.raises(ParameterError, match="needs bandwidth_m="):
        kernel_density(parts, cell_size_m=500)


@pytest.mark.parametrize("kw", [
    {},
    {"by": "sector", "weight": "employees"},
    {"by": "sector", "keep_empty": False, "region": "districts"},
])
def test_grid_counts_partitioned_equals_in_memory(atlas, firms, parts, kw):
    kw = dict(kw)
    if kw.get("region") == "districts":
        kw["region"] = atlas["districts"]
    ref = grid_counts(firms, 1000, **kw)
    got = grid_counts(parts, 1000, **kw)
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-12)
    assert got.attrs == ref.attrs


def test_grid_counts_from_geoparquet_on_a_cluster(firms, parquet_glob, on_cluster):
    ref = grid_counts(firms, 2000, by="sector")
    got = grid_counts(parquet_glob, 2000, by="sector", settings=on_cluster)
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)


@pytest.mark.parametrize("value", [None, "employees"])
def test_indices_partitioned_equal_in_memory(atlas, firms, parts, value):
    areas = atlas["districts"]
    pd.testing.assert_frame_equal(location_quotient(parts, areas, weight=value),
                                  location_quotient(firms, areas, weight=value),
                                  check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(sector_concentration(parts, areas, weight=value),
                                  sector_concentration(firms, areas, weight=value),
                                  check_exact=False, rtol=1e-12)


def test_sector_concentration_from_geoparquet_on_a_cluster(atlas, firms, parquet_glob,
                                                           on_cluster):
    areas = atlas["districts"]
    got = sector_concentration(parquet_glob, areas, settings=on_cluster)
    ref = sector_concentration(firms, areas)
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-12)


def test_membership_partitioned_equals_in_memory(atlas, firms, parts, on_cluster):
    cor = atlas["corridors"]
    zones = corridor_zones(cor, width_km=10)
    ref = membership(zones, firms, corridors=cor)
    got = membership(zones, parts, corridors=cor, settings=on_cluster)
    assert len(ref) > 1000
    pd.testing.assert_frame_equal(got, ref)
    assert got.attrs == ref.attrs


def test_empty_or_missing_partitioned_input_is_an_error(tmp_path, firms):
    with pytest.raises(ParameterError, match="no file matches"):
        grid_counts(str(tmp_path / "*.parquet"), 1000)
    with pytest.raises(ParameterError, match="does not exist"):
        grid_counts(str(tmp_path / "nothing.parquet"), 1000)
    firms.iloc[:0].to_parquet(tmp_path / "empty.parquet")
    with pytest.raises(DataError, match="empty"):
        kernel_density(str(tmp_path / "empty.parquet"), cell_size_m=500, bandwidth_m=1000)


def test_scheduler_switch(cluster):
    with scale.scheduler_client(None) as none:
        assert none is None
    with scale.scheduler_client(cluster.scheduler_address) as client:
        assert client.scheduler.address == cluster.scheduler_address
        (total,) = scale.compute(dask.delayed(sum)([1, 2, 3]), client=client)
    assert total == 6
    with pytest.raises(ParameterError, match="scheduler must be"), scale.scheduler_client(3):
        pass
    assert dataclasses.replace(Settings(), scheduler="local").scheduler == "local"


# ------------------------------------------------------------------ network on Dask workers
@pytest.fixture(scope="module")
def walk_graph():
    from cci_geo import network

    return network.load_graph(network.demo_streets_path(), mode="walk")


def _street_points(G, n, seed, prefix):
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    nodes = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    xy = nodes[rng.choice(len(nodes), n, replace=False)] + rng.normal(0, 30, (n, 2))
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(n)],
                             "amount": rng.integers(1, 50, n).astype(float)},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
                            crs=G.graph["crs"])


def test_travel_time_matrix_on_workers_equals_in_memory(walk_graph, on_cluster):
    from cci_geo import network

    cells = _street_points(walk_graph, 120, 1, "c")
    venues = _street_points(walk_graph, 9, 2, "v")
    ref = network.travel_time_matrix(walk_graph, cells, venues)
    got = network.travel_time_matrix(walk_graph, cells, venues, settings=on_cluster)
    pd.testing.assert_frame_equal(got, ref)
    capped = network.travel_time_matrix(walk_graph, cells, venues, max_time_s=900,
                                        settings=on_cluster)
    pd.testing.assert_frame_equal(
        capped, network.travel_time_matrix(walk_graph, cells, venues, max_time_s=900))


def test_two_step_fca_over_the_graph_on_workers(walk_graph, on_cluster):
    from cci_geo import network
    from cci_geo.access import two_step_fca

    cells = _street_points(walk_graph, 150, 3, "c")
    venues = _street_points(walk_graph, 7, 4, "v")
    kw = {"threshold": 900.0, "supply_weight": "amount", "demand_weight": "amount"}
    ref = two_step_fca(venues, cells, cost=network.travel_time_matrix(walk_graph, cells, venues),
                       **kw)
    got = two_step_fca(venues, cells, cost=walk_graph, settings=on_cluster, **kw)
    local = two_step_fca(venues, cells, cost=walk_graph, **kw)
    assert (ref["access"] > 0).sum() > 20
    for out in (got, local):
        np.testing.assert_allclose(out["access"], ref["access"], rtol=1e-12)
        assert out["supply_in_reach"].tolist() == ref["supply_in_reach"].tolist()
