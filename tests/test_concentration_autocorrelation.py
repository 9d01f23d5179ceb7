"""Gi* hot spots, Moran's I and LISA against esda (test-only oracle); grid_counts."""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pytest
from scipy import stats

from cci_geo.concentration import (
    GI_CLASSES,
    benjamini_hochberg,
    grid_counts,
    hot_spots,
    local_morans,
    morans_i,
)
from cci_geo.errors import DataError
from cci_geo.results import result_kind

X0, Y0 = 440_000.0, 4_420_000.0


@pytest.fixture(scope="module")
def points() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(0)
    xy = np.r_[rng.normal([X0, Y0], 1500, (1500, 2)),
               rng.uniform([X0 - 9000, Y0 - 9000], [X0 + 9000, Y0 + 9000], (1500, 2))]
    sectors = rng.choice(["design", "media", "film_tv"], len(xy))
    return gpd.GeoDataFrame({"sector": sectors, "employees": rng.integers(1, 50, len(xy))},
                            geometry=gpd.points_from_xy(*xy.T), crs="EPSG:32650")


@pytest.fixture(scope="module")
def grid(points) -> gpd.GeoDataFrame:
    return grid_counts(points, 1000, by="sector", weight="employees")


def _w(gdf: gpd.GeoDataFrame, kind: str = "queen") -> libpysal.weights.W:
    cls = libpysal.weights.Queen if kind == "queen" else libpysal.weights.Rook
    return cls.from_dataframe(gdf, use_index=False, silence_warnings=True)


def test_grid_counts_columns_and_totals(points, grid):
    assert grid["count"].sum() == len(points)
    assert grid[["count_design", "count_film_tv", "count_media"]].sum(axis=1).equals(grid["count"])
    assert grid["employees_sum"].sum() == pytest.approx(points["employees"].sum())
    assert result_kind(grid) == "grid_counts"
    assert (grid.area.round(6) == 1e6).all()
    assert grid["id"].is_unique and grid.loc[0, "id"] == "r0c0"
    kept = grid_counts(points, 1000, keep_empty=False)
    assert (kept["count"] > 0).all()


def test_grid_counts_region_clips_cells(points):
    region = gpd.GeoDataFrame(geometry=[gpd.points_from_xy([X0], [Y0])[0].buffer(5000)],
                              crs="EPSG:32650")
    g = grid_counts(points, 500, region=region)
    centres = g.geometry.centroid
    assert (centres.distance(region.geometry.iloc[0].centroid) <= 5000).all()
    assert len(g) == pytest.approx(np.pi * 5000**2 / 500**2, rel=0.05)


@pytest.mark.parametrize("weights", ["queen", "rook"])
def test_gi_star_matches_esda_on_grid(grid, weights):
    out = hot_spots(grid, "count", weights=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(grid["count"].to_numpy(), _w(grid, weights), star=True,
                           transform="B", permutations=0)
    np.testing.assert_allclose(out["gi_z"].to_numpy(), ref.Zs, atol=1e-6)
    np.testing.assert_allclose(out["gi_p"].to_numpy(), 2 * ref.p_norm, atol=1e-9)
    assert result_kind(out) == "hot_spots"
    assert "gi_z" not in grid.columns  # input untouched


def test_gi_star_matches_esda_with_knn_and_distance_band(points):
    sample = points.iloc[:300]
    for spec, w in [("knn:6", libpysal.weights.KNN.from_dataframe(sample, k=6)),
                    (1500.0, libpysal.weights.DistanceBand.from_dataframe(
                        sample, threshold=1500.0, binary=True, silence_warnings=True))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # islands of the distance band are warned about
            out = hot_spots(sample, "employees", weights=spec)
            ref = esda.G_Local(sample["employees"].to_numpy().astype(float), w, star=True,
                               transform="B", permutations=0)
        # units without neighbours are not tested (esda still gives them a z-score)
        lonely = np.isin(np.arange(len(sample)), [w.id_order.index(i) for i in w.islands])
        assert ((out["gi_class"] == "no neighbours").to_numpy() == lonely).all()
        assert np.isnan(out["gi_z"].to_numpy()[lonely]).all()
        np.testing.assert_allclose(out["gi_z"].to_numpy()[~lonely], ref.Zs[~lonely], atol=1e-6)


def test_hot_spots_never_label_units_without_neighbours():
    # three far-apart high values with no neighbour within 100 m, and a connected block
    xy = np.array([[0, 0], [50, 0], [0, 50], [50, 50], [5000, 5000], [9000, 0], [0, 9000]])
    gdf = gpd.GeoDataFrame({"v": [1.0, 2.0, 1.0, 2.0, 90.0, 95.0, 99.0]},
                           geometry=gpd.points_from_xy(*xy.T), crs="EPSG:32650")
    with pytest.warns(UserWarning, match="3 of 7 units have no neighbours"):
        out = hot_spots(gdf, "v", weights=100.0, fdr=None)
    assert list(out["gi_class"].iloc[4:]) == ["no neighbours"] * 3
    assert (out["gi_bin"].iloc[4:] == 0).all() and out["gi_p"].iloc[4:].isna().all()


def test_gi_classes_follow_arcgis_levels_and_fdr(grid):
    raw = hot_spots(grid, "count", fdr=None)
    p, z = raw["gi_p"].to_numpy(), raw["gi_z"].to_numpy()
    expected = np.sign(z) * np.select([p <= 0.01, p <= 0.05, p <= 0.10], [3, 2, 1], 0)
    np.testing.assert_array_equal(raw["gi_bin"].to_numpy(), expected)
    assert set(raw["gi_class"]) <= set(GI_CLASSES.values())
    assert (raw.loc[raw["gi_bin"] == 3, "gi_class"] == "hot spot 99%").all()
    assert (raw.loc[raw["gi_bin"] == -2, "gi_class"] == "cold spot 95%").all()
    assert (raw.loc[raw["gi_bin"] == 0, "gi_class"] == "not significant").all()
    assert all(c == c.lower() for c in GI_CLASSES.values())
    corrected = hot_spots(grid, "count", fdr=0.05)
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(corrected["gi_p_fdr"].to_numpy(), q)
    assert (corrected.loc[corrected["gi_bin"] != 0, "gi_p_fdr"] <= 0.05).all()
    assert (corrected["gi_bin"] != 0).sum() <= (raw["gi_bin"] != 0).sum()
    assert (corrected["gi_bin"] > 0).any()  # the planted cluster survives


def test_benjamini_hochberg_against_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.001])
    # sorted: .001 .01 .03 .04 .2 -> *5/rank: .005 .025 .05 .05 .2 -> running min from the top
    np.testing.assert_allclose(benjamini_hochberg(p), [0.025, 0.05, 0.05, 0.2, 0.005])


def test_hot_spots_survive_row_filtering(grid):
    sub = grid[grid["row"] < 10]
    out = hot_spots(sub, "count")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(sub["count"].to_numpy(), _w(sub), star=True, transform="B",
                           permutations=0)
    np.testing.assert_allclose(out["gi_z"].to_numpy(), ref.Zs, atol=1e-6)


def test_morans_i_matches_esda(grid):
    res = morans_i(grid, "count", permutations=199, seed=3)
    ref = esda.Moran(grid["count"].to_numpy(), _w(grid), permutations=0)
    for name in ("I", "EI", "VI_norm", "z_norm", "p_norm", "VI_rand", "z_rand", "p_rand"):
        assert getattr(res, name) == pytest.approx(getattr(ref, name), rel=1e-9, abs=1e-12)
    assert res.p_sim == pytest.approx(1 / 200)
    again = morans_i(grid, "count", permutations=199, seed=3)
    assert again == res
    random_field = grid.assign(noise=np.random.default_rng(5).normal(size=len(grid)))
    r = morans_i(random_field, "noise", permutations=199, seed=1)
    assert r.p_sim > 0.01 and abs(r.z_norm) < 3.5


@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_libpysal_w_and_graph_equal_the_spec_string(grid, kind):
    sub = grid[grid["row"] < 12]                       # a non-trivial index (row filter)
    w = _w(sub, kind)                                  # libpysal W, ids = positions
    graph = libpysal.graph.Graph.build_contiguity(sub, rook=kind == "rook")  # ids = index
    shuffled = libpysal.graph.Graph.from_sparse(         # same graph, ids in another order
        graph.sparse, ids=graph.unique_ids).assign_self_weight(0)
    by_spec = hot_spots(sub, "count", weights=kind)
    for spec in (w, graph, shuffled, w.sparse):
        out = hot_spots(sub, "count", weights=spec)
        np.testing.assert_allclose(out["gi_z"].to_numpy(), by_spec["gi_z"].to_numpy(),
                                   atol=1e-12)
        assert out["gi_class"].equals(by_spec["gi_class"])
    ref = morans_i(sub, "count", weights=kind, permutations=0)
    for spec in (w, graph):
        res = morans_i(sub, "count", weights=spec, permutations=0)
        assert (res.I, res.z_norm, res.n) == (pytest.approx(ref.I, abs=1e-12),
                                              pytest.approx(ref.z_norm, abs=1e-9), ref.n)


def test_libpysal_graph_in_another_order_is_aligned_by_index(grid):
    sub = grid[grid["row"] < 8]
    graph = libpysal.graph.Graph.build_contiguity(sub.iloc[::-1], rook=False)
    by_spec = hot_spots(sub, "count", weights="queen")
    out = hot_spots(sub, "count", weights=graph)
    np.testing.assert_allclose(out["gi_z"].to_numpy(), by_spec["gi_z"].to_numpy(), atol=1e-12)
    other = libpysal.graph.Graph.build_contiguity(grid[grid["row"] < 9], rook=False)
    with pytest.raises(ValueError, match="libpysal Graph has .* units but the layer has"):
        hot_spots(sub, "count", weights=other)


def test_local_morans_matches_esda(grid):
    out = local_morans(grid, "count", permutations=499, seed=7)
    w = _w(grid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local(grid["count"].to_numpy(), w, permutations=499, seed=7)
    np.testing.assert_allclose(out["lisa_i"].to_numpy(), ref.Is, atol=1e-9)
    np.testing.assert_array_equal(out["lisa_q"].to_numpy(), ref.q)
    np.testing.assert_allclose(out["lisa_ei"].to_numpy(), ref.EI, atol=1e-12)
    np.testing.assert_allclose(out["lisa_vi"].to_numpy(), ref.VI, atol=1e-9)
    # pseudo p-values use different random draws: agree within Monte Carlo error
    p, p_ref = out["lisa_p"].to_numpy(), ref.p_sim
    se = np.sqrt(np.maximum(p_ref * (1 - p_ref), 1e-3) / 499)
    assert np.mean(np.abs(p - p_ref) <= 4 * se + 2 / 500) > 0.99
    assert stats.spearmanr(p, p_ref).statistic > 0.95
    again = local_morans(grid, "count", permutations=499, seed=7)
    np.testing.assert_array_equal(again["lisa_p"].to_numpy(), p)
    quads = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
    assert (out["lisa_quadrant"] == out["lisa_q"].map(quads)).all()
    sig = out["lisa_p"] <= 0.05
    assert (out.loc[~sig, "lisa_class"] == "not significant").all()
    assert (out.loc[sig, "lisa_class"] == out.loc[sig, "lisa_quadrant"]).all()
    assert (out.loc[sig, "lisa_class"] == "high-high").any()


def test_autocorrelation_bad_input(grid):
    with pytest.raises(DataError, match="constant"):
        hot_spots(grid.assign(c=1), "c")
    with pytest.raises(DataError, match="at least 3"):
        hot_spots(grid.iloc[:2], "count")
    with pytest.raises(DataError, match="at least 4"):
        morans_i(grid.iloc[:3], "count")
    bad = grid.assign(x=grid["count"].astype(float))
    bad.loc[5, "x"] = np.nan
    with pytest.raises(DataError, match=r"NaN.*rows \[5\]"):
        local_morans(bad, "x", permutations=9)
    with pytest.raises(ValueError, match="fdr"):
        hot_spots(grid, "count", fdr=1.5)
    with pytest.raises(DataError, match="no column"):
        morans_i(grid, "missing")


def test_local_morans_never_label_units_without_neighbours():
    # a connected block of eight and three far-apart units: the islands have no lag, so
    # they get no quadrant (esda would call an island with a high value "high-low")
    xy = np.array([[0, 0], [50, 0], [100, 0], [150, 0], [0, 50], [50, 50], [100, 50],
                   [150, 50], [5000, 5000], [9000, 0], [0, 9000]])
    v = [1.0, 2.0, 8.0, 9.0, 1.5, 2.5, 8.5, 9.5, 90.0, 95.0, 0.0]
    gdf = gpd.GeoDataFrame({"v": v}, geometry=gpd.points_from_xy(*xy.T), crs="EPSG:32650")
    with pytest.warns(UserWarning, match="3 of 11 units have no neighbours"):
        out = local_morans(gdf, "v", weights=100.0, permutations=99, seed=1)
    assert list(out["lisa_class"].iloc[8:]) == ["no neighbours"] * 3
    assert list(out["lisa_quadrant"].iloc[8:]) == ["no neighbours"] * 3
    assert (out["lisa_q"].iloc[8:] == 0).all()
    for col in ("lisa_i", "lisa_p", "lisa_z", "lisa_ei", "lisa_vi"):
        assert out[col].iloc[8:].isna().all() and out[col].iloc[:8].notna().all()
    # connected units keep esda's statistic on the same weights
    w = libpysal.weights.DistanceBand.from_dataframe(gdf, threshold=100.0, binary=True,
                                                     silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local(gdf["v"].to_numpy(), w, permutations=99, seed=1)
    np.testing.assert_allclose(out["lisa_i"].to_numpy()[:8], ref.Is[:8], atol=1e-9)
    np.testing.assert_array_equal(out["lisa_q"].to_numpy()[:8], ref.q[:8])
