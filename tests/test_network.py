"""Tests of cci_geo.network: loading, speeds, travel-time matrices (networkx oracle), isochrones."""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import requests
import shapely
from shapely.geometry import LineString, Point, box

from cci_geo import Settings, network
from cci_geo.errors import CRSMismatchError, DataError, NetworkUnavailableError
from cci_geo.results import result_kind

DATA = Path(__file__).resolve().parent / "data"
OAKLAND = DATA / "West-Oakland.osm.bz2"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def walk() -> nx.MultiDiGraph:
    return network.load_graph(network.demo_streets_path(), mode="walk")


@pytest.fixture(scope="module")
def drive() -> nx.MultiDiGraph:
    return network.load_graph(network.demo_streets_path(), mode="drive")


@pytest.fixture(scope="module")
def bike() -> nx.MultiDiGraph:
    return network.load_graph(network.demo_streets_path(), mode="bike")


def _highways(G: nx.MultiDiGraph) -> set[str]:
    out: set[str] = set()
    for _, _, h in G.edges(data="highway"):
        out.update(h if isinstance(h, list) else [h])
    return out


def _points(G: nx.MultiDiGraph, n: int, seed: int) -> gpd.GeoDataFrame:
    """Points up to 60 m (per axis) from random nodes of G, in EPSG:4326."""
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    rng = np.random.default_rng(seed)
    pts = xy[rng.choice(len(xy), size=n, replace=False)] + rng.uniform(-60, 60, size=(n, 2))
    return gpd.GeoDataFrame({"id": [f"p{i}" for i in range(n)]},
                            geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]),
                            crs=G.graph["crs"]).to_crs("EPSG:4326")


def _tiny_graph() -> nx.MultiDiGraph:
    """a -> b -> c one way (plus a slower parallel a -> b), d isolated pair d <-> e."""
    G = nx.MultiDiGraph(crs="EPSG:32650")
    for name, x in (("a", 450000.0), ("b", 450100.0), ("c", 450200.0), ("d", 451000.0),
                    ("e", 451100.0)):
        G.add_node(name, x=x, y=4420000.0)
    G.add_edge("a", "b", travel_time=10.0, length=100.0)
    G.add_edge("a", "b", travel_time=50.0, length=100.0)
    G.add_edge("b", "c", travel_time=0.0, length=100.0)
    G.add_edge("d", "e", travel_time=7.0, length=100.0)
    G.add_edge("e", "d", travel_time=7.0, length=100.0)
    return G


def _at_nodes(G: nx.MultiDiGraph, names: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": names},
                            geometry=[Point(G.nodes[n]["x"], G.nodes[n]["y"]) for n in names],
                            crs=G.graph["crs"])


# --- loading -------------------------------------------------------------------------------


def test_demo_streets_load_in_every_mode(walk, bike, drive):
    for G, mode in ((walk, "walk"), (bike, "bike"), (drive, "drive")):
        assert G.graph["crs"] == "EPSG:32650"
        assert G.graph["mode"] == mode
        assert G.number_of_nodes() > 300
        xs = np.array([d["x"] for _, d in G.nodes(data=True)])
        assert 440_000 < xs.min() < xs.max() < 470_000  # UTM 50N metres around Jiuxianqiao
        for _, _, d in G.edges(data=True):
            assert d["travel_time"] == pytest.approx(d["length"] / (d["speed_kph"] / 3.6))
    assert "motorway" in _highways(drive)
    assert {"footway", "pedestrian", "cycleway", "steps", "service"}.isdisjoint(_highways(drive))
    assert {"motorway", "motorway_link", "cycleway"}.isdisjoint(_highways(walk))
    assert {"footway", "pedestrian", "residential"} <= _highways(walk)
    assert {"footway", "steps", "motorway"}.isdisjoint(_highways(bike))
    assert "cycleway" in _highways(bike)
    names = {n for _, _, n in drive.edges(data="name") if isinstance(n, str)}
    assert {"酒仙桥路", "将台路", "京顺路", "机场高速公路"} <= names


def test_one_ways_followed_by_drive_ignored_by_walk(walk, drive):
    one_way = [(u, v) for u, v, d in drive.edges(data=True) if d.get("oneway") is True]
    assert one_way, "the demo network has one-way streets"
    assert any(not drive.has_edge(v, u) for u, v in one_way)
    assert all(walk.has_edge(v, u) for u, v in walk.edges())
    ring = [(u, v) for u, v, d in drive.edges(data=True) if d.get("junction") == "roundabout"]
    assert ring and all(not drive.has_edge(v, u) for u, v in ring)


def test_drive_honours_tagged_maxspeed(drive):
    seen = {}
    for _, _, d in drive.edges(data=True):
        if isinstance(d.get("highway"), str) and isinstance(d.get("maxspeed"), str):
            seen.setdefault((d["highway"], d["maxspeed"]), d["speed_kph"])
    assert seen[("primary", "60")] == pytest.approx(60.0)  # the class default is 50
    assert seen[("motorway", "100")] == pytest.approx(100.0)
    assert seen[("tertiary", "CN:urban")] == pytest.approx(30.0)  # not numeric: class default


@pytest.mark.parametrize(("tag", "kph"), [
    ("60", 60.0), ("60 km/h", 60.0), ("30 mph", 48.28032), ("50;70", 60.0),
    (["40", "60"], 50.0), ("none", None), ("signals", None), ("CN:urban", None), (None, None),
    ("0", None), (float("nan"), None),
])
def test_parse_maxspeed(tag, kph):
    got = network.parse_maxspeed(tag)
    assert got == (None if kph is None else pytest.approx(kph))


def test_speed_overrides_and_bad_speeds():
    G = network.load_graph(network.demo_streets_path(), mode="walk",
                           speeds_kph={"default": 3.6, "steps": 1.8})
    for _, _, d in G.edges(data=True):
        if d["highway"] == "residential":
            assert d["travel_time"] == pytest.approx(d["length"])  # 1 m/s
    for bad in (0, -5, float("nan")):
        with pytest.raises(ValueError, match=r"speeds_kph\['default'\] must be > 0"):
            network.load_graph(network.demo_streets_path(), speeds_kph={"default": bad})
    with pytest.raises(TypeError, match="km/h"):
        network.load_graph(network.demo_streets_path(), speeds_kph={"primary": "fast"})
    with pytest.raises(ValueError, match="mode must be one of"):
        network.load_graph(network.demo_streets_path(), mode="car")


def test_real_osm_extract_west_oakland():
    G = network.load_graph(OAKLAND, mode="walk", metric_crs="EPSG:32610")
    assert G.graph["crs"] == "EPSG:32610"
    assert {"residential", "secondary", "footway"} <= _highways(G)
    assert all(h is not None for _, _, h in G.edges(data="highway"))  # non-street ways dropped
    D = network.load_graph(OAKLAND, mode="drive")   # UTM 10N estimated from the extent
    assert D.graph["crs"] == "EPSG:32610"
    assert {"footway", "cycleway", "service"}.isdisjoint(_highways(D))
    assert 0 < D.number_of_nodes() < G.number_of_nodes()
    tt = network.travel_time_matrix(D, _points(D, 5, seed=2), max_time_s=3600)
    walked = 2 * np.array(tt.attrs["origin_snap_m"]) / (4.8 / 3.6)
    np.testing.assert_allclose(np.diag(tt.to_numpy()), walked)  # same node: only the snaps
    assert np.isfinite(tt.to_numpy()).sum() > 5


def test_metric_crs_must_cover_the_area(caplog):
    with pytest.raises(CRSMismatchError, match="EPSG:32610"):
        network.load_graph(OAKLAND, mode="walk", metric_crs="EPSG:32650")
    with caplog.at_level("INFO", logger="cci_geo"):
        G = network.load_graph(OAKLAND, mode="walk")
    assert G.graph["crs"] == "EPSG:32610"
    assert "pass metric_crs= to choose" in caplog.text


def test_graphml_round_trip(walk, tmp_path):
    path = tmp_path / "walk.graphml"
    ox.save_graphml(walk, path)
    G = network.load_graph(path, mode="walk")
    assert G.number_of_nodes() == walk.number_of_nodes()
    assert G.number_of_edges() == walk.number_of_edges()
    assert sum(d for *_, d in G.edges(data="length")) == pytest.approx(
        sum(d for *_, d in walk.edges(data="length")))
    for u, v, k, d in G.edges(keys=True, data=True):
        if isinstance(d["highway"], str):
            assert d["travel_time"] == pytest.approx(walk.edges[u, v, k]["travel_time"])


def test_bad_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        network.load_graph(tmp_path / "missing.osm.gz")
    odd = tmp_path / "streets.dat"
    odd.write_text("x")
    with pytest.raises(ValueError, match="cannot tell the format"):
        network.load_graph(odd)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        network.load_graph("streets.osm.bz")  # a mistyped file name never goes online
    with pytest.raises(TypeError, match="source must be"):
        network.load_graph(42)
    with pytest.raises(ValueError, match="did you pass"):
        network.load_graph((39.97, 116.47, 39.99, 116.50))
    no_streets = tmp_path / "buildings.osm"
    no_streets.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="39.98" lon="116.48"/><node id="2" lat="39.981" lon="116.48"/>'
        '<node id="3" lat="39.981" lon="116.481"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>'
        '<tag k="building" v="yes"/></way></osm>')
    with pytest.raises(DataError, match="no street usable"):
        network.load_graph(no_streets)


def _offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (simulated)")

    def refuse_http(self, request, *args, **kwargs):
        raise requests.exceptions.ConnectionError(f"no route to {request.url} (simulated)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse_http)


@pytest.mark.parametrize("source", [
    (116.48, 39.97, 116.50, 39.99), "Chaoyang District, Beijing", box(116.48, 39.97, 116.5, 39.99),
])
def test_online_query_without_connection_raises(monkeypatch, tmp_path, source):
    _offline(monkeypatch)
    before = (ox.settings.use_cache, ox.settings.cache_folder, ox.settings.overpass_rate_limit)
    with pytest.raises(NetworkUnavailableError, match="unreachable") as info:
        network.load_graph(source, mode="walk", settings=Settings(cache_dir=tmp_path))
    assert "demo_streets_path" in str(info.value)
    assert (ox.settings.use_cache, ox.settings.cache_folder,
            ox.settings.overpass_rate_limit) == before


def test_online_query_uses_our_cache_settings(monkeypatch, tmp_path):
    seen = {}

    def fake_bbox(bbox, **kwargs):
        seen.update(bbox=bbox, cache=ox.settings.cache_folder, use=ox.settings.use_cache,
                    timeout=ox.settings.requests_timeout, kwargs=kwargs,
                    tags=set(ox.settings.useful_tags_way))
        raise requests.exceptions.ConnectionError("simulated")

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: (_ for _ in ()).throw(
        OSError("simulated")))
    monkeypatch.setattr(ox, "graph_from_bbox", fake_bbox)
    settings = Settings(cache_dir=tmp_path, use_cache=False, http_timeout_s=12.0)
    with pytest.raises(NetworkUnavailableError):
        network.load_graph((116.48, 39.97, 116.50, 39.99), mode="bike", settings=settings)
    assert seen["bbox"] == (116.48, 39.97, 116.50, 39.99)
    assert seen["cache"] == str(tmp_path / "osmnx")
    assert seen["use"] is False and seen["timeout"] == 12.0
    assert seen["kwargs"]["network_type"] == "bike"
    assert {"foot", "bicycle", "motorcar"} <= seen["tags"]


# --- travel-time matrix --------------------------------------------------------------------


def test_matrix_equals_networkx(drive):
    pts = _points(drive, 25, seed=7)
    tt = network.travel_time_matrix(drive, pts, snap_warn_m=None)
    snap_o = np.array(tt.attrs["origin_snap_m"]) / (4.8 / 3.6)
    snap_d = np.array(tt.attrs["destination_snap_m"]) / (4.8 / 3.6)
    metric = pts.to_crs(drive.graph["crs"])
    nodes = ox.distance.nearest_nodes(drive, metric.geometry.x, metric.geometry.y)
    for i, o in enumerate(nodes):
        lengths = nx.single_source_dijkstra_path_length(drive, o, weight="travel_time")
        for j, d in enumerate(nodes):
            expected = lengths.get(d, np.inf) + snap_o[i] + snap_d[j]
            assert tt.iloc[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert list(tt.index) == list(pts["id"]) and list(tt.columns) == list(pts["id"])
    assert result_kind(tt) == "travel_time_matrix"
    assert np.isinf(tt.to_numpy()).any()  # one-way traps at the extract's edge: inf, not NaN
    assert not tt.isna().to_numpy().any()


def test_points_on_nodes_have_zero_snap_and_walk_is_symmetric(walk):
    nodes = list(walk.nodes)[:40:4]
    pts = gpd.GeoDataFrame({"id": [str(n) for n in nodes]},
                           geometry=[Point(walk.nodes[n]["x"], walk.nodes[n]["y"]) for n in nodes],
                           crs=walk.graph["crs"]).to_crs("EPSG:4326")
    tt = network.travel_time_matrix(walk, pts)
    assert max(tt.attrs["origin_snap_m"]) < 1e-3
    lengths = nx.single_source_dijkstra_path_length(walk, nodes[0], weight="travel_time")
    assert tt.iloc[0, 3] == pytest.approx(lengths[nodes[3]], abs=1e-3)
    np.testing.assert_allclose(tt.to_numpy(), tt.to_numpy().T, atol=1e-3)


def test_tiny_graph_parallel_zero_and_unreachable():
    G = _tiny_graph()
    tt = network.travel_time_matrix(G, _at_nodes(G, ["a", "b", "c", "d"]))
    assert tt.loc["a", "b"] == pytest.approx(10.0)  # smallest parallel edge, not the sum
    assert tt.loc["a", "c"] == pytest.approx(10.0)  # zero-cost edge kept
    assert tt.loc["c", "a"] == np.inf  # one-way
    assert tt.loc["a", "d"] == np.inf  # other component
    assert tt.loc["d", "d"] == 0.0
    offset = _at_nodes(G, ["a"]).translate(0.0, 40.0)  # 40 m off the node: 30 s walk
    tt2 = network.travel_time_matrix(G, offset, _at_nodes(G, ["b"]))
    assert tt2.iloc[0, 0] == pytest.approx(10.0 + 40 / (4.8 / 3.6))
    assert tt2.attrs["origin_snap_m"] == pytest.approx((40.0,))


def test_undirected_graph_counts_both_ways(walk):
    G = nx.Graph(crs="EPSG:32650")
    G.add_node("a", x=450000.0, y=4420000.0)
    G.add_node("b", x=450100.0, y=4420000.0)
    G.add_node("c", x=450100.0, y=4420100.0)
    G.add_edge("a", "b", travel_time=5.0)
    G.add_edge("c", "b", travel_time=7.0)
    tt = network.travel_time_matrix(G, _at_nodes(G, ["a", "b", "c"]))
    np.testing.assert_allclose(tt.to_numpy(), [[0, 5, 12], [5, 0, 7], [12, 7, 0]])
    G.add_edge("a", "b", travel_time=-1.0)
    with pytest.raises(DataError, match="non-negative 'travel_time'"):
        network.travel_time_matrix(G, _at_nodes(G, ["a"]))


def test_max_time_cuts_to_inf(walk):
    pts = _points(walk, 12, seed=3)
    full = network.travel_time_matrix(walk, pts).to_numpy()
    cut = network.travel_time_matrix(walk, pts, max_time_s=600).to_numpy()
    assert np.array_equal(np.where(full <= 600, full, np.inf), cut)
    assert np.isinf(cut).any() and np.isfinite(cut).any()


def test_polygons_and_lines_stand_at_their_metric_centroid(walk):
    pts = _points(walk, 3, seed=5).to_crs(walk.graph["crs"])
    cells = pts.assign(geometry=pts.buffer(100.0, cap_style="square")).to_crs("EPSG:4326")
    lines = pts.assign(geometry=[LineString([(p.x - 80, p.y), (p.x + 80, p.y)])
                                 for p in pts.geometry])
    ref = network.travel_time_matrix(walk, pts)
    for layer in (cells, lines):
        np.testing.assert_allclose(network.travel_time_matrix(walk, layer).to_numpy(),
                                   ref.to_numpy(), rtol=1e-6)


def test_far_points_warn_with_their_names(walk):
    pts = _points(walk, 3, seed=1)
    far = gpd.GeoDataFrame({"id": ["tiananmen"]}, geometry=[Point(116.3975, 39.9087)],
                           crs="EPSG:4326")
    with pytest.warns(network.SnapWarning, match=r"'tiananmen' \(\d[\d,]* m\)"):
        tt = network.travel_time_matrix(walk, pts, far)
    assert (tt["tiananmen"] > 3600).all()  # the snap is walked, documented
    assert tt.attrs["destination_snap_m"][0] > 7000


def test_bad_layers_and_graphs(walk):
    pts = _points(walk, 2, seed=0)
    with pytest.raises(CRSMismatchError, match="has no CRS"):
        network.travel_time_matrix(walk, gpd.GeoDataFrame(geometry=[Point(0, 0)]))
    wrong = gpd.GeoDataFrame(geometry=[Point(456000, 4426000)], crs="EPSG:4326")
    with pytest.raises(CRSMismatchError, match="probably wrong"):
        network.travel_time_matrix(walk, wrong)
    missing = gpd.GeoDataFrame(geometry=[Point(116.48, 39.98), None], crs="EPSG:4326")
    with pytest.raises(DataError, match=r"missing or empty geometries in rows \[1\]"):
        network.travel_time_matrix(walk, missing)
    with pytest.raises(DataError, match="empty"):
        network.travel_time_matrix(walk, pts.iloc[:0])
    empty = nx.MultiDiGraph(crs="EPSG:32650")
    empty.add_node(1, x=450000.0, y=4420000.0)
    with pytest.raises(DataError, match="G has no edges"):
        network.travel_time_matrix(empty, pts)
    latlon = ox.project_graph(walk, to_latlong=True)
    with pytest.raises(CRSMismatchError, match="not a metric CRS"):
        network.travel_time_matrix(latlon, pts)
    with pytest.raises(DataError, match="'duration'"):
        network.travel_time_matrix(walk, pts, edge_cost="duration")
    for kw in ({"max_time_s": 0}, {"max_time_s": -1}, {"walk_speed_kph": 0}):
        with pytest.raises(ValueError, match="must be > 0"):
            network.travel_time_matrix(walk, pts, **kw)
    with pytest.raises(TypeError, match="networkx graph"):
        network.travel_time_matrix({"not": "a graph"}, pts)


def test_inputs_not_modified(walk):
    pts = _points(walk, 4, seed=9)
    before = pts.copy()
    edges_before = walk.number_of_edges()
    network.travel_time_matrix(walk, pts)
    network.isochrones(walk, pts.iloc[:1], minutes=(3,))
    assert pts.equals(before) and walk.number_of_edges() == edges_before


# --- isochrones ----------------------------------------------------------------------------


def test_isochrones_nested_and_follow_the_footprint_rule(walk):
    src = gpd.GeoDataFrame({"id": ["798", "751"]},
                           geometry=[Point(116.4883, 39.9839), Point(116.4950, 39.9870)],
                           crs="EPSG:4326")
    iso = network.isochrones(walk, src, minutes=(10, 5), fill_holes=False, buffer_m=40.0)
    assert list(iso["source"]) == ["798", "798", "751", "751"]
    assert list(iso["minutes"]) == [5.0, 10.0, 5.0, 10.0]
    assert iso.crs == src.crs and result_kind(iso) == "isochrones"
    metric = iso.to_crs(walk.graph["crs"])
    assert metric.iloc[1].geometry.contains(metric.iloc[0].geometry.buffer(-0.5))
    assert metric.iloc[0].geometry.contains(src.to_crs(walk.graph["crs"]).geometry.iloc[0])
    # The rule, checked against networkx: reached nodes are inside; nothing lies beyond
    # buffer_m of an edge whose start node is reached within the budget.
    s = src.to_crs(walk.graph["crs"]).geometry.iloc[0]
    node = ox.distance.nearest_nodes(walk, s.x, s.y)
    snap_s = Point(walk.nodes[node]["x"], walk.nodes[node]["y"]).distance(s) / (4.8 / 3.6)
    times = nx.single_source_dijkstra_path_length(walk, node, weight="travel_time")
    for row in (0, 1):
        budget = iso.iloc[row]["minutes"] * 60 - snap_s
        poly = metric.iloc[row].geometry
        reached = [Point(walk.nodes[n]["x"], walk.nodes[n]["y"])
                   for n, t in times.items() if t <= budget]
        assert all(poly.buffer(0.01).contains(p) for p in reached)
        started = [d.get("geometry", LineString([(walk.nodes[u]["x"], walk.nodes[u]["y"]),
                                                 (walk.nodes[v]["x"], walk.nodes[v]["y"])]))
                   for u, v, d in walk.edges(data=True) if times.get(u, np.inf) <= budget]
        envelope = shapely.union_all(shapely.buffer(np.array(started, dtype=object), 41.0))
        assert poly.difference(envelope).area < 1.0
        assert poly.area == pytest.approx(iso.iloc[row]["area_m2"])


def test_isochrone_fill_holes_and_empty_band(walk):
    src = gpd.GeoDataFrame({"id": ["798"]}, geometry=[Point(116.4883, 39.9839)], crs="EPSG:4326")
    holes = network.isochrones(walk, src, minutes=(15,), fill_holes=False)
    filled = network.isochrones(walk, src, minutes=(15,))
    assert filled["area_m2"].iloc[0] > holes["area_m2"].iloc[0]
    assert all(len(p.interiors) == 0 for p in shapely.get_parts(filled.geometry.to_numpy()))
    far = gpd.GeoDataFrame({"id": ["far"]}, geometry=[Point(116.52, 40.02)], crs="EPSG:4326")
    with pytest.warns(network.SnapWarning, match="'far'"):
        out = network.isochrones(walk, far, minutes=(1, 120))
    assert out.geometry.iloc[0].is_empty and out["area_m2"].iloc[0] == 0.0
    assert not out.geometry.iloc[1].is_empty
    for bad in ((), (0, 5), (-5,)):
        with pytest.raises(ValueError, match="minutes"):
            network.isochrones(walk, src, minutes=bad)


# --- the bundled file ----------------------------------------------------------------------


def test_demo_streets_file_is_reproducible_and_small():
    path = network.demo_streets_path()
    assert path.stat().st_size < 1_000_000
    script = REPO / "data" / "build_streets.py"
    if not script.is_file():
        pytest.skip("installed without the build script")
    spec = importlib.util.spec_from_file_location("build_streets", script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    data = module.build_xml()
    assert data == module.build_xml()
    assert data == path.read_bytes(), "run `python data/build_streets.py` and commit the file"
