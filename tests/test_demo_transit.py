"""The demo's real metro layers (OpenStreetMap) and the datum audit of its real places."""

import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

import cci_geo
from cci_geo import Atlas, datum

DATA = Path(cci_geo.__file__).resolve().parents[1] / "data"
GEOD = Geod(ellps="WGS84")


def _metres(a, b):
    return float(GEOD.inv(a.x, a.y, b.x, b.y)[2])


def _build_module(name):
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def demo():
    return cci_geo.load_demo()


def _station(demo, name_zh):
    st = demo["stations"]
    return st.loc[st["name_zh"] == name_zh].iloc[0]


def test_stations_are_real_osm_rows_one_per_station(demo):
    st = demo["stations"]
    assert 360 <= len(st) <= 371 and st["id"].is_unique
    assert st["name_zh"].is_unique
    assert (st["mode"] == "metro").all()
    # the extract's box: nothing north of 40.1 N (the stated coverage gap)
    assert st.geometry.y.max() < 40.1 and st.geometry.y.min() > 39.4
    # a transfer station is one row serving several lines
    xzm = _station(demo, "西直门")
    assert set(xzm["lines"].split(";")) == {"line_2", "line_4", "line_13"}
    dzm = _station(demo, "东直门")  # four OSM nodes, one station
    assert len(dzm["osm_node_ids"].split(";")) == 4
    assert {"line_2", "line_13", "capital_airport_express"} <= set(dzm["lines"].split(";"))
    prov = demo.provenance["stations"]
    assert prov["status"] == "real" and "ODbL" in prov["licence"]
    for text in (prov["notes"], prov["attribution"]):
        assert "40.1" in text and "OpenStreetMap" in text


def test_entrances_and_lines_refer_to_stations(demo):
    st, ent, lines = demo["stations"], demo["station_entrances"], demo["transit_lines"]
    ids = set(st["id"])
    assert set(ent["station_id"]) == ids  # every station has an access point
    real = ent[ent["access_point"] == "entrance"]
    counts = real["station_id"].value_counts().reindex(st["id"], fill_value=0)
    assert (counts.to_numpy() == st["n_entrances"].to_numpy()).all()
    assert (ent.loc[ent["access_point"] == "station", "station_id"].map(
        st.set_index("id")["n_entrances"]) == 0).all()
    for _, line in lines.iterrows():
        assert set(line["station_ids"].split(";")) <= ids
    served = {x for v in st["lines"] for x in v.split(";") if x}
    assert served <= set(lines["id"]) | {"yizhuang_t1_line", "xijiao_line"}
    for kind in ("station_entrances", "transit_lines"):
        assert demo.provenance[kind]["attribution"] == demo.provenance["stations"]["attribution"]


def test_lines_follow_station_order_with_official_track_lengths(demo):
    lines = demo["transit_lines"].set_index("id")
    loop = lines.loc["line_2"]
    assert loop["loop"] and loop.geometry.is_ring
    assert not lines.loc["line_1"]["loop"]
    # fully placed lines: the polyline through the stations is close to the track length
    # (the Capital Airport Express runs T3 -> T2 by a loop round the airport: left out)
    full = lines[(lines["n_stops_unplaced"] == 0) & (lines.index != "capital_airport_express")]
    assert len(full) >= 8
    metric = gpd.GeoSeries(full.geometry, crs=4326).to_crs(32650).length
    ratio = metric / full["track_length_m"]
    assert ratio.between(0.85, 1.05).all(), ratio.to_dict()
    # Line 1 runs west to east through Tian'anmen West before Tian'anmen East
    order = lines.loc["line_1", "station_ids"].split(";")
    st = demo["stations"].set_index("name_zh")
    assert order.index(st.loc["天安门西", "id"]) + 1 == order.index(st.loc["天安门东", "id"])


def test_palace_museum_lies_inside_the_palace_walls(demo):
    """The Forbidden City's axis runs between the Tian'anmen West/East stations (OSM)."""
    v01 = demo["venues"].set_index("id").loc["V01"]
    west, east = _station(demo, "天安门西").geometry, _station(demo, "天安门东").geometry
    walls = shapely.box(116.3866, 39.9130, 116.3954, 39.9217)  # 753 x 961 m around the axis
    assert west.x < walls.centroid.x < east.x
    assert walls.contains(v01.geometry)
    published = shapely.Point(v01["published_lon"], v01["published_lat"])
    assert not walls.contains(published) and published.x > east.x  # east of the east wall
    assert v01["datum_verdict"] == "gcj02" and v01["confidence"] == "high"
    assert 500 < v01["datum_shift_m"] < 650
    # converting back reproduces the published (GCJ-02) point to a metre
    gx, gy = datum.wgs84_to_gcj02(np.array([v01.geometry.x]), np.array([v01.geometry.y]))
    assert _metres(shapely.Point(gx[0], gy[0]), published) < 1.0


def test_namoc_matches_its_station_and_en_wikipedia(demo):
    v04 = demo["venues"].set_index("id").loc["V04"]
    assert v04["datum_verdict"] == "gcj02"
    assert _metres(v04.geometry, _station(demo, "中国美术馆").geometry) < 300
    # en.wikipedia's 39.9236 N 116.4028 E, 0.55 km from de.wikipedia's (reference notes)
    assert _metres(v04.geometry, shapely.Point(116.4028, 39.9236)) < 150


def test_beijing_node_and_langyuan_are_wgs84_as_published(demo):
    node = demo["nodes"].set_index("id").loc["beijing"]
    assert node["datum_verdict"] == "wgs84" and node["datum_shift_m"] == 0
    west, east = _station(demo, "天安门西").geometry, _station(demo, "天安门东").geometry
    assert west.x < node.geometry.x < east.x
    ofp04 = demo["zones"].set_index("id").loc["OFP04"]
    assert ofp04["datum_verdict"] == "wgs84"
    assert _metres(ofp04.geometry, _station(demo, "大望路").geometry) < 500


def test_every_real_place_carries_a_verdict_with_evidence(demo):
    for kind in ("zones", "venues", "demonstrative_regions", "functional_areas", "nodes"):
        g = demo[kind]
        assert g["datum_verdict"].isin(["wgs84", "gcj02", "undecided"]).all(), kind
        assert (g["datum_evidence"].str.len() > 40).all(), kind
        und = g[g["datum_verdict"] == "undecided"]
        # no anchor decides: the confidence drops a grade (high -> medium -> low)
        lowered = {"high": "medium", "medium": "low", "low": "low"}
        assert (und["confidence"] == und["confidence_published"].map(lowered)).all(), kind
        assert und["datum_evidence"].str.contains("no anchor decides|undecided|borderline").all()
        moved = g[g["datum_verdict"] == "gcj02"]
        assert moved["datum_shift_m"].between(450, 700).all(), kind
    f = demo["factory_sites"]
    real = f[f["data_status"] != "synthetic"]
    assert real["datum_verdict"].isin(["wgs84", "gcj02", "undecided"]).all()
    assert f.loc[f["data_status"] == "synthetic", "datum_verdict"].isna().all()


def test_audit_is_reproducible_from_the_anchor_table(demo):
    audit = _build_module("datum_audit")
    transit = _build_module("build_transit")
    ref = DATA / "reference"
    anchors = audit.load_anchors(ref)
    assert anchors["source"].str.len().gt(10).all()  # every anchor names its source
    stations = transit.build_transit(ref)["stations"]
    sites = pd.read_csv(ref / "cci_sites.csv", dtype=str)
    sites[["lon", "lat"]] = sites[["lon", "lat"]].astype(float)
    redone = audit.audit(sites, anchors, stations).set_index("id")
    venues = demo["venues"].set_index("id")
    assert (redone.loc[venues.index, "datum_verdict"] == venues["datum_verdict"]).all()
    assert np.allclose(redone.loc[venues.index, "lon"], venues.geometry.x, atol=1e-7)
    # a point 100 m from an anchor whose GCJ-02 reading is 600 m away is WGS-84
    probe = pd.DataFrame({"id": ["V01"], "lon": [116.3910], "lat": [39.9170],
                          "confidence": ["high"]})
    assert audit.audit(probe, anchors, stations)["datum_verdict"].iloc[0] == "wgs84"


def test_briefing_and_print_maps_draw_the_metro_with_its_credit(demo):
    import json
    import re

    import cci_geo.maps as cm
    from cci_geo.maps.static import _source_line

    kinds = ("districts", "zones", "transit_lines", "stations", "station_entrances")
    small = Atlas({k: demo[k] for k in kinds}, demo.provenance)
    html = cm.briefing_map(small, lang="en").get_root().render()
    for name in ("Transit lines", "Transit stations", "Station entrances"):
        assert name in html
    assert demo["transit_lines"].set_index("id").loc["line_1", "colour"] in html  # own colours
    credit = demo.provenance["stations"]["attribution"]
    lines = [json.loads(t) for t in
             re.findall(r"cciGeo\.attribution\([^,]+, (\[.*?\])\);", html)][0]
    assert lines.count(credit) == 1  # once, though three layers carry it
    assert credit in _source_line(small, "en")
    without = Atlas({"districts": demo["districts"]}, demo.provenance)
    assert credit not in cm.briefing_map(without, lang="en").get_root().render()
