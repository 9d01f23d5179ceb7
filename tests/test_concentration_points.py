"""Ripley's K/L and the Duranton–Overman K-density against brute-force computations."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from scipy.spatial.distance import pdist
from shapely.geometry import box

from cci_geo.concentration import k_density, ripley
from cci_geo.errors import DataError
from cci_geo.results import result_kind

REGION = gpd.GeoDataFrame(geometry=[box(0, 0, 10_000, 10_000)], crs="EPSG:32650")


def _pts(xy: np.ndarray, **cols: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(*xy.T), crs="EPSG:32650")


def test_ripley_k_equals_brute_force_and_csr_stays_in_envelope():
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 10_000, (300, 2))
    d = np.array([250.0, 500.0, 1000.0, 2000.0])
    out = ripley(_pts(xy), distances_m=d, simulations=39, region=REGION, seed=1)
    dist = pdist(xy)
    brute = [1e8 / (300 * 299) * 2 * (dist <= r).sum() for r in d]
    np.testing.assert_allclose(out["k"], brute)
    np.testing.assert_allclose(out["l"], np.sqrt(np.array(brute) / math.pi))
    assert ((out["l"] >= out["l_lo"]) & (out["l"] <= out["l_hi"])).mean() >= 0.75
    assert result_kind(out) == "ripley"


def test_ripley_detects_clustering():
    rng = np.random.default_rng(5)
    centres = rng.uniform(1000, 9000, (5, 2))
    xy = np.clip(centres[rng.integers(0, 5, 300)] + rng.normal(0, 200, (300, 2)), 1, 9999)
    out = ripley(_pts(xy), distances_m=[200, 400, 800], simulations=19, region=REGION)
    assert out["clustered"].all()
    again = ripley(_pts(xy), distances_m=[200, 400, 800], simulations=19, region=REGION)
    assert out.equals(again)


def test_ripley_errors():
    same = _pts(np.full((5, 2), 500.0))
    with pytest.raises(DataError, match="distinct"):
        ripley(same, distances_m=[100])
    outside = _pts(np.array([[100.0, 100.0], [20_000.0, 100.0], [300, 300]]))
    with pytest.raises(DataError, match="outside the study region"):
        ripley(outside, distances_m=[100], region=REGION)
    with pytest.raises(ValueError, match="positive metres"):
        ripley(_pts(np.array([[1.0, 1.0], [2.0, 2.0]])), distances_m=[0, 10])


def test_k_density_matches_direct_kernel_sum():
    rng = np.random.default_rng(6)
    xy = rng.uniform(0, 10_000, (400, 2))
    sector = np.where(np.arange(400) < 60, "design", "media")
    pts = _pts(xy, sector=sector)
    grid = np.arange(250.0, 5001.0, 250.0)
    out = k_density(pts, "design", distances_m=grid, bandwidth_m=300.0, simulations=0)
    dij = pdist(xy[:60])
    f = (np.exp(-0.5 * ((grid[:, None] - dij) / 300) ** 2)
         + np.exp(-0.5 * ((grid[:, None] + dij) / 300) ** 2)) / math.sqrt(2 * math.pi)
    direct = f.sum(axis=1) / (300 * 60 * 59 / 2)
    np.testing.assert_allclose(out["k"], direct, rtol=2e-3, atol=1e-3 * direct.max())


def test_k_density_random_labelling_bands():
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 10_000, (600, 2))
    hub = rng.normal(3000, 300, (80, 2))
    pts = _pts(np.r_[xy, hub], sector=["media"] * 600 + ["design"] * 80)
    out = k_density(pts, "design", simulations=39, seed=2)
    assert out["localised"].any() and out.loc[out["distance_m"] <= 1000, "localised"].all()
    assert (out["gamma"] >= 0).all() and out["gamma"].max() > 0
    assert (out["global_hi"] >= out["local_hi"] - 1e-15).all()
    random = k_density(pts, "media", simulations=39, seed=2)
    assert not random.loc[random["distance_m"] <= 2000, "localised"].any()
    assert out.attrs["n"] == 80


def test_k_density_errors():
    pts = _pts(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), sector=["a", "b", "b"])
    with pytest.raises(DataError, match="needs >= 2"):
        k_density(pts, "a")
    with pytest.raises(DataError, match="Known"):
        k_density(pts, "zzz")
    with pytest.raises(DataError, match="every enterprise"):
        k_density(pts.assign(sector="a"), "a")
