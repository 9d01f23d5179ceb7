"""Shared fixtures: tiny synthetic layers built in code, one in EPSG:4326 and one projected."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

import cci_geo

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo() -> cci_geo.Atlas:
    """The embedded demo atlas, loaded once per session (do not modify its frames)."""
    return cci_geo.load_demo()


@pytest.fixture
def enterprises() -> gpd.GeoDataFrame:
    """Six enterprises around 798 and Zhongguancun, EPSG:4326."""
    rng = np.random.default_rng(0)
    lon = 116.49 + rng.normal(0, 0.01, 6)
    lat = 39.98 + rng.normal(0, 0.01, 6)
    return gpd.GeoDataFrame(
        {"id": [f"E{i}" for i in range(6)],
         "sector": ["design", "media", "design", "art_exchange", "film_tv", "design"],
         "revenue_cny": [1e6, 2e6, 5e5, 3e6, 8e6, 1e5],
         "employees": [10, 20, 5, 30, 80, 2], "founded": [2001, 2010, 2015, 2008, 2019, 2022],
         "extra_note": list("abcdef")},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


@pytest.fixture
def zones_metric() -> gpd.GeoDataFrame:
    """Two square parks in EPSG:32650."""
    return gpd.GeoDataFrame(
        {"id": ["Z1", "Z2"], "name_en": ["A", "B"], "kind": ["park", "base"],
         "sectors": ["design;media", "film_tv"]},
        geometry=[box(450000, 4420000, 450500, 4420500), box(452000, 4421000, 452300, 4421300)],
        crs="EPSG:32650")


@pytest.fixture
def venue_point() -> gpd.GeoDataFrame:
    """One valid venue in EPSG:4326."""
    return gpd.GeoDataFrame({"id": ["V1"], "kind": ["museum"], "open_space_m2": [5000.0]},
                            geometry=[Point(116.3356, 39.9049)], crs="EPSG:4326")


def file_digest(path: Path) -> str:
    """SHA-256 of a file, to prove inputs are never modified."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def digest():
    """The :func:`file_digest` helper, as a fixture."""
    return file_digest


@pytest.fixture(scope="module")
def offline_driver():
    """A headless Chromium with the network blocked (skips without one; see tests/_browser.py)."""
    from _browser import offline_chromium, require_browser

    chromium, chromedriver = require_browser()
    with offline_chromium(chromium, chromedriver) as drv:
        yield drv
