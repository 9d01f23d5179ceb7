import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import cci_geo
from cci_geo import Atlas, SchemaError
from cci_geo.schema import SECTORS


def test_demo_has_every_kind_in_4326(demo):
    expected = {"districts", "functional_areas", "demonstrative_regions", "zones",
                "factory_sites", "venues", "enterprises", "nodes", "corridors", "stations",
                "station_entrances", "transit_lines"}
    assert set(demo) == expected
    for gdf in demo.values():
        assert gdf.crs.to_epsg() == 4326
    assert demo.metric_crs == "EPSG:32650"


def test_demo_districts_carry_beijing_adcodes(demo):
    d = demo["districts"]
    bj = d[d["province"] == "Beijing"]
    assert sorted(bj["adcode"]) == sorted(
        ["110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111",
         "110112", "110113", "110114", "110115", "110116", "110117", "110118", "110119"])
    assert (bj["level"] == "district").all()
    assert set(d.loc[d["province"] == "Hebei", "name_en"]) >= {"Baoding", "Langfang",
                                                               "Zhangjiakou", "Tangshan"}
    assert (d.loc[d["province"] == "Hebei", "level"] == "city").sum() == 11
    assert d["name_zh"].notna().all() and d["name_en"].notna().all()


def test_demo_boundaries_are_wgs84_not_gcj02(demo):
    """High-confidence WGS-84 (Wikipedia) points fall in their documented districts.

    Big Air Shougang lies about 300 m from the Shijingshan/Mentougou line: with the raw
    GCJ-02 boundaries (shifted ~550 m east) it would fall in Mentougou.
    """
    d = demo["districts"][["name_en", "geometry"]]
    sites = pd.read_csv(_reference("cci_sites.csv"))
    good = sites[sites["confidence"].isin(["high", "medium"])].dropna(subset=["lon"])
    pts = gpd.GeoDataFrame(good, geometry=gpd.points_from_xy(good.lon, good.lat), crs=4326)
    joined = gpd.sjoin(pts, d.rename(columns={"name_en": "in_district"}), predicate="within")
    assert len(joined) == len(good)
    assert (joined["district_en"] == joined["in_district"]).all()
    raw = cci_geo.datum.convert_gdf(d, "wgs84", "gcj02")  # what the unconverted data were
    shougang = pts.loc[pts["id"] == "OFP03", ["id", "geometry"]]
    assert gpd.sjoin(shougang, raw, predicate="within")["name_en"].iloc[0] == "Mentougou"
    # the whole layer moved by the GCJ-02 offset (~0.5-0.7 km) relative to the raw data
    shift = (raw.to_crs(32650).centroid.distance(d.to_crs(32650).centroid))
    assert shift.between(300, 800).all()


def _reference(name):
    from pathlib import Path

    return Path(cci_geo.__file__).resolve().parents[1] / "data" / "reference" / name


def test_demo_enterprises_are_synthetic_clustered_and_heavy_tailed(demo):
    e = demo["enterprises"]
    assert 19_000 <= len(e) <= 21_000
    assert set(e["sector"]) == set(SECTORS)
    assert demo.provenance["enterprises"]["status"] == "synthetic"
    by_district = e["district"].value_counts()
    top4 = set(by_district.index[:4])
    assert top4 == {"110105", "110108", "110101", "110102"}  # Chaoyang, Haidian, Dong/Xicheng
    rev = e["revenue_cny"].to_numpy()
    assert np.percentile(rev, 99) > 20 * np.median(rev)  # heavy tail
    assert e["district"].str.startswith("11").all()


def test_demo_places_keep_source_and_confidence(demo):
    for kind in ("zones", "venues", "nodes", "demonstrative_regions"):
        assert {"source", "confidence"} <= set(demo[kind].columns), kind
    fs = demo["factory_sites"]
    assert set(fs["status"]) >= {"reused", "candidate"}
    assert (fs.loc[fs["data_status"] == "synthetic", "id"].str.startswith("SF")).all()
    assert "synthetic" in demo.provenance["factory_sites"]["status"]
    fa = demo["functional_areas"]
    assert fa["footprint"].str.startswith("approximate").all()


def test_provenance_has_every_field(demo):
    for kind, prov in demo.provenance.items():
        assert set(prov) == {"source", "licence", "datum", "status", "notes", "attribution"}, kind
        assert prov["status"] != "unknown"


def test_gpkg_round_trip(tmp_path, demo):
    small = Atlas({"zones": demo["zones"], "venues": demo["venues"]},
                  {"zones": demo.provenance["zones"]}, metric_crs="EPSG:4547", name="mine")
    path = small.to_gpkg(tmp_path / "mine.gpkg")
    back = Atlas.from_gpkg(path)
    assert back.name == "mine" and back.metric_crs == "EPSG:4547"
    assert back.provenance["zones"] == demo.provenance["zones"]
    assert back.provenance["venues"]["status"] == "unknown"
    pd.testing.assert_series_equal(back["zones"]["id"], small["zones"]["id"],
                                   check_dtype=False)
    with pytest.raises(FileExistsError):
        small.to_gpkg(path)


def test_atlas_validates_and_copies(enterprises):
    atlas = Atlas({"enterprises": enterprises})
    atlas["enterprises"].loc[0, "employees"] = 999
    assert enterprises.loc[0, "employees"] == 10
    bad = enterprises.assign(sector="fashion")
    with pytest.raises(SchemaError, match="fashion"):
        Atlas({"enterprises": bad})
    with pytest.raises(ValueError, match="unknown layer kind 'parks'"):
        Atlas({"parks": enterprises})
    with pytest.raises(ValueError, match="projected CRS"):
        Atlas({}, metric_crs="EPSG:4326")
    with pytest.raises(ValueError, match="status 'made up'"):
        Atlas({"enterprises": enterprises}, {"enterprises": {"status": "made up"}})


def test_with_layer_summary_repr_and_missing_kind(demo):
    extra = gpd.GeoDataFrame({"id": ["S1"], "mode": ["metro"]}, geometry=[Point(116.4, 39.9)],
                             crs="EPSG:4326")
    new = demo.with_layer("stations", extra, {"status": "synthetic", "source": "test"})
    assert len(new["stations"]) == 1 and len(demo["stations"]) > 300
    assert new.is_synthetic("stations")
    s = new.summary()
    assert list(s.columns)[:3] == ["layer", "features", "geometry"]
    assert "enterprises=" in repr(demo)
    with pytest.raises(KeyError, match="has no 'stations' layer"):
        Atlas({"zones": demo["zones"]})["stations"]
    assert demo.to_metric("zones").crs.to_epsg() == 32650


def test_from_gpkg_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        Atlas.from_gpkg(tmp_path / "none.gpkg")
    other = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(116.4, 39.9)], crs=4326)
    other.to_file(tmp_path / "x.gpkg", layer="roads")
    with pytest.raises(cci_geo.errors.DataError, match="no table named after a layer kind"):
        Atlas.from_gpkg(tmp_path / "x.gpkg")


def test_load_demo_returns_a_fresh_atlas():
    a, b = cci_geo.load_demo(), cci_geo.load_demo()
    a["zones"].loc[a["zones"].index[0], "name_en"] = "changed"
    assert b["zones"]["name_en"].iloc[0] != "changed"
