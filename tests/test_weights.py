"""Spatial weights builders against libpysal (test-only oracle)."""

from __future__ import annotations

import geopandas as gpd
import libpysal
import numpy as np
import pytest
import shapely
from scipy import sparse

from cci_geo._weights import (
    distance_band_weights,
    grid_weights,
    knn_weights,
    polygon_weights,
    weights_from_spec,
)


def _same(a: sparse.spmatrix, b: sparse.spmatrix) -> bool:
    return (sparse.csr_matrix(a) != sparse.csr_matrix(b)).nnz == 0


@pytest.mark.parametrize("contiguity", ["queen", "rook"])
def test_full_grid_matches_lat2w(contiguity):
    W = grid_weights(7, 9, contiguity=contiguity)
    oracle = libpysal.weights.lat2W(7, 9, rook=contiguity == "rook")
    assert _same(W, oracle.sparse)
    assert W.diagonal().sum() == 0


def test_subset_grid_follows_given_order():
    r = np.array([2, 0, 1, 1, 5])
    c = np.array([2, 0, 1, 0, 5])
    W = grid_weights(r, c, contiguity="queen").toarray()
    # (2,2)-(1,1) diagonal; (0,0)-(1,1) diagonal; (0,0)-(1,0) edge; (1,1)-(1,0) edge; (5,5) alone
    expected = {(0, 2), (1, 2), (1, 3), (2, 3)}
    got = {(i, j) for i, j in zip(*np.nonzero(np.triu(W)), strict=True)}
    assert got == expected
    assert W[4].sum() == 0
    rook = grid_weights(r, c, contiguity="rook").toarray()
    assert {(i, j) for i, j in zip(*np.nonzero(np.triu(rook)), strict=True)} == {(1, 3), (2, 3)}


def test_grid_rejects_duplicates_and_bad_contiguity():
    with pytest.raises(ValueError, match="unique"):
        grid_weights(np.array([0, 0]), np.array([1, 1]))
    with pytest.raises(ValueError, match="queen"):
        grid_weights(3, 3, contiguity="bishop")


def _tessellation() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    pts = shapely.multipoints(rng.uniform(0, 1000, (60, 2)))
    frame = shapely.box(0, 0, 1000, 1000)
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame))
    cells = shapely.intersection(cells, shapely.box(0, 0, 1000, 1000))
    return gpd.GeoDataFrame(geometry=cells, crs="EPSG:32650")


@pytest.mark.parametrize("contiguity", ["queen", "rook"])
def test_polygons_match_libpysal(contiguity):
    gdf = _tessellation()
    W = polygon_weights(gdf.geometry, contiguity=contiguity)
    cls = libpysal.weights.Queen if contiguity == "queen" else libpysal.weights.Rook
    oracle = cls.from_dataframe(gdf, use_index=False, silence_warnings=True)
    assert _same(W, oracle.sparse)


def test_knn_and_distance_band_match_libpysal():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 5000, (80, 2))
    assert _same(knn_weights(xy, 5), libpysal.weights.KNN(xy, k=5).sparse)
    band = libpysal.weights.DistanceBand(xy, threshold=900.0, binary=True, silence_warnings=True)
    assert _same(distance_band_weights(xy, 900.0), band.sparse)


def test_spec_resolution_and_errors():
    gdf = _tessellation()
    W, desc = weights_from_spec(gdf, "knn:4")
    assert desc == "knn:4" and W.sum() == 4 * len(gdf)
    W, desc = weights_from_spec(gdf, 250)
    assert desc.startswith("distance")
    user = sparse.eye(len(gdf), format="csr") + sparse.eye(len(gdf), k=1, format="csr")
    W, desc = weights_from_spec(gdf, user)
    assert W.diagonal().sum() == 0 and W.nnz == len(gdf) - 1
    pts = gpd.GeoDataFrame(geometry=gdf.centroid, crs=gdf.crs)
    with pytest.raises(ValueError, match="knn"):
        weights_from_spec(pts, "queen")
    with pytest.raises(ValueError, match="not understood"):
        weights_from_spec(gdf, "hexagonal")
    with pytest.raises(ValueError, match="> 0"):
        weights_from_spec(gdf, -5)
    with pytest.raises(ValueError, match="shape"):
        weights_from_spec(gdf, sparse.eye(3, format="csr"))
