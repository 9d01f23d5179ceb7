"""Travel modes: which ways each mode may use, and how fast it moves on them.

The filters mirror osmnx's ``network_type`` filters for ``walk``, ``bike`` and ``drive`` so that
a graph read from a file and a graph downloaded online contain the same kinds of ways.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from ..errors import ParameterError, ParameterTypeError

__all__ = ["DEFAULT_SPEEDS_KPH", "MODES", "Mode", "edge_allowed", "edge_speed_kph",
           "parse_maxspeed", "resolve_speeds"]

logger = logging.getLogger(__name__)

Mode = Literal["walk", "bike", "drive"]
MODES: tuple[str, ...] = ("walk", "bike", "drive")

DEFAULT_SPEEDS_KPH: dict[str, dict[str, float]] = {
    # Walking: 4.8 km/h (1.33 m/s) everywhere, half that on steps.
    "walk": {"default": 4.8, "steps": 2.4},
    # Cycling: 15 km/h on streets, faster on cycleways, slower where shared with pedestrians.
    "bike": {
        "default": 15.0, "cycleway": 16.0, "residential": 14.0, "living_street": 10.0,
        "service": 12.0, "pedestrian": 8.0, "path": 10.0, "track": 10.0,
    },
    # Driving: free-flow urban speeds for Beijing by road class; a tagged maxspeed wins.
    "drive": {
        "default": 25.0, "motorway": 80.0, "motorway_link": 40.0, "trunk": 60.0,
        "trunk_link": 40.0, "primary": 50.0, "primary_link": 30.0, "secondary": 40.0,
        "secondary_link": 30.0, "tertiary": 30.0, "tertiary_link": 25.0, "unclassified": 25.0,
        "residential": 20.0, "living_street": 10.0, "service": 15.0, "road": 25.0,
    },
}
"""Speeds in km/h per mode and OSM ``highway`` value; ``"default"`` covers other values."""

_COMMON_EXCLUDED = {"abandoned", "bus_guideway", "construction", "no", "planned", "platform",
                    "proposed", "raceway", "razed", "rest_area", "services"}
_EXCLUDED_HIGHWAY: dict[str, set[str]] = {
    "walk": _COMMON_EXCLUDED | {"cycleway", "motorway", "motorway_link", "motorroad"},
    "bike": _COMMON_EXCLUDED | {"corridor", "elevator", "escalator", "footway", "motorway",
                                "motorway_link", "motorroad", "steps"},
    "drive": _COMMON_EXCLUDED | {"bridleway", "corridor", "cycleway", "elevator", "escalator",
                                 "footway", "path", "pedestrian", "service", "steps", "track"},
}
# (tag, forbidden values) per mode, after osmnx's Overpass filters.
_EXCLUDED_TAGS: dict[str, tuple[tuple[str, set[str]], ...]] = {
    "walk": (("foot", {"no"}), ("service", {"private"}), ("access", {"private"}),
             ("area", {"yes"})),
    "bike": (("bicycle", {"no"}), ("service", {"private"}), ("access", {"private"}),
             ("area", {"yes"})),
    "drive": (("motor_vehicle", {"no"}), ("motorcar", {"no"}), ("access", {"private"}),
              ("area", {"yes"}),
              ("service", {"alley", "driveway", "emergency_access", "parking",
                           "parking_aisle", "private"})),
}
EXTRA_WAY_TAGS: tuple[str, ...] = ("foot", "bicycle", "motor_vehicle", "motorcar")
"""OSM way tags read in addition to osmnx's defaults, needed by the mode filters."""

_MPH = 1.609344
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph)?\s*$", re.IGNORECASE)


def _values(value: Any) -> list[str]:
    """Return a tag value as a list of strings (osmnx keeps lists after simplification)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    return [str(value)]


def resolve_speeds(mode: str, speeds_kph: Mapping[str, float] | None) -> dict[str, float]:
    """Return the speed table for ``mode`` with ``speeds_kph`` overrides, validated."""
    if mode not in MODES:
        msg = f"mode must be one of {MODES}, got {mode!r}."
        raise ParameterError(msg)
    table = dict(DEFAULT_SPEEDS_KPH[mode])
    for key, value in (speeds_kph or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            msg = f"speeds_kph[{key!r}] must be a number of km/h, got {value!r}."
            raise ParameterTypeError(msg)
        if not math.isfinite(value) or value <= 0:
            msg = (f"speeds_kph[{key!r}] must be > 0 km/h, got {value!r}; a way that cannot be "
                   "travelled is removed by the mode filter, not by a zero speed.")
            raise ParameterError(msg)
        table[str(key)] = float(value)
    return table


def parse_maxspeed(value: Any) -> float | None:
    """Return a ``maxspeed`` tag in km/h, or None if it is missing or not numeric.

    Accepts ``"60"``, ``"60 km/h"``, ``"30 mph"`` and ``;``-separated or list values (their
    mean, as osmnx does). ``"none"``, ``"signals"``, ``"CN:urban"`` and other non-numeric
    values return None so the highway default applies.

    Examples
    --------
    >>> parse_maxspeed("60"), round(parse_maxspeed("30 mph"), 1), parse_maxspeed("none")
    (60.0, 48.3, None)
    """
    speeds = []
    for raw in _values(value):
        for part in raw.split(";"):
            m = _NUMBER.match(part)
            if m is None:
                continue
            kph = float(m.group(1)) * (_MPH if (m.group(2) or "").lower() == "mph" else 1.0)
            if kph > 0:
                speeds.append(kph)
    if not speeds:
        return None
    return sum(speeds) / len(speeds)


def edge_allowed(data: Mapping[str, Any], mode: str) -> bool:
    """Return True if an edge with tags ``data`` may be used by ``mode``."""
    highways = _values(data.get("highway"))
    if not highways:
        return False
    if any(h in _EXCLUDED_HIGHWAY[mode] for h in highways):
        return False
    for tag, forbidden in _EXCLUDED_TAGS[mode]:
        if any(v in forbidden for v in _values(data.get(tag))):
            return False
    return True


def edge_speed_kph(data: Mapping[str, Any], mode: str, table: Mapping[str, float]) -> float:
    """Return the speed of ``mode`` on an edge: tagged maxspeed (drive only) or the table."""
    if mode == "drive":
        tagged = parse_maxspeed(data.get("maxspeed"))
        if tagged is not None:
            return tagged
    highways = _values(data.get("highway")) or ["default"]
    speeds: Iterable[float] = (table.get(h, table["default"]) for h in highways)
    values = list(speeds)
    return sum(values) / len(values)
