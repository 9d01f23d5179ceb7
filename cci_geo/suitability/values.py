"""Value functions: map a criterion's raw measure (metres, minutes, counts...) to a 0-1 value.

A value of 1 is most suitable, 0 least. Missing raw values (NaN / None) stay missing, so they
become nodata on the grid instead of silently scoring 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError

__all__ = [
    "VALUE_FUNCTIONS",
    "ValueFunction",
    "boolean",
    "categories",
    "gaussian",
    "linear",
    "sigmoid",
    "step",
    "value_function_from_spec",
]

_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
    "==": np.equal, "!=": np.not_equal,
}


@dataclass(frozen=True)
class ValueFunction:
    """A named, parameterised map from raw measures to values in [0, 1].

    Build one with :func:`linear`, :func:`sigmoid`, :func:`gaussian`, :func:`step`,
    :func:`boolean` or :func:`categories` (or :func:`value_function_from_spec` from a scenario
    table); call it on an array of raw values.

    Attributes
    ----------
    function
        Name of the function family (``"linear"``, ``"sigmoid"``...).
    params
        Its parameters, as written in a scenario file.
    """

    function: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def numeric(self) -> bool:
        """True if the function needs numeric raw values (everything but categories/equals)."""
        return not (self.function == "categories"
                    or (self.function == "boolean" and "equals" in self.params))

    def __call__(self, raw: np.ndarray | Sequence[Any]) -> np.ndarray:
        """Return the values (float64 in [0, 1], NaN where ``raw`` is missing)."""
        arr = np.asarray(raw)
        missing = np.asarray(pd.isna(arr), dtype=bool)
        if not self.numeric:
            return _categorical(self, arr, missing)
        x = np.where(missing, np.nan, arr).astype("float64") if missing.any() else \
            arr.astype("float64")
        return np.where(missing, np.nan, np.clip(_NUMERIC[self.function](self.params, x), 0, 1))

    def describe(self) -> str:
        """Return a one-line human description, e.g. ``linear decreasing 500 -> 5000``."""
        p = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.function}({p})"


def _linear(p: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    low, high = float(p["low"]), float(p["high"])
    with np.errstate(invalid="ignore"):
        v = (x - low) / (high - low)
    return 1.0 - v if p.get("direction", "increasing") == "decreasing" else v


def _sigmoid(p: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    z = (x - float(p["midpoint"])) / float(p["scale"])
    if p.get("direction", "increasing") == "decreasing":
        z = -z
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def _gaussian(p: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * ((x - float(p["center"])) / float(p["sd"])) ** 2)


def _step(p: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    breaks = np.asarray(p["breaks"], dtype="float64")
    values = np.asarray(p["values"], dtype="float64")
    idx = np.searchsorted(breaks, np.nan_to_num(x, nan=0.0), side="right")
    return values[idx]


def _boolean(p: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    if "op" in p:
        return _OPS[p["op"]](x, float(p["threshold"])).astype("float64")
    return (np.nan_to_num(x, nan=0.0) != 0).astype("float64")


_NUMERIC: dict[str, Callable[[Mapping[str, Any], np.ndarray], np.ndarray]] = {
    "linear": _linear, "sigmoid": _sigmoid, "gaussian": _gaussian, "step": _step,
    "boolean": _boolean,
}


def _categorical(vf: ValueFunction, arr: np.ndarray, missing: np.ndarray) -> np.ndarray:
    out = np.full(arr.shape, np.nan)
    flat, miss = arr.ravel(), missing.ravel()
    res = out.ravel()
    if vf.function == "categories":
        table = {str(k): float(v) for k, v in vf.params["values"].items()}
        default = float(vf.params.get("default", 0.0))
        for i in np.flatnonzero(~miss):
            res[i] = table.get(str(flat[i]), default)
    else:
        wanted = {str(v) for v in vf.params["equals"]}
        for i in np.flatnonzero(~miss):
            res[i] = 1.0 if str(flat[i]) in wanted else 0.0
    return res.reshape(arr.shape)


def linear(low: float, high: float, *, decreasing: bool = False) -> ValueFunction:
    """Return a linear ramp: 0 at ``low``, 1 at ``high`` (reversed if ``decreasing``).

    Values below ``low`` / above ``high`` are clipped, so for ``decreasing=True`` a raw value
    at or below ``low`` scores 1 and at or above ``high`` scores 0.

    Examples
    --------
    >>> linear(500, 5000, decreasing=True)([0, 2750, 9000]).tolist()
    [1.0, 0.5, 0.0]
    """
    return value_function_from_spec({"function": "linear", "low": low, "high": high,
                                     "direction": "decreasing" if decreasing else "increasing"})


def sigmoid(midpoint: float, scale: float, *, decreasing: bool = False) -> ValueFunction:
    """Return the logistic curve ``1 / (1 + exp(-(x - midpoint) / scale))``.

    It is 0.5 at ``midpoint``, 0.73 at ``midpoint + scale`` and 0.88 at ``midpoint + 2 scale``
    (mirrored if ``decreasing``).

    Examples
    --------
    >>> sigmoid(5000, 1000)([5000]).tolist()
    [0.5]
    """
    return value_function_from_spec({"function": "sigmoid", "midpoint": midpoint,
                                     "scale": scale,
                                     "direction": "decreasing" if decreasing else "increasing"})


def gaussian(center: float, sd: float) -> ValueFunction:
    """Return ``exp(-((x - center) / sd)^2 / 2)``: 1 at ``center``, 0.61 one ``sd`` away.

    Examples
    --------
    >>> gaussian(1000, 500)([1000, 1500]).round(3).tolist()
    [1.0, 0.607]
    """
    return value_function_from_spec({"function": "gaussian", "center": center, "sd": sd})


def step(breaks: Sequence[float], values: Sequence[float]) -> ValueFunction:
    """Return a step table: ``values[i]`` for ``breaks[i-1] <= x < breaks[i]``.

    ``values`` has one more entry than ``breaks`` (the first applies below ``breaks[0]``).

    Examples
    --------
    >>> step([1000, 5000], [0.2, 0.6, 1.0])([500, 1000, 7000]).tolist()
    [0.2, 0.6, 1.0]
    """
    return value_function_from_spec({"function": "step", "breaks": list(breaks),
                                     "values": list(values)})


def boolean(*, op: str | None = None, threshold: float | None = None,
            equals: Sequence[Any] | None = None) -> ValueFunction:
    """Return 1 where a condition holds, else 0.

    With no argument the condition is "raw value is true / non-zero"; with ``op`` and
    ``threshold`` it is ``raw <op> threshold`` (op one of ``> >= < <= == !=``); with ``equals``
    it is "raw value is one of these categories".

    Examples
    --------
    >>> boolean(op="<=", threshold=500)([100, 800]).tolist()
    [1.0, 0.0]
    """
    spec: dict[str, Any] = {"function": "boolean"}
    if op is not None or threshold is not None:
        spec.update(op=op, threshold=threshold)
    if equals is not None:
        spec["equals"] = list(equals)
    return value_function_from_spec(spec)


def categories(values: Mapping[str, float], *, default: float = 0.0) -> ValueFunction:
    """Return a lookup table from category (string) to value; unknown categories get ``default``.

    Examples
    --------
    >>> categories({"vacant": 1.0, "candidate": 0.6})(["vacant", "reused"]).tolist()
    [1.0, 0.0]
    """
    return value_function_from_spec({"function": "categories", "values": dict(values),
                                     "default": default})


def _num(spec: Mapping[str, Any], name: str, key: str, *, positive: bool = False) -> float:
    if name not in spec:
        msg = f"{key}.{name} is missing; add {name} = <number> to the value table."
        raise ScenarioError(msg)
    v = spec[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        msg = f"{key}.{name} must be a finite number, got {v!r}."
        raise ScenarioError(msg)
    if positive and v <= 0:
        msg = f"{key}.{name} must be > 0, got {v!r}."
        raise ScenarioError(msg)
    return float(v)


def _direction(spec: Mapping[str, Any], key: str) -> str:
    d = spec.get("direction", "increasing")
    if d not in ("increasing", "decreasing"):
        msg = (f"{key}.direction must be 'increasing' or 'decreasing', got {d!r}; "
               "'decreasing' means smaller raw values are better (e.g. distances).")
        raise ScenarioError(msg)
    return str(d)


def _unit_values(vals: Any, key: str) -> list[float]:
    if not isinstance(vals, (list, tuple)) or not vals:
        msg = f"{key} must be a non-empty list of numbers in [0, 1]."
        raise ScenarioError(msg)
    out = []
    for i, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            msg = f"{key}[{i}] must be a number in [0, 1], got {v!r}."
            raise ScenarioError(msg)
        out.append(float(v))
    return out


def _spec_params(function: str, spec: Mapping[str, Any], key: str) -> dict[str, Any]:
    if function == "linear":
        low, high = _num(spec, "low", key), _num(spec, "high", key)
        if high <= low:
            msg = (f"{key}: high ({high:g}) must be greater than low ({low:g}); to make "
                   "smaller values better keep low < high and set direction = 'decreasing'.")
            raise ScenarioError(msg)
        return {"low": low, "high": high, "direction": _direction(spec, key)}
    if function == "sigmoid":
        return {"midpoint": _num(spec, "midpoint", key),
                "scale": _num(spec, "scale", key, positive=True),
                "direction": _direction(spec, key)}
    if function == "gaussian":
        return {"center": _num(spec, "center", key), "sd": _num(spec, "sd", key, positive=True)}
    if function == "step":
        breaks = spec.get("breaks")
        if (not isinstance(breaks, (list, tuple)) or not breaks
                or any(isinstance(b, bool) or not isinstance(b, (int, float)) for b in breaks)
                or any(b2 <= b1 for b1, b2 in zip(breaks, breaks[1:], strict=False))):
            msg = f"{key}.breaks must be a non-empty, strictly increasing list of numbers."
            raise ScenarioError(msg)
        values = _unit_values(spec.get("values"), f"{key}.values")
        if len(values) != len(breaks) + 1:
            msg = (f"{key}.values needs len(breaks) + 1 = {len(breaks) + 1} entries (one below "
                   f"the first break and one after each), got {len(values)}.")
            raise ScenarioError(msg)
        return {"breaks": [float(b) for b in breaks], "values": values}
    if function == "boolean":
        params: dict[str, Any] = {}
        if "equals" in spec:
            eq = spec["equals"]
            params["equals"] = list(eq) if isinstance(eq, (list, tuple)) else [eq]
        if "op" in spec or "threshold" in spec:
            if spec.get("op") not in _OPS:
                msg = f"{key}.op must be one of {sorted(_OPS)}, got {spec.get('op')!r}."
                raise ScenarioError(msg)
            params.update(op=spec["op"], threshold=_num(spec, "threshold", key))
        if "equals" in params and "op" in params:
            msg = f"{key}: give either equals = [...] or op/threshold, not both."
            raise ScenarioError(msg)
        return params
    # categories
    table = spec.get("values")
    if not isinstance(table, Mapping) or not table:
        msg = (f"{key}.values must be a table of category = value, e.g. "
               "values = { park = 1.0, base = 0.5 }.")
        raise ScenarioError(msg)
    vals = _unit_values(list(table.values()), f"{key}.values")
    default = spec.get("default", 0.0)
    _unit_values([default], f"{key}.default")
    return {"values": dict(zip(map(str, table), vals, strict=True)), "default": float(default)}


VALUE_FUNCTIONS: tuple[str, ...] = ("linear", "sigmoid", "gaussian", "step", "boolean",
                                    "categories")
"""Names accepted as ``function`` in a scenario's value table."""


def value_function_from_spec(spec: Mapping[str, Any] | ValueFunction, *,
                             key: str = "value") -> ValueFunction:
    """Build and check a :class:`ValueFunction` from a scenario table.

    Parameters
    ----------
    spec
        Mapping with ``function`` (one of :data:`VALUE_FUNCTIONS`) and its parameters, e.g.
        ``{"function": "linear", "low": 0, "high": 3000, "direction": "decreasing"}``.
    key
        Where the table sits in the scenario, used in error messages.

    Returns
    -------
    ValueFunction

    Raises
    ------
    ScenarioError
        Naming the key and the fix when the function is unknown or a parameter is bad.

    Examples
    --------
    >>> vf = value_function_from_spec({"function": "linear", "low": 0, "high": 10})
    >>> vf([5]).tolist()
    [0.5]
    """
    if isinstance(spec, ValueFunction):
        spec = {"function": spec.function, **spec.params}
    if not isinstance(spec, Mapping):
        msg = (f"{key} must be a table such as {{ function = 'linear', low = 0, high = 1000 }}, "
               f"got {spec!r}.")
        raise ScenarioError(msg)
    function = spec.get("function")
    if function not in VALUE_FUNCTIONS:
        msg = f"{key}.function must be one of {list(VALUE_FUNCTIONS)}, got {function!r}."
        raise ScenarioError(msg)
    return ValueFunction(str(function), _spec_params(str(function), spec, key))
