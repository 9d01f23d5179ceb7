"""Ranking, Monte Carlo weight perturbation and one-at-a-time weight ranges."""

import numpy as np
import pytest

from cci_geo.suitability import monte_carlo, one_at_a_time, rank_scores


def _values(n=40, m=4, seed=1):
    return np.random.default_rng(seed).uniform(size=(n, m))


def test_rank_scores_breaks_ties_by_id():
    ranks = rank_scores(np.array([0.5, 0.9, 0.5, 0.1]), ["b", "z", "a", "c"])
    assert ranks.tolist() == [3, 1, 2, 4]


def test_rank_scores_columns_are_independent():
    s = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert rank_scores(s, ["a", "b"]).tolist() == [[1, 2], [2, 1]]


def _naive(values, ids, W, top_k):
    """Oracle: rank with Python's sorted(key=(-score, id)) draw by draw."""
    n = len(ids)
    ranks = np.zeros((n, len(W)), dtype=int)
    for d, w in enumerate(W):
        s = values @ w
        order = sorted(range(n), key=lambda i: (-s[i], str(ids[i])))
        for r, i in enumerate(order, start=1):
            ranks[i, d] = r
    return (ranks <= top_k).mean(axis=1), ranks


def test_monte_carlo_matches_naive_loop_and_is_reproducible():
    V = _values()
    ids = [f"S{i:02d}" for i in range(len(V))]
    w = np.array([0.4, 0.3, 0.2, 0.1])
    a = monte_carlo(V, w, ids, draws=200, concentration=50, top_k=5, seed=7)
    b = monte_carlo(V, w, ids, draws=200, concentration=50, top_k=5, seed=7)
    c = monte_carlo(V, w, ids, draws=200, concentration=50, top_k=5, seed=8)
    assert a.summary.equals(b.summary)
    np.testing.assert_array_equal(a.weight_draws, b.weight_draws)
    assert not np.array_equal(a.weight_draws, c.weight_draws)
    p, ranks = _naive(V, ids, a.weight_draws, 5)
    np.testing.assert_allclose(a.summary["p_top_k"].to_numpy(), p)
    np.testing.assert_allclose(a.summary["rank_median"].to_numpy(), np.median(ranks, axis=1))
    assert (a.rank_counts.sum(axis=1) == 200).all()
    assert (a.rank_counts.sum(axis=0) == 200).all()
    np.testing.assert_allclose(a.weight_draws.sum(axis=1), 1.0)


def test_monte_carlo_weights_center_on_chosen_weights():
    V = _values()
    w = np.array([0.5, 0.25, 0.25, 0.0])
    mc = monte_carlo(V, w, list(range(len(V))), draws=4000, concentration=100, seed=3)
    np.testing.assert_allclose(mc.weight_draws.mean(axis=0), w, atol=0.005)
    assert (mc.weight_draws[:, 3] == 0).all()
    # Dirichlet sd of a weight w: sqrt(w (1 - w) / (concentration + 1))
    assert mc.weight_draws[:, 0].std() == pytest.approx(np.sqrt(0.25 / 101), rel=0.1)


def test_huge_concentration_reproduces_the_base_ranking():
    V = _values()
    ids = [f"S{i:02d}" for i in range(len(V))]
    w = np.array([0.4, 0.3, 0.2, 0.1])
    mc = monte_carlo(V, w, ids, draws=50, concentration=1e9, top_k=3, seed=0)
    base = rank_scores(V @ w, ids)
    np.testing.assert_array_equal(mc.summary["rank_median"].to_numpy(), base)
    np.testing.assert_array_equal(mc.summary["p_top_k"].to_numpy(), (base <= 3).astype(float))


def test_one_at_a_time_by_hand():
    # Weight t on criterion x (the other gets 1 - t): scores a = t, b = 1 - t, c = 0.45.
    # a stays top while t > 0.5 (then b overtakes); c never leads.
    V = np.array([[1.0, 0.0], [0.0, 1.0], [0.45, 0.45]])
    oat = one_at_a_time(V, np.array([0.6, 0.4]), ["a", "b", "c"], ["x", "y"], top_k=1)
    assert oat.loc["x", "weight_min"] == pytest.approx(0.5)
    assert oat.loc["x", "weight_max"] == pytest.approx(1.0)
    assert oat.loc["x", "swap_down"] == "a -> b"
    assert oat.loc["x", "swap_up"] == ""
    assert oat.loc["y", "weight_max"] == pytest.approx(0.5)
    assert oat.loc["y", "up"] == pytest.approx(0.1)
    assert oat.loc["y", "swap_up"] == "a -> b"


def test_one_at_a_time_bounds_are_tight():
    V = _values(30, 3, seed=5)
    ids = [f"S{i:02d}" for i in range(30)]
    w = np.array([0.5, 0.3, 0.2])
    oat = one_at_a_time(V, w, ids, ["a", "b", "c"], top_k=5)

    def top(i, t):
        rest = np.delete(w, i)
        ww = np.insert(rest / rest.sum() * (1 - t), i, t)
        return set(np.flatnonzero(rank_scores(V @ ww, ids) <= 5))

    for i, name in enumerate(["a", "b", "c"]):
        base = top(i, w[i])
        lo, hi = oat.loc[name, "weight_min"], oat.loc[name, "weight_max"]
        for t in np.linspace(lo + 1e-6, hi - 1e-6, 7):
            assert top(i, t) == base
        if hi < 1:
            assert top(i, min(hi + 1e-6, 1)) != base
        if lo > 0:
            assert top(i, max(lo - 1e-6, 0)) != base
