"""Value functions: shapes checked at hand-computed points, and parameter validation."""

import math

import numpy as np
import pytest

from cci_geo.errors import ScenarioError
from cci_geo.suitability import (
    boolean,
    categories,
    gaussian,
    linear,
    sigmoid,
    step,
    value_function_from_spec,
)


def test_linear_increasing_and_decreasing_clip_between_thresholds():
    up = linear(100, 300)
    np.testing.assert_allclose(up([0, 100, 150, 300, 1000]), [0, 0, 0.25, 1, 1])
    down = linear(100, 300, decreasing=True)
    np.testing.assert_allclose(down([0, 100, 150, 300, 1000]), [1, 1, 0.75, 0, 0])


def test_sigmoid_midpoint_and_scale():
    f = sigmoid(1000, 200)
    np.testing.assert_allclose(f([1000, 1200, 800]),
                               [0.5, 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))])
    g = sigmoid(1000, 200, decreasing=True)
    np.testing.assert_allclose(g([1200]), [1 / (1 + math.exp(1))])


def test_gaussian_peaks_at_center():
    f = gaussian(20000, 5000)
    np.testing.assert_allclose(f([20000, 25000, 10000]),
                               [1, math.exp(-0.5), math.exp(-2)])


def test_step_table_uses_left_closed_intervals():
    f = step([10, 20], [0.1, 0.5, 1.0])
    np.testing.assert_allclose(f([5, 10, 19.9, 20, 99]), [0.1, 0.5, 0.5, 1.0, 1.0])


def test_boolean_variants():
    np.testing.assert_allclose(boolean()([True, False, 1, 0]), [1, 0, 1, 0])
    np.testing.assert_allclose(boolean(op=">=", threshold=5)([4, 5, 6]), [0, 1, 1])
    f = boolean(equals=["park", "base"])
    np.testing.assert_allclose(f(np.array(["park", "cluster", "base"], dtype=object)), [1, 0, 1])


def test_categories_lookup_with_default():
    f = categories({"park": 1.0, "base": 0.5}, default=0.1)
    np.testing.assert_allclose(f(np.array(["base", "other", "park"], dtype=object)),
                               [0.5, 0.1, 1.0])


def test_missing_raw_values_stay_missing():
    out = linear(0, 10)(np.array([5.0, np.nan]))
    assert out[0] == 0.5 and np.isnan(out[1])
    out = categories({"a": 1.0})(np.array(["a", None], dtype=object))
    assert out[0] == 1.0 and np.isnan(out[1])


@pytest.mark.parametrize(("spec", "match"), [
    ({"function": "linear", "low": 5, "high": 1}, r"value: high \(1\) must be greater"),
    ({"function": "linear", "low": 0}, r"value.high is missing"),
    ({"function": "linear", "low": 0, "high": 1, "direction": "down"}, "direction must be"),
    ({"function": "sigmoid", "midpoint": 0, "scale": 0}, r"value.scale must be > 0"),
    ({"function": "step", "breaks": [1, 2], "values": [0, 1]}, "needs len"),
    ({"function": "step", "breaks": [2, 1], "values": [0, 0.5, 1]}, "strictly increasing"),
    ({"function": "step", "breaks": [1], "values": [0, 2]}, r"values\[1\] must be a number in"),
    ({"function": "cubic"}, "function must be one of"),
    ({"function": "boolean", "op": "~", "threshold": 1}, "op must be one of"),
    ({"function": "categories", "values": {}}, "table of category"),
])
def test_bad_parameters_name_the_key(spec, match):
    with pytest.raises(ScenarioError, match=match):
        value_function_from_spec(spec)


def test_describe_is_readable():
    assert linear(0, 3000, decreasing=True).describe() == \
        "linear(low=0.0, high=3000.0, direction=decreasing)"
