"""Network travel-time criteria on the bundled 798/751 street file (offline)."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from cci_geo import network
from cci_geo.suitability import parse_scenario, score

CRS = "EPSG:32650"


@pytest.fixture(scope="module")
def layers():
    venues = gpd.GeoDataFrame({"id": ["v1", "v2"]},
                              geometry=[Point(455200, 4425300), Point(457800, 4427300)], crs=CRS)
    sites = gpd.GeoDataFrame({"id": ["a", "b", "c"]},
                             geometry=[Point(455600, 4425700), Point(456500, 4426400),
                                       Point(457400, 4427000)], crs=CRS)
    return {"venues": venues, "sites": sites}


@pytest.fixture(scope="module")
def result(layers):
    doc = {
        "scenario": {"name": "net"},
        "candidates": {"layer": "sites"},
        "grid": {"cell_size_m": 100, "extent": "candidates", "buffer_m": 800},
        "criteria": [{
            "name": "walk", "layer": "venues", "measure": "travel_time",
            "network": str(network.demo_streets_path()), "mode": "walk", "weight": 1,
            "value": {"function": "linear", "low": 0, "high": 45, "direction": "decreasing"},
        }],
        "sensitivity": {"enabled": False},
    }
    return score(parse_scenario(doc), layers=layers)


def test_site_times_match_networkx_shortest_paths(result, layers):
    import networkx as nx

    G = network.load_graph(network.demo_streets_path(), mode="walk")
    nodes = list(G.nodes)
    nxy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes])
    walk = 4.8 / 3.6

    def nearest(p):
        return nodes[int(np.argmin(np.hypot(nxy[:, 0] - p.x, nxy[:, 1] - p.y)))]

    sources = {nearest(v): v for v in layers["venues"].geometry}
    # times from each venue (walked to its node) to every node, by networkx
    best = {}
    for node, v in sources.items():
        snap = np.hypot(G.nodes[node]["x"] - v.x, G.nodes[node]["y"] - v.y) / walk
        for n, t in nx.single_source_dijkstra_path_length(G, node, weight="travel_time").items():
            best[n] = min(best.get(n, np.inf), t + snap)
    got = result.sites.set_index("id").loc[["a", "b", "c"], "raw_walk"].to_numpy()
    for p, g in zip(layers["sites"].geometry, got, strict=True):
        d = np.hypot(nxy[:, 0] - p.x, nxy[:, 1] - p.y)
        k4 = np.argsort(d)[:4]
        want = min(best.get(nodes[i], np.inf) + d[i] / walk for i in k4) / 60.0
        assert g == pytest.approx(want, rel=1e-9)
    # never slower than the network module's single-nearest-node snapping
    tt = network.travel_time_matrix(G, layers["venues"], layers["sites"])
    assert (got <= tt.min(axis=0).to_numpy() / 60.0 + 1e-9).all()
    # network time is at least the straight-line walk at the same speed
    d = layers["sites"].geometry.apply(lambda p: layers["venues"].distance(p).min()).to_numpy()
    assert (got >= d / (4.8 * 1000 / 60) - 1e-9).all()


def test_grid_times_are_close_to_site_times(result):
    s = result.sites
    grid_raw = 45 * (1 - result.criteria["walk"].sample(s.geometry.x.to_numpy(),
                                                        s.geometry.y.to_numpy()))
    # a cell centre is at most 71 m (0.9 min of walking) from the site; the access node may
    # differ between the two, so allow a little more
    near = s["raw_walk"].to_numpy() < 45
    np.testing.assert_allclose(grid_raw[near], s["raw_walk"].to_numpy()[near], atol=1.5)


def test_network_file_beside_the_scenario_is_found(tmp_path):
    import shutil

    from cci_geo.suitability import load_scenario

    shutil.copy(network.demo_streets_path(), tmp_path / "streets.osm.gz")
    (tmp_path / "s.toml").write_text(
        '[candidates]\nlayer = "sites"\n[[criteria]]\nname = "walk"\nlayer = "venues"\n'
        'measure = "travel_time"\nnetwork = "streets.osm.gz"\nweight = 1\n'
        'value = { function = "linear", low = 0, high = 30, direction = "decreasing" }\n')
    sc = load_scenario(tmp_path / "s.toml")
    assert sc.criteria[0].params["network"] == str(tmp_path / "streets.osm.gz")
