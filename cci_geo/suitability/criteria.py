"""Criteria and constraints: what is measured on which layer, and how it is valued."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from ..errors import ScenarioError
from .values import ValueFunction, value_function_from_spec

__all__ = ["CONSTRAINT_KINDS", "MEASURES", "Constraint", "Criterion", "check_params"]

# measure -> (needs a layer, required params, optional params with defaults, raw unit)
MEASURES: dict[str, tuple[bool, tuple[str, ...], dict[str, Any], str]] = {
    "distance": (True, (), {}, "m"),
    "travel_time": (True, (), {"network": None, "mode": "walk", "straight_line": False,
                               "speed_kmh": None, "detour_factor": 1.0}, "min"),
    "density": (True, ("bandwidth_m",), {"kernel": "quartic", "weight_column": None},
                "per km²"),
    "count": (True, ("radius_m",), {}, "features"),
    "sum": (True, ("radius_m", "column"), {}, "sum"),
    "attribute": (True, ("column",), {"fill": None}, ""),
    "raster": (False, ("path",), {"band": 1, "resampling": "bilinear"}, ""),
    "site_attribute": (False, ("column",), {}, ""),
}
"""Supported measures: whether each needs ``layer``, its required and optional parameters."""

_SPEEDS_KMH = {"walk": 4.5, "bike": 12.0, "drive": 30.0}
_RESAMPLING = ("nearest", "bilinear", "cubic", "average", "mode", "max", "min")
CONSTRAINT_KINDS = ("exclude", "threshold", "site")


def _positive(params: Mapping[str, Any], name: str, key: str) -> float:
    v = params[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        msg = f"{key}.{name} must be a positive number, got {v!r}."
        raise ScenarioError(msg)
    return float(v)


def _check_travel(p: dict[str, Any], key: str) -> None:
    if p["mode"] not in _SPEEDS_KMH:
        msg = f"{key}.mode must be one of {list(_SPEEDS_KMH)}, got {p['mode']!r}."
        raise ScenarioError(msg)
    if not isinstance(p["straight_line"], bool):
        msg = f"{key}.straight_line must be true or false, got {p['straight_line']!r}."
        raise ScenarioError(msg)
    if p["network"] is None and not p["straight_line"]:
        msg = (f"{key} needs a street network: set network = '<graph file or place>' (read "
               "with cci_geo.network.load_graph), or set straight_line = true to use "
               "straight-line distance / speed_kmh instead.")
        raise ScenarioError(msg)
    if p["speed_kmh"] is None:
        p["speed_kmh"] = _SPEEDS_KMH[p["mode"]]
    _positive(p, "speed_kmh", key)
    if _positive(p, "detour_factor", key) < 1:
        msg = f"{key}.detour_factor must be >= 1 (network / straight-line distance)."
        raise ScenarioError(msg)


def check_params(measure: str, params: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Return ``params`` completed with defaults, or raise naming the bad key and the fix.

    Parameters
    ----------
    measure
        One of :data:`MEASURES`.
    params
        The parameters given in the scenario.
    key
        Where they sit in the scenario (``criteria[2]``), used in error messages.

    Returns
    -------
    dict
        The checked parameters with defaults filled in.

    Raises
    ------
    ScenarioError
        On an unknown measure, a missing or unknown parameter, or a bad value.

    Examples
    --------
    >>> check_params("distance", {"radius_m": 500}, "criteria[0]")
    Traceback (most recent call last):
    ...
    cci_geo.errors.ScenarioError: criteria[0]: unknown parameter(s) ['radius_m'] ...
    """
    if measure not in MEASURES:
        msg = f"{key}.measure must be one of {list(MEASURES)}, got {measure!r}."
        raise ScenarioError(msg)
    _, required, optional, _ = MEASURES[measure]
    unknown = sorted(set(params) - set(required) - set(optional))
    if unknown:
        allowed = sorted({*required, *optional})
        msg = (f"{key}: unknown parameter(s) {unknown} for measure {measure!r}; "
               f"allowed: {allowed}.")
        raise ScenarioError(msg)
    missing = [r for r in required if r not in params]
    if missing:
        msg = f"{key}: measure {measure!r} needs {missing}; add e.g. {missing[0]} = ... ."
        raise ScenarioError(msg)
    p = {**optional, **params}
    for name in ("radius_m", "bandwidth_m"):
        if name in p:
            _positive(p, name, key)
    for name in ("column", "weight_column", "path"):
        if p.get(name) is not None and not isinstance(p[name], str):
            msg = f"{key}.{name} must be a string, got {p[name]!r}."
            raise ScenarioError(msg)
    if measure == "travel_time":
        _check_travel(p, key)
    if measure == "raster":
        if p["resampling"] not in _RESAMPLING:
            msg = f"{key}.resampling must be one of {list(_RESAMPLING)}, got {p['resampling']!r}."
            raise ScenarioError(msg)
        if isinstance(p["band"], bool) or not isinstance(p["band"], int) or p["band"] < 1:
            msg = f"{key}.band must be a band number >= 1, got {p['band']!r}."
            raise ScenarioError(msg)
    return p


def _check_name(name: object, key: str) -> str:
    if not isinstance(name, str) or not name or not name.replace("_", "").isalnum():
        msg = (f"{key}.name must be a short identifier (letters, digits, '_'), got {name!r}; "
               "it becomes column and file names.")
        raise ScenarioError(msg)
    return name


def _check_where(where: object, key: str) -> dict[str, list[Any]] | None:
    if where is None:
        return None
    if not isinstance(where, Mapping):
        msg = f"{key}.where must be a table column = value or [values], got {where!r}."
        raise ScenarioError(msg)
    return {str(k): list(v) if isinstance(v, (list, tuple)) else [v] for k, v in where.items()}


@dataclass(frozen=True)
class Criterion:
    """One criterion: a measure on a layer, turned into a 0-1 value and weighted.

    Attributes
    ----------
    name
        Identifier (letters, digits, ``_``); used in column and file names.
    measure
        One of :data:`MEASURES`: ``distance``, ``travel_time``, ``density``, ``count``, ``sum``,
        ``attribute``, ``raster`` or ``site_attribute``.
    value
        The value function, or a table such as ``{"function": "linear", "low": 0, ...}``.
    layer
        Atlas kind or scenario layer name, or a GeoDataFrame (not used by ``raster`` and
        ``site_attribute``).
    weight
        Direct weight (``None`` when weights come from an AHP matrix).
    params
        Measure parameters (``radius_m``, ``column``, ``path``...).
    where
        Optional filter on ``layer``: column -> allowed values.
    key
        Position in the scenario, used in error messages.
    """

    name: str
    measure: str
    value: ValueFunction | Mapping[str, Any]
    layer: str | gpd.GeoDataFrame | None = None
    weight: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    where: Mapping[str, Any] | None = None
    key: str = "criterion"

    def __post_init__(self) -> None:
        key = self.key
        _check_name(self.name, key)
        object.__setattr__(self, "params", check_params(self.measure, self.params, key))
        vf = value_function_from_spec(self.value, key=f"{key}.value")
        object.__setattr__(self, "value", vf)
        object.__setattr__(self, "where", _check_where(self.where, key))
        if MEASURES[self.measure][0] and self.layer is None:
            msg = f"{key}.layer is missing: measure {self.measure!r} needs a layer to measure."
            raise ScenarioError(msg)
        w = self.weight
        if w is not None and (isinstance(w, bool) or not isinstance(w, (int, float))
                              or not math.isfinite(w) or w < 0):
            msg = f"{key}.weight must be a number >= 0, got {w!r}."
            raise ScenarioError(msg)
        if not vf.numeric and self.measure not in ("attribute", "site_attribute"):
            msg = (f"{key}.value: function {vf.function!r} with categories only fits "
                   "measure 'attribute' or 'site_attribute' (text columns).")
            raise ScenarioError(msg)

    @property
    def value_function(self) -> ValueFunction:
        """``value`` as a checked :class:`ValueFunction` (a spec table is converted on init)."""
        vf = self.value
        if isinstance(vf, ValueFunction):
            return vf
        return value_function_from_spec(vf, key=f"{self.key}.value")

    @property
    def unit(self) -> str:
        """Unit of the raw measure (``m``, ``min``, ``per km²``...)."""
        return MEASURES[self.measure][3]

    @property
    def spatial(self) -> bool:
        """False for ``site_attribute`` (a property of the candidate, not of a place)."""
        return self.measure != "site_attribute"


@dataclass(frozen=True)
class Constraint:
    """A hard constraint: an exclusion area, a threshold on a criterion, or a site rule.

    Attributes
    ----------
    kind
        ``"exclude"`` (cells/sites inside ``layer`` polygons, grown by ``buffer_m``, are
        excluded), ``"threshold"`` (cells/sites whose raw ``criterion`` value is outside
        ``[min, max]`` are excluded) or ``"site"`` (candidates whose ``column`` fails
        ``min``/``max``/``allowed``/``not_allowed`` are excluded; the grid is unaffected).
    name
        Label reported in the ``excluded_by`` column.
    layer, buffer_m, where
        For ``exclude``.
    criterion
        For ``threshold``.
    column, allowed, not_allowed
        For ``site``.
    min, max
        Bounds (inclusive) for ``threshold`` and ``site``.
    """

    kind: str
    name: str
    layer: str | gpd.GeoDataFrame | None = None
    buffer_m: float = 0.0
    where: Mapping[str, Any] | None = None
    criterion: str | None = None
    column: str | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None
    not_allowed: tuple[Any, ...] | None = None
    key: str = "constraint"

    def __post_init__(self) -> None:
        key = self.key
        if self.kind not in CONSTRAINT_KINDS:
            msg = f"{key}.type must be one of {list(CONSTRAINT_KINDS)}, got {self.kind!r}."
            raise ScenarioError(msg)
        object.__setattr__(self, "where", _check_where(self.where, key))
        needs = {"exclude": "layer", "threshold": "criterion", "site": "column"}[self.kind]
        if getattr(self, needs) is None:
            msg = f"{key}: a {self.kind!r} constraint needs {needs} = ...; add it."
            raise ScenarioError(msg)
        for b in ("min", "max", "buffer_m"):
            v = getattr(self, b)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                msg = f"{key}.{b} must be a number, got {v!r}."
                raise ScenarioError(msg)
        if self.buffer_m < 0:
            msg = f"{key}.buffer_m must be >= 0, got {self.buffer_m!r}."
            raise ScenarioError(msg)
        if self.kind == "threshold" and self.min is None and self.max is None:
            msg = f"{key}: a threshold constraint needs min and/or max (raw units)."
            raise ScenarioError(msg)
        if self.kind == "site" and all(getattr(self, a) is None
                                       for a in ("min", "max", "allowed", "not_allowed")):
            msg = f"{key}: a site constraint needs min, max, allowed or not_allowed."
            raise ScenarioError(msg)
        for a in ("allowed", "not_allowed"):
            v = getattr(self, a)
            if v is not None:
                object.__setattr__(self, a, tuple(v) if isinstance(v, (list, tuple)) else (v,))
