"""AHP weights and consistency against published textbook matrices."""

import logging

import numpy as np
import pytest

from cci_geo.errors import ScenarioError
from cci_geo.suitability import RANDOM_INDEX, ahp_weights, consistency_ratio

# Saaty (2008), "Decision making with the analytic hierarchy process", Int. J. Services
# Sciences 1(1), Table 2: relative consumption of drinks in the USA (coffee, wine, tea, beer,
# sodas, milk, water). Published eigenvector .177 .019 .042 .116 .190 .129 .327, C.R. .022.
DRINKS = [
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
]
DRINKS_WEIGHTS = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]

# The three-criterion example used in many AHP course notes: weights 0.157, 0.594, 0.249,
# lambda_max 3.054, CR 0.046.
THREE = [[1, 1 / 3, 1 / 2], [3, 1, 3], [2, 1 / 3, 1]]


def test_saaty_drinks_matrix_reproduces_published_weights_and_cr():
    w, cr = ahp_weights(DRINKS)
    np.testing.assert_allclose(w, DRINKS_WEIGHTS, atol=0.0015)
    assert cr == pytest.approx(0.022, abs=0.001)
    assert w.sum() == pytest.approx(1.0)


def test_three_criteria_textbook_example():
    w, cr = ahp_weights(THREE)
    np.testing.assert_allclose(w, [0.157, 0.594, 0.249], atol=0.0006)
    assert cr == pytest.approx(0.046, abs=0.0006)
    # CR = ((lambda_max - n) / (n - 1)) / RI with lambda_max = 3.0536 and RI(3) = 0.58
    assert consistency_ratio(3.0536, 3) == pytest.approx(0.0536 / 2 / 0.58)


def test_consistent_matrix_recovers_weights_exactly():
    true = np.array([0.4, 0.3, 0.2, 0.1])
    w, cr = ahp_weights(true[:, None] / true[None, :])
    np.testing.assert_allclose(w, true, atol=1e-12)
    assert cr == pytest.approx(0.0, abs=1e-12)


def test_two_by_two_is_always_consistent():
    w, cr = ahp_weights([[1, 4], [1 / 4, 1]])
    np.testing.assert_allclose(w, [0.8, 0.2])
    assert cr == 0.0


def test_saaty_random_index_table():
    assert [RANDOM_INDEX[n] for n in range(3, 11)] == [0.58, 0.90, 1.12, 1.24, 1.32, 1.41,
                                                       1.45, 1.49]


def test_not_reciprocal_is_an_error_naming_the_entry():
    with pytest.raises(ScenarioError, match=r"reciprocal.*a\[0\]\[1\] = 3.*a\[1\]\[0\] = 0.5"):
        ahp_weights([[1, 3], [0.5, 1]])


@pytest.mark.parametrize("bad", [[[1, 0], [0, 1]], [[1, -2], [-0.5, 1]], [[1, np.nan], [1, 1]]])
def test_not_positive_is_an_error(bad):
    with pytest.raises(ScenarioError, match="positive"):
        ahp_weights(bad)


def test_not_square_is_an_error():
    with pytest.raises(ScenarioError, match="square"):
        ahp_weights([[1, 2, 3], [0.5, 1, 2]])


def test_inconsistent_matrix_is_refused_unless_allowed(caplog):
    cyclic = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]  # a > b > c > a
    with pytest.raises(ScenarioError, match=r"inconsistent: consistency ratio .* > 0.10"):
        ahp_weights(cyclic)
    with caplog.at_level(logging.WARNING, logger="cci_geo.suitability.ahp"):
        w, cr = ahp_weights(cyclic, allow_inconsistent=True)
    assert cr > 0.10
    np.testing.assert_allclose(w, [1 / 3] * 3, atol=1e-9)
    assert "inconsistent" in caplog.text
