"""Renderers for the atlas layer kinds and the generic fallbacks (points, lines, polygons).

Registered under the layer kind names of the data model (``districts``, ``enterprises`` ...);
see :mod:`cci_geo.maps.registry`.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import has_crs
from ..raster import Surface
from ..results import result_kind
from ._build import (
    categorical_colors,
    display_frame,
    numeric_column,
    sector_colors,
    to_wgs84,
    vector_layer,
)
from .labels import Lang, label, sector_label
from .layers import Legend, LegendItem, MapLayer, PointLayer
from .registry import register_renderer
from .style import OTHER_COLOR, SECTOR_COLORS, classed_legend, classify, ramp, surface_layer

__all__ = ["render_enterprises"]

logger = logging.getLogger(__name__)

#: Above this many points, a point layer is drawn on one canvas instead of as SVG markers.
CANVAS_THRESHOLD = 3000


@register_renderer("districts")
def render_districts(gdf: gpd.GeoDataFrame, *, lang: Lang,
                     name: str | None = None) -> list[MapLayer]:
    """Draw administrative districts as outlines; Beijing's districts stronger than others.

    Beijing's districts are not filled (Leaflet draws every vector above image overlays, so a
    fill would wash out a density surface under it); the cities around are greyed instead.
    """
    g = to_wgs84(gdf, "districts")
    shown, fields = display_frame(g, ["adcode", "level", "province"], lang)
    in_bj = g["adcode"].astype(str).str.startswith("11") if "adcode" in g else \
        pd.Series(True, index=g.index)
    return [vector_layer(
        shown, name or label("districts", lang), fields=fields, z=1,
        color=np.where(in_bj, "#4d5b6a", "#9aa5b1"), weight=np.where(in_bj, 1.4, 0.8),
        fill=np.where(in_bj, "#ffffff", "#dfe3e8"), fill_opacity=np.where(in_bj, 0.0, 0.6),
        legend=None, labels_column="_name")]


@register_renderer("functional_areas")
def render_functional_areas(gdf: gpd.GeoDataFrame, *, lang: Lang,
                            name: str | None = None) -> list[MapLayer]:
    """Draw CCI functional areas as violet polygons."""
    g = to_wgs84(gdf, "functional_areas")
    shown, fields = display_frame(g, ["district", "designated", "sectors"], lang)
    title = name or label("functional_areas", lang)
    legend = Legend(title, items=(LegendItem("#6a3d9a", title, fill="#cab2d6"),))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=12, color="#6a3d9a",
                         weight=1.5, fill="#cab2d6", fill_opacity=0.35)]


def _points(g: gpd.GeoDataFrame, title: str, fields: tuple[tuple[str, str], ...],
            colors: np.ndarray, items: tuple[LegendItem, ...], *, radius: float = 6.0,
            weight: float | np.ndarray = 1.0, stroke: str | np.ndarray = "#ffffff",
            z: int = 50, show: bool = True) -> MapLayer:
    is_point = g.geometry.geom_type.isin(["Point", "MultiPoint"]).all()
    legend = Legend(title, items=items) if items else None
    if not is_point:  # polygons of the same kind: filled with the category colour
        return vector_layer(g, title, fields=fields, legend=legend, z=z - 30, show=show,
                            color=colors, fill=colors, weight=1.2, fill_opacity=0.35)
    return vector_layer(g, title, fields=fields, legend=legend, z=z, show=show, color=stroke,
                        fill=colors, weight=weight, fill_opacity=0.95, radius=radius)


@register_renderer("demonstrative_regions")
def render_demonstrative_regions(gdf: gpd.GeoDataFrame, *, lang: Lang,
                                 name: str | None = None) -> list[MapLayer]:
    """Draw demonstrative regions, national gold and municipal orange."""
    g = to_wgs84(gdf, "demonstrative_regions")
    shown, fields = display_frame(g, ["level", "designated", "district"], lang)
    colors, items = categorical_colors(
        g.get("level", pd.Series(index=g.index, dtype=object)),
        {"national": "#b8860b", "municipal": "#ff9f1c"}, lang)
    return [_points(shown, name or label("demonstrative_regions", lang), fields, colors, items,
                    radius=8, weight=2.0, stroke="#5a3d00", z=56)]


@register_renderer("zones")
def render_zones(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw CCI parks, bases and clusters coloured by kind."""
    g = to_wgs84(gdf, "zones")
    shown, fields = display_frame(g, ["kind", "status", "sectors", "district"], lang)
    colors, items = categorical_colors(
        g.get("kind", pd.Series(index=g.index, dtype=object)),
        {"park": "#1f78b4", "base": "#33a02c", "cluster": "#6a3d9a"}, lang)
    return [_points(shown, name or label("zones", lang), fields, colors, items, radius=6.5,
                    weight=1.5, stroke="#ffffff", z=55)]


@register_renderer("factory_sites")
def render_factory_sites(gdf: gpd.GeoDataFrame, *, lang: Lang,
                         name: str | None = None) -> list[MapLayer]:
    """Draw old factory sites by reuse status; industrial heritage gets a black ring."""
    g = to_wgs84(gdf, "factory_sites")
    shown, fields = display_frame(
        g, ["status", "former_use", "built_year", "floor_area_m2", "heritage", "district"], lang)
    colors, items = categorical_colors(
        g.get("status", pd.Series(index=g.index, dtype=object)),
        {"reused": "#4daf4a", "vacant": "#999999", "candidate": "#d95f02"}, lang)
    heritage = g["heritage"].fillna(False).astype(bool).to_numpy() if "heritage" in g else \
        np.zeros(len(g), bool)
    if heritage.any():
        items = (*items, LegendItem("#000000", label("heritage", lang), fill="#ffffff",
                                    shape="circle"))
    return [_points(shown, name or label("factory_sites", lang), fields, colors, items,
                    radius=5.5, weight=np.where(heritage, 2.5, 1.0),
                    stroke=np.where(heritage, "#000000", "#ffffff"), z=52)]


@register_renderer("venues")
def render_venues(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw libraries, museums, galleries and theatres."""
    g = to_wgs84(gdf, "venues")
    shown, fields = display_frame(g, ["kind", "open_space_m2", "district"], lang)
    colors, items = categorical_colors(
        g.get("kind", pd.Series(index=g.index, dtype=object)),
        {"library": "#1b9e77", "museum": "#7570b3", "gallery": "#e7298a", "theatre": "#66a61e"},
        lang)
    return [_points(shown, name or label("venues", lang), fields, colors, items, radius=4.5,
                    z=54, show=len(g) <= CANVAS_THRESHOLD)]


@register_renderer("nodes")
def render_nodes(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw the Jing-Jin-Ji node cities as dark rings."""
    g = to_wgs84(gdf, "nodes")
    shown, fields = display_frame(g, ["province", "role"], lang)
    title = name or label("nodes", lang)
    colors = np.full(len(g), "#08306b", dtype=object)
    items = (LegendItem("#08306b", title, shape="circle"),)
    return [_points(shown, title, fields, colors, items, radius=7, weight=2.0,
                    stroke="#ffffff", z=58)]


@register_renderer("corridors")
def render_corridors(gdf: gpd.GeoDataFrame, *, lang: Lang,
                     name: str | None = None) -> list[MapLayer]:
    """Draw corridors as thick lines (axes) or translucent bands (corridor zones)."""
    g = to_wgs84(gdf, "corridors")
    shown, fields = display_frame(g, ["kind", "node_ids", "width_km", "length_km"], lang)
    title = name or label("corridors", lang)
    palette = dict(zip(sorted(g["kind"].dropna().astype(str).unique()) if "kind" in g else [],
                       ["#08519c", "#6baed6", "#3182bd", "#9ecae1"] * 4, strict=False))
    kinds = g.get("kind", pd.Series(index=g.index, dtype=object))
    colors, items = categorical_colors(kinds, palette or {"": "#08519c"}, lang, shape="line")
    if not items:
        items = (LegendItem("#08519c", title, shape="line"),)
    lines = g.geometry.geom_type.isin(["LineString", "MultiLineString"]).all()
    if lines:
        return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items),
                             z=30, color=colors, weight=4, opacity=0.85)]
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=8,
                         color=colors, fill=colors, weight=1, fill_opacity=0.07, dash="6 4")]


@register_renderer("stations")
def render_stations(gdf: gpd.GeoDataFrame, *, lang: Lang,
                    name: str | None = None) -> list[MapLayer]:
    """Draw transit stations as small dark squares-ish dots."""
    g = to_wgs84(gdf, "stations")
    lines = "lines_zh" if lang == "zh" and "lines_zh" in g else \
        "lines_en" if "lines_en" in g else "lines"
    shown, fields = display_frame(g, ["mode", lines, "n_entrances"], lang)
    title = name or label("stations", lang)
    colors = np.full(len(g), "#252525", dtype=object)
    return [_points(shown, title, fields, colors, (LegendItem("#252525", title, shape="circle"),),
                    radius=3, weight=1, z=45, show=False)]


@register_renderer("transit_lines")
def render_transit_lines(gdf: gpd.GeoDataFrame, *, lang: Lang,
                         name: str | None = None) -> list[MapLayer]:
    """Draw transit lines in their own colours (``colour`` column), else dark grey."""
    g = to_wgs84(gdf, "transit_lines")
    shown, fields = display_frame(g, ["mode", "track_length_m"], lang)
    title = name or label("transit_lines", lang)
    colors = (g["colour"].fillna("#525252").astype(str).to_numpy() if "colour" in g
              else np.full(len(g), "#525252", dtype=object))
    return [vector_layer(shown, title, fields=fields, z=28, show=False, color=colors,
                         weight=3, opacity=0.8,
                         legend=Legend(title, items=(LegendItem("#525252", title,
                                                                shape="line"),)))]


@register_renderer("station_entrances")
def render_station_entrances(gdf: gpd.GeoDataFrame, *, lang: Lang,
                             name: str | None = None) -> list[MapLayer]:
    """Draw station entrances as tiny dark dots (off when the map opens)."""
    g = to_wgs84(gdf, "station_entrances")
    shown, fields = display_frame(g, ["station_id", "ref", "access_point"], lang)
    title = name or label("station_entrances", lang)
    colors = np.full(len(g), "#525252", dtype=object)
    return [_points(shown, title, fields, colors, (LegendItem("#525252", title, shape="circle"),),
                    radius=2, weight=0.5, z=44, show=False)]


def _point_rows(gdf: gpd.GeoDataFrame,
                name: str) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Rows of ``gdf`` that are non-empty points, in EPSG:4326, and their lon/lat.

    Reads the coordinates with one shapely call and copies the frame only when rows are
    dropped (10^6 enterprises: a few tens of milliseconds).
    """
    has_crs(gdf, name)
    g = gdf if gdf.crs.equals("EPSG:4326") else gdf.to_crs(4326)
    geoms = np.asarray(g.geometry.values)
    keep = shapely.get_type_id(geoms) == 0
    xy = shapely.get_coordinates(geoms[keep] if not keep.all() else geoms)
    if len(xy) != int(keep.sum()):  # empty points have no coordinates
        keep &= ~shapely.is_empty(geoms)
        xy = shapely.get_coordinates(geoms[keep])
    if not keep.all():
        g = g[keep]
    return g, xy[:, 0].copy(), xy[:, 1].copy()


@register_renderer("enterprises")
def render_enterprises(gdf: gpd.GeoDataFrame, *, lang: Lang,
                       name: str | None = None) -> list[MapLayer]:
    """Draw creative enterprises as one point layer, coloured by sector.

    Drawing each enterprise as its own SVG/Leaflet marker does not scale past a few thousand
    points; the page draws them on the GPU (``cciGeo.GLPoints``: 10^6 points, count cells
    while more than 50,000 are in view, a popup per point) or, without WebGL, on a canvas.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> firms = gpd.GeoDataFrame({"id": ["e1", "e2"], "sector": ["design", "media"]},
    ...                          geometry=[Point(116.40, 39.90), Point(116.45, 39.92)],
    ...                          crs="EPSG:4326")
    >>> [layer] = render_enterprises(firms, lang="en")
    >>> layer.name, layer.category.tolist()
    ('Creative enterprises', [0, 1])
    >>> [item.label for item in layer.legend.items]
    ['Creative design', 'Media convergence']
    """
    g, lon, lat = _point_rows(gdf, "enterprises")
    title = name or label("enterprises", lang)
    codes = list(SECTOR_COLORS)
    if "sector" in g:  # factorize: one hash pass over 10^6 strings, then a lookup per sector
        found, uniques = pd.factorize(g["sector"])
        present = {str(u) for u in uniques}
        lut = np.array([codes.index(str(u)) if str(u) in codes else len(codes)
                        for u in uniques] + [len(codes)], dtype=np.int64)
        category = lut[found]  # missing (-1) takes the last entry: "other"
    else:
        present, category = set(), np.full(len(g), len(codes), dtype=np.int64)
    colors = (*SECTOR_COLORS.values(), OTHER_COLOR)
    items = tuple(LegendItem(SECTOR_COLORS[c], label(c, lang), shape="circle")
                  for c in codes if c in present)
    fields: list[tuple[str, object]] = []
    sector_names = [sector_label(c, lang) for c in codes] + [label("other", lang)]
    fields.append((label("sector", lang), (category, sector_names)))
    for col in ("employees", "revenue_cny", "founded", "district"):
        if col in g.columns:
            values = g[col]
            if pd.api.types.is_numeric_dtype(values) and col != "founded":
                fields.append((label(col, lang), values.to_numpy()))
            elif col == "founded":  # few distinct years: codes into a short list of strings
                year_codes, years = pd.factorize(pd.to_numeric(values, errors="coerce"),
                                                 sort=True)
                fields.append((label(col, lang), (year_codes, [str(int(v)) for v in years])))
            else:
                value_codes, uniques = pd.factorize(values.astype(str), sort=True)
                fields.append((label(col, lang), (value_codes, [str(u) for u in uniques])))
    from ._build import display_name

    names = display_name(g, lang)
    legend = Legend(title, items=items, note=f"n = {len(g):,}")
    return [PointLayer(title, lon, lat, category,
                       colors, title=names, fields=tuple(fields), legend=legend,
                       z=40, radius=2.5 if len(g) > 20_000 else 3.2)]


@register_renderer("points")
def render_points(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw any point layer: by ``sector`` or ``kind`` if present, else in one colour."""
    g = to_wgs84(gdf, "gdf")
    title = name or label(result_kind(g, guess=False) or "layer", lang)
    if "sector" in g.columns and len(g) > CANVAS_THRESHOLD:
        return render_enterprises(g, lang=lang, name=title)
    columns = [c for c in g.columns if c not in ("geometry", "name_zh", "name_en")][:8]
    shown, fields = display_frame(g, columns, lang)
    if "sector" in g.columns:
        colors, items = sector_colors(g["sector"], lang)
    else:
        colors = np.full(len(g), "#3f007d", dtype=object)
        items = (LegendItem("#3f007d", title, shape="circle"),)
    return [_points(shown, title, fields, colors, items, radius=4.5, z=50)]


@register_renderer("lines")
def render_lines(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw any line layer in dark blue."""
    g = to_wgs84(gdf, "gdf")
    title = name or label(result_kind(g, guess=False) or "layer", lang)
    columns = [c for c in g.columns if c not in ("geometry", "name_zh", "name_en")][:8]
    shown, fields = display_frame(g, columns, lang)
    legend = Legend(title, items=(LegendItem("#08519c", title, shape="line"),))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=30, color="#08519c",
                         weight=2.5)]


@register_renderer("polygons")
def render_polygons(gdf: gpd.GeoDataFrame, *, lang: Lang,
                    name: str | None = None) -> list[MapLayer]:
    """Draw any polygon layer: a classed choropleth of its first numeric column, if any."""
    g = to_wgs84(gdf, "gdf")
    title = name or label(result_kind(g, guess=False) or "layer", lang)
    columns = [c for c in g.columns if c not in ("geometry", "name_zh", "name_en")][:8]
    shown, fields = display_frame(g, columns, lang)
    col = numeric_column(g, [c for c in columns if c not in ("id", "adcode")],
                         attr_hint="cci_geo_column")
    if col is None:
        legend = Legend(title, items=(LegendItem("#54278f", title, fill="#bcbddc"),))
        return [vector_layer(shown, title, fields=fields, legend=legend, z=15,
                             color="#54278f", fill="#bcbddc", weight=1, fill_opacity=0.45)]
    idx, upper, vmin = classify(g[col], scheme="NaturalBreaks", k=5)
    colors = ramp("YlGnBu", len(upper))
    fill = np.array([colors[i] if i >= 0 else "#ffffff" for i in idx], dtype=object)
    legend = classed_legend(f"{title}: {label(col, lang)}", colors, upper, vmin, lang,
                            missing=bool((idx < 0).any()))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=15, color="#636363",
                         fill=fill, weight=0.6, fill_opacity=0.7)]


@register_renderer("surface")
def render_surface(surface: Surface, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw any Surface with the viridis colour map and a colour bar."""
    title = name or label(result_kind(surface) or surface.name, lang)
    return [surface_layer(surface, name=title, cmap="viridis", units=surface.units)]
