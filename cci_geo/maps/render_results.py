"""Renderers for analysis results, keyed by the result kind the analyses set.

Concentration (density surfaces, hot spots, LISA, location quotients, clusters, designation
gap), network/access (isochrones, accessibility), suitability (score surfaces, site scores),
layout (proposed and existing sites, allocations, coverage) and corridors (corridor zones,
flows, members, cooperation candidates). Each renderer reads only documented columns and
degrades to the generic renderers when they are missing.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from ..raster import Surface
from ._build import (
    categorical_colors,
    display_frame,
    numeric_column,
    sector_colors,
    to_wgs84,
    vector_layer,
)
from .labels import Lang, label
from .layers import Legend, LegendItem, MapLayer, PointLayer
from .registry import register_renderer
from .render_layers import CANVAS_THRESHOLD, render_corridors, render_points, render_polygons
from .style import HOT_SPOT_COLORS, SECTOR_COLORS, classed_legend, classify, ramp, surface_layer

__all__ = ["hot_spot_key"]

_POINTS = ("Point", "MultiPoint")
_LINES = ("LineString", "MultiLineString")


def _title(default: str, lang: Lang, name: str | None) -> str:
    return name or label(default, lang)


def _is(g: gpd.GeoDataFrame, types: tuple[str, ...]) -> bool:
    return bool(len(g)) and bool(g.geometry.geom_type.isin(types).all())


def _fields_for(g: gpd.GeoDataFrame, lang: Lang,
                first: list[str]) -> tuple[gpd.GeoDataFrame, tuple[tuple[str, str], ...]]:
    rest = [c for c in g.columns if c not in ("geometry", "name_zh", "name_en", *first)]
    shares = sorted((c for c in rest if c.startswith("share_")),  # the largest sector first
                    key=lambda c: -float(g[c].mean()) if len(g) else 0.0)
    rest = [c for c in rest if not c.startswith("share_")] + shares
    return display_frame(g, [*first, *rest], lang)


# --- surfaces -------------------------------------------------------------------------------


@register_renderer("kernel_density", "density")
def render_density(surface: Surface, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw a density surface in 7 yellow-orange-red quantile classes.

    Densities are heavy-tailed (a few peak cells, a long low tail), so a linear colour ramp
    leaves most of the city near-white; quantile classes of the shaded cells show the
    structure at every level, and the legend gives each class's range. Cells below 1.5 % of
    the peak are transparent.
    """
    title = _title("kernel_density", lang, name)
    units = label(surface.units, lang) if surface.units else label("enterprises_per_km2", lang)
    return [surface_layer(surface, name=title, cmap="YlOrRd", units=units,
                          transparent_below=0.015, opacity=0.75, classes=7, lang=lang)]


@register_renderer("suitability", "suitability_surface", "composite")
def render_suitability(surface: Surface | gpd.GeoDataFrame, *, lang: Lang,
                       name: str | None = None) -> list[MapLayer]:
    """Draw a suitability score surface red (low) to green (high); sites as scored points."""
    if isinstance(surface, gpd.GeoDataFrame):
        return render_site_scores(surface, lang=lang, name=name)
    title = _title("suitability", lang, name)
    return [surface_layer(surface, name=title, cmap="RdYlGn", units=label(surface.units, lang),
                          opacity=0.65)]


# --- concentration --------------------------------------------------------------------------


_NOT_SIGNIFICANT = "not significant"
_NO_NEIGHBOURS = "no neighbours"  # units a local statistic could not be computed for


def hot_spot_key(value: object) -> str:
    """Return the canonical Gi* class label (``"hot spot 99%"``, ``"not significant"``...).

    Accepts cci_geo's labels and other spellings (ArcGIS's ``"Hot Spot - 99% Confidence"``,
    ``"hot_95"``).

    Examples
    --------
    >>> hot_spot_key("Hot Spot - 99% Confidence"), hot_spot_key("cold_95")
    ('hot spot 99%', 'cold spot 95%')
    """
    text = str(value).lower()
    if "neighbour" in text or "neighbor" in text:
        return _NO_NEIGHBOURS
    if not text or text in ("nan", "none") or "not" in text or "insignificant" in text:
        return _NOT_SIGNIFICANT
    side = "hot" if "hot" in text else "cold" if "cold" in text else ""
    level = next((lv for lv in ("99", "95", "90") if lv in text), "")
    return f"{side} spot {level}%" if side and level else _NOT_SIGNIFICANT


def _gi_from_z(z: pd.Series, p: pd.Series | None) -> pd.Series:
    zabs = z.abs()
    if p is not None:
        level = np.select([p <= 0.01, p <= 0.05, p <= 0.10], ["99", "95", "90"], "")
    else:
        level = np.select([zabs >= 2.576, zabs >= 1.960, zabs >= 1.645], ["99", "95", "90"], "")
    side = np.where(z > 0, "hot", "cold")
    keys = [f"{s} spot {lv}%" if lv else _NOT_SIGNIFICANT for s, lv in zip(side, level,
                                                                           strict=True)]
    return pd.Series(keys, index=z.index, dtype=object)


_LISA_ALIASES = {"HH": "high-high", "LL": "low-low", "HL": "high-low", "LH": "low-high",
                 "1": "high-high", "2": "low-high", "3": "low-low", "4": "high-low"}


def _lisa_key(value: object) -> str:
    text = str(value).strip()
    if "neighbour" in text.lower() or "neighbor" in text.lower():
        return _NO_NEIGHBOURS
    compact = text.upper().replace("-", "").replace(" ", "")
    if compact in _LISA_ALIASES:
        return _LISA_ALIASES[compact]
    low = text.lower().replace(" ", "-").replace("_", "-")
    return low if low in ("high-high", "low-low", "high-low", "low-high") else _NOT_SIGNIFICANT


@register_renderer("hot_spots", "gi_star")
def render_hot_spots(gdf: gpd.GeoDataFrame, *, lang: Lang,
                     name: str | None = None) -> list[MapLayer]:
    """Draw Gi* hot and cold spots in ArcGIS's colours; large grids keep significant cells."""
    g = to_wgs84(gdf, "hot_spots")
    if "gi_class" in g.columns:
        keys = g["gi_class"].map(hot_spot_key)
    elif "gi_z" in g.columns:
        keys = _gi_from_z(g["gi_z"], g["gi_p"] if "gi_p" in g.columns else None)
    else:
        return render_polygons(g, lang=lang, name=name)
    g = g.assign(gi_class=keys)
    if len(g) > 5000:
        g = g[keys != _NOT_SIGNIFICANT]
    shown, fields = _fields_for(g, lang, ["gi_class", "gi_z", "gi_p"])
    colors, items = categorical_colors(g["gi_class"], HOT_SPOT_COLORS, lang, shape="square")
    title = _title("hot_spots", lang, name)
    points = _is(g, _POINTS)
    significant = (g["gi_class"] != _NOT_SIGNIFICANT).to_numpy()
    # not significant: outline only, so the layers underneath stay readable
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=18,
                         color="#ffffff" if points else "#8c8c8c", fill=colors,
                         weight=0.8 if points else np.where(significant, 0.3, 0.15),
                         fill_opacity=np.where(significant, 0.75, 0.0),
                         radius=6 if points else None)]


@register_renderer("local_morans", "lisa")
def render_lisa(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw LISA clusters: high-high red, low-low blue, outliers pink/light blue."""
    g = to_wgs84(gdf, "local_morans")
    col = next((c for c in ("lisa_class", "quadrant", "lisa_quadrant", "q") if c in g.columns),
               None)
    if col is None:
        return render_polygons(g, lang=lang, name=name)
    quad = g[col].map(_lisa_key)
    pcol = next((c for c in ("lisa_p", "p_sim", "p", "p_value") if c in g.columns), None)
    sig = g[pcol] <= 0.05 if pcol else g.get("significant", pd.Series(True, index=g.index))
    quad = quad.where(sig.astype(bool) | (quad == _NO_NEIGHBOURS), _NOT_SIGNIFICANT)
    g = g.assign(quadrant=quad)
    palette = {"high-high": "#d7191c", "low-low": "#2c7bb6", "high-low": "#fdae61",
               "low-high": "#abd9e9", _NOT_SIGNIFICANT: "#eeeeee",
               _NO_NEIGHBOURS: HOT_SPOT_COLORS[_NO_NEIGHBOURS]}
    colors, items = categorical_colors(g["quadrant"], palette, lang, shape="square")
    shown, fields = _fields_for(g, lang, ["quadrant", *([pcol] if pcol else [])])
    title = _title("local_morans", lang, name)
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=18,
                         color="#8c8c8c", fill=colors, weight=0.4, fill_opacity=0.75)]


_LQ_BINS = [0.8, 1.2, 2.0]
_LQ_COLORS = ["#4393c3", "#f7f7f7", "#f4a582", "#b2182b"]


def _lq_columns(g: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    cols = []
    for code in SECTOR_COLORS:
        for col in (f"lq_{code}", f"{code}_lq", f"LQ_{code}", code):
            if col in g.columns and pd.api.types.is_numeric_dtype(g[col]):
                cols.append((col, code))
                break
    return cols


@register_renderer("location_quotient", "lq")
def render_location_quotient(gdf: gpd.GeoDataFrame, *, lang: Lang,
                             name: str | None = None) -> list[MapLayer]:
    """Draw one LQ choropleth per sector (classes < 0.8, 0.8-1.2, 1.2-2, > 2).

    The first sector is shown; the others are listed in the layer control, off.
    """
    g = to_wgs84(gdf, "location_quotient")
    columns = _lq_columns(g)
    if not columns:
        return render_polygons(g, lang=lang, name=name)
    base = _title("location_quotient", lang, name)
    sep = "：" if lang == "zh" else ": "
    layers: list[MapLayer] = []
    for i, (col, code) in enumerate(columns):
        idx, upper, vmin = classify(g[col], bins=_LQ_BINS)
        lows = [vmin, *upper[:-1]]
        colors = [_LQ_COLORS[min(int(np.searchsorted(_LQ_BINS, hi, side="left")), 3)]
                  for hi in upper]
        fill = np.array([colors[j] if j >= 0 else "#ffffff" for j in idx], dtype=object)
        title = f"{base}{sep}{label(code, lang)}"
        legend = classed_legend(title, colors, upper, min(lows), lang,
                                note=label("lq_note", lang), missing=bool((idx < 0).any()))
        shown, fields = display_frame(g, [col, *[c for c, _ in columns if c != col][:4]], lang)
        fields = tuple((c, label(code_, lang)) for (c, _), code_ in
                       zip(fields, [code, *[k for c, k in columns if c != col][:4]],
                           strict=False))
        layers.append(vector_layer(shown, title, fields=fields, legend=legend, z=16,
                                   show=i == 0, color="#636363", fill=fill, weight=0.6,
                                   fill_opacity=0.7))
    if len(layers) > 1:  # one entry per sector: kept together in the layer control
        for layer in layers:
            layer.group = "lq_sectors"
    return layers


@register_renderer("clusters")
def render_clusters(gdf: gpd.GeoDataFrame, *, lang: Lang,
                    name: str | None = None) -> list[MapLayer]:
    """Draw enterprise clusters filled with their dominant sector's colour."""
    g = to_wgs84(gdf, "clusters")
    title = _title("clusters", lang, name)
    shown, fields = _fields_for(g, lang, ["dominant_sector", "count", "n", "n_enterprises",
                                          "revenue_cny", "area_km2"])
    if "dominant_sector" in g.columns:
        colors, items = sector_colors(g["dominant_sector"], lang)
        items = tuple(LegendItem(i.color, i.label, fill=i.color) for i in items)
    else:
        colors = np.full(len(g), "#e6550d", dtype=object)
        items = (LegendItem("#e6550d", title),)
    legend = Legend(title, items=items, note=label("dominant_sector", lang))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=20, color=colors,
                         fill=colors, weight=2, fill_opacity=0.3)]


#: Designation gap colours (PiYG ends): magenta and pink stay clear of the Gi* hot-spot reds
#: and oranges drawn on the same map; designated places without a cluster are dark grey.
_GAP_PALETTE = {"undesignated": "#c51b7d", "partly": "#f1b6da", "designated": "#4d9221",
                "absent": "#525252", "present": "#4d9221"}


def _gap_key(value: object) -> str:
    text = re.sub(r"[^a-z]", "", str(value).lower())
    for key in ("undesignated", "partly", "designated", "absent", "present"):
        if key in text:
            return key
    if text in ("partial", "partiallydesignated"):
        return "partly"
    if text in ("notdesignated", "none", "no"):
        return "undesignated"
    return text


@register_renderer("designation_gap", "designation_gap_clusters", "designation_gap_designated")
def render_designation_gap(gdf: gpd.GeoDataFrame, *, lang: Lang,
                           name: str | None = None) -> list[MapLayer]:
    """Draw the designation gap: clusters by designation, designated places by cluster presence.

    Undesignated clusters (the headline) are magenta, partly designated pink, designated
    green; designated places without a cluster are dark grey (dashed when they are areas).
    """
    g = to_wgs84(gdf, "designation_gap")
    if "cluster_present" in g.columns and "designation" not in g.columns:
        g = g.assign(gap=np.where(g["cluster_present"].fillna(False).astype(bool), "present",
                                  "absent"))
    col = next((c for c in ("gap", "designation", "status", "cluster") if c in g.columns), None)
    if col is None:
        return render_polygons(g, lang=lang, name=name)
    keys = g[col].map(_gap_key)
    g = g.assign(**{col: keys.map(lambda k: "designated_full" if k == "designated" else k)})
    palette = {("designated_full" if k == "designated" else k): c
               for k, c in _GAP_PALETTE.items()}
    colors, items = categorical_colors(g[col], palette, lang, shape="square")
    shown, fields = _fields_for(g, lang, [col, "kind", "cluster_strength", "designated_share",
                                          "n", "dominant_sector"])
    default = "designation_gap_designated" if "cluster_present" in g.columns else \
        "designation_gap"
    title = _title(default, lang, name)
    dash = np.array(["5 4" if k == "absent" else None for k in keys], dtype=object)
    if _is(g, _POINTS):
        return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items),
                             z=57, color="#ffffff", fill=colors, weight=1.5, radius=7,
                             fill_opacity=0.95)]
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=22,
                         color=colors, fill=colors, weight=2.5, fill_opacity=0.25, dash=dash)]


# --- network and access ---------------------------------------------------------------------


@register_renderer("isochrones")
def render_isochrones(gdf: gpd.GeoDataFrame, *, lang: Lang,
                      name: str | None = None) -> list[MapLayer]:
    """Draw isochrone bands, nearest band darkest, largest band drawn first."""
    g = to_wgs84(gdf, "isochrones")
    col = numeric_column(g, ["minutes", "band_min", "time_min", "max_time", "band"])
    title = _title("isochrones", lang, name)
    if col is None:
        return render_polygons(g, lang=lang, name=name)
    g = g.sort_values(col, ascending=False)
    bands = sorted(pd.unique(g[col].dropna()))
    palette = dict(zip([str(b) for b in bands], ramp("YlGnBu", len(bands))[::-1], strict=True))
    colors, _ = categorical_colors(g[col].astype(str), palette, lang)
    unit = "分钟" if lang == "zh" else "min"
    items = tuple(LegendItem(palette[str(b)], f"≤ {b:g} {unit}") for b in bands)
    shown, fields = _fields_for(g, lang, [col, "source", "source_id"])
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=9,
                         color=colors, fill=colors, weight=1, fill_opacity=0.3)]


@register_renderer("accessibility", "two_step_fca", "access", "2sfca")
def render_accessibility(gdf: gpd.GeoDataFrame, *, lang: Lang,
                         name: str | None = None) -> list[MapLayer]:
    """Draw 2SFCA accessibility as a quantile choropleth (or graduated points)."""
    g = to_wgs84(gdf, "accessibility")
    col = numeric_column(g, ["access", "accessibility", "spai", "fca", "score", "a"],
                         attr_hint="cci_geo_column")
    if col is None:
        col = next((c for c in g.columns if "access" in c.lower() or "fca" in c.lower()), None)
    title = _title("accessibility", lang, name)
    if col is None:
        return render_polygons(g, lang=lang, name=name)
    idx, upper, vmin = classify(g[col], scheme="Quantiles", k=5)
    colors = ramp("PuBu", len(upper))
    fill = np.array([colors[i] if i >= 0 else "#ffffff" for i in idx], dtype=object)
    shown, fields = _fields_for(g, lang, [col])
    points = _is(g, _POINTS)
    legend = classed_legend(title, colors, upper, vmin, lang,
                            shape="circle" if points else "square",
                            missing=bool((idx < 0).any()))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=17 if not points else 48,
                         color="#ffffff" if points else "#636363", fill=fill,
                         weight=0.5, fill_opacity=0.75, radius=5 if points else None)]


# --- suitability, layout, corridors ---------------------------------------------------------


@register_renderer("site_scores", "suitability_sites", "scores", "ranking")
def render_site_scores(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None,
                       columns: tuple[str, ...] = ("score", "suitability", "composite"),
                       default_title: str = "site_scores") -> list[MapLayer]:
    """Draw scored candidate sites red (low) to green (high), with rank and score in popups."""
    g = to_wgs84(gdf, "site_scores")
    col = numeric_column(g, list(columns), attr_hint="cci_geo_column")
    title = _title(default_title, lang, name)
    if col is None:
        return render_points(g, lang=lang, name=title)
    idx, upper, vmin = classify(g[col], scheme="Quantiles", k=5)
    colors = ramp("RdYlGn", len(upper))
    fill = np.array([colors[i] if i >= 0 else "#ffffff" for i in idx], dtype=object)
    shown, fields = _fields_for(g, lang, ["rank", col, "excluded_by", "p_top_k"])
    points = _is(g, _POINTS)
    legend = classed_legend(title, colors, upper, vmin, lang,
                            shape="circle" if points else "square",
                            missing=bool((idx < 0).any()))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=53 if points else 19,
                         color="#333333", fill=fill, weight=1, fill_opacity=0.9,
                         radius=6 if points else None)]


def _layout_status(g: gpd.GeoDataFrame) -> pd.Series:
    for col in ("fixed", "existing"):
        if col in g.columns:
            return pd.Series(np.where(g[col].fillna(False).astype(bool), "existing", "new"),
                             index=g.index)
    for col in ("role", "facility", "state"):
        if col in g.columns:
            text = g[col].astype(str).str.lower()
            return pd.Series(np.where(text.str.contains("exist|fixed|current|before"),
                                      "existing", "new"), index=g.index)
    return pd.Series("new", index=g.index)


#: Proposed (new) layout sites: cyan with a dark teal ring.
PROPOSED_FILL, PROPOSED_STROKE = "#17becf", "#00474f"


@register_renderer("layout", "layout_sites", "selected_sites", "p_median", "max_coverage",
                   "set_cover", "p_center")
def render_layout(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw a layout before/after: existing facilities as blue rings, proposed ones cyan.

    Cyan keeps proposed sites apart from the reds of uncovered demand, hot spots and the
    density surface they are drawn over.
    """
    g = to_wgs84(gdf, "layout")
    if _is(g, _LINES):
        return render_allocations(g, lang=lang, name=name)
    status = _layout_status(g)
    g = g.assign(layout_status=status)
    title = _title("layout", lang, name)
    palette = {"existing": "#ffffff", "new": PROPOSED_FILL}
    fill, _ = categorical_colors(status, palette, lang)
    stroke = np.where(status == "new", PROPOSED_STROKE, "#2171b5").astype(object)
    items = tuple(LegendItem(c, label(k, lang), fill=f, shape="circle") for k, f, c in
                  (("existing", "#ffffff", "#2171b5"), ("new", PROPOSED_FILL, PROPOSED_STROKE))
                  if (status == k).any())
    shown, fields = _fields_for(g, lang, ["layout_status", "district", "demand_served",
                                          "n_demand", "mean_cost"])
    radius = np.where(status == "new", 9, 9)
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=60,
                         color=stroke, fill=fill, weight=np.where(status == "new", 2.0, 2.5),
                         fill_opacity=np.where(status == "new", 0.95, 0.0), radius=radius)]


@register_renderer("allocations", "layout_allocations")
def render_allocations(gdf: gpd.GeoDataFrame, *, lang: Lang,
                       name: str | None = None) -> list[MapLayer]:
    """Draw demand-to-facility allocation lines, thin and grey."""
    g = to_wgs84(gdf, "allocations")
    title = _title("allocations", lang, name)
    shown, fields = _fields_for(g, lang, ["cost", "distance_m", "facility_id", "demand_id"])
    legend = Legend(title, items=(LegendItem("#737373", title, shape="line"),))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=29, show=False,
                         title_column=None, color="#737373", weight=0.7, opacity=0.5)]


@register_renderer("coverage", "layout_demand", "diagnosis")
def render_coverage(gdf: gpd.GeoDataFrame, *, lang: Lang,
                    name: str | None = None) -> list[MapLayer]:
    """Draw covered demand green and uncovered demand red (one canvas for many points)."""
    g = to_wgs84(gdf, "coverage")
    if "covered" not in g.columns:
        return render_polygons(g, lang=lang, name=name)
    title = _title("coverage", lang, name)
    covered = g["covered"].fillna(False).astype(bool)
    colors = np.where(covered, "#1a9641", "#d7191c").astype(object)
    yes, no = ("已覆盖", "未覆盖") if lang == "zh" else ("Covered", "Not covered")
    items = (LegendItem("#1a9641", yes, shape="circle"), LegendItem("#d7191c", no, shape="circle"))
    points = _is(g, _POINTS)
    if points and len(g) > CANVAS_THRESHOLD:
        g = g[g.geometry.geom_type == "Point"]
        cat = np.where(g["covered"].fillna(False).astype(bool), 0, 1)
        fields = tuple((label(c, lang), g[c].to_numpy()) for c in ("cost", "weight", "n")
                       if c in g.columns and pd.api.types.is_numeric_dtype(g[c]))
        return [PointLayer(title, g.geometry.x.to_numpy(), g.geometry.y.to_numpy(), cat,
                           ("#1a9641", "#d7191c"), fields=fields,
                           legend=Legend(title, items=items), show=False, z=46)]
    shown, fields = _fields_for(g, lang, ["covered", "cost", "nearest_facility"])
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items),
                         z=47 if points else 14, color=colors, fill=colors, weight=0.5,
                         fill_opacity=0.6, radius=3 if points else None)]


@register_renderer("corridor_zones", "corridor_zone")
def render_corridor_zones(gdf: gpd.GeoDataFrame, *, lang: Lang,
                          name: str | None = None) -> list[MapLayer]:
    """Draw corridor zones as dashed translucent bands."""
    return render_corridors(gdf, lang=lang, name=name or label("corridor_zones", lang))


@register_renderer("flows", "interaction", "gravity_flows")
def render_flows(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None = None) -> list[MapLayer]:
    """Draw interaction flows as lines whose width grows with the square root of the flow."""
    g = to_wgs84(gdf, "flows")
    col = numeric_column(g, ["flow", "interaction", "weight", "value", "volume"])
    title = _title("flows", lang, name)
    if col is None:
        return render_corridors(g, lang=lang, name=title)
    g = g.sort_values(col)
    v = g[col].to_numpy(dtype=float)
    vmax = np.nanmax(v) if np.isfinite(v).any() and np.nanmax(v) > 0 else 1.0
    width = 1.0 + 9.0 * np.sqrt(np.clip(np.nan_to_num(v), 0, None) / vmax)
    idx, upper, vmin = classify(v, scheme="NaturalBreaks", k=4)
    colors = ramp("OrRd", len(upper))
    stroke = np.array([colors[i] if i >= 0 else "#bdbdbd" for i in idx], dtype=object)
    shown, fields = _fields_for(g, lang, ["origin", "destination", col])
    legend = classed_legend(title, colors, upper, vmin, lang, shape="line",
                            missing=bool((idx < 0).any()))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=32, color=stroke,
                         weight=width, opacity=0.8)]


@register_renderer("corridor_membership", "membership")
def render_membership(gdf: gpd.GeoDataFrame, *, lang: Lang,
                      name: str | None = None) -> list[MapLayer]:
    """Draw corridor members coloured by corridor."""
    g = to_wgs84(gdf, "corridor_membership")
    col = next((c for c in ("corridor", "corridor_id", "corridor_name") if c in g.columns), None)
    title = _title("corridor_membership", lang, name)
    if col is None:
        return render_points(g, lang=lang, name=title) if _is(g, _POINTS) else \
            render_polygons(g, lang=lang, name=title)
    values = g[col].astype(str)
    palette = dict(zip(sorted(values.unique()), ramp("tab10", max(1, values.nunique())),
                       strict=True))
    names = gdf.attrs.get("corridor_names", {})

    def corridor_name(code: str) -> str:
        pair = names.get(code)
        return pair[0 if lang == "zh" else 1] if pair else code

    colors, items = categorical_colors(values, palette, lang, labeller=corridor_name)
    g = g.assign(**{col: values.map(corridor_name)})
    shown, fields = _fields_for(g, lang, [col, "km_along", "along_km", "offset_km"])
    points = _is(g, _POINTS)
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items),
                         z=51 if points else 13, show=False, color=colors, fill=colors,
                         weight=1, fill_opacity=0.5 if not points else 0.9,
                         radius=4 if points else None)]


@register_renderer("cooperation_candidates", "candidates")
def render_candidates(gdf: gpd.GeoDataFrame, *, lang: Lang,
                      name: str | None = None) -> list[MapLayer]:
    """Draw ranked cooperation candidates: top ranks larger and darker."""
    g = to_wgs84(gdf, "cooperation_candidates")
    title = _title("cooperation_candidates", lang, name)
    if numeric_column(g, ["candidate_score", "score"]) is None:
        return render_points(g, lang=lang, name=title)
    return render_site_scores(g, lang=lang, name=title, columns=("candidate_score", "score"))


def _choropleth(gdf: gpd.GeoDataFrame, *, lang: Lang, name: str | None, default_title: str,
                columns: tuple[str, ...], cmap: str, scheme: str = "NaturalBreaks",
                z: int = 15, show: bool = True) -> list[MapLayer]:
    g = to_wgs84(gdf, default_title)
    col = numeric_column(g, list(columns), attr_hint="cci_geo_column")
    title = _title(default_title, lang, name)
    if col is None:
        return render_polygons(g, lang=lang, name=title)
    idx, upper, vmin = classify(g[col], scheme=scheme, k=5)
    colors = ramp(cmap, len(upper))
    fill = np.array([colors[i] if i >= 0 else "#ffffff" for i in idx], dtype=object)
    shown, fields = _fields_for(g, lang, [col])
    legend = classed_legend(f"{title}: {label(col, lang)}", colors, upper, vmin, lang,
                            missing=bool((idx < 0).any()))
    return [vector_layer(shown, title, fields=fields, legend=legend, z=z, show=show,
                         color="#737373", fill=fill, weight=0.4, fill_opacity=0.7)]


@register_renderer("grid_counts", "enterprise_grid")
def render_grid_counts(gdf: gpd.GeoDataFrame, *, lang: Lang,
                       name: str | None = None) -> list[MapLayer]:
    """Draw enterprise counts per grid cell (hidden by default; the density surface leads)."""
    return _choropleth(gdf, lang=lang, name=name, default_title="grid_counts",
                       columns=("count", "enterprises", "demand"), cmap="YlOrBr", show=False)


@register_renderer("access_by_district")
def render_access_by_district(gdf: gpd.GeoDataFrame, *, lang: Lang,
                              name: str | None = None) -> list[MapLayer]:
    """Draw mean venue accessibility per district (employee-weighted), in quantiles."""
    return _choropleth(gdf, lang=lang, name=name, default_title="access_by_district",
                       columns=("access_mean", "access"), cmap="PuBu", scheme="Quantiles",
                       show=False)


@register_renderer("layout_uncovered", "uncovered_demand")
def render_uncovered(gdf: gpd.GeoDataFrame, *, lang: Lang,
                     name: str | None = None) -> list[MapLayer]:
    """Draw where uncovered demand concentrates (grid cells, reds)."""
    return _choropleth(gdf, lang=lang, name=name, default_title="layout_uncovered",
                       columns=("uncovered_weight", "n_demand"), cmap="Reds", z=14)


@register_renderer("layout_facilities", "facilities")
def render_facilities(gdf: gpd.GeoDataFrame, *, lang: Lang,
                      name: str | None = None) -> list[MapLayer]:
    """Draw existing facilities by the demand they cover; redundant ones grey."""
    g = to_wgs84(gdf, "layout_facilities")
    title = _title("layout_facilities", lang, name)
    redundant = g["redundant"].fillna(False).astype(bool) if "redundant" in g else \
        pd.Series(False, index=g.index)
    colors = np.where(redundant, "#969696", "#2171b5").astype(object)
    yes, no = ("冗余", "有独立服务") if lang == "zh" else ("Redundant", "Serves unique demand")
    items = (LegendItem("#2171b5", no, shape="circle"), LegendItem("#969696", yes, shape="circle"))
    shown, fields = _fields_for(g, lang, ["covered_demand", "unique_demand", "overlap_share",
                                          "redundant"])
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=59,
                         show=False, color="#ffffff", fill=colors, weight=1.5,
                         fill_opacity=0.95, radius=6)]
