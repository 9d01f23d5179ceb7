"""Drawable map layers: what a renderer produces and what the HTML and PNG writers draw.

A renderer (see :mod:`cci_geo.maps.registry`) turns a GeoDataFrame or Surface into a list of
these plain objects; :mod:`cci_geo.maps.folium_layers` draws them with Leaflet and
:mod:`cci_geo.maps.static` with matplotlib, so a layer kind looks the same in the interactive
briefing and in the printed report. All geometries are in EPSG:4326 (WGS-84); a raster is
already warped to Web Mercator (EPSG:3857), the projection both writers display.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely

__all__ = [
    "STYLE_COLUMNS",
    "Legend",
    "LegendItem",
    "MapLayer",
    "PointLayer",
    "RasterLayer",
    "VectorLayer",
    "shift_layer",
]

#: Per-feature style columns a :class:`VectorLayer` frame may carry (Leaflet path options).
STYLE_COLUMNS = {
    "_color": "color", "_fill": "fillColor", "_weight": "weight", "_opacity": "opacity",
    "_fill_opacity": "fillOpacity", "_radius": "radius", "_dash": "dashArray",
}


@dataclass(frozen=True)
class LegendItem:
    """One legend row: a swatch (stroke ``color``, optional ``fill``) and its label."""

    color: str
    label: str
    fill: str | None = None
    shape: Literal["square", "circle", "line"] = "square"
    dash: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form read by ``cciGeo.buildLegend``."""
        return {"color": self.color, "label": self.label, "fill": self.fill or self.color,
                "shape": self.shape, "dash": self.dash}


@dataclass(frozen=True)
class Legend:
    """A legend: categories or classes (``items``), or a colour bar (``colors``, range)."""

    title: str
    kind: Literal["categorical", "classed", "colorbar"] = "categorical"
    items: tuple[LegendItem, ...] = ()
    colors: tuple[str, ...] = ()
    vmin: float | None = None
    vmax: float | None = None
    units: str = ""
    note: str = ""

    def tick_labels(self) -> tuple[str, str]:
        """Return the labels of the two ends of a colour bar."""
        def fmt(v: float | None) -> str:
            if v is None or not np.isfinite(v):
                return ""
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
        return fmt(self.vmin), fmt(self.vmax)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form read by ``cciGeo.buildLegend``."""
        lo, hi = self.tick_labels()
        return {"title": self.title, "kind": self.kind, "subtitle": self.units,
                "items": [i.to_json() for i in self.items], "colors": list(self.colors),
                "min_label": lo, "max_label": hi, "note": self.note}


@dataclass
class VectorLayer:
    """Features drawn as paths: polygons, lines, or a few thousand circle markers.

    Attributes
    ----------
    name
        Layer name shown in the layer control and the static legend.
    gdf
        Features in EPSG:4326 with display columns, optional style columns (see
        :data:`STYLE_COLUMNS`) and ``geometry``.
    fields
        ``(column, label)`` pairs shown in the popup, in order.
    title_column
        Column shown as hover tooltip and popup title.
    legend
        Legend shown while the layer is visible.
    show
        Whether the layer is on when the map opens.
    z
        Drawing order (lower first): areas 10, lines 30, points 50.
    """

    name: str
    gdf: gpd.GeoDataFrame
    fields: tuple[tuple[str, str], ...] = ()
    title_column: str | None = None
    legend: Legend | None = None
    show: bool = True
    z: int = 10
    labels_column: str | None = None
    key: str = ""
    group: str = ""  # layer-control group: a label key ("atlas", "gi_years", ...)


@dataclass
class PointLayer:
    """Many points (10^4-10^6) drawn on one canvas, coloured by a category code.

    ``fields`` are ``(label, values)`` pairs for the click popup; ``values`` may be a
    ``pandas.Categorical``-like pair ``(codes, categories)`` to keep the page small.
    """

    name: str
    lon: np.ndarray
    lat: np.ndarray
    category: np.ndarray
    colors: tuple[str, ...]
    title: Sequence[Any] | None = None
    fields: tuple[tuple[str, Any], ...] = ()
    legend: Legend | None = None
    show: bool = True
    z: int = 40
    radius: float = 2.5
    key: str = ""
    group: str = ""  # layer-control group: a label key ("atlas", "gi_years", ...)


@dataclass
class RasterLayer:
    """A colour-mapped grid warped to EPSG:3857, with its extent ``(xmin, ymin, xmax, ymax)``."""

    name: str
    rgba: np.ndarray
    bounds_3857: tuple[float, float, float, float]
    legend: Legend | None = None
    opacity: float = 0.75
    show: bool = True
    z: int = 5
    meta: dict[str, str] = field(default_factory=dict)
    key: str = ""
    group: str = ""  # layer-control group: a label key ("atlas", "gi_years", ...)

    def bounds_latlon(self) -> tuple[float, float, float, float]:
        """Return ``(south, west, north, east)`` in degrees."""
        xmin, ymin, xmax, ymax = self.bounds_3857
        lon, lat = _merc_to_lonlat(np.array([xmin, xmax]), np.array([ymin, ymax]))
        return float(lat[0]), float(lon[0]), float(lat[1]), float(lon[1])


MapLayer = VectorLayer | PointLayer | RasterLayer

_R = 6378137.0


def _merc_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.degrees(x / _R)
    lat = np.degrees(2 * np.arctan(np.exp(y / _R)) - np.pi / 2)
    return lon, lat


def _lonlat_to_merc(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.radians(lon) * _R
    y = _R * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    return x, y


Shift = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def shift_layer(layer: MapLayer, shift: Shift) -> MapLayer:
    """Return a copy of ``layer`` with every coordinate moved by ``shift(lon, lat)``.

    Used to draw WGS-84 data on a GCJ-02 basemap. Vector and point coordinates are shifted
    exactly; a raster keeps its shape and its extent moves by the shift of its centre (the
    GCJ-02 offset changes by metres, not hundreds of metres, across a city-sized grid).

    Examples
    --------
    >>> import numpy as np
    >>> from cci_geo.datum import wgs84_to_gcj02
    >>> firms = PointLayer("firms", lon=np.array([116.40]), lat=np.array([39.90]),
    ...                    category=np.array([0]), colors=("#1f77b4",))
    >>> moved = shift_layer(firms, wgs84_to_gcj02)
    >>> moved.lon.round(4).tolist(), moved.lat.round(4).tolist(), firms.lon.tolist()
    ([116.4062], [39.9014], [116.4])
    """
    if isinstance(layer, VectorLayer):
        def move(coords: np.ndarray) -> np.ndarray:
            x, y = shift(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])
        gdf = layer.gdf.copy()
        gdf["geometry"] = shapely.transform(gdf.geometry.values, move)
        return replace(layer, gdf=gdf)
    if isinstance(layer, PointLayer):
        lon, lat = shift(np.asarray(layer.lon, float), np.asarray(layer.lat, float))
        return replace(layer, lon=np.asarray(lon), lat=np.asarray(lat))
    xmin, ymin, xmax, ymax = layer.bounds_3857
    clon, clat = _merc_to_lonlat(np.array([(xmin + xmax) / 2]), np.array([(ymin + ymax) / 2]))
    slon, slat = shift(clon, clat)
    sx, sy = _lonlat_to_merc(np.asarray(slon), np.asarray(slat))
    cx, cy = _lonlat_to_merc(clon, clat)
    dx, dy = float(sx[0] - cx[0]), float(sy[0] - cy[0])
    return replace(layer, bounds_3857=(xmin + dx, ymin + dy, xmax + dx, ymax + dy))
