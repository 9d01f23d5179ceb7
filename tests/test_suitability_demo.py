"""The demo scenario end to end on the embedded Beijing atlas (coarse grid for speed)."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import cci_geo
from cci_geo.suitability import load_scenario, score

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "old_factory_reuse.toml"


@pytest.fixture(scope="module")
def result():
    sc = load_scenario(SCENARIO)
    sc = dataclasses.replace(sc, grid=dataclasses.replace(sc.grid, cell_size_m=500.0))
    return score(sc, atlas=cci_geo.load_demo())


def test_demo_ranks_the_candidate_factory_sites(result):
    sites = result.sites
    assert set(sites["status"]) == {"vacant", "candidate"}
    ranked = sites[sites["rank"].notna()]
    assert len(ranked) >= 40
    assert sorted(ranked["rank"]) == list(range(1, len(ranked) + 1))
    top = ranked.sort_values("rank")
    assert top["score"].is_monotonic_decreasing
    # every criterion's contribution is reported and adds up to the score
    contrib = ranked[[f"contrib_{c.name}" for c in result.scenario.criteria]].sum(axis=1)
    np.testing.assert_allclose(contrib, ranked["score"])
    # sites more than 15 km from every park are excluded, with the reason
    far = sites["raw_zone_proximity"] > 15000
    assert (sites.loc[far, "excluded_by"] == "isolated_from_parks").all()
    assert sites.loc[far, "rank"].isna().all()


def test_demo_rank_stability(result):
    mc = result.monte_carlo
    assert mc.draws == 1000 and mc.top_k == 10
    p = result.sites["p_top_k"].dropna()
    assert p.between(0, 1).all()
    assert p.sum() == pytest.approx(10.0)  # each draw has exactly ten sites in its top ten
    oat = result.one_at_a_time
    assert (oat["weight_min"] <= oat["weight"]).all() and (oat["weight"] <= oat["weight_max"]).all()


def test_demo_metro_access_is_walking_time_to_the_nearest_entrance(result):
    """Raw metro_access = straight-line distance to the nearest entrance x 1.3 / 4.5 km/h."""
    demo = cci_geo.load_demo()
    sites = result.sites
    ent = demo["station_entrances"].to_crs(32650)
    pts = sites.to_crs(32650).geometry
    nearest = np.array([ent.distance(p).min() for p in pts])
    np.testing.assert_allclose(sites["raw_metro_access"], nearest * 1.3 / 4500 * 60, rtol=1e-6)
    assert (sites["raw_metro_access"] < 20).any() and (sites["raw_metro_access"] > 20).any()


def test_demo_surfaces(result):
    assert set(result.criteria) == {"zone_proximity", "functional_area", "enterprise_density",
                                    "venue_access", "metro_access"}
    comp = result.composite.data
    inside = result.grid.mask
    assert np.isnan(comp[~inside]).all()
    # cells farther than 15 km from every park fail the threshold constraint: nodata
    near = result.criteria["zone_proximity"].data > 0  # value > 0 within 10 km
    assert np.isfinite(comp[near & inside]).all()
    finite = comp[np.isfinite(comp)]
    assert finite.min() >= 0 and finite.max() <= 1
    # the composite is the renormalised weighted sum of the spatial criteria
    w = result.weights
    spatial = list(result.criteria)
    manual = sum(w[c] * result.criteria[c].data for c in spatial) / w[spatial].sum()
    ok = np.isfinite(comp)
    np.testing.assert_allclose(comp[ok], manual[ok])
