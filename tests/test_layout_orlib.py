"""OR-Library p-median instances reproduce their published optima (Beasley 1990)."""

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import shortest_path

from cci_geo.layout import p_median

DATA = Path(__file__).parent / "data" / "orlib"


def orlib_costs(name: str) -> tuple[np.ndarray, int]:
    lines = (DATA / name).read_text().split("\n")
    n, m, p = (int(v) for v in lines[0].split())
    edges: dict[tuple[int, int], float] = {}
    for line in lines[1 : m + 1]:
        i, j, c = (int(v) for v in line.split())
        a, b = sorted((i - 1, j - 1))
        edges[(a, b)] = float(c)  # the LAST occurrence of an edge gives its cost
    rows = [a for a, _ in edges] + [b for _, b in edges]
    cols = [b for _, b in edges] + [a for a, _ in edges]
    vals = list(edges.values()) * 2
    graph = csr_array((vals, (rows, cols)), shape=(n, n))
    return shortest_path(graph, directed=False), p


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
