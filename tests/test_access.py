"""Tests of cci_geo.access: 2SFCA against PySAL access, invariants, bad input, the demo summary."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from cci_geo import access, network
from cci_geo.errors import CRSMismatchError, DataError
from cci_geo.results import result_kind

# access 1.1 calls set_index(inplace=True), deprecated in pandas 3 (Pandas4Warning).
Pandas4Warning = getattr(pd.errors, "Pandas4Warning", DeprecationWarning)


def _layers(seed: int = 0, n_demand: int = 40, n_supply: int = 7):
    """Demand and supply points scattered over a 6 km square in EPSG:32650."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 6000, size=(n_demand, 2)) + (450_000, 4_420_000)
    s = rng.uniform(0, 6000, size=(n_supply, 2)) + (450_000, 4_420_000)
    demand = gpd.GeoDataFrame({"id": [f"d{i}" for i in range(n_demand)],
                               "employees": rng.integers(1, 200, n_demand).astype(float)},
                              geometry=gpd.points_from_xy(d[:, 0], d[:, 1]), crs="EPSG:32650")
    supply = gpd.GeoDataFrame({"id": [f"s{j}" for j in range(n_supply)],
                               "open_space_m2": rng.uniform(500, 50_000, n_supply)},
                              geometry=gpd.points_from_xy(s[:, 0], s[:, 1]), crs="EPSG:32650")
    return supply, demand


def _distance_matrix(supply, demand) -> pd.DataFrame:
    dx = demand.geometry.x.to_numpy()[:, None] - supply.geometry.x.to_numpy()[None, :]
    dy = demand.geometry.y.to_numpy()[:, None] - supply.geometry.y.to_numpy()[None, :]
    return pd.DataFrame(np.hypot(dx, dy), index=demand["id"], columns=supply["id"])


def _pysal(supply, demand, cost: pd.DataFrame, *, max_cost, weight_fn=None) -> pd.Series:
    """Run PySAL access's two-stage FCA on the same inputs (oracle)."""
    from access import Access

    long = cost.rename_axis(index="origin", columns="dest").stack().rename("cost").reset_index()
    long = long[np.isfinite(long["cost"])]
    dem = pd.DataFrame({"geoid": demand["id"].astype(object),
                        "emp": demand["employees"].to_numpy()})
    sup = pd.DataFrame({"geoid": supply["id"].astype(object),
                        "space": supply["open_space_m2"].to_numpy()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Pandas4Warning)
        acc = Access(demand_df=dem, demand_index="geoid", demand_value="emp", supply_df=sup,
                     supply_index="geoid", supply_value="space", cost_df=long,
                     cost_origin="origin", cost_dest="dest", cost_name="cost")
        out = acc.two_stage_fca(name="x", max_cost=max_cost, weight_fn=weight_fn)
    return out["x_space"].reindex(demand["id"]).fillna(0.0)


def _ours(supply, demand, cost, **kw) -> np.ndarray:
    out = access.two_step_fca(supply, demand, cost=cost, supply_weight="open_space_m2",
                              demand_weight="employees", **kw)
    return out["access"].to_numpy()


def test_classic_matches_pysal_access():
    supply, demand = _layers(seed=1)
    cost = _distance_matrix(supply, demand)
    for threshold in (800.0, 1500.0, 3000.0):
        expected = _pysal(supply, demand, cost, max_cost=threshold)
        np.testing.assert_allclose(_ours(supply, demand, cost, threshold=threshold),
                                   expected.to_numpy(), rtol=1e-12)
        assert (expected > 0).any() and (expected == 0).any()


def test_enhanced_bands_and_gaussian_match_pysal_access():
    from access import weights

    supply, demand = _layers(seed=2)
    cost = _distance_matrix(supply, demand)
    bands = {1000: 1.0, 2000: 0.68, 3000: 0.22}
    expected = _pysal(supply, demand, cost, max_cost=3000, weight_fn=weights.step_fn(bands))
    np.testing.assert_allclose(_ours(supply, demand, cost, threshold=3000, decay=bands),
                               expected.to_numpy(), rtol=1e-12)
    expected = _pysal(supply, demand, cost, max_cost=2500, weight_fn=weights.gaussian(900))
    np.testing.assert_allclose(
        _ours(supply, demand, cost, threshold=2500, decay="gaussian", sigma=900),
        expected.to_numpy(), rtol=1e-12)


def test_travel_time_cost_matches_pysal_access():
    G = network.load_graph(network.demo_streets_path(), mode="walk")
    rng = np.random.default_rng(4)
    nodes = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    d = nodes[rng.choice(len(nodes), 30, replace=False)]
    s = nodes[rng.choice(len(nodes), 5, replace=False)]
    demand = gpd.GeoDataFrame({"id": [f"d{i}" for i in range(30)],
                               "employees": rng.integers(1, 50, 30).astype(float)},
                              geometry=gpd.points_from_xy(d[:, 0], d[:, 1]), crs=G.graph["crs"])
    supply = gpd.GeoDataFrame({"id": [f"s{j}" for j in range(5)],
                               "open_space_m2": rng.uniform(1000, 9000, 5)},
                              geometry=gpd.points_from_xy(s[:, 0], s[:, 1]), crs=G.graph["crs"])
    tt = network.travel_time_matrix(G, demand, supply)
    expected = _pysal(supply, demand, tt, max_cost=900)
    np.testing.assert_allclose(_ours(supply, demand, tt, threshold=900), expected.to_numpy(),
                               rtol=1e-12)
    assert (expected > 0).sum() >= 5


def test_published_formula_by_hand():
    # Two venues, three cells on a line; classic 2SFCA, threshold 1,000 m (Luo & Wang 2003).
    supply = gpd.GeoDataFrame({"id": ["A", "B"], "open_space_m2": [900.0, 300.0]},
                              geometry=[Point(0, 0), Point(1500, 0)], crs="EPSG:32650")
    demand = gpd.GeoDataFrame({"id": ["x", "y", "z"], "employees": [10.0, 20.0, 30.0]},
                              geometry=[Point(-500, 0), Point(750, 0), Point(5000, 0)],
                              crs="EPSG:32650")
    out = access.two_step_fca(supply, demand, cost="distance", threshold=1000,
                              supply_weight="open_space_m2", demand_weight="employees")
    r_a, r_b = 900 / (10 + 20), 300 / 20  # catchments: A reaches x, y; B reaches y
    np.testing.assert_allclose(out["access"], [r_a, r_a + r_b, 0.0])
    assert list(out["supply_in_reach"]) == [1, 2, 0]
    assert out.attrs["supply_ratio"] == pytest.approx({"A": r_a, "B": r_b})
    assert result_kind(out) == "accessibility"


def test_distance_cost_equals_the_matrix_and_conserves_supply():
    supply, demand = _layers(seed=3)
    by_distance = _ours(supply, demand, "distance", threshold=2000)
    np.testing.assert_allclose(by_distance,
                               _ours(supply, demand, _distance_matrix(supply, demand),
                                     threshold=2000), rtol=1e-12)
    # Classic 2SFCA hands out exactly the supply that some demand can reach.
    out = access.two_step_fca(supply, demand, cost="distance", threshold=2000,
                              supply_weight="open_space_m2", demand_weight="employees")
    served = np.array([r > 0 for r in out.attrs["supply_ratio"].values()])
    total = supply["open_space_m2"].to_numpy()[served].sum()
    assert (out["access"] * demand["employees"]).sum() == pytest.approx(total)


def test_counts_when_no_columns_and_geographic_input():
    supply, demand = _layers(seed=5)
    out = access.two_step_fca(supply.to_crs("EPSG:4326"), demand.to_crs("EPSG:4326"),
                              cost="distance", threshold=1500)
    ref = access.two_step_fca(supply, demand, cost="distance", threshold=1500)
    np.testing.assert_allclose(out["access"], ref["access"], rtol=1e-6)
    assert out.crs == "EPSG:4326" and "employees" in out.columns  # a copy with new columns
    callable_decay = access.two_step_fca(supply, demand, cost="distance", threshold=1500,
                                         decay=lambda c: np.ones_like(c))
    np.testing.assert_allclose(callable_decay["access"], ref["access"])


def test_unreachable_costs_and_inputs_unchanged():
    supply, demand = _layers(seed=6, n_demand=5, n_supply=2)
    cost = _distance_matrix(supply, demand)
    cost.iloc[0, :] = np.inf
    cost.iloc[1, 0] = np.nan
    before = (supply.copy(), demand.copy(), cost.copy())
    out = access.two_step_fca(supply, demand, cost=cost, threshold=1e9)
    assert out["access"].iloc[0] == 0.0 and out["supply_in_reach"].iloc[0] == 0
    assert out["supply_in_reach"].iloc[1] == 1
    assert supply.equals(before[0]) and demand.equals(before[1]) and cost.equals(before[2])
    assert "access" not in demand.columns


def test_bad_input():
    supply, demand = _layers(seed=7, n_demand=4, n_supply=2)
    cost = _distance_matrix(supply, demand)
    with pytest.raises(DataError, match="supply is empty"):
        access.two_step_fca(supply.iloc[:0], demand, cost="distance", threshold=100)
    with pytest.raises(DataError, match="demand is empty"):
        access.two_step_fca(supply, demand.iloc[:0], cost="distance", threshold=100)
    with pytest.raises(CRSMismatchError, match="EPSG:4326.*EPSG:32650|EPSG:32650.*EPSG:4326"):
        access.two_step_fca(supply, demand.to_crs("EPSG:4326"), cost="distance", threshold=100)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        access.two_step_fca(supply, demand, cost="distance", threshold=0)
    neg = supply.assign(open_space_m2=[-1.0, 5.0])
    with pytest.raises(DataError, match=r"rows \[0\]"):
        access.two_step_fca(neg, demand, cost="distance", threshold=100,
                            supply_weight="open_space_m2")
    with pytest.raises(DataError, match="lacks column"):
        access.two_step_fca(supply, demand, cost="distance", threshold=100,
                            demand_weight="population")
    with pytest.raises(DataError, match="transposed"):
        access.two_step_fca(supply, demand, cost=cost.T, threshold=100)
    with pytest.raises(DataError, match=r"lacks demand rows \['d3'\]"):
        access.two_step_fca(supply, demand, cost=cost.iloc[:3], threshold=100)
    with pytest.raises(DataError, match="negative"):
        access.two_step_fca(supply, demand, cost=-cost, threshold=100)
    with pytest.raises(TypeError, match="cost must be"):
        access.two_step_fca(supply, demand, cost="euclid", threshold=100)
    with pytest.raises(ValueError, match="decay must be None"):
        access.two_step_fca(supply, demand, cost=cost, threshold=100, decay="linear")
    with pytest.raises(ValueError, match="decay bands must"):
        access.two_step_fca(supply, demand, cost=cost, threshold=100, decay={100: -1})
    dup = demand.assign(id=["d0", "d0", "d1", "d2"])
    with pytest.raises(DataError, match="duplicate"):
        access.two_step_fca(supply, dup, cost="distance", threshold=100)


def test_enterprise_grid_sums_demand():
    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 3000, size=(200, 2)) + (450_000, 4_420_000)
    ents = gpd.GeoDataFrame({"employees": rng.integers(1, 30, 200)},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
                            crs="EPSG:32650").to_crs("EPSG:4326")
    grid = access.enterprise_grid(ents, cell_size_m=1000)
    assert grid["enterprises"].sum() == 200
    assert grid["demand"].sum() == pytest.approx(ents["employees"].sum())
    assert grid.crs == "EPSG:32650" and grid["id"].is_unique   # a grid: metric CRS
    assert grid.to_crs("EPSG:32650").area.round().eq(1_000_000).all()
    assert len(grid) <= 16


def test_venue_access_by_district_on_synthetic_layers():
    supply, demand = _layers(seed=9, n_demand=300, n_supply=4)
    districts = gpd.GeoDataFrame({"id": ["west", "east", "elsewhere"],
                                  "name_en": ["West", "East", "Elsewhere"]},
                                 geometry=[box(449_000, 4_419_000, 453_000, 4_427_000),
                                           box(453_000, 4_419_000, 457_000, 4_427_000),
                                           box(470_000, 4_419_000, 471_000, 4_420_000)],
                                 crs="EPSG:32650")
    out = access.venue_access_by_district(supply, demand, districts, cell_size_m=500,
                                          threshold_m=2000)
    assert result_kind(out) == "access_by_district"
    assert out["employees"].iloc[:2].sum() == pytest.approx(demand["employees"].sum())
    assert out["venues"].sum() == 4
    assert out["venue_open_space_m2"].sum() == pytest.approx(supply["open_space_m2"].sum())
    assert np.isnan(out["access_mean"].iloc[2]) and out["employees"].iloc[2] == 0
    grid = access.venue_access_grid(supply, demand, cell_size_m=500, threshold_m=2000)
    centre_x = grid.geometry.centroid.x
    west = grid[centre_x < 453_000]
    expected = (west["access"] * west["demand"]).sum() / west["demand"].sum()
    assert out["access_mean"].iloc[0] == pytest.approx(expected)
    assert 0 <= out["share_without_access"].iloc[0] <= 1


def test_demo_atlas_venue_access(demo):
    venues, enterprises, districts = demo["venues"], demo["enterprises"], demo["districts"]
    out = access.venue_access_by_district(venues, enterprises, districts)
    beijing = out[out["adcode"].astype(str).str.startswith("11")].set_index("name_en")
    assert len(beijing) == 16
    assert beijing["venues"].sum() == len(venues)
    # Core districts with museums score far above outer suburbs with none in reach.
    assert beijing.loc["Dongcheng", "access_mean"] > 10 * beijing.loc["Miyun", "access_mean"]
    assert beijing.loc["Dongcheng", "share_without_access"] == 0
    assert beijing["employees"].sum() <= enterprises["employees"].sum()
    assert beijing["employees"].sum() > 0.95 * enterprises["employees"].sum()


def test_venue_access_with_metro_station_access(demo):
    venues, enterprises, districts = demo["venues"], demo["enterprises"], demo["districts"]
    entrances = demo["station_entrances"]
    plain = access.venue_access_by_district(venues, enterprises, districts)
    out = access.venue_access_by_district(venues, enterprises, districts, stations=entrances,
                                          station_walk_m=800)
    # the option adds columns and changes nothing else
    pd.testing.assert_frame_equal(out[plain.columns], plain)
    # independent check: employees of cells within 800 m of an entrance, per district
    grid = access.venue_access_grid(venues, enterprises)
    centres = grid.to_crs(32650).geometry.centroid
    ent = entrances.to_crs(32650)
    near = np.array([ent.distance(c).min() <= 800 for c in centres])
    bj = districts.to_crs(32650)
    dongcheng = bj.loc[bj["name_en"] == "Dongcheng"].geometry.iloc[0]
    inside = centres.within(dongcheng).to_numpy()
    expected = grid["demand"][inside & near].sum() / grid["demand"][inside].sum()
    row = out.loc[out["name_en"] == "Dongcheng"].iloc[0]
    assert row["share_near_metro"] == pytest.approx(expected)
    assert row["share_near_metro"] > 0.8  # the old city is dense with metro entrances
    yanqing = out.loc[out["name_en"] == "Yanqing"].iloc[0]
    assert yanqing["share_near_metro"] == 0  # no metro (and beyond the data's 40.1 N edge)
    assert out["venues_near_metro"].sum() == (
        access.nearest_distance_m(venues, entrances) <= 800).sum()
    with pytest.raises(ValueError, match="station_walk_m"):
        access.venue_access_by_district(venues, enterprises, districts, stations=entrances,
                                        station_walk_m=0)
