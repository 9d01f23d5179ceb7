"""Clusters (DBSCAN/HDBSCAN footprints) and the designation gap."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from cci_geo.concentration import clusters, designation_gap
from cci_geo.errors import CRSMismatchError, DataError
from cci_geo.results import result_kind

X0, Y0 = 440_000.0, 4_420_000.0


@pytest.fixture(scope="module")
def firms() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(11)
    a = rng.normal([X0, Y0], 150, (120, 2))            # design-heavy cluster
    b = rng.normal([X0 + 5000, Y0], 150, (80, 2))      # media cluster
    noise = rng.uniform([X0 - 8000, Y0 - 8000], [X0 + 8000, Y0 + 8000], (60, 2))
    xy = np.r_[a, b, noise]
    sector = np.r_[np.where(np.arange(120) < 90, "design", "media"), ["media"] * 80,
                   rng.choice(["film_tv", "publishing"], 60)]
    revenue = np.r_[np.full(120, 2.0e6), np.full(80, 1.0e6), np.full(60, 5.0e5)]
    gdf = gpd.GeoDataFrame({"sector": sector, "revenue_cny": revenue},
                           geometry=gpd.points_from_xy(*xy.T), crs="EPSG:32650")
    return gdf.to_crs("EPSG:4326")


def test_dbscan_clusters_with_footprint_and_mix(firms):
    cl = clusters(firms, eps_m=200, min_samples=8)
    assert len(cl) == 2 and cl.crs == firms.crs
    assert result_kind(cl) == "clusters"
    big, small = cl.iloc[0], cl.iloc[1]
    assert big["id"] == "cl001" and big["n"] >= 110 and small["n"] >= 70
    assert big["dominant_sector"] == "design" and small["dominant_sector"] == "media"
    assert big["share_design"] == pytest.approx(90 / big["n"], abs=0.05)
    shares = cl.filter(like="share_").sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert big["revenue_cny"] == pytest.approx(2.0e6 * big["n"], rel=0.1)
    metric = cl.to_crs("EPSG:32650")
    np.testing.assert_allclose(cl["area_km2"], metric.area / 1e6)
    # footprint = convex hull of members buffered by eps/2: contains every member
    members = firms.to_crs("EPSG:32650").geometry
    inside = members.within(metric.geometry.iloc[0]).sum()
    assert inside >= big["n"]
    np.testing.assert_allclose(cl["density_per_km2"], cl["n"] / cl["area_km2"])


def test_hdbscan_and_by_sector(firms):
    cl = clusters(firms, method="hdbscan", min_samples=5, min_cluster_size=30, eps_m=None)
    assert 2 <= len(cl) <= 4 and cl["n"].sum() >= 150
    by = clusters(firms, eps_m=200, min_samples=8, by="sector")
    assert set(by["sector"]) <= {"design", "media"}
    assert by["id"].str.match(r"^(design|media)-\d{3}$").all()
    assert (by.groupby("sector")["dominant_sector"].first().index
            == by.groupby("sector")["dominant_sector"].first().to_numpy()).all()


def test_no_clusters_and_bad_input(firms):
    none = clusters(firms.iloc[200:], eps_m=10, min_samples=20)
    assert len(none) == 0 and result_kind(none) == "clusters"
    with pytest.raises(ValueError, match="method"):
        clusters(firms, method="kmeans")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eps_m must be > 0"):
        clusters(firms, eps_m=-1)
    with pytest.raises(DataError, match="empty"):
        clusters(firms.iloc[:0])


def test_designation_gap_both_ways(firms):
    cl = clusters(firms, eps_m=200, min_samples=8)
    zones = gpd.GeoDataFrame(
        {"id": ["Z1", "Z2"], "name_en": ["Hub park", "Empty park"]},
        geometry=[Point(X0, Y0), Point(X0 - 6000, Y0 + 6000)], crs="EPSG:32650",
    ).to_crs("EPSG:4326")
    areas = gpd.GeoDataFrame(
        {"id": ["F1"]}, geometry=[box(X0 + 4000, Y0 - 1000, X0 + 6000, Y0 + 1000)],
        crs="EPSG:32650").to_crs("EPSG:4326")
    gap = designation_gap(cl, {"zones": zones, "functional_areas": areas}, point_radius_m=150)
    c = gap.clusters.set_index("id")
    assert c.loc["cl001", "designation"] == "partly"        # a 150 m park inside a big cluster
    assert c.loc["cl002", "designation"] == "designated"    # wholly inside F1
    assert c.loc["cl001", "designated_ids"] == "Z1"
    d = gap.designated.set_index("id")
    assert d.loc["Z1", "cluster_present"] and d.loc["Z1", "cluster_ids"] == "cl001"
    assert d.loc["Z1", "cluster_strength"] == c.loc["cl001", "n"]
    assert not d.loc["Z2", "cluster_present"] and d.loc["Z2", "cluster_strength"] == 0
    assert d.loc["F1", "kind"] == "functional_areas"
    assert result_kind(gap.clusters) == "designation_gap_clusters"
    assert result_kind(gap.designated) == "designation_gap_designated"
    lone = designation_gap(cl, zones.iloc[[1]])
    assert (lone.clusters["designation"] == "undesignated").all()
    with pytest.raises(CRSMismatchError):
        designation_gap(cl, zones.to_crs("EPSG:32650"))
    with pytest.raises(TypeError, match="Atlas"):
        designation_gap(cl, 42)
