"""Location models: spopt (PuLP/CBC) as oracle, site rules, geometries and bad input."""

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial.distance import cdist

from cci_geo.errors import CRSMismatchError, DataError, InfeasibleError
from cci_geo.layout import cost_matrix, max_coverage, p_center, p_median, set_cover
from cci_geo.results import result_kind


def random_instance(seed, n=40, m=12):
    rng = np.random.default_rng(seed)
    d = rng.random((n, 2)) * 10_000
    c = rng.random((m, 2)) * 10_000
    w = rng.integers(1, 20, n).astype(float)
    return cdist(d, c), w


def points(xy, crs="EPSG:32650", **cols):
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


# spopt builds PuLP models the way PuLP 4.0 will deprecate; those notices are not ours to fix.
PULP_NOTICE = "ignore:.*PuLP 4.0:DeprecationWarning"


class _Solver:
    """PuLP's bundled CBC."""

    def __init__(self, pulp):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*PuLP 4.0", DeprecationWarning)
            self.cmd = pulp.PULP_CBC_CMD(msg=False)

    def solve(self, model):
        return model.solve(self.cmd)


@pytest.fixture(scope="module")
def pulp_solver():
    pulp = pytest.importorskip("pulp")
    pytest.importorskip("spopt")
    return _Solver(pulp)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.filterwarnings(PULP_NOTICE)
def test_p_median_matches_spopt(seed, pulp_solver):
    from spopt.locate import PMedian

    cost, w = random_instance(seed)
    oracle = pulp_solver.solve(PMedian.from_cost_matrix(cost, w, p_facilities=4))
    ours = p_median(cost=cost, weight=w, p=4)
    assert ours.objective == pytest.approx(oracle.problem.objective.value(), rel=1e-9)
    assert ours.status == "optimal"


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.filterwarnings(PULP_NOTICE)
def test_max_coverage_matches_spopt(seed, pulp_solver):
    from spopt.locate import MCLP

    cost, w = random_instance(seed)
    oracle = MCLP.from_cost_matrix(cost, w, service_radius=2500, p_facilities=3)
    oracle = pulp_solver.solve(oracle)
    ours = max_coverage(cost=cost, weight=w, p=3, standard_m=2500)
    assert ours.objective == pytest.approx(oracle.problem.objective.value())
    assert ours.bound == pytest.approx(ours.objective)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.filterwarnings(PULP_NOTICE)
def test_set_cover_matches_spopt(seed, pulp_solver):
    from spopt.locate import LSCP

    cost, _ = random_instance(seed)
    radius = float(cost.min(axis=1).max()) * 1.3
    oracle = pulp_solver.solve(LSCP.from_cost_matrix(cost, service_radius=radius))
    ours = set_cover(cost=cost, standard_m=radius)
    assert ours.objective == pytest.approx(oracle.problem.objective.value())
    assert (ours.allocations["cost"] <= radius).all()
    assert ours.allocations["demand_id"].nunique() == cost.shape[0]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.filterwarnings(PULP_NOTICE)
def test_p_center_matches_spopt(seed, pulp_solver):
    from spopt.locate import PCenter

    cost, _ = random_instance(seed, n=25, m=10)
    oracle = pulp_solver.solve(PCenter.from_cost_matrix(cost, p_facilities=3))
    ours = p_center(cost=cost, p=3)
    assert ours.objective == pytest.approx(oracle.problem.objective.value())
    assert ours.objective == pytest.approx(cost[:, ours.selected].min(axis=1).max())


def test_p_median_brute_force_and_heuristic_bound():
    from itertools import combinations

    cost, w = random_instance(5, n=30, m=9)
    best = min(float(w @ cost[:, list(s)].min(axis=1)) for s in combinations(range(9), 3))
    exact = p_median(cost=cost, weight=w, p=3, method="exact")
    heur = p_median(cost=cost, weight=w, p=3, method="heuristic")
    assert exact.objective == pytest.approx(best)
    assert heur.bound <= best + 1e-6 <= heur.objective + 2e-6
    assert heur.gap == pytest.approx((heur.objective - heur.bound) / heur.objective)


def test_fixed_sites_stay_open_and_p_counts_new():
    cost, w = random_instance(1)
    res = p_median(cost=cost, weight=w, p=2, fixed=[0, 5])
    assert {0, 5} <= set(res.selected)
    assert len(res.selected) == 4
    assert res.sites["fixed"].sum() == 2
    # p=0 with fixed sites evaluates the existing layout
    base = p_median(cost=cost, weight=w, p=0, fixed=[0, 5])
    assert base.objective == pytest.approx(w @ cost[:, [0, 5]].min(axis=1))
    assert res.objective <= base.objective


def test_district_balance_is_respected_and_summarised():
    cost, w = random_instance(2, m=12)
    district = np.array(["A"] * 6 + ["B"] * 6)
    free = p_median(cost=cost, weight=w, p=4)
    counts = pd.Series(district[free.selected]).value_counts()
    bal = p_median(cost=cost, weight=w, p=4, district=district, district_max=2)
    assert pd.Series(district[bal.selected]).value_counts().max() <= 2
    assert bal.objective >= free.objective - 1e-9
    assert bal.districts is not None and bal.districts["sites_new"].sum() == 4
    mn = max_coverage(cost=cost, weight=w, p=3, standard_m=3000, district=district,
                      district_min={"A": 3})
    assert (district[mn.selected] == "A").sum() >= 3
    assert counts.sum() == 4


def test_budget_and_site_cost():
    cost, w = random_instance(3)
    site_cost = np.arange(1, 13, dtype=float)
    res = max_coverage(cost=cost, weight=w, p=3, standard_m=3000, site_cost=site_cost,
                       budget=10)
    assert site_cost[res.selected].sum() <= 10
    cover = set_cover(cost=cost, standard_m=float(cost.min(axis=1).max()) * 1.5,
                      site_cost=site_cost)
    assert cover.objective == pytest.approx(site_cost[cover.selected].sum())


def test_capacitated_p_median_respects_capacity():
    cost, w = random_instance(4, n=30, m=8)
    cap = np.full(8, w.sum() / 3 + 1)
    res = p_median(cost=cost, weight=w, p=4, capacity=cap)
    unc = p_median(cost=cost, weight=w, p=4)
    assert (res.sites["demand_served"] <= cap[res.selected] + 1e-6).all()
    assert res.objective >= unc.objective - 1e-6
    shares = res.allocations.groupby("demand_id")["share"].sum()
    assert np.allclose(shares, 1.0)
    with pytest.raises(InfeasibleError, match="capacity"):
        p_median(cost=cost, weight=w, p=2, capacity=np.full(8, w.sum() / 3))


def test_site_score_blends_into_coverage():
    cost, w = random_instance(6)
    score = np.zeros(12)
    plain = max_coverage(cost=cost, weight=w, p=2, standard_m=2500)
    loser = next(j for j in range(12) if j not in set(plain.selected))
    score[loser] = 1.0
    blended = max_coverage(cost=cost, weight=w, p=2, standard_m=2500, site_score=score,
                           score_weight=0.9)
    assert loser in set(blended.selected)
    assert blended.objective <= plain.objective


def test_geometries_give_sites_and_allocation_lines():
    rng = np.random.default_rng(0)
    demand = points(rng.random((30, 2)) * 5000 + [440_000, 4_420_000],
                    id=[f"d{i}" for i in range(30)], jobs=rng.integers(1, 9, 30))
    demand = demand.to_crs("EPSG:4326")
    cands = points(rng.random((8, 2)) * 5000 + [440_000, 4_420_000],
                   id=[f"c{i}" for i in range(8)]).to_crs("EPSG:4326")
    before = demand.copy()
    res = p_median(demand, cands, p=3, weight="jobs")
    pd.testing.assert_frame_equal(demand, before)
    assert res.unit == "m"
    assert isinstance(res.sites, gpd.GeoDataFrame) and res.sites.crs == cands.crs
    assert result_kind(res.sites) == "selected_sites"
    alloc = res.allocations
    assert result_kind(alloc) == "allocations"
    assert (alloc.geometry.geom_type == "LineString").all() and len(alloc) == 30
    assert set(alloc["site_id"]) <= set(res.sites["id"])
    m = cost_matrix(demand, cands)
    nearest = m.to_numpy()[:, res.selected].min(axis=1)
    assert res.objective == pytest.approx(float(demand["jobs"].to_numpy() @ nearest))
    # polygons are represented by their centroid
    polys = demand.to_crs("EPSG:32650").buffer(50).to_crs("EPSG:4326")
    poly_res = p_median(gpd.GeoDataFrame(demand.drop(columns="geometry"), geometry=polys),
                        cands, p=3, weight="jobs")
    assert poly_res.objective == pytest.approx(res.objective, rel=1e-3)


def test_cost_dataframe_is_aligned_by_ids():
    rng = np.random.default_rng(1)
    demand = points(rng.random((6, 2)) * 1000, id=list("abcdef"))
    cands = points(rng.random((4, 2)) * 1000, id=["w", "x", "y", "z"])
    frame = cost_matrix(demand, cands)
    shuffled = frame.iloc[::-1, ::-1]
    a = p_median(demand, cands, p=2, cost=shuffled)
    b = p_median(demand, cands, p=2)
    assert a.objective == pytest.approx(b.objective)
    assert a.unit == "cost"
    with pytest.raises(DataError, match="index"):
        p_median(demand, cands, p=2, cost=frame.rename(index={"a": "q"}))


def test_bad_input_errors():
    cost, w = random_instance(0, n=5, m=4)
    with pytest.raises(ValueError, match="p=5 exceeds the 4 candidate"):
        p_median(cost=cost, p=5)
    with pytest.raises(ValueError, match="p=3 exceeds the 2 candidate sites available"):
        p_median(cost=cost, p=3, fixed=[0, 1])
    bad = cost.copy()
    bad[1, 2] = -1
    with pytest.raises(DataError, match="negative"):
        p_median(cost=bad, p=1)
    bad[1, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        p_median(cost=bad, p=1)
    bad[1, 2] = np.inf
    with pytest.raises(DataError, match="unreachable"):
        p_median(cost=bad, p=1)
    with pytest.raises(DataError, match="unreachable"):
        p_center(cost=bad, p=1)
    # coverage models treat an unreachable pair as not covered
    assert max_coverage(cost=bad, p=1, standard_m=1e9).objective == 5
    with pytest.raises(DataError, match="empty"):
        p_median(cost=np.zeros((0, 4)), p=1)
    with pytest.raises(DataError, match="weight must be finite"):
        p_median(cost=cost, p=1, weight=[1, 2, -1, 1, 1])
    with pytest.raises(InfeasibleError, match="district_min"):
        p_median(cost=cost, p=1, district=["A", "A", "B", "B"], district_min={"A": 2})
    with pytest.raises(InfeasibleError, match="district 'C'"):
        p_median(cost=cost, p=2, district=["A", "A", "B", "B"], district_min={"C": 1})
    with pytest.raises(InfeasibleError, match="district_max"):
        p_median(cost=cost, p=3, district=["A", "A", "B", "B"], district_max=1)
    with pytest.raises(InfeasibleError, match="budget"):
        p_median(cost=cost, p=2, site_cost=[5, 5, 5, 5], budget=9)
    with pytest.raises(InfeasibleError, match="no candidate within standard"):
        set_cover(cost=cost, standard_m=1.0)


def test_combined_rules_infeasibility_names_the_rule():
    cost, _ = random_instance(0, n=5, m=6)
    # Each rule alone is satisfiable; together they are not: the two cheap sites are in B.
    with pytest.raises(InfeasibleError, match="budget|district_min"):
        p_median(cost=cost, p=2, district=["A", "A", "A", "A", "B", "B"],
                 district_min={"A": 2}, site_cost=[5, 5, 5, 5, 1, 1], budget=6)


def test_crs_mismatch_and_empty_demand():
    rng = np.random.default_rng(0)
    d = points(rng.random((5, 2)) * 100)
    c = points(rng.random((3, 2)) * 100, crs="EPSG:32651")
    with pytest.raises(CRSMismatchError, match="EPSG:32651"):
        p_median(d, c, p=1)
    with pytest.raises(DataError, match="empty"):
        p_median(d.iloc[:0], c.to_crs(d.crs), p=1)


def test_geographic_input_is_measured_in_metres():
    d = gpd.GeoDataFrame(geometry=[shapely.Point(116.40, 39.90)], crs="EPSG:4326")
    c = gpd.GeoDataFrame(geometry=[shapely.Point(116.41, 39.90)], crs="EPSG:4326")
    m = cost_matrix(d, c)
    assert 800 < m.iloc[0, 0] < 900
