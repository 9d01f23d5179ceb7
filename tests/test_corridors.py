"""Tests of cci_geo.corridors on small hand-checked cases and on the demo atlas."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, Point, box

from cci_geo import corridors as cc
from cci_geo.errors import CRSMismatchError, DataError
from cci_geo.results import result_kind

UTM = "EPSG:32650"

# Node coordinates of the reference table jingjinji_nodes.csv (WGS-84).
NODES = {
    "beijing": ("Beijing", 116.391242, 39.905905),
    "langfang": ("Hebei", 116.7036, 39.5236),
    "tianjin": ("Tianjin", 117.2054, 39.1336),
    "baoding": ("Hebei", 115.4646, 38.8738),
    "zhangjiakou": ("Hebei", 114.8846, 40.7675),
    "chengde": ("Hebei", 117.94, 40.97),
}


@pytest.fixture
def nodes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": list(NODES), "name_en": [k.title() for k in NODES],
         "province": [v[0] for v in NODES.values()]},
        geometry=[Point(v[1], v[2]) for v in NODES.values()], crs="EPSG:4326",
    )


@pytest.fixture
def spec() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["AX01", "AX02", "CB02"],
        "name_en": ["Beijing-Tianjin", "Beijing-Baoding", "Great Wall belt"],
        "kind": ["development_axis", "development_axis", "cultural_belt"],
        "node_ids": ["beijing;langfang;tianjin", "beijing;baoding", "zhangjiakou;beijing;chengde"],
        "source": ["s1", "s2", "s3"],
    })


@pytest.fixture
def axis_m() -> gpd.GeoDataFrame:
    """An L-shaped 20 km axis in UTM 50N: east 10 km, then north 10 km."""
    line = LineString([(0, 0), (10_000, 0), (10_000, 10_000)])
    return gpd.GeoDataFrame({"id": ["L"], "origin_km": [0.0]}, geometry=[line], crs=UTM)


# --------------------------------------------------------------------------- corridor axes


def test_corridors_from_nodes_builds_ordered_polylines(nodes, spec):
    before = nodes.copy()
    out = cc.corridors_from_nodes(nodes, spec)
    assert result_kind(out) == "corridors"
    assert list(out["id"]) == ["AX01", "AX02", "CB02"]
    assert out.crs == nodes.crs
    assert list(out.geometry[0].coords) == [NODES[n][1:] for n in ("beijing", "langfang",
                                                                    "tianjin")]
    assert out.loc[0, "start_node"] == "beijing" and out.loc[0, "end_node"] == "tianjin"
    assert out["source"].tolist() == ["s1", "s2", "s3"]          # extra spec columns kept
    assert out.loc[2, "name_zh"] == ""                            # missing text column added
    pd.testing.assert_frame_equal(nodes, before)                  # input untouched


def test_corridor_length_matches_geodesic_oracle(nodes, spec):
    out = cc.corridors_from_nodes(nodes, spec)
    geod = Geod(ellps="WGS84")
    for row, seq in zip(out.itertuples(), spec["node_ids"], strict=True):
        ids = seq.split(";")
        lons = [NODES[i][1] for i in ids]
        lats = [NODES[i][2] for i in ids]
        true_km = geod.line_length(lons, lats) / 1000.0
        # UTM 50N scale error is below 0.3 % across Jing-Jin-Ji.
        assert row.length_km == pytest.approx(true_km, rel=3e-3)


def test_origin_km_is_position_of_beijing_on_the_axis(nodes, spec):
    out = cc.corridors_from_nodes(nodes, spec, origin="beijing").set_index("id")
    assert out.loc["AX01", "origin_km"] == 0.0                    # starts in Beijing
    geod = Geod(ellps="WGS84")
    zb = geod.inv(*NODES["zhangjiakou"][1:], *NODES["beijing"][1:])[2] / 1000.0
    assert out.loc["CB02", "origin_node"] == "beijing"
    assert out.loc["CB02", "origin_km"] == pytest.approx(zb, rel=3e-3)
    for first in (cc.corridors_from_nodes(nodes, spec, origin="first").set_index("id"),
                  cc.corridors_from_nodes(nodes, spec).set_index("id")):   # no role column
        assert first.loc["CB02", "origin_km"] == 0.0
        assert first.loc["CB02", "origin_node"] == "zhangjiakou"


def test_origin_comes_from_the_nodes_role_not_from_a_name(nodes, spec, caplog):
    roles = nodes.assign(role=["Capital; the one core", "node", "twin city", "", "node", None])
    with caplog.at_level("INFO", logger="cci_geo"):
        out = cc.corridors_from_nodes(roles, spec).set_index("id")
    assert out.loc["CB02", "origin_node"] == "beijing" and "pass origin=" in caplog.text
    # the capital of another atlas is whatever node has that role, whatever its id
    renamed = roles.assign(id=["peking", *roles["id"][1:]])
    spec2 = spec.assign(node_ids=spec["node_ids"].str.replace("beijing", "peking"))
    out2 = cc.corridors_from_nodes(renamed, spec2).set_index("id")
    assert out2.loc["CB02", "origin_node"] == "peking"
    assert out2.loc["CB02", "origin_km"] == pytest.approx(out.loc["CB02", "origin_km"])
    hub = roles.assign(role=["node", "hub; airport", "", "", "", ""])
    assert cc.corridors_from_nodes(hub, spec).set_index("id").loc["AX01", "origin_node"] == \
        "langfang"


def test_spec_as_mapping_lists_and_kinds_filter(nodes, spec):
    out = cc.corridors_from_nodes(nodes, {"X": ["tianjin", "langfang", "beijing"]},
                                  origin="beijing")
    assert out.loc[0, "node_ids"] == "tianjin;langfang;beijing"
    # Beijing is the last node: distances from Beijing are negative towards Tianjin.
    assert out.loc[0, "origin_km"] == pytest.approx(out.loc[0, "length_km"])
    axes = cc.corridors_from_nodes(nodes, spec, kinds=["development_axis"])
    assert list(axes["id"]) == ["AX01", "AX02"]


def test_consecutive_repeats_collapse(nodes):
    out = cc.corridors_from_nodes(nodes, {"X": "beijing;beijing;tianjin"})
    assert out.loc[0, "node_ids"] == "beijing;tianjin"
    assert out.loc[0, "n_nodes"] == 2


def test_unknown_node_ids_are_named_with_valid_ids(nodes):
    with pytest.raises(DataError, match=r"corridor 'X'.*\['tainjin'\].*valid node ids.*'baoding'"):
        cc.corridors_from_nodes(nodes, {"X": "beijing;tainjin"})


@pytest.mark.parametrize("seq", ["beijing", "beijing;beijing", ""])
def test_corridor_needs_two_distinct_nodes(nodes, seq):
    with pytest.raises(DataError, match="fewer than two distinct nodes"):
        cc.corridors_from_nodes(nodes, {"X": seq})


def test_coincident_nodes_give_zero_length_error(nodes):
    twin = pd.concat([nodes, nodes.iloc[[0]].assign(id="beijing2")], ignore_index=True)
    twin = gpd.GeoDataFrame(twin, crs=nodes.crs)
    with pytest.raises(DataError, match="zero length"):
        cc.corridors_from_nodes(twin, {"X": "beijing;beijing2"})


def test_bad_origin_and_duplicate_ids(nodes, spec):
    with pytest.raises(ValueError, match="origin='peking' is not a node id"):
        cc.corridors_from_nodes(nodes, spec, origin="peking")
    dup = pd.concat([spec, spec.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match="unique"):
        cc.corridors_from_nodes(nodes, dup)


def test_nodes_in_wrong_crs_are_rejected(nodes, spec):
    projected_as_degrees = nodes.to_crs(UTM).set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(CRSMismatchError, match="look projected"):
        cc.corridors_from_nodes(projected_as_degrees, spec)
    with pytest.raises(CRSMismatchError, match="no CRS"):
        cc.corridors_from_nodes(nodes.set_crs(None, allow_override=True), spec)
    swapped = nodes.copy()
    swapped.geometry = gpd.points_from_xy(nodes.geometry.y, nodes.geometry.x)
    with pytest.raises(CRSMismatchError, match="swapped"):
        cc.corridors_from_nodes(swapped, spec)


def test_corridors_from_lines_orients_and_merges():
    bj, tj = NODES["beijing"][1:], NODES["tianjin"][1:]
    mid = (116.8, 39.5)
    lines = gpd.GeoDataFrame(
        {"id": ["C1", "C2"], "note": ["drawn from Tianjin", "two parts"]},
        geometry=[LineString([tj, bj]), MultiLineString([[bj, mid], [mid, tj]])],
        crs="EPSG:4326",
    )
    out = cc.corridors_from_lines(lines, origin=cc.BEIJING_LONLAT)
    assert result_kind(out) == "corridors"
    for geom in out.geometry:
        assert geom.geom_type == "LineString"
        assert geom.coords[0] == pytest.approx(bj)
    assert out["note"].tolist() == ["drawn from Tianjin", "two parts"]
    assert out["origin_km"].tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    kept = cc.corridors_from_lines(lines)          # default: no origin, lines as drawn
    assert kept.geometry[0].coords[0] == pytest.approx(tj)
    assert kept["origin_km"].tolist() == [0.0, 0.0]


def test_corridors_from_lines_rejects_gapped_multilines():
    gapped = gpd.GeoDataFrame({"id": ["G"]}, crs=UTM, geometry=[
        MultiLineString([[(0, 0), (1000, 0)], [(5000, 0), (6000, 0)]])])
    with pytest.raises(DataError, match="row 0 .*id 'G'.* do not merge"):
        cc.corridors_from_lines(gapped, origin=None)
    with pytest.raises(DataError, match="LineString or MultiLineString"):
        cc.corridors_from_lines(gpd.GeoDataFrame({"id": ["P"]}, geometry=[Point(0, 0)], crs=UTM))


# --------------------------------------------------------------------------- zones


def test_zone_areas_hand_checked():
    ax = gpd.GeoDataFrame({"id": ["A"]}, geometry=[LineString([(0, 0), (10_000, 0)])], crs=UTM)
    flat = cc.corridor_zones(ax, width_km=2, cap="flat")
    assert result_kind(flat) == "corridor_zones"
    assert flat.loc[0, "area_km2"] == pytest.approx(20.0)
    assert flat.loc[0, "half_width_km"] == 1.0
    rnd = cc.corridor_zones(ax, width_km=2)
    assert rnd.loc[0, "area_km2"] == pytest.approx(20.0 + math.pi, rel=1e-3)


def test_zones_are_buffered_in_metres_not_degrees(nodes, spec):
    axes = cc.corridors_from_nodes(nodes, spec)
    zones = cc.corridor_zones(axes, width_km=20, cap="flat")
    assert zones.crs == axes.crs
    for row in zones.itertuples():
        # a polyline with bends: flat-capped area is about length x width
        assert row.area_km2 == pytest.approx(row.length_km * 20, rel=0.03)


def test_zones_clip_to_region_and_per_corridor_widths():
    ax = gpd.GeoDataFrame({"id": ["A", "B"]}, crs=UTM, geometry=[
        LineString([(0, 0), (10_000, 0)]), LineString([(0, 5000), (10_000, 5000)])])
    region = gpd.GeoDataFrame({"id": ["r"]}, geometry=[box(-1e5, -1e5, 5000, 1e5)], crs=UTM)
    zones = cc.corridor_zones(ax, width_km={"A": 2, "B": 4}, region=region, cap="flat")
    assert zones["area_km2"].tolist() == pytest.approx([10.0, 20.0])
    assert zones["clipped"].tolist() == [True, True]
    assert zones["width_km"].tolist() == [2.0, 4.0]
    with pytest.raises(DataError, match=r"no width for corridor id\(s\) \['B'\]"):
        cc.corridor_zones(ax, width_km={"A": 2})


@pytest.mark.parametrize("width", [0, -5, float("nan"), float("inf")])
def test_zero_or_negative_width_is_an_error(axis_m, width):
    with pytest.raises(ValueError, match="width_km must be > 0 km"):
        cc.corridor_zones(axis_m, width_km=width)


def test_zone_region_crs_mismatch_and_disjoint_region(axis_m):
    region_4326 = gpd.GeoDataFrame({"id": ["r"]}, geometry=[box(116, 39, 117, 40)],
                                   crs="EPSG:4326")
    with pytest.raises(CRSMismatchError, match="EPSG:32650.*EPSG:4326"):
        cc.corridor_zones(axis_m, width_km=2, region=region_4326)
    far = gpd.GeoDataFrame({"id": ["r"]}, geometry=[box(1e6, 1e6, 1.1e6, 1.1e6)], crs=UTM)
    with pytest.raises(DataError, match=r"\['L'\] do not overlap the region"):
        cc.corridor_zones(axis_m, width_km=2, region=far)


# --------------------------------------------------------------------------- membership


def test_linear_referencing_on_known_line(axis_m):
    zones = cc.corridor_zones(axis_m, width_km=6)
    sites = gpd.GeoDataFrame(
        {"id": ["east", "bend", "north", "far"], "kind": ["a", "b", "c", "d"]},
        geometry=[Point(3000, -1500), Point(11_000, -1000), Point(12_000, 4000),
                  Point(30_000, 0)],
        crs=UTM,
    )
    before = sites.copy()
    m = cc.membership(zones, sites, corridors=axis_m)
    assert result_kind(m) == "corridor_membership"
    assert m["id"].tolist() == ["east", "bend", "north"]          # ordered along the axis
    assert m["along_km"].tolist() == pytest.approx([3.0, 10.0, 14.0])
    assert m["axis_distance_km"].tolist() == pytest.approx([1.5, math.hypot(1, 1), 2.0])
    assert m["position"].tolist() == pytest.approx([0.15, 0.5, 0.7])
    assert m["share"].tolist() == [1.0, 1.0, 1.0]
    assert m["kind"].tolist() == ["a", "b", "c"]                  # feature columns kept
    assert m.crs == sites.crs
    pd.testing.assert_frame_equal(sites, before)


def test_from_origin_km_is_signed_around_beijing(nodes, spec):
    axes = cc.corridors_from_nodes(nodes, spec, origin="beijing")
    zones = cc.corridor_zones(axes, width_km=30)
    m = cc.membership(zones, nodes, corridors=axes)
    cb = m[m["corridor_id"] == "CB02"].set_index("id")
    assert cb.loc["beijing", "from_origin_km"] == pytest.approx(0.0, abs=1e-6)
    assert cb.loc["zhangjiakou", "from_origin_km"] < -100
    assert cb.loc["chengde", "from_origin_km"] > 100
    ax = m[m["corridor_id"] == "AX01"].set_index("id")
    assert ax.loc["tianjin", "along_km"] == pytest.approx(axes.loc[0, "length_km"])
    assert ax.loc["langfang", "axis_distance_km"] == pytest.approx(0.0, abs=1e-6)


def test_polygon_membership_share_and_threshold(axis_m):
    zones = cc.corridor_zones(axis_m, width_km=4, cap="flat")
    districts = gpd.GeoDataFrame(
        {"id": ["crossed", "quarter", "outside"]},
        geometry=[box(2000, -1000, 4000, 1000), box(5000, 1000, 7000, 5000),
                  box(0, 20_000, 1000, 21_000)],
        crs=UTM,
    )
    m = cc.membership(zones, districts, corridors=axis_m).set_index("id")
    assert list(m.index) == ["crossed", "quarter"]
    assert m.loc["crossed", "share"] == pytest.approx(1.0)
    assert m.loc["crossed", "axis_distance_km"] == 0.0
    assert m.loc["crossed", "along_km"] == pytest.approx(3.0)
    assert m.loc["quarter", "share"] == pytest.approx(0.25)
    assert m.loc["quarter", "along_km"] == pytest.approx(6.0)
    assert m.loc["quarter", "axis_distance_km"] == pytest.approx(1.0)
    strict = cc.membership(zones, districts, corridors=axis_m, min_share=0.5)
    assert strict["id"].tolist() == ["crossed"]


def test_membership_errors(axis_m):
    zones = cc.corridor_zones(axis_m, width_km=4)
    pts = gpd.GeoDataFrame({"id": ["p"]}, geometry=[Point(116.4, 39.9)], crs="EPSG:4326")
    with pytest.raises(CRSMismatchError, match="zones is in EPSG:32650 but layer is in EPSG:4326"):
        cc.membership(zones, pts, corridors=axis_m)
    clash = gpd.GeoDataFrame({"id": ["p"], "along_km": [1.0]}, geometry=[Point(0, 0)], crs=UTM)
    with pytest.raises(DataError, match=r"\['along_km'\]"):
        cc.membership(zones, clash, corridors=axis_m)
    other = axis_m.assign(id="M")
    with pytest.raises(DataError, match=r"zones \['L'\] have no corridor"):
        cc.membership(zones, clash.drop(columns="along_km"), corridors=other)


# --------------------------------------------------------------------------- gravity


@pytest.fixture
def three_places() -> gpd.GeoDataFrame:
    # A-B 5 km, A-C 10 km, B-C sqrt(45) km
    return gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "name_en": ["Ay", "Bee", "Cee"], "firms": [100, 50, 20]},
        geometry=[Point(0, 0), Point(3000, 4000), Point(0, 10_000)], crs=UTM,
    )


def test_gravity_power_flows_by_hand(three_places):
    f = cc.gravity_flows(three_places, mass="firms", beta=2.0)
    assert result_kind(f) == "flows"
    got = {(o, d): v for o, d, v in zip(f["origin"], f["destination"], f["flow"], strict=True)}
    assert got == pytest.approx({("A", "B"): 100 * 50 / 5**2, ("A", "C"): 100 * 20 / 10**2,
                                 ("B", "C"): 50 * 20 / 45})
    assert f["rank"].tolist() == [1, 2, 3]
    assert f.loc[0, "origin_name_en"] == "Ay" and f.loc[0, "destination_name_en"] == "Bee"
    assert f["flow_share"].sum() == pytest.approx(1.0)
    assert f.loc[0, "distance_km"] == pytest.approx(5.0)
    assert list(f.geometry[0].coords) == [(0.0, 0.0), (3000.0, 4000.0)]


def test_gravity_exponential_and_exponents_by_hand(three_places):
    f = cc.gravity_flows(three_places, mass={"A": 4, "B": 9, "C": 1}, beta=0.1,
                         decay="exponential", k=2.0, alpha=0.5, directed=True)
    assert len(f) == 6
    ab = f[(f["origin"] == "A") & (f["destination"] == "B")]["flow"].item()
    assert ab == pytest.approx(2.0 * 2 * 3 * math.exp(-0.5))
    g = cc.gravity_flows(three_places, mass="firms", beta=1.0, alpha=1.0, gamma=0.0,
                         directed=True)
    ab, ba = (g.set_index(["origin", "destination"]).loc[p, "flow"] for p in
              [("A", "B"), ("B", "A")])
    assert ab == pytest.approx(100 / 5) and ba == pytest.approx(50 / 5)


def test_gravity_with_given_distances_top_n_and_geographic_places(three_places):
    dist = pd.DataFrame([[0, 10, 20], [10, 0, 40], [20, 40, 0]], index=list("ABC"),
                        columns=list("ABC"))
    f = cc.gravity_flows(three_places, mass="firms", beta=1.0, distances_km=dist, top_n=2)
    assert len(f) == 2
    assert f["flow"].tolist() == pytest.approx([100 * 50 / 10, 100 * 20 / 20])
    geo = three_places.to_crs("EPSG:4326")
    g = cc.gravity_flows(geo, mass="firms", beta=2.0, metric_crs=UTM)
    assert g.crs == geo.crs
    assert g.loc[0, "distance_km"] == pytest.approx(5.0, rel=1e-6)


def test_gravity_uses_polygon_centroids():
    cities = gpd.GeoDataFrame({"id": ["a", "b"], "m": [2.0, 3.0]}, crs=UTM,
                              geometry=[box(0, 0, 2000, 2000), box(10_000, 0, 12_000, 2000)])
    f = cc.gravity_flows(cities, mass="m", beta=1.0)
    assert f.loc[0, "distance_km"] == pytest.approx(10.0)
    assert f.loc[0, "flow"] == pytest.approx(0.6)


def test_gravity_bad_input(three_places):
    with pytest.raises(DataError, match=r"no value for places id\(s\) \['C'\]"):
        cc.gravity_flows(three_places, mass={"A": 1, "B": 2}, beta=1)
    neg = three_places.assign(firms=[1, -2, 3])
    with pytest.raises(DataError, match=r"\('B', -2.0\)"):
        cc.gravity_flows(neg, mass="firms", beta=1)
    with pytest.raises(ValueError, match="beta must be finite and >= 0"):
        cc.gravity_flows(three_places, mass="firms", beta=-1)
    with pytest.raises(ValueError, match="decay must be"):
        cc.gravity_flows(three_places, mass="firms", beta=1, decay="linear")
    with pytest.raises(ValueError, match="directed=True"):
        cc.gravity_flows(three_places, mass="firms", beta=1, gamma=2.0)
    with pytest.raises(DataError, match="mass column 'revenue'"):
        cc.gravity_flows(three_places, mass="revenue", beta=1)
    with pytest.raises(DataError, match="at least two places"):
        cc.gravity_flows(three_places.iloc[:1], mass="firms", beta=1)


def test_place_masses_counts_and_sums():
    areas = gpd.GeoDataFrame({"id": ["a", "b", "c"]}, crs=UTM, geometry=[
        box(0, 0, 10, 10), box(10, 0, 20, 10), box(100, 100, 110, 110)])
    pts = gpd.GeoDataFrame({"employees": [3, 4, 5, 6]}, crs=UTM, geometry=[
        Point(1, 1), Point(10, 5), Point(15, 5), Point(500, 500)])   # (10, 5) on the border
    out = cc.place_masses(areas, pts)
    assert out["mass"].tolist() == [2.0, 1.0, 0.0]
    assert out["n_points"].tolist() == [2, 1, 0]
    assert "mass" not in areas.columns
    emp = cc.place_masses(areas, pts, weight="employees", name="emp")
    assert emp["emp"].tolist() == [7.0, 5.0, 0.0]
    with pytest.warns(UserWarning, match="1 missing"):
        cc.place_masses(areas, pts.assign(employees=[3, None, 5, 6]), weight="employees")
    with pytest.raises(CRSMismatchError):
        cc.place_masses(areas, pts.to_crs("EPSG:4326"))


@pytest.fixture
def grid_places() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    n = 12
    xy = rng.uniform(0, 200_000, size=(n, 2))
    return gpd.GeoDataFrame({"id": [f"p{i}" for i in range(n)],
                             "m": rng.uniform(10, 1000, size=n).round(1)},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM)


@pytest.mark.parametrize("decay,beta", [("power", 1.7), ("exponential", 0.02)])
def test_calibration_recovers_parameters_exactly(grid_places, decay, beta):
    flows = cc.gravity_flows(grid_places, mass="m", beta=beta, decay=decay, k=0.3)
    fit = cc.calibrate_gravity(flows, grid_places, mass="m", decay=decay)
    assert fit.beta == pytest.approx(beta, rel=1e-9)
    assert fit.k == pytest.approx(0.3, rel=1e-9)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.n == len(flows) and fit.n_dropped == 0
    again = cc.gravity_flows(grid_places, mass="m", **fit.params())
    np.testing.assert_allclose(again["flow"], flows["flow"], rtol=1e-9)


def test_calibration_matches_scipy_linregress(grid_places):
    from scipy import stats

    flows = cc.gravity_flows(grid_places, mass="m", beta=2.0)
    noise = np.random.default_rng(3).lognormal(0.0, 0.3, size=len(flows))
    obs = pd.DataFrame({"origin": flows["origin"], "destination": flows["destination"],
                        "flow": flows["flow"] * noise})
    fit = cc.calibrate_gravity(obs, grid_places, mass="m")
    y = np.log(obs["flow"] / (flows["mass_origin"] * flows["mass_destination"]))
    ref = stats.linregress(np.log(flows["distance_km"]), y)
    assert fit.beta == pytest.approx(-ref.slope, rel=1e-9)
    assert fit.k == pytest.approx(math.exp(ref.intercept), rel=1e-9)
    assert fit.r2 == pytest.approx(ref.rvalue**2, rel=1e-9)
    assert fit.se_beta == pytest.approx(ref.stderr, rel=1e-9)


def test_calibration_with_free_exponents_matches_sklearn(grid_places):
    from sklearn.linear_model import LinearRegression

    flows = cc.gravity_flows(grid_places, mass="m", beta=1.2, alpha=0.8, gamma=0.6,
                             directed=True)
    noise = np.random.default_rng(5).lognormal(0.0, 0.2, size=len(flows))
    obs = flows[["origin", "destination"]].assign(flow=flows["flow"] * noise)
    fit = cc.calibrate_gravity(obs, grid_places, mass="m", fit_exponents=True)
    X = np.column_stack([np.log(flows["mass_origin"]), np.log(flows["mass_destination"]),
                         -np.log(flows["distance_km"])])
    ref = LinearRegression().fit(X, np.log(obs["flow"]))
    assert [fit.alpha, fit.gamma, fit.beta] == pytest.approx(list(ref.coef_), rel=1e-8)
    assert fit.k == pytest.approx(math.exp(ref.intercept_), rel=1e-8)
    assert fit.beta == pytest.approx(1.2, abs=0.1)


def test_calibration_drops_unloggable_rows_and_rejects_bad_input(three_places):
    obs = pd.DataFrame({"origin": ["A", "A", "B", "C"], "destination": ["B", "C", "C", "C"],
                        "flow": [200.0, 0.0, 22.0, 5.0]})
    with pytest.raises(DataError, match="at least 2 usable"), pytest.warns(UserWarning,
                                                                           match="2 of 3"):
        cc.calibrate_gravity(obs.iloc[[0, 1, 3]], three_places, mass="firms")
    with pytest.warns(UserWarning, match="2 of 4 observed flows left out"):
        fit = cc.calibrate_gravity(obs, three_places, mass="firms")
    assert fit.n == 2 and fit.n_dropped == 2 and math.isnan(fit.se_beta)
    with pytest.raises(DataError, match=r"\['Z'\]"):
        cc.calibrate_gravity(obs.assign(origin="Z"), three_places, mass="firms")
    with pytest.raises(DataError, match="lacks column 'trips'"):
        cc.calibrate_gravity(obs, three_places, mass="firms", flow_column="trips")
    square = gpd.GeoDataFrame({"id": list("ABCD"), "m": [1.0, 2, 3, 4]}, crs=UTM,
                              geometry=[Point(0, 0), Point(1000, 0), Point(0, 1000),
                                        Point(1000, 1000)])
    same_d = pd.DataFrame({"origin": ["A", "C"], "destination": ["B", "D"], "flow": [1.0, 2.0]})
    with pytest.raises(DataError, match="cannot identify"):
        cc.calibrate_gravity(same_d, square, mass="m")


# --------------------------------------------------------------------------- candidates


@pytest.fixture
def region() -> gpd.GeoDataFrame:
    """Beijing west of x=20 km, Hebei east of it (UTM coordinates of a toy region)."""
    return gpd.GeoDataFrame(
        {"id": ["bj", "hb"], "province": ["Beijing", "Hebei"]},
        geometry=[box(-10_000, -30_000, 20_000, 30_000), box(20_000, -30_000, 120_000, 30_000)],
        crs=UTM,
    )


@pytest.fixture
def toy_corridor() -> gpd.GeoDataFrame:
    nodes = gpd.GeoDataFrame({"id": ["beijing", "hub", "end"]}, crs=UTM,
                             geometry=[Point(0, 0), Point(50_000, 0), Point(100_000, 0)])
    return cc.corridors_from_nodes(nodes, {"K": "beijing;hub;end"})


def test_cooperation_candidates_rank_by_position_and_access(region, toy_corridor):
    zones = cc.corridor_zones(toy_corridor, width_km=20, region=region)
    sites = gpd.GeoDataFrame(
        {"id": ["in_bj", "near", "mid_off", "far", "outside"]},
        geometry=[Point(5_000, 0), Point(30_000, 0), Point(50_000, 8_000), Point(90_000, 0),
                  Point(60_000, 25_000)],
        crs=UTM,
    )
    every = cc.cooperation_candidates(sites, zones, toy_corridor, districts=region)
    assert set(every["id"]) == {"in_bj", "near", "mid_off", "far"}   # nothing excluded by default
    out = cc.cooperation_candidates(sites, zones, toy_corridor, districts=region,
                                    exclude_province="Beijing")
    assert result_kind(out) == "cooperation_candidates"
    # Beijing site and the site outside the zone are gone.
    # position: |from_origin| near 30, mid_off 50, far 90 km -> 1, 2/3, 0
    # access (distance to the axis): 0, 8, 0 km -> 1, 0, 1 ; score = mean of the two
    assert out["id"].tolist() == ["near", "far", "mid_off"]
    assert (out["site_province"] == "Hebei").all()
    assert out["position_score"].tolist() == pytest.approx([1.0, 0.0, 2 / 3])
    assert out["access_score"].tolist() == pytest.approx([1.0, 1.0, 0.0])
    assert out["candidate_score"].tolist() == pytest.approx([1.0, 0.5, 1 / 3])
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["along_km"].tolist() == pytest.approx([30.0, 90.0, 50.0])


def test_cooperation_candidates_with_hubs_score_and_weights(region, toy_corridor):
    zones = cc.corridor_zones(toy_corridor, width_km=20, region=region)
    hubs = gpd.GeoDataFrame({"id": ["hub"]}, geometry=[Point(50_000, 0)], crs=UTM)
    sites = gpd.GeoDataFrame({"id": ["s1", "s2", "s3"], "suit": [0.2, 0.9, 0.5]}, crs=UTM,
                             geometry=[Point(30_000, 0), Point(52_000, 0), Point(90_000, 0)])
    out = cc.cooperation_candidates(sites, zones, toy_corridor, districts=region, hubs=hubs,
                                    score="suit")
    assert out.set_index("id")["access_km"].to_dict() == pytest.approx(
        {"s1": 20.0, "s2": 2.0, "s3": 40.0})
    assert out["id"].tolist() == ["s2", "s1", "s3"]
    assert out.loc[0, "suitability_score"] == pytest.approx(1.0)
    only_score = cc.cooperation_candidates(sites, zones, toy_corridor, districts=region,
                                           score="suit", component_weights={"score": 1}, top_n=2)
    assert only_score["id"].tolist() == ["s2", "s3"]
    assert only_score["candidate_score"].tolist() == pytest.approx([1.0, 3 / 7])


def test_cooperation_candidates_site_in_two_zones_reported_once(region):
    nodes = gpd.GeoDataFrame({"id": ["beijing", "e", "ne"]}, crs=UTM,
                             geometry=[Point(0, 0), Point(100_000, 0), Point(100_000, 20_000)])
    axes = cc.corridors_from_nodes(nodes, {"E": "beijing;e", "NE": "beijing;ne"})
    zones = cc.corridor_zones(axes, width_km=30, region=region)
    sites = gpd.GeoDataFrame({"id": ["s"], "province": ["Hebei"]}, geometry=[Point(60_000, 5000)],
                             crs=UTM)
    out = cc.cooperation_candidates(sites, zones, axes)            # province column on sites
    assert len(out) == 1
    assert out.loc[0, "corridor_ids"] == "E;NE"
    assert out.loc[0, "corridor_id"] in ("E", "NE")


def test_cooperation_candidates_empty_and_errors(region, toy_corridor):
    zones = cc.corridor_zones(toy_corridor, width_km=20, region=region)
    only_bj = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(1000, 0)], crs=UTM)
    out = cc.cooperation_candidates(only_bj, zones, toy_corridor, districts=region,
                                    exclude_province="Beijing")
    assert len(out) == 0 and "candidate_score" in out.columns and "rank" in out.columns
    with pytest.raises(DataError, match="no 'province' column"):
        cc.cooperation_candidates(only_bj, zones, toy_corridor)
    with pytest.raises(DataError, match=r"sites\['suit'\].*\['a'\]"):
        cc.cooperation_candidates(only_bj.assign(suit=[None]), zones, toy_corridor,
                                  districts=region, score="suit")
    with pytest.raises(ValueError, match="unknown key"):
        cc.cooperation_candidates(only_bj, zones, toy_corridor, districts=region,
                                  component_weights={"speed": 1})
    with pytest.raises(CRSMismatchError):
        cc.cooperation_candidates(only_bj.to_crs("EPSG:4326"), zones, toy_corridor,
                                  districts=region)


def test_gravity_distance_matrix_errors(three_places):
    dist = pd.DataFrame([[0, 10], [10, 0]], index=["A", "B"], columns=["A", "B"])
    with pytest.raises(DataError, match=r"distances_km lacks place id\(s\) \['C'\]"):
        cc.gravity_flows(three_places, mass="firms", beta=1.0, distances_km=dist)
    full = pd.DataFrame(np.ones((3, 3)), index=list("ABC"), columns=list("ABC"))
    full.loc["A", "C"] = np.nan
    with pytest.raises(DataError, match=r"distances_km\['A'\]\['C'\] is nan"):
        cc.gravity_flows(three_places, mass="firms", beta=1.0, distances_km=full)


# --------------------------------------------------------------------------- demo atlas


@pytest.fixture(scope="module")
def demo():
    import cci_geo

    atlas = cci_geo.load_demo()
    axes = cc.corridors_from_nodes(atlas["nodes"], atlas["corridors"])
    zones = cc.corridor_zones(axes, width_km=30, region=atlas["districts"])
    return atlas, axes, zones


def test_demo_corridors_rebuild_the_atlas_layer(demo):
    atlas, axes, zones = demo
    ref = atlas["corridors"]
    assert axes["id"].tolist() == ref["id"].tolist()
    assert all(a.equals_exact(b, 1e-9) for a, b in zip(axes.geometry, ref.geometry, strict=True))
    ax = axes.set_index("id")
    # the reference table gives the Huairou Science City -> Port of Tianjin corridor as ~220 km
    assert 200 < ax.loc["AX04", "length_km"] < 240
    assert ax.loc["AX04", "origin_node"] == "beijing"
    assert 50 < ax.loc["AX04", "origin_km"] < 70                 # Huairou lies north of Beijing
    assert result_kind(zones) == "corridor_zones"


def test_demo_zones_stay_inside_the_region(demo):
    atlas, axes, zones = demo
    region = atlas["districts"].to_crs(UTM).union_all()
    for zone in zones.to_crs(UTM).geometry:
        assert zone.difference(region).area < 1e-3 * zone.area
    full = cc.corridor_zones(axes, width_km=30)
    assert (zones["area_km2"] <= full["area_km2"] + 1e-6).all()
    assert zones.set_index("id").loc["AX03", "clipped"]          # the Bohai coast cuts AX03


def test_demo_district_membership_along_beijing_tianjin_axis(demo):
    atlas, axes, zones = demo
    m = cc.membership(zones, atlas["districts"], corridors=axes, min_share=0.05)
    ax01 = m[m["corridor_id"] == "AX01"].set_index("name_en")
    assert {"Dongcheng", "Chaoyang", "Tongzhou", "Langfang", "Tianjin"} <= set(ax01.index)
    assert "Yanqing" not in ax01.index and "Zhangjiakou" not in ax01.index
    assert ax01["along_km"].is_monotonic_increasing
    assert ax01.loc["Dongcheng", "along_km"] < ax01.loc["Langfang", "along_km"] < \
        ax01.loc["Tianjin", "along_km"] <= axes.loc[0, "length_km"]


def test_demo_enterprise_membership_matches_distance_oracle(demo):
    atlas, axes, zones = demo
    ent = atlas["enterprises"]
    m = cc.membership(zones, ent, corridors=axes)
    assert result_kind(m) == "corridor_membership"
    got = set(m.loc[m["corridor_id"] == "AX01", "id"])
    # Oracle: a round-capped 30 km zone is every point within 15 km of the axis (all demo
    # enterprises are inside the region). Points within 50 m of the edge are left undecided.
    d = ent.to_crs(UTM).distance(axes.to_crs(UTM).geometry[0]).to_numpy()
    clear = np.abs(d - 15_000) > 50
    want = set(ent.loc[(d <= 15_000) & clear, "id"])
    assert got - set(ent.loc[~clear, "id"]) == want
    assert (m["axis_distance_km"] <= 15.05).all()


def test_demo_cooperation_candidates(demo):
    atlas, axes, zones = demo
    dev = axes[axes["kind"] == "development_axis"]
    dev_zones = zones[zones["kind"] == "development_axis"]
    # The demo's factory sites all lie in Beijing, so none qualifies...
    sites = cc.cooperation_candidates(atlas["factory_sites"], dev_zones, dev,
                                      districts=atlas["districts"], exclude_province="Beijing")
    assert len(sites) == 0
    # ...but the corridor nodes outside Beijing do.
    cand = cc.cooperation_candidates(atlas["nodes"], dev_zones, dev,
                                     districts=atlas["districts"], exclude_province="Beijing")
    assert {"langfang", "tianjin", "xiongan", "baoding", "shijiazhuang", "tangshan",
            "qinhuangdao", "tianjin_port"} <= set(cand["id"])
    assert not {"beijing", "tongzhou", "huairou_science_city", "zhangjiakou"} & set(cand["id"])
    assert (cand["site_province"] != "Beijing").all()
    ranked = cand.set_index("id")["rank"]
    assert ranked["langfang"] < ranked["shijiazhuang"] and ranked["tianjin"] < ranked["qinhuangdao"]
    assert cand["rank"].tolist() == list(range(1, len(cand) + 1))


def test_demo_gravity_between_beijing_districts_by_hand(demo):
    atlas, _, _ = demo
    bj = atlas["districts"][atlas["districts"]["province"] == "Beijing"]
    masses = cc.place_masses(bj, atlas["enterprises"])
    assert masses["mass"].sum() == len(atlas["enterprises"])   # every enterprise counted once
    flows = cc.gravity_flows(masses, mass="mass", beta=2.0)
    assert len(flows) == 16 * 15 // 2
    top = flows.iloc[0]
    c = masses.set_index("id").to_crs(UTM).centroid
    d = c[top["origin"]].distance(c[top["destination"]]) / 1000
    m = masses.set_index("id")["mass"]
    assert top["flow"] == pytest.approx(m[top["origin"]] * m[top["destination"]] / d**2)


# Illustrative creative-industry masses for the cities outside Beijing. These are assumptions
# made up for the test, NOT statistics: the demo's enterprises are synthetic and lie only in
# Beijing, so a regional model needs masses supplied by the caller.
ASSUMED_MASS = {"120000": 6000, "130100": 1500, "130200": 900, "130300": 400, "130400": 500,
                "130500": 300, "130600": 800, "130700": 300, "130800": 300, "130900": 400,
                "131000": 700, "131100": 200}


def test_demo_regional_gravity_and_calibration_round_trip(demo, tmp_path):
    atlas, axes, zones = demo
    cities = cc.city_places(atlas["districts"])
    assert len(cities) == 13 and cities.loc[0, "name_en"] == "Beijing"
    counted = cc.place_masses(cities, atlas["enterprises"]).set_index("id")["mass"]
    mass = {**ASSUMED_MASS, "110000": float(counted["110000"])}
    flows = cc.gravity_flows(cities, mass=mass, beta=1.5)
    assert result_kind(flows) == "flows"
    assert len(flows) == 13 * 12 // 2
    assert flows.loc[0, "origin_name_en"] == "Beijing"             # Beijing's mass dominates
    assert flows.loc[0, "destination_name_en"] in ("Tianjin", "Langfang")
    fit = cc.calibrate_gravity(flows, cities, mass=mass)
    assert fit.beta == pytest.approx(1.5) and fit.r2 == pytest.approx(1.0)
    # every result can be exported for mapping
    for name, gdf in {"corridors": axes, "zones": zones, "flows": flows}.items():
        path = tmp_path / f"{name}.gpkg"
        gdf.to_file(path, driver="GPKG")
        back = gpd.read_file(path)
        assert len(back) == len(gdf)
