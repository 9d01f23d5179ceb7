"""Renderers for monitoring results: emerging hot spots (with year-by-year Gi* layers), park
scorecards and the card of progress toward the 2018 Opinions' enterprise targets.

The emerging hot spot layer colours each grid cell by its category (seventeen categories of
ArcGIS Pro's Emerging Hot Spot Analysis) with a legend in Chinese or English; one extra layer
per year (off when the map opens) shows that year's significant Gi* bins, so a planner can
step through the years in the layer control. Renderers only read documented columns.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from ._build import categorical_colors, display_frame, to_wgs84, vector_layer
from .labels import Lang, label
from .layers import Legend, LegendItem, MapLayer, VectorLayer
from .registry import register_renderer
from .render_layers import render_polygons
from .sources import result_sources
from .style import HOT_SPOT_COLORS

__all__ = ["EMERGING_HOT_SPOT_COLORS", "render_emerging_hot_spots", "render_park_scorecards",
           "render_target_card"]

EMERGING_HOT_SPOT_COLORS: dict[int, str] = {
    0: "#e8e8e8",
    1: "#fdbe85", 2: "#fd8d3c", 3: "#a50f15", 4: "#de2d26", 5: "#fb6a4a", 6: "#fcbba1",
    7: "#e6550d", 8: "#d9b8a8",
    -1: "#9ecae1", -2: "#6baed6", -3: "#08306b", -4: "#2171b5", -5: "#4292c6", -6: "#c6dbef",
    -7: "#3f5aa8", -8: "#bcbddc",
}
"""Fill colour of each emerging hot spot ``category_code`` (reds for hot, blues for cold, grey
for no pattern)."""

_BIN_KEYS = {3: "hot_99", 2: "hot_95", 1: "hot_90", -1: "cold_90", -2: "cold_95",
             -3: "cold_99"}
_TITLE = {"zh": "新兴热点分析", "en": "Emerging hot spots"}
_YEAR = {"zh": "{} 年热点 (Gi*)", "en": "Gi* hot spots {}"}
_SYNTHETIC = {"zh": "（合成数据）", "en": " (synthetic data)"}
_CARDS = {"zh": "园区计分卡", "en": "Park scorecards"}
_GREW = {"faster": ("快于对照区", "grew faster than comparison areas", "#1a9850"),
         "slower": ("慢于对照区", "grew slower than comparison areas", "#d73027"),
         "untested": ("考察期内未认定", "not designated within the years", "#bdbdbd")}


def _category_layer(g: gpd.GeoDataFrame, lang: Lang, title: str) -> MapLayer:
    if (g["category_code"] != 0).any():  # cells without a pattern would only add speckle
        g = g[g["category_code"] != 0]
    codes = g["category_code"].astype(int)
    label_col = "category_zh" if lang == "zh" and "category_zh" in g.columns else "category"
    names = g[label_col].astype(str)
    order = sorted(set(codes), key=lambda c: (c == 0, -np.sign(c), abs(c)))
    first = dict(zip(codes, names, strict=True))
    palette = {first[c]: EMERGING_HOT_SPOT_COLORS.get(c, "#999999") for c in order}
    colors, items = categorical_colors(names, palette, lang, shape="square",
                                       labeller=lambda v: str(v))
    shown = g.assign(category_label=names)
    shown, fields = display_frame(shown, ["category_label", "trend_z", "trend_p", "n_hot",
                                          "n_cold", "value_first", "value_last"], lang)
    pattern = (codes != 0).to_numpy()
    return vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=18,
                        color="#8c8c8c", fill=colors, weight=np.where(pattern, 0.3, 0.1),
                        fill_opacity=np.where(pattern, 0.8, 0.0))


def _year_layers(g: gpd.GeoDataFrame, lang: Lang, suffix: str) -> list[MapLayer]:
    layers: list[MapLayer] = []
    years = sorted(int(m.group(1)) for c in g.columns if (m := re.fullmatch(r"gi_bin_(\d{4})",
                                                                             str(c))))
    for year in years:
        bins = g[f"gi_bin_{year}"].astype(int)
        sig = g[bins != 0]
        if sig.empty:
            continue
        keys = pd.Series([_BIN_KEYS[int(b)] for b in bins[bins != 0]], index=sig.index)
        colors, items = categorical_colors(keys, HOT_SPOT_COLORS, lang, shape="square")
        title = _YEAR[lang].format(year) + suffix
        shown, fields = display_frame(sig.assign(gi_class=keys), ["gi_class",
                                                                  f"gi_z_{year}"], lang)
        layer = vector_layer(shown, title, fields=fields, legend=Legend(title, items=items),
                             z=17, show=False, color="#8c8c8c", fill=colors, weight=0.2,
                             fill_opacity=0.7)
        layer.group = "gi_years"  # one entry per year: folded together in the layer control
        layers.append(layer)
    return layers


@register_renderer("emerging_hot_spots")
def render_emerging_hot_spots(gdf: gpd.GeoDataFrame, *, lang: Lang,
                              name: str | None = None) -> list[MapLayer]:
    """Draw emerging hot spot categories and one Gi* layer per year (hidden at first).

    Cells with no pattern are left out (when any cell has one), so the city is not covered in
    grey outlines; the per-year layers show only significant cells.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo.maps import derived_from
    >>> from cci_geo.monitoring import emerging_hot_spots, space_time_cube
    >>> atlas = cci_geo.load_demo()
    >>> cube = space_time_cube(atlas["enterprises"], years=range(2012, 2026), cell_size_m=3000)
    >>> ehs = derived_from(emerging_hot_spots(cube), atlas, "enterprises")
    >>> layers = render_emerging_hot_spots(ehs, lang="zh")
    >>> layers[0].name, len(layers) > 1
    ('新兴热点分析（合成数据）', True)
    """
    g = to_wgs84(gdf, "emerging_hot_spots")
    if "category_code" not in g.columns:
        return render_polygons(g, lang=lang, name=name)
    sources = result_sources(gdf) or {}
    synthetic = any("synthetic" in str(v) for v in sources.values())
    suffix = _SYNTHETIC[lang] if synthetic else ""
    title = name or _TITLE[lang] + suffix
    return [_category_layer(g, lang, title), *_year_layers(g, lang, suffix)]




@register_renderer("park_scorecards")
def render_park_scorecards(gdf: gpd.GeoDataFrame, *, lang: Lang,
                           name: str | None = None) -> list[MapLayer]:
    """Draw designated areas green (grew faster than comparison areas) or red (slower).

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo.monitoring import designated_areas, park_scorecards
    >>> atlas = cci_geo.load_demo()
    >>> cards = park_scorecards(atlas["enterprises"],
    ...                         designated_areas(functional_areas=atlas["functional_areas"]),
    ...                         years=range(2012, 2026))
    >>> render_park_scorecards(cards, lang="en")[0].name
    'Park scorecards'
    """
    g = to_wgs84(gdf, "park_scorecards")
    if "excess_vs_comparison_pp" not in g.columns:
        return render_polygons(g, lang=lang, name=name)
    idx = 0 if lang == "zh" else 1
    tested = set((gdf.attrs.get("comparison_sets") or {}).keys())
    excess = pd.to_numeric(g["excess_vs_comparison_pp"], errors="coerce")
    keys = np.where(~g["id"].astype(str).isin(tested), "untested",
                    np.where(excess > 0, "faster", "slower"))
    palette = {_GREW[k][idx]: _GREW[k][2] for k in _GREW}
    labels = pd.Series([_GREW[k][idx] for k in keys], index=g.index)
    colors, items = categorical_colors(labels, palette, lang, shape="square",
                                       labeller=lambda v: str(v))
    sources = result_sources(gdf) or {}
    suffix = _SYNTHETIC[lang] if any("synthetic" in str(v) for v in sources.values()) else ""
    title = name or _CARDS[lang] + suffix
    shown, fields = display_frame(g, ["designated", "enterprises_baseline", "enterprises_last",
                                      "growth_since_designation_pct", "comparison_growth_pct",
                                      "city_growth_pct", "top_sector", "cluster_gi_z"], lang)
    return [vector_layer(shown, title, fields=fields, legend=Legend(title, items=items), z=20,
                         color=colors, fill=colors, weight=1.5, fill_opacity=0.25)]


_CARD_YEAR = {"zh": "（{} 年）", "en": ", {}"}
_MET = {True: "#1a9850", False: "#d73027"}


def _target_line(row: pd.Series, lang: Lang) -> str:
    name = label(str(row["target_id"]), lang)
    value = pd.to_numeric(row["value"], errors="coerce")
    reached = "–" if pd.isna(value) else f"{float(value):,.0f}"
    year = int(row["target_year"])
    target = float(row["target"])
    if lang == "zh":
        goal = f"每年 {target:,.0f} 家" if year == 0 else f"{year} 年达到 {target:,.0f} 家以上"
        return f"{name}：{reached}（目标：{goal}）"
    stated = str(row.get("target_text") or f"{target:,.0f}")
    goal = stated if year == 0 else f"{stated} by {year}"
    return f"{row['target_id']} {name}: {reached} (target {goal})"


@register_renderer("target_card")
def render_target_card(gdf: gpd.GeoDataFrame, *, lang: Lang,
                       name: str | None = None) -> list[MapLayer]:
    """Draw a card listing each enterprise target: value reached, target and target year.

    The card is a legend without features (one row per target, green when met, red when not),
    shown while its layer is on; the title says "synthetic" when the counts come from
    synthetic data.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo.maps import derived_from
    >>> from cci_geo.monitoring import target_progress
    >>> from cci_geo.results import tag_result
    >>> atlas = cci_geo.load_demo()
    >>> prog = target_progress(atlas["enterprises"], atlas.table("enterprise_years"),
    ...                        years=[2025], brand="brand", supported="supported_sme")
    >>> city = prog[prog["scope"] == "city"].reset_index(drop=True)
    >>> card = tag_result(gpd.GeoDataFrame(city, geometry=[None] * len(city), crs=4326),
    ...                   "target_card")
    >>> layer = render_target_card(derived_from(card, atlas, "enterprises"), lang="en")[0]
    >>> layer.name
    'Policy target progress, 2025 (synthetic data)'
    >>> [item.label.split(" ")[0] for item in layer.legend.items]
    ['PT21', 'PT22', 'PT23', 'PT24']
    """
    if "target_id" not in gdf.columns or len(gdf) == 0:
        return render_polygons(gdf, lang=lang, name=name)
    rows = gdf.sort_values("target_id")
    year = int(pd.to_numeric(rows["year"]).max())
    rows = rows[pd.to_numeric(rows["year"]) == year]
    sources = result_sources(gdf) or {}
    suffix = _SYNTHETIC[lang] if any("synthetic" in str(v) for v in sources.values()) else ""
    title = name or label("target_card", lang) + _CARD_YEAR[lang].format(year) + suffix
    items = tuple(LegendItem(_MET[bool(met)] if not pd.isna(met) else "#bdbdbd",
                             _target_line(row, lang), shape="square")
                  for (_, row), met in zip(rows.iterrows(), rows["met"], strict=True))
    empty = gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs=4326)}, crs=4326)
    return [VectorLayer(title, empty, legend=Legend(title, items=items), z=60)]
