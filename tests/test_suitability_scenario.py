"""Scenario files: parsing, validation messages that name the key and the fix, weights."""

import copy
import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from cci_geo.errors import ScenarioError
from cci_geo.suitability import (
    Criterion,
    linear,
    load_scenario,
    parse_scenario,
    resolve_weights,
    score,
)

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_400_000.0
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture
def layers():
    def g(geoms, **cols):
        return gpd.GeoDataFrame(cols, geometry=geoms, crs=CRS)

    return {
        "area": g([box(X0, Y0, X0 + 1000, Y0 + 1000)], id=["A"]),
        "venues": g([Point(X0 + 150, Y0 + 150), Point(X0 + 850, Y0 + 850)], id=["v1", "v2"],
                    kind=["museum", "library"]),
        "sites": g([Point(X0 + 250, Y0 + 250), Point(X0 + 650, Y0 + 450),
                    Point(X0 + 550, Y0 + 950)], id=["p", "q", "r"], floor=[1000, 5000, 9000]),
    }


BASE = {
    "scenario": {"name": "t", "seed": 3},
    "candidates": {"layer": "sites"},
    "grid": {"cell_size_m": 100, "extent": "area", "buffer_m": 0},
    "criteria": [
        {"name": "venue", "layer": "venues", "measure": "distance", "weight": 0.5,
         "value": {"function": "linear", "low": 0, "high": 1000, "direction": "decreasing"}},
        {"name": "size", "measure": "site_attribute", "column": "floor", "weight": 0.5,
         "value": {"function": "linear", "low": 0, "high": 10000}},
    ],
    "sensitivity": {"draws": 50, "top_k": 1},
}


def mutate(**changes):
    d = copy.deepcopy(BASE)
    for path, value in changes.items():
        keys = path.split("__")
        target = d
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        if value is None:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return d


def test_demo_scenario_file_parses():
    sc = load_scenario(SCENARIOS / "old_factory_reuse.toml")
    assert sc.candidates == "factory_sites"
    assert len(sc.criteria) >= 6
    assert sum(c.weight for c in sc.criteria) == pytest.approx(1.0)
    assert sc.sha256 == hashlib.sha256((SCENARIOS / "old_factory_reuse.toml").read_bytes()) \
        .hexdigest()


def test_unknown_layer_names_the_key_and_lists_layers(layers):
    d = mutate(criteria__0__layer="museums")
    with pytest.raises(ScenarioError, match=r"criteria\[0\] \(venue\).layer = 'museums' is not "
                                            r"a known layer; available: \['area', 'sites', "
                                            r"'venues'\].*\[layers.museums\]"):
        score(parse_scenario(d), layers=layers)


@pytest.mark.parametrize(("changes", "match"), [
    ({"criteria__0__weight": None}, r"criteria \['venue'\] have no weight; add weight"),
    ({"criteria__0__measure": "nearness"}, r"criteria\[0\] \(venue\).measure must be one of"),
    ({"criteria__0__radius_m": 100}, r"unknown parameter\(s\) \['radius_m'\] for measure "
                                     r"'distance'"),
    ({"criteria__1__column": None}, r"measure 'site_attribute' needs \['column'\]"),
    ({"criteria__0__value": {"function": "linear", "low": 9, "high": 1}},
     r"criteria\[0\] \(venue\).value: high"),
    ({"criteria__0__weight": -1}, r"weight must be a number >= 0"),
    ({"criteria": []}, "no criteria"),
    ({"grid__cell_size_m": 0}, r"\[grid\].cell_size_m must be > 0"),
    ({"grid__extent": [1, 2, 0, 3]}, r"\[grid\].extent as a box"),
    ({"candidates__layer": None}, r"\[candidates\].layer is missing"),
    ({"sensitivity__draws": 0}, r"\[sensitivity\]: draws and top_k must be >= 1"),
    ({"colour": "red"}, r"unknown key\(s\) \['colour'\]"),
    ({"weights": {"method": "vote"}}, r"\[weights\].method must be 'direct' or 'ahp'"),
    ({"constraints": [{"type": "threshold", "criterion": "nope", "max": 1}]},
     r"constraints\[0\].criterion = 'nope' is not a criterion"),
    ({"constraints": [{"type": "exclude"}]}, r"constraints\[0\]: a 'exclude' constraint needs "
                                             r"layer"),
])
def test_invalid_scenarios_name_the_key(changes, match):
    with pytest.raises(ScenarioError, match=match):
        parse_scenario(mutate(**changes))


def test_travel_time_requires_a_network_or_explicit_straight_line():
    d = mutate(criteria__0__measure="travel_time",
               criteria__0__value={"function": "linear", "low": 0, "high": 30,
                                   "direction": "decreasing"})
    with pytest.raises(ScenarioError, match="needs a street network.*straight_line = true"):
        parse_scenario(d)
    d["criteria"][0]["straight_line"] = True
    sc = parse_scenario(d)
    assert sc.criteria[0].params["speed_kmh"] == 4.5  # walking default


def test_straight_line_travel_time_is_distance_over_speed(layers):
    d = mutate(criteria__0__measure="travel_time")
    d["criteria"][0].update(straight_line=True, speed_kmh=6.0, detour_factor=1.5,
                            value={"function": "linear", "low": 0, "high": 30,
                                   "direction": "decreasing"})
    res = score(parse_scenario(d), layers=layers)
    dist = np.hypot(100, 100)  # site p to venue v1
    minutes = dist * 1.5 / (6000 / 60)
    assert res.sites.set_index("id").loc["p", "raw_venue"] == pytest.approx(minutes)


def test_weights_not_summing_to_one_are_normalised_with_a_warning(layers):
    d = mutate(criteria__0__weight=3, criteria__1__weight=1)
    with pytest.warns(UserWarning, match=r"weights sum to 4, not 1; they were normalised to "
                                         r"venue=0.750, size=0.250"):
        res = score(parse_scenario(d), layers=layers)
    assert res.weights.tolist() == [0.75, 0.25]


def test_all_zero_weights_are_refused(layers):
    d = mutate(criteria__0__weight=0, criteria__1__weight=0)
    with pytest.raises(ScenarioError, match="all criterion weights are 0"):
        score(parse_scenario(d), layers=layers)


def test_ahp_weights_in_a_scenario(layers):
    d = mutate(criteria__0__weight=None, criteria__1__weight=None)
    d["weights"] = {"method": "ahp", "matrix": [[1, 3], [1 / 3, 1]]}
    res = score(parse_scenario(d), layers=layers)
    assert res.weights.tolist() == pytest.approx([0.75, 0.25])
    assert res.consistency_ratio == 0.0
    assert res.provenance["weights_method"] == "ahp"


def test_inconsistent_ahp_scenario_needs_allow_inconsistent(layers):
    d = copy.deepcopy(BASE)
    d["criteria"].append({"name": "third", "layer": "venues", "measure": "count",
                          "radius_m": 500, "value": {"function": "linear", "low": 0, "high": 2}})
    for c in d["criteria"]:
        c.pop("weight", None)
    d["weights"] = {"method": "ahp", "matrix": [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]}
    with pytest.raises(ScenarioError, match="allow_inconsistent = true"):
        score(parse_scenario(d), layers=layers)
    d["weights"]["allow_inconsistent"] = True
    res = score(parse_scenario(d), layers=layers)
    assert res.consistency_ratio > 0.1


def test_ahp_matrix_of_the_wrong_size_is_refused():
    d = mutate(criteria__0__weight=None, criteria__1__weight=None)
    d["weights"] = {"method": "ahp", "matrix": [[1]]}
    with pytest.raises(ScenarioError, match=r"must be 2 x 2.*\['venue', 'size'\]"):
        parse_scenario(d)


def test_where_filters_and_missing_filter_column(layers):
    d = mutate(criteria__0__where={"kind": "library"})
    res = score(parse_scenario(d), layers=layers)
    assert res.sites.set_index("id").loc["p", "raw_venue"] == pytest.approx(np.hypot(600, 600))
    d = mutate(criteria__0__where={"type": "library"})
    with pytest.raises(ScenarioError, match=r"where: layer 'venues' has no column 'type'"):
        score(parse_scenario(d), layers=layers)


def test_sensitivity_is_seeded_and_reproducible(layers):
    a = score(parse_scenario(BASE), layers=layers)
    b = score(parse_scenario(BASE), layers=layers)
    c = score(parse_scenario(BASE), layers=layers, seed=99)
    assert a.monte_carlo.summary.equals(b.monte_carlo.summary)
    np.testing.assert_array_equal(a.monte_carlo.weight_draws, b.monte_carlo.weight_draws)
    assert not np.array_equal(a.monte_carlo.weight_draws, c.monte_carlo.weight_draws)
    assert {"p_top_k", "rank_median", "rank_p05", "rank_p95"} <= set(a.sites.columns)
    assert list(a.one_at_a_time.index) == ["venue", "size"]


def test_python_api_with_criterion_objects(layers):
    crits = [Criterion(name="venue", measure="distance", layer=layers["venues"], weight=1.0,
                       value=linear(0, 1000, decreasing=True))]
    res = score(crits, candidates=layers["sites"].to_crs("EPSG:4326"), sensitivity=False)
    assert res.sites.crs == "EPSG:4326"
    assert res.sites["rank"].tolist() == [1, 3, 2]


def test_layer_files_are_read_relative_to_the_scenario(tmp_path, layers):
    layers["venues"].to_crs("EPSG:4326").to_file(tmp_path / "venues.geojson")
    text = (
        '[scenario]\nname = "files"\n[layers.museums]\npath = "venues.geojson"\n'
        '[candidates]\nlayer = "sites"\n'
        '[grid]\nextent = "area"\nbuffer_m = 0\n[sensitivity]\nenabled = false\n'
        '[[criteria]]\nname = "m"\nlayer = "museums"\nmeasure = "distance"\nweight = 1\n'
        'value = { function = "linear", low = 0, high = 1000, direction = "decreasing" }\n'
    )
    (tmp_path / "s.toml").write_text(text)
    res = score(tmp_path / "s.toml", layers=layers)
    assert res.provenance["layers"]["museums"]["source"].endswith("venues.geojson")
    assert len(res.provenance["layers"]["museums"]["sha256"]) == 64
    assert res.sites.set_index("id").loc["p", "raw_m"] == pytest.approx(np.hypot(100, 100),
                                                                         abs=0.01)


def test_malformed_toml_is_a_scenario_error(tmp_path):
    (tmp_path / "bad.toml").write_text("[scenario\nname = 1")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(tmp_path / "bad.toml")


def test_resolve_weights_direct():
    crits = [Criterion(name="a", measure="distance", layer="x", weight=0.2,
                       value=linear(0, 1)),
             Criterion(name="b", measure="distance", layer="x", weight=0.8,
                       value=linear(0, 1))]
    w, cr = resolve_weights(crits)
    assert w.tolist() == [0.2, 0.8] and cr is None
