"""OR-Library p-median instances reproduce their published optima (Beasley 1990)."""

from pathlib import Path

import numpy as np
import pytest

from cci_geo.layout import heuristics as heur
from cci_geo.layout import p_center, p_median
from cci_geo.layout.branch import lagrangian_branch_and_bound
from cci_geo.layout.orlib import read_orlib_pmed

DATA = Path(__file__).parent / "data" / "orlib"


def orlib_costs(name: str) -> tuple[np.ndarray, int]:
    return read_orlib_pmed(DATA / name)


@pytest.mark.parametrize(("name", "optimum"), [("pmed1.txt", 5819), ("pmed5.txt", 1355)])
@pytest.mark.parametrize("method", ["exact", "auto"])
def test_published_optimum(name, optimum, method):
    cost, p = orlib_costs(name)
    res = p_median(cost=cost, p=p, method=method, time_limit_s=60)
    assert res.objective == pytest.approx(optimum)
    assert res.status == "optimal"
    assert res.bound == pytest.approx(optimum)
    assert len(res.selected) == p


@pytest.mark.parametrize(("name", "optimum"), [("pmed1.txt", 5819), ("pmed5.txt", 1355)])
def test_heuristic_brackets_optimum(name, optimum):
    cost, p = orlib_costs(name)
    res = p_median(cost=cost, p=p, method="heuristic", seed=3)
    assert res.bound <= optimum + 1e-6
    assert res.objective >= optimum - 1e-6
    assert res.objective <= optimum * 1.02


def test_minimum_edge_rule_would_be_wrong():
    # Guard on the data rule: with the minimum duplicate-edge cost pmed1 is a different problem.
    lines = (DATA / "pmed1.txt").read_text().split("\n")
    n, m, _ = (int(v) for v in lines[0].split())
    seen: dict[tuple[int, int], list[float]] = {}
    for line in lines[1 : m + 1]:
        i, j, c = (int(v) for v in line.split())
        seen.setdefault(tuple(sorted((i, j))), []).append(float(c))
    assert any(len(v) > 1 and min(v) != v[-1] for v in seen.values())


@pytest.mark.parametrize(("name", "optimum"),
                         [("pmed2.txt", 4093), ("pmed3.txt", 4250), ("pmed4.txt", 3034),
                          ("pmed6.txt", 7824), ("pmed7.txt", 5631), ("pmed13.txt", 4374),
                          ("pmed16.txt", 8162)])
def test_default_method_proves_mid_size_optimum(name, optimum):
    cost, p = orlib_costs(name)
    res = p_median(cost=cost, p=p, time_limit_s=60)
    assert res.objective == pytest.approx(optimum)
    assert res.status == "optimal"
    assert res.bound == pytest.approx(optimum)
    assert res.bound <= res.objective


def _root(name):
    cost, p = orlib_costs(name)
    none, every = np.zeros(cost.shape[1], dtype=bool), np.ones(cost.shape[1], dtype=bool)
    w = np.ones(cost.shape[0])
    start = heur.greedy(cost, w, p=p, fixed=none, allowed=every)
    upper = heur.evaluate(cost, w, start)
    lag = heur.lagrangian_bound(cost, w, p=p, fixed=none, allowed=every, upper=upper)
    return cost, w, p, none, every, start, upper, lag


@pytest.mark.parametrize(("name", "optimum"), [("pmed6.txt", 7824), ("pmed16.txt", 8162)])
def test_branch_and_bound_closes_the_relaxation_gap(name, optimum):
    # p = 5: the Lagrangian (= linear relaxation) bound stays about 1 % below the optimum, so
    # only the tree search can prove it; it starts from the greedy solution, not the optimum.
    cost, w, p, none, every, start, upper, lag = _root(name)
    assert lag.bound < optimum - 10
    out = lagrangian_branch_and_bound(cost, w, p=p, fixed=none, allowed=every, best=start,
                                      upper=upper, multipliers=lag.multipliers,
                                      time_limit_s=60)
    assert out.rounds > 1  # the tree branched
    assert out.status == "optimal"
    assert out.objective == optimum == out.bound
    assert heur.evaluate(cost, w, out.open_idx) == optimum
    assert out.open_idx.size == p


def test_branch_and_bound_out_of_time_reports_its_bound():
    cost, w, p, none, every, start, upper, lag = _root("pmed16.txt")
    out = lagrangian_branch_and_bound(cost, w, p=p, fixed=none, allowed=every, best=start,
                                      upper=upper, multipliers=lag.multipliers,
                                      time_limit_s=0.0)
    assert out.status == "time_limit"
    assert out.bound < 8162 <= out.objective
    assert heur.evaluate(cost, w, out.open_idx) == out.objective
    res = p_median(cost=cost, p=p, time_limit_s=0.5)
    assert res.status in {"time_limit", "optimal"}
    assert res.bound <= 8162 <= res.objective
    if res.status == "time_limit":
        assert res.bound < res.objective


# vertex p-center optima of the same graphs (Pullan 2008, OR-Library kcenteropt.txt)
@pytest.mark.parametrize(("name", "optimum"),
                         [("pmed1.txt", 127), ("pmed5.txt", 48), ("pmed7.txt", 64),
                          ("pmed13.txt", 36)])
def test_p_center_published_optimum(name, optimum):
    cost, p = orlib_costs(name)
    res = p_center(cost=cost, p=p, time_limit_s=60)
    assert res.objective == optimum
    assert res.bound == optimum
    assert res.status == "optimal"
    assert len(res.selected) == p
    assert cost[:, res.selected].min(axis=1).max() == optimum


def test_p_center_out_of_time_returns_the_greedy_radius_and_a_bound():
    cost, p = orlib_costs("pmed13.txt")
    res = p_center(cost=cost, p=p, time_limit_s=0.0)
    assert res.status == "time_limit"
    assert res.bound <= 36 <= res.objective
